// ESR Access reference self-service pages. Plain JavaScript, no build step, no inline
// scripts (the pages are served with a strict Content-Security-Policy). Uses only the public
// JSON API of this server.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  /**
   * POST (or GET when body is undefined, or `method`) JSON to the API; resolves to
   * {status, body}.
   */
  async function api(path, body, token, method) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    let res;
    try {
      res = await fetch(path, {
        method: method || (body === undefined ? "GET" : "POST"),
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      return { status: 0, body: { detail: "The service could not be reached. Please check your connection and try again." } };
    }
    let json = null;
    const text = await res.text();
    if (text) {
      try { json = JSON.parse(text); } catch (e) { json = null; }
    }
    return { status: res.status, body: json };
  }

  // --- Error summary linked to fields (GOV.UK / NHS pattern) ---------------------------

  /** Adds (or removes) an id in an element's aria-describedby list. */
  function describedBy(el, id, on) {
    const ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== id);
    if (on) ids.push(id);
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
  }

  /** The element a field's error message describes: the date's fieldset, else the input. */
  function describedElement(group, field) {
    return group === "dob" ? $("dob-field").querySelector("fieldset") : $(field);
  }

  function clearErrors() {
    const summary = $("error-summary");
    if (summary) {
      summary.hidden = true;
      $("error-list").replaceChildren();
    }
    document.querySelectorAll(".field--error").forEach((f) => f.classList.remove("field--error"));
    document.querySelectorAll(".error-message").forEach((m) => {
      m.hidden = true;
      m.replaceChildren();
      document.querySelectorAll("[aria-describedby]").forEach((el) => describedBy(el, m.id, false));
    });
    document.querySelectorAll("[aria-invalid]").forEach((i) => i.removeAttribute("aria-invalid"));
  }

  /** errors: [{field: input id or null, message}] */
  function showErrors(errors) {
    clearErrors();
    const list = $("error-list");
    for (const e of errors) {
      const li = document.createElement("li");
      if (e.field && $(e.field)) {
        const a = document.createElement("a");
        a.href = "#" + e.field;
        a.textContent = e.message;
        a.addEventListener("click", (ev) => { ev.preventDefault(); $(e.field).focus(); });
        li.appendChild(a);
        const group = e.field.startsWith("dob-") ? "dob" : e.field;
        const wrapper = $(group + "-field");
        const message = $(group + "-error");
        if (wrapper) wrapper.classList.add("field--error");
        if (message) {
          if (!message.hasChildNodes()) {
            const prefix = document.createElement("span");
            prefix.className = "visually-hidden";
            prefix.textContent = "Error: ";
            message.appendChild(prefix);
          } else {
            message.append(". ");
          }
          message.append(e.message);
          message.hidden = false;
          // Read with the field: the error first, then the hint (as GOV.UK and NHS do).
          const described = describedElement(group, e.field);
          if (described) describedBy(described, message.id, true);
        }
        $(e.field).setAttribute("aria-invalid", "true");
      } else {
        li.textContent = e.message;
      }
      list.appendChild(li);
    }
    const summary = $("error-summary");
    summary.hidden = false;
    summary.focus();
  }

  /** Maps a problem+json body to error-summary entries. fieldMap: API field → input id. */
  function problemErrors(body, fieldMap, fallbackField) {
    if (body && Array.isArray(body.violations) && body.violations.length) {
      return body.violations.map((v) => ({ field: fieldMap[v.field] || fallbackField || null, message: v.message }));
    }
    const detail = (body && body.detail) || "Something went wrong. Please try again.";
    return [{ field: fallbackField || null, message: detail }];
  }

  function value(id) { return ($(id) && $(id).value.trim()) || ""; }

  function dateOfBirth() {
    const d = value("dob-day"), m = value("dob-month"), y = value("dob-year");
    if (!/^\d{1,2}$/.test(d) || !/^\d{1,2}$/.test(m) || !/^\d{4}$/.test(y)) return null;
    return y + "-" + m.padStart(2, "0") + "-" + d.padStart(2, "0");
  }

  // --- Log in and profile --------------------------------------------------------------

  const ACCESS = "esr.access";
  // An enrolment link opened before logging in (a new tab from the email): kept for this tab
  // until the person has logged in, then used.
  const ENROLMENT = "esr.enrolment-link";

  /** One row of a list with a button (a sign-in method, a session). */
  function itemWithButton(text, buttonText, label, onClick) {
    const li = document.createElement("li");
    const span = document.createElement("span");
    span.textContent = text;
    li.append(span);
    if (buttonText) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = buttonText;
      button.setAttribute("aria-label", label);
      button.addEventListener("click", onClick);
      li.append(button);
    }
    return li;
  }

  /** The sign-in methods and the sessions of the profile page. */
  async function showSecurity(token) {
    const factors = await api("/v1/me/factors", undefined, token);
    const list = $("factors");
    list.replaceChildren();
    if (factors.status === 200) {
      const confirmed = factors.body.factors.filter((f) => f.confirmed);
      $("factors-none").hidden = confirmed.length > 0;
      for (const f of confirmed) {
        const used = f.last_used_at ? ", last used " + f.last_used_at : "";
        const kind = f.kind === "passkey" ? "Passkey: " : "Authenticator app: ";
        list.append(itemWithButton(kind + f.name + used, "Remove", "Remove " + f.name, async () => {
          const res = await api("/v1/me/factors/" + encodeURIComponent(f.id), undefined, token, "DELETE");
          if (res.status === 204) return showSecurity(token);
          showErrors(problemErrors(res.body, {}, null));
        }));
      }
      $("recovery-left").textContent = confirmed.length
        ? "Recovery codes left: " + factors.body.recovery_codes_remaining
        : "";
      $("add-factor").parentElement.hidden = factors.body.mfa_policy === "off";
    }
    const sessions = await api("/v1/me/sessions", undefined, token);
    const where = $("sessions");
    where.replaceChildren();
    if (sessions.status === 200) {
      for (const s of sessions.body.items) {
        const text = (s.device || "Unknown device") + " (" + (s.ip || "unknown address") + "), since " + s.created_at;
        where.append(s.current
          ? itemWithButton(text + " — this device")
          : itemWithButton(text, "Sign out", "Sign out " + (s.device || "this session"), async () => {
            const res = await api("/v1/me/sessions/" + encodeURIComponent(s.id), undefined, token, "DELETE");
            if (res.status === 204) return showSecurity(token);
            showErrors(problemErrors(res.body, {}, null));
          }));
      }
    }
  }

  function initLogin() {
    const show = async (me, token) => {
      const dl = $("profile");
      dl.replaceChildren();
      const rows = [
        ["Username", me.username],
        ["Organisation", me.organisation.code + " " + me.organisation.name],
        ["Name", me.first_name + " " + me.last_name],
        ["Work email", me.work_email],
        ["Internet access", me.internet_access],
        ["Password last changed", me.password_changed_at || "never"],
      ];
      for (const [k, v] of rows) {
        const dt = document.createElement("dt"); dt.textContent = k;
        const dd = document.createElement("dd"); dd.textContent = v;
        dl.append(dt, dd);
      }
      await showSecurity(token);
      $("login-card").hidden = true;
      $("code-card").hidden = true;
      $("profile-card").hidden = false;
      $("profile-title").focus();
    };
    const signedIn = async (token) => {
      sessionStorage.setItem(ACCESS, token);
      if (sessionStorage.getItem(ENROLMENT)) return location.assign("add-sign-in-method");
      const me = await api("/v1/me", undefined, token);
      if (me.status === 200) await show(me.body, token);
      else showErrors(problemErrors(me.body, {}, null));
    };
    let mfaToken = null;
    let passkeyOptions = null;
    $("passkey-login-block").hidden = !passkeysSupported();
    $("passkey-login").addEventListener("click", async () => {
      const started = await api("/v1/auth/passkey/start", {});
      if (started.status !== 200) return showErrors(problemErrors(started.body, {}, null));
      const got = await webauthn(() => navigator.credentials.get(requestOptions(started.body.options)), null);
      if (got.errors) return showErrors(got.errors);
      const res = await api("/v1/auth/passkey/finish", {
        ceremony: started.body.ceremony,
        credential: assertionJson(got.credential),
      });
      if (res.status !== 200) return showErrors(problemErrors(res.body, {}, null));
      clearErrors();
      await signedIn(res.body.access_token);
    });
    $("passkey-answer").addEventListener("click", async () => {
      const got = await webauthn(() => navigator.credentials.get(requestOptions(passkeyOptions)), "code");
      if (got.errors) return showErrors(got.errors);
      const res = await api("/v1/auth/login/mfa", { mfa_token: mfaToken, passkey: assertionJson(got.credential) });
      if (res.status !== 200) {
        if (res.body && res.body.code === "invalid-mfa-token") {
          $("code-card").hidden = true;
          $("login-card").hidden = false;
        }
        return showErrors(problemErrors(res.body, {}, "code"));
      }
      clearErrors();
      await signedIn(res.body.access_token);
    });
    $("login-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const errors = [];
      if (!value("username")) errors.push({ field: "username", message: "Enter your username" });
      if (!$("password").value) errors.push({ field: "password", message: "Enter your password" });
      if (errors.length) return showErrors(errors);
      const login = await api("/v1/auth/login", { username: value("username"), password: $("password").value });
      if (login.status !== 200) {
        return showErrors(problemErrors(login.body, { username: "username", password: "password" }, "password"));
      }
      clearErrors();
      $("password").value = "";
      if (login.body.mfa_required) {
        mfaToken = login.body.mfa_token;
        passkeyOptions = login.body.passkey || null;
        $("passkey-answer-block").hidden = !(passkeyOptions && passkeysSupported());
        $("login-card").hidden = true;
        $("code-card").hidden = false;
        $("code-title").focus();
        return;
      }
      await signedIn(login.body.access_token);
    });
    $("code-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const code = value("code");
      if (!code) return showErrors([{ field: "code", message: "Enter the code from your authenticator app" }]);
      const digits = code.replace(/\s/g, "");
      const answer = /^[0-9]{6}$/.test(digits) ? { totp_code: digits } : { recovery_code: code };
      const res = await api("/v1/auth/login/mfa", Object.assign({ mfa_token: mfaToken }, answer));
      if (res.status !== 200) {
        if (res.body && res.body.code === "invalid-mfa-token") {
          $("code-card").hidden = true;
          $("login-card").hidden = false;
        }
        return showErrors(problemErrors(res.body, {}, "code"));
      }
      clearErrors();
      $("code").value = "";
      await signedIn(res.body.access_token);
    });
    // Back from another page of this tab (adding a sign-in method): still logged in.
    const existing = sessionStorage.getItem(ACCESS);
    if (existing) {
      api("/v1/me", undefined, existing).then(async (me) => {
        if (me.status === 200) await show(me.body, existing);
        else sessionStorage.removeItem(ACCESS);
      });
    }
    $("logout").addEventListener("click", async () => {
      const token = sessionStorage.getItem(ACCESS);
      if (token) await api("/v1/auth/logout", {}, token);
      sessionStorage.removeItem(ACCESS);
      $("profile-card").hidden = true;
      $("login-card").hidden = false;
      $("username").focus();
    });
  }

  // --- Passkeys (WebAuthn) ----------------------------------------------------------------
  // The API speaks JSON with binary fields in base64url; the browser's WebAuthn calls take and
  // give ArrayBuffers. These convert between the two, and nothing else.

  const passkeysSupported = () =>
    typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  }

  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  const withId = (c) => Object.assign({}, c, { id: fromB64url(c.id) });

  /** Options of the API for navigator.credentials.create(). */
  function creationOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    pk.excludeCredentials = (pk.excludeCredentials || []).map(withId);
    return { publicKey: pk };
  }

  /** Options of the API for navigator.credentials.get(), asked for by a button. */
  function requestOptions(options) {
    const pk = Object.assign({}, options.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = (pk.allowCredentials || []).map(withId);
    return { publicKey: pk };
  }

  /** A new credential as the API takes it. */
  function registrationJson(cred) {
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        attestationObject: toB64url(cred.response.attestationObject),
        clientDataJSON: toB64url(cred.response.clientDataJSON),
      },
      extensions: {},
    };
  }

  /** A passkey's answer as the API takes it. */
  function assertionJson(cred) {
    const r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response: {
        authenticatorData: toB64url(r.authenticatorData),
        clientDataJSON: toB64url(r.clientDataJSON),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null,
      },
      extensions: {},
    };
  }

  /** Runs a WebAuthn call; a refusal or cancel becomes a message for the error summary. */
  async function webauthn(call, field) {
    try {
      return { credential: await call() };
    } catch (e) {
      return {
        errors: [{ field, message: "The passkey was not used. Try again, or use another way to sign in." }],
      };
    }
  }

  // --- Add a sign-in method (authenticator app or passkey) -------------------------------

  /** Shows one card of the page and focuses its heading. */
  function showCard(id, titleId) {
    for (const card of document.querySelectorAll("main > .card")) card.hidden = card.id !== id;
    if (titleId) $(titleId).focus();
  }

  /** Puts the server's SVG QR code into the page as elements (never as markup to run). */
  function showQr(svgText) {
    const doc = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const svg = doc.documentElement;
    if (svg.nodeName.toLowerCase() !== "svg") return;
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    $("qr").replaceChildren(document.importNode(svg, true));
  }

  function initAddFactor() {
    const enrolmentToken = takeToken() || sessionStorage.getItem(ENROLMENT);
    const token = sessionStorage.getItem(ACCESS);
    if (!token) {
      if (enrolmentToken) sessionStorage.setItem(ENROLMENT, enrolmentToken);
      return showCard("signed-out");
    }
    sessionStorage.removeItem(ENROLMENT);
    let factorId = null;
    showCard("name-card");
    const proofNeeded = (res) => {
      const code = res.body && res.body.code;
      if (code === "enrolment-proof-required") {
        showCard("proof-card", "proof-title");
        return true;
      }
      if (code === "invalid-enrolment-token") {
        $("bad-link-text").textContent = res.body.detail;
        showCard("bad-link");
        return true;
      }
      return false;
    };
    const showCodes = (codes) => {
      $("codes").replaceChildren(...codes.map((c) => {
        const li = document.createElement("li");
        li.textContent = c;
        return li;
      }));
      $("codes-block").hidden = codes.length === 0;
      showCard("done", "done-title");
    };
    $("add-passkey").hidden = !passkeysSupported();
    $("add-passkey").addEventListener("click", async () => {
      const body = { name: value("factor-name") || undefined };
      if (enrolmentToken) body.enrolment_token = enrolmentToken;
      const started = await api("/v1/me/factors/passkey", body, token);
      if (started.status !== 201) {
        if (proofNeeded(started)) return;
        return showErrors(problemErrors(started.body, { name: "factor-name" }, "factor-name"));
      }
      const made = await webauthn(() => navigator.credentials.create(creationOptions(started.body.options)), "factor-name");
      if (made.errors) return showErrors(made.errors);
      const res = await api(
        "/v1/me/factors/passkey/" + encodeURIComponent(started.body.ceremony_id) + "/confirm",
        { credential: registrationJson(made.credential) },
        token,
      );
      if (res.status !== 200) return showErrors(problemErrors(res.body, {}, "factor-name"));
      clearErrors();
      showCodes(res.body.recovery_codes || []);
    });
    $("name-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { name: value("factor-name") || undefined };
      if (enrolmentToken) body.enrolment_token = enrolmentToken;
      const res = await api("/v1/me/factors/totp", body, token);
      if (res.status === 201) {
        clearErrors();
        factorId = res.body.id;
        showQr(res.body.qr_svg);
        $("secret").textContent = res.body.secret;
        return showCard("scan-card", "scan-title");
      }
      if (proofNeeded(res)) return;
      showErrors(problemErrors(res.body, { name: "factor-name" }, "factor-name"));
    });
    $("proof-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const res = await api("/v1/me/factors/enrolment-link", {}, token);
      if (res.status === 202) {
        $("proof-sent").hidden = false;
        return;
      }
      showErrors(problemErrors(res.body, {}, null));
    });
    $("confirm-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const code = value("confirm-code");
      if (!code) return showErrors([{ field: "confirm-code", message: "Enter the code from your authenticator app" }]);
      const res = await api("/v1/me/factors/totp/" + encodeURIComponent(factorId) + "/confirm", { code }, token);
      if (res.status !== 200) return showErrors(problemErrors(res.body, {}, "confirm-code"));
      clearErrors();
      showCodes(res.body.recovery_codes || []);
    });
  }

  // --- Forgotten | Request Username/Password, and Unlock Account ------------------------

  function initRequest(path, usernameRequired) {
    $("request-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const errors = [];
      const email = value("email");
      if (!email) errors.push({ field: "email", message: "Enter your email address" });
      const dob = dateOfBirth();
      if (!dob) errors.push({ field: "dob-day", message: "Enter your date of birth as day, month and year, for example 12 4 1985" });
      const username = value("username");
      if (usernameRequired && !username) errors.push({ field: "username", message: "Enter your ESR username" });
      if (errors.length) return showErrors(errors);
      const body = { work_email: email, date_of_birth: dob };
      if (username || usernameRequired) body.username = username;
      const res = await api(path, body);
      if (res.status === 202) {
        clearErrors();
        $("form-card").hidden = true;
        $("confirmation-text").textContent = res.body.message;
        $("confirmation").hidden = false;
        $("confirmation-ok").focus();
        return;
      }
      showErrors(problemErrors(res.body, { work_email: "email", date_of_birth: "dob-day", username: "username" }, null));
    });
  }

  // --- Password rules with live feedback: a mark and words, never colour alone ----------

  const RULE_STATES = {
    ok: { mark: "\u2713", words: "Met: " },
    bad: { mark: "\u2717", words: "Not met: " },
  };

  /** A rule's list item; the whole item is read when its state changes (aria-atomic). */
  function ruleItem(code, text) {
    const li = document.createElement("li");
    li.dataset.code = code;
    li.setAttribute("aria-atomic", "true");
    const mark = document.createElement("span");
    mark.className = "rule-mark";
    mark.setAttribute("aria-hidden", "true");
    const words = document.createElement("span");
    words.className = "visually-hidden rule-state";
    const description = document.createElement("span");
    description.className = "rule-text";
    description.textContent = text;
    li.append(mark, words, description);
    return li;
  }

  /** state: "ok", "bad" or null (not checked). Changes the page only when the state changes. */
  function setRuleState(li, state) {
    if ((li.dataset.state || null) === state) return;
    if (state) li.dataset.state = state;
    else delete li.dataset.state;
    li.classList.toggle("ok", state === "ok");
    li.classList.toggle("bad", state === "bad");
    li.querySelector(".rule-mark").textContent = state ? RULE_STATES[state].mark : "";
    li.querySelector(".rule-state").textContent = state ? RULE_STATES[state].words : "";
  }

  // --- Links from emails: the token is in the URL fragment, never sent to a server ------

  function takeToken() {
    const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    // Keep the token out of the address bar and history once read.
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    return match ? match[1] : null;
  }

  function badLink(message) {
    $("checking").hidden = true;
    const form = $("form-card");
    if (form) form.hidden = true;
    $("bad-link-text").textContent = message;
    $("bad-link").hidden = false;
  }

  async function initReset() {
    const token = takeToken();
    if (!token) return badLink("The link is incomplete. Please copy the whole link from the email.");
    const check = await api("/v1/password-resets/validate", { token });
    if (check.status !== 200) return badLink((check.body && check.body.detail) || "This link cannot be used.");
    $("organisation").textContent = "Organisation: " + check.body.organisation_code + " " + check.body.organisation_name;
    $("checking").hidden = true;
    $("form-card").hidden = false;
    $("username").focus();

    const policy = await api("/v1/password-policy");
    const rules = $("rules");
    const ruleItems = {};
    if (policy.status === 200) {
      for (const r of policy.body.rules) {
        const li = ruleItem(r.code, r.description);
        ruleItems[r.code] = li;
        rules.appendChild(li);
      }
    }
    // A live region from now on: changes are announced, the initial list is not.
    rules.setAttribute("aria-live", "polite");
    // Violations no rule stands for (e.g. the passwords do not match): listed after the rules.
    const extraItems = {};
    let timer = null;
    let sequence = 0;
    const liveCheck = async () => {
      const ticket = ++sequence;
      const pw = $("password").value;
      let broken = new Map();
      if (pw) {
        const body = { new_password: pw, username: value("username") || null };
        if ($("confirm").value) body.confirm_password = $("confirm").value;
        const res = await api("/v1/password-policy/check", body);
        // A slower, older answer must not overwrite a newer one.
        if (res.status !== 200 || ticket !== sequence) return;
        broken = new Map(res.body.violations.map((v) => [v.code, v.message]));
      }
      for (const [code, li] of Object.entries(ruleItems)) {
        // Reuse of a previous password can only be checked when the form is sent.
        const state = !pw ? null : broken.has(code) ? "bad" : code === "password-reused" ? null : "ok";
        setRuleState(li, state);
      }
      for (const [code, li] of Object.entries(extraItems)) {
        if (!broken.has(code)) {
          li.remove();
          delete extraItems[code];
        }
      }
      for (const [code, message] of broken) {
        if (ruleItems[code]) continue;
        if (!extraItems[code]) {
          extraItems[code] = ruleItem(code, message);
          extraItems[code].classList.add("extra");
          setRuleState(extraItems[code], "bad");
          rules.appendChild(extraItems[code]);
        } else if (extraItems[code].querySelector(".rule-text").textContent !== message) {
          extraItems[code].querySelector(".rule-text").textContent = message;
        }
      }
    };
    for (const id of ["password", "confirm", "username"]) {
      $(id).addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(liveCheck, 250); });
    }

    $("reset-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const errors = [];
      if (!value("username")) errors.push({ field: "username", message: "Enter your ESR username" });
      if (!$("password").value) errors.push({ field: "password", message: "Enter a new password" });
      if (!$("confirm").value) errors.push({ field: "confirm", message: "Retype your new password" });
      if (errors.length) return showErrors(errors);
      const res = await api("/v1/password-resets", {
        token,
        username: value("username"),
        new_password: $("password").value,
        confirm_password: $("confirm").value,
      });
      if (res.status === 204) {
        clearErrors();
        $("form-card").hidden = true;
        $("done").hidden = false;
        $("done").querySelector("a").focus();
        return;
      }
      if (res.body && res.body.code === "invalid-link") return badLink(res.body.detail);
      showErrors(problemErrors(res.body, { new_password: "password", confirm_password: "confirm", username: "username" }, "password"));
    });
  }

  // Opening the link only shows a button: the unlock needs the person's press, so a mail
  // scanner that follows links and runs their scripts unlocks nothing.
  function initUnlockLink() {
    const token = takeToken();
    if (!token) return badLink("The link is incomplete. Please copy the whole link from the email.");
    $("checking").hidden = true;
    $("form-card").hidden = false;
    $("unlock-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const res = await api("/v1/account-unlocks", { token });
      if (res.status === 204) {
        $("form-card").hidden = true;
        $("done").hidden = false;
        $("done").querySelector("a").focus();
      } else {
        badLink((res.body && res.body.detail) || "This link cannot be used.");
      }
    });
  }

  // --- Manage Internet Access (at work, signed in with the smartcard) ------------------

  const WORK = "esr.workplace";
  const BINDING = "esr.smartcard-binding";

  // Sends the browser to the NHS identity service; `organisation_code` when the card holder
  // has chosen which of their employing organisations to sign in to.
  async function startSmartcardSignIn(organisation_code) {
    const redirect_uri = location.origin + location.pathname.replace(/(internet-access|smartcard-callback)$/, "smartcard-callback");
    const body = organisation_code ? { redirect_uri, organisation_code } : { redirect_uri };
    const res = await api("/v1/auth/smartcard/start", body);
    if (res.status === 200) {
      // Only this browser can finish the sign-in: the callback page sends the binding back.
      sessionStorage.setItem(BINDING, res.body.browser_binding);
      location.assign(res.body.authorization_url);
    }
    else showErrors(problemErrors(res.body, {}, null));
  }

  async function initInternetAccess() {
    const token = sessionStorage.getItem(WORK);
    if (!token) {
      $("signin-card").hidden = false;
      // The hint about the dev identity provider only where it exists (dev mode): its
      // discovery document is part of the public API and is 404 everywhere else.
      api("/dev-idp/.well-known/openid-configuration").then((res) => {
        $("dev-idp-hint").hidden = res.status !== 200;
      });
      $("smartcard-signin").addEventListener("click", () => startSmartcardSignIn());
      return;
    }
    const render = (a) => {
      $("esr-username").textContent = a.username;
      $("password-set").textContent = a.password_set ? "*****" : "not set";
      $("access-status").textContent = a.status.replace("_", " ").replace(/^./, (c) => c.toUpperCase());
      $("access-organisation").textContent = a.organisation.code + " " + a.organisation.name;
      $("request-access").hidden = a.status === "approved" || a.status === "pending";
      $("show-reset").hidden = a.status !== "approved";
      $("access-card").hidden = false;
    };
    const load = async () => {
      const res = await api("/v1/me/internet-access", undefined, token);
      if (res.status === 401) {
        sessionStorage.removeItem(WORK);
        location.reload();
        return null;
      }
      if (res.status !== 200) return showErrors(problemErrors(res.body, {}, null));
      render(res.body);
      return res.body;
    };
    await load();
    $("request-access").addEventListener("click", async () => {
      const res = await api("/v1/me/internet-access", {}, token);
      if (res.status !== 200) return showErrors(problemErrors(res.body, {}, null));
      clearErrors();
      render(res.body);
      $("access-message").textContent =
        res.body.status === "approved" ? "Internet access approved. You can now set your password." : "Your request has been sent for approval.";
    });
    $("show-reset").addEventListener("click", () => {
      $("reset-card").hidden = false;
      $("new-password").focus();
    });
    $("cancel-reset").addEventListener("click", () => {
      clearErrors();
      $("reset-card").hidden = true;
      $("show-reset").focus();
    });
    $("set-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const res = await fetch("/v1/me/internet-access/password", {
        method: "PUT",
        headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: "Bearer " + token },
        body: JSON.stringify({ new_password: $("new-password").value, confirm_password: $("retype-password").value }),
      });
      if (res.status === 204) {
        clearErrors();
        $("reset-card").hidden = true;
        $("set-form").reset();
        // Status first, then the message: whoever reads the message sees the current status.
        await load();
        $("access-message").textContent = "Your password has been set. Use it with your ESR username from home and in the My ESR app.";
        return;
      }
      const body = await res.json().catch(() => null);
      showErrors(problemErrors(body, { new_password: "new-password", confirm_password: "retype-password" }, "new-password"));
    });
  }

  const PROVIDER_ERRORS = {
    access_denied: "The smartcard sign-in was cancelled or refused.",
    login_required: "The NHS identity service needs you to sign in with your smartcard again.",
    interaction_required: "The NHS identity service needs you to sign in with your smartcard again.",
    temporarily_unavailable: "The NHS identity service is busy. Please try again in a few minutes.",
    server_error: "The NHS identity service could not complete the sign-in. Please try again in a few minutes.",
    other: "The NHS identity service did not return a sign-in.",
  };

  // The card is linked in several organisations: one button each, starting the sign-in again
  // for the organisation pressed.
  function chooseOrganisation(organisations) {
    $("checking").hidden = true;
    const list = $("organisation-list");
    for (const organisation of organisations) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = organisation.code + " " + organisation.name;
      button.addEventListener("click", () => startSmartcardSignIn(organisation.code));
      item.append(button);
      list.append(item);
    }
    $("choose-organisation").hidden = false;
    $("choose-organisation-title").focus();
  }

  async function initSmartcardCallback() {
    const params = new URLSearchParams(location.search);
    const code = params.get("code"), state = params.get("state");
    // The code is single use: keep it out of the address bar and history.
    history.replaceState(null, "", location.pathname);
    // The provider's own error_description is never shown: anyone can put words in a query
    // string, and this page is on our domain. Each OAuth error code has our own wording.
    if (!code || !state) return badLink(PROVIDER_ERRORS[params.get("error")] || PROVIDER_ERRORS.other);
    const browser_binding = sessionStorage.getItem(BINDING) || "";
    sessionStorage.removeItem(BINDING);
    if (!browser_binding) return badLink("This sign-in was not started in this browser. Please sign in with your smartcard again.");
    const res = await api("/v1/auth/smartcard/callback", { code, state, browser_binding });
    if (res.status === 409 && res.body && res.body.code === "organisation-choice-required") {
      return chooseOrganisation(res.body.organisations || []);
    }
    if (res.status !== 200) return badLink((res.body && res.body.detail) || "Sign-in failed.");
    sessionStorage.setItem(WORK, res.body.access_token);
    location.replace(location.pathname.replace(/smartcard-callback$/, "internet-access"));
  }

  const pages = {
    login: initLogin,
    forgotten: () => initRequest("/v1/recovery-requests", false),
    unlock: () => initRequest("/v1/unlock-requests", true),
    reset: initReset,
    "unlock-link": initUnlockLink,
    "internet-access": initInternetAccess,
    "smartcard-callback": initSmartcardCallback,
    "add-factor": initAddFactor,
  };
  const init = pages[document.body.dataset.page];
  if (init) init();
})();
