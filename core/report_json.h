// JSON as the CLI writes it and the explorer's snapshots repeat it: numbers (JSON has no infinity or
// NaN) and the statistics of one ensemble kernel entry.
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/ensemble.h"
#include "core/linear_exact.h"
#include "core/lyapunov_theory.h"

namespace fs::json {

using Json = nlohmann::ordered_json;

// Infinity as the string "inf" / "-inf" (documented in the README), NaN as null.
inline Json number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return nullptr;
  return v;
}

// Mean field, mean, variance and mean squared distance with their standard errors, and on the 1/N
// theory's scale N Var and N (mean - mean field) (docs/theory.md §5.2-5.3).
inline Json ensemble_stat(const EnsembleStat& s, double width) {
  Json j;
  j["mean_field"] = number(s.mean_field);
  j["mean"] = number(s.mean);
  j["mean_se"] = number(s.mean_se);
  j["variance"] = number(s.variance);
  j["variance_se"] = number(s.variance_se);
  j["mse"] = number(s.mse);
  j["mse_se"] = number(s.mse_se);
  j["n_variance"] = number(width * s.variance);
  j["n_variance_se"] = number(width * s.variance_se);
  j["n_shift"] = number(width * (s.mean - s.mean_field));
  j["n_shift_se"] = number(width * s.mean_se);
  return j;
}

// An ensemble's Lyapunov statistics with the 1/N theory's mean beside them where it applies (docs/theory.md
// §5.8: `theory` from lyapunov_theory, or null), and for deep linear networks the exact mean and variance
// at its width and depth (§5.7).
inline Json lyapunov_stat(const EnsembleResult& r, const Network& network, const LyapunovTheory* theory) {
  Json j = ensemble_stat(r.lyapunov, r.width);
  if (theory && theory->status.ok()) {
    j["theory_mean"] = number(theory->at_width(r.width));
    j["theory_n_shift"] = number(theory->coefficient);
  } else if (theory) {
    j["theory_note"] = theory->status.message;
  }
  if (linear_exact_applies(network) && r.depth > 0) {
    const LinearLyapunov exact = linear_lyapunov(network.sigma_w2, r.width);
    j["exact_mean"] = number(exact.mean);
    j["exact_variance"] = number(exact.variance(r.depth));
  }
  return j;
}

}  // namespace fs::json
