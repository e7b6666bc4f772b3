// Deep network kernel recursion (docs/theory.md §2) and NTK.
#include "core/deep_kernel.h"

#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "core/text.h"

namespace fs {

int triangle_chunk(int first, int rows, int columns) {
  const double wanted = kEntriesPerThread * thread_count();
  int chunk = 0;
  for (double entries = 0; first + chunk < rows && entries < wanted; ++chunk) entries += columns - (first + chunk);
  return chunk;
}

Status divergence_status(const Network& network, double q_max, const std::string& where) {
  return Status::error(StatusCode::diverged, network.activation.bounded()
                                                 ? "The kernel left the range of floating point numbers."
                                                 : "The variance q grows without bound (q = " + short_number(q_max) + " at " +
                                                       where + "): for " + network.activation.name() +
                                                       " with sigma_w^2 = " + short_number(network.sigma_w2) +
                                                       " the length map has no finite fixed point.");
}

double deep_kernel_bytes(int inputs, int depth, bool with_ntk) {
  return 8.0 * inputs * double(inputs) * (depth + 1.0) * (with_ntk ? 2 : 1);
}

void propagate_rows(const Eigen::MatrixXd& prev, const PairIntegrator& integrator, double sigma_w2, double additive,
                    const Eigen::MatrixXd* additive_matrix, int row_begin, int row_end, Eigen::MatrixXd& next) {
  const int p = static_cast<int>(prev.rows());
  for (int a = row_begin; a < row_end; ++a) {
    // Column a from the diagonal down is contiguous (column-major): the entries b >= a.
    const double* cov = prev.data() + static_cast<std::size_t>(a) * p + a;
    double* out = next.data() + static_cast<std::size_t>(a) * p + a;
    integrator.row(a, a, p - a, cov, out, sigma_w2, additive);
    if (additive_matrix)
      for (int b = a; b < p; ++b) out[b - a] += (*additive_matrix)(b, a);
  }
}

void symmetrize_from_lower(Eigen::MatrixXd& m) {
  // In 32 x 32 tiles: a plain loop reads or writes with a stride of a whole column, and at P = 256 that
  // took a quarter of a ReLU layer's time.
  const int p = static_cast<int>(m.rows());
  constexpr int kTile = 32;
  for (int b0 = 0; b0 < p; b0 += kTile)
    for (int a0 = 0; a0 <= b0; a0 += kTile)
      for (int b = b0; b < std::min(b0 + kTile, p); ++b)
        for (int a = a0; a < std::min({a0 + kTile, p, b}); ++a) m(a, b) = m(b, a);
}

DeepKernelJob::DeepKernelJob(const DeepKernelSpec& spec, const Eigen::MatrixXd& input_gram) : spec_(spec) {
  p_ = static_cast<int>(input_gram.rows());
  auto fail = [&](StatusCode code, std::string message) {
    result_.status = Status::error(code, std::move(message));
    done_ = true;
  };
  if (input_gram.rows() != input_gram.cols() || p_ == 0) {
    fail(StatusCode::invalid_input, "The input Gram matrix must be square and non-empty.");
    return;
  }
  if (!input_gram.allFinite()) {
    fail(StatusCode::invalid_input, "The inputs contain a non-finite number.");
    return;
  }
  if (Status bad = spec.network.validate(); !bad.ok()) {
    fail(bad.code, std::move(bad.message));
    return;
  }
  const double bytes = deep_kernel_bytes(p_, spec.network.depth, spec.with_ntk);
  if (bytes > double(spec.memory_budget_bytes)) {
    fail(StatusCode::too_large, "Storing " + std::to_string(spec.network.depth + 1) + " kernels of " + std::to_string(p_) +
                                    " x " + std::to_string(p_) + " entries needs " + short_number(bytes / 1048576.0) +
                                    " MiB, over the budget of " + short_number(spec.memory_budget_bytes / 1048576.0) +
                                    " MiB: use fewer inputs or layers.");
    return;
  }
  Eigen::MatrixXd k0 = spec.network.input_kernel(input_gram);
  symmetrize_from_lower(k0);
  result_.kernel.push_back(k0);
  if (spec.with_ntk) {
    if (!spec.network.activation.has_derivative())
      result_.ntk_status = Status::error(StatusCode::not_defined, "The NTK of " + spec.network.activation.name() +
                                                                      " is not defined: its derivative is a delta function.");
    else
      result_.ntk.push_back(k0);  // Theta^0 = K^0: the input layer's own parameters
  }
  phi_ = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::phi);
  if (spec.with_ntk && result_.ntk_status.ok())
    dphi_ = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::dphi);
  if (spec.network.depth == 0) done_ = true;
}

void DeepKernelJob::start_layer() {
  const Eigen::MatrixXd& prev = result_.kernel.back();
  std::vector<double> q(p_);
  for (int a = 0; a < p_; ++a) q[a] = prev(a, a);
  phi_->set_variances(q);
  result_.inexact_variances = std::max(result_.inexact_variances, phi_->inexact_variances());
  result_.kernel.emplace_back(p_, p_);
  if (dphi_) {
    dphi_->set_variances(q);
    dot_.resize(p_, p_);
  }
  row_ = 0;
  layer_started_ = true;
}

void DeepKernelJob::finish_layer() {
  Eigen::MatrixXd& k = result_.kernel.back();
  symmetrize_from_lower(k);
  if (dphi_) {
    symmetrize_from_lower(dot_);
    // Theta^l = K^l + sigma_w^2 E[phi' phi'] (.) Theta^{l-1}   (Jacot et al. 2018; Lee et al. 2019, eq. 7)
    Eigen::MatrixXd theta = k + spec_.network.sigma_w2 * dot_.cwiseProduct(result_.ntk.back());
    result_.ntk.push_back(std::move(theta));
  }
  layer_started_ = false;
  const double q_max = k.diagonal().maxCoeff();
  if (!k.allFinite() || q_max > kDivergence) {
    result_.kernel.pop_back();
    if (!result_.ntk.empty() && result_.ntk.size() > result_.kernel.size()) result_.ntk.pop_back();
    result_.status = divergence_status(spec_.network, q_max, "layer " + std::to_string(layer_));
    done_ = true;
    return;
  }
  if (dphi_ && !result_.ntk.back().allFinite()) {
    result_.ntk_status = Status::error(StatusCode::diverged, "The NTK left the range of floating point numbers.");
    dphi_.reset();
  }
  ++layer_;
  if (layer_ > spec_.network.depth) done_ = true;
}

bool DeepKernelJob::step(double budget_seconds) {
  if (done_) return true;
  SliceTimer timer(budget_seconds);
  while (!done_) {
    if (cancelled()) {
      result_.status = Status::error(StatusCode::cancelled, "Cancelled after " + std::to_string(layer_ - 1) + " layers.");
      done_ = true;
      break;
    }
    if (!layer_started_) start_layer();
    const Eigen::MatrixXd& prev = result_.kernel[result_.kernel.size() - 2];
    // Rows get shorter down the triangle: take rows up to kEntriesPerThread entries per thread. Each
    // row writes only its own entries: the numbers do not depend on the thread count.
    const int chunk = triangle_chunk(row_, p_, p_);
    const int first = row_;
    Eigen::MatrixXd& next = result_.kernel.back();
    parallel_for(chunk, [&](int begin, int end) {
      propagate_rows(prev, *phi_, spec_.network.sigma_w2, spec_.network.sigma_b2, nullptr, first + begin, first + end, next);
      if (dphi_) propagate_rows(prev, *dphi_, 1.0, 0.0, nullptr, first + begin, first + end, dot_);
    });
    row_ += chunk;
    if (row_ >= p_) finish_layer();
    if (timer.expired()) break;
  }
  return done_;
}

double DeepKernelJob::progress() const {
  if (done_) return 1.0;
  if (spec_.network.depth <= 0 || p_ == 0) return 0.0;
  // Row a of a layer holds P - a entries.
  const double done_in_layer =
      layer_started_ ? (double(row_) * p_ - 0.5 * double(row_) * (row_ - 1)) / (0.5 * p_ * (p_ + 1.0)) : 0.0;
  return std::min(1.0, (layer_ - 1 + done_in_layer) / spec_.network.depth);
}

DeepKernelResult deep_kernel(const DeepKernelSpec& spec, const Eigen::MatrixXd& input_gram) {
  DeepKernelJob job(spec, input_gram);
  job.run();
  return job.take_result();
}

}  // namespace fs
