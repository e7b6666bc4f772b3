// The frame pacer (app/frame_pacer.h): when the loop draws and how long the jobs compute, on a
// simulated clock where a drawn frame costs what software GL costs.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "app/frame_pacer.h"

using fs::ui::FramePacer;
using fs::ui::FrameSchedule;

namespace {

// A loop on a simulated clock: each pass computes for its slice (while `busy_for` seconds of work
// remain), then draws at a cost of `draw_cost` seconds when told to. Input arrives at `inputs`.
struct Simulation {
  double draw_cost = 0.06;  // software GL: about 60 ms a frame at 1280 x 800
  double vsync = 1 / 60.0;  // a pass that does nothing still waits for the next animation frame
  double work = 0;          // seconds of computation pending
  std::vector<double> inputs;

  double clock = 0, computed = 0;
  int draws = 0;
  std::vector<double> draw_times;

  // Runs until `until`, or until the work is done when `stop_when_done`.
  void run(FramePacer& pacer, double until, bool stop_when_done = false) {
    std::size_t next_input = 0;
    while (clock < until && !(stop_when_done && work <= 0)) {
      bool input = false;
      while (next_input < inputs.size() && inputs[next_input] <= clock) input = true, ++next_input;
      const FrameSchedule s = pacer.next(clock, input, work > 0);
      const double slice = work > 0 ? std::min(work, s.compute_seconds) : 0;
      work -= slice, computed += slice;
      double spent = slice;
      if (s.draw) spent += draw_cost, ++draws, draw_times.push_back(clock);
      clock += std::max(spent, vsync);
    }
  }
};

}  // namespace

TEST_CASE("the first frames are drawn, then an idle loop draws twice a second and may sleep in between") {
  FramePacer pacer;
  Simulation sim;
  sim.run(pacer, 0.2);
  CHECK(sim.draws >= FramePacer::kSettleFrames);
  // Past the interactive second after start, with nothing pending: a frame per kIdleInterval.
  Simulation idle;
  FramePacer p2;
  idle.run(p2, 11.0);
  const int first_second = static_cast<int>(std::count_if(idle.draw_times.begin(), idle.draw_times.end(),
                                                          [](double t) { return t < FramePacer::kInteractiveSeconds; }));
  const int rest = idle.draws - first_second;
  CHECK(rest >= 19);
  CHECK(rest <= 21);  // 10 s at one frame per 0.5 s
  FramePacer p3;
  CHECK(p3.next(0, false, false).draw);
  for (int i = 0; i < FramePacer::kSettleFrames; ++i) p3.next(2 + 0.01 * i, false, false);
  const FrameSchedule quiet = p3.next(2.1, false, false);
  CHECK_FALSE(quiet.draw);
  CHECK(quiet.compute_seconds == 0);
  CHECK(quiet.wait_seconds > 0);
  CHECK(quiet.wait_seconds <= FramePacer::kIdleInterval);
}

TEST_CASE("input makes every pass draw, for a second after the last event") {
  FramePacer pacer;
  pacer.next(0, false, true);
  for (double t = 2; t < 3; t += 0.1) pacer.next(t, false, true);  // busy, no input: mostly not drawn
  FrameSchedule s = pacer.next(3.0, true, true);
  CHECK(s.draw);
  CHECK(s.compute_seconds == FramePacer::kInteractiveCompute);
  int drawn = 0, passes = 0;
  for (double t = 3.016; t < 3.0 + FramePacer::kInteractiveSeconds - 0.01; t += 0.016, ++passes)
    drawn += pacer.next(t, false, true).draw;
  CHECK(drawn == passes);
  s = pacer.next(3.0 + FramePacer::kInteractiveSeconds + 0.01, false, true);
  CHECK(s.compute_seconds == FramePacer::kBackgroundCompute);
}

TEST_CASE("while jobs run without input, progress is drawn about four times a second and the jobs get most of the time") {
  // 20 s of work, no input: before the pacer (a frame every pass with a 12 ms slice) the jobs got
  // 12 / (12 + 60) of the time; now they get 40 ms per pass and a frame only every 0.25 s.
  Simulation busy;
  busy.work = 20;
  FramePacer pacer;
  busy.run(pacer, 1000, true);
  const double clock_done = busy.clock;
  const double share = 20 / clock_done;
  CAPTURE(clock_done);
  CHECK(share > 0.75);                        // against 0.17 when every pass draws
  CHECK(busy.draws >= 3 * (clock_done - 1));  // progress keeps moving on screen
  for (std::size_t i = 1; i < busy.draw_times.size(); ++i)
    if (busy.draw_times[i] > FramePacer::kInteractiveSeconds + 0.1)
      CHECK(busy.draw_times[i] - busy.draw_times[i - 1] <=
            FramePacer::kProgressInterval + FramePacer::kBackgroundCompute + busy.draw_cost + 1e-9);
}

TEST_CASE("when the jobs finish the next frames are drawn at once") {
  FramePacer pacer;
  for (double t = 0; t < 3; t += 0.05) pacer.next(t, false, true);
  int drawn = 0;
  for (int i = 0; i < FramePacer::kSettleFrames; ++i) drawn += pacer.next(3.0 + 0.016 * i, false, false).draw;
  CHECK(drawn == FramePacer::kSettleFrames);
  CHECK_FALSE(pacer.next(3.1, false, false).draw);
}
