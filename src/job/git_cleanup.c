/*
 * clean_git_config (gitlab-runner's writeGitCleanupAllConfigs in
 * shells/abstract.go): the git config and hooks a job could leave in its
 * worktree for the next job's git commands to run are removed before
 * get_sources fetches and again in the cleanup stage.
 */
#include <stdbool.h>
#include <string.h>

#include "config/config.h"
#include "job/engine_internal.h"
#include "job/script.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/banned.h"

bool job_git_config_cleanup_wanted(const struct job *job)
{
	const struct runner_config *rc = job->settings.runner;
	const char *executor = rc->executor ? rc->executor : "shell";

	/* Explicit config wins; else on, but for shell and GIT_STRATEGY none. */
	if (rc->clean_git_config != CONFIG_UNSET)
		return rc->clean_git_config == CONFIG_TRUE;
	return strcmp(executor, "shell") &&
	       strcmp(job_git_strategy(job), "none");
}

/* "<cmd> -- '<dir>/<name>'\n" */
static int rm_line(struct buf *body, const struct job *job, const char *cmd,
		   const char *dir, const char *name)
{
	struct buf path = BUF_INIT;
	int r;

	(void)buf_addf(&path, "%s/%s", dir, name);
	if (!(r = buf_addf(body, "%s -- ", cmd)) &&
	    !(r = script_quote_str(body, job->shell, path.data)))
		r = buf_addch(body, '\n');
	buf_release(&path);
	return r;
}

int job_git_config_cleanup(const struct job *job, struct buf *body)
{
	const char *sub = variables_get(&job->vars, "GIT_SUBMODULE_STRATEGY");
	struct buf git = BUF_INIT, modules = BUF_INIT;
	int r;

	if (!job_git_config_cleanup_wanted(job))
		return 0;
	(void)buf_addf(&git, "%s/.git", job->project_dir);
	(void)buf_addf(&modules, "%s/modules", git.data);
	if ((r = rm_line(body, job, "rm -f", git.data, "config")) ||
	    (r = rm_line(body, job, "rm -rf", git.data, "hooks")))
		goto out;
	/* Submodules' own git dirs too, when get_sources handles them. */
	if (sub && (!strcmp(sub, "normal") || !strcmp(sub, "recursive"))) {
		(void)buf_addstr(body, "if [ -d ");
		(void)script_quote_str(body, job->shell, modules.data);
		(void)buf_addstr(body, " ]; then find ");
		(void)script_quote_str(body, job->shell, modules.data);
		(void)buf_addstr(body, " -name config -type f -exec rm -f -- {} +; find ");
		(void)script_quote_str(body, job->shell, modules.data);
		r = buf_addstr(body, " -depth -name hooks -type d -exec rm -rf -- {} +; fi\n");
	}
out:
	buf_release(&git);
	buf_release(&modules);
	return r;
}
