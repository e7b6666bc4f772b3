// A one-variable function of the variance q (typically a Gaussian mean E[f(sqrt(q) z)]) tabulated
// once and then evaluated in tens of nanoseconds instead of a quadrature's microseconds: the fast path
// of the phase diagram, which evaluates the same few means at every cell (docs/theory.md §3).
//
// The table is piecewise polynomial interpolation at Chebyshev-Lobatto points (barycentric form,
// Berrut & Trefethen 2004) on the pieces [0, 2^-10], [2^-10, 2^-9], ..., [2^15, 2^16]: the means are
// analytic in q for the smooth activations, so a few nodes per octave reach rounding level. Error
// control: after interpolating a piece, the reference is evaluated at the points halfway (in angle)
// between the nodes, where the interpolation error peaks; a piece that misses the tolerance there is
// split in two (at most 16 pieces an octave, none narrower than 2^-40 of it), and max_error() reports
// what still misses: where the reference itself is noisier than the tolerance (quadratures at huge q)
// the table cannot be more accurate than it.
// A piece is built the first time a q in it is asked for (cells only touch the octaves their fixed
// points lie in); building is thread-safe, and the table's values do not depend on which thread
// built it. Outside [0, 2^16] the reference is called directly: beyond, the quadratures' own rounding
// noise exceeds the tolerance, and checking a table there would cost seconds.
//
// A table can also hold a vector of functions of q that are computed together (the Hermite
// coefficients b_0(q) .. b_{m-1}(q) of an activation): the reference then takes all the points of a
// piece at once and returns a row of the same width for each (the width may differ between pieces),
// the interpolation shares its barycentric weights across the row, and the error checked is the
// Euclidean norm of the row's difference relative to the row's norm.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace fs {

class GaussianTable {
 public:
  static constexpr int kOctaves = 26;  // [2^-10, 2^16], plus the piece [0, 2^-10]
  static constexpr double kSmallestEdge = 0x1p-10;
  static constexpr double kLargestEdge = 0x1p16;
  static constexpr int kDegree = 16;  // nodes per piece: kDegree + 1

  // `reference(q)` is the exact function (thread-safe); `rel_tol` bounds |table - reference| relative
  // to |reference| (with `abs_floor` below which differences count as absolute).
  GaussianTable(std::function<double(double)> reference, double rel_tol = 1e-13, double abs_floor = 1e-300);

  // Rows of functions: `reference(q)` returns, for every point of q, a row of `width` values
  // (row-major in `values`), the same width for all the points of one call.
  struct Rows {
    int width = 0;
    std::vector<double> values;
  };
  using RowReference = std::function<Rows(const std::vector<double>& q)>;
  GaussianTable(RowReference reference, double rel_tol, double abs_floor);
  ~GaussianTable();

  double operator()(double q) const;                          // a one-function table
  void operator()(double q, std::vector<double>& row) const;  // any table: the row at q
  // The largest relative error found by the checks of the pieces built so far (0 when all met the
  // tolerance exactly at the checks), and the number of pieces built.
  double max_error() const;
  int pieces_built() const;

 private:
  struct Piece {
    double lo = 0, hi = 0;
    int width = 0;
    std::vector<double> values;  // (kDegree + 1) rows of `width`
  };
  struct Octave {
    std::once_flag built;
    std::vector<Piece> pieces;  // sorted, covering the octave
  };
  const Octave& octave(int index) const;
  const Piece* piece_for(double q) const;  // nullptr outside [0, 2^16)
  void build(int index) const;
  // The row at q into out[0 .. width).
  static void interpolate(const Piece& piece, double q, double* out);

  RowReference reference_;
  double rel_tol_, abs_floor_;
  mutable std::unique_ptr<Octave[]> octaves_;
  mutable std::mutex stats_mutex_;
  mutable double max_error_ = 0;
  mutable int pieces_built_ = 0;
};

}  // namespace fs
