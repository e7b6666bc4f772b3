#include "app/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <span>

namespace fs::ui {
namespace {

// sRGB transfer function, IEC 61966-2-1.
double linear_from_gamma(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
double gamma_from_linear(double c) { return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055; }

struct Linear {
  double r, g, b;
};

// Ottosson 2020, "A perceptual color space for image processing": linear sRGB -> LMS -> cube
// root -> Oklab, and back.
Oklab oklab_from_linear(const Linear& c) {
  const double l = std::cbrt(0.4122214708 * c.r + 0.5363325363 * c.g + 0.0514459929 * c.b);
  const double m = std::cbrt(0.2119034982 * c.r + 0.6806995451 * c.g + 0.1073969566 * c.b);
  const double s = std::cbrt(0.0883024619 * c.r + 0.2817188376 * c.g + 0.6299787005 * c.b);
  return {0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s, 1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
          0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s};
}
Linear linear_from_oklab(const Oklab& c) {
  const double l = c.L + 0.3963377774 * c.a + 0.2158037573 * c.b;
  const double m = c.L - 0.1055613458 * c.a - 0.0638541728 * c.b;
  const double s = c.L - 0.0894841775 * c.a - 1.2914855480 * c.b;
  const double l3 = l * l * l, m3 = m * m * m, s3 = s * s * s;
  return {+4.0767416621 * l3 - 3.3077115913 * m3 + 0.2309699292 * s3, -1.2684380046 * l3 + 2.6097574011 * m3 - 0.3413193965 * s3,
          -0.0041960863 * l3 - 0.7034186147 * m3 + 1.7076147010 * s3};
}

bool in_gamut(const Oklab& c) {
  constexpr double kSlack = 1e-9;
  const Linear rgb = linear_from_oklab(c);
  return rgb.r >= -kSlack && rgb.r <= 1 + kSlack && rgb.g >= -kSlack && rgb.g <= 1 + kSlack && rgb.b >= -kSlack &&
         rgb.b <= 1 + kSlack;
}

// Brings a colour into the sRGB gamut by shrinking its chroma at fixed lightness and hue, so
// the lightness profile of a map survives the trip to the screen.
Oklab gamut_mapped(Oklab c) {
  c.L = std::clamp(c.L, 0.0, 1.0);
  if (in_gamut(c)) return c;
  double inside = 0, outside = 1;
  for (int i = 0; i < 40; ++i) {
    const double mid = 0.5 * (inside + outside);
    (in_gamut({c.L, c.a * mid, c.b * mid}) ? inside : outside) = mid;
  }
  return {c.L, c.a * inside, c.b * inside};
}

Oklab from_hex(std::uint32_t rgb) {
  return oklab_from_srgb({((rgb >> 16) & 0xFF) / 255.0, ((rgb >> 8) & 0xFF) / 255.0, (rgb & 0xFF) / 255.0});
}

// The (a, b) of a path of control colours with strictly monotone lightness, at lightness L: the
// path is walked by lightness, so the caller decides how lightness varies with t.
Oklab along_path_at_lightness(std::span<const Oklab> path, double L) {
  const bool rising = path.back().L > path.front().L;
  std::size_t i = 0;
  while (i + 2 < path.size() && (rising ? L > path[i + 1].L : L < path[i + 1].L)) ++i;
  const double s = std::clamp((L - path[i].L) / (path[i + 1].L - path[i].L), 0.0, 1.0);
  return {L, path[i].a + s * (path[i + 1].a - path[i].a), path[i].b + s * (path[i + 1].b - path[i].b)};
}

// Our control colours (sRGB hex). Sequential: lightness rises at every step.
constexpr std::array<std::uint32_t, 6> kSequentialControls = {0x120C30, 0x3B1F7A, 0x8C2F8F, 0xD9525E, 0xF79A3E, 0xFBE9A3};
// Diverging: a light neutral centre and two arms whose lightness falls outwards.
constexpr std::uint32_t kDivergingCentre = 0xF0EEEA;
constexpr std::array<std::uint32_t, 2> kDivergingBlueArm = {0x9FC0E6, 0x2B56A6};
constexpr std::array<std::uint32_t, 2> kDivergingRedArm = {0xEFA88F, 0xAA3128};

struct SequentialPath {
  std::array<Oklab, kSequentialControls.size()> controls;
  SequentialPath() {
    for (std::size_t i = 0; i < controls.size(); ++i) controls[i] = from_hex(kSequentialControls[i]);
  }
};

struct DivergingPath {
  std::array<Oklab, 3> blue, red;  // centre first, then outwards
  DivergingPath() {
    const Oklab centre = from_hex(kDivergingCentre);
    blue = {centre, from_hex(kDivergingBlueArm[0]), from_hex(kDivergingBlueArm[1])};
    red = {centre, from_hex(kDivergingRedArm[0]), from_hex(kDivergingRedArm[1])};
    // Both arms end at the same lightness (their mean), so L(t) = L(1 - t) holds exactly.
    const double end_L = 0.5 * (blue[2].L + red[2].L);
    for (auto* arm : {&blue, &red}) {
      const double scale = (end_L - centre.L) / ((*arm)[2].L - centre.L);
      for (Oklab& c : *arm) c.L = centre.L + (c.L - centre.L) * scale;
    }
  }
};

const SequentialPath& sequential_path() {
  static const SequentialPath path;
  return path;
}
const DivergingPath& diverging_path() {
  static const DivergingPath path;
  return path;
}

constexpr int kTableSize = 1024;
using Table = std::array<Rgba8, kTableSize>;

template <class OklabMap>
Table build_table(OklabMap map) {
  Table table{};
  for (int i = 0; i < kTableSize; ++i) table[i] = rgba8_from_srgb(srgb_from_oklab(map(double(i) / (kTableSize - 1))));
  return table;
}

Rgba8 lookup(const Table& table, double t) {
  if (std::isnan(t)) return kMissingColor;
  return table[static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * (kTableSize - 1)))];
}

}  // namespace

Oklab oklab_from_srgb(const Srgb& c) {
  return oklab_from_linear({linear_from_gamma(c.r), linear_from_gamma(c.g), linear_from_gamma(c.b)});
}

Srgb srgb_from_oklab(const Oklab& c) {
  const Linear rgb = linear_from_oklab(c);
  // The transfer function is odd-extended so out-of-gamut colours stay visible as such.
  const auto encode = [](double x) { return x < 0 ? -gamma_from_linear(-x) : gamma_from_linear(x); };
  return {encode(rgb.r), encode(rgb.g), encode(rgb.b)};
}

Srgb srgb_from_rgba8(Rgba8 c) { return {(c & 0xFF) / 255.0, ((c >> 8) & 0xFF) / 255.0, ((c >> 16) & 0xFF) / 255.0}; }

Rgba8 rgba8_from_srgb(const Srgb& c, double alpha) {
  const auto byte = [](double x) { return static_cast<unsigned>(std::lround(std::clamp(x, 0.0, 1.0) * 255.0)); };
  return rgba8(byte(c.r), byte(c.g), byte(c.b), byte(alpha));
}

Oklab sequential_oklab(double t) {
  const auto& path = sequential_path().controls;
  t = std::clamp(t, 0.0, 1.0);
  const double L = path.front().L + t * (path.back().L - path.front().L);
  return gamut_mapped(along_path_at_lightness(path, L));
}

Oklab diverging_oklab(double t) {
  const DivergingPath& path = diverging_path();
  t = std::clamp(t, 0.0, 1.0);
  const double arm_position = std::abs(2 * t - 1);  // 0 at the centre, 1 at either end
  const auto& arm = t < 0.5 ? path.blue : path.red;
  const double L = arm[0].L + arm_position * (arm[2].L - arm[0].L);
  if (arm_position == 0) return gamut_mapped(arm[0]);
  return gamut_mapped(along_path_at_lightness(arm, L));
}

Rgba8 sequential_color(double t) {
  static const Table table = build_table(sequential_oklab);
  return lookup(table, t);
}

Rgba8 diverging_color(double t) {
  static const Table table = build_table(diverging_oklab);
  return lookup(table, t);
}

const ShaderTable& sequential_shader_table() {
  static const ShaderTable table = [] {
    ShaderTable t{};
    for (int i = 0; i < kShaderTableSize; ++i)
      t[i] = rgba8_from_srgb(srgb_from_oklab(sequential_oklab(double(i) / (kShaderTableSize - 1))));
    return t;
  }();
  return table;
}

const ShaderTable& diverging_shader_table() {
  static const ShaderTable table = [] {
    ShaderTable t{};
    for (int i = 0; i < kShaderTableSize; ++i)
      t[i] = rgba8_from_srgb(srgb_from_oklab(diverging_oklab(double(i) / (kShaderTableSize - 1))));
    return t;
  }();
  return table;
}

Rgba8 qualitative_color(int index) {
  // Hues (degrees in Oklab's a-b plane) picked to alternate warm and cool, then golden-angle steps.
  constexpr std::array<double, 8> kHues = {255, 55, 145, 20, 305, 95, 200, 340};
  const int i = std::max(index, 0);
  const double hue_degrees = i < int(kHues.size()) ? kHues[i] : kHues[0] + 137.50776 * i;
  const double hue = hue_degrees * std::numbers::pi / 180;
  constexpr double kLightness = 0.72, kChroma = 0.14;
  return rgba8_from_srgb(srgb_from_oklab(gamut_mapped({kLightness, kChroma * std::cos(hue), kChroma * std::sin(hue)})));
}

}  // namespace fs::ui
