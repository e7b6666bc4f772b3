// Deep-kernel throughput: kernel entries x layers per second, for the NNGP recursion at P inputs and
// L layers. Prints one JSON object per activation on stdout (bench/bench.py drives it natively and in
// wasm, and compares with the NumPy peer). Optionally writes the last kernel for an accuracy check.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "bench/activation_list.h"
#include "core/deep_kernel.h"
#include "core/inputs.h"
#include "core/parallel.h"

int main(int argc, char** argv) {
  int p = 1000, layers = 10, repeats = 1, threads = 1;
  std::string activations = "relu,erf,tanh", dump;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--P")
      p = std::atoi(argv[i + 1]);
    else if (flag == "--L")
      layers = std::atoi(argv[i + 1]);
    else if (flag == "--repeats")
      repeats = std::atoi(argv[i + 1]);
    else if (flag == "--act")
      activations = argv[i + 1];
    else if (flag == "--threads")
      threads = std::atoi(argv[i + 1]);  // 0 = all hardware threads
    else if (flag == "--dump")
      dump = argv[i + 1];  // write K^L of each activation as text: PATH.<act>
  }
  if (p < 1 || p > 20000 || layers < 1 || repeats < 1) {
    std::fprintf(stderr, "fieldscope-bench: --P 1..20000, --L >= 1, --repeats >= 1\n");
    return 2;
  }
  fs::set_thread_count(threads <= 0 ? fs::max_thread_count() : threads);
  fs::InputsSpec in;
  in.kind = fs::InputKind::gaussian;
  in.count = p;
  in.dim = 16;
  const fs::InputsResult inputs = fs::make_inputs(in, 7);
  const Eigen::MatrixXd gram = inputs.inputs.gram();
  if (!dump.empty()) {
    std::ofstream f(dump + ".gram");
    f.precision(17);
    f << gram << "\n";
  }
  for (const auto& [name, kind] : activation_list(activations)) {
    fs::DeepKernelSpec spec;
    spec.network.activation = {kind, 1.0};
    spec.network.sigma_w2 = 1.5;  // and sigma_in^2, left unset
    spec.network.sigma_b2 = 0.05;
    spec.network.depth = layers;
    double best = 1e300;
    fs::DeepKernelResult result;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      result = fs::deep_kernel(spec, gram);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, seconds);
    }
    const double entries = double(p) * p * layers;
    std::printf(
        "{\"activation\": \"%s\", \"P\": %d, \"L\": %d, \"threads\": %d, \"seconds\": %.6g, \"entries_layers_per_second\": %.6g, "
        "\"status\": \"%s\"}\n",
        name.c_str(), p, layers, fs::thread_count(), best, entries / best, fs::status_code_name(result.status.code));
    if (!dump.empty()) {
      std::ofstream f(dump + "." + name);
      f.precision(17);
      f << result.kernel.back() << "\n";
    }
  }
  return 0;
}
