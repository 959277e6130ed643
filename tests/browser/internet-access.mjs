// Manage Internet Access at work, through the pages and the dev identity provider standing in
// for the smartcard: sign in → Request Internet Access → Reset Password (policy errors for
// "password1", then a good one) → log in from home with the ESR username.
import { BASE, launch, check, shot, accessible, openPage } from "./lib.mjs";

const PASSWORD = "Lantern over the estuary";
const browser = await launch();
try {
  // Under the pages' real Content-Security-Policy.
  const { page, finish } = await openPage(browser);

  await page.goto(BASE + "/self-service/internet-access");
  await page.waitForSelector("#signin-card:not([hidden])");
  // Dev mode: the dev identity provider exists, so the hint about it is shown.
  await page.waitForSelector("#dev-idp-hint:not([hidden])");
  check(true, "dev mode: the hint about the dev identity provider is shown");
  await accessible(page, "Manage Internet Access sign-in");
  await page.click("#smartcard-signin");
  // The dev identity provider's page: pick the demo person (as a smartcard would identify her).
  await page.waitForSelector("text=Siân Jones");
  await page.click("text=Siân Jones");
  await page.waitForSelector("#access-card:not([hidden])");
  check(!page.url().includes("code="), "the authorization code is not left in the address bar");
  check((await page.textContent("#esr-username")) === "999SJONES01", "the ESR username is shown");
  check((await page.textContent("#access-status")) === "Not requested", "status: Not requested");
  await accessible(page, "Manage Internet Access");
  await shot(page, "internet-access");

  await page.click("#request-access");
  await page.waitForFunction(() => document.getElementById("access-status").textContent === "Approved");
  check(true, "Request Internet Access: approved at once (automatic organisation)");

  await page.click("#show-reset");
  await page.fill("#new-password", "password1");
  await page.fill("#retype-password", "password1");
  await page.click("#set-form button[type=submit]");
  await page.waitForSelector("#error-summary:not([hidden])");
  const summary = await page.textContent("#error-list");
  check(summary.includes("minimum of 12 characters") && summary.includes('"password1"'), "policy errors listed together");
  await accessible(page, "Manage Internet Access with errors");
  await shot(page, "internet-access-policy-errors");

  await page.fill("#new-password", PASSWORD);
  await page.fill("#retype-password", PASSWORD);
  await page.click("#set-form button[type=submit]");
  await page.waitForFunction(() => document.getElementById("access-message").textContent.includes("Your password has been set"));
  check((await page.textContent("#password-set")) === "*****", "the password is now set (never shown)");
  await shot(page, "internet-access-done");

  // From home: username + the new password.
  await page.goto(BASE + "/self-service/");
  await page.fill("#username", "999SJONES01");
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#profile-card:not([hidden])");
  check((await page.textContent("#profile")).includes("999SJONES01"), "logged in from home with the new password");

  // Siân also works for organisation 998, which links the same smartcard to its record: the
  // sign-in asks which organisation, and goes to the one chosen.
  const linked = await fetch(BASE + "/v1/admin/people", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + process.env.ADMIN_KEY_998 },
    body: JSON.stringify({
      organisation_code: "998", employee_number: "800003", first_name: "Siân", last_name: "Jones",
      date_of_birth: "1992-07-21", work_email: "sian.jones@board.example", smartcard_subject: "555000000003",
    }),
  });
  check(linked.status === 201, "organisation 998 links the same smartcard to its own record");
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(BASE + "/self-service/internet-access");
  await page.click("#smartcard-signin");
  await page.waitForSelector("text=Siân Jones");
  await page.click("text=Siân Jones >> nth=0");
  await page.waitForSelector("#choose-organisation:not([hidden])");
  const choices = await page.$$eval("#organisation-list button", (buttons) => buttons.map((b) => b.textContent));
  check(choices.length === 2 && choices[0].startsWith("998 ") && choices[1].startsWith("999 "), "both organisations offered: " + choices);
  await accessible(page, "Choose your organisation");
  await shot(page, "smartcard-choose-organisation");
  await page.click("#organisation-list button >> nth=0");
  // The provider again (it remembers nobody in dev mode), then back to the page.
  await page.waitForSelector("text=Siân Jones");
  await page.click("text=Siân Jones >> nth=0");
  await page.waitForSelector("#access-card:not([hidden])");
  check((await page.textContent("#access-organisation")).startsWith("998 "), "signed in to the organisation chosen");
  check((await page.textContent("#esr-username")).startsWith("998"), "with that organisation's ESR username");

  finish();
  console.log("manage internet access: all checks passed");
} finally {
  await browser.close();
}
