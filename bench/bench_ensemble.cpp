// Explicit-weight ensemble throughput (docs/theory.md §8.4-8.5): M random networks of width N, P inputs, L layers
// (deep: fresh N x N weights per layer) or T steps (recurrent: one W shared over the steps), timed through
// EnsembleJob (the code the explorer and the CLI run), beside the machine's GEMM peak measured in the same
// process: Eigen's GEMM of a large square and of the ensemble's own shape (N x N times N x P), in the same
// precision and thread count. Prints one JSON object per line; bench/bench_ensemble.py drives it natively
// and in wasm and compares with the NumPy peer (bench/ensemble_peer.py).
//
// Flop count (stated in the output): the GEMMs only, 2 N d P for the input layer plus 2 N^2 P per layer
// or step. Everything else (weight generation, activations, the per-layer kernels P x P, the Lyapunov
// vector, the statistics) is work the ensemble does on top, so GFLOP/s / GEMM peak is the fraction of the
// machine's matrix-multiply speed the whole simulation reaches.
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/ensemble.h"
#include "core/inputs.h"
#include "core/parallel.h"
#include "core/random.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// GFLOP/s of C = A B (rows x inner times inner x cols) with every thread multiplying its own matrices,
// best of `repeats` rounds of at least `min_seconds` each: the machine's aggregate GEMM speed for
// independent products, which is how the ensemble uses it (one network per thread).
template <class Scalar>
double gemm_gflops(int rows, int inner, int cols, int threads, int repeats, double min_seconds) {
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const std::size_t count_threads = static_cast<std::size_t>(threads);
  std::vector<Mat> a(count_threads), b(count_threads), c(count_threads);
  for (int t = 0; t < threads; ++t) {
    a[std::size_t(t)] = Mat::Random(rows, inner);
    b[std::size_t(t)] = Mat::Random(inner, cols);
    c[std::size_t(t)] = Mat::Zero(rows, cols);
  }
  const double flops = 2.0 * rows * inner * cols;
  int count = 1;  // products per thread per round, grown until a round takes min_seconds
  double best = 0;
  for (int r = 0; r < repeats;) {
    const auto t0 = std::chrono::steady_clock::now();
    fs::parallel_for(threads, [&](int t0_, int t1_) {
      for (int t = t0_; t < t1_; ++t)
        for (int k = 0; k < count; ++k) c[std::size_t(t)].noalias() = a[std::size_t(t)] * b[std::size_t(t)];
    });
    const double s = seconds_since(t0);
    if (s < min_seconds) {
      count = std::max(count * 2, static_cast<int>(count * min_seconds / std::max(s, 1e-9)));
      continue;
    }
    best = std::max(best, flops * count * threads / s / 1e9);
    ++r;
  }
  return best;
}

// Where one deep layer's time goes, each part timed alone on one thread (per thread when several run the
// same): drawing W (N^2 normals), of that the Philox4x32-10 words alone, the product W [Phi, u]
// (N x N times N x (P + 1)), and phi on N x P pre-activations. From these: the fraction of the GEMM peak
// the ensemble could reach with a free weight generator, and the most it could reach with any transform
// of the counter-based words into normals (the words alone cost this much).
template <class Scalar>
struct LayerParts {
  double weights = 0, gemm = 0, phi = 0;  // seconds per layer
  double philox = 0;                      // of `weights`, the Philox4x32-10 words alone (one 32-bit word per normal)
};

template <class Scalar>
LayerParts<Scalar> layer_parts(int n, int p, const fs::Activation& act, double min_seconds) {
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Mat w(n, n), a = Mat::Random(n, p + 1), c(n, p + 1), h = Mat::Random(n, p), f(n, p);
  auto per_call = [&](auto&& body) {
    body(0);  // warm-up: first-touch pages, and in wasm the engine's optimising tier
    double best = 1e300;
    for (int round = 0; round < 3; ++round) {
      int calls = 0;
      const auto t0 = std::chrono::steady_clock::now();
      do { body(calls++); } while (seconds_since(t0) < min_seconds / 3);
      best = std::min(best, seconds_since(t0) / calls);
    }
    return best;
  };
  LayerParts<Scalar> parts;
  parts.weights = per_call([&](int k) {
    fs::random::FastNormalStream{7, std::uint32_t(k), 1, 1}.fill(w.data(), std::size_t(w.size()), 0.05);
  });
  std::vector<std::uint32_t> words(4 * 64);
  const std::uint32_t groups = std::uint32_t((std::size_t(n) * std::size_t(n) + 255) / 256);  // 256 words a group
  parts.philox = per_call([&](int k) {
    for (std::uint32_t g = 0; g < groups; ++g)
      fs::random::philox4x32_blocks(std::uint32_t(k), 1, 1, 64 * g, 64, 7, 0, words.data(), 64);
  });
  parts.gemm = per_call([&](int) { c.noalias() = w * a; });
  parts.phi = per_call([&](int) { act.phi_batch(h.data(), f.data(), std::size_t(h.size())); });
  return parts;
}

struct Options {
  int n = 512, depth = 10, p = 32, members = 64, dim = 16, threads = 1, repeats = 3, peak_size = 1024;
  std::string arch = "deep,recurrent", precision = "float64,float32", act = "tanh", dump_inputs;
  double min_seconds = 0.2;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) parts.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

template <class Scalar>
void run_precision(const Options& o, const fs::InputSet& inputs, const char* precision_name) {
  const int threads = fs::thread_count();
  const double peak = gemm_gflops<Scalar>(o.peak_size, o.peak_size, o.peak_size, threads, o.repeats, o.min_seconds);
  std::printf("{\"kind\": \"gemm_peak\", \"precision\": \"%s\", \"threads\": %d, \"shape\": [%d, %d, %d], \"gflops\": %.6g}\n",
              precision_name, threads, o.peak_size, o.peak_size, o.peak_size, peak);
  const double shape = gemm_gflops<Scalar>(o.n, o.n, o.p, threads, o.repeats, o.min_seconds);
  std::printf("{\"kind\": \"gemm_shape\", \"precision\": \"%s\", \"threads\": %d, \"shape\": [%d, %d, %d], \"gflops\": %.6g}\n",
              precision_name, threads, o.n, o.n, o.p, shape);
  const fs::Activation activation{*fs::activation_kind_from_name(o.act), 1.0};
  const LayerParts<Scalar> parts = layer_parts<Scalar>(o.n, o.p, activation, o.min_seconds);
  const double layer_flops = 2.0 * o.n * o.n * o.p;
  std::printf(
      "{\"kind\": \"deep_layer_parts\", \"precision\": \"%s\", \"threads\": 1, \"N\": %d, \"P\": %d, \"activation\": \"%s\", "
      "\"weights_ms\": %.6g, \"ns_per_normal\": %.6g, \"gemm_ms\": %.6g, \"phi_ms\": %.6g, "
      "\"philox_ms\": %.6g, \"fraction_of_peak_free_weights\": %.4g, \"fraction_of_peak_free_weights_and_phi\": %.4g, "
      "\"fraction_of_peak_philox_only\": %.4g, \"peak_gflops_1_thread\": %.6g}\n",
      precision_name, o.n, o.p, o.act.c_str(), parts.weights * 1e3, parts.weights * 1e9 / (double(o.n) * o.n), parts.gemm * 1e3,
      parts.phi * 1e3, parts.philox * 1e3, layer_flops / (parts.gemm + parts.phi) / 1e9 / (peak / threads),
      layer_flops / parts.gemm / 1e9 / (peak / threads), layer_flops / (parts.gemm + parts.philox) / 1e9 / (peak / threads),
      peak / threads);
  std::fflush(stdout);
  for (const std::string& arch : split(o.arch)) {
    fs::EnsembleSpec spec;
    spec.network.arch = arch == "recurrent" ? fs::Architecture::recurrent : fs::Architecture::deep;
    spec.network.activation = {*fs::activation_kind_from_name(o.act), 1.0};
    spec.network.sigma_w2 = 1.5;  // and sigma_in^2, left unset
    spec.network.sigma_b2 = 0.05;
    spec.network.depth = o.depth;
    spec.width = o.n;
    spec.members = o.members;
    spec.sampler = fs::EnsembleSampler::explicit_weights;
    spec.precision = std::string(precision_name) == "float32" ? fs::EnsemblePrecision::float32 : fs::EnsemblePrecision::float64;
    spec.input_a = 0;
    spec.input_b = std::min(1, o.p - 1);
    double best = 1e300;
    std::string status;
    double check = 0;
    for (int r = 0; r < o.repeats; ++r) {
      fs::EnsembleJob job(spec, inputs);
      job.step(1e9);  // the first slice computes the mean-field references only: not timed
      const auto t0 = std::chrono::steady_clock::now();
      while (!job.step(1e9)) {}
      best = std::min(best, seconds_since(t0));
      status = fs::status_code_name(job.result().status.code);
      check = job.result().aux.empty() ? 0 : job.result().aux.back().at(spec.input_a, spec.input_b).mean;
    }
    // Input layer: U (N x d) times X (d x P); then one N x N by N x P product per layer or step.
    const double flops_per_network = 2.0 * o.n * o.dim * o.p + double(o.depth) * 2.0 * o.n * o.n * o.p;
    const double gflops = flops_per_network * o.members / best / 1e9;
    std::printf(
        "{\"kind\": \"ensemble\", \"arch\": \"%s\", \"precision\": \"%s\", \"threads\": %d, \"activation\": \"%s\", "
        "\"N\": %d, \"L\": %d, \"P\": %d, \"M\": %d, \"d\": %d, \"seconds\": %.6g, \"gflop_per_network\": %.6g, "
        "\"flop_count\": \"2 N d P + L 2 N^2 P per network (GEMMs only)\", \"gflops\": %.6g, \"networks_per_second\": %.6g, "
        "\"peak_gflops\": %.6g, \"shape_gflops\": %.6g, \"fraction_of_peak\": %.4g, \"fraction_of_shape\": %.4g, "
        "\"last_aux_ab_mean\": %.10g, \"status\": \"%s\"}\n",
        arch.c_str(), precision_name, threads, o.act.c_str(), o.n, o.depth, o.p, o.members, o.dim, best, flops_per_network / 1e9,
        gflops, o.members / best, peak, shape, gflops / peak, gflops / shape, check, status.c_str());
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--N")
      o.n = std::atoi(value);
    else if (flag == "--L")
      o.depth = std::atoi(value);
    else if (flag == "--P")
      o.p = std::atoi(value);
    else if (flag == "--M")
      o.members = std::atoi(value);
    else if (flag == "--d")
      o.dim = std::atoi(value);
    else if (flag == "--threads")
      o.threads = std::atoi(value);  // 0 = all hardware threads
    else if (flag == "--repeats")
      o.repeats = std::atoi(value);
    else if (flag == "--peak-size")
      o.peak_size = std::atoi(value);
    else if (flag == "--min-seconds")
      o.min_seconds = std::atof(value);
    else if (flag == "--arch")
      o.arch = value;  // deep,recurrent
    else if (flag == "--precision")
      o.precision = value;  // float64,float32
    else if (flag == "--act")
      o.act = value;
    else if (flag == "--dump-inputs")
      o.dump_inputs = value;  // the P x d inputs as text, for the NumPy peer
    else {
      std::fprintf(stderr, "fieldscope-bench-ensemble: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (o.n < 1 || o.n > fs::EnsembleLimits::max_width || o.depth < 1 || o.p < 1 || o.p > 4096 || o.members < 2 || o.dim < 1 ||
      o.repeats < 1 || o.peak_size < 16 || !fs::activation_kind_from_name(o.act)) {
    std::fprintf(stderr,
                 "fieldscope-bench-ensemble: --N 1..16384 --L >= 1 --P 1..4096 --M >= 2 --d >= 1 --repeats >= 1 "
                 "--peak-size >= 16 --act NAME --threads T (0: all) --arch deep,recurrent --precision float64,float32\n");
    return 2;
  }
  fs::set_thread_count(o.threads <= 0 ? fs::max_thread_count() : o.threads);
  fs::InputsSpec in;
  in.kind = fs::InputKind::gaussian;
  in.count = o.p;
  in.dim = o.dim;
  const fs::InputsResult inputs = fs::make_inputs(in, 7);
  if (!inputs.status.ok()) {
    std::fprintf(stderr, "fieldscope-bench-ensemble: %s\n", inputs.status.message.c_str());
    return 2;
  }
  if (!o.dump_inputs.empty()) {
    std::ofstream f(o.dump_inputs);
    f.precision(17);
    f << inputs.inputs.x[0] << "\n";
  }
  for (const std::string& precision : split(o.precision)) {
    if (precision == "float32")
      run_precision<float>(o, inputs.inputs, "float32");
    else if (precision == "float64")
      run_precision<double>(o, inputs.inputs, "float64");
  }
  return 0;
}
