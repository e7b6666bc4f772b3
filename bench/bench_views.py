#!/usr/bin/env python3
"""Theory-view benchmark: what a slider move recomputes, natively on one thread and in the
single-threaded wasm build under node (the browser's plain-host build). 256 x 256 phase diagrams per
activation, the fast path against the reference path timed in the same run; the signal view, the
critical line and the kernels. Prints the figures, the agreement and the targets of the speed issue."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from targets import print_checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "build", "native", "fieldscope-bench-views")
WASM = os.path.join(ROOT, "build", "wasm", "fieldscope-bench-views.js")
NATIVE128 = os.path.join(ROOT, "build", "native128", "fieldscope-bench-views")  # 128-bit SIMD, as wasm


def run(cmd):
    """{activation: phase record} and {(view, activation): record} of the other views."""
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    phase = {r["activation"]: r for r in records if r["view"] == "phase"}
    views = {(r["view"], r["activation"]): r for r in records if r["view"] != "phase"}
    return phase, views


def main():
    native, native_views = run([NATIVE, "--threads", "1"])
    wasm, wasm_views = run(["node", "--no-experimental-fetch", WASM]) if os.path.exists(WASM) else (None, None)
    n128, _ = run([NATIVE128, "--threads", "1", "--reference-stride", "64"]) if os.path.exists(NATIVE128) else (None, None)
    size = next(iter(native.values()))["size"]
    print(f"Phase diagram {size} x {size} (sigma_w^2 in [0.5, 4], sigma_b^2 in [0, 1]): q*, c*, chi_1, chi_c, xi_c, lambda_max;")
    print("one thread. 'cold' builds the tables on the way (the first diagram of an activation in a session);")
    print("the reference path (quadrature at each q*) is timed on every 4th row and column and scaled to the grid.")
    print()
    print(f"{'activation':<9} {'chaotic':>7} {'native s':>9} {'cold s':>7} {'first':>8} {'reference s':>11} {'speed-up':>8} "
          f"{'wasm s':>7} {'wasm cold':>9} {'wasm/nat':>8}  max rel diff q* c* chi_1 | xi_c lambda")
    checks = []
    for act, n in native.items():
        ref = n["reference_seconds_per_cell"] * size * size
        w = wasm.get(act) if wasm else None
        ws = w["seconds"] if w else float("nan")
        wc = w["seconds_cold"] if w else float("nan")
        diffs = f"{n['max_rel_q_star']:.0e} {n['max_rel_c_star']:.0e} {n['max_rel_chi_1']:.0e} | {n['max_rel_xi_c']:.0e} {n['max_rel_lambda']:.0e}"
        print(f"{act:<9} {n['chaotic_cells'] / n['reference_cells']:>6.0%} {n['seconds']:9.3f} {n['seconds_cold']:7.3f} "
              f"{n['first_picture'] * 1e3:6.1f}ms {ref:11.2f} {ref / n['seconds']:7.0f}x {ws:7.3f} {wc:9.3f} {ws / n['seconds']:8.2f}  {diffs}")
        checks.append((f"{act}: native <= 0.25 s on one thread", n["seconds"] <= 0.25, f"{n['seconds']:.3f} s (cold {n['seconds_cold']:.3f} s)"))
        if w and n128:
            r = ws / n128[act]["seconds"]
            checks.append((f"{act}: wasm within 1.5x of the 128-bit native build", r <= 1.5, f"{r:.2f}x ({n128[act]['seconds']:.3f} s native)"))
        if w:
            checks.append((f"{act}: wasm single-thread <= 1 s", ws <= 1.0, f"{ws:.3f} s (cold {wc:.3f} s), {ws / n['seconds']:.2f}x native"))
            checks.append((f"{act}: first whole picture within 100 ms in wasm", w["first_picture"] <= 0.1, f"{w['first_picture'] * 1e3:.1f} ms"))
        ok = max(n["max_rel_q_star"], n["max_rel_c_star"], n["max_rel_chi_1"]) <= 1e-10
        checks.append((f"{act}: q*, c*, chi_1 within 1e-10 of the reference", ok,
                       f"{max(n['max_rel_q_star'], n['max_rel_c_star'], n['max_rel_chi_1']):.1e}"))
        ok = max(n["max_rel_xi_c"], n["max_rel_lambda"]) <= 1e-8
        checks.append((f"{act}: xi_c, lambda within 1e-8 where |chi_1 - 1| > 1e-3", ok, f"{max(n['max_rel_xi_c'], n['max_rel_lambda']):.1e}"))
    print()
    print("A slider move in the other views (sigma_w^2 = 1.5, sigma_b^2 = 0.05; one thread, best of three): the fixed point")
    print("with q^l, c^l through L = 100 layers; the 64-point critical line; the deep kernel of P = 256 inputs, L = 100;")
    print("the recurrent two-time kernel of P = 32 inputs, T = 100 (P = 256 would need 2.7 GB).")
    print(f"{'view':<17} " + " ".join(f"{a + ' ms':>15}" for a in native) + "   (native / wasm)")
    for view in ["signal", "critical_line", "deep_kernel", "recurrent_kernel"]:
        cells = []
        for act in native:
            n = native_views[(view, act)]["seconds"] * 1e3
            w = wasm_views[(view, act)]["seconds"] * 1e3 if wasm_views else float("nan")
            cells.append(f"{n:7.2f} /{w:7.2f}")
            checks.append((f"{view} {act}: native <= 16 ms", n <= 16, f"{n:.2f} ms"))
            if wasm_views:
                checks.append((f"{view} {act}: wasm <= 50 ms", w <= 50, f"{w:.2f} ms"))
        print(f"{view:<17} " + " ".join(f"{c:>15}" for c in cells))
        if view.endswith("kernel"):  # the inputs whose kernel fits one frame at this rate (cost ~ P^2 L)
            p0, layers = (256, 100) if view == "deep_kernel" else (32, 100)
            fit = [f"P ~ {p0 * (0.016 / native_views[(view, a)]['seconds']) ** 0.5:.0f}" for a in native]
            print(f"{'  in 16 ms native':<17} " + " ".join(f"{c:>15}" for c in fit))
    if not wasm:
        checks.append(("wasm build present", False, "build/wasm/fieldscope-bench-views.js missing"))
    print("  (the wasm build is 128-bit SIMD; the native one is compiled for this CPU)")
    print()
    return print_checks(checks)


if __name__ == "__main__":
    sys.exit(main())
