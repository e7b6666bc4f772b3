// The ImGui half of the plot widgets: layout, mouse interaction and drawing. The maths it relies
// on (ticks, transforms, zoom, ranges) lives in plot.cpp and is tested there.
//
// Sections
//   View state      per-widget zoom/pan views in ImGui's state storage
//   Layout          title, axis labels, tick labels, plot rectangle, colour-bar room
//   Interaction     wheel zoom, drag pan, double-click reset, click
//   Export          CSV / PNG buttons and context menu, the export queue, PNG capture after rendering
//   Drawing         grid, axes, clipped polylines, dashes, bands, markers, legend, tooltips
//   line_plot
//   heat_map        values cached per widget; GLSL shader, CPU-coloured texture or rectangles; colour bar
#define IMGUI_DEFINE_MATH_OPERATORS
#include "app/plot.h"

#include <algorithm>
#include <array>
#include <bit>  // std::rotl (std::bit_cast is missing in Emscripten 3.1.6: core/bits.h)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "app/colormap.h"
#include "app/png.h"
#include "app/shader.h"
#include "app/texture.h"
#include "core/bits.h"
#include "imgui_internal.h"

namespace fs::ui {
namespace {

constexpr float kZoomPerWheelStep = 0.85f;
constexpr int kMaxTooltipSeries = 16;

ImU32 with_alpha(ImU32 color, float alpha) {
  const ImU32 a = static_cast<ImU32>(std::lround(((color >> IM_COL32_A_SHIFT) & 0xFF) * alpha));
  return (color & ~IM_COL32_A_MASK) | (std::min<ImU32>(a, 255) << IM_COL32_A_SHIFT);
}

ImU32 series_color(const Series& s, std::size_t index) {
  return s.color != 0 ? s.color : qualitative_color(static_cast<int>(index));
}

// ---- View state ------------------------------------------------------------------------------
// Each axis view is a flag and two doubles, stored as ints (the storage has no doubles) under
// keys hashed from the widget's id.

struct AxisView {
  bool user = false;  // the user zoomed or panned; otherwise the view follows the data
  double min = 0, max = 1;
};

class ViewStore {
 public:
  explicit ViewStore(ImGuiID base) : storage_(ImGui::GetStateStorage()), base_(base) {}

  AxisView load(int axis) const {
    AxisView view;
    view.user = storage_->GetBool(key(axis * 8));
    if (view.user) view.min = load_double(axis * 8 + 1), view.max = load_double(axis * 8 + 3);
    return view;
  }
  void save(int axis, const AxisView& view) {
    storage_->SetBool(key(axis * 8), view.user);
    store_double(axis * 8 + 1, view.min);
    store_double(axis * 8 + 3, view.max);
  }
  bool panning() const { return storage_->GetBool(key(16)); }
  void set_panning(bool on) { storage_->SetBool(key(16), on); }

 private:
  ImGuiID key(int slot) const { return ImHashData(&slot, sizeof slot, base_); }
  double load_double(int slot) const {
    const auto low = static_cast<std::uint32_t>(storage_->GetInt(key(slot)));
    const auto high = static_cast<std::uint32_t>(storage_->GetInt(key(slot + 1)));
    return double_from_bits(std::uint64_t{high} << 32 | low);
  }
  void store_double(int slot, double value) {
    const std::uint64_t bits = bits_of(value);
    storage_->SetInt(key(slot), static_cast<int>(static_cast<std::uint32_t>(bits)));
    storage_->SetInt(key(slot + 1), static_cast<int>(static_cast<std::uint32_t>(bits >> 32)));
  }

  ImGuiStorage* storage_;
  ImGuiID base_;
};

// ---- Layout ----------------------------------------------------------------------------------

struct Layout {
  ImRect frame, plot;
  float em = 13, pad = 5, tick_length = 4, scale = 1;  // scale: 1 at ImGui's default 13 px font
  float title_y = 0, label_row_y = 0, x_label_y = 0;
  float title_max_x = INFINITY;  // the title ends left of the export buttons
  bool has_title = false, has_label_row = false, has_x_label = false;
  bool too_small = false;
  AxisMap x, y;
  bool x_integer = false, y_integer = false;  // Axis::integer
  std::vector<Tick> x_ticks, y_ticks;
};

float text_width(const std::string& text) { return ImGui::CalcTextSize(text.c_str()).x; }

float widest_label(const std::vector<Tick>& ticks) {
  float width = 0;
  for (const Tick& t : ticks)
    if (t.major) width = std::max(width, text_width(t.label));
  return width;
}

// Recomputes the ticks for the maps' ranges: y ticks by height; x ticks so labels do not collide.
void place_ticks(Layout& layout) {
  const float height = layout.plot.GetHeight(), width = layout.plot.GetWidth();
  const int y_target = std::clamp(static_cast<int>(height / (layout.em * 2.6f)), 2, 10);
  layout.y_ticks = axis_ticks(layout.y.min, layout.y.max, layout.y.log, y_target, layout.y_integer);
  int x_target = std::clamp(static_cast<int>(width / (layout.em * 6)), 2, 10);
  for (int attempt = 0; attempt < 4; ++attempt) {
    layout.x_ticks = axis_ticks(layout.x.min, layout.x.max, layout.x.log, x_target, layout.x_integer);
    bool collide = false;
    double previous_right = -INFINITY;
    for (const Tick& t : layout.x_ticks) {
      if (!t.major) continue;
      const double centre = to_pixel(layout.x, t.value), half = 0.5 * text_width(t.label);
      if (centre - half < previous_right + layout.em) collide = true;
      previous_right = centre + half;
    }
    if (!collide || x_target <= 2) break;
    x_target = std::max(2, x_target * 2 / 3);
  }
}

void set_view(Layout& layout, const Range& x_view, const Range& y_view) {
  layout.x.min = x_view.min, layout.x.max = x_view.max;
  layout.y.min = y_view.min, layout.y.max = y_view.max;
  if (!layout.too_small) place_ticks(layout);
}

// right_reserve: width kept free right of the plot (the colour bar).
Layout make_layout(const ImRect& frame, const std::string& title, const Axis& x_axis, const Axis& y_axis, bool label_row,
                   const Range& x_view, const Range& y_view, float right_reserve) {
  Layout l;
  l.frame = frame;
  l.em = ImGui::GetFontSize();
  l.scale = l.em / 13.f;
  l.pad = std::round(l.em * 0.4f);
  l.tick_length = std::round(l.em * 0.3f);
  l.x = {x_view.min, x_view.max, x_axis.log, 0, 1};
  l.y = {y_view.min, y_view.max, y_axis.log, 0, 1};
  l.x_integer = x_axis.integer;
  l.y_integer = y_axis.integer;

  float top = frame.Min.y + l.pad;
  l.has_title = !title.empty();
  l.title_y = top, top += l.em + 0.5f * l.pad;  // also without a title: the export buttons sit there
  l.has_label_row = label_row;
  if (l.has_label_row) l.label_row_y = top, top += l.em + 0.5f * l.pad;
  top += 0.5f * l.em;  // the top y tick label is centred on the plot's top edge
  float bottom = frame.Max.y - l.pad;
  l.has_x_label = !x_axis.label.empty();
  if (l.has_x_label) l.x_label_y = bottom - l.em, bottom -= l.em + 0.5f * l.pad;
  bottom -= l.em + l.tick_length + 0.25f * l.pad;

  // y tick labels decide the left margin; their count depends only on the height.
  l.plot = ImRect(frame.Min.x, top, frame.Max.x, bottom);
  l.y.pixel_min = bottom, l.y.pixel_max = top;
  const int y_target = std::clamp(static_cast<int>((bottom - top) / (l.em * 2.6f)), 2, 10);
  const float y_labels = widest_label(axis_ticks(y_view.min, y_view.max, y_axis.log, y_target, y_axis.integer));
  const float left = frame.Min.x + l.pad + y_labels + l.tick_length + 0.5f * l.pad;
  const float right = frame.Max.x - l.pad - right_reserve - 0.8f * l.em;
  l.plot = ImRect(left, top, right, bottom);
  l.x.pixel_min = left, l.x.pixel_max = right;
  l.too_small = right - left < 2 * l.em || bottom - top < 2 * l.em;
  set_view(l, x_view, y_view);
  return l;
}

// ---- Interaction -----------------------------------------------------------------------------

enum class Zone { none, plot, x_axis, y_axis };

Zone zone_at(const Layout& l, const ImVec2& p) {
  if (l.plot.Contains(p)) return Zone::plot;
  const bool within_x = p.x >= l.plot.Min.x && p.x <= l.plot.Max.x;
  const bool within_y = p.y >= l.plot.Min.y && p.y <= l.plot.Max.y;
  if (within_x && p.y > l.plot.Max.y && p.y <= l.frame.Max.y) return Zone::x_axis;
  if (within_y && p.x < l.plot.Min.x && p.x >= l.frame.Min.x) return Zone::y_axis;
  return Zone::none;
}

// The widget's item and its events. Call right after the item was submitted; updates the views
// (and the layout's maps and ticks) for this frame's wheel, drag and double-click.
// `allow_pan` false: a drag moves an editable point instead of the view.
PlotEvents interact(Layout& layout, ViewStore& store, AxisView& x_view, AxisView& y_view, bool pressed, const Range& x_auto,
                    const Range& y_auto, bool allow_pan = true) {
  PlotEvents events;
  if (layout.too_small) return events;
  ImGuiIO& io = ImGui::GetIO();
  const bool hovered = ImGui::IsItemHovered();
  const Zone hover_zone = hovered ? zone_at(layout, io.MousePos) : Zone::none;
  if (hover_zone != Zone::none) ImGui::SetItemUsingMouseWheel();

  AxisMap x_map = layout.x, y_map = layout.y;
  bool x_moved = false, y_moved = false;
  if (hover_zone != Zone::none && io.MouseWheel != 0) {
    const double factor = std::pow(double(kZoomPerWheelStep), double(io.MouseWheel));
    if (hover_zone != Zone::y_axis) x_map = zoomed(x_map, io.MousePos.x, factor), x_moved = true;
    if (hover_zone != Zone::x_axis) y_map = zoomed(y_map, io.MousePos.y, factor), y_moved = true;
  }

  const float threshold = io.MouseDragThreshold;
  const bool dragged = io.MouseDragMaxDistanceSqr[0] >= threshold * threshold;
  const Zone press_zone = zone_at(layout, io.MouseClickedPos[0]);
  if (allow_pan && ImGui::IsItemActive() && dragged && press_zone != Zone::none) {
    // Content follows the mouse; the movement before the drag threshold is caught up at once.
    const ImVec2 delta = store.panning() ? io.MouseDelta : ImGui::GetMouseDragDelta(0, 0.f);
    store.set_panning(true);
    if (press_zone != Zone::y_axis && delta.x != 0) x_map = panned(x_map, delta.x), x_moved = true;
    if (press_zone != Zone::x_axis && delta.y != 0) y_map = panned(y_map, delta.y), y_moved = true;
  } else if (!ImGui::IsItemActive()) {
    store.set_panning(false);
  }

  if (x_moved) x_view = {true, x_map.min, x_map.max};
  if (y_moved) y_view = {true, y_map.min, y_map.max};
  if (hovered && ImGui::IsMouseDoubleClicked(0)) x_view = {}, y_view = {};
  if (!x_view.user) x_view.min = x_auto.min, x_view.max = x_auto.max;
  if (!y_view.user) y_view.min = y_auto.min, y_view.max = y_auto.max;
  store.save(0, x_view);
  store.save(1, y_view);
  set_view(layout, {x_view.min, x_view.max}, {y_view.min, y_view.max});

  events.area_min = layout.plot.Min, events.area_max = layout.plot.Max;
  events.view_x_min = layout.x.min, events.view_x_max = layout.x.max;
  events.view_y_min = layout.y.min, events.view_y_max = layout.y.max;
  events.hovered = hover_zone == Zone::plot;
  if (events.hovered) {
    events.x = to_value(layout.x, io.MousePos.x);
    events.y = to_value(layout.y, io.MousePos.y);
  }
  events.clicked = pressed && !dragged && press_zone == Zone::plot && events.hovered;
  return events;
}

// The item for a widget: reserves its rectangle; returns the frame.
ImRect widget_frame(const ImVec2& requested_size) {
  const float em = ImGui::GetFontSize();
  ImVec2 size = ImGui::CalcItemSize(requested_size, em * 24, em * 18);
  size.x = std::max(size.x, em * 4);
  size.y = std::max(size.y, em * 4);
  const ImVec2 pos = ImGui::GetCursorScreenPos();
  return ImRect(pos, pos + size);
}

// ---- Export ----------------------------------------------------------------------------------

struct DrawnPlots {
  int frame = -1;
  std::vector<DrawnPlot> plots;
};
DrawnPlots& drawn_registry() {
  static DrawnPlots registry;
  return registry;
}

// The capture waiting for this widget to be drawn without its buttons and read-outs, if any.
ImageCapture* pending_capture(const char* id) {
  for (ImageCapture& c : export_queue().captures)
    if (c.drawn_frame < 0 && c.widget == id) return &c;
  return nullptr;
}

struct ExportRequest {
  bool csv = false, png = false;
};

// The "CSV" and "PNG" buttons at the right end of the title row. They are submitted before the
// plot's own item so that they, not the plot, take the mouse when it is over them. Sets where the
// title must end; `hidden` (the frame drawn for a PNG) keeps their place but does not draw them.
ExportRequest export_buttons(Layout& layout, bool hidden, DrawnPlot& drawn) {
  ExportRequest request;
  const float padding = ImGui::GetStyle().FramePadding.x;
  const ImVec2 csv_size(text_width("CSV") + 2 * padding, layout.em), png_size(text_width("PNG") + 2 * padding, layout.em);
  const ImVec2 png_min(std::round(layout.frame.Max.x - layout.pad - png_size.x), layout.title_y);
  const ImVec2 csv_min(std::round(png_min.x - 0.3f * layout.em - csv_size.x), layout.title_y);
  layout.title_max_x = csv_min.x - layout.em;
  drawn.csv_min = csv_min, drawn.csv_max = csv_min + csv_size;
  drawn.png_min = png_min, drawn.png_max = png_min + png_size;
  if (hidden) return request;
  const ImVec2 cursor = ImGui::GetCursorScreenPos();
  ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetColorU32(ImGuiCol_Button, 0.3f));
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetColorU32(ImGuiCol_Text, 0.7f));
  ImGui::SetCursorScreenPos(csv_min);
  request.csv = ImGui::SmallButton("CSV##export");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save the plotted data as CSV (also: right-click the plot)");
  ImGui::SetCursorScreenPos(png_min);
  request.png = ImGui::SmallButton("PNG##export");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save this plot as a PNG image (also: right-click the plot)");
  ImGui::PopStyleColor(2);
  ImGui::SetCursorScreenPos(cursor);
  return request;
}

// Right-click on the plot (the last item): the same two exports.
void export_menu(ExportRequest& request) {
  if (ImGui::BeginPopupContextItem("##export-menu")) {
    if (ImGui::MenuItem("Export data as CSV")) request.csv = true;
    if (ImGui::MenuItem("Export image as PNG")) request.png = true;
    ImGui::EndPopup();
  }
}

// After drawing: records where the widget was, completes its capture (drawn clean this frame) and
// queues what was asked for. `csv` makes the file's text (only called when asked).
void finish_exports(const char* id, const std::string& export_name, const ImRect& frame, ImageCapture* capture,
                    const ExportRequest& request, DrawnPlot drawn, const std::function<std::string()>& csv) {
  const int frame_count = ImGui::GetFrameCount();
  DrawnPlots& registry = drawn_registry();
  if (registry.frame != frame_count) registry.plots.clear(), registry.frame = frame_count;
  registry.plots.push_back(std::move(drawn));
  if (capture) capture->min = frame.Min, capture->max = frame.Max, capture->drawn_frame = frame_count;
  const std::string base = export_name.empty() ? std::string("fieldscope-") + id : export_name;
  ExportQueue& queue = export_queue();
  if (request.csv) queue.files.push_back({base + ".csv", csv()});
  if (request.png && !pending_capture(id)) {
    ImageCapture next;
    next.name = base + ".png";
    next.widget = id;
    next.requested_frame = frame_count;
    queue.captures.push_back(std::move(next));
  }
}

// ---- Drawing ---------------------------------------------------------------------------------

ImU32 text_color(float alpha = 1) { return ImGui::GetColorU32(ImGuiCol_Text, alpha); }

void draw_grid(ImDrawList* draw, const Layout& l) {
  for (const Tick& t : l.x_ticks) {
    const float x = static_cast<float>(to_pixel(l.x, t.value));
    if (std::isfinite(x)) draw->AddLine({x, l.plot.Min.y}, {x, l.plot.Max.y}, text_color(t.major ? 0.14f : 0.06f));
  }
  for (const Tick& t : l.y_ticks) {
    const float y = static_cast<float>(to_pixel(l.y, t.value));
    if (std::isfinite(y)) draw->AddLine({l.plot.Min.x, y}, {l.plot.Max.x, y}, text_color(t.major ? 0.14f : 0.06f));
  }
}

void draw_text_clamped(ImDrawList* draw, const Layout& l, ImVec2 pos, const std::string& text, ImU32 color) {
  const float width = text_width(text);
  pos.x = std::clamp(pos.x, l.frame.Min.x, std::max(l.frame.Min.x, l.frame.Max.x - width));
  pos.y = std::clamp(pos.y, l.frame.Min.y, std::max(l.frame.Min.y, l.frame.Max.y - l.em));
  draw->AddText(ImVec2(std::round(pos.x), std::round(pos.y)), color, text.c_str());
}

void draw_axes(ImDrawList* draw, const Layout& l, const std::string& title, const Axis& x_axis, const std::string& y_label,
               const std::string& note) {
  const ImU32 color = text_color(), faint = text_color(0.5f);
  draw->AddRect(l.plot.Min, l.plot.Max, faint);
  for (const Tick& t : l.x_ticks) {
    const float x = static_cast<float>(to_pixel(l.x, t.value));
    if (!std::isfinite(x) || x < l.plot.Min.x - 0.5f || x > l.plot.Max.x + 0.5f) continue;
    const float length = t.major ? l.tick_length : 0.5f * l.tick_length;
    draw->AddLine({x, l.plot.Max.y}, {x, l.plot.Max.y + length}, faint);
    if (t.major)
      draw_text_clamped(draw, l, {x - 0.5f * text_width(t.label), l.plot.Max.y + l.tick_length + 0.25f * l.pad}, t.label, color);
  }
  for (const Tick& t : l.y_ticks) {
    const float y = static_cast<float>(to_pixel(l.y, t.value));
    if (!std::isfinite(y) || y < l.plot.Min.y - 0.5f || y > l.plot.Max.y + 0.5f) continue;
    const float length = t.major ? l.tick_length : 0.5f * l.tick_length;
    draw->AddLine({l.plot.Min.x - length, y}, {l.plot.Min.x, y}, faint);
    if (t.major)
      draw_text_clamped(draw, l, {l.plot.Min.x - l.tick_length - 0.5f * l.pad - text_width(t.label), y - 0.5f * l.em}, t.label,
                        color);
  }
  if (l.has_title) {
    // Centred over the plot, moved left of the export buttons, shortened with "…" if still too long.
    std::string shown = title;
    const std::string mark = note.empty() ? "" : "  (?)";
    const float mark_width = mark.empty() ? 0.0f : text_width(mark);
    const float room = l.title_max_x - l.frame.Min.x - l.pad - mark_width;
    if (text_width(shown) > room) {
      while (!shown.empty() && text_width(shown + "…") > room) {
        while (!shown.empty() && (static_cast<unsigned char>(shown.back()) & 0xC0) == 0x80) shown.pop_back();
        if (!shown.empty()) shown.pop_back();  // a whole UTF-8 character: continuation bytes, then its lead
      }
      shown += "…";
    }
    const float width = text_width(shown);
    const float x = std::min(l.plot.GetCenter().x - 0.5f * (width + mark_width), l.title_max_x - width - mark_width);
    draw_text_clamped(draw, l, {x, l.title_y}, shown, color);
    if (!mark.empty()) {
      // What is plotted: on hover over the title and its mark.
      draw_text_clamped(draw, l, {x + width, l.title_y}, mark, faint);
      const ImVec2 min(x, l.title_y), max(x + width + mark_width, l.title_y + l.em);
      if (ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(min, max)) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32.0f);
        ImGui::TextUnformatted(note.c_str());
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
      }
    }
  }
  if (l.has_x_label)
    draw_text_clamped(draw, l, {l.plot.GetCenter().x - 0.5f * text_width(x_axis.label), l.x_label_y}, x_axis.label, color);
  if (l.has_label_row && !y_label.empty()) draw_text_clamped(draw, l, {l.frame.Min.x + l.pad, l.label_row_y}, y_label, color);
}

struct Pixels {
  std::vector<double> x, y;
};

Pixels to_pixels(const Layout& l, const std::vector<double>& xs, const std::vector<double>& ys) {
  Pixels p;
  const std::size_t n = std::min(xs.size(), ys.size());
  p.x.resize(n), p.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) p.x[i] = to_pixel(l.x, xs[i]), p.y[i] = to_pixel(l.y, ys[i]);
  return p;
}

// Liang-Barsky: clips the segment to the rectangle; t0 > 0 (t1 < 1) when its start (end) was cut.
bool clip_segment(double x0, double y0, double x1, double y1, const ImRect& r, double& t0, double& t1) {
  t0 = 0, t1 = 1;
  const double dx = x1 - x0, dy = y1 - y0;
  const auto edge = [&](double p, double q) {
    if (p == 0) return q >= 0;
    const double t = q / p;
    if (p < 0) {
      if (t > t1) return false;
      t0 = std::max(t0, t);
    } else {
      if (t < t0) return false;
      t1 = std::min(t1, t);
    }
    return true;
  };
  return edge(-dx, x0 - r.Min.x) && edge(dx, r.Max.x - x0) && edge(-dy, y0 - r.Min.y) && edge(dy, r.Max.y - y0);
}

void stroke_run(ImDrawList* draw, const std::vector<ImVec2>& run, ImU32 color, float thickness, bool dashed, float em) {
  if (run.size() < 2) return;
  if (!dashed) {
    draw->AddPolyline(run.data(), static_cast<int>(run.size()), color, ImDrawFlags_None, thickness);
    return;
  }
  const float on = 0.5f * em, off = 0.35f * em;
  bool drawing = true;
  float remaining = on;
  for (std::size_t i = 1; i < run.size(); ++i) {
    const ImVec2 a = run[i - 1], d = run[i] - a;
    const float length = std::sqrt(d.x * d.x + d.y * d.y);
    float pos = 0;
    while (pos < length) {
      const float step = std::min(remaining, length - pos);
      if (drawing) draw->AddLine(a + d * (pos / length), a + d * ((pos + step) / length), color, thickness);
      pos += step, remaining -= step;
      if (remaining <= 0) drawing = !drawing, remaining = drawing ? on : off;
    }
  }
}

// A polyline in pixels, broken at non-finite points and clipped to `clip` (so far-off points of a
// zoomed view never reach float vertex coordinates).
void stroke_polyline(ImDrawList* draw, const Pixels& p, const ImRect& clip, ImU32 color, float thickness, bool dashed, float em) {
  std::vector<ImVec2> run;
  const auto flush = [&] {
    stroke_run(draw, run, color, thickness, dashed, em);
    run.clear();
  };
  for (std::size_t i = 1; i < p.x.size(); ++i) {
    const double x0 = p.x[i - 1], y0 = p.y[i - 1], x1 = p.x[i], y1 = p.y[i];
    double t0 = 0, t1 = 1;
    if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1) ||
        !clip_segment(x0, y0, x1, y1, clip, t0, t1)) {
      flush();
      continue;
    }
    const ImVec2 a(float(x0 + t0 * (x1 - x0)), float(y0 + t0 * (y1 - y0)));
    const ImVec2 b(float(x0 + t1 * (x1 - x0)), float(y0 + t1 * (y1 - y0)));
    if (run.empty() || t0 > 0) flush(), run.push_back(a);
    run.push_back(b);
    if (t1 < 1) flush();
  }
  flush();
}

// A convex polygon (pixels) clipped in double precision to the rectangle (Sutherland-Hodgman), so
// far-off corners of a zoomed view never reach float vertices, and filled without anti-aliasing,
// so neighbouring band pieces meet without seams.
using Point2 = std::array<double, 2>;

void fill_convex(ImDrawList* draw, std::vector<Point2> pts, const ImRect& clip, ImU32 color) {
  const double lo_x = clip.Min.x, hi_x = clip.Max.x, lo_y = clip.Min.y, hi_y = clip.Max.y;
  const auto lerp_at_x = [](const Point2& a, const Point2& b, double x) {
    const double t = (x - a[0]) / (b[0] - a[0]);
    return Point2{x, a[1] + t * (b[1] - a[1])};
  };
  const auto lerp_at_y = [](const Point2& a, const Point2& b, double y) {
    const double t = (y - a[1]) / (b[1] - a[1]);
    return Point2{a[0] + t * (b[0] - a[0]), y};
  };
  const auto clip_side = [&](auto inside, auto cross) {
    std::vector<Point2> out;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      const auto& a = pts[i];
      const auto& b = pts[(i + 1) % pts.size()];
      if (inside(a)) out.push_back(a);
      if (inside(a) != inside(b)) out.push_back(cross(a, b));
    }
    pts = std::move(out);
  };
  clip_side([&](const auto& p) { return p[0] >= lo_x; }, [&](const auto& a, const auto& b) { return lerp_at_x(a, b, lo_x); });
  clip_side([&](const auto& p) { return p[0] <= hi_x; }, [&](const auto& a, const auto& b) { return lerp_at_x(a, b, hi_x); });
  clip_side([&](const auto& p) { return p[1] >= lo_y; }, [&](const auto& a, const auto& b) { return lerp_at_y(a, b, lo_y); });
  clip_side([&](const auto& p) { return p[1] <= hi_y; }, [&](const auto& a, const auto& b) { return lerp_at_y(a, b, hi_y); });
  if (pts.size() < 3) return;
  const ImVec2 uv = ImGui::GetFontTexUvWhitePixel();
  const int n = static_cast<int>(pts.size());
  draw->PrimReserve((n - 2) * 3, n);
  const ImDrawIdx base = static_cast<ImDrawIdx>(draw->_VtxCurrentIdx);
  for (const auto& p : pts) draw->PrimWriteVtx(ImVec2(float(p[0]), float(p[1])), uv, color);
  for (int i = 1; i + 1 < n; ++i) {
    draw->PrimWriteIdx(base);
    draw->PrimWriteIdx(static_cast<ImDrawIdx>(base + i));
    draw->PrimWriteIdx(static_cast<ImDrawIdx>(base + i + 1));
  }
}

void draw_band(ImDrawList* draw, const Layout& l, const Series& s, const Pixels& line, ImU32 color) {
  if (s.lower.size() != s.y.size() || s.upper.size() != s.y.size()) return;
  const Pixels lower = to_pixels(l, s.x, s.lower), upper = to_pixels(l, s.x, s.upper);
  const ImRect clip(l.plot.Min - ImVec2(1, 1), l.plot.Max + ImVec2(1, 1));
  for (std::size_t i = 1; i < line.x.size(); ++i) {
    std::vector<Point2> corners = {
        {lower.x[i - 1], lower.y[i - 1]}, {lower.x[i], lower.y[i]}, {upper.x[i], upper.y[i]}, {upper.x[i - 1], upper.y[i - 1]}};
    bool finite = true;
    for (const Point2& c : corners) finite = finite && std::isfinite(c[0]) && std::isfinite(c[1]);
    if (!finite) continue;
    if (std::max(corners[0][0], corners[1][0]) < clip.Min.x || std::min(corners[0][0], corners[1][0]) > clip.Max.x) continue;
    fill_convex(draw, std::move(corners), clip, color);
  }
}

void draw_series(ImDrawList* draw, const Layout& l, const std::vector<Series>& series, std::vector<Pixels>& pixels) {
  pixels.clear();
  for (const Series& s : series) pixels.push_back(to_pixels(l, s.x, s.y));
  for (std::size_t i = 0; i < series.size(); ++i)
    draw_band(draw, l, series[i], pixels[i], with_alpha(series_color(series[i], i), 0.25f));
  const ImRect clip(l.plot.Min - ImVec2(l.em, l.em), l.plot.Max + ImVec2(l.em, l.em));
  for (std::size_t i = 0; i < series.size(); ++i) {
    const Series& s = series[i];
    const ImU32 color = series_color(s, i);
    if (s.line) stroke_polyline(draw, pixels[i], clip, color, s.thickness * l.scale, s.dashed, l.em);
    if (!s.markers) continue;
    const float radius = std::max(2.f, 1.2f * s.thickness * l.scale);
    for (std::size_t p = 0; p < pixels[i].x.size(); ++p) {
      const ImVec2 point(float(pixels[i].x[p]), float(pixels[i].y[p]));
      if (std::isfinite(pixels[i].x[p]) && std::isfinite(pixels[i].y[p]) && clip.Contains(point))
        draw->AddCircleFilled(point, radius, color, 12);
    }
  }
}

void draw_reference_lines(ImDrawList* draw, const Layout& l, const std::vector<double>& x_lines,
                          const std::vector<double>& y_lines) {
  const ImU32 color = text_color(0.5f);
  const float thickness = std::max(1.f, l.scale);
  for (double v : x_lines) {
    const double x = to_pixel(l.x, v);
    if (std::isfinite(x) && x >= l.plot.Min.x && x <= l.plot.Max.x)
      stroke_run(draw, {ImVec2(float(x), l.plot.Max.y), ImVec2(float(x), l.plot.Min.y)}, color, thickness, true, l.em);
  }
  for (double v : y_lines) {
    const double y = to_pixel(l.y, v);
    if (std::isfinite(y) && y >= l.plot.Min.y && y <= l.plot.Max.y)
      stroke_run(draw, {ImVec2(l.plot.Min.x, float(y)), ImVec2(l.plot.Max.x, float(y))}, color, thickness, true, l.em);
  }
}

// A ring readable on any background: dark outline under a light one.
void draw_ring(ImDrawList* draw, ImVec2 centre, float radius, float scale) {
  draw->AddCircle(centre, radius, IM_COL32(0, 0, 0, 200), 20, 3.f * scale);
  draw->AddCircle(centre, radius, IM_COL32(255, 255, 255, 255), 20, 1.5f * scale);
}

void draw_marker(ImDrawList* draw, const Layout& l, const std::optional<DataPoint>& marker, bool crosshair) {
  if (!marker) return;
  const double x = to_pixel(l.x, marker->x), y = to_pixel(l.y, marker->y);
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  const ImVec2 p{float(x), float(y)};
  if (crosshair) {
    for (auto [color, width] : {std::pair{IM_COL32(0, 0, 0, 150), 3.f}, std::pair{IM_COL32(255, 255, 255, 220), 1.2f}}) {
      if (x >= l.plot.Min.x && x <= l.plot.Max.x) draw->AddLine({p.x, l.plot.Min.y}, {p.x, l.plot.Max.y}, color, width * l.scale);
      if (y >= l.plot.Min.y && y <= l.plot.Max.y) draw->AddLine({l.plot.Min.x, p.y}, {l.plot.Max.x, p.y}, color, width * l.scale);
    }
  }
  if (l.plot.Contains(p)) draw_ring(draw, p, 0.4f * l.em, l.scale);
}

void draw_swatch(ImDrawList* draw, ImVec2 pos, float length, float em, const Series& s, ImU32 color, float scale) {
  const float y = pos.y + 0.5f * em;
  const float thickness = std::max(1.f, s.thickness * scale);
  if (!s.lower.empty()) draw->AddRectFilled({pos.x, y - 0.3f * em}, {pos.x + length, y + 0.3f * em}, with_alpha(color, 0.25f));
  if (s.line) stroke_run(draw, {ImVec2(pos.x, y), ImVec2(pos.x + length, y)}, color, thickness, s.dashed, 0.6f * em);
  if (s.markers) draw->AddCircleFilled({pos.x + 0.5f * length, y}, std::max(2.f, 1.2f * thickness), color, 12);
}

void draw_legend(ImDrawList* draw, const Layout& l, const std::vector<Series>& series) {
  float label_width = 0;
  int count = 0;
  for (const Series& s : series)
    if (!s.label.empty()) label_width = std::max(label_width, text_width(s.label)), ++count;
  if (count == 0) return;
  const float row = std::round(l.em * 1.25f), swatch = 1.6f * l.em, pad = l.pad;
  const ImVec2 size(pad + swatch + pad + label_width + pad, pad + count * row);
  const ImVec2 pos(l.plot.Max.x - pad - size.x, l.plot.Min.y + pad);
  draw->PushClipRect(l.plot.Min, l.plot.Max, true);
  draw->AddRectFilled(pos, pos + size, ImGui::GetColorU32(ImGuiCol_WindowBg, 0.85f), 0.25f * l.em);
  draw->AddRect(pos, pos + size, text_color(0.25f), 0.25f * l.em);
  float y = pos.y + 0.5f * pad + 0.5f * (row - l.em);
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (series[i].label.empty()) continue;
    draw_swatch(draw, {pos.x + pad, y}, swatch, l.em, series[i], series_color(series[i], i), l.scale);
    draw->AddText({pos.x + pad + swatch + pad, y}, text_color(), series[i].label.c_str());
    y += row;
  }
  draw->PopClipRect();
}

void draw_no_data(ImDrawList* draw, const Layout& l) {
  const char* text = "no data";
  draw->AddText(l.plot.GetCenter() - ImGui::CalcTextSize(text) * 0.5f, text_color(0.5f), text);
}

// A colour square then text, inside a tooltip.
void tooltip_line(const std::string& text, const Series* s, ImU32 color) {
  const float em = ImGui::GetFontSize();
  if (s) {
    const ImVec2 pos = ImGui::GetCursorScreenPos();
    draw_swatch(ImGui::GetWindowDrawList(), pos, 1.2f * em, em, *s, color, em / 13.f);
    ImGui::Dummy(ImVec2(1.2f * em, em));
    ImGui::SameLine();
  }
  ImGui::TextUnformatted(text.c_str());
}

std::string named(const std::string& label, const char* fallback, double value) {
  return (label.empty() ? std::string(fallback) : label) + " = " + format_value(value);
}

// Hover read-out of a line plot: the sample nearest the mouse fixes x; every series reports its y
// at its own sample nearest that x (if one is within reach).
void line_tooltip(ImDrawList* draw, const Layout& l, const PlotSpec& spec, const std::vector<Series>& series,
                  const std::vector<Pixels>& pixels, const PlotEvents& events) {
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  double best = INFINITY;
  std::size_t best_series = 0, best_point = 0;
  for (std::size_t i = 0; i < pixels.size(); ++i)
    for (std::size_t p = 0; p < pixels[i].x.size(); ++p) {
      const double dx = pixels[i].x[p] - mouse.x, dy = pixels[i].y[p] - mouse.y, d = dx * dx + dy * dy;
      if (d < best) best = d, best_series = i, best_point = p;  // NaN distances never win
    }
  ImGui::BeginTooltip();
  if (!std::isfinite(best)) {
    ImGui::TextUnformatted(named(spec.x.label, "x", events.x).c_str());
    ImGui::TextUnformatted(named(spec.y.label, "y", events.y).c_str());
    ImGui::EndTooltip();
    return;
  }
  const double x = series[best_series].x[best_point], x_pixel = pixels[best_series].x[best_point];
  draw->AddLine({float(x_pixel), l.plot.Min.y}, {float(x_pixel), l.plot.Max.y}, text_color(0.3f));
  ImGui::TextUnformatted(named(spec.x.label, "x", x).c_str());
  int shown = 0, hidden = 0;
  // Unlabelled series (error bars, guides) are read out only in a plot without labels.
  const bool any_label = std::any_of(series.begin(), series.end(), [](const Series& s) { return !s.label.empty(); });
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (any_label && series[i].label.empty()) continue;
    std::size_t nearest = 0;
    double nearest_distance = INFINITY;
    for (std::size_t p = 0; p < pixels[i].x.size(); ++p) {
      const double d = std::abs(pixels[i].x[p] - x_pixel);
      if (d < nearest_distance && std::isfinite(pixels[i].y[p])) nearest_distance = d, nearest = p;
    }
    if (!(nearest_distance <= 1.5 * l.em)) continue;
    if (shown == kMaxTooltipSeries) {
      ++hidden;
      continue;
    }
    const Series& s = series[i];
    const ImU32 color = series_color(s, i);
    const ImVec2 point(float(pixels[i].x[nearest]), float(pixels[i].y[nearest]));
    if (l.plot.Contains(point)) {
      draw->AddCircleFilled(point, (i == best_series ? 0.35f : 0.25f) * l.em, color, 16);
      draw->AddCircle(point, (i == best_series ? 0.35f : 0.25f) * l.em, text_color(), 16, l.scale);
    }
    std::string text =
        (s.label.empty() ? spec.y.label.empty() ? std::string("y") : spec.y.label : s.label) + ": " + format_value(s.y[nearest]);
    if (s.lower.size() == s.y.size() && s.upper.size() == s.y.size())
      text += "  [" + format_value(s.lower[nearest]) + ", " + format_value(s.upper[nearest]) + "]";
    tooltip_line(text, &s, color);
    ++shown;
  }
  if (hidden > 0) ImGui::TextDisabled("and %d more", hidden);
  ImGui::EndTooltip();
}

}  // namespace

// ---- line_plot ---------------------------------------------------------------------------------

PlotEvents line_plot(const PlotSpec& spec, const std::vector<Series>& series) {
  ImGui::PushID(spec.id);
  const ImRect frame = widget_frame(spec.size);
  ViewStore store(ImGui::GetID("##view"));
  AxisView x_view = store.load(0), y_view = store.load(1);

  // Automatic ranges cover the data; once the user has zoomed x, y covers what x shows (all of
  // the data if x shows no sample).
  RangeFinder x_data{spec.x.log}, y_data{spec.y.log}, y_shown{spec.y.log};
  for (const Series& s : series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(axis_coordinate(s.x[i], spec.x.log))) continue;
      const bool shown = !x_view.user || (s.x[i] >= x_view.min && s.x[i] <= x_view.max);
      x_data.add(s.x[i]);
      for (RangeFinder* y : {&y_data, &y_shown}) {
        if (y == &y_shown && !shown) continue;
        y->add(s.y[i]);
        if (i < s.lower.size()) y->add(s.lower[i]);
        if (i < s.upper.size()) y->add(s.upper[i]);
      }
    }
  }
  const bool has_data = !x_data.empty() && !y_data.empty();
  if (!y_shown.empty()) y_data = y_shown;
  x_data.add(spec.x_lines), y_data.add(spec.y_lines);
  if (spec.marker) x_data.add(spec.marker->x), y_data.add(spec.marker->y);
  const Range x_auto = spec.x.fixed ? Range{spec.x.min, spec.x.max} : x_data.padded(0);
  const Range y_auto = spec.y.fixed ? Range{spec.y.min, spec.y.max} : y_data.padded(0.05);
  const Range x_start = x_view.user ? Range{x_view.min, x_view.max} : x_auto;
  const Range y_start = y_view.user ? Range{y_view.min, y_view.max} : y_auto;

  Layout layout = make_layout(frame, spec.title, spec.x, spec.y, !spec.y.label.empty(), x_start, y_start, 0);
  ImageCapture* capture = pending_capture(spec.id);
  DrawnPlot drawn{spec.id, frame.Min, frame.Max, {}, {}, {}, {}};
  ExportRequest request = export_buttons(layout, capture != nullptr, drawn);
  // Editable points are hit-tested in the view the user pressed on (before this frame's change).
  const bool editable = spec.editable >= 0 && spec.editable < static_cast<int>(series.size()) && !layout.too_small;
  ImGuiIO& io = ImGui::GetIO();
  int hit = -1;
  if (editable) {
    const Pixels p =
        to_pixels(layout, series[static_cast<std::size_t>(spec.editable)].x, series[static_cast<std::size_t>(spec.editable)].y);
    hit = nearest_point(p.x, p.y, io.MousePos.x, io.MousePos.y, 0.6 * layout.em);
  }
  const bool pressed = ImGui::InvisibleButton("##plot", frame.GetSize());
  ImGuiStorage* storage = ImGui::GetStateStorage();
  const ImGuiID grab_key = ImGui::GetID("##grabbed");
  int grabbed = storage->GetInt(grab_key, -1);
  if (ImGui::IsItemActivated()) grabbed = editable && layout.plot.Contains(io.MouseClickedPos[0]) ? hit : -1;
  const bool item_hovered = ImGui::IsItemHovered();
  PlotEvents events = interact(layout, store, x_view, y_view, pressed, x_auto, y_auto, grabbed < 0);
  if (editable) {
    const float threshold = io.MouseDragThreshold;
    const bool dragged = io.MouseDragMaxDistanceSqr[0] >= threshold * threshold;
    events.point = item_hovered && layout.plot.Contains(io.MousePos) ? hit : -1;
    if (grabbed >= 0) {
      events.clicked = false;
      if (ImGui::IsItemActive() && dragged) {
        const ImVec2 at = ImClamp(io.MousePos, layout.plot.Min, layout.plot.Max);
        events.dragged = grabbed;
        events.drag_x = to_value(layout.x, at.x);
        events.drag_y = to_value(layout.y, at.y);
      }
      if (pressed && !dragged && io.KeyShift) events.removed = grabbed;
    }
    if (events.point >= 0 && ImGui::IsMouseReleased(ImGuiMouseButton_Right)) events.removed = events.point;
    if (events.point >= 0 || events.dragged >= 0) ImGui::SetMouseCursor(ImGuiMouseCursor_Hand);
    storage->SetInt(grab_key, ImGui::IsItemActive() ? grabbed : -1);
  }
  if (events.removed < 0) export_menu(request);  // a right-click on an editable point removes it instead
  const auto finish = [&] {
    finish_exports(spec.id, spec.export_name, frame, capture, request, drawn,
                   [&] { return series_csv(series, spec.x.label.empty() ? "x" : spec.x.label); });
    ImGui::PopID();
  };

  ImDrawList* draw = ImGui::GetWindowDrawList();
  if (layout.too_small) {
    draw->AddRect(frame.Min, frame.Max, text_color(0.3f));
    finish();
    return events;
  }
  draw->AddRectFilled(layout.plot.Min, layout.plot.Max, ImGui::GetColorU32(ImGuiCol_FrameBg));
  draw->PushClipRect(layout.plot.Min, layout.plot.Max, true);
  draw_grid(draw, layout);
  draw_reference_lines(draw, layout, spec.x_lines, spec.y_lines);
  std::vector<Pixels> pixels;
  draw_series(draw, layout, series, pixels);
  draw_marker(draw, layout, spec.marker, false);
  if (editable && !capture) {
    // The point under the mouse (or being dragged) gets a ring.
    const int ringed = events.dragged >= 0 ? events.dragged : events.point;
    const Pixels& p = pixels[static_cast<std::size_t>(spec.editable)];
    if (ringed >= 0 && ringed < static_cast<int>(p.x.size()) && std::isfinite(p.x[ringed]) && std::isfinite(p.y[ringed]))
      draw_ring(draw, ImVec2(float(p.x[ringed]), float(p.y[ringed])), 0.5f * layout.em, layout.scale);
  }
  if (!has_data) draw_no_data(draw, layout);
  const bool panning = ImGui::IsItemActive() && (store.panning() || grabbed >= 0);
  if (events.hovered && !panning && !capture) line_tooltip(draw, layout, spec, series, pixels, events);
  draw->PopClipRect();
  draw_axes(draw, layout, spec.title, spec.x, spec.y.label, spec.note);
  if (spec.legend) draw_legend(draw, layout, series);
  finish();
  return events;
}

// ---- heat_map ----------------------------------------------------------------------------------

namespace {

// What one heat map draws from, recomputed only when its values or colour settings change.
struct HeatMapCache {
  std::uint64_t hash = 0;
  bool valid = false;
  Range colors;  // the colour range in use
  // The shader path: packed values (pack_heat_values) in an R32F texture.
  std::vector<float> values;
  ShaderScale shader_scale;
  bool packed = false;
  Texture value_texture;
  bool values_uploaded = false, values_failed = false;
  // The fallbacks: colours from the CPU (computed when first needed) in an RGBA texture, or rectangles.
  std::vector<std::uint32_t> texels;  // IM_COL32-packed, row 0 first
  bool texels_valid = false;
  Texture texture;
  bool uploaded = false;
  int last_frame = 0;
};

enum class CellPath { shader, texture, rectangles };

// FIELDSCOPE_HEATMAP=cpu skips the shader, =rectangles also the texture (for troubleshooting drivers).
CellPath forced_path() {
  static const CellPath path = [] {
    const char* value = std::getenv("FIELDSCOPE_HEATMAP");
    if (value && std::strcmp(value, "cpu") == 0) return CellPath::texture;
    if (value && std::strcmp(value, "rectangles") == 0) return CellPath::rectangles;
    return CellPath::shader;
  }();
  return path;
}

std::unordered_map<ImGuiID, HeatMapCache>& heat_map_caches() {
  static std::unordered_map<ImGuiID, HeatMapCache> caches;
  return caches;
}

// Change detection only (not cryptographic): a multiply-rotate mix over the value bits.
std::uint64_t content_hash(const HeatMapSpec& spec) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull;
  const auto mix = [&h](std::uint64_t word) {
    h ^= word * 0xC2B2AE3D27D4EB4Full;
    h = std::rotl(h, 31) * 0x9E3779B185EBCA87ull;
  };
  const std::size_t n = static_cast<std::size_t>(spec.columns) * static_cast<std::size_t>(spec.rows);
  for (std::size_t i = 0; i < n; ++i) mix(bits_of(spec.values[i]));
  mix(static_cast<std::uint64_t>(spec.columns) << 32 | static_cast<std::uint32_t>(spec.rows));
  mix(std::uint64_t{spec.log_values} | std::uint64_t{spec.diverging} << 1);
  mix(bits_of(spec.vmin));
  mix(bits_of(spec.vmax));
  return h;
}

Rgba8 cell_color(double value, const Range& colors, const HeatMapSpec& spec) {
  const double t = color_position(value, colors, spec.log_values);
  return spec.diverging ? diverging_color(t) : sequential_color(t);
}

HeatMapCache& heat_map_cache(ImGuiID id, const HeatMapSpec& spec) {
  auto& caches = heat_map_caches();
  const int frame = ImGui::GetFrameCount();
  for (auto it = caches.begin(); it != caches.end();) {  // forget heat maps not drawn for a while
    if (it->first != id && frame - it->second.last_frame > 600) {
      release_texture(it->second.texture);
      release_texture(it->second.value_texture);
      it = caches.erase(it);
    } else {
      ++it;
    }
  }
  HeatMapCache& cache = caches[id];
  cache.last_frame = frame;
  const std::uint64_t hash = content_hash(spec);
  if (cache.valid && cache.hash == hash) return cache;
  const std::size_t n = static_cast<std::size_t>(spec.columns) * static_cast<std::size_t>(spec.rows);
  cache.colors = color_range(spec.values, n, spec.log_values, spec.diverging, spec.vmin, spec.vmax);
  cache.packed = pack_heat_values(spec.values, n, cache.colors, spec.log_values, cache.values, cache.shader_scale);
  cache.values_uploaded = cache.values_failed = false;
  cache.texels_valid = cache.uploaded = false;
  cache.hash = hash;
  cache.valid = true;
  return cache;
}

// Readies the best way to draw the cells this frame: through the shader when the values could be
// packed and the program and value texture are usable, else CPU colours as a texture, else
// rectangles. Uploads happen here, once per change (GL may come up after the values arrive).
CellPath prepare_cells(HeatMapCache& cache, const HeatMapSpec& spec) {
  const CellPath allowed = forced_path();
  if (allowed == CellPath::shader && cache.packed && !cache.values_failed && heat_map_shader_ready()) {
    if (!cache.values_uploaded) {
      cache.values_uploaded = upload_float_texture(cache.value_texture, cache.values.data(), spec.columns, spec.rows);
      cache.values_failed = !cache.values_uploaded;
    }
    if (cache.values_uploaded) return CellPath::shader;
  }
  if (!cache.texels_valid) {
    const std::size_t n = static_cast<std::size_t>(spec.columns) * static_cast<std::size_t>(spec.rows);
    cache.texels.resize(n);
    for (std::size_t i = 0; i < n; ++i) cache.texels[i] = cell_color(spec.values[i], cache.colors, spec);
    cache.texels_valid = true;
  }
  if (allowed != CellPath::rectangles && !cache.uploaded && textures_available())
    cache.uploaded = upload_texture(cache.texture, cache.texels.data(), spec.columns, spec.rows);
  return cache.uploaded && allowed != CellPath::rectangles ? CellPath::texture : CellPath::rectangles;
}

// Where the grid's cell edges fall on screen: cells are even in the axis coordinate, hence in pixels.
struct GridPixels {
  double left, right, bottom, top;
  int columns, rows;
  GridPixels(const Layout& l, const CellGrid& column_grid, const CellGrid& row_grid)
      : left(to_pixel(l.x, column_grid.edges().min)),
        right(to_pixel(l.x, column_grid.edges().max)),
        bottom(to_pixel(l.y, row_grid.edges().min)),
        top(to_pixel(l.y, row_grid.edges().max)),
        columns(column_grid.count),
        rows(row_grid.count) {}
  double x_edge(int column) const { return left + (right - left) * column / columns; }
  double y_edge(int row) const { return bottom + (top - bottom) * row / rows; }
};

// Heat-map cells as rectangles (no texture): visible cells only, merged into blocks when there
// are more cells than pixels.
void fill_cells(ImDrawList* draw, const Layout& l, const HeatMapSpec& spec, const HeatMapCache& cache, const GridPixels& grid) {
  const double left = grid.left, right = grid.right, bottom = grid.bottom, top = grid.top;
  const auto column_at = [&](double px) {
    return std::clamp(int(std::floor((px - left) / (right - left) * spec.columns)), 0, spec.columns - 1);
  };
  const auto row_at = [&](double py) {
    return std::clamp(int(std::floor((py - bottom) / (top - bottom) * spec.rows)), 0, spec.rows - 1);
  };
  const int c0 = column_at(std::max<double>(left, l.plot.Min.x)), c1 = column_at(std::min<double>(right, l.plot.Max.x));
  const int r0 = row_at(std::min<double>(bottom, l.plot.Max.y)), r1 = row_at(std::max<double>(top, l.plot.Min.y));
  const int column_step = std::max(1, int(std::ceil((c1 - c0 + 1) / std::max(1.0f, l.plot.GetWidth() * 0.5f))));
  const int row_step = std::max(1, int(std::ceil((r1 - r0 + 1) / std::max(1.0f, l.plot.GetHeight() * 0.5f))));
  const auto x_edge = [&](int c) {
    return float(std::clamp(grid.x_edge(c), double(l.plot.Min.x) - 1, double(l.plot.Max.x) + 1));
  };
  const auto y_edge = [&](int r) {
    return float(std::clamp(grid.y_edge(r), double(l.plot.Min.y) - 1, double(l.plot.Max.y) + 1));
  };
  for (int r = r0; r <= r1; r += row_step)
    for (int c = c0; c <= c1; c += column_step) {
      const int r_end = std::min(r + row_step, spec.rows), c_end = std::min(c + column_step, spec.columns);
      draw->AddRectFilled({x_edge(c), y_edge(r_end)}, {x_edge(c_end), y_edge(r)},
                          cache.texels[static_cast<std::size_t>(r) * spec.columns + c]);
    }
}

void draw_cells(ImDrawList* draw, const Layout& l, const HeatMapSpec& spec, HeatMapCache& cache, const GridPixels& grid) {
  const CellPath path = prepare_cells(cache, spec);
  if (path == CellPath::rectangles) {
    fill_cells(draw, l, spec, cache, grid);
    return;
  }
  // The texture spans the grid's edges; only the visible part is drawn, with matching UVs.
  const double left = grid.left, right = grid.right, bottom = grid.bottom, top = grid.top;
  const double x0 = std::max<double>(left, l.plot.Min.x), x1 = std::min<double>(right, l.plot.Max.x);
  const double y0 = std::max<double>(top, l.plot.Min.y), y1 = std::min<double>(bottom, l.plot.Max.y);
  if (!(x0 < x1 && y0 < y1)) return;
  const ImVec2 uv_min(float((x0 - left) / (right - left)), float((y0 - bottom) / (top - bottom)));
  const ImVec2 uv_max(float((x1 - left) / (right - left)), float((y1 - bottom) / (top - bottom)));
  const ImVec2 p_min{float(x0), float(y0)}, p_max{float(x1), float(y1)};
  if (path == CellPath::shader)
    add_shaded_heat_map(draw, cache.value_texture, cache.shader_scale, spec.diverging, p_min, p_max, uv_min, uv_max);
  else
    draw->AddImage(cache.texture.id(), p_min, p_max, uv_min, uv_max);
}

struct ColorBar {
  Range range;  // of the axis drawn beside the bar
  std::vector<Tick> ticks;
  float width = 0;  // room taken right of the plot
};

ColorBar color_bar_layout(const Range& colors, bool log, float plot_height_estimate) {
  ColorBar bar;
  const float em = ImGui::GetFontSize();
  const double u0 = axis_coordinate(colors.min, log), u1 = axis_coordinate(colors.max, log);
  bar.range = colors;
  if (!(u0 != u1) || !std::isfinite(u0) || !std::isfinite(u1)) {  // one value, or unusable: widen
    RangeFinder finder{log};
    finder.add(colors.min);
    finder.add(colors.max);
    bar.range = finder.padded(0);
  }
  const int target = std::clamp(static_cast<int>(plot_height_estimate / (em * 2.6f)), 2, 10);
  bar.ticks = axis_ticks(bar.range.min, bar.range.max, log, target);
  const float pad = std::round(em * 0.4f), tick_length = std::round(em * 0.3f);
  bar.width = 2 * pad + em + tick_length + 0.5f * pad + widest_label(bar.ticks);
  return bar;
}

void draw_color_bar(ImDrawList* draw, const Layout& l, const ColorBar& bar, const HeatMapSpec& spec) {
  const float x0 = l.plot.Max.x + 2 * l.pad, x1 = x0 + l.em;
  const AxisMap map{bar.range.min, bar.range.max, spec.log_values, l.plot.Max.y, l.plot.Min.y};
  constexpr int kStrips = 64;
  for (int i = 0; i < kStrips; ++i) {
    const float y_bottom = l.plot.Max.y - l.plot.GetHeight() * i / kStrips;
    const float y_top = l.plot.Max.y - l.plot.GetHeight() * (i + 1) / kStrips;
    const double v_bottom = to_value(map, y_bottom), v_top = to_value(map, y_top);
    const ImU32 c_bottom = cell_color(v_bottom, bar.range, spec), c_top = cell_color(v_top, bar.range, spec);
    draw->AddRectFilledMultiColor({x0, y_top}, {x1, y_bottom}, c_top, c_top, c_bottom, c_bottom);
  }
  draw->AddRect({x0, l.plot.Min.y}, {x1, l.plot.Max.y}, text_color(0.5f));
  for (const Tick& t : bar.ticks) {
    const double y = to_pixel(map, t.value);
    if (!std::isfinite(y) || y < l.plot.Min.y - 0.5 || y > l.plot.Max.y + 0.5) continue;
    const float length = t.major ? l.tick_length : 0.5f * l.tick_length;
    draw->AddLine({x1, float(y)}, {x1 + length, float(y)}, text_color(0.5f));
    if (t.major) draw_text_clamped(draw, l, {x1 + l.tick_length + 0.5f * l.pad, float(y) - 0.5f * l.em}, t.label, text_color());
  }
  if (l.has_label_row && !spec.value_label.empty())
    draw_text_clamped(draw, l, {x0, l.label_row_y}, spec.value_label, text_color());
}

}  // namespace

PlotEvents heat_map(const HeatMapSpec& spec, const std::vector<Series>& overlays) {
  ImGui::PushID(spec.id);
  const ImRect frame = widget_frame(spec.size);
  const ImGuiID id = ImGui::GetID("##view");
  ViewStore store(id);
  AxisView x_view = store.load(0), y_view = store.load(1);

  const bool has_data = spec.values && spec.columns > 0 && spec.rows > 0;
  const CellGrid columns{spec.x.min, spec.x.max, std::max(spec.columns, 1), spec.x.log};
  const CellGrid rows{spec.y.min, spec.y.max, std::max(spec.rows, 1), spec.y.log};
  const Range x_auto = columns.edges(), y_auto = rows.edges();
  const Range x_start = x_view.user ? Range{x_view.min, x_view.max} : x_auto;
  const Range y_start = y_view.user ? Range{y_view.min, y_view.max} : y_auto;

  HeatMapCache* cache = has_data ? &heat_map_cache(id, spec) : nullptr;
  const Range colors = cache ? cache->colors : Range{};
  const ColorBar bar =
      has_data ? color_bar_layout(colors, spec.log_values, frame.GetHeight() - 5 * ImGui::GetFontSize()) : ColorBar{};
  const bool label_row = !spec.y.label.empty() || (has_data && !spec.value_label.empty());
  Layout layout = make_layout(frame, spec.title, spec.x, spec.y, label_row, x_start, y_start, bar.width);
  ImageCapture* capture = pending_capture(spec.id);
  DrawnPlot drawn{spec.id, frame.Min, frame.Max, {}, {}, {}, {}};
  ExportRequest request = export_buttons(layout, capture != nullptr, drawn);
  const bool pressed = ImGui::InvisibleButton("##plot", frame.GetSize());
  PlotEvents events = interact(layout, store, x_view, y_view, pressed, x_auto, y_auto);
  export_menu(request);
  const auto finish = [&] {
    finish_exports(spec.id, spec.export_name, frame, capture, request, drawn, [&] { return heat_map_csv(spec); });
    ImGui::PopID();
  };

  ImDrawList* draw = ImGui::GetWindowDrawList();
  if (layout.too_small) {
    draw->AddRect(frame.Min, frame.Max, text_color(0.3f));
    finish();
    return events;
  }
  draw->AddRectFilled(layout.plot.Min, layout.plot.Max, ImGui::GetColorU32(ImGuiCol_FrameBg));
  draw->PushClipRect(layout.plot.Min, layout.plot.Max, true);
  const GridPixels grid(layout, columns, rows);
  if (has_data)
    draw_cells(draw, layout, spec, *cache, grid);
  else
    draw_no_data(draw, layout);
  std::vector<Pixels> pixels;
  draw_series(draw, layout, overlays, pixels);
  draw_marker(draw, layout, spec.marker, true);

  if (events.hovered && has_data) {
    events.column = columns.index(events.x);
    events.row = rows.index(events.y);
  }
  const bool panning = ImGui::IsItemActive() && store.panning();
  if (events.hovered && !panning && !capture && events.column >= 0 && events.row >= 0) {
    const ImVec2 cell_min(float(grid.x_edge(events.column)), float(grid.y_edge(events.row + 1)));
    const ImVec2 cell_max(float(grid.x_edge(events.column + 1)), float(grid.y_edge(events.row)));
    draw->AddRect(ImMax(cell_min, layout.plot.Min - ImVec2(2, 2)), ImMin(cell_max, layout.plot.Max + ImVec2(2, 2)), text_color(),
                  0, 0, 1.5f * layout.scale);
    const double value = spec.values[static_cast<std::size_t>(events.row) * spec.columns + events.column];
    ImGui::BeginTooltip();
    ImGui::TextUnformatted(named(spec.x.label, "x", columns.centre(events.column)).c_str());
    ImGui::TextUnformatted(named(spec.y.label, "y", rows.centre(events.row)).c_str());
    ImGui::TextUnformatted(named(spec.value_label, "value", value).c_str());
    ImGui::EndTooltip();
  }
  draw->PopClipRect();
  draw_axes(draw, layout, spec.title, spec.x, spec.y.label, spec.note);
  if (has_data) draw_color_bar(draw, layout, bar, spec);
  if (spec.legend) draw_legend(draw, layout, overlays);
  finish();
  return events;
}

void release_plot_resources() {
  for (auto& [id, cache] : heat_map_caches()) {
    release_texture(cache.texture);
    release_texture(cache.value_texture);
  }
  heat_map_caches().clear();
  release_shaders();
}

ExportQueue& export_queue() {
  static ExportQueue queue;
  return queue;
}

const std::vector<DrawnPlot>& drawn_plots() { return drawn_registry().plots; }

void save_exports(const std::function<void(const std::string& name, const std::string& bytes)>& save) {
  ExportQueue& queue = export_queue();
  for (const ExportFile& file : queue.files)
    if (save) save(file.name, file.bytes);
  queue.files.clear();
  if (!ImGui::GetCurrentContext()) return;
  const int frame = ImGui::GetFrameCount();
  const ImDrawData* data = ImGui::GetDrawData();
  std::vector<ImageCapture> waiting;
  for (ImageCapture& capture : queue.captures) {
    if (capture.drawn_frame == frame && data) {
      // As ImGui's OpenGL3 backend sizes the framebuffer it renders to.
      const int width = static_cast<int>(data->DisplaySize.x * data->FramebufferScale.x);
      const int height = static_cast<int>(data->DisplaySize.y * data->FramebufferScale.y);
      const PixelRect rect =
          framebuffer_rect(capture.min.x, capture.min.y, capture.max.x, capture.max.y, data->DisplayPos.x, data->DisplayPos.y,
                           data->FramebufferScale.x, data->FramebufferScale.y, width, height);
      std::vector<unsigned char> pixels = flipped_rows(read_framebuffer(rect), rect.width, rect.height);
      for (std::size_t i = 3; i < pixels.size(); i += 4) pixels[i] = 255;  // the screen shows it opaque
      const std::string png = encode_png(pixels, rect.width, rect.height);
      if (png.empty())
        std::fprintf(stderr, "fieldscope: %s: the plot could not be read back from the screen\n", capture.name.c_str());
      else if (save)
        save(capture.name, png);
    } else if (capture.drawn_frame < 0 && frame - capture.requested_frame <= 10) {
      waiting.push_back(std::move(capture));
    } else {
      std::fprintf(stderr, "fieldscope: %s was not saved: its plot left the screen before it could be captured\n",
                   capture.name.c_str());
    }
  }
  queue.captures = std::move(waiting);
}

}  // namespace fs::ui
