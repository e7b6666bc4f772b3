// The inverse of a symmetric positive definite matrix through its Cholesky factor, as LAPACK's potrf + potri
// do it: A = L L^T, then L^-1 by recursive blocking (n^3 / 3 flops) and A^-1 = L^-T L^-1 by recursive blocking
// (n^3 / 3 flops) - n^3 in all, where solving A X = I costs about 2.3 n^3. The renormalization theory needs
// every entry of (K_R + T)^-1 at each iteration (core/renormalization.cpp).
#pragma once
#include <Eigen/Core>

namespace fs {

// In place: the lower triangle of `l` (a lower-triangular factor) becomes its inverse; the strict upper
// triangle is left as it was.
void invert_lower_triangular(Eigen::Ref<Eigen::MatrixXd> l);

// In place: for lower-triangular M (lower triangle of `m`), the lower triangle becomes that of M^T M.
void lower_transpose_times_self(Eigen::Ref<Eigen::MatrixXd> m);

// A^-1 (full, symmetric) and ln det A of a symmetric positive definite A; false if the Cholesky
// factorisation fails or the result is not finite. `inverse_factor`, if given, receives L^-1 (lower).
bool spd_inverse(const Eigen::MatrixXd& a, Eigen::MatrixXd& inverse, double* log_det = nullptr,
                 Eigen::MatrixXd* inverse_factor = nullptr);

}  // namespace fs
