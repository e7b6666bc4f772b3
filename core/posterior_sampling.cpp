// Posterior sampling of finite gated deep linear networks (core/posterior_sampling.h, docs/theory.md §10.9).
// Sections
//   1. Names, checks, memory
//   2. One network: forward pass, back-propagated output derivatives, the Gibbs and Langevin updates
//   3. Samples: predictions, training error, order-parameter estimators
//   4. The job: chains on the thread pool, the summary over chains
#include "core/posterior_sampling.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/parallel.h"
#include "core/random.h"

namespace fs {

// --- 1. Names, checks, memory -----------------------------------------------------------------------------
const char* posterior_sampler_name(PosteriorSampler s) { return s == PosteriorSampler::langevin ? "langevin" : "gibbs"; }

bool posterior_sampler_from_name(std::string_view name, PosteriorSampler& s) {
  if (name == "gibbs")
    s = PosteriorSampler::gibbs;
  else if (name == "langevin")
    s = PosteriorSampler::langevin;
  else
    return false;
  return true;
}

double chi2_per_dof(const SamplingResult& r, const Eigen::VectorXd& predicted_mean) {
  double sum = 0;
  int count = 0;
  for (Eigen::Index i = 0; i < r.mean.size(); ++i)
    if (r.mean_se(i) > 0) {
      const double z = (r.mean(i) - predicted_mean(i)) / r.mean_se(i);
      sum += z * z;
      ++count;
    }
  return count > 0 ? sum / count : 0.0;
}

namespace {

double parameter_count(const GatedLinearNetwork& net, int input_dim) {
  double count = 0, previous = input_dim;
  for (int l = 0; l < net.hidden_layers(); ++l) {
    count += static_cast<double>(net.widths[l]) * net.gates[l] * previous;
    previous = net.widths[l];
  }
  return count + net.gates.back() * previous;
}

}  // namespace

double sampling_memory_bytes(const GatedLinearNetwork& net, const SamplingSpec& spec, int train, int test, int input_dim) {
  double paths = 0, widest = input_dim;
  for (int l = 1; l <= net.hidden_layers(); ++l) paths += static_cast<double>(net.paths(l)) * net.paths(l);
  for (int l = 0; l < net.hidden_layers(); ++l)
    widest = std::max<double>(widest, static_cast<double>(net.widths[l]) * net.gates[l + 1]);
  widest = std::max<double>(widest, static_cast<double>(input_dim) * net.gates[0]);
  const double per_chain = 2 * parameter_count(net, input_dim) + 2.0 * test + 2 * paths;
  // Per thread: P x P products and the factor, the gated inputs and activations of train and test points.
  const double per_thread = 4.0 * train * train + 3.0 * (train + test) * widest;
  return 8.0 * (spec.chains * per_chain + std::min(spec.chains, max_thread_count()) * per_thread);
}

// --- 2. One network ---------------------------------------------------------------------------------------
namespace {

constexpr std::uint64_t kSamplingStream = 0x706f7374ull;  // "post"
enum Purpose : std::uint64_t { prior_draw = 0, likelihood_noise = 1, langevin_noise = 2, initial = 3 };

struct Model {
  const GatedLinearNetwork* net = nullptr;
  std::vector<Eigen::MatrixXd> gates_train, gates_test;  // per weight layer: P x M_l, Q x M_l
  const Eigen::MatrixXd* x_train = nullptr;
  const Eigen::MatrixXd* x_test = nullptr;
  const Eigen::VectorXd* y_train = nullptr;
  int layers = 0;  // L

  int width(int layer) const { return layer == 0 ? static_cast<int>(x_train->cols()) : net->widths[layer - 1]; }
  // Rows of weight layer l = 1..L+1 (1 for the readout) and columns M_l N_{l-1}.
  int rows(int l) const { return l == layers + 1 ? 1 : width(l); }
  int cols(int l) const { return net->gates[l - 1] * width(l - 1); }
};

// The forward pass is the network's own (core/gated_linear.h).
using Forward = GatedLinearForward;
Forward forward(const Model& model, const std::vector<Eigen::MatrixXd>& weights, const Eigen::MatrixXd& x,
                const std::vector<Eigen::MatrixXd>& gates) {
  return gated_linear_forward(*model.net, weights, x, gates);
}

// beta^(l) = df / dx^l on the training points, for l = L down to 1 (index l - 1), from the weights above.
std::vector<Eigen::MatrixXd> output_derivatives(const Model& model, const std::vector<Eigen::MatrixXd>& weights, int lowest) {
  std::vector<Eigen::MatrixXd> beta(model.layers);
  const Eigen::Index p = model.x_train->rows();
  for (int l = model.layers; l >= lowest; --l) {
    const int above = l + 1;  // the weight layer reading x^l
    const Eigen::MatrixXd& g = model.gates_train[above - 1];
    const double scale = 1.0 / std::sqrt(static_cast<double>(model.cols(above)));
    const int n = model.width(l);
    Eigen::MatrixXd b = Eigen::MatrixXd::Zero(p, n);
    for (Eigen::Index m = 0; m < g.cols(); ++m) {
      const Eigen::MatrixXd block = weights[above - 1].middleCols(m * n, n);  // rows(above) x N_l
      if (above == model.layers + 1)
        b += g.col(m) * block.row(0) * scale;
      else
        b += g.col(m).asDiagonal() * (beta[above - 1] * block) * scale;
    }
    beta[l - 1] = std::move(b);
  }
  return beta;
}

Eigen::MatrixXd normals(std::uint64_t seed, std::uint64_t chain, std::uint64_t step, std::uint64_t layer, Purpose purpose,
                        Eigen::Index rows, Eigen::Index cols, double scale) {
  Eigen::MatrixXd m(rows, cols);
  random::NormalStream{seed, kSamplingStream, chain, step, layer * 4 + purpose}.fill(m.data(), static_cast<std::size_t>(m.size()),
                                                                                     scale);
  return m;
}

// The gradient-shaped product beta^T diag(v) h~ / s: J^T v for the layer's Jacobian J (f linear in it).
Eigen::MatrixXd jacobian_transpose_times(const Eigen::MatrixXd& beta, const Eigen::VectorXd& v, const Eigen::MatrixXd& input,
                                         double scale) {
  return beta.transpose() * v.asDiagonal() * input * scale;
}

// Gibbs: the exact conditional draw of weight layer l given the others (Matheron's rule):
//   W0 ~ N(0, sigma^2), eps ~ N(0, T), v = (sigma^2 J J^T + T)^-1 (Y - J W0 - eps), W = W0 + sigma^2 J^T v,
// with J W = sum_i beta_i (h~ . W_i) / s and J J^T = (beta beta^T) o (h~ h~^T) / s^2. The gated input
// h~ = [g_1 o x, ..., g_M o x] has h~ h~^T = (x x^T) o (g g^T), M times cheaper than the product of h~;
// each factor is a symmetric rank update of its lower triangle, the half the factorisation reads.
bool gibbs_update(const Model& model, std::vector<Eigen::MatrixXd>& weights, int l, const Eigen::MatrixXd& x,
                  const Eigen::MatrixXd& gates, const Eigen::MatrixXd* beta, std::uint64_t seed, std::uint64_t chain,
                  std::uint64_t step) {
  const double sigma2 = model.net->sigma2, t = model.net->temperature;
  const double scale = 1.0 / std::sqrt(static_cast<double>(model.cols(l)));
  const Eigen::Index p = x.rows();
  const Eigen::MatrixXd input = gated_input(x, gates);
  const Eigen::MatrixXd w0 = normals(seed, chain, step, l, prior_draw, model.rows(l), model.cols(l), std::sqrt(sigma2));
  const Eigen::MatrixXd eps = normals(seed, chain, step, l, likelihood_noise, p, 1, std::sqrt(t));
  const Eigen::MatrixXd projected = input * w0.transpose();  // P x rows(l)
  const Eigen::VectorXd jw0 = (beta ? beta->cwiseProduct(projected).rowwise().sum() : Eigen::VectorXd(projected.col(0))) * scale;
  auto lower_gram = [p](const Eigen::MatrixXd& a) {
    Eigen::MatrixXd g = Eigen::MatrixXd::Zero(p, p);
    g.selfadjointView<Eigen::Lower>().rankUpdate(a);
    return g;
  };
  Eigen::MatrixXd gram = lower_gram(x);
  if (gates.cols() > 1) gram = gram.cwiseProduct(lower_gram(gates));
  if (beta) gram = gram.cwiseProduct(lower_gram(*beta));
  gram *= sigma2 * scale * scale;
  gram.diagonal().array() += t;
  Eigen::LLT<Eigen::MatrixXd, Eigen::Lower> llt(gram);
  if (llt.info() != Eigen::Success) return false;
  const Eigen::VectorXd v = llt.solve(*model.y_train - jw0 - eps.col(0));
  const Eigen::MatrixXd ones = beta ? Eigen::MatrixXd() : Eigen::MatrixXd::Ones(p, 1);
  weights[l - 1] = w0 + sigma2 * jacobian_transpose_times(beta ? *beta : ones, v, input, scale);
  return true;
}

// `cached`: the forward pass of the current weights on the training points, if the caller has it.
void gibbs_sweep(const Model& model, std::vector<Eigen::MatrixXd>& weights, std::uint64_t seed, std::uint64_t chain,
                 std::uint64_t step, bool& ok, const Forward* cached) {
  const Forward fwd = cached ? *cached : forward(model, weights, *model.x_train, model.gates_train);
  // Readout first (beta = 1), then W^L .. W^1 with beta from the freshly drawn layers above.
  ok = ok && gibbs_update(model, weights, model.layers + 1, fwd.activations[model.layers], model.gates_train[model.layers],
                          nullptr, seed, chain, step);
  Eigen::MatrixXd beta;
  for (int l = model.layers; l >= 1 && ok; --l) {
    beta = output_derivatives(model, weights, l)[l - 1];
    ok = gibbs_update(model, weights, l, fwd.activations[l - 1], model.gates_train[l - 1], &beta, seed, chain, step);
  }
}

// Langevin (Euler-Maruyama): every layer moves along -eta [J^T (f - y) + (T / sigma^2) W] plus sqrt(2 T eta) noise.
void langevin_step(const Model& model, std::vector<Eigen::MatrixXd>& weights, double eta, std::uint64_t seed, std::uint64_t chain,
                   std::uint64_t step) {
  const double sigma2 = model.net->sigma2, t = model.net->temperature;
  const Forward fwd = forward(model, weights, *model.x_train, model.gates_train);
  const Eigen::VectorXd error = fwd.output - *model.y_train;
  const std::vector<Eigen::MatrixXd> beta = output_derivatives(model, weights, 1);
  const Eigen::Index p = model.x_train->rows();
  std::vector<Eigen::MatrixXd> gradients(model.layers + 1);
  for (int l = 1; l <= model.layers + 1; ++l) {
    const Eigen::MatrixXd input = gated_input(fwd.activations[l - 1], model.gates_train[l - 1]);
    const double scale = 1.0 / std::sqrt(static_cast<double>(model.cols(l)));
    gradients[l - 1] =
        jacobian_transpose_times(l == model.layers + 1 ? Eigen::MatrixXd::Ones(p, 1) : beta[l - 1], error, input, scale) +
        (t / sigma2) * weights[l - 1];
  }
  for (int l = 1; l <= model.layers + 1; ++l)
    weights[l - 1] += -eta * gradients[l - 1] +
                      normals(seed, chain, step, l, langevin_noise, model.rows(l), model.cols(l), std::sqrt(2 * t * eta));
}

// --- 3. Samples -------------------------------------------------------------------------------------------
// U-hat_l = V_l^T V_l / (N_l sigma^{2(L-l+1)}), V_L = [a^1 ... a^M], V_{l-1}[k, (p, m)] = sum_j V_l[j, p] W^{l,m}_jk / sqrt(N_l).
std::vector<Eigen::MatrixXd> order_parameter_estimates(const Model& model, const std::vector<Eigen::MatrixXd>& weights) {
  const int layers = model.layers;
  std::vector<Eigen::MatrixXd> u(layers);
  const int n_top = model.width(layers);
  const int readout_gates = model.net->gates.back();
  Eigen::MatrixXd v(n_top, readout_gates);
  for (int m = 0; m < readout_gates; ++m) v.col(m) = weights[layers].row(0).segment(m * n_top, n_top).transpose();
  for (int l = layers; l >= 1; --l) {
    u[l - 1] = v.transpose() * v / (model.width(l) * std::pow(model.net->sigma2, layers - l + 1));
    if (l == 1) break;
    const int gates = model.net->gates[l - 1], below = model.width(l - 1);
    Eigen::MatrixXd next(below, v.cols() * gates);
    const double scale = 1.0 / std::sqrt(static_cast<double>(model.width(l)));
    for (Eigen::Index p = 0; p < v.cols(); ++p)
      for (int m = 0; m < gates; ++m)
        next.col(p * gates + m) = weights[l - 1].middleCols(m * below, below).transpose() * v.col(p) * scale;
    v.swap(next);
  }
  return u;
}

}  // namespace

struct ChainState {
  std::vector<Eigen::MatrixXd> weights;
  Forward train;  // the forward pass of `weights` on the training points, when train_current
  bool train_current = false;
  long long step = 0;  // sweeps or steps done
  bool ok = true;
  int samples = 0;
  Eigen::VectorXd f_sum, f_square;
  double train_error_sum = 0;
  std::vector<Eigen::MatrixXd> u_sum;
};

class PosteriorChains {
 public:
  Model model;
  std::vector<ChainState> chains;
};

// --- 4. The job -------------------------------------------------------------------------------------------
PosteriorSamplingJob::PosteriorSamplingJob(const GatedLinearNetwork& net, const SamplingSpec& spec,
                                           const SamplingProblem& problem)
    : net_(net), spec_(spec), problem_(problem) {}
PosteriorSamplingJob::~PosteriorSamplingJob() = default;

double PosteriorSamplingJob::progress() const {
  return done_ ? 1.0 : steps_total_ > 0 ? static_cast<double>(steps_done_) / static_cast<double>(steps_total_) : 0.0;
}

bool PosteriorSamplingJob::step(double budget_seconds) {
  if (done_) return true;
  SliceTimer timer(budget_seconds);
  auto fail = [this](Status s) {
    result_.status = std::move(s);
    done_ = true;
    return true;
  };
  if (cancelled()) {
    summarize();
    return fail(Status::error(StatusCode::cancelled, "The sampling was cancelled; the numbers are those of the samples so far."));
  }
  if (!chains_) {
    if (Status s = net_.validate(); !s.ok()) return fail(s);
    if (!(net_.temperature > 0))
      return fail(Status::error(StatusCode::invalid_input, "Sampling the posterior needs a temperature T > 0."));
    if (spec_.chains < 2 || spec_.chains > 1024)
      return fail(Status::error(StatusCode::invalid_input, "Use 2 to 1024 chains (error bars come from their spread)."));
    if (spec_.samples < 1 || spec_.samples > 10000000 || spec_.burn_in < 0 || spec_.burn_in > 100000000 || spec_.thinning < 1 ||
        spec_.thinning > 100000)
      return fail(Status::error(StatusCode::invalid_input, "Samples, burn-in and thinning must be at least 1, 0 and 1."));
    if (spec_.sampler == PosteriorSampler::langevin && !(spec_.step > 0 && spec_.step <= 1))
      return fail(Status::error(StatusCode::invalid_input, "The Langevin step eta must be in (0, 1]."));
    const int dim = static_cast<int>(problem_.x_train.cols());
    if (problem_.x_train.rows() < 1 || problem_.y_train.size() != problem_.x_train.rows() ||
        problem_.y_test.size() != problem_.x_test.rows() || (problem_.x_test.rows() > 0 && problem_.x_test.cols() != dim))
      return fail(Status::error(StatusCode::invalid_input,
                                "The data need one target per point and test points of the training dimension."));
    if (Status s = check_gate_vectors(net_, problem_.gate_vectors, dim); !s.ok()) return fail(s);
    if (Status s = check_task_mask(net_, problem_.tasks, problem_.x_train.rows(), problem_.x_test.rows()); !s.ok())
      return fail(s);
    chains_ = std::make_unique<PosteriorChains>();
    Model& model = chains_->model;
    model.net = &net_;
    model.layers = net_.hidden_layers();
    model.x_train = &problem_.x_train;
    model.x_test = &problem_.x_test;
    model.y_train = &problem_.y_train;
    for (const Eigen::MatrixXd& v : problem_.gate_vectors) {
      model.gates_train.push_back(gate_values(v, problem_.threshold, problem_.x_train));
      model.gates_test.push_back(gate_values(v, problem_.threshold, problem_.x_test));
      mask_gates_by_task(model.gates_train.back(), problem_.tasks.active() ? problem_.tasks.train : std::vector<int>{},
                         problem_.tasks.tasks);
      mask_gates_by_task(model.gates_test.back(), problem_.tasks.active() ? problem_.tasks.test : std::vector<int>{},
                         problem_.tasks.tasks);
    }
    chains_->chains.resize(spec_.chains);
    for (int c = 0; c < spec_.chains; ++c) {
      ChainState& chain = chains_->chains[c];
      for (int l = 1; l <= model.layers + 1; ++l)
        chain.weights.push_back(normals(spec_.seed, c, 0, l, initial, model.rows(l), model.cols(l), std::sqrt(net_.sigma2)));
      chain.f_sum = chain.f_square = Eigen::VectorXd::Zero(problem_.x_test.rows());
      for (int l = 1; l <= model.layers; ++l) chain.u_sum.push_back(Eigen::MatrixXd::Zero(net_.paths(l), net_.paths(l)));
    }
    steps_total_ =
        static_cast<long long>(spec_.chains) * (spec_.burn_in + static_cast<long long>(spec_.samples) * spec_.thinning);
    if (timer.expired()) return false;
  }
  const long long per_chain = spec_.burn_in + static_cast<long long>(spec_.samples) * spec_.thinning;
  const Model& model = chains_->model;
  // Steps per chain in this slice: one at first, then sized from the measured rate to the budget.
  long long batch = 1;
  while (true) {
    const auto start = std::chrono::steady_clock::now();
    parallel_for(spec_.chains, [&](int begin, int end) {
      for (int c = begin; c < end; ++c) {
        ChainState& chain = chains_->chains[c];
        for (long long k = 0; k < batch && chain.step < per_chain && chain.ok; ++k) {
          const std::uint64_t s = static_cast<std::uint64_t>(++chain.step);
          if (spec_.sampler == PosteriorSampler::gibbs)
            gibbs_sweep(model, chain.weights, spec_.seed, c, s, chain.ok, chain.train_current ? &chain.train : nullptr);
          else
            langevin_step(model, chain.weights, spec_.step, spec_.seed, c, s);
          chain.train_current = false;
          const long long kept = chain.step - spec_.burn_in;
          if (kept > 0 && kept % spec_.thinning == 0) {
            const Eigen::VectorXd f = forward(model, chain.weights, *model.x_test, model.gates_test).output;
            chain.f_sum += f;
            chain.f_square += f.cwiseProduct(f);
            chain.train = forward(model, chain.weights, *model.x_train, model.gates_train);  // also the next sweep's
            chain.train_current = true;
            chain.train_error_sum +=
                (chain.train.output - *model.y_train).squaredNorm() / static_cast<double>(chain.train.output.size());
            const std::vector<Eigen::MatrixXd> u = order_parameter_estimates(model, chain.weights);
            for (std::size_t l = 0; l < u.size(); ++l) chain.u_sum[l] += u[l];
            ++chain.samples;
          }
        }
      }
    });
    steps_done_ = 0;
    bool finished = true;
    for (const ChainState& chain : chains_->chains) {
      steps_done_ += chain.step;
      finished = finished && chain.step >= per_chain;
      if (!chain.ok)
        return fail(
            Status::error(StatusCode::numerical, "A Gibbs draw failed: the conditional covariance is not positive definite."));
      if (!chain.weights.back().allFinite())
        return fail(Status::error(StatusCode::numerical, "The Langevin dynamics diverged; use a smaller step eta."));
    }
    if (finished) {
      summarize();
      done_ = true;
      return true;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (timer.expired()) break;
    batch = std::max<long long>(1, static_cast<long long>(batch * 0.5 * budget_seconds / std::max(elapsed, 1e-6)));
  }
  summarize();
  return false;
}

void PosteriorSamplingJob::summarize() {
  if (!chains_) return;
  const std::vector<ChainState>& chains = chains_->chains;
  const Eigen::Index q = problem_.x_test.rows();
  int used = 0;
  for (const ChainState& c : chains) used += c.samples > 0 ? 1 : 0;
  result_.chains_done = used;
  result_.samples_per_chain = chains.empty() ? 0 : chains.front().samples;
  if (used == 0) return;
  std::vector<Eigen::VectorXd> means, variances;
  std::vector<double> errors;
  double train = 0;
  for (const ChainState& c : chains) {
    if (c.samples == 0) continue;
    means.push_back(c.f_sum / c.samples);
    variances.push_back((c.f_square / c.samples - means.back().cwiseProduct(means.back())).cwiseMax(0.0));
    errors.push_back(q > 0 ? ((means.back() - problem_.y_test).squaredNorm() + variances.back().sum()) / static_cast<double>(q)
                           : 0.0);
    train += c.train_error_sum / c.samples;
  }
  const double n = static_cast<double>(used);
  result_.mean = Eigen::VectorXd::Zero(q);
  for (const auto& m : means) result_.mean += m / n;
  Eigen::VectorXd spread = Eigen::VectorXd::Zero(q), within = Eigen::VectorXd::Zero(q);
  for (std::size_t c = 0; c < means.size(); ++c) {
    spread += (means[c] - result_.mean).cwiseAbs2();
    within += variances[c] / n;
  }
  result_.variance = within + spread / n;
  result_.mean_se = used > 1 ? Eigen::VectorXd((spread / (n - 1)).cwiseSqrt() / std::sqrt(n)) : Eigen::VectorXd::Zero(q);
  if (q > 0) {
    result_.bias2 = (result_.mean - problem_.y_test).squaredNorm() / static_cast<double>(q);
    result_.variance_mean = result_.variance.mean();
    result_.generalization_error = result_.bias2 + result_.variance_mean;
    double mean_error = 0, square = 0;
    for (double e : errors) mean_error += e / n;
    for (double e : errors) square += (e - mean_error) * (e - mean_error);
    result_.generalization_error_se = used > 1 ? std::sqrt(square / (n - 1) / n) : 0.0;
  }
  result_.training_error = train / n;
  const int layers = net_.hidden_layers();
  result_.order_parameters.assign(layers, Eigen::MatrixXd());
  result_.order_parameters_se.assign(layers, Eigen::MatrixXd());
  for (int l = 0; l < layers; ++l) {
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(net_.paths(l + 1), net_.paths(l + 1)), square = mean;
    for (const ChainState& c : chains)
      if (c.samples > 0) mean += c.u_sum[l] / c.samples / n;
    for (const ChainState& c : chains)
      if (c.samples > 0) square += (c.u_sum[l] / c.samples - mean).cwiseAbs2();
    result_.order_parameters[l] = mean;
    result_.order_parameters_se[l] =
        used > 1 ? Eigen::MatrixXd((square / (n - 1)).cwiseSqrt() / std::sqrt(n)) : Eigen::MatrixXd(square * 0);
  }
}

SamplingResult sample_posterior(const GatedLinearNetwork& net, const SamplingSpec& spec, const SamplingProblem& problem) {
  PosteriorSamplingJob job(net, spec, problem);
  job.run();
  return job.result();
}

}  // namespace fs
