#include "core/gaussian_table.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include "core/random.h"  // portable_cos_sin_turns: the same nodes natively and in wasm

namespace fs {

namespace {

constexpr int kN = GaussianTable::kDegree;
constexpr int kMaxSplitDepth = 40;       // a piece is never narrower than 2^-40 of its octave
constexpr int kMaxPiecesPerOctave = 16;  // beyond this, pieces are kept with their error recorded

// cos(pi j / n) for j = 0..n (the Lobatto nodes on [-1, 1], from 1 down to -1) and
// cos(pi (j + 1/2) / n) for j = 0..n-1 (the checks, halfway in angle between the nodes).
struct ChebyshevPoints {
  std::array<double, kN + 1> nodes{};
  std::array<double, kN> checks{};
  ChebyshevPoints() {
    for (int j = 0; j <= kN; ++j) nodes[j] = random::portable_cos_sin_turns(j / (2.0 * kN)).first;
    nodes[kN / 2] = 0;  // exactly (the series gives 6e-17)
    for (int j = 0; j < kN; ++j) checks[j] = random::portable_cos_sin_turns((j + 0.5) / (2.0 * kN)).first;
  }
};
const ChebyshevPoints& points() {
  static const ChebyshevPoints p;
  return p;
}

double at(double lo, double hi, double unit) { return 0.5 * (lo + hi) + 0.5 * (hi - lo) * unit; }

// Octave k: [0, 2^-10] for k = 0, [2^(k-11), 2^(k-10)] for k = 1..26.
double octave_lo(int k) { return k == 0 ? 0.0 : std::ldexp(1.0, k - 11); }
double octave_hi(int k) { return std::ldexp(1.0, k - 10); }

}  // namespace

GaussianTable::GaussianTable(std::function<double(double)> reference, double rel_tol, double abs_floor)
    : GaussianTable(
          [f = std::move(reference)](const std::vector<double>& q) {
            Rows rows{1, std::vector<double>(q.size())};
            for (std::size_t i = 0; i < q.size(); ++i) rows.values[i] = f(q[i]);
            return rows;
          },
          rel_tol, abs_floor) {}

GaussianTable::GaussianTable(RowReference reference, double rel_tol, double abs_floor)
    : reference_(std::move(reference)), rel_tol_(rel_tol), abs_floor_(abs_floor), octaves_(new Octave[kOctaves + 1]) {}

GaussianTable::~GaussianTable() = default;

void GaussianTable::interpolate(const Piece& piece, double q, double* out) {
  // Barycentric formula of the second kind with Lobatto weights (-1)^j, halved at both ends.
  const ChebyshevPoints& p = points();
  const int width = piece.width;
  std::array<double, kN + 1> w{};
  double den = 0;
  for (int j = 0; j <= kN; ++j) {
    const double d = q - at(piece.lo, piece.hi, p.nodes[j]);
    if (d == 0) {
      std::copy_n(piece.values.begin() + j * width, width, out);
      return;
    }
    w[j] = (j % 2 == 0 ? 1.0 : -1.0) / d;
    if (j == 0 || j == kN) w[j] *= 0.5;
    den += w[j];
  }
  if (width == 1) {  // one function: the loop the phase diagram's root finders call most
    double num = 0;
    for (int j = 0; j <= kN; ++j) num += w[j] * piece.values[j];
    *out = num / den;
    return;
  }
  // Node by node over the whole row (contiguous, vectorised); each entry still sums its nodes in order.
  std::fill_n(out, width, 0.0);
  for (int j = 0; j <= kN; ++j) {
    const double* row = piece.values.data() + j * width;
    for (int k = 0; k < width; ++k) out[k] += w[j] * row[k];
  }
  for (int k = 0; k < width; ++k) out[k] /= den;
}

void GaussianTable::build(int index) const {
  Octave& o = octaves_[index];
  const ChebyshevPoints& p = points();
  double worst = 0;
  // Depth-first over [lo, hi]: interpolate, check, split while the checks miss.
  struct Span {
    double lo, hi;
    int depth;
  };
  std::vector<Span> todo = {{octave_lo(index), octave_hi(index), 0}};
  while (!todo.empty()) {
    const Span s = todo.back();
    todo.pop_back();
    // The nodes and the checks in one call: the rows of a piece share their width.
    std::vector<double> q(2 * kN + 1);
    for (int j = 0; j <= kN; ++j) q[j] = at(s.lo, s.hi, p.nodes[j]);
    for (int j = 0; j < kN; ++j) q[kN + 1 + j] = at(s.lo, s.hi, p.checks[j]);
    Rows rows = reference_(q);
    Piece piece;
    piece.lo = s.lo, piece.hi = s.hi;
    piece.width = rows.width;
    piece.values.assign(rows.values.begin(), rows.values.begin() + (kN + 1) * rows.width);
    double error = 0;
    std::vector<double> table(rows.width);
    for (int j = 0; j < kN; ++j) {
      interpolate(piece, q[kN + 1 + j], table.data());
      const double* exact = rows.values.data() + (kN + 1 + j) * rows.width;
      double diff = 0, norm = 0;
      for (int k = 0; k < rows.width; ++k) {
        diff += (table[k] - exact[k]) * (table[k] - exact[k]);
        norm += exact[k] * exact[k];
      }
      const double e = std::sqrt(diff) / std::max(std::sqrt(norm), abs_floor_);
      error = std::isnan(e) ? std::numeric_limits<double>::infinity() : std::max(error, e);
    }
    const bool can_split = s.depth < kMaxSplitDepth && static_cast<int>(o.pieces.size() + todo.size()) + 2 <= kMaxPiecesPerOctave;
    if (error > rel_tol_ && can_split) {
      const double mid = 0.5 * (s.lo + s.hi);
      todo.push_back({mid, s.hi, s.depth + 1});  // the lower half is taken first: pieces come out sorted
      todo.push_back({s.lo, mid, s.depth + 1});
      continue;
    }
    worst = std::max(worst, error);
    o.pieces.push_back(piece);
  }
  std::lock_guard<std::mutex> lock(stats_mutex_);
  max_error_ = std::max(max_error_, worst);
  pieces_built_ += static_cast<int>(o.pieces.size());
}

const GaussianTable::Octave& GaussianTable::octave(int index) const {
  Octave& o = octaves_[index];
  std::call_once(o.built, [&] { build(index); });
  return o;
}

const GaussianTable::Piece* GaussianTable::piece_for(double q) const {
  if (!(q >= 0) || !(q < kLargestEdge)) return nullptr;
  int index = 0;
  if (q >= kSmallestEdge) {
    int e = 0;
    std::frexp(q, &e);  // q in [2^(e-1), 2^e)
    index = e + 10;
  }
  const Octave& o = octave(index);
  // The piece whose [lo, hi] holds q (usually the only one).
  auto it = std::upper_bound(o.pieces.begin(), o.pieces.end(), q, [](double x, const Piece& p) { return x < p.hi; });
  if (it == o.pieces.end()) --it;
  return &*it;
}

double GaussianTable::operator()(double q) const {
  const Piece* piece = piece_for(q);
  if (!piece || piece->width != 1) {
    std::vector<double> row;
    (*this)(q, row);
    return row.empty() ? 0.0 : row[0];
  }
  double value = 0;
  interpolate(*piece, q, &value);
  return value;
}

void GaussianTable::operator()(double q, std::vector<double>& row) const {
  const Piece* piece = piece_for(q);
  if (!piece) {
    row = reference_({q}).values;
    return;
  }
  row.resize(piece->width);
  interpolate(*piece, q, row.data());
}

double GaussianTable::max_error() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return max_error_;
}

int GaussianTable::pieces_built() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return pieces_built_;
}

}  // namespace fs
