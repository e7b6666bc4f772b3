// Inverses of symmetric positive definite matrices (core/spd_inverse.h).
#include "core/spd_inverse.h"

#include <Eigen/Cholesky>
#include <cmath>

namespace fs {

namespace {
constexpr Eigen::Index kBlock = 48;  // below this size the plain triangular solves are as fast
}

// [L11 0; L21 L22]^-1 = [L11^-1 0; -L22^-1 L21 L11^-1  L22^-1].
void invert_lower_triangular(Eigen::Ref<Eigen::MatrixXd> l) {
  const Eigen::Index n = l.rows();
  if (n <= kBlock) {
    Eigen::MatrixXd inverse = Eigen::MatrixXd::Identity(n, n);
    l.triangularView<Eigen::Lower>().solveInPlace(inverse);
    l.triangularView<Eigen::Lower>() = inverse;
    return;
  }
  const Eigen::Index h = n / 2, r = n - h;
  invert_lower_triangular(l.topLeftCorner(h, h));
  invert_lower_triangular(l.bottomRightCorner(r, r));
  const Eigen::MatrixXd right = l.bottomLeftCorner(r, h) * l.topLeftCorner(h, h).triangularView<Eigen::Lower>();
  l.bottomLeftCorner(r, h).noalias() = -(l.bottomRightCorner(r, r).triangularView<Eigen::Lower>() * right);
}

// [L11 0; L21 L22]^T [L11 0; L21 L22] = [L11^T L11 + L21^T L21, L21^T L22; L22^T L21, L22^T L22] (lower half).
void lower_transpose_times_self(Eigen::Ref<Eigen::MatrixXd> m) {
  const Eigen::Index n = m.rows();
  if (n <= kBlock) {
    const Eigen::MatrixXd l = m.triangularView<Eigen::Lower>();
    m.triangularView<Eigen::Lower>() = (l.transpose() * l).eval();
    return;
  }
  const Eigen::Index h = n / 2, r = n - h;
  lower_transpose_times_self(m.topLeftCorner(h, h));
  m.topLeftCorner(h, h).selfadjointView<Eigen::Lower>().rankUpdate(m.bottomLeftCorner(r, h).transpose());
  m.bottomLeftCorner(r, h) =
      (m.bottomRightCorner(r, r).triangularView<Eigen::Lower>().transpose() * m.bottomLeftCorner(r, h)).eval();
  lower_transpose_times_self(m.bottomRightCorner(r, r));
}

bool spd_inverse(const Eigen::MatrixXd& a, Eigen::MatrixXd& inverse, double* log_det, Eigen::MatrixXd* inverse_factor) {
  Eigen::LLT<Eigen::MatrixXd> llt(a);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::MatrixXd& factor = llt.matrixLLT();
  if (log_det) *log_det = 2.0 * factor.diagonal().array().log().sum();
  inverse = factor;
  invert_lower_triangular(inverse);
  if (inverse_factor) *inverse_factor = inverse.triangularView<Eigen::Lower>();
  lower_transpose_times_self(inverse);
  inverse.triangularView<Eigen::StrictlyUpper>() = inverse.transpose();
  return inverse.allFinite();
}

}  // namespace fs
