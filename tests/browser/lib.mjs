// Shared helpers for the browser tests: launch Debian's Chromium headless, screenshots,
// accessibility checks with axe-core.
import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
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

/** Runs axe-core (WCAG 2.x A/AA rules) and fails on serious or critical violations. */
export async function accessible(page, label) {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const result = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] } }),
  );
  const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of serious) console.log(`  ${v.impact}: ${v.id} ${v.help} (${v.nodes.length} nodes)`);
  check(serious.length === 0, `${label}: no serious accessibility violations (${result.violations.length} minor)`);
}

export async function api(path, init) {
  const res = await fetch(BASE + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
