// `bun run test:browser`: the docs page in headless Chromium with every request that is not to the
// service itself blocked; the task operations must render, and nothing may try to leave. Fails
// (exit 1) when Chromium is missing: CI installs it (apt-get install -y chromium).
// Usage: bun test/browser/docs.ts   (CHROMIUM=/path/to/chromium to use another browser)
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { database } from "../../src/db/client";
import { loadSource } from "../../src/migrator/source";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`FAIL Chromium not found at ${executablePath}: apt-get install -y chromium (or set CHROMIUM)`);
  process.exit(1);
}

// The docs need no database: the pool points nowhere and is never used.
const config = { ...loadConfig({}), logLevel: "silent" as const };
const db = database("postgres://nobody@127.0.0.1:1/none", config);
const app = createApp({ config, db, source: loadSource() }).listen({ hostname: "127.0.0.1", port: 0 });
const base = `http://127.0.0.1:${app.server!.port}`;
const operations = ["List tasks (total in X-Total-Count, pages in Link)", "Create a task (at most TENANT_MAX_TASKS per tenant)", "Get a task", "Change some fields of a task", "Delete a task"];

const served: string[] = [];
const blocked: string[] = [];
const errors: string[] = [];
const browser = await chromium.launch({
  executablePath,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
});
let failed = false;
try {
  const page = await browser.newPage();
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.origin === base) {
      served.push(url.pathname);
      return route.continue();
    }
    blocked.push(url.href);
    return route.abort();
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${base}/swagger`, { waitUntil: "networkidle" });
  for (const summary of operations) {
    const ok = await page
      .getByText(summary, { exact: true })
      .first()
      .waitFor({ state: "visible", timeout: 15_000 })
      .then(() => true, () => false);
    console.log(`${ok ? "ok  " : "FAIL"} "${summary}" rendered`);
    failed ||= !ok;
  }
  console.log(`served by the service: ${served.join(", ")}`);
  console.log(`${blocked.length ? "FAIL" : "ok  "} requests elsewhere: ${blocked.length ? blocked.join(", ") : "none"}`);
  console.log(`${errors.length ? "FAIL" : "ok  "} page errors: ${errors.length ? errors.join("; ") : "none"}`);
  failed ||= blocked.length > 0 || errors.length > 0;
} finally {
  await browser.close();
  await app.stop(true);
  await db.close();
}
process.exit(failed ? 1 : 0);
