/*
 * The autoscaler's families on /metrics (metrics/metrics_autoscale.c):
 * gitlab-runner's fleeting_taskscaler_* and fleeting_provisioner_* names,
 * types and labels, families in name order, configured histogram buckets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/metrics.h"
#include "util/buf.h"

struct fixture {
	struct metrics_vhist readiness, creation, is_running, deletion, life;
	struct metrics_autoscaler a[2];
	struct metrics_source src;
	struct buf out;
};

static int setup(void **state)
{
	static const double ready_bounds[] = { 30, 5, 5, 60 };	/* unsorted */
	static const double op_bounds[] = { 2, 4 };
	static const double def[] = { 1 };
	struct fixture *f = calloc(1, sizeof(*f));
	struct metrics_autoscaler *a = &f->a[0];

	/* readiness: its own buckets; creation: the operation fallback. */
	metrics_vhist_init(&f->readiness, ready_bounds, 4, op_bounds, 2, def, 1);
	metrics_vhist_init(&f->creation, NULL, 0, op_bounds, 2, def, 1);
	metrics_vhist_init(&f->is_running, NULL, 0, NULL, 0, def, 1);
	metrics_vhist_init(&f->deletion, NULL, 0, NULL, 0, def, 1);
	metrics_vhist_init(&f->life, NULL, 0, NULL, 0, def, 1);
	metrics_vhist_observe(&f->readiness, 4);
	metrics_vhist_observe(&f->readiness, 45);
	metrics_vhist_observe(&f->readiness, 100);
	metrics_vhist_observe(&f->creation, 3);
	a->runner = "zzToken";
	a->runner_name = "pool \"b\"";
	a->tasks[METRICS_TASK_IDLE] = 1;
	a->tasks[METRICS_TASK_ACQUIRED] = 2;
	a->tasks[METRICS_TASK_PENDING] = 3;
	a->max_tasks_per_instance = 2;
	a->max_use_count_per_instance = 5;
	a->desired_instances = -1;
	a->task_ops[METRICS_TASK_OP_RESERVE] = 7;
	a->task_ops[METRICS_TASK_OP_RESERVE_IOP_FAILURE] = 1;
	a->scale_ops[METRICS_SCALE_UP] = 4;
	a->instances[METRICS_INSTANCE_RUNNING] = 2;
	a->instances[METRICS_INSTANCE_REQUESTED] = 1;
	a->max_instances = 10;
	a->missed_updates = 0;
	a->instance_ops[METRICS_INSTANCE_OP_CREATE] = 3;
	a->readiness = &f->readiness;
	a->creation = &f->creation;
	a->is_running = &f->is_running;
	a->deletion = &f->deletion;
	a->life = &f->life;
	f->a[1] = *a;
	f->a[1].runner = "aaToken";
	f->a[1].runner_name = "first";
	f->src.system_id = "s_0123456789ab";
	f->src.autoscalers = f->a;
	f->src.nr_autoscalers = 1;
	buf_init(&f->out, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics_vhist_release(&f->readiness);
	metrics_vhist_release(&f->creation);
	metrics_vhist_release(&f->is_running);
	metrics_vhist_release(&f->deletion);
	metrics_vhist_release(&f->life);
	buf_release(&f->out);
	free(f);
	return 0;
}

static void assert_has(const struct buf *out, const char *line)
{
	if (!strstr(out->data, line))
		fail_msg("missing:\n%s\nin:\n%s", line, out->data);
}

#define L "runner=\"zzToken\",runner_name=\"pool \\\"b\\\"\""
#define S "system_id=\"s_0123456789ab\""

static void test_names_types_labels(void **state)
{
	struct fixture *f = *state;

	metrics_render_autoscalers(&f->out, &f->src);
	/* Gauges and counters with a state or operation label. */
	assert_has(&f->out,
		   "# TYPE fleeting_taskscaler_tasks gauge\n"
		   "fleeting_taskscaler_tasks{" L ",state=\"acquired\"," S "} 2\n"
		   "fleeting_taskscaler_tasks{" L ",state=\"idle\"," S "} 1\n"
		   "fleeting_taskscaler_tasks{" L ",state=\"pending\"," S "} 3\n"
		   "fleeting_taskscaler_tasks{" L ",state=\"reserved\"," S "} 0\n"
		   "fleeting_taskscaler_tasks{" L ",state=\"unavailable\"," S "} 0\n"
		   "fleeting_taskscaler_tasks{" L ",state=\"unhealthy\"," S "} 0\n");
	assert_has(&f->out,
		   "# TYPE fleeting_taskscaler_task_operations_total counter\n"
		   "fleeting_taskscaler_task_operations_total{operation=\"acquire\"," L "," S "} 0\n");
	assert_has(&f->out,
		   "fleeting_taskscaler_task_operations_total{operation=\"reserve\"," L "," S "} 7\n");
	assert_has(&f->out,
		   "fleeting_taskscaler_task_operations_total{operation=\"reserve_iop_capacity_failure\"," L "," S "} 1\n");
	assert_has(&f->out,
		   "fleeting_taskscaler_task_operations_total{operation=\"reserve_available_capacity_failure\"," L "," S "} 0\n");
	assert_has(&f->out,
		   "# TYPE fleeting_taskscaler_scale_operations_total counter\n"
		   "fleeting_taskscaler_scale_operations_total{operation=\"down\"," L "," S "} 0\n"
		   "fleeting_taskscaler_scale_operations_total{operation=\"up\"," L "," S "} 4\n");
	assert_has(&f->out,
		   "# TYPE fleeting_taskscaler_max_tasks_per_instance gauge\n"
		   "fleeting_taskscaler_max_tasks_per_instance{" L "," S "} 2\n");
	assert_has(&f->out,
		   "fleeting_taskscaler_max_use_count_per_instance{" L "," S "} 5\n");
	assert_has(&f->out,
		   "# TYPE fleeting_taskscaler_desired_instances gauge\n"
		   "fleeting_taskscaler_desired_instances{" L "," S "} -1\n");
	assert_has(&f->out,
		   "# TYPE fleeting_provisioner_instances gauge\n"
		   "fleeting_provisioner_instances{" L ",state=\"creating\"," S "} 0\n"
		   "fleeting_provisioner_instances{" L ",state=\"deleting\"," S "} 0\n"
		   "fleeting_provisioner_instances{" L ",state=\"requested\"," S "} 1\n"
		   "fleeting_provisioner_instances{" L ",state=\"running\"," S "} 2\n");
	assert_has(&f->out,
		   "# TYPE fleeting_provisioner_max_instances gauge\n"
		   "fleeting_provisioner_max_instances{" L "," S "} 10\n");
	assert_has(&f->out,
		   "# TYPE fleeting_provisioner_missed_updates_total counter\n"
		   "fleeting_provisioner_missed_updates_total{" L "," S "} 0\n");
	assert_has(&f->out,
		   "# TYPE fleeting_provisioner_instance_operations_total counter\n"
		   "fleeting_provisioner_instance_operations_total{operation=\"create\"," L "," S "} 3\n"
		   "fleeting_provisioner_instance_operations_total{operation=\"delete\"," L "," S "} 0\n");
}

/* Configured buckets, sorted, duplicates dropped; cumulative counts. */
static void test_histogram_buckets(void **state)
{
	struct fixture *f = *state;

	metrics_render_autoscalers(&f->out, &f->src);
	assert_has(&f->out,
		   "# TYPE fleeting_taskscaler_task_instance_readiness_time_seconds histogram\n"
		   "fleeting_taskscaler_task_instance_readiness_time_seconds_bucket{" L "," S ",le=\"5\"} 1\n"
		   "fleeting_taskscaler_task_instance_readiness_time_seconds_bucket{" L "," S ",le=\"30\"} 1\n"
		   "fleeting_taskscaler_task_instance_readiness_time_seconds_bucket{" L "," S ",le=\"60\"} 2\n"
		   "fleeting_taskscaler_task_instance_readiness_time_seconds_bucket{" L "," S ",le=\"+Inf\"} 3\n"
		   "fleeting_taskscaler_task_instance_readiness_time_seconds_sum{" L "," S "} 149\n"
		   "fleeting_taskscaler_task_instance_readiness_time_seconds_count{" L "," S "} 3\n");
	/* No creation_time_buckets: instance_operation_time_buckets. */
	assert_has(&f->out,
		   "fleeting_provisioner_instance_creation_time_seconds_bucket{" L "," S ",le=\"2\"} 0\n"
		   "fleeting_provisioner_instance_creation_time_seconds_bucket{" L "," S ",le=\"4\"} 1\n"
		   "fleeting_provisioner_instance_creation_time_seconds_bucket{" L "," S ",le=\"+Inf\"} 1\n");
	/* Neither: the default. */
	assert_has(&f->out,
		   "fleeting_provisioner_instance_life_duration_seconds_bucket{" L "," S ",le=\"1\"} 0\n"
		   "fleeting_provisioner_instance_life_duration_seconds_bucket{" L "," S ",le=\"+Inf\"} 0\n");
	assert_has(&f->out, "# TYPE fleeting_provisioner_instance_is_running_time_seconds histogram\n");
	assert_has(&f->out, "# TYPE fleeting_provisioner_instance_deletion_time_seconds histogram\n");
}

/* Families in name order, each once; two runners sorted by label. */
static void test_order(void **state)
{
	struct fixture *f = *state;
	const char *p;
	char name[128], prev[128] = "";
	int families = 0;

	f->src.nr_autoscalers = 2;
	metrics_render_autoscalers(&f->out, &f->src);
	for (p = f->out.data; (p = strstr(p, "# TYPE ")) != NULL; p++) {
		size_t n = strcspn(p + 7, " ");

		assert_true(n < sizeof(name));
		memcpy(name, p + 7, n);
		name[n] = '\0';
		if (strcmp(prev, name) >= 0)
			fail_msg("%s after %s", name, prev);
		memcpy(prev, name, n + 1);
		families++;
	}
	assert_int_equal(families, 15);
	/* aaToken's sample before zzToken's within a family. */
	p = strstr(f->out.data, "fleeting_provisioner_max_instances{runner=\"aaToken\"");
	assert_non_null(p);
	assert_non_null(strstr(p, "fleeting_provisioner_max_instances{runner=\"zzToken\""));
	/* With an operation label, the operation sorts first. */
	p = strstr(f->out.data, "fleeting_taskscaler_scale_operations_total{operation=\"down\",runner=\"aaToken\"");
	assert_non_null(p);
	assert_non_null(strstr(p, "fleeting_taskscaler_scale_operations_total{operation=\"down\",runner=\"zzToken\""));
}

/* No taskscaler: no fleeting_* family at all; and in the whole page. */
static void test_absent_and_in_page(void **state)
{
	struct fixture *f = *state;

	f->src.nr_autoscalers = 0;
	metrics_render_autoscalers(&f->out, &f->src);
	assert_int_equal(f->out.len, 0);
	f->src.nr_autoscalers = 1;
	f->src.concurrent = 1;
	metrics_render(&f->out, &f->src);
	/* fleeting_* sort before gitlab_runner_*. */
	assert_true(strstr(f->out.data, "# TYPE fleeting_taskscaler_tasks") <
		    strstr(f->out.data, "# TYPE gitlab_runner_concurrent"));
	assert_non_null(strstr(f->out.data, "# TYPE fleeting_taskscaler_tasks"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_names_types_labels, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_histogram_buckets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_and_in_page, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
