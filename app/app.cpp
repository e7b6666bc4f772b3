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
#include "app/view_notes.h"
#include "app/widgets.h"
#include "core/parallel.h"
#include "core/scene_specs.h"

namespace fs::ui {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Scenes that agree on everything a result depends on. The mean-field views read neither the
// architecture nor the recurrent switches; the deep kernel reads the input mode only through the number
// of steps of generated inputs drawn (scene_inputs), as the deep network reads step 0.
Network without_recurrence(Network n, bool keep_input_mode) {
  n.arch = Architecture::deep;
  n.bias_mode = BiasMode::shared;
  if (!keep_input_mode) n.input_mode = InputMode::first_step;
  return n;
}
bool same_mean_field(const Scene& a, const Scene& b) {
  return without_recurrence(a.network, false) == without_recurrence(b.network, false) && a.inputs == b.inputs &&
         a.seed == b.seed && a.view.input_a == b.view.input_a && a.view.input_b == b.view.input_b;
}
bool same_phase(const Scene& a, const Scene& b) { return a.network.activation == b.network.activation && a.phase == b.phase; }
bool same_deep_kernel(const Scene& a, const Scene& b) {
  return without_recurrence(a.network, true) == without_recurrence(b.network, true) && a.inputs == b.inputs && a.seed == b.seed;
}
bool same_recurrent_kernel(const Scene& a, const Scene& b) {
  return same_deep_kernel(a, b) && a.network.bias_mode == b.network.bias_mode;
}
bool wants_deep(const Scene& s) { return s.network.arch == Architecture::deep || s.view.kernels == KernelView::compare; }
bool wants_recurrent(const Scene& s) {
  return s.network.arch == Architecture::recurrent || s.view.kernels == KernelView::compare;
}

std::string fmt(double v, const char* format = "%.6g") { return format_number(v, format); }

// A double slider with a symbol, clamped to its range, with a tooltip; true when changed.
bool slider(const char* label, double& value, double lo, double hi, const char* tooltip, const char* format = "%.4g",
            ImGuiSliderFlags flags = 0) {
  const bool changed =
      ImGui::SliderScalar(label, ImGuiDataType_Double, &value, &lo, &hi, format, flags | ImGuiSliderFlags_AlwaysClamp);
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
void cobweb_plot(const char* id, const char* title, const char* note, const char* x_label, const char* y_label, ImVec2 size,
                 const char* map_label, double lo, double hi, int samples, const std::function<double(double)>& map_fn,
                 const std::vector<double>& iterates, bool show_map) {
  PlotSpec spec;
  spec.id = id;
  spec.title = title;
  spec.note = note;
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

const char* kQuantityLabels[] = {"χ₁  (slope of the c-map at c = 1)", "ξ_c  (correlation depth scale)",
                                 "λ_max  (Lyapunov exponent per layer)", "q*  (fixed-point variance)",
                                 "c*  (fixed-point correlation)"};
}  // namespace

// ---------------------------------------------------------------------------------------------------
// 1. construction, scene changes and the share link
// ---------------------------------------------------------------------------------------------------
App::App(Platform platform, Scene scene, std::vector<std::string> load_warnings)
    : platform_(std::move(platform)), scene_(std::move(scene)), messages_(std::move(load_warnings)) {
  tabs_.push_back({Panel::phase, "Phase diagram", &App::phase_panel, nullptr});
  tabs_.push_back({Panel::signal, "Signal propagation", &App::signal_panel, nullptr});
  tabs_.push_back({Panel::kernels, "Kernels", &App::kernel_panel, nullptr});
  tabs_.push_back({Panel::ensemble, "Finite width", nullptr, make_ensemble_panel(platform_)});
  tabs_.push_back({Panel::gp, "GP inference", nullptr, make_gp_panel(platform_)});
  tabs_.push_back({Panel::renorm, "Finite-width learning", nullptr, make_renorm_panel(platform_)});
  scene_changed();
}

const App::Tab* App::tab_of(Panel panel) const {
  for (const Tab& tab : tabs_)
    if (tab.panel == panel) return &tab;
  return nullptr;
}

ViewPanel* App::shown_view_panel() const {
  const Tab* tab = tab_of(scene_.view.panel);
  return tab ? tab->view.get() : nullptr;
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

bool App::deep_current() const { return derived_.deep_job && same_deep_kernel(derived_.deep_for, scene_); }
bool App::recurrent_current() const { return derived_.recurrent_job && same_recurrent_kernel(derived_.recurrent_for, scene_); }

bool App::busy() const {
  if (const ViewPanel* panel = shown_view_panel(); panel && panel->busy(scene_)) return true;
  return derived_.critical_next < 64 || (derived_.phase_job && derived_.phase_job->pending()) ||
         (derived_.deep_job && derived_.deep_job->pending()) || (derived_.recurrent_job && derived_.recurrent_job->pending()) ||
         !derived_.phase_valid || !derived_.signal_valid ||
         ((derived_.kernel_inputs_status.ok() || !same_recurrent_kernel(derived_.kernel_inputs_for, scene_)) &&
          ((wants_deep(scene_) && !deep_current()) || (wants_recurrent(scene_) && !recurrent_current())));
}

// ---------------------------------------------------------------------------------------------------
// 2. derived results
// ---------------------------------------------------------------------------------------------------
void App::update_derived(double budget_seconds) {
  Derived& d = derived_;
  if (!d.signal_valid || !same_mean_field(d.signal_for, scene_)) {
    const Network& p = scene_.network;
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
      const double s = scene_.network.input_variance();
      d.signal = signal_trajectory(p, s * g(a, a) + scene_.network.sigma_b2, s * g(b, b) + scene_.network.sigma_b2,
                                   s * g(a, b) + scene_.network.sigma_b2, scene_.network.depth);
      d.q_iterates = q_iterates(p, s * g(a, a) + scene_.network.sigma_b2, std::min(scene_.network.depth, 60));
      if (d.fixed.phase != Phase::diverged && d.fixed.q_star > 0 && !d.signal.correlation.empty())
        d.c_iterates = c_iterates(p, d.fixed.q_star, d.signal.correlation.front(), std::min(scene_.network.depth, 60));
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
  // Kernels: a stale job is dropped; a new one starts only for a kernel the kernels view shows.
  if (!deep_current()) d.deep_job.reset();
  if (!recurrent_current()) d.recurrent_job.reset();
  const bool inputs_known_bad = !d.kernel_inputs_status.ok() && same_recurrent_kernel(d.kernel_inputs_for, scene_);
  if (((wants_deep(scene_) && !d.deep_job) || (wants_recurrent(scene_) && !d.recurrent_job)) && !inputs_known_bad) {
    InputsResult inputs = scene_inputs(scene_);
    d.kernel_inputs_status = inputs.status;
    d.kernel_inputs_for = scene_;
    if (inputs.status.ok()) {
      if (wants_deep(scene_) && !d.deep_job) {
        d.deep_job = std::make_unique<DeepKernelJob>(deep_kernel_spec(scene_), inputs.inputs.gram());
        d.deep_for = scene_;
      }
      if (wants_recurrent(scene_) && !d.recurrent_job) {
        d.recurrent_job = std::make_unique<RecurrentKernelJob>(recurrent_kernel_spec(scene_), inputs.inputs);
        d.recurrent_for = scene_;
      }
    }
  }
  // The critical line, a few points per frame (quadratic spacing: it rises steeply from sigma_b^2 = 0).
  constexpr int kCriticalSamples = 64;
  if (d.critical_next < kCriticalSamples) {
    const SliceTimer timer(0.25 * budget_seconds);
    const std::shared_ptr<const GaussianMeans> means = tabulated_means(scene_.network.activation);
    while (d.critical_next < kCriticalSamples) {
      const double u = static_cast<double>(d.critical_next++) / (kCriticalSamples - 1);
      const double b2 = scene_.phase.sigma_b2_min + (scene_.phase.sigma_b2_max - scene_.phase.sigma_b2_min) * u * u;
      const CriticalPoint cp = critical_point(scene_.network.activation, b2, *means);
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
  // A shown ensemble or GP tab goes first; its jobs pause while the tab is hidden.
  if (ViewPanel* panel = shown_view_panel()) panel->update(scene_, std::max(0.25 * budget_seconds, remaining()));
  Job* jobs[] = {d.phase_job.get(), d.deep_job.get(), d.recurrent_job.get()};
  if (scene_.view.panel == Panel::kernels) std::rotate(jobs, jobs + 1, jobs + 3);  // deep, recurrent, phase
  for (Job* job : jobs)
    if (job && job->pending() && remaining() > 0) job->step(remaining());
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
    // A panel set by the link (or Reset) is selected for us; afterwards a click on a tab writes the
    // panel back into the scene. The tab bar settles a forced selection within two frames.
    if (scene_.view.panel != shown_panel_) {
      shown_panel_ = scene_.view.panel;
      force_frames_ = 2;
    }
    for (const Tab& tab : tabs_) {
      const ImGuiTabItemFlags flags = (force_frames_ > 0 && shown_panel_ == tab.panel) ? ImGuiTabItemFlags_SetSelected : 0;
      if (ImGui::BeginTabItem(tab.label, nullptr, flags)) {
        if (force_frames_ == 0 && shown_panel_ != tab.panel) {
          scene_.view.panel = shown_panel_ = tab.panel;
          scene_changed();
        }
        if (tab.draw) {
          (this->*tab.draw)();
        } else {
          const Scene before = scene_;
          tab.view->draw(scene_);
          if (!(scene_ == before)) scene_changed();
        }
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
  if (scene_.view.panel == Panel::renorm) {
    // The finite-width learning tab studies linear networks with gates: none of the controls below apply.
    ImGui::TextUnformatted("Finite-width learning");
    ImGui::Separator();
    wrapped_disabled(
        "This tab's networks are deep linear and globally gated deep linear networks trained as Bayesian posteriors; their "
        "settings are in the tab. The activation, variances and inputs here belong to the other tabs.");
    ImGui::Spacing();
    link_buttons();
    if (!(scene_ == before)) scene_changed();
    return;
  }
  ImGui::TextUnformatted("Network");
  ImGui::Separator();
  int arch = scene_.network.arch == Architecture::deep ? 0 : 1;
  const char* archs[] = {"deep", "recurrent"};
  if (ImGui::Combo("architecture", &arch, archs, 2))
    scene_.network.arch = arch == 0 ? Architecture::deep : Architecture::recurrent;
  help_marker("Deep: h^l = W^l φ(h^{l-1}) + b^l with independent W^l. Recurrent: h^t = W φ(h^{t-1}) + b with one W for all t.");

  const auto& names = activation_names();
  int act = 0;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == scene_.network.activation.name()) act = static_cast<int>(i);
  if (ImGui::BeginCombo("φ activation", names[act].c_str())) {
    for (std::size_t i = 0; i < names.size(); ++i)
      if (ImGui::Selectable(names[i].c_str(), static_cast<int>(i) == act)) {
        scene_.network.activation.kind = *activation_kind_from_name(names[i]);
        scene_.network.activation.param = default_activation_param(scene_.network.activation.kind);
      }
    ImGui::EndCombo();
  }
  help_marker(("φ(x) = " + scene_.network.activation.formula()).c_str());
  if (activation_has_param(scene_.network.activation.kind)) {
    if (scene_.network.activation.kind == ActivationKind::erf)
      slider("a (erf scale)", scene_.network.activation.param, 0.05, 5.0,
             "φ(x) = erf(a x). a = √π/2 ≈ 0.886 has slope 1 at 0, like tanh.");
    else
      slider("α (leaky slope)", scene_.network.activation.param, 0.0, 0.99, "φ(x) = x for x > 0, α x for x < 0.");
  }
  slider("σ_w²", scene_.network.sigma_w2, 0.01, 8.0, "Weight variance: W_ij ~ N(0, σ_w²/N).");
  note_control_rect("sigma_w2_slider");
  slider("σ_b²", scene_.network.sigma_b2, 0.0, 2.0, "Bias variance: b_i ~ N(0, σ_b²).");
  bool own_input = scene_.network.sigma_in2.has_value();
  if (ImGui::Checkbox("separate σ_in²", &own_input))
    scene_.network.sigma_in2 = own_input ? std::optional<double>(scene_.network.sigma_w2) : std::nullopt;
  help_marker("Input-layer weights U_ij ~ N(0, σ_in²/d). Unchecked: σ_in² = σ_w².");
  if (scene_.network.sigma_in2) slider("σ_in²", *scene_.network.sigma_in2, 0.0, 8.0, "Input-layer weight variance.");
  slider_int(scene_.network.arch == Architecture::deep ? "L layers" : "T steps", scene_.network.depth, 0, 200,
             "Depth L: the weight layers after the input layer (deep), or the time steps after t = 0 (recurrent). "
             "The hidden layers are h^0 .. h^L and a readout reads φ(h^L); L = 0 is the network with one hidden layer.");
  if (scene_.network.arch == Architecture::recurrent) {
    int bias = scene_.network.bias_mode == BiasMode::shared ? 0 : 1;
    const char* biases[] = {"shared over time", "independent each step"};
    if (ImGui::Combo("bias", &bias, biases, 2)) scene_.network.bias_mode = bias == 0 ? BiasMode::shared : BiasMode::independent;
    help_marker("Shared: one b for all t (the standard RNN). Independent: a fresh b at every step (acts like noise).");
    int input = static_cast<int>(scene_.network.input_mode);
    const char* inputs[] = {"at t = 0 only", "at every step", "a sequence"};
    if (ImGui::Combo("input", &input, inputs, 3)) scene_.network.input_mode = static_cast<InputMode>(input);
  }

  ImGui::Spacing();
  ImGui::TextUnformatted("Inputs");
  ImGui::Separator();
  // Explicit points come from a CSV file (or a link); the CSV-path kind from a link or the CLI.
  const char* kinds[] = {"points on a circle", "random Gaussian", "points from a CSV file", "CSV file by path"};
  const int kind = static_cast<int>(scene_.inputs.kind);
  if (ImGui::BeginCombo("inputs", kinds[kind])) {
    for (int k = 0; k < 4; ++k) {
      const bool available = k < 2 || (k == 2 && !scene_.inputs.points.empty()) || (k == 3 && !scene_.inputs.csv_path.empty());
      if (ImGui::Selectable(kinds[k], k == kind, available ? 0 : ImGuiSelectableFlags_Disabled))
        scene_.inputs.kind = static_cast<InputKind>(k);
    }
    ImGui::EndCombo();
  }
  help_marker(
      "Circle: P inputs at equal angles. Gaussian: P random inputs in R^d. CSV: one input per row, loaded below "
      "(the points become part of the share link).");
  int input_count = scene_.inputs.count;
  if (scene_.inputs.kind == InputKind::circle || scene_.inputs.kind == InputKind::gaussian) {
    slider_int("P inputs", scene_.inputs.count, 1, 256, "Number of inputs x_a.");
    slider("r radius", scene_.inputs.radius, 0.05, 4.0, "Input norm: G_aa = x_a·x_a/d = r².");
    if (scene_.inputs.kind == InputKind::circle)
      slider("angle span", scene_.inputs.angle_span, 0.0, 6.283185307179586, "Inputs at angles θ_a = a·span/(P−1).");
    else
      slider_int("d dimension", scene_.inputs.dim, 1, 256, "Input dimension d of the Gaussian inputs.");
  } else if (scene_.inputs.kind == InputKind::points) {
    input_count = static_cast<int>(scene_.inputs.points.size());
    const std::size_t width = scene_.inputs.points.empty() ? 0 : scene_.inputs.points[0].size();
    ImGui::TextDisabled("%d inputs in R^%zu from a CSV file", input_count, width / std::max(scene_.inputs.steps, 1));
  } else {
    ImGui::TextDisabled("%s", ("file: " + scene_.inputs.csv_path).c_str());
    input_count = SceneLimits::max_inputs;  // unknown until read; the views clamp the pair
  }
  if (platform_.open_file) {
    if (ImGui::Button("Load CSV...")) {
      platform_.open_file(".csv,.txt,.tsv,text/csv,text/plain",
                          [this](const std::string& name, const std::string& text, const std::string& error) {
                            load_inputs_csv(name, text, error);
                          });
    }
    note_control_rect("load_button");
    help_marker(
        "Inputs from a CSV file: one input per row, numbers separated by commas; an optional header row and # "
        "comments. You can also drop a .csv file on the window.");
    ImGui::SameLine();
    ImGui::TextDisabled("or drop a .csv here");
  }
  if (platform_.read_file) {
    ImGui::SetNextItemWidth(ImGui::GetContentRegionAvail().x - ImGui::GetFontSize() * 4);
    const bool enter = ImGui::InputTextWithHint("##csv-path", "CSV path (or drop a file)", csv_path_, sizeof csv_path_,
                                                ImGuiInputTextFlags_EnterReturnsTrue);
    help_marker("A CSV file with one input per row; Enter or Load reads it. You can also drop a .csv file on the window.");
    ImGui::SameLine();
    if ((ImGui::Button("Load") || enter) && csv_path_[0] != '\0') {
      std::string error;
      const std::string text = platform_.read_file(csv_path_, error);
      load_inputs_csv(csv_path_, text, error);
    }
  }
  if (!csv_message_.empty()) {
    if (csv_failed_) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.5f, 0.4f, 1));
    ImGui::TextWrapped("%s", csv_message_.c_str());
    if (csv_failed_) ImGui::PopStyleColor();
  }
  slider_int("pair a", scene_.view.input_a, 0, std::max(0, input_count - 1),
             "First input of the pair followed in the signal and cross-time views.");
  note_control_rect("pair_a_slider");
  slider_int("pair b", scene_.view.input_b, 0, std::max(0, input_count - 1), "Second input of the pair.");

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
    row("ξ_c", fmt(fp.xi_c),
        "Depth over which correlations approach c*: −1/ln χ_c. Diverges on the critical line; trainable to ≈ 6 ξ_c.");
    row("λ_max", fmt(fp.lambda_max), "Largest Lyapunov exponent per layer, amplitude convention: |δh^l| ∝ e^{λ l}, λ = ½ ln χ₁.");
    ImGui::EndTable();
  }
  if (!fp.status.message.empty()) ImGui::TextWrapped("%s", fp.status.message.c_str());

  ImGui::Spacing();
  link_buttons();
  if (!(scene_ == before)) scene_changed();
}

void App::link_buttons() {
  if (ImGui::Button("Copy link")) {
    if (platform_.copy_text) platform_.copy_text(platform_.link_url ? platform_.link_url(last_link_) : last_link_);
  }
  help_marker("Copies a link that reopens exactly this view.");
  ImGui::SameLine();
  if (ImGui::Button("Reset")) scene_ = Scene{};
}

void App::load_inputs_csv(const std::string& name, const std::string& text, const std::string& error) {
  if (ViewPanel* panel = shown_view_panel()) {
    const Scene before = scene_;
    if (panel->load_file(scene_, name, text, error)) {
      if (!(scene_ == before)) scene_changed();
      return;
    }
  }
  const std::string file = "\"" + echo_user_text(name) + "\"";
  csv_failed_ = true;
  if (!error.empty()) {
    csv_message_ = error;
    return;
  }
  // A sequence input needs T + 1 steps per row (docs/scene.md); otherwise one step per row.
  const bool sequence = scene_.network.arch == Architecture::recurrent && scene_.network.input_mode == InputMode::sequence;
  const int steps = sequence ? scene_.network.depth + 1 : 1;
  const InputsResult parsed = parse_inputs_csv(text, steps);
  if (!parsed.status.ok()) {
    csv_message_ = file + ": " + parsed.status.message + " The inputs were not changed.";
    return;
  }
  const InputSet& x = parsed.inputs;
  Scene next = scene_;
  next.inputs.kind = InputKind::points;
  next.inputs.steps = steps;
  next.inputs.points.assign(static_cast<std::size_t>(x.count), {});
  for (int a = 0; a < x.count; ++a) {
    std::vector<double>& row = next.inputs.points[static_cast<std::size_t>(a)];
    row.reserve(static_cast<std::size_t>(x.steps()) * x.dim);
    for (int t = 0; t < x.steps(); ++t)
      for (int i = 0; i < x.dim; ++i) row.push_back(x.x[static_cast<std::size_t>(t)](a, i));
  }
  if (const Status valid = validate_scene(next); !valid.ok()) {
    csv_message_ = file + ": " + valid.message + " The inputs were not changed.";
    return;
  }
  const std::size_t link_size = scene_to_query(next).size();
  if (link_size > kMaxLinkQuery) {
    csv_message_ = file + " holds " + std::to_string(x.count) + " inputs of " + std::to_string(x.dim * x.steps()) +
                   " numbers: as a share link that is " + std::to_string(link_size) + " characters, more than the " +
                   std::to_string(kMaxLinkQuery) +
                   " a link carries safely. Use fewer inputs or fewer digits, or the command line (--inputs-csv). The "
                   "inputs were not changed.";
    return;
  }
  scene_ = std::move(next);
  scene_changed();
  csv_failed_ = false;
  csv_message_ = "Loaded " + std::to_string(x.count) + " inputs in R^" + std::to_string(x.dim) +
                 (steps > 1 ? " (" + std::to_string(steps) + " steps)" : std::string()) + " from " + file + ".";
}

// ---------------------------------------------------------------------------------------------------
// 4. phase diagram
// ---------------------------------------------------------------------------------------------------
void App::phase_panel() {
  Derived& d = derived_;
  int quantity = 0;
  for (int i = 0; i < 5; ++i)
    if (scene_.view.quantity == static_cast<PhaseQuantity>(i)) quantity = i;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 22);
  if (ImGui::Combo("colour", &quantity, kQuantityLabels, 5)) {
    scene_.view.quantity = static_cast<PhaseQuantity>(quantity);
    scene_changed();
  }
  ImGui::SameLine();
  int res = scene_.phase.columns;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::SliderInt("grid", &res, 8, 256, "%d", ImGuiSliderFlags_AlwaysClamp)) {
    scene_.phase.columns = scene_.phase.rows = res;
    scene_changed();
  }
  note_control_rect("grid_slider");
  help_marker("Grid points along each axis.");
  if (!d.phase_job) return;
  const PhaseDiagram& pd = d.phase_job->result();
  const double progress = d.phase_job->progress();
  if (d.phase_job->cancelled() && progress < 1.0) {
    ImGui::SameLine();
    ImGui::TextDisabled("cancelled at %.0f%%", 100 * progress);
  } else if (progress < 1.0) {
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
  for (std::size_t k = 0; k < source->size(); ++k) {  // coarse to fine: blocks stand in for cells not done yet
    const int shown = pd.shown_cell(static_cast<int>(k));
    if (shown >= 0 && std::isfinite((*source)[shown]) && pd.phase[shown] != Phase::diverged) d.chi_1_view[k] = (*source)[shown];
  }

  HeatMapSpec spec;
  spec.id = "phase-map";
  spec.note = kNotePhaseCriticalLine;
  spec.title = std::string(kQuantityLabels[quantity]) + " for " + scene_.network.activation.name();
  spec.x.label = "σ_w²";
  spec.y.label = "σ_b²";
  spec.x.min = scene_.phase.sigma_w2_min;
  spec.x.max = scene_.phase.sigma_w2_max;
  spec.y.min = scene_.phase.sigma_b2_min;
  spec.y.max = scene_.phase.sigma_b2_max;
  spec.value_label = phase_quantity_name(scene_.view.quantity);
  spec.export_name = "fieldscope-phase-" + spec.value_label;  // the plot's CSV / PNG buttons
  spec.values = d.chi_1_view.data();
  spec.columns = pd.spec.columns;
  spec.rows = pd.spec.rows;
  spec.log_values = quantity == 0 || quantity == 1;
  spec.diverging = quantity == 0 || quantity == 2;  // chi_1 about 1 (log scale), lambda about 0: order vs chaos
  spec.size = ImVec2(-1, ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing() * 3);  // and the note
  spec.marker = DataPoint{scene_.network.sigma_w2, scene_.network.sigma_b2};
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
  if (ev.clicked && std::isfinite(ev.x) && std::isfinite(ev.y)) {
    scene_.network.sigma_w2 = std::clamp(ev.x, 0.01, SceneLimits::max_variance);
    scene_.network.sigma_b2 = std::clamp(ev.y, 0.0, SceneLimits::max_variance);
    scene_changed();
  }
  static const char* const kQuantityNotes[] = {kNotePhaseChi1, kNotePhaseXiC, kNotePhaseLambda, kNotePhaseQStar, kNotePhaseCStar};
  ImGui::PushTextWrapPos(0);
  ImGui::TextDisabled("%s. Click to set (σ_w², σ_b²) for every view; the dark line is the critical line χ₁ = 1.",
                      kQuantityNotes[quantity]);
  ImGui::PopTextWrapPos();
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
    platform_.save_file("fieldscope-signal.csv",
                        series_csv({make_series("q_a", l, tr.q1), make_series("q_b", l, tr.q2),
                                    make_series("covariance", l, tr.covariance), make_series("correlation", l, tr.correlation)},
                                   "layer"));
  }
  help_marker("q^l of both inputs, their covariance and correlation for every layer, as CSV.");
  const float half_w = ImGui::GetContentRegionAvail().x * 0.5f - ImGui::GetStyle().ItemSpacing.x;
  // Whole pixels, a few to spare: the two rows measured 1-4 px over the region (a scroll bar appeared)
  // with the exact split; 5 px less removes it (checked on the desktop build at 1280 x 800).
  const float h = std::floor((ImGui::GetContentRegionAvail().y - ImGui::GetStyle().ItemSpacing.y) * 0.5f) - 5.0f;
  std::vector<double> layers(tr.q1.size());
  for (std::size_t l = 0; l < layers.size(); ++l) layers[l] = static_cast<double>(l);
  {
    PlotSpec spec;
    spec.id = "q-layers";
    spec.note = kNoteSignalLength;
    spec.title = "Length q^l of inputs a and b";
    spec.x.label = "layer l";
    spec.x.integer = true;
    spec.y.label = "q^l";
    spec.size = ImVec2(half_w, h);
    if (std::isfinite(d.fixed.q_star)) spec.y_lines = {d.fixed.q_star};
    line_plot(spec, {make_series("q^l (input a)", layers, tr.q1), make_series("q^l (input b)", layers, tr.q2)});
  }
  ImGui::SameLine();
  {
    PlotSpec spec;
    spec.id = "c-layers";
    spec.note = kNoteSignalCorrelation;
    spec.title = "Correlation c^l of the pair";
    spec.x.label = "layer l";
    spec.x.integer = true;
    spec.y.label = "c^l";
    spec.size = ImVec2(half_w, h);
    spec.y_lines = {d.fixed.c_star};
    line_plot(spec, {make_series("c^l", layers, tr.correlation)});
  }
  const Network& p = scene_.network;
  double qmax = 1.0;
  for (double v : d.q_iterates) qmax = std::max(qmax, 1.2 * v);
  if (std::isfinite(d.fixed.q_star)) qmax = std::max(qmax, 1.5 * d.fixed.q_star);
  cobweb_plot(
      "q-map", "Length map and its cobweb", kNoteSignalLengthMap, "q^{l-1}", "q^l", ImVec2(half_w, h), "q ↦ σ_b² + σ_w² E[φ²]",
      0.0, qmax, 120, [&](double q) { return q_map(p, q); }, d.q_iterates, true);
  ImGui::SameLine();
  const bool has_c_map = d.fixed.phase != Phase::diverged && d.fixed.q_star > 0;
  cobweb_plot(
      "c-map", "Correlation map at q* and its cobweb", kNoteSignalCorrelationMap, "c^{l-1}", "c^l", ImVec2(half_w, h),
      "c ↦ (σ_b² + σ_w² E[φ(u₁)φ(u₂)]) / q*", -1.0, 1.0, 80, [&](double c) { return c_map(p, d.fixed.q_star, c); }, d.c_iterates,
      has_c_map);
}

// ---------------------------------------------------------------------------------------------------
// 6. kernels
// ---------------------------------------------------------------------------------------------------
namespace {
// K^{tt} of the recurrent network equals K^t of the deep one when both get the input only at t = 0 /
// in the input layer, for either bias mode: the equal-time block depends on K^{t-1,t-1} alone
// (docs/theory.md §4.2). With input at every step (or a sequence) the recurrent network gets an input term
// at every t, which this deep network (no skip inputs) does not.

const char* agreement_sentence(const Scene& s) {
  switch (s.network.input_mode) {
    case InputMode::first_step:
      return "Equal here: with the input at t = 0 only, K^{tt} depends on K^{t−1,t−1} alone and follows the deep "
             "recursion layer by layer, for either bias (docs/theory.md §4.2). The two differ only off the diagonal in "
             "time: K^{ts}, t ≠ s, which the deep network does not have.";
    case InputMode::every_step:
      return "Different here: the recurrent network gets σ_in² G at every step, this deep network only in its input "
             "layer (a deep network with skip inputs at every layer would agree, docs/theory.md §4.2). Choose input \"at t = 0 "
             "only\" to see them agree.";
    case InputMode::sequence:
      return "Different here: the recurrent network reads a new input x^t at every step, the deep network only x⁰ "
             "in its input layer (docs/theory.md §4.2).";
  }
  return "";
}

void copy_cells(const Eigen::MatrixXd& m, std::vector<double>& cells) {
  const Eigen::Index p = m.rows();
  cells.resize(static_cast<std::size_t>(p * p));
  for (Eigen::Index r = 0; r < p; ++r)
    for (Eigen::Index c = 0; c < p; ++c) cells[static_cast<std::size_t>(r * p + c)] = m(r, c);
}

HeatMapSpec kernel_map_spec(const char* id, std::string title, const char* value_label, const std::vector<double>& cells, int p,
                            ImVec2 size) {
  HeatMapSpec spec;
  spec.id = id;
  spec.title = std::move(title);
  spec.x.label = "input b";
  spec.y.label = "input a";
  spec.x.integer = spec.y.integer = true;
  spec.x.min = spec.y.min = 0;
  spec.x.max = spec.y.max = std::max(p - 1, 1);
  spec.value_label = value_label;
  spec.values = cells.data();
  spec.columns = spec.rows = p;
  spec.size = size;
  return spec;
}

// A placeholder of the same size as a map: a status sentence or "Computing...".
void map_placeholder(const char* id, ImVec2 size, const std::string& text, bool error) {
  ImGui::BeginChild(id, size, true);
  if (error) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.5f, 0.4f, 1));
  ImGui::TextWrapped("%s", text.c_str());
  if (error) ImGui::PopStyleColor();
  ImGui::EndChild();
}

// The layers of a deep result that are complete (the last one may still be filling).
int deep_layers_done(const DeepKernelJob& job) {
  const int n = static_cast<int>(job.result().kernel.size());
  return job.progress() < 1.0 ? std::max(n - 1, 0) : n;
}
bool recurrent_done(const RecurrentKernelJob& job) { return job.progress() >= 1.0 && job.result().status.ok(); }
}  // namespace

void App::kernel_panel() {
  Derived& d = derived_;
  for (const Status* status : {&d.inputs_status, &d.kernel_inputs_status}) {
    if (!status->ok()) {
      ImGui::TextWrapped("%s", status->message.c_str());
      return;
    }
  }
  const bool compare = scene_.view.kernels == KernelView::compare;
  int mode = compare ? 1 : 0;
  const char* mode_help =
      "Single: the kernel of the chosen architecture. Deep vs recurrent: both for the same parameters "
      "and inputs, side by side with their difference.";
  ImGui::RadioButton("single", &mode, 0);
  help_marker(mode_help);
  ImGui::SameLine();
  ImGui::RadioButton("deep vs recurrent", &mode, 1);
  help_marker(mode_help);
  if (mode != (compare ? 1 : 0)) {
    scene_.view.kernels = mode == 1 ? KernelView::compare : KernelView::single;
    scene_changed();
  }
  int layer = scene_.view.layer < 0 ? scene_.network.depth : std::min(scene_.view.layer, scene_.network.depth);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 12);
  const char* slider_label = compare ? "layer l = time t" : (scene_.network.arch == Architecture::deep ? "layer l" : "time t");
  if (ImGui::SliderInt(slider_label, &layer, 0, scene_.network.depth, "%d", ImGuiSliderFlags_AlwaysClamp)) {
    scene_.view.layer = layer == scene_.network.depth ? -1 : layer;
    scene_changed();
  }
  help_marker("The layer l (deep) or time t (recurrent) whose P x P kernel is shown; 0 is the input layer.");
  const bool show_recurrent = compare || scene_.network.arch == Architecture::recurrent;
  if (show_recurrent) {
    ImGui::SameLine();
    bool corr = scene_.view.cross == CrossTimeScale::correlation;
    if (ImGui::Checkbox("normalised", &corr)) {
      scene_.view.cross = corr ? CrossTimeScale::correlation : CrossTimeScale::covariance;
      scene_changed();
    }
    help_marker("Cross-time curves as correlations C(t, s) = K_ab(t, s) / √(K_aa(t, t) K_bb(s, s)) instead of covariances.");
  }
  for (Job* job : {static_cast<Job*>(d.deep_job.get()), static_cast<Job*>(d.recurrent_job.get())}) {
    if (job && job->pending()) {
      ImGui::SameLine();
      ImGui::ProgressBar(static_cast<float>(job->progress()), ImVec2(ImGui::GetFontSize() * 6, 0));
      ImGui::SameLine();
      ImGui::PushID(job);
      if (ImGui::SmallButton("cancel")) job->cancel();
      ImGui::PopID();
    }
  }

  const ImGuiStyle& style = ImGui::GetStyle();
  const float width = ImGui::GetContentRegionAvail().x;
  const float height = ImGui::GetContentRegionAvail().y;
  if (!show_recurrent) {
    kernel_maps(layer, width, height - ImGui::GetTextLineHeightWithSpacing());
    return;
  }
  const float top = compare ? std::floor(height * 0.52f) : std::floor(height * 0.55f);
  kernel_maps(layer, width, top);
  if (compare) ImGui::TextWrapped("%s", agreement_sentence(scene_));
  const float bottom = ImGui::GetContentRegionAvail().y - ImGui::GetTextLineHeightWithSpacing();
  const float half_w = std::floor((width - style.ItemSpacing.x) * 0.5f);
  // The recurrent two-time kernel of input a, and the cross-time curves of the pair.
  if (d.recurrent_job && recurrent_done(*d.recurrent_job)) {
    const RecurrentKernelResult& r = d.recurrent_job->result();
    const int T = r.steps;
    const int a = std::clamp(scene_.view.input_a, 0, r.inputs - 1);
    d.two_time_cells.resize(static_cast<std::size_t>(T + 1) * (T + 1));
    for (int t = 0; t <= T; ++t)
      for (int s = 0; s <= T; ++s) d.two_time_cells[static_cast<std::size_t>(t) * (T + 1) + s] = r.at(t, s, a, a);
    HeatMapSpec spec;
    spec.id = "two-time-map";
    spec.note = kNoteKernelTwoTime;
    spec.title = "Recurrent two-time kernel K(t, s) of input a = " + std::to_string(a);
    spec.x.label = "s";
    spec.y.label = "t";
    spec.x.integer = spec.y.integer = true;
    spec.x.min = spec.y.min = 0;
    spec.x.max = spec.y.max = T;
    spec.value_label = "K(t,s)";
    spec.values = d.two_time_cells.data();
    spec.columns = spec.rows = T + 1;
    spec.size = ImVec2(half_w, bottom);
    spec.marker = DataPoint{static_cast<double>(layer), static_cast<double>(layer)};
    heat_map(spec, {});
    ImGui::SameLine();
    cross_time_panel(width - half_w - style.ItemSpacing.x, bottom);
    ImGui::TextDisabled("Where the curves coincide the kernel depends on the lag only (stationary).%s",
                        scene_.network.input_mode == InputMode::first_step && scene_.network.bias_mode == BiasMode::shared
                            ? " Dashed: the limit c* q* for t ≠ s (docs/theory.md §4.3)."
                            : "");
  } else if (d.recurrent_job && !d.recurrent_job->result().status.ok() &&
             d.recurrent_job->result().status.code != StatusCode::cancelled) {
    map_placeholder("two-time-status", ImVec2(width, bottom), d.recurrent_job->result().status.message, true);
  } else {
    map_placeholder("two-time-status", ImVec2(width, bottom), "Computing the two-time kernel...", false);
  }
}

// The P x P kernels at the layer/time: the scene's architecture (single), or deep, recurrent and
// their difference (compare), deep and recurrent on one colour scale.
void App::kernel_maps(int layer, float width, float height) {
  Derived& d = derived_;
  const bool compare = scene_.view.kernels == KernelView::compare;
  const ImGuiStyle& style = ImGui::GetStyle();
  Eigen::MatrixXd deep, recurrent;
  std::string deep_problem, recurrent_problem;
  if (d.deep_job && (compare || scene_.network.arch == Architecture::deep)) {
    const DeepKernelResult& r = d.deep_job->result();
    if (layer < deep_layers_done(*d.deep_job))
      deep = r.kernel[static_cast<std::size_t>(layer)];
    else if (!r.status.ok() && r.status.code != StatusCode::cancelled)
      deep_problem = r.status.message;
  }
  if (d.recurrent_job && (compare || scene_.network.arch == Architecture::recurrent)) {
    const RecurrentKernelResult& r = d.recurrent_job->result();
    if (recurrent_done(*d.recurrent_job))
      recurrent = r.block(layer, layer);
    else if (!r.status.ok() && r.status.code != StatusCode::cancelled)
      recurrent_problem = r.status.message;
  }
  const int columns = compare ? 3 : 1;
  const float w = std::floor((width - style.ItemSpacing.x * (columns - 1)) / columns);
  const ImVec2 size(w, height);
  double lo = INFINITY, hi = -INFINITY;
  for (const Eigen::MatrixXd* m : {&deep, &recurrent})
    if (m->size() > 0) lo = std::min(lo, m->minCoeff()), hi = std::max(hi, m->maxCoeff());
  auto draw = [&](const char* id, const Eigen::MatrixXd& k, std::vector<double>& cells, std::string title,
                  const std::string& problem) {
    if (k.size() == 0) {
      map_placeholder(id, size, problem.empty() ? "Computing..." : problem, !problem.empty());
      return;
    }
    copy_cells(k, cells);
    HeatMapSpec spec = kernel_map_spec(id, std::move(title), "K", cells, static_cast<int>(k.rows()), size);
    spec.note = compare ? kNoteKernelCompare : kNoteKernelSingle;
    if (compare) spec.vmin = lo, spec.vmax = hi;
    heat_map(spec, {});
  };
  const std::string at = std::to_string(layer);
  if (compare || scene_.network.arch == Architecture::deep)
    draw("deep-kernel-map", deep, d.deep_cells, "Deep K^l_ab, layer l = " + at, deep_problem);
  if (compare) ImGui::SameLine();
  if (compare || scene_.network.arch == Architecture::recurrent)
    draw("recurrent-kernel-map", recurrent, d.recurrent_cells, "Recurrent K^{tt}_ab, t = " + at, recurrent_problem);
  if (!compare) return;
  ImGui::SameLine();
  if (deep.size() == 0 || recurrent.size() == 0) {
    const bool failed = !deep_problem.empty() || !recurrent_problem.empty();
    map_placeholder("difference-map", size,
                    failed ? "No difference: a kernel could not be computed (see its message)."
                           : "The difference appears when both kernels are ready.",
                    false);
    return;
  }
  const Eigen::MatrixXd difference = recurrent - deep;
  const double max_abs = difference.cwiseAbs().maxCoeff();
  copy_cells(difference, d.difference_cells);
  HeatMapSpec spec = kernel_map_spec("difference-map", "Rec − deep, max |Δ| = " + fmt(max_abs, "%.2g"), "Δ", d.difference_cells,
                                     static_cast<int>(difference.rows()), size);
  spec.diverging = true;
  spec.note = kNoteKernelCompare;
  // Centred at 0; an all-zero difference gets a tiny symmetric range (white), not a degenerate one.
  const double scale = std::max({max_abs, 1e-300, 1e-15 * std::max(std::abs(lo), std::abs(hi))});
  spec.vmin = -scale;
  spec.vmax = scale;
  heat_map(spec, {});
}

// K(t, t − τ) of the pair (a, b) against the lag τ for a few t: where the curves coincide the
// kernel depends on the lag only (stationary). Input at t = 0 with a shared bias: for large s the
// cross-time kernel approaches c* q*, the fixed point of the two-point map (docs/theory.md §4.3).
void App::cross_time_panel(float width, float height) {
  const Derived& d = derived_;
  const RecurrentKernelResult& r = d.recurrent_job->result();
  const int T = r.steps;
  const int a = std::clamp(scene_.view.input_a, 0, r.inputs - 1);
  const int b = std::clamp(scene_.view.input_b, 0, r.inputs - 1);
  const bool corr = scene_.view.cross == CrossTimeScale::correlation;
  std::vector<int> times;
  for (int k = 4; k >= 1; --k) {
    const int t = (T * k + 3) / 4;
    if (t >= 1 && std::find(times.begin(), times.end(), t) == times.end()) times.push_back(t);
  }
  std::vector<Series> series;
  for (int t : times) {
    Series s = make_series("t = " + std::to_string(t));
    for (int lag = 0; lag <= t; ++lag) {
      const int s_time = t - lag;
      double v = r.at(t, s_time, a, b);
      if (corr) {
        const double norm = r.at(t, t, a, a) * r.at(s_time, s_time, b, b);
        v = norm > 0 ? v / std::sqrt(norm) : kNaN;
      }
      s.x.push_back(lag);
      s.y.push_back(v);
    }
    s.markers = T <= 40;
    series.push_back(std::move(s));
  }
  PlotSpec spec;
  spec.id = "cross-time";
  spec.note = kNoteKernelCrossTime;
  spec.title = std::string(corr ? "Correlation C" : "Kernel K") + "(t, t − τ) of inputs a = " + std::to_string(a) +
               ", b = " + std::to_string(b);
  spec.x.label = "lag τ";
  spec.y.label = corr ? "C(t, t − τ)" : "K(t, t − τ)";
  spec.size = ImVec2(width, height);
  const FixedPoint& fp = d.fixed;
  if (scene_.network.input_mode == InputMode::first_step && scene_.network.bias_mode == BiasMode::shared && fp.status.ok() &&
      fp.phase != Phase::diverged && std::isfinite(fp.c_star) && std::isfinite(fp.q_star))
    spec.y_lines = {corr ? fp.c_star : fp.c_star * fp.q_star};
  line_plot(spec, series);
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
    const int threads = thread_count();
    const RenormViewSpec& r = scene_.renorm;
    // The network the tab computes with: the gated linear network on its own tab, else the nonlinear one.
    const std::string network =
        scene_.view.panel == Panel::renorm
            ? (r.gates == 1 ? "deep linear, L = " : "gated linear, M = " + std::to_string(r.gates) + ", L = ") +
                  std::to_string(r.layers) + ", N = " + std::to_string(r.width) + ", σ² = " + fmt(r.sigma2, "%.4g") +
                  ", T = " + fmt(r.temperature, "%.4g")
            : scene_.network.activation.name() + ", σ_w² = " + fmt(scene_.network.sigma_w2, "%.4g") +
                  ", σ_b² = " + fmt(scene_.network.sigma_b2, "%.4g");
    ImGui::TextDisabled("Fieldscope · %s · %d %s · %s", platform_.name.c_str(), threads, threads == 1 ? "thread" : "threads",
                        network.c_str());
  }
}

void App::after_render() { save_exports(platform_.save_file); }

void App::note_control_rect(const std::string& name) {
  const ImVec2 lo = ImGui::GetItemRectMin(), hi = ImGui::GetItemRectMax();
  control_rects_[name] = {lo.x, lo.y, hi.x, hi.y};
}

std::string App::snapshot_json() const {
  auto control_rect = [this](const std::string& name) {
    const auto it = control_rects_.find(name);
    return it != control_rects_.end() ? it->second : std::array<float, 4>{};
  };
  nlohmann::ordered_json j;
  auto num = [](double v) -> nlohmann::ordered_json {
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (std::isnan(v)) return nullptr;
    return v;
  };
  j["link"] = scene_to_query(scene_);
  j["busy"] = busy();
  j["frames"] = frames_;
  j["threads"] = thread_count();
  j["phase"] = phase_name(derived_.fixed.phase);
  j["q_star"] = num(derived_.fixed.q_star);
  j["c_star"] = num(derived_.fixed.c_star);
  j["chi_1"] = num(derived_.fixed.chi_1);
  j["chi_c"] = num(derived_.fixed.chi_c);
  j["xi_q"] = num(derived_.fixed.xi_q);
  j["xi_c"] = num(derived_.fixed.xi_c);
  j["lambda_max"] = num(derived_.fixed.lambda_max);
  j["messages"] = messages_;
  // Inputs and kernels (tests/e2e: CSV upload, deep vs recurrent). Kernel numbers only for jobs that
  // belong to the scene and are complete; the pair (a, b) is the one the views follow.
  const InputsSpec& in = scene_.inputs;
  j["inputs"] = {{"kind", input_kind_name(in.kind)},
                 {"count", in.kind == InputKind::points ? static_cast<int>(in.points.size()) : in.count},
                 {"csv_message", csv_message_},
                 {"csv_failed", csv_failed_},
                 {"load_button", control_rect("load_button")},
                 {"pair_a_slider", control_rect("pair_a_slider")}};
  j["controls"] = control_rects_;
  // The phase diagram at 4 x 4 sample cells (rows and columns 0, n/3, 2n/3, n - 1) once its job for
  // this scene is complete (tests/e2e: the final numbers after a slider drag are the final scene's).
  if (derived_.phase_job && derived_.phase_valid && same_phase(derived_.phase_for, scene_) &&
      derived_.phase_job->progress() >= 1.0) {
    const PhaseDiagram& pd = derived_.phase_job->result();
    nlohmann::ordered_json g;
    g["columns"] = pd.spec.columns;
    g["rows"] = pd.spec.rows;
    for (int r : {0, pd.spec.rows / 3, 2 * pd.spec.rows / 3, pd.spec.rows - 1})
      for (int c : {0, pd.spec.columns / 3, 2 * pd.spec.columns / 3, pd.spec.columns - 1}) {
        const int k = r * pd.spec.columns + c;
        g["cells"].push_back({{"row", r},
                              {"column", c},
                              {"chi_1", num(pd.chi_1[k])},
                              {"xi_c", num(pd.xi_c[k])},
                              {"q_star", num(pd.q_star[k])},
                              {"c_star", num(pd.c_star[k])}});
      }
    j["phase_grid"] = g;
  }
  nlohmann::ordered_json k;
  k["view"] = scene_.view.kernels == KernelView::compare ? "compare" : "single";
  k["layer"] = scene_.view.layer < 0 ? scene_.network.depth : std::min(scene_.view.layer, scene_.network.depth);
  const DeepKernelResult* deep = deep_current() && derived_.deep_job->progress() >= 1.0 && derived_.deep_job->result().status.ok()
                                     ? &derived_.deep_job->result()
                                     : nullptr;
  const RecurrentKernelResult* rec =
      recurrent_current() && recurrent_done(*derived_.recurrent_job) ? &derived_.recurrent_job->result() : nullptr;
  auto pair_of = [this](int p) {
    return std::pair{std::clamp(scene_.view.input_a, 0, p - 1), std::clamp(scene_.view.input_b, 0, p - 1)};
  };
  if (deep && !deep->kernel.empty()) {
    const auto [a, b] = pair_of(static_cast<int>(deep->kernel[0].rows()));
    for (const Eigen::MatrixXd& m : deep->kernel) {
      k["deep_aa"].push_back(num(m(a, a)));
      k["deep_ab"].push_back(num(m(a, b)));
    }
  }
  if (rec) {
    const auto [a, b] = pair_of(rec->inputs);
    for (int t = 0; t <= rec->steps; ++t) {
      k["recurrent_aa"].push_back(num(rec->at(t, t, a, a)));
      k["recurrent_ab"].push_back(num(rec->at(t, t, a, b)));
      if (t >= 1) k["recurrent_lag1_aa"].push_back(num(rec->at(t, t - 1, a, a)));
    }
  }
  if (deep && rec && static_cast<int>(deep->kernel.size()) == rec->steps + 1) {
    double max_diff = 0, max_kernel = 0;
    for (int t = 0; t <= rec->steps; ++t) {
      const Eigen::MatrixXd& dk = deep->kernel[static_cast<std::size_t>(t)];
      max_diff = std::max(max_diff, (rec->block(t, t) - dk).cwiseAbs().maxCoeff());
      max_kernel = std::max(max_kernel, dk.cwiseAbs().maxCoeff());
    }
    k["max_abs_diff"] = num(max_diff);
    k["max_abs_kernel"] = num(max_kernel);
  }
  j["kernels"] = k;
  // The signal view's trajectory of the pair (the CLI's `signal`), when it belongs to the scene.
  if (derived_.signal_valid && same_mean_field(derived_.signal_for, scene_) && derived_.inputs_status.ok()) {
    nlohmann::ordered_json sig;
    for (const auto& [name, values] :
         {std::pair{"q_a", &derived_.signal.q1}, std::pair{"q_b", &derived_.signal.q2},
          std::pair{"covariance", &derived_.signal.covariance}, std::pair{"correlation", &derived_.signal.correlation}})
      for (double v : *values) sig[name].push_back(num(v));
    j["signal"] = std::move(sig);
  }
  for (const Tab& tab : tabs_)
    if (tab.view) j[panel_name(tab.panel)] = tab.view->snapshot(scene_);
  // The plots of the last frame and their export buttons, in pixels (tests/e2e: exports).
  for (const DrawnPlot& p : drawn_plots())
    j["plots"][p.id] = {{"frame", {p.min.x, p.min.y, p.max.x - p.min.x, p.max.y - p.min.y}},
                        {"csv", {p.csv_min.x, p.csv_min.y, p.csv_max.x - p.csv_min.x, p.csv_max.y - p.csv_min.y}},
                        {"png", {p.png_min.x, p.png_min.y, p.png_max.x - p.png_min.x, p.png_max.y - p.png_min.y}}};
  return j.dump();
}

}  // namespace fs::ui
