// Special functions the finite-width theory needs: the digamma and trigamma functions (the mean and
// variance of the logarithm of a chi-square variable, docs/theory.md §5.7).
#pragma once

namespace fs {

// psi(x) = d/dx ln Gamma(x), for x > 0 (NaN otherwise); to a few ulp.
double digamma(double x);
// psi(x) - ln x, without the cancellation of the difference at large x (where it is -1/(2x) - ...).
double digamma_minus_log(double x);
// psi'(x), for x > 0 (NaN otherwise).
double trigamma(double x);

}  // namespace fs
