// GP inference benchmark (docs/theory.md §7): NNGP readout kernel + Cholesky + prediction (means and
// variances) on Fashion-MNIST, n training and m test points, all ten classes (one-hot targets).
// Prints one JSON object per size on stdout; bench/bench_gp.py runs it natively and in wasm (node) and
// compares with the NumPy/SciPy and scikit-learn peers (bench/gp_peer.py) in the same invocation.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "core/datasets.h"
#include "core/gp.h"
#include "core/parallel.h"

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

int main(int argc, char** argv) {
  std::string sizes = "2000,4000", dump, data_dir = fs::kFashionMnistDir, act = "relu";
  int test = 1000, depth = 3, threads = 0, repeats = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--train")
      sizes = argv[i + 1];  // comma-separated training sizes
    else if (flag == "--test")
      test = std::atoi(argv[i + 1]);
    else if (flag == "--L")
      depth = std::atoi(argv[i + 1]);
    else if (flag == "--act")
      act = argv[i + 1];
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);  // 0 = all hardware threads
    else if (flag == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else if (flag == "--data-dir")
      data_dir = argv[i + 1];
    else if (flag == "--dump")
      dump = argv[i + 1];  // posterior means as text: PATH.<n>
  }
  const auto kind = fs::activation_kind_from_name(act);
  if (!kind || test < 1 || depth < 0 || repeats < 1) {
    std::fprintf(stderr, "fieldscope-bench-gp: --train N[,N...] --test M --L depth --act NAME --threads T --repeats R\n");
    return 2;
  }
  if (!fs::fashion_mnist_available(data_dir)) {
    std::fprintf(stderr, "fieldscope-bench-gp: Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)\n",
                 data_dir.c_str());
    return 2;
  }
  fs::set_thread_count(threads <= 0 ? fs::max_thread_count() : threads);
  std::size_t start = 0;
  while (start < sizes.size()) {
    const std::size_t comma = std::min(sizes.find(',', start), sizes.size());
    const int train = std::atoi(sizes.substr(start, comma - start).c_str());
    start = comma + 1;
    fs::DatasetSpec d;
    d.kind = fs::DatasetKind::fashion_mnist;
    d.path = data_dir;
    d.train = train;
    d.test = test;
    const auto load0 = std::chrono::steady_clock::now();
    const fs::DatasetSplit split = fs::make_dataset(d);
    const double load_seconds = seconds_since(load0);
    if (!split.status.ok()) {
      std::fprintf(stderr, "fieldscope-bench-gp: %s\n", split.status.message.c_str());
      return 1;
    }
    fs::GpSpec spec;
    spec.network.activation = {*kind, 1.0};
    spec.network.sigma_w2 = 2.0;  // and sigma_in^2, left unset
    spec.network.sigma_b2 = 0.1;
    spec.network.depth = depth;
    spec.sigma_n2 = 0.01;
    spec.memory_budget_bytes = std::size_t(3) << 30;
    const fs::GpProblem problem{split.train.x, split.test.x, split.train.y, split.test.y, true};
    const fs::GpTargets targets = fs::gp_targets(problem, false);
    Eigen::MatrixXd x(train + test, split.train.x.cols());
    x << split.train.x, split.test.x;
    double best_kernel = 1e300, best_solve = 1e300;
    fs::GpSolveResult solve;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const fs::GpKernelResult k = fs::gp_readout_kernel(spec, x);
      const double kernel_seconds = seconds_since(t0);
      if (!k.status.ok()) {
        std::fprintf(stderr, "fieldscope-bench-gp: %s\n", k.status.message.c_str());
        return 1;
      }
      const auto t1 = std::chrono::steady_clock::now();
      solve = fs::gp_solve(k.kernel.topLeftCorner(train, train), k.kernel.bottomLeftCorner(test, train),
                           k.kernel.diagonal().tail(test), targets.train, spec.sigma_n2, true);
      const double solve_seconds = seconds_since(t1);
      best_kernel = std::min(best_kernel, kernel_seconds);
      best_solve = std::min(best_solve, solve_seconds);
    }
    int right = 0;
    for (int a = 0; a < test; ++a) {
      Eigen::Index best = 0;
      solve.mean.row(a).maxCoeff(&best);
      right += targets.classes[static_cast<std::size_t>(best)] == problem.y_test[static_cast<std::size_t>(a)];
    }
    std::printf(
        "{\"train\": %d, \"test\": %d, \"dim\": %d, \"L\": %d, \"activation\": \"%s\", \"threads\": %d, \"load_seconds\": %.6g, "
        "\"kernel_seconds\": %.6g, \"solve_seconds\": %.6g, \"seconds\": %.6g, \"accuracy\": %.6g, \"log_evidence\": %.15g, "
        "\"condition_number\": %.6g, \"jitter\": %.3g, \"status\": \"%s\"}\n",
        train, test, static_cast<int>(x.cols()), depth, act.c_str(), fs::thread_count(), load_seconds, best_kernel, best_solve,
        best_kernel + best_solve, double(right) / test, solve.log_evidence, solve.condition_number, solve.jitter,
        fs::status_code_name(solve.status.code));
    std::fflush(stdout);
    if (!dump.empty()) {
      std::ofstream f(dump + "." + std::to_string(train));
      f.precision(17);
      f << solve.mean << "\n";
      std::ofstream v(dump + "." + std::to_string(train) + ".var");
      v.precision(17);
      v << solve.variance << "\n";
    }
  }
  return 0;
}
