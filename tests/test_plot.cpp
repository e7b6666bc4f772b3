// The pure parts of the plot widgets (app/plot.cpp) and the colour maps (app/colormap.cpp): nice
// and log ticks, labels, axis transforms, zoom and pan, ranges, cell grids, colour scales, Oklab,
// CSV export. Needs the ImGui headers only; links without ImGui.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "app/colormap.h"
#include "app/plot.h"

using namespace fs::ui;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The 1-2-5 value (m 10^k, m in {1, 2, 5}) nearest x.
double nearest_one_two_five(double x) {
  const double power = std::pow(10.0, std::floor(std::log10(x)));
  double best = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (std::abs(std::log(m * power / x)) < std::abs(std::log(best / x))) best = m * power;
  return best;
}

double parse(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

double oklab_distance(const Oklab& p, const Oklab& q) {
  return std::sqrt((p.L - q.L) * (p.L - q.L) + (p.a - q.a) * (p.a - q.a) + (p.b - q.b) * (p.b - q.b));
}

Oklab oklab_of(Rgba8 c) { return oklab_from_srgb(srgb_from_rgba8(c)); }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("nice ticks: 1-2-5 steps that cover the range with about the target count") {
  std::vector<std::pair<double, double>> ranges = {
      {0, 1}, {0, 0.3}, {-7.3, 12.9}, {-7.3, -2.1}, {-1e-3, 1e-3}, {0.5, 4.0}, {1e-300, 3e-300}, {-1e308, 1e308},
      {1e8, 1e8 + 1e-3}, {123456, 123457}, {-5e-12, 3e-12}, {0, 1e15}, {0.999, 1.001}, {2, 1000}};
  // A sweep of spans over 24 decades, with offsets of both signs.
  for (int e = -12; e <= 12; ++e)
    for (double factor : {1.0, 1.7, 3.3, 7.9})
      for (double offset : {0.0, -0.37, 2.5}) {
        const double span = factor * std::pow(10.0, e);
        ranges.push_back({offset * span * 3 + offset, offset * span * 3 + offset + span});
      }

  for (const auto& range : ranges)
    for (int target : {2, 3, 5, 6, 8, 10}) {
      const double min = range.first, max = range.second;  // not bindings: CAPTURE needs clang 16+
      CAPTURE(min);
      CAPTURE(max);
      CAPTURE(target);
      const std::vector<double> ticks = nice_ticks(min, max, target);
      REQUIRE(ticks.size() >= 2);
      // Tick values are exact to the resolution of doubles at this magnitude, and no better.
      const double resolution = 4 * std::numeric_limits<double>::epsilon() * std::max(std::abs(min), std::abs(max));
      const double measured = ticks.back() / double(ticks.size() - 1) - ticks.front() / double(ticks.size() - 1);
      const double step = nearest_one_two_five(measured);
      CHECK(measured == doctest::Approx(step).epsilon(1e-3));
      // The step whose count is nearest the target, or a finer one when that leaves one tick.
      if (std::isfinite(max - min)) CHECK(step <= nice_step(max - min, target) * (1 + 1e-9));
      for (std::size_t i = 0; i < ticks.size(); ++i) {
        CHECK(ticks[i] >= min - resolution);
        CHECK(ticks[i] <= max + resolution);
        const double k = ticks[i] / step;  // every tick is a multiple of the step
        CHECK(std::abs(k - std::round(k)) <= 1e-9 * std::max(1.0, std::abs(k)) + resolution / step);
        if (i > 0) CHECK(std::abs(ticks[i] - ticks[i - 1] - step) <= 1e-9 * step + 2 * resolution);
      }
      // Covering: less than one step is left free at either end.
      CHECK(ticks.front() - min < step + resolution);
      CHECK(max - ticks.back() < step + resolution);
      // The chosen step is within a factor sqrt(2.5) of span / target, hence this count.
      const double ratio = 1.5812;
      CHECK(ticks.size() >= std::max<std::size_t>(2, static_cast<std::size_t>(std::floor(target / ratio))));
      CHECK(ticks.size() <= static_cast<std::size_t>(std::ceil(target * ratio)) + 1);
    }
}

TEST_CASE("nice ticks: exact decimal values, degenerate and invalid ranges") {
  CHECK(nice_ticks(0, 1, 5) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1});
  CHECK(nice_ticks(0, 0.3, 3) == std::vector<double>{0, 0.1, 0.2, 0.3});
  CHECK(nice_ticks(-0.7, 0.7, 7) == std::vector<double>{-0.6, -0.4, -0.2, 0, 0.2, 0.4, 0.6});
  CHECK(nice_ticks(1, 0, 5) == nice_ticks(0, 1, 5));  // order of the bounds does not matter
  CHECK(nice_ticks(2.5, 2.5, 6) == std::vector<double>{2.5});
  CHECK(nice_ticks(0, 0, 6) == std::vector<double>{0});
  CHECK(nice_ticks(1, 1 + 1e-17, 6).size() == 1);  // below double resolution: one tick
  CHECK(nice_ticks(1e16, 1e16 + 4, 10).size() == 1);
  CHECK(nice_ticks(1, 1 + 1e-12, 10).size() >= 2);
  CHECK(nice_ticks(kNaN, 1, 5).empty());
  CHECK(nice_ticks(0, kInf, 5).empty());
  CHECK(nice_step(0, 5) == 0);
  CHECK(nice_step(-1, 5) == 0);
}

TEST_CASE("log ticks: decades, decade steps for wide ranges, 1-2-5 for narrow ones") {
  CHECK(log_ticks(1e-3, 1e3, 8) == std::vector<double>{1e-3, 1e-2, 1e-1, 1, 10, 100, 1000});
  CHECK(log_ticks(0.9, 1100, 6) == std::vector<double>{1, 10, 100, 1000});

  for (const auto& range : std::vector<std::pair<double, double>>{{1, 1e12}, {1e-30, 1e30}, {1e-300, 1e300}, {3e-7, 2e9}})
    for (int target : {3, 5, 6, 8}) {
      const double min = range.first, max = range.second;
      CAPTURE(min);
      CAPTURE(max);
      CAPTURE(target);
      const std::vector<double> ticks = log_ticks(min, max, target);
      REQUIRE(ticks.size() >= 2);
      CHECK(ticks.size() <= static_cast<std::size_t>(2 * target));
      const double first_exponent = std::log10(ticks[0]), step = std::log10(ticks[1]) - first_exponent;
      CHECK(nearest_one_two_five(std::round(step)) == std::round(step));
      for (std::size_t i = 0; i < ticks.size(); ++i) {
        const double exponent = std::log10(ticks[i]);
        CHECK(exponent == doctest::Approx(std::round(exponent)).epsilon(1e-12));  // a power of ten
        CHECK(std::fmod(std::round(exponent), std::round(step)) == 0);           // at a multiple of the step
        CHECK(ticks[i] >= min * (1 - 1e-12));
        CHECK(ticks[i] <= max * (1 + 1e-12));
      }
    }

  CHECK(log_ticks(0.5, 20, 6) == std::vector<double>{0.5, 1, 2, 5, 10, 20});
  const std::vector<double> narrow = log_ticks(2.1, 4.9, 6);  // within one decade: linear ticks
  REQUIRE(narrow.size() >= 2);
  for (double t : narrow) CHECK((t >= 2.1 && t <= 4.9));
  CHECK(log_ticks(0, 10, 5).empty());
  CHECK(log_ticks(-1, 10, 5).empty());
}

TEST_CASE("axis ticks: labels for majors, unlabelled minor ticks on log axes") {
  const std::vector<Tick> ticks = axis_ticks(1, 100, true, 6);
  std::vector<std::string> major_labels;
  int minors = 0;
  for (const Tick& t : ticks) {
    if (t.major) {
      major_labels.push_back(t.label);
    } else {
      ++minors;
      CHECK(t.label.empty());
    }
  }
  CHECK(major_labels == std::vector<std::string>{"1", "10", "100"});
  CHECK(minors == 16);  // 2..9 and 20..90

  const std::vector<Tick> linear = axis_ticks(0, 1, false, 5);
  REQUIRE(linear.size() == 6);
  CHECK(linear[0].label == "0");
  CHECK(linear[1].label == "0.2");
  CHECK(linear[5].label == "1.0");
}

TEST_CASE("tick labels: distinct, and read back to their tick within half a step") {
  for (const auto& range : std::vector<std::pair<double, double>>{
           {0, 1}, {-7.3, 12.9}, {1e-9, 3e-9}, {0, 2e5}, {0, 2e7}, {1e8, 1e8 + 1e-3}, {123456, 123457},
           {-1e308, 1e308}, {0.999, 1.001}, {-0.004, 0.002}, {1e20, 5e20}}) {
    const double min = range.first, max = range.second;
    CAPTURE(min);
    CAPTURE(max);
    const std::vector<double> ticks = nice_ticks(min, max, 6);
    const double step = ticks[1] - ticks[0];
    const std::vector<std::string> labels = tick_labels(ticks, step);
    REQUIRE(labels.size() == ticks.size());
    CHECK(std::set<std::string>(labels.begin(), labels.end()).size() == labels.size());
    for (std::size_t i = 0; i < ticks.size(); ++i) {
      CAPTURE(labels[i]);
      CHECK(std::abs(parse(labels[i]) - ticks[i]) <= 0.5 * step);
      CHECK(labels[i].size() <= 20);
    }
  }
  CHECK(tick_labels({0, 0.5, 1.0}, 0.5) == std::vector<std::string>{"0", "0.5", "1.0"});
  CHECK(tick_labels({0, 1e7, 2e7}, 1e7) == std::vector<std::string>{"0", "1e7", "2e7"});
  CHECK(tick_labels({0, 50000, 100000}, 50000) == std::vector<std::string>{"0", "50000", "100000"});
  CHECK(tick_labels({-2e-4, 0, 2e-4}, 2e-4) == std::vector<std::string>{"-2e-4", "0", "2e-4"});
  CHECK(tick_labels({0.25}, 0) == std::vector<std::string>{"0.25"});  // a lone tick keeps its digits

  CHECK(compact_number(0.001) == "0.001");
  CHECK(compact_number(1000) == "1000");
  CHECK(compact_number(1e-5) == "1e-5");
  CHECK(compact_number(2e6) == "2e6");
  CHECK(compact_number(1e300) == "1e300");
  CHECK(format_value(1.23456789e-5) == "1.2346e-5");
  CHECK(format_value(-3.14159265) == "-3.1416");
  CHECK(format_value(0) == "0");
  CHECK(format_value(kNaN) == "n/a");
  CHECK(format_value(-kInf) == "n/a");
}

TEST_CASE("axis transforms: value -> pixel -> value is the identity, linear and log") {
  const std::vector<AxisMap> maps = {
      {0, 1, false, 100, 500}, {-3, 7, false, 400, 20},  // a y axis: pixels grow downwards
      {1e-3, 1e3, true, 50, 850}, {0.5, 4, true, 300, 10}, {-1e6, 1e-6, false, 0, 1000}};
  for (const AxisMap& map : maps) {
    CAPTURE(map.min);
    CAPTURE(map.log);
    CHECK(to_pixel(map, map.min) == doctest::Approx(map.pixel_min));
    CHECK(to_pixel(map, map.max) == doctest::Approx(map.pixel_max));
    for (int i = 0; i <= 20; ++i) {
      const double pixel = map.pixel_min + (map.pixel_max - map.pixel_min) * (i / 20.0 * 1.4 - 0.2);
      CHECK(to_pixel(map, to_value(map, pixel)) == doctest::Approx(pixel).epsilon(1e-9));
      const double value = to_value(map, pixel);
      CHECK(to_value(map, to_pixel(map, value)) == doctest::Approx(value).epsilon(1e-9));
    }
  }
  const AxisMap decades{1, 100, true, 0, 200};
  CHECK(to_pixel(decades, 10) == doctest::Approx(100));  // the middle of two decades
  CHECK(std::isnan(to_pixel(decades, 0)));
  CHECK(std::isnan(to_pixel(decades, -1)));
  CHECK(std::isnan(to_pixel(decades, kNaN)));
  CHECK(std::isnan(to_pixel({0, 1, false, 0, 100}, kInf)));
}

TEST_CASE("zoom keeps the value under the cursor in place; pan moves content with the mouse") {
  const std::vector<AxisMap> maps = {{0, 10, false, 100, 700}, {-2, 3, false, 450, 30}, {1e-4, 1e2, true, 0, 900},
                                     {2, 3, true, 600, 100}};
  for (const AxisMap& map : maps)
    for (double fraction : {0.0, 0.13, 0.5, 0.91, 1.0})
      for (double factor : {0.85, 0.5, 1 / 0.85, 3.0}) {
        const double pixel = map.pixel_min + fraction * (map.pixel_max - map.pixel_min);
        const double value = to_value(map, pixel);
        const AxisMap zoomed_map = zoomed(map, pixel, factor);
        CHECK(to_pixel(zoomed_map, value) == doctest::Approx(pixel).epsilon(1e-9));
        const double span = axis_coordinate(map.max, map.log) - axis_coordinate(map.min, map.log);
        const double new_span = axis_coordinate(zoomed_map.max, map.log) - axis_coordinate(zoomed_map.min, map.log);
        CHECK(new_span == doctest::Approx(span * factor).epsilon(1e-9));
        const AxisMap back = zoomed(zoomed_map, pixel, 1 / factor);  // zooming back restores the view
        CHECK(back.min == doctest::Approx(map.min).epsilon(1e-9));
        CHECK(back.max == doctest::Approx(map.max).epsilon(1e-9));

        const double delta = 37.5;
        CHECK(to_pixel(panned(map, delta), value) == doctest::Approx(pixel + delta).epsilon(1e-9));
      }

  // Repeated zooming stays finite and ordered, however far it goes.
  for (bool log : {false, true}) {
    AxisMap in{log ? 1.0 : 0.0, log ? 10.0 : 1.0, log, 0, 500}, out = in;
    for (int i = 0; i < 2000; ++i) in = zoomed(in, 123, 0.5), out = zoomed(out, 123, 2);
    for (const AxisMap& m : {in, out}) {
      CHECK(std::isfinite(m.min));
      CHECK(std::isfinite(m.max));
      CHECK(m.min < m.max);
    }
    for (int i = 0; i < 2000; ++i) out = panned(out, 1e4);
    CHECK(std::isfinite(out.min));
    CHECK(out.min < out.max);
  }
}

TEST_CASE("range finder: skips non-finite (and on log axes non-positive) values, pads, widens") {
  RangeFinder linear;
  linear.add({3, kNaN, -1, kInf, 2});
  CHECK(linear.min == -1);
  CHECK(linear.max == 3);
  const Range padded = linear.padded(0.05);
  CHECK(padded.min == doctest::Approx(-1.2));
  CHECK(padded.max == doctest::Approx(3.2));

  RangeFinder log{true};
  log.add({-5, 0, 1e-2, 1e2, kNaN});
  CHECK(log.min == 1e-2);
  const Range log_padded = log.padded(0.25);  // a quarter of 4 decades each side
  CHECK(log_padded.min == doctest::Approx(1e-3));
  CHECK(log_padded.max == doctest::Approx(1e3));

  CHECK(RangeFinder{}.padded(0.1).min == 0);
  CHECK(RangeFinder{}.padded(0.1).max == 1);
  CHECK(RangeFinder{true}.padded(0.1).min == 1);
  RangeFinder single;
  single.add(5);
  CHECK(single.padded(0).min < 5);
  CHECK(single.padded(0).max > 5);
  RangeFinder zero;
  zero.add(0);
  CHECK(zero.padded(0).min == -1);
  CHECK(zero.padded(0).max == 1);
}

TEST_CASE("cell grids: centres as in core's grids, edges half a cell out, lookup") {
  const CellGrid grid{0.5, 4.0, 64, false};
  for (int i = 0; i < 64; ++i) {
    CHECK(grid.centre(i) == doctest::Approx(0.5 + 3.5 * i / 63));  // PhaseDiagram::sigma_w2
    CHECK(grid.index(grid.centre(i)) == i);
  }
  const double half = 0.5 * 3.5 / 63;
  CHECK(grid.edges().min == doctest::Approx(0.5 - half));
  CHECK(grid.edges().max == doctest::Approx(4.0 + half));
  CHECK(grid.index(0.5 - 0.9 * half) == 0);
  CHECK(grid.index(0.5 - 1.1 * half) == -1);
  CHECK(grid.index(4.0 + 1.1 * half) == -1);
  CHECK(grid.index(kNaN) == -1);

  const CellGrid log_grid{1e-2, 1e2, 5, true};
  CHECK(log_grid.centre(1) == doctest::Approx(1e-1));
  CHECK(log_grid.centre(2) == doctest::Approx(1));
  CHECK(log_grid.edges().min == doctest::Approx(std::pow(10.0, -2.5)));
  CHECK(log_grid.index(0.5) == 2);

  const CellGrid single{2, 2, 1, false};
  CHECK(single.index(2) == 0);
  CHECK(single.edges().min < 2);
  CHECK(single.edges().max > 2);
}

TEST_CASE("colour scales: ranges from finite data, diverging symmetric, positions clamped") {
  const std::vector<double> values = {0.2, kNaN, 3.0, -kInf, 1.0};
  const Range r = color_range(values.data(), values.size(), false, false, kNaN, kNaN);
  CHECK(r.min == 0.2);
  CHECK(r.max == 3.0);
  const Range d = color_range(values.data(), values.size(), false, true, kNaN, kNaN);
  CHECK(d.min == -3.0);
  CHECK(d.max == 3.0);
  const Range log_d = color_range(values.data(), values.size(), true, true, kNaN, kNaN);  // symmetric about 1
  CHECK(log_d.min * log_d.max == doctest::Approx(1));
  CHECK(log_d.min == doctest::Approx(0.2));
  const Range fixed = color_range(values.data(), values.size(), false, false, -1, kNaN);
  CHECK(fixed.min == -1);
  CHECK(fixed.max == 3.0);

  CHECK(color_position(1.6, {0.2, 3.0}, false) == doctest::Approx(0.5));
  CHECK(color_position(1.0, {0.1, 10}, true) == doctest::Approx(0.5));
  CHECK(color_position(-5, {0, 1}, false) == 0);
  CHECK(color_position(5, {0, 1}, false) == 1);
  CHECK(color_position(2, {2, 2}, false) == 0.5);
  CHECK(std::isnan(color_position(kNaN, {0, 1}, false)));
  CHECK(std::isnan(color_position(kInf, {0, 1}, false)));
  CHECK(std::isnan(color_position(0, {0.1, 10}, true)));
}

TEST_CASE("Oklab: Ottosson's published values and round trips") {
  // Ottosson 2020, "A perceptual color space for image processing": sRGB primaries in Oklab.
  const Oklab white = oklab_from_srgb({1, 1, 1});
  CHECK(white.L == doctest::Approx(1).epsilon(1e-6));
  CHECK(std::abs(white.a) < 1e-6);
  CHECK(std::abs(white.b) < 1e-6);
  const Oklab red = oklab_from_srgb({1, 0, 0}), green = oklab_from_srgb({0, 1, 0}), blue = oklab_from_srgb({0, 0, 1});
  CHECK(red.L == doctest::Approx(0.627955).epsilon(1e-5));
  CHECK(red.a == doctest::Approx(0.224863).epsilon(1e-5));
  CHECK(red.b == doctest::Approx(0.125846).epsilon(1e-5));
  CHECK(green.L == doctest::Approx(0.866440).epsilon(1e-5));
  CHECK(green.a == doctest::Approx(-0.233888).epsilon(1e-5));
  CHECK(blue.L == doctest::Approx(0.452014).epsilon(1e-5));
  CHECK(blue.b == doctest::Approx(-0.311528).epsilon(1e-5));
  for (const Srgb& c : {Srgb{0.2, 0.5, 0.9}, Srgb{1, 0.8, 0}, Srgb{0.01, 0.02, 0.03}}) {
    // The published matrices carry 10 digits, so they are inverse to about 1e-9 in linear light.
    const Srgb back = srgb_from_oklab(oklab_from_srgb(c));
    CHECK(std::abs(back.r - c.r) < 1e-5);
    CHECK(std::abs(back.g - c.g) < 1e-5);
    CHECK(std::abs(back.b - c.b) < 1e-5);
  }
  CHECK(rgba8(1, 2, 3, 4) == (4u << 24 | 3u << 16 | 2u << 8 | 1u));  // IM_COL32 layout
}

TEST_CASE("sequential colour map: lightness rises monotonically and linearly, in gamut") {
  double previous = -1;
  for (int i = 0; i <= 1000; ++i) {
    const double t = i / 1000.0;
    const Oklab c = sequential_oklab(t);
    CHECK(c.L > previous);
    previous = c.L;
    const Srgb rgb = srgb_from_oklab(c);  // gamut-mapped before rounding: nothing to clip
    for (double channel : {rgb.r, rgb.g, rgb.b}) CHECK((channel > -1e-6 && channel < 1 + 1e-6));
  }
  const double L0 = sequential_oklab(0).L, L1 = sequential_oklab(1).L;
  CHECK(sequential_oklab(0.3).L == doctest::Approx(L0 + 0.3 * (L1 - L0)));
  // Still monotone after 8-bit rounding at 64 steps.
  previous = -1;
  for (int i = 0; i <= 64; ++i) {
    const double L = oklab_of(sequential_color(i / 64.0)).L;
    CHECK(L > previous);
    previous = L;
  }
  // Distinct ends: dark and light, far apart.
  CHECK(oklab_of(sequential_color(0)).L < 0.3);
  CHECK(oklab_of(sequential_color(1)).L > 0.85);
  CHECK(oklab_distance(oklab_of(sequential_color(0)), oklab_of(sequential_color(1))) > 0.5);
  CHECK(sequential_color(-3) == sequential_color(0));
  CHECK(sequential_color(kNaN) == kMissingColor);
}

TEST_CASE("diverging colour map: lightness symmetric about t = 0.5, lightest there, hues apart") {
  for (int i = 0; i <= 500; ++i) {
    const double t = i / 1000.0;
    CHECK(diverging_oklab(t).L == doctest::Approx(diverging_oklab(1 - t).L).epsilon(1e-12));
    CHECK(oklab_of(diverging_color(t)).L == doctest::Approx(oklab_of(diverging_color(1 - t)).L).epsilon(0.01));
    if (i > 0) CHECK(diverging_oklab(t).L > diverging_oklab(t - 0.001).L);  // rising towards the centre
    const Srgb rgb = srgb_from_oklab(diverging_oklab(t));
    for (double channel : {rgb.r, rgb.g, rgb.b}) CHECK((channel > -1e-6 && channel < 1 + 1e-6));
  }
  const Oklab cold = diverging_oklab(0), warm = diverging_oklab(1), centre = diverging_oklab(0.5);
  CHECK(centre.L > 0.9);
  CHECK(std::hypot(centre.a, centre.b) < 0.02);  // a near-neutral middle
  CHECK(cold.b < -0.05);                          // blue end
  CHECK(warm.a > 0.05);                           // red end
  CHECK(oklab_distance(cold, warm) > 0.2);
  CHECK(diverging_color(kNaN) == kMissingColor);
}

TEST_CASE("qualitative palette: distinct colours of equal lightness") {
  for (int i = 0; i < 8; ++i) {
    CHECK(oklab_of(qualitative_color(i)).L == doctest::Approx(0.72).epsilon(0.02));
    for (int j = i + 1; j < 8; ++j) CHECK(oklab_distance(oklab_of(qualitative_color(i)), oklab_of(qualitative_color(j))) > 0.07);
  }
  CHECK(qualitative_color(100) != 0);
}

TEST_CASE("CSV: numbers round-trip; NaN is empty, infinities are inf / -inf") {
  CHECK(csv_number(0.1) == "0.1");
  CHECK(csv_number(kNaN).empty());
  CHECK(csv_number(kInf) == "inf");
  CHECK(csv_number(-kInf) == "-inf");
  for (double v : {1.0 / 3, 2.0 / 3 * 1e-300, 1.7976931348623157e308, -123.456, 5e-324, 0.1 + 0.2})
    CHECK(parse(csv_number(v)) == v);
}

TEST_CASE("CSV: series with a shared x are columns, otherwise long form; labels quoted") {
  Series q, c;
  q.label = "q, \"one\"";
  q.x = {0, 1, 2};
  q.y = {1, kNaN, kInf};
  q.lower = {0.5, 0.6, 0.7};
  q.upper = {1.5, 1.6, 1.7};
  c.x = {0, 1, 2};
  c.y = {0.1, 0.25, -2e-300};
  CHECK(series_csv({q, c}, "layer") ==
        "layer,\"q, \"\"one\"\"\",\"q, \"\"one\"\" lower\",\"q, \"\"one\"\" upper\",series 2\n"
        "0,1,0.5,1.5,0.1\n"
        "1,,0.6,1.6,0.25\n"
        "2,inf,0.7,1.7,-2e-300\n");

  c.x = {0, 1};
  c.y = {5, 6};
  CHECK(series_csv({q, c}, "") ==
        "series,x,y,lower,upper\n"
        "\"q, \"\"one\"\"\",0,1,0.5,1.5\n"
        "\"q, \"\"one\"\"\",1,,0.6,1.6\n"
        "\"q, \"\"one\"\"\",2,inf,0.7,1.7\n"
        "series 2,0,5,,\n"
        "series 2,1,6,,\n");
  CHECK(series_csv({}, "t") == "series,t,y\n");
}

TEST_CASE("CSV: heat maps as one row per cell at the cell centres, row 0 first") {
  const std::vector<double> values = {1, 2, 3, 4, kNaN, 6};
  HeatMapSpec spec;
  spec.x = {"σ_w²", false, false, 0.5, 4.0};
  spec.y = {"σ_b²", false, false, 0.0, 1.0};
  spec.value_label = "χ₁";
  spec.values = values.data();
  spec.columns = 3;
  spec.rows = 2;
  const std::vector<std::string> lines = lines_of(heat_map_csv(spec));
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] == "σ_w²,σ_b²,χ₁");
  CHECK(lines[1] == "0.5,0,1");
  CHECK(lines[2] == "2.25,0,2");
  CHECK(lines[3] == "4,0,3");
  CHECK(lines[5] == "2.25,1,");
  CHECK(lines[6] == "4,1,6");
  spec.values = nullptr;
  CHECK(heat_map_csv(spec) == "σ_w²,σ_b²,χ₁\n");
}
