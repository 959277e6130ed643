// Multi-factor sign-in in the reference pages, under their real Content-Security-Policy: log
// in → profile (password only) → "Add an authenticator app" → the password alone is not
// enough → "Email me a link" → open the emailed link in the same browser → scan (read the key)
// → confirm with a code → the recovery codes, shown once → log out → log in: the code step →
// the profile lists the app and where the person is signed in → sign another session out →
// remove the app. axe on every page and state.
import { BASE, launch, check, shot, accessible, api, openPage, focused, mailLink, totp, freshStep } from "./lib.mjs";

const USERNAME = "999APATEL01";
const PASSWORD = "Copper kettle meadow 42";
const EMAIL = "amir.patel@demo.example.org";

async function logIn(page) {
  await page.goto(BASE + "/self-service/");
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
}

const browser = await launch();
try {
  const opened = await openPage(browser);
  const { context, finish } = opened;
  let page = opened.page;
  await freshStep();
  await logIn(page);
  await page.waitForSelector("#profile-card:not([hidden])");
  check(!(await page.isHidden("#factors-none")), "the profile says: password only");
  await accessible(page, "profile with sign-in methods and sessions");

  await page.click("#add-factor");
  await page.waitForURL(/\/self-service\/add-sign-in-method$/);
  await page.waitForSelector("#name-card:not([hidden])");
  await accessible(page, "add a sign-in method: name");
  await page.fill("#factor-name", "Work phone");
  await page.click("#name-form button[type=submit]");
  await page.waitForSelector("#proof-card:not([hidden])");
  check((await focused(page)) === "proof-title", "the password alone is not enough: focus on 'Check it is you'");
  await accessible(page, "add a sign-in method: proof needed");
  await page.click("#proof-form button[type=submit]");
  await page.waitForSelector("#proof-sent:not([hidden])");
  await accessible(page, "add a sign-in method: link sent");

  const link = await mailLink(EMAIL, "enrol");
  check(link && link.includes("/self-service/add-sign-in-method#token="), "the email links to this page, token in the fragment");
  // The link opens in a new tab, which is not logged in: log in there, then carry on.
  await page.close();
  const tab = await context.newPage();
  await tab.goto(link);
  await tab.waitForSelector("#signed-out:not([hidden])");
  check(!tab.url().includes("token="), "the token is removed from the address bar");
  await accessible(tab, "add a sign-in method: log in first");
  await tab.click("#signed-out a");
  await tab.fill("#username", USERNAME);
  await tab.fill("#password", PASSWORD);
  await tab.click("#login-form button[type=submit]");
  await tab.waitForURL(/\/self-service\/add-sign-in-method$/);
  page = tab;
  await page.waitForSelector("#name-card:not([hidden])");
  await page.fill("#factor-name", "Work phone");
  await page.click("#name-form button[type=submit]");
  await page.waitForSelector("#scan-card:not([hidden])");
  check((await page.$$("#qr svg")).length === 1, "the QR code is shown");
  const secret = (await page.textContent("#secret")).trim();
  check(/^[A-Z2-7]{32}$/.test(secret), "the key for typing in is shown");
  await accessible(page, "add a sign-in method: scan");
  await shot(page, "add-sign-in-method-scan");

  await page.fill("#confirm-code", "000000");
  await page.click("#confirm-form button[type=submit]");
  await page.waitForSelector("#error-summary:not([hidden])");
  await accessible(page, "add a sign-in method: wrong code");
  const confirmingCode = totp(secret);
  await page.fill("#confirm-code", confirmingCode);
  await page.click("#confirm-form button[type=submit]");
  await page.waitForSelector("#done:not([hidden])");
  const codes = await page.$$eval("#codes li", (lis) => lis.map((li) => li.textContent));
  check(codes.length === 10 && codes.every((c) => /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(c)), "ten recovery codes, shown once");
  check((await focused(page)) === "done-title", "focus moves to the confirmation");
  await accessible(page, "add a sign-in method: done with recovery codes");

  // The My ESR app on Amir's phone signs in too, with a recovery code (to sign it out later).
  const appLogin = (path, body) =>
    api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "User-Agent": "My ESR/3.2 (iPhone)" },
      body: JSON.stringify(body),
    });
  const challenge = await appLogin("/v1/auth/login", { username: USERNAME, password: PASSWORD });
  check(challenge.body.mfa_required === true, "the app's password login asks for a second factor");
  const phone = await appLogin("/v1/auth/login/mfa", { mfa_token: challenge.body.mfa_token, recovery_code: codes[0] });
  check(phone.status === 200 && phone.body.access_token, "a second session, with a recovery code");

  // Log out, then in again: the password now leads to the code step.
  await page.click("#done a");
  await page.waitForSelector("#profile-card:not([hidden])");
  check((await page.textContent("#factors")).includes("Work phone"), "the profile lists the app");
  await page.click("#logout");
  await logIn(page);
  await page.waitForSelector("#code-card:not([hidden])");
  check((await focused(page)) === "code-title", "focus moves to the code step");
  await accessible(page, "login: code step");
  await page.fill("#code", confirmingCode); // the code that confirmed the app: refused
  await page.click("#code-form button[type=submit]");
  await page.waitForSelector("#error-summary:not([hidden])");
  check((await page.textContent("#error-list")).includes("not correct"), "a code works once");
  await accessible(page, "login: code refused");
  await shot(page, "login-code-step");
  await page.fill("#code", totp(secret, 1));
  await page.click("#code-form button[type=submit]");
  await page.waitForSelector("#profile-card:not([hidden])");
  check(true, "the next code completes the login");

  const sessions = await page.$$eval("#sessions li", (lis) => lis.map((li) => li.textContent));
  check(sessions.some((s) => s.includes("this device")), "this session is marked");
  check(sessions.some((s) => s.includes("My ESR/3.2")), "the phone's session is listed");
  await page.click("button[aria-label^='Sign out My ESR']");
  await page.waitForFunction(() => ![...document.querySelectorAll("#sessions li")].some((li) => li.textContent.includes("My ESR/3.2")));
  const me = await api("/v1/me", { headers: { Authorization: "Bearer " + phone.body.access_token } });
  check(me.status === 401, "the signed-out phone session no longer works");

  await page.click("button[aria-label='Remove Work phone']");
  await page.waitForSelector("#factors-none:not([hidden])");
  check(true, "the app is removed: password only again");
  await accessible(page, "profile after removing the app");
  await shot(page, "profile-sign-in-methods");
  finish();
} finally {
  await browser.close();
}
