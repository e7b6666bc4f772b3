// The pure half of the plot widgets: ticks, labels, axis transforms, zoom and pan, ranges, histograms,
// cell grids, colour positions and CSV export. No ImGui call here (imgui.h is included for the ImU32
// and ImVec2 types of the specs only), so tests link this file without ImGui.
//
// Sections
//   Numbers and labels     exact powers of ten, nice steps, tick labels, value formatting
//   Ticks                  nice_ticks, log_ticks, axis_ticks
//   Transforms             AxisMap, zoom, pan, RangeFinder, histograms, CellGrid, colour ranges
//   CSV                    series_csv, heat_map_csv
#include "app/plot.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace fs::ui {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- Numbers and labels ------------------------------------------------------------------------

// 10^e, exact whenever it is representable (|e| <= 22); 1 / 10^-e is then correctly rounded, so
// decade ticks equal the literals 1e-3, 1e5...
double exact_pow10(int e) {
  if (e < 0) return -e <= 22 ? 1.0 / exact_pow10(-e) : std::pow(10.0, e);
  if (e > 22) return std::pow(10.0, e);
  double p = 1;
  for (int i = 0; i < e; ++i) p *= 10;
  return p;
}

// A tick step m * 10^e with m in {1, 2, 5}.
struct Step {
  int mantissa = 1;
  int exponent = 0;
  double value() const { return multiple(1); }
  // k * step, computed as (k m) 10^e or (k m) / 10^-e so that it rounds like the decimal literal.
  double multiple(double k) const {
    const double km = k * mantissa;
    return exponent >= 0 || exponent < -22 ? km * exact_pow10(exponent) : km / exact_pow10(-exponent);
  }
};

// The 1-2-5 step nearest (in ratio) to `raw`, the step that would give exactly the target count.
Step step_near(double raw) {
  const int e = static_cast<int>(std::floor(std::log10(raw)));
  Step best{1, e};
  double best_error = INFINITY;
  for (int m : {1, 2, 5, 10}) {
    const Step candidate = m == 10 ? Step{1, e + 1} : Step{m, e};
    const double error = std::abs(std::log(candidate.value() / raw));
    if (error < best_error) best_error = error, best = candidate;
  }
  return best;
}

// Power of ten of a 1-2-5 step (5e-3 -> -3), also for a step measured as the difference of two
// ticks (9.99999e-5 -> -4): 1-2-5 mantissas sit far from the next power of ten in log10.
int step_exponent(double step) { return static_cast<int>(std::floor(std::log10(step) + 1e-3)); }

// "1.5e+06" -> "1.5e6", "2e-05" -> "2e-5".
std::string tidy_exponent(std::string text) {
  const std::size_t e = text.find_first_of("eE");
  if (e == std::string::npos) return text;
  std::string mantissa = text.substr(0, e), digits = text.substr(e + 1), sign;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    if (digits[0] == '-') sign = "-";
    digits.erase(0, 1);
  }
  const std::size_t nonzero = digits.find_first_not_of('0');
  digits = nonzero == std::string::npos ? "0" : digits.substr(nonzero);
  return mantissa + "e" + sign + digits;
}

std::string strip_trailing_zeros(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

std::string printf_double(const char* format, int precision, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, precision, value);
  return buffer;
}

// Fewest decimals (up to max_decimals) that read back as value to relative precision `tolerance`.
std::string shortest_fixed(double value, int max_decimals, double tolerance) {
  std::string text;
  for (int decimals = 0; decimals <= max_decimals; ++decimals) {
    text = printf_double("%.*f", decimals, value);
    if (std::abs(std::strtod(text.c_str(), nullptr) - value) <= tolerance * std::abs(value)) break;
  }
  return text;
}

// Tick label in scientific form: the mantissa keeps the digits that the step resolves.
std::string scientific_label(double value, int step_exp) {
  int e = static_cast<int>(std::floor(std::log10(std::abs(value))));
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int decimals = std::clamp(e - step_exp, 0, 15);
    const double mantissa = value / exact_pow10(e);
    std::string text = printf_double("%.*f", decimals, mantissa);
    if (std::abs(std::strtod(text.c_str(), nullptr)) < 10) return strip_trailing_zeros(text) + "e" + std::to_string(e);
    ++e;  // 9.9999 rounded up to 10
  }
  return tidy_exponent(printf_double("%.*e", 6, value));
}

}  // namespace

double nice_step(double span, int target_count) {
  if (!(span > 0) || !std::isfinite(span)) return 0;
  return step_near(span / std::max(target_count, 1)).value();
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks, double step) {
  std::vector<std::string> labels;
  labels.reserve(ticks.size());
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  if (!(step > 0) || !std::isfinite(step)) {  // a lone tick: no step to take the precision from
    for (double t : ticks) labels.push_back(compact_number(t));
    return labels;
  }
  const int step_exp = step_exponent(step);
  const int decimals = std::clamp(-step_exp, 0, 15);
  const int integer_digits = largest >= 1 ? static_cast<int>(std::floor(std::log10(largest))) + 1 : 1;
  const bool scientific = integer_digits > 7 || integer_digits + decimals > 16 || (largest > 0 && largest < 1e-3);
  for (double t : ticks) {
    if (!std::isfinite(t)) {
      labels.push_back(format_value(t));
    } else if (std::abs(t) < 1e-9 * step) {
      labels.push_back("0");
    } else if (scientific) {
      labels.push_back(scientific_label(t, step_exp));
    } else {
      labels.push_back(printf_double("%.*f", decimals, t));
    }
  }
  return labels;
}

std::string compact_number(double value) {
  if (!std::isfinite(value)) return format_value(value);
  if (value == 0) return "0";
  const int e = static_cast<int>(std::floor(std::log10(std::abs(value))));
  if (e >= -3 && e <= 4) return shortest_fixed(value, 12, 1e-12);
  const double mantissa = value / exact_pow10(e);
  std::string text = shortest_fixed(mantissa, 12, 1e-9);
  return text + "e" + std::to_string(e);
}

std::string format_value(double value) {
  if (!std::isfinite(value)) return "n/a";
  if (value == 0) return "0";
  return tidy_exponent(printf_double("%.*g", 5, value));
}

// ---- Ticks ---------------------------------------------------------------------------------------

std::vector<double> nice_ticks(double min, double max, int target_count) {
  if (!std::isfinite(min) || !std::isfinite(max)) return {};
  if (min > max) std::swap(min, max);
  if (min == max) return {min};
  const double magnitude = std::max(std::abs(min), std::abs(max));
  // (max - min) can overflow for ranges near +-DBL_MAX; this form cannot.
  const double raw = max / std::max(target_count, 1) - min / std::max(target_count, 1);
  // Spans below 1e-13 of the magnitude get one tick: labels could not tell more apart, and tick
  // indices stay far below 2^53.
  if (max - min <= 1e-13 * magnitude) return {0.5 * min + 0.5 * max};
  Step step = step_near(raw);
  std::vector<double> ticks;
  for (int attempt = 0; attempt < 3; ++attempt) {  // finer steps until at least two ticks fit
    // Candidates one beyond each end, then an exact test of the computed values: a division such
    // as 0.3 / 0.1 = 2.9999999999999996 can neither drop nor add a tick.
    const double step_value = step.value();
    const double first = std::floor(min / step_value) - 1, last = std::ceil(max / step_value) + 1;
    if (!(last - first < 10000)) return {};
    ticks.clear();
    for (int i = 0; i <= static_cast<int>(last - first); ++i) {
      const double tick = step.multiple(first + i);
      if (tick >= min && tick <= max && (ticks.empty() || tick > ticks.back())) ticks.push_back(tick);
    }
    if (ticks.size() >= 2) break;
    step = step.mantissa == 1 ? Step{5, step.exponent - 1} : Step{step.mantissa == 5 ? 2 : 1, step.exponent};
  }
  return ticks;
}

namespace {

enum class LogMode { decades, one_two_five, linear };
struct LogTicks {
  std::vector<double> values;
  LogMode mode = LogMode::decades;
  int decade_step = 1;
};

long long floor_div(long long a, long long b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

LogTicks log_ticks_detailed(double min, double max, int target_count) {
  LogTicks result;
  if (!(min > 0) || !std::isfinite(min) || !std::isfinite(max)) return result;
  if (min > max) std::swap(min, max);
  const int target = std::max(target_count, 2);
  const double lo = std::log10(min), hi = std::log10(max);
  const long long first = static_cast<long long>(std::ceil(lo - 1e-9));
  const long long last = static_cast<long long>(std::floor(hi + 1e-9));
  const long long decades = last - first + 1;

  // Narrow ranges: 1, 2, 5 times powers of ten, unless they are too many or too few.
  if (decades < std::max(3, target / 2)) {
    const double low = min * (1 - 1e-12), high = max * (1 + 1e-12);
    std::vector<double> values;
    for (long long e = static_cast<long long>(std::floor(lo)) - 1; e <= static_cast<long long>(std::ceil(hi)); ++e)
      for (int m : {1, 2, 5}) {
        const double v = Step{m, static_cast<int>(e)}.value();
        if (v >= low && v <= high) values.push_back(v);
      }
    if (values.size() >= 2 && values.size() <= static_cast<std::size_t>(target + target / 2 + 1)) {
      result.values = std::move(values);
      result.mode = LogMode::one_two_five;
      return result;
    }
    if (decades < 2) {
      result.mode = LogMode::linear;
      for (double v : nice_ticks(min, max, target_count))
        if (v > 0) result.values.push_back(v);
      return result;
    }
  }

  // Every k-th decade, k from 1, 2, 5, 10, 20..., with the count nearest the target.
  long long best_k = 1;
  double best_error = INFINITY;
  for (long long power = 1; power <= decades; power *= 10)
    for (long long k : {power, 2 * power, 5 * power}) {
      const long long count = floor_div(last, k) - (floor_div(first - 1, k) + 1) + 1;  // multiples of k
      if (count < 2) continue;
      const double error = std::abs(std::log(double(count) / target));
      if (error < best_error) best_error = error, best_k = k;
    }
  for (long long e = first; e <= last; ++e)
    if (e % best_k == 0) result.values.push_back(exact_pow10(static_cast<int>(e)));
  result.decade_step = static_cast<int>(best_k);
  return result;
}

}  // namespace

std::vector<double> log_ticks(double min, double max, int target_count) {
  return log_ticks_detailed(min, max, target_count).values;
}

std::vector<Tick> axis_ticks(double min, double max, bool log, int target_count, bool integer) {
  std::vector<Tick> ticks;
  if (!log) {
    std::vector<double> values = nice_ticks(min, max, target_count);
    double step = values.size() >= 2 ? values[1] - values[0] : nice_step(std::abs(max - min), target_count);
    if (integer && !(step >= 1)) {  // finer than whole numbers: the whole numbers in view, or none
      values.clear();
      const double lo = std::ceil(std::min(min, max)), hi = std::floor(std::max(min, max));
      for (double v = lo; v <= hi && values.size() <= std::size_t(std::max(target_count, 1)) * 2; ++v) values.push_back(v);
      step = 1;
    }
    const std::vector<std::string> labels = tick_labels(values, step);
    for (std::size_t i = 0; i < values.size(); ++i) ticks.push_back({values[i], labels[i], true});
    return ticks;
  }
  if (min > max) std::swap(min, max);
  const LogTicks major = log_ticks_detailed(min, max, target_count);
  if (major.mode == LogMode::linear) {
    const double step = major.values.size() >= 2 ? major.values[1] - major.values[0] : 0;
    const std::vector<std::string> labels = tick_labels(major.values, step);
    for (std::size_t i = 0; i < major.values.size(); ++i) ticks.push_back({major.values[i], labels[i], true});
    return ticks;
  }
  for (double v : major.values) ticks.push_back({v, compact_number(v), true});

  // Minor ticks for the grid: 2..9 x 10^e between labelled decades, or the skipped decades.
  const int lo = static_cast<int>(std::floor(std::log10(min))), hi = static_cast<int>(std::ceil(std::log10(max)));
  const auto add_minor = [&](double v) {
    if (v >= min && v <= max) ticks.push_back({v, "", false});
  };
  if (major.mode == LogMode::one_two_five) {
    for (int e = lo; e <= hi; ++e)
      for (int m : {3, 4, 6, 7, 8, 9}) add_minor(m * exact_pow10(e));
  } else if (major.decade_step == 1 && hi - lo <= 12) {
    for (int e = lo; e <= hi; ++e)
      for (int m = 2; m <= 9; ++m) add_minor(m * exact_pow10(e));
  } else if (major.decade_step > 1 && hi - lo <= 100) {
    for (int e = lo; e <= hi; ++e)
      if (e % major.decade_step != 0) add_minor(exact_pow10(e));
  }
  return ticks;
}

// ---- Transforms ----------------------------------------------------------------------------------

double axis_coordinate(double value, bool log) {
  if (!log) return value;
  return value > 0 ? std::log10(value) : kNaN;
}

double axis_value(double coordinate, bool log) { return log ? std::pow(10.0, coordinate) : coordinate; }

double to_pixel(const AxisMap& map, double value) {
  const double u = axis_coordinate(value, map.log);
  if (!std::isfinite(u)) return kNaN;
  const double u0 = axis_coordinate(map.min, map.log), u1 = axis_coordinate(map.max, map.log);
  return map.pixel_min + (u - u0) / (u1 - u0) * (map.pixel_max - map.pixel_min);
}

double to_value(const AxisMap& map, double pixel) {
  const double u0 = axis_coordinate(map.min, map.log), u1 = axis_coordinate(map.max, map.log);
  return axis_value(u0 + (pixel - map.pixel_min) / (map.pixel_max - map.pixel_min) * (u1 - u0), map.log);
}

namespace {

// Views stay inside what doubles can show: |x| <= 1e300 linear, 10^[-300, 300] on log axes.
double coordinate_limit(bool log) { return log ? 300 : 1e300; }

AxisMap with_coordinates(const AxisMap& map, double u0, double u1) {
  const double limit = coordinate_limit(map.log);
  if (u0 < -limit) u1 += -limit - u0, u0 = -limit;
  if (u1 > limit) u0 -= u1 - limit, u1 = limit;
  u0 = std::max(u0, -limit);
  AxisMap result = map;
  result.min = axis_value(u0, map.log);
  result.max = axis_value(u1, map.log);
  return result;
}

}  // namespace

AxisMap zoomed(const AxisMap& map, double pixel, double factor) {
  if (!(factor > 0) || !std::isfinite(factor)) return map;
  const double u0 = axis_coordinate(map.min, map.log), u1 = axis_coordinate(map.max, map.log);
  const double span = u1 - u0;
  if (!(span > 0) || !std::isfinite(span)) return map;
  const double anchor = u0 + (pixel - map.pixel_min) / (map.pixel_max - map.pixel_min) * span;
  const double magnitude = std::max({std::abs(u0), std::abs(u1), std::abs(anchor)});
  const double min_span = map.log ? 1e-9 : std::max(1e-10 * magnitude, 1e-290);
  const double max_span = map.log ? 600 : 1e300;
  const double new_span = std::clamp(span * factor, std::min(min_span, span), std::max(max_span, span));
  const double f = new_span / span;
  return with_coordinates(map, anchor + (u0 - anchor) * f, anchor + (u1 - anchor) * f);
}

AxisMap panned(const AxisMap& map, double pixel_delta) {
  const double u0 = axis_coordinate(map.min, map.log), u1 = axis_coordinate(map.max, map.log);
  const double shift = -pixel_delta * (u1 - u0) / (map.pixel_max - map.pixel_min);
  if (!std::isfinite(shift)) return map;
  return with_coordinates(map, u0 + shift, u1 + shift);
}

int nearest_point(const std::vector<double>& px, const std::vector<double>& py, double x, double y, double radius) {
  int best = -1;
  double best_d2 = radius * radius;
  const std::size_t n = std::min(px.size(), py.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double dx = px[i] - x, dy = py[i] - y, d2 = dx * dx + dy * dy;
    if (std::isfinite(d2) && (d2 < best_d2 || (best < 0 && d2 == best_d2))) best = static_cast<int>(i), best_d2 = d2;
  }
  return best;
}

void RangeFinder::add(double value) {
  if (!std::isfinite(value) || (log && !(value > 0))) return;
  min = std::min(min, value);
  max = std::max(max, value);
}

void RangeFinder::add(const std::vector<double>& values) {
  for (double v : values) add(v);
}

Range RangeFinder::padded(double fraction) const {
  if (empty()) return log ? Range{1, 10} : Range{0, 1};
  double u0 = axis_coordinate(min, log), u1 = axis_coordinate(max, log);
  if (u1 - u0 <= 8 * DBL_EPSILON * std::max(std::abs(u0), std::abs(u1))) {
    // A single value: half a decade either side on log axes, 10% (or 1 around zero) on linear.
    const double centre = 0.5 * (u0 + u1);
    const double half = log ? 0.5 : (centre == 0 ? 1.0 : 0.1 * std::abs(centre));
    u0 = centre - half, u1 = centre + half;
  } else {
    const double pad = fraction * (u1 - u0);
    u0 -= pad, u1 += pad;
  }
  if (!log) return {u0, u1};
  return {axis_value(u0, true), axis_value(u1, true)};
}

Histogram histogram(const std::vector<double>& values, int bins) {
  Histogram h;
  RangeFinder range;
  range.add(values);
  if (range.empty()) return h;
  bins = std::max(bins, 1);
  h.min = range.min, h.max = range.max;
  if (!(h.max > h.min)) h.min -= 0.5, h.max += 0.5;
  h.bin_width = (h.max - h.min) / bins;
  h.counts.assign(static_cast<std::size_t>(bins), 0.0);
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    h.counts[static_cast<std::size_t>(std::clamp(static_cast<int>((v - h.min) / h.bin_width), 0, bins - 1))] += 1;
    ++h.values;
  }
  h.density.resize(h.counts.size());
  for (std::size_t b = 0; b < h.counts.size(); ++b) h.density[b] = h.counts[b] / (h.values * h.bin_width);
  return h;
}

int histogram_bins(std::size_t count) { return std::clamp(static_cast<int>(std::round(2.0 * std::cbrt(double(count)))), 8, 80); }

Series histogram_series(const Histogram& histogram, std::string label, ImU32 color) {
  Series s;
  s.label = std::move(label);
  s.color = color;
  for (int b = 0; b < static_cast<int>(histogram.density.size()); ++b) {
    const double density = histogram.density[static_cast<std::size_t>(b)];
    for (double x : {histogram.edge(b), histogram.edge(b + 1)}) {
      s.x.push_back(x);
      s.y.push_back(density);
      s.lower.push_back(0.0);
      s.upper.push_back(density);
    }
  }
  return s;
}

double CellGrid::centre(int index) const {
  const double u0 = axis_coordinate(first, log), u1 = axis_coordinate(last, log);
  if (count <= 1) return axis_value(0.5 * (u0 + u1), log);
  return axis_value(u0 + (u1 - u0) * index / (count - 1), log);
}

Range CellGrid::edges() const {
  const double u0 = axis_coordinate(first, log), u1 = axis_coordinate(last, log);
  double lo = u0, hi = u1;
  if (count > 1 && u1 > u0) {
    const double half = 0.5 * (u1 - u0) / (count - 1);
    lo -= half, hi += half;
  } else if (!(u1 > u0)) {
    lo -= 0.5, hi += 0.5;  // one centre only: a unit cell (a decade on log axes) around it
  }
  return {axis_value(lo, log), axis_value(hi, log)};
}

int CellGrid::index(double value) const {
  const Range e = edges();
  const double u = axis_coordinate(value, log), lo = axis_coordinate(e.min, log), hi = axis_coordinate(e.max, log);
  if (!(u >= lo && u <= hi) || count < 1) return -1;
  return std::clamp(static_cast<int>(std::floor((u - lo) / (hi - lo) * count)), 0, count - 1);
}

Range color_range(const double* values, std::size_t count, bool log, bool diverging, double vmin, double vmax) {
  RangeFinder finder{log};
  for (std::size_t i = 0; values && i < count; ++i) finder.add(values[i]);
  Range range = finder.empty() ? finder.padded(0) : Range{finder.min, finder.max};
  if (diverging && !finder.empty()) {
    double extent = std::max(std::abs(axis_coordinate(range.min, log)), std::abs(axis_coordinate(range.max, log)));
    if (extent == 0) extent = 1;
    range = {axis_value(-extent, log), axis_value(extent, log)};
  }
  if (!std::isnan(vmin)) range.min = vmin;
  if (!std::isnan(vmax)) range.max = vmax;
  return range;
}

double color_position(double value, const Range& range, bool log) {
  const double u = axis_coordinate(value, log);
  const double u0 = axis_coordinate(range.min, log), u1 = axis_coordinate(range.max, log);
  if (!std::isfinite(u) || !std::isfinite(u0) || !std::isfinite(u1)) return kNaN;
  if (u1 == u0) return 0.5;
  return std::clamp((u - u0) / (u1 - u0), 0.0, 1.0);
}

bool pack_heat_values(const double* values, std::size_t count, const Range& colors, bool log, std::vector<float>& texels,
                      ShaderScale& scale) {
  // Float limits kept well inside FLT_MIN..FLT_MAX, so that clamped texels keep their colour and
  // products of texels and scales cannot overflow.
  constexpr double kTiny = 1e-37, kHuge = 1e37;
  constexpr float kMissing = std::numeric_limits<float>::infinity();
  texels.assign(count, kMissing);
  scale = {};
  scale.log = log;
  if (!std::isfinite(colors.min) || !std::isfinite(colors.max)) return false;
  if (log) {
    if (!(colors.min >= kTiny && colors.min <= kHuge && colors.max >= kTiny && colors.max <= kHuge)) return false;
    const double u0 = std::log2(colors.min), u1 = std::log2(colors.max);
    if (u1 == u0) {
      scale.bias = 0.5f;  // color_position's rule for a one-value range
    } else {
      // GLSL's log2 is good to about 3 ulp of its result; ask for t to within 1e-3.
      if (std::abs(u1 - u0) < 1e-2 * std::max({1.0, std::abs(u0), std::abs(u1)})) return false;
      scale.offset = static_cast<float>(u0);
      scale.scale = static_cast<float>(1.0 / (u1 - u0));
    }
    for (std::size_t i = 0; i < count; ++i)  // values beyond the range clamp to its ends either way
      if (values[i] > 0 && std::isfinite(values[i])) texels[i] = static_cast<float>(std::clamp(values[i], kTiny, kHuge));
    return true;
  }
  const double span = colors.max - colors.min;
  if (span == 0) {
    scale.bias = 0.5f;
  } else {
    const double inverse = 1.0 / span;
    if (!(std::abs(inverse) >= kTiny && std::abs(inverse) <= kHuge)) return false;
    scale.scale = static_cast<float>(inverse);
  }
  // |span| <= 1e37, so a texel clamped to +-1e37 still lands at the same end of the scale.
  for (std::size_t i = 0; i < count; ++i)
    if (std::isfinite(values[i])) texels[i] = static_cast<float>(std::clamp(values[i] - colors.min, -kHuge, kHuge));
  return true;
}

// ---- CSV -----------------------------------------------------------------------------------------

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

bool has_band(const Series& s) { return !s.lower.empty() && s.lower.size() == s.y.size() && s.upper.size() == s.y.size(); }

std::string series_name(const Series& s, std::size_t index) {
  return s.label.empty() ? "series " + std::to_string(index + 1) : s.label;
}

}  // namespace

std::string csv_number(double value) {
  if (std::isnan(value)) return "";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string text;
  for (int precision = 15; precision <= 17; ++precision) {
    text = printf_double("%.*g", precision, value);
    if (std::strtod(text.c_str(), nullptr) == value) break;
  }
  return text;
}

std::string series_csv(const std::vector<Series>& series, const std::string& x_label) {
  const std::string x_name = csv_field(x_label.empty() ? "x" : x_label);
  bool shared_x = !series.empty();
  for (const Series& s : series) shared_x = shared_x && s.x == series[0].x && s.y.size() == s.x.size();

  std::string csv;
  if (shared_x) {
    csv += x_name;
    for (std::size_t i = 0; i < series.size(); ++i) {
      const std::string name = series_name(series[i], i);
      csv += "," + csv_field(name);
      if (has_band(series[i])) csv += "," + csv_field(name + " lower") + "," + csv_field(name + " upper");
    }
    csv += "\n";
    for (std::size_t row = 0; row < series[0].x.size(); ++row) {
      csv += csv_number(series[0].x[row]);
      for (const Series& s : series) {
        csv += "," + csv_number(s.y[row]);
        if (has_band(s)) csv += "," + csv_number(s.lower[row]) + "," + csv_number(s.upper[row]);
      }
      csv += "\n";
    }
    return csv;
  }

  const bool any_band = std::any_of(series.begin(), series.end(), has_band);
  csv += "series," + x_name + ",y" + (any_band ? ",lower,upper" : "") + "\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const std::string name = csv_field(series_name(s, i));
    const bool band = has_band(s);
    for (std::size_t p = 0; p < std::min(s.x.size(), s.y.size()); ++p) {
      csv += name + "," + csv_number(s.x[p]) + "," + csv_number(s.y[p]);
      if (any_band) csv += "," + csv_number(band ? s.lower[p] : kNaN) + "," + csv_number(band ? s.upper[p] : kNaN);
      csv += "\n";
    }
  }
  return csv;
}

std::string heat_map_csv(const HeatMapSpec& spec) {
  std::string csv = csv_field(spec.x.label.empty() ? "x" : spec.x.label) + "," +
                    csv_field(spec.y.label.empty() ? "y" : spec.y.label) + "," +
                    csv_field(spec.value_label.empty() ? "value" : spec.value_label) + "\n";
  if (!spec.values || spec.columns <= 0 || spec.rows <= 0) return csv;
  const CellGrid columns{spec.x.min, spec.x.max, spec.columns, spec.x.log};
  const CellGrid rows{spec.y.min, spec.y.max, spec.rows, spec.y.log};
  for (int row = 0; row < spec.rows; ++row) {
    const std::string y = csv_number(rows.centre(row));
    for (int column = 0; column < spec.columns; ++column) {
      csv += csv_number(columns.centre(column)) + "," + y + "," +
             csv_number(spec.values[static_cast<std::size_t>(row) * spec.columns + column]) + "\n";
    }
  }
  return csv;
}

}  // namespace fs::ui
