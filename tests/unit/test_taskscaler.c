/*
 * The taskscaler driven on a real loop against a JSON-lines instance group
 * (data/taskscaler/pool_plugin.py, a fake cloud whose instances live in a
 * state file): scale-up under a queue, idle count, max_use_count
 * retirement, a failing ready command, the acquire timeout, state storage
 * across a restart, and shutdown deleting the instances.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "autoscale/instance_group.h"
#include "autoscale/taskscaler.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/strvec.h"
#include "file_text.h"

struct fx {
	char dir[64];
	char plugin[4096];
	char state[128], log[128], tsdir[128];
	struct loop *loop;
	struct config_autoscaler cfg;
	struct config_autoscaler_policy policy;
	struct buf pc;
	int heartbeats;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *src = getenv("CR_SOURCE_DIR");

	if (!fx)
		return -1;
	if (src)
		snprintf(fx->plugin, sizeof(fx->plugin),
			 "%s/tests/unit/data/taskscaler/pool_plugin.py", src);
	else
		snprintf(fx->plugin, sizeof(fx->plugin),
			 "%.*s/data/taskscaler/pool_plugin.py",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_taskscaler.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->state, sizeof(fx->state), "%s/cloud.json", fx->dir);
	snprintf(fx->log, sizeof(fx->log), "%s/calls.log", fx->dir);
	snprintf(fx->tsdir, sizeof(fx->tsdir), "%s/ts", fx->dir);
	fx->loop = loop_new();
	/* As config_load's defaults for [runners.autoscaler]. */
	fx->cfg.present = true;
	fx->cfg.plugin = fx->plugin;
	fx->cfg.capacity_per_instance = 1;
	fx->cfg.instance_acquire_timeout_ms = 15 * 60 * 1000;
	fx->cfg.update_interval_ms = 200;
	fx->cfg.update_interval_when_expecting_ms = 50;
	fx->cfg.deletion_retry_interval_ms = 60000;
	fx->cfg.shutdown_deletion_interval_ms = 100;
	fx->cfg.shutdown_deletion_retries = 3;
	fx->cfg.failure_threshold = 3;
	fx->cfg.reservation_throttling = CONFIG_UNSET;
	fx->cfg.scale_throttle.limit = -1;
	fx->policy.preemptive_mode = CONFIG_UNSET;
	strvec_init(&fx->policy.periods);
	buf_init(&fx->pc, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	loop_free(fx->loop);
	buf_release(&fx->pc);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

/* plugin_config for the fake cloud; extra is more JSON members or "". */
static void plugin_config(struct fx *fx, const char *extra)
{
	buf_reset(&fx->pc);
	buf_addf(&fx->pc, "{\"state\":\"%s\",\"log\":\"%s\"%s%s}", fx->state,
		 fx->log, *extra ? "," : "", extra);
	fx->cfg.plugin_config_json = fx->pc.data;
}

static struct taskscaler *start(struct fx *fx)
{
	struct taskscaler_options o = { 0 };
	struct taskscaler *ts = NULL;
	struct buf err = BUF_INIT;

	o.loop = fx->loop;
	o.cfg = &fx->cfg;
	o.token = "glrt-testtoken123";
	o.config_dir = fx->dir;
	o.heartbeats = fx->heartbeats;
	if (taskscaler_new(&o, &ts, &err))
		fail_msg("taskscaler_new: %s", err.data);
	buf_release(&err);
	return ts;
}

/* Runs the loop until cond holds (or 10 s pass: a failure). */
#define RUN_UNTIL(fx, cond) do { \
	int i_; \
	for (i_ = 0; i_ < 1000 && !(cond); i_++) \
		loop_run_once((fx)->loop, 10); \
	if (!(cond)) \
		fail_msg("timed out waiting for %s", #cond); \
} while (0)

/* The same for up to 40 s (each failed SSH dial retries for seconds). */
#define RUN_UNTIL_SLOW(fx, cond) do { \
	int i_; \
	for (i_ = 0; i_ < 4000 && !(cond); i_++) \
		loop_run_once((fx)->loop, 10); \
	if (!(cond)) \
		fail_msg("timed out waiting for %s", #cond); \
} while (0)

static struct taskscaler_counts counts(struct taskscaler *ts)
{
	struct taskscaler_counts c;

	taskscaler_counts(ts, &c);
	return c;
}

static int log_has(struct fx *fx, const char *line)
{
	char text[8192];
	FILE *f = fopen(fx->log, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return strstr(text, line) != NULL;
}

struct got {
	int called, err;
	char addr[64], id[64], msg[200];
};

static void on_acquired(void *ctx, int err, const struct ig_connect_info *ci,
			const char *msg)
{
	struct got *g = ctx;

	g->called++;
	g->err = err;
	if (ci) {
		snprintf(g->addr, sizeof(g->addr), "%s",
			 ci->internal_addr ? ci->internal_addr : "");
		snprintf(g->id, sizeof(g->id), "%s", ci->id ? ci->id : "");
	}
	if (msg)
		snprintf(g->msg, sizeof(g->msg), "%s", msg);
}

static void reserve(struct fx *fx, struct taskscaler *ts, char *key)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (taskscaler_reserve(ts, key) == 0)
			return;
		loop_run_once(fx->loop, 10);
	}
	fail_msg("no slot could be reserved");
}

static void stop(struct fx *fx, struct taskscaler *ts);

/* The pid of the plugin's last init, from its log. */
static int plugin_pid(struct fx *fx)
{
	char text[8192], *p, *last = NULL;
	FILE *f = fopen(fx->log, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (p = text; (p = strstr(p, "init ")) != NULL; p++)
		last = p;
	return last ? (int)strtol(last + 5, NULL, 10) : -1;
}

static int count_inits(struct fx *fx)
{
	char text[8192], *p;
	FILE *f = fopen(fx->log, "r");
	size_t n;
	int count = 0;

	if (!f)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	for (p = text; (p = strstr(p, "init ")) != NULL; p++)
		count++;
	return count;
}

/*
 * The plugin dies: the group starts it again on the next call, and the
 * instances it had stay ours (not removed as pre-existing); jobs still
 * get them.
 */
static void test_plugin_crash_and_restart(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k[TASKSCALER_KEY_SIZE];
	struct got g = { 0 };
	int pid;

	plugin_config(fx, "\"addr\":\"10.0.0.9\"");
	fx->policy.idle_count = 1;
	fx->policy.idle_time_ms = 600000;
	fx->cfg.policy = &fx->policy;
	fx->cfg.nr_policy = 1;
	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready == 1);
	pid = plugin_pid(fx);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	RUN_UNTIL(fx, count_inits(fx) == 2);
	assert_int_not_equal(plugin_pid(fx), pid);
	/* A few updates through the new process. */
	{
		int i;

		for (i = 0; i < 40; i++)
			loop_run_once(fx->loop, 10);
	}
	assert_false(log_has(fx, "decrease"));
	assert_int_equal(counts(ts).ready, 1);
	reserve(fx, ts, k);
	taskscaler_acquire(ts, k, on_acquired, &g);
	RUN_UNTIL(fx, g.called);
	assert_int_equal(g.err, 0);
	assert_string_equal(g.addr, "10.0.0.9");
	taskscaler_release(ts, k, 0);
	stop(fx, ts);
}

static void on_shut(void *ctx)
{
	*(int *)ctx = 1;
}

static void stop(struct fx *fx, struct taskscaler *ts)
{
	int done = 0;

	taskscaler_shutdown(ts, on_shut, &done);
	RUN_UNTIL(fx, done);
	taskscaler_free(ts);
}

/* Two jobs queued, nothing running: two instances, each job gets one. */
static void test_scale_up_under_queue(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k1[TASKSCALER_KEY_SIZE], k2[TASKSCALER_KEY_SIZE];
	struct got g1 = { 0 }, g2 = { 0 };

	plugin_config(fx, "\"addr\":\"127.0.0.1:2222\"");
	fx->cfg.max_instances = 3;
	ts = start(fx);
	reserve(fx, ts, k1);
	reserve(fx, ts, k2);
	assert_string_not_equal(k1, k2);
	assert_int_equal(strncmp(k1, "testtoken", 9), 0);
	taskscaler_acquire(ts, k1, on_acquired, &g1);
	taskscaler_acquire(ts, k2, on_acquired, &g2);
	assert_int_equal(g1.called, 0);	/* never from inside acquire */
	RUN_UNTIL(fx, g1.called && g2.called);
	assert_int_equal(g1.err, 0);
	assert_string_equal(g1.addr, "127.0.0.1:2222");
	assert_int_equal(g2.err, 0);
	assert_int_equal(counts(ts).acquired, 2);
	assert_int_equal(counts(ts).ready, 2);
	assert_true(log_has(fx, "increase 1 1\n") || log_has(fx, "increase 2 2\n"));
	/* No idle count: released instances go once idle (idle_time 0). */
	taskscaler_release(ts, k1, 0);
	taskscaler_release(ts, k2, 0);
	RUN_UNTIL(fx, counts(ts).ready == 0 && counts(ts).removing == 0);
	assert_true(log_has(fx, "decrease "));
	stop(fx, ts);
}

/*
 * Slot numbers (gitlab-runner's Acquisition.Slot()): with two places per
 * instance, three jobs take slots 0 and 1 of one instance and slot 0 of
 * another; a released number is the one the next job on that instance
 * gets, while the other stays held.
 */
static void test_slots(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k[4][TASKSCALER_KEY_SIZE];
	struct got g[4];
	int slot[4], shared0 = -1, shared1 = -1, lone = -1, i;

	memset(g, 0, sizeof(g));
	plugin_config(fx, "\"addr\":\"127.0.0.1:2222\"");
	fx->cfg.capacity_per_instance = 2;
	fx->cfg.max_instances = 2;
	ts = start(fx);
	for (i = 0; i < 3; i++)
		reserve(fx, ts, k[i]);
	for (i = 0; i < 3; i++) {
		assert_int_equal(taskscaler_slot(ts, k[i]), -1);
		taskscaler_acquire(ts, k[i], on_acquired, &g[i]);
	}
	RUN_UNTIL(fx, g[0].called && g[1].called && g[2].called);
	for (i = 0; i < 3; i++) {
		assert_int_equal(g[i].err, 0);
		assert_true(g[i].id[0]);
		slot[i] = taskscaler_slot(ts, k[i]);
	}
	/* Which two share an instance, and which one is alone. */
	for (i = 0; i < 3; i++) {
		int a = (i + 1) % 3, b = (i + 2) % 3;

		if (!strcmp(g[a].id, g[b].id) && strcmp(g[i].id, g[a].id)) {
			lone = i;
			shared0 = slot[a] == 0 ? a : b;
			shared1 = slot[a] == 0 ? b : a;
		}
	}
	assert_true(lone >= 0);
	assert_int_equal(slot[shared0], 0);
	assert_int_equal(slot[shared1], 1);
	assert_int_equal(slot[lone], 0);	/* numbered per instance */
	assert_int_equal(counts(ts).acquired, 3);

	/*
	 * Slot 0 of the shared instance and the lone job end: the next job
	 * goes to the busier instance, in the number given back.
	 */
	taskscaler_release(ts, k[shared0], 0);
	taskscaler_release(ts, k[lone], 0);
	assert_int_equal(taskscaler_slot(ts, k[shared0]), -1);
	assert_int_equal(taskscaler_slot(ts, k[shared1]), 1);
	reserve(fx, ts, k[3]);
	taskscaler_acquire(ts, k[3], on_acquired, &g[3]);
	RUN_UNTIL(fx, g[3].called);
	assert_int_equal(g[3].err, 0);
	assert_string_equal(g[3].id, g[shared1].id);
	assert_int_equal(taskscaler_slot(ts, k[3]), 0);
	assert_int_equal(taskscaler_slot(ts, k[shared1]), 1);
	taskscaler_release(ts, k[3], 0);
	taskscaler_release(ts, k[shared1], 0);
	stop(fx, ts);
}

static struct metrics_autoscaler snap(struct taskscaler *ts)
{
	struct metrics_autoscaler m;

	taskscaler_metrics(ts, &m);
	return m;
}

/*
 * /metrics' numbers follow the pool: slots by state, reservations and
 * acquisitions, instances asked for and deleted, and the durations in the
 * configured buckets.
 */
static void test_metrics(void **state)
{
	static double ready_buckets[] = { 0.001, 600 };
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k1[TASKSCALER_KEY_SIZE], k2[TASKSCALER_KEY_SIZE];
	struct got g1 = { 0 }, g2 = { 0 };
	struct metrics_autoscaler m;

	plugin_config(fx, "");
	fx->cfg.max_instances = 2;
	fx->cfg.max_use_count = 3;
	fx->cfg.instance_readiness_time_buckets.v = ready_buckets;
	fx->cfg.instance_readiness_time_buckets.nr = 2;
	ts = start(fx);
	RUN_UNTIL(fx, snap(ts).max_instances == 2);
	m = snap(ts);
	assert_int_equal(m.max_tasks_per_instance, 1);
	assert_int_equal(m.max_use_count_per_instance, 3);
	reserve(fx, ts, k1);
	reserve(fx, ts, k2);
	m = snap(ts);
	assert_int_equal(m.task_ops[METRICS_TASK_OP_RESERVE], 2);
	assert_int_equal(m.tasks[METRICS_TASK_RESERVED], 2);
	/* No third slot within max_instances = 2, none could come: iop. */
	{
		char k3[TASKSCALER_KEY_SIZE];

		assert_int_equal(taskscaler_reserve(ts, k3), CR_ERR_RETRY);
	}
	m = snap(ts);
	assert_int_equal(m.task_ops[METRICS_TASK_OP_RESERVE_IOP_FAILURE] +
			 m.task_ops[METRICS_TASK_OP_RESERVE_AVAILABLE_FAILURE], 1);
	taskscaler_acquire(ts, k1, on_acquired, &g1);
	taskscaler_acquire(ts, k2, on_acquired, &g2);
	RUN_UNTIL(fx, g1.called && g2.called);
	m = snap(ts);
	assert_int_equal(m.tasks[METRICS_TASK_ACQUIRED], 2);
	assert_int_equal(m.tasks[METRICS_TASK_RESERVED], 0);
	assert_int_equal(m.tasks[METRICS_TASK_IDLE], 0);
	assert_int_equal(m.task_ops[METRICS_TASK_OP_ACQUIRE], 2);
	assert_int_equal(m.instances[METRICS_INSTANCE_RUNNING], 2);
	assert_int_equal(m.instance_ops[METRICS_INSTANCE_OP_CREATE], 2);
	assert_true(m.scale_ops[METRICS_SCALE_UP] >= 1);
	assert_int_equal(m.creation->count, 2);
	assert_int_equal(m.is_running->count, 2);
	/* The configured buckets; fast local instances land in 600. */
	assert_int_equal(m.readiness->n, 2);
	assert_true(m.readiness->bounds[1] == 600);
	assert_int_equal(m.readiness->count, 2);
	assert_int_equal(m.readiness->counts[0] + m.readiness->counts[1], 2);
	/* The life histogram has the default buckets. */
	assert_true(m.life->n > 2);
	taskscaler_release(ts, k1, 0);
	taskscaler_release(ts, k2, 0);
	RUN_UNTIL(fx, counts(ts).ready == 0 && counts(ts).removing == 0);
	m = snap(ts);
	assert_int_equal(m.task_ops[METRICS_TASK_OP_RELEASE], 2);
	assert_int_equal(m.instance_ops[METRICS_INSTANCE_OP_DELETE], 2);
	assert_true(m.scale_ops[METRICS_SCALE_DOWN] >= 1);
	assert_int_equal(m.deletion->count, 2);
	assert_int_equal(m.life->count, 2);
	assert_int_equal(m.tasks[METRICS_TASK_ACQUIRED], 0);
	stop(fx, ts);
}

/*
 * FF_USE_FLEETING_ACQUIRE_HEARTBEATS: an instance that cannot be reached
 * is not given to the job; after failure_threshold failed heartbeats in a
 * row it is removed, and the job waits for a fresh one.
 */
static void test_heartbeat_failures(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k[TASKSCALER_KEY_SIZE];
	struct got g = { 0 };

	/* Port 1 on loopback: nothing listens, the SSH dial fails. */
	plugin_config(fx, "\"addr\":\"127.0.0.1:1\",\"user\":\"x\"");
	fx->heartbeats = 1;
	fx->cfg.failure_threshold = 2;
	fx->cfg.max_instances = 1;
	ts = start(fx);
	reserve(fx, ts, k);
	taskscaler_acquire(ts, k, on_acquired, &g);
	RUN_UNTIL_SLOW(fx, log_has(fx, "decrease i-1\n"));
	assert_int_equal(g.called, 0);
	/* Exactly failure_threshold checks of i-1: connect_info each time. */
	{
		char text[8192], *p;
		FILE *f = fopen(fx->log, "r");
		size_t n;
		int checks = 0;

		assert_non_null(f);
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		for (p = text; (p = strstr(p, "connect_info i-1\n")) != NULL; p++)
			checks++;
		/* One for the up step, two heartbeats. */
		assert_int_equal(checks, 3);
	}
	/* The job still waits, now for i-2. */
	RUN_UNTIL_SLOW(fx, log_has(fx, "connect_info i-2\n"));
	assert_int_equal(g.called, 0);
	stop(fx, ts);
	assert_int_equal(g.called, 1);
	assert_int_not_equal(g.err, 0);
}

/* Heartbeats off (the default): the same instance goes to the job. */
static void test_no_heartbeats(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k[TASKSCALER_KEY_SIZE];
	struct got g = { 0 };

	plugin_config(fx, "\"addr\":\"127.0.0.1:1\",\"user\":\"x\"");
	fx->cfg.max_instances = 1;
	ts = start(fx);
	reserve(fx, ts, k);
	taskscaler_acquire(ts, k, on_acquired, &g);
	RUN_UNTIL(fx, g.called);
	assert_int_equal(g.err, 0);
	assert_string_equal(g.addr, "127.0.0.1:1");
	taskscaler_release(ts, k, 0);
	stop(fx, ts);
}

/*
 * A reload's policies reach the running taskscaler: the idle count rises
 * without the plugin being started again.
 */
static void test_policy_reload(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	int i;

	plugin_config(fx, "");
	ts = start(fx);
	RUN_UNTIL(fx, log_has(fx, "init "));
	for (i = 0; i < 50; i++)
		loop_run_once(fx->loop, 10);
	assert_int_equal(counts(ts).ready + counts(ts).creating, 0);
	fx->policy.idle_count = 2;
	fx->policy.idle_time_ms = 60000;
	taskscaler_configure_policy(ts, &fx->policy, 1);
	RUN_UNTIL(fx, counts(ts).ready == 2);
	assert_int_equal(count_inits(fx), 1);
	/* And back to none: the idle instances go once idle_time passes. */
	fx->policy.idle_time_ms = 0;
	fx->policy.idle_count = 0;
	taskscaler_configure_policy(ts, NULL, 0);
	RUN_UNTIL(fx, counts(ts).ready == 0);
	stop(fx, ts);
}

static void test_scale_to_idle_count(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;

	plugin_config(fx, "");
	fx->policy.idle_count = 2;
	fx->policy.idle_time_ms = 60000;
	fx->cfg.policy = &fx->policy;
	fx->cfg.nr_policy = 1;
	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready == 2);
	/* And no more than that, a few updates later. */
	{
		int i;

		for (i = 0; i < 30; i++)
			loop_run_once(fx->loop, 10);
	}
	assert_int_equal(counts(ts).ready, 2);
	assert_int_equal(counts(ts).creating, 0);
	assert_int_equal(counts(ts).provisioned, 2);
	stop(fx, ts);
}

/* max_use_count = 1: the instance goes right after its job. */
static void test_max_use_count_retirement(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k[TASKSCALER_KEY_SIZE];
	struct got g = { 0 };

	plugin_config(fx, "");
	fx->cfg.max_use_count = 1;
	fx->cfg.capacity_per_instance = 2;
	fx->policy.idle_count = 1;
	fx->policy.idle_time_ms = 600000;
	fx->cfg.policy = &fx->policy;
	fx->cfg.nr_policy = 1;
	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready == 1);
	reserve(fx, ts, k);
	taskscaler_acquire(ts, k, on_acquired, &g);
	RUN_UNTIL(fx, g.called);
	assert_int_equal(g.err, 0);
	assert_true(log_has(fx, "connect_info i-1\n"));
	taskscaler_release(ts, k, 0);
	RUN_UNTIL(fx, log_has(fx, "decrease i-1\n"));
	/* The idle count brings a fresh one. */
	RUN_UNTIL(fx, counts(ts).ready == 1 && counts(ts).removing == 0);
	assert_true(log_has(fx, "connect_info i-2\n"));
	stop(fx, ts);
}

/* A ready command that cannot run: the instance is removed. */
static void test_ready_command_failure(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	static char ready_cmd[] = "true";

	/* Port 1 on loopback: nothing listens, the SSH dial fails. */
	plugin_config(fx, "\"addr\":\"127.0.0.1:1\",\"user\":\"x\"");
	fx->cfg.instance_ready_command = ready_cmd;
	fx->policy.idle_count = 1;
	fx->cfg.policy = &fx->policy;
	fx->cfg.nr_policy = 1;
	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready_failures >= 1);
	RUN_UNTIL(fx, log_has(fx, "decrease i-1\n"));
	assert_int_equal(counts(ts).ready, 0);
	assert_int_equal(counts(ts).provisioned, 0);
	stop(fx, ts);
}

static void test_acquire_timeout(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	char k[TASKSCALER_KEY_SIZE];
	struct got g = { 0 };

	/* The cloud accepts nothing. */
	plugin_config(fx, "\"accept\":0");
	fx->cfg.instance_acquire_timeout_ms = 300;
	fx->cfg.reservation_throttling = CONFIG_FALSE;
	ts = start(fx);
	reserve(fx, ts, k);
	taskscaler_acquire(ts, k, on_acquired, &g);
	RUN_UNTIL(fx, g.called);
	assert_int_equal(g.err, CR_ERR_TIMEOUT);
	assert_string_equal(g.msg, "unable to acquire instance within the "
			    "configured timeout of 300ms: context deadline "
			    "exceeded");
	taskscaler_release(ts, k, 0);
	assert_int_equal(counts(ts).reserved, 0);
	stop(fx, ts);
}

/*
 * Without state storage, instances found at start are removed for safety;
 * with it, a restarted runner keeps the ones it had.
 */
static void test_state_storage(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	struct stat st;
	char path[256];

	plugin_config(fx, "");
	fx->cfg.state_storage.enabled = true;
	fx->cfg.state_storage.dir = fx->tsdir;
	fx->policy.idle_count = 1;
	fx->policy.idle_time_ms = 600000;
	fx->cfg.policy = &fx->policy;
	fx->cfg.nr_policy = 1;
	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready == 1);
	stop(fx, ts);
	snprintf(path, sizeof(path), "%s/testtoken/crunner-instances.json",
		 fx->tsdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready == 1);
	assert_false(log_has(fx, "decrease"));
	assert_true(log_has(fx, "connect_info i-1\nshutdown\ninit "));
	assert_false(log_has(fx, "i-2"));
	stop(fx, ts);

	/* The same cloud, no state storage: i-1 is a stranger. */
	fx->cfg.state_storage.enabled = false;
	ts = start(fx);
	RUN_UNTIL(fx, log_has(fx, "decrease i-1\n"));
	RUN_UNTIL(fx, counts(ts).ready == 1);	/* idle count: a new one */
	stop(fx, ts);
}

static void test_shutdown_deletes(void **state)
{
	struct fx *fx = *state;
	struct taskscaler *ts;
	int shut = 0;
	FILE *f;
	char text[4096];
	size_t n;

	plugin_config(fx, "");
	fx->cfg.delete_instances_on_shutdown = true;
	fx->policy.idle_count = 2;
	fx->policy.idle_time_ms = 600000;
	fx->cfg.policy = &fx->policy;
	fx->cfg.nr_policy = 1;
	ts = start(fx);
	RUN_UNTIL(fx, counts(ts).ready == 2);
	taskscaler_shutdown(ts, on_shut, &shut);
	RUN_UNTIL(fx, shut);
	taskscaler_free(ts);
	assert_true(log_has(fx, "decrease i-1,i-2\n"));
	assert_true(log_has(fx, "shutdown\n"));
	f = fopen(fx->state, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "\"instances\": {}"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scale_up_under_queue,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_heartbeats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_reload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_scale_to_idle_count,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_use_count_retirement,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ready_command_failure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_acquire_timeout,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_storage,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_deletes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_plugin_crash_and_restart,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
