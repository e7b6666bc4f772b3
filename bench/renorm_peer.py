#!/usr/bin/env python3
"""An independent NumPy/SciPy implementation of the kernel-renormalization theory (docs/theory.md §10),
written from the equations alone: the reference that tests/renorm_cli_test.py compares fieldscope-cli renorm
with on identical data and gates, and the peer ./fieldscope bench times it against.

Usage: renorm_peer.py --train-csv F --test-csv F [--gates-csv F] --widths 50,50 --gates 4,4,1
                      [--sigma2 1] [--temperature 0.05] [--threshold 0] [--tolerance 1e-12]
Prints JSON: order_parameters, theory and gp statistics, iterations, seconds."""
import argparse
import json
import time

import numpy as np
import scipy.linalg as sla
import scipy.optimize as sopt


def load_labelled(path):
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    return rows[:, :-1], rows[:, -1]


def load_gates(path, layers, dim):
    vectors = [np.zeros((0, dim)) for _ in range(layers)]
    if path:
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
        for l in range(layers):
            vectors[l] = rows[rows[:, 0] == l + 1, 1:]
    return vectors


def gate_matrix(v, threshold, x):
    if v.shape[0] == 0:
        return np.ones((x.shape[0], 1))
    return (x @ v.T / np.sqrt(x.shape[1]) > threshold).astype(float)


def features(vectors, threshold, x_train, x_test):
    g_train = [gate_matrix(v, threshold, x_train) for v in vectors]
    g_test = [gate_matrix(v, threshold, x_test) for v in vectors]

    def paths(g):  # readout gates first, then layers L..2 appended as the fastest index (numpy kron order)
        phi = g[-1]
        for k in range(len(g) - 2, 0, -1):
            phi = (phi[:, :, None] * g[k][:, None, :]).reshape(phi.shape[0], -1)
        return phi

    n0 = x_train.shape[1]
    m1 = g_train[0].shape[1]
    base = (x_train @ x_train.T / n0) * (g_train[0] @ g_train[0].T / m1)
    base_test = (x_test @ x_train.T / n0) * (g_test[0] @ g_train[0].T / m1)
    base_diag = (np.sum(x_test**2, 1) / n0) * (np.sum(g_test[0]**2, 1) / m1)
    return paths(g_train), paths(g_test), base, base_test, base_diag


class Theory:
    def __init__(self, widths, gates, sigma2, temperature, feats, y):
        self.widths, self.gates, self.t, self.y = widths, gates, temperature, y
        self.phi, self.phi_test, self.base, self.base_test, self.base_diag = feats
        self.layers = len(widths)
        self.d = [int(np.prod(gates[l + 1:])) for l in range(self.layers)]  # D_1 .. D_L
        self.c = sigma2 ** (self.layers + 1) / self.d[0]

    def kernel(self, u1):
        return self.c * (self.phi @ u1 @ self.phi.T) * self.base

    def g_matrix(self, u1):
        a = self.kernel(u1) + self.t * np.eye(len(self.y))
        cho = sla.cho_factor(a, lower=True)
        a_inv = sla.cho_solve(cho, np.eye(len(self.y)))
        zeta = a_inv @ self.y
        omega = a_inv - np.outer(zeta, zeta)
        return self.c * self.phi.T @ (omega * self.base) @ self.phi

    def upper_inverse(self, u, l):  # U_{l+1}^-1 (x) I_{M_{l+1}}, l = 1..L (1-based)
        inner = self.gates[l]
        if l == self.layers:
            return np.eye(inner)
        return np.kron(np.linalg.inv(u[l]), np.eye(inner))

    @staticmethod
    def partial_trace(u, inner):
        d = u.shape[0] // inner
        return np.einsum("pmqm->pq", u.reshape(d, inner, d, inner))

    @staticmethod
    def sym_fn(a, f):
        w, q = np.linalg.eigh((a + a.T) / 2)
        return (q * f(w)) @ q.T

    def riccati(self, u, l):  # l = 2..L (1-based)
        a = self.widths[l - 1] * self.upper_inverse(u, l)
        b = self.widths[l - 2] * self.gates[l - 1] - self.widths[l - 1]
        c = self.widths[l - 2]
        s = self.partial_trace(u[l - 2], self.gates[l - 1])
        ah = self.sym_fn(a, np.sqrt)
        aih = self.sym_fn(a, lambda w: 1 / np.sqrt(w))
        root = self.sym_fn(4 * c * ah @ s @ ah, lambda w: np.sqrt(np.maximum(b * b + w, 0)))
        v = 0.5 * (root - b * np.eye(a.shape[0]))
        r = aih @ v @ aih
        return (r + r.T) / 2

    def solve_fixed_point(self, tolerance, max_iterations=200000):
        """The damped fixed point of docs/theory.md §10.6 without acceleration: U_1 mixed in inverse space
        with halving on failure, the upper layers mixed with their Riccati roots."""
        u = [np.eye(d) for d in self.d]
        eta = 0.5
        for it in range(max_iterations + 1):
            g = self.g_matrix(u[0])
            target_inv = self.upper_inverse(u, 1) + g / self.widths[0]
            roots = [self.riccati(u, l) for l in range(2, self.layers + 1)]
            residual = np.max(np.abs(u[0] @ target_inv - np.eye(self.d[0])))
            for l, r in zip(range(2, self.layers + 1), roots):
                residual = max(residual, np.max(np.abs(r - u[l - 1])))
            if residual <= tolerance or it == max_iterations:
                return u, it, residual
            u1_inv = np.linalg.inv(u[0])
            step = eta
            while True:
                mixed = (1 - step) * u1_inv + step * target_inv
                try:
                    np.linalg.cholesky(mixed)
                    break
                except np.linalg.LinAlgError:
                    step /= 2
            new_u1 = np.linalg.inv(mixed)
            u = [(new_u1 + new_u1.T) / 2] + [(1 - step) * u[l - 1] + step * r for l, r in zip(range(2, self.layers + 1), roots)]

    def solve_scalar(self):
        k_gp = self.kernel(np.eye(1))
        lam, q = np.linalg.eigh(k_gp)
        lam = np.maximum(lam, 0)
        y2 = (q.T @ self.y) ** 2
        widths = np.array(self.widths, float)

        def h(kappa):
            u1 = np.prod(1 - kappa / widths)
            ul = u1 * lam
            return kappa - np.sum(ul / (ul + self.t) - ul * y2 / (ul + self.t) ** 2)

        hi = widths.min() * (1 - 1e-15)
        lo = -len(self.y) - 1.0
        while h(lo) > 0:
            lo *= 2
        kappa = sopt.brentq(h, lo, hi, xtol=1e-15, rtol=1e-15)
        u, prod = [], 1.0
        for n in reversed(self.widths):
            prod *= 1 - kappa / n
            u.insert(0, np.array([[prod]]))
        return u

    def predict(self, u1, y_test):
        k = self.kernel(u1)
        kt = self.c * (self.phi_test @ u1 @ self.phi.T) * self.base_test
        kd = self.c * np.sum((self.phi_test @ u1) * self.phi_test, 1) * self.base_diag
        a = k + self.t * np.eye(len(self.y))
        cho = sla.cho_factor(a, lower=True)
        zeta = sla.cho_solve(cho, self.y)
        mean = kt @ zeta
        var = kd - np.sum(kt.T * sla.cho_solve(cho, kt.T), 0)
        a_inv = sla.cho_solve(cho, np.eye(len(self.y)))
        train_error = (self.t**2 * zeta @ zeta + self.t * np.trace(k @ a_inv)) / len(self.y)
        bias2 = np.mean((mean - y_test) ** 2)
        return {"mean": mean.tolist(), "variance": var.tolist(), "bias2": bias2, "variance_mean": float(np.mean(var)),
                "generalization_error": bias2 + float(np.mean(var)), "training_error": float(train_error)}


def relu_nngp(layers, sigma2, temperature, x_train, y_train, x_test, y_test):
    """GP regression with the NNGP kernel of a ReLU network of `layers` hidden layers, weight variance sigma2,
    no biases: the arc-cosine recursion started from sigma2 x.x'/N0 (docs/theory.md §10.2)."""
    x = np.vstack([x_train, x_test])
    k = sigma2 * (x @ x.T) / x.shape[1]
    for _ in range(layers):
        d = np.sqrt(np.diag(k))
        cos = np.clip(k / np.outer(d, d), -1.0, 1.0)
        theta = np.arccos(cos)
        k = sigma2 * np.outer(d, d) * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi)
    p = len(y_train)
    a = k[:p, :p] + temperature * np.eye(p)
    cho = sla.cho_factor(a, lower=True)
    zeta = sla.cho_solve(cho, y_train)
    kt = k[p:, :p]
    mean = kt @ zeta
    var = np.diag(k)[p:] - np.sum(kt.T * sla.cho_solve(cho, kt.T), 0)
    bias2 = float(np.mean((mean - y_test) ** 2))
    return {"mean": mean.tolist(), "variance": var.tolist(), "bias2": bias2, "variance_mean": float(np.mean(var)),
            "generalization_error": bias2 + float(np.mean(var))}


def gibbs(widths, gates, sigma2, temperature, vectors, threshold, x_train, y, x_test, chains, sweeps, seed=1):
    """The exact blocked Gibbs sampler of docs/theory.md §10.9 (Matheron's rule), written independently:
    returns the posterior mean of f on the test points over chains and sweeps."""
    rng = np.random.default_rng(seed)
    layers = len(widths)
    dims = [x_train.shape[1]] + list(widths)
    g_train = [gate_matrix(v, threshold, x_train) for v in vectors]
    g_test = [gate_matrix(v, threshold, x_test) for v in vectors]

    def gated(x, g):
        return (g[:, :, None] * x[:, None, :]).reshape(x.shape[0], -1)

    def forward(w, x, g):
        acts = [x]
        for l in range(layers + 1):
            out = gated(acts[-1], g[l]) @ w[l].T / np.sqrt(w[l].shape[1])
            acts.append(out)
        return acts

    total = np.zeros(x_test.shape[0])
    for c in range(chains):
        w = [rng.standard_normal((dims[l + 1] if l < layers else 1, gates[l] * dims[l])) * np.sqrt(sigma2) for l in range(layers + 1)]
        for sweep in range(sweeps):
            acts = forward(w, x_train, g_train)
            beta = np.ones((x_train.shape[0], 1))
            for l in range(layers, -1, -1):
                h = gated(acts[l], g_train[l])
                s = 1 / np.sqrt(h.shape[1])
                w0 = rng.standard_normal(w[l].shape) * np.sqrt(sigma2)
                eps = rng.standard_normal(len(y)) * np.sqrt(temperature)
                jw0 = np.sum(beta * (h @ w0.T), 1) * s
                gram = (beta @ beta.T) * (h @ h.T) * (sigma2 * s * s) + temperature * np.eye(len(y))
                v = sla.cho_solve(sla.cho_factor(gram, lower=True), y - jw0 - eps)
                w[l] = w0 + sigma2 * (beta.T * v) @ h * s
                if l > 0:  # beta for the layer below, through the layer just drawn
                    n = dims[l]
                    nb = np.zeros((len(y), n))
                    for m in range(gates[l]):
                        nb += g_train[l][:, m:m + 1] * (beta @ w[l][:, m * n:(m + 1) * n]) * s
                    beta = nb
            total += forward(w, x_test, g_test)[-1][:, 0]
    return total / (chains * sweeps)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--train-csv", required=True)
    p.add_argument("--test-csv", required=True)
    p.add_argument("--gates-csv", default="")
    p.add_argument("--widths", required=True)
    p.add_argument("--gates", required=True)
    p.add_argument("--sigma2", type=float, default=1.0)
    p.add_argument("--temperature", type=float, default=0.05)
    p.add_argument("--threshold", type=float, default=0.0)
    p.add_argument("--tolerance", type=float, default=1e-12)
    p.add_argument("--solver", default="auto", choices=["auto", "fixed-point", "scalar"])
    p.add_argument("--max-iterations", type=int, default=200000)
    p.add_argument("--gibbs", default="", help="CHAINS,SWEEPS: time the Gibbs sampler instead of solving")
    a = p.parse_args()
    widths = [int(v) for v in a.widths.split(",")]
    gates = [int(v) for v in a.gates.split(",")]
    x_train, y_train = load_labelled(a.train_csv)
    x_test, y_test = load_labelled(a.test_csv)
    vectors = load_gates(a.gates_csv, len(gates), x_train.shape[1])
    if a.gibbs:
        chains, sweeps = (int(v) for v in a.gibbs.split(","))
        start = time.perf_counter()
        mean = gibbs(widths, gates, a.sigma2, a.temperature, vectors, a.threshold, x_train, y_train, x_test, chains, sweeps)
        print(json.dumps({"seconds": time.perf_counter() - start, "mean": mean.tolist()}))
        return
    start = time.perf_counter()
    theory = Theory(widths, gates, a.sigma2, a.temperature, features(vectors, a.threshold, x_train, x_test), y_train)
    scalar = a.solver == "scalar" or (a.solver == "auto" and theory.d[0] == 1)
    if scalar:
        u, iterations, residual = theory.solve_scalar(), 0, 0.0
    else:
        u, iterations, residual = theory.solve_fixed_point(a.tolerance, a.max_iterations)
    result = {"order_parameters": [m.tolist() for m in u], "iterations": iterations, "residual": residual,
              "theory": theory.predict(u[0], y_test), "gp": theory.predict(np.eye(theory.d[0]), y_test),
              "relu_nngp": relu_nngp(len(widths), a.sigma2, a.temperature, x_train, y_train, x_test, y_test)}
    result["seconds"] = time.perf_counter() - start
    print(json.dumps(result))


if __name__ == "__main__":
    main()
