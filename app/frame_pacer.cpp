#include "app/frame_pacer.h"

#include <algorithm>

namespace fs::ui {

FrameSchedule FramePacer::next(double now, bool input, bool busy) {
  if (!started_) last_input_ = now - kInteractiveSeconds, last_draw_ = now - kIdleInterval;
  started_ = true;
  if (input) last_input_ = now;
  if (was_busy_ && !busy) settle_ = kSettleFrames;
  was_busy_ = busy;

  FrameSchedule s;
  const double since_draw = now - last_draw_;
  if (now - last_input_ < kInteractiveSeconds || settle_ > 0) {
    s.draw = true;
    s.compute_seconds = kInteractiveCompute;
  } else if (busy) {
    s.draw = since_draw >= kProgressInterval;
    s.compute_seconds = kBackgroundCompute;
  } else {
    s.draw = since_draw >= kIdleInterval;
    s.compute_seconds = s.draw ? kInteractiveCompute : 0;
    s.wait_seconds = s.draw ? 0 : std::max(0.0, kIdleInterval - since_draw);
  }
  if (s.draw) {
    last_draw_ = now;
    if (settle_ > 0) --settle_;
  }
  return s;
}

}  // namespace fs::ui
