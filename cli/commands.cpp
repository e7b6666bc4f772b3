// fieldscope-cli commands.
#include "cli/commands.h"

#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/scene_specs.h"

namespace fs::cli {

namespace {
using Json = nlohmann::ordered_json;

// JSON has no infinity: write it as the string "inf" / "-inf" (documented in the README).
Json number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return nullptr;
  return v;
}
std::string csv_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return format_double(v);
}

Json matrix(const Eigen::MatrixXd& m) {
  Json rows = Json::array();
  for (int i = 0; i < m.rows(); ++i) {
    Json row = Json::array();
    for (int j = 0; j < m.cols(); ++j) row.push_back(number(m(i, j)));
    rows.push_back(std::move(row));
  }
  return rows;
}

Json status_json(const Status& s) {
  Json j;
  j["code"] = status_code_name(s.code);
  if (!s.message.empty()) j["message"] = s.message;
  return j;
}

Json header(const Scene& scene, const char* command) {
  Json j;
  j["fieldscope"] = Scene::kFormatVersion;
  j["command"] = command;
  j["link"] = scene_to_query(scene);
  return j;
}

// Reports a status on stderr; returns the exit code it implies.
int report(const Status& s, const char* what) {
  if (s.ok()) {
    if (!s.message.empty()) std::cerr << "note: " << s.message << "\n";
    return 0;
  }
  std::cerr << "fieldscope-cli: " << what << ": " << s.message << "\n";
  return s.code == StatusCode::invalid_input || s.code == StatusCode::too_large ? 2 : 1;
}

void write_json(std::ostream& out, const Json& j) { out << j.dump(2) << "\n"; }

template <class JobT>
void run_job(JobT& job, bool progress) {
  if (!progress) {
    job.run();
    return;
  }
  job.run([](double p) {
    const int width = 40, filled = static_cast<int>(p * width);
    std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << std::setw(3)
              << static_cast<int>(100 * p) << "%" << std::flush;
  });
  std::cerr << "\r[" << std::string(40, '#') << "] 100%\n";
}
}  // namespace

int run_kernel(const Scene& scene, const Options& options, std::ostream& out) {
  InputsResult inputs = scene_inputs(scene);
  if (!inputs.status.ok()) return report(inputs.status, "inputs");
  Json j = header(scene, "kernel");
  if (scene.arch == Architecture::deep) {
    DeepKernelJob job(deep_kernel_spec(scene, options.with_ntk), inputs.inputs.gram());
    run_job(job, options.progress);
    const DeepKernelResult& r = job.result();
    if (options.format == Format::csv) {
      out << (options.with_ntk && !r.ntk.empty() ? "layer,a,b,kernel,ntk\n" : "layer,a,b,kernel\n");
      for (std::size_t l = 0; l < r.kernel.size(); ++l)
        for (int a = 0; a < r.kernel[l].rows(); ++a)
          for (int b = 0; b < r.kernel[l].cols(); ++b) {
            out << l << ',' << a << ',' << b << ',' << csv_number(r.kernel[l](a, b));
            if (options.with_ntk && l < r.ntk.size()) out << ',' << csv_number(r.ntk[l](a, b));
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
        if (!r.has(t, s) || r.blocks[t * (t + 1) / 2 + s].size() == 0) continue;
        const Eigen::MatrixXd& k = r.blocks[t * (t + 1) / 2 + s];
        for (int a = 0; a < k.rows(); ++a)
          for (int b = 0; b < k.cols(); ++b) out << t << ',' << s << ',' << a << ',' << b << ',' << csv_number(k(a, b)) << '\n';
      }
  } else {
    j["status"] = status_json(r.status);
    if (r.inexact_variances > 0) j["inexact_variances"] = r.inexact_variances;
    j["note"] = "blocks K^{ts} for s <= t; K^{st} is the transpose";
    Json blocks = Json::array();
    for (int t = 0; t <= r.steps; ++t)
      for (int s = 0; s <= t; ++s) {
        if (!r.has(t, s) || r.blocks[t * (t + 1) / 2 + s].size() == 0) continue;
        Json b;
        b["t"] = t;
        b["s"] = s;
        b["kernel"] = matrix(r.blocks[t * (t + 1) / 2 + s]);
        blocks.push_back(std::move(b));
      }
    j["blocks"] = std::move(blocks);
    write_json(out, j);
  }
  return report(r.status, "recurrent kernel");
}

int run_fixed_point(const Scene& scene, const Options& options, std::ostream& out) {
  const FixedPoint fp = fixed_point(mean_field_params(scene));
  if (options.format == Format::csv) {
    out << "sigma_w2,sigma_b2,q_star,c_star,chi_1,chi_c,xi_q,xi_c,lambda_max,phase\n";
    out << format_double(scene.sigma_w2) << ',' << format_double(scene.sigma_b2) << ',' << csv_number(fp.q_star) << ','
        << csv_number(fp.c_star) << ',' << csv_number(fp.chi_1) << ',' << csv_number(fp.chi_c) << ',' << csv_number(fp.xi_q)
        << ',' << csv_number(fp.xi_c) << ',' << csv_number(fp.lambda_max) << ',' << phase_name(fp.phase) << '\n';
  } else {
    Json j = header(scene, "fixed-point");
    j["status"] = status_json(fp.status);
    j["activation"] = scene.activation.name();
    j["sigma_w2"] = scene.sigma_w2;
    j["sigma_b2"] = scene.sigma_b2;
    j["phase"] = phase_name(fp.phase);
    j["q_star"] = number(fp.q_star);
    j["c_star"] = number(fp.c_star);
    j["chi_1"] = number(fp.chi_1);
    j["chi_c"] = number(fp.chi_c);
    j["xi_q"] = number(fp.xi_q);
    j["xi_c"] = number(fp.xi_c);
    j["lambda_max"] = number(fp.lambda_max);
    j["lambda_convention"] = "amplitude: |delta h^l| ~ exp(lambda_max l); squared distances grow like chi_1^l";
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
  const double s_in = scene.input_variance();
  const SignalTrajectory tr = signal_trajectory(mean_field_params(scene), s_in * g(a, a) + scene.sigma_b2,
                                                s_in * g(b, b) + scene.sigma_b2, s_in * g(a, b) + scene.sigma_b2, scene.depth);
  if (options.format == Format::csv) {
    out << "layer,q_a,q_b,covariance,correlation\n";
    for (std::size_t l = 0; l < tr.q1.size(); ++l)
      out << l << ',' << csv_number(tr.q1[l]) << ',' << csv_number(tr.q2[l]) << ',' << csv_number(tr.covariance[l]) << ','
          << csv_number(tr.correlation[l]) << '\n';
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
      b2.push_back(spec.rows > 1 ? spec.sigma_b2_min + (spec.sigma_b2_max - spec.sigma_b2_min) * r / (spec.rows - 1) : spec.sigma_b2_min);
  }
  const auto line = critical_line(scene.activation, b2);
  if (options.format == Format::csv) {
    out << "sigma_b2,sigma_w2_crit,status\n";
    for (const auto& cp : line)
      out << format_double(cp.sigma_b2) << ',' << (cp.status.ok() ? format_double(cp.sigma_w2) : "") << ','
          << status_code_name(cp.status.code) << '\n';
  } else {
    Json j = header(scene, "critical-line");
    j["activation"] = scene.activation.name();
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
      out << format_double(d.sigma_w2(i)) << ',' << format_double(d.sigma_b2(r)) << ',' << csv_number(d.q_star[k]) << ','
          << csv_number(d.c_star[k]) << ',' << csv_number(d.chi_1[k]) << ',' << csv_number(d.chi_c[k]) << ','
          << csv_number(d.xi_c[k]) << ',' << csv_number(d.lambda_max[k]) << ',' << phase_name(d.phase[k]) << '\n';
    }
  } else {
    Json j = header(scene, "phase");
    j["status"] = status_json(job.status());
    j["activation"] = scene.activation.name();
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
    for (std::size_t i = 0; i < it.size(); ++i) out << i << ',' << csv_number(it[i]) << '\n';
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
  const MeanFieldParams p = mean_field_params(scene);
  const FixedPoint fp = fixed_point(p);
  double q0 = options.start;
  if (q0 < 0) {
    InputsResult inputs = scene_inputs(scene);
    if (!inputs.status.ok()) return report(inputs.status, "inputs");
    q0 = scene.input_variance() * inputs.inputs.gram()(0, 0) + scene.sigma_b2;
  }
  write_iterates(scene, options, out, "qmap", "q", q_iterates(p, q0, options.steps), fp.q_star);
  return report(fp.status, "q-map");
}

int run_cmap(const Scene& scene, const Options& options, std::ostream& out) {
  const MeanFieldParams p = mean_field_params(scene);
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

}  // namespace fs::cli
