/*
 * What a job sees: its directories and variables (spec 8.2), and the
 * file-type variables written to disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config/config.h"
#include "gitlab/payload.h"
#include "job/clone_path.h"
#include "job/engine_internal.h"
#include "job/executor_defaults.h"
#include "util/fs.h"
#include "util/run_as.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "version.h"
#include "util/banned.h"

static char *absolute_path(const char *base, const char *path)
{
	struct buf b = BUF_INIT;
	char cwd[4096];

	if (path[0] == '/')
		return xstrdup(path);
	if (!base) {
		if (!getcwd(cwd, sizeof(cwd)))
			return xstrdup(path);
		base = cwd;
	}
	(void)buf_addf(&b, "%s/%s", base, path);
	return buf_detach(&b, NULL);
}

static const char *arch_name(void)
{
	static const struct { const char *uname, *go; } arches[] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" },
		{ "i686", "386" }, { "armv7l", "arm" },
		{ "s390x", "s390x" }, { "ppc64le", "ppc64le" },
		{ "riscv64", "riscv64" },
	};
	struct utsname u;
	size_t i;

	if (uname(&u) == 0)
		for (i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
			if (!strcmp(u.machine, arches[i].uname))
				return arches[i].go;
	return "amd64";
}

/*
 * The shell executor shares its builds dir between jobs, so the project
 * dir is <builds>/<short token>/<concurrent project id>/<full path>: two
 * jobs running at once never share a directory.
 */
static void setup_dirs(struct job *job, const char *clone_path)
{
	const struct runner_config *rc = job->settings.runner;
	const struct job_payload *p = job->payload;
	const char *path = p->job_info.project_full_path;
	struct buf b = BUF_INIT;
	char *builds;

	builds = job->exec_builds_dir ? xstrdup(job->exec_builds_dir) :
		rc->builds_dir ? xstrdup(rc->builds_dir) : xstrdup("builds");
	job->builds_dir = absolute_path(job->settings.work_dir, builds);
	free(builds);
	if (clone_path)
		(void)buf_addstr(&b, clone_path);
	/* A builds dir of the job's own (custom executor) needs no prefix. */
	else if (job->builds_dir_private)
		(void)buf_addf(&b, "%s/", job->builds_dir);
	else
		(void)buf_addf(&b, "%s/%s/%d/", job->builds_dir,
			       job->short_token,
			       job->settings.concurrent_project_id);
	if (clone_path)
		;	/* the job's own choice, checked by clone_path.c */
	else if (path && *path && !strstr(path, ".."))
		(void)buf_addstr(&b, path);
	else
		(void)buf_addf(&b, "project-%lld",
			       (long long)p->job_info.project_id);
	job->project_dir = buf_detach(&b, NULL);
	(void)buf_addf(&b, "%s.tmp", job->project_dir);
	job->tmp_project_dir = buf_detach(&b, NULL);
}

static void add_int(struct variables *v, const char *key, long long value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", value);
	variables_add(v, key, num, VAR_PUBLIC);
}

static void add_runner_environment(struct variables *v,
				   const struct runner_config *rc)
{
	size_t i;

	for (i = 0; i < rc->environment.nr; i++) {
		const char *kv = rc->environment.v[i], *eq = strchr(kv, '=');
		char *key;

		if (!eq)
			continue;	/* config validation rejects these */
		key = xstrndup(kv, (size_t)(eq - kv));
		variables_add(v, key, eq + 1, VAR_PUBLIC);
		free(key);
	}
}

/*
 * gitlab-runner's GetNetworkName (ProjectUniqueShortName):
 * "runner-<short token>-<project id>-<project runner id>-<job id>" made
 * RFC 1123 compatible as its dns helper does: lower case, other
 * characters than [a-z0-9-] dropped, no leading '-', at most 63.
 */
static void build_network_name(const struct job *job, struct buf *out)
{
	struct buf raw = BUF_INIT;
	const char *p;

	(void)buf_addf(&raw, "runner-%s-%lld-%d-%lld",
		       job->short_token,
		       (long long)job->payload->job_info.project_id,
		       job->settings.concurrent_project_id,
		       (long long)job->payload->id);
	for (p = raw.data; *p && out->len < 63; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (c == '-' && out->len))
			(void)buf_addch(out, c);
	}
	buf_release(&raw);
}

static void build_variables(struct job *job, struct variables *all)
{
	const struct runner_config *rc = job->settings.runner;
	const struct job_payload *p = job->payload;
	size_t i;

	for (i = 0; i < rc->feature_flags.nr; i++)
		variables_add(all, rc->feature_flags.items[i].name,
			      rc->feature_flags.items[i].value ? "true" : "false",
			      VAR_PUBLIC);
	/* Block A: the job's variables may override these. */
	variables_add(all, "CI_RUNNER_SHORT_TOKEN", job->short_token,
		      VAR_PUBLIC);
	add_runner_environment(all, rc);
	variables_add(all, "CI_BUILDS_DIR", job->builds_dir, VAR_PUBLIC);
	variables_add(all, "CI_PROJECT_DIR", job->project_dir, VAR_PUBLIC);
	add_int(all, "CI_CONCURRENT_ID", job->settings.concurrent_id);
	add_int(all, "CI_CONCURRENT_PROJECT_ID",
		job->settings.concurrent_project_id);
	variables_add(all, "CI_SERVER", "yes", VAR_PUBLIC);
	variables_add(all, "CI_JOB_STATUS", "running", VAR_PUBLIC);
	add_int(all, "CI_JOB_TIMEOUT", p->runner_info.timeout > 0 ?
		(long long)p->runner_info.timeout : 7200);
	job_add_tls_variables(job, all);

	for (i = 0; i < p->variables.nr; i++) {
		const struct job_variable *jv = &p->variables.v[i];
		unsigned flags = (jv->is_public ? VAR_PUBLIC : 0) |
			(jv->masked ? VAR_MASKED : 0) |
			(jv->file ? VAR_FILE : 0) | (jv->raw ? VAR_RAW : 0);

		variables_add(all, jv->key, jv->value, flags);
	}
	/*
	 * gitlab-runner's addSlotCgroupEnvironmentVariable: appended to the
	 * job's variables (not public) when use_slot_cgroups names a cgroup
	 * for the autoscaler slot the job holds.
	 */
	if (job->settings.instance) {
		char *cgroup = config_slot_cgroup(rc, job->settings.instance_slot,
						  false);

		if (cgroup)
			variables_add(all, "GITLAB_RUNNER_SLOT_CGROUP", cgroup, 0);
		free(cgroup);
	}

	/* Block B: these override the job's variables. */
	variables_add(all, "CI_SHARED_ENVIRONMENT", "true", VAR_PUBLIC);
	variables_add(all, "CI_RUNNER_VERSION", CR_VERSION, VAR_PUBLIC);
	variables_add(all, "CI_RUNNER_REVISION", CR_GIT_REVISION, VAR_PUBLIC);
	{
		struct buf arch = BUF_INIT;

		(void)buf_addf(&arch, "linux/%s", arch_name());
		variables_add(all, "CI_RUNNER_EXECUTABLE_ARCH", arch.data,
			      VAR_PUBLIC);
		buf_release(&arch);
	}
	/* Resolved secrets (resolve_secrets), as gitlab-runner's
	 * secretsVariables: after the version, before the temp dir. */
	for (i = 0; i < job->secret_vars.nr; i++)
		variables_add(all, job->secret_vars.items[i].key,
			      job->secret_vars.items[i].value,
			      job->secret_vars.items[i].flags);
	variables_add(all, "RUNNER_TEMP_PROJECT_DIR", job->tmp_project_dir,
		      VAR_PUBLIC);
	/*
	 * gitlab-runner's exportVariables: with FF_GIT_URLS_WITHOUT_TOKENS
	 * every stage's git reads (and "git config --global" writes) the
	 * job's own global config, which get_sources seeds; the job cannot
	 * shadow it.
	 */
	if (variables_get_bool(all, "FF_GIT_URLS_WITHOUT_TOKENS", 0)) {
		struct buf path = BUF_INIT;

		(void)buf_addf(&path, "%s/" JOB_GIT_CONFIG_GLOBAL,
			       job->tmp_project_dir);
		variables_add(all, "GIT_CONFIG_GLOBAL", path.data,
			      VAR_PUBLIC | VAR_RAW);
		buf_release(&path);
	}
	/* The job's or the runner's flag, as IsFeatureFlagOn reads it. */
	if (variables_get_bool(all, "FF_NETWORK_PER_BUILD", 0)) {
		struct buf name = BUF_INIT;

		build_network_name(job, &name);
		variables_add(all, "CI_BUILD_NETWORK_NAME", name.data,
			      VAR_PUBLIC);
		buf_release(&name);
	}
}

/* Directories (clone_path: the project dir, NULL: the default), variables. */
static void setup_dirs_and_variables(struct job *job, const char *clone_path)
{
	struct variables all = VARIABLES_INIT;
	size_t i;

	setup_dirs(job, clone_path);
	build_variables(job, &all);
	variables_expand_all(&all);
	variables_unique(&all, &job->vars);
	variables_release(&all);

	job->var_paths = xcalloc(job->vars.nr ? job->vars.nr : 1,
				 sizeof(*job->var_paths));
	for (i = 0; i < job->vars.nr; i++) {
		const struct variable *v = &job->vars.items[i];

		if (v->flags & VAR_FILE) {
			struct buf path = BUF_INIT;

			(void)buf_addf(&path, "%s/%s", job->tmp_project_dir,
				       v->key);
			job->var_paths[i] = buf_detach(&path, NULL);
		}
	}
}

static void release_dirs_and_variables(struct job *job)
{
	size_t i;

	if (job->var_paths)
		for (i = 0; i < job->vars.nr; i++)
			free(job->var_paths[i]);
	free(job->var_paths);
	job->var_paths = NULL;
	variables_release(&job->vars);
	variables_init(&job->vars);
	free(job->builds_dir);
	free(job->project_dir);
	free(job->tmp_project_dir);
	job->builds_dir = job->project_dir = job->tmp_project_dir = NULL;
}

/*
 * The project dir as a link to tree (crunner exec): a dir left empty by an
 * earlier run is replaced, a link elsewhere is re-pointed.
 */
static int link_project_dir(const char *dir, const char *tree,
			    struct buf *err)
{
	char have[4096];
	ssize_t n;

	n = readlink(dir, have, sizeof(have) - 1);
	if (n > 0 && (size_t)n == strlen(tree) && !memcmp(have, tree, (size_t)n))
		return 0;
	if (n > 0)
		(void)unlink(dir);
	else
		(void)rmdir(dir);	/* only when empty */
	if (fs_make_parent_dirs(dir, 0755, err) != 0)
		return CR_ERR_IO;
	if (symlink(tree, dir) != 0) {
		buf_seterr(err, "cannot link GIT_CLONE_PATH '%s' to the working tree: %s",
			   dir, strerror(errno));
		return CR_ERR_IO;
	}
	return 0;
}

/*
 * GIT_CLONE_PATH, once the builds dir is the one the job runs in: a
 * backend with hooks says it in its CONFIG hook (job_env_rebuild), so
 * the first setup of such a job leaves it alone.  A refused path leaves
 * the default dirs and returns CR_ERR_CONFIG.
 */
static int apply_clone_path(struct job *job, struct buf *err)
{
	const char *want = variables_get(&job->vars, "GIT_CLONE_PATH");
	struct buf dir = BUF_INIT;
	int r;

	if (!want || !*want || (job->ops && job->ops->hook &&
				!job->hooks_started))
		return 0;
	if ((r = clone_path_resolve(job->builds_dir, want,
				    executor_defaults_custom_build_dir(job->settings.runner),
				    &dir, err)) == 0) {
		release_dirs_and_variables(job);
		setup_dirs_and_variables(job, dir.data);
		if (job->settings.project_tree)
			r = link_project_dir(job->project_dir,
					     job->settings.project_tree, err);
	}
	buf_release(&dir);
	return r;
}

int job_env_setup(struct job *job, struct buf *err)
{
	size_t i;
	int r;

	setup_dirs_and_variables(job, NULL);
	r = apply_clone_path(job, err);
	for (i = 0; i < job->vars.nr; i++)
		if (job->vars.items[i].flags & VAR_MASKED)
			trace_sink_add_mask(job->sink, job->vars.items[i].value);
	/* The job token is a secret even when no variable says so. */
	if (job->payload->token)
		trace_sink_add_mask(job->sink, job->payload->token);
	return r;
}

int job_env_rebuild(struct job *job, struct buf *err)
{
	release_dirs_and_variables(job);
	return job_env_setup(job, err);
}

static int write_secret_file(const char *path, const char *value)
{
	size_t len = strlen(value), done = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		      O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	fchmod(fd, 0600);
	while (done < len) {
		ssize_t n = write(fd, value + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	return close(fd);
}

int job_env_write_files(struct job *job, struct buf *err)
{
	size_t i;
	int r;

	if (job->files_elsewhere)
		return 0;	/* the executor's scripts make them */
	if (!job->run_as && fs_mkdir_p(job->project_dir, 0755) < 0) {
		buf_seterr(err, "cannot create project directory '%s': %s",
			   job->project_dir, strerror(errno));
		return CR_ERR_IO;
	}
	if (!job->run_as && fs_mkdir_p(job->tmp_project_dir, 0700) < 0) {
		buf_seterr(err, "cannot create directory '%s': %s",
			   job->tmp_project_dir, strerror(errno));
		return CR_ERR_IO;
	}
	/*
	 * A job of another user: what crunner makes here is that user's,
	 * also the two dirs when an earlier job (as root) made them.
	 */
	if (job->run_as &&
	    ((r = run_as_mkdir_p(job->run_as, job->project_dir, 0755,
				 err)) != 0 ||
	     (r = run_as_chown(job->run_as, job->project_dir, err)) != 0 ||
	     (r = run_as_mkdir_p(job->run_as, job->tmp_project_dir, 0700,
				 err)) != 0 ||
	     (r = run_as_chown(job->run_as, job->tmp_project_dir, err)) != 0))
		return r;
	for (i = 0; i < job->vars.nr; i++) {
		if (!job->var_paths[i])
			continue;
		if (write_secret_file(job->var_paths[i],
				      job->vars.items[i].value) < 0) {
			buf_seterr(err, "cannot write file variable '%s' to '%s': %s",
				   job->vars.items[i].key, job->var_paths[i],
				   strerror(errno));
			return CR_ERR_IO;
		}
		if ((r = run_as_chown(job->run_as, job->var_paths[i], err)))
			return r;
	}
	return 0;
}

void job_env_remove_files(struct job *job)
{
	struct buf path = BUF_INIT;
	size_t i;

	if (job->files_elsewhere)
		return;
	if (job->tmp_project_dir) {
		(void)buf_addf(&path, "%s/" JOB_GIT_CREDENTIALS,
			       job->tmp_project_dir);
		(void)unlink(path.data);
		buf_reset(&path);
		(void)buf_addf(&path, "%s/" JOB_GIT_CONFIG_GLOBAL,
			       job->tmp_project_dir);
		(void)unlink(path.data);
		buf_release(&path);
	}
	if (!job->var_paths)
		return;
	for (i = 0; i < job->vars.nr; i++)
		if (job->var_paths[i])
			unlink(job->var_paths[i]);
}

struct script_var *job_env_script_vars(const struct job *job, size_t *nr)
{
	struct script_var *out = xcalloc(job->vars.nr ? job->vars.nr : 1,
					 sizeof(*out));
	size_t i;

	for (i = 0; i < job->vars.nr; i++) {
		out[i].key = job->vars.items[i].key;
		out[i].value = job->var_paths[i] ? job->var_paths[i] :
			job->vars.items[i].value;
	}
	*nr = job->vars.nr;
	return out;
}
