// Kernel-renormalization benchmark (docs/theory.md §10): the theory's solvers at P training points for the
// scalar fast path (a deep linear network, D_1 = 1) and the fixed point with D_1 = 4 and 16 paths, an
// error-vs-N curve of 30 widths with continuation at P = 200 (tolerance 1e-8, as the explorer), and the Gibbs sampler (8 chains x 500 sweeps,
// P = 100, N = 50). One JSON object per case on stdout; with --dump DIR the data and gate vectors of each
// solve case are written as CSV (the formats of fieldscope-cli renorm) so that bench/bench_renorm.py times
// the NumPy/SciPy peer (bench/renorm_peer.py) on the same problems.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/parallel.h"
#include "core/posterior_sampling.h"
#include "core/renormalization.h"
#include "core/teacher_tasks.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

fs::TeacherData task(int train, int test) {
  fs::TeacherSpec t;
  t.dim = 30;
  t.train = train;
  t.test = test;
  t.seed = 7;
  return fs::make_teacher_data(t);
}

void write_csv(const std::string& path, const Eigen::MatrixXd& x, const Eigen::VectorXd& y) {
  std::ofstream out(path);
  char cell[40];
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index k = 0; k < x.cols(); ++k) {
      std::snprintf(cell, sizeof cell, "%.17g,", x(i, k));
      out << cell;
    }
    std::snprintf(cell, sizeof cell, "%.17g\n", y(i));
    out << cell;
  }
}

void write_gates(const std::string& path, const std::vector<Eigen::MatrixXd>& vectors) {
  std::ofstream out(path);
  char cell[40];
  for (std::size_t l = 0; l < vectors.size(); ++l)
    for (Eigen::Index m = 0; m < vectors[l].rows(); ++m) {
      out << l + 1;
      for (Eigen::Index k = 0; k < vectors[l].cols(); ++k) {
        std::snprintf(cell, sizeof cell, ",%.17g", vectors[l](m, k));
        out << cell;
      }
      out << "\n";
    }
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sizes = "500,2000", dump, only;
  int threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--sizes")
      sizes = argv[i + 1];
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (flag == "--dump")
      dump = argv[i + 1];
    else if (flag == "--only")
      only = argv[i + 1];  // solve | curve | gibbs
  }
  fs::set_thread_count(threads <= 0 ? fs::max_thread_count() : threads);
  const int test = 100;
  struct Config {
    const char* name;
    int layers, gates;
    bool gated_readout;
  };
  const Config configs[] = {{"fast", 2, 1, false}, {"D1=4", 1, 4, true}, {"D1=16", 2, 4, true}};
  std::size_t start = 0;
  while ((only.empty() || only == "solve") && start < sizes.size()) {
    const std::size_t comma = std::min(sizes.find(',', start), sizes.size());
    const int train = std::atoi(sizes.substr(start, comma - start).c_str());
    start = comma + 1;
    const fs::TeacherData d = task(train, test);
    if (!dump.empty()) {
      write_csv(dump + "/train" + std::to_string(train) + ".csv", d.x_train, d.y_train);
      write_csv(dump + "/test" + std::to_string(train) + ".csv", d.x_test, d.y_test);
    }
    for (const Config& c : configs) {
      fs::RenormSpec spec;
      spec.network = fs::make_gated_linear(c.layers, train / 2, c.gates, c.gated_readout);
      spec.memory_budget_bytes = std::size_t(1) << 30;
      const auto t0 = std::chrono::steady_clock::now();
      const fs::RenormResult r = fs::renorm_run(spec, fs::RenormProblem{d.x_train, d.x_test, d.y_train, d.y_test, false, {}, {}});
      const double seconds = seconds_since(t0);
      std::string gates_file;
      if (!dump.empty() && !c.gated_readout && c.gates == 1) {
        gates_file = "";
      } else if (!dump.empty()) {
        gates_file = dump + "/gates-" + std::to_string(train) + "-" + std::to_string(c.layers) + ".csv";
        write_gates(gates_file, r.gate_vectors);
      }
      std::printf(
          "{\"case\": \"solve\", \"config\": \"%s\", \"train\": %d, \"widths\": \"%s\", \"gates\": \"%s\", \"method\": \"%s\", "
          "\"iterations\": %d, \"seconds\": %.6g, \"generalization_error\": %.17g, \"status\": \"%s\", \"gates_file\": \"%s\"}\n",
          c.name, train, join(spec.network.widths).c_str(), join(spec.network.gates).c_str(), r.report.method.c_str(),
          r.report.iterations, seconds, r.theory.generalization_error, fs::status_code_name(r.status.code), gates_file.c_str());
      std::fflush(stdout);
    }
  }
  if (only.empty() || only == "curve") {
    // 30 widths from 1000 down to 25 at P = 200, D_1 = 16, continued; the time to the first point too.
    const fs::TeacherData d = task(200, test);
    fs::RenormSpec spec;
    spec.network = fs::make_gated_linear(2, 100, 4, true);
    spec.tolerance = 1e-8;  // as the explorer's sweeps (app/renorm_jobs.cpp)
    std::vector<double> widths;
    for (int i = 0; i < 30; ++i) widths.push_back(std::round(1000.0 * std::pow(25.0 / 1000.0, i / 29.0)));
    const auto t0 = std::chrono::steady_clock::now();
    fs::RenormSweepJob job(spec, fs::RenormProblem{d.x_train, d.x_test, d.y_train, d.y_test, false, {}, {}},
                           fs::RenormSweepParameter::width, widths);
    double first = 0;
    while (!job.step(0.016))
      if (first == 0 && !job.points().empty()) first = seconds_since(t0);
    int iterations = 0;
    for (const auto& p : job.points()) iterations += p.result.report.iterations;
    std::printf(
        "{\"case\": \"curve\", \"train\": 200, \"points\": %zu, \"iterations\": %d, \"seconds\": %.6g, \"first_point\": %.6g}\n",
        job.points().size(), iterations, seconds_since(t0), first);
    std::fflush(stdout);
  }
  if (only.empty() || only == "gibbs") {
    const fs::TeacherData d = task(100, test);
    fs::RenormSpec spec;
    spec.network = fs::make_gated_linear(1, 50, 4, true);
    const fs::RenormResult theory =
        fs::renorm_run(spec, fs::RenormProblem{d.x_train, d.x_test, d.y_train, d.y_test, false, {}, {}});
    fs::SamplingSpec sampling;
    sampling.chains = 8;
    sampling.burn_in = 0;
    sampling.samples = 500;
    const auto t0 = std::chrono::steady_clock::now();
    const fs::SamplingResult r =
        fs::sample_posterior(spec.network, sampling, {d.x_train, d.x_test, d.y_train, d.y_test, theory.gate_vectors, 0.0, {}});
    const double seconds = seconds_since(t0);
    if (!dump.empty()) {
      write_csv(dump + "/gibbs-train.csv", d.x_train, d.y_train);
      write_csv(dump + "/gibbs-test.csv", d.x_test, d.y_test);
      write_gates(dump + "/gibbs-gates.csv", theory.gate_vectors);
    }
    std::printf(
        "{\"case\": \"gibbs\", \"train\": 100, \"width\": 50, \"chains\": 8, \"sweeps\": 500, \"threads\": %d, \"seconds\": "
        "%.6g, "
        "\"chi2_theory\": %.6g, \"status\": \"%s\"}\n",
        fs::thread_count(), seconds, fs::chi2_per_dof(r, theory.theory.mean), fs::status_code_name(r.status.code));
  }
  return 0;
}
