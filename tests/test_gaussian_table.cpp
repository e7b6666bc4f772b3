// The tabulated functions of the variance (core/gaussian_table.h): accuracy against closed forms,
// error control where interpolation cannot converge, and the reference outside the table.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <vector>

#include "core/activations.h"
#include "core/gaussian_table.h"
#include "core/parallel.h"

using namespace fs;

namespace {
double rel(double a, double b) { return a == b ? 0.0 : std::abs(a - b) / std::max(std::abs(b), 1e-300); }
}  // namespace

TEST_CASE("a table of E[erf(u)^2] and E[erf'(u)^2] matches Williams' closed forms to 1e-13 over 0..2^16") {
  // Both closed forms (activations.cpp) serve as reference and as the independent check.
  const Activation erf{ActivationKind::erf, 1};
  GaussianTable phi_sq([&](double q) { return mean_phi_sq(erf, q); });
  GaussianTable dphi_sq([&](double q) { return mean_dphi_sq(erf, q); });
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-14, 16.5);
  double worst = 0;
  for (int i = 0; i < 20000; ++i) {
    const double q = std::pow(2.0, exponent(rng));
    worst = std::max(
        {worst, rel(phi_sq(q), 2 / M_PI * std::asin(2 * q / (1 + 2 * q))), rel(dphi_sq(q), 4 / M_PI / std::sqrt(1 + 4 * q))});
  }
  CHECK(worst < 1e-13);
  CHECK(phi_sq(0.0) == 0.0);  // a node: the reference value itself
  CHECK(phi_sq.max_error() <= 1e-13);
  CHECK(phi_sq.pieces_built() >= 27);  // every octave was asked for
}

TEST_CASE("a table of rows interpolates each function as a table of its own would, and checks the row's norm") {
  // Rows (E[erf(u)^2], E[erf'(u)^2]) from one call per piece: each column equals the one-function
  // table of it wherever both tables chose the same pieces, and stays within the tolerance everywhere.
  const Activation erf{ActivationKind::erf, 1};
  int calls = 0;
  GaussianTable rows(GaussianTable::RowReference([&](const std::vector<double>& q) {
                       ++calls;
                       GaussianTable::Rows r{2, {}};
                       for (double x : q) r.values.insert(r.values.end(), {mean_phi_sq(erf, x), mean_dphi_sq(erf, x)});
                       return r;
                     }),
                     1e-13, 1e-300);
  std::vector<double> row;
  double worst = 0;
  for (double q = 1e-4; q < 0x1p16; q *= 1.29) {
    rows(q, row);
    REQUIRE(row.size() == 2);
    const double a = 2 / M_PI * std::asin(2 * q / (1 + 2 * q)), b = 4 / M_PI / std::sqrt(1 + 4 * q);
    worst = std::max(worst, std::hypot(row[0] - a, row[1] - b) / std::hypot(a, b));
  }
  CHECK(worst < 1e-13);
  CHECK(rows.max_error() <= 1e-13);
  CHECK(calls >= rows.pieces_built());
  rows(1e6, row);  // outside: the reference itself
  CHECK(row[1] == mean_dphi_sq(erf, 1e6));
}

TEST_CASE("a table of E[tanh(u)^2] matches the quadrature, and outside 0..2^16 it is the quadrature") {
  const Activation tanh_act{ActivationKind::tanh, 1};
  GaussianTable t([&](double q) { return mean_phi_sq(tanh_act, q); });
  double worst = 0;
  for (double q = 1e-6; q < 0x1p16; q *= 1.37) worst = std::max(worst, rel(t(q), mean_phi_sq(tanh_act, q)));
  CHECK(worst < 1e-13);
  CHECK(t.max_error() <= 1e-13);
  CHECK(t(1e5) == mean_phi_sq(tanh_act, 1e5));
  CHECK(t(-1.0) == mean_phi_sq(tanh_act, -1.0));
}

TEST_CASE("where interpolation cannot converge the table says so: sqrt(q) at q = 0") {
  // sqrt is not analytic at 0: every piece [0, h] has the same relative error, whatever h. The
  // splitting stops at its depth limit and the error found is reported, not hidden.
  GaussianTable t([](double q) { return std::sqrt(q); });
  CHECK(t(1e-5) == doctest::Approx(std::sqrt(1e-5)).epsilon(1e-3));
  CHECK(t.max_error() > 1e-13);
  // Away from 0 it is as accurate as anywhere.
  GaussianTable away([](double q) { return std::sqrt(q); });
  double worst = 0;
  for (double q = 0.01; q < 1e5; q *= 1.11) worst = std::max(worst, rel(away(q), std::sqrt(q)));
  CHECK(worst < 1e-13);
  CHECK(away.max_error() <= 1e-13);
}

TEST_CASE("a table built from several threads at once gives the values of one built alone") {
  const Activation gelu{ActivationKind::gelu, 1};
  auto f = [&](double q) { return mean_phi_sq(gelu, q); };
  GaussianTable alone(f), shared(f);
  std::vector<double> qs;
  for (double q = 1e-4; q < 1e5; q *= 1.9) qs.push_back(q);
  std::atomic<int> mismatches{0};
  // Four workers at once where the build has threads (the single-threaded wasm build runs them in turn).
  set_thread_count(std::min(4, max_thread_count()));
  parallel_for(
      4,
      [&](int begin, int end) {
        for (int k = begin; k < end; ++k)
          for (std::size_t i = 0; i < qs.size(); ++i) {
            const double q = qs[(i * 7 + static_cast<std::size_t>(k)) % qs.size()];
            if (shared(q) != alone(q)) ++mismatches;
          }
      },
      1);
  CHECK(mismatches == 0);
}
