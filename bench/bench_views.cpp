// Theory-view benchmark: what a slider move recomputes, per activation. Prints JSON lines
// (bench/bench_views.py drives it natively and in wasm).
//
// {"view": "phase", ...}: a 256 x 256 grid of q*, c*, chi_1, chi_c, xi_c and lambda_max on the fast
// path (tabulated means and Hermite coefficients, coarse to fine) against the reference path
// (quadrature at each cell's q*, fixed_point(p)) timed in the same run:
//   seconds_cold  the whole grid, the tables built on the way (the first diagram of an activation)
//   seconds       the whole grid again with the tables built (every later diagram)
//   first_picture the coarsest level (the whole blocky picture the view draws first), tables built
//   reference_seconds_per_cell  the reference path, timed on every 4th row and column
//   max_rel_*     the largest relative differences on those cells: q*, c* and chi_1 everywhere; xi_c
//                 and lambda_max where |chi_1 - 1| > 1e-3 (both diverge on the critical line)
// {"view": "signal" | "critical_line" | "deep_kernel" | "recurrent_kernel", "seconds": ...}: the fixed
// point with q^l, c^l through L = 100 layers and the cobwebs; the 64-point critical line (tables
// built); the deep kernel of P = 256 inputs through L = 100 layers; the recurrent two-time kernel of
// P = 32 inputs over T = 100 steps (P = 256 would need 2.7 GB). Best of three.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/activation_list.h"
#include "core/criticality.h"
#include "core/deep_kernel.h"
#include "core/inputs.h"
#include "core/recurrent_kernel.h"
#include "core/parallel.h"

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double rel(double a, double b) {
  if (a == b) return 0;
  if (!std::isfinite(a) || !std::isfinite(b)) return INFINITY;
  return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}
template <class F>
double best_of_three(F&& f) {
  double best = INFINITY;
  for (int r = 0; r < 3; ++r) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

// What a slider move recomputes in the other theory views (sigma_w^2 = 1.5, sigma_b^2 = 0.05).
void views(const fs::Activation& act) {
  fs::Network p = fs::make_network(act, 1.5, 0.05);
  p.depth = 100;
  auto print = [&](const char* view, double seconds, const std::string& status) {
    std::printf("{\"view\": \"%s\", \"activation\": \"%s\", \"threads\": %d, \"seconds\": %.6g, \"status\": \"%s\"}\n", view,
                act.name().c_str(), fs::thread_count(), seconds, status.c_str());
  };
  print("signal", best_of_three([&] {
          const fs::FixedPoint fp = fs::fixed_point(p);
          fs::signal_trajectory(p, 1.05, 1.05, 0.5, p.depth);
          fs::q_iterates(p, 1.05, 60);
          if (fp.q_star > 0 && std::isfinite(fp.q_star)) fs::c_iterates(p, fp.q_star, 0.5, 60);
        }),
        "ok");
  std::vector<double> b2;
  for (int i = 0; i < 64; ++i) b2.push_back(i * i / (63.0 * 63.0));
  print("critical_line", best_of_three([&] { fs::critical_line(act, b2); }), "ok");
  fs::InputsSpec in;
  in.kind = fs::InputKind::gaussian;
  in.count = 256;
  in.dim = 16;
  const fs::InputsResult inputs = fs::make_inputs(in, 7);
  fs::DeepKernelSpec deep;
  deep.network = p;
  fs::Status status;
  print("deep_kernel", best_of_three([&] { status = fs::deep_kernel(deep, inputs.inputs.gram()).status; }),
        fs::status_code_name(status.code));
  in.count = 32;
  const fs::InputsResult few = fs::make_inputs(in, 7);
  fs::RecurrentKernelSpec recurrent;
  recurrent.network = p;
  print("recurrent_kernel", best_of_three([&] { status = fs::recurrent_kernel(recurrent, few.inputs).status; }),
        fs::status_code_name(status.code));
}

}  // namespace

int main(int argc, char** argv) {
  int size = 256, threads = 1, stride = 4;
  std::string activations = "tanh,erf,relu,gelu,softplus,sigmoid";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--size")
      size = std::atoi(argv[i + 1]);
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);  // 0 = all hardware threads
    else if (flag == "--act")
      activations = argv[i + 1];
    else if (flag == "--reference-stride")
      stride = std::atoi(argv[i + 1]);
  }
  if (size < 2 || size > 4096 || stride < 1) {
    std::fprintf(stderr, "fieldscope-bench-views: --size 2..4096, --reference-stride >= 1\n");
    return 2;
  }
  fs::set_thread_count(threads <= 0 ? fs::max_thread_count() : threads);
  for (const auto& [name, kind] : activation_list(activations)) {
    fs::PhaseDiagramSpec spec;  // the app's default ranges: sigma_w^2 in [0.5, 4], sigma_b^2 in [0, 1]
    spec.activation = {kind, 1.0};
    spec.columns = spec.rows = size;
    double t0 = now();
    const fs::PhaseDiagram cold = fs::phase_diagram(spec);
    const double seconds_cold = now() - t0;
    fs::PhaseDiagramJob job(spec);
    t0 = now();
    double first_picture = 0;
    while (!job.step(0.0))
      if (first_picture == 0 && job.result().complete_stride > 0) first_picture = now() - t0;
    const double seconds = now() - t0;
    const fs::PhaseDiagram& d = job.result();
    int cells = 0, chaotic = 0, diverged = 0;
    double q = 0, c = 0, chi = 0, xi = 0, lambda = 0;
    t0 = now();
    for (int j = 0; j < size; j += stride) {
      for (int i = 0; i < size; i += stride) {
        const int k = j * size + i;
        const fs::FixedPoint ref = fs::fixed_point(fs::make_network(spec.activation, d.sigma_w2(i), d.sigma_b2(j)));
        ++cells;
        chaotic += ref.phase == fs::Phase::chaotic;
        if (ref.phase != d.phase[k]) {
          q = INFINITY;  // a cell in another phase: reported as an infinite difference
          continue;
        }
        if (ref.phase == fs::Phase::diverged) {
          ++diverged;
          continue;
        }
        q = std::max(q, rel(d.q_star[k], ref.q_star));
        c = std::max(c, rel(d.c_star[k], ref.c_star));
        chi = std::max(chi, rel(d.chi_1[k], ref.chi_1));
        if (std::abs(ref.chi_1 - 1) > 1e-3) {
          xi = std::max(xi, rel(d.xi_c[k], ref.xi_c));
          lambda = std::max(lambda, rel(d.lambda_max[k], ref.lambda_max));
        }
      }
    }
    const double reference_per_cell = (now() - t0) / cells;
    std::printf(
        "{\"view\": \"phase\", \"activation\": \"%s\", \"size\": %d, \"threads\": %d, \"seconds_cold\": %.6g, \"seconds\": %.6g, "
        "\"first_picture\": "
        "%.6g, \"reference_seconds_per_cell\": %.6g, \"reference_cells\": %d, \"chaotic_cells\": %d, \"diverged_cells\": %d, "
        "\"max_rel_q_star\": %.3g, \"max_rel_c_star\": %.3g, \"max_rel_chi_1\": %.3g, \"max_rel_xi_c\": %.3g, "
        "\"max_rel_lambda\": %.3g, \"same_as_cold\": %s}\n",
        name.c_str(), size, fs::thread_count(), seconds_cold, seconds, first_picture, reference_per_cell, cells, chaotic,
        diverged, q, c, chi, xi, lambda, cold.chi_1 == d.chi_1 && cold.c_star == d.c_star ? "true" : "false");
    views(spec.activation);
    std::fflush(stdout);
  }
  return 0;
}
