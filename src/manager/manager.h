/*
 * The manager: `crunner run`.  One thread, one event loop (util/loop.h)
 * that asks GitLab for jobs for every [[runners]] entry of config.toml,
 * runs them (gitlab/remote_job.h) and serves the metrics, as
 * gitlab-runner's multi-runner does:
 *
 *  - concurrent (global) bounds job requests in flight plus running jobs;
 *    limit (per entry, 0: none) bounds the same per entry, and
 *    request_concurrency (per entry, adaptive) the requests in flight;
 *  - entries are fed one at a time, check_interval / number_of_entries
 *    apart; an entry that just got a job asks again at once;
 *  - everything is asynchronous: a coordinator that hangs only holds the
 *    request slots of its own entry;
 *  - 403 answers count as unhealthy: after unhealthy_requests_limit in a
 *    row the entry is left alone for unhealthy_interval; other failures
 *    back off with jitter;
 *  - tokens with an expiry are rotated at 75% of their lifetime and
 *    config.toml is rewritten;
 *  - SIGQUIT: no new jobs, running ones finish (at most shutdown_timeout,
 *    then they are aborted); SIGTERM/SIGINT: running jobs are aborted and
 *    reported runner_interrupted, their final updates awaited (at most
 *    shutdown_timeout); a second SIGTERM/SIGINT exits at once;
 *  - SIGHUP or a changed config.toml reloads it without touching running
 *    jobs; a config that does not load is reported and the old one kept.
 *
 * The caller (src/cli/run.c) does:
 *  1. loads config.toml (cli_load_config) and fills manager_options;
 *  2. manager_new(): takes the config, binds the metrics listener;
 *  3. manager_run(): until shut down; returns the process exit code;
 *  4. manager_free().
 */
#ifndef CR_MANAGER_H
#define CR_MANAGER_H

#include <stdbool.h>

struct buf;
struct config;
struct manager;

struct manager_options {
	/* --listen-address; NULL: config.toml's listen_address. */
	const char *listen_address;
	/* --user: written into every loaded config as the global user. */
	const char *user;
	/* The log level / format the command line gave (enum log_level,
	 * enum log_format), or -1: config.toml's log_level / log_format
	 * apply only where these are -1. */
	int cli_log_level;
	int cli_log_format;
	/* First interval between trace updates; 0: the default (tests). */
	long trace_interval_ms;
	/* How often config.toml's mtime is checked; 0: 3 s. */
	long reload_interval_ms;
};

/*
 * Takes cfg (moved out: cfg is left empty).  Returns 0, or a negative
 * CR_ERR_* with one sentence in err (the metrics address cannot be
 * bound, say); nothing is left to free then.
 */
int manager_new(const struct manager_options *opts, struct config *cfg,
		struct manager **out, struct buf *err);

/* Runs until shutdown; returns 0, or 1 when jobs had to be dropped. */
int manager_run(struct manager *m);

void manager_free(struct manager *m);

#endif
