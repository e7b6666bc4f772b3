// The one GL seam in app/: the plot widgets' textures. Every call here is GL 1.1 / GLES 3.0 core,
// so desktop needs only libGL's exported entry points (link OpenGL::GL), no loader.
#include "app/texture.h"

#include <bit>
#include <cstring>

#if defined(__EMSCRIPTEN__)
#include <GLES3/gl3.h>
#else
#include <GL/gl.h>
#include <GL/glext.h>
#endif

namespace fs::ui {

// Packed IM_COL32 texels are uploaded as GL_RGBA bytes, which is the same memory on these hosts.
static_assert(std::endian::native == std::endian::little, "texels are IM_COL32-packed: little-endian only");

bool textures_available() {
  if (!ImGui::GetCurrentContext()) return false;
  const char* renderer = ImGui::GetIO().BackendRendererName;
  return renderer && std::strcmp(renderer, "imgui_impl_opengl3") == 0;
}

bool upload_texture(Texture& texture, const std::uint32_t* texels, int width, int height) {
  if (!textures_available() || !texels || width <= 0 || height <= 0) return false;
  for (int i = 0; i < 16 && glGetError() != GL_NO_ERROR; ++i) {
  }  // clear errors left by other code, so only ours are reported below

  GLint previous_texture = 0, previous_alignment = 4;
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous_texture);
  glGetIntegerv(GL_UNPACK_ALIGNMENT, &previous_alignment);

  const bool create = texture.name == 0;
  if (create) {
    GLuint name = 0;
    glGenTextures(1, &name);
    texture.name = name;
  }
  glBindTexture(GL_TEXTURE_2D, texture.name);
  if (create) {
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  }
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  if (create || texture.width != width || texture.height != height) {
    // Unsized GL_RGBA: valid on desktop GL, GLES 3 and also WebGL1 (ImGui 1.86's default on the web).
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, texels);
  } else {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE, texels);
  }
  glPixelStorei(GL_UNPACK_ALIGNMENT, previous_alignment);
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(previous_texture));

  if (glGetError() != GL_NO_ERROR) {
    release_texture(texture);
    return false;
  }
  texture.width = width;
  texture.height = height;
  return true;
}

void release_texture(Texture& texture) {
  if (texture.name != 0 && textures_available()) {
    const GLuint name = texture.name;
    glDeleteTextures(1, &name);
  }
  texture = {};
}

}  // namespace fs::ui
