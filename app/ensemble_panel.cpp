// The "Finite width" tab: ensembles of M random networks of width N against the mean field and the 1/N
// theory (docs/theory.md §5-6, §8.4-8.5). The network comes from the global controls; the tab's own controls
// (width, members, sampler, precision, the view and its ranges) live in scene.ensemble. Every ensemble
// follows the pair (a, b) only (app/ensemble_jobs.h), so the 1/N theory (P <= 2) applies and it is cheap.
//
// Kernel objects are labelled as in core/ensemble.h: the aux field C-hat = (sigma_w^2/N) sum phi phi
// (the 1/N theory's field) and the pre-activation Gram G-hat = (1/N) sum h h.
//
// Sections
//   1. helpers: formatting, sliders, series, the numbers shared by the plots and the snapshot, the view's note
//   2. the panel: update, busy, controls, progress and messages
//   3. ev=hist    histograms (binned by the plot layer) of the last layer's kernel entries against the NLO Gaussian
//   4. ev=width   N Var/C^2, N (mean - C) and the distance to the mean field against N, deep vs recurrent
//   5. ev=sweep   N x distance^2 over sigma_w^2, sigma_b^2 or depth, deep vs recurrent, and their ratio
//   6. ev=cross   cross-time curves X(t, t - tau) with ensemble bands against the two-time mean field
//   7. ev=chaos   lambda_max(N) and xi_c(N) against their mean-field values
//   8. snapshot   the numbers on screen, for tests
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "app/colormap.h"
#include "app/ensemble_jobs.h"
#include "app/plot.h"
#include "app/view_notes.h"
#include "app/view_panel.h"
#include "app/widgets.h"
#include "core/linear_exact.h"
#include "core/report_json.h"

namespace fs::ui {
namespace {

// ---------------------------------------------------------------------------------------------------
// 1. helpers
// ---------------------------------------------------------------------------------------------------
constexpr double kNaN = EnsembleStat::kNaN;
using Json = nlohmann::ordered_json;

std::string fmt(double v, const char* format = "%.4g") { return format_number(v, format); }
// "value ± se"
std::string pm(double v, double se, const char* format = "%.4g") {
  if (std::isnan(v)) return "n/a";
  return fmt(v, format) + " ± " + fmt(se, "%.2g");
}

using json::number;

const ImVec4 kWarn(1, 0.72f, 0.3f, 1), kError(1, 0.5f, 0.4f, 1);

const char* arch_label(Architecture a) { return a == Architecture::deep ? "deep" : "recurrent"; }
ImU32 arch_color(Architecture a) { return qualitative_color(a == Architecture::deep ? 0 : 1); }

constexpr ImU32 kTheoryColor = IM_COL32(235, 235, 235, 230);  // theory curves drawn over the data

Series series(std::string label, ImU32 color = 0) {
  Series s;
  s.label = std::move(label);
  s.color = color;
  return s;
}

// The followed pair's entries at the last layer/time: (kernel, i, j) in the pair numbering.
struct EntryId {
  const char* key;    // snapshot / histogram name (EnsembleResult::histogram_names)
  const char* label;  // as in core/ensemble.h
  bool gram;
  int i, j;
  int histogram;  // index into EnsembleResult::histograms
};
const EntryId kEntries[] = {{"aux_aa", "aux field C-hat_aa", false, 0, 0, 0},
                            {"aux_ab", "aux field C-hat_ab", false, 1, 0, 1},
                            {"gram_aa", "pre-activation Gram G-hat_aa", true, 0, 0, 2},
                            {"gram_ab", "pre-activation Gram G-hat_ab", true, 1, 0, 3}};

const EnsembleStat* entry_stat(const EnsembleResult& r, const EntryId& e) {
  const std::vector<KernelEnsemble>& k = e.gram ? r.gram : r.aux;
  if (k.empty() || r.inputs <= std::max(e.i, e.j)) return nullptr;
  const KernelEnsemble& last = k.back();
  if (last.entries.size() != std::size_t(last.inputs * (last.inputs + 1) / 2)) return nullptr;
  return &last.at(e.i, e.j);
}

// Whether a result carries statistics at all (not refused before running).
bool has_statistics(const EnsembleResult* r) {
  return r && r->status.code != StatusCode::invalid_input && r->status.code != StatusCode::too_large && r->members_done >= 2;
}

// One ensemble's numbers for one entry, beside its theory: what the width, sweep and hist views show.
struct EntryNumbers {
  EnsembleStat stat;        // NaN fields when not available
  FiniteWidthEntry theory;  // NaN where the theory does not give it
  double width = 0;
  int members_done = 0;
  bool available = false;
  // N Var / C-bar^2 and its SE; N (mean - C-bar) and its SE; N x MSE and its SE.
  double n_rel_variance() const { return width * stat.variance / (stat.mean_field * stat.mean_field); }
  double n_rel_variance_se() const { return width * stat.variance_se / (stat.mean_field * stat.mean_field); }
  double n_shift() const { return width * (stat.mean - stat.mean_field); }
  double n_shift_se() const { return width * stat.mean_se; }
  double n_mse() const { return width * stat.mse; }
  double n_mse_se() const { return width * stat.mse_se; }
  // Theory: D / C-bar^2, m, and the NLO prediction of N x MSE = D + m^2 / N (m unknown: D alone).
  double theory_rel_variance() const { return theory.n_variance / (theory.mean_field * theory.mean_field); }
  double theory_n_mse() const {
    return std::isnan(theory.n_shift) ? theory.n_variance : theory.n_variance + theory.n_shift * theory.n_shift / width;
  }
};

EntryNumbers entry_numbers(const EnsembleJobs& jobs, const EnsemblePoint& p, const EntryId& e) {
  EntryNumbers n;
  n.width = p.spec.width;
  const EnsembleResult* r = jobs.ensemble(p);
  if (has_statistics(r)) {
    if (const EnsembleStat* s = entry_stat(*r, e)) {
      n.stat = *s;
      n.available = true;
    }
    n.members_done = r->members_done;
  }
  if (const FiniteWidthResult* t = jobs.theory(p)) n.theory = finite_width_entry(*t, e.gram, p.spec.network.depth, e.i, e.j);
  return n;
}

Json entry_json(const EntryNumbers& n) {
  Json j = json::ensemble_stat(n.stat, n.width);
  j["theory_mean_field"] = number(n.theory.mean_field);
  j["theory_n_variance"] = number(n.theory.n_variance);
  j["theory_n_shift"] = number(n.theory.n_shift);
  return j;
}

// Sliders writing into the scene; true when changed.
bool slider_int_log(const char* label, int& value, int lo, int hi, const char* tooltip, float width_em = 7) {
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * width_em);
  const bool changed = ImGui::SliderInt(label, &value, lo, hi, "%d", ImGuiSliderFlags_AlwaysClamp | ImGuiSliderFlags_Logarithmic);
  help_marker(tooltip);
  return changed;
}
bool slider_double(const char* label, double& value, double lo, double hi, const char* tooltip, float width_em = 6) {
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * width_em);
  const bool changed = ImGui::SliderScalar(label, ImGuiDataType_Double, &value, &lo, &hi, "%.3g", ImGuiSliderFlags_AlwaysClamp);
  help_marker(tooltip);
  return changed;
}
template <class Enum>
bool combo(const char* label, Enum& value, const Enum* keys, const char* const* labels, int count, const char* tooltip,
           float width_em) {
  int index = 0;
  for (int i = 0; i < count; ++i)
    if (value == keys[i]) index = i;
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * width_em);
  const bool changed = ImGui::Combo(label, &index, labels, count);
  help_marker(tooltip);
  if (changed) value = keys[index];
  return changed;
}

// The view's "what is plotted" note (app/view_notes.h) under its plots: disabled text wrapped at the
// region's edge, and the height it takes there (with the spacing after it).
void note_text(const char* note) {
  ImGui::PushTextWrapPos(0);
  ImGui::TextDisabled("%s", note);
  ImGui::PopTextWrapPos();
}
float note_height(const char* note) {
  return ImGui::CalcTextSize(note, nullptr, false, ImGui::GetContentRegionAvail().x).y + ImGui::GetStyle().ItemSpacing.y;
}

void placeholder(const char* id, ImVec2 size, const std::string& text, bool error) {
  ImGui::BeginChild(id, size, true);
  if (error) ImGui::PushStyleColor(ImGuiCol_Text, kError);
  ImGui::TextWrapped("%s", text.c_str());
  if (error) ImGui::PopStyleColor();
  ImGui::EndChild();
}

// Scenes with the same plan: the network, its inputs, the followed pair and the tab's own settings
// (the other tabs' settings do not matter; compared field by field, without copying the scene).
bool same_plan(const Scene& a, const Scene& b) {
  return a.network == b.network && a.seed == b.seed && a.view.input_a == b.view.input_a && a.view.input_b == b.view.input_b &&
         a.ensemble == b.ensemble && a.inputs == b.inputs;
}

// The native command for one ensemble (its pair scene's link carries the network and the two inputs).
std::string cli_command(const EnsemblePoint& p) {
  return "fieldscope-cli ensemble --link '" + scene_to_query(p.scene) + "' -N " + std::to_string(p.spec.width) + " -M " +
         std::to_string(p.spec.members) + " --sampler " + ensemble_sampler_name(p.spec.sampler) + " --precision " +
         ensemble_precision_name(p.spec.precision);
}

std::string point_name(const EnsemblePlan& plan, const EnsemblePoint& p) {
  std::string name = std::string(arch_label(p.arch)) + ", N = " + std::to_string(p.spec.width);
  if (plan.view == EnsembleView::sweep) {
    const char* symbol = plan.sweep == EnsembleSweep::sigma_w2 ? "σ_w²" : plan.sweep == EnsembleSweep::sigma_b2 ? "σ_b²" : "L";
    name += std::string(", ") + symbol + " = " + fmt(p.x, "%.4g");
  }
  return name;
}

// ---------------------------------------------------------------------------------------------------
// 2. the panel
// ---------------------------------------------------------------------------------------------------
class Panel final : public ViewPanel {
 public:
  explicit Panel(const Platform& platform) : platform_(platform) {}

  void update(const Scene& scene, double budget_seconds) override {
    if (!planned_ || !same_plan(scene, plan_for_) || replan_) {
      plan_ = make_ensemble_plan(scene);
      plan_for_ = scene;
      planned_ = true;
      replan_ = false;
      jobs_.want(plan_);
    }
    jobs_.work(plan_, budget_seconds);
  }

  bool busy(const Scene& scene) const override {
    if (!planned_ || replan_ || !same_plan(scene, plan_for_)) return true;
    return jobs_.busy(plan_);
  }

  void draw(Scene& scene) override {
    std::fill(std::begin(cancel_button_), std::end(cancel_button_), 0.f);
    controls(scene);
    if (!planned_) {
      ImGui::TextDisabled("Starting...");
      return;
    }
    if (!plan_.status.ok()) {
      ImGui::PushStyleColor(ImGuiCol_Text, kError);
      ImGui::TextWrapped("The inputs could not be made: %s", plan_.status.message.c_str());
      ImGui::PopStyleColor();
      return;
    }
    progress_and_messages();
    switch (plan_.view) {
      case EnsembleView::width: width_view(); break;
      case EnsembleView::sweep: sweep_view(); break;
      case EnsembleView::cross_time: cross_view(); break;
      case EnsembleView::chaos: chaos_view(); break;
      case EnsembleView::histograms: hist_view(); break;
    }
  }

  Json snapshot(const Scene& scene) const override;

 private:
  void controls(Scene& scene);
  void progress_and_messages();
  std::vector<std::string> messages() const;
  void hist_view();
  void width_view();
  void sweep_view();
  void cross_view();
  void chaos_view();
  void histogram_plot(const char* id, const EntryId& e, const EnsemblePoint& p, ImVec2 size);
  void cross_plot(const char* id, bool gram, const EnsemblePoint& p, ImVec2 size);
  std::vector<int> cross_times(int depth) const;

  const Platform& platform_;
  EnsembleJobs jobs_;
  EnsemblePlan plan_;
  Scene plan_for_;
  bool planned_ = false, replan_ = false;
  float cancel_button_[4] = {0, 0, 0, 0};  // the Cancel button in pixels (e2e test), zero when not shown
};

void Panel::controls(Scene& scene) {
  EnsembleViewSpec& e = scene.ensemble;
  static const EnsembleView kViews[] = {EnsembleView::histograms, EnsembleView::width, EnsembleView::sweep,
                                        EnsembleView::cross_time, EnsembleView::chaos};
  static const char* const kViewLabels[] = {"Histograms at width N", "Convergence with N", "Sweep: deep vs recurrent",
                                            "Cross-time kernel", "Chaos: λ_max(N), ξ_c(N)"};
  combo("view", e.show, kViews, kViewLabels, 5,
        "Histograms: the last layer's kernel entries over the ensemble against the Gaussian of the 1/N theory. "
        "Convergence: N Var/C², N (mean − C) and the distance to the mean field against N, deep and recurrent. "
        "Sweep: how the convergence rate depends on σ_w², σ_b² or depth. Cross-time: X(t, t − τ) with ensemble "
        "bands. Chaos: the finite-width Lyapunov exponent and correlation length.",
        11.5f);
  const bool multi_width = e.show == EnsembleView::width || e.show == EnsembleView::chaos;
  if (!multi_width) {
    ImGui::SameLine();
    slider_int_log("N", e.width, 1, SceneLimits::max_width, "Width N of every layer of the simulated networks.", 6);
  }
  ImGui::SameLine();
  slider_int_log("M", e.members, 2, SceneLimits::max_members,
                 "Networks M per ensemble. Standard errors fall as 1/√M; the time grows as M.", 6.5f);
  ImGui::SameLine();
  static const EnsembleSampler kSamplers[] = {EnsembleSampler::fast, EnsembleSampler::explicit_weights};
  static const char* const kSamplerLabels[] = {"fast (exact)", "explicit W"};
  combo("sampler", e.sampler, kSamplers, kSamplerLabels, 2,
        "Fast: exact samplers of the kernels without N × N matrices (docs/theory.md §8.4), O(N P²) per layer deep and "
        "O(N (PT)²) recurrent. Explicit: real weight matrices, O(N²) per layer. Equal in distribution.",
        6.5f);
  ImGui::SameLine();
  static const EnsemblePrecision kPrecisions[] = {EnsemblePrecision::float64, EnsemblePrecision::float32};
  static const char* const kPrecisionLabels[] = {"float64", "float32"};
  combo("precision", e.precision, kPrecisions, kPrecisionLabels, 2, "Arithmetic of the simulated networks.", 5.5f);
  if (platform_.copy_text && planned_ && !plan_.points.empty()) {
    ImGui::SameLine();
    if (ImGui::SmallButton("CLI")) platform_.copy_text(cli_command(plan_.points.front()));
    help_marker(
        "Copies the command line that reproduces the first ensemble of this view natively, with the 1/N theory "
        "beside it (fieldscope-cli ensemble; same numbers: the random streams are the same everywhere).");
  }

  if (multi_width) {
    int lo = e.width_min, hi = e.width_max;
    const bool lo_changed = slider_int_log("N from", lo, 1, SceneLimits::max_width / 2,
                                           "Smallest width of the sweep over N (powers of two from here to the largest).");
    ImGui::SameLine();
    const bool hi_changed = slider_int_log("to##width", hi, 2, SceneLimits::max_width, "Largest width of the sweep over N.");
    if (lo_changed || hi_changed) {
      if (lo >= hi) {
        if (lo_changed)
          hi = std::min(SceneLimits::max_width, 2 * lo);
        else
          lo = std::max(1, hi / 2);
      }
      e.width_min = lo;
      e.width_max = hi;
    }
    ImGui::SameLine();
    ImGui::TextDisabled("(both architectures, same σ_w², σ_b², depth)");
  } else if (e.show == EnsembleView::sweep) {
    static const EnsembleSweep kSweeps[] = {EnsembleSweep::sigma_w2, EnsembleSweep::sigma_b2, EnsembleSweep::depth};
    static const char* const kSweepLabels[] = {"σ_w²", "σ_b²", "depth L = T"};
    EnsembleSweep parameter = e.sweep;
    if (combo("sweep", parameter, kSweeps, kSweepLabels, 3,
              "The parameter varied over 6 values; the others stay as set on the left.", 7)) {
      e.sweep = parameter;
      // Sensible ranges for the new parameter.
      if (parameter == EnsembleSweep::sigma_w2) e.sweep_min = 1.0, e.sweep_max = 3.0;
      if (parameter == EnsembleSweep::sigma_b2) e.sweep_min = 0.0, e.sweep_max = 1.0;
      if (parameter == EnsembleSweep::depth) e.sweep_min = 2, e.sweep_max = 20;
    }
    const double top = e.sweep == EnsembleSweep::sigma_w2 ? 8.0 : e.sweep == EnsembleSweep::sigma_b2 ? 2.0 : 200.0;
    const double bottom = e.sweep == EnsembleSweep::sigma_b2 ? 0.0 : e.sweep == EnsembleSweep::sigma_w2 ? 0.05 : 1.0;
    double lo = std::clamp(e.sweep_min, bottom, top), hi = std::clamp(e.sweep_max, bottom, top);
    ImGui::SameLine();
    const bool lo_changed = slider_double("from", lo, bottom, top, "First value of the sweep.");
    ImGui::SameLine();
    const bool hi_changed = slider_double("to##sweep", hi, bottom, top, "Last value of the sweep.");
    if (lo_changed || hi_changed) {
      const double step = e.sweep == EnsembleSweep::depth ? 1.0 : 0.01 * (top - bottom);
      if (e.sweep == EnsembleSweep::depth) lo = std::round(lo), hi = std::round(hi);
      if (lo >= hi) {
        if (lo_changed)
          hi = std::min(top, lo + step);
        else
          lo = std::max(bottom, hi - step);
        if (lo >= hi) lo = hi - step;
      }
      e.sweep_min = lo;
      e.sweep_max = hi;
    }
  }
}

std::vector<std::string> Panel::messages() const {
  std::vector<std::string> out;
  auto add = [&](std::string m) {
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(std::move(m));
  };
  std::vector<std::string> theory_seen;
  for (const EnsemblePoint& p : plan_.points) {
    const std::string name = point_name(plan_, p);
    if (const EnsembleResult* r = jobs_.ensemble(p)) {
      if (!r->status.ok() && r->status.code != StatusCode::cancelled) add(name + ": " + r->status.message);
      if (!r->mean_field_status.ok() && !r->mean_field_status.message.empty())
        add(name + ": mean field: " + r->mean_field_status.message);
    }
    if (!p.theory_problem.empty()) add(std::string("1/N theory (") + arch_label(p.arch) + "): " + p.theory_problem);
    if (p.theory_key.empty() || std::find(theory_seen.begin(), theory_seen.end(), p.theory_key) != theory_seen.end()) continue;
    theory_seen.push_back(p.theory_key);
    if (const FiniteWidthResult* t = jobs_.theory(p)) {
      std::string where = std::string("1/N theory (") + arch_label(p.arch);
      if (plan_.view == EnsembleView::sweep) where += ", " + fmt(p.x, "%.4g");
      where += "): ";
      if (!t->status.ok() && t->status.code != StatusCode::cancelled)
        add(where + t->status.message);
      else if (!t->mean_shift_status.ok())
        add(where + "mean shift m: " + t->mean_shift_status.message);
    }
  }
  return out;
}

void Panel::progress_and_messages() {
  if (jobs_.busy(plan_)) {
    const int total = jobs_.total(plan_), left = jobs_.unfinished(plan_);
    char overlay[96];
    std::snprintf(overlay, sizeof overlay, "%d of %d jobs done", total - left, total);
    ImGui::ProgressBar(static_cast<float>(jobs_.progress(plan_)), ImVec2(ImGui::GetFontSize() * 14, 0), overlay);
    ImGui::SameLine();
    if (ImGui::SmallButton("Cancel")) jobs_.cancel(plan_);
    const ImVec2 lo = ImGui::GetItemRectMin(), hi = ImGui::GetItemRectMax();
    cancel_button_[0] = lo.x, cancel_button_[1] = lo.y, cancel_button_[2] = hi.x, cancel_button_[3] = hi.y;
    help_marker("Stops the running ensembles; the statistics of the networks simulated so far stay on screen.");
    ImGui::SameLine();
    ImGui::TextDisabled("%d networks of width N per ensemble", plan_.points.empty() ? 0 : plan_.points.front().spec.members);
  } else if (jobs_.any_cancelled(plan_)) {
    ImGui::TextColored(kWarn, "Cancelled: the statistics are those of the networks simulated so far.");
    ImGui::SameLine();
    if (ImGui::SmallButton("Run again")) {
      jobs_.forget_cancelled(plan_);
      replan_ = true;
    }
  }
  std::vector<std::string> all = messages();
  // The single-ensemble views show a refused ensemble's message in place of their plots.
  if ((plan_.view == EnsembleView::histograms || plan_.view == EnsembleView::cross_time) && !plan_.points.empty())
    if (const EnsembleResult* r = jobs_.ensemble(plan_.points.front());
        r && (r->status.code == StatusCode::invalid_input || r->status.code == StatusCode::too_large))
      all.erase(std::remove_if(all.begin(), all.end(),
                               [&](const std::string& m) { return m.find(r->status.message) != std::string::npos; }),
                all.end());
  if (all.empty()) return;
  ImGui::PushStyleColor(ImGuiCol_Text, kWarn);
  const std::size_t shown = std::min<std::size_t>(all.size(), 2);
  for (std::size_t i = 0; i < shown; ++i) ImGui::TextWrapped("%s", all[i].c_str());
  ImGui::PopStyleColor();
  if (all.size() > shown) {
    ImGui::TextDisabled("(+%zu more messages)", all.size() - shown);
    if (ImGui::IsItemHovered()) {
      std::string text;
      for (const std::string& m : all) text += m + "\n";
      ImGui::BeginTooltip();
      ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40.0f);
      ImGui::TextUnformatted(text.c_str());
      ImGui::PopTextWrapPos();
      ImGui::EndTooltip();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// 3. ev=hist
// ---------------------------------------------------------------------------------------------------
// The Gaussian of the 1/N theory for an entry: mean C-bar + m/N, variance D/N (m unknown: C-bar).
struct NloGaussian {
  double mean = kNaN, variance = kNaN;
  bool with_shift = false;
};
NloGaussian nlo_gaussian(const EntryNumbers& n) {
  NloGaussian g;
  if (!std::isfinite(n.theory.mean_field) || !std::isfinite(n.theory.n_variance) || n.theory.n_variance <= 0) return g;
  g.with_shift = std::isfinite(n.theory.n_shift);
  g.mean = n.theory.mean_field + (g.with_shift ? n.theory.n_shift / n.width : 0.0);
  g.variance = n.theory.n_variance / n.width;
  return g;
}

void Panel::histogram_plot(const char* id, const EntryId& e, const EnsemblePoint& p, ImVec2 size) {
  const EnsembleResult* r = jobs_.ensemble(p);
  const EntryNumbers n = entry_numbers(jobs_, p, e);
  PlotSpec spec;
  spec.id = id;
  spec.title = std::string(e.label) + ", " + (p.arch == Architecture::deep ? "layer L = " : "time T = ") +
               std::to_string(p.spec.network.depth) + ", N = " + std::to_string(p.spec.width);
  spec.x.label = e.gram ? "G-hat" : "C-hat";
  spec.y.label = "density";
  spec.size = size;
  spec.export_name = std::string("fieldscope-ensemble-") + e.key;
  std::vector<Series> out;
  const std::vector<double>* values =
      r && std::size_t(e.histogram) < r->histograms.size() ? &r->histograms[std::size_t(e.histogram)] : nullptr;
  const Histogram hist = values ? histogram(*values, histogram_bins(values->size())) : Histogram{};
  const NloGaussian g = nlo_gaussian(n);
  constexpr std::size_t kMinHistogram = 20;
  if (hist.values > 0 && values->size() < kMinHistogram) {
    placeholder(id, size,
                "Only " + std::to_string(values->size()) + " networks so far: the histogram appears from " +
                    std::to_string(kMinHistogram) + ".",
                false);
    return;
  }
  if (hist.values > 0 && values->size() >= kMinHistogram) {
    const double lo = hist.min, hi = hist.max;
    Series h = histogram_series(hist, "ensemble (" + std::to_string(hist.values) + " networks)",
                                qualitative_color(p.arch == Architecture::deep ? 0 : 1));
    h.thickness = 1.2f;
    out.push_back(std::move(h));
    if (std::isfinite(g.mean)) {
      Series gauss = series(g.with_shift ? "NLO Gaussian (mean field + m/N, var D/N)" : "Gaussian (mean field, var D/N; m n/a)",
                            qualitative_color(2));
      const double sd = std::sqrt(g.variance);
      const double a = std::min(lo, g.mean - 4 * sd), b = std::max(hi, g.mean + 4 * sd);
      for (int i = 0; i <= 200; ++i) {
        const double x = a + (b - a) * i / 200.0;
        gauss.x.push_back(x);
        gauss.y.push_back(std::exp(-0.5 * (x - g.mean) * (x - g.mean) / g.variance) /
                          std::sqrt(2 * 3.14159265358979323846 * g.variance));
      }
      out.push_back(std::move(gauss));
    }
    double peak = 0;
    for (const Series& s : out)
      for (double y : s.y) peak = std::max(peak, y);
    if (std::isfinite(n.stat.mean_field)) {
      Series mf = series("mean field " + fmt(n.stat.mean_field), IM_COL32(230, 230, 230, 255));
      mf.x = {n.stat.mean_field, n.stat.mean_field};
      mf.y = {0.0, peak * 1.05};
      mf.dashed = true;
      mf.thickness = 1.5f;
      out.push_back(std::move(mf));
    }
    // Headroom above the peak for the legend (three rows) so that it does not hide the distribution.
    if (peak > 0) spec.y = Axis{"density", false, true, 0.0, 1.6 * peak};
  }
  if (out.empty()) {
    placeholder(id, size, r && !has_statistics(r) && !r->status.ok() ? r->status.message : "Simulating...", r && !r->status.ok());
    return;
  }
  line_plot(spec, out);
}

void Panel::hist_view() {
  if (plan_.points.empty()) return;
  const EnsemblePoint& p = plan_.points.front();
  const EnsembleResult* r = jobs_.ensemble(p);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  if (r && (r->status.code == StatusCode::invalid_input || r->status.code == StatusCode::too_large)) {
    placeholder("ensemble-refused", ImVec2(avail.x, ImGui::GetTextLineHeightWithSpacing() * 4), r->status.message, true);
    return;
  }
  const bool pair = plan_.pair.count == 2;
  std::vector<const EntryId*> entries;
  for (const EntryId& e : kEntries)
    if (pair || (e.i == 0 && e.j == 0)) entries.push_back(&e);

  // The table: Monte Carlo against the mean field and the 1/N theory.
  const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
  if (ImGui::BeginTable("hist-table", 8, flags)) {
    const char* heads[] = {"last layer/time", "mean field", "MC mean", "NLO mean", "N·shift", "m", "N·Var", "D"};
    const char* tips[] = {"The kernel entry of the followed pair (a, b) at the last layer (deep) or time (recurrent).",
                          "C-bar (aux field) or K (Gram) at N = ∞.",
                          "Ensemble mean ± its standard error.",
                          "The 1/N theory's mean C-bar + m/N (docs/theory.md §5.3).",
                          "Measured mean shift N (mean − C-bar) ± its standard error.",
                          "The 1/N theory's mean shift m (docs/theory.md §5.3; deep Gram: §5.5).",
                          "N × the ensemble variance ± its standard error.",
                          "The 1/N theory's D = N Cov (docs/theory.md §5.2; deep Gram: §5.5)."};
    for (const char* head : heads) ImGui::TableSetupColumn(head);
    ImGui::TableNextRow(ImGuiTableRowFlags_Headers);
    for (int c = 0; c < 8; ++c) {
      ImGui::TableSetColumnIndex(c);
      ImGui::TableHeader(heads[c]);
      help_marker(tips[c]);
    }
    for (const EntryId* e : entries) {
      const EntryNumbers n = entry_numbers(jobs_, p, *e);
      const NloGaussian g = nlo_gaussian(n);
      const std::string cells[] = {std::string(e->gram ? "Gram G-hat_" : "aux C-hat_") + (e->i == e->j ? "aa" : "ab"),
                                   fmt(n.stat.mean_field, "%.5g"),
                                   pm(n.stat.mean, n.stat.mean_se, "%.5g"),
                                   fmt(g.with_shift ? g.mean : kNaN, "%.5g"),
                                   pm(n.n_shift(), n.n_shift_se(), "%.3g"),
                                   fmt(n.theory.n_shift, "%.3g"),
                                   pm(n.width * n.stat.variance, n.width * n.stat.variance_se, "%.4g"),
                                   fmt(n.theory.n_variance, "%.4g")};
      ImGui::TableNextRow();
      for (int c = 0; c < 8; ++c) {
        ImGui::TableSetColumnIndex(c);
        ImGui::TextUnformatted(cells[c].c_str());
        if (c == 0) help_marker(e->label);
      }
    }
    ImGui::EndTable();
  }
  const FiniteWidthResult* th = jobs_.theory(p);
  if (r)
    ImGui::TextDisabled("%s, %d of %d networks, N = %d, pair a = %d, b = %d.%s", arch_label(p.arch), r->members_done, r->members,
                        p.spec.width, plan_.input_a, plan_.input_b,
                        !p.theory_key.empty() && !th ? " Computing the 1/N theory..."
                        : p.arch == Architecture::recurrent
                            ? " No 1/N theory for the recurrent Gram (docs/theory.md §5.5): its mean shift is large."
                            : "");
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 left = ImGui::GetContentRegionAvail();
  const int rows = entries.size() > 2 ? 2 : 1;
  const float w = std::floor((left.x - style.ItemSpacing.x) * 0.5f);
  const float h = std::floor((left.y - note_height(kNoteEnsembleHist) - style.ItemSpacing.y * (rows - 1)) / rows) - 1;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    if (k % 2 == 1) ImGui::SameLine();
    const std::string id = std::string("ens-hist-") + entries[k]->key;
    histogram_plot(id.c_str(), *entries[k], p, ImVec2(w, std::max(h, 120.f)));
  }
  note_text(kNoteEnsembleHist);
}

// ---------------------------------------------------------------------------------------------------
// 4. ev=width
// ---------------------------------------------------------------------------------------------------
void Panel::width_view() {
  const EntryId& e = kEntries[0];  // aux field C-hat_aa at the last layer/time (docs/theory.md §5.4, §6)
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float text_h = note_height(kNoteEnsembleWidth) + ImGui::GetTextLineHeightWithSpacing();  // the note and the D ratio
  const float top_h = std::floor((avail.y - text_h - style.ItemSpacing.y) * 0.5f);
  const float half_w = std::floor((avail.x - style.ItemSpacing.x) * 0.5f);
  const double n_lo = plan_.widths.empty() ? 1 : plan_.widths.front(), n_hi = plan_.widths.empty() ? 2 : plan_.widths.back();

  std::vector<Series> rel, shift, mse;
  double d_ratio[2] = {kNaN, kNaN};
  for (Architecture arch : {Architecture::deep, Architecture::recurrent}) {
    const ImU32 color = arch_color(arch);
    Series r = series(std::string(arch_label(arch)) + ", ensemble ± SE", color), s = r, m = r;
    r.markers = s.markers = m.markers = true;
    FiniteWidthEntry theory;
    for (const EnsemblePoint& p : plan_.points) {
      if (p.arch != arch) continue;
      const EntryNumbers n = entry_numbers(jobs_, p, e);
      if (std::isfinite(n.theory.n_variance)) theory = n.theory;
      if (!n.available) continue;
      r.x.push_back(p.x), s.x.push_back(p.x), m.x.push_back(p.x);
      r.y.push_back(n.n_rel_variance());
      r.lower.push_back(n.n_rel_variance() - n.n_rel_variance_se());
      r.upper.push_back(n.n_rel_variance() + n.n_rel_variance_se());
      s.y.push_back(n.n_shift());
      s.lower.push_back(n.n_shift() - n.n_shift_se());
      s.upper.push_back(n.n_shift() + n.n_shift_se());
      m.y.push_back(n.stat.mse);
      m.lower.push_back(std::max(n.stat.mse - n.stat.mse_se, 1e-3 * n.stat.mse));
      m.upper.push_back(n.stat.mse + n.stat.mse_se);
    }
    rel.push_back(std::move(r));
    shift.push_back(std::move(s));
    mse.push_back(std::move(m));
    if (std::isfinite(theory.n_variance)) {
      const double c2 = theory.mean_field * theory.mean_field;
      d_ratio[arch == Architecture::deep ? 0 : 1] = theory.n_variance;
      Series tr = series(std::string(arch_label(arch)) + ", 1/N theory D/C-bar² = " + fmt(theory.n_variance / c2), color);
      tr.dashed = true;
      tr.x = {n_lo, n_hi};
      tr.y = {theory.n_variance / c2, theory.n_variance / c2};
      rel.push_back(std::move(tr));
      Series ts = series(std::string(arch_label(arch)) + ", 1/N theory m = " + fmt(theory.n_shift), color);
      ts.dashed = true;
      ts.x = {n_lo, n_hi};
      ts.y = {theory.n_shift, theory.n_shift};
      shift.push_back(std::move(ts));
      Series tm = series(std::string(arch_label(arch)) + ", theory D/N + m²/N²", color);
      tm.dashed = true;
      for (int i = 0; i <= 60; ++i) {
        const double n = n_lo * std::pow(n_hi / n_lo, i / 60.0);
        tm.x.push_back(n);
        tm.y.push_back(theory.n_variance / n + (std::isfinite(theory.n_shift) ? theory.n_shift * theory.n_shift / (n * n) : 0.0));
      }
      mse.push_back(std::move(tm));
    }
  }
  PlotSpec a;
  a.id = "ens-width-variance";
  a.title = "N Var(C-hat_aa) / C-bar², last layer/time";
  a.x = {"width N", true};
  a.y.label = "N Var / C-bar²";
  a.size = ImVec2(half_w, top_h);
  line_plot(a, rel);
  ImGui::SameLine();
  PlotSpec b;
  b.id = "ens-width-shift";
  b.title = "Mean shift N (E C-hat_aa − C-bar)";
  b.x = {"width N", true};
  b.y.label = "N (mean − C-bar)";
  b.y_lines = {0.0};
  b.size = ImVec2(avail.x - half_w - style.ItemSpacing.x, top_h);
  line_plot(b, shift);
  PlotSpec c;
  c.id = "ens-width-distance";
  c.title = "Mean squared distance to the mean field E(C-hat_aa − C-bar)², deep vs recurrent";
  c.x = {"width N", true};
  c.y = {"E(C-hat − C-bar)²", true};
  c.size = ImVec2(avail.x, ImGui::GetContentRegionAvail().y - text_h);
  line_plot(c, mse);
  note_text(kNoteEnsembleWidth);
  if (std::isfinite(d_ratio[0]) && std::isfinite(d_ratio[1]) && d_ratio[0] > 0) {
    const double q = d_ratio[1] / d_ratio[0];
    ImGui::TextDisabled("D_rec / D_deep = %s for the pair's C-hat_aa: the recurrent network converges %s.",
                        fmt(q, "%.3g").c_str(),
                        q > 1.005   ? "more slowly"
                        : q < 0.995 ? "faster"
                                    : "as fast");
  }
}

// ---------------------------------------------------------------------------------------------------
// 5. ev=sweep
// ---------------------------------------------------------------------------------------------------
void Panel::sweep_view() {
  const EntryId& e = kEntries[0];
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float text_h = note_height(kNoteEnsembleSweep);
  const float top_h = std::floor((avail.y - text_h - style.ItemSpacing.y) * 0.55f);
  const std::string symbol = plan_.sweep == EnsembleSweep::sigma_w2   ? "σ_w²"
                             : plan_.sweep == EnsembleSweep::sigma_b2 ? "σ_b²"
                                                                      : "depth L = T";
  const int width = plan_.points.empty() ? 0 : plan_.points.front().spec.width;

  std::vector<Series> values, ratio;
  std::vector<EntryNumbers> deep, recurrent;
  for (const EnsemblePoint& p : plan_.points)
    (p.arch == Architecture::deep ? deep : recurrent).push_back(entry_numbers(jobs_, p, e));
  for (Architecture arch : {Architecture::deep, Architecture::recurrent}) {
    const std::vector<EntryNumbers>& rows = arch == Architecture::deep ? deep : recurrent;
    Series mc = series(std::string(arch_label(arch)) + ", ensemble N·MSE ± SE", arch_color(arch));
    Series th = series(std::string(arch_label(arch)) + ", 1/N theory D + m²/N", arch_color(arch));
    mc.markers = th.markers = true;
    th.dashed = true;
    for (std::size_t i = 0; i < rows.size() && i < plan_.sweep_values.size(); ++i) {
      const double x = plan_.sweep_values[i];
      if (rows[i].available) {
        mc.x.push_back(x);
        mc.y.push_back(rows[i].n_mse());
        mc.lower.push_back(rows[i].n_mse() - rows[i].n_mse_se());
        mc.upper.push_back(rows[i].n_mse() + rows[i].n_mse_se());
      }
      th.x.push_back(x);
      th.y.push_back(rows[i].theory_n_mse());
    }
    values.push_back(std::move(mc));
    values.push_back(std::move(th));
  }
  Series mc_ratio = series("ensemble ± SE", qualitative_color(2)), th_ratio = series("1/N theory", qualitative_color(2));
  mc_ratio.markers = th_ratio.markers = true;
  th_ratio.dashed = true;
  for (std::size_t i = 0; i < deep.size() && i < recurrent.size() && i < plan_.sweep_values.size(); ++i) {
    const double x = plan_.sweep_values[i];
    const EntryNumbers &d = deep[i], &r = recurrent[i];
    if (d.available && r.available && d.n_mse() > 0) {
      const double q = r.n_mse() / d.n_mse();
      const double se = std::abs(q) * std::hypot(r.n_mse_se() / r.n_mse(), d.n_mse_se() / d.n_mse());
      mc_ratio.x.push_back(x);
      mc_ratio.y.push_back(q);
      mc_ratio.lower.push_back(q - se);
      mc_ratio.upper.push_back(q + se);
    }
    th_ratio.x.push_back(x);
    th_ratio.y.push_back(r.theory_n_mse() / d.theory_n_mse());
  }
  ratio = {mc_ratio, th_ratio};
  PlotSpec a;
  a.id = "ens-sweep-distance";
  a.title = "N × mean squared distance N E(C-hat_aa − C-bar)² at N = " + std::to_string(width) + ", last layer/time";
  a.x.label = symbol;
  a.y.label = "N · MSE";
  a.size = ImVec2(avail.x, top_h);
  line_plot(a, values);
  PlotSpec b;
  b.id = "ens-sweep-ratio";
  b.title = "Recurrent / deep: how much more slowly the recurrent network converges";
  b.x.label = symbol;
  b.y.label = "MSE_rec / MSE_deep";
  b.y_lines = {1.0};
  b.size = ImVec2(avail.x, ImGui::GetContentRegionAvail().y - text_h);
  line_plot(b, ratio);
  note_text(kNoteEnsembleSweep);
}

// ---------------------------------------------------------------------------------------------------
// 6. ev=cross
// ---------------------------------------------------------------------------------------------------
std::vector<int> Panel::cross_times(int depth) const {
  std::vector<int> times;
  for (int k = 3; k >= 1; --k) {
    const int t = (depth * k + 2) / 3;
    if (t >= 1 && std::find(times.begin(), times.end(), t) == times.end()) times.push_back(t);
  }
  return times;
}

void Panel::cross_plot(const char* id, bool gram, const EnsemblePoint& p, ImVec2 size) {
  const EnsembleResult* r = jobs_.ensemble(p);
  const int l1 = p.spec.network.depth + 1;
  const std::string name = gram ? "G-hat" : "C-hat";
  PlotSpec spec;
  spec.id = id;
  spec.title = std::string(gram ? "pre-activation Gram G-hat" : "aux field C-hat") + "_ab(t, t − τ)";
  spec.x.label = "lag τ";
  spec.y.label = name + "(t, t − τ)";
  spec.size = size;
  if (!has_statistics(r) || r->aux_two_time.size() != std::size_t(l1) * l1) {
    placeholder(id, size, r && !has_statistics(r) && !r->status.ok() ? r->status.message : "Simulating...", r && !r->status.ok());
    return;
  }
  const std::vector<EnsembleStat>& two = gram ? r->gram_two_time : r->aux_two_time;
  std::vector<Series> out;
  int index = 0;
  for (int t : cross_times(p.spec.network.depth)) {
    const ImU32 color = qualitative_color(index++);
    Series sd = series("t = " + std::to_string(t) + ": mean ± 1 SD", color), se = series("", color),
           mf = series("t = " + std::to_string(t) + ": mean field", color);
    mf.dashed = true;
    mf.thickness = 1.5f;
    sd.markers = t <= 40;
    for (int lag = 0; lag <= t; ++lag) {
      const EnsembleStat& s = two[std::size_t(t) * l1 + (t - lag)];
      const double sdv = std::sqrt(std::max(s.variance, 0.0));
      sd.x.push_back(lag), se.x.push_back(lag), mf.x.push_back(lag);
      sd.y.push_back(s.mean), se.y.push_back(s.mean), mf.y.push_back(s.mean_field);
      sd.lower.push_back(s.mean - sdv), sd.upper.push_back(s.mean + sdv);
      se.lower.push_back(s.mean - 2 * s.mean_se), se.upper.push_back(s.mean + 2 * s.mean_se);
    }
    out.push_back(std::move(sd));
    out.push_back(std::move(se));
    out.push_back(std::move(mf));
  }
  line_plot(spec, out);
}

void Panel::cross_view() {
  if (plan_.points.empty()) return;
  const EnsemblePoint& p = plan_.points.front();
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float text_h = ImGui::GetTextLineHeightWithSpacing();
  if (p.spec.network.depth < 1) {
    ImGui::TextWrapped("Cross-time curves need at least one layer or time step.");
    return;
  }
  const float half_w = std::floor((avail.x - style.ItemSpacing.x) * 0.5f);
  const float h = avail.y - note_height(kNoteEnsembleCross) - text_h - style.ItemSpacing.y;
  cross_plot("ens-cross-aux", false, p, ImVec2(half_w, h));
  ImGui::SameLine();
  cross_plot("ens-cross-gram", true, p, ImVec2(avail.x - half_w - style.ItemSpacing.x, h));
  note_text(kNoteEnsembleCross);
  ImGui::TextDisabled("%s, N = %d, M = %d: inputs a = %d (time t) and b = %d (time t − τ).",
                      p.arch == Architecture::deep ? "Deep" : "Recurrent", p.spec.width, p.spec.members, plan_.input_a,
                      plan_.input_b);
}

// ---------------------------------------------------------------------------------------------------
// 7. ev=chaos
// ---------------------------------------------------------------------------------------------------
void Panel::chaos_view() {
  const ImGuiStyle& style = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float text_h = ImGui::GetTextLineHeightWithSpacing();
  const float half_w = std::floor((avail.x - style.ItemSpacing.x) * 0.5f);
  const float h = avail.y - note_height(kNoteEnsembleChaos) - 2 * text_h;  // and two lines about xi_c
  std::vector<Series> lyap, xi;
  double lyapunov_fixed = kNaN, xi_fixed = kNaN;
  std::string lyapunov_note;  // why an architecture has no 1/N theory of lambda (the recurrent one)
  std::string xi_problem;
  for (Architecture arch : {Architecture::deep, Architecture::recurrent}) {
    const ImU32 color = arch_color(arch);
    const std::string a = arch_label(arch);
    Series l = series(a + ", ensemble ± SE", color), lm = series(a + ", mean field (layer average)", color);
    Series lt = series(a + ", 1/N theory (§5.8)", kTheoryColor);  // lambda_MF + c / N where the theory applies
    lt.thickness = 1.5f;
    Series x = series(a + ", fit to ensembles ± SE", color), xm = series(a + ", same fit to the mean field", color);
    Series xh = series(a + ", mean-field fit + §5.6 shift", color);
    l.markers = x.markers = true;
    lm.dashed = xm.dashed = true;
    xh.thickness = 1.0f;
    xh.markers = true;
    for (const EnsemblePoint& p : plan_.points) {
      if (p.arch != arch) continue;
      const EnsembleResult* r = jobs_.ensemble(p);
      if (!has_statistics(r)) continue;
      if (r->lyapunov_status.ok()) {
        l.x.push_back(p.x);
        l.y.push_back(r->lyapunov.mean);
        l.lower.push_back(r->lyapunov.mean - r->lyapunov.mean_se);
        l.upper.push_back(r->lyapunov.mean + r->lyapunov.mean_se);
        lm.x.push_back(p.x);
        lm.y.push_back(r->lyapunov.mean_field);
        lyapunov_fixed = r->lyapunov_fixed_point;
      }
      if (const LyapunovTheory* theory = jobs_.lyapunov_theory(p); theory && r->lyapunov_status.ok()) {
        if (theory->status.ok()) {
          lt.x.push_back(p.x);
          lt.y.push_back(theory->at_width(p.spec.width));
        } else if (lyapunov_note.empty()) {
          lyapunov_note = a + ": " + theory->status.message;
        }
      }
      const CorrelationLengthFit& f = r->correlation_length;
      xm.x.push_back(p.x);
      xm.y.push_back(f.xi_mean_field_fit);
      if (std::isfinite(f.xi_mean_field)) xi_fixed = f.xi_mean_field;
      if (f.status.ok()) {
        x.x.push_back(p.x);
        x.y.push_back(f.xi);
        x.lower.push_back(f.xi - f.xi_se);
        x.upper.push_back(f.xi + f.xi_se);
      } else if (xi_problem.empty()) {
        xi_problem = a + ": " + f.status.message;
      }
      if (const FiniteWidthResult* t = jobs_.theory(p); t && t->status.ok()) {
        const CorrelationLength c = finite_width_correlation_length(*t, p.spec.width);
        // The heuristic fits its own window (differences over the second half of the layers), so
        // its shift xi_N - xi_mft is what carries over: added to the mean-field fit of this view.
        if (c.status.ok() && std::isfinite(f.xi_mean_field_fit)) {
          xh.x.push_back(p.x);
          xh.y.push_back(f.xi_mean_field_fit + (c.xi_finite - c.xi_mft));
        }
      }
    }
    // Deep linear networks have an exact lambda(N) at every width (docs/theory.md §5.7), drawn as a curve.
    const EnsemblePoint* deep = nullptr;
    for (const EnsemblePoint& p : plan_.points)
      if (p.arch == arch && linear_exact_applies(p.spec.network)) deep = &p;
    if (deep && !l.x.empty()) {
      Series ex = series("deep, exact at width N (§5.7)", IM_COL32(255, 205, 110, 230));
      ex.thickness = 1.5f;
      const double lo = *std::min_element(l.x.begin(), l.x.end()), hi = *std::max_element(l.x.begin(), l.x.end());
      for (int k = 0; k <= 64; ++k) {
        const double n = std::round(lo * std::pow(hi / lo, k / 64.0));
        if (!ex.x.empty() && n == ex.x.back()) continue;
        ex.x.push_back(n);
        ex.y.push_back(linear_lyapunov(deep->spec.network.sigma_w2, static_cast<int>(n)).mean);
      }
      lyap.push_back(std::move(ex));
    }
    lyap.push_back(std::move(l));
    lyap.push_back(std::move(lm));
    if (!lt.x.empty()) lyap.push_back(std::move(lt));
    xi.push_back(std::move(x));
    xi.push_back(std::move(xm));
    if (!xh.x.empty()) xi.push_back(std::move(xh));
  }
  PlotSpec a;
  a.id = "ens-chaos-lyapunov";
  a.title = "Largest Lyapunov exponent λ_max(N) per layer/step";
  a.x = {"width N", true};
  a.y.label = "λ_max";
  a.size = ImVec2(half_w, h);
  if (std::isfinite(lyapunov_fixed)) a.y_lines = {lyapunov_fixed};
  line_plot(a, lyap);
  ImGui::SameLine();
  PlotSpec b;
  b.id = "ens-chaos-xi";
  b.title = "Correlation length ξ_c(N) of the pair";
  b.x = {"width N", true};
  b.y.label = "ξ_c";
  b.size = ImVec2(avail.x - half_w - style.ItemSpacing.x, h);
  // The fixed point's xi_c can be far beyond what a fit over L layers sees (near criticality it
  // diverges): drawn only when it is within the plotted values' scale, else given in words.
  double xi_max = 0;
  for (const Series& s : xi)
    for (double y : s.y)
      if (std::isfinite(y)) xi_max = std::max(xi_max, y);
  const bool xi_line = std::isfinite(xi_fixed) && xi_fixed < 3 * xi_max;
  if (xi_line) b.y_lines = {xi_fixed};
  line_plot(b, xi);
  note_text(kNoteEnsembleChaos);
  if (!lyapunov_note.empty()) {
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("λ_max(N), %s", lyapunov_note.c_str());
    ImGui::PopTextWrapPos();
  }
  if (!xi_line && std::isfinite(xi_fixed))
    ImGui::TextDisabled("The fixed point's ξ_c = −1/ln χ_c = %s is beyond the plotted values: no line.", fmt(xi_fixed).c_str());
  if (!xi_problem.empty()) ImGui::TextColored(kWarn, "ξ_c: %s", xi_problem.c_str());
}

// ---------------------------------------------------------------------------------------------------
// 8. snapshot
// ---------------------------------------------------------------------------------------------------
Json Panel::snapshot(const Scene& scene) const {
  Json j;
  j["view"] = ensemble_view_name(scene.ensemble.show);
  j["current"] = planned_ && same_plan(scene, plan_for_);
  if (!planned_) return j;
  j["status"] = {{"code", status_code_name(plan_.status.code)}, {"message", plan_.status.message}};
  j["busy"] = jobs_.busy(plan_);
  j["progress"] = jobs_.progress(plan_);
  j["cancelled"] = jobs_.any_cancelled(plan_);
  j["messages"] = messages();
  j["cancel_button"] = {cancel_button_[0], cancel_button_[1], cancel_button_[2], cancel_button_[3]};
  j["input_a"] = plan_.input_a;
  j["input_b"] = plan_.input_b;
  j["pair_count"] = plan_.pair.count;
  Json points = Json::array();
  for (const EnsemblePoint& p : plan_.points) {
    Json q;
    q["arch"] = arch_label(p.arch);
    q["x"] = p.x;
    q["width"] = p.spec.width;
    q["members"] = p.spec.members;
    q["depth"] = p.spec.network.depth;
    q["sampler"] = ensemble_sampler_name(p.spec.sampler);
    q["precision"] = ensemble_precision_name(p.spec.precision);
    q["link"] = scene_to_query(p.scene);
    const EnsembleResult* r = jobs_.ensemble(p);
    q["status"] = r ? status_code_name(r->status.code) : "not started";
    if (r && !r->status.ok()) q["message"] = r->status.message;
    q["members_done"] = r ? r->members_done : 0;
    const FiniteWidthResult* th = jobs_.theory(p);
    q["theory_status"] = p.theory_key.empty() ? "not_defined" : th ? status_code_name(th->status.code) : "computing";
    if (has_statistics(r)) {
      const EnsembleView v = plan_.view;
      if (v == EnsembleView::histograms || v == EnsembleView::width || v == EnsembleView::sweep) {
        Json entries;
        for (const EntryId& e : kEntries) {
          if (plan_.pair.count < 2 && e.i != e.j) continue;
          const EntryNumbers n = entry_numbers(jobs_, p, e);
          Json ej = entry_json(n);
          if (v != EnsembleView::histograms) {
            ej["n_rel_variance"] = number(n.n_rel_variance());
            ej["n_mse"] = number(n.n_mse());
            ej["n_mse_se"] = number(n.n_mse_se());
            ej["theory_n_mse"] = number(n.theory_n_mse());
          } else {
            const NloGaussian g = nlo_gaussian(n);
            ej["nlo_mean"] = number(g.with_shift ? g.mean : kNaN);
            ej["nlo_variance"] = number(g.variance);
            Json first = Json::array();
            if (std::size_t(e.histogram) < r->histograms.size()) {
              const std::vector<double>& h = r->histograms[std::size_t(e.histogram)];
              for (std::size_t i = 0; i < std::min<std::size_t>(h.size(), 5); ++i) first.push_back(number(h[i]));
              ej["histogram_count"] = h.size();
            }
            ej["first_values"] = std::move(first);
          }
          entries[e.key] = std::move(ej);
          if (v != EnsembleView::histograms) break;  // the width and sweep views plot C-hat_aa
        }
        q["entries"] = std::move(entries);
      } else if (v == EnsembleView::cross_time) {
        const int l1 = p.spec.network.depth + 1;
        Json curves = Json::array();
        if (r->aux_two_time.size() == std::size_t(l1) * l1)
          for (int t : cross_times(p.spec.network.depth))
            for (int lag = 0; lag <= t; ++lag) {
              const std::size_t k = std::size_t(t) * l1 + (t - lag);
              curves.push_back({{"t", t},
                                {"s", t - lag},
                                {"aux", json::ensemble_stat(r->aux_two_time[k], p.spec.width)},
                                {"gram", json::ensemble_stat(r->gram_two_time[k], p.spec.width)}});
            }
        q["two_time"] = std::move(curves);
      } else if (v == EnsembleView::chaos) {
        q["lyapunov"] = json::lyapunov_stat(*r, p.spec.network, jobs_.lyapunov_theory(p));
        q["lyapunov"]["status"] = status_code_name(r->lyapunov_status.code);
        q["lyapunov"]["fixed_point"] = number(r->lyapunov_fixed_point);
        const CorrelationLengthFit& f = r->correlation_length;
        q["correlation_length"] = {{"status", status_code_name(f.status.code)},
                                   {"xi", number(f.xi)},
                                   {"xi_se", number(f.xi_se)},
                                   {"xi_mean_field_fit", number(f.xi_mean_field_fit)},
                                   {"xi_mean_field", number(f.xi_mean_field)},
                                   {"points", f.points}};
        if (th && th->status.ok()) {
          const CorrelationLength c = finite_width_correlation_length(*th, p.spec.width);
          q["heuristic"] = {
              {"status", status_code_name(c.status.code)}, {"xi_finite", number(c.xi_finite)}, {"xi_mft", number(c.xi_mft)}};
        }
      }
    }
    points.push_back(std::move(q));
  }
  j["points"] = std::move(points);
  return j;
}

}  // namespace

std::unique_ptr<ViewPanel> make_ensemble_panel(const Platform& platform) { return std::make_unique<Panel>(platform); }

}  // namespace fs::ui
