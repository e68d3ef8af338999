/*
 * A plugin process: started in its own process group (so the signals that
 * stop crunner's group do not kill it before Shutdown), its stderr -- and
 * its stdout once the handshake is read, for go-plugins -- copied line by
 * line into crunner's log, and stopped with a grace period followed by
 * SIGKILL to the whole group.
 */
#ifndef CR_AUTOSCALE_PLUGIN_PROC_H
#define CR_AUTOSCALE_PLUGIN_PROC_H

#include <poll.h>

#include "util/buf.h"
#include "util/proc.h"
#include "util/strvec.h"

struct plugin_proc {
	struct proc proc;
	char *name;		/* for log lines: the plugin's base name */
	int stdout_is_log;	/* after the handshake (go-plugin) */
	int stopping;		/* plugin_proc_stop() runs: exit expected */
	struct buf out_line, err_line;	/* partial lines */
	struct buf err_tail;	/* the last stderr bytes, for errors */
};

/*
 * Starts path with env ("NAME=value" strings, added to crunner's own
 * environment) and pipes on stdin, stdout and stderr.
 */
int plugin_proc_start(struct plugin_proc *pp, const char *path,
		      const struct strvec *env, struct buf *err);

/*
 * Reads the first line of stdout (without its newline) within timeout_ms,
 * logging stderr meanwhile.  On EOF, exit or timeout: CR_ERR_PROTOCOL or
 * CR_ERR_TIMEOUT with the plugin's last stderr in err.
 */
int plugin_proc_first_line(struct plugin_proc *pp, char **line,
			   int timeout_ms, struct buf *err);

/*
 * The log pipes to poll (stderr, and stdout when stdout_is_log): fills
 * fds, returns how many.  plugin_proc_drain() then reads what is ready.
 */
int plugin_proc_log_fds(const struct plugin_proc *pp, struct pollfd fds[2]);
void plugin_proc_drain(struct plugin_proc *pp);

/* 1 while the process runs; reaps it (and logs how it ended) otherwise. */
int plugin_proc_alive(struct plugin_proc *pp);

/* Appends "; plugin stderr: ..." (its last lines) to err when any. */
void plugin_proc_add_stderr(struct plugin_proc *pp, struct buf *err);

/*
 * Waits up to grace_ms for the process to exit, then SIGKILLs its group
 * and reaps it.  Returns 1 when it had to kill, 0 when it exited alone.
 * Releases everything; pp may be started again afterwards.
 */
int plugin_proc_stop(struct plugin_proc *pp, int grace_ms);

/* Logs one line of plugin output (hclog JSON or text) at its level. */
void plugin_log_line(const char *name, const char *line, size_t len);

#endif
