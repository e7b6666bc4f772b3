// fieldscope-cli: the headless command line over the core. A scene comes from a JSON file, a share
// link, or flags (applied in that order, later ones winning), exactly as the explorer reads it.
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "core/scene.h"
#include "core/text.h"

namespace {

// Replaces (or adds) query keys in a canonical query string, keeping the canonical key order.
std::string merge_query(const std::string& base, const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::stringstream ss(base);
  std::string item;
  while (std::getline(ss, item, '&')) {
    const auto eq = item.find('=');
    pairs.emplace_back(item.substr(0, eq), eq == std::string::npos ? "" : item.substr(eq + 1));
  }
  for (const auto& [key, value] : overrides) {
    bool found = false;
    for (auto& p : pairs)
      if (p.first == key) {
        p.second = fs::percent_encode_opaque(value);
        found = true;
      }
    if (!found) pairs.emplace_back(key, fs::percent_encode_opaque(value));
  }
  std::string out;
  for (const auto& [k, v] : pairs) out += (out.empty() ? "" : "&") + k + "=" + v;
  return out;
}

// `flag_of_key`: the flag that set each share-link key, named beside the key in the sentences.
bool load(fs::SceneResult result, const char* source, fs::Scene& scene,
          const std::map<std::string, std::string>& flag_of_key = {}) {
  if (!result.status.ok()) {
    std::cerr << "fieldscope-cli: refused the " << source << "; nothing was computed:\n";
    for (std::string p : result.problems) {
      const std::string key = p.substr(0, p.find_first_of(" ="));
      if (const auto f = flag_of_key.find(key); f != flag_of_key.end()) p = f->second + " (" + key + ")" + p.substr(key.size());
      std::cerr << "  " << p << "\n";
    }
    if (result.problems.empty()) std::cerr << "  " << result.status.message << "\n";
    return false;
  }
  scene = result.scene;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "fieldscope-cli - mean-field theory of deep and recurrent networks on the command line.\n"
      "A scene comes from --scene (JSON), --link (share link) and flags, applied in that order.\n"
      "Output: JSON (default) or CSV on stdout or --output; problems go to stderr with exit code 1\n"
      "(the computation reported a problem; partial results are still written) or 2 (bad input).\n"
      "Infinite values are written as the string \"inf\". See docs/scene.md for every scene field."};
  app.require_subcommand(1);
  app.fallthrough();

  std::string scene_file, link, output, format = "json", inputs_csv;
  std::vector<std::string> sets;
  std::vector<std::pair<std::string, std::string>> overrides;
  app.add_option("--scene", scene_file, "Scene JSON file")->check(CLI::ExistingFile);
  app.add_option("--link", link, "Share link or its query part (\"v=1&act=tanh&w2=1.5...\")");
  app.add_option("-o,--output", output, "Write the result to this file instead of stdout");
  app.add_option("-f,--format", format, "Output format")->check(CLI::IsMember({"json", "csv"}));
  app.add_option("--inputs-csv", inputs_csv, "Inputs from a CSV file: one input per row")->check(CLI::ExistingFile);
  app.add_option("--set", sets, "Set any scene field by its share-link key, e.g. --set nw=128 (repeatable)");
  // Named flags for the common fields; each is the share-link key of the same name.
  struct Flag {
    const char* name;
    const char* key;
    const char* help;
  };
  const Flag flags[] = {
      {"--arch", "arch", "Architecture: deep | recurrent"},
      {"--act", "act", "Activation: linear relu leaky_relu erf tanh sigmoid sign step sin cos softplus gelu"},
      {"--param", "ap", "Activation parameter: erf scale a, leaky ReLU slope alpha"},
      {"--w2", "w2", "Weight variance sigma_w^2"},
      {"--b2", "b2", "Bias variance sigma_b^2"},
      {"--in2", "in2", "Input-layer weight variance sigma_in^2 (default: sigma_w^2)"},
      {"-L,--depth", "L",
       "Depth L >= 0: weight layers after the input layer (deep) or steps after t = 0 (recurrent); hidden layers h^0..h^L, the "
       "readout reads phi(h^L); 0 = one hidden layer"},
      {"--bias", "bias", "Recurrent bias: shared | independent"},
      {"--input", "in", "Recurrent input: t0 | every | seq"},
      {"--inputs", "x", "Inputs: circle | gaussian | points | csv"},
      {"-P,--count", "P", "Number of inputs"},
      {"--dim", "d", "Input dimension (gaussian inputs)"},
      {"--radius", "r", "Input radius: G_aa = r^2"},
      {"--span", "span", "Circle inputs: angle span"},
      {"--seed", "seed", "Random seed"},
      {"--w2min", "w2min", "Phase diagram: smallest sigma_w^2"},
      {"--w2max", "w2max", "Phase diagram: largest sigma_w^2"},
      {"--b2min", "b2min", "Phase diagram: smallest sigma_b^2"},
      {"--b2max", "b2max", "Phase diagram: largest sigma_b^2"},
      {"--nw", "nw", "Phase diagram: sigma_w^2 samples"},
      {"--nb", "nb", "Phase diagram: sigma_b^2 samples"},
  };
  // Every named flag sets its share-link key (so that a link's values are the defaults); the flag's name is
  // kept for the sentences about bad values. A CSV file of labelled data is read by the gp command itself,
  // not carried by the scene (whose gd=csv holds its rows in the link).
  fs::cli::Options options;
  std::map<std::string, std::string> flag_of_key;
  auto add_scene_flags = [&](CLI::App* command, const Flag* begin, const Flag* end) {
    for (const Flag* f = begin; f != end; ++f) {
      const std::string name = f->name, key = f->key;
      flag_of_key[key] = name.substr(name.find(',') + 1);
      command->add_option_function<std::string>(
          f->name,
          [&, key](const std::string& v) {
            if (key == "gd" && v == "csv")
              options.gp.csv_file = true;
            else
              overrides.emplace_back(key, v);
          },
          f->help);
    }
  };
  add_scene_flags(&app, std::begin(flags), std::end(flags));

  bool progress = false;
  app.add_flag("--progress", progress, "Show a progress bar on stderr");

  auto* kernel = app.add_subcommand("kernel", "Kernels K^l of every layer (deep) or the two-time kernel K^{ts} (recurrent)");
  kernel->add_flag("--ntk", options.with_ntk, "Deep: the NTK alongside the NNGP kernel");
  auto* fixed = app.add_subcommand("fixed-point",
                                   "q*, c*, chi_1, chi_c, xi_q, xi_c and lambda_max at (sigma_w^2, sigma_b^2); at width N, "
                                   "lambda_max and the critical sigma_w^2 where exact (deep linear networks)");
  const Flag fixed_flags[] = {{"-N,--width", "ew", "Width N of the finite-width quantities (default: the scene's ew, 64)"}};
  add_scene_flags(fixed, std::begin(fixed_flags), std::end(fixed_flags));
  app.add_subcommand("signal", "q^l and c^l for the view's input pair (ia, ib) through the layers");
  auto* crit = app.add_subcommand("critical-line", "sigma_w^2 at chi_1 = 1 for each sigma_b^2 (the grid rows by default)");
  crit->add_option("--b2-values", options.sigma_b2_values, "Comma-separated sigma_b^2 values");
  app.add_subcommand("phase", "Phase-diagram grid of chi_1, xi_c, lambda_max, q*, c* over (sigma_w^2, sigma_b^2)");
  auto* qmap = app.add_subcommand("qmap", "Iterates of the length map (cobweb) from the first input's q");
  qmap->add_option("--steps", options.steps, "Iterations")->check(CLI::Range(1, 100000));
  qmap->add_option("--start", options.start, "Starting q")->check(CLI::Range(0.0, 1e4));
  auto* cmap = app.add_subcommand("cmap", "Iterates of the correlation map at q* (cobweb)");
  cmap->add_option("--steps", options.steps, "Iterations")->check(CLI::Range(1, 100000));
  cmap->add_option("--start", options.start, "Starting correlation")->check(CLI::Range(-1.0, 1.0));
  app.add_subcommand("scene", "Print the scene as JSON (or its share link with -f csv)");
  auto* ensemble = app.add_subcommand(
      "ensemble",
      "Finite-width Monte Carlo: M random networks of width N (deep or recurrent, the scene's inputs).\n"
      "Per layer/time and kernel entry: ensemble mean, variance, N*variance, N*(mean - mean field) and the\n"
      "mean squared distance to the mean field, each with its standard error, for the aux field\n"
      "C-hat = (sigma_w^2/N) sum_i phi(h_a) phi(h_b) and the pre-activation Gram G-hat = (1/N) sum_i h_a h_b;\n"
      "the two-time entries and the correlation of the pair (ia, ib); the Lyapunov exponent and xi_c(N)\n"
      "beside their mean-field values; and the 1/N theory (N Var, N shift) for the pair where it applies.\n"
      "The seed is the scene's --seed; the numbers do not depend on --threads.");
  const Flag ensemble_flags[] = {
      {"-N,--width", "ew", "Width N of every layer (default: the scene's ew, 64)"},
      {"-M,--members", "em", "Number of networks M (default: the scene's em, 256)"},
      {"--sampler", "es",
       "fast (docs/theory.md 8.4: no N x N matrices) | explicit (real weight matrices) (default: the scene's es, fast)"},
      {"--precision", "ep", "float64 | float32 (default: the scene's ep, float64)"},
  };
  add_scene_flags(ensemble, std::begin(ensemble_flags), std::end(ensemble_flags));
  ensemble->add_option("--threads", options.threads, "Threads (default: all)")->check(CLI::Range(1, 256));
  ensemble->add_option("--histogram", options.histogram, "Write the raw values of the first this-many networks")
      ->check(CLI::Range(0, 1000000));
  ensemble->add_flag("!--no-theory", options.theory, "Skip the 1/N theory");
  auto* gp = app.add_subcommand(
      "gp",
      "Gaussian-process inference with the network's NNGP kernel (docs/theory.md 7): classification as regression\n"
      "on the labels (+-1 for two classes, one-hot for more), readout kernel sigma_b^2 + sigma_w^2 E[phi phi]\n"
      "at layer/time L (or averaged over times from --readout-from), Cholesky with jitter escalation.\n"
      "Prints accuracy, MSE, the log evidence, the jitter and the condition number (and --curve sweeps).\n"
      "Network: the scene's --arch --act --w2 --b2 --in2 -L --bias --input; the data seed is --seed.");
  auto& g = options.gp;
  // The data and inference settings are scene fields.
  const Flag gp_flags[] = {
      {"--dataset", "gd",
       "points (1-D regression) | moons | spirals | xor | circles | fashion-mnist | csv (default: the scene's gd, points)"},
      {"--train", "gn", "Training points (default: the scene's gn, 200)"},
      {"--test", "gt", "Test points (default: the scene's gt, 200)"},
      {"--classes", "gcl", "Keep only these class ids, e.g. 0,1 (fashion-mnist, csv; default: the scene's gcl, all)"},
      {"--noise", "gno", "Toy sets: noise standard deviation (default: the scene's gno, 0.1)"},
      {"--downsample", "gds", "Fashion-MNIST: average pooling 1 | 2 | 4 | 7 | 14 (default: the scene's gds, 2)"},
      {"--sigma-n2", "gs2", "Noise / ridge sigma_n^2 (default: the scene's gs2, 0.01)"},
      {"--readout-from", "gr",
       "Average the readout over layers/times from this one to L; -1: L only (default: the scene's gr, -1)"},
  };
  add_scene_flags(gp, std::begin(gp_flags), std::end(gp_flags));
  gp->add_option("--csv", g.csv,
                 "Labelled CSV file (features..., label per row) for --dataset csv (default: the rows the link carries)");
  gp->add_option("--test-csv", g.test_csv, "A separate labelled CSV for the test points (default: a seeded split)");
  gp->add_option("--data-dir", g.data_dir, "Fashion-MNIST idx files (default /usr/share/datasets/fashion-mnist)");
  gp->add_flag("--raw-pixels", g.raw_pixels, "Fashion-MNIST: pixels in [0, 1] (default: each image standardised, G_aa = 1)");
  gp->add_flag("--regression", g.regression, "CSV file: the last column is a real target");
  gp->add_flag("--centred", g.centred, "Centred one-hot targets (1 - 1/k, -1/k)");
  gp->add_option("--curve", g.curve, "Log evidence over a sweep: PARAM=v1,v2,... with PARAM w2 | b2 | L | sn2");
  gp->add_flag("--predictions", g.predictions, "Write every test point's label, prediction, mean and variance");
  gp->add_option("--memory-mib", g.memory_mib, "Memory budget for the kernel and the solve (MiB)");

  auto* renorm = app.add_subcommand(
      "renorm",
      "Finite-width theory of learning in deep linear and globally gated deep linear networks (docs/theory.md 10):\n"
      "the order parameters U_1..U_L, the renormalized kernel's predictor on the test points, the generalization\n"
      "error as bias^2 + variance, the training error, beside the GP limit; the solver's method, iterations and\n"
      "residual. Data: a synthetic teacher or template task, a Fashion-MNIST binary task, or labelled CSV files.");
  auto& r = options.renorm;
  renorm->add_option("-L,--layers", r.layers, "Hidden layers L (weight layers 1..L, the readout is L + 1)")
      ->check(CLI::Range(1, 8));
  renorm->add_option("-N,--width", r.width, "Width N of every hidden layer")->check(CLI::Range(1, 1000000000));
  renorm->add_option("-M,--gates", r.gates, "Gates M of every gated weight layer (1 = the deep linear network)")
      ->check(CLI::Range(1, 1024));
  renorm->add_option("--readout", r.readout, "gated | ungated readout (default gated)");
  renorm->add_option("--widths", r.widths, "Widths N_1,...,N_L (overrides -L and -N)");
  renorm->add_option("--gates-per-layer", r.gates_per_layer,
                     "Gate counts M_1,...,M_{L+1}, the readout last (overrides -M, --readout)");
  renorm->add_flag("--unshared", r.unshared, "Fresh gate vectors in every layer (default: one set shared by all gated layers)");
  renorm->add_option("--sigma2", r.sigma2, "Prior variance sigma^2 of every weight (default 1)");
  renorm->add_option("-T,--temperature", r.temperature, "Temperature T, the likelihood's noise variance (default 0.05)");
  renorm->add_option("--gate-kind", r.gate_kind, "random (hyperplanes) | pca | kmeans | file (default random)");
  renorm->add_option("--threshold", r.threshold, "Gate threshold b: a gate is on where v.x/sqrt(N0) > b (default 0)");
  renorm->add_option("--gate-seed", r.gate_seed, "Seed of random gate vectors and k-means (default 1)");
  renorm->add_option("--gates-csv", r.gates_csv, "Gate vectors for --gate-kind file: one gate per row, 'layer,v_1,...,v_N0'");
  renorm->add_option("--task", r.task, "teacher | template | fashion-mnist | csv (default teacher)");
  renorm->add_option("--input-dim", r.input_dim, "Synthetic tasks: input dimension N0 (default 30)");
  renorm->add_option("--train", r.train, "Training points P (default 100)");
  renorm->add_option("--test", r.test, "Test points (default 100)");
  renorm->add_option("--teacher-units", r.teacher_units, "Teacher task: hidden ReLU units (default 4)");
  renorm->add_option("--noise", r.noise, "Synthetic tasks: label noise standard deviation (default 0)");
  renorm->add_option("--gamma", r.gamma, "Template task: noise fraction of a test input (default 0.3)");
  renorm->add_option("--data-seed", r.seed, "Seed of the synthetic data and of data splits (default 1)");
  renorm->add_option("--train-csv", r.train_csv, "--task csv: labelled CSV, features then the target per row");
  renorm->add_option(
      "--test-csv", r.test_csv,
      "--task csv: a test file; with it both files are used whole, in order (default: a seeded split of --train-csv)");
  renorm->add_option("--data-dir", r.data_dir, "Fashion-MNIST idx files (default /usr/share/datasets/fashion-mnist)");
  renorm->add_option("--classes", r.classes, "Fashion-MNIST: the two class ids of the binary task (default 0,6)");
  renorm->add_option("--downsample", r.downsample, "Fashion-MNIST: average pooling 1 | 2 | 4 | 7 | 14 (default 4)");
  renorm->add_option("--tasks", r.tasks, "Synthetic tasks: K tasks, each its own teacher and points, for one network (default 1)")
      ->check(CLI::Range(1, 64));
  renorm->add_option("--task-gates", r.task_gates,
                     "With K > 1: own (gate m open only for task m mod K; M >= K) | shared (default own)");
  renorm->add_flag("--classification", r.classification,
                   "+-1 labels (the sign of synthetic targets; two CSV labels): accuracies");
  renorm->add_option("--solver", r.solver, "auto | fixed-point | minimize | scalar (default auto)");
  renorm->add_option("--tolerance", r.tolerance, "Fixed-point residual to reach (default 1e-12)");
  renorm->add_option("--max-iterations", r.max_iterations, "Fixed-point iterations before giving up (default 20000)")
      ->check(CLI::Range(1, 10000000));
  renorm->add_option("--memory-mib", r.memory_mib, "Memory budget (MiB, default 1024)");
  renorm->add_option("--sweep", r.sweep,
                     "PARAM=v1,v2,... with PARAM N | sigma2 | T | L | M | K (N continues from wide to narrow)");
  renorm->add_flag("--predictions", r.predictions, "Every test point's target, mean and variance, theory and GP");
  renorm->add_option("--simulate", r.simulate, "gibbs | langevin: sample finite networks from the posterior beside the theory");
  renorm->add_option("--chains", r.chains, "Simulation: independent chains (default 8)")->check(CLI::Range(2, 1024));
  renorm->add_option("--samples", r.samples, "Simulation: samples kept per chain (default 500)")->check(CLI::Range(1, 10000000));
  renorm
      ->add_option("--burn-in", r.burn_in,
                   "Simulation: sweeps/steps discarded first (default: Gibbs a fifth of --samples, at least 50; Langevin 5 "
                   "sigma^2/(T eta))")
      ->check(CLI::Range(0, 100000000));
  renorm
      ->add_option("--thinning", r.thinning,
                   "Simulation: sweeps/steps between samples (default 1 Gibbs, sigma^2/(25 T eta) Langevin)")
      ->check(CLI::Range(1, 100000));
  renorm->add_option("--step", r.step, "Langevin step eta (default 0.02)");
  renorm->add_option("--sim-seed", r.simulation_seed, "Simulation seed (default 1)");
  renorm->add_option("--threads", r.threads, "Simulation threads (default: all; the numbers do not depend on it)")
      ->check(CLI::Range(1, 256));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) { return app.exit(e) == 0 ? 0 : 2; }
  options.format = format == "csv" ? fs::cli::Format::csv : fs::cli::Format::json;
  options.progress = progress;

  fs::Scene scene;
  if (!scene_file.empty()) {
    std::ifstream in(scene_file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!load(fs::scene_from_json(buffer.str()), ("scene file " + scene_file).c_str(), scene)) return 2;
  }
  if (!link.empty() && !load(fs::scene_from_query(link), "--link", scene)) return 2;
  if (!inputs_csv.empty()) {
    overrides.emplace_back("x", "csv");
    overrides.emplace_back("csv", inputs_csv);
  }
  for (const std::string& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "fieldscope-cli: --set takes KEY=VALUE (a share-link key), got '" << s.substr(0, 40) << "'\n";
      return 2;
    }
    overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
  }
  if (!overrides.empty() &&
      !load(fs::scene_from_query(merge_query(fs::scene_to_query(scene), overrides)), "flags", scene, flag_of_key))
    return 2;
  if (const fs::Status s = fs::validate_scene(scene); !s.ok()) {
    std::cerr << "fieldscope-cli: " << s.message << "\n";
    return 2;
  }

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!output.empty()) {
    file.open(output, std::ios::binary);
    if (!file) {
      std::cerr << "fieldscope-cli: cannot write " << output << "\n";
      return 2;
    }
    out = &file;
  }
  const std::string command = app.get_subcommands().front()->get_name();
  if (command == "kernel") return fs::cli::run_kernel(scene, options, *out);
  if (command == "fixed-point") return fs::cli::run_fixed_point(scene, options, *out);
  if (command == "signal") return fs::cli::run_signal(scene, options, *out);
  if (command == "critical-line") return fs::cli::run_critical_line(scene, options, *out);
  if (command == "phase") return fs::cli::run_phase(scene, options, *out);
  if (command == "qmap") return fs::cli::run_qmap(scene, options, *out);
  if (command == "cmap") return fs::cli::run_cmap(scene, options, *out);
  if (command == "ensemble") return fs::cli::run_ensemble(scene, options, *out);
  if (command == "gp") return fs::cli::run_gp(scene, options, *out);
  if (command == "renorm") {
    for (const CLI::Option* opt : renorm->get_options())
      if (opt->count() > 0 && !opt->get_lnames().empty()) options.renorm.given.insert(opt->get_lnames().front());
    return fs::cli::run_renorm(scene, options, *out);
  }
  return fs::cli::run_scene(scene, options, *out);
}
