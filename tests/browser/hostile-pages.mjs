// What the pages must not do for a hostile or unlucky visitor:
// - without their script (blocked, or not yet loaded on a slow network) a form sends nothing,
//   so no password, date of birth or email can land in a URL (history, proxy logs);
// - opening an unlock link (as a mail scanner that runs scripts does) unlocks nothing until
//   the person presses the button;
// - the smartcard callback page never shows wording taken from its query string.
import { BASE, launch, check, api, openPage, mailLink } from "./lib.mjs";

const USERNAME = "999APATEL01";
const PASSWORD = "Copper kettle meadow 42";
const EMAIL = "amir.patel@demo.example.org";
const MARK = "Zq7secretmarker";

const login = (password) =>
  api("/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: USERNAME, password }),
  });

const browser = await launch();
try {
  // Forms without JavaScript: fill every visible field with a marker and submit.
  for (const [path, form] of [
    ["/self-service/", "#login-form"],
    ["/self-service/forgotten", "#request-form"],
    ["/self-service/unlock", "#request-form"],
  ]) {
    const { page, context } = await openPage(browser, { javaScriptEnabled: false });
    const sent = [];
    page.on("request", (r) => sent.push(r.url() + " " + (r.postData() || "")));
    await page.goto(BASE + path);
    const fields = await page.$$(`${form} input:visible`);
    check(fields.length > 0, `${path}: the form is there without the script`);
    for (const field of fields) {
      const type = await field.getAttribute("type");
      if (type !== "checkbox" && type !== "radio") await field.fill(MARK);
    }
    // The browser's own submission is what is tested: nothing must follow it.
    await page.click(`${form} button[type=submit]`, { noWaitAfter: true });
    await page.waitForTimeout(500);
    check(!page.url().includes(MARK) && !page.url().includes("?"), `${path}: the address is unchanged (${page.url()})`);
    const leaked = sent.filter((s) => s.includes(MARK));
    check(leaked.length === 0, `${path}: no request carries a typed value` + (leaked.length ? ": " + leaked.join(" | ") : ""));
    await context.close();
  }

  // Unlock link: opening it is not pressing it.
  for (let i = 0; i < 5; i++) await login("not my password " + i);
  check((await login(PASSWORD)).status === 401, "the account is locked");
  const asked = await api("/v1/unlock-requests", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ work_email: EMAIL, date_of_birth: "1979-11-03", username: USERNAME }),
  });
  check(asked.status === 202, "unlock link requested: " + asked.status);
  const link = await mailLink(EMAIL, "unlock");
  check(link !== null, "the unlock email arrived");
  const { page, finish } = await openPage(browser);
  await page.goto(link);
  await page.waitForSelector("#form-card:not([hidden])");
  await page.waitForTimeout(1000);
  check(await page.isHidden("#done"), "opening the link shows the button, not 'unlocked'");
  check((await login(PASSWORD)).status === 401, "opening the link alone leaves the account locked");
  await page.click("#unlock-form button[type=submit]");
  await page.waitForSelector("#done:not([hidden])");
  check((await login(PASSWORD)).status === 200, "the press unlocks it");

  // Smartcard callback: the provider's error_description is not ours to show.
  await page.goto(BASE + "/self-service/smartcard-callback?error=access_denied&error_description=Call%200800%20555%200199%20to%20restore%20access");
  await page.waitForSelector("#bad-link:not([hidden])");
  const shown = await page.textContent("#bad-link-text");
  check(!shown.includes("0800"), "the spoofed wording is not shown: " + shown);
  check(shown.includes("cancelled or refused"), "our own wording for access_denied is");
  await page.goto(BASE + "/self-service/smartcard-callback?error=made_up&error_description=Visit%20evil.example");
  await page.waitForSelector("#bad-link:not([hidden])");
  check(!(await page.textContent("#bad-link-text")).includes("evil"), "an unknown error code gets the general wording");
  finish();
  console.log("hostile pages: all checks passed");
} finally {
  await browser.close();
}
