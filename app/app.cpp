// The explorer's frame: controls, the phase diagram, signal propagation and kernels.
//
// Sections
//   1. construction, scene changes and the share link
//   2. derived results: what depends on which part of the scene; jobs within the frame budget
//   3. layout and the controls panel
//   4. phase diagram
//   5. signal propagation
//   6. kernels
//   7. status bar and snapshot for tests
#include "app/app.h"

#include <imgui.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "app/plot.h"
#include "core/scene_specs.h"

namespace fs::ui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Scenes that agree on everything a result depends on.
bool same_mean_field(const Scene& a, const Scene& b) {
  return a.activation == b.activation && a.sigma_w2 == b.sigma_w2 && a.sigma_b2 == b.sigma_b2 && a.sigma_in2 == b.sigma_in2 &&
         a.depth == b.depth && a.inputs == b.inputs && a.seed == b.seed && a.view.input_a == b.view.input_a &&
         a.view.input_b == b.view.input_b;
}
bool same_phase(const Scene& a, const Scene& b) { return a.activation == b.activation && a.phase == b.phase; }
bool same_kernel(const Scene& a, const Scene& b) {
  return a.arch == b.arch && a.activation == b.activation && a.sigma_w2 == b.sigma_w2 && a.sigma_b2 == b.sigma_b2 &&
         a.sigma_in2 == b.sigma_in2 && a.depth == b.depth && a.bias_mode == b.bias_mode && a.input_mode == b.input_mode &&
         a.inputs == b.inputs && a.seed == b.seed;
}

std::string fmt(double v, const char* format = "%.6g") {
  if (std::isinf(v)) return v > 0 ? "∞" : "-∞";
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

void help_marker(const char* text) {
  if (ImGui::IsItemHovered()) {
    ImGui::BeginTooltip();
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28.0f);
    ImGui::TextUnformatted(text);
    ImGui::PopTextWrapPos();
    ImGui::EndTooltip();
  }
}

// A double slider with a symbol, clamped to its range, with a tooltip; true when changed.
bool slider(const char* label, double& value, double lo, double hi, const char* tooltip, const char* format = "%.4g",
            ImGuiSliderFlags flags = 0) {
  const bool changed = ImGui::SliderScalar(label, ImGuiDataType_Double, &value, &lo, &hi, format, flags | ImGuiSliderFlags_AlwaysClamp);
  help_marker(tooltip);
  return changed;
}
bool slider_int(const char* label, int& value, int lo, int hi, const char* tooltip) {
  const bool changed = ImGui::SliderInt(label, &value, lo, hi, "%d", ImGuiSliderFlags_AlwaysClamp);
  help_marker(tooltip);
  return changed;
}

Series make_series(std::string label, std::vector<double> x = {}, std::vector<double> y = {}) {
  Series s;
  s.label = std::move(label);
  s.x = std::move(x);
  s.y = std::move(y);
  return s;
}

// A one-dimensional map sampled on [lo, hi], the diagonal, and the cobweb of its iterates.
void cobweb_plot(const char* id, const char* title, const char* x_label, const char* y_label, ImVec2 size, const char* map_label,
                 double lo, double hi, int samples, const std::function<double(double)>& map_fn, const std::vector<double>& iterates,
                 bool show_map) {
  PlotSpec spec;
  spec.id = id;
  spec.title = title;
  spec.x.label = x_label;
  spec.y.label = y_label;
  spec.size = size;
  Series map = make_series(map_label), diag = make_series("diagonal"), path = make_series("iterates");
  if (show_map) {
    for (int i = 0; i <= samples; ++i) {
      const double x = lo + (hi - lo) * i / samples;
      map.x.push_back(x);
      map.y.push_back(map_fn(x));
    }
  }
  diag.x = {lo, hi};
  diag.y = {lo, hi};
  diag.dashed = true;
  for (std::size_t i = 0; i + 1 < iterates.size(); ++i) {
    path.x.insert(path.x.end(), {iterates[i], iterates[i]});
    path.y.insert(path.y.end(), {i == 0 ? 0.0 : iterates[i], iterates[i + 1]});
  }
  path.thickness = 1.2f;
  line_plot(spec, {map, diag, path});
}

const char* kQuantities[] = {"chi1", "xi_c", "lambda", "q_star", "c_star"};
const char* kQuantityLabels[] = {"χ₁  (slope of the c-map at c = 1)", "ξ_c  (correlation depth scale)",
                                 "λ_max  (Lyapunov exponent per layer)", "q*  (fixed-point variance)",
                                 "c*  (fixed-point correlation)"};
}  // namespace

// ---------------------------------------------------------------------------------------------------
// 1. construction, scene changes and the share link
// ---------------------------------------------------------------------------------------------------
App::App(Platform platform, Scene scene, std::vector<std::string> load_warnings)
    : platform_(std::move(platform)), scene_(std::move(scene)), messages_(std::move(load_warnings)) {
  scene_changed();
}

void App::set_scene(const Scene& scene) {
  scene_ = scene;
  scene_changed();
}

void App::scene_changed() {
  const std::string link = scene_to_query(scene_);
  if (link != last_link_) {
    last_link_ = link;
    if (platform_.set_link) platform_.set_link(link);
  }
}

bool App::busy() const {
  return derived_.critical_next < 64 || (derived_.phase_job && derived_.phase_job->progress() < 1.0) || (derived_.deep_job && derived_.deep_job->progress() < 1.0) ||
         (derived_.recurrent_job && derived_.recurrent_job->progress() < 1.0) || !derived_.phase_valid || !derived_.signal_valid;
}

// ---------------------------------------------------------------------------------------------------
// 2. derived results
// ---------------------------------------------------------------------------------------------------
void App::update_derived(double budget_seconds) {
  Derived& d = derived_;
  if (!d.signal_valid || !same_mean_field(d.signal_for, scene_)) {
    const MeanFieldParams p = mean_field_params(scene_);
    d.fixed = fixed_point(p);
    InputsResult inputs = scene_inputs(scene_);
    d.inputs_status = inputs.status;
    d.signal = {};
    d.q_iterates.clear();
    d.c_iterates.clear();
    if (inputs.status.ok()) {
      const Eigen::MatrixXd g = inputs.inputs.gram();
      const int a = std::clamp(scene_.view.input_a, 0, inputs.inputs.count - 1);
      const int b = std::clamp(scene_.view.input_b, 0, inputs.inputs.count - 1);
      const double s = scene_.input_variance();
      d.signal = signal_trajectory(p, s * g(a, a) + scene_.sigma_b2, s * g(b, b) + scene_.sigma_b2, s * g(a, b) + scene_.sigma_b2,
                                   scene_.depth);
      d.q_iterates = q_iterates(p, s * g(a, a) + scene_.sigma_b2, std::min(scene_.depth, 60));
      if (d.fixed.phase != Phase::diverged && d.fixed.q_star > 0 && !d.signal.correlation.empty())
        d.c_iterates = c_iterates(p, d.fixed.q_star, d.signal.correlation.front(), std::min(scene_.depth, 60));
    }
    d.signal_for = scene_;
    d.signal_valid = true;
  }
  if (!d.phase_valid || !same_phase(d.phase_for, scene_)) {
    d.phase_job = std::make_unique<PhaseDiagramJob>(phase_diagram_spec(scene_));
    d.critical_b2.clear();
    d.critical_w2.clear();
    d.critical_next = 0;
    d.phase_for = scene_;
    d.phase_valid = true;
  }
  if (!d.kernel_valid || !same_kernel(d.kernel_for, scene_)) {
    d.deep_job.reset();
    d.recurrent_job.reset();
    InputsResult inputs = scene_inputs(scene_);
    if (inputs.status.ok()) {
      if (scene_.arch == Architecture::deep)
        d.deep_job = std::make_unique<DeepKernelJob>(deep_kernel_spec(scene_), inputs.inputs.gram());
      else
        d.recurrent_job = std::make_unique<RecurrentKernelJob>(recurrent_kernel_spec(scene_), inputs.inputs);
    }
    d.kernel_for = scene_;
    d.kernel_valid = true;
  }
  // The critical line, a few points per frame (quadratic spacing: it rises steeply from sigma_b^2 = 0).
  constexpr int kCriticalSamples = 64;
  if (d.critical_next < kCriticalSamples) {
    const SliceTimer timer(0.25 * budget_seconds);
    while (d.critical_next < kCriticalSamples) {
      const double u = static_cast<double>(d.critical_next++) / (kCriticalSamples - 1);
      const double b2 = scene_.phase.sigma_b2_min + (scene_.phase.sigma_b2_max - scene_.phase.sigma_b2_min) * u * u;
      const CriticalPoint cp = critical_point(scene_.activation, b2);
      if (cp.status.ok()) {
        d.critical_b2.push_back(b2);
        d.critical_w2.push_back(cp.sigma_w2);
      }
      if (timer.expired()) break;
    }
  }
  // One budget per frame for all jobs: the visible view's job first, the others with what is left.
  const auto start = std::chrono::steady_clock::now();
  auto remaining = [&] {
    return budget_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  Job* jobs[] = {d.phase_job.get(), d.deep_job.get(), d.recurrent_job.get()};
  if (scene_.view.panel == "kernels") std::swap(jobs[0], jobs[d.deep_job ? 1 : 2]);
  for (Job* job : jobs)
    if (job && job->progress() < 1.0 && remaining() > 0) job->step(remaining());
}

// ---------------------------------------------------------------------------------------------------
// 3. layout and controls
// ---------------------------------------------------------------------------------------------------
void App::frame(double budget_seconds) {
  ++frames_;
  update_derived(budget_seconds);
  const ImGuiViewport* viewport = ImGui::GetMainViewport();
  ImGui::SetNextWindowPos(viewport->WorkPos);
  ImGui::SetNextWindowSize(viewport->WorkSize);
  ImGui::Begin("Fieldscope", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoBringToFrontOnFocus |
                   ImGuiWindowFlags_NoSavedSettings);
  const float controls_width = std::min(ImGui::GetFontSize() * 22.0f, viewport->WorkSize.x * 0.4f);
  ImGui::BeginChild("controls", ImVec2(controls_width, -ImGui::GetFrameHeightWithSpacing()), true);
  controls_panel();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("views", ImVec2(0, -ImGui::GetFrameHeightWithSpacing()), false);
  if (ImGui::BeginTabBar("view-tabs")) {
    struct Tab {
      const char* panel;
      const char* label;
    };
    const Tab tabs[] = {{"phase", "Phase diagram"}, {"signal", "Signal propagation"}, {"kernels", "Kernels"}};
    // A panel set by the link (or Reset) is selected for us; afterwards a click on a tab writes the
    // panel back into the scene. The tab bar settles a forced selection within two frames.
    if (scene_.view.panel != shown_panel_) {
      shown_panel_ = scene_.view.panel;
      force_frames_ = 2;
    }
    for (const Tab& tab : tabs) {
      const ImGuiTabItemFlags flags = (force_frames_ > 0 && shown_panel_ == tab.panel) ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(tab.label, nullptr, flags)) {
        if (force_frames_ == 0 && shown_panel_ != tab.panel) {
          scene_.view.panel = shown_panel_ = tab.panel;
          scene_changed();
        }
        const std::string panel = tab.panel;
        if (panel == "phase") phase_panel();
        else if (panel == "signal") signal_panel();
        else kernel_panel();
        ImGui::EndTabItem();
      }
    }
    if (force_frames_ > 0) --force_frames_;
    ImGui::EndTabBar();
  }
  ImGui::EndChild();
  status_bar();
  ImGui::End();
}

void App::controls_panel() {
  Scene before = scene_;
  ImGui::TextUnformatted("Network");
  ImGui::Separator();
  int arch = scene_.arch == Architecture::deep ? 0 : 1;
  const char* archs[] = {"deep", "recurrent"};
  if (ImGui::Combo("architecture", &arch, archs, 2)) scene_.arch = arch == 0 ? Architecture::deep : Architecture::recurrent;
  help_marker("Deep: h^l = W^l φ(h^{l-1}) + b^l with independent W^l. Recurrent: h^t = W φ(h^{t-1}) + b with one W for all t.");

  const auto& names = activation_names();
  int act = 0;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == scene_.activation.name()) act = static_cast<int>(i);
  if (ImGui::BeginCombo("φ activation", names[act].c_str())) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (ImGui::Selectable(names[i].c_str(), static_cast<int>(i) == act)) {
        scene_.activation.kind = *activation_kind_from_name(names[i]);
        scene_.activation.param = default_activation_param(scene_.activation.kind);
      }
    ImGui::EndCombo();
  }
  help_marker(("φ(x) = " + scene_.activation.formula()).c_str());
  if (activation_has_param(scene_.activation.kind)) {
    if (scene_.activation.kind == ActivationKind::erf)
      slider("a (erf scale)", scene_.activation.param, 0.05, 5.0, "φ(x) = erf(a x). a = √π/2 ≈ 0.886 has slope 1 at 0, like tanh.");
    else
      slider("α (leaky slope)", scene_.activation.param, 0.0, 0.99, "φ(x) = x for x > 0, α x for x < 0.");
  }
  slider("σ_w²", scene_.sigma_w2, 0.01, 8.0, "Weight variance: W_ij ~ N(0, σ_w²/N).");
  slider("σ_b²", scene_.sigma_b2, 0.0, 2.0, "Bias variance: b_i ~ N(0, σ_b²).");
  bool own_input = scene_.sigma_in2.has_value();
  if (ImGui::Checkbox("separate σ_in²", &own_input)) scene_.sigma_in2 = own_input ? std::optional<double>(scene_.sigma_w2) : std::nullopt;
  help_marker("Input-layer weights U_ij ~ N(0, σ_in²/d). Unchecked: σ_in² = σ_w².");
  if (scene_.sigma_in2) slider("σ_in²", *scene_.sigma_in2, 0.0, 8.0, "Input-layer weight variance.");
  slider_int(scene_.arch == Architecture::deep ? "L layers" : "T steps", scene_.depth, 1, 200,
             "Depth L of the deep network, or number of time steps T of the recurrent one.");
  if (scene_.arch == Architecture::recurrent) {
    int bias = scene_.bias_mode == BiasMode::shared ? 0 : 1;
    const char* biases[] = {"shared over time", "independent each step"};
    if (ImGui::Combo("bias", &bias, biases, 2)) scene_.bias_mode = bias == 0 ? BiasMode::shared : BiasMode::independent;
    help_marker("Shared: one b for all t (the standard RNN). Independent: a fresh b at every step (acts like noise).");
    int input = static_cast<int>(scene_.input_mode);
    const char* inputs[] = {"at t = 0 only", "at every step", "a sequence"};
    if (ImGui::Combo("input", &input, inputs, 3)) scene_.input_mode = static_cast<InputMode>(input);
  }

  ImGui::Spacing();
  ImGui::TextUnformatted("Inputs");
  ImGui::Separator();
  int kind = scene_.inputs.kind == InputKind::gaussian ? 1 : 0;
  const char* kinds[] = {"points on a circle", "random Gaussian"};
  if (ImGui::Combo("inputs", &kind, kinds, 2)) scene_.inputs.kind = kind == 0 ? InputKind::circle : InputKind::gaussian;
  slider_int("P inputs", scene_.inputs.count, 1, 256, "Number of inputs x_a.");
  slider("r radius", scene_.inputs.radius, 0.05, 4.0, "Input norm: G_aa = x_a·x_a/d = r².");
  if (scene_.inputs.kind == InputKind::circle)
    slider("angle span", scene_.inputs.angle_span, 0.0, 6.283185307179586, "Inputs at angles θ_a = a·span/(P−1).");
  else
    slider_int("d dimension", scene_.inputs.dim, 1, 256, "Input dimension d of the Gaussian inputs.");
  slider_int("pair a", scene_.view.input_a, 0, std::max(0, scene_.inputs.count - 1), "First input of the pair followed in the signal view.");
  slider_int("pair b", scene_.view.input_b, 0, std::max(0, scene_.inputs.count - 1), "Second input of the pair.");

  ImGui::Spacing();
  ImGui::TextUnformatted("Order to chaos at (σ_w², σ_b²)");
  ImGui::Separator();
  const FixedPoint& fp = derived_.fixed;
  const Status valid = validate_scene(scene_);
  if (!valid.ok()) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", valid.message.c_str());
  if (ImGui::BeginTable("fixed", 2, ImGuiTableFlags_SizingStretchProp)) {
    auto row = [](const char* name, const std::string& value, const char* meaning) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::TextUnformatted(name);
      help_marker(meaning);
      ImGui::TableSetColumnIndex(1);
      ImGui::TextUnformatted(value.c_str());
      help_marker(meaning);
    };
    row("phase", phase_name(fp.phase), "Ordered: nearby inputs converge (χ₁ < 1). Chaotic: they decorrelate (χ₁ > 1).");
    row("q*", fmt(fp.q_star), "Fixed point of the length map q ↦ σ_b² + σ_w² E[φ(√q z)²].");
    row("c*", fmt(fp.c_star), "Stable fixed point of the correlation map (1 in the ordered phase).");
    row("χ₁", fmt(fp.chi_1), "σ_w² E[φ'(√q* z)²]: the slope of the c-map at c = 1. Critical when χ₁ = 1.");
    row("χ_c", fmt(fp.chi_c), "Slope of the c-map at c*.");
    row("ξ_q", fmt(fp.xi_q), "Depth over which the length q^l approaches q*: −1/ln(slope of the q-map).");
    row("ξ_c", fmt(fp.xi_c), "Depth over which correlations approach c*: −1/ln χ_c. Diverges on the critical line; trainable to ≈ 6 ξ_c.");
    row("λ_max", fmt(fp.lambda_max), "Largest Lyapunov exponent per layer, amplitude convention: |δh^l| ∝ e^{λ l}, λ = ½ ln χ₁.");
    ImGui::EndTable();
  }
  if (!fp.status.message.empty()) ImGui::TextWrapped("%s", fp.status.message.c_str());

  ImGui::Spacing();
  if (ImGui::Button("Copy link")) {
    if (platform_.copy_text) platform_.copy_text(platform_.link_url ? platform_.link_url(last_link_) : last_link_);
  }
  help_marker("Copies a link that reopens exactly this view.");
  ImGui::SameLine();
  if (ImGui::Button("Reset")) scene_ = Scene{};

  if (!(scene_ == before)) scene_changed();
}

// ---------------------------------------------------------------------------------------------------
// 4. phase diagram
// ---------------------------------------------------------------------------------------------------
void App::phase_panel() {
  Derived& d = derived_;
  int quantity = 0;
  for (int i = 0; i < 5; ++i)
    if (scene_.view.quantity == kQuantities[i]) quantity = i;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 22);
  if (ImGui::Combo("colour", &quantity, kQuantityLabels, 5)) {
    scene_.view.quantity = kQuantities[quantity];
    scene_changed();
  }
  ImGui::SameLine();
  int res = scene_.phase.columns;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::SliderInt("grid", &res, 8, 256, "%d", ImGuiSliderFlags_AlwaysClamp)) {
    scene_.phase.columns = scene_.phase.rows = res;
    scene_changed();
  }
  help_marker("Grid points along each axis.");
  if (!d.phase_job) return;
  const PhaseDiagram& pd = d.phase_job->result();
  const double progress = d.phase_job->progress();
  if (progress < 1.0) {
    ImGui::SameLine();
    ImGui::ProgressBar(static_cast<float>(progress), ImVec2(ImGui::GetFontSize() * 8, 0));
    ImGui::SameLine();
    if (ImGui::SmallButton("cancel")) d.phase_job->cancel();
  }
  const std::vector<double>* source = &pd.chi_1;
  if (quantity == 1) source = &pd.xi_c;
  if (quantity == 2) source = &pd.lambda_max;
  if (quantity == 3) source = &pd.q_star;
  if (quantity == 4) source = &pd.c_star;
  d.chi_1_view.assign(source->size(), kNaN);
  for (std::size_t k = 0; k < source->size(); ++k)
    if (pd.done[k] && std::isfinite((*source)[k]) && pd.phase[k] != Phase::diverged) d.chi_1_view[k] = (*source)[k];

  HeatMapSpec spec;
  spec.id = "phase-map";
  spec.title = std::string(kQuantityLabels[quantity]) + " for " + scene_.activation.name();
  spec.x.label = "σ_w²";
  spec.y.label = "σ_b²";
  spec.x.min = scene_.phase.sigma_w2_min;
  spec.x.max = scene_.phase.sigma_w2_max;
  spec.y.min = scene_.phase.sigma_b2_min;
  spec.y.max = scene_.phase.sigma_b2_max;
  spec.value_label = kQuantities[quantity];
  spec.values = d.chi_1_view.data();
  spec.columns = pd.spec.columns;
  spec.rows = pd.spec.rows;
  spec.log_values = quantity == 0 || quantity == 1;
  spec.diverging = quantity == 0 || quantity == 2;  // chi_1 about 1 (log scale), lambda about 0: order vs chaos
  spec.size = ImVec2(-1, ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing() * 2);
  spec.marker = DataPoint{scene_.sigma_w2, scene_.sigma_b2};
  std::vector<Series> overlays;
  if (!d.critical_w2.empty()) {
    Series line;
    line.label = "critical line χ₁ = 1";
    line.x = d.critical_w2;
    line.y = d.critical_b2;
    line.color = IM_COL32(15, 15, 20, 255);  // dark: the diverging map is near white at chi_1 = 1
    line.thickness = 2.5f;
    overlays.push_back(std::move(line));
  }
  const PlotEvents ev = heat_map(spec, overlays);
  if (ImGui::SmallButton("Export CSV") && platform_.save_file)
    platform_.save_file("fieldscope-phase-" + spec.value_label + ".csv", heat_map_csv(spec));
  help_marker("The grid as CSV: sigma_w^2, sigma_b^2 and the value of every cell.");
  ImGui::SameLine();
  if (ev.clicked && std::isfinite(ev.x) && std::isfinite(ev.y)) {
    scene_.sigma_w2 = std::clamp(ev.x, 0.01, SceneLimits::max_variance);
    scene_.sigma_b2 = std::clamp(ev.y, 0.0, SceneLimits::max_variance);
    scene_changed();
  }
  ImGui::TextDisabled("Click to set (σ_w², σ_b²) for every view. Dark line: the critical line χ₁ = 1, where ξ_c diverges.");
}

// ---------------------------------------------------------------------------------------------------
// 5. signal propagation
// ---------------------------------------------------------------------------------------------------
void App::signal_panel() {
  const Derived& d = derived_;
  if (!d.inputs_status.ok()) {
    ImGui::TextWrapped("%s", d.inputs_status.message.c_str());
    return;
  }
  const SignalTrajectory& tr = d.signal;
  if (ImGui::SmallButton("Export CSV") && platform_.save_file) {
    std::vector<double> l(tr.q1.size());
    for (std::size_t i = 0; i < l.size(); ++i) l[i] = static_cast<double>(i);
    platform_.save_file("fieldscope-signal.csv", series_csv({make_series("q_a", l, tr.q1), make_series("q_b", l, tr.q2),
                                                             make_series("covariance", l, tr.covariance),
                                                             make_series("correlation", l, tr.correlation)},
                                                            "layer"));
  }
  help_marker("q^l of both inputs, their covariance and correlation for every layer, as CSV.");
  const float half_w = ImGui::GetContentRegionAvail().x * 0.5f - ImGui::GetStyle().ItemSpacing.x;
  const float h = (ImGui::GetContentRegionAvail().y - ImGui::GetStyle().ItemSpacing.y * 2) * 0.5f;
  std::vector<double> layers(tr.q1.size());
  for (std::size_t l = 0; l < layers.size(); ++l) layers[l] = static_cast<double>(l);
  {
    PlotSpec spec;
    spec.id = "q-layers";
    spec.title = "Length q^l of inputs a and b";
    spec.x.label = "layer l";
    spec.y.label = "q^l";
    spec.size = ImVec2(half_w, h);
    if (std::isfinite(d.fixed.q_star)) spec.y_lines = {d.fixed.q_star};
    line_plot(spec, {make_series("q^l (input a)", layers, tr.q1), make_series("q^l (input b)", layers, tr.q2)});
  }
  ImGui::SameLine();
  {
    PlotSpec spec;
    spec.id = "c-layers";
    spec.title = "Correlation c^l of the pair";
    spec.x.label = "layer l";
    spec.y.label = "c^l";
    spec.size = ImVec2(half_w, h);
    spec.y_lines = {d.fixed.c_star};
    line_plot(spec, {make_series("c^l", layers, tr.correlation)});
  }
  const MeanFieldParams p = mean_field_params(scene_);
  double qmax = 1.0;
  for (double v : d.q_iterates) qmax = std::max(qmax, 1.2 * v);
  if (std::isfinite(d.fixed.q_star)) qmax = std::max(qmax, 1.5 * d.fixed.q_star);
  cobweb_plot("q-map", "Length map and its cobweb", "q^{l-1}", "q^l", ImVec2(half_w, h), "q ↦ σ_b² + σ_w² E[φ²]", 0.0, qmax, 120,
              [&](double q) { return q_map(p, q); }, d.q_iterates, true);
  ImGui::SameLine();
  const bool has_c_map = d.fixed.phase != Phase::diverged && d.fixed.q_star > 0;
  cobweb_plot("c-map", "Correlation map at q* and its cobweb", "c^{l-1}", "c^l", ImVec2(half_w, h),
              "c ↦ (σ_b² + σ_w² E[φ(u₁)φ(u₂)]) / q*", -1.0, 1.0, 80, [&](double c) { return c_map(p, d.fixed.q_star, c); },
              d.c_iterates, has_c_map);
}

// ---------------------------------------------------------------------------------------------------
// 6. kernels
// ---------------------------------------------------------------------------------------------------
void App::kernel_panel() {
  Derived& d = derived_;
  if (!d.inputs_status.ok()) {
    ImGui::TextWrapped("%s", d.inputs_status.message.c_str());
    return;
  }
  Job* job = d.deep_job ? static_cast<Job*>(d.deep_job.get()) : static_cast<Job*>(d.recurrent_job.get());
  if (!job) return;
  if (job->progress() < 1.0) {
    ImGui::ProgressBar(static_cast<float>(job->progress()), ImVec2(ImGui::GetFontSize() * 10, 0));
    ImGui::SameLine();
    if (ImGui::SmallButton("cancel")) job->cancel();
  }
  int layer = scene_.view.layer < 0 ? scene_.depth : std::min(scene_.view.layer, scene_.depth);
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14);
  if (ImGui::SliderInt(scene_.arch == Architecture::deep ? "layer l" : "time t", &layer, 0, scene_.depth, "%d",
                       ImGuiSliderFlags_AlwaysClamp)) {
    scene_.view.layer = layer == scene_.depth ? -1 : layer;
    scene_changed();
  }
  Eigen::MatrixXd k;
  Status status;
  if (d.deep_job) {
    const DeepKernelResult& r = d.deep_job->result();
    status = r.status;
    if (layer < static_cast<int>(r.kernel.size()) - (d.deep_job->progress() < 1.0 ? 1 : 0)) k = r.kernel[layer];
  } else {
    const RecurrentKernelResult& r = d.recurrent_job->result();
    status = r.status;
    if (d.recurrent_job->progress() >= 1.0 && r.status.ok()) k = r.block(layer, layer);
  }
  if (!status.ok() && status.code != StatusCode::cancelled) ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "%s", status.message.c_str());
  const float half_w = ImGui::GetContentRegionAvail().x * 0.5f - ImGui::GetStyle().ItemSpacing.x;
  const float h = ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing();
  static std::vector<double> values, two_time;
  if (k.size() > 0) {
    const int p = static_cast<int>(k.rows());
    values.resize(static_cast<std::size_t>(p) * p);
    for (int r = 0; r < p; ++r)
      for (int c = 0; c < p; ++c) values[static_cast<std::size_t>(r) * p + c] = k(r, c);
    HeatMapSpec spec;
    spec.id = "kernel-map";
    spec.title = (scene_.arch == Architecture::deep ? "K^l_ab, layer " : "K^{tt}_ab, t = ") + std::to_string(layer);
    spec.x.label = "input b";
    spec.y.label = "input a";
    spec.x.min = 0;
    spec.x.max = p - 1;
    spec.y.min = 0;
    spec.y.max = p - 1;
    spec.value_label = "K";
    spec.values = values.data();
    spec.columns = spec.rows = p;
    spec.size = ImVec2(scene_.arch == Architecture::recurrent ? half_w : -1, h);
    heat_map(spec, {});
  } else {
    ImGui::TextDisabled("Computing...");
  }
  if (scene_.arch == Architecture::recurrent && d.recurrent_job && d.recurrent_job->progress() >= 1.0 &&
      d.recurrent_job->result().status.ok()) {
    ImGui::SameLine();
    const RecurrentKernelResult& r = d.recurrent_job->result();
    const int T = r.steps;
    const int a = std::clamp(scene_.view.input_a, 0, r.inputs - 1);
    two_time.resize(static_cast<std::size_t>(T + 1) * (T + 1));
    for (int t = 0; t <= T; ++t)
      for (int s = 0; s <= T; ++s) two_time[static_cast<std::size_t>(t) * (T + 1) + s] = r.at(t, s, a, a);
    HeatMapSpec spec;
    spec.id = "two-time-map";
    spec.title = "Two-time kernel K(t, s) of input a";
    spec.x.label = "s";
    spec.y.label = "t";
    spec.x.min = 0;
    spec.x.max = T;
    spec.y.min = 0;
    spec.y.max = T;
    spec.value_label = "K(t,s)";
    spec.values = two_time.data();
    spec.columns = spec.rows = T + 1;
    spec.size = ImVec2(half_w, h);
    heat_map(spec, {});
  }
}

// ---------------------------------------------------------------------------------------------------
// 7. status bar and snapshot
// ---------------------------------------------------------------------------------------------------
void App::status_bar() {
  if (!messages_.empty()) {
    ImGui::TextColored(ImVec4(1, 0.75f, 0.3f, 1), "Link: %s", messages_.front().c_str());
    if (messages_.size() > 1) {
      ImGui::SameLine();
      ImGui::TextDisabled("(+%zu more)", messages_.size() - 1);
      help_marker([&] {
        static std::string all;
        all.clear();
        for (const auto& m : messages_) all += m + "\n";
        return all.c_str();
      }());
    }
    ImGui::SameLine();
    if (ImGui::SmallButton("dismiss")) messages_.clear();
  } else {
    ImGui::TextDisabled("Fieldscope · %s · %s, σ_w² = %s, σ_b² = %s", platform_.name.c_str(), scene_.activation.name().c_str(),
                        fmt(scene_.sigma_w2, "%.4g").c_str(), fmt(scene_.sigma_b2, "%.4g").c_str());
  }
}

std::string App::snapshot_json() const {
  nlohmann::ordered_json j;
  auto num = [](double v) -> nlohmann::ordered_json {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (std::isnan(v)) return nullptr;
    return v;
  };
  j["link"] = scene_to_query(scene_);
  j["busy"] = busy();
  j["frames"] = frames_;
  j["phase"] = phase_name(derived_.fixed.phase);
  j["q_star"] = num(derived_.fixed.q_star);
  j["c_star"] = num(derived_.fixed.c_star);
  j["chi_1"] = num(derived_.fixed.chi_1);
  j["chi_c"] = num(derived_.fixed.chi_c);
  j["xi_q"] = num(derived_.fixed.xi_q);
  j["xi_c"] = num(derived_.fixed.xi_c);
  j["lambda_max"] = num(derived_.fixed.lambda_max);
  j["messages"] = messages_;
  return j.dump();
}

}  // namespace fs::ui
