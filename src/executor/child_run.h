/*
 * One program run on the event loop, as the shell, ssh and custom
 * executors run theirs: started in its own process group, stdin
 * /dev/null, stdout and stderr read without blocking and handed to
 * on_output, gitlab-runner's two-step kill (SIGTERM to the group, SIGKILL
 * after grace_ms, and with force_ms, given up that long after SIGKILL).
 *
 * The program is over when it was reaped and both pipes reached end of
 * file.  Once it exited, whatever it left in its process group is killed
 * (a background job would hold the pipes open for ever, and gitlab-runner
 * kills the group at that point too); a process that escaped the group but
 * holds the pipes gets drain_ms.
 *
 * The caller does:
 *  1. child_run_init(&run); fills run.proc.args (env, dir, user...) and the
 *     fields under "set by the caller";
 *  2. child_run_start(): returns 0 and on_done follows once, from the loop
 *     (never from inside child_run_start);
 *  3. may call child_run_stop(), any number of times;
 *  4. in on_done reads the results and run.proc (exited, exit_status,
 *     status), then calls child_run_release() (or later: the pipes and
 *     timers are already let go of).
 * child_run_release() on a running program kills it at once, without
 * on_done.  After release, child_run_init() makes it ready for another run.
 */
#ifndef CR_EXECUTOR_CHILD_RUN_H
#define CR_EXECUTOR_CHILD_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/proc.h"

struct buf;
struct loop;
struct child_run;

typedef void (*child_run_output_cb)(void *ctx, int is_stderr,
				    const char *data, size_t len);
typedef void (*child_run_done_cb)(struct child_run *run, void *ctx);

struct child_run {
	/* Set by the caller. */
	struct loop *loop;
	const char *what;		/* "'bash'": "cannot watch the %s process" */
	struct proc proc;
	long timeout_ms;		/* its own deadline; 0: none */
	long grace_ms;			/* SIGTERM, then SIGKILL after this */
	long force_ms;			/* then given up after this; 0: never */
	long drain_ms;			/* after exit, for pipes held open */
	bool big_reads;			/* a 64 KiB read buffer once output is busy */
	child_run_output_cb on_output;	/* may be NULL: output dropped */
	void *output_ctx;
	child_run_done_cb on_done;
	void *ctx;

	/* Results, for on_done. */
	int timed_out;			/* timeout_ms passed */
	int abandoned;			/* would not die: never reaped */
	int reason;			/* child_run_stop()'s first non-zero reason */

	/* Private. */
	int running, child_done, term_sent;
	uint64_t deadline_timer, grace_timer, force_timer, drain_timer;
	char *big_rbuf;
	char rbuf[16384];
};

void child_run_init(struct child_run *run);

/*
 * Starts run->proc in a new process group with stdin /dev/null and both
 * outputs piped, and watches it.  Returns 0, or a CR_ERR_* with one
 * sentence in err; on failure nothing is left running or watched.
 */
int child_run_start(struct child_run *run, struct buf *err);

/*
 * SIGTERM to the group (once), SIGKILL after grace_ms; when the program
 * already exited and only pipes held open by stragglers are waited for,
 * SIGKILL to the group and on_done at once.  The first non-zero reason is
 * kept in run->reason.
 */
void child_run_stop(struct child_run *run, int reason);

/* Whether the program runs (started, on_done not called yet). */
static inline bool child_run_running(const struct child_run *run)
{
	return run->running != 0;
}

void child_run_release(struct child_run *run);

#endif
