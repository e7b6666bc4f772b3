// The "Finite-width learning" tab (docs/theory.md §10): the kernel-renormalization theory of deep linear and
// globally gated deep linear networks on a synthetic task, against the GP limit and against finite networks
// sampled from the posterior. Its settings live in scene.renorm (docs/scene.md); the jobs and every number
// drawn come from app/renorm_jobs.h: this file draws and edits the scene.
//
// Sections
//   1. helpers: labels, the sweep's axis
//   2. the panel: update, busy, draw
//   3. controls and the numbers table
//   4. rv=error        generalization error over the sweep: theory, its parts, GP, simulation points
//   5. rv=order        U_1 of the theory, U-hat_1 of the simulation, their difference
//   6. rv=predictions  test predictions: theory, GP, simulation with error bars
//   7. the snapshot for tests
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "app/colormap.h"
#include "app/file_loader.h"
#include "app/plot.h"
#include "app/renorm_jobs.h"
#include "app/view_panel.h"
#include "app/widgets.h"
#include "core/datasets.h"
#include "core/renorm_scene.h"
#include "core/report_json.h"

namespace fs::ui {
namespace {

// ---- 1. helpers ------------------------------------------------------------------------------------
std::string fmt(double v, const char* format = "%.5g") { return format_number(v, format); }

const char* sweep_label(RenormSweepParameter p) {
  switch (p) {
    case RenormSweepParameter::width: return "width N";
    case RenormSweepParameter::sigma2: return "σ²";
    case RenormSweepParameter::temperature: return "temperature T";
    case RenormSweepParameter::depth: return "hidden layers L";
    case RenormSweepParameter::gates: return "gates M";
    case RenormSweepParameter::tasks: return "tasks K";
  }
  return "N";
}

bool sweep_log(RenormSweepParameter p) {
  return p == RenormSweepParameter::width || p == RenormSweepParameter::sigma2 || p == RenormSweepParameter::temperature;
}

// The scene's own value of the swept parameter.
double scene_sweep_value(const Scene& scene) {
  const RenormViewSpec& r = scene.renorm;
  switch (r.sweep) {
    case RenormSweepParameter::width: return r.width;
    case RenormSweepParameter::sigma2: return r.sigma2;
    case RenormSweepParameter::temperature: return r.temperature;
    case RenormSweepParameter::depth: return r.layers;
    case RenormSweepParameter::gates: return r.gates;
    case RenormSweepParameter::tasks: return r.tasks;
  }
  return r.width;
}

// The theory's eps_g over a comparison sweep (other gate vectors, the other way of gating the tasks).
Series theory_curve(const RenormSweepJob& job, std::string label, ImU32 color) {
  Series c;
  c.label = std::move(label);
  c.color = color;
  c.thickness = 2.0f;
  for (const RenormSweepPoint& p : job.points())
    if (p.result.status.ok()) c.x.push_back(p.value), c.y.push_back(p.result.theory.generalization_error);
  return c;
}

// A sweep's progress and points (value, eps_g of the theory) for the snapshot.
nlohmann::ordered_json sweep_json(const RenormSweepJob& job) {
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const RenormSweepPoint& p : job.points())
    points.push_back({{"value", p.value}, {"generalization_error", json::number(p.result.theory.generalization_error)}});
  return {{"progress", job.progress()}, {"points", points}};
}

constexpr const char* kNoteError =
    "Generalization error ε_g = bias² + variance on the test points over the swept parameter: the finite-width theory "
    "(kernel renormalization: GP regression with the kernel reshaped by the order parameters U_l, solved at every point), "
    "its two parts, the GP limit (N → ∞), and the GP of a ReLU network with the same L and σ² (the kernel the gates approach "
    "as M grows; over M, the point M = 1 is the deep linear network). Dots with error bars: finite networks sampled from the "
    "posterior at the widths you visited along N, or at the tab's point along the other parameters (standard errors from "
    "independent chains). Li & Sompolinsky, arXiv:2012.04030 and arXiv:2210.17449 (docs/theory.md §10)";
constexpr const char* kNoteOrder =
    "The order parameter U_1 (D_1 × D_1, one row per path of gates above the first layer, lower gate fastest): the "
    "posterior overlap of the downstream weights of the first layer's units, normalised to the identity at infinite "
    "width. Left the theory, middle the sampled networks' estimate Û_1, right their difference. Off-diagonal entries are "
    "the shape renormalization of the kernel (docs/theory.md §10.3, §10.9)";
constexpr const char* kNotePredictions =
    "Posterior mean predictions on the test points, sorted by target: the finite-width theory with its ±2 standard "
    "deviation band, the GP limit, and the sampled networks' posterior mean with its standard error (docs/theory.md "
    "§10.4, §10.9)";

// ---- 2. the panel ----------------------------------------------------------------------------------
class Panel final : public ViewPanel {
 public:
  explicit Panel(const Platform& platform) : jobs_(platform), loader_(platform) {}
  void update(const Scene& scene, double budget_seconds) override { jobs_.update(scene, budget_seconds); }
  void draw(Scene& scene) override;
  bool busy(const Scene& scene) const override { return loader_.pending() || jobs_.busy(scene); }
  nlohmann::ordered_json snapshot(const Scene& scene) const override;
  bool load_file(Scene& scene, const std::string& name, const std::string& text, const std::string& error) override {
    const LabelledCsvLoad loaded = load_labelled_csv(scene, fs::Panel::renorm, name, text, error);
    loader_.set_message(loaded.failed, loaded.message);
    return true;
  }

 private:
  void controls(Scene& scene);
  void numbers(const Scene& scene);
  void error_view(Scene& scene);
  void order_view(const Scene& scene);
  void predictions_view(const Scene& scene);
  const RenormSimulationPoint* simulation_here(const Scene& scene) const;

  RenormJobs jobs_;
  FileLoader loader_;
  float cancel_button_[4] = {0, 0, 0, 0};  // the simulation's Cancel button in pixels (e2e test), zero when not shown
  int edit_width_ = 0, edit_train_ = 0, edit_test_ = 0, edit_samples_ = 0;
  bool editing_width_ = false, editing_train_ = false, editing_test_ = false, editing_samples_ = false;
};

const RenormSimulationPoint* Panel::simulation_here(const Scene& scene) const {
  for (const RenormSimulationPoint& p : jobs_.simulations(scene))
    if (p.width == scene.renorm.width) return &p;
  return nullptr;
}

void Panel::draw(Scene& scene) {
  for (const FileLoader::File& f : loader_.take()) load_file(scene, f.name, f.text, f.error);
  const float em = ImGui::GetFontSize();
  ImGui::BeginChild("renorm-controls", ImVec2(std::min(20 * em, ImGui::GetContentRegionAvail().x * 0.38f), 0), true);
  controls(scene);
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("renorm-view", ImVec2(0, 0), false);
  if (jobs_.data_loading()) {
    ImGui::TextDisabled("Loading Fashion-MNIST ...");
  } else if (!jobs_.data_status().ok()) {
    error_text(jobs_.data_status().message);
  } else {
    numbers(scene);
    switch (scene.renorm.show) {
      case RenormView::error: error_view(scene); break;
      case RenormView::order: order_view(scene); break;
      case RenormView::predictions: predictions_view(scene); break;
    }
  }
  ImGui::EndChild();
}

// ---- 3. controls and the numbers table -------------------------------------------------------------
template <class E, std::size_t K>
bool choice(const char* label, E& value, const E (&values)[K], const char* const (&names)[K], const char* tooltip) {
  int current = 0;
  for (std::size_t i = 0; i < K; ++i)
    if (values[i] == value) current = static_cast<int>(i);
  const bool changed = ImGui::Combo(label, &current, names, static_cast<int>(K));
  if (changed) value = values[current];
  help_marker(tooltip);
  return changed;
}

void Panel::controls(Scene& scene) {
  RenormViewSpec& r = scene.renorm;
  ImGui::TextUnformatted("Network");
  ImGui::Separator();
  ImGui::SliderInt("layers L", &r.layers, 1, 4, "%d", ImGuiSliderFlags_AlwaysClamp);
  help_marker("Hidden layers of the linear network; weight layer L + 1 is the readout.");
  deferred_slider_int("width N", r.width, edit_width_, editing_width_, 4, 10000,
                      "Units of every hidden layer. The theory is exact for N and P large at fixed P/N; at N → ∞ it is the GP.");
  ImGui::SliderInt("gates M", &r.gates, 1, 16, "%d", ImGuiSliderFlags_AlwaysClamp);
  help_marker(
      "Gates per weight layer: each layer has M weight matrices, each multiplied by a gate g_m(x) = Θ(v_m·x/√N₀ − b) "
      "shared by all its units. M = 1 is the deep linear network.");
  const RenormReadout readouts[] = {RenormReadout::gated, RenormReadout::ungated};
  const char* const readout_names[] = {"gated readout", "ungated readout"};
  choice("readout", r.readout, readouts, readout_names,
         "A gated readout has M readout vectors. With an ungated readout and L = 1 the order parameter is a single number.");
  const RenormGates sharings[] = {RenormGates::shared, RenormGates::unshared};
  const char* const sharing_names[] = {"shared by all layers", "fresh in every layer"};
  choice("gate vectors", r.sharing, sharings, sharing_names,
         "One set of gate vectors for every gated layer, or a new set per layer.");
  const GateKind kinds[] = {GateKind::hyperplane, GateKind::pca, GateKind::kmeans};
  const char* const kind_names[] = {"random hyperplanes", "PCA directions", "k-means centroids"};
  choice(
      "gates from", r.gate_kind, kinds, kind_names,
      "Random Gaussian vectors, or learned without labels from the training inputs: principal directions or k-means centroids.");
  const double b_lo = -2, b_hi = 2, s_lo = 0.05, s_hi = 10, t_lo = 1e-4, t_hi = 2;
  ImGui::SliderScalar("threshold b", ImGuiDataType_Double, &r.threshold, &b_lo, &b_hi, "%.3g", ImGuiSliderFlags_AlwaysClamp);
  help_marker("A gate is on where v·x/√N₀ > b: b = 0 keeps about half on.");
  ImGui::SliderScalar("prior σ²", ImGuiDataType_Double, &r.sigma2, &s_lo, &s_hi, "%.3g",
                      ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_Logarithmic);
  help_marker("Prior variance of every weight; the GP kernel scales as σ^(2(L+1)).");
  ImGui::SliderScalar("temperature T", ImGuiDataType_Double, &r.temperature, &t_lo, &t_hi, "%.3g",
                      ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_Logarithmic);
  help_marker("The likelihood's noise variance; the weight decay (L2 amplitude) is T/σ².");

  ImGui::Spacing();
  ImGui::TextUnformatted("Task");
  ImGui::Separator();
  const RenormTask tasks[] = {RenormTask::teacher, RenormTask::template_model, RenormTask::fashion_mnist, RenormTask::csv};
  const char* const task_names[] = {"ReLU teacher", "template model", "Fashion-MNIST, two classes", "labelled CSV file"};
  choice(
      "task", r.task, tasks, task_names,
      "Teacher: Gaussian inputs, targets from a 4-unit ReLU network. Template: test inputs are noisy copies of training inputs, "
      "linear targets (docs/theory.md §10.8). Fashion-MNIST: two classes as ±1 labels (classification as regression). CSV: "
      "your own rows, features then the target.");
  const bool synthetic = r.task == RenormTask::teacher || r.task == RenormTask::template_model;
  if (synthetic)
    ImGui::SliderInt("input dim N₀", &r.dim, 2, 200, "%d", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_Logarithmic);
  if (r.task == RenormTask::fashion_mnist) {
    const std::vector<std::string>& names = fashion_mnist_class_names();
    if (r.classes.size() != 2) r.classes = RenormViewSpec{}.classes;
    for (int k = 0; k < 2; ++k) {
      int& id = r.classes[static_cast<std::size_t>(k)];
      if (ImGui::BeginCombo(k == 0 ? "class −1" : "class +1", names[static_cast<std::size_t>(id)].c_str())) {
        for (int c = 0; c < 10; ++c)
          if (c != r.classes[static_cast<std::size_t>(1 - k)] &&
              ImGui::Selectable(names[static_cast<std::size_t>(c)].c_str(), c == id))
            id = c;
        ImGui::EndCombo();
      }
    }
    help_marker("The binary task: the lower class id is the −1 label.");
    pooling_combo(r.downsample);
  }
  if (r.task != RenormTask::csv) {
    deferred_slider_int("train points P", r.train, edit_train_, editing_train_, 10, 1000,
                        "Each solve costs about P³ operations.");
    deferred_slider_int("test points", r.test, edit_test_, editing_test_, 10, 1000, "Test points for ε_g and the predictions.");
  }
  if (synthetic) {
    const double n_lo = 0, n_hi = 1;
    ImGui::SliderScalar("label noise", ImGuiDataType_Double, &r.noise, &n_lo, &n_hi, "%.3g", ImGuiSliderFlags_AlwaysClamp);
    ImGui::SliderInt("tasks K", &r.tasks, 1, 8, "%d", ImGuiSliderFlags_AlwaysClamp);
    help_marker(
        "Multi-task learning: K tasks, each with its own teacher and P training and test points of its own, learned by one "
        "network; ε_g is the mean over the tasks (docs/theory.md §10.10).");
    const RenormTaskGates task_gates[] = {RenormTaskGates::own, RenormTaskGates::shared};
    const char* const task_gate_names[] = {"own gates per task", "gates shared by the tasks"};
    if (r.tasks > 1 || r.sweep == RenormSweepParameter::tasks)
      choice("task gates", r.task_gates, task_gates, task_gate_names,
             "Own: gate m is open only for the points of task m mod K, so the tasks share no gate (every gated layer needs "
             "M ≥ K) and meet only through the order parameters. Shared: every gate for every task.");
  }
  loader_.draw("renorm-csv", "Load labelled CSV...",
               "A labelled CSV file: one point per row, features then the target (two integer labels make a ±1 "
               "classification task); optional header and # comments. You can also drop a file on the window.");
  if (r.task == RenormTask::csv) ImGui::TextDisabled("%d rows · every 4th is a test point", static_cast<int>(r.points.size()));

  ImGui::Spacing();
  ImGui::TextUnformatted("Sweep");
  ImGui::Separator();
  const RenormSweepParameter parameters[] = {RenormSweepParameter::width,       RenormSweepParameter::sigma2,
                                             RenormSweepParameter::temperature, RenormSweepParameter::depth,
                                             RenormSweepParameter::gates,       RenormSweepParameter::tasks};
  const char* const parameter_names[] = {"width N", "prior σ²", "temperature T", "hidden layers L", "gates M", "tasks K"};
  if (choice("over", r.sweep, parameters, parameter_names, "The parameter on the x axis of the error view.")) {
    // A range that suits the new parameter.
    const double ranges[][2] = {{25, 1000}, {0.1, 4}, {0.001, 1},
                                {1, 4},     {1, 16},  {1, std::max(2.0, std::min(8.0, double(r.gates)))}};
    const int i = static_cast<int>(r.sweep);
    r.sweep_min = ranges[i][0];
    r.sweep_max = ranges[i][1];
  }
  double range[2] = {r.sweep_min, r.sweep_max};
  if (ImGui::InputScalarN("from, to", ImGuiDataType_Double, range, 2, nullptr, nullptr, "%.4g",
                          ImGuiInputTextFlags_EnterReturnsTrue)) {
    if (range[0] > 0 && range[1] > range[0] && range[1] <= 1e6) {
      r.sweep_min = range[0];
      r.sweep_max = range[1];
    }
  }
  help_marker("The sweep's range; N, σ² and T are spaced evenly in log. Enter to apply.");
  ImGui::SliderInt("points", &r.sweep_points, 2, 60, "%d", ImGuiSliderFlags_AlwaysClamp);
  bool compare = r.compare == RenormCompare::gate_kinds;
  if (ImGui::Checkbox("compare gate vectors", &compare)) r.compare = compare ? RenormCompare::gate_kinds : RenormCompare::none;
  help_marker(
      "Adds the theory's ε_g over the sweep with the other kinds of gate vectors (random hyperplanes, PCA directions, "
      "k-means centroids of the training inputs): do gates learned without labels help?");

  ImGui::Spacing();
  ImGui::TextUnformatted("Finite networks");
  ImGui::Separator();
  const RenormSimulation simulations[] = {RenormSimulation::off, RenormSimulation::gibbs, RenormSimulation::langevin};
  const char* const simulation_names[] = {"off", "Gibbs (exact)", "Langevin"};
  choice("sampler", r.simulation, simulations, simulation_names,
         "Networks of width N sampled from the posterior at the width above: the exact blocked Gibbs sampler, or noisy gradient "
         "descent with weight decay (docs/theory.md §10.9).");
  ImGui::SliderInt("chains", &r.chains, 2, 32, "%d", ImGuiSliderFlags_AlwaysClamp);
  help_marker("Independent chains; the error bars come from their spread.");
  deferred_slider_int("samples", r.samples, edit_samples_, editing_samples_, 10, 5000, "Samples kept per chain.");

  ImGui::Spacing();
  ImGui::TextUnformatted("View");
  ImGui::Separator();
  const RenormView views[] = {RenormView::error, RenormView::order, RenormView::predictions};
  const char* const view_names[] = {"error vs sweep", "order parameter U₁", "test predictions"};
  for (int i = 0; i < 3; ++i)
    if (ImGui::RadioButton(view_names[i], r.show == views[i])) r.show = views[i];
}

void Panel::numbers(const Scene& scene) {
  const RenormResult* solve = jobs_.solve(scene);
  if (!solve) {
    ImGui::TextDisabled("solving the theory at N = %d ...", scene.renorm.width);
    return;
  }
  if (!solve->status.ok() && solve->order_parameters.empty()) {
    error_text(solve->status.message);
    return;
  }
  if (!solve->status.ok()) error_text(solve->status.message);
  const RenormSimulationPoint* sim = simulation_here(scene);
  const bool with_sim = sim && sim->result.chains_done > 0;
  if (ImGui::BeginTable("renorm-numbers", with_sim ? 4 : 3, ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg)) {
    ImGui::TableSetupColumn("");
    ImGui::TableSetupColumn("theory (N)");
    ImGui::TableSetupColumn("GP (N → ∞)");
    if (with_sim) ImGui::TableSetupColumn("sampled networks");
    ImGui::TableHeadersRow();
    auto row = [&](const char* name, double a, double b, std::string c) {
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(name);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(fmt(a).c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(fmt(b).c_str());
      if (with_sim) {
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(c.c_str());
      }
    };
    const SamplingResult* s = with_sim ? &sim->result : nullptr;
    row("ε_g", solve->theory.generalization_error, solve->gp.generalization_error,
        s ? fmt(s->generalization_error) + " ± " + fmt(s->generalization_error_se, "%.2g") : "");
    row("bias²", solve->theory.bias2, solve->gp.bias2, s ? fmt(s->bias2) : "");
    row("variance", solve->theory.variance_mean, solve->gp.variance_mean, s ? fmt(s->variance_mean) : "");
    row("training error", solve->theory.training_error, solve->gp.training_error, s ? fmt(s->training_error) : "");
    if (jobs_.data().classification) {
      row("accuracy", solve->theory.accuracy, solve->gp.accuracy, "");
      row("sampled accuracy", solve->theory.sampled_accuracy, solve->gp.sampled_accuracy, "");
    }
    ImGui::EndTable();
  }
  ImGui::TextDisabled("%s  U₁ is %d × %d.", solve->report.message.c_str(), static_cast<int>(solve->order_parameters[0].rows()),
                      static_cast<int>(solve->order_parameters[0].rows()));
  if (with_sim)
    wrapped_disabled(("χ²/dof of the sampled mean: " + fmt(chi2_per_dof(sim->result, solve->theory.mean), "%.3g") +
                      " against the theory, " + fmt(chi2_per_dof(sim->result, solve->gp.mean), "%.3g") + " against the GP (" +
                      std::to_string(sim->result.chains_done) + " chains × " + std::to_string(sim->result.samples_per_chain) +
                      " samples).")
                         .c_str());
  if (sim && !sim->result.status.ok()) error_text("Simulation: " + sim->result.status.message);
  std::fill(std::begin(cancel_button_), std::end(cancel_button_), 0.f);
  if (const PosteriorSamplingJob* job = jobs_.simulation_running(scene)) {
    progress_row("sampling networks", job->progress(), posterior_sampler_name(renorm_sampling_spec(scene).sampler),
                 [this] { jobs_.cancel_simulation(); });
    const ImVec2 lo = ImGui::GetItemRectMin(), hi = ImGui::GetItemRectMax();
    cancel_button_[0] = lo.x, cancel_button_[1] = lo.y, cancel_button_[2] = hi.x, cancel_button_[3] = hi.y;
  } else if (jobs_.simulation_cancelled() && !sim && scene.renorm.simulation != RenormSimulation::off)
    ImGui::TextDisabled("Simulation cancelled; change a setting to sample again.");
}

// ---- 4. rv=error -----------------------------------------------------------------------------------
void Panel::error_view(Scene& scene) {
  const RenormSweepJob* sweep = jobs_.sweep(scene);
  if (sweep && sweep->progress() < 1.0 && !jobs_.sweep_cancelled())
    progress_row("sweep", sweep->progress(), sweep_label(scene.renorm.sweep), [this] { jobs_.cancel_sweep(); });
  // rcmp=gates: the other kinds of gate vectors, theory eps_g only.
  const GateKind kinds[] = {GateKind::hyperplane, GateKind::pca, GateKind::kmeans};
  const char* const kind_names[] = {"random gates", "PCA gates", "k-means gates"};
  std::vector<Series> compared;
  if (sweep && sweep->progress() >= 1.0)
    for (int k = 0; k < 3; ++k)
      if (const RenormSweepJob* other = jobs_.comparison(scene, kinds[k])) {
        if (other->progress() < 1.0 && !jobs_.sweep_cancelled())
          progress_row("comparing", other->progress(), kind_names[k], [this] { jobs_.cancel_sweep(); });
        // Apart from the curves below and the sampled networks' dots (4): cyan, pink, light grey.
        const Rgba8 colors[] = {qualitative_color(6), qualitative_color(7), rgba8(225, 225, 225)};
        compared.push_back(theory_curve(*other, std::string("ε_g ") + kind_names[k], colors[k]));
      }
  Series eg, bias, variance, gp, relu;
  eg.label = "ε_g theory";
  bias.label = "bias²";
  variance.label = "variance";
  gp.label = "ε_g GP limit";
  relu.label = "ε_g ReLU NNGP";
  relu.dashed = true;
  relu.thickness = 1.5f;
  relu.color = qualitative_color(5);  // 4 is the sampled networks' dots
  bias.thickness = variance.thickness = 1.5f;
  variance.dashed = false;
  gp.dashed = true;
  std::string failures;
  if (sweep)
    for (const RenormSweepPoint& p : sweep->points()) {
      if (!p.result.status.ok() && p.result.order_parameters.empty()) {
        if (failures.empty()) failures = "At " + fmt(p.value) + ": " + p.result.status.message;
        continue;
      }
      eg.x.push_back(p.value), eg.y.push_back(p.result.theory.generalization_error);
      bias.x.push_back(p.value), bias.y.push_back(p.result.theory.bias2);
      variance.x.push_back(p.value), variance.y.push_back(p.result.theory.variance_mean);
      gp.x.push_back(p.value), gp.y.push_back(p.result.gp.generalization_error);
      if (p.relu_status.ok()) relu.x.push_back(p.value), relu.y.push_back(p.relu.generalization_error);
    }
  if (!compared.empty()) eg.label = std::string("ε_g theory, ") + kind_names[static_cast<int>(scene.renorm.gate_kind)];
  // rsw=K: the other way of gating the tasks beside the scene's.
  const bool own = scene.renorm.task_gates == RenormTaskGates::own;
  if (const RenormSweepJob* other = jobs_.other_task_gates(scene)) {
    eg.label = own ? "ε_g theory, own gates per task" : "ε_g theory, gates shared by the tasks";
    if (sweep && sweep->progress() >= 1.0 && other->progress() < 1.0 && !jobs_.sweep_cancelled())
      progress_row("comparing", other->progress(), own ? "shared gates" : "own gates", [this] { jobs_.cancel_sweep(); });
    compared.push_back(
        theory_curve(*other, own ? "ε_g gates shared by the tasks" : "ε_g own gates per task", qualitative_color(6)));
  }
  std::vector<Series> series = {eg, bias, variance, gp, relu};
  series.insert(series.end(), compared.begin(), compared.end());
  {
    // Sampled networks: every width visited along an N sweep; along the others, the tab's own point (a
    // simulation belongs to one value of sigma^2, T, L, M and K).
    const bool over_width = scene.renorm.sweep == RenormSweepParameter::width;
    Series dots;
    dots.label = "ε_g sampled networks";
    dots.line = false;
    dots.markers = true;
    dots.thickness = 2.5f;
    std::vector<Series> bars;
    for (const RenormSimulationPoint& p : jobs_.simulations(scene)) {
      if (p.result.chains_done == 0 || (!over_width && p.width != scene.renorm.width)) continue;
      const double x = over_width ? double(p.width) : scene_sweep_value(scene);
      dots.x.push_back(x), dots.y.push_back(p.result.generalization_error);
      Series bar;
      bar.x = {x, x};
      const double se = 2 * p.result.generalization_error_se;
      bar.y = {p.result.generalization_error - se, p.result.generalization_error + se};
      bar.thickness = 1.5f;
      bars.push_back(bar);
    }
    if (!dots.x.empty()) {
      dots.color = qualitative_color(4);
      for (Series& b : bars) b.color = dots.color;
      series.push_back(dots);
      series.insert(series.end(), bars.begin(), bars.end());
    }
  }
  PlotSpec spec;
  spec.id = "renorm-error";
  spec.title = "generalization error over " + std::string(sweep_label(scene.renorm.sweep));
  spec.x.label = sweep_label(scene.renorm.sweep);
  spec.x.log = sweep_log(scene.renorm.sweep);
  spec.x.integer = !sweep_log(scene.renorm.sweep);
  spec.y.label = "ε_g";
  spec.size = ImVec2(-1, -ImGui::GetFontSize() * 2.5f);
  spec.note = kNoteError;
  spec.export_name = "fieldscope-renorm-error";
  if (const RenormResult* solve = jobs_.solve(scene); solve && solve->status.ok())
    spec.marker = DataPoint{scene_sweep_value(scene), solve->theory.generalization_error};
  const PlotEvents ev = line_plot(spec, series);
  if (ev.clicked && std::isfinite(ev.x)) {
    RenormViewSpec& r = scene.renorm;
    const double v = ev.x;
    switch (r.sweep) {
      case RenormSweepParameter::width: r.width = std::clamp(static_cast<int>(std::lround(v)), 4, 100000); break;
      case RenormSweepParameter::sigma2: r.sigma2 = std::clamp(v, 1e-3, 100.0); break;
      case RenormSweepParameter::temperature: r.temperature = std::clamp(v, 1e-6, 100.0); break;
      case RenormSweepParameter::depth: r.layers = std::clamp(static_cast<int>(std::lround(v)), 1, 8); break;
      case RenormSweepParameter::gates: r.gates = std::clamp(static_cast<int>(std::lround(v)), 1, 64); break;
      case RenormSweepParameter::tasks: r.tasks = std::clamp(static_cast<int>(std::lround(v)), 1, 16); break;
    }
  }
  if (!failures.empty()) error_text(failures);
  wrapped_disabled(
      "Click the plot to move the tab's point there (the table, U₁, the predictions and the sampled networks follow).");
}

// ---- 5. rv=order -----------------------------------------------------------------------------------
void Panel::order_view(const Scene& scene) {
  const RenormResult* solve = jobs_.solve(scene);
  if (!solve || solve->order_parameters.empty()) return;
  const Eigen::MatrixXd& u = solve->order_parameters[0];
  const int d = static_cast<int>(u.rows());
  const RenormSimulationPoint* sim = simulation_here(scene);
  const bool with_sim = sim && sim->result.chains_done > 0 && !sim->result.order_parameters.empty();
  const int panels = with_sim ? 3 : 1;
  const float width = (ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ItemSpacing.x * (panels - 1)) / panels;
  auto cells = [d](const Eigen::MatrixXd& m) {
    std::vector<double> v(static_cast<std::size_t>(d) * d);
    for (int row = 0; row < d; ++row)
      for (int column = 0; column < d; ++column) v[static_cast<std::size_t>(row) * d + column] = m(row, column);
    return v;
  };
  const std::vector<double> theory = cells(u);
  std::vector<double> sampled, difference;
  double lo = u.minCoeff(), hi = u.maxCoeff();
  if (with_sim) {
    sampled = cells(sim->result.order_parameters[0]);
    difference = cells(sim->result.order_parameters[0] - u);
    lo = std::min(lo, sim->result.order_parameters[0].minCoeff());
    hi = std::max(hi, sim->result.order_parameters[0].maxCoeff());
  }
  auto map = [&](const char* id, const char* title, const std::vector<double>& values, bool diverging) {
    HeatMapSpec spec;
    spec.id = id;
    spec.title = title;
    spec.x.label = "path q";
    spec.y.label = "path p";
    spec.x.min = 0, spec.x.max = d - 1;
    spec.y.min = 0, spec.y.max = d - 1;
    spec.x.integer = spec.y.integer = true;
    spec.value_label = diverging ? "Û₁ − U₁" : "U₁";
    spec.values = values.data();
    spec.columns = spec.rows = d;
    spec.diverging = diverging;
    if (!diverging) spec.vmin = lo, spec.vmax = hi;
    const float available = ImGui::GetContentRegionAvail().y - ImGui::GetFontSize() * 2.5f;
    spec.size = ImVec2(width, std::min(available, width + ImGui::GetFontSize() * 2));
    spec.note = kNoteOrder;
    heat_map(spec);
  };
  map("renorm-u-theory", "U₁ theory", theory, false);
  if (with_sim) {
    ImGui::SameLine();
    map("renorm-u-sampled", "Û₁ sampled networks", sampled, false);
    ImGui::SameLine();
    map("renorm-u-difference", "difference", difference, true);
  }
  if (with_sim) {
    const Eigen::MatrixXd diff = sim->result.order_parameters[0] - u;
    wrapped_disabled(("Largest |Û₁ − U₁| = " + fmt(diff.cwiseAbs().maxCoeff(), "%.3g") + " (largest standard error " +
                      fmt(sim->result.order_parameters_se[0].maxCoeff(), "%.2g") + "; the theory's own error is O(1/N)).")
                         .c_str());
  }
}

// ---- 6. rv=predictions -----------------------------------------------------------------------------
void Panel::predictions_view(const Scene& scene) {
  const RenormResult* solve = jobs_.solve(scene);
  if (!solve || solve->theory.mean.size() == 0) return;
  const Eigen::VectorXd& y = jobs_.data().y_test;
  std::vector<int> order(static_cast<std::size_t>(y.size()));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return y(a) < y(b); });
  Series target, theory, gp, sampled;
  target.label = "target";
  target.line = false;
  target.markers = true;
  theory.label = "theory ± 2 sd";
  gp.label = "GP limit";
  gp.dashed = true;
  sampled.label = "sampled networks ± 2 se";
  sampled.line = false;
  sampled.markers = true;
  const RenormSimulationPoint* sim = simulation_here(scene);
  const bool with_sim = sim && sim->result.mean.size() == y.size();
  std::vector<Series> bars;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const int i = order[k];
    const double x = static_cast<double>(k);
    target.x.push_back(x), target.y.push_back(y(i));
    theory.x.push_back(x), theory.y.push_back(solve->theory.mean(i));
    const double sd = std::sqrt(std::max(0.0, solve->theory.variance(i)));
    theory.lower.push_back(solve->theory.mean(i) - 2 * sd);
    theory.upper.push_back(solve->theory.mean(i) + 2 * sd);
    gp.x.push_back(x), gp.y.push_back(solve->gp.mean(i));
    if (with_sim) {
      sampled.x.push_back(x), sampled.y.push_back(sim->result.mean(i));
      Series bar;
      bar.x = {x, x};
      bar.y = {sim->result.mean(i) - 2 * sim->result.mean_se(i), sim->result.mean(i) + 2 * sim->result.mean_se(i)};
      bar.thickness = 1.5f;
      bars.push_back(bar);
    }
  }
  target.color = rgba8(225, 225, 225);  // apart from the sampled networks' dots
  std::vector<Series> series = {target, theory, gp};
  if (with_sim) {
    sampled.color = qualitative_color(4);
    for (Series& b : bars) b.color = sampled.color;
    series.push_back(sampled);
    series.insert(series.end(), bars.begin(), bars.end());
  }
  PlotSpec spec;
  spec.id = "renorm-predictions";
  spec.title = "test predictions at N = " + std::to_string(scene.renorm.width);
  spec.x.label = "test point (sorted by target)";
  spec.x.integer = true;
  spec.y.label = "f(x*)";
  spec.size = ImVec2(-1, -ImGui::GetFontSize() * 1.2f);
  spec.note = kNotePredictions;
  spec.export_name = "fieldscope-renorm-predictions";
  line_plot(spec, series);
}

// ---- 7. the snapshot -------------------------------------------------------------------------------
nlohmann::ordered_json Panel::snapshot(const Scene& scene) const {
  nlohmann::ordered_json j;
  j["task"] = scene.renorm.task == RenormTask::csv             ? "csv"
              : scene.renorm.task == RenormTask::fashion_mnist ? "fashion-mnist"
                                                               : "synthetic";
  j["loading"] = jobs_.data_loading();
  j["data_status"] = jobs_.data_status().message;
  j["classification"] = jobs_.data().classification;
  loader_.snapshot(j);
  j["train"] = static_cast<int>(jobs_.data().x_train.rows());
  j["test"] = static_cast<int>(jobs_.data().x_test.rows());
  j["budget_mib"] = double(jobs_.budget_bytes()) / 1048576.0;
  if (const RenormResult* solve = jobs_.solve(scene)) {
    nlohmann::ordered_json s;
    s["status"] = solve->status.message;
    s["method"] = solve->report.method;
    s["iterations"] = solve->report.iterations;
    s["residual"] = json::number(solve->report.residual);
    s["generalization_error"] = json::number(solve->theory.generalization_error);
    s["bias2"] = json::number(solve->theory.bias2);
    s["variance"] = json::number(solve->theory.variance_mean);
    s["training_error"] = json::number(solve->theory.training_error);
    s["gp_generalization_error"] = json::number(solve->gp.generalization_error);
    s["accuracy"] = json::number(solve->theory.accuracy);
    s["gp_accuracy"] = json::number(solve->gp.accuracy);
    nlohmann::ordered_json u = nlohmann::ordered_json::array();
    if (!solve->order_parameters.empty())
      for (Eigen::Index r = 0; r < solve->order_parameters[0].rows(); ++r) {
        nlohmann::ordered_json row = nlohmann::ordered_json::array();
        for (Eigen::Index c = 0; c < solve->order_parameters[0].cols(); ++c)
          row.push_back(json::number(solve->order_parameters[0](r, c)));
        u.push_back(row);
      }
    s["u1"] = u;
    j["solve"] = s;
  }
  if (const RenormSweepJob* sweep = jobs_.sweep(scene)) j["sweep"] = sweep_json(*sweep);
  nlohmann::ordered_json compared = nlohmann::ordered_json::object();
  for (GateKind kind : {GateKind::hyperplane, GateKind::pca, GateKind::kmeans})
    if (const RenormSweepJob* other = jobs_.comparison(scene, kind)) compared[gate_kind_name(kind)] = sweep_json(*other);
  j["compared_gates"] = compared;
  if (const RenormSweepJob* other = jobs_.other_task_gates(scene)) j["other_task_gates"] = sweep_json(*other);
  nlohmann::ordered_json sims = nlohmann::ordered_json::array();
  for (const RenormSimulationPoint& p : jobs_.simulations(scene))
    sims.push_back({{"width", p.width},
                    {"status", p.result.status.message},
                    {"generalization_error", json::number(p.result.generalization_error)},
                    {"generalization_error_se", json::number(p.result.generalization_error_se)},
                    {"chi2_theory", json::number(chi2_per_dof(p.result, p.theory.theory.mean))},
                    {"chi2_gp", json::number(chi2_per_dof(p.result, p.theory.gp.mean))}});
  j["simulations"] = sims;
  j["simulation_cancelled"] = jobs_.simulation_cancelled();
  j["cancel_button"] = {cancel_button_[0], cancel_button_[1], cancel_button_[2], cancel_button_[3]};
  return j;
}

}  // namespace

std::unique_ptr<ViewPanel> make_renorm_panel(const Platform& platform) { return std::make_unique<Panel>(platform); }

}  // namespace fs::ui
