// Shared set-up of the browser end-to-end tests: a static server for the site (scripts/serve.py, with
// the cross-origin isolation headers), Debian's headless Chromium through playwright-core, pages that
// wait until the explorer has loaded and its jobs are done, and pass/fail counting.
//   const h = await startHarness(siteDir);  ...  h.check(name, ok, detail);  ...  await h.finish();
import { chromium } from "playwright-core";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

export const root = path.dirname(path.dirname(path.dirname(new URL(import.meta.url).pathname)));

export async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

// Serves `site` on a free port; `isolation` false: without the COOP/COEP headers (a plain static host).
export async function serve(site, isolation = true) {
  const port = await freePort();
  const args = [path.join(root, "scripts", "serve.py"), "--port", String(port), "--dir", site];
  if (!isolation) args.push("--no-isolation");
  const server = spawn("python3", args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => server.stdout.once("data", resolve));
  return { server, base: `http://127.0.0.1:${port}/` };
}

// `isolation` false: serve without the COOP/COEP headers (the page then runs the single-threaded build).
export async function startHarness(site, { timeout = 120000, isolation = true } = {}) {
  const { server, base } = await serve(site, isolation);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-quic", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
  });
  const h = { base, browser, server, passed: 0, failed: 0 };
  h.check = (name, ok, detail = "") => {
    if (ok) h.passed++;
    else { h.failed++; console.log(`FAIL: ${name} ${detail}`); }
  };
  h.snapshot = (page) => page.evaluate(() => window.fieldscopeSnapshot());
  h.query = (page) => new URL(page.url()).search.replace(/^\?/, "");
  // Waits until nothing is pending (the snapshot's busy flag).
  h.settle = (page, ms = timeout) => page.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: ms, polling: 200 });
  // A site built without the threaded variant answers the page's probe for it with a 404: not an error.
  const threaded = existsSync(path.join(site, "fieldscope-web-mt.js"));
  // Opens the explorer on a link (query text) and waits for its jobs; console errors are collected.
  h.open = async (query, size = { width: 1280, height: 800 }, at = base) => {
    const page = await browser.newPage({ viewport: size });
    const errors = [];
    page.on("console", (m) => {
      if (m.type() === "error" && (threaded || !/Failed to load resource.*404/.test(m.text()))) errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss(); });
    await page.goto(at + (query ? "?" + query : ""));
    await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
    await h.settle(page);
    return { page, errors };
  };
  h.finish = async (label, error) => {
    if (error) { h.failed++; console.log("FAIL: " + (error.stack || error)); }
    await browser.close();
    server.kill();
    console.log(`${label}: ${h.passed} passed, ${h.failed} failed`);
    process.exit(h.failed ? 1 : 0);
  };
  return h;
}
