// Recursive triangular inverse, L^T L and the SPD inverse (core/spd_inverse.h) against Eigen's direct
// solves, across the recursion's block size.
#include <doctest/doctest.h>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <cmath>

#include "core/random.h"
#include "core/spd_inverse.h"

using namespace fs;

namespace {
Eigen::MatrixXd random_matrix(int rows, int cols, std::uint64_t seed) {
  Eigen::MatrixXd m(rows, cols);
  random::NormalStream{seed, 7, 0, 0, 0}.fill(m.data(), static_cast<std::size_t>(m.size()));
  return m;
}
}  // namespace

TEST_CASE("SPD inverse, triangular inverse and L^T L across block sizes") {
  for (int n : {1, 2, 5, 47, 48, 49, 97, 130, 257}) {
    CAPTURE(n);
    const Eigen::MatrixXd x = random_matrix(n, n + 3, n);
    Eigen::MatrixXd a = x * x.transpose() / (n + 3);
    a.diagonal().array() += 0.1;
    Eigen::MatrixXd inverse, factor_inverse;
    double log_det = 0;
    REQUIRE(spd_inverse(a, inverse, &log_det, &factor_inverse));
    const Eigen::MatrixXd reference = a.llt().solve(Eigen::MatrixXd::Identity(n, n));
    CHECK((inverse - reference).cwiseAbs().maxCoeff() <= 1e-11 * reference.cwiseAbs().maxCoeff());
    CHECK((inverse - inverse.transpose()).cwiseAbs().maxCoeff() == 0.0);
    CHECK(log_det == doctest::Approx(std::log(a.determinant())).epsilon(1e-10));
    const Eigen::MatrixXd l = a.llt().matrixL();
    CHECK((factor_inverse * l - Eigen::MatrixXd::Identity(n, n)).cwiseAbs().maxCoeff() < 1e-11);
    // L^T L of a lower-triangular matrix, the strict upper triangle untouched.
    Eigen::MatrixXd m = random_matrix(n, n, 100 + n);
    const Eigen::MatrixXd lower = m.triangularView<Eigen::Lower>();
    const Eigen::MatrixXd upper_before = m.triangularView<Eigen::StrictlyUpper>();
    lower_transpose_times_self(m);
    const Eigen::MatrixXd want = lower.transpose() * lower;
    CHECK((Eigen::MatrixXd(m.triangularView<Eigen::Lower>()) - Eigen::MatrixXd(want.triangularView<Eigen::Lower>()))
              .cwiseAbs()
              .maxCoeff() < 1e-12 * n);
    CHECK(Eigen::MatrixXd(m.triangularView<Eigen::StrictlyUpper>()) == upper_before);
  }
  Eigen::MatrixXd inverse;
  CHECK(!spd_inverse(-Eigen::MatrixXd::Identity(3, 3), inverse));
}
