/*
 * struct loop: the one event loop of a crunner process (shaped like redis
 * ae.h): file-descriptor watches, timers whose callback returns the next
 * delay, child-process exits and signals, all delivered on one thread.
 *
 * The caller does:
 *  1. loop = loop_new();
 *  2. registers watches: loop_watch_fd(), loop_add_timer(),
 *     loop_watch_child(), loop_watch_signal();
 *  3. runs loop_run() until a callback calls loop_stop(), or calls
 *     loop_run_once() itself;
 *  4. loop_free() (watches still registered are dropped, their ctx is not
 *     freed: the loop owns no ctx).
 *
 * Callbacks may add and remove any watch, including their own.  Signals and
 * child exits are turned into events through a self-pipe: the handlers only
 * write a byte, so nothing unsafe runs in signal context.  Only one loop may
 * watch signals or children at a time (they are process-wide).
 */
#ifndef CR_LOOP_H
#define CR_LOOP_H

#include <stdint.h>
#include <sys/types.h>

struct loop;

enum loop_events {
	LOOP_READ = 1 << 0,
	LOOP_WRITE = 1 << 1,
	LOOP_ERROR = 1 << 2,	/* delivered only, never asked for */
};

#define LOOP_TIMER_STOP (-1L)

typedef void (*loop_fd_cb)(struct loop *loop, int fd, unsigned events,
			   void *ctx);
/* Returns the delay in ms until the next call, or LOOP_TIMER_STOP. */
typedef long (*loop_timer_cb)(struct loop *loop, void *ctx);
/* status is as from waitpid(). */
typedef void (*loop_child_cb)(struct loop *loop, pid_t pid, int status,
			      void *ctx);
typedef void (*loop_signal_cb)(struct loop *loop, int signo, void *ctx);

struct loop *loop_new(void);
void loop_free(struct loop *loop);

/*
 * Watches fd for events (LOOP_READ | LOOP_WRITE); a second call for the
 * same fd replaces the first.  events == 0 keeps the registration but
 * delivers nothing.
 */
int loop_watch_fd(struct loop *loop, int fd, unsigned events, loop_fd_cb cb,
		  void *ctx);
void loop_unwatch_fd(struct loop *loop, int fd);

/* Calls cb after delay_ms; returns an id > 0 for loop_cancel_timer(). */
uint64_t loop_add_timer(struct loop *loop, long delay_ms, loop_timer_cb cb,
			void *ctx);
void loop_cancel_timer(struct loop *loop, uint64_t id);

/* Calls cb once when child pid exits (it is reaped by the loop). */
int loop_watch_child(struct loop *loop, pid_t pid, loop_child_cb cb,
		     void *ctx);
void loop_unwatch_child(struct loop *loop, pid_t pid);

/* Calls cb on the loop thread whenever signo arrives. */
int loop_watch_signal(struct loop *loop, int signo, loop_signal_cb cb,
		      void *ctx);

/* Milliseconds on a monotonic clock, cached per loop iteration. */
uint64_t loop_now_ms(struct loop *loop);

/* Waits at most max_ms (-1: no bound) and runs what is due. */
int loop_run_once(struct loop *loop, long max_ms);
/* Runs until loop_stop(). */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif
