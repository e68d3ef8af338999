/*
 * The job payload of a local job: the JSON GitLab's POST jobs/request
 * would return for it (spec section 3), composed with jansson, so the
 * engine gets exactly what it gets in server mode.
 *
 * Sources: exec runs on the working tree as it is (uncommitted changes
 * included), never a clone: GIT_STRATEGY is none and CI_PROJECT_DIR is
 * the working tree.  Artifacts and caches are not in the payload (jobs
 * share the working tree, so files one job writes are there for later
 * ones, as with gitlab-ci-local's default).
 */
#ifndef CR_LOCAL_PAYLOAD_H
#define CR_LOCAL_PAYLOAD_H

#include "local/dag.h"
#include "local/repo.h"

struct buf;

struct local_payload_options {
	long job_id, pipeline_id;
	const struct local_repo *repo;
	const struct pl_vars *predefined;	/* local_repo_predefined() */
	const struct pl_vars *overrides;	/* --variable; win over all */
	const char *token;			/* the job token to send */
};

/* *json is a new NUL-terminated string the caller frees. */
int local_payload_compose(const struct local_job *j,
			  const struct local_payload_options *o, char **json,
			  struct buf *err);

#endif
