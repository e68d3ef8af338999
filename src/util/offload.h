/*
 * Blocking work off the loop thread: a function that may wait on the
 * network (an STS call, a metadata server) runs in a short-lived thread of
 * its own, and its completion is called back on the loop thread, through
 * an eventfd the loop watches (as resolver.h does for getaddrinfo()).
 *
 *   op = offload_start(loop, run, work, free_work, done, ctx);
 *   run(work) runs once, in the thread; it must touch nothing but work
 *   (no loop, no trace, no config snapshot, no log observer: see
 *   log_capture_begin());
 *   done(ctx, work, 0) is then called once on the loop thread, never from
 *   inside offload_start(); afterwards free_work(work) frees it;
 *   offload_cancel(op) before done: done is never called, the thread
 *   finishes run() on its own and free_work(work) is called by whichever
 *   side lets go last (so work must own everything run() reads).
 *
 * A thread that cannot be started is reported through done, from the
 * loop, with rc an errno value and run() never called.
 */
#ifndef CR_UTIL_OFFLOAD_H
#define CR_UTIL_OFFLOAD_H

struct loop;
struct offload;

typedef void (*offload_run_fn)(void *work);
typedef void (*offload_done_fn)(void *ctx, void *work, int rc);
typedef void (*offload_free_fn)(void *work);

struct offload *offload_start(struct loop *loop, offload_run_fn run,
			      void *work, offload_free_fn free_work,
			      offload_done_fn done, void *ctx);
/* NULL is allowed; op is gone afterwards. */
void offload_cancel(struct offload *op);

#endif
