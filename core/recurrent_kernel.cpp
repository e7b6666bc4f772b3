// Recurrent two-time kernel recursion (docs/theory.md §4.1). Equal-time blocks are propagated with the same
// code as the deep recursion (propagate_rows), so K^{tt}_RNN == K^t_DNN holds exactly (§4.2).
#include "core/recurrent_kernel.h"

#include <cmath>

#include "core/deep_kernel.h"
#include "core/parallel.h"
#include "core/text.h"

namespace fs {

namespace {}

double recurrent_kernel_bytes(int inputs, int steps) { return 8.0 * inputs * double(inputs) * (steps + 1.0) * (steps + 2.0) / 2; }

bool RecurrentKernelResult::has(int t, int s) const {
  const int hi = std::max(t, s), lo = std::min(t, s);
  const std::size_t index = static_cast<std::size_t>(hi) * (hi + 1) / 2 + lo;
  return lo >= 0 && hi <= steps && index < blocks.size() && blocks[index].size() > 0;
}

Eigen::MatrixXd RecurrentKernelResult::block(int t, int s) const {
  if (s <= t) return blocks[t * (t + 1) / 2 + s];
  return blocks[s * (s + 1) / 2 + t].transpose();
}

double RecurrentKernelResult::at(int t, int s, int a, int b) const {
  if (s <= t) return blocks[t * (t + 1) / 2 + s](a, b);
  return blocks[s * (s + 1) / 2 + t](b, a);
}

RecurrentKernelJob::RecurrentKernelJob(const RecurrentKernelSpec& spec, const InputSet& inputs) : spec_(spec), inputs_(inputs) {
  p_ = inputs.count;
  const int T = spec.network.depth;
  result_.steps = T;
  result_.inputs = p_;
  auto fail = [&](StatusCode code, std::string message) {
    result_.status = Status::error(code, std::move(message));
    done_ = true;
  };
  if (p_ <= 0 || inputs.steps() == 0) {
    fail(StatusCode::invalid_input, "There are no inputs.");
    return;
  }
  if (Status bad = spec.network.validate(); !bad.ok()) {
    fail(bad.code, std::move(bad.message));
    return;
  }
  if (spec.network.input_mode == InputMode::sequence && inputs.steps() != T + 1) {
    fail(StatusCode::invalid_input, "Sequence input needs T + 1 = " + std::to_string(T + 1) +
                                        " time steps per input; the inputs have " + std::to_string(inputs.steps()) + ".");
    return;
  }
  for (const auto& x : inputs.x)
    if (!x.allFinite()) {
      fail(StatusCode::invalid_input, "The inputs contain a non-finite number.");
      return;
    }
  const double bytes = recurrent_kernel_bytes(p_, T);
  if (bytes > double(spec.memory_budget_bytes)) {
    fail(StatusCode::too_large, "The two-time kernel for T = " + std::to_string(T) + " and P = " + std::to_string(p_) +
                                    " needs " + short_number(bytes / 1048576.0) + " MiB, over the budget of " +
                                    short_number(spec.memory_budget_bytes / 1048576.0) + " MiB: use fewer inputs or steps.");
    return;
  }
  result_.blocks.assign(static_cast<std::size_t>(T + 1) * (T + 2) / 2, Eigen::MatrixXd());
  block_ref(0, 0) = input_term(0, 0);
  for (int t = 1; t <= T; ++t) block_ref(t, 0) = input_term(t, 0);  // h^0 has no W factor
  equal_time_ = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::phi);
  cross_time_ = std::make_unique<PairIntegrator>(spec.network.activation, PairFunction::phi);
  rows_total_ = static_cast<long long>(T) * p_ + static_cast<long long>(T - 1) * T / 2 * p_;
  if (T == 0) done_ = true;
}

Eigen::MatrixXd RecurrentKernelJob::input_term(int t, int s) const {
  const double bias = (spec_.network.bias_mode == BiasMode::shared || t == s) ? spec_.network.sigma_b2 : 0.0;
  Eigen::MatrixXd m;
  switch (spec_.network.input_mode) {
    case InputMode::first_step:
      m = (t == 0 && s == 0) ? Eigen::MatrixXd(spec_.network.input_variance() * inputs_.gram(0, 0))
                             : Eigen::MatrixXd::Zero(p_, p_);
      break;
    case InputMode::every_step: m = spec_.network.input_variance() * inputs_.gram(0, 0); break;
    case InputMode::sequence: m = spec_.network.input_variance() * inputs_.gram(t, s); break;
  }
  m.array() += bias;
  if (t == s) symmetrize_from_lower(m);
  return m;
}

bool RecurrentKernelJob::step(double budget_seconds) {
  if (done_) return true;
  SliceTimer timer(budget_seconds);
  const int T = spec_.network.depth;
  while (!done_) {
    if (cancelled()) {
      result_.status = Status::error(StatusCode::cancelled, "Cancelled.");
      done_ = true;
      break;
    }
    if (equal_phase_) {
      // K^{tt} = sigma_b^2 + I^{tt} + sigma_w^2 E[phi phi] over K^{t-1,t-1}: the deep step.
      const Eigen::MatrixXd& prev = block_ref(t_ - 1, t_ - 1);
      if (!block_started_) {
        std::vector<double> q(p_);
        for (int a = 0; a < p_; ++a) q[a] = prev(a, a);
        equal_time_->set_variances(q);
        result_.inexact_variances = std::max(result_.inexact_variances, equal_time_->inexact_variances());
        block_ref(t_, t_).resize(p_, p_);
        row_ = 0;
        block_started_ = true;
      }
      const int chunk = triangle_chunk(row_, p_, p_);
      const bool has_input = spec_.network.input_mode != InputMode::first_step;
      Eigen::MatrixXd extra;
      if (has_input) {
        extra = input_term(t_, t_);
        extra.array() -= spec_.network.sigma_b2;
      }
      const int first = row_;
      Eigen::MatrixXd& next = block_ref(t_, t_);
      parallel_for(chunk, [&](int begin, int end) {
        propagate_rows(prev, *equal_time_, spec_.network.sigma_w2, spec_.network.sigma_b2, has_input ? &extra : nullptr,
                       first + begin, first + end, next);
      });
      row_ += chunk;
      rows_done_ += chunk;
      if (row_ >= p_) {
        Eigen::MatrixXd& k = block_ref(t_, t_);
        symmetrize_from_lower(k);
        block_started_ = false;
        if (!k.allFinite() || k.diagonal().maxCoeff() > kDivergence) {
          result_.status = divergence_status(spec_.network, k.diagonal().maxCoeff(), "t = " + std::to_string(t_));
          done_ = true;
          break;
        }
        if (++t_ > T) {
          equal_phase_ = false;
          // Cross-time pairs need the variances of every time 0..T-1 at once.
          std::vector<double> q(static_cast<std::size_t>(T) * p_);
          for (int t = 0; t < T; ++t)
            for (int a = 0; a < p_; ++a) q[static_cast<std::size_t>(t) * p_ + a] = block_ref(t, t)(a, a);
          cross_time_->set_variances(q);
          result_.inexact_variances = std::max(result_.inexact_variances, cross_time_->inexact_variances());
          t_ = 2;
          if (t_ > T) done_ = true;
        }
      }
    } else {
      // K^{ts} = B^{ts} + I^{ts} + sigma_w^2 E[phi(h^{t-1}_a) phi(h^{s-1}_b)], t > s >= 1. The blocks
      // of one t depend only on blocks of t - 1, so all rows (s, a) of time t are independent work
      // items; each writes only its own row, so the numbers do not depend on the thread count.
      if (!block_started_) {
        for (int s = 1; s < t_; ++s) block_ref(t_, s) = input_term(t_, s);
        row_ = 0;
        block_started_ = true;
      }
      const int items = (t_ - 1) * p_;
      const int chunk = std::min(items - row_, std::max(1, static_cast<int>(kEntriesPerThread * thread_count() / p_)));
      const int first = row_, t = t_;
      parallel_for(chunk, [&](int begin, int end) {
        std::vector<double> cov(p_), out(p_);
        for (int item = first + begin; item < first + end; ++item) {
          const int s = 1 + item / p_, a = item % p_;
          const Eigen::MatrixXd& prev = block_ref(t - 1, s - 1);
          Eigen::MatrixXd& k = block_ref(t, s);
          for (int b = 0; b < p_; ++b) cov[b] = prev(a, b);
          cross_time_->row((t - 1) * p_ + a, (s - 1) * p_, p_, cov.data(), out.data());
          for (int b = 0; b < p_; ++b) k(a, b) += spec_.network.sigma_w2 * out[b];
        }
      });
      row_ += chunk;
      rows_done_ += chunk;
      if (row_ >= items) {
        block_started_ = false;
        if (++t_ > T) done_ = true;
      }
    }
    if (timer.expired()) break;
  }
  return done_;
}

double RecurrentKernelJob::progress() const {
  if (done_) return 1.0;
  return rows_total_ > 0 ? double(rows_done_) / double(rows_total_) : 0.0;
}

RecurrentKernelResult recurrent_kernel(const RecurrentKernelSpec& spec, const InputSet& inputs) {
  RecurrentKernelJob job(spec, inputs);
  job.run();
  return job.take_result();
}

}  // namespace fs
