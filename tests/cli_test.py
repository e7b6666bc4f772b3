#!/usr/bin/env python3
"""End-to-end tests of fieldscope-cli: documented numbers, output formats, round trips, bad input."""
import json
import math
import os
import subprocess
import sys
import tempfile

CLI = sys.argv[1]
passed = failed = 0


def run(*args, stdin=None):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, input=stdin)
    return p.returncode, p.stdout, p.stderr


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {name} {detail}")


def close(a, b, rel):
    return abs(a - b) <= rel * abs(b)


# The README's example: tanh at (1.5, 0.05) (docs/theory.md §3 reference values).
code, out, err = run("fixed-point", "--act", "tanh", "--w2", "1.5", "--b2", "0.05")
j = json.loads(out)
check("fixed-point exit", code == 0, err)
check("q*", close(j["q_star"], 0.418037, 2e-6), j.get("q_star"))
check("chi_1", close(j["chi_1"], 0.938636, 2e-6), j.get("chi_1"))
check("xi_c", close(j["xi_c"], 15.79, 1e-3), j.get("xi_c"))
check("phase", j["phase"] == "ordered")

code, out, err = run("critical-line", "--act", "tanh", "--b2-values", "0,0.05,0.3")
pts = json.loads(out)["points"]
for p, expected in zip(pts, [1.0, 1.7609546, 2.5051272]):
    check(f"critical sigma_w2 at {p['sigma_b2']}", close(p["sigma_w2_crit"], expected, 1e-7), p)

code, out, err = run("critical-line", "--act", "relu", "--b2-values", "0,0.1", "-f", "csv")
lines = out.strip().splitlines()
check("relu critical csv header", lines[0] == "sigma_b2,sigma_w2_crit,status")
check("relu critical point (2, 0)", lines[1] == "0,2,ok", lines)
check("relu diverges with bias", lines[2].endswith(",diverged") and "diverges" in err, (lines, err))

# Finite width (deep linear networks, exact): lambda(N) = (1/2)[ln sigma_w^2 + psi(N/2) - ln(N/2)], with
# psi(8) = -gamma + H_7 for N = 16; the critical sigma_w^2 = 8 exp(-psi(8)).
code, out, err = run("fixed-point", "--act", "linear", "--w2", "0.9", "--b2", "0.1", "-N", "16")
fw = json.loads(out)["finite_width"]
psi8 = -0.5772156649015329 + sum(1.0 / k for k in range(1, 8))
check("linear lambda(N = 16)", close(fw["lambda_max"], 0.5 * (math.log(0.9) + psi8 - math.log(8)), 1e-13), fw)
check("linear critical sigma_w^2(N = 16)", close(fw["critical_sigma_w2"], 8 * math.exp(-psi8), 1e-13), fw)
code, out, err = run("fixed-point", "--act", "tanh", "-N", "16")
fw = json.loads(out)["finite_width"]
check("tanh finite width: a sentence, no number", fw["status"]["code"] == "not_defined" and "lambda_max" not in fw, fw)

# The 1/N theory of the Lyapunov exponent beside the ensemble's (docs/theory.md §5.8): ReLU's coefficient is -5/4
# whatever sigma_b^2; a recurrent network gets a sentence instead.
code, out, err = run("ensemble", "--act", "relu", "--w2", "2", "--b2", "0.3", "-L", "6", "-N", "32", "-M", "64")
ly = json.loads(out)["lyapunov"]
check("ensemble: ReLU 1/N theory of lambda", close(ly["theory_n_shift"], -1.25, 1e-9) and
      close(ly["theory_mean"], ly["mean_field"] - 1.25 / 32, 1e-9), ly)
code, out, err = run("ensemble", "--act", "tanh", "--arch", "recurrent", "-L", "4", "-N", "16", "-M", "32")
ly = json.loads(out)["lyapunov"]
check("ensemble: recurrent lambda has no 1/N theory, and says why", "theory_mean" not in ly and "1/N series" in ly.get("theory_note", ""), ly)

# Chaotic phase: infinity never reaches the JSON as a bare number.
code, out, err = run("fixed-point", "--act", "sign", "--w2", "1", "--b2", "0.1")
j = json.loads(out)
check("sign chi_1 is the string inf", j["chi_1"] == "inf", j)

# Kernel: JSON layers and CSV rows.
code, out, err = run("kernel", "--act", "relu", "-P", "4", "-L", "3", "--ntk")
j = json.loads(out)
check("kernel layers", len(j["layers"]) == 4 and len(j["layers"][3]["kernel"]) == 4 and "ntk" in j["layers"][3], err)
k = j["layers"][3]["kernel"]
check("kernel symmetric", all(k[a][b] == k[b][a] for a in range(4) for b in range(4)))
code, out, err = run("kernel", "--act", "relu", "-P", "4", "-L", "3", "-f", "csv")
check("kernel csv rows", len(out.strip().splitlines()) == 1 + 4 * 4 * 4, len(out.splitlines()))
code, out, err = run("kernel", "--arch", "recurrent", "--act", "tanh", "-P", "2", "-L", "4", "--bias", "shared")
j = json.loads(out)
check("recurrent blocks", len(j["blocks"]) == 5 * 6 // 2, err)

# Divergence: a status on stderr, exit 1, the finite layers still written.
code, out, err = run("kernel", "--act", "relu", "--w2", "3", "-P", "2", "-L", "1000")
check("divergence exit 1", code == 1 and "grows without bound" in err, (code, err))
j = json.loads(out)
check("divergence partial result", j["status"]["code"] == "diverged" and 1 < len(j["layers"]) < 1001)

# Scene round trips: JSON file and share link reproduce the same scene and the same numbers.
with tempfile.TemporaryDirectory() as tmp:
    code, scene_json, err = run("scene", "--act", "erf", "--param", "0.7", "--w2", "2.25", "--b2", "0.1", "-P", "5", "--inputs", "gaussian", "--seed", "42")
    path = os.path.join(tmp, "scene.json")
    with open(path, "w") as f:
        f.write(scene_json)
    code, again, err = run("scene", "--scene", path)
    check("scene JSON round trip", again == scene_json, err)
    code, link, err = run("scene", "--scene", path, "-f", "csv")
    link = link.strip().splitlines()[1]
    code, again, err = run("scene", "--link", link)
    check("share link round trip", again == scene_json, err)
    a = run("kernel", "--scene", path)[1]
    b = run("kernel", "--link", "https://example.org/fieldscope/?" + link + "#top")[1]
    check("same numbers from file and link", json.loads(a)["layers"] == json.loads(b)["layers"])

    # Inputs from CSV, and a malformed CSV.
    good = os.path.join(tmp, "inputs.csv")
    with open(good, "w") as f:
        f.write("x,y,z\n1.2,0,-0.6\n0.3,1.5,0.9\n-0.9,0.6,1.2\n")
    code, out, err = run("kernel", "--inputs-csv", good, "-L", "10", "--w2", "1.5", "--b2", "0.05")
    k10 = json.loads(out)["layers"][10]["kernel"]
    check("csv inputs: reference K^10 diagonal", close(k10[0][0], 0.41877, 2e-5) and close(k10[1][1], 0.41908, 2e-5), k10)
    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("1,2,3\n4,five,6\n")
    code, out, err = run("kernel", "--inputs-csv", bad)
    check("malformed csv: exit 2 and the line", code == 2 and "2" in err and out == "", (code, err))

# Bad input: clear message on stderr, non-zero exit, nothing on stdout.
for args, needle in [
    (["fixed-point", "--w2", "abc"], "w2"),
    (["fixed-point", "--w2", "-1"], "w2"),
    (["fixed-point", "--link", "v=99&act=tanh"], "v"),
    (["fixed-point", "--link", "v=1&act=<script>"], "act"),
    (["fixed-point", "--set", "nosuchkey=1"], "nosuchkey"),
    (["kernel", "-P", "100000"], "P"),
    (["fixed-point", "--scene", "/nonexistent.json"], "nonexistent"),
    (["nosuchcommand"], ""),
]:
    code, out, err = run(*args)
    check(f"bad input {args}", code == 2 and needle in err and out == "", (code, out[:80], err[:200]))

# Ensemble: the exact finite-N variance of critical ReLU networks, N Var(C-hat^l)/C-bar^2 =
# N[(1 + 5/N)^(l+1) - 1] (docs/theory.md §5.4), within 4 standard errors; the 1/N theory's D/C-bar^2 = 5(l+1) beside it.
n = 16
code, out, err = run("ensemble", "--act", "relu", "--w2", "2", "--b2", "0", "-L", "3", "-P", "1", "-N", str(n), "-M", "20000")
check("ensemble exit", code == 0, err)
j = json.loads(out)
check("ensemble labels the two kernels", "aux" in j["kernels"] and "gram" in j["kernels"], j.get("kernels"))
for layer in j["layers"]:
    l, e = layer["layer"], layer["aux"][0]
    c2 = e["mean_field"] ** 2
    exact = n * ((1 + 5 / n) ** (l + 1) - 1)
    check(f"ensemble exact ReLU variance, layer {l}", abs(e["n_variance"] / c2 - exact) < 4 * e["n_variance_se"] / c2, (e, exact))
    check(f"ensemble theory column, layer {l}", e["theory_n_variance"] is not None and close(e["theory_n_variance"] / c2, 5 * (l + 1), 1e-3), e)
code, csv_out, err = run("ensemble", "--act", "tanh", "-L", "2", "-P", "2", "-N", "8", "-M", "50", "-f", "csv", "--no-theory")
rows = csv_out.strip().splitlines()
check("ensemble csv header", rows[0].startswith("kernel,t,s,a,b,mean_field,mean,mean_se"), rows[:1])
check("ensemble csv rows", len(rows) == 1 + 2 * 3 * 3 + 2 * 9 + 3 + 1, len(rows))
a = run("ensemble", "--act", "tanh", "--arch", "recurrent", "-L", "3", "-P", "2", "-N", "12", "-M", "64", "--threads", "1")[1]
b = run("ensemble", "--act", "tanh", "--arch", "recurrent", "-L", "3", "-P", "2", "-N", "12", "-M", "64", "--threads", "2")[1]
ja, jb = json.loads(a), json.loads(b)
for x in (ja, jb):
    x["ensemble"].pop("memory_mib")  # the estimate counts each thread's workspace
check("ensemble: same numbers for any thread count", ja == jb and len(ja["layers"]) == 4)
# Width, members, sampler and precision come from the scene (ew, em, es, ep) unless a flag is given.
code, out, err = run("ensemble", "--link", "v=1&act=tanh&L=2&P=2&ew=24&em=40&es=explicit&ep=float32", "--no-theory")
je = json.loads(out)["ensemble"] if code == 0 else {}
check("ensemble takes N, M, sampler and precision from the scene",
      (je.get("width"), je.get("members"), je.get("sampler"), je.get("precision")) == (24, 40, "explicit", "float32"), (code, je, err[:200]))
code, out, err = run("ensemble", "--link", "v=1&act=tanh&L=2&P=2&ew=24&em=40", "-N", "12", "-M", "30", "--no-theory")
je = json.loads(out)["ensemble"] if code == 0 else {}
check("ensemble flags override the scene", (je.get("width"), je.get("members")) == (12, 30), (code, je, err[:200]))
for args, needle in [
    (["ensemble", "-N", "0"], "width"),
    (["ensemble", "--sampler", "nope"], "sampler"),
    (["ensemble", "-N", "16384", "--sampler", "explicit", "-M", "10"], "MiB"),
]:
    code, out, err = run(*args)
    check(f"ensemble bad input {args}", code == 2 and needle in err and out == "", (code, out[:80], err[:200]))

code, out, err = run("--help")
check("help", code == 0 and "kernel" in out and "critical-line" in out)

# gp: GP inference with the network kernel (docs/theory.md §7).
code, out, err = run("gp", "--dataset", "moons", "--act", "relu", "--w2", "2", "--b2", "0.1", "-L", "3", "--train", "100", "--test", "100")
check("gp exit", code == 0, err)
j = json.loads(out)
check("gp fields", all(k in j for k in ("accuracy", "mse", "log_evidence", "jitter", "condition_number")), j)
check("gp moons are separable", j["accuracy"] >= 0.9 and j["train_accuracy"] >= 0.9, j.get("accuracy"))
check("gp evidence and conditioning", j["log_evidence"] < 0 and j["condition_number"] > 1 and j["jitter"] == 0, j)
# Deep and recurrent networks: identical predictions at a single readout time (docs/theory.md §4.2), different
# ones for a readout averaged over times with a shared bias (§4.3).
gp_net = ["--act", "tanh", "--w2", "1.5", "--b2", "0.1", "-L", "5", "--train", "60", "--test", "60", "--dataset", "circles"]
deep = json.loads(run("gp", *gp_net)[1])
rnn = json.loads(run("gp", *gp_net, "--arch", "recurrent", "--bias", "shared")[1])
check("gp deep == recurrent at one readout time", all(deep[k] == rnn[k] for k in ("accuracy", "mse", "log_evidence")), (deep, rnn))
deep = json.loads(run("gp", *gp_net, "--readout-from", "1")[1])
rnn = json.loads(run("gp", *gp_net, "--readout-from", "1", "--arch", "recurrent", "--bias", "shared")[1])
check("gp time-averaged readouts differ", deep["log_evidence"] != rnn["log_evidence"] and deep["readout"]["kind"] == "layer average" and rnn["readout"]["kind"] == "time average", (deep, rnn))
code, out, err = run("gp", "--train", "30", "--test", "10", "--curve", "w2=1,2,3", "-f", "csv")
rows = out.strip().splitlines()
check("gp curve csv", code == 0 and rows[0] == "w2,log_evidence,jitter,condition_number,status" and len(rows) == 4, (rows, err))
with tempfile.TemporaryDirectory() as tmp:
    # Each point twice and sigma_n^2 = 0: the kernel is singular and needs jitter, which is reported.
    labelled = os.path.join(tmp, "labelled.csv")
    with open(labelled, "w") as f:
        f.write("x,y,label\n" + "".join(f"{i * 0.3 - 1},{(i * 7 % 5) * 0.4 - 1},{i % 2}\n" for i in range(12)) * 2)
    code, out, err = run("gp", "--dataset", "csv", "--csv", labelled, "--train", "18", "--test", "6", "--sigma-n2", "0", "--predictions")
    j = json.loads(out) if code == 0 else {}
    check("gp csv with duplicates needs jitter", code == 0 and j["jitter"] > 0 and "jitter" in err, (code, err, out[:300]))
    check("gp csv predictions", code == 0 and len(j["predictions"]) == 6 and "variance" in j["predictions"][0], out[:300])
    bad = os.path.join(tmp, "bad_label.csv")
    with open(bad, "w") as f:
        f.write("1,2,0\n3,4,1\n5,6,0.5\n")
    code, out, err = run("gp", "--dataset", "csv", "--csv", bad, "--train", "2", "--test", "1")
    check("gp csv: non-integer label names the line", code == 2 and "line 3" in err and out == "", (code, err))
# The data keys of a share link (gd, gn, gt, gno, gs2, gr, gds, gcl) give the CLI the explorer's problem:
# the same numbers as the flags, and flags override the link.
link = "v=1&act=erf&w2=1.7&L=3&gd=xor&gn=50&gt=30&gno=0.2&gs2=0.05&gr=1&seed=4"
code, out, err = run("gp", "--link", link)
via_link = json.loads(out) if code == 0 else {}
code2, out2, err2 = run("gp", "--act", "erf", "--w2", "1.7", "-L", "3", "--seed", "4", "--dataset", "xor", "--train", "50", "--test", "30",
                        "--noise", "0.2", "--sigma-n2", "0.05", "--readout-from", "1")
via_flags = json.loads(out2) if code2 == 0 else {}
check("gp: a link's data keys are the flags' defaults",
      code == 0 and code2 == 0 and via_link["link"] == via_flags["link"] and
      all(via_link[k] == via_flags[k] for k in ("accuracy", "mse", "log_evidence", "dataset", "readout", "sigma_n2")),
      (err[:200], err2[:200]))
check("gp: the link's readout and size", via_link.get("readout", {}).get("from") == 1 and via_link.get("dataset", {}).get("train") == 50, via_link)
code, out, err = run("gp", "--link", link, "--train", "20")
check("gp: flags override the link", code == 0 and json.loads(out)["dataset"]["train"] == 20, err[:200])
code, out, err = run("gp", "--link", "v=1&gd=points&gpts=-1,0.5;0,-0.2;1.5,0.3&gs2=0.01", "--predictions")
j = json.loads(out) if code == 0 else {}
check("gp: the link's 1-D points are a regression", code == 0 and j["task"] == "regression" and j["dataset"]["train"] == 3, (code, err[:200]))

# The one-hidden-layer network (L = 0): the readout kernel is the arc-cosine kernel of K^0 (Cho & Saul
# 2009) and the posterior mean K_*X (K_XX + sigma_n^2 I)^-1 y, here solved by hand.
def relu_readout_gp(train, test, w2, b2, in2, sn2):
    def k0(x, y):
        return in2 * sum(a * b for a, b in zip(x, y)) / len(x) + b2
    def k(x, y):
        q1, q2, c = k0(x, x), k0(y, y), k0(x, y)
        cos = max(-1.0, min(1.0, c / math.sqrt(q1 * q2)))
        theta = math.acos(cos)
        return b2 + w2 * math.sqrt(q1 * q2) / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * cos)
    n = len(train)
    a = [[k(train[i][0], train[j][0]) + (sn2 if i == j else 0) for j in range(n)] for i in range(n)]
    y = [1.0 if t[1] == 1 else -1.0 for t in train]
    for c in range(n):  # Gauss-Jordan elimination on the symmetric positive definite system
        pivot = a[c][c]
        for r in range(n):
            if r != c:
                f = a[r][c] / pivot
                a[r] = [a[r][j] - f * a[c][j] for j in range(n)]
                y[r] -= f * y[c]
    alpha = [y[i] / a[i][i] for i in range(n)]
    return [sum(k(x, train[i][0]) * alpha[i] for i in range(n)) for x, _ in test]

with tempfile.TemporaryDirectory() as tmp:
    train = [((math.cos(0.7 * i) * (1 + 0.1 * i), math.sin(1.3 * i) - 0.2), i % 2) for i in range(16)]
    test = [((0.3 * i - 1.0, 0.5 - 0.25 * i), (i // 2) % 2) for i in range(6)]
    paths = []
    for name, rows in (("train.csv", train), ("test.csv", test)):
        paths.append(os.path.join(tmp, name))
        with open(paths[-1], "w") as f:
            f.write("".join(f"{x[0]!r},{x[1]!r},{label}\n" for x, label in rows))
    code, out, err = run("gp", "--dataset", "csv", "--csv", paths[0], "--test-csv", paths[1], "--train", "16", "--test", "6",
                         "--act", "relu", "--w2", "1.8", "--b2", "0.2", "--in2", "0.9", "-L", "0", "--sigma-n2", "0.01", "--predictions")
    j = json.loads(out) if code == 0 else {}
    expected = sorted(relu_readout_gp(train, test, 1.8, 0.2, 0.9, 0.01))
    got = sorted(p["mean"][0] for p in j.get("predictions", []))
    check("gp -L 0: one hidden layer, the arc-cosine GP solved by hand", code == 0 and len(got) == 6 and
          all(abs(g - e) <= 1e-9 * (1 + abs(e)) for g, e in zip(got, expected)), (code, err[:200], got, expected))
    code, out, err = run("gp", "-L", "-1")
    check("gp -L -1 is refused, not replaced", code == 2 and "refused" in err and "kept" not in err and out == "", (code, err))

for args, needle in [
    (["gp", "--classes", "a,b"], "class ids"),
    (["gp", "--dataset", "csv"], "--csv"),
    (["gp", "--memory-mib", "0.01"], "MiB"),
    (["gp", "--curve", "nope=1"], "curve"),
    (["gp", "--dataset", "fashion-mnist", "--data-dir", "/nonexistent"], "dataset-fashion-mnist"),
]:
    code, out, err = run(*args)
    check(f"gp bad input {args}", code == 2 and needle in err and out == "", (code, out[:80], err[:200]))
if os.path.exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"):
    code, out, err = run("gp", "--dataset", "fashion-mnist", "--classes", "0,1", "--train", "200", "--test", "200", "--downsample", "2",
                         "--act", "relu", "--w2", "2", "-L", "3")
    j = json.loads(out) if code == 0 else {}
    check("gp fashion-mnist T-shirt vs trouser", code == 0 and j["accuracy"] > 0.9 and j["dataset"]["dim"] == 196, (code, err, j))
else:
    print("skipped: gp on Fashion-MNIST (apt-get install dataset-fashion-mnist)")

print(f"cli: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
