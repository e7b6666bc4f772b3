#include "core/status.h"

namespace fs {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_input: return "invalid_input";
    case StatusCode::diverged: return "diverged";
    case StatusCode::not_defined: return "not_defined";
    case StatusCode::numerical: return "numerical";
    case StatusCode::too_large: return "too_large";
    case StatusCode::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string echo_user_text(std::string_view text) {
  constexpr std::size_t kMax = 40;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool plain =
        c >= 0x20 && c < 0x7f && c != '<' && c != '>' && c != '&' && c != '"' && c != '\'' && c != '`' && c != '\\';
    out += plain ? static_cast<char>(c) : '?';
  }
  if (text.size() > kMax) out += "...";
  return out;
}

}  // namespace fs
