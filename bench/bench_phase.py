#!/usr/bin/env python3
"""Phase-diagram benchmark: 256 x 256 grids per activation, the fast path against the reference path
timed in the same run, natively on one thread and in the single-threaded wasm build under node (the
browser's plain-host build). Prints the figures, the agreement and the targets of the speed issue."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NATIVE = os.path.join(ROOT, "build", "native", "fieldscope-bench-phase")
WASM = os.path.join(ROOT, "build", "wasm", "fieldscope-bench-phase.js")


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return {r["activation"]: r for r in (json.loads(line) for line in out.splitlines() if line.startswith("{"))}


def main():
    native = run([NATIVE, "--threads", "1"])
    wasm = run(["node", "--no-experimental-fetch", WASM]) if os.path.exists(WASM) else None
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
        if w:
            checks.append((f"{act}: wasm single-thread <= 1 s", ws <= 1.0, f"{ws:.3f} s (cold {wc:.3f} s), {ws / n['seconds']:.2f}x native"))
            checks.append((f"{act}: first whole picture within 100 ms in wasm", w["first_picture"] <= 0.1, f"{w['first_picture'] * 1e3:.1f} ms"))
        ok = max(n["max_rel_q_star"], n["max_rel_c_star"], n["max_rel_chi_1"]) <= 1e-10
        checks.append((f"{act}: q*, c*, chi_1 within 1e-10 of the reference", ok,
                       f"{max(n['max_rel_q_star'], n['max_rel_c_star'], n['max_rel_chi_1']):.1e}"))
        ok = max(n["max_rel_xi_c"], n["max_rel_lambda"]) <= 1e-8
        checks.append((f"{act}: xi_c, lambda within 1e-8 where |chi_1 - 1| > 1e-3", ok, f"{max(n['max_rel_xi_c'], n['max_rel_lambda']):.1e}"))
    if not wasm:
        checks.append(("wasm build present", False, "build/wasm/fieldscope-bench-phase.js missing"))
    print("  (the wasm build is 128-bit SIMD; the native one is compiled for this CPU)")
    print()
    for name, ok, value in checks:
        print(f"  [{'met ' if ok else 'MISS'}] {name}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
