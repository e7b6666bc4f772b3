// GP inference (docs/theory.md §7): hand-solved problems, interpolation as sigma_n^2 -> 0, the evidence against
// an eigen-decomposition, deep == recurrent at a single readout time (docs/theory.md §4.2) and the difference for
// time-averaged readouts (§4.3), the averaged deep readout's cross-layer terms (§7) against the deep kernels and a
// Monte Carlo of explicit finite networks, the jitter path, the memory budget, jobs and determinism.
#include <doctest/doctest.h>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/datasets.h"
#include "core/deep_kernel.h"
#include "core/gp.h"
#include "core/parallel.h"
#include "core/scene.h"
#include "core/scene_specs.h"

using namespace fs;

namespace {

constexpr double kPi = 3.14159265358979323846;

GpSpec base_spec(ActivationKind kind = ActivationKind::tanh, int depth = 3) {
  GpSpec spec;
  spec.network.activation = {kind, 1.0};
  spec.network.sigma_w2 = 1.5;
  spec.network.sigma_in2 = 1.5;
  spec.network.sigma_b2 = 0.1;
  spec.network.depth = depth;
  spec.sigma_n2 = 1e-2;
  return spec;
}

GpProblem toy_problem(DatasetKind kind, int train, int test, double noise = 0.1, std::uint64_t seed = 3) {
  DatasetSpec d;
  d.kind = kind;
  d.train = train;
  d.test = test;
  d.noise = noise;
  d.seed = seed;
  const DatasetSplit split = make_dataset(d);
  REQUIRE(split.status.ok());
  GpProblem p;
  p.x_train = split.train.x;
  p.x_test = split.test.x;
  p.y_train = split.train.y;
  p.y_test = split.test.y;
  return p;
}

double max_abs(const Eigen::MatrixXd& m) { return m.size() ? m.cwiseAbs().maxCoeff() : 0.0; }

}  // namespace

TEST_CASE("a 2-point problem solved by hand") {
  // K = [[2, 1], [1, 2]], y = (1, -1), sigma_n^2 = 1/2: A = [[5/2, 1], [1, 5/2]], det A = 21/4,
  // alpha = A^{-1} y = (2/3, -2/3). Test point with k_* = (1, 0), k_** = 1:
  // mean = 2/3, variance = 1 - k_*^T A^{-1} k_* = 1 - (5/2)/(21/4) = 11/21,
  // log p(y) = -1/2 y^T alpha - 1/2 log det A - log 2 pi = -2/3 - 1/2 log(21/4) - log(2 pi).
  Eigen::MatrixXd k(2, 2), ks(1, 2), y(2, 1);
  k << 2, 1, 1, 2;
  ks << 1, 0;
  y << 1, -1;
  Eigen::VectorXd kss(1);
  kss << 1;
  const GpSolveResult r = gp_solve(k, ks, kss, y, 0.5, true);
  REQUIRE(r.status.ok());
  CHECK(r.mean(0, 0) == doctest::Approx(2.0 / 3).epsilon(1e-14));
  CHECK(r.variance(0) == doctest::Approx(11.0 / 21).epsilon(1e-14));
  CHECK(r.log_evidence == doctest::Approx(-2.0 / 3 - 0.5 * std::log(21.0 / 4) - std::log(2 * kPi)).epsilon(1e-14));
  CHECK(r.jitter == 0);
  // cond_1(A) = |A|_1 |A^{-1}|_1 = (7/2) (7/2 / (21/4)) = 7/3; the estimate is within a factor of 3.
  CHECK(r.condition_number >= 7.0 / 3 / 3);
  CHECK(r.condition_number <= 7.0 / 3 * 1.0000001);
}

TEST_CASE("the blocked Cholesky solve and its condition estimate against dense references (n spans several blocks)") {
  // A = B B^T / n + 0.05 I for a fixed B: the posterior mean against a dense LDLT solve, the log
  // evidence against the eigenvalues, and the 1-norm condition estimate, a lower bound within 10x.
  const int n = 700, m = 40;
  Eigen::MatrixXd b(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) b(i, j) = std::sin(0.37 * i + 1.3 * j) + 0.1 * std::cos(0.011 * i * j);
  const Eigen::MatrixXd k = b * b.transpose() / n;
  Eigen::MatrixXd ks(m, n), y(n, 2);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) ks(i, j) = k(j, (7 * i) % n);
  for (int i = 0; i < n; ++i) y(i, 0) = std::cos(0.1 * i), y(i, 1) = i % 3 - 1.0;
  const Eigen::VectorXd kss = Eigen::VectorXd::Constant(m, 2.0);
  const GpSolveResult r = gp_solve(k, ks, kss, y, 0.05, true);
  REQUIRE(r.status.ok());
  const Eigen::MatrixXd a = k + 0.05 * Eigen::MatrixXd::Identity(n, n);
  const Eigen::MatrixXd alpha = a.ldlt().solve(y);
  CHECK(max_abs(r.mean - ks * alpha) < 1e-9 * max_abs(ks * alpha));
  const Eigen::MatrixXd inv_ks = a.ldlt().solve(ks.transpose());
  for (int i = 0; i < m; ++i) CHECK(r.variance(i) == doctest::Approx(2.0 - ks.row(i).dot(inv_ks.col(i))).epsilon(1e-9));
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
  double log_det = 0;
  for (int i = 0; i < n; ++i) log_det += std::log(eig.eigenvalues()(i));
  const double quad = y.col(0).dot(alpha.col(0)) + y.col(1).dot(alpha.col(1));
  CHECK(r.log_evidence == doctest::Approx(-0.5 * quad - log_det - n * std::log(2 * kPi)).epsilon(1e-10));
  const double exact = a.cwiseAbs().colwise().sum().maxCoeff() * a.inverse().cwiseAbs().colwise().sum().maxCoeff();
  CHECK(r.condition_number <= exact * (1 + 1e-9));
  CHECK(r.condition_number >= exact / 10);
}

TEST_CASE("a linear network's GP by hand: readout kernel, posterior and evidence") {
  // phi(x) = x: K^0 = sigma_in^2 G + sigma_b^2, K^1 = sigma_b^2 + sigma_w^2 K^0, readout
  // K_y = sigma_b^2 + sigma_w^2 K^1 (docs/theory.md §2, §7), G = x x^T / d with d = 2.
  GpSpec spec = base_spec(ActivationKind::linear, 1);
  spec.network.sigma_w2 = 0.8;
  spec.network.sigma_in2 = 1.2;
  spec.network.sigma_b2 = 0.3;
  spec.sigma_n2 = 0.25;
  GpProblem p;
  p.x_train.resize(2, 2);
  p.x_train << 1, 0, 0.5, 2;
  p.x_test.resize(1, 2);
  p.x_test << -1, 1;
  p.y_train = {0, 1};  // targets -1, +1
  p.y_test = {1};
  Eigen::MatrixXd x(3, 2);
  x << 1, 0, 0.5, 2, -1, 1;
  Eigen::MatrixXd ky(3, 3);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      const double g = x.row(a).dot(x.row(b)) / 2;
      const double k0 = 1.2 * g + 0.3, k1 = 0.3 + 0.8 * k0;
      ky(a, b) = 0.3 + 0.8 * k1;
    }
  const GpResult r = gp_run(spec, p);
  REQUIRE(r.status.ok());
  CHECK(max_abs(r.kernel - ky) < 1e-14);
  // 2 x 2 inverse by hand.
  const double a11 = ky(0, 0) + 0.25, a22 = ky(1, 1) + 0.25, a12 = ky(0, 1), det = a11 * a22 - a12 * a12;
  const double y1 = -1, y2 = 1;
  const double al1 = (a22 * y1 - a12 * y2) / det, al2 = (-a12 * y1 + a11 * y2) / det;
  const double k1 = ky(2, 0), k2 = ky(2, 1);
  const double mean = k1 * al1 + k2 * al2;
  const double var = ky(2, 2) - (k1 * (a22 * k1 - a12 * k2) + k2 * (-a12 * k1 + a11 * k2)) / det;
  const double evidence = -0.5 * (y1 * al1 + y2 * al2) - 0.5 * std::log(det) - std::log(2 * kPi);
  CHECK(r.solve.mean(0, 0) == doctest::Approx(mean).epsilon(1e-13));
  CHECK(r.solve.variance(0) == doctest::Approx(var).epsilon(1e-13));
  CHECK(r.solve.log_evidence == doctest::Approx(evidence).epsilon(1e-13));
  CHECK(r.predicted[0] == (mean > 0 ? 1.0 : 0.0));
  CHECK(r.mse == doctest::Approx((mean - 1) * (mean - 1)).epsilon(1e-13));
}

TEST_CASE("ReLU readout kernel at depth 0 is the arc-cosine kernel (Cho & Saul 2009)") {
  GpSpec spec = base_spec(ActivationKind::relu, 0);
  const GpProblem p = toy_problem(DatasetKind::spirals, 12, 0);
  const GpKernelResult r = gp_readout_kernel(spec, p.x_train);
  REQUIRE(r.status.ok());
  double worst = 0;
  for (int a = 0; a < 12; ++a)
    for (int b = 0; b < 12; ++b) {
      const auto k0 = [&](int i, int j) {
        return spec.network.input_variance() * p.x_train.row(i).dot(p.x_train.row(j)) / 2 + spec.network.sigma_b2;
      };
      const double q1 = k0(a, a), q2 = k0(b, b), c = k0(a, b);
      const double theta = std::acos(std::clamp(c / std::sqrt(q1 * q2), -1.0, 1.0));
      const double e = std::sqrt(q1 * q2) / (2 * kPi) * (std::sin(theta) + (kPi - theta) * std::cos(theta));
      worst = std::max(worst, std::fabs(r.kernel(a, b) - (spec.network.sigma_b2 + spec.network.sigma_w2 * e)));
    }
  CHECK(worst < 1e-13);
}

// The one-hidden-layer network (L = 0, docs/theory.md §9): the readout reads phi(h^0), h^0 = U x + b, so
// its kernel is sigma_b^2 + sigma_w^2 E[phi(u) phi(v)] over K^0 = sigma_in^2 G + sigma_b^2 - for erf(a x)
// Williams' arcsine kernel (Williams 1997), (2/pi) asin(2 a^2 K_uv / sqrt((1 + 2 a^2 K_uu)(1 + 2 a^2 K_vv))).
TEST_CASE("a scene with L = 0 reads out after one layer: Williams' erf kernel and the GP prediction it gives") {
  const SceneResult loaded = scene_from_query("v=1&act=erf&ap=1.5&w2=1.8&b2=0.2&in2=0.9&L=0&gd=moons&gs2=0.05");
  REQUIRE(loaded.status.ok());
  REQUIRE(loaded.scene.network.depth == 0);
  for (Architecture arch : {Architecture::deep, Architecture::recurrent}) {
    GpSpec spec = gp_spec(loaded.scene);
    spec.network.arch = arch;
    const GpProblem p = toy_problem(DatasetKind::moons, 30, 12);
    const int n = 30, m = 12;
    Eigen::MatrixXd x(n + m, 2);
    x << p.x_train, p.x_test;
    const double a2 = 1.5 * 1.5;
    Eigen::MatrixXd k(n + m, n + m);
    for (int i = 0; i < n + m; ++i)
      for (int j = 0; j < n + m; ++j) {
        const auto k0 = [&](int r, int c) { return 0.9 * x.row(r).dot(x.row(c)) / 2 + 0.2; };
        const double e = 2 / kPi * std::asin(2 * a2 * k0(i, j) / std::sqrt((1 + 2 * a2 * k0(i, i)) * (1 + 2 * a2 * k0(j, j))));
        k(i, j) = 0.2 + 1.8 * e;
      }
    const GpResult r = gp_run(spec, p);
    REQUIRE(r.status.ok());
    CHECK(max_abs(r.kernel - k) < 1e-13);
    const GpTargets targets = gp_targets(p, false);
    Eigen::MatrixXd a = k.topLeftCorner(n, n);
    a.diagonal().array() += 0.05;
    const Eigen::MatrixXd mean = k.bottomLeftCorner(m, n) * a.llt().solve(targets.train);
    CHECK(r.solve.jitter == 0);
    CHECK(max_abs(r.solve.mean - mean) < 1e-11);
  }
}

TEST_CASE("the single readout kernel is the deep kernel of the next layer, K^{L+1} (docs/theory.md §7)") {
  for (auto kind : {ActivationKind::tanh, ActivationKind::relu, ActivationKind::erf}) {
    const GpSpec spec = base_spec(kind, 4);
    const GpProblem p = toy_problem(DatasetKind::moons, 15, 0);
    const GpKernelResult r = gp_readout_kernel(spec, p.x_train);
    REQUIRE(r.status.ok());
    DeepKernelSpec ds;
    ds.network.activation = spec.network.activation;
    ds.network.sigma_w2 = spec.network.sigma_w2;
    ds.network.sigma_b2 = spec.network.sigma_b2;
    ds.network.sigma_in2 = spec.network.input_variance();
    ds.network.depth = spec.network.depth + 1;
    InputSet in;
    in.count = 15;
    in.dim = 2;
    in.x = {p.x_train};
    const DeepKernelResult deep = deep_kernel(ds, in.gram());
    REQUIRE(deep.status.ok());
    CHECK(max_abs(r.kernel - deep.kernel.back()) < 1e-14 * max_abs(deep.kernel.back()));
  }
}

namespace {

// K^0 .. K^depth of the deep network over the rows of x (core/deep_kernel.h).
std::vector<Eigen::MatrixXd> deep_kernels(const GpSpec& spec, const Eigen::MatrixXd& x, int depth) {
  DeepKernelSpec ds;
  ds.network = spec.network;
  ds.network.arch = Architecture::deep;
  ds.network.depth = depth;
  InputSet in;
  in.count = static_cast<int>(x.rows());
  in.dim = static_cast<int>(x.cols());
  in.x = {x};
  DeepKernelResult deep = deep_kernel(ds, in.gram());
  REQUIRE(deep.status.ok());
  return std::move(deep.kernel);
}

// The averaged deep readout over layers R0..L (docs/theory.md §7), from the deep kernels K^0..K^{L+1}:
//   K_y = sigma_b^2 + (sigma_w^2 / n^2) [sum_t E_t[phi phi] + sum_{t != s} E[phi(h^t)] E[phi(h^s)]],
// with sigma_w^2 E_t[phi phi] = K^{t+1} - sigma_b^2 and E[phi(h^t_a)] = mean_phi(K^t_aa); without the
// cross-layer sum (with_cross = false) it is the t = s-only formula.
Eigen::MatrixXd averaged_readout_reference(const GpSpec& spec, const std::vector<Eigen::MatrixXd>& k, bool with_cross) {
  const int first = spec.readout_from, last = spec.network.depth, p = static_cast<int>(k[0].rows());
  const double n = last - first + 1.0, w2 = spec.network.sigma_w2, b2 = spec.network.sigma_b2;
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(p, p);
  for (int t = first; t <= last; ++t) sum += ((k[static_cast<std::size_t>(t + 1)].array() - b2) / w2).matrix();
  if (with_cross)
    for (int t = first; t <= last; ++t)
      for (int s = first; s <= last; ++s) {
        if (s == t) continue;
        for (int a = 0; a < p; ++a)
          for (int b = 0; b < p; ++b)
            sum(a, b) += mean_phi(spec.network.activation, k[static_cast<std::size_t>(t)](a, a)) *
                         mean_phi(spec.network.activation, k[static_cast<std::size_t>(s)](b, b));
      }
  return ((w2 / (n * n)) * sum.array() + b2).matrix();
}

}  // namespace

TEST_CASE("the averaged deep readout is sigma_b^2 + sigma_w^2/n^2 [sum_t E_t[phi phi] + sum_{t != s} E[phi(h^t)] E[phi(h^s)]]") {
  // At N = infinity the layers are independent (docs/theory.md §2), so the cross-layer terms are products
  // of one-point means: nonzero for ReLU, leaky ReLU, GELU, softplus; zero for tanh.
  const GpProblem p = toy_problem(DatasetKind::circles, 10, 0);
  for (const Activation act :
       {Activation{ActivationKind::relu, 1.0}, Activation{ActivationKind::gelu, 1.0}, Activation{ActivationKind::softplus, 1.0},
        Activation{ActivationKind::leaky_relu, 0.2}, Activation{ActivationKind::tanh, 1.0}}) {
    for (int from : {0, 2}) {
      CAPTURE(act.name());
      CAPTURE(from);
      GpSpec spec = base_spec(act.kind, 5);
      spec.network.activation = act;
      spec.readout_from = from;  // layers from..5
      const GpKernelResult r = gp_readout_kernel(spec, p.x_train);
      REQUIRE(r.status.ok());
      const std::vector<Eigen::MatrixXd> k = deep_kernels(spec, p.x_train, 6);
      const Eigen::MatrixXd expected = averaged_readout_reference(spec, k, true);
      CHECK(max_abs(r.kernel - expected) < 1e-12 * max_abs(expected));
      CHECK(r.kernel == r.kernel.transpose());
      // The cross-layer terms matter except for odd phi: the t = s-only formula is far off.
      const double off = max_abs(averaged_readout_reference(spec, k, false) - expected) / max_abs(expected);
      if (act.odd())
        CHECK(off == 0);
      else
        CHECK(off > 0.05);
    }
  }
}

TEST_CASE("odd activations: the averaged deep readout is the t = s-only formula to the last bit") {
  // E[phi] = 0 for tanh and erf, so the cross-layer terms vanish and the kernel must be, bit for bit,
  //   sigma_b^2 + (sigma_w^2 / n^2) sum_{t = R0..L} E_t[phi phi]
  // accumulated layer by layer from the deep recursion's own step (propagate_rows, PairIntegrator::row).
  // The points, d = 2, sigma_in^2 and sigma_b^2 are dyadic so that K^0 is exact in any evaluation order,
  // and P = 16 keeps every Eigen loop on whole packets.
  const int p = 16;
  Eigen::MatrixXd x(p, 2);
  for (int a = 0; a < p; ++a) x(a, 0) = 0.25 * (a % 4) - 0.5, x(a, 1) = 0.25 * (a / 4) - 0.375;
  for (const Activation act : {Activation{ActivationKind::tanh, 1.0}, Activation{ActivationKind::erf, 1.5}}) {
    CAPTURE(act.name());
    GpSpec spec = base_spec(act.kind, 4);
    spec.network.activation = act;
    spec.network.sigma_b2 = 0.125;
    spec.network.sigma_in2 = 1.5;
    spec.readout_from = 1;  // layers 1..4
    const GpKernelResult r = gp_readout_kernel(spec, x);
    REQUIRE(r.status.ok());
    const std::vector<Eigen::MatrixXd> k = deep_kernels(spec, x, 4);
    Eigen::MatrixXd accum = Eigen::MatrixXd::Zero(p, p);
    for (int t = 1; t <= 4; ++t) {
      const Eigen::MatrixXd& kt = k[static_cast<std::size_t>(t)];
      PairIntegrator integrator(act, PairFunction::phi);
      std::vector<double> q(static_cast<std::size_t>(p));
      for (int a = 0; a < p; ++a) q[static_cast<std::size_t>(a)] = kt(a, a);
      integrator.set_variances(q);
      std::vector<double> out(static_cast<std::size_t>(p));
      for (int a = 0; a < p; ++a) {
        integrator.row(a, a, p - a, kt.data() + static_cast<std::size_t>(a) * p + a, out.data());
        for (int b = 0; b < p - a; ++b) accum(a + b, a) += out[static_cast<std::size_t>(b)];
      }
    }
    Eigen::MatrixXd expected = ((spec.network.sigma_w2 / (4.0 * 4.0)) * accum.array() + spec.network.sigma_b2).matrix();
    symmetrize_from_lower(expected);
    CHECK(r.kernel == expected);  // bitwise
  }
}

namespace {

// A deterministic normal stream for the Monte Carlo: splitmix64 (Steele, Lea & Flood 2014) and Marsaglia's
// polar method (one logarithm per pair of normals).
class NormalStream {
 public:
  explicit NormalStream(std::uint64_t seed) : state_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u = 0, v = 0, r2 = 0;
    do {
      u = static_cast<double>(bits() >> 11) * 0x1.0p-52 - 1.0;  // [-1, 1)
      v = static_cast<double>(bits() >> 11) * 0x1.0p-52 - 1.0;
      r2 = u * u + v * v;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double scale = std::sqrt(-2.0 * std::log(r2) / r2);
    spare_ = v * scale;
    has_spare_ = true;
    return u * scale;
  }

 private:
  std::uint64_t bits() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace

TEST_CASE("Monte Carlo: finite deep ReLU networks give the averaged readout kernel with its cross-layer terms") {
  // Explicit networks of width N (docs/theory.md §1): h^0 = U x + b^0, h^l = W^l relu(h^{l-1}) + b^l with
  // fresh W^l, b^l, and the averaged readout features f = (1/n) sum_{t = R0..L} relu(h^t). For readout
  // weights w_i ~ N(0, sigma_w^2) and bias ~ N(0, sigma_b^2), y = w.f / sqrt(N) + b has, given the network,
  // E[y(x) y(x')] = sigma_b^2 + sigma_w^2 (1/N) sum_i f_i(x) f_i(x'), whose mean over networks tends to
  // K_y as N -> infinity (finite-width corrections are O(1/N), well below the standard errors here).
  const int width = 512, networks = 64, depth = 3, from = 1, d = 3, layers = depth - from + 1;
  GpSpec spec = base_spec(ActivationKind::relu, depth);
  spec.network.sigma_w2 = 1.8;
  spec.network.sigma_in2 = 1.8;
  spec.readout_from = from;
  Eigen::MatrixXd x(2, d);
  x << 1.2, 0, -0.6, 0.3, 1.5, 0.9;
  const GpKernelResult theory = gp_readout_kernel(spec, x);
  REQUIRE(theory.status.ok());
  const std::vector<Eigen::MatrixXd> k = deep_kernels(spec, x, depth + 1);
  const Eigen::MatrixXd old_formula = averaged_readout_reference(spec, k, false);  // t = s only

  const double sw = std::sqrt(spec.network.sigma_w2 / width), sb = std::sqrt(spec.network.sigma_b2),
               su = std::sqrt(spec.network.input_variance() / d);
  // Per network the three entries (x1, x1), (x2, x2), (x1, x2); their sums and sums of squares.
  double sum[3] = {0, 0, 0}, sum_sq[3] = {0, 0, 0};
  std::vector<double> h(2 * width), post(2 * width), features(2 * width);
  for (int net = 0; net < networks; ++net) {
    NormalStream rng(0x5eed0000ULL + static_cast<std::uint64_t>(net) * 0x10001ULL);
    std::fill(features.begin(), features.end(), 0.0);
    for (int l = 0; l <= depth; ++l) {
      for (int i = 0; i < width; ++i) {
        double h1 = 0, h2 = 0;
        if (l == 0) {
          for (int j = 0; j < d; ++j) {
            const double u = su * rng.next();
            h1 += u * x(0, j), h2 += u * x(1, j);
          }
        } else {
          for (int j = 0; j < width; ++j) {
            const double w = sw * rng.next();
            h1 += w * post[static_cast<std::size_t>(j)], h2 += w * post[static_cast<std::size_t>(width + j)];
          }
        }
        const double b = sb * rng.next();
        h[static_cast<std::size_t>(i)] = h1 + b, h[static_cast<std::size_t>(width + i)] = h2 + b;
      }
      for (std::size_t i = 0; i < h.size(); ++i) post[i] = std::max(0.0, h[i]);
      if (l >= from)
        for (std::size_t i = 0; i < h.size(); ++i) features[i] += post[i] / layers;
    }
    double dots[3] = {0, 0, 0};
    for (int i = 0; i < width; ++i) {
      const double f1 = features[static_cast<std::size_t>(i)], f2 = features[static_cast<std::size_t>(width + i)];
      dots[0] += f1 * f1, dots[1] += f2 * f2, dots[2] += f1 * f2;
    }
    for (int e = 0; e < 3; ++e) {
      const double value = spec.network.sigma_b2 + spec.network.sigma_w2 * dots[e] / width;
      sum[e] += value, sum_sq[e] += value * value;
    }
  }
  const int entry_a[3] = {0, 1, 0}, entry_b[3] = {0, 1, 1};
  for (int e = 0; e < 3; ++e) {
    CAPTURE(e);
    const double mean = sum[e] / networks;
    const double se = std::sqrt((sum_sq[e] / networks - mean * mean) / (networks - 1.0));
    const double z_new = (mean - theory.kernel(entry_a[e], entry_b[e])) / se;
    const double z_old = (mean - old_formula(entry_a[e], entry_b[e])) / se;
    INFO("Monte Carlo " << mean << " +- " << se << "; with cross-layer terms " << theory.kernel(entry_a[e], entry_b[e])
                        << " (z = " << z_new << "), t = s only " << old_formula(entry_a[e], entry_b[e]) << " (z = " << z_old
                        << ")");
    CHECK(std::abs(z_new) < 4);
    CHECK(std::abs(z_old) > 15);
  }
}

TEST_CASE("interpolation as sigma_n^2 -> 0: the error at the training points shrinks like sigma_n^2") {
  // f(X) - y = -sigma_n^2 (K + sigma_n^2 I)^{-1} y, so for small sigma_n^2 the error is sigma_n^2 |K^{-1} y|;
  // a test point equal to a training point has 0 <= variance <= sigma_n^2.
  GpSpec spec = base_spec(ActivationKind::erf, 2);
  GpProblem p = toy_problem(DatasetKind::moons, 12, 0, 0.2);
  p.x_test = p.x_train.topRows(3);
  p.y_test.assign(p.y_train.begin(), p.y_train.begin() + 3);
  double previous = 0;
  for (double s2 : {1e-4, 1e-6, 1e-8}) {
    spec.sigma_n2 = s2;
    const GpResult r = gp_run(spec, p);
    REQUIRE(r.status.ok());
    REQUIRE(r.solve.jitter == 0);
    Eigen::VectorXd y(12);
    for (int a = 0; a < 12; ++a) y(a) = p.y_train[static_cast<std::size_t>(a)] == 1 ? 1 : -1;
    const double error = (r.solve.train_mean.col(0) - y).cwiseAbs().maxCoeff();
    if (previous > 0) CHECK(error / previous == doctest::Approx(1e-2).epsilon(0.05));
    previous = error;
    for (int a = 0; a < 3; ++a) {
      CHECK(r.solve.mean(a, 0) == doctest::Approx(y(a)).epsilon(1e-2));
      CHECK(r.solve.variance(a) >= -1e-12);
      CHECK(r.solve.variance(a) <= s2 * (1 + 1e-3) + 1e-12);
    }
    CHECK(r.train_accuracy == 1.0);
  }
  CHECK(previous < 1e-5);
}

TEST_CASE("log evidence equals the direct formula via eigenvalues, summed over one-hot outputs") {
  GpSpec spec = base_spec(ActivationKind::relu, 3);
  spec.sigma_n2 = 0.05;
  GpProblem p = toy_problem(DatasetKind::spirals, 30, 0);
  for (int a = 0; a < 30; ++a) p.y_train[static_cast<std::size_t>(a)] = a % 3;  // 3 classes: one-hot
  spec.centred_targets = true;
  const GpResult r = gp_run(spec, p);
  REQUIRE(r.status.ok());
  REQUIRE(r.solve.log_evidence_per_output.size() == 3);
  const Eigen::MatrixXd a = r.kernel + 0.05 * Eigen::MatrixXd::Identity(30, 30);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
  double log_det = 0;  // a scalar loop: GCC 12 warns falsely inside Eigen's AVX-512 vector log
  for (int i = 0; i < 30; ++i) log_det += std::log(eig.eigenvalues()(i));
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    Eigen::VectorXd y = Eigen::VectorXd::Constant(30, -1.0 / 3);
    for (int i = c; i < 30; i += 3) y(i) = 2.0 / 3;
    const Eigen::VectorXd proj = eig.eigenvectors().transpose() * y;
    const double quad = (proj.array().square() / eig.eigenvalues().array()).sum();
    const double expected = -0.5 * quad - 0.5 * log_det - 15 * std::log(2 * kPi);
    CHECK(r.solve.log_evidence_per_output[static_cast<std::size_t>(c)] == doctest::Approx(expected).epsilon(1e-11));
    total += expected;
  }
  CHECK(r.solve.log_evidence == doctest::Approx(total).epsilon(1e-11));
}

TEST_CASE("deep and recurrent networks give identical GP predictions at a single readout time (docs/theory.md §4.2)") {
  const GpProblem p = toy_problem(DatasetKind::moons, 40, 30);
  for (auto kind : {ActivationKind::tanh, ActivationKind::relu}) {
    GpSpec deep = base_spec(kind, 6);
    const GpResult d = gp_run(deep, p);
    REQUIRE(d.status.ok());
    for (auto bias : {BiasMode::shared, BiasMode::independent}) {
      GpSpec rnn = deep;
      rnn.network.arch = Architecture::recurrent;
      rnn.network.bias_mode = bias;
      const GpResult r = gp_run(rnn, p);
      REQUIRE(r.status.ok());
      CHECK(r.solve.mean == d.solve.mean);  // bitwise
      CHECK(r.solve.variance == d.solve.variance);
      CHECK(r.solve.log_evidence == d.solve.log_evidence);
      CHECK(r.accuracy == d.accuracy);
      // The same readout through the full two-time recursion (RecurrentKernelJob's K^{TT} block).
      rnn.two_time_kernel = true;
      const GpResult two = gp_run(rnn, p);
      REQUIRE(two.status.ok());
      // Equal up to the Hermite series' truncation (kSeriesTolerance = 1e-10 relative), which depends on
      // the set of variances one integrator serves.
      CHECK(max_abs(two.kernel - d.kernel) < 1e-10 * max_abs(d.kernel));
      CHECK(max_abs(two.solve.mean - d.solve.mean) < 1e-9);
    }
  }
}

TEST_CASE("a time-averaged readout separates the architectures, unless the cross-time kernel vanishes (docs/theory.md §4.3)") {
  const GpProblem p = toy_problem(DatasetKind::circles, 30, 30);
  GpSpec deep = base_spec(ActivationKind::tanh, 6);
  deep.readout_from = 2;
  GpSpec rnn = deep;
  rnn.network.arch = Architecture::recurrent;
  // Shared bias: O(1) cross-time covariance, so the recurrent prior (and posterior) differs.
  rnn.network.bias_mode = BiasMode::shared;
  const GpResult d = gp_run(deep, p), r = gp_run(rnn, p);
  REQUIRE(d.status.ok());
  REQUIRE(r.status.ok());
  CHECK(max_abs(r.kernel - d.kernel) > 1e-2);
  CHECK(max_abs(r.solve.mean - d.solve.mean) > 1e-3);
  CHECK(r.solve.log_evidence != doctest::Approx(d.solve.log_evidence).epsilon(1e-6));
  // Odd phi, independent biases, input at t = 0: K^{ts} = 0 for t != s, so the averages agree.
  rnn.network.bias_mode = BiasMode::independent;
  const GpResult same = gp_run(rnn, p);
  REQUIRE(same.status.ok());
  CHECK(max_abs(same.kernel - d.kernel) < 1e-10 * max_abs(d.kernel));  // series truncation, as above
  CHECK(max_abs(same.solve.mean - d.solve.mean) < 1e-9);
}

TEST_CASE("the jitter path: a rank-deficient kernel is regularised, reported, and still interpolates") {
  // Duplicate training points and sigma_n^2 = 0: K_XX is singular.
  GpSpec spec = base_spec(ActivationKind::tanh, 2);
  spec.sigma_n2 = 0;
  GpProblem p = toy_problem(DatasetKind::xor_, 6, 0, 0.0);
  p.x_train.conservativeResize(8, 2);
  p.x_train.row(6) = p.x_train.row(0);
  p.x_train.row(7) = p.x_train.row(1);
  p.y_train.push_back(p.y_train[0]);
  p.y_train.push_back(p.y_train[1]);
  const GpResult r = gp_run(spec, p);
  REQUIRE(r.status.ok());
  CHECK(r.solve.jitter > 0);
  CHECK(r.solve.jitter_attempts >= 1);
  CHECK(r.solve.jitter <= kMaxRelativeJitter * r.kernel.diagonal().mean());
  CHECK(r.solve.condition_number <= 1 / kMinReciprocalCondition);
  CHECK(r.status.message.find("jitter") != std::string::npos);
  CHECK(std::isfinite(r.solve.log_evidence));
  CHECK(r.train_accuracy == 1.0);
  // The jitter found is the first of the decades 1e-12, 1e-11, ... (times the mean variance) that works:
  // one decade less fails the factorisation or the condition test.
  const double scale = r.kernel.diagonal().mean();
  const Eigen::MatrixXd k = r.kernel;
  Eigen::MatrixXd y = Eigen::MatrixXd::Ones(8, 1);
  if (r.solve.jitter > 1.5e-12 * scale) {
    const GpSolveResult smaller = gp_solve(k, Eigen::MatrixXd(0, 8), Eigen::VectorXd(0), y, r.solve.jitter / 10, false);
    CHECK((!smaller.status.ok() || smaller.jitter > 0));
  }

  // A rank-1 kernel (all ones) needs jitter too; a negative definite one cannot be rescued.
  const GpSolveResult ones =
      gp_solve(Eigen::MatrixXd::Ones(3, 3), Eigen::MatrixXd(0, 3), Eigen::VectorXd(0), Eigen::MatrixXd::Ones(3, 1), 0.0, false);
  CHECK(ones.status.ok());
  CHECK(ones.jitter > 0);
  Eigen::MatrixXd negative = Eigen::MatrixXd::Identity(3, 3);
  negative(1, 1) = -1;
  negative(2, 2) = 3;  // mean variance 1, one negative eigenvalue
  const GpSolveResult bad =
      gp_solve(negative, Eigen::MatrixXd(0, 3), Eigen::VectorXd(0), Eigen::MatrixXd::Ones(3, 1), 0.0, false);
  CHECK(bad.status.code == StatusCode::numerical);
  CHECK(bad.status.message.find("not positive definite") != std::string::npos);
  Eigen::MatrixXd nan_kernel = Eigen::MatrixXd::Identity(2, 2);
  nan_kernel(0, 1) = std::nan("");
  CHECK(gp_solve(nan_kernel, Eigen::MatrixXd(0, 2), Eigen::VectorXd(0), Eigen::MatrixXd::Ones(2, 1), 0.1, false).status.code ==
        StatusCode::numerical);
}

TEST_CASE("accuracy and MSE follow from the posterior means; one-hot argmax for three classes") {
  GpSpec spec = base_spec(ActivationKind::relu, 2);
  GpProblem p = toy_problem(DatasetKind::spirals, 60, 45, 0.05);
  // Three classes by angle sector.
  auto sector = [](double x, double y) { return std::floor((std::atan2(y, x) + kPi) / (2 * kPi / 3)); };
  for (int a = 0; a < 60; ++a) p.y_train[static_cast<std::size_t>(a)] = std::min(2.0, sector(p.x_train(a, 0), p.x_train(a, 1)));
  for (int a = 0; a < 45; ++a) p.y_test[static_cast<std::size_t>(a)] = std::min(2.0, sector(p.x_test(a, 0), p.x_test(a, 1)));
  const GpResult r = gp_run(spec, p);
  REQUIRE(r.status.ok());
  REQUIRE(r.solve.mean.cols() == 3);
  double right = 0, se = 0;
  for (int a = 0; a < 45; ++a) {
    Eigen::Index best = 0;
    r.solve.mean.row(a).maxCoeff(&best);
    CHECK(r.predicted[static_cast<std::size_t>(a)] == static_cast<double>(best));
    right += best == static_cast<Eigen::Index>(p.y_test[static_cast<std::size_t>(a)]);
    for (int c = 0; c < 3; ++c) {
      const double target = c == p.y_test[static_cast<std::size_t>(a)] ? 1.0 : 0.0;
      se += (r.solve.mean(a, c) - target) * (r.solve.mean(a, c) - target);
    }
  }
  CHECK(r.accuracy == doctest::Approx(right / 45).epsilon(1e-15));
  CHECK(r.mse == doctest::Approx(se / (45 * 3)).epsilon(1e-12));
  CHECK(r.accuracy > 0.6);  // angle sectors of a smooth 2-D map are easy: chance is 1/3
}

TEST_CASE("bad problems and the memory budget give a sentence, not a crash") {
  const GpProblem p = toy_problem(DatasetKind::moons, 20, 10);
  GpSpec spec = base_spec();
  spec.memory_budget_bytes = 4096;
  const GpResult big = gp_run(spec, p);
  CHECK(big.status.code == StatusCode::too_large);
  CHECK(big.status.message.find("MiB") != std::string::npos);
  CHECK(big.memory_bytes == doctest::Approx(gp_memory_bytes(spec, 20, 10, 1, 2)));
  // The estimate scales like (n + m)^2 for large problems (the P x P kernel dominates).
  CHECK(gp_memory_bytes(spec, 4000, 1000, 1, 2) / gp_memory_bytes(spec, 2000, 500, 1, 2) == doctest::Approx(4).epsilon(0.05));

  spec = base_spec();
  spec.network.arch = Architecture::recurrent;
  spec.network.input_mode = InputMode::sequence;
  CHECK(gp_run(spec, p).status.code == StatusCode::invalid_input);
  spec = base_spec();
  spec.sigma_n2 = -1;
  CHECK(gp_run(spec, p).status.message.find("sigma_n^2") != std::string::npos);
  spec = base_spec();
  spec.readout_from = 7;
  CHECK(gp_run(spec, p).status.code == StatusCode::invalid_input);
  GpProblem one_class = p;
  for (double& y : one_class.y_train) y = 1;
  CHECK(gp_run(base_spec(), one_class).status.message.find("one class") != std::string::npos);
  GpProblem unknown = p;
  unknown.y_test[3] = 5;
  CHECK(gp_run(base_spec(), unknown).status.message.find("not among the training classes") != std::string::npos);
  GpProblem nan_points = p;
  nan_points.x_train(2, 1) = std::nan("");
  CHECK(gp_run(base_spec(), nan_points).status.code == StatusCode::invalid_input);
  GpSpec relu = base_spec(ActivationKind::relu, 1000);  // q grows like 1.5^l: past 1e100
  relu.network.sigma_w2 = 3;
  CHECK(gp_run(relu, p).status.code == StatusCode::diverged);
}

TEST_CASE("the job: time-sliced, cancellable, and the same numbers for any slicing and thread count") {
  const GpProblem p = toy_problem(DatasetKind::moons, 150, 50);
  GpSpec spec = base_spec(ActivationKind::tanh, 4);
  const GpResult whole = gp_run(spec, p);
  REQUIRE(whole.status.ok());
  GpJob job(spec, p);
  double last = -1;
  int slices = 0;
  while (!job.step(0.0)) {
    CHECK(job.progress() >= last);
    last = job.progress();
    ++slices;
  }
  CHECK(slices > 2);
  CHECK(job.result().solve.mean == whole.solve.mean);
  const int threads = thread_count();
  set_thread_count(1);
  const GpResult single = gp_run(spec, p);
  set_thread_count(threads);
  CHECK(single.kernel == whole.kernel);
  CHECK(single.solve.mean == whole.solve.mean);
  GpJob cancelled(spec, p);
  cancelled.step(0.0);
  cancelled.cancel();
  cancelled.step(0.0);
  CHECK(cancelled.result().status.code == StatusCode::cancelled);
}

TEST_CASE("regression: real targets, MSE, no accuracy") {
  GpProblem p = toy_problem(DatasetKind::circles, 40, 20, 0.05);
  p.classification = false;
  for (int a = 0; a < 40; ++a) p.y_train[static_cast<std::size_t>(a)] = p.x_train(a, 0) * p.x_train(a, 1);
  for (int a = 0; a < 20; ++a) p.y_test[static_cast<std::size_t>(a)] = p.x_test(a, 0) * p.x_test(a, 1);
  GpSpec spec = base_spec(ActivationKind::erf, 2);
  spec.sigma_n2 = 1e-4;
  const GpResult r = gp_run(spec, p);
  REQUIRE(r.status.ok());
  CHECK(std::isnan(r.accuracy));
  double se = 0, var = 0;
  for (int a = 0; a < 20; ++a) {
    se += std::pow(r.solve.mean(a, 0) - p.y_test[static_cast<std::size_t>(a)], 2);
    var += std::pow(p.y_test[static_cast<std::size_t>(a)], 2);
  }
  CHECK(r.mse == doctest::Approx(se / 20).epsilon(1e-12));
  CHECK(r.mse < 0.2 * var / 20);  // a smooth target on a circle is learnt far better than predicting 0
}

TEST_CASE("evidence curves: each point is the log evidence of a full run at that value") {
  const GpProblem p = toy_problem(DatasetKind::moons, 25, 10);
  const GpSpec spec = base_spec(ActivationKind::tanh, 3);
  const std::vector<double> values = {0.8, 1.6, 3.2};
  const auto curve = gp_evidence_curve(spec, p, GpSweepParameter::sigma_w2, values);
  REQUIRE(curve.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    GpSpec s = spec;
    s.network.sigma_w2 = values[i];
    const GpResult r = gp_run(s, p);
    REQUIRE(r.status.ok());
    CHECK(curve[i].status.ok());
    CHECK(curve[i].value == values[i]);
    CHECK(curve[i].log_evidence == doctest::Approx(r.solve.log_evidence).epsilon(1e-9));
  }
  const auto depth = gp_evidence_curve(spec, p, GpSweepParameter::depth, {1, 2, 5});
  REQUIRE(depth.size() == 3);
  GpSpec s5 = spec;
  s5.network.depth = 5;
  CHECK(depth[2].log_evidence == doctest::Approx(gp_run(s5, p).solve.log_evidence).epsilon(1e-9));
  CHECK(depth[0].log_evidence != depth[2].log_evidence);

  // sigma_in^2 unset in the scene: it follows sigma_w^2 at every point of the curve.
  GpSpec follows = spec;
  follows.network.sigma_in2.reset();
  const auto tracked = gp_evidence_curve(follows, p, GpSweepParameter::sigma_w2, {0.8, 3.2});
  GpSpec at = spec;
  at.network.sigma_w2 = 3.2;
  at.network.sigma_in2 = 3.2;
  CHECK(tracked[1].log_evidence == doctest::Approx(gp_run(at, p).solve.log_evidence).epsilon(1e-9));
  CHECK(tracked[1].log_evidence != doctest::Approx(curve[2].log_evidence).epsilon(1e-6));
}

TEST_CASE("Fashion-MNIST: T-shirts against trousers are told apart (skipped without the data set)") {
  if (!fashion_mnist_available()) {
    MESSAGE("skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
    return;
  }
  DatasetSpec d;
  d.kind = DatasetKind::fashion_mnist;
  d.train = 200;
  d.test = 200;
  d.classes = {0, 1};
  d.downsample = 2;
  const DatasetSplit split = make_dataset(d);
  REQUIRE(split.status.ok());
  GpProblem p{split.train.x, split.test.x, split.train.y, split.test.y, true};
  GpSpec spec = base_spec(ActivationKind::relu, 3);
  spec.network.sigma_w2 = 2.0;
  spec.network.sigma_in2 = 2.0;
  const GpResult deep = gp_run(spec, p);
  REQUIRE(deep.status.ok());
  // Trousers and T-shirts differ in their silhouettes: linear classifiers reach ~99% on this pair.
  CHECK(deep.accuracy > 0.9);
  spec.network.arch = Architecture::recurrent;
  const GpResult rnn = gp_run(spec, p);
  CHECK(rnn.solve.mean == deep.solve.mean);
}

namespace {

// A problem over several of the solver's 192-wide blocks, with ragged last blocks (450 = 2 x 192 + 66
// training points, 250 = 192 + 58 test points) and four classes (four outputs).
GpProblem multi_block_problem() {
  GpProblem p = toy_problem(DatasetKind::moons, 450, 250, 0.1, 11);
  for (std::size_t a = 0; a < p.y_train.size(); ++a) p.y_train[a] = p.y_train[a] + (a % 3 == 0 ? 2 : 0);
  for (std::size_t a = 0; a < p.y_test.size(); ++a) p.y_test[a] = p.y_test[a] + (a % 3 == 0 ? 2 : 0);
  return p;
}

struct SlicedRun {
  GpResult result;
  std::vector<std::string> stages;  // each stage once, in the order seen
  std::vector<int> slices;          // slices per stage
  bool monotone = true;
  std::vector<double> progress_at_stage_change;
};

SlicedRun run_sliced(const GpSpec& spec, const GpProblem& problem, double budget, int threads) {
  const int previous_threads = thread_count();
  set_thread_count(threads);
  SlicedRun run;
  GpJob job(spec, problem);
  double last = job.progress();
  bool done = false;
  while (!done) {
    const std::string stage = job.stage();
    if (run.stages.empty() || run.stages.back() != stage) {
      run.stages.push_back(stage);
      run.slices.push_back(0);
      run.progress_at_stage_change.push_back(job.progress());
    }
    done = job.step(budget);
    ++run.slices.back();
    run.monotone = run.monotone && job.progress() >= last && (done || job.progress() < 1.0);
    last = job.progress();
  }
  CHECK(std::string(job.stage()) == "done");
  CHECK(job.progress() == 1.0);
  run.result = job.take_result();
  set_thread_count(previous_threads);
  return run;
}

void check_bitwise_equal(const GpResult& a, const GpResult& b) {
  CHECK(a.status.code == b.status.code);
  CHECK(a.kernel == b.kernel);
  CHECK(a.solve.mean == b.solve.mean);
  CHECK(a.solve.variance == b.solve.variance);
  CHECK(a.solve.train_mean == b.solve.train_mean);
  CHECK(a.solve.log_evidence_per_output == b.solve.log_evidence_per_output);
  CHECK(a.solve.log_evidence == b.solve.log_evidence);
  CHECK(a.solve.condition_number == b.solve.condition_number);
  CHECK(a.solve.jitter == b.solve.jitter);
  CHECK(a.solve.jitter_attempts == b.solve.jitter_attempts);
  CHECK(a.predicted == b.predicted);
}

}  // namespace

TEST_CASE("the solve is sliced: the same bits for any budget and thread count, stages in order, progress throughout") {
  const GpProblem p = multi_block_problem();
  GpSpec spec = base_spec(ActivationKind::erf, 2);
  const int threads = std::min(2, max_thread_count());
  const SlicedRun whole = run_sliced(spec, p, 1e9, threads);
  REQUIRE(whole.result.status.ok());
  REQUIRE(whole.result.solve.mean.cols() == 4);
  CHECK(whole.slices == std::vector<int>{1});  // one step does everything

  // Against a plain dense solve (Eigen's LLT over the whole matrix, Rasmussen & Williams Alg. 2.1).
  const Eigen::Index n = 450, m = 250;
  const Eigen::MatrixXd& k = whole.result.kernel;
  const GpTargets targets = gp_targets(p, false);
  Eigen::MatrixXd a = k.topLeftCorner(n, n);
  a.diagonal().array() += spec.sigma_n2;
  const Eigen::LLT<Eigen::MatrixXd> llt(a);
  REQUIRE(llt.info() == Eigen::Success);
  const Eigen::MatrixXd alpha = llt.solve(targets.train);
  const Eigen::MatrixXd mean = k.bottomLeftCorner(m, n) * alpha;
  const Eigen::MatrixXd inv_ks = llt.solve(k.bottomLeftCorner(m, n).transpose());
  const Eigen::MatrixXd l = llt.matrixL();
  const double log_det = 2 * l.diagonal().array().log().sum();
  CHECK(max_abs(whole.result.solve.mean - mean) < 1e-9 * max_abs(mean));
  double evidence = 0;
  for (int c = 0; c < 4; ++c)
    evidence += -0.5 * targets.train.col(c).dot(alpha.col(c)) - 0.5 * log_det - 0.5 * double(n) * std::log(2 * kPi);
  CHECK(whole.result.solve.log_evidence == doctest::Approx(evidence).epsilon(1e-10));
  for (Eigen::Index i = 0; i < m; i += 7)
    CHECK(whole.result.solve.variance(i) ==
          doctest::Approx(k(n + i, n + i) - k.row(n + i).head(n).dot(inv_ks.col(i))).epsilon(1e-8));
  CHECK(max_abs(whole.result.solve.train_mean - k.topLeftCorner(n, n) * alpha) < 1e-9 * max_abs(mean));

  // Tiny budgets (one unit of work per step) on one and on two threads: every bit the same.
  for (int t : {1, threads}) {
    CAPTURE(t);
    const SlicedRun sliced = run_sliced(spec, p, 1e-6, t);
    check_bitwise_equal(sliced.result, whole.result);
    CHECK(sliced.monotone);
    REQUIRE(sliced.stages == std::vector<std::string>{"kernel", "factorising", "predicting"});
    // Each stage takes many slices, and progress moves through all of them.
    for (int s : sliced.slices) CHECK(s > 5);
    CHECK(sliced.progress_at_stage_change[0] == 0.0);
    CHECK(sliced.progress_at_stage_change[1] > 0.05);
    CHECK(sliced.progress_at_stage_change[2] > sliced.progress_at_stage_change[1] + 0.01);
    CHECK(sliced.progress_at_stage_change[2] < 0.99);
  }
  const SlicedRun medium = run_sliced(spec, p, 2e-3, threads);
  check_bitwise_equal(medium.result, whole.result);
}

TEST_CASE("the sliced solve: jitter retries resume and give the same bits; cancel() stops in any stage") {
  // Duplicated training points and sigma_n^2 = 0: K_XX is singular over several blocks, so the
  // factorisation (or the condition test) fails and is retried with jitter.
  GpProblem p = multi_block_problem();
  for (int a = 0; a < 60; ++a) {
    p.x_train.row(390 + a) = p.x_train.row(a);
    p.y_train[static_cast<std::size_t>(390 + a)] = p.y_train[static_cast<std::size_t>(a)];
  }
  GpSpec spec = base_spec(ActivationKind::tanh, 3);
  spec.sigma_n2 = 0;
  const int threads = std::min(2, max_thread_count());
  const SlicedRun whole = run_sliced(spec, p, 1e9, threads);
  REQUIRE(whole.result.status.ok());
  CHECK(whole.result.solve.jitter > 0);
  CHECK(whole.result.solve.jitter_attempts >= 1);
  const SlicedRun sliced = run_sliced(spec, p, 1e-6, 1);
  check_bitwise_equal(sliced.result, whole.result);
  CHECK(sliced.monotone);

  // Cancel in each stage: the job stops at its next slice, reports it, and says "done".
  for (const std::string stage : {"kernel", "factorising", "predicting"}) {
    CAPTURE(stage);
    GpJob job(base_spec(ActivationKind::erf, 2), multi_block_problem());
    while (job.stage() != stage) REQUIRE_FALSE(job.step(1e-6));
    REQUIRE_FALSE(job.step(1e-6));  // still inside the stage
    job.cancel();
    CHECK(job.step(1e-6));
    CHECK(job.result().status.code == StatusCode::cancelled);
    CHECK(std::string(job.stage()) == "done");
    CHECK(job.step(1.0));  // and stays done
  }
}

TEST_CASE("evidence curves stay sliced: tiny budgets give the same bits as one run") {
  const GpProblem p = multi_block_problem();
  const GpSpec spec = base_spec(ActivationKind::erf, 2);
  const std::vector<double> values = {1.0, 2.0};
  const auto whole = gp_evidence_curve(spec, p, GpSweepParameter::sigma_w2, values);
  GpEvidenceCurveJob job(spec, p, GpSweepParameter::sigma_w2, values);
  int slices = 0;
  double last = 0;
  while (!job.step(1e-6)) {
    CHECK(job.progress() >= last);
    last = job.progress();
    ++slices;
  }
  CHECK(slices > 20);
  REQUIRE(job.points().size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(job.points()[i].status.ok());
    CHECK(job.points()[i].log_evidence == whole[i].log_evidence);
  }
}

TEST_CASE("the averaged deep readout with cross-layer terms is sliced: the same bits for any budget and thread count") {
  // Softplus: its one-point means are quadratures, computed a few hundred points at a time (700 points).
  const GpProblem p = multi_block_problem();
  GpSpec spec = base_spec(ActivationKind::softplus, 3);
  spec.readout_from = 1;
  const int threads = std::min(2, max_thread_count());
  const SlicedRun whole = run_sliced(spec, p, 1e9, threads);
  REQUIRE(whole.result.status.ok());
  for (int t : {1, threads}) {
    CAPTURE(t);
    const SlicedRun sliced = run_sliced(spec, p, 1e-6, t);
    check_bitwise_equal(sliced.result, whole.result);
    CHECK(sliced.monotone);
    CHECK(sliced.slices[0] > 10);  // the kernel stage took many slices
  }
}
