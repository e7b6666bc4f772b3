// Web build benchmark: download size (gzipped); in headless Chromium, the default scene's first frame
// and the time until every job is done; a 256 x 256 tanh phase diagram left alone; frame times while
// the mouse moves and a long job computes, against the same page idle (the peer measured in the
// same run: in headless Chromium, WebGL is software-rendered, so the idle frame time is the floor);
// the long job (a 1024 x 1024 tanh phase diagram) in the page against the same job in the wasm command
// line under node, for the single-threaded build (plain host) and the threaded one (isolated page).
//   node bench/web.mjs SITE_DIR
import { chromium } from "playwright-core";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createServer } from "node:net";
import path from "node:path";

const site = process.argv[2];
// A page downloads one of the two builds: the threaded one (fieldscope-web-mt.*, with its worker
// script) when cross-origin isolated, the single-threaded one otherwise.
const sizes = { "single-thread": [0, 0], threaded: [0, 0] };
for (const f of readdirSync(site)) {
  if (!/\.(wasm|js|data|html)$/.test(f)) continue;
  const bytes = readFileSync(path.join(site, f));
  const builds = f === "index.html" ? ["single-thread", "threaded"] : [f.startsWith("fieldscope-web-mt") ? "threaded" : "single-thread"];
  for (const b of builds) {
    sizes[b][0] += bytes.length;
    sizes[b][1] += gzipSync(bytes, { level: 9 }).length;
  }
}
const port = await new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); }); });
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const server = spawn("python3", [path.join(root, "scripts", "serve.py"), "--port", String(port), "--dir", site], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise((resolve) => server.stdout.once("data", resolve));
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });

async function frameTimes(ms) {
  return page.evaluate((ms) => new Promise((resolve) => {
    const times = [];
    let last = performance.now();
    const start = last;
    function tick(now) {
      times.push(now - last);
      last = now;
      if (now - start < ms) requestAnimationFrame(tick); else resolve(times);
    }
    requestAnimationFrame(tick);
  }), ms);
}
const stats = (t) => {
  const s = [...t].sort((a, b) => a - b);
  return { frames: t.length, median: s[Math.floor(s.length / 2)], p95: s[Math.floor(s.length * 0.95)], worst: s[s.length - 1] };
};

// The default scene (no link): first frame, then every job done.
const t00 = Date.now();
await page.goto(`http://127.0.0.1:${port}/`);
await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
const defaultFirstFrame = Date.now() - t00;
await page.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 900000, polling: 50 });
const defaultDone = Date.now() - t00;
const build = await page.evaluate(() => window.fieldscopeBuild);

// A 256 x 256 tanh phase diagram left alone (no input: the frame pacer gives the jobs most of the time).
const t0 = Date.now();
await page.goto(`http://127.0.0.1:${port}/?v=1&nw=256&nb=256`);
await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
const firstFrame = Date.now() - t0;
await page.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 900000, polling: 200 });
const done = Date.now() - t0;

// Frame times while the user moves the mouse over the controls (every pass then draws: the pacer's
// interactive mode), first while a long job computes (a 1024 x 1024 tanh phase diagram: about 3 s on one
// native thread), then with nothing pending.
const longJob = "v=1&act=tanh&nw=1024&nb=1024";
async function frameTimesWhileMoving(ms) {
  const times = frameTimes(ms);
  const end = Date.now() + ms;
  for (let i = 0; Date.now() < end; ++i) {
    await page.mouse.move(100 + (i % 50) * 2, 300 + (i % 7));
    await new Promise((r) => setTimeout(r, 30));
  }
  return times;
}
await page.goto(`http://127.0.0.1:${port}/?${longJob}`);
await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
const busy = stats(await frameTimesWhileMoving(8000));
const progress = await page.evaluate(() => window.fieldscopeSnapshot().busy);
await page.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 900000, polling: 500 });
const idle = stats(await frameTimesWhileMoving(4000));
server.kill();

// A long job in the page against the same job in the wasm command line under node (its start-up, timed
// on a command that computes nothing, is subtracted; the page is timed from its first frame).
async function pageJob(isolated) {
  const p = await new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const q = s.address().port; s.close(() => resolve(q)); }); });
  const srv = spawn("python3", [path.join(root, "scripts", "serve.py"), "--port", String(p), "--dir", site, ...(isolated ? [] : ["--no-isolation"])],
                    { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve) => srv.stdout.once("data", resolve));
  const pg = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await pg.goto(`http://127.0.0.1:${p}/?${longJob}`);
  await pg.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
  const t = Date.now();
  await pg.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 900000, polling: 50 });
  const seconds = (Date.now() - t) / 1000;
  const info = await pg.evaluate(() => ({ build: window.fieldscopeBuild, threads: window.fieldscopeSnapshot().threads }));
  await pg.close();
  srv.kill();
  return { seconds, ...info };
}
function cliJob(js) {
  const time = (args) => {
    const t = process.hrtime.bigint();
    const r = spawnSync("node", ["--no-experimental-fetch", js, ...args, "--link", longJob], { maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`${js} ${args.join(" ")}: exit ${r.status}`);
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const startup = Math.min(time(["scene"]), time(["scene"]));
  return Math.min(time(["phase"]), time(["phase"])) - startup;
}
const longJobs = [];
for (const [isolated, js] of [[false, path.join(root, "build", "wasm", "fieldscope-cli.js")], [true, path.join(root, "build", "wasm-mt", "fieldscope-cli.js")]]) {
  if (!existsSync(js)) { longJobs.push(`  ${path.relative(root, js)} missing: not compared`); continue; }
  const pj = await pageJob(isolated);
  const cj = cliJob(js);
  const ratio = pj.seconds / cj;
  longJobs.push(`  ${pj.build} build, ${pj.threads} thread(s): page ${pj.seconds.toFixed(2)} s, command line ${cj.toFixed(2)} s: ${ratio.toFixed(2)}x; ` +
                `target <= 1.2x ${ratio <= 1.2 ? "met" : "MISSED"}`);
}
await browser.close();

for (const [b, [raw, gz]] of Object.entries(sizes))
  if (raw > 0) console.log(`Web build (${b}): ${(raw / 1e6).toFixed(2)} MB, ${(gz / 1e6).toFixed(2)} MB gzipped (wasm + js + html; the font is embedded in the wasm)`);
console.log(`Default scene (${build} build): first frame ${defaultFirstFrame} ms, every job done ${defaultDone} ms after navigation; target 1500 ms ${defaultDone <= 1500 ? "met" : "MISSED"}`);
console.log(`Time to first frame (headless Chromium, SwiftShader WebGL2): ${firstFrame} ms`);
console.log(`256 x 256 tanh phase diagram, left alone: finished ${(done / 1000).toFixed(1)} s after load`);
console.log(`Frame time while a 1024 x 1024 tanh diagram computes${progress ? "" : " (it finished within the 8 s)"}, the mouse moving: median ${busy.median.toFixed(1)} ms, p95 ${busy.p95.toFixed(1)} ms, worst ${busy.worst.toFixed(1)} ms (${busy.frames} frames)`);
console.log(`Frame time idle, the mouse moving (same page):  median ${idle.median.toFixed(1)} ms, p95 ${idle.p95.toFixed(1)} ms, worst ${idle.worst.toFixed(1)} ms`);
console.log(`Worst frame while computing / idle median: ${(busy.worst / idle.median).toFixed(2)}x; target: worst frame < 50 ms ${busy.worst < 50 ? "met" : "MISSED (software rendering alone takes the idle median)"}`);
console.log(`A long job, the 1024 x 1024 tanh phase diagram (plus the page's other views), in the page (from its first frame) and in the wasm command line under node (start-up subtracted):`);
for (const line of longJobs) console.log(line);
