/*
 * The taskscaler's worker thread: the instance group's blocking calls,
 * and instance_ready_command over SSH, one at a time in the order asked.
 * The loop queues a struct ts_op; the worker fills in its result and
 * wakes the loop through a pipe, where ts_apply() reads it.  The group is
 * touched by the worker only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/instance_group.h"
#include "autoscale/ts_int.h"
#include "ssh/sshc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void op_free(struct ts_op *op)
{
	free(op->id);
	strvec_clear(&op->ids);
	ig_instance_list_release(&op->list);
	ig_connect_info_release(&op->ci);
	buf_release(&op->err);
	free(op);
}

static struct ts_op *op_new(enum ts_op_kind kind)
{
	struct ts_op *op = xcalloc(1, sizeof(*op));

	op->kind = kind;
	strvec_init(&op->ids);
	buf_init(&op->err, 0);
	return op;
}

static void push(struct ts_op **head, struct ts_op *op)
{
	while (*head)
		head = &(*head)->next;
	op->next = NULL;
	*head = op;
}

static void queue(struct taskscaler *ts, struct ts_op *op)
{
	pthread_mutex_lock(&ts->lock);
	push(&ts->todo, op);
	pthread_cond_signal(&ts->cond);
	pthread_mutex_unlock(&ts->lock);
}

/* ---- on the worker ---- */

static void sleep_ms(int64_t ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

static void do_open(struct taskscaler *ts, struct ts_op *op)
{
	struct ig_config c = { 0 };
	struct ig_provider_info info = { 0 };

	c.plugin = ts->cfg.plugin;
	c.plugin_config_json = ts->cfg.plugin_config_json ?
		ts->cfg.plugin_config_json : "null";
	c.settings = ts->cfg.connector;
	c.call_timeout_ms = ts->call_timeout_ms;
	if (ts->cfg.key_path &&
	    (op->r = ig_connector_read_key(&c.settings, ts->cfg.key_path,
					   &op->err)) != 0)
		goto out;
	if ((op->r = instance_group_open(&c, &ts->group, &op->err)) != 0)
		goto out;
	if ((op->r = ig_init(ts->group, &info, &op->err)) != 0)
		goto out;
	op->n = info.max_size;
	op->id = info.id ? xstrdup(info.id) : NULL;
	op->kind_name = ig_kind(ts->group);
out:
	/* The key read above went into c.settings: ours to free. */
	if (c.settings.key != ts->cfg.connector.key)
		free(c.settings.key);
	ig_provider_info_release(&info);
}

/* "host:port" or "host" (then port) into the target's strings. */
static void split_addr(const char *addr, int port, struct buf *host,
		       struct buf *portbuf)
{
	const char *colon = strrchr(addr, ':');

	if (colon && !strchr(colon, ']') && strchr(addr, ':') == colon) {
		buf_add(host, addr, (size_t)(colon - addr));
		buf_addstr(portbuf, colon + 1);
	} else {
		buf_addstr(host, addr);
		buf_addf(portbuf, "%d", port > 0 ? port : 22);
	}
}

/*
 * command on the instance, over SSH: instance_ready_command, or the
 * heartbeat's "exit 0" (gitlab-runner's instanceHeartbeat).  what names
 * it in errors.
 */
static int run_command(struct taskscaler *ts, const struct ig_connect_info *ci,
		       const char *command, const char *what, struct buf *err)
{
	struct sshc_target t = SSHC_TARGET_INIT;
	struct sshc_exec x = { 0 };
	struct sshc_conn *conn = NULL;
	struct buf host = BUF_INIT, port = BUF_INIT, key = BUF_INIT;
	const char *addr = ts->cfg.use_external_addr && ci->external_addr &&
		*ci->external_addr ? ci->external_addr : ci->internal_addr;
	int status = -1, r, devnull;

	if (!addr || !*addr) {
		buf_seterr(err, "%s: the instance has no address", what);
		return CR_ERR_PROTOCOL;
	}
	split_addr(addr, ci->conn.protocol_port, &host, &port);
	t.host = host.data;
	t.port = port.data;
	t.user = ci->conn.username;
	t.password = ci->conn.password;
	if (ci->conn.key && ci->conn.key_len) {
		buf_add(&key, ci->conn.key, ci->conn.key_len);
		t.private_key = key.data;
	}
	t.insecure_host_key = 1;	/* a new instance: no known key */
	if (ci->conn.timeout_ns > 0)
		t.connect_timeout_s = (long)(ci->conn.timeout_ns / 1000000000);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	x.command = command;
	x.out_fd = devnull;
	x.err_fd = devnull;
	x.cancel_fd = -1;
	if ((r = sshc_connect(&t, &conn, err)) == 0 &&
	    (r = sshc_exec(conn, &x, &status, err)) == 0 && status != 0) {
		buf_seterr(err, "%s: exit status %d", what, status);
		r = CR_ERR_PROTOCOL;
	} else if (r) {
		struct buf why = BUF_INIT;

		buf_addf(&why, "%s: %s", what, err->data);
		buf_seterr(err, "%s", why.data);
		buf_release(&why);
	}
	sshc_close(conn);
	if (devnull >= 0)
		close(devnull);
	buf_release(&host);
	buf_release(&port);
	buf_release_secret(&key);
	return r;
}

static void do_up(struct taskscaler *ts, struct ts_op *op)
{
	if ((op->r = ig_connect_info(ts->group, op->id, &op->ci,
				     &op->err)) != 0)
		return;
	if (ts->cfg.instance_ready_command && *ts->cfg.instance_ready_command)
		op->r = run_command(ts, &op->ci, ts->cfg.instance_ready_command,
				    "ready command", &op->err);
}

/* FF_USE_FLEETING_ACQUIRE_HEARTBEATS: can the instance be reached? */
static void do_heartbeat(struct taskscaler *ts, struct ts_op *op)
{
	if ((op->r = ig_connect_info(ts->group, op->id, &op->ci,
				     &op->err)) != 0)
		return;
	op->r = run_command(ts, &op->ci, "exit 0", "heartbeat", &op->err);
}

static void do_decrease(struct taskscaler *ts, struct ts_op *op)
{
	struct ig_instance_list ok = { 0 };

	op->r = ig_decrease(ts->group, (const char *const *)op->ids.v,
			    op->ids.nr, &ok, &op->err);
	ig_instance_list_release(&ok);
}

/* delete_instances_on_shutdown, then the group's Shutdown. */
static void do_shutdown(struct taskscaler *ts, struct ts_op *op)
{
	int round;

	/*
	 * Every instance the group has, not only those the table knew: an
	 * increase queued before the shutdown (ops run in order) may have
	 * made one the loop has not seen yet.
	 */
	if (ts->cfg.delete_instances_on_shutdown &&
	    ig_update(ts->group, &op->list, &op->err) == 0) {
		size_t i, j;

		for (i = 0; i < op->list.n; i++) {
			for (j = 0; j < op->ids.nr; j++)
				if (!strcmp(op->list.v[i].id, op->ids.v[j]))
					break;
			if (j == op->ids.nr &&
			    op->list.v[i].state != IG_STATE_DELETED &&
			    op->list.v[i].state != IG_STATE_DELETING)
				strvec_push(&op->ids, op->list.v[i].id);
		}
	}
	buf_reset(&op->err);
	if (op->ids.nr) {
		do_decrease(ts, op);
		for (round = 0; round < ts->cfg.shutdown_deletion_retries;
		     round++) {
			struct strvec left = STRVEC_INIT;
			size_t i, j;

			sleep_ms(ts->cfg.shutdown_deletion_interval_ms);
			ig_instance_list_release(&op->list);
			if (ig_update(ts->group, &op->list, &op->err))
				break;
			for (i = 0; i < op->list.n; i++)
				for (j = 0; j < op->ids.nr; j++)
					if (op->list.v[i].state !=
					    IG_STATE_DELETED &&
					    !strcmp(op->list.v[i].id,
						    op->ids.v[j]))
						strvec_push(&left,
							    op->ids.v[j]);
			strvec_clear(&op->ids);
			op->ids = left;
			if (!op->ids.nr)
				break;
			do_decrease(ts, op);
		}
	}
	buf_reset(&op->err);
	op->r = ig_shutdown(ts->group, &op->err);
}

static void run_op(struct taskscaler *ts, struct ts_op *op)
{
	if (op->kind != TS_OP_OPEN && !ts->group) {
		op->r = CR_ERR_RETRY;
		buf_seterr(&op->err, "the instance group is not open");
		return;
	}
	switch (op->kind) {
	case TS_OP_OPEN:
		do_open(ts, op);
		break;
	case TS_OP_UPDATE:
		op->r = ig_update(ts->group, &op->list, &op->err);
		break;
	case TS_OP_INCREASE:
		op->r = ig_increase(ts->group, op->n, &op->got, &op->err);
		break;
	case TS_OP_DECREASE:
		do_decrease(ts, op);
		break;
	case TS_OP_UP:
		do_up(ts, op);
		break;
	case TS_OP_HEARTBEAT:
		do_heartbeat(ts, op);
		break;
	case TS_OP_SHUTDOWN:
		do_shutdown(ts, op);
		break;
	}
}

static void *worker(void *arg)
{
	struct taskscaler *ts = arg;
	struct ts_op *op;
	char one = 1;

	pthread_mutex_lock(&ts->lock);
	for (;;) {
		while (!ts->todo && !ts->quit)
			pthread_cond_wait(&ts->cond, &ts->lock);
		if (ts->quit)
			break;
		op = ts->todo;
		ts->todo = op->next;
		pthread_mutex_unlock(&ts->lock);
		run_op(ts, op);
		pthread_mutex_lock(&ts->lock);
		push(&ts->done, op);
		if (write(ts->wake[1], &one, 1) < 0 && errno != EAGAIN)
			break;
	}
	pthread_mutex_unlock(&ts->lock);
	return NULL;
}

/* ---- on the loop ---- */

static void on_wake(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct taskscaler *ts = ctx;
	struct ts_op *done, *op;
	char drain[64];

	(void)loop;
	(void)events;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&ts->lock);
	done = ts->done;
	ts->done = NULL;
	pthread_mutex_unlock(&ts->lock);
	while ((op = done) != NULL) {
		done = op->next;
		ts_apply(ts, op);
		op_free(op);
	}
}

int ts_worker_start(struct taskscaler *ts, struct buf *err)
{
	ts->wake[0] = ts->wake[1] = -1;
	pthread_mutex_init(&ts->lock, NULL);
	pthread_cond_init(&ts->cond, NULL);
	if (pipe2(ts->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		buf_seterr(err, "taskscaler: pipe: %s", strerror(errno));
		return CR_ERR_IO;
	}
	if (pthread_create(&ts->thread, NULL, worker, ts) != 0) {
		buf_seterr(err, "taskscaler: cannot start its thread");
		return CR_ERR_IO;
	}
	ts->thread_started = 1;
	return loop_watch_fd(ts->loop, ts->wake[0], LOOP_READ, on_wake, ts);
}

/* Stops the thread (after the call it is in) and frees what is queued. */
void ts_worker_stop(struct taskscaler *ts)
{
	struct ts_op *op;

	if (ts->thread_started) {
		pthread_mutex_lock(&ts->lock);
		ts->quit = 1;
		pthread_cond_signal(&ts->cond);
		pthread_mutex_unlock(&ts->lock);
		pthread_join(ts->thread, NULL);
		ts->thread_started = 0;
	}
	if (ts->wake[0] >= 0) {
		loop_unwatch_fd(ts->loop, ts->wake[0]);
		close(ts->wake[0]);
		close(ts->wake[1]);
		ts->wake[0] = ts->wake[1] = -1;
	}
	while ((op = ts->todo) != NULL) {
		ts->todo = op->next;
		op_free(op);
	}
	while ((op = ts->done) != NULL) {
		ts->done = op->next;
		op_free(op);
	}
	if (ts->group)
		ig_free(ts->group);
	ts->group = NULL;
	pthread_mutex_destroy(&ts->lock);
	pthread_cond_destroy(&ts->cond);
}

void ts_worker_open(struct taskscaler *ts)
{
	queue(ts, op_new(TS_OP_OPEN));
}

void ts_worker_update(struct taskscaler *ts)
{
	queue(ts, op_new(TS_OP_UPDATE));
}

void ts_worker_increase(struct taskscaler *ts, int n)
{
	struct ts_op *op = op_new(TS_OP_INCREASE);

	op->n = n;
	queue(ts, op);
}

void ts_worker_decrease(struct taskscaler *ts, const struct strvec *ids)
{
	struct ts_op *op = op_new(TS_OP_DECREASE);
	size_t i;

	for (i = 0; i < ids->nr; i++)
		strvec_push(&op->ids, ids->v[i]);
	queue(ts, op);
}

void ts_worker_up(struct taskscaler *ts, const char *id)
{
	struct ts_op *op = op_new(TS_OP_UP);

	op->id = xstrdup(id);
	queue(ts, op);
}

void ts_worker_heartbeat(struct taskscaler *ts, const char *id,
			 const char *key)
{
	struct ts_op *op = op_new(TS_OP_HEARTBEAT);

	op->id = xstrdup(id);
	snprintf(op->key, sizeof(op->key), "%s", key);
	queue(ts, op);
}

void ts_worker_shutdown(struct taskscaler *ts)
{
	struct ts_op *op = op_new(TS_OP_SHUTDOWN);
	size_t i;

	if (ts->cfg.delete_instances_on_shutdown)
		for (i = 0; i < ts->nr; i++)
			strvec_push(&op->ids, ts->inst[i]->id);
	queue(ts, op);
}
