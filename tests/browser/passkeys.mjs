// Passkeys in the reference pages, under their real Content-Security-Policy, with Chromium's
// virtual authenticator (a platform passkey that verifies its user): log in with a password →
// "Add a passkey" → the password alone is not enough → the emailed link → the passkey is made
// and the recovery codes shown → log out → log in: the password, then "Use your passkey" →
// log out → "Log in with a passkey" alone. axe on every new state.
//
// WebAuthn needs a domain: the pages are opened at localhost (the dev relying party), not at
// the loopback address the server listens on.
import { BASE, launch, check, accessible, openPage, focused, mailLink } from "./lib.mjs";

const LOCAL = BASE.replace("127.0.0.1", "localhost");
const USERNAME = "999APATEL01";
const PASSWORD = "Copper kettle meadow 42";
const EMAIL = "amir.patel@demo.example.org";

async function logIn(page) {
  await page.waitForSelector("#login-card:not([hidden])");
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
}

const browser = await launch();
try {
  const { page, finish } = await openPage(browser);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  await page.goto(LOCAL + "/self-service/");
  check(!(await page.isHidden("#passkey-login-block")), "the login page offers a passkey");
  await logIn(page);
  await page.waitForSelector("#profile-card:not([hidden])");
  await page.click("#add-factor");
  await page.waitForSelector("#name-card:not([hidden])");
  check(!(await page.isHidden("#add-passkey")), "a passkey is offered beside the app");
  await accessible(page, "add a sign-in method: app or passkey");
  await page.click("#add-passkey");
  await page.waitForSelector("#proof-card:not([hidden])");
  check((await focused(page)) === "proof-title", "the password alone is not enough");
  await page.click("#proof-form button[type=submit]");
  await page.waitForSelector("#proof-sent:not([hidden])");

  const link = await mailLink(EMAIL, "enrol");
  check(link && link.includes("#token="), "the enrolment link arrived");
  // Open it in this tab (a fragment change alone would not load the page again).
  await page.goto("about:blank");
  await page.goto(link.replace("127.0.0.1", "localhost"));
  await page.waitForSelector("#name-card:not([hidden])");
  await page.fill("#factor-name", "This laptop");
  await page.click("#add-passkey");
  await page.waitForSelector("#done:not([hidden])");
  check((await focused(page)) === "done-title", "focus on the confirmation");
  check((await page.locator("#codes li").count()) === 10, "ten recovery codes, shown once");
  await accessible(page, "passkey added");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check(credentials.length === 1, "one passkey made");
  check(credentials[0].isResidentCredential, "a passkey the device finds by itself");

  await page.goto(LOCAL + "/self-service/");
  await page.waitForSelector("#profile-card:not([hidden])");
  check((await page.textContent("#factors")).includes("Passkey: This laptop"), "the profile lists the passkey");
  await page.click("#logout");
  await logIn(page);
  await page.waitForSelector("#code-card:not([hidden])");
  check(!(await page.isHidden("#passkey-answer-block")), "the second step offers the passkey");
  await accessible(page, "second step with a passkey");
  await page.click("#passkey-answer");
  await page.waitForSelector("#profile-card:not([hidden])");

  await page.click("#logout");
  await page.waitForSelector("#login-card:not([hidden])");
  await page.click("#passkey-login");
  await page.waitForSelector("#profile-card:not([hidden])");
  check((await page.textContent("#profile")).includes(USERNAME), "signed in with the passkey alone");
  const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  check(after.credentials[0].signCount >= 2, "each sign-in used the passkey");
  finish();
  console.log("passkeys: ok");
} finally {
  await browser.close();
}
