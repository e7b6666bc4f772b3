// When the platform's loop draws, and how long the jobs compute in between (web/ and desktop/ loops).
//
// Drawing is not free: under software GL (headless Chromium, browsers without GPU acceleration) one
// frame costs tens of milliseconds, so a loop that draws flat out leaves the jobs a small share of the
// machine. The pacer draws every frame while the user interacts (and for a second after the last
// input, so that hover effects and ImGui's layout settle) and the first few frames; while jobs compute
// without input, a progress frame about four times a second, every other pass of the loop computing
// for a longer slice without drawing; when the jobs finish, a few frames to show the results; then,
// with nothing pending, one frame every half second.
#pragma once

namespace fs::ui {

struct FrameSchedule {
  bool draw = true;            // build and render a frame in this pass
  double compute_seconds = 0;  // the jobs' time slice in this pass (inside the frame when it draws)
  double wait_seconds = 0;     // nothing to do: the loop may sleep this long (or until input)
};

class FramePacer {
 public:
  static constexpr double kInteractiveSeconds = 1.0;    // draw every pass this long after input
  static constexpr double kInteractiveCompute = 0.012;  // the jobs' slice in an interactive frame
  static constexpr double kBackgroundCompute = 0.04;    // the jobs' slice per pass otherwise
  static constexpr double kProgressInterval = 0.25;     // between frames while jobs compute
  static constexpr double kIdleInterval = 0.5;          // between frames when nothing changes
  static constexpr int kSettleFrames = 3;               // frames drawn when the jobs finish

  // One call per pass of the loop. `now`: a monotonic clock in seconds; `input`: user input (or any
  // outside change to the scene) since the last call; `busy`: jobs pending (App::busy()). When it
  // returns draw = true, the caller draws this pass.
  FrameSchedule next(double now, bool input, bool busy);

 private:
  bool started_ = false;
  double last_input_ = 0, last_draw_ = 0;
  int settle_ = kSettleFrames;  // frames still to draw at once (the first ones, and after the jobs finish)
  bool was_busy_ = false;
};

}  // namespace fs::ui
