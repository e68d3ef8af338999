/*
 * What `crunner exec` prints, in gitlab-ci-local's line types (the job
 * name padded to the longest name of the run, in a stable colour on a
 * terminal; escape sequences dropped otherwise):
 *   - "job $ command" for each script line the job runs;
 *   - "job > text" for what the job itself printed (its script and
 *     after_script);
 *   - "job text" for crunner's own lines: "job starting shell (stage)",
 *     "job finished in 41 ms" (with "  FAIL 1" or "  WARN 1" when it
 *     failed), "job imported artifacts in 3 ms", "job exported cache
 *     'key' in 2 ms", the warnings of those steps;
 *   - on a terminal, a live status line under the output;
 *   - a closing summary, one line per job: " PASS  job" (with
 *     "  78.46% coverage" when the job's coverage: regex matched),
 *     " WARN  job  pre_script" (failure allowed), " FAIL  job",
 *     " SKIP  job", " MANUAL  job";
 *   - `--report json`: every job's stage, status, exit code, duration.
 *
 * The caller does: output_init(); one struct output_lane per running job
 * (its trace consumer is output_lane_consumer()); output_lane_finish()
 * when the job ended; output_summary() at the end; output_release().
 */
#ifndef CR_LOCAL_OUTPUT_H
#define CR_LOCAL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "job/trace.h"
#include "util/buf.h"

struct dag;

struct coverage;

struct exec_output {
	FILE *f;
	bool tty;		/* colours and the status line */
	int name_width;		/* job names are padded to this */
	bool status_shown;
	struct buf status;
};

struct output_lane {
	struct exec_output *o;
	const char *name;	/* borrowed */
	int colour;
	struct buf partial;	/* the line not yet ended */
	char section[64];	/* the trace section the lines are in */
	uint64_t section_start_ms;
	char cache_key[256];	/* the cache being restored or saved */
	uint64_t cache_start_ms;
	struct coverage *coverage;	/* borrowed; NULL: none; fed every line */
};

void output_init(struct exec_output *o, FILE *f, bool tty);
void output_release(struct exec_output *o);

void output_lane_init(struct output_lane *l, struct exec_output *o,
		      const char *name);
struct trace_consumer output_lane_consumer(struct output_lane *l);
/* One line from crunner itself for this job ("job text"). */
void output_lane_note(struct output_lane *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints what is left of the last line; l can be reused after. */
void output_lane_finish(struct output_lane *l);

/* Replaces the live status line (terminal only). */
void output_status(struct exec_output *o, const char *text);

/* gitlab-ci-local's duration ("41 ms", "1.23 s", "2.08 min") into out. */
void output_duration(uint64_t ms, char *out, size_t size);

/* The job-status word the summary and the report use. */
const char *output_state_name(int state);

void output_summary(struct exec_output *o, const struct dag *d);
/* Writes the JSON report to path ("-" for standard output). */
int output_report_json(const struct dag *d, bool failed,
		       uint64_t duration_ms, const char *path,
		       struct buf *err);

#endif
