// fieldscope-cli commands: each computes one core result for a scene and writes JSON or CSV.
#pragma once
#include <ostream>
#include <cstdint>
#include <set>
#include <string>

#include "core/scene.h"

namespace fs::cli {

enum class Format { json, csv };

struct Options {
  Format format = Format::json;
  bool with_ntk = false;        // kernel: the NTK alongside the NNGP kernel
  bool progress = false;        // progress bar on stderr
  std::string sigma_b2_values;  // critical-line: comma-separated sigma_b^2 values (default: the grid rows)
  int steps = 30;               // qmap / cmap: iterations
  double start = -1;            // qmap / cmap: starting value (default: the scene's first input)
  // ensemble: M networks of width N (core/ensemble.h) and, where it applies, the 1/N theory beside them;
  // N, M, sampler and precision are the scene's (keys ew, em, es, ep; the flags -N -M --sampler --precision set them).
  int threads = 0;     // 0 = every hardware thread
  int histogram = 0;   // raw per-member values written for the first this-many networks
  bool theory = true;  // the 1/N theory (core/finite_width.h) for the followed pair
  // gp: GP inference with the scene's network kernel (core/gp.h) on a data set (core/datasets.h)
  struct Gp {                   // the data set, its size, classes and pooling, sigma_n^2 and the readout are the scene's
    bool csv_file = false;      // --dataset csv: the data come from --csv FILE, not the scene
    std::string csv, test_csv;  // --dataset csv: the labelled file (features..., label) and an optional test file
    std::string data_dir;       // fashion-mnist: directory of the idx files (default: Debian's)
    bool raw_pixels = false;    // fashion-mnist: pixels in [0, 1] instead of standardised images
    bool regression = false;    // csv: real-valued targets
    bool centred = false;       // centred one-hot targets
    std::string curve;          // PARAM=v1,v2,... (w2 | b2 | L | sn2): log evidence over a sweep
    bool predictions = false;   // per test point: label, prediction, mean(s), variance
    double memory_mib = 1024;   // budget for the kernel and the solve
  } gp;
  // renorm: the finite-width theory of (gated) deep linear networks (core/renormalization.h)
  struct Renorm {
    int layers = 1, width = 100, gates = 4;  // L, N (every hidden layer), M (every gated weight layer)
    std::string readout = "gated";           // gated | ungated
    std::string widths, gates_per_layer;     // N_1,...,N_L and M_1,...,M_{L+1}, overriding the above
    bool unshared = false;                   // fresh gate vectors per layer
    double sigma2 = 1.0, temperature = 0.05;
    std::string gate_kind = "random";  // random | pca | kmeans | file
    double threshold = 0.0;
    std::uint64_t gate_seed = 1;
    std::string gates_csv;         // --gate-kind file: "layer, v_1..v_N0" per gate
    std::string task = "teacher";  // teacher | template | fashion-mnist | csv
    int input_dim = 30, train = 100, test = 100, teacher_units = 4;
    double noise = 0.0, gamma = 0.3;
    std::uint64_t seed = 1;
    std::string train_csv, test_csv, data_dir, classes = "0,6";
    int downsample = 4;
    int tasks = 1;                   // K synthetic tasks for one network
    std::string task_gates = "own";  // own | shared
    bool classification = false;
    std::string solver = "auto";
    double tolerance = 1e-12;
    int max_iterations = 20000;
    double memory_mib = 1024;
    std::string sweep;  // PARAM=v1,v2,... (N | sigma2 | T | L | M | K)
    bool predictions = false;
    std::string simulate;  // gibbs | langevin: finite networks sampled from the posterior beside the theory
    int chains = 8, samples = 500, burn_in = -1,
        thinning = -1;  // -1: 100 sweeps / 1 (Gibbs), 20 sigma^2/(T eta) steps / 10 (Langevin)
    double step = 0.02;
    std::uint64_t simulation_seed = 1;
    int threads = 0;
    std::set<std::string> given;  // the long names of the flags on the command line
  } renorm;
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
int run_ensemble(const Scene& scene, const Options& options, std::ostream& out);
int run_gp(const Scene& scene, const Options& options, std::ostream& out);
// renorm's settings not given as flags come from the scene's renorm fields (keys rL rN rM ..., docs/scene.md),
// so that a share link of the explorer's finite-width learning tab gives the tab's numbers.
int run_renorm(const Scene& scene, const Options& options, std::ostream& out);

}  // namespace fs::cli
