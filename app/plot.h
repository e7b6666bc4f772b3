// Our plot widgets (STYLE.md guideline 12): line plots with error bands and heat maps with a
// colour bar, drawn with ImGui's draw list so panels never draw lines by hand.
//
// Sections
//   1. Widgets        line_plot, heat_map (plot_widgets.cpp: need an ImGui frame)
//   2. Export         series_csv, heat_map_csv (plot.cpp: pure); the export queue and
//                     save_exports (plot_widgets.cpp) behind every plot's CSV and PNG buttons
//   3. Maths          ticks, labels, axis transforms, zoom and pan, ranges, histograms, cell grids,
//                     the heat-map shader's packing (plot.cpp: pure, no ImGui context needed; tested
//                     in tests/test_plot.cpp)
//
// Interaction (both widgets): the mouse wheel zooms around the cursor (over the plot both axes,
// over an axis's tick labels that axis only), dragging pans, double-click resets to the
// automatic view, a click without drag is reported in PlotEvents. A line plot may make one series
// editable (PlotSpec::editable): pressing on one of its points and dragging moves that point instead
// of panning, a right-click or Shift+click on it removes it; PlotEvents reports both, the caller
// changes its data. Export: the small "CSV" and "PNG"
// buttons at the right of the title row, or a right-click on the plot, save the plot's data as CSV
// or its image as PNG (through the app's save_exports; PNG images leave out buttons and read-outs). The view lives in ImGui's state
// storage under the widget id, so callers pass the same specs every frame and keep no state.
// Non-finite values are never drawn: lines break around them, bands skip them, heat-map cells
// with them are grey and read "n/a". On a log axis values <= 0 count as non-finite.
#pragma once
#include <cmath>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "imgui.h"

namespace fs::ui {

// ---- 1. Widgets ----------------------------------------------------------------------------------

struct Series {
  std::string label;                 // shown in the legend and the hover read-out; empty = not listed (a plot
                                     // whose series all lack one reads them out under the y axis' label)
  std::vector<double> x, y;          // points in order; need not be sorted (cobwebs are fine)
  std::vector<double> lower, upper;  // optional band (both the size of y), shaded under the line
  ImU32 color = 0;                   // 0 = qualitative_color(index of the series)
  float thickness = 2.f;             // pixels at a 13 px font; scaled with ImGui::GetFontSize()
  bool markers = false;              // a dot at every point
  bool dashed = false;
  bool line = true;  // false: markers only (a scatter)
};

struct Axis {
  std::string label;  // UTF-8, e.g. "σ_w²"
  bool log = false;
  bool fixed = false;  // line plots: use [min, max] instead of the data's range
  double min = 0, max = 1;
  bool integer = false;  // ticks at whole numbers only (an index axis: inputs, layers)
};

struct DataPoint {
  double x = 0, y = 0;
};

struct PlotSpec {
  const char* id = "plot";  // ImGui id, unique within the window
  std::string title;
  Axis x, y;
  ImVec2 size{-1, 300};                  // pixels; as ImGui's CalcItemSize: < 0 = available space + size, 0 = default
  std::vector<double> x_lines, y_lines;  // dashed reference lines (y = 1, a fixed point...)
  std::optional<DataPoint> marker;       // a ring at the current point
  bool legend = true;
  std::string export_name;  // exported files are export_name.csv / .png; empty = "fieldscope-" + id
  std::string note;         // what is plotted (app/view_notes.h): a "(?)" after the title shows it on hover
  int editable = -1;        // line plots: index of the series whose points the user drags / removes
};

struct PlotEvents {
  bool hovered = false;       // the mouse is over the plot area
  double x = 0, y = 0;        // data coordinates under the mouse (valid when hovered)
  bool clicked = false;       // left click released without dragging, inside the plot area, not on an editable point
  int column = -1, row = -1;  // heat maps: the cell under the mouse (-1 outside the grid)
  // Editable series (PlotSpec::editable): the point under the mouse, the point being dragged and where
  // to (data coordinates, inside the plot area), the point the user asked to remove; -1 for none.
  int point = -1;
  int dragged = -1;
  double drag_x = 0, drag_y = 0;
  int removed = -1;
  // Where the plot area was drawn (ImGui coordinates) and the data range it showed (tests, overlays).
  ImVec2 area_min{0, 0}, area_max{0, 0};
  double view_x_min = 0, view_x_max = 1, view_y_min = 0, view_y_max = 1;
};

PlotEvents line_plot(const PlotSpec& spec, const std::vector<Series>& series);

// A grid of cells: values[row * columns + column], row 0 at y.min. Axis min/max are the
// coordinates of the first and last column (row) centres, as in core's grids (column i at
// x.min + (x.max - x.min) * i / (columns - 1)); on a log axis centres are evenly spaced in log.
// Axis::fixed is ignored: the view starts at the grid's edges.
struct HeatMapSpec {
  const char* id = "heat_map";
  std::string title;
  Axis x, y;
  std::string value_label;  // colour-bar caption and hover name of the value
  const double* values = nullptr;
  int columns = 0, rows = 0;
  bool log_values = false;        // log colour scale (values <= 0 drawn as missing, read out as they are)
  bool diverging = false;         // diverging map; the automatic range is symmetric about 0 (log: about 1)
  double vmin = NAN, vmax = NAN;  // colour range; NaN = from the data, ignoring non-finite cells
  ImVec2 size{-1, 360};
  std::optional<DataPoint> marker;  // the current (x, y), drawn as a crosshair
  bool legend = true;               // legend of labelled overlays
  std::string export_name;          // as PlotSpec::export_name
  std::string note;                 // as PlotSpec::note
};

PlotEvents heat_map(const HeatMapSpec& spec, const std::vector<Series>& overlays = {});

// Heat maps are coloured by a GLSL shader (shaders/heatmap.*) from a float texture of the values;
// when that is unavailable, from an RGBA texture coloured on the CPU; without GL, with rectangles.
// The environment variable FIELDSCOPE_HEATMAP=cpu or =rectangles forces a fallback (troubleshooting).
// Heat maps cache a GL texture per widget id (textures unused for a few seconds are freed while
// drawing). Call once before the GL context goes away, e.g. before ImGui_ImplOpenGL3_Shutdown().
void release_plot_resources();

// ---- 2. Export -----------------------------------------------------------------------------------
// CSV (RFC 4180 quoting, "\n" line ends). Numbers are the shortest text that reads back to the same
// double; NaN is an empty field, infinities are "inf" and "-inf" (pandas and NumPy read all three).

// When every series has the same x, one row per x: x_label, then per series its label (and
// "label lower", "label upper" if it has a band). Otherwise long form, one row per point:
// series, x_label, y (and lower, upper if any series has a band). Unlabelled series are "series N".
std::string series_csv(const std::vector<Series>& series, const std::string& x_label);
// One row per cell, rows in order (row 0 first), columns within a row: x, y (cell centres), value.
std::string heat_map_csv(const HeatMapSpec& spec);
std::string csv_number(double value);

// Files the plot widgets want saved: CSV at once, PNG images after the frame that drew the widget
// without its buttons and read-outs was rendered. The app passes the platform's save hook to
// save_exports() after rendering each frame (before the buffer swap).
struct ExportFile {
  std::string name, bytes;
};
struct ImageCapture {
  std::string name;      // file name
  std::string widget;    // PlotSpec::id of the widget to capture
  ImVec2 min, max;       // its frame on screen (ImGui coordinates), set when drawn for the capture
  int drawn_frame = -1;  // ImGui frame that drew it for the capture; -1 = not yet
  int requested_frame = 0;
};
struct ExportQueue {
  std::vector<ExportFile> files;
  std::vector<ImageCapture> captures;
};
ExportQueue& export_queue();
// Reads the captures drawn in the frame just rendered from the framebuffer (ImGui::GetDrawData()
// gives its size and HiDPI scale), encodes them as PNG and hands every finished file to `save`.
// Captures whose widget was not drawn within a few frames are dropped with a message on stderr.
void save_exports(const std::function<void(const std::string& name, const std::string& bytes)>& save);

// Where the plots of the last frame were, with their export buttons (ImGui coordinates), for the
// end-to-end tests.
struct DrawnPlot {
  std::string id;
  ImVec2 min, max;                            // the widget's frame
  ImVec2 csv_min, csv_max, png_min, png_max;  // its buttons
};
const std::vector<DrawnPlot>& drawn_plots();

// ---- 3. Maths ------------------------------------------------------------------------------------

struct Range {
  double min = 0, max = 1;
};

// Step from {1, 2, 5} x 10^k whose tick count over `span` is nearest `target_count` (0 if span is
// not positive and finite).
double nice_step(double span, int target_count);
// Multiples of nice_step(max - min, target_count) inside [min, max] (of the next finer 1-2-5 step
// if that leaves fewer than two), computed so that they equal their decimal literals (0.3, not
// 0.30000000000000004). min == max gives {min}; a span below 1e-13 of the magnitude, the midpoint.
std::vector<double> nice_ticks(double min, double max, int target_count);
// Major ticks of a log axis (0 < min <= max): decades, every 1, 2, 5, 10... decades for wide
// ranges; 1-2-5 within a decade for narrow ones, linear nice ticks when even those are too few.
std::vector<double> log_ticks(double min, double max, int target_count);

struct Tick {
  double value = 0;
  std::string label;  // empty for minor ticks
  bool major = true;
};
// Major ticks with labels, and for log axes minor ticks (2..9 x 10^k) for the grid. `integer` (linear
// axes): whole numbers only, however far the view is zoomed in.
std::vector<Tick> axis_ticks(double min, double max, bool log, int target_count, bool integer = false);
// Labels for linear ticks with the given step, with the same number of decimals for all of them;
// scientific ("2.5e7") when the largest magnitude is >= 1e7 or < 1e-3, or fixed notation would
// need more than 16 digits.
std::vector<std::string> tick_labels(const std::vector<double>& ticks, double step);
// Short label for a log-axis tick: "0.01", "1000", "1e-5", "2e6".
std::string compact_number(double value);
// Hover read-outs: 5 significant digits ("1.2346e-5"), "n/a" for non-finite values.
std::string format_value(double value);

// Maps an axis range onto a pixel interval (pixel_min may exceed pixel_max, as for y axes).
struct AxisMap {
  double min = 0, max = 1;
  bool log = false;
  double pixel_min = 0, pixel_max = 1;
};
// The coordinate the axis is linear in: log10(value) on log axes (NaN for value <= 0).
double axis_coordinate(double value, bool log);
double axis_value(double coordinate, bool log);
double to_pixel(const AxisMap& map, double value);  // NaN for non-finite or (log) non-positive values
double to_value(const AxisMap& map, double pixel);
// The view zoomed by `factor` (< 1 zooms in) about the value under `pixel`, which stays there.
// Spans are limited (relative 1e-10 up to 1e300 linear; 1e-9 up to 600 decades log).
AxisMap zoomed(const AxisMap& map, double pixel, double factor);
// The view moved so that content follows the mouse by `pixel_delta`.
AxisMap panned(const AxisMap& map, double pixel_delta);

// The point (px[i], py[i]) nearest (x, y) within `radius` (all in pixels), -1 if none; non-finite
// points never match; the first of equally near points wins.
int nearest_point(const std::vector<double>& px, const std::vector<double>& py, double x, double y, double radius);

// Range of the finite values fed to it (positive ones only on a log axis).
struct RangeFinder {
  bool log = false;
  double min = INFINITY, max = -INFINITY;
  void add(double value);
  void add(const std::vector<double>& values);
  bool empty() const { return !(min <= max); }
  // Padded by `fraction` of the span on each side (of the log span on log axes); an empty range
  // gives [0, 1] ([1, 10] log), a single value is widened to a sensible interval around it.
  Range padded(double fraction) const;
};

// A histogram of the finite values (NaN and infinities are left out) in `bins` equal bins spanning their
// range; a single distinct value gets the unit interval centred on it. A value on an inner edge counts in
// the bin above it, the largest value in the last bin. No finite value: no bins.
struct Histogram {
  double min = 0, max = 1;  // outer edges of the bins
  double bin_width = 1;
  std::vector<double> counts;                                       // values per bin
  std::vector<double> density;                                      // counts / (values * bin_width): integrates to 1
  int values = 0;                                                   // finite values counted
  double edge(int index) const { return min + index * bin_width; }  // index 0..bins
};
Histogram histogram(const std::vector<double>& values, int bins);
// Bins for `count` values: 2 ∛count rounded (the Rice rule), kept within [8, 80].
int histogram_bins(std::size_t count);
// The density as a step outline over the bin edges (two points per bin) with a band down to 0.
Series histogram_series(const Histogram& histogram, std::string label, ImU32 color = 0);

// The cells of one heat-map axis: `count` centres from `first` to `last`, evenly spaced in the
// axis coordinate.
struct CellGrid {
  double first = 0, last = 1;
  int count = 1;
  bool log = false;
  double centre(int index) const;
  Range edges() const;            // outer edges: half a cell beyond the first and last centres
  int index(double value) const;  // the cell containing value, -1 outside
};

// Colour range of a heat map (see HeatMapSpec::vmin, diverging, log_values).
Range color_range(const double* values, std::size_t count, bool log, bool diverging, double vmin, double vmax);
// Position in [0, 1] of value on the colour scale (clamped); NaN when the value has no colour.
double color_position(double value, const Range& range, bool log);

// The heat-map shader's view of a colour scale (shaders/heatmap.frag): one float texel per cell and
// t = clamp((coordinate - offset) * scale + bias, 0, 1), where coordinate is log2(texel) on log
// scales and the texel itself otherwise; +infinity marks cells without a colour.
struct ShaderScale {
  float offset = 0, scale = 0, bias = 0;
  bool log = false;
};
// Packs the values for the shader so that its t equals color_position(value, colors, log) to float
// precision (linear scales store value - colors.min, so the colour range is resolved however far
// from zero it lies). False when float arithmetic cannot promise 1e-3: colour ranges beyond
// 1e-37..1e37 (log) or spans outside 1e-37..1e37 (linear), log ranges narrower than 1% of their
// log2 magnitude; the caller then colours on the CPU.
bool pack_heat_values(const double* values, std::size_t count, const Range& colors, bool log, std::vector<float>& texels,
                      ShaderScale& scale);

}  // namespace fs::ui
