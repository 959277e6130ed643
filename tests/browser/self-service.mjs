// The recovery journey clicking through the self-service pages, all under their real
// Content-Security-Policy: start page → "Forgotten" → the request form → confirmation → dev
// mailbox → open the emailed link → policy errors for "password1" → set a password → log in.
import { BASE, launch, check, shot, accessible, openPage, focused, mailLink } from "./lib.mjs";

const EMAIL = "jane.smith@demo.example.org";
const NEW_PASSWORD = "Wandering heron at dusk";

const browser = await launch();
try {
  const { page, finish } = await openPage(browser);

  // 1. The start page, then Forgotten | Request Username/Password (the guide's form).
  await page.goto(BASE + "/self-service/");
  await page.waitForSelector("#login-form");
  await accessible(page, "start page (log in)");
  await page.click("text=Forgotten");
  await page.waitForURL(/\/self-service\/forgotten$/);
  check(true, "the start page's Forgotten link opens the request form");
  await accessible(page, "request form");
  await page.click("button[type=submit]");
  await page.waitForSelector("#error-summary:not([hidden])");
  check((await focused(page)) === "error-summary", "empty form: focus moves to the error summary");
  const links = await page.$$eval("#error-list a", (as) => as.map((a) => a.getAttribute("href")));
  check(links.includes("#email") && links.includes("#dob-day"), "errors link to their fields: " + links.join(" "));
  const emailDescribedBy = (await page.getAttribute("#email", "aria-describedby")).split(" ");
  check(emailDescribedBy.includes("email-error") && emailDescribedBy.includes("email-hint"), "the email field is described by its error and hint");
  const dobDescribedBy = (await page.getAttribute("#dob-field fieldset", "aria-describedby")).split(" ");
  check(dobDescribedBy.includes("dob-error"), "the date of birth fieldset is described by its error");
  check((await page.textContent("#email-error")).startsWith("Error: "), "the field's error message starts with a hidden 'Error:'");
  await accessible(page, "request form with errors");
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
  check((await page.getAttribute("#email", "aria-describedby")) === "email-hint", "a corrected field is described by its hint only");
  await accessible(page, "request confirmation");
  await shot(page, "forgotten-confirmation");

  // 2. The email, from the dev mailbox (through the API).
  const link = await mailLink(EMAIL, "reset");
  check(link && link.includes("/self-service/reset-password#token="), "the email has a reset link with the token in the fragment");

  // 3. The reset page, opened from the link.
  await page.goto(link);
  await page.waitForSelector("#form-card:not([hidden])");
  check(!page.url().includes("token="), "the token is removed from the address bar");
  check((await page.textContent("#organisation")).includes("999 Demo NHS Trust"), "the link's organisation is shown");
  await page.waitForSelector("#rules li");
  await accessible(page, "reset form");

  // Keyboard only: focus starts on the username, Tab moves through the form in order.
  check((await focused(page)) === "username", "focus starts on Username");
  await page.keyboard.type("999JSMITH01");
  await page.keyboard.press("Tab");
  check((await focused(page)) === "password", "Tab → Password");
  await page.keyboard.type("password1");
  await page.keyboard.press("Tab");
  check((await focused(page)) === "confirm", "Tab → Confirm Password");
  await page.keyboard.type("password2");
  // Live feedback from POST /v1/password-policy/check: every violation shown at once, in
  // words as well as colour, including the one no rule stands for (the passwords differ).
  await page.waitForSelector('#rules li[data-code="password-confirmation-mismatch"]');
  const bad = await page.$$eval("#rules li.bad", (lis) => lis.map((l) => l.dataset.code));
  check(
    bad.includes("password-too-short") && bad.includes("password-common") && bad.includes("password-confirmation-mismatch"),
    "live feedback shows every violation at once: " + bad.join(", "),
  );
  const shortRule = await page.textContent('#rules li[data-code="password-too-short"]');
  check(shortRule.includes("Not met:"), "a broken rule says so in words: " + shortRule);
  const okRule = await page.textContent('#rules li[data-code="password-repetitive"]');
  check(okRule.includes("Met:") && !okRule.includes("Not met"), "a rule kept says so in words: " + okRule);
  check((await page.getAttribute("#rules", "aria-live")) === "polite", "the rules are a polite live region");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("1");
  await page.waitForSelector('#rules li[data-code="password-confirmation-mismatch"]', { state: "detached" });
  check(true, "the mismatch goes once the passwords match");
  await shot(page, "reset-live-feedback");
  await page.keyboard.press("Tab");
  check((await focused(page)) === "BUTTON", "Tab → Confirm Password button");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#error-summary:not([hidden])");
  const errors = await page.$$eval("#error-list li", (lis) => lis.map((l) => l.textContent));
  check(errors.some((e) => e.includes("minimum of 12 characters")), "summary: too short");
  check(errors.some((e) => e.includes('Commonly used passwords, like "password1" are not allowed')), "summary: common password");
  check((await page.getAttribute("#password", "aria-invalid")) === "true", "the password field is marked invalid");
  check((await page.getAttribute("#password", "aria-describedby")).split(" ").includes("password-error"), "the password field is described by its error");
  await shot(page, "reset-policy-errors");
  await accessible(page, "reset form with errors");

  await page.fill("#password", NEW_PASSWORD);
  await page.fill("#confirm", NEW_PASSWORD);
  await page.click("button[type=submit]");
  await page.waitForSelector("#done:not([hidden])");
  check((await page.textContent("#done h1")).includes("Your ESR password has now been reset"), "the guide's success message");
  await accessible(page, "password reset");
  await shot(page, "reset-done");

  // 4. Log in with the new password; the profile comes from /v1/me, focus on its heading.
  await page.click("#done a");
  await page.waitForSelector("#login-form");
  await accessible(page, "login page");
  await page.fill("#username", "999jsmith01");
  await page.fill("#password", NEW_PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#profile-card:not([hidden])");
  const profile = await page.textContent("#profile");
  check(profile.includes("999JSMITH01") && profile.includes("Demo NHS Trust"), "profile shown after login");
  check((await focused(page)) === "profile-title", "focus moves to the profile's heading");
  await accessible(page, "profile");
  await shot(page, "logged-in");

  // 5. The used link is dead.
  await page.goto(link);
  await page.waitForSelector("#bad-link:not([hidden])");
  check(true, "a used link shows 'This link is not valid'");
  await accessible(page, "reset-password: link not valid");
  await shot(page, "reset-link-not-valid");

  finish();
  console.log("self-service journey: all checks passed");
} finally {
  await browser.close();
}
