#!/usr/bin/env python3
"""Deep-kernel benchmark: Fieldscope native and wasm (node) against the NumPy peer, in one invocation.

Prints kernel entries x layers per second for ReLU, erf and tanh at P = 1000, L = 10, the ratios, the
agreement of the numbers, and whether each target of the foundation issue is met.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targets import print_checks  # noqa: E402
import numpy_peer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "build", "native", "fieldscope-bench")
WASM = os.path.join(ROOT, "build", "wasm", "fieldscope-bench.js")
WASM_MT = os.path.join(ROOT, "build", "wasm-mt", "fieldscope-bench.js")  # the pthreads build
NATIVE128 = os.path.join(ROOT, "build", "native128", "fieldscope-bench")  # 128-bit SIMD, the width of wasm's
P, L = 1000, 10
ACTS = ["relu", "erf", "tanh"]


def run_bench(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["activation"]: r for r in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}


def main():
    threads = os.cpu_count() or 1
    print(f"Deep NNGP kernel recursion, P = {P} inputs, L = {L} layers, sigma_w^2 = 1.5, sigma_b^2 = 0.05; "
          f"one thread and all {threads} threads")
    base = ["--P", str(P), "--L", str(L)]
    native = run_bench([NATIVE, *base, "--repeats", "3", "--threads", "1"])
    native_all = run_bench([NATIVE, *base, "--repeats", "3", "--threads", "0"])
    native128 = native128_all = None
    if os.path.exists(NATIVE128):
        native128 = run_bench([NATIVE128, *base, "--repeats", "3", "--threads", "1"])
        native128_all = run_bench([NATIVE128, *base, "--repeats", "3", "--threads", "0"])
    wasm = wasm_all = None
    if os.path.exists(WASM):
        wasm = run_bench(["node", "--no-experimental-fetch", WASM, *base, "--repeats", "2"])
    if os.path.exists(WASM_MT):
        wasm_all = run_bench(["node", "--no-experimental-fetch", WASM_MT, *base, "--repeats", "2", "--threads", "0"])

    # The peer on the same inputs; tanh's 2-D quadrature is timed on a smaller problem (its cost per
    # entry does not depend on P) so that the benchmark finishes in minutes.
    peer = {}
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "k")
        subprocess.run([NATIVE, "--P", str(P), "--L", str(L), "--dump", dump, "--act", "relu,erf"], check=True, capture_output=True)
        gram = np.loadtxt(dump + ".gram")
        agreement = {}
        for act in ["relu", "erf"]:
            k, sec = numpy_peer.run(act, gram, L)
            peer[act] = P * P * L / sec
            ours = np.loadtxt(dump + "." + act)
            agreement[act] = np.max(np.abs(k - ours)) / np.max(np.abs(ours))
        p_small, l_small = 250, 2
        subprocess.run([NATIVE, "--P", str(p_small), "--L", str(l_small), "--dump", dump, "--act", "tanh"], check=True, capture_output=True)
        gram_small = np.loadtxt(dump + ".gram")
        k, sec = numpy_peer.run("tanh", gram_small, l_small)
        peer["tanh"] = p_small * p_small * l_small / sec
        ours = np.loadtxt(dump + ".tanh")
        agreement["tanh"] = np.max(np.abs(k - ours)) / np.max(np.abs(ours))

    def rate(result, act):
        return result[act]["entries_layers_per_second"] if result else float("nan")

    print()
    print(f"{'activation':<10} {'threads':>7} {'native /s':>12} {'128-bit /s':>12} {'wasm /s':>12} {'NumPy /s':>12} {'native/NumPy':>13} "
          f"{'native/wasm':>12} {'128-bit/wasm':>12} {'max rel diff':>13}")
    for act in ACTS:
        for label, n_res, s_res, w_res in (("1", native, native128, wasm), (str(threads), native_all, native128_all, wasm_all)):
            n, n128, w = rate(n_res, act), rate(s_res, act), rate(w_res, act)
            print(f"{act:<10} {label:>7} {n:12.4g} {n128:12.4g} {w:12.4g} {peer[act]:12.4g} {n / peer[act]:13.1f} {n / w:12.2f} "
                  f"{n128 / w:12.2f} {agreement[act]:13.2e}")
    print("  (NumPy is single-threaded here: its element-wise kernels run on one core. NumPy tanh: 2-D")
    print("   Gauss-Hermite with 48 x 48 nodes, timed at P = 250, L = 2; max rel diff: NumPy vs native kernels)")

    print()
    checks = []
    for act in ["relu", "erf"]:
        r1, r = rate(native, act) / peer[act], rate(native_all, act) / peer[act]
        checks.append((f"native {act} >= 2x NumPy", r >= 2, f"{r:.1f}x with {threads} threads, {r1:.1f}x with one"))
    r1, r = rate(native, "tanh") / peer["tanh"], rate(native_all, "tanh") / peer["tanh"]
    checks.append(("native tanh >= 50x NumPy", r >= 50, f"{r:.0f}x with {threads} threads, {r1:.0f}x with one"))
    r = rate(native, "erf") / rate(native, "tanh")
    checks.append(("tanh costs <= 3x erf per entry", r <= 3, f"{r:.2f}x"))
    for act in ACTS:
        if wasm:
            r = rate(native, act) / rate(wasm, act)
            checks.append((f"wasm {act} within 2x of native (one thread each)", r <= 2, f"{r:.2f}x slower"))
        if wasm_all:
            r = rate(native_all, act) / rate(wasm_all, act)
            checks.append((f"wasm {act} within 2x of native ({threads} threads each)", r <= 2, f"{r:.2f}x slower"))
    # The same vector width: wasm SIMD is 128-bit, so a native build limited to 128-bit SIMD (SSE4.2, no
    # FMA) is the fair reference; the -march=native ratios above include AVX-512's 4x wider vectors.
    for act in ACTS:
        for label, s_res, w_res in (("one thread each", native128, wasm), (f"{threads} threads each", native128_all, wasm_all)):
            if s_res and w_res:
                r = rate(s_res, act) / rate(w_res, act)
                checks.append((f"wasm {act} within 1.5x of the 128-bit native build ({label})", r <= 1.5, f"{r:.2f}x slower"))
    if not native128:
        checks.append(("128-bit native build present", False, "build/native128/fieldscope-bench missing"))
    if not wasm:
        checks.append(("wasm build present", False, "build/wasm/fieldscope-bench.js missing"))
    if not wasm_all:
        checks.append(("threaded wasm build present", False, "build/wasm-mt/fieldscope-bench.js missing"))
    return print_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
