// GLSL programs of the plot widgets, and drawing through them inside ImGui's draw lists.
// Shader bodies live in shaders/ without a #version line and are embedded at build time
// (CMakeLists.txt generates fs_shaders.h); the loader prefixes the line the context needs.
//
// A heat map through the shader is three draw commands: a callback that binds our program, its
// uniforms and the colormap table (texture unit 1), ImDrawList::AddImage of the value texture
// (unit 0, bound by ImGui's backend, which also applies the clip rectangle), and
// ImDrawCallback_ResetRenderState so the backend restores its own program and vertex layout.
#pragma once
#include <string>
#include <string_view>

#include "app/plot.h"
#include "app/texture.h"
#include "imgui.h"

namespace fs::ui {

// The #version line for a context whose glGetString(GL_VERSION) is gl_version: "#version 300 es" for
// OpenGL ES / WebGL 2 (their version strings start with "OpenGL ES"), "#version 330 core" otherwise.
inline std::string glsl_version_line(std::string_view gl_version) {
  return gl_version.substr(0, 9) == "OpenGL ES" ? "#version 300 es" : "#version 330 core";
}
// What the GL compiler gets: the version line, then the body from shaders/.
inline std::string shader_source(std::string_view version_line, std::string_view body) {
  return std::string(version_line) + "\n" + std::string(body);
}

// Builds the heat-map program and uploads its colormap tables on the first call after ImGui's
// OpenGL3 backend is up; true while they are usable. A compile or link error (or any GL error) is
// kept in heat_map_shader_message(), written once to stderr, and not retried: heat maps then use
// the CPU-coloured texture.
bool heat_map_shader_ready();
const std::string& heat_map_shader_message();

// Draws `values` (an R32F texture of pack_heat_values texels) between p_min and p_max with the
// given texture coordinates through the heat-map shader. Needs heat_map_shader_ready().
void add_shaded_heat_map(ImDrawList* draw, const Texture& values, const ShaderScale& scale, bool diverging, const ImVec2& p_min,
                         const ImVec2& p_max, const ImVec2& uv_min, const ImVec2& uv_max);

// Frees the program and tables (before the GL context goes away).
void release_shaders();

}  // namespace fs::ui
