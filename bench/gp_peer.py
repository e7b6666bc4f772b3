"""The peers of the GP benchmark: the same GP inference as a researcher would write it with NumPy/SciPy
(OpenBLAS), and with scikit-learn's GaussianProcessRegressor on a custom NNGP kernel.

Data: Fashion-MNIST from Debian's dataset-fashion-mnist (gzipped idx files), the first n training and
m test images of all ten classes, each image standardised (zero mean, unit mean square), one-hot
targets. Kernel: the ReLU NNGP recursion (arc-cosine closed form, Cho & Saul 2009) with L layers and
the readout K_y = sigma_b^2 + sigma_w^2 E[phi phi] (docs/theory.md §7). Used only by bench/bench_gp.py.
"""
import gzip
import time

import numpy as np
import scipy.linalg

DATA = "/usr/share/datasets/fashion-mnist"
SW2, SB2, SIN2, SN2 = 2.0, 0.1, 2.0, 0.01


def load(n, m, data=DATA):
    def images(name, count):
        with gzip.open(f"{data}/{name}-images-idx3-ubyte.gz") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8)[16:16 + count * 784]
        x = raw.reshape(count, 784).astype(np.float64) / 255.0
        x -= x.mean(axis=1, keepdims=True)
        return x / np.sqrt((x ** 2).mean(axis=1, keepdims=True))

    def labels(name, count):
        with gzip.open(f"{data}/{name}-labels-idx1-ubyte.gz") as f:
            return np.frombuffer(f.read(), dtype=np.uint8)[8:8 + count].astype(np.int64)

    return images("train", n), labels("train", n), images("t10k", m), labels("t10k", m)


def relu_step(k, qa, qb):
    """sigma_b^2 + sigma_w^2 E[relu(u) relu(v)] for covariances k with variances qa (rows), qb (columns)."""
    s = np.sqrt(np.outer(qa, qb))
    rho = np.clip(k / s, -1.0, 1.0)
    theta = np.arccos(rho)
    return SB2 + SW2 * s / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))


def relu_diag(q):
    return SB2 + SW2 * q / 2


def nngp(xa, xb, depth):
    """Readout kernel between the rows of xa and xb: K^0, L layers, then the readout step."""
    d = xa.shape[1]
    k = SIN2 * (xa @ xb.T) / d + SB2
    qa = SIN2 * np.einsum("ij,ij->i", xa, xa) / d + SB2
    qb = SIN2 * np.einsum("ij,ij->i", xb, xb) / d + SB2
    for _ in range(depth + 1):
        k = relu_step(k, qa, qb)
        qa, qb = relu_diag(qa), relu_diag(qb)
    return k


def one_hot(y):
    t = np.zeros((len(y), 10))
    t[np.arange(len(y)), y] = 1.0
    return t


def scipy_run(xtr, ytr, xte, depth):
    """Kernel over [train; test] as one matrix, Cholesky, means, variances, log evidence."""
    t0 = time.perf_counter()
    n = len(xtr)
    x = np.vstack([xtr, xte])
    k = nngp(x, x, depth)
    t1 = time.perf_counter()
    a = k[:n, :n] + SN2 * np.eye(n)
    c, lower = scipy.linalg.cho_factor(a, lower=True, overwrite_a=True, check_finite=False)
    y = one_hot(ytr)
    alpha = scipy.linalg.cho_solve((c, lower), y, check_finite=False)
    mean = k[n:, :n] @ alpha
    v = scipy.linalg.solve_triangular(c, k[:n, n:], lower=True, check_finite=False)
    var = np.diag(k)[n:] - np.einsum("ij,ij->j", v, v)
    log_ev = -0.5 * np.sum(y * alpha) - 10 * np.sum(np.log(np.diag(c))) - 0.5 * n * 10 * np.log(2 * np.pi)
    t2 = time.perf_counter()
    return {"kernel_seconds": t1 - t0, "solve_seconds": t2 - t1, "seconds": t2 - t0, "mean": mean, "variance": var,
            "log_evidence": log_ev}


def sklearn_run(xtr, ytr, xte, depth):
    """The same posterior through scikit-learn's GaussianProcessRegressor (fit + predict with std)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import Kernel

    class NNGPReLU(Kernel):
        def __init__(self, depth=3):  # scikit-learn clones kernels through their __init__ parameters
            self.depth = depth

        def __call__(self, X, Y=None, eval_gradient=False):
            return nngp(X, X if Y is None else Y, self.depth)

        def diag(self, X):
            d = X.shape[1]
            q = SIN2 * np.einsum("ij,ij->i", X, X) / d + SB2
            for _ in range(self.depth + 1):
                q = relu_diag(q)
            return q

        def is_stationary(self):
            return False

    t0 = time.perf_counter()
    gpr = GaussianProcessRegressor(kernel=NNGPReLU(depth), alpha=SN2, optimizer=None, normalize_y=False, copy_X_train=False)
    gpr.fit(xtr, one_hot(ytr))
    mean, std = gpr.predict(xte, return_std=True)
    t1 = time.perf_counter()
    return {"seconds": t1 - t0, "mean": mean, "variance": std ** 2 if std.ndim == 1 else std[:, 0] ** 2}
