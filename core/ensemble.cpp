// Finite-width ensembles (docs/theory.md §5, §6, §8.4-8.5): see ensemble.h for what is measured and why.
//
// Sections
//   1. Names, checks and the memory estimate
//   2. Observable layout: where each per-member number goes
//   3. Random streams (core/random.h) and a PSD square root
//   4. One network: the explicit and the fast samplers, deep and recurrent, float and double
//   5. Accumulators: power sums about the mean field, covariances, jackknife groups
//   6. Mean-field references
//   7. The correlation-length fit
//   8. EnsembleJob
// GCC 12 with AVX-512 (-march=native) warns falsely inside avx512fintrin.h when Eigen's matrix
// product is inlined here; the diagnostic state must be set before Eigen is included (fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "core/ensemble.h"

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <type_traits>

#include "core/criticality.h"
#include "core/deep_kernel.h"
#include "core/gaussian.h"
#include "core/parallel.h"
#include "core/random.h"
#include "core/recurrent_kernel.h"
#include "core/text.h"

namespace fs {

// --- 1. Names, checks and the memory estimate ---------------------------------------------------------

const char* ensemble_sampler_name(EnsembleSampler s) { return s == EnsembleSampler::fast ? "fast" : "explicit"; }
const char* ensemble_precision_name(EnsemblePrecision p) { return p == EnsemblePrecision::float32 ? "float32" : "float64"; }

const std::vector<std::string>& EnsembleResult::histogram_names() {
  static const std::vector<std::string> names = {"aux_aa", "aux_ab", "gram_aa", "gram_ab", "correlation", "lyapunov"};
  return names;
}

namespace {

constexpr double kNaN = EnsembleStat::kNaN;

// Distinct input time steps the network reads: every step of a sequence, else only x^0.
int used_input_steps(const EnsembleSpec& spec, int available) {
  return spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::sequence
             ? std::min(available, spec.network.depth + 1)
             : 1;
}

// Basis size of the recurrent fast sampler: every column of h^0 .. h^{T-1} plus one Jacobian vector per step.
int fast_basis_size(const EnsembleSpec& spec, int inputs) {
  const double k = double(inputs) * spec.network.depth + spec.network.depth + 1;
  return static_cast<int>(std::min<double>(spec.width, k));
}

// Members simulated between two reductions: at most 4096, and at most 64 MiB of rows.
int batch_cap(int observables, int threads) {
  const int by_memory = static_cast<int>(std::min(4096.0, double(std::size_t(1) << 23) / std::max(observables, 1)));
  return std::max(threads, by_memory);
}

}  // namespace

double ensemble_bytes(const EnsembleSpec& spec, int inputs, int input_dim, int input_steps, int threads) {
  const double n = spec.width, p = inputs, d = input_dim, l1 = spec.network.depth + 1.0;
  const double s =
      spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::sequence ? input_steps : 1;
  const double scalar = spec.precision == EnsemblePrecision::float32 ? 4 : 8;
  // Per thread: layer matrices (h, phi, next h: N x (P + 1) each), input projections N x sP, the pair's
  // history (4 x N x (L + 1)), and the sampler's own storage.
  double worker = 3 * n * (p + 1) + n * s * p + 4 * n * l1 + 4 * n;
  if (spec.sampler == EnsembleSampler::explicit_weights)
    worker += n * n + n * d + d * s * p + n * (p + 1);  // W, U, X and [Phi, u]
  else if (spec.network.arch == Architecture::recurrent)
    worker += 2 * n * fast_basis_size(spec, inputs);
  else
    worker += n * (p + 1);
  worker *= scalar;
  // Statistics: per observable a shift and four power sums; per member one row of observables while
  // a batch is reduced.
  const double entries = p * (p + 1) / 2;
  const double observables = 2 * l1 * entries + 2 * l1 * l1 + l1 + 1;
  double stats = 8 * observables * 5;
  if (inputs <= spec.covariance_max_inputs) stats += 8 * 2 * l1 * entries * entries * 4;
  stats += 8 * double(spec.jackknife_groups) * l1;
  const double histogram = 8.0 * 6 * std::min(spec.histogram_members, spec.members);
  const double batch_rows = 8 * observables * batch_cap(static_cast<int>(std::min(observables, 1e9)), threads);
  return threads * worker + stats + histogram + batch_rows;
}

namespace {

Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }

Status check_spec(const EnsembleSpec& spec, const InputSet& inputs) {
  if (Status bad = spec.network.validate(); !bad.ok()) return bad;
  if (spec.network.depth > 100000) return invalid("The depth L (or T) must be in 0..100000.");
  if (spec.width < 1 || spec.width > EnsembleLimits::max_width)
    return invalid("The width N must be an integer in 1.." + std::to_string(EnsembleLimits::max_width) + " (it is " +
                   std::to_string(spec.width) + ").");
  if (spec.members < 2 || spec.members > EnsembleLimits::max_members)
    return invalid("The number of networks M must be in 2.." + std::to_string(EnsembleLimits::max_members) +
                   " (a variance needs at least two; it is " + std::to_string(spec.members) + ").");
  if (spec.histogram_members < 0 || spec.histogram_members > EnsembleLimits::max_histogram_members)
    return invalid("The histogram size must be in 0.." + std::to_string(EnsembleLimits::max_histogram_members) + ".");
  if (spec.jackknife_groups < 2 || spec.jackknife_groups > 1000) return invalid("The jackknife needs 2..1000 groups.");
  if (inputs.count < 1 || inputs.steps() < 1 || inputs.dim < 1) return invalid("There are no inputs.");
  for (const auto& x : inputs.x)
    if (!x.allFinite()) return invalid("The inputs contain a non-finite number.");
  if (spec.input_a < 0 || spec.input_a >= inputs.count || spec.input_b < 0 || spec.input_b >= inputs.count)
    return invalid("The followed inputs a = " + std::to_string(spec.input_a) + ", b = " + std::to_string(spec.input_b) +
                   " must be in 0.." + std::to_string(inputs.count - 1) + ".");
  if (spec.network.arch == Architecture::recurrent && spec.network.input_mode == InputMode::sequence &&
      inputs.steps() != spec.network.depth + 1)
    return invalid("Sequence input needs T + 1 = " + std::to_string(spec.network.depth + 1) +
                   " time steps per input; the inputs have " + std::to_string(inputs.steps()) + ".");
  return Status::success();
}

// --- 2. Observable layout -------------------------------------------------------------------------------
// One member gives one row of numbers: the packed aux and Gram kernels of every layer, the pair's
// two-time grids, the pair's correlation per layer and the Lyapunov estimate.
struct Layout {
  int inputs = 0, layers = 0, entries = 0;  // P, L + 1, P (P + 1) / 2
  int aux = 0, gram = 0, aux_two_time = 0, gram_two_time = 0, correlation = 0, lyapunov = 0, count = 0;
  Layout() = default;
  Layout(int p, int depth) : inputs(p), layers(depth + 1), entries(p * (p + 1) / 2) {
    aux = 0;
    gram = aux + layers * entries;
    aux_two_time = gram + layers * entries;
    gram_two_time = aux_two_time + layers * layers;
    correlation = gram_two_time + layers * layers;
    lyapunov = correlation + layers;
    count = lyapunov + 1;
  }
};

// --- 3. Random streams and a PSD square root --------------------------------------------------------------
// Key (seed, "ensembl"); counter (member, layer or index, purpose, block). Every purpose has its own
// counter range, so no two uses share numbers.
constexpr std::uint64_t kEnsembleStream = 0x656e73656d626cull;  // "ensembl"
enum Purpose : std::uint64_t {
  kWeights = 1,        // W^l (deep) or W (recurrent, index 0): N x N, column-major (weight_stream)
  kInputWeights = 2,   // U: N x d
  kBias = 3,           // b^l (deep, indep) or b (shared, index 0): N
  kFastLayer = 4,      // deep fast sampler: N x (P + 1) standard normals of layer l
  kFastInput = 5,      // fast samplers: N x sP standard normals of the input projections
  kFastDirection = 6,  // recurrent fast sampler: the image W q_k of basis direction k
  kJacobian = 7,       // the Lyapunov start vector
};

random::NormalStream stream(std::uint64_t seed, std::uint64_t member, std::uint64_t index, Purpose purpose) {
  return {seed, kEnsembleStream, member, index, purpose};
}

// The explicit sampler's N x N weight matrices: N^2 normals per layer against 2 N^2 P flops, so they come
// from the vectorised Philox4x32 stream, in the network's own precision (core/random.h). Key: the seed;
// counter (member, layer, purpose + "ens" tag, block). Members < 2^32 and layers <= 100000 fit the words.
random::FastNormalStream weight_stream(std::uint64_t seed, std::uint64_t member, std::uint64_t index) {
  return {seed, std::uint32_t(member), std::uint32_t(index), std::uint32_t(0x656e7300u | kWeights)};
}

// L with L L^T = A for a symmetric positive semi-definite A: Cholesky when it succeeds, else the
// eigen-decomposition with negative rounding-level eigenvalues clamped to zero (rank-deficient A, e.g.
// P > N or repeated inputs).
Eigen::MatrixXd psd_sqrt(const Eigen::MatrixXd& a) {
  Eigen::LLT<Eigen::MatrixXd> llt(a);
  if (llt.info() == Eigen::Success) {
    Eigen::MatrixXd l = llt.matrixL();
    if (l.allFinite() && l.diagonal().minCoeff() > 1e-12 * std::sqrt(std::max(a.diagonal().maxCoeff(), 1e-300))) return l;
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
  Eigen::VectorXd root = eig.eigenvalues().cwiseMax(0.0).cwiseSqrt();
  return eig.eigenvectors() * root.asDiagonal();
}

// --- 4. One network ---------------------------------------------------------------------------------------

// Read-only data shared by every thread.
struct Setup {
  EnsembleSpec spec;
  Layout layout;
  int n = 0, p = 0, d = 0, steps = 0;  // N, P, d, input steps used (1, or T + 1 for sequences)
  bool lyapunov = false;
  Eigen::MatrixXd x_columns;   // d x sP: column t P + a is x^t_a
  Eigen::MatrixXd input_root;  // sP x sP: L L^T = sigma_in^2 G (fast samplers)
};

template <class Scalar>
class SimulatedNetwork {
 public:
  using Mat = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vec = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  explicit SimulatedNetwork(const Setup& setup) : s_(setup), spec_(setup.spec) {
    const int n = s_.n, p = s_.p, l1 = spec_.network.depth + 1;
    h_.resize(n, p);
    phi_.resize(n, p);
    next_.resize(n, p + 1);
    bias_.resize(n);
    v_.resize(n);
    u_.resize(n);
    history_h_a_.resize(n, l1);
    history_h_b_.resize(n, l1);
    history_phi_a_.resize(n, l1);
    history_phi_b_.resize(n, l1);
    if (spec_.sampler == EnsembleSampler::explicit_weights) {
      w_.resize(n, n);
      act_.resize(n, p + 1);
      u_weights_.resize(n, s_.d);
      x_columns_ = s_.x_columns.cast<Scalar>();
    } else {
      input_root_t_ = s_.input_root.transpose().cast<Scalar>();
      if (spec_.network.arch == Architecture::recurrent) {
        const int k = fast_basis_size(spec_, p);
        basis_.resize(n, k);
        images_.resize(n, k);
        coeff_.resize(k);
        coeff2_.resize(k);
      }
    }
  }

  // Simulates network `member` and writes its row of observables.
  void run(std::uint64_t member, double* out) {
    member_ = member;
    const int n = s_.n, p = s_.p, depth = spec_.network.depth;
    const bool deep = spec_.network.arch == Architecture::deep;
    const bool fast = spec_.sampler == EnsembleSampler::fast;
    basis_size_ = 0;

    // Input projections U x^t_a for every input step used: N x sP, then h^0 = U x^0 + b.
    if (fast) {
      Mat z(n, s_.steps * p);
      stream(spec_.seed, member, 0, kFastInput).fill(z.data(), std::size_t(z.size()));
      projections_.noalias() = z * input_root_t_;
    } else {
      stream(spec_.seed, member, 0, kInputWeights)
          .fill(u_weights_.data(), std::size_t(u_weights_.size()), std::sqrt(spec_.network.input_variance() / s_.d));
      projections_.noalias() = u_weights_ * x_columns_;
    }
    draw_bias(0);
    h_ = projections_.leftCols(p);
    h_.colwise() += bias_;
    apply_phi();
    record(0, out);

    if (!deep && !fast)  // the recurrent W, shared by every step
      weight_stream(spec_.seed, member, 0).fill(w_.data(), std::size_t(w_.size()), std::sqrt(spec_.network.sigma_w2 / n));
    double log_growth = 0.0;
    bool lyapunov_alive = true;
    if (s_.lyapunov) {
      stream(spec_.seed, member, 0, kJacobian).fill(v_.data(), std::size_t(n));
      v_ /= static_cast<Scalar>(v_.norm());
    }
    for (int l = 1; l <= depth; ++l) {
      // u = phi'(h^{l-1}_a) (.) v: the Jacobian J^l = W^l diag(phi'(h^{l-1})) acts on v through W^l.
      if (s_.lyapunov)
        for (int i = 0; i < n; ++i)
          u_[i] = static_cast<Scalar>(spec_.network.activation.dphi(double(h_(i, spec_.input_a)))) * v_[i];
      const int columns = p + (s_.lyapunov ? 1 : 0);
      if (!fast) {
        if (deep)
          weight_stream(spec_.seed, member, std::uint64_t(l))
              .fill(w_.data(), std::size_t(w_.size()), std::sqrt(spec_.network.sigma_w2 / n));
        // One product over the P inputs and the Jacobian vector: W is read once per layer.
        act_.leftCols(p) = phi_;
        if (s_.lyapunov) act_.col(p) = u_;
        next_.leftCols(columns).noalias() = w_ * act_.leftCols(columns);
      } else if (deep) {
        fast_deep_layer(l, columns);
      } else {
        for (int a = 0; a < p; ++a) apply_shared(phi_.col(a), a);
        if (s_.lyapunov) apply_shared(u_, p);
      }
      if (deep || spec_.network.bias_mode == BiasMode::independent) draw_bias(l);
      h_ = next_.leftCols(p);
      h_.colwise() += bias_;
      if (!deep && spec_.network.input_mode == InputMode::every_step) h_ += projections_.leftCols(p);
      if (!deep && spec_.network.input_mode == InputMode::sequence) h_ += projections_.middleCols(Eigen::Index(l) * p, p);
      if (s_.lyapunov) {
        // A dead layer (phi' = 0 on every neuron, e.g. narrow ReLU nets) kills the perturbation: this
        // member has no finite exponent; v stays a unit vector so the kernels are not touched.
        const double growth = double(next_.col(p).norm());
        if (growth > 0 && std::isfinite(growth)) {
          log_growth += std::log(growth);
          v_ = next_.col(p) / static_cast<Scalar>(growth);
        } else {
          lyapunov_alive = false;
        }
      }
      apply_phi();
      record(l, out);
    }

    // Two-time grids of the pair: X^{ts} at t (L + 1) + s; Eigen is column-major, so (t, s) of the
    // product sits at t + s (L + 1): write it transposed.
    const int l1 = depth + 1;
    const Mat aux2 = history_phi_a_.transpose() * history_phi_b_;
    const Mat gram2 = history_h_a_.transpose() * history_h_b_;
    const double aux_scale = spec_.network.sigma_w2 / n, gram_scale = 1.0 / n;
    for (int t = 0; t < l1; ++t)
      for (int s = 0; s < l1; ++s) {
        out[s_.layout.aux_two_time + t * l1 + s] = aux_scale * double(aux2(t, s));
        out[s_.layout.gram_two_time + t * l1 + s] = gram_scale * double(gram2(t, s));
      }
    out[s_.layout.lyapunov] = !s_.lyapunov || depth == 0 ? 0.0 : lyapunov_alive ? log_growth / depth : kNaN;
  }

 private:
  void draw_bias(int index) {
    stream(spec_.seed, member_, std::uint64_t(index), kBias)
        .fill(bias_.data(), std::size_t(bias_.size()), std::sqrt(spec_.network.sigma_b2));
  }

  void apply_phi() { spec_.network.activation.phi_batch(h_.data(), phi_.data(), std::size_t(h_.size())); }

  // Layer l's kernels into the row; the pair's columns into the histories.
  void record(int l, double* out) {
    const int p = s_.p;
    const Layout& layout = s_.layout;
    gram_.noalias() = h_.transpose() * h_;
    aux_.noalias() = phi_.transpose() * phi_;
    const double aux_scale = spec_.network.sigma_w2 / s_.n, gram_scale = 1.0 / s_.n;
    for (int a = 0; a < p; ++a)
      for (int b = 0; b <= a; ++b) {
        const int k = KernelEnsemble::index(a, b);
        out[layout.aux + l * layout.entries + k] = aux_scale * double(aux_(a, b));
        out[layout.gram + l * layout.entries + k] = gram_scale * double(gram_(a, b));
      }
    const int ia = spec_.input_a, ib = spec_.input_b;
    const double gaa = gram_scale * double(gram_(ia, ia)), gbb = gram_scale * double(gram_(ib, ib));
    out[layout.correlation + l] = gram_scale * double(gram_(ia, ib)) / std::sqrt(gaa * gbb);
    history_h_a_.col(l) = h_.col(ia);
    history_h_b_.col(l) = h_.col(ib);
    history_phi_a_.col(l) = phi_.col(ia);
    history_phi_b_.col(l) = phi_.col(ib);
  }

  // docs/theory.md §8.4, deep: given Phi^{l-1} (and the Jacobian vector u), the rows of [W Phi, W u] are iid
  // N(0, sigma_w^2/N A^T A) with A = [Phi, u]; one (P+1) x (P+1) factorisation replaces the N x N W.
  void fast_deep_layer(int l, int columns) {
    const int n = s_.n, p = s_.p;
    Mat a(n, columns);
    a.leftCols(p) = phi_;
    if (columns > p) a.col(p) = u_;
    const Eigen::MatrixXd cov = (a.transpose() * a).template cast<double>() * (spec_.network.sigma_w2 / n);
    const Mat root_t = psd_sqrt(cov).transpose().cast<Scalar>();
    Mat z(n, columns);
    stream(spec_.seed, member_, std::uint64_t(l), kFastLayer).fill(z.data(), std::size_t(z.size()));
    next_.leftCols(columns).noalias() = z * root_t;
  }

  // docs/theory.md §8.4, recurrent: W x for the shared W, knowing W only on the span of the vectors seen so far
  // (orthonormal basis Q, images Y = W Q). The part of x outside the span gets a fresh image, which is
  // exact in distribution because W q for orthonormal q are iid N(0, sigma_w^2/N I). Gram-Schmidt is
  // applied twice ("twice is enough", Giraud et al. 2005) so that Q stays orthonormal to rounding.
  template <class In>
  void apply_shared(const In& x, int column) {
    const int k = basis_size_;
    auto q = basis_.leftCols(k);
    auto y = images_.leftCols(k);
    Vec r = x;
    auto c = coeff_.head(k);
    auto c2 = coeff2_.head(k);
    c.noalias() = q.transpose() * r;
    r.noalias() -= q * c;
    c2.noalias() = q.transpose() * r;
    r.noalias() -= q * c2;
    c += c2;
    auto out = next_.col(column);
    out.noalias() = y * c;
    const double rho = double(r.norm()), size = double(x.norm());
    constexpr double kDrop = std::is_same_v<Scalar, float> ? 1e-5 : 1e-12;  // in the span up to rounding
    if (k < basis_.cols() && rho > kDrop * size && rho > 0) {
      basis_.col(k) = r / static_cast<Scalar>(rho);
      stream(spec_.seed, member_, std::uint64_t(k), kFastDirection)
          .fill(images_.col(k).data(), std::size_t(s_.n), std::sqrt(spec_.network.sigma_w2 / s_.n));
      out += static_cast<Scalar>(rho) * images_.col(k);
      ++basis_size_;
    }
  }

  const Setup& s_;
  const EnsembleSpec& spec_;
  std::uint64_t member_ = 0;
  Mat h_, phi_, next_, act_, projections_, w_, u_weights_, x_columns_, input_root_t_, basis_, images_;
  Mat history_h_a_, history_h_b_, history_phi_a_, history_phi_b_, gram_, aux_;
  Vec bias_, v_, u_, coeff_, coeff2_;
  int basis_size_ = 0;
};

// --- 5. Accumulators --------------------------------------------------------------------------------------
// Power sums of d = x - shift with the shift at the mean-field value: members scatter O(1/sqrt N) around
// it, so the sums cancel nothing, and E d^2 is directly the mean squared distance to the mean field.
struct Accumulator {
  std::vector<double> shift, s1, s2, s3, s4;
  std::vector<long long> counts;           // members that gave a finite value, per observable
  std::vector<std::pair<int, int>> pairs;  // covariance pairs (observable indices)
  std::vector<double> sxy, sx2y, sxy2, sx2y2;
  int groups = 1, first_grouped = 0, grouped = 0;  // jackknife: per-group sums of observables [first, first + grouped)
  std::vector<double> group_s1;
  std::vector<long long> group_n;  // finite values per group and observable
  long long n = 0;

  void init(std::vector<double> shift_values) {
    shift = std::move(shift_values);
    const std::size_t k = shift.size();
    s1.assign(k, 0.0);
    s2.assign(k, 0.0);
    s3.assign(k, 0.0);
    s4.assign(k, 0.0);
    counts.assign(k, 0);
    sxy.assign(pairs.size(), 0.0);
    sx2y.assign(pairs.size(), 0.0);
    sxy2.assign(pairs.size(), 0.0);
    sx2y2.assign(pairs.size(), 0.0);
    group_s1.assign(std::size_t(groups) * grouped, 0.0);
    group_n.assign(std::size_t(groups) * grouped, 0);
  }

  // Non-finite values (the correlation or the Lyapunov estimate of a network whose layer died, e.g. a
  // narrow ReLU net with every h <= 0) are left out of that observable only.
  void add(const double* x, int group) {
    const std::size_t k = shift.size();
    for (std::size_t i = 0; i < k; ++i) {
      if (!std::isfinite(x[i])) continue;
      ++counts[i];
      const double d = x[i] - shift[i], d2 = d * d;
      s1[i] += d;
      s2[i] += d2;
      s3[i] += d2 * d;
      s4[i] += d2 * d2;
    }
    for (std::size_t j = 0; j < pairs.size(); ++j) {
      const double dx = x[pairs[j].first] - shift[pairs[j].first], dy = x[pairs[j].second] - shift[pairs[j].second];
      sxy[j] += dx * dy;
      sx2y[j] += dx * dx * dy;
      sxy2[j] += dx * dy * dy;
      sx2y2[j] += dx * dx * dy * dy;
    }
    for (int i = 0; i < grouped; ++i)
      if (std::isfinite(x[first_grouped + i])) {
        group_s1[std::size_t(group) * grouped + i] += x[first_grouped + i] - shift[first_grouped + i];
        ++group_n[std::size_t(group) * grouped + i];
      }
    ++n;
  }

  // docs/theory.md §8.5: SEM, SE(var) = sqrt((m4 - v^2 (S-3)/(S-1)) / S), and the SE of the mean of d^2.
  EnsembleStat stat(std::size_t i, double mean_field) const {
    EnsembleStat st;
    st.mean_field = mean_field;
    if (counts[i] < 2) return st;
    const double m = double(counts[i]), mu = s1[i] / m;
    st.mean = shift[i] + mu;
    st.variance = std::max(0.0, (s2[i] - s1[i] * mu) / (m - 1));
    st.mean_se = std::sqrt(st.variance / m);
    const double m4 = s4[i] / m - 4 * mu * s3[i] / m + 6 * mu * mu * s2[i] / m - 3 * mu * mu * mu * mu;
    st.variance_se = std::sqrt(std::max(0.0, (m4 - st.variance * st.variance * (m - 3) / (m - 1)) / m));
    if (std::isfinite(mean_field)) {
      st.mse = s2[i] / m;
      st.mse_se = std::sqrt(std::max(0.0, (s4[i] / m - st.mse * st.mse) / (m - 1)));
    }
    return st;
  }

  // Cov(x, y) and its SE from the central mixed moment m22 = E[(x - mx)^2 (y - my)^2].
  std::pair<double, double> covariance(std::size_t j) const {
    if (n < 2) return {kNaN, kNaN};
    const auto [ix, iy] = pairs[j];
    const double m = double(n), mx = s1[ix] / m, my = s1[iy] / m;
    const double cov = (sxy[j] - s1[ix] * my) / (m - 1);
    const double m22 = sx2y2[j] / m - 2 * my * sx2y[j] / m - 2 * mx * sxy2[j] / m + my * my * s2[ix] / m + mx * mx * s2[iy] / m +
                       4 * mx * my * sxy[j] / m - 3 * mx * mx * my * my;
    return {cov, std::sqrt(std::max(0.0, m22 - cov * cov) / m)};
  }
};

// --- 6. Mean-field references -----------------------------------------------------------------------------

struct MeanField {
  Status status;
  std::vector<double> values;  // per observable; NaN where unavailable
  double lyapunov_fixed_point = kNaN;
  double c_star = kNaN, xi_c = kNaN;
};

// sigma_w^2 E[phi(u_a) phi(u_b)] over the kernel k: the aux field's mean (for the deep net this is
// K^{l+1} - sigma_b^2, computed by the same code as the kernel recursion).
Eigen::MatrixXd aux_mean_field(const EnsembleSpec& spec, const Eigen::MatrixXd& k) {
  const int p = static_cast<int>(k.rows());
  PairIntegrator integrator(spec.network.activation, PairFunction::phi);
  std::vector<double> q(p);
  for (int a = 0; a < p; ++a) q[a] = k(a, a);
  integrator.set_variances(q);
  Eigen::MatrixXd out(p, p);
  propagate_rows(k, integrator, spec.network.sigma_w2, 0.0, nullptr, 0, p, out);
  symmetrize_from_lower(out);
  return out;
}

MeanField mean_field(const EnsembleSpec& spec, const InputSet& inputs, const Layout& layout) {
  MeanField mf;
  mf.values.assign(std::size_t(layout.count), kNaN);
  const int depth = spec.network.depth, l1 = depth + 1, p = inputs.count, ia = spec.input_a, ib = spec.input_b;
  // Equal-time kernels K^l and the pair's two-time kernel K^{ts}_ab (0 across layers of the deep net).
  std::vector<Eigen::MatrixXd> equal;
  Eigen::MatrixXd two_time = Eigen::MatrixXd::Constant(l1, l1, kNaN);
  if (spec.network.arch == Architecture::deep) {
    DeepKernelSpec ds;
    ds.network = spec.network;
    ds.memory_budget_bytes = spec.memory_budget_bytes;
    DeepKernelResult r = deep_kernel(ds, inputs.gram());
    mf.status = r.status;
    equal = std::move(r.kernel);
    for (int t = 0; t < int(equal.size()); ++t)
      for (int s = 0; s < int(equal.size()); ++s) two_time(t, s) = t == s ? equal[t](ia, ib) : 0.0;
  } else {
    RecurrentKernelSpec rs;
    rs.network = spec.network;
    rs.memory_budget_bytes = spec.memory_budget_bytes;
    const RecurrentKernelResult r = recurrent_kernel(rs, inputs);
    mf.status = r.status;
    if (r.status.ok()) {
      for (int t = 0; t < l1; ++t) equal.push_back(r.block(t, t));
      for (int t = 0; t < l1; ++t)
        for (int s = 0; s < l1; ++s) two_time(t, s) = r.at(t, s, ia, ib);
    }
  }
  const int known = static_cast<int>(equal.size());
  std::vector<Eigen::MatrixXd> aux(static_cast<std::size_t>(known));
  for (int l = 0; l < known; ++l) {
    aux[l] = aux_mean_field(spec, equal[l]);
    for (int a = 0; a < p; ++a)
      for (int b = 0; b <= a; ++b) {
        const int k = KernelEnsemble::index(a, b);
        mf.values[std::size_t(layout.aux + l * layout.entries + k)] = aux[l](a, b);
        mf.values[std::size_t(layout.gram + l * layout.entries + k)] = equal[l](a, b);
      }
    mf.values[std::size_t(layout.correlation + l)] = equal[l](ia, ib) / std::sqrt(equal[l](ia, ia) * equal[l](ib, ib));
  }
  for (int t = 0; t < known; ++t)
    for (int s = 0; s < known; ++s) {
      mf.values[std::size_t(layout.gram_two_time + t * l1 + s)] = two_time(t, s);
      double c;
      if (t == s) {
        c = aux[t](ia, ib);
      } else if (spec.network.arch == Architecture::deep) {  // independent layers: E[phi] E[phi]
        c = spec.network.sigma_w2 * mean_phi(spec.network.activation, equal[t](ia, ia)) *
            mean_phi(spec.network.activation, equal[s](ib, ib));
      } else {
        c = spec.network.sigma_w2 * pair_expectation(spec.network.activation, equal[t](ia, ia), equal[s](ib, ib), two_time(t, s));
      }
      mf.values[std::size_t(layout.aux_two_time + t * l1 + s)] = c;
    }
  // Lyapunov: the layer average of (1/2) ln chi_1(q^{l-1}) over l = 1..L for input a (docs/theory.md §3).
  if (known == l1 && depth > 0 && spec.network.activation.has_derivative()) {
    double sum = 0.0;
    for (int l = 1; l <= depth; ++l)
      sum += 0.5 * std::log(spec.network.sigma_w2 * mean_dphi_sq(spec.network.activation, equal[l - 1](ia, ia)));
    mf.values[std::size_t(layout.lyapunov)] = sum / depth;
  }
  const FixedPoint fp = fixed_point(spec.network);
  if (fp.status.ok() || fp.phase != Phase::diverged) {
    mf.lyapunov_fixed_point = fp.lambda_max;
    mf.c_star = fp.c_star;
    mf.xi_c = fp.xi_c;
  }
  return mf;
}

// --- 7. The correlation-length fit ------------------------------------------------------------------------

// Weighted least squares of y = alpha - l / xi; returns xi (NaN if the slope is not negative).
double fit_xi(const std::vector<int>& layers, const std::vector<double>& y, const std::vector<double>& w) {
  double sw = 0, sl = 0, sy = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) sw += w[i], sl += w[i] * layers[i], sy += w[i] * y[i];
  const double lbar = sl / sw, ybar = sy / sw;
  double sll = 0, sly = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    sll += w[i] * (layers[i] - lbar) * (layers[i] - lbar);
    sly += w[i] * (layers[i] - lbar) * (y[i] - ybar);
  }
  const double slope = sly / sll;
  return slope < 0 ? -1.0 / slope : kNaN;
}

CorrelationLengthFit correlation_length_fit(const EnsembleSpec& spec, const EnsembleResult& r, const Accumulator& acc,
                                            const MeanField& mf) {
  CorrelationLengthFit fit;
  fit.xi_mean_field = mf.xi_c;
  fit.c_star = mf.c_star;
  const int depth = spec.network.depth;
  if (spec.input_a == spec.input_b) {
    fit.status = Status::error(StatusCode::not_defined, "xi_c needs two different inputs a and b.");
    return fit;
  }
  if (spec.network.arch == Architecture::recurrent && spec.network.input_mode != InputMode::first_step) {
    fit.status = Status::error(StatusCode::not_defined,
                               "xi_c is fitted only with input at t = 0 (inputs at later steps move the fixed point).");
    return fit;
  }
  if (!std::isfinite(mf.c_star) || depth < 3 || r.correlation.size() != std::size_t(depth + 1)) {
    fit.status = Status::error(StatusCode::not_defined, "xi_c needs a finite mean-field fixed point and at least 3 layers.");
    return fit;
  }
  // Window: the last two thirds of the layers (the first ones carry the transient from the inputs),
  // keeping layers where the ensemble mean is more than 4 standard errors away from c*.
  std::vector<int> layers;
  std::vector<double> y, w, y_mf;
  fit.first_layer = std::max(1, (depth + 1) / 3);
  fit.last_layer = depth;
  for (int l = fit.first_layer; l <= depth; ++l) {
    const EnsembleStat& c = r.correlation[std::size_t(l)];
    const double gap = std::fabs(c.mean - mf.c_star), gap_mf = std::fabs(c.mean_field - mf.c_star);
    if (!(c.mean_se > 0) || !(gap > 4 * c.mean_se) || !(gap_mf > 0)) continue;
    layers.push_back(l);
    y.push_back(std::log(gap));
    y_mf.push_back(std::log(gap_mf));
    w.push_back(gap * gap / (c.mean_se * c.mean_se));  // delta method: Var(ln gap) = se^2 / gap^2
  }
  fit.points = static_cast<int>(layers.size());
  if (fit.points < 3) {
    fit.status = Status::error(StatusCode::not_defined,
                               "Too few layers (" + std::to_string(fit.points) +
                                   ") carry a correlation signal above the noise to fit xi_c: use more layers or members.");
    return fit;
  }
  fit.xi = fit_xi(layers, y, w);
  fit.xi_mean_field_fit = fit_xi(layers, y_mf, w);
  // Delete-one-group jackknife (the layers of one member are correlated, so plain regression errors
  // would be too small).
  const int groups = acc.groups;
  std::vector<double> replicates;
  for (int g = 0; g < groups; ++g) {
    std::vector<double> yg;
    bool enough = true;
    for (int l : layers) {
      const std::size_t i = std::size_t(l);
      double total = 0;
      for (int h = 0; h < groups; ++h) total += acc.group_s1[std::size_t(h) * acc.grouped + i];
      const double rest = total - acc.group_s1[std::size_t(g) * acc.grouped + i];
      const double n_rest =
          double(acc.counts[std::size_t(acc.first_grouped) + i] - acc.group_n[std::size_t(g) * acc.grouped + i]);
      enough = enough && n_rest >= 2;
      const double mean = acc.shift[std::size_t(acc.first_grouped) + i] + rest / n_rest;
      yg.push_back(std::log(std::max(std::fabs(mean - mf.c_star), 1e-300)));
    }
    if (enough) replicates.push_back(fit_xi(layers, yg, w));
  }
  double mean = 0, count = 0;
  for (double x : replicates)
    if (std::isfinite(x)) mean += x, count += 1;
  if (count >= 2 && count == double(replicates.size())) {
    mean /= count;
    double ss = 0;
    for (double x : replicates) ss += (x - mean) * (x - mean);
    fit.xi_se = std::sqrt((count - 1) / count * ss);
  }
  if (!std::isfinite(fit.xi))
    fit.status = Status::error(StatusCode::not_defined, "The correlation does not decay towards c* in the fitted window.");
  return fit;
}

}  // namespace

// --- 8. EnsembleJob ---------------------------------------------------------------------------------------

struct EnsembleJob::State {
  Setup setup;
  MeanField mean_field;
  Accumulator acc;
  bool mean_field_done = false;
  int next_member = 0;
  int batch = 1;
  std::vector<double> rows;  // batch x layout.count
};

EnsembleJob::~EnsembleJob() = default;

EnsembleJob::EnsembleJob(const EnsembleSpec& spec, const InputSet& inputs) : spec_(spec), inputs_(inputs) {
  result_.members = spec.members;
  result_.width = spec.width;
  result_.inputs = inputs.count;
  result_.depth = spec.network.depth;
  result_.input_a = spec.input_a;
  result_.input_b = spec.input_b;
  if (Status s = check_spec(spec, inputs); !s.ok()) {
    result_.status = s;
    done_ = true;
    return;
  }
  const int p = inputs.count, steps = used_input_steps(spec, inputs.steps());
  result_.memory_bytes = ensemble_bytes(spec, p, inputs.dim, steps, thread_count());
  if (result_.memory_bytes > double(spec.memory_budget_bytes)) {
    result_.status = Status::error(StatusCode::too_large,
                                   "The ensemble needs about " + short_number(result_.memory_bytes / 1048576.0) +
                                       " MiB (N = " + std::to_string(spec.width) + ", P = " + std::to_string(p) +
                                       ", L = " + std::to_string(spec.network.depth) + ", " + std::to_string(thread_count()) +
                                       " threads), over the budget of " + short_number(spec.memory_budget_bytes / 1048576.0) +
                                       " MiB: use a smaller width, fewer inputs or layers, the fast sampler, or float32.");
    done_ = true;
    return;
  }
  state_ = std::make_unique<State>();
  Setup& s = state_->setup;
  s.spec = spec;
  s.layout = Layout(p, spec.network.depth);
  s.n = spec.width;
  s.p = p;
  s.d = inputs.dim;
  s.steps = steps;
  s.lyapunov = spec.network.depth > 0 && spec.network.activation.has_derivative();
  s.x_columns.resize(inputs.dim, Eigen::Index(steps) * p);
  for (int t = 0; t < steps; ++t) s.x_columns.middleCols(Eigen::Index(t) * p, p) = inputs.x[std::size_t(t)].transpose();
  if (spec.sampler == EnsembleSampler::fast) {
    // Rows of U x^t_a are iid N(0, sigma_in^2 G^{ts}_ab) across neurons (docs/theory.md §1: U ~ N(0, sigma_in^2/d)).
    const Eigen::MatrixXd g = s.x_columns.transpose() * s.x_columns / double(inputs.dim);
    s.input_root = psd_sqrt(spec.network.input_variance() * g);
  }
  if (!s.lyapunov)
    result_.lyapunov_status = Status::error(
        StatusCode::not_defined, spec.network.depth == 0 ? "The Lyapunov exponent needs at least one layer."
                                                         : "The Lyapunov exponent of " + spec.network.activation.name() +
                                                               " is not defined: its derivative is a delta function.");

  // Accumulator layout: covariances within each layer (small P), jackknife groups over the correlation.
  const Layout& layout = s.layout;
  Accumulator& acc = state_->acc;
  if (p <= spec.covariance_max_inputs)
    for (int base : {layout.aux, layout.gram})
      for (int l = 0; l < layout.layers; ++l)
        for (int i = 0; i < layout.entries; ++i)
          for (int j = i + 1; j < layout.entries; ++j)
            acc.pairs.emplace_back(base + l * layout.entries + i, base + l * layout.entries + j);
  acc.groups = std::min(spec.jackknife_groups, spec.members);
  acc.first_grouped = layout.correlation;
  acc.grouped = layout.layers;
  result_.histograms.assign(EnsembleResult::histogram_names().size(), {});
}

namespace {

// Fills the result's statistics from the accumulators (also for partial results).
void finish_statistics(const EnsembleSpec& spec, const Layout& layout, const Accumulator& acc, const MeanField& mf,
                       EnsembleResult& r) {
  auto stat = [&](int i) { return acc.stat(std::size_t(i), mf.values[std::size_t(i)]); };
  r.aux.assign(std::size_t(layout.layers), {});
  r.gram.assign(std::size_t(layout.layers), {});
  const bool with_covariance = layout.inputs <= spec.covariance_max_inputs;
  std::size_t pair = 0;
  for (int kind = 0; kind < 2; ++kind) {
    std::vector<KernelEnsemble>& kernels = kind == 0 ? r.aux : r.gram;
    const int base = kind == 0 ? layout.aux : layout.gram;
    for (int l = 0; l < layout.layers; ++l) {
      KernelEnsemble& k = kernels[std::size_t(l)];
      k.inputs = layout.inputs;
      for (int i = 0; i < layout.entries; ++i) k.entries.push_back(stat(base + l * layout.entries + i));
      if (!with_covariance) continue;
      k.covariance.resize(layout.entries, layout.entries);
      k.covariance_se.resize(layout.entries, layout.entries);
      for (int i = 0; i < layout.entries; ++i) {
        k.covariance(i, i) = k.entries[std::size_t(i)].variance;
        k.covariance_se(i, i) = k.entries[std::size_t(i)].variance_se;
      }
    }
  }
  // Pairs were laid out kind by kind, layer by layer, i < j.
  if (with_covariance)
    for (int kind = 0; kind < 2; ++kind)
      for (int l = 0; l < layout.layers; ++l)
        for (int i = 0; i < layout.entries; ++i)
          for (int j = i + 1; j < layout.entries; ++j, ++pair) {
            KernelEnsemble& k = (kind == 0 ? r.aux : r.gram)[std::size_t(l)];
            const auto [cov, se] = acc.covariance(pair);
            k.covariance(i, j) = k.covariance(j, i) = cov;
            k.covariance_se(i, j) = k.covariance_se(j, i) = se;
          }
  const int grid = layout.layers * layout.layers;
  r.aux_two_time.clear();
  r.gram_two_time.clear();
  for (int i = 0; i < grid; ++i) {
    r.aux_two_time.push_back(stat(layout.aux_two_time + i));
    r.gram_two_time.push_back(stat(layout.gram_two_time + i));
  }
  r.correlation.clear();
  for (int l = 0; l < layout.layers; ++l) r.correlation.push_back(stat(layout.correlation + l));
  r.lyapunov = r.lyapunov_status.ok() ? stat(layout.lyapunov) : EnsembleStat{};
  r.lyapunov_fixed_point = mf.lyapunov_fixed_point;
  r.correlation_length = correlation_length_fit(spec, r, acc, mf);
}

}  // namespace

bool EnsembleJob::step(double budget_seconds) {
  if (done_) return true;
  State& st = *state_;
  const Layout& layout = st.setup.layout;
  if (!st.mean_field_done) {
    st.mean_field = mean_field(spec_, inputs_, layout);
    result_.mean_field_status = st.mean_field.status;
    std::vector<double> shift = st.mean_field.values;
    for (double& v : shift)
      if (!std::isfinite(v)) v = 0.0;
    st.acc.init(std::move(shift));
    st.mean_field_done = true;
    st.batch = thread_count();
    return false;
  }
  const auto start = std::chrono::steady_clock::now();
  while (st.next_member < spec_.members) {
    if (cancelled()) {
      result_.status = Status::error(StatusCode::cancelled, "Cancelled after " + std::to_string(result_.members_done) + " of " +
                                                                std::to_string(spec_.members) + " networks.");
      break;
    }
    const int begin = st.next_member, count = std::min(st.batch, spec_.members - begin);
    st.rows.resize(std::size_t(count) * layout.count);
    const auto batch_start = std::chrono::steady_clock::now();
    // Each member writes only its own row; the rows are reduced below in member order, so the numbers
    // do not depend on the thread count or on the batch size.
    const int grain = std::max(1, count / (4 * thread_count()));
    parallel_for(
        count,
        [&](int b0, int b1) {
          if (spec_.precision == EnsemblePrecision::float32) {
            SimulatedNetwork<float> net(st.setup);
            for (int b = b0; b < b1; ++b) net.run(std::uint64_t(begin + b), st.rows.data() + std::size_t(b) * layout.count);
          } else {
            SimulatedNetwork<double> net(st.setup);
            for (int b = b0; b < b1; ++b) net.run(std::uint64_t(begin + b), st.rows.data() + std::size_t(b) * layout.count);
          }
        },
        grain);
    for (int b = 0; b < count; ++b) {
      const double* row = st.rows.data() + std::size_t(b) * layout.count;
      const long long member = begin + b;
      bool finite = true;  // kernel entries overflow only when the whole network does
      for (int i = 0; i < layout.correlation && finite; ++i) finite = std::isfinite(row[i]);
      if (!finite) {
        ++result_.non_finite_members;
        continue;
      }
      const int group = static_cast<int>(member * st.acc.groups / spec_.members);
      st.acc.add(row, group);
      if (member < spec_.histogram_members) {
        const int a = spec_.input_a, bb = spec_.input_b, last = layout.layers - 1;
        const double values[] = {row[layout.aux + last * layout.entries + KernelEnsemble::index(a, a)],
                                 row[layout.aux + last * layout.entries + KernelEnsemble::index(a, bb)],
                                 row[layout.gram + last * layout.entries + KernelEnsemble::index(a, a)],
                                 row[layout.gram + last * layout.entries + KernelEnsemble::index(a, bb)],
                                 row[layout.correlation + last],
                                 row[layout.lyapunov]};
        for (std::size_t h = 0; h < result_.histograms.size(); ++h) result_.histograms[h].push_back(values[h]);
      }
    }
    st.next_member += count;
    result_.members_done = st.next_member;
    // Batches of about a tenth of the budget (at least one member per thread): the batch size changes
    // only how often the loop checks the clock, never the numbers.
    const double batch_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_start).count();
    const double per_member = batch_seconds / count;
    const int threads = thread_count();
    const double wanted = per_member > 0 ? 0.1 * budget_seconds / per_member : 4.0 * st.batch;
    st.batch = static_cast<int>(std::clamp(wanted, double(threads), double(batch_cap(layout.count, threads))));
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= budget_seconds) break;
  }
  finish_statistics(spec_, layout, st.acc, st.mean_field, result_);
  if (result_.non_finite_members > 0 && result_.status.ok())
    result_.status = Status::error(StatusCode::numerical, std::to_string(result_.non_finite_members) + " of " +
                                                              std::to_string(result_.members_done) + " networks overflowed (" +
                                                              ensemble_precision_name(spec_.precision) +
                                                              ") and were left out of the statistics.");
  if (st.next_member >= spec_.members || result_.status.code == StatusCode::cancelled) done_ = true;
  return done_;
}

double EnsembleJob::progress() const {
  if (done_) return 1.0;
  if (!state_ || !state_->mean_field_done) return 0.0;
  return 0.02 + 0.98 * double(state_->next_member) / double(spec_.members);
}

EnsembleResult run_ensemble(const EnsembleSpec& spec, const InputSet& inputs) {
  EnsembleJob job(spec, inputs);
  job.run();
  return job.take_result();
}

}  // namespace fs
