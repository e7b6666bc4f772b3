// Browser end-to-end test of the "Finite width" tab (app/ensemble_panel.cpp) in headless Chromium: each
// view (ev = hist, width, sweep, cross, chaos) opens from a link without console errors and settles; the
// numbers on screen equal the native CLI's `fieldscope-cli ensemble` for the same pair scene (the
// ensembles are deterministic: same counter-based streams natively and in wasm); the Monte Carlo agrees
// with the 1/N theory within 4 standard errors where the theory applies; a hostile link and a too-large
// request give clear messages and the page keeps working; Cancel stops a long run.
//   node tests/e2e/ensemble.mjs SITE_DIR CLI [SCREENSHOT_DIR]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startHarness } from "./harness.mjs";

const [site, cli, shots] = process.argv.slice(2);
const h = await startHarness(site, { timeout: 600000 });
const { check, snapshot } = h;
if (shots) mkdirSync(shots, { recursive: true });

// Native and wasm draw the same random numbers; tanh/exp may differ in the last bit, and the statistics
// sum thousands of values: equal to 1e-8 relative.
const close = (a, b, rel = 1e-8) =>
  (a === null && b === null) || (typeof a === "number" && typeof b === "number" && Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b)) + 1e-300);
const STAT_KEYS = ["mean_field", "mean", "mean_se", "variance", "variance_se", "mse", "mse_se", "n_variance", "n_shift"];

const cliCache = new Map();
function runCli(point, extra = []) {
  const args = ["ensemble", "--link", point.link, "-N", String(point.width), "-M", String(point.members), "--sampler", point.sampler,
                "--precision", point.precision, ...extra];
  const key = args.join(" ");
  if (!cliCache.has(key)) cliCache.set(key, JSON.parse(execFileSync(cli, args, { maxBuffer: 1 << 28 }).toString()));
  return cliCache.get(key);
}
// The CLI's entry of the pair at the last layer: aa = (0, 0), ab = (1, 0) in the pair numbering.
function cliEntry(native, key) {
  const layer = native.layers[native.layers.length - 1];
  const list = layer[key.startsWith("aux") ? "aux" : "gram"];
  const [a, b] = key.endsWith("_aa") ? [0, 0] : [1, 0];
  return list.find((e) => e.a === a && e.b === b);
}
function compareEntry(label, mine, native, theory = true) {
  const bad = STAT_KEYS.filter((k) => !close(mine[k], native[k]));
  // D to 1e-9; m comes from second differences of the quadrature (docs/theory.md §8.3, step 1e-3), which turn
  // last-bit differences of tanh/exp between the two C libraries into ~1e-8 relative: 1e-6.
  if (theory) {
    if (!close(mine.theory_n_variance, native.theory_n_variance, 1e-9)) bad.push("theory_n_variance");
    if (!close(mine.theory_n_shift, native.theory_n_shift, 1e-6)) bad.push("theory_n_shift");
  }
  check(`${label}: browser == native CLI`, bad.length === 0,
        bad.map((k) => `${k}: ${mine[k]} vs ${native[k]}`).join("; "));
}
// Monte Carlo against the 1/N theory: N Var vs D and N (mean - C-bar) vs m, within 4 standard errors.
function withinTheory(label, e) {
  if (e.theory_n_variance !== null) {
    const z = Math.abs(e.n_variance - e.theory_n_variance) / e.n_variance_se;
    console.log(`  ${label}: N Var ${e.n_variance.toFixed(4)} ± ${e.n_variance_se.toFixed(4)} vs D ${e.theory_n_variance.toFixed(4)} (${z.toFixed(2)} SE)`);
    check(`${label}: N Var ${e.n_variance.toFixed(4)} ± ${e.n_variance_se.toFixed(4)} vs D ${e.theory_n_variance.toFixed(4)} (${z.toFixed(2)} SE)`, z < 4);
  }
  if (e.theory_n_shift !== null) {
    const z = Math.abs(e.n_shift - e.theory_n_shift) / e.n_shift_se;
    console.log(`  ${label}: N shift ${e.n_shift.toFixed(4)} ± ${e.n_shift_se.toFixed(4)} vs m ${e.theory_n_shift.toFixed(4)} (${z.toFixed(2)} SE)`);
    check(`${label}: N shift ${e.n_shift.toFixed(4)} ± ${e.n_shift_se.toFixed(4)} vs m ${e.theory_n_shift.toFixed(4)} (${z.toFixed(2)} SE)`, z < 4);
  }
}
// As the harness's open, but a missing threaded build is not an error: index.html tries
// fieldscope-web-mt.js first on a cross-origin-isolated page and falls back to the single-threaded
// build (the 404 of that probe is the only failed request allowed).
const threadedMissing = !existsSync(path.join(site, "fieldscope-web-mt.js"));
async function openPage(query) {
  const page = await h.browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [], missing = [];
  page.on("response", (r) => { if (r.status() === 404) missing.push(new URL(r.url()).pathname); });
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss(); });
  await page.goto(h.base + (query ? "?" + query : ""));
  await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 120000 });
  const benign = () => threadedMissing && missing.length > 0 && missing.every((p) => p.endsWith("/fieldscope-web-mt.js"));
  return {
    page,
    errors: {
      get length() { return this.list().length; },
      list: () => errors.filter((e) => !(benign() && /Failed to load resource: .*404/.test(e))),
      toJSON() { return this.list(); },
    },
  };
}
async function open(query) {
  const v = await openPage(query);
  await h.settle(v.page);
  return v;
}
async function view(name, query) {
  const t0 = Date.now();
  const v = await open(query);
  const s = await snapshot(v.page);
  console.log(`${name}: settled in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${s.ensemble.points?.length ?? 0} ensembles`);
  check(`${name}: no console errors`, v.errors.length === 0, JSON.stringify(v.errors));
  check(`${name}: the panel is current and done`, s.ensemble.current === true && s.ensemble.busy === false && s.busy === false,
        JSON.stringify({ current: s.ensemble.current, busy: s.ensemble.busy }));
  check(`${name}: no messages`, (s.ensemble.messages || []).length === 0 && s.messages.length === 0,
        JSON.stringify([s.messages, s.ensemble.messages]));
  if (shots) await v.page.screenshot({ path: path.join(shots, `ensemble-${name}.png`) });
  return { ...v, s, e: s.ensemble };
}

// The network: tanh, sigma_w^2 = 2, sigma_b^2 = 0.1 (docs/theory.md §5.4's first row), three inputs on a circle of
// which the views follow a = 0, b = 2 (so the pair is taken out of a larger input set).
const NET = "v=1&act=tanh&w2=2&b2=0.1&P=3&ia=0&ib=2&nw=8&nb=8&view=ensemble";

try {
  // --- ev=hist: deep and recurrent -----------------------------------------------------------------
  // The third: real weight matrices (explicit sampler) of a recurrent network.
  for (const [name, arch, n, m, depth, sampler] of [["hist", "deep", 128, 3000, 6, "fast"], ["hist-recurrent", "recurrent", 256, 2000, 4, "fast"],
                                                    ["hist-explicit", "recurrent", 64, 300, 4, "explicit"]]) {
    const v = await view(name, `${NET}&arch=${arch}&L=${depth}&ev=hist&ew=${n}&em=${m}&es=${sampler}`);
    const p = v.e.points?.[0];
    check(`${name}: one ensemble of the pair, complete`, v.e.points.length === 1 && p.status === "ok" && p.members_done === m &&
          p.width === n && p.sampler === sampler && v.e.pair_count === 2 && v.e.input_a === 0 && v.e.input_b === 2, JSON.stringify(p && { ...p, entries: undefined }));
    check(`${name}: the pair link carries the two inputs as points`, /(^|&)x=points(&|$)/.test(p.link) && /(^|&)pts=[^;&]+;[^;&]+(&|$)/.test(p.link) &&
          !/(^|&)i[ab]=/.test(p.link), p.link);
    const native = runCli(p, ["--histogram", "5"]);
    for (const key of ["aux_aa", "aux_ab", "gram_aa", "gram_ab"]) {
      const mine = p.entries[key];
      compareEntry(`${name} ${key}`, mine, cliEntry(native, key));
      check(`${name} ${key}: first raw values == CLI histogram`, mine.first_values.every((x, i) => close(x, native.histograms[key][i])),
            JSON.stringify([mine.first_values, native.histograms[key]]));
      check(`${name} ${key}: histogram of min(M, 4096) networks`, mine.histogram_count === Math.min(m, 4096), String(mine.histogram_count));
      // The theory applies to the aux field of both architectures and to the deep Gram (docs/theory.md §5.5).
      if (!(arch === "recurrent" && key.startsWith("gram"))) {
        check(`${name} ${key}: theory present`, mine.theory_n_variance !== null && mine.nlo_variance !== null, JSON.stringify(mine));
        withinTheory(`${name} ${key}`, mine);
      } else {
        check(`${name} ${key}: no theory for the recurrent Gram`, mine.theory_n_variance === null, JSON.stringify(mine));
      }
    }
    await v.page.close();  // a page left open keeps rendering and slows the next
  }

  // --- ev=width: deep and recurrent over N = 32..256 ---------------------------------------------------
  {
    const v = await view("width", `${NET}&arch=deep&L=4&ev=width&ewmin=32&ewmax=256&em=600`);
    const pts = v.e.points;
    check("width: 4 widths x 2 architectures", pts.length === 8 && pts.map((p) => p.width).join() === "32,64,128,256,32,64,128,256" &&
          pts.slice(0, 4).every((p) => p.arch === "deep") && pts.slice(4).every((p) => p.arch === "recurrent"), JSON.stringify(pts.map((p) => [p.arch, p.width])));
    for (const i of [0, 7]) compareEntry(`width ${pts[i].arch} N=${pts[i].width} aux_aa`, pts[i].entries.aux_aa, cliEntry(runCli(pts[i]), "aux_aa"));
    for (const p of pts) if (p.width >= 128) withinTheory(`width ${p.arch} N=${p.width} aux_aa`, p.entries.aux_aa);
    const d = pts[3].entries.aux_aa, r = pts[7].entries.aux_aa;
    check("width: the recurrent D exceeds the deep D (slower convergence)", r.theory_n_variance > d.theory_n_variance,
          `${r.theory_n_variance} vs ${d.theory_n_variance}`);
    check("width: N·MSE prediction D + m^2/N", Math.abs(d.theory_n_mse - (d.theory_n_variance + d.theory_n_shift ** 2 / 256)) < 1e-12);
    for (const p of pts) {
      const e = p.entries.aux_aa;
      check(`width ${p.arch} N=${p.width}: N·MSE = N Var + N (mean - C)^2`,
            Math.abs(e.n_mse - (e.variance * (p.members - 1) / p.members * p.width + e.n_shift ** 2 / p.width)) <= 1e-9 * e.n_mse,
            JSON.stringify(e));
    }
    await v.page.close();
  }

  // --- ev=sweep over the depth --------------------------------------------------------------------------
  {
    const v = await view("sweep", `${NET}&arch=deep&L=4&ev=sweep&esw=L&eslo=1&eshi=6&ew=128&em=400`);
    const pts = v.e.points;
    check("sweep: 6 depths x 2 architectures", pts.length === 12 && pts.slice(0, 6).map((p) => p.depth).join() === "1,2,3,4,5,6",
          JSON.stringify(pts.map((p) => [p.arch, p.depth])));
    compareEntry("sweep deep L=6 aux_aa", pts[5].entries.aux_aa, cliEntry(runCli(pts[5]), "aux_aa"));
    compareEntry("sweep recurrent L=3 aux_aa", pts[8].entries.aux_aa, cliEntry(runCli(pts[8]), "aux_aa"));
    for (const p of pts) {
      const e = p.entries.aux_aa;
      const z = Math.abs(e.n_mse - e.theory_n_mse) / e.n_mse_se;
      console.log(`  sweep ${p.arch} L=${p.depth}: N·MSE ${e.n_mse.toFixed(4)} ± ${e.n_mse_se.toFixed(4)} vs D + m²/N ${e.theory_n_mse.toFixed(4)} (${z.toFixed(2)} SE)`);
      check(`sweep ${p.arch} L=${p.depth}: N·MSE ${e.n_mse.toFixed(4)} ± ${e.n_mse_se.toFixed(4)} vs theory ${e.theory_n_mse.toFixed(4)} (${z.toFixed(2)} SE)`, z < 4);
    }
    // The theory's recurrent/deep ratio grows with depth (weight sharing accumulates, docs/theory.md §5.2).
    const ratio = (i) => pts[6 + i].entries.aux_aa.theory_n_variance / pts[i].entries.aux_aa.theory_n_variance;
    check("sweep: theory D_rec/D_deep grows with depth", ratio(5) > ratio(1) && ratio(5) > 1, `${ratio(1)} -> ${ratio(5)}`);
    await v.page.close();
  }

  // --- ev=cross: recurrent two-time entries -------------------------------------------------------------
  {
    const v = await view("cross", `${NET}&arch=recurrent&L=6&ev=cross&ew=128&em=800`);
    const p = v.e.points[0];
    const native = runCli(p, ["--no-theory"]);
    const curves = p.two_time || [];
    check("cross: curves for t = 6, 4, 2 at every lag", curves.length === 7 + 5 + 3, String(curves.length));
    let bad = [];
    for (const c of curves) {
      const n = native.two_time.find((x) => x.t === c.t && x.s === c.s);
      for (const kind of ["aux", "gram"])
        for (const k of STAT_KEYS) if (!close(c[kind][k], n[kind][k])) bad.push(`${kind}(${c.t},${c.s}).${k}: ${c[kind][k]} vs ${n[kind][k]}`);
    }
    check("cross: two-time statistics == native CLI", bad.length === 0, bad.slice(0, 5).join("; "));
    // Recurrent with a shared bias: the mean-field cross-time kernel is not zero, and the ensemble mean is
    // near it (finite-N shift O(1/N): within 4 SE + 0.05).
    const far = curves.filter((c) => c.s !== c.t && Math.abs(c.aux.mean - c.aux.mean_field) > 4 * c.aux.mean_se + 0.05);
    check("cross: ensemble means near the two-time mean field", far.length === 0, JSON.stringify(far.slice(0, 2)));
    check("cross: mean-field K(t, s) != 0 for t != s (shared W)", curves.some((c) => c.s !== c.t && Math.abs(c.gram.mean_field) > 0.05));
    await v.page.close();
  }

  // --- ev=chaos: lambda_max(N), xi_c(N) -----------------------------------------------------------------
  {
    const v = await view("chaos", `${NET}&arch=deep&L=8&ev=chaos&ewmin=16&ewmax=128&em=300`);
    const pts = v.e.points;
    check("chaos: 4 widths x 2 architectures", pts.length === 8, String(pts.length));
    for (const i of [0, 7]) {
      const p = pts[i], n = runCli(p, ["--no-theory"]);
      const ly = p.lyapunov, xi = p.correlation_length;
      const bad = ["mean", "mean_se", "mean_field"].filter((k) => !close(ly[k], n.lyapunov[k]))
        .concat(["xi", "xi_se", "xi_mean_field_fit", "xi_mean_field"].filter((k) => !close(xi[k], n.correlation_length[k])));
      check(`chaos ${p.arch} N=${p.width}: lambda and xi == native CLI`, bad.length === 0,
            bad.map((k) => `${k}: ${JSON.stringify([ly, xi])} vs ${JSON.stringify([n.lyapunov, n.correlation_length])}`).join("; "));
    }
    for (const p of pts) {
      check(`chaos ${p.arch} N=${p.width}: lambda and xi measured`, p.lyapunov.status === "ok" && p.correlation_length.status === "ok",
            JSON.stringify([p.lyapunov, p.correlation_length]));
    }
    // lambda(N) approaches its mean-field value: at N = 128 within 4 SE + 0.02 (O(1/N) bias).
    for (const p of pts.filter((q) => q.width === 128)) {
      const dl = Math.abs(p.lyapunov.mean - p.lyapunov.mean_field);
      check(`chaos ${p.arch} N=128: lambda ${p.lyapunov.mean.toFixed(4)} near mean field ${p.lyapunov.mean_field.toFixed(4)}`,
            dl < 4 * p.lyapunov.mean_se + 0.02);
    }
    // The 1/N theory of lambda (docs/theory.md §5.8) beside the deep points, equal to the CLI's; none for the recurrent net.
    const deepPoint = pts.find((p) => p.arch === "deep"), withTheory = runCli(deepPoint);
    check("chaos: deep lambda 1/N theory == native CLI", typeof deepPoint.lyapunov.theory_mean === "number" &&
          close(deepPoint.lyapunov.theory_mean, withTheory.lyapunov.theory_mean) && close(deepPoint.lyapunov.theory_n_shift, withTheory.lyapunov.theory_n_shift),
          JSON.stringify([deepPoint.lyapunov, withTheory.lyapunov]));
    check("chaos: the recurrent points say why they have no theory",
          pts.filter((p) => p.arch === "recurrent").every((p) => p.lyapunov.theory_mean === undefined && /1\/N series/.test(p.lyapunov.theory_note || "")),
          JSON.stringify(pts.map((p) => p.lyapunov.theory_note)));
    check("chaos: the §5.6 heuristic xi is shown for the pair", pts.some((p) => p.heuristic && typeof p.heuristic.xi_finite === "number"),
          JSON.stringify(pts.map((p) => p.heuristic)));
    await v.page.close();
  }

  // --- ev=chaos for deep linear networks: the exact lambda(N) (docs/theory.md §5.7) beside the ensembles ---
  {
    const v = await view("chaos-linear", "v=1&act=linear&w2=0.9&b2=0.05&P=3&ia=0&ib=2&nw=8&nb=8&view=ensemble&L=8&ev=chaos&ewmin=16&ewmax=64&em=400");
    const deep = v.e.points.filter((p) => p.arch === "deep");
    check("chaos linear: 3 deep widths with the exact exponent", deep.length === 3 && deep.every((p) => typeof p.lyapunov.exact_mean === "number"),
          JSON.stringify(deep.map((p) => p.lyapunov)));
    check("chaos linear: no exact exponent for the recurrent net", v.e.points.every((p) => p.arch === "deep" || p.lyapunov.exact_mean === undefined));
    const n = runCli(deep[0], ["--no-theory"]);
    check("chaos linear: exact mean and variance == native CLI",
          close(deep[0].lyapunov.exact_mean, n.lyapunov.exact_mean) && close(deep[0].lyapunov.exact_variance, n.lyapunov.exact_variance),
          JSON.stringify([deep[0].lyapunov, n.lyapunov]));
    for (const p of deep)
      check(`chaos linear N=${p.width}: ensemble lambda within 4 SE of the exact one`,
            Math.abs(p.lyapunov.mean - p.lyapunov.exact_mean) < 4 * p.lyapunov.mean_se, JSON.stringify(p.lyapunov));
    await v.page.close();
  }

  // --- hostile link: messages, defaults, still working --------------------------------------------------
  {
    const v = await open("v=1&view=ensemble&ew=0&em=abc&es=%3Cb%3E&ev=nope&ep=float16&L=3");
    const s = await snapshot(v.page);
    check("hostile: no console errors", v.errors.length === 0, JSON.stringify(v.errors));
    check("hostile: a message for each bad field", s.messages.length >= 4, JSON.stringify(s.messages));
    const p = s.ensemble.points?.[0];
    check("hostile: defaults used, and the ensemble ran", s.ensemble.view === "hist" && p && p.status === "ok" && p.width === 64 &&
          p.members === 256 && p.sampler === "fast" && p.precision === "float64", JSON.stringify(p && { ...p, entries: undefined }));
    if (shots) await v.page.screenshot({ path: path.join(shots, "ensemble-hostile.png") });
    await v.page.close();
  }

  // --- too large: a clear message at once ---------------------------------------------------------------
  {
    const v = await open(`${NET}&arch=deep&L=4&ew=16384&em=1000000&es=explicit`);
    const s = await snapshot(v.page);
    const p = s.ensemble.points?.[0];
    check("too large: no console errors", v.errors.length === 0, JSON.stringify(v.errors));
    check("too large: status too_large with a sentence", p && p.status === "too_large" && /MiB/.test(p.message) && !s.ensemble.busy,
          JSON.stringify(p));
    check("too large: the message is on screen", s.ensemble.messages.some((m) => /MiB/.test(m)), JSON.stringify(s.ensemble.messages));
    if (shots) await v.page.screenshot({ path: path.join(shots, "ensemble-too-large.png") });
    await v.page.close();
  }

  // --- a long run can be cancelled ----------------------------------------------------------------------
  {
    const { page: v, errors } = await openPage(`${NET}&arch=recurrent&L=20&ew=2048&em=1000000`);
    await v.waitForFunction(() => { const s = window.fieldscopeSnapshot().ensemble; return s.cancel_button && s.cancel_button[2] > 0; },
                            null, { timeout: 60000, polling: 200 });
    const s0 = await snapshot(v);
    check("cancel: busy while running", s0.ensemble.busy === true);
    const ratio = await v.evaluate(() => window.devicePixelRatio || 1);
    const [x0, y0, x1, y1] = s0.ensemble.cancel_button;
    await v.mouse.click((x0 + x1) / 2 / ratio, (y0 + y1) / 2 / ratio);
    await v.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 60000, polling: 200 });
    const s1 = await snapshot(v);
    const p = s1.ensemble.points[0];
    check("cancel: stopped with partial statistics", s1.ensemble.cancelled === true && p.status === "cancelled" && p.members_done < 1000000,
          JSON.stringify({ cancelled: s1.ensemble.cancelled, status: p.status, done: p.members_done }));
    check("cancel: no console errors", errors.length === 0, JSON.stringify(errors));
    if (shots) await v.screenshot({ path: path.join(shots, "ensemble-cancelled.png") });
    await v.close();
  }
  await h.finish("ensemble e2e");
} catch (error) {
  await h.finish("ensemble e2e", error);
}
