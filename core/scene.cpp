// The scene's two text forms (JSON and URL query), its checks, and the repair of bad input.
// docs/scene.md is the user-facing description; keep the two in step.
//
// Sections
//   1. Names of the enums
//   2. Text helpers: plain-text echo (numbers and percent coding: core/text.h)
//   3. The field table: query key, JSON path and type of every field
//   4. One field at a time: value text, accepted range, check, default, copy
//   5. Cross-field checks and validate_scene
//   6. Loading: raw values -> scene with per-field fallback and warnings (both forms)
//   7. JSON form
//   8. Query form
#include "core/scene.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cfloat>
#include <climits>
#include <cmath>
#include <functional>
#include <set>
#include <utility>

#include "core/text.h"

namespace fs {

static_assert(SceneLimits::max_inputs == InputLimits::max_inputs && SceneLimits::max_dim == InputLimits::max_dim &&
                  SceneLimits::max_steps == InputLimits::max_steps,
              "scene and input limits must agree");
static_assert(SceneLimits::max_steps == SceneLimits::max_depth + 1, "a sequence has depth + 1 steps");

// --- 1. Names of the enums (the network's own: core/network.cpp) ------------------------------------------------------------------------
namespace {

const std::vector<std::string>& input_kind_names() {
  static const std::vector<std::string> names{"circle", "gaussian", "points", "csv"};
  return names;
}
const std::vector<std::string>& panel_names() {
  static const std::vector<std::string> names{"phase", "signal", "kernels", "recurrent", "ensemble", "gp", "renorm"};
  return names;
}
const std::vector<std::string>& quantity_names() {
  static const std::vector<std::string> names{"chi1", "xi_c", "lambda", "q_star", "c_star"};
  return names;
}
const std::vector<std::string>& kernel_view_names() {
  static const std::vector<std::string> names{"single", "compare"};
  return names;
}
const std::vector<std::string>& cross_time_names() {
  static const std::vector<std::string> names{"cov", "corr"};
  return names;
}
const std::vector<std::string>& sampler_names() {
  static const std::vector<std::string> names{"fast", "explicit"};
  return names;
}
const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> names{"float64", "float32"};
  return names;
}
const std::vector<std::string>& ensemble_sweep_names() {
  static const std::vector<std::string> names{"w2", "b2", "L"};
  return names;
}
const std::vector<std::string>& ensemble_show_names() {
  static const std::vector<std::string> names{"hist", "width", "sweep", "cross", "chaos"};
  return names;
}
const std::vector<std::string>& gp_dataset_names() {
  static const std::vector<std::string> names{"points", "moons", "spirals", "xor", "circles", "fashion-mnist", "csv"};
  return names;
}
const std::vector<std::string>& gp_show_names() {
  static const std::vector<std::string> names{"fit", "grid", "sweep"};
  return names;
}
const std::vector<std::string>& gp_grid_quantity_names() {
  static const std::vector<std::string> names{"accuracy", "evidence"};
  return names;
}
const std::vector<std::string>& gp_sweep_names() {
  static const std::vector<std::string> names{"w2", "b2", "L", "sn2"};
  return names;
}
const std::vector<std::string>& renorm_readout_names() {
  static const std::vector<std::string> names{"gated", "ungated"};
  return names;
}
const std::vector<std::string>& renorm_sharing_names() {
  static const std::vector<std::string> names{"shared", "unshared"};
  return names;
}
// The gate kinds a scene can name, in GateKind order: the scene has no "file" (vectors it cannot carry).
const std::vector<std::string>& renorm_gate_kind_names() {
  static const std::vector<std::string> names{gate_kind_name(GateKind::hyperplane), gate_kind_name(GateKind::pca),
                                              gate_kind_name(GateKind::kmeans)};
  return names;
}
const std::vector<std::string>& renorm_task_names() {
  static const std::vector<std::string> names{"teacher", "template", "fashion-mnist", "csv"};
  return names;
}
const std::vector<std::string>& renorm_sweep_names() {
  static const std::vector<std::string> names{
      renorm_sweep_parameter_name(RenormSweepParameter::width),       renorm_sweep_parameter_name(RenormSweepParameter::sigma2),
      renorm_sweep_parameter_name(RenormSweepParameter::temperature), renorm_sweep_parameter_name(RenormSweepParameter::depth),
      renorm_sweep_parameter_name(RenormSweepParameter::gates),       renorm_sweep_parameter_name(RenormSweepParameter::tasks)};
  return names;
}
const std::vector<std::string>& renorm_simulation_names() {
  static const std::vector<std::string> names{"off", "gibbs", "langevin"};
  return names;
}
const std::vector<std::string>& renorm_show_names() {
  static const std::vector<std::string> names{"error", "order", "predictions"};
  return names;
}
const std::vector<std::string>& renorm_task_gates_names() {
  static const std::vector<std::string> names{"own", "shared"};
  return names;
}
const std::vector<std::string>& renorm_compare_names() {
  static const std::vector<std::string> names{"none", "gates"};
  return names;
}

}  // namespace

const char* input_kind_name(InputKind k) { return enum_name(k, input_kind_names()); }
const char* panel_name(Panel p) { return enum_name(p, panel_names()); }
const char* phase_quantity_name(PhaseQuantity q) { return enum_name(q, quantity_names()); }
const char* ensemble_view_name(EnsembleView v) { return enum_name(v, ensemble_show_names()); }
const char* gp_data_name(GpData d) { return enum_name(d, gp_dataset_names()); }
const char* gp_view_name(GpView v) { return enum_name(v, gp_show_names()); }
const char* gp_grid_quantity_name(GpGridQuantity q) { return enum_name(q, gp_grid_quantity_names()); }

double default_activation_param(ActivationKind kind) { return kind == ActivationKind::leaky_relu ? 0.1 : 1.0; }

// --- 2. Text helpers (numbers and percent coding: core/text.h) --------------------------------------
namespace {

std::string echo(std::string_view text) { return echo_user_text(text); }

std::string in_quotes(std::string_view text) {
  std::string out = "\"";  // appended, not "\"" + ...: GCC 12 -O3 warns falsely (-Wrestrict) on that
  out += echo(text);
  out += '"';
  return out;
}

// --- 3. The field table ---------------------------------------------------------------------------

// Grouped by section of the scene: kept out of the formatter.
// clang-format off
enum class Field {
  version, arch, act, act_param, sigma_w2, sigma_b2, sigma_in2, depth, bias_mode, input_mode,
  input_kind, count, dim, radius, angle_span, steps, points, csv_path,
  w2_min, w2_max, b2_min, b2_max, columns, rows, seed, panel, quantity, layer, input_a, input_b,
  kernel_view, cross_time,
  ens_width, ens_members, ens_sampler, ens_precision, ens_width_min, ens_width_max, ens_sweep, ens_sweep_min,
  ens_sweep_max, ens_show,
  gp_dataset, gp_train, gp_test, gp_noise, gp_classes, gp_downsample, gp_sigma_n2, gp_readout, gp_show,
  gp_grid_quantity, gp_grid_depth, gp_sweep, gp_points,
  renorm_layers, renorm_width, renorm_gates, renorm_readout, renorm_sharing, renorm_sigma2, renorm_temperature,
  renorm_gate_kind, renorm_threshold, renorm_task, renorm_dim, renorm_train, renorm_test, renorm_noise, renorm_sweep,
  renorm_sweep_min, renorm_sweep_max, renorm_sweep_points, renorm_simulation, renorm_chains, renorm_samples, renorm_show,
  renorm_classes, renorm_downsample, renorm_points, renorm_compare, renorm_tasks, renorm_task_gates,
};
// clang-format on
constexpr int kFieldCount = static_cast<int>(Field::renorm_task_gates) + 1;

enum class Type { version, number, optional_number, integer, seed, choice, text, points, id_list };
enum class Form { json, query };

struct FieldInfo {
  Field field;
  const char* query_key;
  const char* json_path;
  Type type;
};

// Order matters: it is the query's canonical order, and a field is read after those it depends on
// (act before its parameter; depth and input mode before the steps).
constexpr FieldInfo kFields[kFieldCount] = {
    {Field::version, "v", "fieldscope", Type::version},
    {Field::arch, "arch", "arch", Type::choice},
    {Field::act, "act", "activation.name", Type::choice},
    {Field::act_param, "ap", "activation.param", Type::number},
    {Field::sigma_w2, "w2", "sigma_w2", Type::number},
    {Field::sigma_b2, "b2", "sigma_b2", Type::number},
    {Field::sigma_in2, "in2", "sigma_in2", Type::optional_number},
    {Field::depth, "L", "depth", Type::integer},
    {Field::bias_mode, "bias", "bias_mode", Type::choice},
    {Field::input_mode, "in", "input_mode", Type::choice},
    {Field::input_kind, "x", "inputs.kind", Type::choice},
    {Field::count, "P", "inputs.count", Type::integer},
    {Field::dim, "d", "inputs.dim", Type::integer},
    {Field::radius, "r", "inputs.radius", Type::number},
    {Field::angle_span, "span", "inputs.angle_span", Type::number},
    {Field::steps, "steps", "inputs.steps", Type::integer},
    {Field::points, "pts", "inputs.points", Type::points},
    {Field::csv_path, "csv", "inputs.csv_path", Type::text},
    {Field::w2_min, "w2min", "phase.sigma_w2_min", Type::number},
    {Field::w2_max, "w2max", "phase.sigma_w2_max", Type::number},
    {Field::b2_min, "b2min", "phase.sigma_b2_min", Type::number},
    {Field::b2_max, "b2max", "phase.sigma_b2_max", Type::number},
    {Field::columns, "nw", "phase.columns", Type::integer},
    {Field::rows, "nb", "phase.rows", Type::integer},
    {Field::seed, "seed", "seed", Type::seed},
    {Field::panel, "view", "view.panel", Type::choice},
    {Field::quantity, "q", "view.quantity", Type::choice},
    {Field::layer, "layer", "view.layer", Type::integer},
    {Field::input_a, "ia", "view.input_a", Type::integer},
    {Field::input_b, "ib", "view.input_b", Type::integer},
    {Field::kernel_view, "kv", "view.kernels", Type::choice},
    {Field::cross_time, "kc", "view.cross", Type::choice},
    {Field::ens_width, "ew", "ensemble.width", Type::integer},
    {Field::ens_members, "em", "ensemble.members", Type::integer},
    {Field::ens_sampler, "es", "ensemble.sampler", Type::choice},
    {Field::ens_precision, "ep", "ensemble.precision", Type::choice},
    {Field::ens_width_min, "ewmin", "ensemble.width_min", Type::integer},
    {Field::ens_width_max, "ewmax", "ensemble.width_max", Type::integer},
    {Field::ens_sweep, "esw", "ensemble.sweep", Type::choice},
    {Field::ens_sweep_min, "eslo", "ensemble.sweep_min", Type::number},
    {Field::ens_sweep_max, "eshi", "ensemble.sweep_max", Type::number},
    {Field::ens_show, "ev", "ensemble.show", Type::choice},
    {Field::gp_dataset, "gd", "gp.dataset", Type::choice},
    {Field::gp_train, "gn", "gp.train", Type::integer},
    {Field::gp_test, "gt", "gp.test", Type::integer},
    {Field::gp_noise, "gno", "gp.noise", Type::number},
    {Field::gp_classes, "gcl", "gp.classes", Type::id_list},
    {Field::gp_downsample, "gds", "gp.downsample", Type::integer},
    {Field::gp_sigma_n2, "gs2", "gp.sigma_n2", Type::number},
    {Field::gp_readout, "gr", "gp.readout_from", Type::integer},
    {Field::gp_show, "gv", "gp.show", Type::choice},
    {Field::gp_grid_quantity, "gq", "gp.grid_quantity", Type::choice},
    {Field::gp_grid_depth, "gL", "gp.grid_depth", Type::integer},
    {Field::gp_sweep, "gsw", "gp.sweep", Type::choice},
    {Field::gp_points, "gpts", "gp.points", Type::points},
    {Field::renorm_layers, "rL", "renorm.layers", Type::integer},
    {Field::renorm_width, "rN", "renorm.width", Type::integer},
    {Field::renorm_gates, "rM", "renorm.gates", Type::integer},
    {Field::renorm_readout, "rro", "renorm.readout", Type::choice},
    {Field::renorm_sharing, "rsh", "renorm.sharing", Type::choice},
    {Field::renorm_sigma2, "rs2", "renorm.sigma2", Type::number},
    {Field::renorm_temperature, "rT", "renorm.temperature", Type::number},
    {Field::renorm_gate_kind, "rgk", "renorm.gate_kind", Type::choice},
    {Field::renorm_threshold, "rb", "renorm.threshold", Type::number},
    {Field::renorm_task, "rtask", "renorm.task", Type::choice},
    {Field::renorm_dim, "rd", "renorm.dim", Type::integer},
    {Field::renorm_train, "rP", "renorm.train", Type::integer},
    {Field::renorm_test, "rQ", "renorm.test", Type::integer},
    {Field::renorm_noise, "rno", "renorm.noise", Type::number},
    {Field::renorm_sweep, "rsw", "renorm.sweep", Type::choice},
    {Field::renorm_sweep_min, "rlo", "renorm.sweep_min", Type::number},
    {Field::renorm_sweep_max, "rhi", "renorm.sweep_max", Type::number},
    {Field::renorm_sweep_points, "rn", "renorm.sweep_points", Type::integer},
    {Field::renorm_simulation, "rsim", "renorm.simulation", Type::choice},
    {Field::renorm_chains, "rch", "renorm.chains", Type::integer},
    {Field::renorm_samples, "rsa", "renorm.samples", Type::integer},
    {Field::renorm_show, "rv", "renorm.show", Type::choice},
    {Field::renorm_classes, "rcl", "renorm.classes", Type::id_list},
    {Field::renorm_downsample, "rds", "renorm.downsample", Type::integer},
    {Field::renorm_points, "rpts", "renorm.points", Type::points},
    {Field::renorm_compare, "rcmp", "renorm.compare", Type::choice},
    {Field::renorm_tasks, "rK", "renorm.tasks", Type::integer},
    {Field::renorm_task_gates, "rtg", "renorm.task_gates", Type::choice},
};

constexpr bool table_in_order() {
  for (int i = 0; i < kFieldCount; ++i)
    if (static_cast<int>(kFields[i].field) != i) return false;
  return true;
}
static_assert(table_in_order(), "kFields must list the fields in enum order");

const FieldInfo& info(Field f) { return kFields[static_cast<int>(f)]; }
const char* key(Field f, Form form) { return form == Form::query ? info(f).query_key : info(f).json_path; }

// --- 4. One field at a time -----------------------------------------------------------------------

constexpr std::size_t kMaxPathBytes = 4096;
// The finite-width learning panel's sizes: the theory's order parameters grow as M^L (docs/theory.md §10.3).
constexpr int kRenormMaxLayers = 8;
constexpr int kRenormMaxGates = 64;
constexpr int kRenormMaxPoints = 4000;  // training + test, over all tasks
constexpr int kRenormMaxTasks = 16;

double* number_ref(Scene& s, Field f) {
  switch (f) {
    case Field::act_param: return &s.network.activation.param;
    case Field::sigma_w2: return &s.network.sigma_w2;
    case Field::sigma_b2: return &s.network.sigma_b2;
    case Field::radius: return &s.inputs.radius;
    case Field::angle_span: return &s.inputs.angle_span;
    case Field::w2_min: return &s.phase.sigma_w2_min;
    case Field::w2_max: return &s.phase.sigma_w2_max;
    case Field::b2_min: return &s.phase.sigma_b2_min;
    case Field::b2_max: return &s.phase.sigma_b2_max;
    case Field::ens_sweep_min: return &s.ensemble.sweep_min;
    case Field::ens_sweep_max: return &s.ensemble.sweep_max;
    case Field::gp_noise: return &s.gp.noise;
    case Field::gp_sigma_n2: return &s.gp.sigma_n2;
    case Field::renorm_sigma2: return &s.renorm.sigma2;
    case Field::renorm_temperature: return &s.renorm.temperature;
    case Field::renorm_threshold: return &s.renorm.threshold;
    case Field::renorm_noise: return &s.renorm.noise;
    case Field::renorm_sweep_min: return &s.renorm.sweep_min;
    case Field::renorm_sweep_max: return &s.renorm.sweep_max;
    default: return nullptr;
  }
}
int* integer_ref(Scene& s, Field f) {
  switch (f) {
    case Field::depth: return &s.network.depth;
    case Field::count: return &s.inputs.count;
    case Field::dim: return &s.inputs.dim;
    case Field::steps: return &s.inputs.steps;
    case Field::columns: return &s.phase.columns;
    case Field::rows: return &s.phase.rows;
    case Field::layer: return &s.view.layer;
    case Field::input_a: return &s.view.input_a;
    case Field::input_b: return &s.view.input_b;
    case Field::ens_width: return &s.ensemble.width;
    case Field::ens_members: return &s.ensemble.members;
    case Field::ens_width_min: return &s.ensemble.width_min;
    case Field::ens_width_max: return &s.ensemble.width_max;
    case Field::gp_train: return &s.gp.train;
    case Field::gp_test: return &s.gp.test;
    case Field::gp_downsample: return &s.gp.downsample;
    case Field::gp_readout: return &s.gp.readout_from;
    case Field::gp_grid_depth: return &s.gp.grid_depth;
    case Field::renorm_layers: return &s.renorm.layers;
    case Field::renorm_width: return &s.renorm.width;
    case Field::renorm_gates: return &s.renorm.gates;
    case Field::renorm_dim: return &s.renorm.dim;
    case Field::renorm_train: return &s.renorm.train;
    case Field::renorm_test: return &s.renorm.test;
    case Field::renorm_sweep_points: return &s.renorm.sweep_points;
    case Field::renorm_chains: return &s.renorm.chains;
    case Field::renorm_samples: return &s.renorm.samples;
    case Field::renorm_downsample: return &s.renorm.downsample;
    case Field::renorm_tasks: return &s.renorm.tasks;
    default: return nullptr;
  }
}
std::vector<std::vector<double>>* points_ref(Scene& s, Field f) {
  return f == Field::gp_points ? &s.gp.points : f == Field::renorm_points ? &s.renorm.points : &s.inputs.points;
}
std::vector<int>* id_list_ref(Scene& s, Field f) { return f == Field::renorm_classes ? &s.renorm.classes : &s.gp.classes; }
const std::vector<int>& id_list_of(const Scene& s, Field f) { return *id_list_ref(const_cast<Scene&>(s), f); }
double number_of(const Scene& s, Field f) { return *number_ref(const_cast<Scene&>(s), f); }
int integer_of(const Scene& s, Field f) { return *integer_ref(const_cast<Scene&>(s), f); }
const std::vector<std::vector<double>>& points_of(const Scene& s, Field f) { return *points_ref(const_cast<Scene&>(s), f); }

const std::vector<std::string>& choice_names(Field f) {
  switch (f) {
    case Field::arch: return architecture_names();
    case Field::act: return activation_names();
    case Field::bias_mode: return bias_mode_names();
    case Field::input_mode: return input_mode_names();
    case Field::input_kind: return input_kind_names();
    case Field::panel: return panel_names();
    case Field::kernel_view: return kernel_view_names();
    case Field::cross_time: return cross_time_names();
    case Field::ens_sampler: return sampler_names();
    case Field::ens_precision: return precision_names();
    case Field::ens_sweep: return ensemble_sweep_names();
    case Field::ens_show: return ensemble_show_names();
    case Field::gp_dataset: return gp_dataset_names();
    case Field::gp_show: return gp_show_names();
    case Field::gp_grid_quantity: return gp_grid_quantity_names();
    case Field::gp_sweep: return gp_sweep_names();
    case Field::renorm_readout: return renorm_readout_names();
    case Field::renorm_sharing: return renorm_sharing_names();
    case Field::renorm_gate_kind: return renorm_gate_kind_names();
    case Field::renorm_task: return renorm_task_names();
    case Field::renorm_sweep: return renorm_sweep_names();
    case Field::renorm_simulation: return renorm_simulation_names();
    case Field::renorm_show: return renorm_show_names();
    case Field::renorm_compare: return renorm_compare_names();
    case Field::renorm_task_gates: return renorm_task_gates_names();
    default: return quantity_names();
  }
}

// A choice field's value as the index of its name in choice_names(f), and back. The two ensemble enums
// belong to core/ensemble.h and list their values in another order than the scene lists their names.
int choice_index(const Scene& s, Field f) {
  switch (f) {
    case Field::arch: return static_cast<int>(s.network.arch);
    case Field::act: return static_cast<int>(s.network.activation.kind);
    case Field::bias_mode: return static_cast<int>(s.network.bias_mode);
    case Field::input_mode: return static_cast<int>(s.network.input_mode);
    case Field::input_kind: return static_cast<int>(s.inputs.kind);
    case Field::panel: return static_cast<int>(s.view.panel);
    case Field::quantity: return static_cast<int>(s.view.quantity);
    case Field::kernel_view: return static_cast<int>(s.view.kernels);
    case Field::cross_time: return static_cast<int>(s.view.cross);
    case Field::ens_sampler: return s.ensemble.sampler == EnsembleSampler::fast ? 0 : 1;
    case Field::ens_precision: return s.ensemble.precision == EnsemblePrecision::float64 ? 0 : 1;
    case Field::ens_sweep: return static_cast<int>(s.ensemble.sweep);
    case Field::ens_show: return static_cast<int>(s.ensemble.show);
    case Field::gp_dataset: return static_cast<int>(s.gp.dataset);
    case Field::gp_show: return static_cast<int>(s.gp.show);
    case Field::gp_grid_quantity: return static_cast<int>(s.gp.grid_quantity);
    case Field::gp_sweep: return static_cast<int>(s.gp.sweep);
    case Field::renorm_readout: return static_cast<int>(s.renorm.readout);
    case Field::renorm_sharing: return static_cast<int>(s.renorm.sharing);
    case Field::renorm_gate_kind: return static_cast<int>(s.renorm.gate_kind);  // GateKind::given: no name (refused)
    case Field::renorm_task: return static_cast<int>(s.renorm.task);
    case Field::renorm_sweep: return static_cast<int>(s.renorm.sweep);
    case Field::renorm_simulation: return static_cast<int>(s.renorm.simulation);
    case Field::renorm_show: return static_cast<int>(s.renorm.show);
    case Field::renorm_compare: return static_cast<int>(s.renorm.compare);
    case Field::renorm_task_gates: return static_cast<int>(s.renorm.task_gates);
    default: return -1;
  }
}
void set_choice_index(Scene& s, Field f, int i) {
  switch (f) {
    case Field::arch: s.network.arch = static_cast<Architecture>(i); return;
    case Field::act: s.network.activation.kind = static_cast<ActivationKind>(i); return;
    case Field::bias_mode: s.network.bias_mode = static_cast<BiasMode>(i); return;
    case Field::input_mode: s.network.input_mode = static_cast<InputMode>(i); return;
    case Field::input_kind: s.inputs.kind = static_cast<InputKind>(i); return;
    case Field::panel: s.view.panel = static_cast<Panel>(i); return;
    case Field::quantity: s.view.quantity = static_cast<PhaseQuantity>(i); return;
    case Field::kernel_view: s.view.kernels = static_cast<KernelView>(i); return;
    case Field::cross_time: s.view.cross = static_cast<CrossTimeScale>(i); return;
    case Field::ens_sampler: s.ensemble.sampler = i == 0 ? EnsembleSampler::fast : EnsembleSampler::explicit_weights; return;
    case Field::ens_precision: s.ensemble.precision = i == 0 ? EnsemblePrecision::float64 : EnsemblePrecision::float32; return;
    case Field::ens_sweep: s.ensemble.sweep = static_cast<EnsembleSweep>(i); return;
    case Field::ens_show: s.ensemble.show = static_cast<EnsembleView>(i); return;
    case Field::gp_dataset: s.gp.dataset = static_cast<GpData>(i); return;
    case Field::gp_show: s.gp.show = static_cast<GpView>(i); return;
    case Field::gp_grid_quantity: s.gp.grid_quantity = static_cast<GpGridQuantity>(i); return;
    case Field::gp_sweep: s.gp.sweep = static_cast<GpSweepParameter>(i); return;
    case Field::renorm_readout: s.renorm.readout = static_cast<RenormReadout>(i); return;
    case Field::renorm_sharing: s.renorm.sharing = static_cast<RenormGates>(i); return;
    case Field::renorm_gate_kind: s.renorm.gate_kind = static_cast<GateKind>(i); return;
    case Field::renorm_task: s.renorm.task = static_cast<RenormTask>(i); return;
    case Field::renorm_sweep: s.renorm.sweep = static_cast<RenormSweepParameter>(i); return;
    case Field::renorm_simulation: s.renorm.simulation = static_cast<RenormSimulation>(i); return;
    case Field::renorm_show: s.renorm.show = static_cast<RenormView>(i); return;
    case Field::renorm_compare: s.renorm.compare = static_cast<RenormCompare>(i); return;
    case Field::renorm_task_gates: s.renorm.task_gates = static_cast<RenormTaskGates>(i); return;
    default: return;
  }
}
std::string choice_of(const Scene& s, Field f) {
  const std::vector<std::string>& names = choice_names(f);
  const int i = choice_index(s, f);
  return i >= 0 && i < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(i)] : "?";
}
bool set_choice(Scene& s, Field f, std::string_view name) {
  const int index = name_index(name, choice_names(f));
  if (index >= 0) set_choice_index(s, f, index);
  return index >= 0;
}

std::string id_list_text(const std::vector<int>& ids) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) out += (i > 0 ? "," : "") + std::to_string(ids[i]);
  return out;
}

std::string points_text(const std::vector<std::vector<double>>& points) {
  std::string out;
  for (std::size_t a = 0; a < points.size(); ++a) {
    if (a > 0) out += ';';
    for (std::size_t i = 0; i < points[a].size(); ++i) {
      if (i > 0) out += ',';
      out += format_double(points[a][i]);
    }
  }
  return out;
}

// The query-form text of a field's value ("" for an unset sigma_in2 and for no points).
std::string value_text(const Scene& s, Field f) {
  switch (info(f).type) {
    case Type::version: return std::to_string(Scene::kFormatVersion);
    case Type::number: return format_double(number_of(s, f));
    case Type::optional_number: return s.network.sigma_in2 ? format_double(*s.network.sigma_in2) : std::string();
    case Type::integer: return std::to_string(integer_of(s, f));
    case Type::seed: return std::to_string(s.seed);
    case Type::choice: return choice_of(s, f);
    case Type::text: return s.inputs.csv_path;
    case Type::points: return points_text(points_of(s, f));
    case Type::id_list: return id_list_text(id_list_of(s, f));
  }
  return {};
}

struct Interval {
  double lo, hi;
  bool lo_open, hi_open;
  bool contains(double v) const { return std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi); }
};

Interval number_interval(const Scene& s, Field f) {
  constexpr double kMaxVar = SceneLimits::max_variance;
  switch (f) {
    case Field::act_param:
      if (s.network.activation.kind == ActivationKind::erf) return {0.0, 100.0, true, false};
      if (s.network.activation.kind == ActivationKind::leaky_relu) return {0.0, 1.0, false, true};
      return {-DBL_MAX, DBL_MAX, false, false};  // unused by this activation: any finite number
    case Field::sigma_w2:
    case Field::w2_min:
    case Field::w2_max: return {0.0, kMaxVar, true, false};
    case Field::radius: return {0.0, 1000.0, false, false};
    case Field::angle_span: return {0.0, 6.283185307179586, false, false};
    case Field::gp_noise: return {0.0, 10.0, false, false};
    case Field::renorm_sigma2: return {0.0, 100.0, true, false};
    case Field::renorm_temperature: return {0.0, 100.0, false, false};
    case Field::renorm_threshold: return {-10.0, 10.0, false, false};
    case Field::renorm_noise: return {0.0, 10.0, false, false};
    case Field::renorm_sweep_min:
    case Field::renorm_sweep_max: return {0.0, 1e6, true, false};
    default: return {0.0, kMaxVar, false, false};  // sigma_b2, sigma_in2, b2_min, b2_max
  }
}

struct IntegerRange {
  std::int64_t lo, hi;
};
IntegerRange integer_range(Field f) {
  switch (f) {
    case Field::depth: return {0, SceneLimits::max_depth};
    case Field::count: return {1, SceneLimits::max_inputs};
    case Field::dim: return {1, SceneLimits::max_dim};
    case Field::steps: return {1, SceneLimits::max_steps};
    case Field::columns:
    case Field::rows: return {2, SceneLimits::max_grid};
    case Field::layer: return {-1, SceneLimits::max_depth};  // and <= depth (a cross check)
    case Field::ens_width:
    case Field::ens_width_min:
    case Field::ens_width_max: return {1, SceneLimits::max_width};
    case Field::ens_members: return {2, SceneLimits::max_members};
    case Field::gp_train:
    case Field::gp_test: return {1, SceneLimits::max_gp_points};
    case Field::gp_downsample:
    case Field::renorm_downsample: return {1, 14};                // and a divisor of 28 (a cross check)
    case Field::gp_readout: return {-1, SceneLimits::max_depth};  // and <= depth (a cross check)
    case Field::gp_grid_depth: return {1, SceneLimits::max_gp_grid_depth};
    case Field::renorm_layers: return {1, kRenormMaxLayers};
    case Field::renorm_width: return {1, 100000};
    case Field::renorm_gates: return {1, kRenormMaxGates};
    case Field::renorm_dim: return {1, 1024};
    case Field::renorm_train:
    case Field::renorm_test: return {1, 2000};  // and train + test <= 4000 (a cross check)
    case Field::renorm_sweep_points: return {2, 60};
    case Field::renorm_chains: return {2, 64};
    case Field::renorm_samples: return {10, 100000};
    case Field::renorm_tasks: return {1, kRenormMaxTasks};
    default: return {0, SceneLimits::max_inputs - 1};  // input_a, input_b
  }
}

// Range ends read best as plain numbers: "10000", not "1e4".
std::string bound_text(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return format_double(v);
}

std::string interval_text(const Interval& r) {
  if (r.lo == -DBL_MAX && r.hi == DBL_MAX) return "a finite number";
  return std::string("a number in ") + (r.lo_open ? "(" : "[") + bound_text(r.lo) + ", " + bound_text(r.hi) +
         (r.hi_open ? ")" : "]");
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i > 0 ? ", " : "") + names[i];
  return out;
}

// What a field accepts, as the end of "<key> must be ...".
std::string rule_text(const Scene& s, Field f, Form form) {
  switch (info(f).type) {
    case Type::version: return "an integer >= 1";
    case Type::number: {
      std::string text = interval_text(number_interval(s, f));
      if (f == Field::act_param && s.network.activation.kind == ActivationKind::erf) text += " for erf";
      if (f == Field::act_param && s.network.activation.kind == ActivationKind::leaky_relu) text += " for leaky_relu";
      return text;
    }
    case Type::optional_number:
      return interval_text(number_interval(s, f)) +
             (form == Form::query ? " (leave it out to use w2)" : " or null (null: use sigma_w2)");
    case Type::integer: {
      const IntegerRange r = integer_range(f);
      return "an integer in " + std::to_string(r.lo) + ".." + std::to_string(r.hi);
    }
    case Type::seed: return "an integer in 0..18446744073709551615";
    case Type::choice: return "one of " + join(choice_names(f));
    case Type::text: return "a file path of at most " + std::to_string(kMaxPathBytes) + " bytes of UTF-8 text";
    case Type::points:
      return std::string(form == Form::query ? "rows separated by ';' of numbers separated by ','"
                                             : "an array of rows, each an array of numbers") +
             ", all rows the same length" + (f != Field::points ? " (at least 2)" : "") + ", at most " +
             std::to_string(SceneLimits::max_inputs) + " rows";
    case Type::id_list:
      return std::string(form == Form::query ? "class ids separated by ','" : "an array of class ids") +
             ", each 0..9 and at most once";
  }
  return {};
}

bool id_list_ok(const std::vector<int>& ids) {
  if (ids.size() > 10) return false;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] > 9) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (ids[j] == ids[i]) return false;
  }
  return true;
}

bool points_ok(const std::vector<std::vector<double>>& points) {
  if (points.empty()) return true;
  if (points.size() > static_cast<std::size_t>(SceneLimits::max_inputs)) return false;
  const std::size_t width = points[0].size();
  const std::size_t max_width = static_cast<std::size_t>(SceneLimits::max_dim) * static_cast<std::size_t>(SceneLimits::max_steps);
  if (width == 0 || width > max_width) return false;
  if (static_cast<std::int64_t>(width * points.size()) > InputLimits::max_numbers) return false;
  for (const std::vector<double>& row : points) {
    if (row.size() != width) return false;
    for (double v : row)
      if (!std::isfinite(v)) return false;
  }
  return true;
}

// The field on its own (its range may depend on fields read before it, e.g. act for ap).
bool field_ok(const Scene& s, Field f) {
  switch (info(f).type) {
    case Type::version: return true;
    case Type::number: return number_interval(s, f).contains(number_of(s, f));
    case Type::optional_number: return !s.network.sigma_in2 || number_interval(s, f).contains(*s.network.sigma_in2);
    case Type::integer: {
      const IntegerRange r = integer_range(f);
      const int v = integer_of(s, f);
      return v >= r.lo && v <= r.hi;
    }
    case Type::seed: return true;
    case Type::choice: return name_index(choice_of(s, f), choice_names(f)) >= 0;
    case Type::text: return s.inputs.csv_path.size() <= kMaxPathBytes && valid_utf8_without_controls(s.inputs.csv_path);
    case Type::points:
      return points_ok(points_of(s, f)) && (f == Field::points || points_of(s, f).empty() || points_of(s, f)[0].size() >= 2);
    case Type::id_list: return id_list_ok(id_list_of(s, f));
  }
  return false;
}

// The defaults a field falls back to. The activation parameter and the steps depend on other
// fields: the parameter on the activation, the steps on the input mode (seq: depth + 1).
Scene context_defaults(const Scene& s) {
  Scene d;
  d.network.activation.param = default_activation_param(s.network.activation.kind);
  const bool sequence =
      s.network.input_mode == InputMode::sequence && s.network.depth >= 0 && s.network.depth < SceneLimits::max_depth + 1;
  d.inputs.steps = sequence ? s.network.depth + 1 : 1;
  return d;
}

void copy_field(Scene& to, const Scene& from, Field f) {
  switch (f) {
    case Field::version: return;
    case Field::arch: to.network.arch = from.network.arch; return;
    case Field::act: to.network.activation.kind = from.network.activation.kind; return;
    case Field::sigma_in2: to.network.sigma_in2 = from.network.sigma_in2; return;
    case Field::bias_mode: to.network.bias_mode = from.network.bias_mode; return;
    case Field::input_mode: to.network.input_mode = from.network.input_mode; return;
    case Field::input_kind: to.inputs.kind = from.inputs.kind; return;
    case Field::points: to.inputs.points = from.inputs.points; return;
    case Field::gp_points: to.gp.points = from.gp.points; return;
    case Field::gp_classes: to.gp.classes = from.gp.classes; return;
    case Field::renorm_points: to.renorm.points = from.renorm.points; return;
    case Field::renorm_classes: to.renorm.classes = from.renorm.classes; return;
    case Field::csv_path: to.inputs.csv_path = from.inputs.csv_path; return;
    case Field::seed: to.seed = from.seed; return;
    case Field::panel: to.view.panel = from.view.panel; return;
    case Field::quantity: to.view.quantity = from.view.quantity; return;
    case Field::kernel_view: to.view.kernels = from.view.kernels; return;
    case Field::cross_time: to.view.cross = from.view.cross; return;
    default:
      if (info(f).type == Type::choice) set_choice_index(to, f, choice_index(from, f));
      if (double* n = number_ref(to, f)) *n = number_of(from, f);
      if (int* i = integer_ref(to, f)) *i = integer_of(from, f);
      return;
  }
}

void reset_field(Scene& s, Field f) { copy_field(s, context_defaults(s), f); }

std::string default_phrase(const Scene& s, Field f) {
  const Scene d = context_defaults(s);
  if (f == Field::sigma_in2) return "left it unset";
  if (f == Field::points || f == Field::gp_points || f == Field::renorm_points) return "kept no points";
  if (f == Field::gp_classes) return "kept all classes";
  if (f == Field::csv_path) return "kept no path";
  return "kept the default " + value_text(d, f);
}

// --- 5. Cross-field checks and validate_scene -----------------------------------------------------

struct Issue {
  std::vector<Field> reset;  // the fields that fall back to their defaults
  StatusCode code = StatusCode::invalid_input;
  std::string sentence;  // without the final "; kept ..."
};

std::string assignment(const Scene& s, Field f, Form form) {
  return form == Form::query ? std::string(key(f, form)) + "=" + value_text(s, f)
                             : std::string(key(f, form)) + " = " + value_text(s, f);
}

// The first consistency problem among fields that are each fine on their own.
std::optional<Issue> cross_issue(const Scene& s, Form form) {
  const auto k = [form](Field f) { return std::string(key(f, form)); };
  if (s.phase.sigma_w2_min >= s.phase.sigma_w2_max)
    return Issue{{Field::w2_min, Field::w2_max},
                 StatusCode::invalid_input,
                 k(Field::w2_min) + " must be less than " + k(Field::w2_max) + " (got " + format_double(s.phase.sigma_w2_min) +
                     " and " + format_double(s.phase.sigma_w2_max) + ")"};
  if (s.phase.sigma_b2_min >= s.phase.sigma_b2_max)
    return Issue{{Field::b2_min, Field::b2_max},
                 StatusCode::invalid_input,
                 k(Field::b2_min) + " must be less than " + k(Field::b2_max) + " (got " + format_double(s.phase.sigma_b2_min) +
                     " and " + format_double(s.phase.sigma_b2_max) + ")"};
  if (s.network.input_mode == InputMode::sequence && s.network.arch != Architecture::recurrent)
    return Issue{{Field::input_mode},
                 StatusCode::invalid_input,
                 assignment(s, Field::input_mode, form) + " (a sequence input) needs " + k(Field::arch) +
                     (form == Form::query ? "=recurrent" : " = recurrent")};
  if (s.network.input_mode == InputMode::sequence &&
      static_cast<std::int64_t>(s.inputs.steps) != std::int64_t{s.network.depth} + 1)
    return Issue{{Field::input_mode},
                 StatusCode::invalid_input,
                 assignment(s, Field::input_mode, form) + " needs " + k(Field::steps) + " = " + k(Field::depth) + " + 1 = " +
                     std::to_string(std::int64_t{s.network.depth} + 1) + " (got " + std::to_string(s.inputs.steps) + ")"};
  if (!s.inputs.points.empty()) {
    const std::size_t width = s.inputs.points[0].size();
    const std::size_t steps = static_cast<std::size_t>(std::max(1, s.inputs.steps));
    if (width % steps != 0 || width / steps > static_cast<std::size_t>(SceneLimits::max_dim))
      return Issue{{Field::points},
                   StatusCode::invalid_input,
                   k(Field::points) + " rows must hold " + k(Field::steps) + " x d numbers with d in 1.." +
                       std::to_string(SceneLimits::max_dim) + " (" + k(Field::steps) + " = " + std::to_string(s.inputs.steps) +
                       ", rows have " + std::to_string(width) + ")"};
  }
  if (s.inputs.kind == InputKind::points && s.inputs.points.empty())
    return Issue{{Field::input_kind},
                 StatusCode::invalid_input,
                 assignment(s, Field::input_kind, form) + " needs at least one row in " + k(Field::points)};
  if (s.inputs.kind == InputKind::csv && s.inputs.csv_path.empty())
    return Issue{{Field::input_kind},
                 StatusCode::invalid_input,
                 assignment(s, Field::input_kind, form) + " needs a file in " + k(Field::csv_path)};
  if (s.inputs.kind == InputKind::gaussian &&
      std::int64_t{s.inputs.count} * s.inputs.steps * s.inputs.dim > InputLimits::max_numbers)
    return Issue{{Field::dim},
                 StatusCode::too_large,
                 k(Field::count) + " x " + k(Field::steps) + " x " + k(Field::dim) + " = " +
                     std::to_string(std::int64_t{s.inputs.count} * s.inputs.steps * s.inputs.dim) + " numbers is more than the " +
                     std::to_string(InputLimits::max_numbers) + " that fit in memory"};
  if (s.ensemble.width_min >= s.ensemble.width_max)
    return Issue{{Field::ens_width_min, Field::ens_width_max},
                 StatusCode::invalid_input,
                 k(Field::ens_width_min) + " must be less than " + k(Field::ens_width_max) + " (got " +
                     std::to_string(s.ensemble.width_min) + " and " + std::to_string(s.ensemble.width_max) + ")"};
  if (s.ensemble.sweep_min >= s.ensemble.sweep_max)
    return Issue{{Field::ens_sweep_min, Field::ens_sweep_max},
                 StatusCode::invalid_input,
                 k(Field::ens_sweep_min) + " must be less than " + k(Field::ens_sweep_max) + " (got " +
                     format_double(s.ensemble.sweep_min) + " and " + format_double(s.ensemble.sweep_max) + ")"};
  if (s.ensemble.sweep != EnsembleSweep::sigma_b2 && s.ensemble.sweep_min <= 0)
    return Issue{{Field::ens_sweep_min, Field::ens_sweep_max},
                 StatusCode::invalid_input,
                 k(Field::ens_sweep_min) + " must be positive when sweeping " + choice_of(s, Field::ens_sweep) + " (got " +
                     format_double(s.ensemble.sweep_min) + ")"};
  if (s.ensemble.sweep == EnsembleSweep::depth && s.ensemble.sweep_max > SceneLimits::max_depth)
    return Issue{{Field::ens_sweep_min, Field::ens_sweep_max},
                 StatusCode::invalid_input,
                 k(Field::ens_sweep_max) + " must be at most " + std::to_string(SceneLimits::max_depth) +
                     " when sweeping the depth (got " + format_double(s.ensemble.sweep_max) + ")"};
  if (std::int64_t{s.gp.train} + s.gp.test > SceneLimits::max_gp_points)
    return Issue{{Field::gp_train, Field::gp_test},
                 StatusCode::too_large,
                 k(Field::gp_train) + " + " + k(Field::gp_test) + " must be at most " +
                     std::to_string(SceneLimits::max_gp_points) + " points (got " + std::to_string(s.gp.train) + " + " +
                     std::to_string(s.gp.test) + ")"};
  if (28 % s.gp.downsample != 0)
    return Issue{{Field::gp_downsample},
                 StatusCode::invalid_input,
                 k(Field::gp_downsample) + " must divide 28: 1, 2, 4, 7 or 14 (got " + std::to_string(s.gp.downsample) + ")"};
  if (s.gp.readout_from > s.network.depth)
    return Issue{{Field::gp_readout},
                 StatusCode::invalid_input,
                 k(Field::gp_readout) + " must be in -1.." + k(Field::depth) + " = " + std::to_string(s.network.depth) +
                     " (got " + std::to_string(s.gp.readout_from) + ")"};
  if (s.gp.dataset == GpData::points && !s.gp.points.empty() && s.gp.points[0].size() != 2)
    return Issue{{Field::gp_points},
                 StatusCode::invalid_input,
                 assignment(s, Field::gp_dataset, form) + " needs " + k(Field::gp_points) +
                     " rows of two numbers (x, y); rows have " + std::to_string(s.gp.points[0].size())};
  if (s.gp.dataset == GpData::csv && s.gp.points.size() < 2)
    return Issue{{Field::gp_dataset},
                 StatusCode::invalid_input,
                 assignment(s, Field::gp_dataset, form) + " needs at least two labelled rows in " + k(Field::gp_points)};
  if (s.view.layer > s.network.depth)
    return Issue{{Field::layer},
                 StatusCode::invalid_input,
                 k(Field::layer) + " must be in -1.." + k(Field::depth) + " = " + std::to_string(s.network.depth) + " (got " +
                     std::to_string(s.view.layer) + ")"};
  if (s.renorm.sweep_min >= s.renorm.sweep_max)
    return Issue{{Field::renorm_sweep_min, Field::renorm_sweep_max},
                 StatusCode::invalid_input,
                 k(Field::renorm_sweep_min) + " must be less than " + k(Field::renorm_sweep_max) + " (got " +
                     format_double(s.renorm.sweep_min) + " and " + format_double(s.renorm.sweep_max) + ")"};
  // The default range (25..1000, a width sweep) does not fit L, M or K, so the sweep parameter falls back too.
  const RenormSweepParameter sw = s.renorm.sweep;
  const int top = sw == RenormSweepParameter::depth   ? kRenormMaxLayers
                  : sw == RenormSweepParameter::gates ? kRenormMaxGates
                  : sw == RenormSweepParameter::tasks ? kRenormMaxTasks
                                                      : 0;
  if (top > 0 && (s.renorm.sweep_min < 1 || s.renorm.sweep_max > top))
    return Issue{{Field::renorm_sweep, Field::renorm_sweep_min, Field::renorm_sweep_max},
                 StatusCode::invalid_input,
                 assignment(s, Field::renorm_sweep, form) + " needs " + k(Field::renorm_sweep_min) + " and " +
                     k(Field::renorm_sweep_max) + " in 1.." + std::to_string(top) + " (got " + format_double(s.renorm.sweep_min) +
                     " and " + format_double(s.renorm.sweep_max) + ")"};
  const bool synthetic = s.renorm.task == RenormTask::teacher || s.renorm.task == RenormTask::template_model;
  if (!synthetic && (s.renorm.tasks > 1 || sw == RenormSweepParameter::tasks))
    return Issue{{Field::renorm_tasks, Field::renorm_sweep},
                 StatusCode::invalid_input,
                 "several tasks (" + k(Field::renorm_tasks) + " > 1, or " + k(Field::renorm_sweep) +
                     " = K) need a synthetic task, " + k(Field::renorm_task) + " = teacher or template"};
  if (28 % s.renorm.downsample != 0)
    return Issue{
        {Field::renorm_downsample},
        StatusCode::invalid_input,
        k(Field::renorm_downsample) + " must divide 28: 1, 2, 4, 7 or 14 (got " + std::to_string(s.renorm.downsample) + ")"};
  if (s.renorm.task == RenormTask::fashion_mnist && s.renorm.classes.size() != 2)
    return Issue{{Field::renorm_classes},
                 StatusCode::invalid_input,
                 assignment(s, Field::renorm_task, form) + " needs two class ids in " + k(Field::renorm_classes) +
                     " (the binary task; got " + std::to_string(s.renorm.classes.size()) + ")"};
  if (s.renorm.task == RenormTask::csv && s.renorm.points.size() < 8)
    return Issue{{Field::renorm_task},
                 StatusCode::invalid_input,
                 assignment(s, Field::renorm_task, form) + " needs at least 8 labelled rows in " + k(Field::renorm_points) +
                     " (got " + std::to_string(s.renorm.points.size()) + ")"};
  const std::int64_t most_tasks = std::max<std::int64_t>(
      s.renorm.tasks, sw == RenormSweepParameter::tasks ? static_cast<std::int64_t>(s.renorm.sweep_max) : 1);
  if ((std::int64_t{s.renorm.train} + s.renorm.test) * most_tasks > kRenormMaxPoints)
    return Issue{{Field::renorm_train, Field::renorm_test},
                 StatusCode::too_large,
                 "(" + k(Field::renorm_train) + " + " + k(Field::renorm_test) + ") per task times the tasks must be at most " +
                     std::to_string(kRenormMaxPoints) + " points (got (" + std::to_string(s.renorm.train) + " + " +
                     std::to_string(s.renorm.test) + ") × " + std::to_string(most_tasks) + ")"};
  return std::nullopt;
}

std::string field_sentence(const Scene& s, Field f, Form form, std::string_view got) {
  return std::string(key(f, form)) + " must be " + rule_text(s, f, form) + "; got " + in_quotes(got);
}

}  // namespace

Status validate_scene(const Scene& scene) {
  for (int i = 1; i < kFieldCount; ++i) {
    const Field f = static_cast<Field>(i);
    if (!field_ok(scene, f))
      return Status::error(StatusCode::invalid_input, field_sentence(scene, f, Form::json, value_text(scene, f)) + ".");
  }
  if (std::optional<Issue> issue = cross_issue(scene, Form::json)) return Status::error(issue->code, issue->sentence + ".");
  return Status::success();
}

// --- 6. Loading -----------------------------------------------------------------------------------
namespace {

using Json = nlohmann::json;

// One field as found in the text: query text, or a JSON node.
struct Raw {
  bool present = false;
  bool duplicate = false;
  bool bad_escape = false;
  std::string text;
  const Json* node = nullptr;
};

constexpr std::size_t kMaxWarnings = 32;

struct Loader {
  Form form;
  SceneResult result;
  std::size_t unlisted = 0;

  // A problem in one sentence; `fallback` says what the reader did about it ("kept the default 10").
  void warn(std::string sentence, StatusCode code = StatusCode::invalid_input) { warn(std::move(sentence), "", code); }
  void warn(const std::string& problem, const std::string& fallback, StatusCode code = StatusCode::invalid_input) {
    std::string sentence = fallback.empty() ? problem : problem + "; " + fallback + ".";
    if (result.status.ok()) result.status = Status::error(code, sentence);
    if (result.warnings.size() < kMaxWarnings) {
      result.warnings.push_back(std::move(sentence));
      result.problems.push_back(fallback.empty() ? problem : problem + ".");
    } else {
      ++unlisted;
    }
  }
  void finish() {
    if (unlisted > 0) {
      result.warnings.push_back(std::to_string(unlisted) + " more problems were not listed.");
      result.problems.push_back(result.warnings.back());
    }
  }
};

// Query text -> field value. `got` is the text to echo on failure.
bool assign_text(Scene& s, Field f, std::string_view text) {
  switch (info(f).type) {
    case Type::version: return false;
    case Type::number: return parse_finite(text, *number_ref(s, f)) == NumberParse::ok;
    case Type::optional_number: {
      double v = 0.0;
      if (parse_finite(text, v) != NumberParse::ok) return false;
      s.network.sigma_in2 = v;
      return true;
    }
    case Type::integer: {
      std::int64_t v = 0;
      if (!parse_int64(text, v) || v < INT_MIN || v > INT_MAX) return false;
      *integer_ref(s, f) = static_cast<int>(v);
      return true;
    }
    case Type::seed: return parse_uint64(text, s.seed);
    case Type::choice: return set_choice(s, f, text);
    case Type::text: s.inputs.csv_path = std::string(text); return true;
    case Type::id_list: {
      std::vector<int> ids;
      std::size_t start = 0;
      while (!text.empty()) {
        if (ids.size() >= 10) return false;
        const std::size_t comma = text.find(',', start);
        std::int64_t v = 0;
        if (!parse_int64(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start), v) ||
            v < INT_MIN || v > INT_MAX)
          return false;
        ids.push_back(static_cast<int>(v));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      *id_list_ref(s, f) = std::move(ids);
      return true;
    }
    case Type::points: {
      std::vector<std::vector<double>> points;
      std::size_t start = 0;
      while (true) {
        if (points.size() >= static_cast<std::size_t>(SceneLimits::max_inputs)) return false;
        const std::size_t semicolon = text.find(';', start);
        const std::string_view row_text =
            text.substr(start, semicolon == std::string_view::npos ? std::string_view::npos : semicolon - start);
        std::vector<double> row;
        std::size_t cell_start = 0;
        while (true) {
          const std::size_t comma = row_text.find(',', cell_start);
          double v = 0.0;
          if (parse_finite(
                  row_text.substr(cell_start, comma == std::string_view::npos ? std::string_view::npos : comma - cell_start),
                  v) != NumberParse::ok)
            return false;
          row.push_back(v);
          if (comma == std::string_view::npos) break;
          cell_start = comma + 1;
        }
        points.push_back(std::move(row));
        if (semicolon == std::string_view::npos) break;
        start = semicolon + 1;
      }
      *points_ref(s, f) = std::move(points);
      return true;
    }
  }
  return false;
}

// JSON node -> field value; types are checked before any read (the core runs without exceptions).
bool assign_json(Scene& s, Field f, const Json& node) {
  switch (info(f).type) {
    case Type::version: return false;
    case Type::number:
      if (!node.is_number()) return false;
      *number_ref(s, f) = node.get<double>();
      return true;
    case Type::optional_number:
      if (node.is_null()) {
        s.network.sigma_in2.reset();
        return true;
      }
      if (!node.is_number()) return false;
      s.network.sigma_in2 = node.get<double>();
      return true;
    case Type::integer: {
      if (!node.is_number_integer()) return false;
      if (node.is_number_unsigned()) {
        if (node.get<std::uint64_t>() > static_cast<std::uint64_t>(INT_MAX)) return false;
      } else {
        const std::int64_t v = node.get<std::int64_t>();
        if (v < INT_MIN || v > INT_MAX) return false;
      }
      *integer_ref(s, f) = node.get<int>();
      return true;
    }
    case Type::seed:
      if (!node.is_number_unsigned()) return false;
      s.seed = node.get<std::uint64_t>();
      return true;
    case Type::choice: return node.is_string() && set_choice(s, f, node.get_ref<const std::string&>());
    case Type::text:
      if (!node.is_string()) return false;
      s.inputs.csv_path = node.get<std::string>();
      return true;
    case Type::points: {
      if (!node.is_array() || node.size() > static_cast<std::size_t>(SceneLimits::max_inputs)) return false;
      std::vector<std::vector<double>> points;
      points.reserve(node.size());
      for (const Json& row_node : node) {
        if (!row_node.is_array()) return false;
        std::vector<double> row;
        row.reserve(row_node.size());
        for (const Json& v : row_node) {
          if (!v.is_number()) return false;
          row.push_back(v.get<double>());
        }
        points.push_back(std::move(row));
      }
      *points_ref(s, f) = std::move(points);
      return true;
    }
    case Type::id_list: {
      if (!node.is_array() || node.size() > 10) return false;
      std::vector<int> ids;
      for (const Json& v : node) {
        if (!v.is_number_integer()) return false;
        if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT_MAX)) return false;
        const std::int64_t id = v.get<std::int64_t>();
        if (id < INT_MIN || id > INT_MAX) return false;
        ids.push_back(static_cast<int>(id));
      }
      *id_list_ref(s, f) = std::move(ids);
      return true;
    }
  }
  return false;
}

std::string json_echo_text(const Json& node) {
  if (node.is_string()) return node.get<std::string>();
  return node.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void read_version(Loader& loader, const Raw& raw) {
  const char* name = key(Field::version, loader.form);
  if (!raw.present) {
    loader.warn(std::string("The format version (") + name + ") is missing; read as version " +
                std::to_string(Scene::kFormatVersion) + ".");
    return;
  }
  if (raw.duplicate) {
    loader.warn(std::string(name) + " appears more than once; read as version " + std::to_string(Scene::kFormatVersion) + ".");
    return;
  }
  std::int64_t version = 0;
  bool ok = false;
  std::string got;
  if (raw.node) {
    const bool huge = raw.node->is_number_unsigned() && raw.node->get<std::uint64_t>() > std::uint64_t{INT_MAX};
    ok = raw.node->is_number_integer() && !huge;
    if (ok) version = raw.node->get<std::int64_t>();
    got = json_echo_text(*raw.node);
  } else {
    ok = !raw.bad_escape && parse_int64(raw.text, version);
    got = raw.text;
  }
  if (!ok || version < 1) {
    loader.warn(std::string(name) + " must be an integer >= 1; got " + in_quotes(got) + "; read as version " +
                std::to_string(Scene::kFormatVersion) + ".");
  } else if (version > Scene::kFormatVersion) {
    loader.warn(std::string(name) + (loader.form == Form::query ? "=" : " = ") + std::to_string(version) +
                " is a newer scene format than this Fieldscope reads (version " + std::to_string(Scene::kFormatVersion) +
                "): update Fieldscope; the fields it knows were loaded.");
  }
}

// Raw values -> scene. Fields are read in table order; a field that is malformed, out of range or
// inconsistent falls back to its default with one warning, and everything else still loads.
void load_fields(Loader& loader, const Raw (&raws)[kFieldCount]) {
  Scene& s = loader.result.scene;
  const Form form = loader.form;
  read_version(loader, raws[0]);
  for (int i = 1; i < kFieldCount; ++i) {
    const Field f = static_cast<Field>(i);
    const Raw& raw = raws[i];
    if (!raw.present) {
      reset_field(s, f);  // context-dependent defaults (act -> ap, in/L -> steps)
      continue;
    }
    if (raw.duplicate) {
      reset_field(s, f);
      loader.warn(std::string(key(f, form)) + " appears more than once", default_phrase(s, f));
      continue;
    }
    if (raw.bad_escape) {
      reset_field(s, f);
      loader.warn(std::string(key(f, form)) + " has a malformed %-escape (%XX with two hex digits expected)",
                  default_phrase(s, f));
      continue;
    }
    const bool assigned = raw.node ? assign_json(s, f, *raw.node) : assign_text(s, f, raw.text);
    if (!assigned) {
      reset_field(s, f);
      loader.warn(field_sentence(s, f, form, raw.node ? json_echo_text(*raw.node) : raw.text), default_phrase(s, f));
    } else if (!field_ok(s, f)) {
      const std::string got = value_text(s, f);
      reset_field(s, f);
      loader.warn(field_sentence(s, f, form, got), default_phrase(s, f));
    }
  }
  // Each repair moves a field to its default, which cannot fail a check it failed before; the bound
  // only guards against a mistake in that reasoning.
  for (int pass = 0; pass < 4 * kFieldCount; ++pass) {
    std::optional<Issue> issue = cross_issue(s, form);
    if (!issue) break;
    for (Field f : issue->reset) reset_field(s, f);
    for (Field f : {Field::act_param, Field::steps})  // follow a repaired mode (seq -> t0: steps 1)
      if (!raws[static_cast<int>(f)].present) reset_field(s, f);
    std::string kept;
    for (Field f : issue->reset) kept += (kept.empty() ? "" : ", ") + assignment(s, f, form);
    loader.warn(issue->sentence, std::string("kept the default") + (issue->reset.size() > 1 ? "s " : " ") + kept, issue->code);
  }
}

// --- 7. JSON form ---------------------------------------------------------------------------------

using OrderedJson = nlohmann::ordered_json;

// Deepest bracket nesting outside strings; refuses pathological input before the parser sees it.
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool is_group(std::string_view name) {
  return name == "activation" || name == "inputs" || name == "phase" || name == "view" || name == "ensemble" || name == "gp" ||
         name == "renorm";
}

int field_by_json_path(std::string_view path) {
  for (int i = 0; i < kFieldCount; ++i)
    if (path == kFields[i].json_path) return i;
  return -1;
}

}  // namespace

std::string scene_to_json(const Scene& s) {
  OrderedJson j;
  j["fieldscope"] = Scene::kFormatVersion;
  j["arch"] = architecture_name(s.network.arch);
  j["activation"] = OrderedJson::object();
  j["activation"]["name"] = s.network.activation.name();
  j["activation"]["param"] = s.network.activation.param;
  j["sigma_w2"] = s.network.sigma_w2;
  j["sigma_b2"] = s.network.sigma_b2;
  j["sigma_in2"] = s.network.sigma_in2 ? OrderedJson(*s.network.sigma_in2) : OrderedJson(nullptr);
  j["depth"] = s.network.depth;
  j["bias_mode"] = bias_mode_name(s.network.bias_mode);
  j["input_mode"] = input_mode_name(s.network.input_mode);
  OrderedJson& inputs = j["inputs"] = OrderedJson::object();
  inputs["kind"] = input_kind_name(s.inputs.kind);
  inputs["count"] = s.inputs.count;
  inputs["dim"] = s.inputs.dim;
  inputs["radius"] = s.inputs.radius;
  inputs["angle_span"] = s.inputs.angle_span;
  inputs["steps"] = s.inputs.steps;
  inputs["points"] = OrderedJson::array();
  for (const std::vector<double>& row : s.inputs.points) inputs["points"].push_back(row);
  inputs["csv_path"] = s.inputs.csv_path;
  OrderedJson& phase = j["phase"] = OrderedJson::object();
  phase["sigma_w2_min"] = s.phase.sigma_w2_min;
  phase["sigma_w2_max"] = s.phase.sigma_w2_max;
  phase["sigma_b2_min"] = s.phase.sigma_b2_min;
  phase["sigma_b2_max"] = s.phase.sigma_b2_max;
  phase["columns"] = s.phase.columns;
  phase["rows"] = s.phase.rows;
  j["seed"] = s.seed;
  OrderedJson& view = j["view"] = OrderedJson::object();
  view["panel"] = choice_of(s, Field::panel);
  view["quantity"] = choice_of(s, Field::quantity);
  view["layer"] = s.view.layer;
  view["input_a"] = s.view.input_a;
  view["input_b"] = s.view.input_b;
  view["kernels"] = choice_of(s, Field::kernel_view);
  view["cross"] = choice_of(s, Field::cross_time);
  OrderedJson& ensemble = j["ensemble"] = OrderedJson::object();
  ensemble["width"] = s.ensemble.width;
  ensemble["members"] = s.ensemble.members;
  ensemble["sampler"] = choice_of(s, Field::ens_sampler);
  ensemble["precision"] = choice_of(s, Field::ens_precision);
  ensemble["width_min"] = s.ensemble.width_min;
  ensemble["width_max"] = s.ensemble.width_max;
  ensemble["sweep"] = choice_of(s, Field::ens_sweep);
  ensemble["sweep_min"] = s.ensemble.sweep_min;
  ensemble["sweep_max"] = s.ensemble.sweep_max;
  ensemble["show"] = choice_of(s, Field::ens_show);
  OrderedJson& gp = j["gp"] = OrderedJson::object();
  gp["dataset"] = choice_of(s, Field::gp_dataset);
  gp["train"] = s.gp.train;
  gp["test"] = s.gp.test;
  gp["noise"] = s.gp.noise;
  gp["classes"] = s.gp.classes;
  gp["downsample"] = s.gp.downsample;
  gp["sigma_n2"] = s.gp.sigma_n2;
  gp["readout_from"] = s.gp.readout_from;
  gp["show"] = choice_of(s, Field::gp_show);
  gp["grid_quantity"] = choice_of(s, Field::gp_grid_quantity);
  gp["grid_depth"] = s.gp.grid_depth;
  gp["sweep"] = choice_of(s, Field::gp_sweep);
  gp["points"] = OrderedJson::array();
  for (const std::vector<double>& row : s.gp.points) gp["points"].push_back(row);
  OrderedJson& renorm = j["renorm"] = OrderedJson::object();
  renorm["layers"] = s.renorm.layers;
  renorm["width"] = s.renorm.width;
  renorm["gates"] = s.renorm.gates;
  renorm["readout"] = choice_of(s, Field::renorm_readout);
  renorm["sharing"] = choice_of(s, Field::renorm_sharing);
  renorm["sigma2"] = s.renorm.sigma2;
  renorm["temperature"] = s.renorm.temperature;
  renorm["gate_kind"] = choice_of(s, Field::renorm_gate_kind);
  renorm["threshold"] = s.renorm.threshold;
  renorm["task"] = choice_of(s, Field::renorm_task);
  renorm["dim"] = s.renorm.dim;
  renorm["train"] = s.renorm.train;
  renorm["test"] = s.renorm.test;
  renorm["noise"] = s.renorm.noise;
  renorm["sweep"] = choice_of(s, Field::renorm_sweep);
  renorm["sweep_min"] = s.renorm.sweep_min;
  renorm["sweep_max"] = s.renorm.sweep_max;
  renorm["sweep_points"] = s.renorm.sweep_points;
  renorm["simulation"] = choice_of(s, Field::renorm_simulation);
  renorm["chains"] = s.renorm.chains;
  renorm["samples"] = s.renorm.samples;
  renorm["show"] = choice_of(s, Field::renorm_show);
  renorm["classes"] = s.renorm.classes;
  renorm["downsample"] = s.renorm.downsample;
  renorm["points"] = OrderedJson::array();
  for (const std::vector<double>& row : s.renorm.points) renorm["points"].push_back(row);
  renorm["compare"] = choice_of(s, Field::renorm_compare);
  renorm["tasks"] = s.renorm.tasks;
  renorm["task_gates"] = choice_of(s, Field::renorm_task_gates);
  // nlohmann writes the shortest text that reads back to the same double; `replace` keeps a path
  // that is not UTF-8 from aborting the dump.
  return j.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

SceneResult scene_from_json(std::string_view text) {
  Loader loader{Form::json, {}, 0};
  if (text.size() > SceneLimits::max_text) {
    loader.warn("The scene JSON is " + std::to_string(text.size()) + " bytes long; at most " +
                std::to_string(SceneLimits::max_text) + " are accepted, so the default scene was loaded.");
    loader.finish();
    return loader.result;
  }
  constexpr std::size_t kMaxNesting = 16;
  if (nesting_depth(text) > kMaxNesting) {
    loader.warn("The scene JSON is nested more than " + std::to_string(kMaxNesting) +
                " levels deep; the default scene was loaded.");
    loader.finish();
    return loader.result;
  }

  // Duplicate keys: nlohmann keeps the last silently, so the callback records their paths.
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string current;
  };
  std::vector<Frame> frames;
  std::set<std::string> duplicates;
  const Json::parser_callback_t callback = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: frames.push_back({true, {}, {}}); break;
      case Json::parse_event_t::array_start: frames.push_back({false, {}, "[]"}); break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        break;
      case Json::parse_event_t::key:
        if (!frames.empty() && parsed.is_string()) {
          Frame& top = frames.back();
          top.current = parsed.get<std::string>();
          if (!top.keys.insert(top.current).second) {
            std::string path;
            for (std::size_t i = 1; i < frames.size(); ++i) path += frames[i - 1].current + ".";
            duplicates.insert(path + top.current);
          }
        }
        break;
      case Json::parse_event_t::value: break;
    }
    return true;
  };
  const Json doc = Json::parse(text, callback, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    loader.warn("The scene is not valid JSON; the default scene was loaded.");
    loader.finish();
    return loader.result;
  }
  if (!doc.is_object()) {
    loader.warn("The scene JSON must be an object {\"fieldscope\": 1, ...}; the default scene was loaded.");
    loader.finish();
    return loader.result;
  }

  Raw raws[kFieldCount];
  const auto take = [&](const std::string& path, const Json& node, bool nested) {
    // A key is one name per level: a top-level "inputs.count" is not the nested field.
    const bool dotted = path.find('.') != std::string::npos;
    const int index = nested || !dotted ? field_by_json_path(path) : -1;
    if (index < 0) {
      loader.warn("Unknown key " + in_quotes(path) + " was ignored.");
      return;
    }
    raws[index].present = true;
    raws[index].node = &node;
    raws[index].duplicate = duplicates.count(path) > 0;
  };
  for (const auto& [name, node] : doc.items()) {
    if (!is_group(name)) {
      take(name, node, false);
      continue;
    }
    const bool repeated = duplicates.count(name) > 0;
    if (!node.is_object() || repeated) {
      loader.warn(in_quotes(name) + (repeated ? " appears more than once" : " must be an object") +
                  "; its fields kept their defaults.");
      continue;
    }
    for (const auto& [sub_name, sub_node] : node.items())
      take(name + "." + sub_name, sub_node, sub_name.find('.') == std::string::npos);
  }
  load_fields(loader, raws);
  loader.finish();
  return loader.result;
}

// --- 8. Query form --------------------------------------------------------------------------------

std::string scene_to_query(const Scene& s) {
  std::string query = "v=" + std::to_string(Scene::kFormatVersion);
  const Scene defaults = context_defaults(s);
  for (int i = 1; i < kFieldCount; ++i) {
    const Field f = static_cast<Field>(i);
    const std::string text = value_text(s, f);
    if (text == value_text(defaults, f)) continue;
    query += '&';
    query += info(f).query_key;
    query += '=';
    query += percent_encode(text);
  }
  return query;
}

namespace {
// "https://...": a URL scheme (a letter, then letters, digits, '+', '-' or '.') before "://". A query's own
// values may hold "://" (a CSV path such as dir://x), but never at the start of the text.
bool starts_with_url_scheme(std::string_view text) {
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0 || !std::isalpha(static_cast<unsigned char>(text[0]))) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}
}  // namespace

SceneResult scene_from_query(std::string_view text) {
  Loader loader{Form::query, {}, 0};
  if (text.size() > SceneLimits::max_text) {
    loader.warn("The link is " + std::to_string(text.size()) + " bytes long; at most " + std::to_string(SceneLimits::max_text) +
                " are accepted, so the default scene was loaded.");
    loader.finish();
    return loader.result;
  }
  // A pasted link may carry spaces or a line break at either end.
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' || text.front() == '\n'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  // A full URL or "?query": keep what lies between '?' and '#'.
  if (const std::size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
  if (const std::size_t question = text.find('?'); question != std::string_view::npos)
    text = text.substr(question + 1);
  else if (starts_with_url_scheme(text))  // a page address without a query: no scene fields
    text = {};

  Raw raws[kFieldCount];
  std::string name;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t amp = text.find('&', start);
    const std::string_view segment = text.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    start = amp == std::string_view::npos ? text.size() + 1 : amp + 1;
    if (segment.empty()) continue;
    const std::size_t eq = segment.find('=');
    if (eq == std::string_view::npos) {
      loader.warn(in_quotes(segment) + " is not of the form key=value and was ignored.");
      continue;
    }
    if (!percent_decode(segment.substr(0, eq), name)) {
      loader.warn("The key " + in_quotes(segment.substr(0, eq)) + " has a malformed %-escape and was ignored.");
      continue;
    }
    int index = -1;
    for (int i = 0; i < kFieldCount; ++i)
      if (name == kFields[i].query_key) index = i;
    if (index < 0) {
      loader.warn("Unknown key " + in_quotes(name) + " was ignored.");
      continue;
    }
    Raw& raw = raws[index];
    if (raw.present) {
      raw.duplicate = true;
      continue;
    }
    raw.present = true;
    raw.bad_escape = !percent_decode(segment.substr(eq + 1), raw.text);
  }
  load_fields(loader, raws);
  loader.finish();
  return loader.result;
}

}  // namespace fs
