#!/usr/bin/env python3
"""fieldscope-cli renorm against the independent NumPy/SciPy implementation bench/renorm_peer.py on identical
data and gate files (docs/theory.md §10): order parameters, predictions and error parts to 1e-8, for the deep
linear network (scalar path) and gated networks with matrix order parameters, shared and unshared gates, a
threshold, gated and ungated readouts, L = 1..3 (the path order of U_1 included); and the files' error
messages."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

CLI, PEER = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name} {detail}")


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


rng = np.random.default_rng(5)
dim, train, test = 12, 40, 25
x = rng.standard_normal((train + test, dim))
teacher = rng.standard_normal((3, dim))
y = np.maximum(x @ teacher.T / np.sqrt(dim), 0) @ np.array([1.0, -0.7, 0.5])
y = (y - y[:train].mean()) / y[:train].std()

with tempfile.TemporaryDirectory() as tmp:
    train_csv, test_csv = os.path.join(tmp, "train.csv"), os.path.join(tmp, "test.csv")
    np.savetxt(train_csv, np.column_stack([x[:train], y[:train]]), delimiter=",", fmt="%.17g")
    np.savetxt(test_csv, np.column_stack([x[train:], y[train:]]), delimiter=",", fmt="%.17g")
    cases = [  # widths, gates (readout last), temperature, threshold, sigma2
        ([30, 60], [1, 1, 1], 0.05, 0.0, 0.9),
        ([25], [4, 1], 0.1, 0.0, 1.0),
        ([40], [3, 3], 0.05, 0.0, 1.2),
        ([40, 30], [2, 2, 1], 0.05, 0.3, 1.0),
        ([40, 40], [2, 3, 2], 0.02, -0.2, 0.8),
        ([48, 40, 30], [2, 2, 2, 2], 0.05, 0.0, 1.0),
    ]
    for widths, gates, temperature, threshold, sigma2 in cases:
        name = f"widths {widths} gates {gates}"
        gates_csv = os.path.join(tmp, "gates.csv")
        rows = []
        for layer, m in enumerate(gates, start=1):
            if m > 1:
                v = rng.standard_normal((m, dim))
                rows += [[layer, *r] for r in v]
        np.savetxt(gates_csv, np.array(rows) if rows else np.zeros((0, dim + 1)), delimiter=",", fmt="%.17g")
        common = ["--widths", ",".join(map(str, widths)), "--sigma2", repr(sigma2), "--threshold", repr(threshold)]
        cli = subprocess.run([CLI, "renorm", "--task", "csv", "--train-csv", train_csv, "--test-csv", test_csv, "--gates-per-layer",
                              ",".join(map(str, gates)), "-T", repr(temperature), "--predictions", "--unshared",
                              *(["--gate-kind", "file", "--gates-csv", gates_csv] if rows else []), *common],
                             capture_output=True, text=True)
        peer = subprocess.run([sys.executable, PEER, "--train-csv", train_csv, "--test-csv", test_csv, "--gates-csv",
                               gates_csv if rows else "", "--gates", ",".join(map(str, gates)), "--temperature", repr(temperature),
                               *common], capture_output=True, text=True)
        if cli.returncode != 0 or peer.returncode != 0:
            check(name + ": both ran", False, (cli.stderr[-300:], peer.stderr[-300:]))
            continue
        a, b = json.loads(cli.stdout), json.loads(peer.stdout)
        check(name + ": converged", a["solver"]["converged"], a["solver"])
        worst_u = max(max_diff(ua, ub) for ua, ub in zip(a["order_parameters"], b["order_parameters"]))
        check(name + ": order parameters", len(a["order_parameters"]) == len(b["order_parameters"]) and worst_u < 1e-8, worst_u)
        for part in ("theory", "gp"):
            mean = [p["mean" if part == "theory" else "gp_mean"] for p in a["predictions"]]
            var = [p["variance" if part == "theory" else "gp_variance"] for p in a["predictions"]]
            check(f"{name}: {part} mean", max_diff(mean, b[part]["mean"]) < 1e-8, max_diff(mean, b[part]["mean"]))
            check(f"{name}: {part} variance", max_diff(var, b[part]["variance"]) < 1e-8, max_diff(var, b[part]["variance"]))
            for key, peer_key in (("bias2", "bias2"), ("variance", "variance_mean"), ("training_error", "training_error")):
                check(f"{name}: {part} {key}", abs(a[part][key] - b[part][peer_key]) < 1e-8, (a[part][key], b[part][peer_key]))
        # Finite width matters here: the theory is not the GP.
        check(name + ": not the GP", max_diff([p["mean"] for p in a["predictions"]], [p["gp_mean"] for p in a["predictions"]]) > 1e-4)

    # The ReLU NNGP beside a sweep over L (docs/theory.md §10.2): the arc-cosine GP at every depth, against the peer.
    cli = subprocess.run([CLI, "renorm", "--task", "csv", "--train-csv", train_csv, "--test-csv", test_csv, "-N", "40", "-M", "2",
                          "--sigma2", "1.3", "-T", "0.07", "--sweep", "L=1,2,3", "--predictions"], capture_output=True, text=True)
    points = json.loads(cli.stdout)["points"] if cli.returncode == 0 else []
    check("ReLU NNGP sweep ran", len(points) == 3, cli.stderr[-300:])
    for point in points:
        layers = int(point["value"])
        peer = subprocess.run([sys.executable, PEER, "--train-csv", train_csv, "--test-csv", test_csv, "--widths",
                               ",".join(["40"] * layers), "--gates", ",".join(["1"] * (layers + 1)), "--sigma2", "1.3",
                               "--temperature", "0.07", "--gates-csv", ""], capture_output=True, text=True)
        if peer.returncode != 0:
            check(f"ReLU NNGP L = {layers}: peer ran", False, peer.stderr[-300:])
            continue
        b = json.loads(peer.stdout)["relu_nngp"]
        a = point["relu_nngp"]
        mean = [q["relu_mean"] for q in point["predictions"]]
        check(f"ReLU NNGP L = {layers}: mean", max_diff(mean, b["mean"]) < 1e-9, max_diff(mean, b["mean"]))
        for key, peer_key in (("bias2", "bias2"), ("variance", "variance_mean"), ("generalization_error", "generalization_error")):
            check(f"ReLU NNGP L = {layers}: {key}", abs(a[key] - b[peer_key]) < 1e-9, (a[key], b[peer_key]))

    # Bad files: line and column, exit code 2, nothing on stdout.
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("1," + ",".join(["0.5"] * dim) + "\n1," + ",".join(["0.5"] * (dim - 1)) + ",oops\n")
    p = subprocess.run([CLI, "renorm", "--task", "csv", "--train-csv", train_csv, "--test-csv", test_csv, "-L", "1", "-M", "2", "--readout",
                        "ungated", "--gate-kind", "file", "--gates-csv", bad], capture_output=True, text=True)
    check("bad gate file: line and column", p.returncode == 2 and "line 2, column" in p.stderr and p.stdout == "", p.stderr)
    with open(bad, "w") as f:
        f.write("3," + ",".join(["0.5"] * dim) + "\n")
    p = subprocess.run([CLI, "renorm", "--task", "csv", "--train-csv", train_csv, "--test-csv", test_csv, "-L", "1", "-M", "2", "--readout",
                        "ungated", "--gate-kind", "file", "--gates-csv", bad], capture_output=True, text=True)
    check("gate file names a layer that does not exist", p.returncode == 2 and "weight layer 3" in p.stderr, p.stderr)
    with open(bad, "w") as f:
        f.write("1,2,3\n4,5,x\n")
    p = subprocess.run([CLI, "renorm", "--task", "csv", "--train-csv", bad, "--test-csv", test_csv], capture_output=True, text=True)
    check("bad data file: line and column", p.returncode == 2 and "line 2, column 3" in p.stderr, p.stderr)
    p = subprocess.run([CLI, "renorm", "-L", "2", "-N", "10", "-M", "4"], capture_output=True, text=True)
    check("N_l < D_l refused with a sentence", p.returncode == 2 and "N_l >= D_l" in p.stderr and p.stdout == "", p.stderr)
    p = subprocess.run([CLI, "renorm", "--sweep", "N=100,x"], capture_output=True, text=True)
    check("bad sweep refused", p.returncode == 2 and "--sweep" in p.stderr, p.stderr)

# Finite networks beside the theory: Gibbs samples follow the theory and reject the GP (docs/theory.md §10.9).
p = subprocess.run([CLI, "renorm", "-L", "1", "-N", "80", "-M", "4", "--train", "60", "--test", "40", "--input-dim", "20",
                    "--simulate", "gibbs", "--chains", "8", "--samples", "200", "--predictions"], capture_output=True, text=True)
j = json.loads(p.stdout) if p.returncode == 0 else {}
sim = j.get("simulation", {})
check("simulate gibbs: chi^2 against the theory and the GP", p.returncode == 0 and sim["chi2_per_dof_theory"] < 3 and
      sim["chi2_per_dof_gp"] > 10 * sim["chi2_per_dof_theory"] and len(sim["predictions"]) == 40, (p.stderr[-300:], sim.get("chi2_per_dof_theory")))
check("simulate gibbs: U-hat near U", p.returncode == 0 and max_diff(sim["order_parameters"][0], j["order_parameters"][0]) < 0.05)
p = subprocess.run([CLI, "renorm", "-L", "1", "-N", "20", "-M", "2", "--train", "10", "--test", "5", "--input-dim", "5", "-T", "0.5",
                    "--simulate", "langevin", "--chains", "2", "--samples", "5", "--step", "0.01"], capture_output=True, text=True)
j = json.loads(p.stdout) if p.returncode == 0 else {}
check("simulate langevin: burn-in 5 sigma^2/(T eta), thinning 1/25 of it", p.returncode == 0 and j["simulation"]["burn_in"] == 1000 and
      j["simulation"]["thinning"] == 8, p.stderr[-300:])

# A binary Fashion-MNIST task (T-shirt vs trouser, an easy pair): +-1 labels and accuracies, the same numbers from
# flags and from the explorer's link.
if os.path.exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"):
    flags = subprocess.run([CLI, "renorm", "--task", "fashion-mnist", "--classes", "0,1", "--train", "120", "--test", "100",
                            "-L", "1", "-N", "60", "-M", "2"], capture_output=True, text=True)
    link = subprocess.run([CLI, "--link", "v=1&view=renorm&rtask=fashion-mnist&rcl=1,0&rP=120&rQ=100&rL=1&rN=60&rM=2", "renorm"],
                          capture_output=True, text=True)
    a = json.loads(flags.stdout) if flags.returncode == 0 else {}
    b = json.loads(link.stdout) if link.returncode == 0 else {}
    check("fashion-mnist: classification with 49 inputs", a.get("data", {}).get("classification") is True and
          a["data"]["input_dim"] == 49 and a["theory"]["accuracy"] > 0.9, (flags.stderr[-300:], a.get("theory")))
    check("fashion-mnist: flags == link", b.get("theory") == a.get("theory"), (link.stderr[-300:], b.get("theory")))
    p = subprocess.run([CLI, "renorm", "--task", "fashion-mnist", "--classes", "3"], capture_output=True, text=True)
    check("fashion-mnist: one class refused", p.returncode == 2 and "--classes" in p.stderr, p.stderr)
else:
    print("skipped: renorm on Fashion-MNIST (apt-get install dataset-fashion-mnist)")

print(f"renorm cli: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
