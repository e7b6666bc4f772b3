// The pure parts of the plot widgets (app/plot.cpp) and the colour maps (app/colormap.cpp): nice
// and log ticks, labels, axis transforms, zoom and pan, ranges, histograms, cell grids, colour scales, Oklab,
// CSV export; the heat-map shader's packing and colormap tables, its embedded sources; the PNG
// export's pixel maths and encoding (app/png.cpp). Needs the ImGui headers only; links without ImGui.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "app/colormap.h"
#include "app/plot.h"
#include "app/png.h"
#include "app/shader.h"
#include "fs_shaders.h"

// An independent PNG decoder for the export tests (stb_image; the encoder is stb_image_write).
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb/stb_image.h>

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
      {0, 1},          {0, 0.3},          {-7.3, 12.9},     {-7.3, -2.1},    {-1e-3, 1e-3}, {0.5, 4.0},     {1e-300, 3e-300},
      {-1e308, 1e308}, {1e8, 1e8 + 1e-3}, {123456, 123457}, {-5e-12, 3e-12}, {0, 1e15},     {0.999, 1.001}, {2, 1000}};
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
        CHECK(std::fmod(std::round(exponent), std::round(step)) == 0);            // at a multiple of the step
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

TEST_CASE("axis ticks on an index axis: whole numbers only") {
  auto values = [](const std::vector<Tick>& ticks) {
    std::vector<std::string> labels;
    for (const Tick& t : ticks) labels.push_back(t.label);
    return labels;
  };
  // Two inputs drawn as cells over [-0.5, 1.5]: plain ticks would be -0.4, 0, 0.4, ...
  CHECK(values(axis_ticks(-0.5, 1.5, false, 6, true)) == std::vector<std::string>{"0", "1"});
  CHECK(values(axis_ticks(-0.5, 1.5, false, 6, false)).size() > 2);
  // Coarse enough already: the usual 1-2-5 steps.
  CHECK(values(axis_ticks(0, 100, false, 5, true)) == std::vector<std::string>{"0", "20", "40", "60", "80", "100"});
  // Zoomed between two whole numbers: no tick at all rather than fractions.
  CHECK(axis_ticks(2.2, 2.8, false, 5, true).empty());
  CHECK(values(axis_ticks(-0.5, 6.5, false, 10, true)) == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6"});
}

TEST_CASE("tick labels: distinct, and read back to their tick within half a step") {
  for (const auto& range : std::vector<std::pair<double, double>>{{0, 1},
                                                                  {-7.3, 12.9},
                                                                  {1e-9, 3e-9},
                                                                  {0, 2e5},
                                                                  {0, 2e7},
                                                                  {1e8, 1e8 + 1e-3},
                                                                  {123456, 123457},
                                                                  {-1e308, 1e308},
                                                                  {0.999, 1.001},
                                                                  {-0.004, 0.002},
                                                                  {1e20, 5e20}}) {
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
  const std::vector<AxisMap> maps = {{0, 1, false, 100, 500},
                                     {-3, 7, false, 400, 20},  // a y axis: pixels grow downwards
                                     {1e-3, 1e3, true, 50, 850},
                                     {0.5, 4, true, 300, 10},
                                     {-1e6, 1e-6, false, 0, 1000}};
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
  const std::vector<AxisMap> maps = {
      {0, 10, false, 100, 700}, {-2, 3, false, 450, 30}, {1e-4, 1e2, true, 0, 900}, {2, 3, true, 600, 100}};
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

TEST_CASE("histograms: finite values only, counts by hand, edges, a single value, density integrates to 1") {
  // [0, 3] in 3 bins of width 1: 0 -> bin 0, 1 -> bin 1 (an inner edge counts above), 2 and the maximum 3 -> bin 2.
  const Histogram h = histogram({0, 1, kNaN, 2, kInf, 3, -kInf}, 3);
  CHECK(h.values == 4);
  CHECK(h.min == 0);
  CHECK(h.max == 3);
  CHECK(h.bin_width == 1);
  CHECK(h.counts == std::vector<double>{1, 1, 2});
  CHECK(h.density == std::vector<double>{0.25, 0.25, 0.5});

  // Edges: min + i * width, exactly the decimal values here; the last edge is the maximum.
  const Histogram e = histogram({10, 2, 4, 0}, 5);
  CHECK(e.counts == std::vector<double>{1, 1, 1, 0, 1});
  for (int i = 0; i <= 5; ++i) CHECK(e.edge(i) == 2.0 * i);

  // A single distinct value: the unit interval centred on it; 4 bins of 0.25, the value on the edge 2.0.
  const Histogram one = histogram({2, 2, 2}, 4);
  CHECK(one.min == 1.5);
  CHECK(one.max == 2.5);
  CHECK(one.counts == std::vector<double>{0, 0, 3, 0});
  CHECK(one.density[2] == doctest::Approx(4.0));

  // Counts sum to the finite values and the density integrates to 1, whatever the bins.
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) values.push_back(std::sin(0.37 * i) * std::exp(0.001 * i) - 0.2);
  values.push_back(kNaN);
  for (int bins : {1, 7, 17, 80}) {
    const Histogram d = histogram(values, bins);
    REQUIRE(d.counts.size() == std::size_t(bins));
    double total = 0, integral = 0;
    for (int b = 0; b < bins; ++b) total += d.counts[std::size_t(b)], integral += d.density[std::size_t(b)] * d.bin_width;
    CHECK(total == 1000);
    CHECK(d.values == 1000);
    CHECK(integral == doctest::Approx(1.0).epsilon(1e-12));
  }

  // Nothing finite: no bins.
  CHECK(histogram({}, 10).counts.empty());
  CHECK(histogram({kNaN, kInf}, 10).values == 0);
  CHECK(histogram({kNaN, kInf}, 10).counts.empty());
}

TEST_CASE("histograms: the Rice rule's bin count, and the step outline with its band") {
  CHECK(histogram_bins(0) == 8);
  CHECK(histogram_bins(20) == 8);        // 2 x 2.71 = 5.4, raised to 8
  CHECK(histogram_bins(1000) == 20);     // 2 x 10
  CHECK(histogram_bins(4096) == 32);     // 2 x 16
  CHECK(histogram_bins(1000000) == 80);  // 200, capped

  const Histogram h = histogram({0, 1, 1, 2}, 2);  // bins [0, 1), [1, 2]: counts 1, 3; densities 0.25, 0.75
  const Series s = histogram_series(h, "ensemble", 7);
  CHECK(s.label == "ensemble");
  CHECK(s.color == 7);
  CHECK(s.x == std::vector<double>{0, 1, 1, 2});
  CHECK(s.y == std::vector<double>{0.25, 0.25, 0.75, 0.75});
  CHECK(s.lower == std::vector<double>{0, 0, 0, 0});
  CHECK(s.upper == s.y);
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
  CHECK(cold.b < -0.05);                         // blue end
  CHECK(warm.a > 0.05);                          // red end
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

// ---- heat-map shader ------------------------------------------------------------------------------

namespace {

// shaders/heatmap.frag's arithmetic, in float as the GPU does it (the GPU's log2 may be up to 3 ulp
// less accurate than std::log2; the tolerances below leave room for that). NaN = the missing colour.
double shader_position(float texel, const ShaderScale& s) {
  if (!(std::abs(texel) <= 3.0e38f) || (s.log && texel <= 0.f)) return kNaN;
  const float coordinate = s.log ? std::log2(texel) : texel;
  return std::clamp((coordinate - s.offset) * s.scale + s.bias, 0.f, 1.f);
}

// Largest |shader t - color_position| over the values (both missing counts as agreement; one
// missing and not the other as 1).
double worst_shader_error(const std::vector<double>& values, const Range& colors, bool log) {
  std::vector<float> texels;
  ShaderScale scale;
  REQUIRE(pack_heat_values(values.data(), values.size(), colors, log, texels, scale));
  REQUIRE(texels.size() == values.size());
  double worst = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double cpu = color_position(values[i], colors, log), gpu = shader_position(texels[i], scale);
    worst = std::max(worst,
                     std::isnan(cpu) || std::isnan(gpu) ? (std::isnan(cpu) == std::isnan(gpu) ? 0.0 : 1.0) : std::abs(cpu - gpu));
  }
  return worst;
}

// A 64-bit LCG for reproducible test values (Knuth's MMIX constants).
struct TestRandom {
  std::uint64_t state = 12345;
  double uniform() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) * 0x1.0p-53;
  }
};

}  // namespace

TEST_CASE("heat-map shader: packed texels give color_position's t to float precision") {
  TestRandom random;
  const auto sample = [&](int n, auto value_at) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& x : v) x = value_at(random.uniform());
    v.insert(v.end(), {kNaN, kInf, -kInf});  // cells without a colour
    return v;
  };
  SUBCASE("linear, range from the data and beyond it") {
    const auto v = sample(2000, [](double u) { return -0.5 + 2 * u; });
    CHECK(worst_shader_error(v, {0, 1}, false) < 1e-6);
    CHECK(worst_shader_error(v, color_range(v.data(), v.size(), false, true, kNaN, kNaN), false) < 1e-6);
  }
  SUBCASE("linear, a narrow range far from zero (a kernel near its fixed point)") {
    const auto v = sample(2000, [](double u) { return 1e8 + 1e-3 * u; });
    const Range colors = color_range(v.data(), v.size(), false, false, kNaN, kNaN);
    CHECK(worst_shader_error(v, colors, false) < 1e-6);
    // The reason texels store value - colors.min: float(value) itself keeps nothing of this range.
    CHECK(static_cast<float>(1e8) == static_cast<float>(1e8 + 1e-3));
  }
  SUBCASE("log, diverging about 1 (chi_1) and wide (q*)") {
    const auto chi = sample(2000, [](double u) { return std::pow(10.0, -1.5 + 2.5 * u); });
    CHECK(worst_shader_error(chi, color_range(chi.data(), chi.size(), true, true, kNaN, kNaN), true) < 2e-5);
    auto q = sample(2000, [](double u) { return std::pow(10.0, -3 + 9 * u); });
    q.insert(q.end(), {0.0, -1.0, 1e-300, 1e300});  // <= 0: missing; far outside: clamped
    CHECK(worst_shader_error(q, {1e-3, 1e6}, true) < 2e-5);
  }
  SUBCASE("one-value ranges sit mid-scale, as on the CPU") {
    const std::vector<double> v = {2.5, 2.5, kNaN};
    CHECK(worst_shader_error(v, {2.5, 2.5}, false) == 0);
    CHECK(worst_shader_error(v, {2.5, 2.5}, true) == 0);
  }
  SUBCASE("what float cannot promise is left to the CPU") {
    const std::vector<double> v = {1, 2};
    std::vector<float> texels;
    ShaderScale scale;
    CHECK_FALSE(pack_heat_values(v.data(), v.size(), {1, 1.0001}, true, texels, scale));   // log range too narrow
    CHECK_FALSE(pack_heat_values(v.data(), v.size(), {1e-300, 10}, true, texels, scale));  // beyond float
    CHECK_FALSE(pack_heat_values(v.data(), v.size(), {0, 1e-40}, false, texels, scale));   // span below 1e-37
    CHECK_FALSE(pack_heat_values(v.data(), v.size(), {-1e300, 1e300}, false, texels, scale));
    CHECK_FALSE(pack_heat_values(v.data(), v.size(), {0, kInf}, false, texels, scale));
    CHECK(pack_heat_values(v.data(), v.size(), {1, 1.1}, true, texels, scale));
  }
}

TEST_CASE("heat-map shader: colormap tables, linearly interpolated, match the CPU colours") {
  // The GPU's LINEAR filter between table entries, at the texel-centre coordinate heatmap.frag uses.
  const auto interpolated = [](const ShaderTable& table, double t) {
    const double x = t * (kShaderTableSize - 1);
    const int i = std::min(static_cast<int>(x), kShaderTableSize - 2);
    const double f = x - i;
    const Srgb a = srgb_from_rgba8(table[i]), b = srgb_from_rgba8(table[i + 1]);
    return rgba8_from_srgb({a.r + f * (b.r - a.r), a.g + f * (b.g - a.g), a.b + f * (b.b - a.b)});
  };
  const auto channel_difference = [](Rgba8 p, Rgba8 q) {
    int worst = 0;
    for (int shift : {0, 8, 16}) worst = std::max(worst, std::abs(int((p >> shift) & 0xFF) - int((q >> shift) & 0xFF)));
    return worst;
  };
  int worst_sequential = 0, worst_diverging = 0;
  for (int k = 0; k <= 4096; ++k) {
    const double t = k / 4096.0;
    worst_sequential =
        std::max(worst_sequential, channel_difference(interpolated(sequential_shader_table(), t), sequential_color(t)));
    worst_diverging =
        std::max(worst_diverging, channel_difference(interpolated(diverging_shader_table(), t), diverging_color(t)));
  }
  CHECK(worst_sequential <= 1);
  CHECK(worst_diverging <= 1);
  CHECK(sequential_shader_table().front() == sequential_color(0));
  CHECK(diverging_shader_table().back() == diverging_color(1));
}

TEST_CASE("heat-map shader: sources carry no #version; the loader adds the context's") {
  for (const char* body : {fs::shaders::heatmap_vert, fs::shaders::heatmap_frag}) {
    CHECK(std::string(body).find("#version") == std::string::npos);
    CHECK(std::string(body).find("void main()") != std::string::npos);
  }
  CHECK(glsl_version_line("OpenGL ES 3.0 (WebGL 2.0 (OpenGL ES 3.0 Chromium))") == "#version 300 es");
  CHECK(glsl_version_line("4.5 (Core Profile) Mesa 22.3.6") == "#version 330 core");
  CHECK(glsl_version_line("3.3.0 NVIDIA 535.54") == "#version 330 core");
  const std::string source = shader_source("#version 300 es", fs::shaders::heatmap_frag);
  CHECK(source.rfind("#version 300 es\n", 0) == 0);  // the very first line, as GLSL requires
  // Every uniform the loader looks up is declared.
  for (const char* uniform : {"u_values", "u_colormap", "u_log", "u_scale", "u_missing"})
    CHECK(std::string(fs::shaders::heatmap_frag).find(uniform) != std::string::npos);
  CHECK(std::string(fs::shaders::heatmap_vert).find("u_projection") != std::string::npos);
}

// ---- PNG export -----------------------------------------------------------------------------------

namespace {

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
  return std::uint32_t(std::uint8_t(bytes[at])) << 24 | std::uint32_t(std::uint8_t(bytes[at + 1])) << 16 |
         std::uint32_t(std::uint8_t(bytes[at + 2])) << 8 | std::uint32_t(std::uint8_t(bytes[at + 3]));
}

// CRC-32 as the PNG specification defines it (ISO 3309 polynomial, reflected), bit by bit.
std::uint32_t png_crc(const std::string& bytes, std::size_t begin, std::size_t end) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = begin; i < end; ++i) {
    crc ^= std::uint8_t(bytes[i]);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace

TEST_CASE("PNG export: a known image encodes to a valid PNG that decodes to the same pixels") {
  const int width = 5, height = 3;
  std::vector<unsigned char> rgba(static_cast<std::size_t>(width) * height * 4);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      unsigned char* p = &rgba[(static_cast<std::size_t>(y) * width + x) * 4];
      p[0] = static_cast<unsigned char>(40 * x), p[1] = static_cast<unsigned char>(100 * y),
      p[2] = static_cast<unsigned char>(7 * x * y), p[3] = 255;
    }
  const std::string png = encode_png(rgba, width, height);
  REQUIRE(png.size() > 8 + 25 + 12);
  CHECK(png.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // The first chunk is IHDR: width, height, bit depth 8, colour type 6 (RGBA).
  CHECK(big_endian(png, 8) == 13);
  CHECK(png.substr(12, 4) == "IHDR");
  CHECK(big_endian(png, 16) == width);
  CHECK(big_endian(png, 20) == height);
  CHECK(int(png[24]) == 8);
  CHECK(int(png[25]) == 6);
  // Every chunk's CRC is right, and the file ends with IEND.
  std::size_t at = 8;
  std::string last;
  while (at + 12 <= png.size()) {
    const std::uint32_t length = big_endian(png, at);
    REQUIRE(at + 12 + length <= png.size());
    CHECK(big_endian(png, at + 8 + length) == png_crc(png, at + 4, at + 8 + length));
    last = png.substr(at + 4, 4);
    at += 12 + length;
  }
  CHECK(at == png.size());
  CHECK(last == "IEND");
  // An independent decoder gives back every pixel.
  int w = 0, h = 0, channels = 0;
  unsigned char* decoded = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()), static_cast<int>(png.size()),
                                                 &w, &h, &channels, 4);
  REQUIRE(decoded != nullptr);
  CHECK(w == width);
  CHECK(h == height);
  CHECK(std::equal(rgba.begin(), rgba.end(), decoded));
  stbi_image_free(decoded);

  CHECK(encode_png(rgba, width + 1, height).empty());  // buffer and size disagree
  CHECK(encode_png({}, 0, 0).empty());
}

TEST_CASE("PNG export: screen rectangles to framebuffer pixels (HiDPI scale, y from the bottom)") {
  // A 100 x 80 point window on a display with 2 pixels per point: a 200 x 160 framebuffer.
  CHECK(framebuffer_rect(10, 20, 30, 50, 0, 0, 2, 2, 200, 160) == PixelRect{20, 60, 40, 60});
  // Without scaling: the rect's bottom edge at y = 50 of 80 leaves 30 rows below it.
  CHECK(framebuffer_rect(10, 20, 30, 50, 0, 0, 1, 1, 100, 80) == PixelRect{10, 30, 20, 30});
  // A display origin other than (0, 0) (ImGui's DisplayPos) is subtracted first.
  CHECK(framebuffer_rect(110, 220, 130, 250, 100, 200, 1, 1, 100, 80) == PixelRect{10, 30, 20, 30});
  // Fractional edges round to the nearest pixel; the size is that of the rounded edges.
  CHECK(framebuffer_rect(10.4f, 20.6f, 30.5f, 50.2f, 0, 0, 1, 1, 100, 80) == PixelRect{10, 30, 21, 29});
  // Partly off screen: clipped; wholly off screen or empty: nothing.
  CHECK(framebuffer_rect(-10, -5, 20, 10, 0, 0, 1, 1, 100, 80) == PixelRect{0, 70, 20, 10});
  CHECK(framebuffer_rect(90, 70, 150, 120, 0, 0, 1, 1, 100, 80) == PixelRect{90, 0, 10, 10});
  CHECK(framebuffer_rect(200, 10, 250, 20, 0, 0, 1, 1, 100, 80) == PixelRect{});
  CHECK(framebuffer_rect(10, 10, 10, 20, 0, 0, 1, 1, 100, 80) == PixelRect{});

  // glReadPixels gives the bottom row first; images want the top row first.
  const std::vector<unsigned char> bottom_first = {1, 1, 1, 1, 2, 2, 2, 2,   // row y = 0 (bottom)
                                                   3, 3, 3, 3, 4, 4, 4, 4,   // y = 1
                                                   5, 5, 5, 5, 6, 6, 6, 6};  // y = 2 (top)
  const std::vector<unsigned char> top_first = flipped_rows(bottom_first, 2, 3);
  CHECK(top_first == std::vector<unsigned char>{5, 5, 5, 5, 6, 6, 6, 6, 3, 3, 3, 3, 4, 4, 4, 4, 1, 1, 1, 1, 2, 2, 2, 2});
  CHECK(flipped_rows(top_first, 2, 3) == bottom_first);
  CHECK(flipped_rows(bottom_first, 3, 3).empty());
}

TEST_CASE("editable points: the nearest point within the radius, none beyond it, non-finite skipped") {
  const std::vector<double> px = {10, 20, NAN, 40}, py = {10, 10, 30, 10};
  CHECK(nearest_point(px, py, 12, 11, 5) == 0);
  CHECK(nearest_point(px, py, 16, 10, 5) == 1);   // 4 px from point 1, 6 px from point 0
  CHECK(nearest_point(px, py, 15, 10, 5) == 0);   // equally near: the first wins
  CHECK(nearest_point(px, py, 30, 30, 5) == -1);  // the non-finite point is never hit
  CHECK(nearest_point(px, py, 30, 10, 5) == -1);  // 10 px from the nearest
  CHECK(nearest_point(px, py, 30, 10, 10) == 1);  // on the radius counts, first of the two
  CHECK(nearest_point({}, {}, 0, 0, 100) == -1);
  CHECK(nearest_point({1, 2}, {1}, 2, 1, 0.5) == -1);  // only complete pairs
}
