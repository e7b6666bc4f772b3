// The benchmarks' --act option: a comma-separated list of activation names, unknown names skipped.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/activations.h"

inline std::vector<std::pair<std::string, fs::ActivationKind>> activation_list(const std::string& names) {
  std::vector<std::pair<std::string, fs::ActivationKind>> out;
  std::size_t start = 0;
  while (start <= names.size()) {
    const std::size_t comma = std::min(names.find(',', start), names.size());
    const std::string name = names.substr(start, comma - start);
    start = comma + 1;
    if (const auto kind = fs::activation_kind_from_name(name)) out.emplace_back(name, *kind);
  }
  return out;
}
