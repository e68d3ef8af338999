/*
 * The /metrics text, one function per family, into one buffer (the shape
 * of redis genRedisInfoString).  Names, help texts and labels are
 * gitlab-runner's (commands/builds_helper.go, commands/multi.go,
 * network/api_requests_collector.go, helpers/prometheus/log_hook.go).
 * The Go client writes labels in name order and the samples of a family
 * sorted by their label values; sorting the finished sample lines gives
 * the same order, since every line of a family has the same label names.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab/identity.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "version.h"
#include "util/banned.h"

const double metrics_job_duration_bounds[METRICS_JOB_DURATION_BUCKETS] = {
	30, 60, 300, 600, 1800, 3600, 7200, 10800, 18000, 36000,
};

/* commands/builds_helper.go's jobStagesDurationHistogram buckets. */
const double metrics_stage_duration_bounds[METRICS_STAGE_DURATION_BUCKETS] = {
	1, 3, 10, 30, 60, 120, 300, 900, 1800, 3600,
};

static const char *const endpoint_names[] = {
	[METRICS_EP_REQUEST_JOB] = "request_job",
	[METRICS_EP_UPDATE_JOB] = "update_job",
	[METRICS_EP_PATCH_TRACE] = "patch_trace",
	[METRICS_EP_RESET_TOKEN] = "reset_token",
};

static const char *const level_names[METRICS_NR_LEVELS] = {
	[METRICS_LEVEL_PANIC] = "panic",
	[METRICS_LEVEL_FATAL] = "fatal",
	[METRICS_LEVEL_ERROR] = "error",
	[METRICS_LEVEL_WARNING] = "warning",
};

/* ---- counters ---- */

void metrics_histogram_observe(struct metrics_histogram *h, double value)
{
	size_t i;

	for (i = 0; i < METRICS_JOB_DURATION_BUCKETS; i++)
		if (value <= metrics_job_duration_bounds[i]) {
			h->buckets[i]++;
			break;
		}
	h->count++;
	h->sum += value;
}

void metrics_runner_init(struct metrics_runner *r, const char *token,
			 const char *name)
{
	memset(r, 0, sizeof(*r));
	metrics_runner_relabel(r, token, name);
}

void metrics_runner_relabel(struct metrics_runner *r, const char *token,
			    const char *name)
{
	runner_short_token(token, r->runner);
	free(r->runner_name);
	r->runner_name = xstrdup(name ? name : "");
}

void metrics_runner_release(struct metrics_runner *r)
{
	size_t i;

	free(r->runner_name);
	free(r->statuses);
	for (i = 0; i < r->nr_stages; i++)
		free(r->stages[i].stage);
	free(r->stages);
	memset(r, 0, sizeof(*r));
}

void metrics_runner_count_status(struct metrics_runner *r,
				 enum metrics_endpoint ep, long status)
{
	struct metrics_status_count *s;
	size_t i;

	if (status <= 0)
		return;	/* no HTTP answer: gitlab-runner does not count it */
	for (i = 0; i < r->nr_statuses; i++) {
		s = &r->statuses[i];
		if (s->endpoint == ep && s->status == status) {
			s->count++;
			return;
		}
	}
	if (r->nr_statuses == r->alloc_statuses) {
		r->alloc_statuses = r->alloc_statuses ? 2 * r->alloc_statuses : 8;
		r->statuses = xreallocarray(r->statuses, r->alloc_statuses,
					    sizeof(*r->statuses));
	}
	s = &r->statuses[r->nr_statuses++];
	s->endpoint = ep;
	s->status = status;
	s->count = 1;
}

void metrics_runner_job_started(struct metrics_runner *r)
{
	r->has_jobs = true;
	r->jobs_total++;
}

void metrics_runner_job_finished(struct metrics_runner *r, double seconds)
{
	r->has_jobs = true;
	metrics_histogram_observe(&r->job_duration, seconds < 0 ? 0 : seconds);
}

void metrics_runner_stage_finished(struct metrics_runner *r,
				   const char *stage, double seconds)
{
	struct metrics_stage_duration *d = NULL;
	size_t i;

	for (i = 0; i < r->nr_stages && !d; i++)
		if (!strcmp(r->stages[i].stage, stage))
			d = &r->stages[i];
	if (!d) {
		if (r->nr_stages == r->alloc_stages) {
			r->alloc_stages = r->alloc_stages ?
				2 * r->alloc_stages : 8;
			r->stages = xreallocarray(r->stages, r->alloc_stages,
						  sizeof(*r->stages));
		}
		d = &r->stages[r->nr_stages++];
		memset(d, 0, sizeof(*d));
		d->stage = xstrdup(stage);
	}
	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < METRICS_STAGE_DURATION_BUCKETS; i++)
		if (seconds <= metrics_stage_duration_bounds[i]) {
			d->buckets[i]++;
			break;
		}
	d->count++;
	d->sum += seconds;
}

/* ---- text helpers ---- */

void metrics_format_value(struct buf *out, double v)
{
	char tmp[400];
	int prec, exp;

	if (isnan(v)) {
		buf_addstr(out, "NaN");
		return;
	}
	if (isinf(v)) {
		buf_addstr(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/*
	 * Go's 'g' with precision -1: the fewest significant digits that
	 * read back exactly, in %e form when the exponent is < -4 or >= 6
	 * (Go decides with precision 6 when asked for the shortest form).
	 */
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	exp = (int)strtol(strchr(tmp, 'e') + 1, NULL, 10);
	if (exp >= -4 && exp < 6)
		snprintf(tmp, sizeof(tmp), "%.*f",
			 prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
	buf_addstr(out, tmp);
}

void metrics_escape_label(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '\\':
			buf_addstr(out, "\\\\");
			break;
		case '"':
			buf_addstr(out, "\\\"");
			break;
		case '\n':
			buf_addstr(out, "\\n");
			break;
		default:
			buf_addch(out, *s);
		}
	}
}

static void add_header(struct buf *out, const char *name, const char *type,
		       const char *help)
{
	buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label pairs: NULL-terminated name, value, name, value... */
static void add_labels(struct buf *out, const char *const *pairs)
{
	size_t i;

	if (!pairs || !pairs[0])
		return;
	buf_addch(out, '{');
	for (i = 0; pairs[i]; i += 2) {
		buf_addf(out, "%s%s=\"", i ? "," : "", pairs[i]);
		metrics_escape_label(out, pairs[i + 1]);
		buf_addch(out, '"');
	}
	buf_addch(out, '}');
}

static void add_sample_line(struct strvec *lines, const char *name,
			    const char *const *pairs, double v)
{
	struct buf line = BUF_INIT;

	buf_addstr(&line, name);
	add_labels(&line, pairs);
	buf_addch(&line, ' ');
	metrics_format_value(&line, v);
	buf_addch(&line, '\n');
	strvec_push_nodup(lines, buf_detach(&line, NULL));
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes the header and the sorted lines; nothing when there are none. */
static void flush_family(struct buf *out, struct strvec *lines,
			 const char *name, const char *type, const char *help)
{
	size_t i;

	if (lines->nr) {
		qsort(lines->v, lines->nr, sizeof(*lines->v), cmp_lines);
		add_header(out, name, type, help);
		for (i = 0; i < lines->nr; i++)
			buf_addstr(out, lines->v[i]);
	}
	strvec_clear(lines);
}

/* ---- families, in name order ---- */

static void family_api_statuses(struct buf *out,
				const struct metrics_source *src)
{
	static const char name[] = "gitlab_runner_api_request_statuses_total";
	struct strvec lines = STRVEC_INIT;
	char status[24];
	size_t i, j;

	for (i = 0; i < src->nr_runners; i++) {
		const struct metrics_runner *r = src->runners[i];

		for (j = 0; j < r->nr_statuses; j++) {
			const struct metrics_status_count *s = &r->statuses[j];
			const char *pairs[] = {
				"endpoint", endpoint_names[s->endpoint],
				"runner", r->runner, "status", status,
				"system_id", src->system_id, NULL,
			};

			snprintf(status, sizeof(status), "%ld", s->status);
			add_sample_line(&lines, name, pairs, (double)s->count);
		}
	}
	flush_family(out, &lines, name, "counter",
		     "The total number of api requests, partitioned by runner, system_id, endpoint and status.");
}

static void family_concurrent(struct buf *out,
			      const struct metrics_source *src)
{
	static const char name[] = "gitlab_runner_concurrent";
	struct strvec lines = STRVEC_INIT;

	add_sample_line(&lines, name, NULL, src->concurrent);
	flush_family(out, &lines, name, "gauge",
		     "The current value of concurrent setting");
}

static void family_errors(struct buf *out, const struct metrics_source *src)
{
	static const char name[] = "gitlab_runner_errors_total";
	struct strvec lines = STRVEC_INIT;
	size_t i;

	for (i = 0; i < METRICS_NR_LEVELS; i++) {
		const char *pairs[] = { "level", level_names[i], NULL };

		add_sample_line(&lines, name, pairs,
				src->global ? (double)__atomic_load_n(
					&src->global->errors[i], __ATOMIC_RELAXED) : 0);
	}
	flush_family(out, &lines, name, "counter",
		     "The number of caught errors.");
}

static int cmp_runner_labels(const void *a, const void *b)
{
	const struct metrics_runner *x = *(const struct metrics_runner *const *)a;
	const struct metrics_runner *y = *(const struct metrics_runner *const *)b;
	int c = strcmp(x->runner, y->runner);

	return c ? c : strcmp(x->runner_name, y->runner_name);
}

static void family_job_duration(struct buf *out,
				const struct metrics_source *src)
{
	static const char name[] = "gitlab_runner_job_duration_seconds";
	const struct metrics_runner **sorted;
	size_t i, j, n = 0;

	sorted = xcalloc(src->nr_runners + 1, sizeof(*sorted));
	for (i = 0; i < src->nr_runners; i++)
		if (src->runners[i]->has_jobs)
			sorted[n++] = src->runners[i];
	qsort(sorted, n, sizeof(*sorted), cmp_runner_labels);
	if (n)
		add_header(out, name, "histogram", "Histogram of job durations");
	for (i = 0; i < n; i++) {
		const struct metrics_runner *r = sorted[i];
		const struct metrics_histogram *h = &r->job_duration;
		uint64_t cumulative = 0;
		struct buf labels = BUF_INIT;

		buf_addf(&labels, "runner=\"");
		metrics_escape_label(&labels, r->runner);
		buf_addstr(&labels, "\",runner_name=\"");
		metrics_escape_label(&labels, r->runner_name);
		buf_addstr(&labels, "\",system_id=\"");
		metrics_escape_label(&labels, src->system_id);
		buf_addch(&labels, '"');
		for (j = 0; j < METRICS_JOB_DURATION_BUCKETS; j++) {
			cumulative += h->buckets[j];
			buf_addf(out, "%s_bucket{%s,le=\"", name, labels.data);
			metrics_format_value(out, metrics_job_duration_bounds[j]);
			buf_addf(out, "\"} %llu\n", (unsigned long long)cumulative);
		}
		buf_addf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name,
			 labels.data, (unsigned long long)h->count);
		buf_addf(out, "%s_sum{%s} ", name, labels.data);
		metrics_format_value(out, h->sum);
		buf_addf(out, "\n%s_count{%s} %llu\n", name, labels.data,
			 (unsigned long long)h->count);
		buf_release(&labels);
	}
	free(sorted);
}

/* One histogram's lines; labels are the series' pairs, already written. */
static void add_histogram(struct buf *out, const char *name,
			  const char *labels, const double *bounds,
			  const uint64_t *buckets, size_t n, uint64_t count,
			  double sum)
{
	uint64_t cumulative = 0;
	size_t j;

	for (j = 0; j < n; j++) {
		cumulative += buckets[j];
		buf_addf(out, "%s_bucket{%s,le=\"", name, labels);
		metrics_format_value(out, bounds[j]);
		buf_addf(out, "\"} %llu\n", (unsigned long long)cumulative);
	}
	buf_addf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
		 (unsigned long long)count);
	buf_addf(out, "%s_sum{%s} ", name, labels);
	metrics_format_value(out, sum);
	buf_addf(out, "\n%s_count{%s} %llu\n", name, labels,
		 (unsigned long long)count);
}

struct stage_series {
	const struct metrics_runner *runner;
	const struct metrics_stage_duration *d;
};

static int cmp_stage_series(const void *a, const void *b)
{
	const struct stage_series *x = a, *y = b;
	int c = strcmp(x->runner->runner, y->runner->runner);

	if (!c)
		c = strcmp(x->runner->runner_name, y->runner->runner_name);
	return c ? c : strcmp(x->d->stage, y->d->stage);
}

/*
 * gitlab_runner_job_stage_duration_seconds: only stages of jobs that had
 * FF_EXPORT_HIGH_CARDINALITY_METRICS on are observed; labels runner,
 * runner_name, stage, system_id, series in label order.
 */
static void family_job_stage_duration(struct buf *out,
				      const struct metrics_source *src)
{
	static const char name[] = "gitlab_runner_job_stage_duration_seconds";
	struct stage_series *series;
	size_t i, j, n = 0, total = 0;

	for (i = 0; i < src->nr_runners; i++)
		total += src->runners[i]->nr_stages;
	if (!total)
		return;
	series = xcalloc(total, sizeof(*series));
	for (i = 0; i < src->nr_runners; i++)
		for (j = 0; j < src->runners[i]->nr_stages; j++) {
			series[n].runner = src->runners[i];
			series[n++].d = &src->runners[i]->stages[j];
		}
	qsort(series, n, sizeof(*series), cmp_stage_series);
	add_header(out, name, "histogram", "Histogram of each job stage duration");
	for (i = 0; i < n; i++) {
		const struct metrics_stage_duration *d = series[i].d;
		struct buf labels = BUF_INIT;

		buf_addstr(&labels, "runner=\"");
		metrics_escape_label(&labels, series[i].runner->runner);
		buf_addstr(&labels, "\",runner_name=\"");
		metrics_escape_label(&labels, series[i].runner->runner_name);
		buf_addstr(&labels, "\",stage=\"");
		metrics_escape_label(&labels, d->stage);
		buf_addstr(&labels, "\",system_id=\"");
		metrics_escape_label(&labels, src->system_id);
		buf_addch(&labels, '"');
		add_histogram(out, name, labels.data,
			      metrics_stage_duration_bounds, d->buckets,
			      METRICS_STAGE_DURATION_BUCKETS, d->count, d->sum);
		buf_release(&labels);
	}
	free(series);
}

static void family_jobs(struct buf *out, const struct metrics_source *src)
{
	static const char name[] = "gitlab_runner_jobs";
	struct strvec lines = STRVEC_INIT;
	bool *counted = xcalloc(src->nr_jobs + 1, sizeof(*counted));
	size_t i, j;

	/* "idle" keeps every runner's series present, as gitlab-runner does. */
	for (i = 0; i < src->nr_runners; i++) {
		const struct metrics_runner *r = src->runners[i];
		const char *pairs[] = {
			"executor_stage", "idle", "runner", r->runner,
			"runner_name", r->runner_name, "stage", "idle",
			"state", "idle", "system_id", src->system_id, NULL,
		};

		add_sample_line(&lines, name, pairs, 0);
	}
	/* Jobs with the same labels make one sample. */
	for (i = 0; i < src->nr_jobs; i++) {
		const struct metrics_job *a = &src->jobs[i];
		unsigned n = 0;

		if (counted[i])
			continue;
		for (j = i; j < src->nr_jobs; j++) {
			const struct metrics_job *b = &src->jobs[j];

			if (!counted[j] && b->runner == a->runner &&
			    !strcmp(b->state, a->state) &&
			    !strcmp(b->stage, a->stage) &&
			    !strcmp(b->executor_stage, a->executor_stage)) {
				counted[j] = true;
				n++;
			}
		}
		{
			const char *pairs[] = {
				"executor_stage", a->executor_stage,
				"runner", a->runner->runner,
				"runner_name", a->runner->runner_name,
				"stage", a->stage, "state", a->state,
				"system_id", src->system_id, NULL,
			};

			add_sample_line(&lines, name, pairs, n);
		}
	}
	free(counted);
	flush_family(out, &lines, name, "gauge",
		     "The current number of running builds.");
}

/* A family with one sample per runner and the labels runner, runner_name,
 * system_id (with_name) or runner, system_id. */
static void per_runner_family(struct buf *out,
			      const struct metrics_source *src,
			      const char *name, const char *type,
			      const char *help, bool with_name,
			      bool (*value)(const struct metrics_runner *,
					    double *))
{
	struct strvec lines = STRVEC_INIT;
	double v;
	size_t i;

	for (i = 0; i < src->nr_runners; i++) {
		const struct metrics_runner *r = src->runners[i];
		const char *named[] = {
			"runner", r->runner, "runner_name", r->runner_name,
			"system_id", src->system_id, NULL,
		};
		const char *plain[] = {
			"runner", r->runner, "system_id", src->system_id, NULL,
		};

		if (value(r, &v))
			add_sample_line(&lines, name, with_name ? named : plain,
					v);
	}
	flush_family(out, &lines, name, type, help);
}

static bool v_jobs_total(const struct metrics_runner *r, double *v)
{
	*v = (double)r->jobs_total;
	return r->has_jobs;
}

static bool v_limit(const struct metrics_runner *r, double *v)
{
	*v = r->limit;
	return r->listed;
}

static bool v_requests(const struct metrics_runner *r, double *v)
{
	*v = r->requests;
	return true;
}

static bool v_adaptive(const struct metrics_runner *r, double *v)
{
	*v = r->adaptive_limit;
	return true;
}

static bool v_exceeded(const struct metrics_runner *r, double *v)
{
	*v = (double)r->requests_exceeded;
	return true;
}

static bool v_hard(const struct metrics_runner *r, double *v)
{
	*v = r->hard_limit;
	return true;
}

static bool v_used(const struct metrics_runner *r, double *v)
{
	*v = r->used_limit;
	return true;
}

static void family_version(struct buf *out)
{
	static const char name[] = "gitlab_runner_version_info";
	struct strvec lines = STRVEC_INIT;
	char arch[GL_ARCH_MAX];
	const char *pairs[] = {
		"architecture", gl_identity_arch(arch),
		"built_at", CR_BUILD_DATE, "name", "crunner", "os", "linux",
		"revision", CR_GIT_REVISION, "version", CR_VERSION, NULL,
	};

	add_sample_line(&lines, name, pairs, 1);
	flush_family(out, &lines, name, "gauge",
		     "A metric with a constant '1' value labeled by different build stats fields.");
}

int metrics_render(struct buf *out, const struct metrics_source *src)
{
	metrics_render_autoscalers(out, src);	/* fleeting_* sort first */
	family_api_statuses(out, src);
	family_concurrent(out, src);
	family_errors(out, src);
	family_job_duration(out, src);
	family_job_stage_duration(out, src);
	family_jobs(out, src);
	per_runner_family(out, src, "gitlab_runner_jobs_total", "counter",
			  "Total number of handled jobs", true, v_jobs_total);
	per_runner_family(out, src, "gitlab_runner_limit", "gauge",
			  "The current value of limit setting", true, v_limit);
	per_runner_family(out, src, "gitlab_runner_request_concurrency",
			  "gauge",
			  "The current number of concurrent requests for a new job",
			  false, v_requests);
	per_runner_family(out, src,
			  "gitlab_runner_request_concurrency_adaptive_limit",
			  "gauge", "Computed adaptive request concurrency limit",
			  false, v_adaptive);
	per_runner_family(out, src,
			  "gitlab_runner_request_concurrency_exceeded_total",
			  "counter",
			  "Count of excess requests above the configured request_concurrency limit",
			  false, v_exceeded);
	per_runner_family(out, src,
			  "gitlab_runner_request_concurrency_hard_limit",
			  "gauge", "Configured request_concurrency limit", false,
			  v_hard);
	per_runner_family(out, src,
			  "gitlab_runner_request_concurrency_used_limit",
			  "gauge", "Used request concurrency limit", false,
			  v_used);
	family_version(out);
	return 0;
}
