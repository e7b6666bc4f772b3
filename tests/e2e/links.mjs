// A share link gives the same numbers in the explorer and on the command line, for every tab: each link
// is opened in headless Chromium (the WebAssembly build) and handed, unchanged, to the native
// `fieldscope-cli ... --link LINK`; the numbers on screen must equal the CLI's (1e-10 relative for the
// mean-field views; 1e-8 for GP solves and ensemble statistics, which sum many terms whose last bits
// differ between the two C libraries' tanh/exp).
//   node tests/e2e/links.mjs SITE_DIR CLI
import { execFileSync } from "node:child_process";
import { startHarness } from "./harness.mjs";

const [site, cli] = process.argv.slice(2);
const h = await startHarness(site, { timeout: 300000 });
const { check, snapshot } = h;

const cliJson = (...args) => JSON.parse(execFileSync(cli, args, { encoding: "utf8", maxBuffer: 1 << 28 }));
const rel = (a, b) => Math.abs(a - b) / Math.max(1e-300, Math.abs(a), Math.abs(b));
// Equal numbers, or the same non-number ("inf", null).
const same = (a, b, tol) => (typeof a === "number" && typeof b === "number" ? rel(a, b) <= tol || a === b : a === b);
function sameList(label, mine, native, tol) {
  const ok = Array.isArray(mine) && Array.isArray(native) && mine.length === native.length &&
             mine.every((v, i) => same(v, native[i], tol));
  check(label, ok, `${JSON.stringify(mine)?.slice(0, 300)} vs ${JSON.stringify(native)?.slice(0, 300)}`);
}
async function open(link) {
  const { page, errors } = await h.open(link);
  const s = await snapshot(page);
  check(`${link}: no console errors`, errors.length === 0, JSON.stringify(errors));
  const canonical = execFileSync(cli, ["scene", "--link", link, "-f", "csv"], { encoding: "utf8" }).trim().split("\n").pop();
  check(`${link}: the page shows the link's scene`, s.link === canonical, `${s.link} vs ${canonical}`);
  return { page, s };
}

try {
  // --- Phase diagram: the fixed point at the scene's (sigma_w^2, sigma_b^2) ----------------------------
  for (const link of ["v=1&act=erf&ap=1.5&w2=2.3&b2=0.2&view=phase&q=xi_c&nw=12&nb=6",
                      "v=1&act=gelu&w2=1.7&b2=0.05&in2=0.8&L=0&view=phase"]) {
    const { page, s } = await open(link);
    const native = cliJson("fixed-point", "--link", link);
    for (const k of ["q_star", "c_star", "chi_1", "chi_c", "xi_q", "xi_c", "lambda_max"])
      check(`phase ${link}: ${k} = CLI`, same(s[k], native[k], 1e-10), `${s[k]} vs ${native[k]}`);
    check(`phase ${link}: phase = CLI`, s.phase === native.phase, `${s.phase} vs ${native.phase}`);
    await page.close();
  }

  // --- Signal propagation: q^l of the pair and their correlation, the depth from 0 -------------------
  for (const link of ["v=1&act=sigmoid&w2=3&b2=0.4&L=20&view=signal&P=5&ia=1&ib=4",
                      "v=1&act=tanh&w2=1.2&b2=0.1&in2=3&L=0&view=signal"]) {
    const { page, s } = await open(link);
    const native = cliJson("signal", "--link", link);
    for (const k of ["q_a", "q_b", "covariance", "correlation"])
      sameList(`signal ${link}: ${k} = CLI`, s.signal?.[k], native[k], 1e-10);
    await page.close();
  }

  // --- Kernels: deep and recurrent side by side (kv=compare) against the CLI's two architectures ---------
  {
    const link = "v=1&arch=recurrent&act=tanh&w2=2&b2=0.1&L=6&P=4&ia=1&ib=3&in=every&bias=independent&view=kernels&kv=compare";
    const { page, s } = await open(link);
    const rec = cliJson("kernel", "--link", link);
    const deep = cliJson("kernel", "--link", link, "--arch", "deep");
    const [a, b] = [1, 3];
    const block = (t) => rec.blocks.find((x) => x.t === t && x.s === t).kernel;
    sameList("kernels: recurrent K^{tt}_aa = CLI", s.kernels.recurrent_aa, [...Array(7).keys()].map((t) => block(t)[a][a]), 1e-10);
    sameList("kernels: recurrent K^{tt}_ab = CLI", s.kernels.recurrent_ab, [...Array(7).keys()].map((t) => block(t)[a][b]), 1e-10);
    sameList("kernels: deep K^l_aa = CLI", s.kernels.deep_aa, deep.layers.map((l) => l.kernel[a][a]), 1e-10);
    sameList("kernels: deep K^l_ab = CLI", s.kernels.deep_ab, deep.layers.map((l) => l.kernel[a][b]), 1e-10);
    await page.close();
  }

  // --- Finite width: the link's N, M, sampler and precision (ew, em, es, ep) -----------------------------
  {
    const link = "v=1&act=tanh&w2=2&b2=0.1&L=4&P=2&view=ensemble&ev=hist&ew=24&em=300&es=explicit";
    const { page, s } = await open(link);
    const native = cliJson("ensemble", "--link", link);
    const last = native.layers[native.layers.length - 1];
    const mine = s.ensemble.points?.[0]?.entries;
    for (const [key, list, i, j] of [["aux_aa", "aux", 0, 0], ["aux_ab", "aux", 1, 0], ["gram_aa", "gram", 0, 0], ["gram_ab", "gram", 1, 0]]) {
      const n = last[list].find((e) => e.a === i && e.b === j);
      for (const k of ["mean", "variance", "n_variance", "n_shift"])
        check(`ensemble: ${key} ${k} = CLI`, mine && same(mine[key]?.[k], n?.[k], 1e-8), `${mine?.[key]?.[k]} vs ${n?.[k]}`);
    }
    await page.close();
  }

  // --- GP inference: the link's data, size, noise, sigma_n^2 and readout (gd, gn, gt, gno, gs2, gr) ------
  for (const link of ["v=1&act=relu&w2=1.8&b2=0.2&L=3&view=gp&gd=xor&gn=80&gt=40&gno=0.2&gs2=0.02&gr=1",
                      "v=1&act=erf&w2=1.5&b2=0.1&L=0&view=gp&gd=moons&gn=60&gt=30"]) {
    const { page, s } = await open(link);
    const native = cliJson("gp", "--link", link);
    const fit = s.gp.fit;
    check(`gp ${link}: accuracy = CLI`, fit.accuracy === native.accuracy, `${fit.accuracy} vs ${native.accuracy}`);
    for (const k of ["log_evidence", "mse"])
      check(`gp ${link}: ${k} = CLI`, same(fit[k], native[k], 1e-8), `${fit[k]} vs ${native[k]}`);
    check(`gp ${link}: jitter = CLI`, fit.jitter === native.jitter, `${fit.jitter} vs ${native.jitter}`);
    await page.close();
  }
} catch (e) {
  await h.finish("links", e);
}
await h.finish("links");
