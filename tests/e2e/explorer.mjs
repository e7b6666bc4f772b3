// Browser end-to-end test of the web build in headless Chromium (Debian's /usr/bin/chromium driven by
// playwright-core): the page loads without console errors and renders; a click on the phase diagram
// changes the parameters in the URL; a share link reopens with identical numbers; the numbers equal
// the native CLI's for the same scene; a hostile link is handled.
//   node tests/e2e/explorer.mjs SITE_DIR CLI [SCREENSHOT_DIR]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startHarness, serve } from "./harness.mjs";

const [site, cli, shots] = process.argv.slice(2);
const h = await startHarness(site);
const { browser, base, check, open, snapshot, query } = h;

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

  // 6. Worker threads: the isolated page runs the threaded build (when the site has it); a plain static
  // host (no COOP/COEP headers) gets the single-threaded build, with the same numbers.
  {
    const build = await page.evaluate(() => window.fieldscopeBuild);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    if (existsSync(path.join(site, "fieldscope-web-mt.js"))) {
      check("isolated page runs the threaded build", build === "threads", build);
      check("threaded build uses the cores", s1.threads === Math.min(cores, 8), `${s1.threads} threads, ${cores} cores`);
    }
    const plain = await serve(site, false);
    try {
      const p = await open("v=1&act=tanh&w2=1.5&b2=0.05", undefined, plain.base);
      const s6 = await snapshot(p.page);
      check("plain host: single-threaded build, no console errors",
            p.errors.length === 0 && s6.threads === 1 && (await p.page.evaluate(() => window.fieldscopeBuild)) === "single-thread",
            JSON.stringify({ errors: p.errors, threads: s6.threads }));
      for (const k of ["q_star", "chi_1", "xi_c"]) check(`plain host: same ${k} as the isolated page`, s6[k] === s1[k], `${s6[k]} vs ${s1[k]}`);
      await p.page.close();
    } finally {
      plain.server.kill();
    }
  }

  // --- 7. Kernels: deep vs recurrent, CSV inputs (picker, drop), touch ------------------------------
  {
    const settle = (p) => p.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 120000, polling: 200 });
    // The "Load CSV..." button's rectangle comes from the snapshot (ImGui pixels = CSS pixels x ratio).
    async function upload(p, name, text) {
      const s = await snapshot(p);
      const ratio = await p.evaluate(() => window.devicePixelRatio || 1);
      const [x0, y0, x1, y1] = s.inputs.load_button;
      const chooser = p.waitForEvent("filechooser", { timeout: 10000 });
      await p.mouse.click((x0 + x1) / 2 / ratio, (y0 + y1) / 2 / ratio);
      await (await chooser).setFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
      await p.waitForTimeout(400);
      await settle(p);
      return snapshot(p);
    }
    const near = (a, b, tol) => typeof a === "number" && Math.abs(a - b) <= tol;

    // docs/theory.md §4.3 reference: tanh, sigma_w^2 = 2, sigma_b^2 = 0.1, T = 5, shared bias, input at t = 0,
    // an input with G_11 = 0.6 (so K^00 = 2 * 0.6 + 0.1 = 1.3); values to 5 significant digits.
    const scene = "v=1&arch=recurrent&act=tanh&w2=2&b2=0.1&L=5&nw=8&nb=8&view=kernels&kv=compare";  // small phase grid: not needed here
    const k = await open(scene);
    const before = await snapshot(k.page);
    const sqrt06 = Math.sqrt(0.6);
    const s7 = await upload(k.page, "pair.csv", `# two inputs in R^1\nx\n${sqrt06}\n1.2\n`);
    const link7 = query(k.page);
    check("CSV upload: link carries the points", /(^|&)x=points(&|$)/.test(link7) && link7.includes("pts=" + String(sqrt06) + ";1.2"), link7);
    check("CSV upload: message says loaded", !s7.inputs.csv_failed && /Loaded 2 inputs/.test(s7.inputs.csv_message), s7.inputs.csv_message);
    check("CSV upload: kernel numbers changed", JSON.stringify(s7.kernels.recurrent_aa) !== JSON.stringify(before.kernels.recurrent_aa),
          JSON.stringify([before.kernels.recurrent_aa, s7.kernels.recurrent_aa]));
    const ref = [1.3, 0.98439, 0.88287, 0.84349, 0.82709, 0.82006];
    const kr = s7.kernels.recurrent_aa || [], kd = s7.kernels.deep_aa || [];
    check("recurrent K^tt_11 = docs/theory.md §4.3 reference", ref.every((v, t) => near(kr[t], v, 6e-6)), JSON.stringify(kr));
    check("deep K^l_11 = the same reference", ref.every((v, l) => near(kd[l], v, 6e-6)), JSON.stringify(kd));
    const lag1 = s7.kernels.recurrent_lag1_aa || [];
    check("recurrent K^21, K^54 = reference 0.16793, 0.33241", near(lag1[1], 0.16793, 6e-6) && near(lag1[4], 0.33241, 6e-6), JSON.stringify(lag1));
    check("input at t = 0: deep == recurrent equal-time kernels (docs/theory.md §4.2)",
          s7.kernels.max_abs_diff <= 1e-12 * s7.kernels.max_abs_kernel, `${s7.kernels.max_abs_diff} of ${s7.kernels.max_abs_kernel}`);
    if (shots) await k.page.screenshot({ path: path.join(shots, "kernels-compare.png") });

    // The same link reopened: identical numbers; with input at every step they differ, first by
    // sigma_in^2 G_11 = 2 * 0.6 at t = 1 (K^11 adds the input term, K^00 is shared).
    const again7 = await open(link7);
    check("CSV link reopens with identical kernels", JSON.stringify((await snapshot(again7.page)).kernels) === JSON.stringify(s7.kernels));
    await again7.page.close();
    const every = await open(link7 + "&in=every");
    const se = await snapshot(every.page);
    const de = (se.kernels.recurrent_aa || [])[1] - (se.kernels.deep_aa || [])[1];
    check("input at every step: kernels differ", se.kernels.max_abs_diff > 0.5, String(se.kernels.max_abs_diff));
    check("input at every step: K^11 difference = sigma_in^2 G_11 = 1.2", near(de, 1.2, 1e-12), String(de));
    check("input at every step: K^00 equal", near(se.kernels.recurrent_aa[0] - se.kernels.deep_aa[0], 0, 1e-14));
    if (shots) await every.page.screenshot({ path: path.join(shots, "kernels-compare-every.png") });
    check("compare view (every step): no console errors", every.errors.length === 0, JSON.stringify(every.errors));
    await every.page.close();

    // A malformed file: the parser's sentence (with the line), inputs and link unchanged, still working.
    const bad = await upload(k.page, "ragged.csv", "1,2\n3\n");
    check("malformed CSV: message names the line", bad.inputs.csv_failed && /line 2/.test(bad.inputs.csv_message), bad.inputs.csv_message);
    check("malformed CSV: link unchanged", query(k.page) === link7, query(k.page));
    // Too large for a link: refused with a sentence, link unchanged.
    const rows = Array.from({ length: 3000 }, (_, i) => `${Math.sin(i) / 7},${Math.cos(i) / 3},${i / 3001}`).join("\n");
    const big = await upload(k.page, "big.csv", rows);
    check("CSV too large for a link: refused", big.inputs.csv_failed && /32000/.test(big.inputs.csv_message), big.inputs.csv_message);
    check("CSV too large for a link: link unchanged", query(k.page) === link7);
    // A file dropped on the canvas goes the same way.
    await k.page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["0.5,0\n0,0.5\n0.3,0.4\n"], "drop.csv", { type: "text/csv" }));
      document.getElementById("canvas").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await k.page.waitForTimeout(400);
    await settle(k.page);
    const dropped = await snapshot(k.page);
    check("dropped CSV: link carries its points", query(k.page).includes("pts=0.5,0;0,0.5;0.3,0.4") && dropped.inputs.count === 3, query(k.page));
    check("CSV uploads: no console errors", k.errors.length === 0, JSON.stringify(k.errors));
    await k.page.close();

    // Touch: a tap on the phase diagram sets the parameters like a click; a pinch zooms about its
    // centre (a tap at the same place afterwards reads the zoomed axis); one finger drags a slider.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true });
    const tp = await context.newPage();
    const terrors = [];
    tp.on("console", (m) => { if (m.type() === "error") terrors.push(m.text()); });
    tp.on("pageerror", (e) => terrors.push(String(e)));
    await tp.goto(base + "?v=1&act=tanh&w2=1.5&b2=0.05&nw=16&nb=16");
    await tp.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
    await settle(tp);
    const tbox = await tp.locator("canvas").boundingBox();
    const w2 = (q) => Number(new URLSearchParams(q).get("w2"));
    const Q = { x: tbox.x + tbox.width * 0.55, y: tbox.y + tbox.height * 0.5 };
    const P = { x: tbox.x + tbox.width * 0.8, y: tbox.y + tbox.height * 0.4 };
    const q0 = query(tp);
    await tp.touchscreen.tap(Q.x, Q.y);
    await tp.waitForTimeout(600);
    const qQ = query(tp);
    check("touch: a tap on the phase diagram changes the link", qQ !== q0 && /w2=/.test(qQ), `${q0} -> ${qQ}`);
    await tp.touchscreen.tap(P.x, P.y);
    await tp.waitForTimeout(600);
    const qP = query(tp);
    const cdp = await context.newCDPSession(tp);
    const touch = (type, points) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: points });
    // Fingers 40 px apart, then 200 px: a 5x zoom in about Q, so the tap at P now reads
    // w2(Q) + (w2(P) - w2(Q)) / 5 (the plots keep the value under the zoom centre fixed).
    await touch("touchStart", [{ x: Q.x - 20, y: Q.y, id: 1 }, { x: Q.x + 20, y: Q.y, id: 2 }]);
    for (let i = 1; i <= 8; ++i) {
      await touch("touchMove", [{ x: Q.x - 20 - 10 * i, y: Q.y, id: 1 }, { x: Q.x + 20 + 10 * i, y: Q.y, id: 2 }]);
      await tp.waitForTimeout(40);
    }
    await touch("touchEnd", []);
    await tp.waitForTimeout(600);
    check("touch: a pinch does not click", query(tp) === qP, `${qP} -> ${query(tp)}`);
    if (shots) await tp.screenshot({ path: path.join(shots, "touch-pinched.png") });
    await tp.touchscreen.tap(P.x, P.y);
    await tp.waitForTimeout(600);
    const expected = w2(qQ) + (w2(qP) - w2(qQ)) / 5;
    check("touch: a pinch zooms 5x about its centre", Math.abs(w2(query(tp)) - expected) < 0.01 * (w2(qP) - w2(qQ)),
          `w2 ${w2(query(tp))}, expected ${expected} (w2 at Q ${w2(qQ)}, at P before ${w2(qP)})`);
    // One finger drags the "pair a" slider from its left end to its right end: ia becomes P - 1 = 7.
    const [sx0, sy0, sx1, sy1] = (await snapshot(tp)).inputs.pair_a_slider;
    const ys = (sy0 + sy1) / 2;
    await touch("touchStart", [{ x: sx0 + 4, y: ys }]);
    for (let i = 1; i <= 10; ++i) { await touch("touchMove", [{ x: sx0 + 4 + (sx1 - sx0) * i / 10, y: ys }]); await tp.waitForTimeout(40); }
    await touch("touchEnd", []);
    await tp.waitForTimeout(600);
    check("touch: one finger drags a slider", /(^|&)ia=7(&|$)/.test(query(tp)), query(tp));
    // The mouse wheel: one notch up (deltaY = -100 px) zooms in by the plots' step 0.85 about the
    // mouse (Emscripten's GLFW alone would pass 100 notches, the wrong way round).
    await tp.touchscreen.tap(Q.x, Q.y);
    await tp.waitForTimeout(600);
    const qQ2 = query(tp);
    await tp.touchscreen.tap(P.x, P.y);
    await tp.waitForTimeout(600);
    const qP2 = query(tp);
    await tp.mouse.move(Q.x, Q.y);
    await tp.mouse.wheel(0, -100);
    await tp.waitForTimeout(600);
    await tp.touchscreen.tap(P.x, P.y);
    await tp.waitForTimeout(600);
    const wheeled = w2(qQ2) + (w2(qP2) - w2(qQ2)) * 0.85;
    check("wheel: one notch zooms by 0.85 about the mouse", Math.abs(w2(query(tp)) - wheeled) < 0.01 * (w2(qP2) - w2(qQ2)),
          `w2 ${w2(query(tp))}, expected ${wheeled}`);
    check("touch: no console errors", terrors.length === 0, JSON.stringify(terrors));
    await context.close();
  }
  // --- end of 7. ---------------------------------------------------------------------------------------

  // --- 8. Plot exports: each plot's "CSV" and "PNG" buttons download its data and its picture --------
  // PNG: the signature, the plot's size in device pixels and the same picture as the page shows there
  // (decoded here and compared with a screenshot of that rectangle: a wrong y flip or HiDPI scale shows
  // up as a mismatch); CSV: parseable, one row per heat-map cell / per layer. Device pixel ratios 1, 2.
  {
    const { readFileSync } = await import("node:fs");
    const { inflateSync } = await import("node:zlib");
    const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
    // A small PNG decoder (8-bit RGB or RGBA, not interlaced: what stb_image_write and Chromium write).
    function decodePng(buf) {
      if (!buf.subarray(0, 8).equals(signature)) throw new Error("not a PNG");
      let at = 8, width = 0, height = 0, depth = 0, type = 0, interlace = 0;
      const idat = [];
      while (at + 12 <= buf.length) {
        const length = buf.readUInt32BE(at), kind = buf.toString("ascii", at + 4, at + 8), data = buf.subarray(at + 8, at + 8 + length);
        if (kind === "IHDR") [width, height, depth, type, interlace] = [data.readUInt32BE(0), data.readUInt32BE(4), data[8], data[9], data[12]];
        else if (kind === "IDAT") idat.push(data);
        at += 12 + length;
      }
      if (depth !== 8 || (type !== 6 && type !== 2) || interlace) throw new Error(`unsupported PNG (depth ${depth}, type ${type})`);
      const bpp = type === 6 ? 4 : 3, stride = width * bpp, raw = inflateSync(Buffer.concat(idat));
      const pixels = Buffer.alloc(width * height * 4);
      let prev = Buffer.alloc(stride);
      for (let y = 0; y < height; ++y) {
        const filter = raw[y * (stride + 1)], line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
        for (let i = 0; i < stride; ++i) {
          const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter];
          line[i] = (line[i] + predictor) & 255;
        }
        for (let x = 0; x < width; ++x) for (let k = 0; k < 4; ++k) pixels[(y * width + x) * 4 + k] = k < bpp ? line[x * bpp + k] : 255;
        prev = line;
      }
      return { width, height, pixels };
    }
    // Share of pixels (over the common area) whose colour differs by more than 32 in some channel.
    function mismatch(p, q) {
      const w = Math.min(p.width, q.width), h = Math.min(p.height, q.height);
      let bad = 0;
      for (let y = 0; y < h; ++y)
        for (let x = 0; x < w; ++x) {
          const i = (y * p.width + x) * 4, j = (y * q.width + x) * 4;
          if (Math.max(Math.abs(p.pixels[i] - q.pixels[j]), Math.abs(p.pixels[i + 1] - q.pixels[j + 1]), Math.abs(p.pixels[i + 2] - q.pixels[j + 2])) > 32) ++bad;
        }
      return bad / (w * h);
    }
    // Clicks a button whose rectangle [x, y, w, h] is in ImGui pixels (CSS pixels x ratio); the download.
    async function download(p, rect, ratio) {
      const pending = p.waitForEvent("download", { timeout: 15000 });
      await p.mouse.click((rect[0] + rect[2] / 2) / ratio, (rect[1] + rect[3] / 2) / ratio);
      const d = await pending;
      return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
    }
    async function exportPlot(p, id, ratio, label, file = `fieldscope-${id}`) {
      const plot = ((await snapshot(p)).plots || {})[id];
      check(`${label}: ${id} is in the snapshot`, !!plot, JSON.stringify(Object.keys((await snapshot(p)).plots || {})));
      if (!plot) return null;
      const png = await download(p, plot.png, ratio);
      check(`${label}: PNG file name`, png.name === `${file}.png`, png.name);
      check(`${label}: PNG signature`, png.bytes.subarray(0, 8).equals(signature), png.bytes.subarray(0, 8).toString("hex"));
      let image = null;
      try { image = decodePng(png.bytes); } catch (e) { check(`${label}: PNG decodes`, false, String(e)); }
      if (image) {
        const [, , w, h] = plot.frame;
        check(`${label}: PNG is the plot's size in pixels`, Math.abs(image.width - w) <= 1 && Math.abs(image.height - h) <= 1,
              `${image.width}x${image.height} vs ${w}x${h}`);
        await p.mouse.move(2, 798);  // off the plot: no hover read-out in the screenshot
        await p.waitForTimeout(300);
        const shot = decodePng(await p.screenshot({ clip: { x: plot.frame[0] / ratio, y: plot.frame[1] / ratio, width: w / ratio, height: h / ratio } }));
        const share = mismatch(image, shot);
        check(`${label}: PNG shows what the page shows there`, share < 0.02, `${(100 * share).toFixed(2)}% of pixels differ`);
      }
      const csv = await download(p, plot.csv, ratio);
      check(`${label}: CSV file name`, csv.name === `${file}.csv`, csv.name);
      return csv.bytes.toString("utf8").replace(/\n$/, "").split("\n").map((line) => line.split(","));
    }
    const numeric = (field) => field === "" || field === "inf" || field === "-inf" || Number.isFinite(Number(field));
    for (const ratio of [1, 2]) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: ratio, acceptDownloads: true });
      const p = await context.newPage();
      const errors = [];
      p.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      p.on("pageerror", (e) => errors.push(String(e)));
      // A 32 x 24 grid: quick to compute, and not square, so columns and rows cannot be confused.
      await p.goto(base + "?v=1&act=tanh&w2=1.5&b2=0.05&nw=32&nb=24");
      await p.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
      await p.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 120000, polling: 200 });
      const label = `export (pixel ratio ${ratio})`;
      const rows = await exportPlot(p, "phase-map", ratio, label, "fieldscope-phase-chi1");
      if (rows) {
        check(`${label}: heat-map CSV has x, y, value columns`, rows[0].length === 3 && rows[0][2] === "chi1", JSON.stringify(rows[0]));
        check(`${label}: heat-map CSV has one row per cell of the 32 x 24 grid`, rows.length - 1 === 32 * 24, `${rows.length - 1} rows`);
        check(`${label}: heat-map CSV fields are numbers`, rows.slice(1).every((r) => r.length === 3 && r.every(numeric)));
        const xs = new Set(rows.slice(1).map((r) => r[0])), ys = new Set(rows.slice(1).map((r) => r[1]));
        check(`${label}: heat-map CSV cell centres span the axes`, xs.size === 32 && ys.size === 24 && Math.min(...[...xs].map(Number)) === 0.5 &&
              Math.max(...[...xs].map(Number)) === 4 && Math.max(...[...ys].map(Number)) === 1, `${xs.size} x ${ys.size}`);
        // The cell at the scene's point agrees with the CLI's chi_1 there (nearest grid cell: sigma_w^2 = 1.5
        // is column (1.5 - 0.5) / 3.5 * 31 = 8.86 -> 9 at 1.5161, sigma_b^2 = 0.05 is row 1.15 -> 1 at 0.0435).
        const cell = rows.find((r) => Math.abs(Number(r[0]) - (0.5 + 3.5 * 9 / 31)) < 1e-12 && Math.abs(Number(r[1]) - 1 / 23) < 1e-12);
        const chi = cell && JSON.parse(execFileSync(cli, ["fixed-point", "--w2", cell[0], "--b2", cell[1]]).toString()).chi_1;
        check(`${label}: heat-map CSV value = CLI chi_1 at that cell`, cell && Math.abs(Number(cell[2]) - chi) <= 1e-10 * chi, `${cell} vs ${chi}`);
      }
      if (shots && ratio === 1) await p.screenshot({ path: path.join(shots, "export-phase.png") });
      if (ratio === 1) {
        await p.goto(base + "?v=1&act=tanh&w2=2.5&b2=0.05&view=signal&L=30");
        await p.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
        await p.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 120000, polling: 200 });
        await p.waitForTimeout(300);
        const line = await exportPlot(p, "c-layers", ratio, "export (line plot)");
        if (line) {
          check("export (line plot): CSV header is x label, series label", line[0].join(",") === "layer l,c^l", line[0].join(","));
          check("export (line plot): one row per layer 0..30", line.length === 32 && line.slice(1).every((r, l) => Number(r[0]) === l), `${line.length - 1} rows`);
          check("export (line plot): correlations in [-1, 1]", line.slice(1).every((r) => Math.abs(Number(r[1])) <= 1 + 1e-12));
        }
      }
      check(`${label}: no console errors`, errors.length === 0, JSON.stringify(errors));
      await context.close();
    }
  }
  // --- end of 8. ---------------------------------------------------------------------------------------

  // --- 9. Dragging sliders: the final numbers are those of the final scene ---------------------------
  // The mouse drags the phase diagram's "grid" slider across its range (every step is a new scene that
  // restarts the diagram) and then the sigma_w^2 slider; after the release the grid's sample cells and
  // the fixed point equal the native CLI's for the link the page ends on, and the page settles in the
  // time of one scene's jobs (older scenes' jobs are dropped, not queued).
  {
    const { page: dp, errors } = await open("v=1&act=tanh&w2=1.5&b2=0.05");
    const ratio = await dp.evaluate(() => window.devicePixelRatio || 1);
    async function drag(name, from, to) {
      const [x0, y0, x1, y1] = (await snapshot(dp)).controls[name];
      const y = (y0 + y1) / 2 / ratio, x = (f) => (x0 + (x1 - x0) * f) / ratio;
      await dp.mouse.move(x(from), y);
      await dp.mouse.down();
      for (let i = 1; i <= 20; ++i) { await dp.mouse.move(x(from + (to - from) * i / 20), y); await dp.waitForTimeout(30); }
      await dp.mouse.up();
      const t0 = Date.now();
      await dp.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 60000, polling: 100 });
      return Date.now() - t0;
    }
    const same = (a, b) => (typeof a === "number" && typeof b === "number")
      ? Math.abs(a - b) <= 1e-10 * Math.max(Math.abs(a), Math.abs(b), 1e-300) : a === b;
    const settleGrid = await drag("grid_slider", 0.02, 0.93);
    const sg = await snapshot(dp);
    const link = query(dp);
    check("drag: the grid slider changed the scene", /(^|&)nw=(\d+)/.test(link) && sg.phase_grid && sg.phase_grid.columns > 150,
          `${link} ${JSON.stringify(sg.phase_grid && sg.phase_grid.columns)}`);
    check("drag: settles within 10 s of the release", settleGrid < 10000, `${settleGrid} ms`);
    if (sg.phase_grid) {
      const grid = JSON.parse(execFileSync(cli, ["phase", "--link", link], { maxBuffer: 1 << 28 }).toString());
      const bad = [];
      for (const c of sg.phase_grid.cells)
        for (const k of ["chi_1", "xi_c", "q_star", "c_star"])
          if (!same(c[k], grid[k][c.row][c.column])) bad.push(`${k}[${c.row}][${c.column}] ${c[k]} vs ${grid[k][c.row][c.column]}`);
      check("drag: the final phase grid is the final scene's (16 cells vs the CLI)", bad.length === 0 && sg.phase_grid.cells.length === 16,
            bad.join("; "));
    }
    const settleW2 = await drag("sigma_w2_slider", 0.1, 0.6);
    const sw = await snapshot(dp);
    const native = JSON.parse(execFileSync(cli, ["fixed-point", "--link", query(dp)]).toString());
    const bad = ["q_star", "c_star", "chi_1", "chi_c", "xi_c", "lambda_max"].filter((k) => !same(sw[k], native[k]));
    check("drag: the final fixed point is the final scene's (vs the CLI)", bad.length === 0 && sw.link === query(dp),
          bad.map((k) => `${k} ${sw[k]} vs ${native[k]}`).join("; "));
    check("drag: sigma_w^2 settles within 10 s of the release", settleW2 < 10000, `${settleW2} ms`);
    check("drag: no console errors", errors.length === 0, JSON.stringify(errors));
    await dp.close();
  }

  // Views, for the README.
  if (shots) {
    for (const [name, q] of [["signal", "v=1&act=tanh&w2=2.5&b2=0.05&view=signal&L=30"],
                             ["kernels", "v=1&arch=recurrent&act=tanh&w2=2&b2=0.1&L=12&P=16&view=kernels"]]) {
      const v = await open(q);
      await v.page.screenshot({ path: path.join(shots, name + ".png") });
      check(`${name} view: no console errors`, v.errors.length === 0, JSON.stringify(v.errors));
    }
  }
  await h.finish("e2e");
} catch (e) {
  await h.finish("e2e", e);
}
