/*
 * One custom executor driver program on the event loop: a child_run
 * (child_run.h: process group, deadline, gitlab-runner's two-step kill
 * with graceful_kill_timeout and force_kill_timeout) whose output goes to
 * the job log, into memory (config_exec's JSON) or to crunner's log.
 */
#include <string.h>

#include "executor/custom_int.h"
#include "util/log.h"
#include "util/banned.h"

/* A cleanup_exec log line is cut at this length. */
#define LOG_LINE_MAX 4096

static void deliver(void *ctx, int is_stderr, const char *data, size_t len);
static void on_child_done(struct child_run *child, void *ctx);

void custom_run_init(struct custom_run *run)
{
	memset(run, 0, sizeof(*run));
	child_run_init(&run->child);
	run->child.on_output = deliver;
	run->child.output_ctx = run;
	run->child.on_done = on_child_done;
	run->child.ctx = run;
	buf_init(&run->captured, CUSTOM_MAX_CONFIG_OUTPUT);
	buf_init(&run->line[0], 0);
	buf_init(&run->line[1], 0);
}

static void flush_log_line(struct custom_run *run, int is_stderr)
{
	struct buf *line = &run->line[is_stderr];

	if (!line->len)
		return;
	if (is_stderr)
		log_warn("%s stderr: %s", run->child.what, line->data);
	else
		log_debug("%s stdout: %s", run->child.what, line->data);
	buf_reset(line);
}

static void log_output(struct custom_run *run, int is_stderr, const char *data,
		       size_t len)
{
	struct buf *line = &run->line[is_stderr];
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			flush_log_line(run, is_stderr);
			continue;
		}
		if (data[i] != '\r' && data[i] != '\0')
			(void)buf_addch(line, data[i]);
		if (line->len >= LOG_LINE_MAX)
			flush_log_line(run, is_stderr);
	}
}

static void deliver(void *ctx, int is_stderr, const char *data, size_t len)
{
	struct custom_run *run = ctx;
	enum custom_output mode = is_stderr ? run->err_mode : run->out_mode;

	switch (mode) {
	case CUSTOM_OUTPUT_TRACE:
		if (run->on_output)
			run->on_output(run->output_ctx, is_stderr, data, len);
		break;
	case CUSTOM_OUTPUT_CAPTURE:
		if (run->captured_overflow)
			break;
		if (buf_add(&run->captured, data, len) != 0)
			run->captured_overflow = 1;
		break;
	case CUSTOM_OUTPUT_LOG:
		log_output(run, is_stderr, data, len);
		break;
	}
}

static void on_child_done(struct child_run *child, void *ctx)
{
	struct custom_run *run = ctx;

	(void)child;
	flush_log_line(run, 0);
	flush_log_line(run, 1);
	if (run->on_done)
		run->on_done(run, run->ctx);	/* may release run */
}

int custom_run_start(struct custom_run *run, struct buf *err)
{
	return child_run_start(&run->child, err);
}

void custom_run_stop(struct custom_run *run, int reason)
{
	child_run_stop(&run->child, reason);
}

void custom_run_release(struct custom_run *run)
{
	child_run_release(&run->child);
	flush_log_line(run, 0);
	flush_log_line(run, 1);
	buf_release(&run->captured);
	buf_release(&run->line[0]);
	buf_release(&run->line[1]);
}
