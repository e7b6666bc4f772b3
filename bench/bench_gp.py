#!/usr/bin/env python3
"""GP inference benchmark: Fieldscope native and wasm (node) against NumPy/SciPy (OpenBLAS) and
scikit-learn's GaussianProcessRegressor doing the same work in the same invocation.

Work: the ReLU NNGP readout kernel (L = 3) over n Fashion-MNIST training + 1000 test images (784
pixels, all ten classes, one-hot targets), the Cholesky factorisation of the training block, the
posterior means and variances, for n = 2000 and 4000. Prints the times, the ratios, the agreement of
the posterior means, and whether the issue's targets are met: native at least as fast as the SciPy
peer; wasm within 3x of native.

  bench/bench_gp.py [--native PATH] [--wasm PATH.js] [--train 2000,4000]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targets import print_checks  # noqa: E402
import gp_peer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEST, DEPTH = 1000, 3


def run_bench(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["train"]: r for r in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--native", default=os.path.join(ROOT, "build", "native", "fieldscope-bench-gp"))
    ap.add_argument("--wasm", default=os.path.join(ROOT, "build", "wasm", "fieldscope-bench-gp.js"))
    ap.add_argument("--native128", default=os.path.join(ROOT, "build", "native128", "fieldscope-bench-gp"))
    ap.add_argument("--train", default="2000,4000")
    args = ap.parse_args()
    sizes = [int(s) for s in args.train.split(",")]
    if not os.path.exists(os.path.join(gp_peer.DATA, "train-images-idx3-ubyte.gz")):
        print("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
        return 1
    threads = os.cpu_count() or 1
    print(f"GP inference on Fashion-MNIST: ReLU NNGP kernel (L = {DEPTH}, sigma_w^2 = 2, sigma_b^2 = 0.1), "
          f"n training + {TEST} test points, 784 pixels, 10 classes; kernel + Cholesky + means + variances; {threads} threads")
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "mean")
        base = ["--train", args.train, "--test", str(TEST), "--L", str(DEPTH)]
        native = run_bench([args.native, *base, "--threads", "0", "--dump", dump])
        native1 = run_bench([args.native, *base, "--threads", "1"])
        wasm = run_bench(["node", "--no-experimental-fetch", args.wasm, *base]) if os.path.exists(args.wasm) else None
        native128 = run_bench([args.native128, *base, "--threads", "1"]) if os.path.exists(args.native128) else None
        rows, checks = [], []
        for n in sizes:
            xtr, ytr, xte, yte = gp_peer.load(n, TEST)
            sp = gp_peer.scipy_run(xtr, ytr, xte, DEPTH)
            sk = gp_peer.sklearn_run(xtr, ytr, xte, DEPTH)
            ours = np.loadtxt(f"{dump}.{n}")
            ours_var = np.loadtxt(f"{dump}.{n}.var")
            diff = np.max(np.abs(ours - sp["mean"])) / np.max(np.abs(sp["mean"]))
            diff_var = np.max(np.abs(ours_var - sp["variance"])) / np.max(np.abs(sp["variance"]))
            diff_sk = np.max(np.abs(sk["mean"] - sp["mean"])) / np.max(np.abs(sp["mean"]))
            acc_sp = float(np.mean(np.argmax(sp["mean"], axis=1) == yte))
            nat = native[n]
            w = wasm[n]["seconds"] if wasm else float("nan")
            rows.append((n, nat, native1[n], w, sp, sk, diff, diff_var, diff_sk, acc_sp))
            checks.append((f"n = {n}: native at least as fast as NumPy/SciPy", nat["seconds"] <= sp["seconds"],
                           f"{sp['seconds'] / nat['seconds']:.2f}x faster"))
            checks.append((f"n = {n}: posterior means agree with SciPy", diff < 1e-8 and diff_var < 1e-8,
                           f"max rel diff {diff:.1e} (means), {diff_var:.1e} (variances); scikit-learn vs SciPy {diff_sk:.1e}"))
            if wasm and native128:  # the same vector width (128-bit SIMD) and thread count (one)
                s128 = native128[n]["seconds"]
                checks.append((f"n = {n}: wasm within 1.5x of the 128-bit native build (one thread each)", w <= 1.5 * s128,
                               f"{w / s128:.2f}x slower ({s128:.3f} s vs {w:.3f} s)"))
            if wasm:
                checks.append((f"n = {n}: wasm within 3x of native", w <= 3 * nat["seconds"],
                               f"{w / nat['seconds']:.2f}x slower than native with {threads} threads, "
                               f"{w / native1[n]['seconds']:.2f}x than native with one"))
            else:
                checks.append(("wasm build present", False, f"{args.wasm} missing"))
    print()
    print(f"{'n':>5} {'native s':>9} {'(kernel':>8} {'solve)':>7} {'1 thread':>8} {'wasm s':>8} {'SciPy s':>8} {'(kernel':>8} {'solve)':>7} "
          f"{'sklearn s':>9} {'SciPy/nat':>9} {'sk/nat':>7} {'wasm/nat':>8} {'accuracy':>8}")
    for n, nat, nat1, w, sp, sk, diff, diff_var, diff_sk, acc_sp in rows:
        print(f"{n:>5} {nat['seconds']:9.3f} {nat['kernel_seconds']:8.3f} {nat['solve_seconds']:7.3f} {nat1['seconds']:8.3f} {w:8.3f} {sp['seconds']:8.3f} "
              f"{sp['kernel_seconds']:8.3f} {sp['solve_seconds']:7.3f} {sk['seconds']:9.3f} {sp['seconds'] / nat['seconds']:9.2f} "
              f"{sk['seconds'] / nat['seconds']:7.2f} {w / nat['seconds']:8.2f} {nat['accuracy']:8.3f}")
    print("  (native: all threads, and one; wasm: the single-threaded build under node; SciPy/scikit-learn: OpenBLAS with its")
    print("   default threads, NumPy element-wise kernels on one core; accuracy: 10-class test accuracy, the same for all)")
    print()
    return print_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
