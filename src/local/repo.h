/*
 * What the local git repository says about the pipeline: commit, ref,
 * message, default branch, project path, changed files; and the
 * pipeline-level predefined variables made from it (GitLab's
 * doc/ci/variables/predefined_variables.md).
 *
 * Outside a git repository every field still has a value (sha of zeros,
 * ref "main", project named after the directory) and the changed files
 * are NULL (has_git false): changes: rules then always hold, as GitLab
 * does for pipelines without a push.
 *
 * The changed files are read on first use only (most pipelines have no
 * changes: rule, and git status is the slowest of the git calls).
 */
#ifndef CR_LOCAL_REPO_H
#define CR_LOCAL_REPO_H

#include <stdbool.h>

#include "local/pipeline.h"
#include "util/strvec.h"

struct buf;

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
	char *origin_url;	/* remote.origin.url; NULL when there is none */
	/* git config user.name and user.email ("" when not set). */
	char *user_name, *user_email;
	/* Private: see local_repo_changed() and local_repo_changed_since(). */
	struct strvec changed, untracked, files;
	bool status_read, changed_read, files_read, files_ok;
	struct local_repo_since {
		char *ref;
		struct strvec paths;
	} *since;
	size_t nr_since;
};

/* Reads root (a directory); never fails, see above. */
void local_repo_read(struct local_repo *r, const char *root);
void local_repo_release(struct local_repo *r);

/*
 * The project's files, for exists: globs: tracked ones and untracked ones
 * git does not ignore (GitLab looks at the repository's files, not at
 * build outputs), relative to root; read once.  NULL outside a git
 * repository, or when git cannot say: the caller walks the tree then.
 */
const struct strvec *local_repo_files(struct local_repo *r);

/*
 * The files a changes: rule looks at: uncommitted changes (untracked
 * included) and the last commit's.  NULL outside a git repository.  The
 * list belongs to r.
 */
const struct strvec *local_repo_changed(struct local_repo *r);

/*
 * changes:compare_to: the files that differ between the merge base of ref
 * and HEAD and the working tree, untracked ones included (GitLab diffs the
 * merge base against the pipeline's commit; exec runs the tree as it is).
 * *out belongs to r (NULL outside a git repository: changes then always
 * hold).  CR_ERR_INVALID with err when ref names no commit.
 */
int local_repo_changed_since(struct local_repo *r, const char *ref,
			     const struct strvec **out, struct buf *err);

/*
 * Pipeline-level variables (CI, CI_COMMIT_*, CI_PROJECT_*, GITLAB_USER_*
 * from git config: the login is the e-mail's local part, as
 * gitlab-ci-local's; GITLAB_CI is "false", so a pipeline can tell a local
 * run, as in gitlab-ci-local).
 */
void local_repo_predefined(const struct local_repo *r, const char *source,
			   long pipeline_id, struct pl_vars *out);

#endif
