// Network inputs (docs/theory.md §1): the circle family, iid Gaussian points, explicit points and CSV files.
//
// Sections
//   1. Text helpers (plain-text echo of user input, trimming; strict numbers: core/text.h)
//   2. Deterministic standard normals (core/random.h: Philox4x64-10 + Box-Muller, own log/sin/cos)
//   3. InputSet::gram
//   4. make_inputs
//   5. parse_inputs_csv
// GCC 12 with AVX-512 (-march=native) warns falsely inside avx512fintrin.h when Eigen's matrix
// product is inlined here; the diagnostic state must be set before Eigen is included (fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "core/inputs.h"

#include "core/random.h"
#include "core/text.h"

#include <cassert>
#include <cmath>
#include <fstream>
#include <string>
#include <utility>

namespace fs {
namespace {

// --- 1. Text helpers ------------------------------------------------------------------------------

std::string echo(std::string_view text) { return echo_user_text(text); }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

Status invalid(std::string message) { return Status::error(StatusCode::invalid_input, std::move(message)); }

// --- 2. Deterministic standard normals -----------------------------------------------------------
// Philox4x64-10 + Box-Muller with our own log/sin/cos (core/random.h): bit-identical natively and in
// wasm.

// Stream tag in the second key word, so the inputs never share numbers with other uses of the seed.
constexpr std::uint64_t kInputsStream = 0x696e70757473ull;  // "inputs"

// Four standard normals from one Philox4x64 block: counter = (input a, step t, block, 0),
// key = (seed, kInputsStream).
void normals4(std::uint64_t seed, std::uint64_t a, std::uint64_t t, std::uint64_t block, double out[4]) {
  random::box_muller4(random::philox4x64({{a, t, block, 0}}, seed, kInputsStream), out);
}

}  // namespace

// --- 3. InputSet::gram ----------------------------------------------------------------------------

Eigen::MatrixXd InputSet::gram(int t, int s) const {
  assert(t >= 0 && t < steps() && s >= 0 && s < steps() && dim > 0);
  // docs/theory.md §1: G_ab = x_a . x_b / d (cross-time for sequences).
  Eigen::MatrixXd g = x[t] * x[s].transpose();
  g /= static_cast<double>(dim);
  return g;
}

// --- 4. make_inputs -------------------------------------------------------------------------------
namespace {

Status check_int(const char* name, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return Status::success();
  return invalid(std::string(name) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + " (it is " +
                 std::to_string(value) + ").");
}

Status check_size(std::int64_t count, std::int64_t steps, std::int64_t dim) {
  if (count * steps * dim <= InputLimits::max_numbers) return Status::success();
  return Status::error(StatusCode::too_large, "The inputs would hold " + std::to_string(count) + " x " + std::to_string(steps) +
                                                  " x " + std::to_string(dim) + " numbers; at most " +
                                                  std::to_string(InputLimits::max_numbers) + " fit the memory budget.");
}

InputSet allocate(int count, int steps, int dim) {
  InputSet set;
  set.count = count;
  set.dim = dim;
  set.x.assign(static_cast<std::size_t>(steps), Eigen::MatrixXd::Zero(count, dim));
  return set;
}

// Rows of `steps * d` numbers, row-major (step, then coordinate), as in InputsSpec::points.
InputsResult from_rows(const std::vector<std::vector<double>>& rows, int steps) {
  InputsResult result;
  const int count = static_cast<int>(rows.size());
  const std::size_t width = rows[0].size();
  const int dim = static_cast<int>(width / static_cast<std::size_t>(steps));
  result.inputs = allocate(count, steps, dim);
  for (int a = 0; a < count; ++a)
    for (int t = 0; t < steps; ++t)
      for (int i = 0; i < dim; ++i) result.inputs.x[t](a, i) = rows[a][static_cast<std::size_t>(t * dim + i)];
  return result;
}

Status check_points(const std::vector<std::vector<double>>& points, int steps) {
  if (points.empty()) return invalid("inputs.points needs at least one row (one input per row).");
  if (points.size() > static_cast<std::size_t>(InputLimits::max_inputs))
    return invalid("inputs.points has " + std::to_string(points.size()) + " rows; at most " +
                   std::to_string(InputLimits::max_inputs) + " inputs are accepted.");
  const std::size_t width = points[0].size();
  const std::size_t steps_size = static_cast<std::size_t>(steps);
  if (width == 0 || width % steps_size != 0 || width / steps_size > static_cast<std::size_t>(InputLimits::max_dim))
    return invalid("inputs.points rows must hold steps x d numbers with d in 1.." + std::to_string(InputLimits::max_dim) +
                   " (steps = " + std::to_string(steps) + ", row 1 has " + std::to_string(width) + ").");
  for (std::size_t a = 0; a < points.size(); ++a) {
    if (points[a].size() != width)
      return invalid("inputs.points rows must all have the same length (row 1 has " + std::to_string(width) + ", row " +
                     std::to_string(a + 1) + " has " + std::to_string(points[a].size()) + ").");
    for (double v : points[a])
      if (!std::isfinite(v)) return invalid("inputs.points row " + std::to_string(a + 1) + " holds a NaN or infinity.");
  }
  return check_size(static_cast<std::int64_t>(points.size()), steps, static_cast<std::int64_t>(width / steps_size));
}

}  // namespace

InputsResult make_inputs(const InputsSpec& spec, std::uint64_t seed) {
  InputsResult result;
  if (Status s = check_int("inputs.steps", spec.steps, 1, InputLimits::max_steps); !s.ok()) return {{}, s};
  const int steps = spec.steps;

  switch (spec.kind) {
    case InputKind::circle: {
      if (Status s = check_int("inputs.count", spec.count, 1, InputLimits::max_inputs); !s.ok()) return {{}, s};
      if (!std::isfinite(spec.radius) || spec.radius < 0.0) return {{}, invalid("inputs.radius must be a finite number >= 0.")};
      if (!std::isfinite(spec.angle_span)) return {{}, invalid("inputs.angle_span must be a finite number.")};
      result.inputs = allocate(spec.count, steps, 2);
      // x_a = sqrt(2) r (cos th_a, sin th_a), so with d = 2: G_ab = r^2 cos(th_a - th_b) (Poole et al. 2016).
      const double scale = std::sqrt(2.0) * spec.radius;
      for (int a = 0; a < spec.count; ++a) {
        const double theta = spec.count == 1 ? 0.0 : a * spec.angle_span / (spec.count - 1);
        for (int t = 0; t < steps; ++t) {
          result.inputs.x[t](a, 0) = scale * std::cos(theta);
          result.inputs.x[t](a, 1) = scale * std::sin(theta);
        }
      }
      return result;
    }
    case InputKind::gaussian: {
      if (Status s = check_int("inputs.count", spec.count, 1, InputLimits::max_inputs); !s.ok()) return {{}, s};
      if (Status s = check_int("inputs.dim", spec.dim, 1, InputLimits::max_dim); !s.ok()) return {{}, s};
      if (!std::isfinite(spec.radius) || spec.radius < 0.0) return {{}, invalid("inputs.radius must be a finite number >= 0.")};
      if (Status s = check_size(spec.count, steps, spec.dim); !s.ok()) return {{}, s};
      result.inputs = allocate(spec.count, steps, spec.dim);
      // iid N(0, r^2) coordinates, so E[G_aa] = r^2 and E[G_ab] = 0.
      double block[4];
      for (int t = 0; t < steps; ++t)
        for (int a = 0; a < spec.count; ++a)
          for (int i = 0; i < spec.dim; i += 4) {
            normals4(seed, static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(t), static_cast<std::uint64_t>(i / 4),
                     block);
            for (int j = 0; j < 4 && i + j < spec.dim; ++j) result.inputs.x[t](a, i + j) = spec.radius * block[j];
          }
      return result;
    }
    case InputKind::points: {
      if (Status s = check_points(spec.points, steps); !s.ok()) return {{}, s};
      return from_rows(spec.points, steps);
    }
    case InputKind::csv: {
      if (spec.csv_path.empty()) return {{}, invalid("inputs.csv_path is empty: choose a CSV file.")};
      const std::string file_name = "the CSV file \"" + echo(spec.csv_path) + "\"";
      std::ifstream file(spec.csv_path, std::ios::binary);
      if (!file) return {{}, invalid("Could not open " + file_name + ".")};
      file.seekg(0, std::ios::end);
      const std::streamoff size = file.tellg();
      if (size < 0) return {{}, invalid("Could not read " + file_name + ".")};
      if (size > InputLimits::max_csv_bytes)
        return {{},
                Status::error(StatusCode::too_large, "The file \"" + echo(spec.csv_path) + "\" is larger than " +
                                                         std::to_string(InputLimits::max_csv_bytes >> 20) + " MiB.")};
      file.seekg(0, std::ios::beg);
      std::string text(static_cast<std::size_t>(size), '\0');
      if (size > 0 && !file.read(text.data(), size)) return {{}, invalid("Could not read " + file_name + ".")};
      return parse_inputs_csv(text, steps);
    }
  }
  return {{}, invalid("inputs.kind is not a known input kind.")};
}

// --- 5. parse_inputs_csv --------------------------------------------------------------------------

InputsResult parse_inputs_csv(std::string_view text, int steps) {
  if (steps < 1 || steps > InputLimits::max_steps)
    return {{}, invalid("CSV inputs: steps must be in 1.." + std::to_string(InputLimits::max_steps) + ".")};
  if (static_cast<std::int64_t>(text.size()) > InputLimits::max_csv_bytes)
    return {{},
            Status::error(StatusCode::too_large,
                          "The CSV text is larger than " + std::to_string(InputLimits::max_csv_bytes >> 20) + " MiB.")};
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark

  const std::size_t max_width = static_cast<std::size_t>(InputLimits::max_dim) * static_cast<std::size_t>(steps);
  std::vector<std::vector<double>> rows;
  std::size_t width = 0;
  int width_line = 0;
  bool header_allowed = true;
  std::vector<std::string_view> cells;

  int line_number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t newline = text.find('\n', pos);
    const std::size_t end = newline == std::string_view::npos ? text.size() : newline;
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    const std::string where = "CSV line " + std::to_string(line_number);

    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;

    // Cells: separated by ',' or ';' if the line has either, otherwise by runs of whitespace.
    cells.clear();
    if (line.find_first_of(",;") != std::string_view::npos) {
      std::size_t start = 0;
      while (true) {
        const std::size_t sep = line.find_first_of(",;", start);
        cells.push_back(trim(line.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start)));
        if (sep == std::string_view::npos) break;
        start = sep + 1;
      }
      if (cells.size() > 1 && cells.back().empty()) cells.pop_back();  // one trailing separator
    } else {
      std::size_t start = 0;
      while (start < line.size()) {
        while (start < line.size() && is_space(line[start])) ++start;
        std::size_t stop = start;
        while (stop < line.size() && !is_space(line[stop])) ++stop;
        if (stop > start) cells.push_back(line.substr(start, stop - start));
        start = stop;
      }
    }

    std::vector<double> row;
    row.reserve(cells.size());
    bool any_number = false;
    std::size_t bad_column = 0;
    NumberParse bad_kind = NumberParse::ok;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      double v = 0.0;
      const NumberParse parsed = parse_finite(cells[c], v);
      if (parsed == NumberParse::ok) {
        any_number = true;
        row.push_back(v);
      } else if (bad_column == 0) {
        bad_column = c + 1;
        bad_kind = parsed;
      }
    }
    if (bad_column != 0) {
      if (header_allowed && !any_number) {  // a first row of names only: the header
        header_allowed = false;
        continue;
      }
      const std::string_view cell = cells[bad_column - 1];
      if (cell.empty()) return {{}, invalid(where + ", column " + std::to_string(bad_column) + ": empty cell.")};
      return {{},
              invalid(where + ", column " + std::to_string(bad_column) + ": \"" + echo(cell) + "\" is not " +
                      (bad_kind == NumberParse::not_finite ? "a finite number." : "a number."))};
    }
    header_allowed = false;

    if (rows.empty()) {
      if (row.size() > max_width)
        return {{},
                invalid(where + " has " + std::to_string(row.size()) + " columns; at most " + std::to_string(max_width) +
                        " (d <= " + std::to_string(InputLimits::max_dim) + " per step) are accepted.")};
      if (row.size() % static_cast<std::size_t>(steps) != 0)
        return {{},
                invalid(where + " has " + std::to_string(row.size()) + " numbers, which do not split into " +
                        std::to_string(steps) + " equal time steps.")};
      width = row.size();
      width_line = line_number;
    } else if (row.size() != width) {
      return {{},
              invalid(where + " has " + std::to_string(row.size()) + " numbers, but line " + std::to_string(width_line) +
                      " has " + std::to_string(width) + ".")};
    }
    if (rows.size() == static_cast<std::size_t>(InputLimits::max_inputs))
      return {{},
              invalid(where + ": more than " + std::to_string(InputLimits::max_inputs) +
                      " rows (inputs); at most that many are accepted.")};
    if (static_cast<std::int64_t>((rows.size() + 1) * width) > InputLimits::max_numbers)
      return {{},
              Status::error(StatusCode::too_large,
                            where + ": the CSV holds more than " + std::to_string(InputLimits::max_numbers) + " numbers.")};
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return {{}, invalid("The CSV has no data rows (one input per row, numbers separated by commas).")};
  return from_rows(rows, steps);
}

}  // namespace fs
