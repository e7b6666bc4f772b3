// fieldscope-cli commands: each computes one core result for a scene and writes JSON or CSV.
#pragma once
#include <ostream>
#include <string>

#include "core/scene.h"

namespace fs::cli {

enum class Format { json, csv };

struct Options {
  Format format = Format::json;
  bool with_ntk = false;          // kernel: the NTK alongside the NNGP kernel
  bool progress = false;          // progress bar on stderr
  std::string sigma_b2_values;    // critical-line: comma-separated sigma_b^2 values (default: the grid rows)
  int steps = 30;                 // qmap / cmap: iterations
  double start = -1;              // qmap / cmap: starting value (default: the scene's first input)
};

// Each returns the process exit code: 0 ok, 1 a computation reported a problem (written to stderr;
// the partial result is still written), 2 bad input.
int run_kernel(const Scene& scene, const Options& options, std::ostream& out);
int run_fixed_point(const Scene& scene, const Options& options, std::ostream& out);
int run_signal(const Scene& scene, const Options& options, std::ostream& out);
int run_critical_line(const Scene& scene, const Options& options, std::ostream& out);
int run_phase(const Scene& scene, const Options& options, std::ostream& out);
int run_qmap(const Scene& scene, const Options& options, std::ostream& out);
int run_cmap(const Scene& scene, const Options& options, std::ostream& out);
int run_scene(const Scene& scene, const Options& options, std::ostream& out);

}  // namespace fs::cli
