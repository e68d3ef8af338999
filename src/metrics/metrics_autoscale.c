/*
 * The autoscaler's families on /metrics: what gitlab-runner registers
 * from taskscaler's collector (fleeting_taskscaler_*) and fleeting's
 * (fleeting_provisioner_*) for each [[runners]] entry with a taskscaler,
 * with the const labels runner, runner_name and system_id
 * (executors/internal/autoscaler/provider.go).  Which names, types and
 * labels are pinned and which are crunner's own is listed in
 * docs/autoscale-plugins.md, "Metrics".
 *
 * Families come out in name order and labels in name order ("le" last),
 * as the Go client writes them; a family with no taskscaler is left out.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* ---- histograms with configured buckets ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void metrics_vhist_init(struct metrics_vhist *h, const double *want,
			size_t nw, const double *fallback, size_t nf,
			const double *def, size_t nd)
{
	const double *src = nw ? want : nf ? fallback : def;
	size_t n = nw ? nw : nf ? nf : nd, i, k = 0;

	memset(h, 0, sizeof(*h));
	h->bounds = xcalloc(n ? n : 1, sizeof(*h->bounds));
	if (n)
		memcpy(h->bounds, src, n * sizeof(*src));
	qsort(h->bounds, n, sizeof(*h->bounds), cmp_double);
	for (i = 0; i < n; i++)
		if (!k || h->bounds[i] != h->bounds[k - 1])
			h->bounds[k++] = h->bounds[i];
	h->n = k;
	h->counts = xcalloc(k ? k : 1, sizeof(*h->counts));
}

void metrics_vhist_observe(struct metrics_vhist *h, double seconds)
{
	size_t i;

	h->count++;
	h->sum += seconds;
	for (i = 0; i < h->n; i++)
		if (seconds <= h->bounds[i]) {
			h->counts[i]++;
			break;
		}
}

void metrics_vhist_release(struct metrics_vhist *h)
{
	free(h->bounds);
	free(h->counts);
	memset(h, 0, sizeof(*h));
}

/* ---- writing ---- */

static const char *const task_states[METRICS_NR_TASK_STATES] = {
	[METRICS_TASK_IDLE] = "idle",
	[METRICS_TASK_PENDING] = "pending",
	[METRICS_TASK_ACQUIRED] = "acquired",
	[METRICS_TASK_RESERVED] = "reserved",
	[METRICS_TASK_UNAVAILABLE] = "unavailable",
	[METRICS_TASK_UNHEALTHY] = "unhealthy",
};

static const char *const task_ops[METRICS_NR_TASK_OPS] = {
	[METRICS_TASK_OP_RESERVE] = "reserve",
	[METRICS_TASK_OP_UNRESERVE] = "unreserve",
	[METRICS_TASK_OP_ACQUIRE] = "acquire",
	[METRICS_TASK_OP_RELEASE] = "release",
	[METRICS_TASK_OP_RESERVE_AVAILABLE_FAILURE] =
		"reserve_available_capacity_failure",
	[METRICS_TASK_OP_RESERVE_IOP_FAILURE] = "reserve_iop_capacity_failure",
};

static const char *const scale_ops[METRICS_NR_SCALE_OPS] = {
	[METRICS_SCALE_UP] = "up",
	[METRICS_SCALE_DOWN] = "down",
};

static const char *const instance_states[METRICS_NR_INSTANCE_STATES] = {
	[METRICS_INSTANCE_REQUESTED] = "requested",
	[METRICS_INSTANCE_CREATING] = "creating",
	[METRICS_INSTANCE_RUNNING] = "running",
	[METRICS_INSTANCE_DELETING] = "deleting",
};

static const char *const instance_ops[METRICS_NR_INSTANCE_OPS] = {
	[METRICS_INSTANCE_OP_CREATE] = "create",
	[METRICS_INSTANCE_OP_DELETE] = "delete",
};

/*
 * The label set of one sample: the const labels, plus (name, value) when
 * name is not NULL, in name order.  "operation" sorts before "runner",
 * "state" between "runner_name" and "system_id".
 */
static void add_labels(struct buf *out, const struct metrics_autoscaler *a,
		       const char *system_id, const char *name,
		       const char *value)
{
	int before = name && strcmp(name, "runner") < 0;

	if (name && before) {
		buf_addf(out, "%s=\"", name);
		metrics_escape_label(out, value);
		buf_addstr(out, "\",");
	}
	buf_addstr(out, "runner=\"");
	metrics_escape_label(out, a->runner);
	buf_addstr(out, "\",runner_name=\"");
	metrics_escape_label(out, a->runner_name ? a->runner_name : "");
	buf_addch(out, '"');
	if (name && !before) {
		buf_addf(out, ",%s=\"", name);
		metrics_escape_label(out, value);
		buf_addch(out, '"');
	}
	buf_addstr(out, ",system_id=\"");
	metrics_escape_label(out, system_id ? system_id : "");
	buf_addch(out, '"');
}

static void header(struct buf *out, const char *name, const char *type,
		   const char *help)
{
	buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct buf *out, const char *name,
		   const struct metrics_autoscaler *a, const char *system_id,
		   const char *label, const char *value, double v)
{
	buf_addf(out, "%s{", name);
	add_labels(out, a, system_id, label, value);
	buf_addstr(out, "} ");
	metrics_format_value(out, v);
	buf_addch(out, '\n');
}

/* Which value of a metrics_autoscaler a family shows. */
enum family_kind { GAUGE, COUNTER, HISTOGRAM };

struct family {
	const char *name;
	enum family_kind kind;
	const char *help;
	const char *label;		/* NULL: the const labels only */
	const char *const *values;	/* the label's values */
	size_t nr_values;
	/* value i of a (i is 0 without a label); histograms: hist */
	double (*value)(const struct metrics_autoscaler *a, size_t i);
	const struct metrics_vhist *(*hist)(const struct metrics_autoscaler *a);
};

static void write_hist(struct buf *out, const char *name,
		       const struct metrics_autoscaler *a,
		       const char *system_id, const struct metrics_vhist *h)
{
	struct buf labels = BUF_INIT;
	uint64_t cumulative = 0;
	size_t i;

	add_labels(&labels, a, system_id, NULL, NULL);
	for (i = 0; h && i < h->n; i++) {
		cumulative += h->counts[i];
		buf_addf(out, "%s_bucket{%s,le=\"", name, labels.data);
		metrics_format_value(out, h->bounds[i]);
		buf_addf(out, "\"} %llu\n", (unsigned long long)cumulative);
	}
	buf_addf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels.data,
		 (unsigned long long)(h ? h->count : 0));
	buf_addf(out, "%s_sum{%s} ", name, labels.data);
	metrics_format_value(out, h ? h->sum : 0);
	buf_addf(out, "\n%s_count{%s} %llu\n", name, labels.data,
		 (unsigned long long)(h ? h->count : 0));
	buf_release(&labels);
}

static int cmp_scalers(const void *x, const void *y)
{
	const struct metrics_autoscaler *a = *(const struct metrics_autoscaler *const *)x;
	const struct metrics_autoscaler *b = *(const struct metrics_autoscaler *const *)y;
	int c = strcmp(a->runner, b->runner);

	return c ? c : strcmp(a->runner_name ? a->runner_name : "",
			      b->runner_name ? b->runner_name : "");
}

static void write_family(struct buf *out, const struct family *f,
			 const struct metrics_autoscaler *const *v, size_t n,
			 const char *system_id)
{
	static const char *const types[] = {
		[GAUGE] = "gauge", [COUNTER] = "counter",
		[HISTOGRAM] = "histogram",
	};
	size_t i, j;

	header(out, f->name, types[f->kind], f->help);
	if (f->label) {
		/* Label value order first: "operation" sorts before "runner". */
		int value_first = strcmp(f->label, "runner") < 0;
		size_t *order = xcalloc(f->nr_values, sizeof(*order));

		for (j = 0; j < f->nr_values; j++)
			order[j] = j;
		/* Sort the values by name (few: insertion sort). */
		for (j = 1; j < f->nr_values; j++) {
			size_t k = j, t = order[j];

			while (k && strcmp(f->values[order[k - 1]],
					   f->values[t]) > 0) {
				order[k] = order[k - 1];
				k--;
			}
			order[k] = t;
		}
		if (value_first) {
			for (j = 0; j < f->nr_values; j++)
				for (i = 0; i < n; i++)
					sample(out, f->name, v[i], system_id,
					       f->label, f->values[order[j]],
					       f->value(v[i], order[j]));
		} else {
			for (i = 0; i < n; i++)
				for (j = 0; j < f->nr_values; j++)
					sample(out, f->name, v[i], system_id,
					       f->label, f->values[order[j]],
					       f->value(v[i], order[j]));
		}
		free(order);
		return;
	}
	for (i = 0; i < n; i++) {
		if (f->kind == HISTOGRAM)
			write_hist(out, f->name, v[i], system_id, f->hist(v[i]));
		else
			sample(out, f->name, v[i], system_id, NULL, NULL,
			       f->value(v[i], 0));
	}
}

/* ---- the families ---- */

static const struct metrics_vhist *h_creation(const struct metrics_autoscaler *a)
{
	return a->creation;
}

static const struct metrics_vhist *h_deletion(const struct metrics_autoscaler *a)
{
	return a->deletion;
}

static const struct metrics_vhist *h_is_running(const struct metrics_autoscaler *a)
{
	return a->is_running;
}

static const struct metrics_vhist *h_life(const struct metrics_autoscaler *a)
{
	return a->life;
}

static const struct metrics_vhist *h_readiness(const struct metrics_autoscaler *a)
{
	return a->readiness;
}

static double v_instance_ops(const struct metrics_autoscaler *a, size_t i)
{
	return (double)a->instance_ops[i];
}

static double v_instances(const struct metrics_autoscaler *a, size_t i)
{
	return a->instances[i];
}

static double v_max_instances(const struct metrics_autoscaler *a, size_t i)
{
	(void)i;
	return a->max_instances;
}

static double v_missed(const struct metrics_autoscaler *a, size_t i)
{
	(void)i;
	return (double)a->missed_updates;
}

static double v_desired(const struct metrics_autoscaler *a, size_t i)
{
	(void)i;
	return a->desired_instances;
}

static double v_max_tasks(const struct metrics_autoscaler *a, size_t i)
{
	(void)i;
	return a->max_tasks_per_instance;
}

static double v_max_use(const struct metrics_autoscaler *a, size_t i)
{
	(void)i;
	return a->max_use_count_per_instance;
}

static double v_scale_ops(const struct metrics_autoscaler *a, size_t i)
{
	return (double)a->scale_ops[i];
}

static double v_task_ops(const struct metrics_autoscaler *a, size_t i)
{
	return (double)a->task_ops[i];
}

static double v_tasks(const struct metrics_autoscaler *a, size_t i)
{
	return a->tasks[i];
}

#define VALUES(a) a, sizeof(a) / sizeof(*(a))

/* In name order. */
static const struct family families[] = {
	{ "fleeting_provisioner_instance_creation_time_seconds", HISTOGRAM,
	  "Seconds from asking the instance group for an instance to its first sighting",
	  .hist = h_creation },
	{ "fleeting_provisioner_instance_deletion_time_seconds", HISTOGRAM,
	  "Seconds from asking the instance group to delete an instance to its disappearance",
	  .hist = h_deletion },
	{ "fleeting_provisioner_instance_is_running_time_seconds", HISTOGRAM,
	  "Seconds from asking the instance group for an instance to its running state",
	  .hist = h_is_running },
	{ "fleeting_provisioner_instance_life_duration_seconds", HISTOGRAM,
	  "Seconds an instance lived, from its first sighting to its disappearance",
	  .hist = h_life },
	{ "fleeting_provisioner_instance_operations_total", COUNTER,
	  "Instances asked for (create) and asked to be deleted (delete)",
	  "operation", VALUES(instance_ops), v_instance_ops, NULL },
	{ "fleeting_provisioner_instances", GAUGE,
	  "Instances by state",
	  "state", VALUES(instance_states), v_instances, NULL },
	{ "fleeting_provisioner_max_instances", GAUGE,
	  "The maximum number of instances (0: unlimited)",
	  NULL, NULL, 0, v_max_instances, NULL },
	{ "fleeting_provisioner_missed_updates_total", COUNTER,
	  "Updates skipped because the previous one had not finished",
	  NULL, NULL, 0, v_missed, NULL },
	{ "fleeting_taskscaler_desired_instances", GAUGE,
	  "The change in instances the last scaling pass wanted (negative: fewer)",
	  NULL, NULL, 0, v_desired, NULL },
	{ "fleeting_taskscaler_max_tasks_per_instance", GAUGE,
	  "Jobs one instance runs at once (capacity_per_instance)",
	  NULL, NULL, 0, v_max_tasks, NULL },
	{ "fleeting_taskscaler_max_use_count_per_instance", GAUGE,
	  "Jobs an instance runs before it is removed (max_use_count, 0: unlimited)",
	  NULL, NULL, 0, v_max_use, NULL },
	{ "fleeting_taskscaler_scale_operations_total", COUNTER,
	  "Scaling requests made to the instance group",
	  "operation", VALUES(scale_ops), v_scale_ops, NULL },
	{ "fleeting_taskscaler_task_instance_readiness_time_seconds", HISTOGRAM,
	  "Seconds from an instance's first sighting until it is ready for jobs",
	  .hist = h_readiness },
	{ "fleeting_taskscaler_task_operations_total", COUNTER,
	  "Reservations, acquisitions and their releases, and reservations refused",
	  "operation", VALUES(task_ops), v_task_ops, NULL },
	{ "fleeting_taskscaler_tasks", GAUGE,
	  "Job slots by state",
	  "state", VALUES(task_states), v_tasks, NULL },
};

void metrics_render_autoscalers(struct buf *out,
				const struct metrics_source *src)
{
	const struct metrics_autoscaler **v;
	size_t i;

	if (!src->nr_autoscalers)
		return;
	v = xcalloc(src->nr_autoscalers, sizeof(*v));
	for (i = 0; i < src->nr_autoscalers; i++)
		v[i] = &src->autoscalers[i];
	qsort(v, src->nr_autoscalers, sizeof(*v), cmp_scalers);
	for (i = 0; i < sizeof(families) / sizeof(*families); i++)
		write_family(out, &families[i], v, src->nr_autoscalers,
			     src->system_id);
	free(v);
}
