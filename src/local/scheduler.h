/*
 * Runs a local pipeline's jobs on one loop, as many at once as the DAG
 * and --concurrency allow, each through the job engine with a composed
 * GitLab payload.
 *
 * Per job, when everything it depends on has finished:
 *   on_success  runs unless one of them failed (a needed job that was
 *               skipped or left manual also stops it);
 *   on_failure  runs only if one of them failed;
 *   always      runs;
 *   manual      runs when asked for (--manual, or named on the command
 *               line), else stays manual; one that may not fail (rules:
 *               when: manual) then blocks: what depends on it is skipped.
 * A failed job is retried per retry: (max, when, exit_codes); then it
 * counts as a warning when allow_failure (true, or its exit_codes) says
 * so.  SIGINT/SIGTERM: interruptible jobs (the job's keyword, or its
 * matching rule's) are canceled at once, others
 * finish, nothing new starts; a second signal aborts everything.
 *
 * Jobs run in the working tree itself, or in the --git-clone copy (see
 * local/payload.h): the engine's project dir for each concurrency slot is
 * a symbolic link to that tree, under a builds dir kept from one run to
 * the next in cache_dir (builds/<tree name>-<hash of its path>, flock()ed
 * for the run), or, when there is no cache_dir or another run holds it, a
 * temporary one removed at the end.  The builds dir holds the run's
 * artifact store (local/store.h, <builds>/artifacts, removed at the end):
 * each job uploads what its `artifacts:` says and receives, as
 * dependencies[], the archives of the finished jobs GitLab would pass it;
 * the engine extracts them into the tree.  Caches go to cache_dir too.
 * With shell_isolation, a shell job's slot links to its own copy of the
 * tree instead, made afresh when it starts.
 */
#ifndef CR_LOCAL_SCHEDULER_H
#define CR_LOCAL_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

#include "local/dag.h"
#include "local/output.h"
#include "local/repo.h"

struct buf;

struct scheduler_options {
	int concurrency;
	/*
	 * The executor of every job ("shell", "docker", ...); NULL: shell,
	 * and docker for the jobs with image: when a Docker engine answers.
	 */
	const char *executor;
	const struct local_repo *repo;
	const struct pl_vars *predefined;
	const struct pl_vars *overrides;
	long pipeline_id;
	struct exec_output *out;
	const char *project_dir;	/* the tree jobs run in; NULL: repo root */
	const char *cache_dir;		/* absolute; NULL: the engine's default
					 * and a temporary builds dir */
	/*
	 * --shell-isolation: each shell job in its own copy of the tree
	 * (local/isolate.h) under <builds>/isolated/, removed at the end;
	 * isolate_files lists what to copy (NULL: everything but .git).
	 */
	bool shell_isolation;
	const struct strvec *isolate_files;
};

/*
 * Runs the jobs of d (their state fields are filled in).  Returns 0 with
 * *failed set when the pipeline failed, or a negative CR_ERR_* with err
 * when it could not run at all.
 */
int scheduler_run(const struct scheduler_options *o, struct dag *d,
		  bool *failed, uint64_t *duration_ms, struct buf *err);

#endif
