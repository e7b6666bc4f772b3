// Colour maps of our own for the plot widgets: a sequential map (magnitudes), a diverging map
// (signed quantities, centred at t = 0.5), and a qualitative palette for curves. All are built
// in Oklab (Ottosson 2020, "A perceptual color space for image processing") from a handful of
// our own control colours, with lightness a linear function of t so equal steps in t look equal.
// No ImGui or GL here; colours are packed like ImGui's IM_COL32 (R in the low byte, A in the
// high byte), so an Rgba8 can be passed wherever ImGui takes an ImU32.
#pragma once
#include <array>
#include <cstdint>

namespace fs::ui {

using Rgba8 = std::uint32_t;

constexpr Rgba8 rgba8(unsigned r, unsigned g, unsigned b, unsigned a = 255) {
  return (a & 0xFFu) << 24 | (b & 0xFFu) << 16 | (g & 0xFFu) << 8 | (r & 0xFFu);
}

// Neutral grey for missing values (NaN cells, not-yet-computed cells).
inline constexpr Rgba8 kMissingColor = rgba8(128, 128, 128);

struct Srgb {  // gamma-encoded sRGB components, nominally in [0, 1]
  double r = 0, g = 0, b = 0;
};
struct Oklab {
  double L = 0, a = 0, b = 0;
};

Oklab oklab_from_srgb(const Srgb& c);
Srgb srgb_from_oklab(const Oklab& c);  // not clamped: components outside [0, 1] mean out of gamut
Srgb srgb_from_rgba8(Rgba8 c);
Rgba8 rgba8_from_srgb(const Srgb& c, double alpha = 1.0);  // clamped and rounded

// t in [0, 1] (clamped). The *_oklab forms are the exact, gamut-mapped colours before 8-bit
// rounding; the *_color forms come from a 1024-entry table of them. NaN t gives kMissingColor.
Oklab sequential_oklab(double t);  // dark indigo -> plum -> coral -> orange -> pale cream
Rgba8 sequential_color(double t);
Oklab diverging_oklab(double t);  // deep blue -> light neutral (t = 0.5) -> brick red; L(t) = L(1 - t)
Rgba8 diverging_color(double t);

// The tables the heat-map shader samples with linear interpolation (shaders/heatmap.frag): entry i
// is the exact colour at t = i / (kShaderTableSize - 1), rounded once.
inline constexpr int kShaderTableSize = 256;
using ShaderTable = std::array<Rgba8, kShaderTableSize>;
const ShaderTable& sequential_shader_table();
const ShaderTable& diverging_shader_table();

// Distinct curve colours of equal lightness and chroma, readable on dark and light backgrounds.
Rgba8 qualitative_color(int index);

}  // namespace fs::ui
