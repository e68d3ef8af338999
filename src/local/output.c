/*
 * Terminal output of crunner exec.  The engine's own preamble lines
 * (runner version, executor, "Skipping Git repository setup"...) say
 * nothing a local user needs, so they are left out; the job's commands
 * ("$ make") and their output are printed.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
	"Job succeeded", "Job failed", "Fetching changes",
	NULL,
};

void output_init(struct exec_output *o, FILE *f, bool tty)
{
	o->f = f;
	o->tty = tty;
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

static void print_line(struct output_lane *l, const char *s, size_t len)
{
	struct exec_output *o = l->o;
	struct buf text = BUF_INIT;

	plain(s, len, &text);
	if (is_noise(text.data) || !text.len) {
		buf_release(&text);
		return;
	}
	clear_status(o);
	if (o->tty) {
		fprintf(o->f, "\033[%dm%s\033[0m \033[2m>\033[0m ", l->colour,
			l->name);
		fwrite(s, 1, len, o->f);
		fputs("\033[0m\n", o->f);
	} else {
		fprintf(o->f, "%s > %s\n", l->name, text.data);
	}
	buf_release(&text);
	draw_status(o);
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
	print_line(l, b.data, b.len);
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
			word = " WARN ", colour = 43, extra = "  pre_script";
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
				extra = "  trigger job: not run locally (its downstream pipeline needs GitLab)";
			break;
		}
		if (o->tty)
			fprintf(o->f, "\033[%d;30m%s\033[0m %s\033[2m%s\033[0m\n",
				colour, word, j->name, extra);
		else
			fprintf(o->f, "%s %s%s\n", word, j->name, extra);
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
