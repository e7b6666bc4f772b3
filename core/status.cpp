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

}  // namespace fs
