"""The NumPy peer of the explicit-weight ensemble: M random tanh networks of width N as a researcher would
simulate them with NumPy, doing the work fieldscope-bench-ensemble does per network.

Per network: input weights U ~ N(0, sigma_in^2/d) and bias b ~ N(0, sigma_b^2); per layer (deep) a fresh
W ~ N(0, sigma_w^2/N) drawn with NumPy's Generator (PCG64, ziggurat normals) in the network's precision,
and a fresh bias; for the recurrent net one W and one bias shared over the T steps. One matrix product
per layer over the P inputs and the Lyapunov vector, tanh, the P x P aux field and pre-activation Gram
of every layer, the followed pair's two-time grids, and the ensemble sums (mean and variance). OpenBLAS
does the products (its thread count comes from OPENBLAS_NUM_THREADS, set by the caller); everything else
runs on one core. Used only by bench/bench_ensemble.py, never at run time.

  python3 bench/ensemble_peer.py --arch deep --precision float64 [--inputs FILE] [--N 512 --L 10 --M 64]
prints one JSON object.
"""
import argparse
import json
import time

import numpy as np


def simulate(x, arch, n, depth, members, dtype, sw2=1.5, sb2=0.05, sin2=1.5, seed=1):
    """x: P x d inputs. Returns (seconds, per-layer ensemble mean of the aux field, mean Lyapunov exponent)."""
    p, d = x.shape
    rng = np.random.default_rng(seed)
    xt = x.T.astype(dtype)  # d x P
    sw, sb, sin_ = np.sqrt(sw2 / n), np.sqrt(sb2), np.sqrt(sin2 / d)
    aux_sum = np.zeros((depth + 1, p, p))
    aux_sq = np.zeros((depth + 1, p, p))
    gram_sum = np.zeros((depth + 1, p, p))
    lyapunov = 0.0
    t0 = time.perf_counter()
    for _ in range(members):
        u = rng.standard_normal((n, d), dtype=dtype) * dtype(sin_)
        b = rng.standard_normal((n, 1), dtype=dtype) * dtype(sb)
        h = u @ xt + b
        phi = np.tanh(h)
        hist_h, hist_phi = [h[:, :2]], [phi[:, :2]]
        aux = (sw2 / n) * (phi.T @ phi)
        gram = (1.0 / n) * (h.T @ h)
        aux_sum[0] += aux
        aux_sq[0] += aux * aux
        gram_sum[0] += gram
        v = rng.standard_normal(n, dtype=dtype)
        v /= np.linalg.norm(v)
        growth = 0.0
        act = np.empty((n, p + 1), dtype=dtype)
        w = None
        for layer in range(1, depth + 1):
            if arch == "deep" or w is None:
                w = rng.standard_normal((n, n), dtype=dtype) * dtype(sw)
            if arch == "deep":
                b = rng.standard_normal((n, 1), dtype=dtype) * dtype(sb)
            act[:, :p] = phi
            act[:, p] = (1 - phi[:, 0] ** 2) * v  # tanh' (h_a) v: the Jacobian acts through W
            nxt = w @ act
            h = nxt[:, :p] + b
            norm = np.linalg.norm(nxt[:, p])
            growth += np.log(norm)
            v = nxt[:, p] / norm
            phi = np.tanh(h)
            hist_h.append(h[:, :2])
            hist_phi.append(phi[:, :2])
            aux = (sw2 / n) * (phi.T @ phi)
            gram = (1.0 / n) * (h.T @ h)
            aux_sum[layer] += aux
            aux_sq[layer] += aux * aux
            gram_sum[layer] += gram
        ha, hb = np.stack([c[:, 0] for c in hist_h], 1), np.stack([c[:, 1] for c in hist_h], 1)
        fa, fb = np.stack([c[:, 0] for c in hist_phi], 1), np.stack([c[:, 1] for c in hist_phi], 1)
        _two_time = ((sw2 / n) * (fa.T @ fb), (1.0 / n) * (ha.T @ hb))
        lyapunov += growth / depth
    seconds = time.perf_counter() - t0
    mean = aux_sum / members
    return seconds, mean, lyapunov / members


def gemm_gflops(size, dtype, repeats=3):
    a = np.random.default_rng(0).standard_normal((size, size)).astype(dtype)
    b = a.T.copy()
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2.0 * size ** 3 / (time.perf_counter() - t0) / 1e9)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="deep")
    ap.add_argument("--precision", default="float64")
    ap.add_argument("--inputs", help="P x d inputs as text (fieldscope-bench-ensemble --dump-inputs)")
    ap.add_argument("--N", type=int, default=512)
    ap.add_argument("--L", type=int, default=10)
    ap.add_argument("--P", type=int, default=32)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--M", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    dtype = np.float32 if args.precision == "float32" else np.float64
    x = np.loadtxt(args.inputs, ndmin=2) if args.inputs else np.random.default_rng(7).standard_normal((args.P, args.d))
    p, d = x.shape
    best, mean, lyap = 1e300, None, None
    for _ in range(args.repeats):
        seconds, mean, lyap = simulate(x, args.arch, args.N, args.L, args.M, dtype)
        best = min(best, seconds)
    flops = 2.0 * args.N * d * p + args.L * 2.0 * args.N * args.N * p
    print(json.dumps({"kind": "numpy", "arch": args.arch, "precision": args.precision, "N": args.N, "L": args.L, "P": p,
                      "M": args.M, "seconds": best, "gflops": flops * args.M / best / 1e9,
                      "networks_per_second": args.M / best, "gemm_peak_gflops": gemm_gflops(1024, dtype),
                      "last_aux_ab_mean": float(mean[-1, 0, 1]), "lyapunov_mean": float(lyap)}))


if __name__ == "__main__":
    main()
