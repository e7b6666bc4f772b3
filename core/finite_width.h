// The 1/N (next-to-leading-order) theory of finite-width networks (docs/theory.md §5): for the auxiliary field
// C-hat_p = (sigma_w^2 / N) sum_i phi(h_ia) phi(h_ib) of a deep network (fresh weights per layer) or a
// recurrent network (weights shared over time), the MFT value C-bar, the kernel covariance
// D = N Cov(C-hat_p, C-hat_q) and the mean shift m = N (E C-hat - C-bar) at order 1/N.
//
//   D = M^-1 Sigma M^-T,  m = M^-1 [ 1/2 F'' : D + tau ],  M = I - dF/dC      (docs/theory.md §5.2-5.3)
//
// Deep: D^l = Sigma^l + A_l D^{l-1} A_l^T, m^l = A_l m^{l-1} + 1/2 F''_l : D^{l-1}, tau = 0 (Roberts, Yaida
// & Hanin's four-point vertex and K_(1) recursions). Recurrent: the same over all time pairs; the
// equal-time variance picks up the cross-time Sigma blocks and the mean the tau term (weight sharing).
// For the deep network also the pre-activation Gram G-hat^l = (1/N) sum_i h^l_i h^l_i^T (docs/theory.md §5.5).
// Finally a heuristic finite-width correction of the correlation length (docs/theory.md §5.6).
//
// Scope: P = 1 or 2 inputs; for the recurrent network the equal-time entries C-hat^{tt} (the readout at a
// single time), bias shared or independent, input at t = 0 or at every step (not sequences).
//
// Numerics (docs/theory.md §8.1, §8.3): Gaussian expectations over up to 4 jointly Gaussian pre-activations.
// Smooth activations: tensor-product Gauss-Hermite over a Cholesky factor in a canonical site order
// (nodes per dimension: 1-D 128, 2-D 64, 3-D 48, 4-D 28; 4 for linear phi, which is then exact). The
// 3-D rule is twice what the smooth 2-D integrands need: the recurrent tau term needs it (finite_width.cpp, section 1).
// Kinked activations (ReLU, leaky ReLU, step, sign; all positively homogeneous): an exact polar rule -
// Gauss-Legendre on each arc between the kink angles times Gauss-Laguerre in r^2/2 - which needs
// rank <= 2, i.e. every deep quantity and the recurrent variance at P = 1; the recurrent mean shift
// (3-D tau integrals) and the recurrent P = 2 variance (4-D) are reported as not available for them.
// Derivatives dF/dC, F'' and the tau directional derivatives are central differences of these fixed
// rules (smooth in the covariance).
#pragma once
#include <limits>
#include <Eigen/Core>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/job.h"
#include "core/network.h"
#include "core/status.h"

namespace fs {

struct FiniteWidthSpec {
  // Deep: layers l = 0..depth (h^0 is the input layer). Recurrent: times t = 0..depth (T = depth), input at
  // t = 0 or at every step. The readout aux field is C-hat^depth (so docs/theory.md §5.4's "T = 6" is depth = 6).
  Network network;
  // Input Gram G = x x^T / d, P x P with P = 1 or 2.
  Eigen::MatrixXd input_gram = Eigen::MatrixXd::Ones(1, 1);
  // Work and memory limits; beyond them the status is too_large (with a sentence) before any work.
  double max_node_visits = 2e10;  // quadrature nodes over the whole computation (~1e8 per second)
  std::size_t memory_budget_bytes = std::size_t(256) << 20;
};

// Entries of a P x P block in the pair basis used by covariance matrices: (0,0) for P = 1;
// (0,0), (0,1), (1,1) for P = 2.
int pair_basis_index(int a, int b, int inputs);

struct FiniteWidthLayer {
  Eigen::MatrixXd kernel;      // K^l (P x P): MFT pre-activation kernel of layer / time l
  Eigen::MatrixXd aux;         // C-bar^l = sigma_w^2 E[phi phi] over K^l; K^{l+1} = sigma_b^2 + C-bar^l (+ input)
  Eigen::MatrixXd covariance;  // D^l = N Cov(C-hat^l_p, C-hat^l_q), p, q in pair_basis_index order
  Eigen::MatrixXd mean_shift;  // m^l = N (E C-hat^l - C-bar^l) (P x P); empty when mean_shift_status is not ok
  // D^l_pp / (C-bar^l_p)^2 for each entry (P x P); +infinity where C-bar^l_p = 0 (e.g. odd phi, c* = 0).
  Eigen::MatrixXd relative_variance;
  // Deep only (docs/theory.md §5.5): N Cov(G-hat^l_p, G-hat^l_q) = D^{l-1} + K K + K K, and N (E G-hat^l - K^l) = m^{l-1}.
  Eigen::MatrixXd gram_covariance;
  Eigen::MatrixXd gram_mean_shift;
};

struct FiniteWidthResult {
  Architecture architecture = Architecture::deep;
  int inputs = 0;                        // P
  std::vector<FiniteWidthLayer> layers;  // l = 0..depth (fewer if the computation stopped)
  Status status;                         // invalid_input, too_large, diverged, numerical, not_defined, cancelled
  Status mean_shift_status;              // not_defined / too_large when m could not be computed
  Status gram_status;                    // not_defined for the recurrent network (docs/theory.md §5.5)
  std::string quadrature;                // the rules used, in words
};

class FiniteWidthJob : public Job {
 public:
  explicit FiniteWidthJob(const FiniteWidthSpec& spec);
  ~FiniteWidthJob() override;
  bool step(double budget_seconds) override;
  double progress() const override;
  // Layers appear when the job is done (deep: layer by layer as they are computed).
  const FiniteWidthResult& result() const;
  FiniteWidthResult take_result();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

FiniteWidthResult finite_width(const FiniteWidthSpec& spec);

// The theory of one kernel entry (i, j) (theory input numbering) at layer/time l: the mean field, N Var
// (D) and N shift (m) of the aux field, or of the Gram (deep only, docs/theory.md §5.5). NaN where the result
// does not give it (layer not reached, m not computed, recurrent Gram).
struct FiniteWidthEntry {
  double mean_field = std::numeric_limits<double>::quiet_NaN();  // C-bar (aux) or K (gram)
  double n_variance = std::numeric_limits<double>::quiet_NaN();  // D
  double n_shift = std::numeric_limits<double>::quiet_NaN();     // m
};
FiniteWidthEntry finite_width_entry(const FiniteWidthResult& result, bool gram, int layer, int i, int j);

// Finite-width correction of the correlation length (docs/theory.md §5.6, a heuristic derived for
// Fieldscope, not Grosvenor & Jefferson's formula): for P = 2, add m^l / N to each entry of the MFT aux field,
// c_N^l = C_12 / sqrt(C_11 C_22), and fit |c^{l+1} - c^l| ~ exp(-l / xi) by least squares in log over
// layers [fit_begin, fit_end) (defaults: the second half of the layers). Differences remove the unknown
// (N-dependent) asymptote. The same fit of the MFT trajectory gives xi_mft for comparison.
struct CorrelationLength {
  std::vector<double> correlation_mft;     // c^l at N = infinity, l = 0..depth
  std::vector<double> correlation_finite;  // with m^l / N added
  double xi_mft = 0;
  double xi_finite = 0;
  int points = 0;  // layers used in the fit
  Status status;   // e.g. not_defined for P = 1, numerical when the differences are at rounding level
};
CorrelationLength finite_width_correlation_length(const FiniteWidthResult& result, double width, int fit_begin = -1,
                                                  int fit_end = -1);

}  // namespace fs
