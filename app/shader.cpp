// The heat-map shader: loader (version line, compile and link errors as messages), the colormap
// tables, and the draw callback that runs it inside ImGui's OpenGL3 backend.
#include "app/shader.h"

#include <cstddef>
#include <cstdio>
#include <deque>

#include "app/colormap.h"
#include "app/gl.h"
#include "fs_shaders.h"

namespace fs::ui {
namespace {

// Attribute locations bound before linking; the callback points them at ImDrawVert's fields.
constexpr GLuint kPositionLocation = 0, kUvLocation = 1;

struct HeatMapProgram {
  enum class State { untried, ready, failed } state = State::untried;
  std::string message;
  GLuint program = 0;
  GLint projection = -1, values = -1, colormap = -1, log = -1, scale = -1, missing = -1;
  Texture sequential, diverging;  // the 256 x 1 colormap tables
};

HeatMapProgram& heat_map_program() {
  static HeatMapProgram program;
  return program;
}

std::string info_log(GLuint object, bool is_program) {
  GLint length = 0;
  if (is_program)
    glGetProgramiv(object, GL_INFO_LOG_LENGTH, &length);
  else
    glGetShaderiv(object, GL_INFO_LOG_LENGTH, &length);
  std::string log(static_cast<std::size_t>(length > 1 ? length : 1), '\0');
  if (is_program)
    glGetProgramInfoLog(object, length, nullptr, log.data());
  else
    glGetShaderInfoLog(object, length, nullptr, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  return log;
}

// Compiles one stage; 0 and a message on failure.
GLuint compile(GLenum stage, const char* name, const std::string& source, std::string& message) {
  const GLuint shader = glCreateShader(stage);
  const char* text = source.c_str();
  glShaderSource(shader, 1, &text, nullptr);
  glCompileShader(shader);
  GLint ok = GL_FALSE;
  glGetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (ok == GL_TRUE) return shader;
  message = std::string("shaders/") + name + " did not compile: " + info_log(shader, false);
  glDeleteShader(shader);
  return 0;
}

bool build(HeatMapProgram& p) {
  while (glGetError() != GL_NO_ERROR) {}
  const char* version = reinterpret_cast<const char*>(glGetString(GL_VERSION));
  if (!version) {
    p.message = "no GL version string (is a GL context current?)";
    return false;
  }
  const std::string line = glsl_version_line(version);
  const GLuint vertex = compile(GL_VERTEX_SHADER, "heatmap.vert", shader_source(line, shaders::heatmap_vert), p.message);
  if (!vertex) return false;
  const GLuint fragment = compile(GL_FRAGMENT_SHADER, "heatmap.frag", shader_source(line, shaders::heatmap_frag), p.message);
  if (!fragment) {
    glDeleteShader(vertex);
    return false;
  }
  p.program = glCreateProgram();
  glAttachShader(p.program, vertex);
  glAttachShader(p.program, fragment);
  glBindAttribLocation(p.program, kPositionLocation, "position");
  glBindAttribLocation(p.program, kUvLocation, "uv");
  glLinkProgram(p.program);
  glDetachShader(p.program, vertex);
  glDetachShader(p.program, fragment);
  glDeleteShader(vertex);
  glDeleteShader(fragment);
  GLint ok = GL_FALSE;
  glGetProgramiv(p.program, GL_LINK_STATUS, &ok);
  if (ok != GL_TRUE) {
    p.message = "the heat-map program did not link: " + info_log(p.program, true);
    return false;
  }
  p.projection = glGetUniformLocation(p.program, "u_projection");
  p.values = glGetUniformLocation(p.program, "u_values");
  p.colormap = glGetUniformLocation(p.program, "u_colormap");
  p.log = glGetUniformLocation(p.program, "u_log");
  p.scale = glGetUniformLocation(p.program, "u_scale");
  p.missing = glGetUniformLocation(p.program, "u_missing");
  if (p.projection < 0 || p.values < 0 || p.colormap < 0 || p.log < 0 || p.scale < 0 || p.missing < 0) {
    p.message = "the heat-map program lacks one of its uniforms";
    return false;
  }
  if (!upload_texture(p.sequential, sequential_shader_table().data(), kShaderTableSize, 1, Sampling::linear) ||
      !upload_texture(p.diverging, diverging_shader_table().data(), kShaderTableSize, 1, Sampling::linear)) {
    p.message = "the colormap tables could not be uploaded";
    return false;
  }
  if (glGetError() != GL_NO_ERROR) {
    p.message = "GL reported an error while building the heat-map program";
    return false;
  }
  return true;
}

void release(HeatMapProgram& p) {
  if (p.program && textures_available()) glDeleteProgram(p.program);
  p.program = 0;
  release_texture(p.sequential);
  release_texture(p.diverging);
}

// What one callback needs; lives until the frame it was queued in has been rendered.
struct ShadedDraw {
  ShaderScale scale;
  bool diverging = false;
};
struct ShadedDraws {
  int frame = -1;
  std::deque<ShadedDraw> draws;  // a deque: pointers to its elements stay valid as it grows
};
ShadedDraws& shaded_draws() {
  static ShadedDraws draws;
  return draws;
}

// Runs inside ImGui_ImplOpenGL3_RenderDrawData, with the backend's vertex array and buffer bound.
void bind_heat_map_program(const ImDrawList*, const ImDrawCmd* command) {
  const HeatMapProgram& p = heat_map_program();
  const auto* draw = static_cast<const ShadedDraw*>(command->UserCallbackData);
  const ImDrawData* data = ImGui::GetDrawData();
  if (p.state != HeatMapProgram::State::ready || !draw || !data) return;
  // The backend's orthographic projection of ImGui's display rectangle.
  const float L = data->DisplayPos.x, R = data->DisplayPos.x + data->DisplaySize.x;
  const float T = data->DisplayPos.y, B = data->DisplayPos.y + data->DisplaySize.y;
  const float projection[16] = {2.f / (R - L),     0, 0, 0, 0, 2.f / (T - B), 0, 0, 0, 0, -1.f, 0, (R + L) / (L - R),
                                (T + B) / (B - T), 0, 1};
  glUseProgram(p.program);
  glUniformMatrix4fv(p.projection, 1, GL_FALSE, projection);
  glUniform1i(p.values, 0);
  glUniform1i(p.colormap, 1);
  glUniform1f(p.log, draw->scale.log ? 1.f : 0.f);
  glUniform3f(p.scale, draw->scale.offset, draw->scale.scale, draw->scale.bias);
  const Srgb missing = srgb_from_rgba8(kMissingColor);
  glUniform4f(p.missing, float(missing.r), float(missing.g), float(missing.b), 1.f);
  glActiveTexture(GL_TEXTURE1);
  glBindTexture(GL_TEXTURE_2D, draw->diverging ? p.diverging.name : p.sequential.name);
  glActiveTexture(GL_TEXTURE0);  // the backend binds the image's texture on unit 0
  glEnableVertexAttribArray(kPositionLocation);
  glEnableVertexAttribArray(kUvLocation);
  glVertexAttribPointer(kPositionLocation, 2, GL_FLOAT, GL_FALSE, sizeof(ImDrawVert),
                        reinterpret_cast<const void*>(offsetof(ImDrawVert, pos)));
  glVertexAttribPointer(kUvLocation, 2, GL_FLOAT, GL_FALSE, sizeof(ImDrawVert),
                        reinterpret_cast<const void*>(offsetof(ImDrawVert, uv)));
}

}  // namespace

bool heat_map_shader_ready() {
  HeatMapProgram& p = heat_map_program();
  if (p.state == HeatMapProgram::State::untried && textures_available()) {
    if (build(p)) {
      p.state = HeatMapProgram::State::ready;
    } else {
      release(p);
      p.state = HeatMapProgram::State::failed;
      std::fprintf(stderr, "fieldscope: heat maps are coloured on the CPU instead: %s\n", p.message.c_str());
    }
  }
  return p.state == HeatMapProgram::State::ready && textures_available();
}

const std::string& heat_map_shader_message() { return heat_map_program().message; }

void add_shaded_heat_map(ImDrawList* draw, const Texture& values, const ShaderScale& scale, bool diverging, const ImVec2& p_min,
                         const ImVec2& p_max, const ImVec2& uv_min, const ImVec2& uv_max) {
  ShadedDraws& pending = shaded_draws();
  const int frame = ImGui::GetFrameCount();
  if (pending.frame != frame) {  // the previous frame has been rendered by now
    pending.draws.clear();
    pending.frame = frame;
  }
  pending.draws.push_back({scale, diverging});
  draw->AddCallback(bind_heat_map_program, &pending.draws.back());
  draw->AddImage(values.id(), p_min, p_max, uv_min, uv_max);
  draw->AddCallback(ImDrawCallback_ResetRenderState, nullptr);
}

void release_shaders() {
  HeatMapProgram& p = heat_map_program();
  release(p);
  if (p.state == HeatMapProgram::State::ready) p.state = HeatMapProgram::State::untried;
}

}  // namespace fs::ui
