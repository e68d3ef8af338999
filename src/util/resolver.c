/*
 * resolver.h: one detached thread per lookup.  The lookup's struct is
 * shared by the thread and the loop side; whichever lets go of it last
 * (an atomic count of 2) closes the eventfd and frees it, so the thread
 * never writes to a descriptor the loop side closed and whose number
 * may already be another file's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/loop.h"
#include "util/resolver.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* getaddrinfo() through NSS modules needs more than a tiny stack. */
#define RESOLVER_STACK ((size_t)256 << 10)

struct resolver {
	struct loop *loop;
	char *host, *port;
	struct addrinfo hints;
	resolver_done done;
	void *ctx;
	int efd;
	int refs;		/* atomic: the thread's and the loop side's */
	int cancelled;		/* atomic: the loop side let go early */
	int rc, err;		/* written by the thread before it signals */
	struct addrinfo *addrs;
	/* The answer is known without a thread (an address, or no thread
	 * could be started): handed over from a timer. */
	uint64_t now_timer;
};

static void unref(struct resolver *rs)
{
	if (__atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (rs->addrs)
		freeaddrinfo(rs->addrs);
	if (rs->efd >= 0)
		close(rs->efd);
	free(rs->host);
	free(rs->port);
	free(rs);
}

static void *lookup(void *arg)
{
	struct resolver *rs = arg;
	uint64_t one = 1;

	rs->rc = getaddrinfo(rs->host, rs->port, &rs->hints, &rs->addrs);
	rs->err = errno;
	if (rs->rc)
		rs->addrs = NULL;
	if (!__atomic_load_n(&rs->cancelled, __ATOMIC_ACQUIRE))
		(void)!write(rs->efd, &one, sizeof(one));
	unref(rs);
	return NULL;
}

/* Hands the answer to the caller; the struct goes with the last ref. */
static void deliver(struct resolver *rs)
{
	struct addrinfo *addrs = rs->rc ? NULL : rs->addrs;
	int rc = rs->rc;

	rs->addrs = NULL;
	errno = rs->err;
	rs->done(rs->ctx, rc, addrs);
}

static void on_answer(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct resolver *rs = ctx;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	loop_unwatch_fd(loop, fd);
	deliver(rs);
	unref(rs);
}

static long on_known(struct loop *loop, void *ctx)
{
	struct resolver *rs = ctx;

	(void)loop;
	rs->now_timer = 0;
	deliver(rs);
	unref(rs);
	return LOOP_TIMER_STOP;
}

struct resolver *resolver_start(struct loop *loop, const char *host,
				const char *port, const struct addrinfo *hints,
				resolver_done done, void *ctx)
{
	struct resolver *rs = xcalloc(1, sizeof(*rs));
	struct addrinfo numeric = *hints;
	pthread_attr_t attr;
	pthread_t thread;
	int r = EAGAIN;

	rs->loop = loop;
	rs->host = xstrdup(host);
	rs->port = xstrdup(port);
	rs->hints = *hints;
	rs->done = done;
	rs->ctx = ctx;
	/* An IP address needs no lookup, and no thread. */
	numeric.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(host, port, &numeric, &rs->addrs) == 0) {
		rs->refs = 1;
		rs->efd = -1;
		rs->now_timer = loop_add_timer(loop, 0, on_known, rs);
		return rs;
	}
	rs->addrs = NULL;
	rs->refs = 2;
	rs->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rs->efd < 0)
		r = errno;
	else if (loop_watch_fd(loop, rs->efd, LOOP_READ, on_answer, rs) != 0)
		r = ENOMEM;
	else if ((r = pthread_attr_init(&attr)) == 0) {
		(void)pthread_attr_setstacksize(&attr, RESOLVER_STACK);
		(void)pthread_attr_setdetachstate(&attr,
						  PTHREAD_CREATE_DETACHED);
		r = pthread_create(&thread, &attr, lookup, rs);
		pthread_attr_destroy(&attr);
		if (r == 0)
			return rs;
		loop_unwatch_fd(loop, rs->efd);
	}
	/* No thread: the loop side holds the only ref; reported on the loop. */
	rs->refs = 1;
	rs->rc = EAI_SYSTEM;
	rs->err = r;
	rs->now_timer = loop_add_timer(loop, 0, on_known, rs);
	return rs;
}

void resolver_cancel(struct resolver *rs)
{
	if (!rs)
		return;
	if (rs->now_timer) {
		loop_cancel_timer(rs->loop, rs->now_timer);
		rs->now_timer = 0;
	} else {
		__atomic_store_n(&rs->cancelled, 1, __ATOMIC_RELEASE);
		loop_unwatch_fd(rs->loop, rs->efd);
	}
	unref(rs);
}
