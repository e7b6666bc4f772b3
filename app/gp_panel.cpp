// The "GP inference" tab (docs/theory.md §7): Gaussian-process predictions with the network's NNGP kernel on
// 1-D regression points the user edits, 2-D toy sets (decision surfaces), Fashion-MNIST (confusion matrix
// and test images) and labelled CSV rows; accuracy and log evidence over sigma_w^2 x depth with the
// critical line ("what the phase means for learning"); the log-evidence curve over one hyperparameter.
// The network comes from the global controls; the tab's own settings live in scene.gp (docs/scene.md).
// The data, the jobs and every number drawn here come from app/gp_jobs.h: this file draws and edits the scene.
//
// Sections
//   1. helpers: formatting, labels, the view's note, progress rows
//   2. the panel: update, busy, draw
//   3. controls
//   4. gv=fit   1-D regression with draggable points; 2-D surfaces; Fashion-MNIST; CSV
//   5. gv=grid  accuracy / evidence over sigma_w^2 x depth with the critical line and 6 xi_c
//   6. gv=sweep the log-evidence curve
//   7. files (CSV upload) and the snapshot for tests
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "app/colormap.h"
#include "app/file_loader.h"
#include "app/gp_jobs.h"
#include "app/plot.h"
#include "app/view_notes.h"
#include "app/view_panel.h"
#include "app/widgets.h"
#include "core/datasets.h"
#include "core/report_json.h"
#include "core/scene_specs.h"

namespace fs::ui {
namespace {

// ---- 1. helpers ------------------------------------------------------------------------------------
constexpr int kMaxRegressionPoints = 200;
constexpr int kStripImages = 24;

std::string fmt(double v, const char* format = "%.6g") { return format_number(v, format); }

float wrapped_height(const char* text) {
  return ImGui::CalcTextSize(text, nullptr, false, ImGui::GetContentRegionAvail().x).y + ImGui::GetStyle().ItemSpacing.y;
}

const char* sweep_label(GpSweepParameter p) {
  switch (p) {
    case GpSweepParameter::sigma_b2: return "σ_b²";
    case GpSweepParameter::depth: return "depth L";
    case GpSweepParameter::sigma_n2: return "σ_n²";
    case GpSweepParameter::sigma_w2: break;
  }
  return "σ_w²";
}

// ---- 2. the panel ----------------------------------------------------------------------------------

class Panel final : public ViewPanel {
 public:
  explicit Panel(const Platform& platform) : platform_(platform), jobs_(platform) {}
  void update(const Scene& scene, double budget_seconds) override { jobs_.update(scene, budget_seconds); }
  void draw(Scene& scene) override;
  bool busy(const Scene& scene) const override { return loader_.pending() || jobs_.busy(scene); }
  nlohmann::ordered_json snapshot(const Scene& scene) const override;
  bool load_file(Scene& scene, const std::string& name, const std::string& text, const std::string& error) override;

 private:
  void controls(Scene& scene);
  void results_table(const Scene& scene);
  void fit_view(Scene& scene);
  void regression_view(Scene& scene);
  void surface_view(const Scene& scene);
  void fashion_view(const Scene& scene);
  void test_image_strip();
  void grid_view(const Scene& scene);
  void sweep_view(const Scene& scene);
  void csv_loader(bool csv_shown);
  void apply_csv(Scene& scene, const std::string& name, const std::string& text, const std::string& error);

  const Platform& platform_;
  GpJobs jobs_;
  FileLoader loader_{platform_};
  // 1-D view: the axes are frozen while a point is dragged; the plot's last area, for tests.
  bool dragging_ = false;
  Range frozen_x_{-3, 3}, frozen_y_{-2, 2};
  PlotEvents last_plot_;
  std::string point_message_;
  // Deferred edits of sliders that restart expensive work (written into the scene on release).
  int edit_train_ = 0, edit_test_ = 0;
  bool editing_train_ = false, editing_test_ = false;
  bool mistakes_only_ = false;
};

void Panel::draw(Scene& scene) {
  for (const FileLoader::File& f : loader_.take()) apply_csv(scene, f.name, f.text, f.error);
  const float em = ImGui::GetFontSize();
  ImGui::BeginChild("gp-controls", ImVec2(std::min(20 * em, ImGui::GetContentRegionAvail().x * 0.38f), 0), true);
  controls(scene);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("gp-view", ImVec2(0, 0), false);
  const GpTabData& data = jobs_.data();
  if (data.loading) {
    ImGui::TextUnformatted("loading Fashion-MNIST...");
  } else if (!data.status.ok()) {
    error_text(data.status.message);
  } else if (scene.gp.show == GpView::grid) {
    grid_view(scene);
  } else if (scene.gp.show == GpView::sweep) {
    sweep_view(scene);
  } else {
    fit_view(scene);
  }
  ImGui::EndChild();
}

// ---- 3. controls -----------------------------------------------------------------------------------

void Panel::controls(Scene& scene) {
  GpViewSpec& g = scene.gp;
  ImGui::TextUnformatted("Data");
  ImGui::Separator();
  struct Kind {
    GpData data;
    const char* label;
  };
  const Kind kinds[] = {{GpData::points, "1-D regression"},
                        {GpData::moons, "two moons"},
                        {GpData::spirals, "spirals"},
                        {GpData::xor_, "XOR"},
                        {GpData::circles, "circles"},
                        {GpData::fashion_mnist, "Fashion-MNIST"},
                        {GpData::csv, "labelled CSV (load a file below)"}};
  const char* shown = gp_data_name(g.dataset);
  for (const Kind& k : kinds)
    if (g.dataset == k.data) shown = k.label;
  if (g.dataset == GpData::csv) shown = "labelled CSV";
  const auto carries_rows = [](GpData d) { return d == GpData::points || d == GpData::csv; };
  if (ImGui::BeginCombo("data set", shown)) {
    for (const Kind& k : kinds)
      // Labelled CSV rows come from a file (the button below); the entry only shows them once loaded.
      if (ImGui::Selectable(k.label, g.dataset == k.data,
                            k.data == GpData::csv && g.dataset != GpData::csv ? ImGuiSelectableFlags_Disabled : 0)) {
        if (g.dataset != k.data && (carries_rows(g.dataset) || carries_rows(k.data)))
          g.points.clear();  // the rows belong to one kind of set
        g.dataset = k.data;
      }
    ImGui::EndCombo();
  }
  help_marker(
      "1-D regression: click to add points, drag to move, right-click (or Shift+click) to remove. Toy sets: 2-D "
      "classification. Fashion-MNIST: 28 x 28 clothing images, 10 classes. CSV: your labelled rows (features..., label).");
  const bool toy = gp_is_toy(g.dataset), fashion = g.dataset == GpData::fashion_mnist;
  if (toy || fashion) {
    const int max_train = fashion ? 4000 : 2000;
    deferred_slider_int("train points", g.train, edit_train_, editing_train_, 10, max_train,
                        "Training points n. The solve costs n³/3 operations and 8 n² bytes.");
    deferred_slider_int("test points", g.test, edit_test_, editing_test_, 10, 2000, "Test points for the accuracy and the MSE.");
    if (g.train + g.test > SceneLimits::max_gp_points) g.test = SceneLimits::max_gp_points - g.train;
  }
  if (toy) {
    const double noise_lo = 0.0, noise_hi = 1.0;
    ImGui::SliderScalar("noise", ImGuiDataType_Double, &g.noise, &noise_lo, &noise_hi, "%.3g", ImGuiSliderFlags_AlwaysClamp);
    help_marker("Standard deviation of the Gaussian noise added to each coordinate.");
  }
  if (fashion) {
    const auto& names = fashion_mnist_class_names();
    ImGui::TextDisabled("classes (none ticked: all ten)");
    bool changed = false;
    std::vector<bool> on(10, g.classes.empty());
    for (int c : g.classes)
      if (c >= 0 && c < 10) on[static_cast<std::size_t>(c)] = true;
    if (ImGui::BeginTable("fm-classes", 2)) {
      for (int c = 0; c < 10; ++c) {
        ImGui::TableNextColumn();
        bool v = on[static_cast<std::size_t>(c)];
        if (ImGui::Checkbox((std::to_string(c) + " " + names[static_cast<std::size_t>(c)]).c_str(), &v))
          on[static_cast<std::size_t>(c)] = v, changed = true;
      }
      ImGui::EndTable();
    }
    if (changed) {
      std::vector<int> kept;
      for (int c = 0; c < 10; ++c)
        if (on[static_cast<std::size_t>(c)]) kept.push_back(c);
      g.classes = kept.size() == 10 ? std::vector<int>{} : kept;
    }
    pooling_combo(g.downsample);
  }
  csv_loader(g.dataset == GpData::csv);
  if (g.dataset == GpData::points) {
    ImGui::TextDisabled("%d points · click the plot to add one", static_cast<int>(gp_regression_points(scene).size()));
    if (!g.points.empty() && ImGui::SmallButton("Default points")) g.points.clear();
  }

  // Memory estimate before the solve.
  if (const GpMemoryEstimate m = jobs_.memory_estimate(scene); m.known) {
    (m.over()
         ? ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "memory ≈ %s of %s", gp_mib(m.bytes).c_str(), gp_mib(m.budget).c_str())
         : ImGui::TextDisabled("memory ≈ %s of %s", gp_mib(m.bytes).c_str(), gp_mib(m.budget).c_str()));
    help_marker("Peak memory of the kernel and the Cholesky solve (8 bytes per kernel entry), against this platform's budget.");
  }

  ImGui::Spacing();
  ImGui::TextUnformatted("Inference");
  ImGui::Separator();
  double sn2 = std::max(g.sigma_n2, 1e-8);
  const double sn_lo = 1e-8, sn_hi = 1e2;
  if (ImGui::SliderScalar("σ_n²", ImGuiDataType_Double, &sn2, &sn_lo, &sn_hi, "%.3g",
                          ImGuiSliderFlags_Logarithmic | ImGuiSliderFlags_AlwaysClamp))
    g.sigma_n2 = sn2;
  help_marker("Observation noise (ridge) added to the training kernel's diagonal: mean f* = K*X (KXX + σ_n² I)⁻¹ y.");
  bool averaged = g.readout_from >= 0;
  const char* arch = scene.network.arch == Architecture::deep ? "layer" : "time";
  if (ImGui::RadioButton((std::string("single ") + arch + " L").c_str(), !averaged)) g.readout_from = -1;
  help_marker(
      "Readout y = w·φ(h^L) + b from the last layer (deep) or the last time step (recurrent): identical kernels for both "
      "(docs/theory.md §4.2).");
  ImGui::SameLine();
  if (ImGui::RadioButton("averaged", averaged) && !averaged) g.readout_from = std::max(0, scene.network.depth / 2);
  help_marker("Readout from the average of φ(h^t) over layers/times from the first one chosen to L.");
  if (g.readout_from >= 0) {
    int from = std::min(g.readout_from, scene.network.depth);
    if (ImGui::SliderInt("from", &from, 0, std::max(0, scene.network.depth - 1), "%d", ImGuiSliderFlags_AlwaysClamp))
      g.readout_from = from;
    help_marker("First layer/time of the averaged readout.");
    wrapped_disabled(
        scene.network.arch == Architecture::recurrent
            ? "Averaged over times, the recurrent net's readout includes cross-time covariances: its predictions differ "
              "from the deep net's (set architecture to deep to compare)."
            : "Averaged over layers, the deep net's readout has cross-layer terms only through the means "
              "E[φ(h^t)] E[φ(h^s)] (zero for odd φ), the recurrent net's through the full cross-time "
              "covariances: their predictions differ (set architecture to recurrent to compare).");
  } else if (scene.network.arch == Architecture::deep || scene.network.input_mode == InputMode::first_step) {
    wrapped_disabled("Deep and recurrent (input at t = 0): identical predictions (docs/theory.md §4.2).");
  } else {
    wrapped_disabled("Input at every step: the recurrent kernel differs from the deep one (docs/theory.md §4.2).");
  }

  ImGui::Spacing();
  ImGui::TextUnformatted("View");
  ImGui::Separator();
  int vi = static_cast<int>(g.show);
  if (ImGui::Combo("view", &vi, "predictions\0σ_w² × depth grid\0evidence curve\0")) g.show = static_cast<GpView>(vi);
  help_marker(
      "Predictions: the posterior on the data set. σ_w² × depth: what the phase means for learning, with the critical "
      "line. Evidence curve: log p(y | X) over one hyperparameter, to choose it.");
  if (g.show == GpView::grid) {
    int qi = static_cast<int>(g.grid_quantity);
    if (ImGui::Combo("colour", &qi, "test accuracy\0log evidence per point\0")) g.grid_quantity = static_cast<GpGridQuantity>(qi);
    ImGui::SliderInt("max depth", &g.grid_depth, 1, 60, "%d", ImGuiSliderFlags_AlwaysClamp);
    help_marker("Depths 1..this. The σ_w² range is the phase diagram's (w2min..w2max).");
  }
  if (g.show == GpView::sweep) {
    int si = static_cast<int>(g.sweep);  // GpSweepParameter: sigma_w2, sigma_b2, depth, sigma_n2
    if (ImGui::Combo("parameter", &si,
                     "σ_w² (phase diagram range)\0σ_b² (phase diagram range)\0depth L (1..max depth)\0σ_n² (1e-6..1e2)\0"))
      g.sweep = static_cast<GpSweepParameter>(si);
    if (g.sweep == GpSweepParameter::depth)
      ImGui::SliderInt("max depth", &g.grid_depth, 2, 200, "%d", ImGuiSliderFlags_AlwaysClamp);
  }
}

// ---- 4. gv=fit -------------------------------------------------------------------------------------

void Panel::results_table(const Scene& scene) {
  const GpResult& r = jobs_.shown().result;
  const GpProblem& p = jobs_.data().problem;
  const bool classification = p.classification;
  if (ImGui::BeginTable("gp-results", 4, ImGuiTableFlags_SizingStretchProp)) {
    auto cell = [](const char* name, const std::string& value, const char* meaning) {
      ImGui::TableNextColumn();
      ImGui::TextDisabled("%s", name);
      help_marker(meaning);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(value.c_str());
      help_marker(meaning);
    };
    const int n = static_cast<int>(p.x_train.rows()), m = static_cast<int>(p.x_test.rows());
    if (classification) {
      cell("test accuracy", fmt(r.accuracy, "%.4f"),
           "Fraction of test points classified right: sign of f* (two classes) or argmax over one-hot outputs.");
      cell("train accuracy", fmt(r.train_accuracy, "%.4f"), "The same on the training points (posterior mean at them).");
    }
    if (scene.gp.dataset != GpData::points) cell("MSE", fmt(r.mse, "%.4g"), "Mean over test points and outputs of (f* - y)².");
    cell("log evidence", fmt(r.solve.log_evidence, "%.6g"),
         "log p(y | X) of the training targets, summed over outputs (Rasmussen & Williams, eq. 2.30).");
    cell("per point", fmt(r.solve.log_evidence / std::max(1, n), "%.4g"), "Log evidence divided by n.");
    cell("jitter", r.solve.jitter > 0 ? fmt(r.solve.jitter, "%.2g") : std::string("none"),
         "Added to the diagonal on top of σ_n² when K + σ_n² I was not numerically positive definite.");
    cell("condition", fmt(r.solve.condition_number, "%.3g"), "Estimated 1-norm condition number of K + (σ_n² + jitter) I.");
    cell("n train", std::to_string(n), "Training points.");
    if (scene.gp.dataset != GpData::points) cell("n test", std::to_string(m), "Test points.");
    ImGui::EndTable();
  }
  if (r.inexact_variances > 0) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped(
        "%d points have variances q beyond the accurate range of the kernel series: their entries are less accurate.",
        r.inexact_variances);
    ImGui::PopStyleColor();
  }
}

constexpr const char* kRegressionAdvice =
    "In 1-D, K⁰(x, x') = σ_in² x x' + σ_b²: points on one side of 0 look alike unless σ_b² is large. Many ξ_c deep "
    "in the ordered phase all inputs become alike (c → 1) and the mean flattens: try a smaller L or σ_w² near the "
    "critical line.";

void Panel::regression_view(Scene& scene) {
  const auto pts = gp_regression_points(scene);
  PlotSpec spec;
  spec.id = "gp-regression";
  spec.title = "GP regression: posterior mean ± 2σ (predictive: √(latent variance + σ_n²))";
  spec.x.label = "x";
  spec.y.label = "y";
  const float below = wrapped_height(kNoteGpRegression) + wrapped_height(kRegressionAdvice) + 0.5f * ImGui::GetFontSize();
  spec.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - below, ImGui::GetFontSize() * 16));
  spec.export_name = "fieldscope-gp-regression";
  // Axes: fixed while a point is dragged, so that the plot does not move under the mouse.
  if (!dragging_) {
    const auto [lo_x, hi_x] = gp_regression_range(pts);
    frozen_x_ = {lo_x, hi_x};
    double lo = -2, hi = 2;
    for (const auto& p : pts) lo = std::min(lo, p[1] - 0.5), hi = std::max(hi, p[1] + 0.5);
    frozen_y_ = {lo, hi};
  }
  spec.x.fixed = spec.y.fixed = true;
  spec.x.min = frozen_x_.min, spec.x.max = frozen_x_.max, spec.y.min = frozen_y_.min, spec.y.max = frozen_y_.max;
  std::vector<Series> series;
  Series mean;
  mean.label = "posterior mean ± 2σ";
  mean.color = qualitative_color(0);
  GpRegressionBand band = jobs_.regression_band(scene.gp.sigma_n2);
  mean.x = std::move(band.x), mean.y = std::move(band.mean), mean.lower = std::move(band.lower),
  mean.upper = std::move(band.upper);
  Series points;
  points.label = "training points";
  points.color = qualitative_color(1);
  points.markers = true;
  points.line = false;
  points.thickness = 3.f;
  for (const auto& p : pts) points.x.push_back(p[0]), points.y.push_back(p[1]);
  series.push_back(std::move(mean));
  series.push_back(std::move(points));
  spec.editable = 1;
  const PlotEvents e = line_plot(spec, series);
  last_plot_ = e;
  dragging_ = e.dragged >= 0;
  auto rounded = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  std::vector<std::vector<double>> next = pts;
  bool changed = false;
  if (e.dragged >= 0 && e.dragged < static_cast<int>(next.size())) {
    next[static_cast<std::size_t>(e.dragged)] = {rounded(e.drag_x), rounded(e.drag_y)};
    changed = next != pts;
  } else if (e.removed >= 0 && e.removed < static_cast<int>(next.size())) {
    if (next.size() <= 1)
      point_message_ = "At least one point is needed.";
    else
      next.erase(next.begin() + e.removed), changed = true, point_message_.clear();
  } else if (e.clicked) {
    if (static_cast<int>(next.size()) >= kMaxRegressionPoints)
      point_message_ = "At most " + std::to_string(kMaxRegressionPoints) + " points.";
    else
      next.push_back({rounded(e.x), rounded(e.y)}), changed = true, point_message_.clear();
  }
  if (changed) scene.gp.points = next;
  wrapped_disabled(kNoteGpRegression);
  wrapped_disabled(kRegressionAdvice);
  if (!point_message_.empty()) error_text(point_message_);
}

void Panel::surface_view(const Scene& scene) {
  const GpTabData& data = jobs_.data();
  const GpFitState& fit = jobs_.fit();
  const GpProblem& p = data.problem;
  const int side = fit.surface_side;
  HeatMapSpec h;
  h.id = "gp-surface";
  const bool two = fit.k <= 2 || !p.classification;
  h.title = !p.classification ? "Posterior mean over the plane"
            : two             ? "Decision surface: posterior mean f (sign = predicted class)"
                              : "Confidence: margin between the two largest outputs (lines: class boundaries)";
  h.x.label = "x₁";
  h.y.label = "x₂";
  h.x.min = data.x0, h.x.max = data.x1, h.y.min = data.y0, h.y.max = data.y1;
  h.value_label = !p.classification ? "mean" : two ? "f" : "margin";
  h.diverging = p.classification && two;
  const bool ready = fit.surface_ready();
  h.values = ready ? fit.surface_values.data() : nullptr;
  h.columns = h.rows = side;
  const float below =
      std::max(ImGui::GetFontSize() * 6.5f, wrapped_height(kNoteGpSurface) + ImGui::GetTextLineHeightWithSpacing());
  h.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - below, ImGui::GetFontSize() * 16));
  h.export_name = std::string("fieldscope-gp-") + gp_data_name(scene.gp.dataset);
  std::vector<Series> overlays;
  if (p.classification) {
    const std::vector<double>& classes = data.classes;
    for (std::size_t c = 0; c < classes.size(); ++c) {
      Series s;
      const int id = static_cast<int>(classes[c]);
      s.label =
          "class " + std::to_string(id) +
          (id >= 0 && id < static_cast<int>(data.class_names.size()) ? " (" + data.class_names[static_cast<std::size_t>(id)] + ")"
                                                                     : "");
      s.markers = true;
      s.line = false;
      s.thickness = 2.2f;
      s.color = two ? (c == 0 ? rgba8(40, 70, 170) : rgba8(180, 40, 30)) : qualitative_color(static_cast<int>(c));
      for (Eigen::Index a = 0; a < p.x_train.rows(); ++a)
        if (p.y_train[static_cast<std::size_t>(a)] == classes[c]) s.x.push_back(p.x_train(a, 0)), s.y.push_back(p.x_train(a, 1));
      // A light halo under each dot keeps it visible on its own class's colour.
      Series halo = s;
      halo.label.clear();
      halo.color = IM_COL32(255, 255, 255, 210);
      halo.thickness = 3.2f;
      overlays.push_back(std::move(halo));
      overlays.push_back(std::move(s));
    }
    if (ready && !two) {
      Series b;
      b.color = IM_COL32(255, 255, 255, 220);
      b.thickness = 1.5f;
      b.x = fit.boundary_x, b.y = fit.boundary_y;
      overlays.push_back(std::move(b));
    }
  } else {
    Series s;
    s.label = "training points";
    s.markers = true;
    s.line = false;
    s.color = IM_COL32(255, 255, 255, 230);
    for (Eigen::Index a = 0; a < p.x_train.rows(); ++a) s.x.push_back(p.x_train(a, 0)), s.y.push_back(p.x_train(a, 1));
    overlays.push_back(std::move(s));
  }
  heat_map(h, overlays);
  wrapped_disabled(kNoteGpSurface);
  if (fit.surface_done && !fit.surface_status.ok()) error_text("Surface: " + fit.surface_status.message);
}

void Panel::fashion_view(const Scene& scene) {
  (void)scene;
  const GpFitState& fit = jobs_.fit();
  const GpResult& r = fit.result;
  const auto& names = jobs_.data().class_names;
  auto name_of = [&](double id) {
    const int i = static_cast<int>(id);
    return i >= 0 && i < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(i)] : std::to_string(i);
  };
  const float em = ImGui::GetFontSize();
  const float strip_height = 8.5f * em;
  const float avail = ImGui::GetContentRegionAvail().y;
  // Confusion matrix.
  if (fit.k > 0) {
    HeatMapSpec h;
    h.id = "gp-confusion";
    h.title = "Confusion matrix (each row: one true class)";
    h.x.label = "predicted class (index)";
    h.y.label = "true class (index)";
    h.x.integer = h.y.integer = true;
    h.x.min = h.y.min = 0;
    h.x.max = h.y.max = std::max(1, fit.k - 1);
    h.value_label = "fraction";
    h.vmin = 0, h.vmax = 1;
    h.values = fit.confusion.data();
    h.columns = h.rows = fit.k;
    const float height = std::max(avail - strip_height - 3.5f * em - wrapped_height(kNoteGpFashion), 14 * em);
    h.size = ImVec2(std::min(ImGui::GetContentRegionAvail().x - 10 * em, height * 1.2f), height);
    h.export_name = "fieldscope-gp-confusion";
    const PlotEvents e = heat_map(h);
    if (e.column >= 0 && e.row >= 0 && e.column < fit.k && e.row < fit.k) {
      ImGui::BeginTooltip();
      ImGui::Text("true: %s", name_of(r.classes[static_cast<std::size_t>(e.row)]).c_str());
      ImGui::Text("predicted: %s", name_of(r.classes[static_cast<std::size_t>(e.column)]).c_str());
      ImGui::EndTooltip();
    }
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextDisabled("index  class");
    for (int i = 0; i < fit.k; ++i) ImGui::Text("%5d  %s", i, name_of(r.classes[static_cast<std::size_t>(i)]).c_str());
    ImGui::EndGroup();
  }
  test_image_strip();
  wrapped_disabled(kNoteGpFashion);
}

// A strip of test images with their predictions; mistakes framed in red.
void Panel::test_image_strip() {
  const GpTabData& data = jobs_.data();
  const GpResult& r = jobs_.fit().result;
  const auto& names = data.class_names;
  auto name_of = [&](double id) {
    const int i = static_cast<int>(id);
    return i >= 0 && i < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(i)] : std::to_string(i);
  };
  const float em = ImGui::GetFontSize();
  const GpProblem& p = data.problem;
  const int side = data.image_side;
  if (side <= 0 || p.x_test.cols() != side * side || r.predicted.size() != static_cast<std::size_t>(p.x_test.rows())) return;
  ImGui::TextDisabled("Test images: predicted, then (true) label; red = mistake");
  ImGui::SameLine();
  ImGui::Checkbox("mistakes only", &mistakes_only_);
  std::vector<int> chosen;
  for (int i = 0; i < static_cast<int>(p.x_test.rows()) && static_cast<int>(chosen.size()) < kStripImages; ++i)
    if (!mistakes_only_ || r.predicted[static_cast<std::size_t>(i)] != p.y_test[static_cast<std::size_t>(i)]) chosen.push_back(i);
  const float cell = 5.0f * em, gap = 0.4f * em;
  const int per_row = std::max(1, static_cast<int>((ImGui::GetContentRegionAvail().x + gap) / (cell + gap)));
  ImDrawList* draw = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const int shown = std::min(static_cast<int>(chosen.size()), per_row);
  for (int k = 0; k < shown; ++k) {
    const int i = chosen[static_cast<std::size_t>(k)];
    const ImVec2 at(origin.x + k * (cell + gap), origin.y);
    const auto img = p.x_test.row(i);
    const double lo = img.minCoeff(), hi = img.maxCoeff(), span = hi > lo ? hi - lo : 1.0;
    const float px = cell / side;
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        const int v = static_cast<int>(std::lround(255.0 * (img(y * side + x) - lo) / span));
        draw->AddRectFilled(ImVec2(at.x + x * px, at.y + y * px), ImVec2(at.x + (x + 1) * px, at.y + (y + 1) * px),
                            IM_COL32(v, v, v, 255));
      }
    const bool right = r.predicted[static_cast<std::size_t>(i)] == p.y_test[static_cast<std::size_t>(i)];
    draw->AddRect(ImVec2(at.x - 1, at.y - 1), ImVec2(at.x + cell + 1, at.y + cell + 1),
                  right ? IM_COL32(120, 120, 120, 255) : IM_COL32(235, 60, 50, 255), 0, 0, right ? 1.f : 2.5f);
    const std::string predicted = name_of(r.predicted[static_cast<std::size_t>(i)]),
                      truth = "(" + name_of(p.y_test[static_cast<std::size_t>(i)]) + ")";
    draw->PushClipRect(ImVec2(at.x, at.y + cell), ImVec2(at.x + cell + 0.8f * gap, at.y + cell + 3 * em), true);
    draw->AddText(ImVec2(at.x, at.y + cell + 0.2f * em), right ? IM_COL32(215, 215, 215, 255) : IM_COL32(255, 115, 100, 255),
                  predicted.c_str());
    draw->AddText(ImVec2(at.x, at.y + cell + 1.3f * em), ImGui::GetColorU32(ImGuiCol_TextDisabled), truth.c_str());
    draw->PopClipRect();
    if (ImGui::IsMouseHoveringRect(at, ImVec2(at.x + cell, at.y + cell + 2.5f * em)))
      ImGui::SetTooltip("test image %d\npredicted: %s\ntrue: %s", i + 1, predicted.c_str(), truth.c_str());
  }
  if (chosen.empty())
    ImGui::TextDisabled(mistakes_only_ ? "No mistakes." : "No test images.");
  else
    ImGui::Dummy(ImVec2(1, cell + 2.6f * em));
}

void Panel::fit_view(Scene& scene) {
  const GpData kind = scene.gp.dataset;
  const GpTabData& data = jobs_.data();
  const GpFitState& fit = jobs_.fit();
  // A fixed slot for progress and messages, so that nothing below moves while a fit recomputes.
  if (fit.job) {
    const GpJob& job = *fit.job;
    progress_row("GP solve", job.progress(), job.stage(), [this] { jobs_.cancel_fit(); });
  } else if (const Job* surface = fit.surface_running()) {
    progress_row("decision surface", surface->progress(), "kernel on the plane", [this] { jobs_.cancel_fit(); });
  } else if (fit.cancelled) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("Cancelled.");
    ImGui::SameLine();
    if (ImGui::Button("Recompute")) jobs_.restart_fit();
  } else if (!fit.refused.ok()) {
    error_text(fit.refused.message);
  } else if (fit.done && !fit.result.status.ok()) {
    error_text(fit.result.status.message);
  } else if (kind == GpData::points) {
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("Click to add a point · drag a point to move it · right-click or Shift+click a point to remove it.");
  } else {
    ImGui::Dummy(ImVec2(0, ImGui::GetFrameHeight()));  // what the fit is: the view's note, under it
  }
  const GpShownFit& shown = jobs_.shown();
  const bool current_kind = shown.has && shown.dataset == kind;
  if (current_kind && shown.result.status.ok() && (fit.done || fit.job)) results_table(scene);
  if (kind == GpData::points)
    regression_view(scene);
  else if (data.surface)
    surface_view(scene);
  else if (kind == GpData::fashion_mnist && fit.done && fit.result.status.ok())
    fashion_view(scene);
  else if (kind == GpData::csv && fit.done && fit.result.status.ok())
    ImGui::TextDisabled("%d features per row: only 2-D data are drawn as a surface.", data.dim);
}

// ---- 5. gv=grid ------------------------------------------------------------------------------------

constexpr const char* kGridCaption =
    "Near the critical line correlations survive to depth ≈ ξ_c; deep in the ordered or chaotic phase the kernel forgets "
    "the inputs and accuracy falls.";

void Panel::grid_view(const Scene& scene) {
  const GpGridState& grid = jobs_.grid();
  if (!grid.refused.ok()) error_text(grid.refused.message);
  if (!grid.job) return;
  const GpPhaseGridJob& job = *grid.job;
  if (job.progress() < 1.0 && !grid.cancelled)
    progress_row("σ_w² × depth grid", job.progress(), "one kernel recursion per σ_w² column", [this] { jobs_.cancel_grid(); });
  if (grid.cancelled) {
    ImGui::TextDisabled("Cancelled.");
    ImGui::SameLine();
    if (ImGui::SmallButton("Recompute")) jobs_.restart_grid();
    if (!jobs_.grid().job) return;
  }
  const int rows = grid.rows;
  const bool evidence = scene.gp.grid_quantity == GpGridQuantity::evidence || !jobs_.data().problem.classification;
  const std::string inputs =
      scene.network.sigma_in2
          ? "σ_in² = " + fmt(*scene.network.sigma_in2, "%.4g") + " in every column (one kernel recursion per column). "
          : std::string("σ_in² = σ_w² in every column (one kernel recursion per column). ");
  const std::string caption = inputs + kGridCaption;
  HeatMapSpec h;
  h.id = "gp-grid";
  h.title = evidence ? "Log evidence per training point over σ_w² and depth" : "Test accuracy over σ_w² and depth";
  h.x.label = "σ_w²";
  h.y.label = "depth L";
  h.y.integer = true;
  h.x.min = job.sigma_w2_values().front(), h.x.max = job.sigma_w2_values().back();
  h.y.min = 0, h.y.max = std::max(1, rows - 1);  // rows are the depths 0..gL
  h.value_label = evidence ? "log p(y)/n" : "accuracy";
  h.values = evidence ? grid.evidence.data() : grid.accuracy.data();
  h.columns = grid.columns, h.rows = rows;
  const float below = wrapped_height(kNoteGpGrid) + wrapped_height(caption.c_str()) + 0.5f * ImGui::GetFontSize();
  h.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - below, ImGui::GetFontSize() * 16));
  h.marker = DataPoint{scene.network.sigma_w2, double(scene.network.depth)};
  h.export_name = "fieldscope-gp-grid";
  std::vector<Series> overlays;
  if (grid.critical.status.ok()) {
    Series line;
    line.label = "critical σ_w² at σ_b² = " + fmt(grid.key.network.sigma_b2, "%.3g");
    line.x = {grid.critical.sigma_w2, grid.critical.sigma_w2};
    line.y = {-0.5, rows - 0.5};
    line.color = IM_COL32(255, 255, 255, 235);
    line.dashed = true;
    overlays.push_back(std::move(line));
  }
  Series depth_scale;
  depth_scale.label = "6 ξ_c (trainable depth)";
  depth_scale.color = IM_COL32(120, 230, 255, 240);
  depth_scale.x = grid.depth_scale_x, depth_scale.y = grid.depth_scale_y;
  overlays.push_back(std::move(depth_scale));
  heat_map(h, overlays);
  wrapped_disabled(kNoteGpGrid);
  wrapped_disabled(caption.c_str());
  if (!job.status().ok() && job.status().code != StatusCode::cancelled)
    ImGui::TextDisabled("Note: %s", job.status().message.c_str());
}

// ---- 6. gv=sweep -----------------------------------------------------------------------------------

void Panel::sweep_view(const Scene& scene) {
  const GpSweepState& sweep = jobs_.sweep();
  if (!sweep.refused.ok()) error_text(sweep.refused.message);
  if (!sweep.job) return;
  const GpEvidenceCurveJob& job = *sweep.job;
  if (job.progress() < 1.0 && !sweep.cancelled)
    progress_row("evidence curve", job.progress(), sweep_label(scene.gp.sweep), [this] { jobs_.cancel_sweep(); });
  if (sweep.cancelled) {
    ImGui::TextDisabled("Cancelled.");
    ImGui::SameLine();
    if (ImGui::SmallButton("Recompute")) jobs_.restart_sweep();
    if (!jobs_.sweep().job) return;
  }
  GpSweepCurve c = gp_sweep_curve(job.points());
  const int best = c.best;
  Series curve;
  curve.label = "log evidence";
  curve.markers = true;
  curve.x = std::move(c.x), curve.y = std::move(c.y);
  PlotSpec spec;
  spec.id = "gp-sweep";
  spec.title = std::string("Log evidence log p(y | X) over ") + sweep_label(scene.gp.sweep);
  spec.x.label = sweep_label(scene.gp.sweep);
  spec.x.log = scene.gp.sweep == GpSweepParameter::sigma_n2;
  spec.y.label = "log evidence";
  spec.x_lines = {gp_scene_sweep_value(scene)};
  if (best >= 0) spec.marker = DataPoint{curve.x[static_cast<std::size_t>(best)], curve.y[static_cast<std::size_t>(best)]};
  const float below = wrapped_height(kNoteGpSweep) + ImGui::GetFontSize() * 3.5f;
  spec.size = ImVec2(-1, std::max(ImGui::GetContentRegionAvail().y - below, ImGui::GetFontSize() * 16));
  spec.export_name = "fieldscope-gp-sweep";
  line_plot(spec, {curve});
  wrapped_disabled(kNoteGpSweep);
  if (scene.gp.sweep == GpSweepParameter::sigma_w2) {
    if (scene.network.sigma_in2)
      ImGui::TextDisabled("σ_in² stays at %s for every σ_w².", fmt(*scene.network.sigma_in2, "%.4g").c_str());
    else
      ImGui::TextDisabled("σ_in² = σ_w² at every point (σ_in² is not set separately).");
  }
  if (best >= 0)
    ImGui::Text("maximum: %s = %s (log evidence %s); dashed line: the scene's value %s", sweep_label(scene.gp.sweep),
                fmt(curve.x[static_cast<std::size_t>(best)], "%.4g").c_str(),
                fmt(curve.y[static_cast<std::size_t>(best)], "%.6g").c_str(), fmt(gp_scene_sweep_value(scene), "%.4g").c_str());
  if (c.first_failure >= 0) {
    const GpEvidencePoint& p = job.points()[static_cast<std::size_t>(c.first_failure)];
    ImGui::TextDisabled("Missing points: %s", ("at " + fmt(p.value, "%.3g") + ": " + p.status.message).c_str());
  }
}

// ---- 7. files and snapshot -------------------------------------------------------------------------

void Panel::csv_loader(bool csv_shown) {
  loader_.draw("gp-csv", "Load labelled CSV...",
               "A labelled CSV file: one point per row, features then the label (an integer class id, or a real target "
               "for regression); optional header and # comments. You can also drop a file on the window.");
  if (csv_shown) ImGui::TextDisabled("Every 4th row is a test point.");
}

bool Panel::load_file(Scene& scene, const std::string& name, const std::string& text, const std::string& error) {
  apply_csv(scene, name, text, error);
  return true;
}

void Panel::apply_csv(Scene& scene, const std::string& name, const std::string& text, const std::string& error) {
  const LabelledCsvLoad loaded = load_labelled_csv(scene, fs::Panel::gp, name, text, error);
  loader_.set_message(loaded.failed, loaded.message);
}

nlohmann::ordered_json Panel::snapshot(const Scene& scene) const {
  const GpTabData& data = jobs_.data();
  const GpFitState& fit = jobs_.fit();
  nlohmann::ordered_json j;
  j["dataset"] = gp_data_name(scene.gp.dataset);
  j["view"] = gp_view_name(scene.gp.show);
  j["loading"] = data.loading;
  j["data_status"] = data.status.message;
  j["train"] = static_cast<int>(data.problem.x_train.rows());
  j["test"] = static_cast<int>(data.problem.x_test.rows());
  j["dim"] = data.dim;
  j["classification"] = data.problem.classification;
  j["budget_mib"] = double(jobs_.budget_bytes()) / 1048576.0;
  loader_.snapshot(j);
  j["points"] = static_cast<int>(gp_regression_points(scene).size());
  nlohmann::ordered_json f;
  f["current"] = jobs_.fit_current(scene);
  f["done"] = fit.done;
  f["cancelled"] = fit.cancelled;
  f["refused"] = fit.refused.message;
  f["memory_mib"] = fit.memory_bytes / 1048576.0;
  if (fit.done) {
    const GpResult& r = fit.result;
    f["status"] = r.status.message;
    f["accuracy"] = json::number(r.accuracy);
    f["train_accuracy"] = json::number(r.train_accuracy);
    f["mse"] = json::number(r.mse);
    f["log_evidence"] = json::number(r.solve.log_evidence);
    f["jitter"] = json::number(r.solve.jitter);
    f["condition_number"] = json::number(r.solve.condition_number);
    if (fit.k > 0) f["classes"] = fit.k;
  }
  if (fit.surface_done) f["surface"] = fit.surface_status.ok() ? std::string("ok") : fit.surface_status.message;
  j["fit"] = f;
  j["plot"] = {{"area", {last_plot_.area_min.x, last_plot_.area_min.y, last_plot_.area_max.x, last_plot_.area_max.y}},
               {"x", {last_plot_.view_x_min, last_plot_.view_x_max}},
               {"y", {last_plot_.view_y_min, last_plot_.view_y_max}}};
  if (jobs_.grid_current(scene)) {
    const GpGridState& grid = jobs_.grid();
    nlohmann::ordered_json g;
    g["sigma_w2"] = grid.job->sigma_w2_values();
    g["depths"] = grid.job->max_depth();
    g["done"] = grid.job->progress() >= 1.0;
    nlohmann::ordered_json acc = nlohmann::ordered_json::array(), ev = nlohmann::ordered_json::array();
    for (const auto& column : grid.job->points()) {
      nlohmann::ordered_json a = nlohmann::ordered_json::array(), e = nlohmann::ordered_json::array();
      for (const GpDepthPoint& p : column) a.push_back(json::number(p.accuracy)), e.push_back(json::number(p.log_evidence));
      acc.push_back(a), ev.push_back(e);
    }
    g["accuracy"] = acc;
    g["log_evidence"] = ev;
    g["critical_sigma_w2"] = grid.critical.status.ok() ? json::number(grid.critical.sigma_w2) : nlohmann::ordered_json(nullptr);
    j["grid"] = g;
  }
  if (jobs_.sweep_current(scene)) {
    nlohmann::ordered_json s;
    s["parameter"] = gp_sweep_parameter_name(scene.gp.sweep);
    nlohmann::ordered_json values = nlohmann::ordered_json::array(), le = nlohmann::ordered_json::array();
    for (const GpEvidencePoint& p : jobs_.sweep().job->points())
      values.push_back(p.value), le.push_back(p.status.ok() ? json::number(p.log_evidence) : nullptr);
    s["values"] = values;
    s["log_evidence"] = le;
    j["sweep"] = s;
  }
  return j;
}

}  // namespace

std::unique_ptr<ViewPanel> make_gp_panel(const Platform& platform) { return std::make_unique<Panel>(platform); }

}  // namespace fs::ui
