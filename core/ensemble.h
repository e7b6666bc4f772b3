// Finite-width ensembles: M random networks of width N, deep (fresh weights per layer) or recurrent
// (one W shared over time), simulated on the scene's P inputs, with the empirical kernels measured per
// layer/time and compared with the mean-field (N = infinity) kernels (docs/theory.md §1, §5, §6, §8.4-8.5).
//
// Two kernel objects, always labelled (docs/theory.md §1):
//   aux field       C-hat^{ts}_ab = (sigma_w^2 / N) sum_i phi(h^t_ia) phi(h^s_ib)   (the 1/N theory's field)
//   pre-activation  G-hat^{ts}_ab = (1 / N) sum_i h^t_ia h^s_ib                     (the Gram of h)
// Mean-field values: C-bar^{ts}_ab = sigma_w^2 E[phi(u) phi(v)] with (u, v) ~ N(0, K restricted to
// (t,a), (s,b)), and K^{ts}_ab; for the deep network K^{ls} = 0 for l != s (independent layers).
//
// Two samplers, equal in distribution (tests/test_ensemble.cpp cross-checks them):
//   explicit_weights  real N x N matrices (GEMM over all P inputs as one N x P matrix per layer);
//   fast              docs/theory.md §8.4: the deep net samples each layer's rows from N(0, sigma_w^2/N Phi^T Phi)
//                     with a P x P factorisation, never forming W; the recurrent net applies W only to
//                     the span of the vectors it has seen (Gram-Schmidt basis Q, images Y = W Q, a fresh
//                     N(0, sigma_w^2/N I) image for each new direction): O(N (P T)^2) per network.
//
// Determinism (STYLE.md 6): every draw comes from core/random.h keyed by (seed, member, layer, purpose),
// members are simulated independently and reduced in member order, so the numbers do not depend on the
// thread count or on how the job is sliced, and native and wasm draw the same random numbers.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/inputs.h"
#include "core/job.h"
#include "core/network.h"
#include "core/status.h"

namespace fs {

enum class EnsembleSampler { explicit_weights, fast };
enum class EnsemblePrecision { float32, float64 };

const char* ensemble_sampler_name(EnsembleSampler s);      // "explicit" | "fast"
const char* ensemble_precision_name(EnsemblePrecision p);  // "float32" | "float64"

struct EnsembleLimits {
  static constexpr int max_width = 16384;
  static constexpr int max_members = 10000000;
  static constexpr int max_histogram_members = 1000000;
};

struct EnsembleSpec {
  Network network;    // h^0 .. h^depth; input weights U ~ N(0, sigma_in^2 / d)
  int width = 128;    // N
  int members = 256;  // M
  std::uint64_t seed = 1;
  EnsemblePrecision precision = EnsemblePrecision::float64;
  EnsembleSampler sampler = EnsembleSampler::fast;
  int input_a = 0, input_b = 1;   // the followed pair: correlation, two-time entries, histograms; a: Lyapunov
  int histogram_members = 4096;   // raw per-member values kept for the first this-many members
  int covariance_max_inputs = 4;  // within-layer covariance of the kernel entries when P <= this
  int jackknife_groups = 16;      // for the standard error of the xi_c fit
  std::size_t memory_budget_bytes = std::size_t(1) << 30;
};

// Ensemble statistics of one scalar observable X (one member gives one value), docs/theory.md §6 and §8.5.
struct EnsembleStat {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  double mean_field = kNaN;                    // the N = infinity value (NaN when the mean-field kernel is unavailable)
  double mean = kNaN, mean_se = kNaN;          // ensemble mean and its standard error
  double variance = kNaN, variance_se = kNaN;  // unbiased variance; SE = sqrt((m4 - v^2 (S-3)/(S-1)) / S)
  double mse = kNaN, mse_se = kNaN;            // mean squared distance to the mean field, E(X - mean_field)^2
};

// One P x P symmetric kernel (aux field or pre-activation Gram) at one layer/time.
struct KernelEnsemble {
  int inputs = 0;
  std::vector<EnsembleStat> entries;  // packed lower triangle, see index()
  Eigen::MatrixXd covariance;         // Cov between packed entries (P <= covariance_max_inputs), else empty
  Eigen::MatrixXd covariance_se;
  static int index(int a, int b) { return a >= b ? a * (a + 1) / 2 + b : b * (b + 1) / 2 + a; }
  const EnsembleStat& at(int a, int b) const { return entries[static_cast<std::size_t>(index(a, b))]; }
};

// xi_c(N) from the ensemble-mean correlation trajectory c-hat^l = G-hat_ab / sqrt(G-hat_aa G-hat_bb) of the
// followed pair: weighted least squares of ln|E c-hat^l - c*| = const - l / xi over the layers of the
// window where the signal exceeds 4 standard errors (docs/theory.md §5.6). The same fit on the mean-field
// trajectory (same layers and weights) separates finite-width effects from the fit's own bias.
struct CorrelationLengthFit {
  Status status;                                               // not_defined when too few layers carry signal
  double xi = EnsembleStat::kNaN, xi_se = EnsembleStat::kNaN;  // SE: delete-one-group jackknife
  double xi_mean_field_fit = EnsembleStat::kNaN;               // the same fit applied to the mean-field c^l
  double xi_mean_field = EnsembleStat::kNaN;                   // -1 / ln chi_c at the fixed point (docs/theory.md §3)
  double c_star = EnsembleStat::kNaN;                          // mean-field fixed point the fit decays to
  int first_layer = 0, last_layer = 0, points = 0;
};

struct EnsembleResult {
  Status status;               // not ok: invalid_input / too_large (nothing run), cancelled, numerical
  Status mean_field_status;    // the mean-field kernel's own status (e.g. diverged)
  Status lyapunov_status;      // not_defined for activations without a derivative (sign, step) or depth 0
  int members = 0;             // M requested
  int members_done = 0;        // simulated so far (the partial result uses these)
  int non_finite_members = 0;  // members whose numbers overflowed; left out of every statistic
  int width = 0, inputs = 0, depth = 0;
  int input_a = 0, input_b = 0;
  double memory_bytes = 0;  // the estimate checked against the budget

  std::vector<KernelEnsemble> aux;   // C-hat^{ll}, l = 0..depth
  std::vector<KernelEnsemble> gram;  // G-hat^{ll}, l = 0..depth
  // Two-time entries X^{ts}_{ab} of the followed pair (a, b) for all t, s = 0..depth, at t * (depth + 1) + s
  // (both architectures: for the deep net they are the cross-layer overlaps, mean-field K^{ts} = 0).
  std::vector<EnsembleStat> aux_two_time, gram_two_time;
  std::vector<EnsembleStat> correlation;  // c-hat^l of the pair, l = 0..depth (mean field: c^l)

  // Largest Lyapunov exponent per layer/step for amplitudes, lambda = (1/L) sum_l ln |J^l v^{l-1}| with
  // J^l = W^l diag(phi'(h^{l-1}_a)) and v renormalised each step (input a). Mean field: the same layer
  // average of (1/2) ln chi_1(q^{l-1}) (docs/theory.md §3), and (1/2) ln chi_1(q*) for the deep limit.
  EnsembleStat lyapunov;
  double lyapunov_fixed_point = EnsembleStat::kNaN;
  CorrelationLengthFit correlation_length;

  // Raw per-member values for histograms, for the first min(M, histogram_members) members, in member
  // order: see histogram_names() (last layer/time, pair (a, b)).
  std::vector<std::vector<double>> histograms;
  static const std::vector<std::string>& histogram_names();
};

// Bytes the ensemble would hold (workspaces of every thread, statistics, histograms): a double, so that
// it cannot wrap.
double ensemble_bytes(const EnsembleSpec& spec, int inputs, int input_dim, int input_steps, int threads);

class EnsembleJob : public Job {
 public:
  EnsembleJob(const EnsembleSpec& spec, const InputSet& inputs);
  ~EnsembleJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;
  const EnsembleResult& result() const { return result_; }
  EnsembleResult take_result() { return std::move(result_); }

  struct State;  // accumulators and samplers (ensemble.cpp)

 private:
  EnsembleSpec spec_;
  InputSet inputs_;
  EnsembleResult result_;
  std::unique_ptr<State> state_;
  bool done_ = false;
};

EnsembleResult run_ensemble(const EnsembleSpec& spec, const InputSet& inputs);

}  // namespace fs
