// Activations and their Gaussian expectations.
//
// Sections
//   1. phi, phi', phi''
//   2. properties and names
//   3. one-variable expectations (closed forms, else Gauss-Hermite)
//   4. two-variable expectations (closed forms, docs/theory.md §2.2; else Hermite series)
//   5. Hermite series of phi, and PairIntegrator: the vectorised fast path of the kernel recursions
#include "core/activations.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <unordered_map>

#include "core/fast_math.h"

namespace fs {

namespace {
constexpr double kPi = std::numbers::pi;
constexpr double kInvSqrtPi = 0.56418958354775628695;   // 1/sqrt(pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267794;  // 1/sqrt(2 pi)
constexpr double kInf = std::numeric_limits<double>::infinity();

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double normal_pdf(double x) { return kInvSqrt2Pi * std::exp(-0.5 * x * x); }

// GELU's pair means (docs/theory.md §2.2) for (u, v) with variances a, b and covariance c, |c| <= sqrt(ab).
// With D = det(Sigma + I) = 1 + a + b + (ab - c^2), S = sqrt((1 + a)(1 + b)) and B = E[Phi(u) Phi(v)]:
//   E[GELU(u) GELU(v)]   = c B + (ab sqrt D + c^2 / sqrt D) / (2 pi S^2),
//   E[GELU'(u) GELU'(v)] = B + c (1 / (1 + a) + 1 / (1 + b)) / (2 pi sqrt D) + c / (2 pi D^(3/2)).
// B = 1/4 + asin(c / S) / 2 pi by the half angle, asin(|c| / S) = pi/2 - 2 asin(t) with t^2 = D / (2 S (S + |c|))
// (so that neither sign of c cancels, also where c / S rounds to 1). Branch-free: PairIntegrator's rows
// vectorise it.
struct GeluPair {
  double phi, dphi;
};
inline GeluPair gelu_pair(double a, double b, double c) {
  const double d = 1 + a + b + std::max(0.0, a * b - c * c), sd = std::sqrt(d);
  const double s = std::sqrt((1 + a) * (1 + b));
  const double half = asin_vectorizable(std::sqrt(d / (2 * s * (s + std::abs(c))))) / kPi;
  const double both = c >= 0 ? 0.5 - half : half;
  return {c * both + (a * b * sd + c * c / sd) / (2 * kPi * s * s),
          both + c * (1 / (1 + a) + 1 / (1 + b)) / (2 * kPi * sd) + c / (2 * kPi * d * sd)};
}

// Correlation of a bivariate normal; 0 when a variance vanishes (the variable is then the constant 0).
double correlation(double q1, double q2, double c) {
  const double s = std::sqrt(std::max(q1, 0.0) * std::max(q2, 0.0));
  if (!(s > 0)) return 0.0;
  return std::clamp(c / s, -1.0, 1.0);
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// 1. phi, phi', phi''
// ---------------------------------------------------------------------------------------------------
double Activation::phi(double x) const {
  switch (kind) {
    case ActivationKind::linear: return x;
    case ActivationKind::relu: return x > 0 ? x : 0.0;
    case ActivationKind::leaky_relu: return x > 0 ? x : param * x;
    case ActivationKind::erf: return std::erf(param * x);
    case ActivationKind::tanh: return std::tanh(x);
    case ActivationKind::sigmoid: return sigmoid(x);
    case ActivationKind::sign: return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
    case ActivationKind::step: return x > 0 ? 1.0 : (x < 0 ? 0.0 : 0.5);
    case ActivationKind::sin: return std::sin(x);
    case ActivationKind::cos: return std::cos(x);
    case ActivationKind::softplus: return softplus(x);
    case ActivationKind::gelu: return x * normal_cdf(x);
  }
  return 0;
}

double Activation::dphi(double x) const {
  switch (kind) {
    case ActivationKind::linear: return 1.0;
    case ActivationKind::relu: return x > 0 ? 1.0 : (x < 0 ? 0.0 : 0.5);
    case ActivationKind::leaky_relu: return x > 0 ? 1.0 : (x < 0 ? param : 0.5 * (1 + param));
    case ActivationKind::erf: return 2.0 * kInvSqrtPi * param * std::exp(-param * param * x * x);
    case ActivationKind::tanh: {
      const double t = std::tanh(x);
      return 1.0 - t * t;
    }
    case ActivationKind::sigmoid: {
      const double s = sigmoid(x);
      return s * (1 - s);
    }
    case ActivationKind::sign:
    case ActivationKind::step: return 0.0;  // a delta at 0, handled analytically
    case ActivationKind::sin: return std::cos(x);
    case ActivationKind::cos: return -std::sin(x);
    case ActivationKind::softplus: return sigmoid(x);
    case ActivationKind::gelu: return normal_cdf(x) + x * normal_pdf(x);
  }
  return 0;
}

namespace {
template <class T>
void phi_batch_impl(const Activation& act, const T* x, T* y, std::size_t count) {
  switch (act.kind) {
    case ActivationKind::linear:
      for (std::size_t i = 0; i < count; ++i) y[i] = x[i];
      return;
    case ActivationKind::relu:  // as phi(): NaN maps to 0
      for (std::size_t i = 0; i < count; ++i) y[i] = x[i] > 0 ? x[i] : T(0);
      return;
    case ActivationKind::leaky_relu: {
      const T slope = static_cast<T>(act.param);
      for (std::size_t i = 0; i < count; ++i) y[i] = x[i] > 0 ? x[i] : slope * x[i];
      return;
    }
    case ActivationKind::tanh:
      for (std::size_t i = 0; i < count; ++i) y[i] = tanh_vectorizable(x[i]);
      return;
    default:
      for (std::size_t i = 0; i < count; ++i) y[i] = static_cast<T>(act.phi(static_cast<double>(x[i])));
  }
}
}  // namespace

void Activation::phi_batch(const double* x, double* y, std::size_t count) const { phi_batch_impl(*this, x, y, count); }
void Activation::phi_batch(const float* x, float* y, std::size_t count) const { phi_batch_impl(*this, x, y, count); }

double Activation::d2phi(double x) const {
  switch (kind) {
    case ActivationKind::linear:
    case ActivationKind::relu:
    case ActivationKind::leaky_relu:
    case ActivationKind::sign:
    case ActivationKind::step: return 0.0;
    case ActivationKind::erf: return -4.0 * kInvSqrtPi * param * param * param * x * std::exp(-param * param * x * x);
    case ActivationKind::tanh: {
      const double t = std::tanh(x);
      return -2.0 * t * (1.0 - t * t);
    }
    case ActivationKind::sigmoid: {
      const double s = sigmoid(x);
      return s * (1 - s) * (1 - 2 * s);
    }
    case ActivationKind::sin: return -std::sin(x);
    case ActivationKind::cos: return -std::cos(x);
    case ActivationKind::softplus: {
      const double s = sigmoid(x);
      return s * (1 - s);
    }
    case ActivationKind::gelu: return normal_pdf(x) * (2.0 - x * x);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------
// 2. properties and names
// ---------------------------------------------------------------------------------------------------
bool Activation::smooth() const {
  switch (kind) {
    case ActivationKind::relu:
    case ActivationKind::leaky_relu:
    case ActivationKind::sign:
    case ActivationKind::step: return false;
    default: return true;
  }
}

bool Activation::closed_form() const {
  switch (kind) {
    case ActivationKind::tanh:
    case ActivationKind::sigmoid:
    case ActivationKind::softplus: return false;
    default: return true;
  }
}

bool Activation::has_derivative() const { return kind != ActivationKind::sign && kind != ActivationKind::step; }

bool Activation::odd() const {
  switch (kind) {
    case ActivationKind::linear:
    case ActivationKind::erf:
    case ActivationKind::tanh:
    case ActivationKind::sign:
    case ActivationKind::sin: return true;
    case ActivationKind::leaky_relu: return param == 1.0;
    default: return false;
  }
}

bool Activation::bounded() const {
  switch (kind) {
    case ActivationKind::erf:
    case ActivationKind::tanh:
    case ActivationKind::sigmoid:
    case ActivationKind::sign:
    case ActivationKind::step:
    case ActivationKind::sin:
    case ActivationKind::cos: return true;
    default: return false;
  }
}

double Activation::slope_at_zero() const {
  switch (kind) {
    case ActivationKind::sign:
    case ActivationKind::step: return kInf;
    default: return dphi(0.0);
  }
}

double Activation::growth() const {
  switch (kind) {
    case ActivationKind::linear: return 1.0;
    case ActivationKind::leaky_relu: return 0.5 * (1 + param * param);
    case ActivationKind::relu:
    case ActivationKind::softplus:
    case ActivationKind::gelu: return 0.5;
    default: return 0.0;
  }
}

namespace {
struct NameEntry {
  ActivationKind kind;
  const char* name;
};
constexpr NameEntry kNames[] = {
    {ActivationKind::linear, "linear"}, {ActivationKind::relu, "relu"},         {ActivationKind::leaky_relu, "leaky_relu"},
    {ActivationKind::erf, "erf"},       {ActivationKind::tanh, "tanh"},         {ActivationKind::sigmoid, "sigmoid"},
    {ActivationKind::sign, "sign"},     {ActivationKind::step, "step"},         {ActivationKind::sin, "sin"},
    {ActivationKind::cos, "cos"},       {ActivationKind::softplus, "softplus"}, {ActivationKind::gelu, "gelu"},
};
}  // namespace

std::string Activation::name() const {
  for (const auto& e : kNames)
    if (e.kind == kind) return e.name;
  return "unknown";
}

std::string Activation::formula() const {
  switch (kind) {
    case ActivationKind::linear: return "x";
    case ActivationKind::relu: return "max(0, x)";
    case ActivationKind::leaky_relu: return "max(alpha x, x), alpha = " + std::to_string(param);
    case ActivationKind::erf: return "erf(a x), a = " + std::to_string(param);
    case ActivationKind::tanh: return "tanh(x)";
    case ActivationKind::sigmoid: return "1 / (1 + exp(-x))";
    case ActivationKind::sign: return "sign(x)";
    case ActivationKind::step: return "step(x) = 1 for x > 0";
    case ActivationKind::sin: return "sin(x)";
    case ActivationKind::cos: return "cos(x)";
    case ActivationKind::softplus: return "log(1 + exp(x))";
    case ActivationKind::gelu: return "x Phi(x)";
  }
  return "";
}

std::optional<ActivationKind> activation_kind_from_name(std::string_view name) {
  for (const auto& e : kNames)
    if (name == e.name) return e.kind;
  return std::nullopt;
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : kNames) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

bool activation_has_param(ActivationKind kind) { return kind == ActivationKind::erf || kind == ActivationKind::leaky_relu; }

const char* activation_param_name(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::erf: return "a";
    case ActivationKind::leaky_relu: return "alpha";
    default: return "";
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. one-variable expectations, u = sqrt(q) z
// ---------------------------------------------------------------------------------------------------
double mean_phi(const Activation& act, double q) {
  q = std::max(q, 0.0);
  switch (act.kind) {
    case ActivationKind::linear:
    case ActivationKind::erf:
    case ActivationKind::tanh:
    case ActivationKind::sin:
    case ActivationKind::sign: return 0.0;
    case ActivationKind::relu: return std::sqrt(q) * kInvSqrt2Pi;
    case ActivationKind::leaky_relu: return (1 - act.param) * std::sqrt(q) * kInvSqrt2Pi;
    case ActivationKind::step: return 0.5;
    case ActivationKind::sigmoid: return 0.5;
    case ActivationKind::cos: return std::exp(-0.5 * q);
    case ActivationKind::gelu: return q / std::sqrt(2 * kPi * (1 + q));  // E[u Phi(u)] = q E[phi_N] (Stein)
    default: break;
  }
  return gaussian_mean_1d([&](double x) { return act.phi(x); }, q);
}

double mean_phi_sq(const Activation& act, double q) {
  q = std::max(q, 0.0);
  switch (act.kind) {
    case ActivationKind::linear: return q;
    case ActivationKind::relu: return 0.5 * q;
    case ActivationKind::leaky_relu: return 0.5 * q * (1 + act.param * act.param);
    case ActivationKind::erf: {
      const double a2 = act.param * act.param;
      return 2.0 / kPi * std::asin(2 * a2 * q / (1 + 2 * a2 * q));
    }
    case ActivationKind::sign: return q > 0 ? 1.0 : 0.0;
    case ActivationKind::step: return q > 0 ? 0.5 : 0.25;
    case ActivationKind::sin: return 0.5 * (1 - std::exp(-2 * q));
    case ActivationKind::cos: return 0.5 * (1 + std::exp(-2 * q));
    case ActivationKind::gelu: return gelu_pair(q, q, q).phi;
    default: break;
  }
  return gaussian_mean_1d(
      [&](double x) {
        const double p = act.phi(x);
        return p * p;
      },
      q);
}

double mean_dphi_sq(const Activation& act, double q) {
  q = std::max(q, 0.0);
  switch (act.kind) {
    case ActivationKind::linear: return 1.0;
    case ActivationKind::relu: return q > 0 ? 0.5 : 0.25;
    case ActivationKind::leaky_relu: return q > 0 ? 0.5 * (1 + act.param * act.param) : 0.25 * (1 + act.param) * (1 + act.param);
    case ActivationKind::erf: {
      const double a2 = act.param * act.param;
      return 4 * a2 / kPi / std::sqrt(1 + 4 * a2 * q);
    }
    case ActivationKind::sign:
    case ActivationKind::step: return kInf;
    case ActivationKind::sin: return 0.5 * (1 + std::exp(-2 * q));
    case ActivationKind::cos: return 0.5 * (1 - std::exp(-2 * q));
    case ActivationKind::gelu: return gelu_pair(q, q, q).dphi;
    default: break;
  }
  return gaussian_mean_1d(
      [&](double x) {
        const double p = act.dphi(x);
        return p * p;
      },
      q);
}

double mean_phi_d2phi(const Activation& act, double q) {
  q = std::max(q, 0.0);
  switch (act.kind) {
    case ActivationKind::linear:
    case ActivationKind::relu:
    case ActivationKind::leaky_relu: return 0.0;  // phi phi'' = x delta(x) = 0
    case ActivationKind::sign:
    case ActivationKind::step: return std::numeric_limits<double>::quiet_NaN();
    case ActivationKind::sin: return -0.5 * (1 - std::exp(-2 * q));
    case ActivationKind::cos: return -0.5 * (1 + std::exp(-2 * q));
    default: break;
  }
  return gaussian_mean_1d([&](double x) { return act.phi(x) * act.d2phi(x); }, q);
}

double mean_phi_sq_slope(const Activation& act, double q) {
  q = std::max(q, 0.0);
  switch (act.kind) {
    case ActivationKind::sign:
    case ActivationKind::step: return 0.0;
    case ActivationKind::erf: {  // d/dq (2/pi) asin(2 a^2 q / (1 + 2 a^2 q))
      const double a2 = act.param * act.param;
      const double beta = 2 * a2 * q / (1 + 2 * a2 * q);
      return 2.0 / kPi * (2 * a2 / ((1 + 2 * a2 * q) * (1 + 2 * a2 * q))) / std::sqrt(1 - beta * beta);
    }
    case ActivationKind::relu: return 0.5;
    case ActivationKind::leaky_relu: return 0.5 * (1 + act.param * act.param);
    case ActivationKind::gelu: {  // d/dq of gelu_pair(q, q, q).phi = q/4 + q asin(q/(1+q))/2 pi + q^2/(pi (1+q) sqrt(1+2q))
      const double r = std::sqrt(1 + 2 * q);
      return 0.25 + std::asin(q / (1 + q)) / (2 * kPi) + q / (2 * kPi * (1 + q) * r) +
             q * (2 - q / (1 + q) - q / (1 + 2 * q)) / (kPi * (1 + q) * r);
    }
    default: break;
  }
  return mean_dphi_sq(act, q) + mean_phi_d2phi(act, q);
}

// ---------------------------------------------------------------------------------------------------
// 4. two-variable expectations
// ---------------------------------------------------------------------------------------------------
std::optional<double> closed_pair_expectation(const Activation& act, double q1, double q2, double c) {
  q1 = std::max(q1, 0.0);
  q2 = std::max(q2, 0.0);
  const double rho = correlation(q1, q2, c);
  const double s12 = std::sqrt(q1 * q2);
  const double cc = rho * s12;  // covariance consistent with the clamped correlation
  switch (act.kind) {
    case ActivationKind::linear: return cc;
    case ActivationKind::relu: {  // Cho & Saul 2009, arc-cosine kernel n = 1
      const double theta = std::acos(rho);
      return s12 / (2 * kPi) * (std::sqrt(std::max(0.0, 1 - rho * rho)) + (kPi - theta) * rho);
    }
    case ActivationKind::leaky_relu: {  // phi = alpha x + (1 - alpha) relu(x); E[u relu(v)] = c/2
      const double a = act.param;
      const double theta = std::acos(rho);
      const double relu = s12 / (2 * kPi) * (std::sqrt(std::max(0.0, 1 - rho * rho)) + (kPi - theta) * rho);
      return a * a * cc + a * (1 - a) * cc + (1 - a) * (1 - a) * relu;
    }
    case ActivationKind::step: return (kPi - std::acos(rho)) / (2 * kPi);  // arc-cosine n = 0
    case ActivationKind::sign: return 2.0 / kPi * std::asin(rho);
    case ActivationKind::erf: {  // Williams 1997
      const double a2 = act.param * act.param;
      const double den = std::sqrt((1 + 2 * a2 * q1) * (1 + 2 * a2 * q2));
      return 2.0 / kPi * std::asin(std::clamp(2 * a2 * cc / den, -1.0, 1.0));
    }
    case ActivationKind::sin: return std::exp(-0.5 * (q1 + q2)) * std::sinh(cc);
    case ActivationKind::cos: return std::exp(-0.5 * (q1 + q2)) * std::cosh(cc);
    case ActivationKind::gelu: return gelu_pair(q1, q2, cc).phi;
    default: return std::nullopt;
  }
}

std::optional<double> closed_pair_derivative_expectation(const Activation& act, double q1, double q2, double c) {
  q1 = std::max(q1, 0.0);
  q2 = std::max(q2, 0.0);
  const double rho = correlation(q1, q2, c);
  const double cc = rho * std::sqrt(q1 * q2);
  switch (act.kind) {
    case ActivationKind::linear: return 1.0;
    case ActivationKind::relu: return (kPi - std::acos(rho)) / (2 * kPi);
    case ActivationKind::leaky_relu: {
      const double a = act.param;
      return a * a + a * (1 - a) + (1 - a) * (1 - a) * (kPi - std::acos(rho)) / (2 * kPi);
    }
    case ActivationKind::erf: {  // Williams 1997; finite for |rho| < 1 or q > 0
      const double a2 = act.param * act.param;
      const double det = (1 + 2 * a2 * q1) * (1 + 2 * a2 * q2) - 4 * a2 * a2 * cc * cc;
      return 4 * a2 / kPi / std::sqrt(std::max(det, 1e-300));
    }
    case ActivationKind::sin: return std::exp(-0.5 * (q1 + q2)) * std::cosh(cc);
    case ActivationKind::cos: return std::exp(-0.5 * (q1 + q2)) * std::sinh(cc);
    case ActivationKind::gelu: return gelu_pair(q1, q2, cc).dphi;
    case ActivationKind::sign:
    case ActivationKind::step: {
      // phi' = k delta(x) (k = 2 for sign, 1 for step): E = k^2 p(0, 0), infinite on the diagonal.
      const double k = act.kind == ActivationKind::sign ? 2.0 : 1.0;
      const double det = q1 * q2 - cc * cc;
      if (!(det > 0)) return kInf;
      return k * k / (2 * kPi * std::sqrt(det));
    }
    default: return std::nullopt;
  }
}

double pair_expectation(const Activation& act, double q1, double q2, double c) {
  if (auto v = closed_pair_expectation(act, q1, q2, c)) return *v;
  const HermiteSeries a = hermite_series(act, PairFunction::phi, std::max(q1, 0.0));
  const HermiteSeries b = q2 == q1 ? a : hermite_series(act, PairFunction::phi, std::max(q2, 0.0));
  if (a.converged && b.converged) return series_pair(a, b, correlation(q1, q2, c));
  return gauss_hermite_pair([&](double x) { return act.phi(x); }, [&](double x) { return act.phi(x); }, q1, q2, c, 512);
}

double pair_derivative_expectation(const Activation& act, double q1, double q2, double c) {
  if (auto v = closed_pair_derivative_expectation(act, q1, q2, c)) return *v;
  const HermiteSeries a = hermite_series(act, PairFunction::dphi, std::max(q1, 0.0));
  const HermiteSeries b = q2 == q1 ? a : hermite_series(act, PairFunction::dphi, std::max(q2, 0.0));
  if (a.converged && b.converged) return series_pair(a, b, correlation(q1, q2, c));
  return gauss_hermite_pair([&](double x) { return act.dphi(x); }, [&](double x) { return act.dphi(x); }, q1, q2, c, 512);
}

// ---------------------------------------------------------------------------------------------------
// 5. Hermite series of phi, and PairIntegrator
// ---------------------------------------------------------------------------------------------------
HermiteSeries hermite_series(const Activation& act, PairFunction which, double q, int min_terms) {
  if (which == PairFunction::phi) return hermite_series([&](double x) { return act.phi(x); }, q, kSeriesTolerance, min_terms);
  return hermite_series([&](double x) { return act.dphi(x); }, q, kSeriesTolerance, min_terms);
}

PairIntegrator::PairIntegrator(const Activation& act, PairFunction which) : act_(act), which_(which) {
  closed_ = act.closed_form();
}

void PairIntegrator::set_variances(const std::vector<double>& q) {
  const int p = static_cast<int>(q.size());
  q_.resize(p);
  sqrt_q_.resize(p);
  inv_sqrt_q_.resize(p);
  erf_norm_.resize(p);
  const double a2 = act_.param * act_.param;
  for (int a = 0; a < p; ++a) {
    q_[a] = std::max(q[a], 0.0);
    sqrt_q_[a] = std::sqrt(q_[a]);
    inv_sqrt_q_[a] = q_[a] > 0 ? 1 / sqrt_q_[a] : 0.0;
    erf_norm_[a] = 1 / std::sqrt(1 + 2 * a2 * q_[a]);
  }
  inexact_count_ = 0;
  if (closed_) return;

  // One series per distinct variance (inputs of equal norm share theirs). The largest variance needs
  // the most nodes and terms; its rule and truncation then serve every smaller one, which costs one
  // pass over the nodes per variance instead of an adaptive search each.
  std::vector<double> distinct(q_.begin(), q_.end());
  std::sort(distinct.begin(), distinct.end(), std::greater<>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const std::function<double(double)> f = [this](double x) { return which_ == PairFunction::phi ? act_.phi(x) : act_.dphi(x); };
  series_.assign(distinct.size(), HermiteSeries{});
  std::unordered_map<double, int> index;
  for (std::size_t i = 0; i < distinct.size(); ++i) index.emplace(distinct[i], static_cast<int>(i));
  terms_ = 1;
  if (!distinct.empty()) {
    series_[0] = hermite_series(f, distinct[0], kSeriesTolerance);
    terms_ = series_[0].terms;
  }
  // Every smaller variance on the largest one's rule and truncation, all at once: with the basis
  // H(i, k) = sqrt(w_i) h_k(z_i), the coefficients of all variances are one matrix product.
  std::vector<char> pending(distinct.size(), 1);
  if (distinct.size() > 1 && distinct.back() > 0 && series_[0].converged) {
    const std::vector<double> smaller(distinct.begin() + 1, distinct.end());
    std::vector<HermiteSeries> on_rule = hermite_series_on_rule(f, smaller, series_[0].nodes, terms_, kSeriesTolerance);
    for (std::size_t i = 1; i < distinct.size(); ++i) {
      series_[i] = std::move(on_rule[i - 1]);
      pending[i] = !series_[i].converged;
    }
  }
  pending[0] = 0;
  for (std::size_t i = 1; i < distinct.size(); ++i)
    if (pending[i]) series_[i] = hermite_series(f, distinct[i], kSeriesTolerance, terms_);
  for (const auto& s : series_) terms_ = std::max(terms_, s.terms);
  // A series truncated before terms_ gets the coefficients up to terms_ (a smaller variance that
  // happened to need more terms than the largest: unusual).
  for (auto& s : series_)
    if (static_cast<int>(s.coef.size()) < terms_) s = hermite_series(f, s.q, kSeriesTolerance, terms_);
  std::vector<int> which_series(p);
  for (int a = 0; a < p; ++a) which_series[a] = index.at(q_[a]);
  coef_by_term_.assign(static_cast<std::size_t>(terms_) * p, 0.0);
  own_terms_.assign(p, terms_);
  for (int a = 0; a < p; ++a) {
    own_terms_[a] = std::clamp(series_[which_series[a]].terms, 1, terms_);
    const HermiteSeries& s = series_[which_series[a]];
    if (!s.converged) ++inexact_count_;
    const int kept = std::min<int>(terms_, static_cast<int>(s.coef.size()));
    for (int k = 0; k < kept; ++k) coef_by_term_[static_cast<std::size_t>(k) * p + a] = s.coef[k];
  }
}

void PairIntegrator::row(int a, int b0, int count, const double* cov, double* out, double scale, double shift) const {
  if (closed_) {
    if (closed_row(a, b0, count, cov, out, scale, shift)) return;
    for (int j = 0; j < count; ++j) {
      const int b = b0 + j;
      const auto v = which_ == PairFunction::phi ? closed_pair_expectation(act_, q_[a], q_[b], cov[j])
                                                 : closed_pair_derivative_expectation(act_, q_[a], q_[b], cov[j]);
      out[j] = shift + scale * *v;
    }
    return;
  }
  const int p = static_cast<int>(q_.size());
  thread_local std::vector<double> rho;
  rho.resize(count);
  const double sa = sqrt_q_[a];
  for (int j = 0; j < count; ++j) {
    const double s = sa * sqrt_q_[b0 + j];
    rho[j] = s > 0 ? std::clamp(cov[j] / s, -1.0, 1.0) : 0.0;
    out[j] = 0.0;
  }
  // Horner across the row, s_j <- s_j rho_j + b_k(a) b_k(b0 + j), in blocks of kBlock entries that
  // stay in registers for all k (the coefficients of a block are one cache line per k).
  // A pair needs max(K_a, K_b) terms: with both tails below tolerance the Cauchy-Schwarz bound holds
  // (gaussian.h), so a block starts its Horner scheme at the largest own truncation in it.
  constexpr int kBlock = 16;
  const double* coef_a = coef_by_term_.data() + a;
  const int* own = own_terms_.data() + b0;
  int j0 = 0;
  for (; j0 + kBlock <= count; j0 += kBlock) {
    int block_terms = own_terms_[a];
    for (int j = 0; j < kBlock; ++j) block_terms = std::max(block_terms, own[j0 + j]);
    double acc[kBlock] = {};
    const double* r = rho.data() + j0;
    for (int k = block_terms - 1; k >= 0; --k) {
      const double* ck = coef_by_term_.data() + static_cast<std::size_t>(k) * p + b0 + j0;
      const double cak = coef_a[static_cast<std::size_t>(k) * p];
      for (int j = 0; j < kBlock; ++j) acc[j] = acc[j] * r[j] + cak * ck[j];
    }
    for (int j = 0; j < kBlock; ++j) out[j0 + j] = shift + scale * acc[j];
  }
  for (int k = terms_ - 1; k >= 0 && j0 < count; --k) {
    const double* ck = coef_by_term_.data() + static_cast<std::size_t>(k) * p + b0;
    const double cak = coef_a[static_cast<std::size_t>(k) * p];
    for (int j = j0; j < count; ++j) out[j] = out[j] * rho[j] + cak * ck[j];
  }
  for (int j = j0; j < count; ++j) out[j] = shift + scale * out[j];
}

// Vectorised closed forms for the activations the recursions meet most (docs/theory.md §2.2): the same
// formulas as closed_pair_expectation, written as straight-line loops over a row.
bool PairIntegrator::closed_row(int a, int b0, int count, const double* cov, double* out, double scale, double shift) const {
  const double* sq = sqrt_q_.data() + b0;
  const double sa = sqrt_q_[a];
  const bool phi = which_ == PairFunction::phi;
  switch (act_.kind) {
    case ActivationKind::relu:
    case ActivationKind::leaky_relu: {
      const double alpha = act_.kind == ActivationKind::relu ? 0.0 : act_.param;
      const double lin = alpha * alpha + alpha * (1 - alpha), arc = (1 - alpha) * (1 - alpha);
      const double ia = inv_sqrt_q_[a];
      const double* ib = inv_sqrt_q_.data() + b0;
      thread_local std::vector<double> rho;
      rho.resize(count);
      for (int j = 0; j < count; ++j) rho[j] = std::min(1.0, std::max(-1.0, cov[j] * ia * ib[j]));
      // On the diagonal rho is 1 exactly: asin is so steep at 1 that one ulp in rho would move the
      // result by 1e-8.
      if (b0 <= a && a < b0 + count && q_[a] > 0 && cov[a - b0] == q_[a]) rho[a - b0] = 1.0;
      if (phi) {
        // (sqrt(q1 q2) / 2 pi) (sin theta + (pi - theta) cos theta), theta = acos rho = pi/2 - asin rho
        for (int j = 0; j < count; ++j) {
          const double s = sa * sq[j], r = rho[j];
          const double e = lin * r * s + arc * s * (1 / (2 * kPi)) *
                                             (std::sqrt(std::max(0.0, 1 - r * r)) + (0.5 * kPi + asin_vectorizable(r)) * r);
          out[j] = shift + scale * e;
        }
      } else {
        for (int j = 0; j < count; ++j)  // (pi - theta) / 2 pi
          out[j] = shift + scale * (lin + arc * (0.25 + asin_vectorizable(rho[j]) * (1 / (2 * kPi))));
      }
      return true;
    }
    case ActivationKind::erf: {
      const double a2 = act_.param * act_.param;
      const double na = erf_norm_[a];
      const double* nb = erf_norm_.data() + b0;
      if (phi) {
        for (int j = 0; j < count; ++j) {  // Williams 1997: (2/pi) asin(2 a^2 c / sqrt((1 + 2 a^2 q1)(1 + 2 a^2 q2)))
          const double s = sa * sq[j];
          const double c = std::min(s, std::max(-s, cov[j]));
          const double x = 2 * a2 * c * na * nb[j];
          out[j] = shift + scale * (2 / kPi) * asin_vectorizable(std::min(1.0, std::max(-1.0, x)));
        }
      } else {
        const double* qb = q_.data() + b0;
        const double da = 1 + 2 * a2 * q_[a];
        for (int j = 0; j < count; ++j) {
          const double s = sa * sq[j];
          const double c = std::min(s, std::max(-s, cov[j]));
          const double det = da * (1 + 2 * a2 * qb[j]) - 4 * a2 * a2 * c * c;
          out[j] = shift + scale * 4 * a2 / kPi / std::sqrt(std::max(det, 1e-300));
        }
      }
      return true;
    }
    case ActivationKind::gelu: {
      const double qa = q_[a];
      const double* qb = q_.data() + b0;
      if (phi) {
        for (int j = 0; j < count; ++j) {
          const double s = sa * sq[j];
          out[j] = shift + scale * gelu_pair(qa, qb[j], std::min(s, std::max(-s, cov[j]))).phi;
        }
      } else {
        for (int j = 0; j < count; ++j) {
          const double s = sa * sq[j];
          out[j] = shift + scale * gelu_pair(qa, qb[j], std::min(s, std::max(-s, cov[j]))).dphi;
        }
      }
      return true;
    }
    default: return false;
  }
}

double PairIntegrator::operator()(int a, int b, double cov) const {
  double out = 0;
  row(a, b, 1, &cov, &out);
  return out;
}

}  // namespace fs
