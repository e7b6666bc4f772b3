// Browser check of the data packaged with the web build (app/platform.h data_dir, web/main_web.cpp):
// the page fetches the Fashion-MNIST subset from its own site into the in-memory file system, and
// core/datasets.cpp reads it there as it reads Debian's package; a request beyond the subset gets a
// clear sentence; an HTTP failure gives an error sentence. Compares the first labels with the
// package's own file (decoded by node's zlib, independently of our inflate).
//   node tests/e2e/packaged_data.mjs SITE_DIR
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { root, startHarness } from "./harness.mjs";

const site = process.argv[2] || path.join(root, "build", "wasm", "site");
// Without the threaded build the page would first ask for it (a 404): serve as a plain static host then.
const h = await startHarness(site, { isolation: existsSync(path.join(site, "fieldscope-web-mt.js")) });
const { browser, base, check } = h;

// Opens the explorer; `block` answers the data requests with HTTP 404 instead.
async function open(block = false) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [], requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  if (block) await page.route("**/data/fashion-mnist/**", (route) => route.fulfill({ status: 404, body: "not here" }));
  await page.goto(base);
  await page.waitForFunction(() => document.getElementById("overlay").style.display === "none", null, { timeout: 60000 });
  return { page, errors, requests };
}
const poll = (page, train, test) => page.evaluate(([a, b]) => JSON.parse(UTF8ToString(Module._fs_test_data_dir(a, b))), [train, test]);
async function until_settled(page, train, test) {
  for (let i = 0; i < 300; ++i) {
    const r = await poll(page, train, test);
    if (r.dir !== "" || r.error !== "") return r;
    await page.waitForTimeout(100);
  }
  return { dir: "", error: "timed out" };
}

try {
  const files = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
  const bytes = files.map((f) => statSync(path.join(site, "data", "fashion-mnist", f)).size);
  const total = bytes.reduce((a, b) => a + b, 0);
  console.log(`packaged: ${files.map((f, i) => `${f} ${bytes[i]}`).join(", ")}; total ${total} bytes`);
  check("packaged subset at most 3 MB", total <= 3 * 1024 * 1024, String(total));

  const { page, errors, requests } = await open();
  console.log(`build: ${await page.evaluate(() => window.fieldscopeBuild)}`);
  const first = await poll(page, 5000, 1000);
  check("first call: loading (no dir, no error)", first.dir === "" && first.error === "", JSON.stringify(first));
  const ready = await until_settled(page, 5000, 1000);
  check("ready in the in-memory file system", ready.dir === "/data/fashion-mnist", JSON.stringify(ready));
  check("loads 5000 + 1000 images of 784 pixels", ready.status === "ok" && ready.train === 5000 && ready.test === 1000 && ready.dim === 784,
        JSON.stringify(ready));
  const labels = gunzipSync(readFileSync("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"));
  const expected = Array.from(labels.subarray(8, 18));
  check("first training labels equal the package's", JSON.stringify(ready.first_labels) === JSON.stringify(expected),
        `${JSON.stringify(ready.first_labels)} vs ${JSON.stringify(expected)}`);
  const beyond = await poll(page, 5001, 1000);
  check("more than the subset: a clear sentence", /only 5000 images/.test(beyond.status) && /at most 5000 training points/.test(beyond.status),
        JSON.stringify(beyond));
  const data_requests = requests.filter((u) => u.includes("/data/"));
  check("each file fetched once", data_requests.length === 4, JSON.stringify(data_requests));
  check("only the page's own site is asked", requests.every((u) => u.startsWith(base) || u.startsWith("data:") || u.startsWith("blob:")),
        JSON.stringify(requests.filter((u) => !u.startsWith(base))));
  check("no console errors", errors.length === 0, JSON.stringify(errors));

  const blocked = await open(true);
  const failure = await until_settled(blocked.page, 100, 100);
  check("HTTP failure: an error sentence", failure.dir === "" && /could not be loaded/.test(failure.error) && /HTTP 404/.test(failure.error),
        JSON.stringify(failure));
  const again = await poll(blocked.page, 100, 100);
  check("the failure stays reported", again.error === failure.error, JSON.stringify(again));
  console.log(`error sentence: ${failure.error}`);
  await h.finish("packaged data");
} catch (e) {
  await h.finish("packaged data", e);
}
