// The GL header for app/'s GL seam (texture.cpp, shader.cpp): GLES 3 in the browser (WebGL2), the
// system's desktop GL with prototypes otherwise. Everything called through it is GL 3.3 core and
// GLES 3.0 alike, so desktop needs only libGL's exported entry points (OpenGL::GL), no loader.
// Include it from .cpp files only.
#pragma once

#if defined(__EMSCRIPTEN__)
#include <GLES3/gl3.h>
#else
#ifndef GL_GLEXT_PROTOTYPES
#define GL_GLEXT_PROTOTYPES 1
#endif
#include <GL/gl.h>
#include <GL/glext.h>
#endif
