// Data-parallel loops inside jobs: a small persistent pool of worker threads plus the calling thread.
//
// Jobs stay time-sliced (core/job.h): a job's step() splits the slice's work over the pool with
// parallel_for and returns when all of it is done, so the UI keeps its one-frame budget and the CLI its
// progress bar. Results must not depend on the thread count: each index of a parallel_for writes only
// its own outputs, and reductions are done afterwards in index order.
//
// Builds without threads (FIELDSCOPE_THREADS=0: wasm without pthreads, for pages that are not
// cross-origin isolated) run everything on the calling thread.
#pragma once
#include <functional>

namespace fs {

// Threads a parallel_for uses, the caller included (>= 1).
int thread_count();
// The largest useful thread count here: the hardware's, or 1 without thread support.
int max_thread_count();
// Sets the thread count, clamped to [1, max_thread_count()]; later parallel_for calls use it.
void set_thread_count(int threads);

// Runs fn(begin, end) over disjoint ranges covering [0, count), each at least `grain` long (except the
// last), on the pool and the caller; returns when all are done. Ranges are handed out in order as
// threads become free, so uneven work balances. Called from inside a parallel_for, it runs serially.
void parallel_for(int count, const std::function<void(int begin, int end)>& fn, int grain = 1);

}  // namespace fs
