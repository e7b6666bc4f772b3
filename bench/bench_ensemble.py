#!/usr/bin/env python3
"""Explicit-weight ensemble benchmark: Fieldscope native, wasm and wasm with threads (node) against the NumPy
peer (bench/ensemble_peer.py) in one invocation, and against the machine's GEMM peak measured by the
benchmark program itself (Eigen GEMM of a 1024^3 square, same precision and thread count; in wasm that is
the wasm SIMD GEMM).

Work: M = 64 tanh networks of width N = 512 on P = 32 inputs, L = 10 layers (deep: fresh N x N weights per
layer) and T = 10 steps (recurrent: one W shared over the steps), float64 and float32, one thread and all.
GFLOP/s counts the GEMMs only: 2 N d P for the input layer + 2 N^2 P per layer. Targets of issue #4, checked
for both architectures: native >= 60% of the GEMM peak; wasm >= 50% of the wasm SIMD GEMM peak.

  bench/bench_ensemble.py [--build-root DIR] [--native PATH] [--wasm PATH.js] [--wasm-mt PATH.js] [--quick]
--build-root DIR takes the three programs from DIR/native, DIR/wasm and DIR/wasm-mt (default: build/); the
environment variable FIELDSCOPE_BENCH_BUILD_ROOT does the same.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targets import print_checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEER = os.path.join(ROOT, "bench", "ensemble_peer.py")
N, L, P, M = 512, 10, 32, 64
ARCHS = ["deep", "recurrent"]
PRECISIONS = ["float64", "float32"]
TARGET = {"native": 0.60, "native128": 0.60, "wasm": 0.50, "wasm-mt": 0.50}


def run_lines(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def ours(cmd, threads, repeats, parts):
    """{(arch, precision): ensemble record} from one run of fieldscope-bench-ensemble; the per-layer time
    split (deep_layer_parts records) goes into `parts`."""
    lines = run_lines([*cmd, "--N", str(N), "--L", str(L), "--P", str(P), "--M", str(M), "--threads", str(threads),
                       "--repeats", str(repeats)])
    for r in lines:
        if r["kind"] == "deep_layer_parts":
            parts.append(r)
    return {(r["arch"], r["precision"]): r for r in lines if r["kind"] == "ensemble"}


def peer(inputs, arch, precision, threads, repeats):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    return run_lines([sys.executable, PEER, "--inputs", inputs, "--arch", arch, "--precision", precision, "--N", str(N),
                      "--L", str(L), "--M", str(M), "--repeats", str(repeats)], env)[0]


def main():
    ap = argparse.ArgumentParser()
    root = os.environ.get("FIELDSCOPE_BENCH_BUILD_ROOT", os.path.join(ROOT, "build"))
    ap.add_argument("--build-root", default=root)
    ap.add_argument("--native")
    ap.add_argument("--wasm")
    ap.add_argument("--wasm-mt")
    ap.add_argument("--quick", action="store_true", help="one repeat each (noisier)")
    args = ap.parse_args()
    native = args.native or os.path.join(args.build_root, "native", "fieldscope-bench-ensemble")
    wasm = args.wasm or os.path.join(args.build_root, "wasm", "fieldscope-bench-ensemble.js")
    wasm_mt = args.wasm_mt or os.path.join(args.build_root, "wasm-mt", "fieldscope-bench-ensemble.js")
    native128 = os.path.join(args.build_root, "native128", "fieldscope-bench-ensemble")  # 128-bit SIMD, as wasm
    repeats = 1 if args.quick else 3
    threads = os.cpu_count() or 1
    # --no-liftoff: V8 compiles the wasm with its optimising tier at once, so that short timings measure the
    # code a long ensemble runs in (dynamic tier-up otherwise leaves the first calls in the baseline tier).
    node = ["node", "--no-experimental-fetch", "--no-liftoff"]
    print(f"Explicit-weight ensembles: M = {M} tanh networks, N = {N}, P = {P} inputs, L = {L} layers (deep) / T = {L} steps "
          f"(recurrent, one shared W); sigma_w^2 = 1.5, sigma_b^2 = 0.05; one thread and all {threads}")
    print("GFLOP/s counts the GEMMs only: 2 N d P (input layer, d = 16) + 2 N^2 P per layer or step = "
          f"{(2 * N * 16 * P + L * 2 * N * N * P) / 1e9:.4f} GFLOP per network")

    results = {}  # (target, threads) -> {(arch, precision): record}
    if not os.path.exists(native):
        print(f"missing {native}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        inputs = os.path.join(tmp, "inputs.txt")
        parts = {}  # target -> one-thread layer splits
        runs = (("native", native, [native, "--dump-inputs", inputs], 1), ("native", native, [native], 0),
                ("native128", native128, [native128], 1), ("wasm", wasm, [*node, wasm], 1), ("wasm-mt", wasm_mt, [*node, wasm_mt], 0))
        for target, program, cmd, t in runs:
            if not os.path.exists(program):
                continue
            split = parts.setdefault(target, []) if t == 1 else []
            results[(target, t or threads)] = ours(cmd, t, repeats if target == "native" else max(1, repeats - 1), split)
        numpy = {}
        for t in sorted({1, threads}):
            for arch in ARCHS:
                for precision in PRECISIONS:
                    numpy[(arch, precision, t)] = peer(inputs, arch, precision, t, max(1, repeats - 1))

    print()
    head = (f"{'build':<8} {'thr':>3} {'arch':<9} {'precision':<9} {'GFLOP/s':>8} {'nets/s':>8} {'GEMM peak':>9} "
            f"{'of peak':>7} {'shape GEMM':>10} {'of shape':>8} {'NumPy GF/s':>10} {'x NumPy':>7}")
    print(head)
    checks = []
    for (target, t), recs in results.items():
        for arch in ARCHS:
            for precision in PRECISIONS:
                r = recs.get((arch, precision))
                if not r:
                    continue
                ref = numpy.get((arch, precision, t)) or numpy.get((arch, precision, threads))
                ratio = r["gflops"] / ref["gflops"]
                print(f"{target:<8} {r['threads']:>3} {arch:<9} {precision:<9} {r['gflops']:8.2f} {r['networks_per_second']:8.1f} "
                      f"{r['peak_gflops']:9.2f} {r['fraction_of_peak']:7.0%} {r['shape_gflops']:10.2f} {r['fraction_of_shape']:8.0%} "
                      f"{ref['gflops']:10.2f} {ratio:7.1f}")
                goal = TARGET[target]
                checks.append((f"{target} {arch} {precision}, {r['threads']} thread(s) >= {goal:.0%} of the GEMM peak",
                               r["fraction_of_peak"] >= goal,
                               f"{r['fraction_of_peak']:.0%} ({r['gflops']:.1f} of {r['peak_gflops']:.1f} GFLOP/s; "
                               f"{ratio:.1f}x NumPy)"))
    print("  (GEMM peak: Eigen, 1024^3, every thread multiplying its own matrices; shape GEMM: N x N times N x P, the")
    print("   ensemble's own product; NumPy: Generator.standard_normal + OpenBLAS with the same thread count, its other")
    print(f"   work on one core; NumPy's own OpenBLAS 1024^3 GEMM: "
          + ", ".join(f"{p} {numpy[('deep', p, t)]['gemm_peak_gflops']:.1f} GFLOP/s ({t} thr)" for p in PRECISIONS
                      for t in sorted({1, threads})) + ")")
    print()
    print("Where one deep layer's time goes (each part alone, one thread): drawing W, the product W [Phi, u], phi = tanh")
    print(f"{'build':<8} {'precision':<9} {'ns/normal':>9} {'W ms':>6} {'Philox ms':>9} {'GEMM ms':>7} {'phi ms':>6} "
          f"{'bound: free W':>13} {'bound: free W and phi':>21} {'bound: Philox only':>18}")
    for target, recs in parts.items():
        for r in recs:
            print(f"{target:<8} {r['precision']:<9} {r['ns_per_normal']:9.2f} {r['weights_ms']:6.3f} {r['philox_ms']:9.3f} "
                  f"{r['gemm_ms']:7.3f} {r['phi_ms']:6.3f} {r['fraction_of_peak_free_weights']:13.0%} "
                  f"{r['fraction_of_peak_free_weights_and_phi']:21.0%} {r['fraction_of_peak_philox_only']:18.0%}")
    print("  (bound: the fraction of the one-thread GEMM peak a layer reaches if drawing W, or W and phi, cost nothing;")
    print("   Philox only: if turning the Philox4x32-10 words into normals, phi and everything else cost nothing)")
    # wasm against the native build of the same vector width (128-bit SIMD, no FMA), one thread each.
    for arch in ARCHS:
        for precision in PRECISIONS:
            s128 = results.get(("native128", 1), {}).get((arch, precision))
            w = results.get(("wasm", 1), {}).get((arch, precision))
            if s128 and w:
                r = s128["gflops"] / w["gflops"]
                checks.append((f"wasm {arch} {precision} within 1.5x of the 128-bit native build (one thread each)", r <= 1.5,
                               f"{r:.2f}x slower ({w['gflops']:.1f} vs {s128['gflops']:.1f} GFLOP/s)"))
    for target in ("native128", "wasm", "wasm-mt"):
        if not any(k[0] == target for k in results):
            checks.append((f"{target} build present", False, "fieldscope-bench-ensemble missing"))
    print()
    return print_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
