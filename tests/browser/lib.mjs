// Shared helpers for the browser tests: launch Debian's Chromium headless, screenshots,
// accessibility checks with axe-core.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import path from "node:path";

const require = createRequire(import.meta.url);

export const BASE = process.env.BASE_URL;
export const SHOTS = process.env.SCREENSHOT_DIR || "target/browser";
mkdirSync(SHOTS, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function check(condition, message) {
  if (!condition) throw new Error("check failed: " + message);
  console.log("ok - " + message);
}

export async function shot(page, name) {
  const file = path.join(SHOTS, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  console.log("screenshot " + file);
}

/**
 * A page in a fresh context under the pages' real Content-Security-Policy (no bypassCSP).
 * `problems()` lists script errors and CSP violations seen so far; `finish()` checks there
 * were none. Expected 4xx answers (shown to the user) are not problems.
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const seen = [];
  const watch = (p) => {
    p.on("pageerror", (e) => seen.push("script error: " + e.message));
    p.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) seen.push("CSP: " + m.text());
    });
  };
  watch(page);
  // Tabs opened later in the context (a link from an email) are watched too.
  context.on("page", watch);
  return {
    page,
    context,
    problems: () => seen.slice(),
    finish: () => check(seen.length === 0, "no script errors or CSP violations" + (seen.length ? ": " + seen.join(" | ") : "")),
  };
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core (WCAG 2.x A/AA rules) and fails on serious or critical violations. axe is
 * evaluated through the automation protocol, which the page's CSP does not govern, so the
 * pages are checked under their real policy.
 */
export async function accessible(page, label) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } }),
  );
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of serious) console.log(`  ${v.impact}: ${v.id} ${v.help} (${v.nodes.length} nodes)`);
  check(serious.length === 0, `${label}: no serious accessibility violations (${result.violations.length} minor)`);
}

/** The id of the focused element (or its tag name when it has none). */
export async function focused(page) {
  return page.evaluate(() => document.activeElement.id || document.activeElement.tagName);
}

/** Polls the dev mailbox for the newest email to `to` with a `purpose` link; its URL. */
export async function mailLink(to, purpose) {
  for (let i = 0; i < 100; i++) {
    const box = await api(`/v1/dev/mailbox?to=${encodeURIComponent(to)}&limit=1`);
    const url = box.body?.[0]?.links?.find((l) => l.purpose === purpose)?.url;
    if (url) return url;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

export async function api(path, init) {
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/**
 * The authenticator-app code (RFC 6238: HMAC-SHA-1, 6 digits, 30 s) of a base32 secret,
 * `offsetSteps` steps from now: what the person's phone would show.
 */
export function totp(secretBase32, offsetSteps = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretBase32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + offsetSteps));
  const mac = createHmac("sha1", key).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Waits until the current 30-second step has at least ten seconds left. */
export async function freshStep() {
  const into = Math.floor(Date.now() / 1000) % 30;
  if (into >= 20) await new Promise((r) => setTimeout(r, (31 - into) * 1000));
}
