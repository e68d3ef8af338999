/*
 * offload.h: one detached thread per piece of work.  The struct is shared
 * by the thread and the loop side; whichever lets go of it last (an atomic
 * count of 2) frees the work, closes the eventfd and frees the struct, so
 * the thread never writes to a descriptor the loop side closed, and a
 * cancelled caller's memory is never touched.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/loop.h"
#include "util/offload.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* TLS handshakes and XML parsing in run(): more than a tiny stack. */
#define OFFLOAD_STACK ((size_t)512 << 10)

struct offload {
	struct loop *loop;
	offload_run_fn run;
	void *work;
	offload_free_fn free_work;
	offload_done_fn done;
	void *ctx;
	int efd;
	int refs;		/* atomic: the thread's and the loop side's */
	int cancelled;		/* atomic: the loop side let go early */
	int rc;			/* no thread: its errno, for the timer */
	uint64_t now_timer;
};

static void unref(struct offload *op)
{
	if (__atomic_sub_fetch(&op->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (op->free_work)
		op->free_work(op->work);
	if (op->efd >= 0)
		close(op->efd);
	free(op);
}

static void *worker(void *arg)
{
	struct offload *op = arg;
	uint64_t one = 1;

	op->run(op->work);
	/* Pairs with on_finished()'s acquire: work is complete before. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (!__atomic_load_n(&op->cancelled, __ATOMIC_ACQUIRE))
		(void)!write(op->efd, &one, sizeof(one));
	unref(op);
	return NULL;
}

static void on_finished(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct offload *op = ctx;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	loop_unwatch_fd(loop, fd);
	/* The thread's writes to work happened before its write(). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	op->done(op->ctx, op->work, 0);
	unref(op);
}

static long on_no_thread(struct loop *loop, void *ctx)
{
	struct offload *op = ctx;

	(void)loop;
	op->now_timer = 0;
	op->done(op->ctx, op->work, op->rc);
	unref(op);
	return LOOP_TIMER_STOP;
}

struct offload *offload_start(struct loop *loop, offload_run_fn run,
			      void *work, offload_free_fn free_work,
			      offload_done_fn done, void *ctx)
{
	struct offload *op = xcalloc(1, sizeof(*op));
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int r;

	op->loop = loop;
	op->run = run;
	op->work = work;
	op->free_work = free_work;
	op->done = done;
	op->ctx = ctx;
	op->refs = 2;
	op->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (op->efd < 0)
		r = errno;
	else if (loop_watch_fd(loop, op->efd, LOOP_READ, on_finished, op))
		r = ENOMEM;
	else if ((r = pthread_attr_init(&attr)) == 0) {
		(void)pthread_attr_setstacksize(&attr, OFFLOAD_STACK);
		(void)pthread_attr_setdetachstate(&attr,
						  PTHREAD_CREATE_DETACHED);
		/* Signals stay with the loop thread: the thread starts with
		 * every one blocked. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		r = pthread_create(&thread, &attr, worker, op);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (r == 0)
			return op;
		loop_unwatch_fd(loop, op->efd);
	}
	/* No thread: the loop side holds the only ref; said from the loop. */
	op->refs = 1;
	op->rc = r ? r : EAGAIN;
	op->now_timer = loop_add_timer(loop, 0, on_no_thread, op);
	return op;
}

void offload_cancel(struct offload *op)
{
	if (!op)
		return;
	if (op->now_timer) {
		loop_cancel_timer(op->loop, op->now_timer);
		op->now_timer = 0;
	} else {
		__atomic_store_n(&op->cancelled, 1, __ATOMIC_RELEASE);
		loop_unwatch_fd(op->loop, op->efd);
	}
	unref(op);
}
