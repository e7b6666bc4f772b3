// Heat-map cells: a textured quad in ImGui's screen coordinates (the vertices of
// ImDrawList::AddImage, at the attribute locations app/shader.cpp binds before linking).
uniform mat4 u_projection;  // ImGui's orthographic projection, as its OpenGL3 backend builds it
in vec2 position;
in vec2 uv;
out vec2 v_uv;

void main() {
  v_uv = uv;
  gl_Position = u_projection * vec4(position, 0.0, 1.0);
}
