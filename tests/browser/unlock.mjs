// Unlock Account, under the pages' real Content-Security-Policy: five wrong passwords lock an
// account (through the API) → start page → "Unlock Account" → the form → confirmation → dev
// mailbox → open the unlock link → press "Unlock my account" → unlocked → log in with the unchanged password. Also the
// "link not valid" states of unlock-account and reset-password.
import { BASE, launch, check, shot, accessible, api, openPage, focused, mailLink } from "./lib.mjs";

const USERNAME = "999APATEL01";
const PASSWORD = "Copper kettle meadow 42";
const EMAIL = "amir.patel@demo.example.org";

const login = (password) =>
  api("/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: USERNAME, password }),
  });

// Lock the account: five wrong passwords, after which even the right one is refused.
for (let i = 0; i < 5; i++) check((await login("not my password " + i)).status === 401, `wrong password ${i + 1} refused`);
check((await login(PASSWORD)).status === 401, "the account is locked: the right password is refused too");

const browser = await launch();
try {
  const { page, finish } = await openPage(browser);

  await page.goto(BASE + "/self-service/");
  await page.click("text=Unlock Account");
  await page.waitForURL(/\/self-service\/unlock$/);
  check(true, "the start page's Unlock Account link opens the unlock form");
  await accessible(page, "unlock form");
  await page.click("button[type=submit]");
  await page.waitForSelector("#error-summary:not([hidden])");
  const links = await page.$$eval("#error-list a", (as) => as.map((a) => a.getAttribute("href")));
  check(links.includes("#username"), "the username is required here: " + links.join(" "));
  await accessible(page, "unlock form with errors");

  await page.fill("#email", EMAIL);
  await page.fill("#dob-day", "3");
  await page.fill("#dob-month", "11");
  await page.fill("#dob-year", "1979");
  await page.fill("#username", USERNAME);
  await page.click("button[type=submit]");
  await page.waitForSelector("#confirmation:not([hidden])");
  check((await focused(page)) === "confirmation-ok", "focus moves to the confirmation's Ok");
  await accessible(page, "unlock confirmation");

  const link = await mailLink(EMAIL, "unlock");
  check(link && link.includes("/self-service/unlock-account#token="), "the email has an unlock link with the token in the fragment");

  await page.goto(link);
  await page.waitForSelector("#form-card:not([hidden])");
  check(!page.url().includes("token="), "the token is removed from the address bar");
  await accessible(page, "unlock-account: the button");
  await page.click("#unlock-form button[type=submit]");
  await page.waitForSelector("#done:not([hidden])");
  check((await page.textContent("#done h1")).includes("Your account has been unlocked"), "unlock-account: unlocked");
  await accessible(page, "unlock-account: unlocked");
  await shot(page, "unlock-done");

  // Log in through the pages with the password that was never changed.
  await page.click("#done a");
  await page.waitForSelector("#login-form");
  await page.fill("#username", USERNAME);
  await page.fill("#password", PASSWORD);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#profile-card:not([hidden])");
  check((await page.textContent("#profile")).includes(USERNAME), "logged in with the unchanged password");

  // The used link is dead: pressing the button says so.
  await page.goto(link);
  await page.waitForSelector("#form-card:not([hidden])");
  await page.click("#unlock-form button[type=submit]");
  await page.waitForSelector("#bad-link:not([hidden])");
  check(true, "a used unlock link shows 'This link is not valid'");
  await accessible(page, "unlock-account: link not valid");
  await shot(page, "unlock-link-not-valid");

  // Reset links that cannot work: made up, and cut short.
  await page.goto(BASE + "/self-service/reset-password#token=made-up-token");
  await page.waitForSelector("#bad-link:not([hidden])");
  check(await page.isHidden("#form-card"), "a made-up reset link shows no form");
  await accessible(page, "reset-password: link not valid");
  await page.goto(BASE + "/self-service/reset-password");
  await page.waitForSelector("#bad-link:not([hidden])");
  check((await page.textContent("#bad-link-text")).includes("incomplete"), "a reset link without its token says it is incomplete");

  finish();
  console.log("unlock journey: all checks passed");
} finally {
  await browser.close();
}
