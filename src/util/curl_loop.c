#include <stdio.h>
#include <stdlib.h>

#include "util/curl_loop.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct curl_loop {
	struct loop *loop;
	CURLM *multi;
	uint64_t timer_id;	/* libcurl's single timeout, 0 if none */
	curl_loop_done_fn done;
	void *ctx;
	/* Sockets libcurl asked us to watch, so curl_loop_free() can drop
	 * the loop's watches even if libcurl never says REMOVE for them. */
	int *fds;
	size_t nr_fds;
};

static void on_fd(struct loop *loop, int fd, unsigned events, void *ctx);
static long on_curl_timeout(struct loop *loop, void *ctx);

static void remember_fd(struct curl_loop *cl, int fd)
{
	size_t i;

	for (i = 0; i < cl->nr_fds; i++)
		if (cl->fds[i] == fd)
			return;
	cl->fds = xreallocarray(cl->fds, cl->nr_fds + 1, sizeof(*cl->fds));
	cl->fds[cl->nr_fds++] = fd;
}

static void forget_fd(struct curl_loop *cl, int fd)
{
	size_t i;

	for (i = 0; i < cl->nr_fds; i++) {
		if (cl->fds[i] == fd) {
			cl->fds[i] = cl->fds[--cl->nr_fds];
			return;
		}
	}
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct curl_loop *cl = userp;
	unsigned ev = 0;

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch_fd(cl->loop, s);
		forget_fd(cl, s);
		return 0;
	}
	remember_fd(cl, s);
	if (what & CURL_POLL_IN)
		ev |= LOOP_READ;
	if (what & CURL_POLL_OUT)
		ev |= LOOP_WRITE;
	return loop_watch_fd(cl->loop, s, ev, on_fd, cl) ? -1 : 0;
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_loop *cl = userp;

	(void)multi;
	if (cl->timer_id) {
		loop_cancel_timer(cl->loop, cl->timer_id);
		cl->timer_id = 0;
	}
	if (timeout_ms >= 0)
		cl->timer_id = loop_add_timer(cl->loop, timeout_ms,
					      on_curl_timeout, cl);
	return 0;
}

static void process_done(struct curl_loop *cl)
{
	CURLMsg *msg;
	int left;

	/*
	 * One message at a time: a callback may cancel other transfers, and
	 * removing a handle also drops its pending message, so nothing read
	 * here can point at a freed handle.
	 */
	while ((msg = curl_multi_info_read(cl->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_multi_remove_handle(cl->multi, easy);
		cl->done(cl->ctx, easy, result);
	}
}

static void on_fd(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct curl_loop *cl = ctx;
	int flags = 0, running;

	(void)loop;
	if (events & LOOP_READ)
		flags |= CURL_CSELECT_IN;
	if (events & LOOP_WRITE)
		flags |= CURL_CSELECT_OUT;
	if (events & LOOP_ERROR)
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(cl->multi, fd, flags, &running);
	process_done(cl);
}

static long on_curl_timeout(struct loop *loop, void *ctx)
{
	struct curl_loop *cl = ctx;
	int running;

	(void)loop;
	/* Forget it first: libcurl may set a new timeout from in here. */
	cl->timer_id = 0;
	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	process_done(cl);
	return LOOP_TIMER_STOP;
}

struct curl_loop *curl_loop_new(struct loop *loop, curl_loop_done_fn done,
				void *ctx)
{
	struct curl_loop *cl = xcalloc(1, sizeof(*cl));

	/* Reference-counted by libcurl; balanced in curl_loop_free(). */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cl->loop = loop;
	cl->done = done;
	cl->ctx = ctx;
	if (!(cl->multi = curl_multi_init())) {
		fprintf(stderr, "fatal: cannot create a libcurl multi handle\n");
		abort();
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return cl;
}

CURLM *curl_loop_multi(const struct curl_loop *cl)
{
	return cl->multi;
}

void curl_loop_free(struct curl_loop *cl)
{
	if (!cl)
		return;
	curl_multi_cleanup(cl->multi);
	if (cl->timer_id)
		loop_cancel_timer(cl->loop, cl->timer_id);
	while (cl->nr_fds)
		loop_unwatch_fd(cl->loop, cl->fds[--cl->nr_fds]);
	free(cl->fds);
	free(cl);
	curl_global_cleanup();
}
