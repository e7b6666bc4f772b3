// Heat-map colours on the GPU: one float texel per cell, mapped to [0, 1] exactly as the CPU path
// does (fs::ui::color_position in app/plot.cpp), then looked up in a 256-entry colormap.
//
// The CPU packs the texels (fs::ui::pack_heat_values): linear scales store value - range.min (so
// float's 24 bits resolve the colour range however far from zero it sits), log scales store the
// value itself; cells without a colour (NaN, infinite, <= 0 on a log scale) store +infinity.
precision highp float;

uniform highp sampler2D u_values;  // R32F, NEAREST: one texel per cell (no extension needed in WebGL2)
uniform sampler2D u_colormap;      // 256 x 1 RGBA8, LINEAR: entry i is the colour at t = i / 255
uniform float u_log;               // 1: the colour coordinate is log2(value), 0: the stored value
uniform vec3 u_scale;              // t = clamp((coordinate - x) * y + z, 0, 1)
uniform vec4 u_missing;            // colour of cells without a value (kMissingColor)

in vec2 v_uv;
out vec4 out_color;

void main() {
  float value = texture(u_values, v_uv).r;
  // abs(value) <= 3e38 is false for +-infinity and NaN alike (no isnan(), which some compilers
  // fold away).
  if (!(abs(value) <= 3.0e38) || (u_log > 0.5 && value <= 0.0)) {
    out_color = u_missing;
    return;
  }
  float coordinate = u_log > 0.5 ? log2(value) : value;
  float t = clamp((coordinate - u_scale.x) * u_scale.y + u_scale.z, 0.0, 1.0);
  // Texel centres: t = 0 samples entry 0 exactly, t = 1 entry 255; between them LINEAR filtering
  // interpolates neighbouring entries, 1/255 apart.
  out_color = texture(u_colormap, vec2((t * 255.0 + 0.5) / 256.0, 0.5));
}
