// The recovery journey clicking through the self-service pages: request → dev mailbox →
// open the emailed link → policy errors for "password1" → set a password → log in.
import { BASE, launch, check, shot, accessible, api } from "./lib.mjs";

const EMAIL = "jane.smith@demo.nhs.uk";
const NEW_PASSWORD = "Wandering heron at dusk";

const browser = await launch();
try {
  // 0. Under the real Content-Security-Policy the pages work (no inline script is needed).
  {
    const strict = await browser.newContext();
    const p = await strict.newPage();
    const violations = [];
    p.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
    await p.goto(BASE + "/self-service/forgotten");
    await p.click("button[type=submit]");
    await p.waitForSelector("#error-summary:not([hidden])");
    check(violations.length === 0, "pages run under their CSP without violations");
    await strict.close();
  }

  // axe is injected as a script: allow it past the pages' CSP in this context only.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  // Script errors fail the test; expected 4xx answers (shown to the user) do not.
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(e.message));

  // 1. Forgotten | Request Username/Password, the guide's form.
  await page.goto(BASE + "/self-service/forgotten");
  await accessible(page, "request form");
  await page.click("button[type=submit]");
  check(await page.isVisible("#error-summary"), "empty form shows the error summary");
  check((await page.evaluate(() => document.activeElement.id)) === "error-summary", "focus moves to the error summary");
  const links = await page.$$eval("#error-list a", (as) => as.map((a) => a.getAttribute("href")));
  check(links.includes("#email") && links.includes("#dob-day"), "errors link to their fields: " + links.join(" "));
  await shot(page, "forgotten-errors");

  await page.fill("#email", EMAIL);
  await page.fill("#dob-day", "12");
  await page.fill("#dob-month", "4");
  await page.fill("#dob-year", "1985");
  await page.fill("#username", "999JSMITH01");
  await page.click("button[type=submit]");
  await page.waitForSelector("#confirmation:not([hidden])");
  const confirmation = await page.textContent("#confirmation-text");
  check(confirmation.startsWith("Your request to retrieve your username has been submitted."), "the guide's confirmation: " + confirmation);
  await shot(page, "forgotten-confirmation");

  // 2. The email, from the dev mailbox.
  let link = null;
  for (let i = 0; i < 100 && !link; i++) {
    const box = await api(`/v1/dev/mailbox?to=${encodeURIComponent(EMAIL)}&limit=1`);
    link = box.body?.[0]?.links?.find((l) => l.purpose === "reset")?.url;
    if (!link) await new Promise((r) => setTimeout(r, 100));
  }
  check(link && link.includes("/self-service/reset-password#token="), "the email has a reset link with the token in the fragment");

  // 3. The reset page, opened from the link.
  await page.goto(link);
  await page.waitForSelector("#form-card:not([hidden])");
  check(!page.url().includes("token="), "the token is removed from the address bar");
  check((await page.textContent("#organisation")).includes("999 Demo NHS Trust"), "the link's organisation is shown");
  await accessible(page, "reset form");

  // Keyboard only: focus starts on the username, Tab moves through the form in order.
  check((await page.evaluate(() => document.activeElement.id)) === "username", "focus starts on Username");
  await page.keyboard.type("999JSMITH01");
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement.id)) === "password", "Tab → Password");
  await page.keyboard.type("password1");
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement.id)) === "confirm", "Tab → Confirm Password");
  await page.keyboard.type("password1");
  // Live feedback from POST /v1/password-policy/check: every broken rule marked at once.
  await page.waitForSelector(".rules li.bad");
  const bad = await page.$$eval(".rules li.bad", (lis) => lis.map((l) => l.dataset.code));
  check(bad.includes("password-too-short") && bad.includes("password-common"), "live feedback marks " + bad.join(", "));
  await shot(page, "reset-live-feedback");
  await page.keyboard.press("Tab");
  check((await page.evaluate(() => document.activeElement.tagName)) === "BUTTON", "Tab → Confirm Password button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#error-summary:not([hidden])");
  const errors = await page.$$eval("#error-list li", (lis) => lis.map((l) => l.textContent));
  check(errors.some((e) => e.includes("minimum of 12 characters")), "summary: too short");
  check(errors.some((e) => e.includes('Commonly used passwords, like "password1" are not allowed')), "summary: common password");
  check((await page.getAttribute("#password", "aria-invalid")) === "true", "the password field is marked invalid");
  await shot(page, "reset-policy-errors");
  await accessible(page, "reset form with errors");

  await page.fill("#password", NEW_PASSWORD);
  await page.fill("#confirm", NEW_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForSelector("#done:not([hidden])");
  check((await page.textContent("#done h1")).includes("Your ESR password has now been reset"), "the guide's success message");
  await shot(page, "reset-done");

  // 4. Log in with the new password; the profile comes from /v1/me.
  await page.click("#done a");
  await page.waitForSelector("#login-form");
  await accessible(page, "login page");
  await page.fill("#username", "999jsmith01");
  await page.fill("#password", NEW_PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#profile-card:not([hidden])");
  const profile = await page.textContent("#profile");
  check(profile.includes("999JSMITH01") && profile.includes("Demo NHS Trust"), "profile shown after login");
  await shot(page, "logged-in");

  // 5. The used link is dead.
  await page.goto(link);
  await page.waitForSelector("#bad-link:not([hidden])");
  check(true, "a used link shows 'This link is not valid'");

  check(consoleErrors.length === 0, "no script errors: " + consoleErrors.join(" | "));
  console.log("self-service journey: all checks passed");
} finally {
  await browser.close();
}
