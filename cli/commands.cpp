// fieldscope-cli commands: each computes one core result for a scene and writes JSON or CSV.
//
// Sections
//   1. Output helpers: JSON numbers, CSV, status reports, the progress bar
//   2. Mean field: kernel, fixed-point, signal, critical-line, phase, qmap, cmap, scene
//   3. ensemble: finite-width Monte Carlo beside the mean field and the 1/N theory
//   4. gp: GP inference with the network kernel on the scene's data
#include "cli/commands.h"
#include "cli/output.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/ensemble.h"
#include "core/datasets.h"
#include "core/finite_width.h"
#include "core/linear_exact.h"
#include "core/lyapunov_theory.h"
#include "core/report_json.h"
#include "core/gp.h"
#include "core/parallel.h"
#include "core/scene_specs.h"
#include "core/text.h"

namespace fs::cli {

// --- 1. Output helpers: cli/output.h -------------------------------------------------------------------

// --- 2. Mean field ----------------------------------------------------------------------------------
int run_kernel(const Scene& scene, const Options& options, std::ostream& out) {
  InputsResult inputs = scene_inputs(scene);
  if (!inputs.status.ok()) return report(inputs.status, "inputs");
  Json j = header(scene, "kernel");
  if (scene.network.arch == Architecture::deep) {
    DeepKernelJob job(deep_kernel_spec(scene, options.with_ntk), inputs.inputs.gram());
    run_job(job, options.progress);
    const DeepKernelResult& r = job.result();
    if (options.format == Format::csv) {
      out << (options.with_ntk && !r.ntk.empty() ? "layer,a,b,kernel,ntk\n" : "layer,a,b,kernel\n");
      for (std::size_t l = 0; l < r.kernel.size(); ++l)
        for (int a = 0; a < r.kernel[l].rows(); ++a)
          for (int b = 0; b < r.kernel[l].cols(); ++b) {
            out << l << ',' << a << ',' << b << ',' << format_double(r.kernel[l](a, b));
            if (options.with_ntk && l < r.ntk.size()) out << ',' << format_double(r.ntk[l](a, b));
            out << '\n';
          }
    } else {
      j["status"] = status_json(r.status);
      if (options.with_ntk) j["ntk_status"] = status_json(r.ntk_status);
      if (r.inexact_variances > 0) j["inexact_variances"] = r.inexact_variances;
      Json layers = Json::array();
      for (std::size_t l = 0; l < r.kernel.size(); ++l) {
        Json layer;
        layer["layer"] = l;
        layer["kernel"] = matrix(r.kernel[l]);
        if (options.with_ntk && l < r.ntk.size()) layer["ntk"] = matrix(r.ntk[l]);
        layers.push_back(std::move(layer));
      }
      j["layers"] = std::move(layers);
      write_json(out, j);
    }
    if (options.with_ntk && !r.ntk_status.ok()) report(r.ntk_status, "ntk");
    if (r.inexact_variances > 0)
      std::cerr << "note: " << r.inexact_variances << " variances are beyond the range where E[phi phi] reaches full accuracy\n";
    return report(r.status, "kernel");
  }
  RecurrentKernelJob job(recurrent_kernel_spec(scene), inputs.inputs);
  run_job(job, options.progress);
  const RecurrentKernelResult& r = job.result();
  if (options.format == Format::csv) {
    out << "t,s,a,b,kernel\n";
    for (int t = 0; t <= r.steps; ++t)
      for (int s = 0; s <= t; ++s) {
        if (!r.has(t, s)) continue;
        const Eigen::MatrixXd k = r.block(t, s);
        for (int a = 0; a < k.rows(); ++a)
          for (int b = 0; b < k.cols(); ++b)
            out << t << ',' << s << ',' << a << ',' << b << ',' << format_double(k(a, b)) << '\n';
      }
  } else {
    j["status"] = status_json(r.status);
    if (r.inexact_variances > 0) j["inexact_variances"] = r.inexact_variances;
    j["note"] = "blocks K^{ts} for s <= t; K^{st} is the transpose";
    Json blocks = Json::array();
    for (int t = 0; t <= r.steps; ++t)
      for (int s = 0; s <= t; ++s) {
        if (!r.has(t, s)) continue;
        Json b;
        b["t"] = t;
        b["s"] = s;
        b["kernel"] = matrix(r.block(t, s));
        blocks.push_back(std::move(b));
      }
    j["blocks"] = std::move(blocks);
    write_json(out, j);
  }
  return report(r.status, "recurrent kernel");
}

namespace {
// The finite-width Lyapunov exponent at the scene's width (ew), where an exact theory exists so far.
Status finite_width_lyapunov(const Scene& scene, LinearLyapunov& exact) {
  if (!linear_exact_applies(scene.network))
    return Status::error(StatusCode::not_defined,
                         "At finite width only deep linear networks have an exact Lyapunov exponent so far (docs/theory.md "
                         "§5.7); the ensemble command measures it for any network.");
  exact = linear_lyapunov(scene.network.sigma_w2, scene.ensemble.width);
  return {};
}
}  // namespace

int run_fixed_point(const Scene& scene, const Options& options, std::ostream& out) {
  const FixedPoint fp = fixed_point(scene.network);
  LinearLyapunov exact;
  const Status width_status = finite_width_lyapunov(scene, exact);
  if (options.format == Format::csv) {
    out << "sigma_w2,sigma_b2,q_star,c_star,chi_1,chi_c,xi_q,xi_c,lambda_max,phase,width,lambda_max_width,critical_sigma_w2_"
           "width\n";
    out << format_double(scene.network.sigma_w2) << ',' << format_double(scene.network.sigma_b2) << ','
        << format_double(fp.q_star) << ',' << format_double(fp.c_star) << ',' << format_double(fp.chi_1) << ','
        << format_double(fp.chi_c) << ',' << format_double(fp.xi_q) << ',' << format_double(fp.xi_c) << ','
        << format_double(fp.lambda_max) << ',' << phase_name(fp.phase) << ',' << scene.ensemble.width << ',';
    if (width_status.ok()) out << format_double(exact.mean) << ',' << format_double(linear_critical_sigma_w2(exact.width));
    out << ",\n";
  } else {
    Json j = header(scene, "fixed-point");
    j["status"] = status_json(fp.status);
    j["activation"] = scene.network.activation.name();
    j["sigma_w2"] = scene.network.sigma_w2;
    j["sigma_b2"] = scene.network.sigma_b2;
    j["phase"] = phase_name(fp.phase);
    j["q_star"] = number(fp.q_star);
    j["c_star"] = number(fp.c_star);
    j["chi_1"] = number(fp.chi_1);
    j["chi_c"] = number(fp.chi_c);
    j["xi_q"] = number(fp.xi_q);
    j["xi_c"] = number(fp.xi_c);
    j["lambda_max"] = number(fp.lambda_max);
    j["lambda_convention"] = "amplitude: |delta h^l| ~ exp(lambda_max l); squared distances grow like chi_1^l";
    Json w;
    w["width"] = scene.ensemble.width;
    w["status"] = status_json(width_status);
    if (width_status.ok()) {
      w["lambda_max"] = number(exact.mean);
      w["lambda_max_first_order"] = number(exact.first_order);
      w["lambda_layer_variance"] = number(exact.layer_variance);
      w["critical_sigma_w2"] = number(linear_critical_sigma_w2(exact.width));
      w["note"] = "exact at this width: lambda_max over L layers has this mean and variance lambda_layer_variance / L";
    }
    j["finite_width"] = std::move(w);
    write_json(out, j);
  }
  return report(fp.status, "fixed point");
}

int run_signal(const Scene& scene, const Options& options, std::ostream& out) {
  InputsResult inputs = scene_inputs(scene);
  if (!inputs.status.ok()) return report(inputs.status, "inputs");
  const Eigen::MatrixXd g = inputs.inputs.gram();
  const int a = std::min(scene.view.input_a, inputs.inputs.count - 1);
  const int b = std::min(scene.view.input_b, inputs.inputs.count - 1);
  const double s_in = scene.network.input_variance();
  const SignalTrajectory tr =
      signal_trajectory(scene.network, s_in * g(a, a) + scene.network.sigma_b2, s_in * g(b, b) + scene.network.sigma_b2,
                        s_in * g(a, b) + scene.network.sigma_b2, scene.network.depth);
  if (options.format == Format::csv) {
    out << "layer,q_a,q_b,covariance,correlation\n";
    for (std::size_t l = 0; l < tr.q1.size(); ++l)
      out << l << ',' << format_double(tr.q1[l]) << ',' << format_double(tr.q2[l]) << ',' << format_double(tr.covariance[l])
          << ',' << format_double(tr.correlation[l]) << '\n';
  } else {
    Json j = header(scene, "signal");
    j["status"] = status_json(tr.status);
    j["inputs"] = {a, b};
    Json q1 = Json::array(), q2 = Json::array(), cov = Json::array(), cor = Json::array();
    for (std::size_t l = 0; l < tr.q1.size(); ++l) {
      q1.push_back(number(tr.q1[l]));
      q2.push_back(number(tr.q2[l]));
      cov.push_back(number(tr.covariance[l]));
      cor.push_back(number(tr.correlation[l]));
    }
    j["q_a"] = q1;
    j["q_b"] = q2;
    j["covariance"] = cov;
    j["correlation"] = cor;
    write_json(out, j);
  }
  return report(tr.status, "signal");
}

int run_critical_line(const Scene& scene, const Options& options, std::ostream& out) {
  std::vector<double> b2;
  if (!options.sigma_b2_values.empty()) {
    std::stringstream ss(options.sigma_b2_values);
    std::string item;
    while (std::getline(ss, item, ',')) {
      char* end = nullptr;
      const double v = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > SceneLimits::max_variance) {
        std::cerr << "fieldscope-cli: --b2-values: '" << item.substr(0, 40) << "' is not a variance in [0, 1e4]\n";
        return 2;
      }
      b2.push_back(v);
    }
  } else {
    const PhaseDiagramSpec spec = phase_diagram_spec(scene);
    for (int r = 0; r < spec.rows; ++r)
      b2.push_back(spec.rows > 1 ? spec.sigma_b2_min + (spec.sigma_b2_max - spec.sigma_b2_min) * r / (spec.rows - 1)
                                 : spec.sigma_b2_min);
  }
  const auto line = critical_line(scene.network.activation, b2);
  if (options.format == Format::csv) {
    out << "sigma_b2,sigma_w2_crit,status\n";
    for (const auto& cp : line)
      out << format_double(cp.sigma_b2) << ',' << (cp.status.ok() ? format_double(cp.sigma_w2) : "") << ','
          << status_code_name(cp.status.code) << '\n';
  } else {
    Json j = header(scene, "critical-line");
    j["activation"] = scene.network.activation.name();
    Json points = Json::array();
    for (const auto& cp : line) {
      Json p;
      p["sigma_b2"] = cp.sigma_b2;
      p["sigma_w2_crit"] = cp.status.ok() ? Json(cp.sigma_w2) : Json(nullptr);
      p["status"] = status_json(cp.status);
      points.push_back(std::move(p));
    }
    j["points"] = std::move(points);
    write_json(out, j);
  }
  for (const auto& cp : line)
    if (!cp.status.ok()) std::cerr << "note: sigma_b^2 = " << cp.sigma_b2 << ": " << cp.status.message << "\n";
  return 0;
}

int run_phase(const Scene& scene, const Options& options, std::ostream& out) {
  PhaseDiagramJob job(phase_diagram_spec(scene));
  if (!job.status().ok()) return report(job.status(), "phase diagram");
  run_job(job, options.progress);
  const PhaseDiagram& d = job.result();
  const int n = d.spec.columns * d.spec.rows;
  if (options.format == Format::csv) {
    out << "sigma_w2,sigma_b2,q_star,c_star,chi_1,chi_c,xi_c,lambda_max,phase\n";
    for (int k = 0; k < n; ++k) {
      const int i = k % d.spec.columns, r = k / d.spec.columns;
      out << format_double(d.sigma_w2(i)) << ',' << format_double(d.sigma_b2(r)) << ',' << format_double(d.q_star[k]) << ','
          << format_double(d.c_star[k]) << ',' << format_double(d.chi_1[k]) << ',' << format_double(d.chi_c[k]) << ','
          << format_double(d.xi_c[k]) << ',' << format_double(d.lambda_max[k]) << ',' << phase_name(d.phase[k]) << '\n';
    }
  } else {
    Json j = header(scene, "phase");
    j["status"] = status_json(job.status());
    j["activation"] = scene.network.activation.name();
    Json w = Json::array(), b = Json::array();
    for (int i = 0; i < d.spec.columns; ++i) w.push_back(d.sigma_w2(i));
    for (int r = 0; r < d.spec.rows; ++r) b.push_back(d.sigma_b2(r));
    j["sigma_w2"] = w;
    j["sigma_b2"] = b;
    j["layout"] = "row-major: value[row][column], row = sigma_b2 index, column = sigma_w2 index";
    auto grid = [&](const std::vector<double>& v) {
      Json rows = Json::array();
      for (int r = 0; r < d.spec.rows; ++r) {
        Json row = Json::array();
        for (int i = 0; i < d.spec.columns; ++i) row.push_back(number(v[r * d.spec.columns + i]));
        rows.push_back(std::move(row));
      }
      return rows;
    };
    j["chi_1"] = grid(d.chi_1);
    j["xi_c"] = grid(d.xi_c);
    j["lambda_max"] = grid(d.lambda_max);
    j["q_star"] = grid(d.q_star);
    j["c_star"] = grid(d.c_star);
    write_json(out, j);
  }
  return report(job.status(), "phase diagram");
}

namespace {
int write_iterates(const Scene& scene, const Options& options, std::ostream& out, const char* command, const char* variable,
                   const std::vector<double>& it, double fixed) {
  if (options.format == Format::csv) {
    out << "step," << variable << "\n";
    for (std::size_t i = 0; i < it.size(); ++i) out << i << ',' << format_double(it[i]) << '\n';
  } else {
    Json j = header(scene, command);
    Json v = Json::array();
    for (double x : it) v.push_back(number(x));
    j["iterates"] = v;
    j["fixed_point"] = number(fixed);
    write_json(out, j);
  }
  return 0;
}
}  // namespace

int run_qmap(const Scene& scene, const Options& options, std::ostream& out) {
  const Network& p = scene.network;
  const FixedPoint fp = fixed_point(p);
  double q0 = options.start;
  if (q0 < 0) {
    InputsResult inputs = scene_inputs(scene);
    if (!inputs.status.ok()) return report(inputs.status, "inputs");
    q0 = scene.network.input_variance() * inputs.inputs.gram()(0, 0) + scene.network.sigma_b2;
  }
  write_iterates(scene, options, out, "qmap", "q", q_iterates(p, q0, options.steps), fp.q_star);
  return report(fp.status, "q-map");
}

int run_cmap(const Scene& scene, const Options& options, std::ostream& out) {
  const Network& p = scene.network;
  const FixedPoint fp = fixed_point(p);
  if (fp.phase == Phase::diverged) return report(fp.status, "c-map");
  const double c0 = options.start < 0 ? 0.5 : std::min(options.start, 1.0);
  write_iterates(scene, options, out, "cmap", "c", c_iterates(p, fp.q_star, c0, options.steps), fp.c_star);
  return report(fp.status, "c-map");
}

int run_scene(const Scene& scene, const Options& options, std::ostream& out) {
  if (options.format == Format::csv) {
    out << "link\n" << scene_to_query(scene) << "\n";
  } else {
    out << scene_to_json(scene);
  }
  return 0;
}

// --- 3. ensemble: finite-width Monte Carlo beside the mean field and the 1/N theory -------------------
namespace {

// The followed pair's 1/N theory (core/finite_width.h), with the map from ensemble inputs to theory inputs.
struct PairTheory {
  FiniteWidthResult result;
  std::vector<int> members;  // ensemble input index -> theory input index (-1: not in the pair)
};

PairTheory pair_theory(const EnsembleSpec& spec, const InputSet& inputs, bool progress) {
  PairTheory theory;
  std::vector<int> pair = {spec.input_a};
  if (spec.input_b != spec.input_a) pair.push_back(spec.input_b);
  const Eigen::MatrixXd g = inputs.gram();
  Eigen::MatrixXd pair_gram(int(pair.size()), int(pair.size()));
  for (std::size_t i = 0; i < pair.size(); ++i)
    for (std::size_t j = 0; j < pair.size(); ++j) pair_gram(int(i), int(j)) = g(pair[i], pair[j]);
  FiniteWidthSpec fw;
  theory.result.status = pair_theory_spec(spec, pair_gram, fw);
  if (!theory.result.status.ok()) return theory;
  FiniteWidthJob job(fw);
  run_job(job, progress);
  theory.result = job.take_result();
  theory.members.assign(std::size_t(inputs.count), -1);
  for (std::size_t i = 0; i < pair.size(); ++i) theory.members[std::size_t(pair[i])] = int(i);
  return theory;
}

// Theory values of entry (a, b) (ensemble numbering) at layer l: {N Var, N shift} of the aux field or the Gram.
std::pair<double, double> theory_entry(const PairTheory& t, bool gram, int l, int a, int b) {
  constexpr double nan = EnsembleStat::kNaN;
  if (t.members.empty() || t.members[std::size_t(a)] < 0 || t.members[std::size_t(b)] < 0) return {nan, nan};
  const FiniteWidthEntry e = finite_width_entry(t.result, gram, l, t.members[std::size_t(a)], t.members[std::size_t(b)]);
  return {e.n_variance, e.n_shift};
}

}  // namespace

int run_ensemble(const Scene& scene, const Options& options, std::ostream& out) {
  InputsResult inputs = scene_inputs(scene);
  if (!inputs.status.ok()) return report(inputs.status, "inputs");
  const int p = inputs.inputs.count;
  EnsembleSpec spec = ensemble_spec(scene, p);
  // The width, members, sampler and precision are the scene's (ew, em, es, ep; the flags set them).
  spec.histogram_members = std::min(options.histogram, spec.members);
  if (options.threads > 0) set_thread_count(options.threads);

  EnsembleJob job(spec, inputs.inputs);
  run_job(job, options.progress);
  const EnsembleResult& r = job.result();
  if (r.status.code == StatusCode::invalid_input || r.status.code == StatusCode::too_large) return report(r.status, "ensemble");

  PairTheory theory;
  if (!options.theory)
    theory.result.status = Status::error(StatusCode::not_defined, "not requested (--no-theory)");
  else
    theory = pair_theory(spec, inputs.inputs, options.progress);
  const double n = spec.width;
  const int l1 = spec.network.depth + 1;

  if (options.format == Format::csv) {
    out << "kernel,t,s,a,b,mean_field,mean,mean_se,variance,variance_se,mse,mse_se,n_variance,n_variance_se,n_shift,"
           "n_shift_se,theory_n_variance,theory_n_shift\n";
    auto row = [&](const char* kernel, int t, int s, int a, int b, const EnsembleStat& st, std::pair<double, double> th) {
      out << kernel << ',' << t << ',' << s << ',' << a << ',' << b;
      for (double v : {st.mean_field, st.mean, st.mean_se, st.variance, st.variance_se, st.mse, st.mse_se, n * st.variance,
                       n * st.variance_se, n * (st.mean - st.mean_field), n * st.mean_se, th.first, th.second})
        out << ',' << (std::isnan(v) ? std::string() : format_double(v));
      out << '\n';
    };
    const std::pair<double, double> none{EnsembleStat::kNaN, EnsembleStat::kNaN};
    for (int kind = 0; kind < 2; ++kind)
      for (int l = 0; l < int(r.aux.size()); ++l)
        for (int a = 0; a < p; ++a)
          for (int b = 0; b <= a; ++b)
            row(kind == 0 ? "aux" : "gram", l, l, a, b, (kind == 0 ? r.aux : r.gram)[std::size_t(l)].at(a, b),
                theory_entry(theory, kind == 1, l, a, b));
    for (int kind = 0; kind < 2; ++kind)
      for (int t = 0; t < l1 && !r.aux_two_time.empty(); ++t)
        for (int s = 0; s < l1; ++s)
          row(kind == 0 ? "aux_two_time" : "gram_two_time", t, s, spec.input_a, spec.input_b,
              (kind == 0 ? r.aux_two_time : r.gram_two_time)[std::size_t(t * l1 + s)], none);
    for (int l = 0; l < int(r.correlation.size()); ++l)
      row("correlation", l, l, spec.input_a, spec.input_b, r.correlation[std::size_t(l)], none);
    if (r.lyapunov_status.ok()) {
      const LyapunovTheory t = lyapunov_theory(spec.network, theory.result);
      row("lyapunov", spec.network.depth, 0, spec.input_a, spec.input_a, r.lyapunov,
          t.status.ok() ? std::pair{EnsembleStat::kNaN, t.coefficient} : none);
    }
  } else {
    Json j = header(scene, "ensemble");
    j["status"] = status_json(r.status);
    j["mean_field_status"] = status_json(r.mean_field_status);
    Json e;
    e["architecture"] = architecture_name(spec.network.arch);
    e["width"] = spec.width;
    e["members"] = spec.members;
    e["members_done"] = r.members_done;
    e["non_finite_members"] = r.non_finite_members;
    e["sampler"] = ensemble_sampler_name(spec.sampler);
    e["precision"] = ensemble_precision_name(spec.precision);
    e["seed"] = spec.seed;
    e["input_a"] = spec.input_a;
    e["input_b"] = spec.input_b;
    e["memory_mib"] = r.memory_bytes / 1048576.0;
    j["ensemble"] = e;
    j["kernels"] = {
        {"aux", "auxiliary field C-hat^{ts}_ab = (sigma_w^2/N) sum_i phi(h^t_ia) phi(h^s_ib); mean field sigma_w^2 E[phi phi]"},
        {"gram", "pre-activation Gram G-hat^{ts}_ab = (1/N) sum_i h^t_ia h^s_ib; mean field K^{ts}_ab"},
        {"n_variance", "N times the ensemble variance; theory_n_variance is the 1/N theory's D (docs/theory.md §5.2)"},
        {"n_shift", "N (ensemble mean - mean field); theory_n_shift is the 1/N theory's m (docs/theory.md §5.3)"},
        {"mse", "mean over the ensemble of (value - mean field)^2"}};
    Json layers = Json::array();
    for (int l = 0; l < int(r.aux.size()); ++l) {
      Json layer;
      layer["layer"] = l;
      for (int kind = 0; kind < 2; ++kind) {
        Json entries = Json::array();
        const KernelEnsemble& k = (kind == 0 ? r.aux : r.gram)[std::size_t(l)];
        for (int a = 0; a < p; ++a)
          for (int b = 0; b <= a; ++b) {
            Json entry = json::ensemble_stat(k.at(a, b), n);
            entry["a"] = a;
            entry["b"] = b;
            const auto th = theory_entry(theory, kind == 1, l, a, b);
            entry["theory_n_variance"] = number(th.first);
            entry["theory_n_shift"] = number(th.second);
            entries.push_back(std::move(entry));
          }
        layer[kind == 0 ? "aux" : "gram"] = std::move(entries);
        if (k.covariance.size() > 0) {
          layer[kind == 0 ? "aux_covariance" : "gram_covariance"] = matrix(k.covariance);
          layer[kind == 0 ? "aux_covariance_se" : "gram_covariance_se"] = matrix(k.covariance_se);
        }
      }
      layers.push_back(std::move(layer));
    }
    j["layers"] = std::move(layers);
    j["covariance_order"] = "packed lower triangle: (0,0), (1,0), (1,1), (2,0), ...";
    Json two = Json::array();
    for (int t = 0; t < l1 && !r.aux_two_time.empty(); ++t)
      for (int s = 0; s < l1; ++s) {
        Json b;
        b["t"] = t;
        b["s"] = s;
        b["aux"] = json::ensemble_stat(r.aux_two_time[std::size_t(t * l1 + s)], n);
        b["gram"] = json::ensemble_stat(r.gram_two_time[std::size_t(t * l1 + s)], n);
        two.push_back(std::move(b));
      }
    j["two_time"] = std::move(two);
    Json corr = Json::array();
    for (const EnsembleStat& c : r.correlation) corr.push_back(json::ensemble_stat(c, n));
    j["correlation"] = std::move(corr);
    const LyapunovTheory lyapunov = lyapunov_theory(spec.network, theory.result);
    Json ly = json::lyapunov_stat(r, spec.network, &lyapunov);
    ly["status"] = status_json(r.lyapunov_status);
    ly["fixed_point"] = number(r.lyapunov_fixed_point);
    ly["convention"] =
        "amplitude growth per layer/step, (1/L) sum_l ln |J^l v^{l-1}|; mean field: layer average of (1/2) ln chi_1(q^{l-1})";
    j["lyapunov"] = std::move(ly);
    const CorrelationLengthFit& f = r.correlation_length;
    Json xi;
    xi["status"] = status_json(f.status);
    xi["xi"] = number(f.xi);
    xi["xi_se"] = number(f.xi_se);
    xi["xi_mean_field_fit"] = number(f.xi_mean_field_fit);
    xi["xi_mean_field"] = number(f.xi_mean_field);
    xi["c_star"] = number(f.c_star);
    xi["first_layer"] = f.first_layer;
    xi["last_layer"] = f.last_layer;
    xi["points"] = f.points;
    j["correlation_length"] = std::move(xi);
    j["theory_status"] = status_json(theory.result.status);
    if (spec.histogram_members > 0) {
      Json h;
      for (std::size_t k = 0; k < r.histograms.size(); ++k) {
        Json values = Json::array();
        for (double v : r.histograms[k]) values.push_back(number(v));
        h[EnsembleResult::histogram_names()[k]] = std::move(values);
      }
      j["histograms"] = std::move(h);
    }
    write_json(out, j);
  }
  if (!theory.result.status.ok() && options.theory) std::cerr << "note: 1/N theory: " << theory.result.status.message << "\n";
  if (!r.mean_field_status.ok()) std::cerr << "note: mean field: " << r.mean_field_status.message << "\n";
  return report(r.status, "ensemble");
}

// --- 4. gp: GP inference with the network kernel (core/gp.h) on the scene's data ---------------------
namespace {

int bad_gp_input(const std::string& message) {
  std::cerr << "fieldscope-cli: gp: " << message << "\n";
  return 2;
}

}  // namespace

int run_gp(const Scene& scene, const Options& options, std::ostream& out) {
  const Options::Gp& o = options.gp;
  // The data: the scene's (keys gd, gn, gt, gno, gcl, gds, gs2, gr; the flags set them), so that a share
  // link gives the same problem here and in the explorer; a labelled CSV file with --csv instead of rows
  // carried by the link.
  const GpData kind = o.csv_file ? GpData::csv : scene.gp.dataset;
  if (o.csv_file && o.csv.empty()) return bad_gp_input("--dataset csv needs --csv FILE (features..., label per row).");
  if (!o.csv.empty() && !o.csv_file) return bad_gp_input("--csv FILE goes with --dataset csv.");
  if (o.regression && !o.csv_file) return bad_gp_input("--regression applies to --dataset csv --csv FILE only.");
  if (!(o.memory_mib > 0 && o.memory_mib <= 1 << 20)) return bad_gp_input("--memory-mib must be in (0, 1048576].");
  GpProblem problem;
  if (!o.csv_file && (kind == GpData::points || kind == GpData::csv)) {
    GpSceneData d = gp_scene_data(scene);
    if (!d.status.ok()) return report(d.status, "data set");
    problem = std::move(d.problem);
  } else {
    DatasetSpec data = gp_dataset_spec(scene, o.data_dir.empty() ? std::string(kFashionMnistDir) : o.data_dir);
    data.standardize = !o.raw_pixels;
    if (kind == GpData::csv) {
      data.kind = DatasetKind::csv;
      data.path = o.csv;
      data.test_path = o.test_csv;
      data.regression = o.regression;
    }
    const DatasetSplit split = make_dataset(data);
    if (!split.status.ok()) return report(split.status, "data set");
    problem = GpProblem{split.train.x, split.test.x, split.train.y, split.test.y, !o.regression};
  }

  GpSpec spec = gp_spec(scene);
  spec.centred_targets = o.centred;
  spec.with_variance = o.predictions;
  spec.memory_budget_bytes = static_cast<std::size_t>(o.memory_mib * 1048576.0);

  GpSweepParameter sweep = GpSweepParameter::sigma_w2;
  std::vector<double> sweep_values;
  if (!o.curve.empty()) {
    const auto eq = o.curve.find('=');
    const std::string name = o.curve.substr(0, eq == std::string::npos ? 0 : eq);
    bool known = false;
    for (GpSweepParameter p :
         {GpSweepParameter::sigma_w2, GpSweepParameter::sigma_b2, GpSweepParameter::depth, GpSweepParameter::sigma_n2})
      if (name == gp_sweep_parameter_name(p)) sweep = p, known = true;
    if (!known || !parse_double_list(o.curve.substr(eq + 1), sweep_values))
      return bad_gp_input("--curve takes PARAM=v1,v2,... with PARAM one of w2, b2, L, sn2 (got '" + echo_user_text(o.curve) +
                          "').");
  }

  GpJob job(spec, problem);
  run_job(job, options.progress);
  const GpResult& r = job.result();
  // Bad input (labels, sizes, the memory budget): a sentence on stderr and nothing on stdout.
  if (r.status.code == StatusCode::invalid_input || r.status.code == StatusCode::too_large) return report(r.status, "gp");
  std::vector<GpEvidencePoint> curve;
  if (!sweep_values.empty()) curve = gp_evidence_curve(spec, problem, sweep, sweep_values);

  const bool ok = r.status.ok();
  auto value = [&](double v) { return ok ? number(v) : Json(nullptr); };
  if (options.format == Format::csv) {
    if (curve.empty()) {
      out << "accuracy,train_accuracy,mse,log_evidence,jitter,condition_number,status\n";
      out << format_double(r.accuracy) << ',' << format_double(r.train_accuracy) << ',' << format_double(r.mse) << ','
          << format_double(r.solve.log_evidence) << ',' << format_double(r.solve.jitter) << ','
          << format_double(r.solve.condition_number) << ',' << status_code_name(r.status.code) << '\n';
    } else {
      out << gp_sweep_parameter_name(sweep) << ",log_evidence,jitter,condition_number,status\n";
      for (const GpEvidencePoint& p : curve)
        out << format_double(p.value) << ',' << format_double(p.log_evidence) << ',' << format_double(p.jitter) << ','
            << format_double(p.condition_number) << ',' << status_code_name(p.status.code) << '\n';
    }
  } else {
    Json j = header(scene, "gp");
    j["status"] = status_json(r.status);
    Json d;
    d["kind"] = gp_data_name(kind);
    d["train"] = problem.x_train.rows();
    d["test"] = problem.x_test.rows();
    d["dim"] = problem.x_train.cols();
    if (!r.classes.empty()) {
      Json classes = Json::array();
      for (double c : r.classes) classes.push_back(c);
      d["classes"] = std::move(classes);
    }
    j["dataset"] = std::move(d);
    Json readout;
    readout["from"] = spec.readout_from >= 0 && spec.readout_from < spec.network.depth ? spec.readout_from : spec.network.depth;
    readout["to"] = spec.network.depth;
    readout["kind"] = spec.readout_from >= 0 && spec.readout_from < spec.network.depth
                          ? (spec.network.arch == Architecture::deep ? "layer average" : "time average")
                          : "single";
    j["readout"] = std::move(readout);
    j["sigma_n2"] = spec.sigma_n2;
    j["task"] = !problem.classification ? "regression" : "classification";
    if (problem.classification) {
      j["accuracy"] = value(r.accuracy);
      j["train_accuracy"] = value(r.train_accuracy);
    }
    j["mse"] = value(r.mse);
    j["log_evidence"] = value(r.solve.log_evidence);
    j["log_evidence_per_point"] = value(r.solve.log_evidence / double(std::max<Eigen::Index>(1, problem.x_train.rows())));
    j["jitter"] = value(r.solve.jitter);
    j["condition_number"] = value(r.solve.condition_number);
    j["memory_mib"] = r.memory_bytes / 1048576.0;
    if (r.inexact_variances > 0) j["inexact_variances"] = r.inexact_variances;
    if (!curve.empty()) {
      Json c = Json::array();
      for (const GpEvidencePoint& p : curve) {
        Json point;
        point[gp_sweep_parameter_name(sweep)] = p.value;
        point["log_evidence"] = number(p.log_evidence);
        point["jitter"] = number(p.jitter);
        point["condition_number"] = number(p.condition_number);
        point["status"] = status_json(p.status);
        c.push_back(std::move(point));
      }
      j["curve"] = std::move(c);
    }
    if (o.predictions && ok) {
      Json rows = Json::array();
      for (Eigen::Index a = 0; a < r.solve.mean.rows(); ++a) {
        Json row;
        row["label"] = problem.y_test[static_cast<std::size_t>(a)];
        row["predicted"] = r.predicted[static_cast<std::size_t>(a)];
        Json mean = Json::array();
        for (Eigen::Index c = 0; c < r.solve.mean.cols(); ++c) mean.push_back(number(r.solve.mean(a, c)));
        row["mean"] = std::move(mean);
        if (r.solve.variance.size() > a) row["variance"] = number(r.solve.variance(a));
        rows.push_back(std::move(row));
      }
      j["predictions"] = std::move(rows);
    }
    write_json(out, j);
  }
  for (const GpEvidencePoint& p : curve)
    if (!p.status.ok())
      std::cerr << "note: curve at " << gp_sweep_parameter_name(sweep) << " = " << p.value << ": " << p.status.message << "\n";
  return report(r.status, "gp");
}

}  // namespace fs::cli
