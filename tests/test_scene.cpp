// Scene forms (JSON, URL query) and their checks (core/scene.*).
//
// Sections
//   1. Helpers (a test-only random generator, scene builders, warning predicates)
//   2. Round trips: hand-picked scenes, random scenes, canonical text
//   3. Query form: accepted shapes, hostile links
//   4. JSON form: hostile documents
//   5. validate_scene
// format_double, strict numbers and percent coding on their own: tests/test_text.cpp; the inputs a scene
// describes: tests/test_inputs.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/inputs.h"
#include "core/scene.h"
#include "core/text.h"

using namespace fs;

namespace {

// --- 1. Helpers -----------------------------------------------------------------------------------

// splitmix64 (Steele et al. 2014): test-only, for random scenes.
struct TestRandom {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }  // [0, 1), all 53 bits
  double in(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
};

const std::vector<ActivationKind> kAllActivations = {
    ActivationKind::linear, ActivationKind::relu,    ActivationKind::leaky_relu, ActivationKind::erf,
    ActivationKind::tanh,   ActivationKind::sigmoid, ActivationKind::sign,       ActivationKind::step,
    ActivationKind::sin,    ActivationKind::cos,     ActivationKind::softplus,   ActivationKind::gelu,
};

Scene recurrent_sequence(int depth) {
  Scene s;
  s.network.arch = Architecture::recurrent;
  s.network.input_mode = InputMode::sequence;
  s.network.depth = depth;
  s.inputs.steps = depth + 1;
  return s;
}

// A valid scene with every field drawn at random, doubles at full precision.
Scene random_scene(TestRandom& rng) {
  Scene s;
  s.network.arch = rng.next() % 2 ? Architecture::deep : Architecture::recurrent;
  s.network.activation.kind = kAllActivations[rng.next() % kAllActivations.size()];
  if (s.network.activation.kind == ActivationKind::erf)
    s.network.activation.param = rng.in(1e-3, 100.0);
  else if (s.network.activation.kind == ActivationKind::leaky_relu)
    s.network.activation.param = rng.in(0.0, 1.0);
  else
    s.network.activation.param = rng.next() % 2 ? 1.0 : rng.in(-5.0, 5.0);
  s.network.sigma_w2 = rng.in(1e-6, SceneLimits::max_variance);
  s.network.sigma_b2 = rng.next() % 4 == 0 ? 0.0 : rng.in(0.0, 3.0);
  if (rng.next() % 2) s.network.sigma_in2 = rng.in(0.0, 10.0);
  s.network.depth = rng.integer(0, SceneLimits::max_depth);
  s.network.bias_mode = rng.next() % 2 ? BiasMode::shared : BiasMode::independent;
  s.network.input_mode = static_cast<InputMode>(rng.next() % 3);
  if (s.network.input_mode == InputMode::sequence) {
    s.network.arch = Architecture::recurrent;
    s.network.depth = rng.integer(0, 30);
  }
  s.inputs.kind = static_cast<InputKind>(rng.next() % 4);
  s.inputs.count = rng.integer(1, SceneLimits::max_inputs);
  s.inputs.dim = rng.integer(1, 64);
  s.inputs.radius = rng.in(0.0, 1000.0);
  s.inputs.angle_span = rng.in(0.0, 6.283185307179586);
  s.inputs.steps = s.network.input_mode == InputMode::sequence ? s.network.depth + 1 : rng.integer(1, 5);
  if (s.inputs.kind == InputKind::points || rng.next() % 4 == 0) {
    const int rows = rng.integer(1, 6), dim = rng.integer(1, 4);
    s.inputs.points.assign(static_cast<std::size_t>(rows), {});
    for (auto& row : s.inputs.points)
      for (int i = 0; i < dim * s.inputs.steps; ++i) row.push_back(rng.in(-1e3, 1e3));
  }
  if (s.inputs.kind == InputKind::csv || rng.next() % 4 == 0)
    s.inputs.csv_path = "data/inputs " + std::to_string(rng.next() % 100) + ".csv";
  s.phase.sigma_w2_min = rng.in(1e-3, 2.0);
  s.phase.sigma_w2_max = s.phase.sigma_w2_min + rng.in(1e-3, 10.0);
  s.phase.sigma_b2_min = rng.in(0.0, 1.0);
  s.phase.sigma_b2_max = s.phase.sigma_b2_min + rng.in(1e-3, 1.0);
  s.phase.columns = rng.integer(2, SceneLimits::max_grid);
  s.phase.rows = rng.integer(2, SceneLimits::max_grid);
  s.seed = rng.next();
  s.view.panel = static_cast<Panel>(rng.next() % 4);  // phase, signal, kernels, recurrent
  s.view.quantity = static_cast<PhaseQuantity>(rng.next() % 5);
  s.view.layer = rng.integer(-1, s.network.depth);
  s.view.input_a = rng.integer(0, 10);
  s.view.input_b = rng.integer(0, 10);
  s.view.kernels = rng.next() % 2 ? KernelView::compare : KernelView::single;
  s.view.cross = rng.next() % 2 ? CrossTimeScale::correlation : CrossTimeScale::covariance;
  if (rng.next() % 2) {
    s.view.panel = Panel::ensemble;
    s.ensemble.width = rng.integer(1, SceneLimits::max_width);
    s.ensemble.members = rng.integer(2, SceneLimits::max_members);
    s.ensemble.sampler = rng.next() % 2 ? EnsembleSampler::fast : EnsembleSampler::explicit_weights;
    s.ensemble.precision = rng.next() % 2 ? EnsemblePrecision::float32 : EnsemblePrecision::float64;
    s.ensemble.width_min = rng.integer(1, 100);
    s.ensemble.width_max = s.ensemble.width_min + rng.integer(1, 1000);
    s.ensemble.sweep = static_cast<EnsembleSweep>(rng.next() % 3);
    s.ensemble.sweep_min = rng.in(1e-3, 2.0);
    s.ensemble.sweep_max = s.ensemble.sweep_min + rng.in(1e-3, 100.0);
    s.ensemble.show = static_cast<EnsembleView>(rng.next() % 5);
  }
  if (rng.next() % 2) {
    s.view.panel = Panel::gp;
    s.gp.dataset = static_cast<GpData>(rng.next() % 7);
    s.gp.train = rng.integer(1, 10000);
    s.gp.test = rng.integer(1, 10000);
    s.gp.noise = rng.in(0.0, 10.0);
    s.gp.classes.clear();
    for (int c = 0; c < 10; ++c)
      if (rng.next() % 3 == 0) s.gp.classes.push_back(c);
    const int downsample[] = {1, 2, 4, 7, 14};
    s.gp.downsample = downsample[rng.next() % 5];
    s.gp.sigma_n2 = rng.next() % 4 == 0 ? 0.0 : rng.in(0.0, 10.0);
    s.gp.readout_from = rng.integer(-1, s.network.depth);
    s.gp.show = static_cast<GpView>(rng.next() % 3);
    s.gp.grid_quantity = rng.next() % 2 ? GpGridQuantity::accuracy : GpGridQuantity::evidence;
    s.gp.grid_depth = rng.integer(1, SceneLimits::max_gp_grid_depth);
    s.gp.sweep = static_cast<GpSweepParameter>(rng.next() % 4);
    const int rows = rng.integer(2, 8), cols = s.gp.dataset == GpData::points ? 2 : rng.integer(2, 4);
    if (s.gp.dataset == GpData::points || s.gp.dataset == GpData::csv || rng.next() % 2) {
      s.gp.points.assign(static_cast<std::size_t>(rows), {});
      for (auto& row : s.gp.points)
        for (int i = 0; i < cols; ++i) row.push_back(rng.in(-10.0, 10.0));
    }
  }
  if (rng.next() % 2) {
    s.view.panel = Panel::renorm;
    RenormViewSpec& r = s.renorm;
    r.layers = rng.integer(1, 8);
    r.width = rng.integer(1, 100000);
    r.gates = rng.integer(1, 64);
    r.readout = rng.next() % 2 ? RenormReadout::gated : RenormReadout::ungated;
    r.sharing = rng.next() % 2 ? RenormGates::shared : RenormGates::unshared;
    r.sigma2 = rng.in(1e-6, 100.0);
    r.temperature = rng.next() % 4 == 0 ? 0.0 : rng.in(0.0, 100.0);
    r.gate_kind = static_cast<GateKind>(rng.next() % 3);  // random, pca, kmeans: a scene cannot name "file"
    r.threshold = rng.in(-10.0, 10.0);
    r.task = static_cast<RenormTask>(rng.next() % 4);
    if (r.task == RenormTask::fashion_mnist || rng.next() % 2) {
      r.classes = {rng.integer(0, 4), rng.integer(5, 9)};
      const int factors[] = {1, 2, 4, 7, 14};
      r.downsample = factors[rng.next() % 5];
    }
    if (r.task == RenormTask::csv || rng.next() % 4 == 0) {
      const int rows = rng.integer(8, 20), cols = rng.integer(2, 5);
      r.points.assign(static_cast<std::size_t>(rows), {});
      for (auto& row : r.points)
        for (int i = 0; i < cols; ++i) row.push_back(rng.in(-10.0, 10.0));
    }
    r.dim = rng.integer(1, 1024);
    r.train = rng.integer(1, 2000);
    r.test = rng.integer(1, 2000);
    r.noise = rng.next() % 4 == 0 ? 0.0 : rng.in(0.0, 10.0);
    r.sweep = static_cast<RenormSweepParameter>(rng.next() % 5);
    const double top = r.sweep == RenormSweepParameter::depth ? 8.0 : r.sweep == RenormSweepParameter::gates ? 64.0 : 1e6;
    r.sweep_min = rng.in(1.0, top / 2);
    r.sweep_max = r.sweep_min + rng.in(1e-3, top / 2);
    r.sweep_points = rng.integer(2, 60);
    r.simulation = static_cast<RenormSimulation>(rng.next() % 3);
    r.chains = rng.integer(2, 64);
    r.samples = rng.integer(10, 100000);
    r.show = static_cast<RenormView>(rng.next() % 3);
    r.compare = static_cast<RenormCompare>(rng.next() % 2);
  }
  return s;
}

// The first warning starts with the key ("w2 must be ..."), so it names the field.
bool first_warning_names(const SceneResult& r, const std::string& key) {
  return !r.warnings.empty() && r.warnings[0].rfind(key + " ", 0) == 0;
}

// Warnings are plain text: printable ASCII without markup characters, and short.
bool warnings_are_plain(const SceneResult& r) {
  for (const std::string& w : r.warnings) {
    if (w.size() > 400) return false;
    for (char c : w) {
      const unsigned char u = static_cast<unsigned char>(c);
      if (u < 0x20 || u >= 0x7f || c == '<' || c == '>' || c == '&' || c == '\\' || c == '`') return false;
    }
  }
  return true;
}

void check_round_trips(const Scene& s) {
  INFO("scene: " << scene_to_json(s));
  INFO("problem: " << validate_scene(s).message);
  REQUIRE(validate_scene(s).ok());
  const std::string json = scene_to_json(s);
  const SceneResult from_json = scene_from_json(json);
  CHECK(from_json.status.ok());
  CHECK(from_json.warnings.empty());
  CHECK(from_json.scene == s);
  CHECK(scene_to_json(from_json.scene) == json);

  const std::string query = scene_to_query(s);
  INFO("query: " << query);
  const SceneResult from_query = scene_from_query(query);
  CHECK(from_query.status.ok());
  CHECK(from_query.warnings.empty());
  CHECK(from_query.scene == s);
  CHECK(scene_to_query(from_query.scene) == query);  // canonical
}

}  // namespace

// --- 2. Round trips -------------------------------------------------------------------------------

TEST_CASE("the default scene is valid and its link is just the version") {
  CHECK(validate_scene(Scene{}).ok());
  CHECK(scene_to_query(Scene{}) == "v=1");
  const SceneResult r = scene_from_query("v=1");
  CHECK(r.status.ok());
  CHECK(r.scene == Scene{});
}

TEST_CASE("hand-picked scenes round-trip exactly through JSON and query") {
  std::vector<Scene> scenes;
  scenes.push_back(Scene{});
  for (ActivationKind kind : kAllActivations) {
    Scene s;
    s.network.activation.kind = kind;
    s.network.activation.param = default_activation_param(kind);
    scenes.push_back(s);
    if (kind == ActivationKind::erf)
      s.network.activation.param = 2.5051272;
    else if (kind == ActivationKind::leaky_relu)
      s.network.activation.param = 0.0;
    else
      s.network.activation.param = -0.75;
    scenes.push_back(s);
  }
  for (double v : {0.1, 1.0 / 3.0, 1e-300, 2.5051272, 9999.999999999998, 5e-324}) {
    Scene s;
    s.network.sigma_w2 = v;
    s.network.sigma_b2 = v;
    s.inputs.radius = v * 0.1;
    s.phase.sigma_b2_min = v * 1e-4;  // below the default maximum 1
    scenes.push_back(s);
  }
  {
    Scene s;
    s.network.sigma_in2 = 0.0;  // set, and equal to a "zero" default elsewhere: must survive as set
    scenes.push_back(s);
    s.network.sigma_in2 = 1.0 / 3.0;
    scenes.push_back(s);
  }
  for (int arch = 0; arch < 2; ++arch)
    for (int bias = 0; bias < 2; ++bias)
      for (int mode = 0; mode < 2; ++mode)
        for (int kind = 0; kind < 4; ++kind) {
          Scene s;
          s.network.arch = static_cast<Architecture>(arch);
          s.network.bias_mode = static_cast<BiasMode>(bias);
          s.network.input_mode = static_cast<InputMode>(mode);
          s.inputs.kind = static_cast<InputKind>(kind);
          if (s.inputs.kind == InputKind::points) s.inputs.points = {{1.2, 0, -0.6}, {0.3, 1.5, 0.9}};
          if (s.inputs.kind == InputKind::csv) s.inputs.csv_path = "inputs.csv";
          scenes.push_back(s);
        }
  {
    Scene s = recurrent_sequence(4);
    s.inputs.kind = InputKind::points;
    s.inputs.points = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1e-300}};
    scenes.push_back(s);
    s.inputs.kind = InputKind::gaussian;
    s.inputs.points.clear();
    scenes.push_back(s);
  }
  {
    Scene s;
    s.seed = UINT64_MAX;
    s.view = {Panel::kernels, PhaseQuantity::xi_c, 3, 5, 7};
    s.phase = {0.25, 8.0, 0.0, 2.0, 2, 1024};
    s.inputs.csv_path = "/home/me/my data & more #1 +x %41 ;,.csv";
    scenes.push_back(s);
    s.seed = 0;
    s.inputs.csv_path = "d\xC3\xA9j\xC3\xA0 vu.csv";  // UTF-8 survives both forms
    scenes.push_back(s);
    s.inputs.csv_path = "dir://x/y.csv";  // "://" inside a value is not a page address
    scenes.push_back(s);
  }
  for (const Scene& s : scenes) check_round_trips(s);
}

TEST_CASE("random scenes round-trip exactly through JSON and query") {
  TestRandom rng{7};
  for (int i = 0; i < 300; ++i) check_round_trips(random_scene(rng));
}

TEST_CASE("query text of a changed scene names only what differs, in a fixed order") {
  Scene s;
  s.network.arch = Architecture::recurrent;
  s.network.activation = {ActivationKind::erf, 2.0};
  s.network.sigma_w2 = 2.0;
  s.network.depth = 20;
  s.inputs.kind = InputKind::points;
  s.inputs.points = {{1.2, 0, -0.6}, {0.3, 1.5, 0.9}};
  s.view.quantity = PhaseQuantity::xi_c;
  CHECK(scene_to_query(s) == "v=1&arch=recurrent&act=erf&ap=2&w2=2&L=20&x=points&pts=1.2,0,-0.6;0.3,1.5,0.9&q=xi_c");

  Scene leaky;
  leaky.network.activation = {ActivationKind::leaky_relu, default_activation_param(ActivationKind::leaky_relu)};
  CHECK(scene_to_query(leaky) == "v=1&act=leaky_relu");
  const SceneResult r = scene_from_query("v=1&act=leaky_relu");
  CHECK(r.status.ok());
  CHECK(r.scene.network.activation.param == 0.1);
  CHECK(validate_scene(r.scene).ok());

  // In a sequence scene the steps follow the depth and are left out.
  const Scene seq = recurrent_sequence(6);
  CHECK(scene_to_query(seq) == "v=1&arch=recurrent&L=6&in=seq");
  CHECK(scene_from_query("v=1&arch=recurrent&L=6&in=seq").scene.inputs.steps == 7);
}

// --- 3. Query form --------------------------------------------------------------------------------

TEST_CASE("query form: leading '?', full URLs, fragments, percent-escapes") {
  SceneResult r = scene_from_query("?v=1&L=20&w2=2.5");
  CHECK(r.status.ok());
  CHECK(r.scene.network.depth == 20);
  CHECK(r.scene.network.sigma_w2 == 2.5);

  r = scene_from_query("https://example.org/fieldscope/index.html?v=1&act=relu&L=3#panel-2");
  CHECK(r.status.ok());
  CHECK(r.scene.network.activation.kind == ActivationKind::relu);
  CHECK(r.scene.network.depth == 3);

  // A page address without a query carries no scene; "://" inside a value is part of the value.
  r = scene_from_query("https://example.org/fieldscope/");
  CHECK(r.scene == Scene{});
  r = scene_from_query("v=1&x=csv&csv=dir://x.csv&L=4");
  CHECK(r.status.ok());
  CHECK(r.scene.inputs.csv_path == "dir://x.csv");
  CHECK(r.scene.network.depth == 4);

  r = scene_from_query("v=1&%77%32=1%2E25&csv=a%20b%2Bc.csv&w2min=1e%2B0");
  CHECK(r.status.ok());
  CHECK(r.scene.network.sigma_w2 == 1.25);
  CHECK(r.scene.inputs.csv_path == "a b+c.csv");
  CHECK(r.scene.phase.sigma_w2_min == 1.0);

  r = scene_from_query("v=1&b2=1e+0&&");  // a literal '+' is a plus; empty segments are skipped
  CHECK(r.status.ok());
  CHECK(r.scene.network.sigma_b2 == 1.0);

  r = scene_from_query("  https://example.org/?v=1&L=4\r\n");  // pasted with spaces and a line break
  CHECK(r.status.ok());
  CHECK(r.scene.network.depth == 4);

  r = scene_from_query("https://example.org/fieldscope/");  // a URL without a query: no version
  CHECK_FALSE(r.status.ok());
  CHECK(r.scene == Scene{});

  r = scene_from_query("v=1&in2=0.5");
  CHECK(r.status.ok());
  REQUIRE(r.scene.network.sigma_in2.has_value());
  CHECK(*r.scene.network.sigma_in2 == 0.5);
  CHECK(r.scene.network.input_variance() == 0.5);
}

TEST_CASE("hostile links: each bad field falls back to its default, the rest loads") {
  struct Case {
    const char* part;
    const char* key;
  };
  const Case cases[] = {
      {"w2=abc", "w2"},
      {"w2=-1", "w2"},
      {"w2=0", "w2"},
      {"w2=nan", "w2"},
      {"w2=inf", "w2"},
      {"w2=-inf", "w2"},
      {"w2=1e999", "w2"},
      {"w2=0x10", "w2"},
      {"w2=", "w2"},
      {"w2=1.5.5", "w2"},
      {"w2=%20 1.5", "w2"},
      {"w2=%zz", "w2"},
      {"w2=1%", "w2"},
      {"w2=2&w2=3", "w2"},
      {"b2=-0.1", "b2"},
      {"b2=10001", "b2"},
      {"in2=-1", "in2"},
      {"L=999999999999", "L"},
      {"L=-1", "L"},
      {"L=-3", "L"},
      {"L=1.5", "L"},
      {"L=1001", "L"},
      {"d=0", "d"},
      {"P=100000", "P"},
      {"P=0", "P"},
      {"act=<script>", "act"},
      {"act=TANH", "act"},
      {"arch=cnn", "arch"},
      {"bias=sometimes", "bias"},
      {"in=later", "in"},
      {"x=mnist", "x"},
      {"nw=2000", "nw"},
      {"nb=1", "nb"},
      {"seed=-1", "seed"},
      {"seed=18446744073709551616", "seed"},
      {"view=3d", "view"},
      {"q=chi2", "q"},
      {"layer=-2", "layer"},
      {"ia=-1", "ia"},
      {"r=-1", "r"},
      {"span=7", "span"},
      {"steps=0", "steps"},
      {"pts=1,2;3", "pts"},
      {"pts=1,x", "pts"},
      {"pts=", "pts"},
      {"pts=1,nan", "pts"},
      {"csv=a%00b", "csv"},
      {"csv=%FF%FE", "csv"},
      {"ap=nan", "ap"},
      {"kv=both", "kv"},
      {"kc=%3Cb%3E", "kc"},
  };
  const Scene defaults;
  for (const Case& c : cases) {
    const std::string link = std::string("v=1&L=7&P=5&") + c.part + "&seed=9&ib=3";
    INFO("link: " << link);
    const SceneResult r = scene_from_query(link);
    CHECK_FALSE(r.status.ok());
    CHECK(r.status.code == StatusCode::invalid_input);
    CHECK(first_warning_names(r, c.key));
    CHECK(r.status.message == r.warnings.at(0));
    CHECK(warnings_are_plain(r));
    // The other fields are intact...
    if (std::string(c.key) != "L") CHECK(r.scene.network.depth == 7);
    if (std::string(c.key) != "P") CHECK(r.scene.inputs.count == 5);
    if (std::string(c.key) != "seed") CHECK(r.scene.seed == 9);
    CHECK(r.scene.view.input_b == 3);
    // ...and the bad one is at its default, so the scene is usable.
    CHECK(validate_scene(r.scene).ok());
  }
  CHECK(scene_from_query("v=1&w2=abc").scene.network.sigma_w2 == defaults.network.sigma_w2);
  CHECK(scene_from_query("v=1&L=999999999999").scene.network.depth == defaults.network.depth);
  CHECK(scene_from_query("v=1&P=100000").scene.inputs.count == defaults.inputs.count);
  CHECK(scene_from_query("v=1&w2=2&w2=3").scene.network.sigma_w2 == defaults.network.sigma_w2);
}

TEST_CASE("hostile links: versions, sizes, escapes, unknown keys") {
  // A newer format: a clear sentence, and the fields this version knows still load.
  SceneResult r = scene_from_query("v=99&L=7&P=5");
  CHECK(r.status.code == StatusCode::invalid_input);
  CHECK(r.warnings[0].rfind("v=99 is a newer scene format", 0) == 0);
  CHECK(r.scene.network.depth == 7);
  CHECK(r.scene.inputs.count == 5);

  for (const char* link : {"v=0&L=7", "v=abc&L=7", "v=-1&L=7", "v=1&v=1&L=7"}) {
    INFO(link);
    r = scene_from_query(link);
    CHECK_FALSE(r.status.ok());
    CHECK(first_warning_names(r, "v"));
    CHECK(r.scene.network.depth == 7);
  }

  // No version: read as version 1, but flagged.
  r = scene_from_query("L=7&P=5");
  CHECK_FALSE(r.status.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].find("(v)") != std::string::npos);
  CHECK(r.scene.network.depth == 7);
  CHECK(r.scene.inputs.count == 5);

  // Oversize text: refused whole, defaults, a sentence with the limit.
  const std::string huge = "v=1&L=7&w2=" + std::string(2 << 20, '1');
  r = scene_from_query(huge);
  CHECK_FALSE(r.status.ok());
  CHECK(r.scene == Scene{});
  CHECK(r.warnings[0].find(std::to_string(SceneLimits::max_text)) != std::string::npos);

  // A long value inside the limit: only that field falls back, the echo is cut short.
  r = scene_from_query("v=1&L=7&w2=" + std::string(600000, '7') + "&act=relu");
  CHECK_FALSE(r.status.ok());
  CHECK(first_warning_names(r, "w2"));
  CHECK(r.warnings[0].find("...") != std::string::npos);
  CHECK(r.warnings[0].size() < 300);
  CHECK(r.scene.network.depth == 7);
  CHECK(r.scene.network.activation.kind == ActivationKind::relu);

  // Markup in keys and values is never echoed.
  r = scene_from_query("v=1&%3Cimg%20src%3Dx%3E=1&act=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  CHECK_FALSE(r.status.ok());
  REQUIRE(r.warnings.size() == 2);
  CHECK(r.warnings[0].find("Unknown key") != std::string::npos);
  CHECK(r.warnings[1].rfind("act must be one of", 0) == 0);
  CHECK(warnings_are_plain(r));

  // A bad escape in a key, a segment without '=', an unknown key.
  r = scene_from_query("v=1&w%zz=1&justtext&colour=red&L=7");
  CHECK_FALSE(r.status.ok());
  CHECK(r.warnings.size() == 3);
  CHECK(r.warnings[2].find("colour") != std::string::npos);
  CHECK(r.scene.network.depth == 7);

  // Thousands of problems: the list stays short, the count is reported.
  std::string many = "v=1";
  for (int i = 0; i < 5000; ++i) many += "&k" + std::to_string(i) + "=1";
  r = scene_from_query(many);
  CHECK_FALSE(r.status.ok());
  CHECK(r.warnings.size() <= 40);
  CHECK(r.warnings.back().find("more problems") != std::string::npos);
}

TEST_CASE("inconsistent links: the dependent field falls back") {
  SceneResult r = scene_from_query("v=1&in=seq&L=5");  // a sequence needs a recurrent network
  CHECK_FALSE(r.status.ok());
  CHECK(first_warning_names(r, "in=seq"));
  CHECK(r.scene.network.input_mode == InputMode::first_step);
  CHECK(r.scene.network.depth == 5);
  CHECK(r.scene.inputs.steps == 1);  // derived from the mode, so it follows the repair
  CHECK(scene_to_query(r.scene) == "v=1&L=5");
  CHECK(validate_scene(r.scene).ok());

  r = scene_from_query("v=1&arch=recurrent&in=seq&L=5&steps=3");
  CHECK_FALSE(r.status.ok());
  CHECK(r.scene.network.input_mode == InputMode::first_step);
  CHECK(r.scene.inputs.steps == 3);
  CHECK(validate_scene(r.scene).ok());

  r = scene_from_query("v=1&w2min=5");  // above the default maximum 4
  CHECK_FALSE(r.status.ok());
  CHECK(first_warning_names(r, "w2min"));
  CHECK(r.scene.phase == PhaseGrid{});

  r = scene_from_query("v=1&x=points&L=4");
  CHECK_FALSE(r.status.ok());
  CHECK(r.scene.inputs.kind == InputKind::circle);
  CHECK(r.scene.network.depth == 4);

  r = scene_from_query("v=1&x=points&steps=2&pts=1,2,3");  // 3 numbers do not split into 2 steps
  CHECK_FALSE(r.status.ok());
  CHECK(first_warning_names(r, "pts"));
  CHECK(r.scene.inputs.points.empty());
  CHECK(r.scene.inputs.kind == InputKind::circle);
  CHECK(r.scene.inputs.steps == 2);
  CHECK(validate_scene(r.scene).ok());

  r = scene_from_query("v=1&L=4&layer=9");
  CHECK_FALSE(r.status.ok());
  CHECK(first_warning_names(r, "layer"));
  CHECK(r.scene.view.layer == -1);

  r = scene_from_query("v=1&act=erf&ap=0");
  CHECK_FALSE(r.status.ok());
  CHECK(first_warning_names(r, "ap"));
  CHECK(r.warnings[0].find("(0, 100]") != std::string::npos);
  CHECK(r.scene.network.activation == Activation{ActivationKind::erf, 1.0});

  r = scene_from_query("v=1&act=leaky_relu&ap=1");
  CHECK_FALSE(r.status.ok());
  CHECK(r.warnings[0].find("[0, 1)") != std::string::npos);
  CHECK(r.scene.network.activation == Activation{ActivationKind::leaky_relu, 0.1});

  r = scene_from_query("v=1&x=gaussian&P=4096&d=4096&steps=2");  // 33 M numbers: too large
  CHECK(r.status.code == StatusCode::too_large);
  CHECK(r.scene.inputs.dim == InputsSpec{}.dim);
  CHECK(r.scene.inputs.count == 4096);
}

// --- 4. JSON form ---------------------------------------------------------------------------------

TEST_CASE("kernels view fields: old links keep their single view; both forms carry kv and kc") {
  // Links written before these keys existed have neither: they open on the single-architecture view.
  const SceneResult old = scene_from_query("v=1&arch=recurrent&view=kernels");
  CHECK(old.status.ok());
  CHECK(old.scene.view.kernels == KernelView::single);
  CHECK(old.scene.view.cross == CrossTimeScale::covariance);
  Scene s;
  s.view.panel = Panel::kernels;
  s.view.kernels = KernelView::compare;
  s.view.cross = CrossTimeScale::correlation;
  CHECK(scene_to_query(s) == "v=1&view=kernels&kv=compare&kc=corr");
  CHECK(scene_from_query(scene_to_query(s)).scene == s);
  const std::string json = scene_to_json(s);
  CHECK(json.find("\"kernels\": \"compare\"") != std::string::npos);
  CHECK(json.find("\"cross\": \"corr\"") != std::string::npos);
  CHECK(scene_from_json(json).scene == s);
  const SceneResult bad = scene_from_json(R"({"fieldscope": 1, "view": {"kernels": "triple", "cross": "corr"}})");
  CHECK_FALSE(bad.status.ok());
  CHECK(bad.warnings.at(0).rfind("view.kernels must be one of single, compare", 0) == 0);
  CHECK(bad.scene.view.kernels == KernelView::single);
  CHECK(bad.scene.view.cross == CrossTimeScale::correlation);
}

TEST_CASE("ensemble and GP panel fields: both forms, defaults, bad values and inconsistencies") {
  Scene s;
  s.view.panel = Panel::ensemble;
  s.ensemble.width = 32;
  s.ensemble.show = EnsembleView::width;
  s.gp.classes = {0, 7};
  s.gp.points = {{0.5, 1}, {-1, 2}};
  CHECK(scene_to_query(s) == "v=1&view=ensemble&ew=32&ev=width&gcl=0,7&gpts=0.5,1;-1,2");
  CHECK(scene_from_query(scene_to_query(s)).scene == s);
  CHECK(scene_from_json(scene_to_json(s)).scene == s);
  CHECK(scene_to_json(s).find("\"classes\": [\n      0,\n      7\n    ]") != std::string::npos);

  // Each bad value falls back to its default with a warning naming the key; the rest loads.
  struct Bad {
    const char* query;
    const char* key;
  };
  const Bad bad[] = {{"ew=0", "ew"},        {"em=1", "em"},       {"es=slow", "es"},    {"ep=float16", "ep"},
                     {"ewmin=-3", "ewmin"}, {"esw=depth", "esw"}, {"eslo=nan", "eslo"}, {"ev=3d", "ev"},
                     {"gd=mnist", "gd"},    {"gn=0", "gn"},       {"gt=30000", "gt"},   {"gno=11", "gno"},
                     {"gcl=0,10", "gcl"},   {"gcl=1,1", "gcl"},   {"gcl=a", "gcl"},     {"gds=15", "gds"},
                     {"gs2=-1", "gs2"},     {"gr=-2", "gr"},      {"gv=table", "gv"},   {"gq=loss", "gq"},
                     {"gL=0", "gL"},        {"gsw=x", "gsw"},     {"gpts=1", "gpts"},   {"gpts=1,2;3", "gpts"}};
  for (const Bad& b : bad) {
    CAPTURE(b.query);
    const SceneResult r = scene_from_query(std::string("v=1&w2=2&") + b.query);
    CHECK_FALSE(r.status.ok());
    CHECK(first_warning_names(r, b.key));
    CHECK(r.scene.network.sigma_w2 == 2.0);
    Scene expected;
    expected.network.sigma_w2 = 2.0;
    CHECK(r.scene == expected);
  }
  // Inconsistent combinations: the dependent fields fall back.
  const SceneResult widths = scene_from_query("v=1&ewmin=64&ewmax=32");
  CHECK(widths.warnings.at(0).rfind("ewmin must be less than ewmax", 0) == 0);
  CHECK(widths.scene.ensemble.width_min == 8);
  CHECK(widths.scene.ensemble.width_max == 256);
  const SceneResult depth_sweep = scene_from_query("v=1&esw=L&eslo=2&eshi=5000");
  CHECK(depth_sweep.warnings.at(0).rfind("eshi must be at most 1000", 0) == 0);
  const SceneResult sizes = scene_from_query("v=1&gn=15000&gt=6000");
  CHECK(sizes.status.code == StatusCode::too_large);
  CHECK(sizes.scene.gp.train == 200);
  const SceneResult pool = scene_from_query("v=1&gds=3");
  CHECK(pool.warnings.at(0).rfind("gds must divide 28", 0) == 0);
  const SceneResult readout = scene_from_query("v=1&L=3&gr=5");
  CHECK(readout.warnings.at(0).rfind("gr must be in -1..L = 3", 0) == 0);
  CHECK(readout.scene.gp.readout_from == -1);
  const SceneResult rows = scene_from_query("v=1&gd=points&gpts=1,2,3;4,5,6");
  CHECK(rows.warnings.at(0).rfind("gd=points needs gpts rows of two numbers", 0) == 0);
  CHECK(rows.scene.gp.points.empty());
  const SceneResult csv = scene_from_query("v=1&gd=csv");
  CHECK(csv.warnings.at(0).rfind("gd=csv needs at least two labelled rows", 0) == 0);
  CHECK(csv.scene.gp.dataset == GpData::points);
  const SceneResult labelled = scene_from_query("v=1&gd=csv&gpts=0,0,1;1,1,0;2,2,1");
  CHECK(labelled.status.ok());
  const SceneResult json = scene_from_json(R"({"fieldscope": 1, "gp": {"classes": [3, 12], "train": 50}})");
  CHECK(json.warnings.at(0).rfind("gp.classes must be an array of class ids", 0) == 0);
  CHECK(json.scene.gp.train == 50);
  CHECK(json.scene.gp.classes.empty());
}

TEST_CASE("renorm panel fields: both forms, old links, bad values and inconsistencies") {
  // Every field away from its default, doubles at full precision.
  Scene s;
  s.view.panel = Panel::renorm;
  RenormViewSpec& r = s.renorm;
  r.layers = 3;
  r.width = 250;
  r.gates = 2;
  r.readout = RenormReadout::ungated;
  r.sharing = RenormGates::unshared;
  r.sigma2 = 1.0 / 3.0;
  r.temperature = 0.0;
  r.gate_kind = GateKind::kmeans;
  r.threshold = -0.25;
  r.task = RenormTask::template_model;
  r.dim = 64;
  r.train = 300;
  r.test = 1700;
  r.noise = 0.1;
  r.sweep = RenormSweepParameter::depth;
  r.sweep_min = 1;
  r.sweep_max = 8;
  r.sweep_points = 8;
  r.simulation = RenormSimulation::langevin;
  r.chains = 16;
  r.samples = 2000;
  r.show = RenormView::predictions;
  check_round_trips(s);
  CHECK(scene_to_query(s) ==
        "v=1&view=renorm&rL=3&rN=250&rM=2&rro=ungated&rsh=unshared&rs2=0.3333333333333333&rT=0&rgk=kmeans&rb=-0.25"
        "&rtask=template&rd=64&rP=300&rQ=1700&rno=0.1&rsw=L&rlo=1&rhi=8&rn=8&rsim=langevin&rch=16&rsa=2000&rv=predictions");
  const std::string json = scene_to_json(s);
  CHECK(json.find("\"renorm\": {\n    \"layers\": 3,") != std::string::npos);
  CHECK(json.find("\"gate_kind\": \"kmeans\"") != std::string::npos);
  CHECK(json.find("\"task\": \"template\"") != std::string::npos);
  // The other choices, and the largest ranges of the L and M sweeps.
  r.gate_kind = GateKind::pca;
  r.sweep = RenormSweepParameter::gates;
  r.sweep_max = 64;
  r.simulation = RenormSimulation::off;
  r.show = RenormView::order;
  check_round_trips(s);
  r.gate_kind = GateKind::hyperplane;
  r.simulation = RenormSimulation::gibbs;
  for (RenormSweepParameter p : {RenormSweepParameter::sigma2, RenormSweepParameter::temperature}) {
    r.sweep = p;
    r.sweep_min = 1e-3;
    r.sweep_max = 1e6;
    check_round_trips(s);
  }

  // Links and documents written before the panel existed load with its defaults.
  for (const char* old_link : {"v=1", "v=1&arch=recurrent&L=20&view=gp&gd=moons&gsw=b2", "v=1&view=ensemble&ew=32"}) {
    CAPTURE(old_link);
    const SceneResult old = scene_from_query(old_link);
    CHECK(old.status.ok());
    CHECK(old.scene.renorm == RenormViewSpec{});
    CHECK(scene_to_query(old.scene) == old_link);  // and write back unchanged
  }
  const SceneResult old_json = scene_from_json(R"({"fieldscope": 1, "depth": 3, "gp": {"train": 50}})");
  CHECK(old_json.status.ok());
  CHECK(old_json.scene.renorm == RenormViewSpec{});
  CHECK(scene_to_json(Scene{}).find("\"gate_kind\": \"random\"") != std::string::npos);

  // Each bad value falls back to its default with a warning naming the key; the rest loads.
  struct Bad {
    const char* query;
    const char* key;
  };
  const Bad bad[] = {
      {"rL=0", "rL"},           {"rL=9", "rL"},     {"rL=1.5", "rL"},     {"rN=0", "rN"},
      {"rN=100001", "rN"},      {"rM=0", "rM"},     {"rM=65", "rM"},      {"rro=both", "rro"},
      {"rsh=sometimes", "rsh"}, {"rs2=0", "rs2"},   {"rs2=100.5", "rs2"}, {"rs2=nan", "rs2"},
      {"rT=-0.01", "rT"},       {"rT=101", "rT"},   {"rgk=file", "rgk"},  {"rgk=hyperplane", "rgk"},
      {"rgk=PCA", "rgk"},       {"rb=10.5", "rb"},  {"rb=-11", "rb"},     {"rtask=mnist", "rtask"},
      {"rd=0", "rd"},           {"rd=1025", "rd"},  {"rP=0", "rP"},       {"rP=2001", "rP"},
      {"rQ=0", "rQ"},           {"rQ=2001", "rQ"},  {"rno=-1", "rno"},    {"rno=10.5", "rno"},
      {"rsw=width", "rsw"},     {"rsw=n", "rsw"},   {"rlo=0", "rlo"},     {"rlo=-5", "rlo"},
      {"rhi=2e6", "rhi"},       {"rhi=abc", "rhi"}, {"rn=1", "rn"},       {"rn=61", "rn"},
      {"rsim=mcmc", "rsim"},    {"rch=1", "rch"},   {"rch=65", "rch"},    {"rsa=9", "rsa"},
      {"rsa=100001", "rsa"},    {"rv=loss", "rv"},  {"rL=2&rL=3", "rL"},  {"rs2=%zz", "rs2"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.query);
    const SceneResult loaded = scene_from_query(std::string("v=1&w2=2&") + b.query);
    CHECK_FALSE(loaded.status.ok());
    CHECK(loaded.status.code == StatusCode::invalid_input);
    CHECK(first_warning_names(loaded, b.key));
    CHECK(loaded.warnings.at(0).find("kept the default") != std::string::npos);
    CHECK(warnings_are_plain(loaded));
    Scene expected;
    expected.network.sigma_w2 = 2.0;
    CHECK(loaded.scene == expected);
    CHECK(validate_scene(loaded.scene).ok());
  }
  const SceneResult file_gates = scene_from_query("v=1&rgk=file&rL=4");
  CHECK(file_gates.warnings.at(0) == "rgk must be one of random, pca, kmeans; got \"file\"; kept the default random.");
  CHECK(file_gates.scene.renorm.gate_kind == GateKind::hyperplane);
  CHECK(file_gates.scene.renorm.layers == 4);

  // Inconsistent combinations: the range falls back, and for L and M the sweep parameter with it.
  for (const char* link : {"v=1&rlo=500&rhi=100&rL=4", "v=1&rlo=7&rhi=7&rL=4"}) {
    CAPTURE(link);
    const SceneResult range = scene_from_query(link);
    CHECK(range.warnings.at(0).rfind("rlo must be less than rhi", 0) == 0);
    CHECK(range.warnings.at(0).find("kept the defaults rlo=25, rhi=1e3") != std::string::npos);
    CHECK(range.scene.renorm.sweep_min == 25);
    CHECK(range.scene.renorm.sweep_max == 1000);
    CHECK(range.scene.renorm.layers == 4);
  }
  struct Sweep {
    const char* link;
    const char* warning;
  };
  const Sweep sweeps[] = {
      {"v=1&rsw=L&rlo=1&rhi=10&rL=4", "rsw=L needs rlo and rhi in 1..8 (got 1 and 1e1)"},
      {"v=1&rsw=L&rlo=0.5&rhi=4&rL=4", "rsw=L needs rlo and rhi in 1..8 (got 0.5 and 4)"},
      {"v=1&rsw=L&rL=4", "rsw=L needs rlo and rhi in 1..8 (got 25 and 1e3)"},  // the default range is a width's
      {"v=1&rsw=M&rlo=2&rhi=65&rL=4", "rsw=M needs rlo and rhi in 1..64 (got 2 and 65)"},
  };
  for (const Sweep& sweep : sweeps) {
    CAPTURE(sweep.link);
    const SceneResult loaded = scene_from_query(sweep.link);
    CHECK_FALSE(loaded.status.ok());
    REQUIRE(loaded.warnings.size() == 1);
    CHECK(loaded.warnings[0] == std::string(sweep.warning) + "; kept the defaults rsw=N, rlo=25, rhi=1e3.");
    RenormViewSpec expected;
    expected.layers = 4;
    CHECK(loaded.scene.renorm == expected);
    CHECK(validate_scene(loaded.scene).ok());
  }
  CHECK(scene_from_query("v=1&rsw=L&rlo=1&rhi=8").status.ok());
  CHECK(scene_from_query("v=1&rsw=M&rlo=1&rhi=64").status.ok());

  // The JSON form: the same checks, named by JSON path.
  SceneResult loaded = scene_from_json(R"({"fieldscope": 1, "renorm": {"gate_kind": "file", "width": 50}})");
  CHECK(loaded.warnings.at(0).rfind("renorm.gate_kind must be one of random, pca, kmeans", 0) == 0);
  CHECK(loaded.scene.renorm.gate_kind == GateKind::hyperplane);
  CHECK(loaded.scene.renorm.width == 50);
  loaded = scene_from_json(R"({"fieldscope": 1, "renorm": {"sweep": "L", "sweep_min": 2, "sweep_max": 12}})");
  CHECK(loaded.warnings.at(0).rfind("renorm.sweep = L needs renorm.sweep_min and renorm.sweep_max in 1..8", 0) == 0);
  CHECK(loaded.scene.renorm == RenormViewSpec{});
  loaded = scene_from_json(R"({"fieldscope": 1, "renorm": {"layers": 2.5, "train": "100"}})");
  CHECK(loaded.warnings.size() == 2);
  CHECK(first_warning_names(loaded, "renorm.layers"));
  CHECK(loaded.scene.renorm == RenormViewSpec{});
  loaded = scene_from_json(R"({"fieldscope": 1, "renorm": [1, 2]})");
  CHECK(loaded.warnings.at(0) == "\"renorm\" must be an object; its fields kept their defaults.");

  // validate_scene: a scene built in code may hold gates from a file, which no link can carry.
  Scene from_file;
  from_file.renorm.gate_kind = GateKind::given;
  CHECK(validate_scene(from_file).message.rfind("renorm.gate_kind must be one of random, pca, kmeans", 0) == 0);
  Scene wide_depth_sweep;
  wide_depth_sweep.renorm.sweep = RenormSweepParameter::depth;
  CHECK(validate_scene(wide_depth_sweep).message.rfind("renorm.sweep = L needs", 0) == 0);
}

TEST_CASE("renorm data fields: Fashion-MNIST classes and pooling, labelled rows; their checks") {
  Scene s;
  s.view.panel = Panel::renorm;
  s.renorm.task = RenormTask::fashion_mnist;
  s.renorm.classes = {2, 4};
  s.renorm.downsample = 7;
  check_round_trips(s);
  CHECK(scene_to_query(s) == "v=1&view=renorm&rtask=fashion-mnist&rcl=2,4&rds=7");
  s.renorm.compare = RenormCompare::gate_kinds;
  check_round_trips(s);
  CHECK(scene_to_query(s) == "v=1&view=renorm&rtask=fashion-mnist&rcl=2,4&rds=7&rcmp=gates");
  s.renorm.compare = RenormCompare::none;
  CHECK(scene_to_json(s).find("\"classes\": [\n      2,\n      4\n    ]") != std::string::npos);
  Scene rows;
  rows.view.panel = Panel::renorm;
  rows.renorm.task = RenormTask::csv;
  for (int i = 0; i < 8; ++i) rows.renorm.points.push_back({0.5 * i, -1.0 / 3.0, i % 2 ? 1.0 : -1.0});
  check_round_trips(rows);
  CHECK(scene_to_query(rows).rfind("v=1&view=renorm&rtask=csv&rpts=0,-0.3333333333333333,-1;0.5,", 0) == 0);

  // One class, a pooling factor that does not divide 28, too few rows: each falls back with a sentence.
  SceneResult r = scene_from_query("v=1&view=renorm&rtask=fashion-mnist&rcl=3");
  CHECK(r.warnings.at(0).rfind("rtask=fashion-mnist needs two class ids in rcl", 0) == 0);
  CHECK(r.scene.renorm.classes == RenormViewSpec{}.classes);
  CHECK(r.scene.renorm.task == RenormTask::fashion_mnist);
  r = scene_from_query("v=1&view=renorm&rds=5");
  CHECK(r.warnings.at(0).rfind("rds must divide 28", 0) == 0);
  CHECK(r.scene.renorm.downsample == 4);
  r = scene_from_query("v=1&view=renorm&rtask=csv&rpts=1,2;3,4");
  CHECK(r.warnings.at(0).rfind("rtask=csv needs at least 8 labelled rows in rpts", 0) == 0);
  CHECK(r.scene.renorm.task == RenormTask::teacher);
  r = scene_from_query("v=1&view=renorm&rtask=csv&rpts=1;2;3;4;5;6;7;8");
  CHECK(!r.warnings.empty());  // rows of one number hold no feature
  CHECK(r.scene.renorm.points.empty());
  // Several tasks: the fields, the K sweep's range, synthetic tasks only, the point budget over all tasks.
  Scene tasks;
  tasks.view.panel = Panel::renorm;
  tasks.renorm.tasks = 3;
  tasks.renorm.task_gates = RenormTaskGates::shared;
  tasks.renorm.sweep = RenormSweepParameter::tasks;
  tasks.renorm.sweep_min = 1;
  tasks.renorm.sweep_max = 4;
  check_round_trips(tasks);
  CHECK(scene_to_query(tasks) == "v=1&view=renorm&rsw=K&rlo=1&rhi=4&rK=3&rtg=shared");
  r = scene_from_query("v=1&view=renorm&rsw=K&rlo=1&rhi=40");
  CHECK(r.warnings.at(0).rfind("rsw=K needs rlo and rhi in 1..16", 0) == 0);
  r = scene_from_query("v=1&view=renorm&rtask=fashion-mnist&rK=2");
  CHECK(r.warnings.at(0).rfind("several tasks (rK > 1, or rsw = K) need a synthetic task", 0) == 0);
  CHECK(r.scene.renorm.tasks == 1);
  r = scene_from_query("v=1&view=renorm&rK=16&rP=200&rQ=100");
  CHECK(r.warnings.at(0).rfind("(rP + rQ) per task times the tasks must be at most 4000", 0) == 0);
  CHECK(r.scene.renorm.tasks == 16);
  CHECK(r.scene.renorm.train == 100);
  r = scene_from_query("v=1&view=renorm&rcl=1,1");
  CHECK(!r.warnings.empty());
  CHECK(r.scene.renorm.classes == RenormViewSpec{}.classes);
}

TEST_CASE("JSON form: layout and optional sigma_in2") {
  const std::string json = scene_to_json(Scene{});
  CHECK(json.rfind("{\n  \"fieldscope\": 1,", 0) == 0);
  CHECK(json.find("\"sigma_in2\": null") != std::string::npos);
  CHECK(json.find("\"activation\": {") != std::string::npos);

  SceneResult r = scene_from_json(R"({"fieldscope": 1, "sigma_in2": 0.5, "depth": 3})");
  CHECK(r.status.ok());
  CHECK(r.scene.network.sigma_in2 == std::optional<double>(0.5));
  CHECK(r.scene.network.depth == 3);
  r = scene_from_json(R"({"fieldscope": 1, "sigma_in2": null})");
  CHECK(r.status.ok());
  CHECK_FALSE(r.scene.network.sigma_in2.has_value());
  // Integers are fine where doubles are expected; an absent key keeps its default.
  r = scene_from_json(R"({"fieldscope": 1, "sigma_w2": 2, "activation": {"name": "leaky_relu"}})");
  CHECK(r.status.ok());
  CHECK(r.scene.network.sigma_w2 == 2.0);
  CHECK(r.scene.network.activation.param == 0.1);
}

TEST_CASE("hostile JSON: wrong types, unknown and repeated keys, versions, size, nesting") {
  struct Case {
    const char* json;
    const char* key;
  };
  const Case cases[] = {
      {R"("sigma_w2": "1.5")", "sigma_w2"},
      {R"("sigma_w2": -1)", "sigma_w2"},
      {R"("sigma_w2": null)", "sigma_w2"},
      {R"("sigma_w2": 1, "sigma_w2": 2)", "sigma_w2"},
      {R"("sigma_in2": "none")", "sigma_in2"},
      {R"("depth": 10.5)", "depth"},
      {R"("depth": 99999999999999999999)", "depth"},
      {R"("depth": -1)", "depth"},
      {R"("seed": -1)", "seed"},
      {R"("seed": 1.5)", "seed"},
      {R"("arch": 1)", "arch"},
      {R"("activation": {"name": "<b>bold</b>"})", "activation.name"},
      {R"("activation": {"name": "erf", "param": 0})", "activation.param"},
      {R"("inputs": {"count": 100000})", "inputs.count"},
      {R"("inputs": {"points": [[1, 2], [3]]})", "inputs.points"},
      {R"("inputs": {"points": [[1, "a"]]})", "inputs.points"},
      {R"("inputs": {"points": 5})", "inputs.points"},
      {R"("inputs": {"kind": "points"})", "inputs.kind"},
      {R"("phase": {"columns": 1025})", "phase.columns"},
      {R"("phase": {"sigma_b2_min": 2})", "phase.sigma_b2_min"},
      {R"("view": {"panel": "3d"})", "view.panel"},
      {R"("view": {"layer": 11})", "view.layer"},
  };
  for (const Case& c : cases) {
    const std::string json = std::string(R"({"fieldscope": 1, "bias_mode": "independent", )") + c.json + R"(, "seed": 9})";
    INFO("json: " << json);
    const SceneResult r = scene_from_json(json);
    CHECK(r.status.code == StatusCode::invalid_input);
    CHECK(first_warning_names(r, c.key));
    CHECK(warnings_are_plain(r));
    CHECK(r.scene.network.bias_mode == BiasMode::independent);
    if (std::string(c.key) != "seed") CHECK(r.scene.seed == 9);
    CHECK(validate_scene(r.scene).ok());
  }

  SceneResult r = scene_from_json(R"({"fieldscope": 2, "depth": 4})");
  CHECK_FALSE(r.status.ok());
  CHECK(r.warnings[0].rfind("fieldscope = 2 is a newer scene format", 0) == 0);
  CHECK(r.scene.network.depth == 4);

  r = scene_from_json(R"({"depth": 4})");
  CHECK_FALSE(r.status.ok());
  CHECK(r.warnings[0].find("(fieldscope)") != std::string::npos);
  CHECK(r.scene.network.depth == 4);

  r = scene_from_json(R"({"fieldscope": 1, "depth": 4, "colour": "red", "inputs": {"count": 3, "size": 2},
                          "inputs.count": 7})");
  CHECK_FALSE(r.status.ok());
  CHECK(r.warnings.size() == 3);
  CHECK(r.scene.network.depth == 4);
  CHECK(r.scene.inputs.count == 3);

  r = scene_from_json(R"({"fieldscope": 1, "inputs": {"count": 3}, "inputs": {"count": 4}, "depth": 4})");
  CHECK_FALSE(r.status.ok());
  CHECK(r.scene.inputs.count == InputsSpec{}.count);
  CHECK(r.scene.network.depth == 4);

  r = scene_from_json(R"({"fieldscope": 1, "view": "phase"})");
  CHECK_FALSE(r.status.ok());
  CHECK(r.scene.view == ViewSpec{});

  for (const std::string& bad :
       {std::string("not json"), std::string("[1, 2]"), std::string(R"({"fieldscope": 1,)"),
        std::string("{\"fieldscope\": 1, \"arch\": \"\xFF\"}"), std::string(),
        std::string(100000, '[') + std::string(100000, ']'), "{\"csv\": \"" + std::string(2 << 20, 'a') + "\"}"}) {
    r = scene_from_json(bad);
    CHECK_FALSE(r.status.ok());
    CHECK(r.scene == Scene{});
    CHECK(r.warnings.size() == 1);
    CHECK(warnings_are_plain(r));
  }
}

// --- 5. validate_scene ----------------------------------------------------------------------------

TEST_CASE("validate_scene names the first problem") {
  const auto problem = [](const Scene& s) { return validate_scene(s).message; };
  Scene s;
  s.network.sigma_w2 = 0.0;
  CHECK(problem(s).rfind("sigma_w2 must be a number in (0, 10000]", 0) == 0);
  s = Scene{};
  s.network.sigma_b2 = std::nan("");
  CHECK(problem(s).rfind("sigma_b2 ", 0) == 0);
  s = Scene{};
  s.network.sigma_in2 = -1.0;
  CHECK(problem(s).rfind("sigma_in2 ", 0) == 0);
  s = Scene{};
  s.network.depth = SceneLimits::max_depth + 1;
  CHECK(problem(s).rfind("depth ", 0) == 0);
  s = Scene{};
  s.network.activation = {ActivationKind::erf, 100.5};
  CHECK(problem(s).rfind("activation.param ", 0) == 0);
  s.network.activation = {ActivationKind::erf, 100.0};
  CHECK(validate_scene(s).ok());
  s.network.activation = {ActivationKind::leaky_relu, 1.0};
  CHECK_FALSE(validate_scene(s).ok());
  s = Scene{};
  s.inputs.count = SceneLimits::max_inputs + 1;
  CHECK(problem(s).rfind("inputs.count ", 0) == 0);
  s = Scene{};
  s.phase.rows = 1;
  CHECK(problem(s).rfind("phase.rows ", 0) == 0);
  s = Scene{};
  s.phase.sigma_w2_max = s.phase.sigma_w2_min;
  CHECK(problem(s).rfind("phase.sigma_w2_min must be less than", 0) == 0);
  s = Scene{};
  s.view.quantity = static_cast<PhaseQuantity>(99);  // no such value (a corrupted scene)
  CHECK(problem(s).rfind("view.quantity must be one of chi1, xi_c, lambda, q_star, c_star", 0) == 0);
  s = Scene{};
  s.view.layer = 11;
  CHECK(problem(s).rfind("view.layer ", 0) == 0);
  s.view.layer = 10;
  CHECK(validate_scene(s).ok());

  s = Scene{};
  s.network.input_mode = InputMode::sequence;
  s.inputs.steps = s.network.depth + 1;
  CHECK(problem(s).find("arch") != std::string::npos);  // deep network
  s.network.arch = Architecture::recurrent;
  CHECK(validate_scene(s).ok());
  s.inputs.steps = s.network.depth;
  CHECK(problem(s).find("inputs.steps") != std::string::npos);

  s = Scene{};
  s.inputs.kind = InputKind::points;
  CHECK_FALSE(validate_scene(s).ok());  // no points
  s.inputs.points = {{1, 2}, {3, 4, 5}};
  CHECK(problem(s).rfind("inputs.points ", 0) == 0);
  s.inputs.points = {{1, 2}, {3, 4}};
  CHECK(validate_scene(s).ok());
  s.inputs.steps = 3;  // rows of 2 do not split into 3 steps
  CHECK(problem(s).rfind("inputs.points ", 0) == 0);

  s = Scene{};
  s.inputs.kind = InputKind::gaussian;
  s.inputs.count = 4096;
  s.inputs.dim = 4096;
  s.inputs.steps = 2;
  CHECK(validate_scene(s).code == StatusCode::too_large);
}
