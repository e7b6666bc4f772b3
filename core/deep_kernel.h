// Deep network (NNGP) kernel recursion and the NTK alongside it (docs/theory.md §2; Lee et al. 2018,
// Jacot et al. 2018). Independent weights in every layer.
#pragma once
#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "core/activations.h"
#include "core/gaussian.h"
#include "core/job.h"
#include "core/network.h"
#include "core/status.h"

namespace fs {

// Kernel entries a job hands each thread per parallel_for: about a millisecond of work, so that waking
// the workers (tens of microseconds natively, more in wasm) is worth it and the slice timer is still
// checked many times per frame.
inline constexpr double kEntriesPerThread = 65536;

struct DeepKernelSpec {
  Network network;  // layers 0..L (the architecture and the recurrent fields are not read)
  bool with_ntk = false;
  std::size_t memory_budget_bytes = std::size_t(1) << 30;
};

struct DeepKernelResult {
  // kernel[l] = K^l for l = 0..L: K^0 = sigma_in^2 G + sigma_b^2 is the input layer.
  std::vector<Eigen::MatrixXd> kernel;
  std::vector<Eigen::MatrixXd> ntk;  // Theta^l, when requested and defined
  Status status;                     // not ok: diverged / too_large / invalid_input; kernel holds the layers done
  Status ntk_status;                 // e.g. not_defined for step and sign activations
  int inexact_variances = 0;         // variances beyond the accurate range of the series (q >~ 10 for tanh)
};

// Computes layer l from layer l-1 for one block of rows: the one step shared by the deep recursion
// and the equal-time blocks of the recurrent recursion (docs/theory.md §4.2), so that both agree exactly.
//   next(b, a) = additive(b, a) + sigma_w2 * E[f(u_a) f(u_b)],  b >= a, (u_a, u_b) ~ N(0, prev)
// `integrator` must have been prepared with the diagonal of prev.
void propagate_rows(const Eigen::MatrixXd& prev, const PairIntegrator& integrator, double sigma_w2, double additive,
                    const Eigen::MatrixXd* additive_matrix, int row_begin, int row_end, Eigen::MatrixXd& next);
// Copies the lower triangle into the upper one (exact symmetry).
void symmetrize_from_lower(Eigen::MatrixXd& m);

// What every kernel recursion (the deep and recurrent jobs, the GP's readout kernels) shares besides
// propagate_rows: how many rows to hand to parallel_for, and when and how to say that the variances ran away.
//
// Variances past this count as diverged (the kernels stay far from overflow).
inline constexpr double kDivergence = 1e100;
// The rows from `first` (below `rows`) of a lower triangle whose row a holds columns - a entries, worth about
// kEntriesPerThread entries per thread.
int triangle_chunk(int first, int rows, int columns);
// The sentence for a kernel whose largest variance q_max (at `where`, e.g. "layer 4" or "t = 3") diverged or
// left the floating-point range.
Status divergence_status(const Network& network, double q_max, const std::string& where);

class DeepKernelJob : public Job {
 public:
  DeepKernelJob(const DeepKernelSpec& spec, const Eigen::MatrixXd& input_gram);
  bool step(double budget_seconds) override;
  double progress() const override;
  const DeepKernelResult& result() const { return result_; }
  DeepKernelResult take_result() { return std::move(result_); }

 private:
  void start_layer();
  void finish_layer();

  DeepKernelSpec spec_;
  DeepKernelResult result_;
  std::unique_ptr<PairIntegrator> phi_;
  std::unique_ptr<PairIntegrator> dphi_;
  Eigen::MatrixXd dot_;  // E[phi' phi'] of the layer being computed (NTK)
  int layer_ = 1;        // layer being computed
  int row_ = 0;          // next row within it
  bool layer_started_ = false;
  bool done_ = false;
  int p_ = 0;
};

DeepKernelResult deep_kernel(const DeepKernelSpec& spec, const Eigen::MatrixXd& input_gram);

// Bytes needed to store L+1 P x P kernels (twice with the NTK); a double so that it cannot wrap.
double deep_kernel_bytes(int inputs, int depth, bool with_ntk);

}  // namespace fs
