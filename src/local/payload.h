/*
 * The job payload of a local job: the JSON GitLab's POST jobs/request
 * would return for it (spec section 3), composed with jansson, so the
 * engine gets exactly what it gets in server mode.
 *
 * Sources: exec runs on the working tree as it is (uncommitted changes
 * included), or on a fresh clone of HEAD with --git-clone; either way the
 * engine never fetches: GIT_STRATEGY is none and CI_PROJECT_DIR is that
 * tree (project_dir), which every job shares, as with gitlab-ci-local's
 * default.
 *
 * Artifacts and caches are in the payload as GitLab's presenter makes
 * them (app/presenters/ci/build_runner_presenter.rb): `artifacts:` gives
 * one "archive" entry (zip) when it has paths or untracked, plus one
 * entry per `reports:` type with GitLab's format and file name and when
 * "always"; `cache:` (a mapping or a list) gives one entry each, key
 * "default" when not set, key:files/files_commits computed here
 * (local/cachekey.h).  dependencies[] lists what the caller found in the
 * local store (local/store.h) for the jobs local_payload_passes_artifacts()
 * accepts, so the engine downloads and extracts them.
 */
#ifndef CR_LOCAL_PAYLOAD_H
#define CR_LOCAL_PAYLOAD_H

#include "local/dag.h"
#include "local/repo.h"

struct buf;

/* A finished job whose artifacts this one receives. */
struct local_payload_dep {
	long id;		/* its payload id (the store's key) */
	const char *name;
	const char *filename;	/* its archive's name; NULL: no archive */
	long long size;
};

struct local_payload_options {
	long job_id, pipeline_id;
	const struct local_repo *repo;
	const struct pl_vars *predefined;	/* local_repo_predefined() */
	/*
	 * The dotenv reports of the jobs it receives artifacts from: after
	 * the job's own variables, before --variable (GitLab's order).
	 */
	const struct pl_vars *dotenv;
	const struct pl_vars *overrides;	/* --variable; win over all */
	const char *token;			/* the job token to send */
	const char *project_dir;	/* the tree jobs run in; NULL: repo root */
	const struct local_payload_dep *deps;
	size_t nr_deps;
};

/*
 * Whether j receives the artifacts of j->deps[k], as GitLab decides: the
 * `needs:` entries without artifacts: false (every job of an earlier stage
 * without needs:), of those only the ones `dependencies:` lists when set
 * (an empty list: none).
 */
bool local_payload_passes_artifacts(const struct dag *d,
				    const struct local_job *j, size_t k);

/*
 * Checks j's `artifacts:` and `cache:` before anything runs: err gets
 * "file:line:col: job 'x': ..." for what GitLab would refuse.
 */
int local_payload_check(const struct local_job *j, struct buf *err);

/* *json is a new NUL-terminated string the caller frees. */
int local_payload_compose(const struct local_job *j,
			  const struct local_payload_options *o, char **json,
			  struct buf *err);

#endif
