/*
 * What the local git repository says about the pipeline: commit, ref,
 * message, default branch, project path, changed files; and the
 * pipeline-level predefined variables made from it (GitLab's
 * doc/ci/variables/predefined_variables.md).
 *
 * Outside a git repository every field still has a value (sha of zeros,
 * ref "main", project named after the directory) and changed is NULL-ish
 * (has_git false): changes: rules then always hold, as GitLab does for
 * pipelines without a push.
 */
#ifndef CR_LOCAL_REPO_H
#define CR_LOCAL_REPO_H

#include <stdbool.h>

#include "local/pipeline.h"
#include "util/strvec.h"

struct local_repo {
	char *root;		/* absolute path of the working tree */
	bool has_git;
	char *sha, *short_sha, *before_sha;
	char *ref;		/* branch or tag name */
	bool is_tag;
	char *message, *title, *description;
	char *author, *timestamp;
	char *default_branch;
	char *project_name, *project_path, *namespace;
	/* Uncommitted changes (untracked included) and the last commit's. */
	struct strvec changed;
};

/* Reads root (a directory); never fails, see above. */
void local_repo_read(struct local_repo *r, const char *root);
void local_repo_release(struct local_repo *r);

/* Pipeline-level variables (CI, CI_COMMIT_*, CI_PROJECT_*...). */
void local_repo_predefined(const struct local_repo *r, const char *source,
			   long pipeline_id, struct pl_vars *out);

#endif
