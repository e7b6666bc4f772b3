// Finite-width ensembles against exact finite-N results, the 1/N theory's reference values (docs/theory.md §5.4,
// §5.5), the mean-field kernels, each other (fast sampler vs explicit weights) and themselves under any
// thread count. Monte Carlo comparisons use |difference| < 4 standard errors (docs/theory.md §8.5) unless a
// test compares many numbers at once, where the threshold is stated with its family-wise false-alarm rate.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/ensemble.h"
#include "core/linear_exact.h"
#include "core/parallel.h"
#include "core/random.h"
#include "tests/example_inputs.h"

// The reference Philox (Random123) compiles only for the CPUs its feature headers know (not wasm32).
#if defined(__x86_64__) || defined(__aarch64__)
#define FS_HAVE_RANDOM123 1
#define R123_USE_SSE 0
#if !defined(__cpp_exceptions)
#define R123_NO_EXCEPTIONS 1
#endif
#include <Random123/philox.h>
#endif

using namespace fs;
using fs::testing::example_inputs;
using fs::testing::single_input;

namespace {

EnsembleSpec spec_of(Architecture arch, ActivationKind kind, double w2, double b2, int depth, int width, int members) {
  EnsembleSpec s;
  s.network.arch = arch;
  s.network.activation = {kind, 1.0};
  s.network.sigma_w2 = w2;
  s.network.sigma_in2 = w2;
  s.network.sigma_b2 = b2;
  s.network.depth = depth;
  s.width = width;
  s.members = members;
  s.input_a = s.input_b = 0;
  return s;
}

// |a - b| in units of the combined standard error.
double z_score(double a, double se_a, double b, double se_b) { return std::fabs(a - b) / std::sqrt(se_a * se_a + se_b * se_b); }

// Every mean and variance of two ensembles; returns the largest z-score and counts the comparisons.
double worst_z(const EnsembleResult& x, const EnsembleResult& y, int& comparisons) {
  double worst = 0;
  auto compare = [&](const EnsembleStat& a, const EnsembleStat& b) {
    if (a.mean_se > 0 || b.mean_se > 0) worst = std::max(worst, z_score(a.mean, a.mean_se, b.mean, b.mean_se)), ++comparisons;
    if (a.variance_se > 0 || b.variance_se > 0)
      worst = std::max(worst, z_score(a.variance, a.variance_se, b.variance, b.variance_se)), ++comparisons;
  };
  for (std::size_t l = 0; l < x.aux.size(); ++l)
    for (std::size_t k = 0; k < x.aux[l].entries.size(); ++k) {
      compare(x.aux[l].entries[k], y.aux[l].entries[k]);
      compare(x.gram[l].entries[k], y.gram[l].entries[k]);
    }
  for (std::size_t i = 0; i < x.aux_two_time.size(); ++i) {
    compare(x.aux_two_time[i], y.aux_two_time[i]);
    compare(x.gram_two_time[i], y.gram_two_time[i]);
  }
  compare(x.lyapunov, y.lyapunov);
  return worst;
}

// Every number of a result, for bitwise comparisons.
std::vector<double> flatten(const EnsembleResult& r) {
  std::vector<double> v;
  auto put = [&](const EnsembleStat& s) {
    for (double x : {s.mean_field, s.mean, s.mean_se, s.variance, s.variance_se, s.mse, s.mse_se}) v.push_back(x);
  };
  for (const auto* kernels : {&r.aux, &r.gram})
    for (const KernelEnsemble& k : *kernels) {
      for (const EnsembleStat& s : k.entries) put(s);
      for (Eigen::Index i = 0; i < k.covariance.size(); ++i)
        v.push_back(k.covariance.data()[i]), v.push_back(k.covariance_se.data()[i]);
    }
  for (const auto* stats : {&r.aux_two_time, &r.gram_two_time, &r.correlation})
    for (const EnsembleStat& s : *stats) put(s);
  put(r.lyapunov);
  v.push_back(r.correlation_length.xi);
  v.push_back(r.correlation_length.xi_se);
  for (const auto& h : r.histograms) v.insert(v.end(), h.begin(), h.end());
  return v;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("random streams: batched fill = block-wise Box-Muller, = Random123 + libm natively, normal moments") {
  const random::NormalStream stream{7, 0x656e73656d626cull, 3, 5, 1};
  std::vector<double> filled(1003);
  stream.fill(filled.data(), filled.size());
  bool same = true;
  double block[4];
  for (std::size_t k = 0; k < filled.size(); ++k) {
    if (k % 4 == 0) random::normals4(7, 0x656e73656d626cull, 3, 5, 1, k / 4, block);
    same = same && filled[k] == block[k % 4];
  }
  CHECK(same);  // the vectorised batch path gives exactly the scalar numbers
  std::vector<float> as_float(10);
  stream.fill(as_float.data(), as_float.size(), 2.0);
  CHECK(as_float[9] == static_cast<float>(2.0 * filled[9]));
#if FS_HAVE_RANDOM123
  r123::Philox4x64 philox;
  double worst = 0;
  for (std::uint64_t b = 0; b < 250; ++b) {
    const r123::Philox4x64::ctr_type bits = philox({{3, 5, 1, b}}, {{7, 0x656e73656d626cull}});
    for (int pair = 0; pair < 2; ++pair) {
      const double u = static_cast<double>((bits.v[2 * pair] >> 11) + 1) * 0x1p-53;
      const double v = static_cast<double>(bits.v[2 * pair + 1] >> 11) * 0x1p-53;
      const double r = std::sqrt(-2.0 * std::log(u)), angle = 2.0 * 3.141592653589793 * v;
      worst = std::max(worst, std::fabs(filled[4 * b + 2 * pair] - r * std::cos(angle)));
      worst = std::max(worst, std::fabs(filled[4 * b + 2 * pair + 1] - r * std::sin(angle)));
    }
  }
  CHECK(worst < 1e-14);
#endif
  // Moments of 4e5 draws: mean 0, variance 1, E z^4 = 3 (SEs 1/sqrt(n), sqrt(2/n), sqrt(96/n)).
  std::vector<double> z(400000);
  random::NormalStream{11, 1, 0, 0, 0}.fill(z.data(), z.size());
  double m1 = 0, m2 = 0, m4 = 0;
  for (double x : z) m1 += x, m2 += x * x, m4 += x * x * x * x;
  const double n = double(z.size());
  CHECK(std::fabs(m1 / n) < 4 / std::sqrt(n));
  CHECK(std::fabs(m2 / n - 1) < 4 * std::sqrt(2 / n));
  CHECK(std::fabs(m4 / n - 3) < 4 * std::sqrt(96 / n));
  // Different purposes (third counter word) are different numbers.
  double other[4];
  random::normals4(7, 0x656e73656d626cull, 3, 5, 2, 0, other);
  CHECK(other[0] != filled[0]);
}

TEST_CASE("fast weight stream: Philox4x32 = Random123, any offset, float = double to rounding, normal moments") {
  const random::FastNormalStream stream{0x1234567890abcdefull, 3, 5, 0x656e7301u};
  // The batched generator gives the scalar Philox4x32-10 block by block.
  std::vector<std::uint32_t> words(4 * 64);
  random::philox4x32_blocks(3, 5, 0x656e7301u, 100, 37, 0x90abcdefu, 0x12345678u, words.data(), 64);
  bool same_blocks = true;
  for (int j = 0; j < 37; ++j) {
    const random::Block4x32 b = random::philox4x32_10({{3, 5, 0x656e7301u, 100u + std::uint32_t(j)}}, 0x90abcdefu, 0x12345678u);
    for (int k = 0; k < 4; ++k) same_blocks = same_blocks && words[std::size_t(k) * 64 + j] == b.v[k];
  }
  CHECK(same_blocks);
  random::philox4x32_blocks(3, 5, 0x656e7301u, 4000, 64, 0x90abcdefu, 0x12345678u, words.data(), 64);  // all lanes
  bool same_full = true;
  for (int j = 0; j < 64; ++j) {
    const random::Block4x32 b = random::philox4x32_10({{3, 5, 0x656e7301u, 4000u + std::uint32_t(j)}}, 0x90abcdefu, 0x12345678u);
    for (int k = 0; k < 4; ++k) same_full = same_full && words[std::size_t(k) * 64 + j] == b.v[k];
  }
  CHECK(same_full);
  std::vector<double> filled(1003);
  stream.fill(filled.data(), filled.size(), 1.0);
#if FS_HAVE_RANDOM123
  r123::Philox4x32 philox;
  bool same_bits = true;
  double worst = 0;
  for (std::uint32_t b = 0; b < 192; ++b) {  // the 768 elements of the first three groups
    const r123::Philox4x32::ctr_type bits = philox({{3, 5, 0x656e7301u, b}}, {{0x90abcdefu, 0x12345678u}});
    const random::Block4x32 ours = random::philox4x32_10({{3, 5, 0x656e7301u, b}}, 0x90abcdefu, 0x12345678u);
    for (int k = 0; k < 4; ++k) same_bits = same_bits && bits.v[k] == ours.v[k];
    for (int pair = 0; pair < 2; ++pair) {  // Box-Muller with libm on the same 32-bit uniforms
      const double u = (double(bits.v[2 * pair]) + 1.0) * 0x1p-32, v = double(bits.v[2 * pair + 1]) * 0x1p-32;
      const double r = std::sqrt(-2.0 * std::log(u)), angle = 2.0 * 3.141592653589793 * v;
      // Element of block b, slot q: 256 (b / 64) + 64 q + b % 64.
      const std::size_t base = 256 * (b / 64) + b % 64;
      worst = std::max(worst, std::fabs(filled[base + 64 * (2 * pair)] - r * std::cos(angle)));
      worst = std::max(worst, std::fabs(filled[base + 64 * (2 * pair + 1)] - r * std::sin(angle)));
    }
  }
  CHECK(same_bits);
  CHECK(worst < 1e-14);
#endif
  // Reading from any offset, in pieces, gives the same elements.
  bool same_pieces = true;
  for (std::size_t first : {std::size_t(0), std::size_t(1), std::size_t(3), std::size_t(257), std::size_t(600)}) {
    std::vector<double> piece(403);
    stream.fill(piece.data(), piece.size(), 1.0, first);
    for (std::size_t k = 0; k < piece.size(); ++k) same_pieces = same_pieces && piece[k] == filled[first + k];
  }
  CHECK(same_pieces);
  // Scaled, and in float: the same normals to float accuracy (the float uniforms keep 24 of the 32 bits).
  std::vector<double> scaled(1003);
  stream.fill(scaled.data(), scaled.size(), 0.25);
  std::vector<float> single(1003);
  stream.fill(single.data(), single.size(), 0.25);
  double worst_scale = 0, worst_float = 0;
  for (std::size_t k = 0; k < filled.size(); ++k) {
    worst_scale = std::max(worst_scale, std::fabs(scaled[k] - 0.25 * filled[k]));
    worst_float = std::max(worst_float, std::fabs(double(single[k]) - scaled[k]));
  }
  CHECK(worst_scale < 1e-16);
  CHECK(worst_float > 0);  // really float
  CHECK(worst_float < 1e-5);
  // Moments of 4e5 draws, double and float: mean 0, variance 1, E z^4 = 3, and the odd E z^3 = 0
  // (SEs 1/sqrt(n), sqrt(2/n), sqrt(96/n), sqrt(15/n)); neighbouring draws uncorrelated.
  for (int precision = 0; precision < 2; ++precision) {
    CAPTURE(precision);
    std::vector<double> z(400000);
    const random::FastNormalStream moments{11, 1, 0, 0};
    if (precision == 0) {
      moments.fill(z.data(), z.size());
    } else {
      std::vector<float> zf(z.size());
      moments.fill(zf.data(), zf.size());
      for (std::size_t k = 0; k < z.size(); ++k) z[k] = zf[k];
    }
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, lag = 0;
    for (std::size_t k = 0; k < z.size(); ++k) {
      const double x = z[k];
      m1 += x, m2 += x * x, m3 += x * x * x, m4 += x * x * x * x;
      if (k > 0) lag += x * z[k - 1];
    }
    const double n = double(z.size());
    CHECK(std::fabs(m1 / n) < 4 / std::sqrt(n));
    CHECK(std::fabs(m2 / n - 1) < 4 * std::sqrt(2 / n));
    CHECK(std::fabs(m3 / n) < 4 * std::sqrt(15 / n));
    CHECK(std::fabs(m4 / n - 3) < 4 * std::sqrt(96 / n));
    CHECK(std::fabs(lag / n) < 4 / std::sqrt(n));
  }
  // Bit-identical everywhere: a hash of 2^20 doubles and 2^20 floats read from offset 5, recorded from the
  // native build (AVX-512, and -O0) and equal in wasm (SIMD128): this test runs in both.
  {
    std::vector<double> d(std::size_t(1) << 20);
    std::vector<float> f(std::size_t(1) << 20);
    const random::FastNormalStream golden{0x123456789ull, 5, 7, 0x656e7301u};
    golden.fill(d.data(), d.size(), 0.3, 5);
    golden.fill(f.data(), f.size(), 0.3, 5);
    std::uint64_t hash_d = 1469598103934665603ull, hash_f = hash_d;  // FNV-1a over the bit patterns
    for (double x : d) {
      std::uint64_t b;
      std::memcpy(&b, &x, sizeof b);
      hash_d = (hash_d ^ b) * 1099511628211ull;
    }
    for (float x : f) {
      std::uint32_t b;
      std::memcpy(&b, &x, sizeof b);
      hash_f = (hash_f ^ b) * 1099511628211ull;
    }
    CHECK(hash_d == 0x929bc90a4b52ddb4ull);
    CHECK(hash_f == 0x878ef43cb6b1858eull);
  }
  // Different counters, different numbers.
  double other = 0;
  random::FastNormalStream{0x1234567890abcdefull, 3, 6, 0x656e7301u}.fill(&other, 1);
  CHECK(other != filled[0]);
}

TEST_CASE("exact finite-N variances of the deep aux field: critical ReLU and linear networks (docs/theory.md §5.4)") {
  // With sigma_b = 0, C-hat^l = C-hat^{l-1} x (mean of N iid g(z)^2 terms): the relative variance is
  // exactly (1 + k/N)^{l+1} - 1, k = Var(2 relu(z)^2) = 5 for ReLU at sigma_w^2 = 2, k = Var(z^2) = 2 for
  // linear at sigma_w^2 = 1, and the mean stays at the mean-field value. N = 16 makes the finite-N
  // answer far from the leading order k (l + 1) / N.
  struct Case {
    ActivationKind kind;
    double w2, k;
  };
  for (const Case c : {Case{ActivationKind::relu, 2.0, 5.0}, Case{ActivationKind::linear, 1.0, 2.0}})
    for (const EnsembleSampler sampler : {EnsembleSampler::fast, EnsembleSampler::explicit_weights}) {
      CAPTURE(static_cast<int>(c.kind));
      CAPTURE(ensemble_sampler_name(sampler));
      const int n = 16, depth = 4;
      EnsembleSpec s = spec_of(Architecture::deep, c.kind, c.w2, 0.0, depth, n, 20000);
      s.sampler = sampler;
      const EnsembleResult r = run_ensemble(s, single_input());
      REQUIRE(r.status.ok());
      for (int l = 0; l <= depth; ++l) {
        const EnsembleStat& st = r.aux[l].at(0, 0);
        const double c_bar = st.mean_field, exact = std::pow(1 + c.k / n, l + 1) - 1;
        CAPTURE(l);
        CHECK(std::fabs(st.variance / (c_bar * c_bar) - exact) < 4 * st.variance_se / (c_bar * c_bar));
        CHECK(std::fabs(st.mean - c_bar) < 4 * st.mean_se);
        // The leading order k (l + 1) / N is clearly not the finite-N answer here (the test has power).
        if (l == depth)
          CHECK(std::fabs(st.variance / (c_bar * c_bar) - c.k * (l + 1) / n) > 4 * st.variance_se / (c_bar * c_bar));
        // MSE = variance + bias^2 (up to the (M-1)/M of the unbiased variance).
        CHECK(st.mse ==
              doctest::Approx(st.variance * (s.members - 1.0) / s.members + (st.mean - c_bar) * (st.mean - c_bar)).epsilon(1e-9));
      }
      if (c.kind == ActivationKind::linear) {
        // Linear deep net: E lambda = (1/2) [ln sigma_w^2 + psi(N/2) + ln(2/N)] exactly (core/linear_exact.h).
        const double exact = linear_lyapunov(c.w2, n).mean;
        CHECK(std::fabs(r.lyapunov.mean - exact) < 4 * r.lyapunov.mean_se);
        CHECK(std::fabs(r.lyapunov.mean - r.lyapunov.mean_field) > 4 * r.lyapunov.mean_se);  // 1/N bias visible
      }
    }
}

TEST_CASE("tanh (2, 0.1), T = L = 6, shared bias, input at t = 0: the 1/N theory's numbers (docs/theory.md §5.4, §5.5)") {
  const InputSet in = single_input();
  // N = 256: against the independent ensembles of docs/theory.md §5.4 at the same width (their SE stated there).
  EnsembleSpec deep = spec_of(Architecture::deep, ActivationKind::tanh, 2.0, 0.1, 6, 256, 8000);
  const EnsembleResult d = run_ensemble(deep, in);
  EnsembleSpec rec = deep;
  rec.network.arch = Architecture::recurrent;
  const EnsembleResult r = run_ensemble(rec, in);
  REQUIRE(d.status.ok());
  REQUIRE(r.status.ok());
  const double n = 256;
  const EnsembleStat& cd = d.aux[6].at(0, 0);
  const EnsembleStat& cr = r.aux[6].at(0, 0);
  // Mean field (§4.3): K^5 = 0.82006, K^6 = 0.81701 (the Gram's), C-bar^5 = K^6 - sigma_b^2 (the aux field's).
  CHECK(d.gram[5].at(0, 0).mean_field == doctest::Approx(0.82006).epsilon(2e-5));
  CHECK(d.gram[6].at(0, 0).mean_field == doctest::Approx(0.81701).epsilon(2e-5));
  CHECK(d.aux[5].at(0, 0).mean_field == doctest::Approx(0.81701 - 0.1).epsilon(2e-5));
  CHECK(z_score(n * cd.variance, n * cd.variance_se, 0.4372, 0.001) < 4);   // MC N = 256: 0.4372 +- 0.001
  CHECK(z_score(n * cd.variance, n * cd.variance_se, 0.4382, 0) < 4);       // NLO theory D: 0.4382 (DNN: no visible drift)
  CHECK(z_score(n * cr.variance, n * cr.variance_se, 0.5334, 0.0015) < 4);  // MC N = 256: 0.5334 +- 0.0015
  // Weight sharing builds up fluctuations: the recurrent variance is larger, far beyond the noise.
  CHECK(z_score(n * cr.variance, n * cr.variance_se, n * cd.variance, n * cd.variance_se) > 8);
  // Mean shift of the deep aux field, N (E C-hat - C-bar) -> -0.180.
  CHECK(z_score(n * (cd.mean - cd.mean_field), n * cd.mean_se, -0.180, 0.006) < 4);
  // Pre-activation Gram of the deep net: N Var(G-hat^6) = D^5 + 2 (K^6)^2 = 1.773 (§5.5); mean exact.
  const EnsembleStat& gd = d.gram[6].at(0, 0);
  CHECK(z_score(n * gd.variance, n * gd.variance_se, 1.773, 0) < 4);
  CHECK(z_score(gd.mean, gd.mean_se, 0.1 + d.aux[5].at(0, 0).mean, d.aux[5].at(0, 0).mean_se) < 4);
  // Two-time kernel of the recurrent net, against the mean field (§4.3: K^{21} = 0.16793, K^{ts} -> c* q*).
  CHECK(r.gram_two_time[2 * 7 + 1].mean_field == doctest::Approx(0.16793).epsilon(3e-5));
  CHECK(r.gram_two_time[2 * 7 + 0].mean_field == doctest::Approx(0.1).epsilon(1e-12));  // K^{t0} = sigma_b^2
  // The deep net's cross-layer Gram vanishes in the mean at any N (independent W^l).
  for (int t = 0; t <= 6; ++t)
    for (int s = 0; s < t; ++s) CHECK(std::fabs(d.gram_two_time[t * 7 + s].mean) < 4 * d.gram_two_time[t * 7 + s].mean_se);

  // N = 512 against the NLO theory itself: the recurrent O(1/N^2) drift (0.01 at N = 256) is then well
  // below the standard error.
  rec.width = 512;
  rec.members = 5000;
  const EnsembleResult r512 = run_ensemble(rec, in);
  const EnsembleStat& c512 = r512.aux[6].at(0, 0);
  CHECK(z_score(512 * c512.variance, 512 * c512.variance_se, 0.5236, 0) < 4);
  // Two-time entries: the 1/N extrapolation 2 X(512) - X(256) reaches the two-time mean field.
  for (const int index : {6 * 7 + 5, 2 * 7 + 1, 6 * 7 + 1}) {
    CAPTURE(index);
    for (auto grid : {&EnsembleResult::aux_two_time, &EnsembleResult::gram_two_time}) {
      const EnsembleStat &a = (r.*grid)[index], &b = (r512.*grid)[index];
      CHECK(z_score(2 * b.mean - a.mean, std::sqrt(4 * b.mean_se * b.mean_se + a.mean_se * a.mean_se), b.mean_field, 0) < 4);
    }
  }

  // The recurrent pre-activation Gram has a large positive mean shift, N (E G-hat - K) ~ 1.03 at N = 32
  // (§5.5: W and phi(h^{t-1}) are dependent), against about -0.19 for the deep net.
  deep.width = rec.width = 32;
  deep.members = rec.members = 10000;
  const EnsembleStat g32r = run_ensemble(rec, in).gram[6].at(0, 0), g32d = run_ensemble(deep, in).gram[6].at(0, 0);
  CHECK(32 * (g32r.mean - g32r.mean_field) > 4 * 32 * g32r.mean_se);
  CHECK(z_score(g32r.mean - g32r.mean_field, g32r.mean_se, g32d.mean - g32d.mean_field, g32d.mean_se) > 4);
}

TEST_CASE("fast samplers equal explicit weight matrices in distribution (docs/theory.md §8.4)") {
  // Small widths make every finite-N effect large, so a wrong sampler would show. About 100-300 numbers
  // per case are compared at 4.5 standard errors: the chance of a false alarm is below 0.3% per case.
  struct Case {
    Architecture arch;
    ActivationKind kind;
    BiasMode bias;
    InputMode input;
    int inputs, width, depth;
  };
  const Case cases[] = {
      {Architecture::deep, ActivationKind::relu, BiasMode::independent, InputMode::first_step, 3, 12, 4},
      {Architecture::recurrent, ActivationKind::tanh, BiasMode::shared, InputMode::every_step, 2, 10, 4},
      {Architecture::recurrent, ActivationKind::erf, BiasMode::independent, InputMode::sequence, 2, 8, 3},
  };
  for (const Case& c : cases) {
    CAPTURE(static_cast<int>(c.arch));
    CAPTURE(static_cast<int>(c.input));
    InputSet in = example_inputs(c.inputs);
    if (c.input == InputMode::sequence) {  // a different x^t at every step
      in.x.clear();
      for (int t = 0; t <= c.depth; ++t)
        in.x.push_back(example_inputs(3).x[0].topRows(c.inputs) * (1.0 - 0.2 * t) +
                       Eigen::MatrixXd::Constant(c.inputs, 3, 0.1 * t));
    }
    EnsembleSpec s = spec_of(c.arch, c.kind, 1.8, 0.2, c.depth, c.width, 6000);
    s.network.bias_mode = c.bias;
    s.network.input_mode = c.input;
    s.input_b = 1;
    s.sampler = EnsembleSampler::fast;
    const EnsembleResult fast = run_ensemble(s, in);
    s.sampler = EnsembleSampler::explicit_weights;
    s.seed = 2;  // independent draws
    const EnsembleResult slow = run_ensemble(s, in);
    REQUIRE(fast.status.ok());
    REQUIRE(slow.status.ok());
    int comparisons = 0;
    const double worst = worst_z(fast, slow, comparisons);
    CAPTURE(comparisons);
    CHECK(worst < 4.5);
    CHECK(comparisons > 50);
  }
}

TEST_CASE("float32 uses the same random numbers as float64: the statistics differ only by rounding") {
  EnsembleSpec s = spec_of(Architecture::recurrent, ActivationKind::tanh, 2.0, 0.1, 5, 64, 300);
  s.input_b = 1;
  const InputSet in = example_inputs(2);
  for (const EnsembleSampler sampler : {EnsembleSampler::explicit_weights, EnsembleSampler::fast}) {
    s.sampler = sampler;
    s.precision = EnsemblePrecision::float64;
    const EnsembleResult r64 = run_ensemble(s, in);
    s.precision = EnsemblePrecision::float32;
    const EnsembleResult r32 = run_ensemble(s, in);
    const EnsembleStat &a = r64.aux[5].at(1, 0), &b = r32.aux[5].at(1, 0);
    CHECK(a.mean != b.mean);                                       // really computed in float
    CHECK(std::fabs(a.mean - b.mean) < 1e-5 * std::fabs(a.mean));  // a few float ulps, far below the SE
    CHECK(std::fabs(a.mean - b.mean) < 0.01 * a.mean_se);
    CHECK(std::fabs(a.variance - b.variance) < 1e-3 * a.variance);
  }
}

TEST_CASE("the same numbers for 1, 2 and 4 threads and for any time slicing (STYLE.md 6)") {
  const int saved = thread_count();
  for (const EnsembleSampler sampler : {EnsembleSampler::explicit_weights, EnsembleSampler::fast}) {
    EnsembleSpec s = spec_of(Architecture::recurrent, ActivationKind::tanh, 1.5, 0.3, 4, 24, 200);
    s.sampler = sampler;
    s.input_b = 1;
    s.jackknife_groups = 8;
    const InputSet in = example_inputs(3);
    set_thread_count(1);
    const std::vector<double> reference = flatten(run_ensemble(s, in));
    for (int threads : {2, 4}) {
      set_thread_count(threads);
      CHECK(bitwise_equal(flatten(run_ensemble(s, in)), reference));
      EnsembleJob job(s, in);
      while (!job.step(1e-5)) {}  // many tiny slices: different batch sizes
      CHECK(bitwise_equal(flatten(job.result()), reference));
    }
  }
  set_thread_count(saved);
}

TEST_CASE("finite-width Lyapunov exponent: the 1/N extrapolation reaches (1/2) ln chi_1 (docs/theory.md §3)") {
  // Chaotic tanh (4, 0.05): lambda(N) = lambda_MF + a/N + O(1/N^2); 2 lambda(2N) - lambda(N) removes a/N.
  for (const Architecture arch : {Architecture::deep, Architecture::recurrent}) {
    CAPTURE(static_cast<int>(arch));
    EnsembleSpec s = spec_of(arch, ActivationKind::tanh, 4.0, 0.05, 20, 64, 1500);
    const EnsembleResult r64 = run_ensemble(s, single_input());
    s.width = 128;
    const EnsembleResult r128 = run_ensemble(s, single_input());
    const double mf = r128.lyapunov.mean_field;
    CHECK(mf > 0.1);  // chaotic: perturbations grow
    CHECK(r128.lyapunov_fixed_point == doctest::Approx(0.5 * std::log(1.3424024144451916)).epsilon(1e-9));  // §3: chi_1
    const double extrapolated = 2 * r128.lyapunov.mean - r64.lyapunov.mean;
    const double se = std::sqrt(4 * r128.lyapunov.mean_se * r128.lyapunov.mean_se + r64.lyapunov.mean_se * r64.lyapunov.mean_se);
    CHECK(std::fabs(extrapolated - mf) < 4 * se);
    CHECK(mf - r64.lyapunov.mean > 4 * r64.lyapunov.mean_se);  // finite width lowers lambda visibly
  }
}

TEST_CASE("xi_c(N) from ensemble correlation trajectories against the mean field (docs/theory.md §5.6)") {
  // Ordered tanh (1.5, 0.05): xi_c = 15.79. Two inputs at correlation ~0.98 start close to c* = 1, where
  // 1 - c^l decays like chi_1^l; the ensemble fit and the same fit on the mean-field trajectory agree
  // within the jackknife error, and the latter is close to -1/ln chi_c.
  const double angle = 0.2;
  Eigen::MatrixXd x(2, 2);
  x << 1, 0, std::cos(angle), std::sin(angle);
  InputSet in;
  in.count = 2;
  in.dim = 2;
  in.x = {x * std::sqrt(2.0)};
  EnsembleSpec s = spec_of(Architecture::deep, ActivationKind::tanh, 1.5, 0.05, 30, 256, 600);
  s.input_b = 1;
  const EnsembleResult r = run_ensemble(s, in);
  REQUIRE(r.status.ok());
  const CorrelationLengthFit& f = r.correlation_length;
  REQUIRE(f.status.ok());
  CHECK(f.points >= 10);
  CHECK(f.xi_mean_field == doctest::Approx(15.79).epsilon(1e-3));
  CHECK(std::fabs(f.xi_mean_field_fit - f.xi_mean_field) < 0.05 * f.xi_mean_field);
  CHECK(f.xi_se > 0);
  CHECK(std::fabs(f.xi - f.xi_mean_field_fit) < 4 * f.xi_se);
}

TEST_CASE("cross-time aux field of odd activations: zero in deep nets at any N, O(1/N) from weight sharing") {
  // Deep: h^l_i is symmetric given every earlier layer (fresh W^l), so E[phi(h^l) phi(h^s)] = 0 exactly
  // for odd phi and l != s. Recurrent with independent biases and input at t = 0: the mean field is 0
  // (docs/theory.md §4.3), but the shared W correlates times at finite N (self-coupling W_ii): N E C-hat^{ts} is
  // O(1), the same at N = 32 and N = 128 up to O(1/N).
  EnsembleSpec s = spec_of(Architecture::deep, ActivationKind::tanh, 2.0, 0.1, 4, 32, 4000);
  const EnsembleResult deep = run_ensemble(s, single_input());
  s.network.arch = Architecture::recurrent;
  s.network.bias_mode = BiasMode::independent;
  const EnsembleResult r32 = run_ensemble(s, single_input());
  s.width = 128;
  const EnsembleResult r128 = run_ensemble(s, single_input());
  for (int t = 1; t <= 4; ++t)
    for (int u = 0; u < t; ++u) {
      CAPTURE(t);
      CAPTURE(u);
      const EnsembleStat &d = deep.aux_two_time[t * 5 + u], &a = r32.aux_two_time[t * 5 + u], &b = r128.aux_two_time[t * 5 + u];
      CHECK(std::fabs(d.mean_field) < 1e-12);
      CHECK(std::fabs(a.mean_field) < 1e-12);
      CHECK(std::fabs(d.mean) < 4 * d.mean_se);
      CHECK(z_score(32 * a.mean, 32 * a.mean_se, 128 * b.mean, 128 * b.mean_se) < 4);
    }
  // Lag 1 stays exactly zero in the mean (h^1_i is symmetric given h^0); lag 2 picks up the diagonal of
  // W^2, (W^2)_ii = sum_j W_ij W_ji, with mean sigma_w^4 / N: a clearly positive 1/N effect.
  CHECK(std::fabs(r32.aux_two_time[1 * 5 + 0].mean) < 4 * r32.aux_two_time[1 * 5 + 0].mean_se);
  CHECK(r32.aux_two_time[2 * 5 + 0].mean > 4 * r32.aux_two_time[2 * 5 + 0].mean_se);
  // With a shared bias the cross-time correlations are O(1) already in the mean field, and the ensemble finds them.
  s.network.bias_mode = BiasMode::shared;
  s.width = 32;
  const EnsembleStat shared = run_ensemble(s, single_input()).aux_two_time[4 * 5 + 3];
  CHECK(shared.mean_field > 0.2);
  CHECK(std::fabs(shared.mean - shared.mean_field) < 0.1 * shared.mean_field);
}

TEST_CASE("within-layer covariance of kernel entries: symmetric, diagonal = variance, |correlation| <= 1") {
  EnsembleSpec s = spec_of(Architecture::deep, ActivationKind::erf, 1.2, 0.3, 3, 32, 3000);
  s.input_b = 1;
  const EnsembleResult r = run_ensemble(s, example_inputs(2));
  const KernelEnsemble& k = r.aux[3];
  REQUIRE(k.covariance.rows() == 3);
  CHECK((k.covariance - k.covariance.transpose()).norm() == 0.0);
  for (int i = 0; i < 3; ++i) CHECK(k.covariance(i, i) == k.entries[i].variance);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      CHECK(std::fabs(k.covariance(i, j)) <= std::sqrt(k.covariance(i, i) * k.covariance(j, j)) * (1 + 1e-12));
  // Entries of one kernel fluctuate together (they share every weight): clearly positive covariance.
  CHECK(k.covariance(0, 2) > 4 * k.covariance_se(0, 2));
  // Histograms: raw values of the first members, whose mean is the ensemble mean's estimate.
  REQUIRE(r.histograms.size() == EnsembleResult::histogram_names().size());
  CHECK(r.histograms[0].size() == 3000);
  double mean = 0;
  for (double v : r.histograms[0]) mean += v / 3000;
  CHECK(mean == doctest::Approx(r.aux[3].at(0, 0).mean).epsilon(1e-12));
}

TEST_CASE("bad input, memory refusal and cancellation come back as a status with a sentence") {
  const InputSet in = single_input();
  EnsembleSpec s = spec_of(Architecture::deep, ActivationKind::tanh, 1.5, 0.05, 3, 0, 10);
  EnsembleResult r = run_ensemble(s, in);
  CHECK(r.status.code == StatusCode::invalid_input);
  CHECK(r.status.message.find("width N") != std::string::npos);
  s.width = 8;
  s.members = 1;
  r = run_ensemble(s, in);
  CHECK(r.status.code == StatusCode::invalid_input);
  s.members = 10;
  s.input_b = 3;
  CHECK(run_ensemble(s, in).status.code == StatusCode::invalid_input);
  s.input_b = 0;
  s.network.sigma_w2 = std::nan("");
  CHECK(run_ensemble(s, in).status.code == StatusCode::invalid_input);
  s.network.sigma_w2 = 1.5;

  s.width = 16384;
  s.sampler = EnsembleSampler::explicit_weights;
  s.memory_budget_bytes = std::size_t(64) << 20;
  r = run_ensemble(s, in);
  CHECK(r.status.code == StatusCode::too_large);
  CHECK(r.status.message.find("MiB") != std::string::npos);
  CHECK(r.members_done == 0);
  s.sampler = EnsembleSampler::fast;  // the fast sampler never forms W: it fits
  CHECK(run_ensemble(s, in).status.ok());

  s.width = 64;
  s.members = 1000000;
  EnsembleJob job(s, in);
  job.step(0.01);
  job.step(0.01);
  job.cancel();
  CHECK(job.step(0.01));
  CHECK(job.result().status.code == StatusCode::cancelled);
  CHECK(job.result().members_done > 0);
  CHECK(job.result().members_done < s.members);
  CHECK(std::isfinite(job.result().aux[3].at(0, 0).mean));  // the partial result is usable

  // Sign has no derivative: no Lyapunov exponent, everything else works.
  s.network.activation = {ActivationKind::sign, 1};
  s.members = 50;
  r = run_ensemble(s, in);
  CHECK(r.status.ok());
  CHECK(r.lyapunov_status.code == StatusCode::not_defined);
}
