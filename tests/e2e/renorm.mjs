// Browser end-to-end test of the finite-width learning tab (app/renorm_panel.cpp) in headless Chromium:
// the theory at the tab's width, the sweep and the sampled networks equal the native CLI's
// (`fieldscope-cli --link LINK renorm`), also on Fashion-MNIST and on a CSV file loaded through the file
// chooser (a malformed one is named by line and column and changes nothing); the share link reopens the
// same numbers; a hostile link is harmless; screenshots of the error and order-parameter views.
//   node tests/e2e/renorm.mjs SITE_DIR CLI [SCREENSHOT_DIR]
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
const close = (a, b, tol) => typeof a === "number" && typeof b === "number" && rel(a, b) <= tol;
const cliRun = (link, args) => JSON.parse(execFileSync(cli, ["--link", link, "renorm", ...args], { encoding: "utf8" }));
const shot = async (page, name) => {
  if (!shots) return;
  await page.mouse.move(2, 798);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(shots, name) });
};

try {
  // --- 1. The tab's numbers are the CLI's ------------------------------------------------------------
  const link = "v=1&view=renorm&rL=2&rN=60&rM=3&rP=60&rQ=40&rd=20&rlo=30&rhi=600&rn=8&rch=8&rsa=150";
  const { page, errors } = await open(link);
  const r = (await snapshot(page)).renorm;
  check("no console errors", errors.length === 0, JSON.stringify(errors));
  check("data", r.train === 60 && r.test === 40 && r.data_status === "", JSON.stringify(r).slice(0, 300));
  check("solve done", r.solve && r.solve.status === "" && r.solve.u1.length === 9, JSON.stringify(r.solve).slice(0, 300));
  const ref = cliRun(link, ["--simulate", "gibbs"]);
  check("eps_g theory = CLI", close(r.solve.generalization_error, ref.theory.generalization_error, 1e-8),
        `${r.solve.generalization_error} vs ${ref.theory.generalization_error}`);
  check("eps_g GP = CLI", close(r.solve.gp_generalization_error, ref.gp.generalization_error, 1e-10));
  check("bias^2 and variance = CLI", close(r.solve.bias2, ref.theory.bias2, 1e-8) && close(r.solve.variance, ref.theory.variance, 1e-8));
  let worst = 0;
  for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) worst = Math.max(worst, Math.abs(r.solve.u1[i][j] - ref.order_parameters[0][i][j]));
  check("U_1 = CLI", worst < 1e-8, worst);
  const sim = r.simulations.find((s) => s.width === 60);
  check("sampled networks at the tab's width", sim && sim.status === "", JSON.stringify(r.simulations));
  if (sim) {
    check("sampled eps_g = CLI's simulation", close(sim.generalization_error, ref.simulation.generalization_error, 1e-6),
          `${sim.generalization_error} vs ${ref.simulation.generalization_error}`);
    check("chi^2/dof against the theory = CLI's", close(sim.chi2_theory, ref.simulation.chi2_per_dof_theory, 1e-5),
          `${sim.chi2_theory} vs ${ref.simulation.chi2_per_dof_theory}`);
    check("the sampled networks reject the GP", sim.chi2_gp > 5 * sim.chi2_theory, `${sim.chi2_gp} vs ${sim.chi2_theory}`);
  }
  check("sweep complete", r.sweep && r.sweep.progress === 1 && r.sweep.points.length === 8, JSON.stringify(r.sweep).slice(0, 200));
  if (r.sweep) {
    const values = r.sweep.points.map((p) => p.value);
    const sweep = cliRun(link, ["--sweep", "N=" + values.join(",")]);
    let w = 0;
    sweep.points.forEach((p, i) => { w = Math.max(w, rel(p.theory.generalization_error, r.sweep.points[i].generalization_error)); });
    check("sweep = CLI's sweep, wide to narrow", values[0] === 600 && values[7] === 30 && w < 1e-6, `${values} ${w}`);
  }
  await shot(page, "renorm-error.png");
  // --- 2. The share link reopens the same numbers; the order-parameter view --------------------------
  const again = await open(query(page) + "&rv=order");
  const r2 = (await snapshot(again.page)).renorm;
  check("link reopens the same theory", r2.solve && r2.solve.generalization_error === r.solve.generalization_error &&
        JSON.stringify(r2.solve.u1) === JSON.stringify(r.solve.u1));
  check("link reopens the same simulation", JSON.stringify(r2.simulations) === JSON.stringify(r.simulations),
        JSON.stringify(r2.simulations));
  await shot(again.page, "renorm-order.png");
  await again.page.close();
  await page.close();

  // --- 3. A long simulation can be cancelled ----------------------------------------------------------
  {
    const v = await h.browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errs = [];
    v.on("pageerror", (e) => errs.push(String(e)));
    await v.goto(h.base + "?v=1&view=renorm&rL=1&rN=50&rP=60&rQ=20&rd=10&rn=4&rch=8&rsa=100000");
    // The explorer has loaded when its overlay is gone (as the harness's open waits), then the sampler runs.
    await v.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
    await v.waitForFunction(() => { const s = window.fieldscopeSnapshot();
                                    return s.renorm && s.renorm.cancel_button && s.renorm.cancel_button[2] > 0; },
                            null, { timeout: 120000, polling: 200 });
    const s0 = await snapshot(v);
    check("cancel: busy while sampling", s0.busy === true);
    const ratio = await v.evaluate(() => window.devicePixelRatio || 1);
    const [x0, y0, x1, y1] = s0.renorm.cancel_button;
    await v.mouse.click((x0 + x1) / 2 / ratio, (y0 + y1) / 2 / ratio);
    await v.waitForFunction(() => !window.fieldscopeSnapshot().busy, null, { timeout: 60000, polling: 200 });
    const s1 = (await snapshot(v)).renorm;
    check("cancel: stopped, the theory kept", s1.simulation_cancelled === true && s1.simulations.length === 0 && s1.solve &&
          s1.solve.status === "", JSON.stringify({ cancelled: s1.simulation_cancelled, sims: s1.simulations.length }));
    check("cancel: no page errors", errs.length === 0, JSON.stringify(errs));
    await v.close();
  }

  // --- 4. Fashion-MNIST (packaged with the site) and a labelled CSV file loaded through the file chooser --
  {
    const fashion = "v=1&view=renorm&rtask=fashion-mnist&rcl=0,6&rds=4&rL=1&rN=80&rM=2&rP=80&rQ=40&rlo=40&rhi=400&rn=4&rsim=off";
    const { page, errors } = await open(fashion);
    const f = (await snapshot(page)).renorm;
    const ref = cliRun(fashion, []);
    check("Fashion-MNIST: loaded, +-1 labels", f.task === "fashion-mnist" && f.data_status === "" && f.train === 80 &&
          f.classification === true && ref.data.input_dim === 49, JSON.stringify(f).slice(0, 300));
    check("Fashion-MNIST: eps_g = CLI", f.solve && close(f.solve.generalization_error, ref.theory.generalization_error, 1e-8) &&
          close(f.solve.gp_generalization_error, ref.gp.generalization_error, 1e-10),
          `${f.solve && f.solve.generalization_error} vs ${ref.theory.generalization_error}`);
    check("Fashion-MNIST: accuracy = CLI", f.solve && f.solve.accuracy === ref.theory.accuracy && f.solve.gp_accuracy === ref.gp.accuracy,
          `${f.solve && f.solve.accuracy} vs ${ref.theory.accuracy}`);
    check("Fashion-MNIST: no console errors", errors.length === 0, JSON.stringify(errors));
    await shot(page, "renorm-fashion.png");

    const ratio = await page.evaluate(() => window.devicePixelRatio || 1);
    async function upload(name, text) {
      const [x0, y0, x1, y1] = (await snapshot(page)).renorm.load_button;
      const chooser = page.waitForEvent("filechooser", { timeout: 10000 });
      await page.mouse.click((x0 + x1) / 2 / ratio, (y0 + y1) / 2 / ratio);
      await (await chooser).setFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) });
      await page.waitForTimeout(500);
      await h.settle(page, 240000);
      return (await snapshot(page)).renorm;
    }
    // 48 rows of 6 features and a real target (a fixed linear rule plus a bend), deterministic.
    let text = "a,b,c,d,e,f,target\n";
    for (let i = 0; i < 48; i++) {
      const x = [0, 1, 2, 3, 4, 5].map((k) => Math.sin(1.7 * i + 2.3 * k + 0.1 * i * k));
      text += `${x.map((v) => v.toFixed(6)).join(",")},${(x[0] - 0.5 * x[3] + Math.abs(x[1])).toFixed(6)}\n`;
    }
    let c = await upload("rows.csv", text);
    const link = query(page);
    check("CSV: loaded message", !c.csv_failed && /Loaded 48 rows with 6 features \(real targets/.test(c.csv_message), c.csv_message);
    check("CSV: the link carries the rows", /(^|&)rtask=csv(&|$)/.test(link) && /rpts=/.test(link), link);
    check("CSV: 36 train / 12 test, regression", c.task === "csv" && c.train === 36 && c.test === 12 && c.classification === false,
          JSON.stringify({ task: c.task, train: c.train, test: c.test }));
    const csvRef = cliRun(link, []);
    check("CSV: eps_g = CLI on the link", c.solve && close(c.solve.generalization_error, csvRef.theory.generalization_error, 1e-8),
          `${c.solve && c.solve.generalization_error} vs ${csvRef.theory.generalization_error}`);
    c = await upload("bad.csv", "a,b,target\n1,2,0.5\n3,oops,1\n");
    check("CSV: malformed file names line and column", c.csv_failed && /line 3/.test(c.csv_message) && /column 2/.test(c.csv_message),
          c.csv_message);
    check("CSV: the data stay as they were", query(page) === link && c.train === 36, query(page));
    check("CSV: no console errors", errors.length === 0, JSON.stringify(errors));
    await page.close();
  }

  // --- 5. Random vs unsupervised gates side by side (rcmp=gates): each curve is the CLI's sweep -------------
  {
    const cmp = "v=1&view=renorm&rcmp=gates&rL=1&rN=60&rM=3&rP=50&rQ=30&rd=12&rlo=30&rhi=300&rn=5&rsim=off";
    const { page, errors } = await open(cmp);
    const c = (await snapshot(page)).renorm;
    const kinds = Object.keys(c.compared_gates || {});
    check("gate comparison: PCA and k-means beside random", kinds.join() === "pca,kmeans" &&
          kinds.every((k) => c.compared_gates[k].progress === 1 && c.compared_gates[k].points.length === 5), JSON.stringify(c.compared_gates));
    for (const kind of kinds) {
      const values = c.compared_gates[kind].points.map((p) => p.value);
      const ref = cliRun(cmp, ["--gate-kind", kind, "--sweep", "N=" + values.join(",")]);
      let w = 0;
      ref.points.forEach((p, i) => { w = Math.max(w, rel(p.theory.generalization_error, c.compared_gates[kind].points[i].generalization_error)); });
      check(`gate comparison: ${kind} = CLI --gate-kind ${kind}`, w < 1e-6, w);
    }
    check("gate comparison: no console errors", errors.length === 0, JSON.stringify(errors));
    await shot(page, "renorm-gates.png");
    await page.close();
  }

  // --- 6. Several tasks: the error against K with own and with shared gates, each the CLI's sweep ----------
  {
    const multi = "v=1&view=renorm&rsw=K&rlo=1&rhi=4&rn=4&rL=1&rN=60&rM=4&rro=ungated&rP=40&rQ=20&rd=12&rsim=off";
    const { page, errors } = await open(multi);
    const m = (await snapshot(page)).renorm;
    check("tasks: the K sweep and the other gating", m.sweep && m.sweep.points.length === 4 && m.other_task_gates &&
          m.other_task_gates.progress === 1 && m.other_task_gates.points.length === 4, JSON.stringify(m.other_task_gates));
    if (m.sweep && m.other_task_gates) {
      for (const [gates, points] of [["own", m.sweep.points], ["shared", m.other_task_gates.points]]) {
        const ref = cliRun(multi, ["--task-gates", gates, "--sweep", "K=" + points.map((p) => p.value).join(",")]);
        let w = 0;
        ref.points.forEach((p, i) => { w = Math.max(w, rel(p.theory.generalization_error, points[i].generalization_error)); });
        check(`tasks: ${gates} gates = CLI --task-gates ${gates}`, w < 1e-6, w);
      }
      const at4 = (points) => points.find((p) => p.value === 4);
      check("tasks: own gates beat shared ones at K = 4", at4(m.sweep.points) && at4(m.sweep.points).generalization_error <
            at4(m.other_task_gates.points).generalization_error, JSON.stringify([at4(m.sweep.points), at4(m.other_task_gates.points)]));
    }
    check("tasks: no console errors", errors.length === 0, JSON.stringify(errors));
    await shot(page, "renorm-tasks.png");
    await page.close();
  }

  // --- 7. A hostile link: sentences, defaults, a working tab -----------------------------------------
  const bad = await open("v=1&view=renorm&rL=99&rN=-5&rM=x&rsim=bogus&rgk=file&rlo=500&rhi=20&rP=1e9");
  const b = (await snapshot(bad.page)).renorm;
  check("hostile link: no console errors", bad.errors.length === 0);
  check("hostile link: defaults solved", b.solve && b.solve.status === "" && b.train === 100, JSON.stringify(b).slice(0, 200));
  await bad.page.close();
} catch (e) {
  await h.finish("renorm tab", e);
}
await h.finish("renorm tab");
