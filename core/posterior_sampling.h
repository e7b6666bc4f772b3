// Finite gated deep linear networks sampled from their Bayesian posterior p(Theta | data) ~ exp(-E / T)
// (docs/theory.md §10.9): the check a user can watch of the renormalization theory (core/renormalization.h).
//   Gibbs:    the exact blocked sampler. Given the other layers, f is linear in one layer's weights, so that
//             layer's conditional posterior is Gaussian; it is drawn exactly with Matheron's rule, one P x P
//             Cholesky factorisation per layer and sweep. Sweeps go readout, W^L, ..., W^1.
//   Langevin: noisy full-batch gradient descent with weight decay T / sigma^2 (the papers' "GD dynamics"),
//             Theta <- Theta - eta [grad 1/2 sum (f - y)^2 + (T / sigma^2) Theta] + sqrt(2 T eta) xi.
// Several independent chains; per chain the time average and variance of f on the test points, and the
// order-parameter estimators U-hat_l = V_l^T V_l / (N_l sigma^{2(L-l+1)}) of the downstream path weights V_l.
// Error bars come from the spread over chains. Every draw comes from the counter-based stream keyed by
// (seed, chain, step, layer), so the numbers are the same natively, in wasm and for any thread count.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/gated_linear.h"
#include "core/job.h"
#include "core/status.h"

namespace fs {

enum class PosteriorSampler { gibbs, langevin };
const char* posterior_sampler_name(PosteriorSampler s);  // "gibbs" | "langevin"
bool posterior_sampler_from_name(std::string_view name, PosteriorSampler& s);

struct SamplingSpec {
  PosteriorSampler sampler = PosteriorSampler::gibbs;
  int chains = 8;
  int burn_in = 100;   // sweeps (Gibbs) or steps (Langevin) discarded at the start of each chain
  int samples = 500;   // samples kept per chain
  int thinning = 1;    // sweeps or steps between kept samples
  double step = 0.01;  // Langevin: eta
  std::uint64_t seed = 1;
};

// The data and the gates a sampling run uses (the same as the theory's: RenormProblem's fields).
struct SamplingProblem {
  Eigen::MatrixXd x_train, x_test;
  Eigen::VectorXd y_train, y_test;
  std::vector<Eigen::MatrixXd> gate_vectors;  // per weight layer, as check_gate_vectors accepts them
  double threshold = 0;
  TaskMask tasks;  // task-masked gates (core/gated_linear.h)
};

struct SamplingResult {
  Status status;
  int chains_done = 0, samples_per_chain = 0;
  // Posterior of f on the test points: mean over chains of the chain means, its standard error (spread of
  // the chain means / sqrt(chains)), and the posterior variance (mean within-chain variance + variance of
  // the chain means).
  Eigen::VectorXd mean, mean_se, variance;
  double bias2 = 0, variance_mean = 0, generalization_error = 0, generalization_error_se = 0;
  double training_error = 0;                                           // posterior mean of (1/P) sum (f(x^mu) - y^mu)^2
  std::vector<Eigen::MatrixXd> order_parameters, order_parameters_se;  // U-hat_1 .. U-hat_L and their errors
};

// chi^2 / dof of the sampled posterior mean against predictions (e.g. the theory's or the GP's): the mean
// squared z-score over the test points with a positive standard error (dead inputs have none).
double chi2_per_dof(const SamplingResult& r, const Eigen::VectorXd& predicted_mean);

// Memory for the weights and the per-chain accumulators, for the check against a budget.
double sampling_memory_bytes(const GatedLinearNetwork& net, const SamplingSpec& spec, int train, int test, int input_dim);

class PosteriorChains;  // the chains' weights and accumulators (posterior_sampling.cpp)

// Time-sliced: each step() advances every chain by a few sweeps (chains run on the thread pool), and the
// partial result (chains so far, samples so far) is readable between slices.
class PosteriorSamplingJob : public Job {
 public:
  PosteriorSamplingJob(const GatedLinearNetwork& net, const SamplingSpec& spec, const SamplingProblem& problem);
  ~PosteriorSamplingJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;
  const SamplingResult& result() const { return result_; }

 private:
  void summarize();
  GatedLinearNetwork net_;
  SamplingSpec spec_;
  SamplingProblem problem_;
  SamplingResult result_;
  std::unique_ptr<PosteriorChains> chains_;
  long long steps_done_ = 0, steps_total_ = 0;
  bool done_ = false;
};

SamplingResult sample_posterior(const GatedLinearNetwork& net, const SamplingSpec& spec, const SamplingProblem& problem);

}  // namespace fs
