// Swagger UI in a real browser: every tag renders, and "Try it out" works on
// GET /v1/password-policy and POST /v1/auth/login against the live server.
import { BASE, launch, check, shot, api } from "./lib.mjs";

const doc = (await api("/api-docs/openapi.json")).body;
const tags = doc.tags.map((t) => t.name);

const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Swagger UI runs under its own Content-Security-Policy: a violation is a failure.
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) errors.push("CSP: " + m.text());
  });
  await page.goto(BASE + "/swagger-ui/");
  await page.waitForSelector(".swagger-ui .info .title");
  check((await page.textContent(".swagger-ui .info .title")).includes("ESR Access API"), "the document loads and its title shows");
  for (const tag of tags) {
    check(await page.isVisible(`#operations-tag-${tag}`), `tag ${tag} renders`);
  }
  await shot(page, "swagger-ui");

  // Try it out: GET /v1/password-policy.
  const policy = page.locator("#operations-password-policy-get_policy");
  await policy.locator(".opblock-summary").click();
  await policy.locator("button.try-out__btn").click();
  await policy.locator("button.execute").click();
  await policy.locator(".responses-wrapper .live-responses-table .response-col_status").first().waitFor();
  const status = (await policy.locator(".live-responses-table .response .response-col_status").first().textContent()).trim();
  check(status.startsWith("200"), "Try it out on GET /v1/password-policy answers 200");
  const body = await policy.locator(".live-responses-table .response .microlight").first().textContent();
  check(body.includes("Password must be a minimum of 12 characters"), "the live answer shows the policy");
  await shot(page, "swagger-try-policy");

  // Try it out: POST /v1/auth/login with the documented example (a demo account).
  const login = page.locator("#operations-session-login");
  await login.locator(".opblock-summary").click();
  await login.locator("button.try-out__btn").click();
  await login.locator("textarea.body-param__text").fill(JSON.stringify({ username: "999JSMITH01", password: "Bluebell harbour lantern" }));
  await login.locator("button.execute").click();
  await login.locator(".live-responses-table .response .response-col_status").first().waitFor();
  const loginStatus = (await login.locator(".live-responses-table .response .response-col_status").first().textContent()).trim();
  check(loginStatus.startsWith("200"), "Try it out on POST /v1/auth/login answers 200: " + loginStatus);
  const loginBody = await login.locator(".live-responses-table .response .microlight").first().textContent();
  check(loginBody.includes("access_token") && loginBody.includes("refresh_token"), "the live answer has the tokens");
  await shot(page, "swagger-try-login");

  check(errors.length === 0, "no script errors: " + errors.join(" | "));
  console.log("swagger ui: all checks passed");
} finally {
  await browser.close();
}
