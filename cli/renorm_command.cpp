// fieldscope-cli renorm: the finite-width theory of deep linear and gated deep linear networks
// (core/renormalization.h, docs/theory.md §10) on a synthetic task, Fashion-MNIST or labelled CSV files,
// with gate vectors made from a seed or the data, or read from a file.
#include <fstream>
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/datasets.h"
#include "core/inputs.h"
#include "core/parallel.h"
#include "core/posterior_sampling.h"
#include "core/renorm_scene.h"
#include "core/renormalization.h"
#include "core/teacher_tasks.h"

namespace fs::cli {

namespace {

int bad_input(const std::string& message) {
  std::cerr << "fieldscope-cli: renorm: " << message << "\n";
  return 2;
}

bool parse_int_list(const std::string& text, std::vector<int>& values) {
  std::vector<double> numbers;
  if (!parse_double_list(text, numbers)) return false;
  for (double v : numbers) {
    if (v != std::floor(v) || std::abs(v) > 1e9) return false;
    values.push_back(static_cast<int>(v));
  }
  return true;
}

// Gate vectors from a CSV file: one gate per row, "layer, v_1, ..., v_N0", with layer the weight layer
// 1 .. L+1 (L + 1 is the readout) and the rows of a layer in gate order.
Status read_gate_file(const std::string& path, const GatedLinearNetwork& net, int input_dim,
                      std::vector<Eigen::MatrixXd>& vectors) {
  InputsSpec spec;
  spec.kind = InputKind::csv;
  spec.csv_path = path;
  const InputsResult parsed = make_inputs(spec, 1);
  if (!parsed.status.ok()) return parsed.status;
  const Eigen::MatrixXd& rows = parsed.inputs.x[0];
  const int layers = net.hidden_layers() + 1;
  if (rows.cols() != input_dim + 1)
    return Status::error(StatusCode::invalid_input, "The gate file has " + std::to_string(rows.cols()) + " columns; it needs " +
                                                        std::to_string(input_dim + 1) +
                                                        ": the weight layer, then one per input dimension.");
  std::vector<std::vector<Eigen::Index>> members(layers);
  for (Eigen::Index i = 0; i < rows.rows(); ++i) {
    const double layer = rows(i, 0);
    if (layer != std::floor(layer) || layer < 1 || layer > layers)
      return Status::error(StatusCode::invalid_input, "Row " + std::to_string(i + 1) + " of the gate file names weight layer " +
                                                          echo_user_text(format_double(layer)) + "; layers run from 1 to " +
                                                          std::to_string(layers) + " (the readout).");
    members[static_cast<int>(layer) - 1].push_back(i);
  }
  vectors.assign(layers, Eigen::MatrixXd(0, input_dim));
  for (int l = 0; l < layers; ++l) {
    vectors[l].resize(static_cast<Eigen::Index>(members[l].size()), input_dim);
    for (std::size_t k = 0; k < members[l].size(); ++k) vectors[l].row(k) = rows.row(members[l][k]).tail(input_dim);
  }
  return check_gate_vectors(net, vectors, input_dim);
}

Json statistics_json(const PredictorStatistics& s, bool classification) {
  Json j;
  j["generalization_error"] = number(s.generalization_error);
  j["bias2"] = number(s.bias2);
  j["variance"] = number(s.variance_mean);
  j["training_error"] = number(s.training_error);
  if (classification) {
    j["accuracy"] = number(s.accuracy);
    j["sampled_accuracy"] = number(s.sampled_accuracy);
  }
  return j;
}

Json result_json(const RenormResult& r, bool classification, bool predictions, const Eigen::VectorXd& y_test) {
  Json j;
  j["status"] = status_json(r.status);
  Json report;
  report["method"] = r.report.method;
  report["iterations"] = r.report.iterations;
  report["residual"] = number(r.report.residual);
  report["action"] = number(r.report.action);
  report["converged"] = r.report.converged;
  report["message"] = r.report.message;
  j["solver"] = report;
  j["theory"] = statistics_json(r.theory, classification);
  j["gp"] = statistics_json(r.gp, classification);
  Json order = Json::array();
  for (const Eigen::MatrixXd& u : r.order_parameters) order.push_back(matrix(u));
  j["order_parameters"] = order;
  if (predictions) {
    Json rows = Json::array();
    for (Eigen::Index i = 0; i < r.theory.mean.size(); ++i)
      rows.push_back(Json{{"target", number(y_test(i))},
                          {"mean", number(r.theory.mean(i))},
                          {"variance", number(r.theory.variance(i))},
                          {"gp_mean", number(r.gp.mean(i))},
                          {"gp_variance", number(r.gp.variance(i))}});
    j["predictions"] = rows;
  }
  return j;
}

// The sampled finite networks beside the theory's and the GP's predictions.
Json simulation_json(const SamplingResult& s, const SamplingSpec& spec, const RenormResult& theory, bool predictions) {
  Json j;
  j["status"] = status_json(s.status);
  j["sampler"] = posterior_sampler_name(spec.sampler);
  j["chains"] = s.chains_done;
  j["samples_per_chain"] = s.samples_per_chain;
  j["burn_in"] = spec.burn_in;
  j["thinning"] = spec.thinning;
  if (spec.sampler == PosteriorSampler::langevin) j["step"] = spec.step;
  j["generalization_error"] = number(s.generalization_error);
  j["generalization_error_se"] = number(s.generalization_error_se);
  j["bias2"] = number(s.bias2);
  j["variance"] = number(s.variance_mean);
  j["training_error"] = number(s.training_error);
  if (s.mean.size() > 0 && theory.theory.mean.size() == s.mean.size()) {
    j["chi2_per_dof_theory"] = number(chi2_per_dof(s, theory.theory.mean));
    j["chi2_per_dof_gp"] = number(chi2_per_dof(s, theory.gp.mean));
  }
  Json order = Json::array(), order_se = Json::array();
  for (std::size_t l = 0; l < s.order_parameters.size(); ++l) {
    order.push_back(matrix(s.order_parameters[l]));
    order_se.push_back(matrix(s.order_parameters_se[l]));
  }
  j["order_parameters"] = order;
  j["order_parameters_se"] = order_se;
  if (predictions) {
    Json rows = Json::array();
    for (Eigen::Index i = 0; i < s.mean.size(); ++i)
      rows.push_back(Json{{"mean", number(s.mean(i))}, {"mean_se", number(s.mean_se(i))}, {"variance", number(s.variance(i))}});
    j["predictions"] = rows;
  }
  return j;
}

}  // namespace

int run_renorm(const Scene& scene, const Options& options, std::ostream& out) {
  // Every setting the command line leaves out comes from the scene (a link of the explorer's tab).
  Options::Renorm o = options.renorm;
  const auto given = [&](const char* name) { return o.given.count(name) > 0; };
  const RenormViewSpec& sr = scene.renorm;
  if (!given("layers")) o.layers = sr.layers;
  if (!given("width")) o.width = sr.width;
  if (!given("gates")) o.gates = sr.gates;
  if (!given("readout")) o.readout = sr.readout == RenormReadout::gated ? "gated" : "ungated";
  if (!given("unshared")) o.unshared = sr.sharing == RenormGates::unshared;
  if (!given("sigma2")) o.sigma2 = sr.sigma2;
  if (!given("temperature")) o.temperature = sr.temperature;
  if (!given("gate-kind")) o.gate_kind = gate_kind_name(sr.gate_kind);
  if (!given("threshold")) o.threshold = sr.threshold;
  if (!given("gate-seed")) o.gate_seed = scene.seed;
  if (!given("task")) {
    const char* names[] = {"teacher", "template", "fashion-mnist", "csv"};
    o.task = names[static_cast<int>(sr.task)];
  }
  if (!given("classes")) {
    o.classes.clear();
    for (std::size_t i = 0; i < sr.classes.size(); ++i) o.classes += (i ? "," : "") + std::to_string(sr.classes[i]);
  }
  if (!given("downsample")) o.downsample = sr.downsample;
  if (!given("tasks")) o.tasks = sr.tasks;
  if (!given("task-gates")) o.task_gates = sr.task_gates == RenormTaskGates::own ? "own" : "shared";
  if (o.task_gates != "own" && o.task_gates != "shared") return bad_input("--task-gates is own or shared.");
  if (!given("input-dim")) o.input_dim = sr.dim;
  if (!given("train")) o.train = sr.train;
  if (!given("test")) o.test = sr.test;
  if (!given("noise")) o.noise = sr.noise;
  if (!given("data-seed")) o.seed = scene.seed;
  if (!given("chains")) o.chains = sr.chains;
  if (!given("samples")) o.samples = sr.samples;
  if (!given("sim-seed")) o.simulation_seed = scene.seed;
  // The network.
  GatedLinearNetwork net = make_gated_linear(o.layers, o.width, o.gates, o.readout == "gated");
  if (o.readout != "gated" && o.readout != "ungated") return bad_input("--readout is gated or ungated.");
  if (!o.widths.empty()) {
    net.widths.clear();
    if (!parse_int_list(o.widths, net.widths)) return bad_input("--widths takes whole numbers N_1,...,N_L.");
  }
  if (!o.gates_per_layer.empty()) {
    net.gates.clear();
    if (!parse_int_list(o.gates_per_layer, net.gates)) return bad_input("--gates-per-layer takes whole numbers M_1,...,M_{L+1}.");
  }
  if (static_cast<int>(net.widths.size()) + 1 != static_cast<int>(net.gates.size()))
    return bad_input("Give one width per hidden layer and one gate count per weight layer (the readout's last).");
  net.shared_gates = !o.unshared;
  net.sigma2 = o.sigma2;
  net.temperature = o.temperature;
  if (Status s = net.validate(); !s.ok()) return report(s, "renorm");

  RenormSpec spec;
  spec.network = net;
  if (!gate_kind_from_name(o.gate_kind, spec.gates.kind)) return bad_input("--gate-kind is random, pca, kmeans or file.");
  spec.gates.threshold = o.threshold;
  spec.gates.seed = o.gate_seed;
  if (!renorm_solver_from_name(o.solver, spec.solver)) return bad_input("--solver is auto, fixed-point, minimize or scalar.");
  if (!(o.tolerance >= 1e-15 && o.tolerance <= 1e-3)) return bad_input("--tolerance must be in [1e-15, 1e-3].");
  spec.tolerance = o.tolerance;
  spec.max_iterations = o.max_iterations;
  if (!(o.memory_mib > 0 && o.memory_mib <= 1 << 20)) return bad_input("--memory-mib must be in (0, 1048576].");
  spec.memory_budget_bytes = static_cast<std::size_t>(o.memory_mib * 1048576.0);

  // The data.
  RenormProblem problem;
  std::function<RenormProblem(double)> tasks_problem;  // synthetic tasks: the data at K tasks
  bool classification = o.classification;
  if (o.task == "teacher" || o.task == "template") {
    TeacherSpec t;
    teacher_kind_from_name(o.task, t.kind);
    t.dim = o.input_dim;
    t.train = o.train;
    t.test = o.test;
    t.teacher_units = o.teacher_units;
    t.noise = o.noise;
    t.gamma = o.gamma;
    t.seed = o.seed;
    // The data at K tasks, made the same way for --tasks and for every point of a sweep over K.
    auto make = [t, own = o.task_gates == "own", classification](int k, Status& status) {
      RenormProblem pr = multitask_problem(t, k, own, status);
      if (classification) {  // the sign of the synthetic targets
        pr.y_train = pr.y_train.unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; });
        pr.y_test = pr.y_test.unaryExpr([](double v) { return v >= 0 ? 1.0 : -1.0; });
      }
      pr.classification = classification;
      return pr;
    };
    Status made;
    problem = make(o.tasks, made);
    if (!made.ok()) return report(made, "renorm");
    tasks_problem = [make](double k) {
      Status status;
      return make(static_cast<int>(std::lround(k)), status);
    };
  } else if (o.task == "fashion-mnist" || (o.task == "csv" && o.train_csv.empty() && !sr.points.empty())) {
    // The scene's own data (core/renorm_scene.h): a Fashion-MNIST task, or the labelled rows a link carries.
    Scene s = scene;
    s.seed = o.seed;
    s.renorm.task = o.task == "csv" ? RenormTask::csv : RenormTask::fashion_mnist;
    s.renorm.train = o.train;
    s.renorm.test = o.test;
    s.renorm.downsample = o.downsample;
    s.renorm.classes.clear();
    if (!parse_int_list(o.classes, s.renorm.classes) || s.renorm.classes.size() != 2)
      return bad_input("--classes takes the two Fashion-MNIST class ids of the binary task, e.g. 0,6.");
    RenormSceneData d = renorm_scene_data(s, o.data_dir.empty() ? std::string(kFashionMnistDir) : o.data_dir);
    if (!d.status.ok()) return report(d.status, "renorm");
    problem = std::move(d.problem);
    classification = classification || problem.classification;
    if (classification && !problem.classification)
      if (Status st = labels_to_signs(problem.y_train, problem.y_test); !st.ok()) return report(st, "renorm");
  } else if (o.task == "csv") {
    if (o.train_csv.empty()) return bad_input("--task csv needs --train-csv FILE (features..., target per row).");
    DatasetSplit split;
    if (!o.test_csv.empty()) {
      // Two files: every row, in the files' order (so that another implementation sees the same problem).
      for (auto [path, part] : {std::pair{&o.train_csv, &split.train}, std::pair{&o.test_csv, &split.test}}) {
        std::string text;
        if (Status s = read_text_file(*path, text); !s.ok()) return report(s, "renorm");
        LabelledCsv parsed = parse_labelled_csv(text, true);
        if (!parsed.status.ok())
          return report(Status::error(parsed.status.code, "\"" + echo_user_text(*path) + "\": " + parsed.status.message),
                        "renorm");
        *part = std::move(parsed.data);
      }
    } else {
      DatasetSpec data;
      data.kind = DatasetKind::csv;
      data.train = o.train;
      data.test = o.test;
      data.seed = o.seed;
      data.path = o.train_csv;
      data.regression = true;
      split = make_dataset(data);
    }
    if (!split.status.ok()) return report(split.status, "renorm");
    problem.x_train = split.train.x;
    problem.x_test = split.test.x;
    problem.y_train = Eigen::Map<const Eigen::VectorXd>(split.train.y.data(), static_cast<Eigen::Index>(split.train.y.size()));
    problem.y_test = Eigen::Map<const Eigen::VectorXd>(split.test.y.data(), static_cast<Eigen::Index>(split.test.y.size()));
    if (classification)
      if (Status s = labels_to_signs(problem.y_train, problem.y_test); !s.ok()) return report(s, "renorm");
  } else {
    return bad_input("--task is teacher, template, fashion-mnist or csv.");
  }
  problem.classification = classification;
  if (o.tasks > 1 && !tasks_problem) return bad_input("--tasks K > 1 needs a synthetic task (--task teacher or template).");
  if (spec.gates.kind == GateKind::given) {
    if (o.gates_csv.empty()) return bad_input("--gate-kind file needs --gates-csv FILE.");
    if (Status s = read_gate_file(o.gates_csv, net, static_cast<int>(problem.x_train.cols()), problem.gate_vectors); !s.ok())
      return report(s, "renorm: gate file");
  } else if (!o.gates_csv.empty()) {
    return bad_input("--gates-csv FILE goes with --gate-kind file.");
  }

  // The simulation's settings (docs/theory.md §10.9 for the Langevin defaults: burn-in 5 and samples every
  // 1/25 of the weight-decay time sigma^2 / (T eta)).
  SamplingSpec sampling;
  const bool simulate = !o.simulate.empty();
  if (simulate) {
    if (!posterior_sampler_from_name(o.simulate, sampling.sampler)) return bad_input("--simulate is gibbs or langevin.");
    if (!(o.step > 0 && o.step <= 1)) return bad_input("--step must be in (0, 1].");
    sampling.chains = o.chains;
    sampling.samples = o.samples;
    sampling.step = o.step;
    sampling.seed = o.simulation_seed;
    // Unless given: the explorer's defaults (core/renorm_scene.h) for this sampler, step and number of samples.
    Scene defaults = scene;
    defaults.renorm.simulation =
        sampling.sampler == PosteriorSampler::langevin ? RenormSimulation::langevin : RenormSimulation::gibbs;
    defaults.renorm.samples = o.samples;
    defaults.renorm.sigma2 = net.sigma2;
    defaults.renorm.temperature = net.temperature;
    const SamplingSpec scene_sampling = renorm_sampling_spec(defaults, o.step);
    sampling.burn_in = o.burn_in >= 0 ? o.burn_in : scene_sampling.burn_in;
    sampling.thinning = o.thinning >= 1 ? o.thinning : scene_sampling.thinning;
    if (o.threads > 0) set_thread_count(o.threads);
  }
  auto simulate_at = [&](const RenormSpec& at, const RenormResult& theory) {
    SamplingProblem sp{problem.x_train,     problem.x_test,     problem.y_train, problem.y_test,
                       theory.gate_vectors, at.gates.threshold, problem.tasks};
    PosteriorSamplingJob job(at.network, sampling, sp);
    run_job(job, options.progress);
    return job.result();
  };

  // A sweep, or one solve.
  Json j;
  j["fieldscope"] = Scene::kFormatVersion;
  j["command"] = "renorm";
  Json net_json;
  net_json["widths"] = net.widths;
  net_json["gates"] = net.gates;
  net_json["shared_gates"] = net.shared_gates;
  net_json["sigma2"] = net.sigma2;
  net_json["temperature"] = net.temperature;
  net_json["gate_kind"] = gate_kind_name(spec.gates.kind);
  net_json["threshold"] = spec.gates.threshold;
  j["network"] = net_json;
  j["data"] = Json{{"task", o.task},
                   {"train", problem.x_train.rows()},
                   {"test", problem.x_test.rows()},
                   {"input_dim", problem.x_train.cols()},
                   {"classification", classification}};
  if (!o.sweep.empty()) {
    const auto eq = o.sweep.find('=');
    RenormSweepParameter parameter;
    std::vector<double> values;
    if (eq == std::string::npos || !renorm_sweep_parameter_from_name(o.sweep.substr(0, eq), parameter) ||
        !parse_double_list(o.sweep.substr(eq + 1), values))
      return bad_input("--sweep takes PARAM=v1,v2,... with PARAM one of N, sigma2, T, L, M (got '" + echo_user_text(o.sweep) +
                       "').");
    if (Status s = check_renorm_problem(renorm_spec_at(spec, parameter, values.front()), problem);
        !s.ok() && s.code != StatusCode::invalid_input)
      return report(s, "renorm");
    if (parameter == RenormSweepParameter::tasks && !tasks_problem)
      return bad_input("--sweep K needs a synthetic task (--task teacher or template).");
    if (parameter == RenormSweepParameter::tasks && simulate)
      return bad_input("--simulate goes with sweeps over N, sigma2, T, L or M; simulate each K with --tasks K.");
    auto sweep_job = parameter == RenormSweepParameter::tasks
                         ? std::make_unique<RenormSweepJob>(spec, tasks_problem, parameter, values)
                         : std::make_unique<RenormSweepJob>(spec, problem, parameter, values);
    RenormSweepJob& job = *sweep_job;
    run_job(job, options.progress);
    bool all_ok = true;
    if (options.format == Format::csv) {
      out << renorm_sweep_parameter_name(parameter)
          << ",generalization_error,bias2,variance,training_error,gp_generalization_error,gp_bias2,gp_variance,"
             "relu_nngp_generalization_error,iterations,residual,status\n";
      for (const RenormSweepPoint& p : job.points()) {
        const RenormResult& r = p.result;
        all_ok = all_ok && r.status.ok();
        out << format_double(p.value) << "," << format_double(r.theory.generalization_error) << ","
            << format_double(r.theory.bias2) << "," << format_double(r.theory.variance_mean) << ","
            << format_double(r.theory.training_error) << "," << format_double(r.gp.generalization_error) << ","
            << format_double(r.gp.bias2) << "," << format_double(r.gp.variance_mean) << ","
            << (p.relu_status.ok() ? format_double(p.relu.generalization_error) : "") << "," << r.report.iterations << ","
            << format_double(r.report.residual) << "," << status_code_name(r.status.code) << "\n";
      }
    } else {
      j["sweep"] = renorm_sweep_parameter_name(parameter);
      Json points = Json::array();
      for (const RenormSweepPoint& p : job.points()) {
        all_ok = all_ok && p.result.status.ok();
        Json point = result_json(p.result, classification, o.predictions, problem.y_test);
        point["value"] = p.value;
        // The ReLU network's GP at this point's L, sigma^2 and T (docs/theory.md §10.2).
        point["relu_nngp"] =
            p.relu_status.ok() ? statistics_json(p.relu, classification) : Json{{"status", status_json(p.relu_status)}};
        if (o.predictions && p.relu_status.ok())
          for (Eigen::Index i = 0; i < p.relu.mean.size() && i < static_cast<Eigen::Index>(point["predictions"].size()); ++i) {
            point["predictions"][static_cast<std::size_t>(i)]["relu_mean"] = number(p.relu.mean(i));
            point["predictions"][static_cast<std::size_t>(i)]["relu_variance"] = number(p.relu.variance(i));
          }
        if (simulate && p.result.status.ok()) {
          const RenormSpec at = renorm_spec_at(spec, parameter, p.value);
          const SamplingResult sim = simulate_at(at, p.result);
          all_ok = all_ok && sim.status.ok();
          point["simulation"] = simulation_json(sim, sampling, p.result, o.predictions);
        }
        points.push_back(point);
      }
      j["points"] = points;
      write_json(out, j);
    }
    for (const RenormSweepPoint& p : job.points())
      if (!p.result.status.ok())
        std::cerr << "fieldscope-cli: renorm at " << format_double(p.value) << ": " << p.result.status.message << "\n";
    return all_ok ? 0 : 1;
  }
  RenormJob job(spec, problem);
  run_job(job, options.progress);
  const RenormResult& r = job.result();
  if (r.status.code == StatusCode::invalid_input || r.status.code == StatusCode::too_large) return report(r.status, "renorm");
  if (options.format == Format::csv) {
    SamplingResult sim;
    if (simulate && r.status.ok()) sim = simulate_at(spec, r);
    const bool with_sim = simulate && sim.chains_done > 0;
    out << "quantity,theory,gp" << (with_sim ? ",simulation,simulation_se" : "") << "\n";
    auto row = [&](const char* name, double a, double b, double c, double c_se) {
      out << name << "," << format_double(a) << "," << format_double(b);
      if (with_sim) out << "," << (std::isnan(c) ? "" : format_double(c)) << "," << (std::isnan(c_se) ? "" : format_double(c_se));
      out << "\n";
    };
    const double none = std::nan("");
    row("generalization_error", r.theory.generalization_error, r.gp.generalization_error, sim.generalization_error,
        sim.generalization_error_se);
    row("bias2", r.theory.bias2, r.gp.bias2, sim.bias2, none);
    row("variance", r.theory.variance_mean, r.gp.variance_mean, sim.variance_mean, none);
    row("training_error", r.theory.training_error, r.gp.training_error, sim.training_error, none);
    if (classification) {
      row("accuracy", r.theory.accuracy, r.gp.accuracy, none, none);
      row("sampled_accuracy", r.theory.sampled_accuracy, r.gp.sampled_accuracy, none, none);
    }
    if (with_sim) row("chi2_per_dof_of_simulation", chi2_per_dof(sim, r.theory.mean), chi2_per_dof(sim, r.gp.mean), none, none);
    if (!sim.status.ok()) return report(sim.status, "renorm: simulation");
  } else {
    const Json result = result_json(r, classification, o.predictions, problem.y_test);
    for (auto it = result.begin(); it != result.end(); ++it) j[it.key()] = it.value();
    SamplingResult sim;
    if (simulate && r.status.ok()) {
      sim = simulate_at(spec, r);
      j["simulation"] = simulation_json(sim, sampling, r, o.predictions);
    }
    write_json(out, j);
    if (!sim.status.ok()) return report(sim.status, "renorm: simulation");
  }
  return report(r.status, "renorm");
}

}  // namespace fs::cli
