// Browser end-to-end test of the web build in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the page loads without console errors and renders; a click on the phase diagram
// changes the parameters in the URL; a share link reopens with identical numbers; the numbers equal
// the native CLI's for the same scene; a hostile link is handled.
//   node tests/e2e/explorer.mjs SITE_DIR CLI [SCREENSHOT_DIR]
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";

const [site, cli, shots] = process.argv.slice(2);
let passed = 0, failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else { failed++; console.log(`FAIL: ${name} ${detail}`); }
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const port = await freePort();
const root = path.dirname(path.dirname(path.dirname(new URL(import.meta.url).pathname)));
const server = spawn("python3", [path.join(root, "scripts", "serve.py"), "--port", String(port), "--dir", site], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((resolve) => server.stdout.once("data", resolve));
const base = `http://127.0.0.1:${port}/`;

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});

async function open(query, size = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport: size });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss(); });
  await page.goto(base + (query ? "?" + query : ""));
  await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
  // Let the jobs finish (the snapshot says when nothing is pending).
  await page.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 120000, polling: 200 });
  return { page, errors };
}
const snapshot = (page) => page.evaluate(() => window.fieldscopeSnapshot());
const query = (page) => new URL(page.url()).search.replace(/^\?/, "");

try {
  // 1. Loads and renders.
  const { page, errors } = await open("v=1&act=tanh&w2=1.5&b2=0.05");
  const png = await page.screenshot();
  if (shots) { mkdirSync(shots, { recursive: true }); await page.screenshot({ path: path.join(shots, "phase.png") }); }
  check("no console errors", errors.length === 0, JSON.stringify(errors));
  check("canvas rendered (screenshot not blank)", png.length > 60000, `png bytes ${png.length}`);
  const s1 = await snapshot(page);
  check("tanh (1.5, 0.05) q* on screen", Math.abs(s1.q_star - 0.418037) < 2e-6, JSON.stringify(s1));

  // 2. A click on the phase diagram sets (sigma_w^2, sigma_b^2) in the URL.
  const before = query(page);
  const box = await page.locator("canvas").boundingBox();
  await page.mouse.click(box.x + box.width * 0.75, box.y + box.height * 0.45);
  await page.waitForTimeout(500);
  const after = query(page);
  check("click on the phase diagram changes the link", after !== before && /w2=/.test(after), `${before} -> ${after}`);
  await page.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 60000, polling: 200 });
  const s2 = await snapshot(page);
  check("the link in the URL is the scene's", s2.link === after, `${s2.link} vs ${after}`);

  // 3. The share link reopens with identical numbers.
  const again = await open(after);
  const s3 = await snapshot(again.page);
  for (const k of ["q_star", "c_star", "chi_1", "chi_c", "xi_q", "xi_c", "lambda_max", "phase"])
    check(`reopened link: same ${k}`, JSON.stringify(s3[k]) === JSON.stringify(s2[k]), `${s3[k]} vs ${s2[k]}`);

  // 4. The browser's numbers equal the native CLI's for the same scene (to 1e-10: the two C libraries
  // round tanh and exp differently in the last bit, and xi_c = -1/ln(chi_c) amplifies that near the
  // critical line).
  const native = JSON.parse(execFileSync(cli, ["fixed-point", "--link", after]).toString());
  for (const k of ["q_star", "c_star", "chi_1", "chi_c", "xi_c", "lambda_max"]) {
    const a = s2[k], b = native[k];
    const same = typeof a === "number" ? Math.abs(a - b) <= 1e-10 * Math.max(Math.abs(a), Math.abs(b), 1e-300) : a === b;
    check(`browser == native CLI: ${k}`, same, `${a} vs ${b}`);
  }

  // 5. A hostile link: clear messages, defaults for the bad fields, nothing injected, still working.
  const hostile = await open("v=1&w2=abc&act=%3Cscript%3Ealert(1)%3C%2Fscript%3E&b2=0.3&L=99999999999&P=-4&zzz=1");
  const s5 = await snapshot(hostile.page);
  check("hostile link: no errors or dialogs", hostile.errors.length === 0, JSON.stringify(hostile.errors));
  check("hostile link: messages for the bad fields", s5.messages.length >= 4, JSON.stringify(s5.messages));
  check("hostile link: good fields kept", /b2=0\.3/.test(s5.link), s5.link);
  check("hostile link: defaults for bad fields", Math.abs(s5.q_star - JSON.parse(execFileSync(cli, ["fixed-point", "--b2", "0.3"]).toString()).q_star) < 1e-12);
  check("hostile link: no script element injected", await hostile.page.evaluate(() => document.querySelectorAll("script").length <= 3));
  if (shots) await hostile.page.screenshot({ path: path.join(shots, "hostile.png") });

  // Views, for the README.
  if (shots) {
    for (const [name, q] of [["signal", "v=1&act=tanh&w2=2.5&b2=0.05&view=signal&L=30"],
                             ["kernels", "v=1&arch=recurrent&act=tanh&w2=2&b2=0.1&L=12&P=16&view=kernels"]]) {
      const v = await open(q);
      await v.page.screenshot({ path: path.join(shots, name + ".png") });
      check(`${name} view: no console errors`, v.errors.length === 0, JSON.stringify(v.errors));
    }
  }
} catch (e) {
  failed++;
  console.log("FAIL: " + (e.stack || e));
} finally {
  await browser.close();
  server.kill();
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
