/*
 * Terminal output of crunner exec.  The engine's own preamble lines
 * (runner version, executor, "Skipping Git repository setup"...) say
 * nothing a local user needs, so they are left out; the job's commands
 * ("$ make") and their output are printed.  Which lines are the job's is
 * told by the trace's sections: step_* and after_script hold the user's
 * commands; the others (artifacts, caches) are crunner's, summed up in
 * one line each, as gitlab-ci-local does, with their warnings kept.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "local/coverage.h"
#include "local/dag.h"
#include "local/output.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define LANE_MAX_LINE ((size_t)1 << 20)

static const int palette[] = { 32, 33, 34, 35, 36, 92, 93, 94, 95, 96 };

static const char *const engine_noise[] = {
	"Running with crunner ", "  on ", "Preparing the \"",
	"Using Shell (", "Preparing environment", "Running on ",
	"Getting source from Git", "Skipping Git repository setup",
	"Executing \"step_script\"", "Executing \"step_", "Cleaning up ",
	"Job succeeded", "Job failed", "ERROR: Job failed", "Fetching changes",
	"Running after script...", "Running after_script",
	NULL,
};

/*
 * How a section's lines are shown: the job's, or crunner's summed up in
 * a note (at the section's end, or per cache key), warnings kept.
 */
static const struct section_kind {
	const char *prefix;	/* of the section's name */
	bool job;		/* the user's commands and their output */
	bool quiet;		/* only WARNING: and ERROR: lines shown */
	const char *summary;	/* printed at its end ("exported artifacts") */
} section_kinds[] = {
	{ "step_", true, false, NULL },
	{ "after_script", true, false, NULL },
	{ "download_artifacts", false, true, "imported artifacts" },
	{ "upload_artifacts", false, true, "exported artifacts" },
	{ "restore_cache", false, true, NULL },
	{ "archive_cache", false, true, NULL },
	{ NULL, false, false, NULL },
};

#define ANSI_COMMAND "\033[32;1m$ "

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const struct section_kind *section_kind(const char *name)
{
	size_t i;

	for (i = 0; name[0] && section_kinds[i].prefix; i++)
		if (!strncmp(name, section_kinds[i].prefix,
			     strlen(section_kinds[i].prefix)))
			return &section_kinds[i];
	return NULL;
}

/* Trailing zeros of a fixed-point number go, and a bare dot. */
static void trim_zeros(char *num)
{
	size_t len = strlen(num);

	if (!strchr(num, '.'))
		return;
	while (len && num[len - 1] == '0')
		num[--len] = 0;
	if (len && num[len - 1] == '.')
		num[--len] = 0;
}

void output_duration(uint64_t ms, char *out, size_t size)
{
	double v;
	const char *unit;
	char num[32];

	/* pretty-hrtime: the largest unit that is at least 1. */
	if (ms >= 3600000) {
		v = (double)ms / 3600000.0, unit = "h";
	} else if (ms >= 60000) {
		v = (double)(ms / 1000 % 3600) / 60.0, unit = "min";
	} else if (ms >= 1000) {
		v = (double)ms / 1000.0, unit = "s";
	} else {
		v = (double)ms, unit = "ms";
	}
	snprintf(num, sizeof(num), v >= 10 ? "%.0f" : "%.2f", v);
	trim_zeros(num);
	snprintf(out, size, "%s %s", num, unit);
}

void output_init(struct exec_output *o, FILE *f, bool tty)
{
	o->f = f;
	o->tty = tty;
	o->name_width = 0;
	o->status_shown = false;
	buf_init(&o->status, 0);
}

void output_release(struct exec_output *o)
{
	output_status(o, NULL);
	buf_release(&o->status);
}

static void clear_status(struct exec_output *o)
{
	if (o->tty && o->status_shown) {
		fputs("\r\033[2K", o->f);
		o->status_shown = false;
	}
}

static void draw_status(struct exec_output *o)
{
	if (o->tty && o->status.len) {
		fprintf(o->f, "\033[2m%s\033[0m", o->status.data);
		o->status_shown = true;
	}
	fflush(o->f);
}

void output_status(struct exec_output *o, const char *text)
{
	clear_status(o);
	buf_reset(&o->status);
	if (text)
		(void)buf_addstr(&o->status, text);
	draw_status(o);
}

void output_lane_init(struct output_lane *l, struct exec_output *o,
		      const char *name)
{
	unsigned h = 2166136261u;
	const char *p;

	l->o = o;
	l->name = name;
	for (p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	l->colour = palette[h % (sizeof(palette) / sizeof(palette[0]))];
	buf_init(&l->partial, 0);
	l->section[0] = 0;
	l->section_start_ms = 0;
	l->cache_key[0] = 0;
	l->cache_start_ms = 0;
	l->coverage = NULL;
}

/* Removes escape sequences (and keeps what follows the last \r). */
static void plain(const char *s, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\033') {
			if (i + 1 < len && s[i + 1] == '[') {
				i += 2;
				while (i < len && !((s[i] >= '@' && s[i] <= '~')))
					i++;
			}
			continue;
		}
		if (s[i] == '\r') {
			if (i + 1 < len)
				buf_reset(out);
			continue;
		}
		(void)buf_addch(out, s[i]);
	}
}

static bool is_noise(const char *text)
{
	size_t i;

	for (i = 0; engine_noise[i]; i++)
		if (!strncmp(text, engine_noise[i], strlen(engine_noise[i])))
			return true;
	return false;
}

enum line_type {
	LINE_COMMAND,	/* "job $ make" */
	LINE_OUTPUT,	/* "job > text" */
	LINE_RUNNER,	/* "job text" */
};

static void emit(struct output_lane *l, enum line_type type, const char *raw,
		 size_t raw_len, const char *text)
{
	struct exec_output *o = l->o;
	int width = o->name_width;

	clear_status(o);
	if (o->tty) {
		fprintf(o->f, "\033[%dm%-*s\033[0m ", l->colour, width, l->name);
		if (type == LINE_OUTPUT) {
			fputs("\033[2m>\033[0m ", o->f);
			fwrite(raw, 1, raw_len, o->f);
		} else if (type == LINE_COMMAND) {
			fprintf(o->f, "\033[32m%s", text);
		} else {
			fprintf(o->f, "\033[35m%s", text);
		}
		fputs("\033[0m\n", o->f);
	} else {
		fprintf(o->f, "%-*s %s%s\n", width, l->name,
			type == LINE_OUTPUT ? "> " : "", text);
	}
	draw_status(o);
}

/*
 * The next section marker in s[0..len) ("section_start:T:name\r"), from
 * *pos on; *pos then points past it.  A line may hold several (the end of
 * one stage and the start of the next).
 */
static bool section_marker(const char *s, size_t len, size_t *pos,
			   bool *start, char *name, size_t size)
{
	const char *end = s + len, *m, *p;
	size_t n = 0;

	while (*pos < len &&
	       (m = memmem(s + *pos, len - *pos, "section_", 8)) != NULL) {
		*pos = (size_t)(m - s) + 8;
		if ((size_t)(end - m) > 14 && !memcmp(m, "section_start:", 14))
			*start = true, p = m + 14;
		else if ((size_t)(end - m) > 12 && !memcmp(m, "section_end:", 12))
			*start = false, p = m + 12;
		else
			continue;
		p = memchr(p, ':', (size_t)(end - p));
		if (!p)
			continue;
		for (p++; p < end && *p != '\r' && *p != '[' && *p != '\033' &&
		     n + 1 < size; p++)
			name[n++] = *p;
		name[n] = 0;
		*pos = (size_t)(p - s);
		return true;
	}
	*pos = len;
	return false;
}

static void section_change(struct output_lane *l, bool start,
			   const char *name)
{
	const struct section_kind *k;
	char took[32];

	if (start) {
		snprintf(l->section, sizeof(l->section), "%s", name);
		l->section_start_ms = now_ms();
		return;
	}
	k = section_kind(l->section);
	if (k && k->summary) {
		output_duration(now_ms() - l->section_start_ms, took,
				sizeof(took));
		output_lane_note(l, "%s in %s", k->summary, took);
	}
	l->section[0] = 0;
}

/*
 * The cache steps' lines, "Checking cache for K..." then "Successfully
 * extracted cache", "Creating cache K..." then "Created cache", as
 * gitlab-ci-local's "imported cache 'K' in 3 ms".
 */
static void cache_line(struct output_lane *l, const char *text)
{
	static const char *const starts[] = { "Checking cache for ",
					      "Creating cache " };
	char took[32];
	size_t i, n;

	for (i = 0; i < 2; i++) {
		n = strlen(starts[i]);
		if (strncmp(text, starts[i], n))
			continue;
		snprintf(l->cache_key, sizeof(l->cache_key), "%s", text + n);
		n = strlen(l->cache_key);
		if (n >= 3 && !strcmp(l->cache_key + n - 3, "..."))
			l->cache_key[n - 3] = 0;
		l->cache_start_ms = now_ms();
		return;
	}
	if (!strcmp(text, "Successfully extracted cache") ||
	    !strcmp(text, "Created cache")) {
		output_duration(now_ms() - l->cache_start_ms, took,
				sizeof(took));
		output_lane_note(l, "%s cache '%s' in %s",
				 text[0] == 'S' ? "imported" : "exported",
				 l->cache_key, took);
	}
}

static void print_line(struct output_lane *l, const char *s, size_t len)
{
	const struct section_kind *k;
	struct buf text = BUF_INIT;
	char name[sizeof(l->section)];
	size_t pos = 0;
	bool start;

	while (section_marker(s, len, &pos, &start, name, sizeof(name)))
		section_change(l, start, name);
	plain(s, len, &text);
	if (l->coverage)
		coverage_feed(l->coverage, text.data, text.len);
	if (is_noise(text.data) || !text.len)
		goto out;
	k = section_kind(l->section);
	if (k && k->job) {
		if (len >= strlen(ANSI_COMMAND) &&
		    !memcmp(s, ANSI_COMMAND, strlen(ANSI_COMMAND)))
			emit(l, LINE_COMMAND, s, len, text.data);
		else
			emit(l, LINE_OUTPUT, s, len, text.data);
	} else if (!k || !k->quiet || !strncmp(text.data, "WARNING:", 8) ||
		   !strncmp(text.data, "ERROR:", 6)) {
		emit(l, LINE_RUNNER, s, len, text.data);
	} else {
		cache_line(l, text.data);
	}
out:
	buf_release(&text);
}

static int lane_write(void *ctx, const char *data, size_t len)
{
	struct output_lane *l = ctx;
	const char *nl;

	while (len && (nl = memchr(data, '\n', len))) {
		size_t n = (size_t)(nl - data);

		if (l->partial.len) {
			(void)buf_add(&l->partial, data, n);
			print_line(l, l->partial.data, l->partial.len);
			buf_reset(&l->partial);
		} else {
			print_line(l, data, n);
		}
		len -= n + 1;
		data = nl + 1;
	}
	if (len) {
		if (l->partial.len + len > LANE_MAX_LINE) {
			print_line(l, l->partial.data, l->partial.len);
			buf_reset(&l->partial);
		}
		(void)buf_add(&l->partial, data, len);
	}
	return 0;
}

struct trace_consumer output_lane_consumer(struct output_lane *l)
{
	struct trace_consumer c = { lane_write, l };

	return c;
}

void output_lane_note(struct output_lane *l, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vaddf(&b, fmt, ap);
	va_end(ap);
	emit(l, LINE_RUNNER, b.data, b.len, b.data);
	buf_release(&b);
}

void output_lane_finish(struct output_lane *l)
{
	if (l->partial.len)
		print_line(l, l->partial.data, l->partial.len);
	buf_release(&l->partial);
}

const char *output_state_name(int state)
{
	switch ((enum lj_state)state) {
	case LJ_PENDING: return "pending";
	case LJ_RUNNING: return "running";
	case LJ_SUCCESS: return "success";
	case LJ_WARNED: return "warning";
	case LJ_FAILED: return "failed";
	case LJ_SKIPPED: return "skipped";
	case LJ_MANUAL: return "manual";
	case LJ_CANCELED: return "canceled";
	}
	return "unknown";
}

void output_summary(struct exec_output *o, const struct dag *d)
{
	size_t i;

	clear_status(o);
	buf_reset(&o->status);
	fputc('\n', o->f);
	for (i = 0; i < d->nr; i++) {
		const struct local_job *j = &d->jobs[i];
		const char *word, *extra = "";
		int colour;

		switch (j->state) {
		case LJ_SUCCESS:
			word = " PASS ", colour = 42;
			break;
		case LJ_WARNED:
			/* gitlab-ci-local's "pre_script", or the stage that
			 * failed before the script could run. */
			word = " WARN ", colour = 43;
			extra = j->failure_stage[0] ? j->failure_stage :
				"pre_script";
			break;
		case LJ_FAILED:
			word = " FAIL ", colour = 41;
			break;
		case LJ_MANUAL:
			word = " MANUAL ", colour = 100;
			break;
		case LJ_CANCELED:
			word = " CANCEL ", colour = 41;
			break;
		default:
			word = " SKIP ", colour = 100;
			if (j->trigger)
				extra = "trigger job: not run locally (its downstream pipeline needs GitLab)";
			break;
		}
		if (o->tty)
			fprintf(o->f, "\033[%d;30m%s\033[0m %s\033[2m%s%s\033[0m",
				colour, word, j->name, *extra ? "  " : "",
				extra);
		else
			fprintf(o->f, "%s %s%s%s", word, j->name,
				*extra ? "  " : "", extra);
		if (j->state == LJ_SUCCESS && j->coverage[0])
			fprintf(o->f, o->tty ? "  %s%%\033[2m coverage\033[0m" :
				"  %s%% coverage", j->coverage);
		fputc('\n', o->f);
	}
	fflush(o->f);
}

int output_report_json(const struct dag *d, bool failed,
		       uint64_t duration_ms, const char *path,
		       struct buf *err)
{
	json_t *root = json_object(), *jobs = json_array();
	size_t i;
	int r = 0;

	json_object_set_new(root, "status",
			    json_string(failed ? "failed" : "success"));
	json_object_set_new(root, "duration_ms",
			    json_integer((json_int_t)duration_ms));
	for (i = 0; i < d->nr; i++) {
		const struct local_job *j = &d->jobs[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(j->name));
		json_object_set_new(o, "stage", json_string(j->def->stage));
		json_object_set_new(o, "status",
				    json_string(output_state_name(j->state)));
		json_object_set_new(o, "when", json_string(j->when));
		json_object_set_new(o, "allow_failure",
				    json_boolean(j->allow_failure));
		if (j->state == LJ_SUCCESS || j->state == LJ_WARNED ||
		    j->state == LJ_FAILED)
			json_object_set_new(o, "exit_code",
					    json_integer(j->exit_code));
		else
			json_object_set_new(o, "exit_code", json_null());
		json_object_set_new(o, "failure_reason",
				    j->failure_reason[0] ?
				    json_string(j->failure_reason) : json_null());
		json_object_set_new(o, "coverage", j->coverage[0] ?
				    json_string(j->coverage) : json_null());
		json_object_set_new(o, "attempts", json_integer(j->attempts));
		json_object_set_new(o, "duration_ms",
				    json_integer((json_int_t)j->duration_ms));
		json_array_append_new(jobs, o);
	}
	json_object_set_new(root, "jobs", jobs);
	if (!strcmp(path, "-")) {
		if (json_dumpf(root, stdout, JSON_INDENT(2)) != 0)
			r = CR_ERR_IO;
		fputc('\n', stdout);
	} else if (json_dump_file(root, path, JSON_INDENT(2)) != 0) {
		r = CR_ERR_IO;
	}
	if (r)
		buf_seterr(err, "cannot write the report to '%s': %s", path,
			   strerror(errno));
	json_decref(root);
	return r;
}
