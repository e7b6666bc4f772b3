// Browser end-to-end test of the GP inference tab (app/gp_panel.cpp) in headless Chromium: predictions
// on toy sets equal the native CLI's (`fieldscope-cli gp`) to ~1e-8; deep == recurrent at a single
// readout time and different for an averaged one; the 1-D view adds a point on click, moves it on drag
// and removes it on right-click (the link carries the points); labelled CSV through the file chooser,
// a malformed file gives its line/column and keeps the data; the sigma_w^2 x depth grid equals single
// CLI runs; a hostile link is harmless; Fashion-MNIST fetched by the site equals the CLI on Debian's files.
//   node tests/e2e/gp.mjs SITE_DIR CLI [SCREENSHOT_DIR]
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { startHarness } from "./harness.mjs";

const [site, cli, shots] = process.argv.slice(2);
const h = await startHarness(site, { timeout: 240000 });
const { check, snapshot, query } = h;
const open = (link) => h.open(link);
if (shots) mkdirSync(shots, { recursive: true });

const rel = (a, b) => Math.abs(a - b) / Math.max(1e-300, Math.abs(a), Math.abs(b));
const close = (a, b, tol = 1e-8) => typeof a === "number" && typeof b === "number" && rel(a, b) <= tol;
function runCli(link, args) {
  const out = execFileSync(cli, ["gp", "--link", link, ...args], { encoding: "utf8" });
  return JSON.parse(out);
}
const gpOf = async (page) => (await snapshot(page)).gp;
const settle = (page) => h.settle(page, 240000);
const shot = async (page, name) => {
  if (!shots) return;
  await page.mouse.move(2, 798);  // no hover read-out in the picture
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, name) });
};

try {
  // --- 1. Toy sets: the browser's numbers are the CLI's ---------------------------------------------
  const cases = [
    { name: "moons, deep tanh", link: "v=1&act=tanh&w2=1.5&b2=0.05&view=gp&gd=moons&gn=200&gt=200",
      args: ["--dataset", "moons", "--train", "200", "--test", "200", "--noise", "0.1", "--sigma-n2", "0.01"], shot: "gp-moons.png" },
    { name: "xor, recurrent erf, noise 0.2, sigma_n^2 1e-3",
      link: "v=1&arch=recurrent&act=erf&w2=2&b2=0.1&L=5&view=gp&gd=xor&gn=150&gt=100&gno=0.2&gs2=0.001",
      args: ["--dataset", "xor", "--train", "150", "--test", "100", "--noise", "0.2", "--sigma-n2", "0.001"] },
    { name: "spirals, relu, averaged readout 2..6", link: "v=1&act=relu&w2=1.8&b2=0.2&L=6&view=gp&gd=spirals&gn=120&gt=80&gr=2",
      args: ["--dataset", "spirals", "--train", "120", "--test", "80", "--noise", "0.1", "--sigma-n2", "0.01", "--readout-from", "2"] },
  ];
  const evidence = {};
  for (const c of cases) {
    const { page, errors } = await open(c.link);
    const g = await gpOf(page);
    const ref = runCli(c.link, c.args);
    check(`${c.name}: no console errors`, errors.length === 0, JSON.stringify(errors));
    check(`${c.name}: fit done`, g.fit.done && g.fit.current && g.fit.status === "", JSON.stringify(g.fit));
    check(`${c.name}: accuracy = CLI`, g.fit.accuracy === ref.accuracy, `${g.fit.accuracy} vs ${ref.accuracy}`);
    check(`${c.name}: log evidence = CLI`, close(g.fit.log_evidence, ref.log_evidence), `${g.fit.log_evidence} vs ${ref.log_evidence}`);
    check(`${c.name}: MSE = CLI`, close(g.fit.mse, ref.mse), `${g.fit.mse} vs ${ref.mse}`);
    check(`${c.name}: jitter = CLI`, g.fit.jitter === ref.jitter, `${g.fit.jitter} vs ${ref.jitter}`);
    check(`${c.name}: decision surface drawn`, g.fit.surface === "ok", g.fit.surface);
    evidence[c.name] = g.fit.log_evidence;
    if (c.shot) await shot(page, c.shot);
    await page.close();
  }

  // --- 2. Deep vs recurrent: identical at a single readout time, different when averaged ------------
  {
    const base = "v=1&act=tanh&w2=1.7&b2=0.1&L=4&view=gp&gd=moons&gn=80&gt=60";
    const le = {};
    for (const arch of ["deep", "recurrent"])
      for (const gr of ["", "&gr=1"]) {
        const { page } = await open(`${base}&arch=${arch}${gr}`);
        le[arch + gr] = (await gpOf(page)).fit.log_evidence;
        await page.close();
      }
    check("single readout: deep == recurrent log evidence", close(le.deep, le.recurrent, 1e-10), JSON.stringify(le));
    check("averaged readout: deep != recurrent", rel(le["deep&gr=1"], le["recurrent&gr=1"]) > 1e-4, JSON.stringify(le));
  }

  // --- 3. 1-D regression: click adds, drag moves, right-click removes --------------------------------
  {
    const { page, errors } = await open("v=1&act=tanh&w2=1.5&b2=0.5&L=2&view=gp");
    const ratio = await page.evaluate(() => window.devicePixelRatio || 1);
    const toPixel = (g, x, y) => {
      const [x0, y0, x1, y1] = g.plot.area, [xa, xb] = g.plot.x, [ya, yb] = g.plot.y;
      return [(x0 + (x - xa) / (xb - xa) * (x1 - x0)) / ratio, (y1 - (y - ya) / (yb - ya) * (y1 - y0)) / ratio];
    };
    const rows = (link) => (new URLSearchParams(link).get("gpts") || "").split(";").filter(Boolean).map((r) => r.split(",").map(Number));
    let g = await gpOf(page);
    check("1-D: seven default points, a fit with a band", g.points === 7 && g.fit.done && typeof g.fit.log_evidence === "number", JSON.stringify(g.fit));
    const before = query(page);
    let [px, py] = toPixel(g, 0.5, 1.5);
    await page.mouse.click(px, py);
    await page.waitForTimeout(300);
    await settle(page);
    const added = query(page);
    g = await gpOf(page);
    const r1 = rows(added);
    check("1-D: a click adds a point (the link changes)", added !== before && r1.length === 8 && g.points === 8, added);
    const newest = r1[r1.length - 1] || [NaN, NaN];
    check("1-D: the new point is where the click was", Math.abs(newest[0] - 0.5) < 0.05 && Math.abs(newest[1] - 1.5) < 0.05, JSON.stringify(newest));
    const le8 = g.fit.log_evidence;
    // Drag it to (1.2, -1.2) in small steps.
    [px, py] = toPixel(g, newest[0], newest[1]);
    const [tx, ty] = toPixel(g, 1.2, -1.2);
    await page.mouse.move(px, py);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(px + (tx - px) * i / 12, py + (ty - py) * i / 12);
    await page.waitForTimeout(200);
    await page.mouse.up();
    await page.waitForTimeout(300);
    await settle(page);
    const moved = query(page);
    const r2 = rows(moved);
    const last = r2[r2.length - 1] || [NaN, NaN];
    g = await gpOf(page);
    check("1-D: dragging moves the point (still 8)", r2.length === 8 && Math.abs(last[0] - 1.2) < 0.06 && Math.abs(last[1] + 1.2) < 0.06,
          JSON.stringify(last));
    check("1-D: the other points did not move", JSON.stringify(r2.slice(0, 7)) === JSON.stringify(r1.slice(0, 7)));
    check("1-D: the fit follows the moved point", g.fit.done && g.fit.log_evidence !== le8, `${g.fit.log_evidence} vs ${le8}`);
    check("1-D: a drag on a point does not pan", JSON.stringify(g.plot.x) === JSON.stringify((await gpOf(page)).plot.x));
    if (shots) await shot(page, "gp-1d.png");
    [px, py] = toPixel(g, last[0], last[1]);
    await page.mouse.click(px, py, { button: "right" });
    await page.waitForTimeout(300);
    await settle(page);
    const removed = query(page);
    check("1-D: right-click removes the point", rows(removed).length === 7 && (await gpOf(page)).points === 7, removed);
    check("1-D: no console errors", errors.length === 0, JSON.stringify(errors));
    await page.close();
  }

  // --- 4. CSV upload through the file chooser ---------------------------------------------------------
  {
    const { page, errors } = await open("v=1&act=tanh&w2=1.5&b2=0.1&view=gp&gd=moons&gn=50&gt=50");
    const ratio = await page.evaluate(() => window.devicePixelRatio || 1);
    async function upload(name, text) {
      const g = await gpOf(page);
      const [x0, y0, x1, y1] = g.load_button;
      const chooser = page.waitForEvent("filechooser", { timeout: 10000 });
      await page.mouse.click((x0 + x1) / 2 / ratio, (y0 + y1) / 2 / ratio);
      await (await chooser).setFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
      await page.waitForTimeout(500);
      await settle(page);
      return gpOf(page);
    }
    let g = await gpOf(page);
    check("CSV: starts on moons", g.dataset === "moons" && g.train === 50, JSON.stringify(g.dataset));
    // Two Gaussian-ish blobs, deterministic.
    let text = "x1,x2,label\n";
    for (let i = 0; i < 40; i++) {
      const c = i % 2, a = i * 2.399963;
      text += `${(c ? 1 : -1) + 0.4 * Math.cos(a)},${(c ? 0.5 : -0.5) + 0.4 * Math.sin(a)},${c}\n`;
    }
    g = await upload("blobs.csv", text);
    const link = query(page);
    check("CSV: loaded message", !g.csv_failed && /Loaded 40 rows with 2 features/.test(g.csv_message), g.csv_message);
    check("CSV: the link carries the rows", /(^|&)gd=csv(&|$)/.test(link) && /gpts=/.test(link), link);
    check("CSV: 30 train / 10 test, classified", g.train === 30 && g.test === 10 && g.fit.done && g.fit.accuracy === 1, JSON.stringify(g.fit));
    check("CSV: 2-D rows drawn as a surface", g.fit.surface === "ok", g.fit.surface);
    g = await upload("bad.csv", "x1,x2,label\n1,2,0\n3,oops,1\n");
    check("CSV: malformed file names line and column", g.csv_failed && /line 3/.test(g.csv_message) && /column 2/.test(g.csv_message), g.csv_message);
    check("CSV: the data stay as they were", query(page) === link && g.train === 30, query(page));
    check("CSV: no console errors", errors.length === 0, JSON.stringify(errors));
    await page.close();
  }

  // --- 5. The sigma_w^2 x depth grid: each cell is a single CLI run ---------------------------------
  {
    const link = "v=1&act=tanh&b2=0.05&view=gp&gd=xor&gn=60&gt=60&gv=grid&gL=8";
    const { page, errors } = await open(link);
    const g = (await gpOf(page)).grid;
    check("grid: 20 sigma_w^2 columns x depths 0..8", g && g.sigma_w2.length === 20 && g.accuracy.every((c) => c.length === 9), JSON.stringify(g && g.sigma_w2));
    check("grid: critical sigma_w^2 (tanh, b2 = 0.05) ~ 1.76", g && Math.abs(g.critical_sigma_w2 - 1.76) < 0.02, g && g.critical_sigma_w2);
    for (const [col, depth] of [[5, 0], [3, 2], [14, 8]]) {
      const w2 = g.sigma_w2[col];
      // sigma_in^2 is unset in the link, so it follows sigma_w^2 in every column (docs/scene.md).
      const ref = runCli(`v=1&act=tanh&w2=${w2}&b2=0.05&L=${depth}`, ["--dataset", "xor", "--train", "60", "--test", "60", "--sigma-n2", "0.01"]);
      check(`grid (${w2.toFixed(3)}, L=${depth}): accuracy = CLI`, g.accuracy[col][depth] === ref.accuracy, `${g.accuracy[col][depth]} vs ${ref.accuracy}`);
      check(`grid (${w2.toFixed(3)}, L=${depth}): log evidence = CLI`, close(g.log_evidence[col][depth], ref.log_evidence),
            `${g.log_evidence[col][depth]} vs ${ref.log_evidence}`);
    }
    check("grid: no console errors", errors.length === 0, JSON.stringify(errors));
    await shot(page, "gp-grid.png");
    await page.close();
  }

  // --- 6. The evidence curve over sigma_n^2 ------------------------------------------------------------
  {
    const link = "v=1&act=erf&w2=1.5&b2=0.1&L=3&view=gp&gd=moons&gn=60&gt=20&gv=sweep&gsw=sn2";
    const { page } = await open(link);
    const s = (await gpOf(page)).sweep;
    check("sweep: 21 values of sigma_n^2", s && s.values.length === 21, JSON.stringify(s));
    const i = 10;
    const ref = runCli(link, ["--dataset", "moons", "--train", "60", "--test", "20", "--sigma-n2", String(s.values[i])]);
    check("sweep: a point = the CLI's log evidence", close(s.log_evidence[i], ref.log_evidence), `${s.log_evidence[i]} vs ${ref.log_evidence}`);
    await page.close();
  }

  // --- 7. A hostile link ---------------------------------------------------------------------------------
  {
    const hostile = "v=1&view=gp&gd=%3Cscript%3E&gn=-5&gt=999999&gs2=nan&gr=77&gv=%22x&gq=zz&gL=100000&gsw=__proto__" +
                    "&gpts=1,2;a,b;" + "9".repeat(400) + "&gcl=0,0,99&gds=3&gno=-1";
    const { page, errors } = await open(hostile);
    const s = await snapshot(page);
    check("hostile gp link: no console errors", errors.length === 0, JSON.stringify(errors));
    check("hostile gp link: warnings shown", s.messages.length > 0, JSON.stringify(s.messages));
    check("hostile gp link: a sane scene, not busy", !s.busy && s.gp && typeof s.gp.dataset === "string", JSON.stringify(s.gp));
    await page.close();
  }

  // --- 8. Fashion-MNIST fetched by the site = the CLI on Debian's files ------------------------------------
  {
    const link = "v=1&act=tanh&w2=1.5&b2=0.05&view=gp&gd=fashion-mnist&gn=500&gt=200&gds=2";
    const { page, errors } = await open(link);
    const g = await gpOf(page);
    check("Fashion-MNIST: loaded and solved", !g.loading && g.data_status === "" && g.fit.done && g.train === 500, JSON.stringify(g));
    const ref = runCli(link, ["--dataset", "fashion-mnist", "--train", "500", "--test", "200", "--downsample", "2", "--sigma-n2", "0.01"]);
    check("Fashion-MNIST: accuracy = CLI", g.fit.accuracy === ref.accuracy, `${g.fit.accuracy} vs ${ref.accuracy}`);
    check("Fashion-MNIST: log evidence = CLI", close(g.fit.log_evidence, ref.log_evidence), `${g.fit.log_evidence} vs ${ref.log_evidence}`);
    check("Fashion-MNIST: ten classes", g.fit.classes === 10, g.fit.classes);
    check("Fashion-MNIST: no console errors", errors.length === 0, JSON.stringify(errors));
    await shot(page, "gp-fmnist.png");
    await page.close();
  }
  await h.finish("gp e2e");
} catch (e) {
  await h.finish("gp e2e", e);
}
