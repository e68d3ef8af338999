#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/plugin_proc.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define ERR_TAIL_MAX 2048
#define LINE_MAX_LOG 8192

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum log_level hclog_level(const char *s)
{
	if (!strcmp(s, "error"))
		return LOG_LEVEL_ERROR;
	if (!strcmp(s, "warn"))
		return LOG_LEVEL_WARN;
	if (!strcmp(s, "info"))
		return LOG_LEVEL_INFO;
	return LOG_LEVEL_DEBUG;	/* trace, debug */
}

void plugin_log_line(const char *name, const char *line, size_t len)
{
	json_t *j = NULL, *msg, *lvl;

	if (len && line[0] == '{')
		j = json_loadb(line, len, 0, NULL);
	msg = j ? json_object_get(j, "@message") : NULL;
	lvl = j ? json_object_get(j, "@level") : NULL;
	if (json_is_string(msg)) {
		enum log_level level = json_is_string(lvl) ?
			hclog_level(json_string_value(lvl)) : LOG_LEVEL_INFO;

		/* go-plugin's own chatter is debug; a plugin's info stays info. */
		log_at_(level, 0, "plugin %s: %s", name, json_string_value(msg));
	} else {
		log_info("plugin %s: %.*s", name, (int)len, line);
	}
	json_decref(j);
}

int plugin_proc_start(struct plugin_proc *pp, const char *path,
		      const struct strvec *env, struct buf *err)
{
	const char *base = strrchr(path, '/');
	size_t i;
	int r;

	memset(pp, 0, sizeof(*pp));
	proc_init(&pp->proc);
	buf_init(&pp->out_line, LINE_MAX_LOG);
	buf_init(&pp->err_line, LINE_MAX_LOG);
	buf_init(&pp->err_tail, 0);
	pp->name = xstrdup(base ? base + 1 : path);
	strvec_push(&pp->proc.args, path);
	for (i = 0; i < env->nr; i++)
		strvec_push(&pp->proc.env, env->v[i]);
	pp->proc.in = PROC_FD_PIPE;
	pp->proc.out = PROC_FD_PIPE;
	pp->proc.err = PROC_FD_PIPE;
	pp->proc.flags = PROC_NEW_PGRP;
	r = proc_start(&pp->proc, err);
	if (r) {
		proc_release(&pp->proc);
		return r;
	}
	log_debug("plugin %s started, pid %d (own process group)", pp->name,
		  (int)pp->proc.pid);
	return 0;
}

static void keep_tail(struct plugin_proc *pp, const char *data, size_t len)
{
	if (len >= ERR_TAIL_MAX) {
		data += len - ERR_TAIL_MAX;
		len = ERR_TAIL_MAX;
	}
	if (pp->err_tail.len + len > ERR_TAIL_MAX) {
		size_t drop = pp->err_tail.len + len - ERR_TAIL_MAX;

		memmove(pp->err_tail.data, pp->err_tail.data + drop,
			pp->err_tail.len - drop);
		buf_setlen(&pp->err_tail, pp->err_tail.len - drop);
	}
	buf_add(&pp->err_tail, data, len);
}

/* Logs every complete line in line (plus data), keeps the rest. */
static void log_lines(struct plugin_proc *pp, struct buf *line,
		      const char *data, size_t len, int flush)
{
	size_t start = 0, i;

	if (buf_add(line, data, len)) {
		/* An over-long line: log what there is. */
		plugin_log_line(pp->name, line->data, line->len);
		buf_reset(line);
		buf_add(line, data, len > LINE_MAX_LOG - 1 ? 0 : len);
	}
	for (i = 0; i < line->len; i++) {
		if (line->data[i] != '\n')
			continue;
		if (i > start)
			plugin_log_line(pp->name, line->data + start, i - start);
		start = i + 1;
	}
	if (flush && start < line->len) {
		plugin_log_line(pp->name, line->data + start, line->len - start);
		start = line->len;
	}
	memmove(line->data, line->data + start, line->len - start);
	buf_setlen(line, line->len - start);
}

/* Reads what fd has; returns 0, or -1 at EOF (fd is then closed). */
static int drain_fd(struct plugin_proc *pp, int *fd, int is_err)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(*fd, chunk, sizeof(chunk));

		if (n > 0) {
			if (is_err)
				keep_tail(pp, chunk, (size_t)n);
			log_lines(pp, is_err ? &pp->err_line : &pp->out_line,
				  chunk, (size_t)n, 0);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		log_lines(pp, is_err ? &pp->err_line : &pp->out_line, "", 0, 1);
		close(*fd);
		*fd = -1;
		return -1;
	}
}

int plugin_proc_log_fds(const struct plugin_proc *pp, struct pollfd fds[2])
{
	int n = 0;

	if (pp->proc.err >= 0)
		fds[n++] = (struct pollfd){ .fd = pp->proc.err, .events = POLLIN };
	if (pp->stdout_is_log && pp->proc.out >= 0)
		fds[n++] = (struct pollfd){ .fd = pp->proc.out, .events = POLLIN };
	return n;
}

void plugin_proc_drain(struct plugin_proc *pp)
{
	if (pp->proc.err >= 0)
		drain_fd(pp, &pp->proc.err, 1);
	if (pp->stdout_is_log && pp->proc.out >= 0)
		drain_fd(pp, &pp->proc.out, 0);
}

void plugin_proc_add_stderr(struct plugin_proc *pp, struct buf *err)
{
	size_t len = pp->err_tail.len;

	while (len && (pp->err_tail.data[len - 1] == '\n'))
		len--;
	if (err && len)
		buf_addf(err, "; plugin stderr: %.*s", (int)len,
			 pp->err_tail.data);
}

int plugin_proc_first_line(struct plugin_proc *pp, char **line,
			   int timeout_ms, struct buf *err)
{
	struct buf got = BUF_INIT;
	long long deadline = now_ms() + timeout_ms;
	char c;

	*line = NULL;
	for (;;) {
		struct pollfd fds[2];
		long long left = deadline - now_ms();
		int n = 0;
		ssize_t r;

		/* Byte by byte: what follows the line is not ours to read. */
		while ((r = read(pp->proc.out, &c, 1)) == 1) {
			if (c == '\n') {
				*line = buf_detach(&got, NULL);
				return 0;
			}
			if (got.len >= 4096) {
				buf_seterr(err, "plugin %s wrote a handshake "
					   "line over 4096 bytes", pp->name);
				goto fail;
			}
			buf_addch(&got, c);
		}
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			/* Give the process a moment so its stderr is complete. */
			plugin_proc_drain(pp);
			buf_seterr(err, "plugin %s closed its output before the "
				   "handshake line%s%s", pp->name,
				   got.len ? ", after: " : "", got.data);
			goto fail;
		}
		if (left <= 0) {
			buf_seterr(err, "plugin %s wrote no handshake line "
				   "within %d ms", pp->name, timeout_ms);
			plugin_proc_drain(pp);
			buf_release(&got);
			plugin_proc_add_stderr(pp, err);
			return CR_ERR_TIMEOUT;
		}
		fds[n++] = (struct pollfd){ .fd = pp->proc.out, .events = POLLIN };
		if (pp->proc.err >= 0)
			fds[n++] = (struct pollfd){ .fd = pp->proc.err,
						    .events = POLLIN };
		if (poll(fds, (nfds_t)n, (int)(left > 1000 ? 1000 : left)) < 0 &&
		    errno != EINTR) {
			buf_seterr(err, "poll: %s", strerror(errno));
			goto fail;
		}
		if (pp->proc.err >= 0)
			drain_fd(pp, &pp->proc.err, 1);
	}
fail:
	buf_release(&got);
	if (pp->proc.err >= 0) {
		/* The stderr of a plugin that exited is complete at EOF. */
		struct pollfd fd = { .fd = pp->proc.err, .events = POLLIN };

		while (pp->proc.err >= 0 && poll(&fd, 1, 500) > 0)
			drain_fd(pp, &pp->proc.err, 1);
	}
	plugin_proc_add_stderr(pp, err);
	return CR_ERR_PROTOCOL;
}

int plugin_proc_alive(struct plugin_proc *pp)
{
	int status;
	pid_t r;

	if (pp->proc.pid <= 0 || pp->proc.exited)
		return 0;
	r = waitpid(pp->proc.pid, &status, WNOHANG);
	if (r == 0)
		return 1;
	if (r == pp->proc.pid) {
		proc_reaped(&pp->proc, status);
		log_at_(pp->stopping ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN, 0,
			"plugin %s (pid %d) exited with status %d", pp->name,
			(int)pp->proc.pid, pp->proc.exit_status);
	}
	return 0;
}

int plugin_proc_stop(struct plugin_proc *pp, int grace_ms)
{
	long long deadline = now_ms() + grace_ms;
	int killed = 0;

	pp->stopping = 1;
	if (pp->proc.in >= 0) {
		close(pp->proc.in);
		pp->proc.in = -1;
	}
	while (pp->proc.pid > 0 && !pp->proc.exited) {
		if (!plugin_proc_alive(pp))
			break;
		if (now_ms() >= deadline) {
			log_warn("plugin %s (pid %d) did not exit within %d ms; "
				 "killing its process group", pp->name,
				 (int)pp->proc.pid, grace_ms);
			proc_kill_group(&pp->proc, SIGKILL);
			proc_wait(&pp->proc);
			killed = 1;
			break;
		}
		plugin_proc_drain(pp);
		usleep(20000);
	}
	plugin_proc_drain(pp);
	proc_release(&pp->proc);
	buf_release(&pp->out_line);
	buf_release(&pp->err_line);
	buf_release(&pp->err_tail);
	free(pp->name);
	pp->name = NULL;
	return killed;
}
