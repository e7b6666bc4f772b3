// Long work is a job: step(budget) does a slice, progress() says how far, cancel() stops it, and the
// partial result stays readable. The UI time-slices jobs per frame; the CLI runs them to the end.
#pragma once
#include <atomic>
#include <chrono>

namespace fs {

class Job {
 public:
  virtual ~Job() = default;
  // Works for about `budget_seconds` (at least one unit of work); true when finished or cancelled.
  virtual bool step(double budget_seconds) = 0;
  virtual double progress() const = 0;  // in [0, 1]
  void cancel() { cancelled_ = true; }
  bool cancelled() const { return cancelled_; }
  // Work left to do: neither finished nor cancelled (a cancelled job keeps its partial progress).
  bool pending() const { return !cancelled() && progress() < 1.0; }
  // Runs to the end (or until cancelled); `on_progress` is called between slices if given.
  template <class F>
  void run(F&& on_progress, double slice_seconds = 0.1) {
    while (!step(slice_seconds)) on_progress(progress());
  }
  void run() {
    while (!step(1.0)) {}
  }

 protected:
  std::atomic<bool> cancelled_{false};
};

// Wall-clock deadline for one slice.
class SliceTimer {
 public:
  explicit SliceTimer(double budget_seconds)
      : end_(std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(budget_seconds))) {}
  bool expired() const { return std::chrono::steady_clock::now() >= end_; }

 private:
  std::chrono::steady_clock::time_point end_;
};

}  // namespace fs
