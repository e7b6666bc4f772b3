// Errors are values: bad input and numerical trouble come back as a Status with a human sentence.
#pragma once
#include <string>
#include <string_view>
#include <utility>

namespace fs {

enum class StatusCode {
  ok,
  invalid_input,  // a parameter out of range, a malformed file or link
  diverged,       // e.g. ReLU with sigma_w^2 > 2: the kernel grows without bound
  not_defined,    // a quantity that does not exist for this setting (e.g. NTK of a step function)
  numerical,      // loss of accuracy the code could not recover from
  too_large,      // a size that would not fit in the memory budget
  cancelled,
};

struct Status {
  StatusCode code = StatusCode::ok;
  std::string message;  // one sentence a user can act on; empty when ok

  bool ok() const { return code == StatusCode::ok; }
  static Status success() { return {}; }
  static Status error(StatusCode code, std::string message) { return {code, std::move(message)}; }
};

const char* status_code_name(StatusCode code);

// User text quoted inside a message: at most ~40 bytes, with anything that is not plain printable
// ASCII (or could be markup wherever the sentence is shown) replaced by '?', and "..." if cut.
std::string echo_user_text(std::string_view text);

}  // namespace fs
