/*
 * The forwarder child behind the docker-autoscaler transport: started,
 * watched on the loop (its "listening on" line, its complaints, its
 * exit), started again after it ended, and stopped.  Also the probe
 * children that check a service's port from the instance.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/instance_group.h"
#include "cli/verbs.h"
#include "executor/docker_tunnel.h"
#include "executor/instance_ssh.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/private_dir.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define TUNNEL_DIR_PREFIX "crunner-docker-"
#define TUNNEL_SOCKET "docker.sock"
#define DEFAULT_REMOTE_SOCKET "/var/run/docker.sock"
/* What is kept of the forwarder's stderr: its last complaint. */
#define TUNNEL_STDERR_MAX 4096
/* SIGTERM to SIGKILL when the forwarder is stopped, ms. */
#define TUNNEL_STOP_GRACE_MS 3000L

struct docker_tunnel {
	struct loop *loop;
	const struct ig_connect_info *instance;
	char *id;		/* the instance's, for messages */
	struct strvec args;	/* the forwarder's argv (no secrets) */
	struct private_dir dir;
	char *socket_path;
	char *host;		/* "unix://" + socket_path */

	struct proc proc;
	int running;		/* a forwarder child exists */
	int ready;		/* and serves the socket */
	struct buf out;		/* its stdout until the first line */
	struct buf errtext;	/* its stderr, the tail */
	struct buf why;		/* why the last forwarder ended */
	int unseen_failure;	/* it ended, and no waiter heard why */

	docker_tunnel_cb cb;
	void *ctx;
	uint64_t notify_timer;
};

const char *docker_tunnel_host(const struct docker_tunnel *t)
{
	return t->host;
}

const char *docker_tunnel_instance(const struct docker_tunnel *t)
{
	return t->id;
}

int docker_tunnel_ready(const struct docker_tunnel *t)
{
	return t->ready;
}

/* ---- telling the waiter ---- */

static long on_notify(struct loop *loop, void *ctx)
{
	struct docker_tunnel *t = ctx;
	docker_tunnel_cb cb = t->cb;

	(void)loop;
	t->notify_timer = 0;
	if (!cb)
		return LOOP_TIMER_STOP;
	t->cb = NULL;
	if (t->ready)
		cb(t->ctx, 0, NULL);
	else
		cb(t->ctx, CR_ERR_NETWORK, t->why.data);
	return LOOP_TIMER_STOP;
}

/* The waiter hears from the loop, never from inside the caller. */
static void notify(struct docker_tunnel *t)
{
	if (t->cb && !t->notify_timer)
		t->notify_timer = loop_add_timer(t->loop, 0, on_notify, t);
}

/* ---- the child ---- */

static void close_fd(struct docker_tunnel *t, int *fd)
{
	if (*fd < 0)
		return;
	loop_unwatch_fd(t->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* The last non-empty line of what the forwarder said on stderr. */
static void last_line(const struct buf *b, struct buf *out)
{
	size_t end = b->len, start;

	while (end && (b->data[end - 1] == '\n' || b->data[end - 1] == '\r' ||
		       b->data[end - 1] == ' '))
		end--;
	start = end;
	while (start && b->data[start - 1] != '\n')
		start--;
	(void)buf_add(out, b->data + start, end - start);
}

static void keep_stderr(struct docker_tunnel *t, const char *data, size_t n)
{
	(void)buf_add(&t->errtext, data, n);
	if (t->errtext.len > TUNNEL_STDERR_MAX) {
		size_t cut = t->errtext.len - TUNNEL_STDERR_MAX / 2;

		memmove(t->errtext.data, t->errtext.data + cut,
			t->errtext.len - cut);
		buf_setlen(&t->errtext, t->errtext.len - cut);
	}
}

/* Reads what fd has now; returns 1 at end of file. */
static int drain(struct docker_tunnel *t, int fd, int is_stderr)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n > 0) {
			if (is_stderr)
				keep_stderr(t, chunk, (size_t)n);
			else if (!t->ready)
				(void)buf_add(&t->out, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	}
}

static void on_pipe(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct docker_tunnel *t = ctx;
	int is_stderr = fd == t->proc.err;

	(void)loop;
	(void)events;
	if (drain(t, fd, is_stderr))
		close_fd(t, is_stderr ? &t->proc.err : &t->proc.out);
	/* "listening on PATH": the login worked and the socket is there. */
	if (!is_stderr && !t->ready && t->running &&
	    memchr(t->out.data, '\n', t->out.len)) {
		t->ready = 1;
		notify(t);
	}
}

static void ended(struct docker_tunnel *t, int exit_status)
{
	struct buf line = BUF_INIT;

	if (t->proc.out >= 0)
		(void)drain(t, t->proc.out, 0);
	if (t->proc.err >= 0)
		(void)drain(t, t->proc.err, 1);
	last_line(&t->errtext, &line);
	buf_reset(&t->why);
	(void)buf_addf(&t->why, "connecting to instance %s: ", t->id);
	if (line.len)
		(void)buf_addstr(&t->why, line.data);
	else
		(void)buf_addf(&t->why, "the SSH forwarder ended (exit status %d)",
			       exit_status);
	buf_release(&line);
	close_fd(t, &t->proc.out);
	close_fd(t, &t->proc.err);
	proc_kill_group(&t->proc, SIGKILL);
	proc_release(&t->proc);
	t->running = 0;
	t->ready = 0;
	t->unseen_failure = !t->cb;
	notify(t);
}

static void on_child(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct docker_tunnel *t = ctx;

	(void)loop;
	(void)pid;
	proc_reaped(&t->proc, status);
	ended(t, t->proc.exit_status);
}

static int spawn(struct docker_tunnel *t, struct buf *err)
{
	int r;

	proc_init(&t->proc);
	strvec_pushv(&t->proc.args, (const char **)t->args.v);
	if ((r = instance_ssh_args(t->instance, &t->proc.args, &t->proc.env,
				   err)) != 0) {
		proc_release(&t->proc);
		return r;
	}
	t->proc.run_in_child = ssh_helper_main;
	t->proc.flags |= PROC_NEW_PGRP;
	t->proc.in = PROC_FD_NULL;
	t->proc.out = PROC_FD_PIPE;
	t->proc.err = PROC_FD_PIPE;
	buf_reset(&t->out);
	buf_reset(&t->errtext);
	if ((r = proc_start(&t->proc, err)) != 0) {
		proc_release(&t->proc);
		return r;
	}
	if ((r = loop_watch_fd(t->loop, t->proc.out, LOOP_READ, on_pipe,
			       t)) != 0 ||
	    (r = loop_watch_fd(t->loop, t->proc.err, LOOP_READ, on_pipe,
			       t)) != 0 ||
	    (r = loop_watch_child(t->loop, t->proc.pid, on_child, t)) != 0) {
		buf_seterr(err, "cannot watch the SSH forwarder: %s",
			   cr_strerror(r));
		loop_unwatch_child(t->loop, t->proc.pid);
		close_fd(t, &t->proc.out);
		close_fd(t, &t->proc.err);
		proc_kill_group(&t->proc, SIGKILL);
		(void)proc_wait(&t->proc);
		proc_release(&t->proc);
		return r;
	}
	t->running = 1;
	t->ready = 0;
	return 0;
}

/* Ends the forwarder: SIGTERM, then SIGKILL after the grace period. */
static void stop(struct docker_tunnel *t)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	long waited = 0;
	int status;

	if (!t->running)
		return;
	loop_unwatch_child(t->loop, t->proc.pid);
	close_fd(t, &t->proc.out);
	close_fd(t, &t->proc.err);
	proc_kill_group(&t->proc, SIGTERM);
	for (;;) {
		pid_t w = waitpid(t->proc.pid, &status, WNOHANG);

		if (w == t->proc.pid) {
			proc_reaped(&t->proc, status);
			break;
		}
		if (w < 0 && errno != EINTR)
			break;
		if (waited >= TUNNEL_STOP_GRACE_MS) {
			proc_kill_group(&t->proc, SIGKILL);
			(void)proc_wait(&t->proc);
			break;
		}
		nanosleep(&nap, NULL);
		waited += 10;
	}
	proc_kill_group(&t->proc, SIGKILL);
	proc_release(&t->proc);
	t->running = 0;
	t->ready = 0;
}

/* ---- the forwarder's command line ---- */

/* The remote daemon's socket for a socket forward, as gitlab-runner. */
static int remote_socket(const char *docker_host, struct buf *path,
			 struct buf *err)
{
	const char *host = docker_host && *docker_host ? docker_host :
		getenv("DOCKER_HOST");

	if (!host || !*host)
		host = "unix://" DEFAULT_REMOTE_SOCKET;
	if (strncmp(host, "unix://", 7) || !host[7]) {
		buf_seterr(err, "the Docker host '%s' cannot be reached through an SSH socket forward (FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO=false): only unix:// sockets can",
			   host);
		return CR_ERR_UNSUPPORTED;
	}
	(void)buf_addstr(path, host + 7);
	return 0;
}

static int make_args(struct docker_tunnel *t,
		     const struct docker_tunnel_config *cfg, struct buf *err)
{
	struct buf remote = BUF_INIT;
	int r;

	strvec_push(&t->args, "crunner");
	strvec_push(&t->args, "ssh-helper");
	strvec_push(&t->args, "forward");
	strvec_push(&t->args, "--listen");
	strvec_push(&t->args, t->socket_path);
	if (cfg->dial_stdio) {
		strvec_push(&t->args, "--dial-stdio");
		if (cfg->docker_host && *cfg->docker_host) {
			strvec_push(&t->args, "--docker-host");
			strvec_push(&t->args, cfg->docker_host);
		}
		return 0;
	}
	if ((r = remote_socket(cfg->docker_host, &remote, err)) != 0)
		return r;
	strvec_push(&t->args, "--remote");
	strvec_push(&t->args, remote.data);
	buf_release(&remote);
	return 0;
}

/* ---- the interface ---- */

int docker_tunnel_start(struct loop *loop, const struct docker_tunnel_config *cfg,
			struct docker_tunnel **out, struct buf *err)
{
	struct docker_tunnel *t = xcalloc(1, sizeof(*t));
	struct buf path = BUF_INIT;
	const char *parent = cfg->tmp_parent;
	int r;

	t->loop = loop;
	t->instance = cfg->instance;
	t->id = xstrdup(cfg->instance->id && *cfg->instance->id ?
			cfg->instance->id : "(no id)");
	t->dir = (struct private_dir)PRIVATE_DIR_INIT;
	strvec_init(&t->args);
	buf_init(&t->out, 0);
	buf_init(&t->errtext, 0);
	buf_init(&t->why, 0);
	proc_init(&t->proc);
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	(void)private_dir_clean_stale(parent, TUNNEL_DIR_PREFIX);
	if ((r = private_dir_create(parent, TUNNEL_DIR_PREFIX, &t->dir,
				    err)) != 0)
		goto fail;
	(void)buf_addf(&path, "%s/" TUNNEL_SOCKET, t->dir.path);
	t->socket_path = buf_detach(&path, NULL);
	(void)buf_addf(&path, "unix://%s", t->socket_path);
	t->host = buf_detach(&path, NULL);
	if ((r = make_args(t, cfg, err)) != 0 || (r = spawn(t, err)) != 0)
		goto fail;
	*out = t;
	return 0;
fail:
	docker_tunnel_free(t);
	return r;
}

int docker_tunnel_wait(struct docker_tunnel *t, docker_tunnel_cb cb, void *ctx,
		       struct buf *err)
{
	int r;

	/* A forwarder that failed before anyone waited: say why first. */
	if (!t->running && !t->unseen_failure && (r = spawn(t, err)) != 0)
		return r;
	t->cb = cb;
	t->ctx = ctx;
	if (t->ready || t->unseen_failure)
		notify(t);
	t->unseen_failure = 0;
	return 0;
}

void docker_tunnel_unwait(struct docker_tunnel *t)
{
	t->cb = NULL;
	t->ctx = NULL;
	if (t->notify_timer)
		loop_cancel_timer(t->loop, t->notify_timer);
	t->notify_timer = 0;
}

void docker_tunnel_free(struct docker_tunnel *t)
{
	if (!t)
		return;
	docker_tunnel_unwait(t);
	stop(t);
	proc_release(&t->proc);
	private_dir_remove(&t->dir);
	strvec_clear(&t->args);
	buf_release(&t->out);
	buf_release(&t->errtext);
	buf_release(&t->why);
	free(t->socket_path);
	free(t->host);
	free(t->id);
	free(t);
}

/* ---- port probes from the instance ---- */

struct docker_probe {
	struct loop *loop;
	struct proc proc;
	int running;
	docker_probe_cb cb;
	void *ctx;
};

static void on_probe_exit(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct docker_probe *p = ctx;

	(void)loop;
	(void)pid;
	proc_reaped(&p->proc, status);
	p->running = 0;
	p->cb(p->ctx, p->proc.exit_status == 0 ? 0 : CR_ERR_NETWORK);
}

int docker_tunnel_probe(struct docker_tunnel *t, const char *host, int port,
			docker_probe_cb cb, void *ctx, struct docker_probe **out,
			struct buf *err)
{
	struct docker_probe *p = xcalloc(1, sizeof(*p));
	struct buf target = BUF_INIT;
	int r;

	p->loop = t->loop;
	p->cb = cb;
	p->ctx = ctx;
	proc_init(&p->proc);
	(void)buf_addf(&target, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
		       port);
	strvec_push(&p->proc.args, "crunner");
	strvec_push(&p->proc.args, "ssh-helper");
	strvec_push(&p->proc.args, "probe");
	strvec_push(&p->proc.args, "--target");
	strvec_push(&p->proc.args, target.data);
	buf_release(&target);
	if ((r = instance_ssh_args(t->instance, &p->proc.args, &p->proc.env,
				   err)) != 0)
		goto fail;
	p->proc.run_in_child = ssh_helper_main;
	p->proc.flags |= PROC_NEW_PGRP;
	p->proc.in = PROC_FD_NULL;
	p->proc.out = PROC_FD_NULL;
	p->proc.err = PROC_FD_NULL;
	if ((r = proc_start(&p->proc, err)) != 0)
		goto fail;
	if ((r = loop_watch_child(t->loop, p->proc.pid, on_probe_exit, p)) != 0) {
		buf_seterr(err, "cannot watch the port probe: %s",
			   cr_strerror(r));
		proc_kill_group(&p->proc, SIGKILL);
		(void)proc_wait(&p->proc);
		goto fail;
	}
	p->running = 1;
	*out = p;
	return 0;
fail:
	proc_release(&p->proc);
	free(p);
	return r;
}

void docker_probe_free(struct docker_probe *p)
{
	if (!p)
		return;
	if (p->running) {
		loop_unwatch_child(p->loop, p->proc.pid);
		proc_kill_group(&p->proc, SIGKILL);
		(void)proc_wait(&p->proc);
	}
	proc_release(&p->proc);
	free(p);
}
