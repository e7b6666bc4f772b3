"""The NumPy peer: the deep NNGP recursion as a researcher would write it with NumPy.

Closed forms for ReLU (arc-cosine) and erf (Williams), and 2-D Gauss-Hermite quadrature over the
Cholesky parameterisation for tanh (n nodes per dimension, looping over node pairs with P x P arrays).
Used only by bench/bench.py, never at run time.
"""
import time
import numpy as np


def gram_from_file(path):
    return np.loadtxt(path)


def relu_layer(k, sw2, sb2):
    d = np.sqrt(np.diag(k))
    s = np.outer(d, d)
    rho = np.clip(k / s, -1.0, 1.0)
    theta = np.arccos(rho)
    e = s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    return sb2 + sw2 * e


def erf_layer(k, sw2, sb2):
    d = 1 + 2 * np.diag(k)
    e = 2 / np.pi * np.arcsin(np.clip(2 * k / np.sqrt(np.outer(d, d)), -1, 1))
    return sb2 + sw2 * e


def tanh_layer(k, sw2, sb2, nodes=48):
    z, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / np.sqrt(2 * np.pi)
    q = np.diag(k)
    s = np.sqrt(q)
    rho = np.clip(k / np.outer(s, s), -1, 1)
    perp = np.sqrt(1 - rho ** 2)
    e = np.zeros_like(k)
    for i in range(nodes):
        fu = np.tanh(s * z[i])[:, None]            # phi(u_a), a = row
        base = rho * z[i]
        for j in range(nodes):
            v = s[None, :] * (base + perp * z[j])  # v_b given z1 = z_i, z2 = z_j
            e += (w[i] * w[j]) * fu * np.tanh(v)
    e = 0.5 * (e + e.T)
    return sb2 + sw2 * e


LAYERS = {"relu": relu_layer, "erf": erf_layer, "tanh": tanh_layer}


def run(activation, gram, layers, sw2=1.5, sb2=0.05, sin2=1.5):
    k = sin2 * gram + sb2
    t0 = time.perf_counter()
    for _ in range(layers):
        k = LAYERS[activation](k, sw2, sb2)
    return k, time.perf_counter() - t0
