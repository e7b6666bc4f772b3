// Output helpers shared by the CLI's commands: JSON numbers and matrices, the header every JSON result
// starts with, status reports on stderr, the progress bar, comma-separated number lists.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/report_json.h"
#include "core/scene.h"
#include "core/status.h"

namespace fs::cli {

using Json = nlohmann::ordered_json;

using json::number;  // infinity as "inf" / "-inf", NaN as null (core/report_json.h)
// CSV cells are format_double (core/text.h): shortest round trip, "inf" / "-inf" / "nan".

inline Json matrix(const Eigen::MatrixXd& m) {
  Json rows = Json::array();
  for (int i = 0; i < m.rows(); ++i) {
    Json row = Json::array();
    for (int j = 0; j < m.cols(); ++j) row.push_back(number(m(i, j)));
    rows.push_back(std::move(row));
  }
  return rows;
}

inline Json status_json(const Status& s) {
  Json j;
  j["code"] = status_code_name(s.code);
  if (!s.message.empty()) j["message"] = s.message;
  return j;
}

inline Json header(const Scene& scene, const char* command) {
  Json j;
  j["fieldscope"] = Scene::kFormatVersion;
  j["command"] = command;
  j["link"] = scene_to_query(scene);
  return j;
}

// Reports a status on stderr; returns the exit code it implies.
inline int report(const Status& s, const char* what) {
  if (s.ok()) {
    if (!s.message.empty()) std::cerr << "note: " << s.message << "\n";
    return 0;
  }
  std::cerr << "fieldscope-cli: " << what << ": " << s.message << "\n";
  return s.code == StatusCode::invalid_input || s.code == StatusCode::too_large ? 2 : 1;
}

inline void write_json(std::ostream& out, const Json& j) { out << j.dump(2) << "\n"; }

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

// Comma-separated finite numbers (at most 1000).
inline bool parse_double_list(const std::string& text, std::vector<double>& values) {
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::size_t used = 0;
    try {
      values.push_back(std::stod(item, &used));
    } catch (...) { return false; }
    if (used != item.size() || !std::isfinite(values.back())) return false;
  }
  return !values.empty() && values.size() <= 1000;
}

}  // namespace fs::cli
