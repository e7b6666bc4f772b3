// What each view of the explorer plots: its axes or colour, the equation behind it, the paper it comes from
// and the section of docs/theory.md that explains it. Plain text with Greek letters (the app font has them).
#pragma once

#include <string_view>

namespace fs {

// The explorer's "what is plotted" notes, kept in one place (one per view; each ends with its theory section).

// --- Phase diagram: colour over (σ_w², σ_b²), one note per quantity, and the critical line -------------------
inline constexpr const char* kNotePhaseChi1 =
    "Colour: χ₁ = σ_w² E[φ'(√q* z)²], the slope of the correlation map at c = 1, over σ_w² (x) and σ_b² (y), on a "
    "log scale centred on 1. Below 1 nearby inputs converge (ordered), above 1 they decorrelate (chaotic). From "
    "Poole et al. 2016, arXiv:1606.05340 (docs/theory.md §3)";
inline constexpr const char* kNotePhaseXiC =
    "Colour: the correlation depth scale ξ_c = −1/ln χ_c (log scale), with χ_c = σ_w² E[φ'(u₁)φ'(u₂)] at the fixed "
    "point (q*, c*). It diverges on the critical line, and networks train to a depth of about 6 ξ_c. From "
    "Schoenholz et al. 2017, arXiv:1611.01232 (docs/theory.md §3)";
inline constexpr const char* kNotePhaseLambda =
    "Colour: the largest Lyapunov exponent per layer for perturbation amplitudes, λ_max = ½ ln χ₁, centred on 0: "
    "negative in the ordered phase, positive in the chaotic phase, 0 at criticality. As in Grosvenor & Jefferson "
    "2021, arXiv:2109.13247 (docs/theory.md §3)";
inline constexpr const char* kNotePhaseQStar =
    "Colour: q*, the fixed point of the length map q ↦ σ_b² + σ_w² E[φ(√q z)²], the variance every input's "
    "pre-activations settle to with depth; blank where q diverges (e.g. ReLU with σ_w² ≥ 2). From Poole et al. 2016, "
    "arXiv:1606.05340 (docs/theory.md §3)";
inline constexpr const char* kNotePhaseCStar =
    "Colour: c*, the stable fixed point of the correlation map c ↦ (σ_b² + σ_w² E[φ(u₁)φ(u₂)]) / q*: 1 in the "
    "ordered phase, below 1 in the chaotic phase (0 for odd φ without bias). From Poole et al. 2016, "
    "arXiv:1606.05340 (docs/theory.md §3)";
inline constexpr const char* kNotePhaseCriticalLine =
    "Dark line: the critical line σ_w²,crit(σ_b²), where χ₁ = 1 at q*(σ_w², σ_b²) and ξ_c diverges. ReLU has only the "
    "point (2, 0); sign and step have none (χ₁ = ∞). From Schoenholz et al. 2017, arXiv:1611.01232 "
    "(docs/theory.md §3)";

// --- Signal propagation -----------------------------------------------------------------------------------
inline constexpr const char* kNoteSignalLength =
    "q^l = K^l_aa of inputs a and b against the layer l, from q⁰ = σ_in² G_aa + σ_b² through "
    "q^l = σ_b² + σ_w² E[φ(√q^{l−1} z)²]; the horizontal line is q*. From Poole et al. 2016, arXiv:1606.05340 "
    "(docs/theory.md §3)";
inline constexpr const char* kNoteSignalCorrelation =
    "c^l = K^l_ab / √(K^l_aa K^l_bb) of the pair against the layer l, from the two-input kernel recursion; the "
    "horizontal line is c*, approached over about ξ_c layers. From Schoenholz et al. 2017, arXiv:1611.01232 "
    "(docs/theory.md §3)";
inline constexpr const char* kNoteSignalLengthMap =
    "The length map q^{l−1} ↦ q^l = σ_b² + σ_w² E[φ(√q z)²] with the diagonal and the cobweb of its iterates from "
    "input a. They meet at q*, where the map's slope s gives ξ_q = −1/ln s. From Poole et al. 2016, "
    "arXiv:1606.05340 (docs/theory.md §3)";
inline constexpr const char* kNoteSignalCorrelationMap =
    "The correlation map at q*, c ↦ (σ_b² + σ_w² E[φ(u₁)φ(u₂)]) / q*, with the diagonal and the cobweb from the "
    "pair's c⁰. Its slope at c = 1 is χ₁, and it crosses the diagonal at c*. From Poole et al. 2016, "
    "arXiv:1606.05340 (docs/theory.md §3)";

// --- Kernels -----------------------------------------------------------------------------------------------
inline constexpr const char* kNoteKernelSingle =
    "The P × P pre-activation kernel K^l_ab = E[h^l_a h^l_b] at layer l (deep) or K^{tt}_ab at time t (recurrent), "
    "rows input a, columns input b: K⁰ = σ_in² G + σ_b², K^l = σ_b² + σ_w² E[φ(u)φ(v)] over K^{l−1}. From Lee et "
    "al. 2018, arXiv:1711.00165 (docs/theory.md §2)";
inline constexpr const char* kNoteKernelTwoTime =
    "Colour: the recurrent two-time kernel K(t, s) = E[h^t_a h^s_a] of input a over times t (y) and s (x), with one W "
    "shared by all steps: K^{ts} = B^{ts} + I^{ts} + σ_w² E[φ(h^{t−1}) φ(h^{s−1})]. Off the diagonal it is O(1) with "
    "a shared bias, inputs at every step or E[φ] ≠ 0. From Segadlo et al. 2022, arXiv:2112.05589 "
    "(docs/theory.md §4.1)";
inline constexpr const char* kNoteKernelCrossTime =
    "K_ab(t, t − τ) of the pair (or its correlation) against the lag τ for a few t; coinciding curves mean a "
    "stationary kernel. With input at t = 0 and a shared bias they approach c* q* (dashed). From Segadlo et al. "
    "2022, arXiv:2112.05589 (docs/theory.md §4.3)";
inline constexpr const char* kNoteKernelCompare =
    "The deep K^l and the recurrent K^{ll} at the same layer/time on one colour scale, and their difference. They "
    "are equal for either bias when the input enters only at t = 0, because K^{tt} depends on K^{t−1,t−1} alone; "
    "inputs at every step or a sequence make them differ. From Segadlo et al. 2022, arXiv:2112.05589 "
    "(docs/theory.md §4.2)";

// --- Finite width ------------------------------------------------------------------------------------------
inline constexpr const char* kNoteEnsembleHist =
    "Histograms over the M networks of width N (at most the first 4096) of the followed pair's aux field C-hat = "
    "(σ_w²/N) Σ_i φ(h_ia) φ(h_ib) and pre-activation Gram G-hat = (1/N) Σ_i h_ia h_ib at the last layer or time, "
    "against the Gaussian of the 1/N theory (mean: the mean field + m/N, variance D/N; none for the recurrent "
    "Gram) and the mean field (dashed). From Roberts, Yaida & Hanin 2022 (arXiv:2106.10165) and Segadlo et al. "
    "2022 (arXiv:2112.05589) (docs/theory.md §5.2)";
inline constexpr const char* kNoteEnsembleWidth =
    "Against the width N, deep and recurrent, at the last layer/time: N Var(C-hat_aa)/C-bar², the mean shift N (E "
    "C-hat_aa − C-bar) and the mean squared distance E(C-hat_aa − C-bar)², ensembles ± 1 SE, with the 1/N "
    "theory's D/C-bar², m and D/N + m²/N² dashed. Weight sharing lets fluctuations build up, so the recurrent "
    "variance is usually the larger. From Segadlo et al. 2022, arXiv:2112.05589 (docs/theory.md §5.4)";
inline constexpr const char* kNoteEnsembleSweep =
    "N × the mean squared distance to the mean field, N E(C-hat_aa − C-bar)², at fixed N over σ_w², σ_b² or depth "
    "for both architectures (ensembles ± 1 SE), with the 1/N theory D + m²/N dashed; below, their ratio "
    "recurrent/deep: how much more slowly the recurrent network converges (1: equally fast). From Segadlo et al. "
    "2022, arXiv:2112.05589 (docs/theory.md §6)";
inline constexpr const char* kNoteEnsembleCross =
    "C-hat_ab(t, t − τ) and G-hat_ab(t, t − τ) against the lag τ for a few t (input a at time t, b at t − τ): the "
    "ensemble mean with ±1 SD (one network's spread) and ±2 SE bands, and the two-time mean field dashed. The "
    "deep Gram's is 0, as the layers have independent weights; the recurrent network's shared W correlates its "
    "times. From Segadlo et al. 2022, arXiv:2112.05589 (docs/theory.md §4.3)";
inline constexpr const char* kNoteEnsembleChaos =
    "Against N, deep and recurrent: the Lyapunov exponent λ_max(N) = (1/L) Σ_l ln|J^l v^{l−1}| ± SE with its mean "
    "field, the layer average of ½ ln χ₁(q^{l−1}) (dashed), and ξ_c(N) fitted to ln|E c-hat^l − c*| where the "
    "signal exceeds 4 SE, beside the same fit to the mean field (dashed) and that fit shifted by the 1/N "
    "heuristic (thin line). Thin dashed lines: ½ ln χ₁(q*) and −1/ln χ_c at the fixed point. White: the 1/N "
    "theory of deep networks' λ_max(N) (§5.8); gold, for deep linear networks, the exact λ_max(N) = ½[ln σ_w² + "
    "ψ(N/2) − ln(N/2)] (§5.7). After Grosvenor & "
    "Jefferson 2021 (arXiv:2109.13247) and Hanin & Nica 2018 (arXiv:1812.05994) (docs/theory.md §5.6)";

// --- GP inference --------------------------------------------------------------------------------------------
inline constexpr const char* kNoteGpRegression =
    "1-D GP regression with the network's readout kernel, K_y = σ_b² + σ_w² E[φ(h^L) φ(h^L)] = K^{L+1} for a "
    "single-time readout: the posterior mean f* = K_*X (K_XX + σ_n² I)⁻¹ y with the predictive band ±2σ, σ² = "
    "latent variance + σ_n², and the training points (dots). From Lee et al. 2018, arXiv:1711.00165 "
    "(docs/theory.md §7)";
inline constexpr const char* kNoteGpSurface =
    "Decision surface of a 2-D data set: colour is the posterior mean f over the plane, whose sign is the "
    "predicted class for two classes (±1 targets); for more classes, the margin between the two largest one-hot "
    "outputs, with the class boundaries; for real targets, the posterior mean. Dots: the training points. From "
    "Lee et al. 2018, arXiv:1711.00165 (docs/theory.md §7)";
inline constexpr const char* kNoteGpFashion =
    "Fashion-MNIST (each image standardised so that G_aa = 1), classified by GP regression on one-hot targets (±1 "
    "for two classes): the confusion matrix (rows true class, columns predicted class, each row sums to 1) and "
    "test images with their predicted and true labels. From Lee et al. 2018, arXiv:1711.00165 (docs/theory.md §7)";
inline constexpr const char* kNoteGpGrid =
    "Colour: test accuracy, or log evidence per training point, over σ_w² (x) and depth L (y) for single-time "
    "readouts with kernel K^{L+1}; dashed: the critical σ_w² at this σ_b²; curve: the trainable depth 6 ξ_c; "
    "crosshair: the scene's (σ_w², L). From Lee et al. 2018 (arXiv:1711.00165) and Schoenholz et al. 2017 "
    "(arXiv:1611.01232) (docs/theory.md §7)";
inline constexpr const char* kNoteGpSweep =
    "The log evidence log p(y | X) = −½ y^T A⁻¹ y − ½ log|A| − (n/2) log 2π, A = K_XX + σ_n² I, summed over outputs, "
    "against σ_w², σ_b², L or σ_n²; its maximum (marked) is the type-II maximum-likelihood choice. From Rasmussen & "
    "Williams 2006, eq. 2.30 (docs/theory.md §7)";

// The same notes by view: `view` is the scene's panel and its sub-view (docs/scene.md: view, q, kv, ev, gv).
struct ViewNote {
  std::string_view view;
  const char* note;
};
inline constexpr ViewNote kViewNotes[] = {
    {"phase/chi1", kNotePhaseChi1},
    {"phase/xi_c", kNotePhaseXiC},
    {"phase/lambda", kNotePhaseLambda},
    {"phase/q_star", kNotePhaseQStar},
    {"phase/c_star", kNotePhaseCStar},
    {"phase/critical_line", kNotePhaseCriticalLine},
    {"signal/q", kNoteSignalLength},
    {"signal/c", kNoteSignalCorrelation},
    {"signal/q_map", kNoteSignalLengthMap},
    {"signal/c_map", kNoteSignalCorrelationMap},
    {"kernels/single", kNoteKernelSingle},
    {"kernels/two_time", kNoteKernelTwoTime},
    {"kernels/cross_time", kNoteKernelCrossTime},
    {"kernels/compare", kNoteKernelCompare},
    {"ensemble/hist", kNoteEnsembleHist},
    {"ensemble/width", kNoteEnsembleWidth},
    {"ensemble/sweep", kNoteEnsembleSweep},
    {"ensemble/cross", kNoteEnsembleCross},
    {"ensemble/chaos", kNoteEnsembleChaos},
    {"gp/fit/points", kNoteGpRegression},
    {"gp/fit/surface", kNoteGpSurface},
    {"gp/fit/fashion-mnist", kNoteGpFashion},
    {"gp/grid", kNoteGpGrid},
    {"gp/sweep", kNoteGpSweep},
};

// The note of a view, or nullptr for an unknown one.
constexpr const char* view_note(std::string_view view) {
  for (const ViewNote& n : kViewNotes)
    if (n.view == view) return n.note;
  return nullptr;
}

// Every note names its section of docs/theory.md at its end.
namespace view_notes_detail {
constexpr bool ends_with_section(std::string_view note) {
  const std::string_view::size_type at = note.rfind(" (docs/theory.md §");
  return at != std::string_view::npos && note.back() == ')' && note.find(')', at) == note.size() - 1;
}
constexpr bool all_end_with_section() {
  for (const ViewNote& n : kViewNotes)
    if (!ends_with_section(n.note)) return false;
  return true;
}
}  // namespace view_notes_detail
static_assert(view_notes_detail::all_end_with_section(), "each view note ends with \" (docs/theory.md §N)\"");

}  // namespace fs
