/*
 * crunner exec [JOB...]: runs the .gitlab-ci.yml pipeline of the current
 * directory on this machine, through the same engine as server mode (the
 * local source composes the payload GitLab would send; see local/).
 *
 * Artifacts pass between jobs through the run's local store
 * (local/store.h), removed at the end; caches live in --cache-dir,
 * default $XDG_CACHE_HOME/crunner/exec (~/.cache/crunner/exec), outside
 * the project so they never show up as untracked files in it, kept from
 * one run to the next, as is the builds dir of links the engine runs the
 * jobs through (builds/ there, see local/scheduler.h).  --git-clone runs the jobs in a fresh clone of
 * the committed HEAD (in a temporary dir, removed at the end) instead of
 * the working tree; .gitlab-ci.yml itself is still read from the working
 * tree, and exists: rules look at the clone.  --shell-isolation runs each
 * shell job in its own copy of that tree (local/isolate.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "executor/executor.h"
#include "job/script.h"
#include "local/dag.h"
#include "local/gitlab_origin.h"
#include "local/include_remote.h"
#include "local/output.h"
#include "local/payload.h"
#include "local/pipeline.h"
#include "local/repo.h"
#include "local/rules.h"
#include "local/scheduler.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define EXEC_MAX_CONCURRENCY 256

enum {
	OPT_CWD = 256, OPT_FILE, OPT_VARIABLE, OPT_NEEDS, OPT_MANUAL,
	OPT_LIST, OPT_CONCURRENCY, OPT_REPORT, OPT_REPORT_FILE, OPT_EXECUTOR,
	OPT_CACHE_DIR, OPT_GIT_CLONE, OPT_GITLAB_URL, OPT_GITLAB_TOKEN,
	OPT_OFFLINE, OPT_INCLUDE_TIMEOUT,
	OPT_SHELL_ISOLATION,
	OPT_NO_SHELL_ISOLATION,
};

struct exec_args {
	const char *cwd, *file, *report, *report_file, *executor;
	const char *gitlab_url, *gitlab_token;
	char *cache_dir;		/* absolute */
	bool offline;
	long include_timeout;
	struct strvec manual, names;
	struct pl_vars overrides;
	bool needs, list, git_clone, shell_isolation;
	long concurrency;
};

/* allow_failure as --list shows it: true, false, or [exit codes]. */
static char *allow_failure_text(const struct local_job *j)
{
	const struct strvec *codes = &j->def->allow_exit_codes;
	struct buf b = BUF_INIT;
	size_t k;

	if (j->allow_exit_codes && codes->nr) {
		(void)buf_addch(&b, '[');
		for (k = 0; k < codes->nr; k++)
			(void)buf_addf(&b, "%s%s", k ? "," : "", codes->v[k]);
		(void)buf_addch(&b, ']');
	} else {
		(void)buf_addstr(&b, j->allow_failure ? "true" : "false");
	}
	return buf_detach(&b, NULL);
}

static void widen(int *w, const char *s)
{
	if ((int)strlen(s) > *w)
		*w = (int)strlen(s);
}

/* One line per job; each column as wide as its longest value. */
static void list_jobs(const struct dag *d)
{
	int wname = 4, wstage = 5, wwhen = 4, wallow = 13;
	char **allow = xcalloc(d->nr + 1, sizeof(*allow));
	size_t i, k;

	for (i = 0; i < d->nr; i++) {
		allow[i] = allow_failure_text(&d->jobs[i]);
		widen(&wname, d->jobs[i].name);
		widen(&wstage, d->jobs[i].def->stage);
		widen(&wwhen, d->jobs[i].when);
		widen(&wallow, allow[i]);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wname, "name", wstage, "stage",
	       wwhen, "when", wallow, "allow_failure", "needs");
	for (i = 0; i < d->nr; i++) {
		const struct local_job *j = &d->jobs[i];
		struct buf line = BUF_INIT;

		(void)buf_addf(&line, "%-*s  %-*s  %-*s  %-*s  ", wname, j->name,
			       wstage, j->def->stage, wwhen, j->when, wallow,
			       allow[i]);
		if (j->deps_from_needs) {
			(void)buf_addch(&line, '[');
			for (k = 0; k < j->nr_deps; k++)
				(void)buf_addf(&line, "%s%s", k ? ", " : "",
					       d->jobs[j->deps[k]].name);
			(void)buf_addch(&line, ']');
		}
		/* No padding after the last column. */
		while (line.len && line.data[line.len - 1] == ' ')
			buf_setlen(&line, line.len - 1);
		printf("%s\n", line.data);
		buf_release(&line);
		free(allow[i]);
	}
	free(allow);
}

/* path made absolute against the directory crunner started in. */
static char *absolute(const char *path)
{
	struct buf b = BUF_INIT;
	char cwd[PATH_MAX];

	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)))
		(void)buf_addf(&b, "%s/", cwd);
	(void)buf_addstr(&b, path);
	return buf_detach(&b, NULL);
}

/* The per-user default of --cache-dir; NULL when there is no home. */
static char *default_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct buf b = BUF_INIT;

	if (xdg && xdg[0] == '/')
		(void)buf_addf(&b, "%s/crunner/exec", xdg);
	else if (home && home[0] == '/')
		(void)buf_addf(&b, "%s/.cache/crunner/exec", home);
	else
		return NULL;
	return buf_detach(&b, NULL);
}

static void remove_tree(const char *dir)
{
	if (dir)
		fs_remove_tree(dir);
}

/*
 * --git-clone: a clone of root's committed HEAD (sha) in a new temporary
 * dir *tmp; *tree is the clone.  Both new strings.
 */
static int clone_head(const struct local_repo *repo, char **tmp, char **tree)
{
	const char *t = getenv("TMPDIR");
	struct buf cmd = BUF_INIT, b = BUF_INIT;
	char tmpl[PATH_MAX];
	int st;

	*tmp = *tree = NULL;
	if (!repo->has_git) {
		cli_error("--git-clone: '%s' is not a git repository", repo->root);
		return -1;
	}
	snprintf(tmpl, sizeof(tmpl), "%s/crunner-clone-XXXXXX",
		 t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl)) {
		cli_error("--git-clone: cannot create a temporary directory: %s",
			  strerror(errno));
		return -1;
	}
	*tmp = xstrdup(tmpl);
	(void)buf_addf(&b, "%s/%s", tmpl, *repo->project_name ?
		       repo->project_name : "project");
	*tree = buf_detach(&b, NULL);
	(void)buf_addstr(&cmd, "git clone -q --no-checkout ");
	(void)script_quote_str(&cmd, SCRIPT_SHELL_SH, repo->root);
	(void)buf_addch(&cmd, ' ');
	(void)script_quote_str(&cmd, SCRIPT_SHELL_SH, *tree);
	(void)buf_addstr(&cmd, " && git -C ");
	(void)script_quote_str(&cmd, SCRIPT_SHELL_SH, *tree);
	(void)buf_addstr(&cmd, " checkout -q --detach ");
	(void)script_quote_str(&cmd, SCRIPT_SHELL_SH, repo->sha);
	st = system(cmd.data);
	buf_release(&cmd);
	if (st != 0) {
		cli_error("--git-clone: cannot clone '%s' into '%s'", repo->root,
			  *tree);
		return -1;
	}
	return 0;
}

struct include_vars {
	const struct pl_vars *overrides, *predefined;
};

/* What include: sees: --variable, then the predefined variables. */
static const char *include_lookup(void *ctx, const char *name)
{
	const struct include_vars *iv = ctx;
	const char *v = pl_vars_get(iv->overrides, name);

	return v ? v : pl_vars_get(iv->predefined, name);
}

/* rules_ctx.files: the project's files, as git lists them. */
static const struct strvec *repo_files(void *ctx)
{
	return local_repo_files(ctx);
}

/* rules_ctx.changes: what git says, read on first use (local/repo.h). */
static int repo_changes(void *ctx, const char *compare_to,
			const struct strvec **out, struct buf *err)
{
	struct local_repo *repo = ctx;

	if (!compare_to) {
		*out = local_repo_changed(repo);
		return 0;
	}
	return local_repo_changed_since(repo, compare_to, out, err);
}

/*
 * The GitLab instance remote includes are fetched from: --gitlab-url,
 * else the origin remote's server.  *why says why there is none.
 */
static int pick_instance(const struct exec_args *a,
			 const struct local_repo *repo,
			 struct gitlab_instance *gi, struct buf *why)
{
	if (a->gitlab_url) {
		if (gitlab_instance_from_url(a->gitlab_url, gi, why)) {
			cli_error("%s", why->data);
			return -1;
		}
		return 0;
	}
	if (!repo->origin_url)
		(void)buf_addstr(why, "the repository has no origin remote");
	else if (gitlab_instance_from_remote(repo->origin_url, gi, why))
		gitlab_instance_release(gi);
	return 0;
}

/* CI_SERVER_* of the instance, in place of gitlab.com's. */
static void set_server_variables(const struct gitlab_instance *gi,
				 struct pl_vars *predefined)
{
	const char *sep = strstr(gi->url, "://"), *colon;
	char *host, *proto;

	proto = xstrndup(gi->url, (size_t)(sep - gi->url));
	colon = strrchr(gi->fqdn, ':');
	if (colon && strchr(colon, ']'))
		colon = NULL;
	host = colon ? xstrndup(gi->fqdn, (size_t)(colon - gi->fqdn)) :
		xstrdup(gi->fqdn);
	struct buf api = BUF_INIT;

	(void)buf_addf(&api, "%s/api/v4", gi->url);
	pl_vars_set(predefined, "CI_API_V4_URL", api.data, false);
	buf_release(&api);
	pl_vars_set(predefined, "CI_SERVER_URL", gi->url, false);
	pl_vars_set(predefined, "CI_SERVER_HOST", host, false);
	pl_vars_set(predefined, "CI_SERVER_FQDN", gi->fqdn, false);
	pl_vars_set(predefined, "CI_SERVER_PROTOCOL", proto, false);
	pl_vars_set(predefined, "CI_SERVER_PORT", colon ? colon + 1 :
		    !strcmp(proto, "https") ? "443" : "80", false);
	free(host);
	free(proto);
}

static int parse_args(int argc, char **argv, struct exec_args *a,
		      const struct cli_verb *verb)
{
	static const struct option opts[] = {
		{ "cwd", required_argument, NULL, OPT_CWD },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "variable", required_argument, NULL, OPT_VARIABLE },
		{ "needs", no_argument, NULL, OPT_NEEDS },
		{ "manual", required_argument, NULL, OPT_MANUAL },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "report-file", required_argument, NULL, OPT_REPORT_FILE },
		{ "executor", required_argument, NULL, OPT_EXECUTOR },
		{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
		{ "git-clone", no_argument, NULL, OPT_GIT_CLONE },
		{ "gitlab-url", required_argument, NULL, OPT_GITLAB_URL },
		{ "gitlab-token", required_argument, NULL, OPT_GITLAB_TOKEN },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "include-timeout", required_argument, NULL, OPT_INCLUDE_TIMEOUT },
		{ "shell-isolation", no_argument, NULL, OPT_SHELL_ISOLATION },
		{ "no-shell-isolation", no_argument, NULL,
		  OPT_NO_SHELL_ISOLATION },
		{ NULL, 0, NULL, 0 },
	};
	char *end, *key;
	const char *eq;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CWD:
			a->cwd = optarg;
			break;
		case OPT_FILE:
			a->file = optarg;
			break;
		case OPT_VARIABLE:
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return cli_usage_error(verb, "--variable needs KEY=VALUE, not '%s'",
						       optarg);
			key = xstrndup(optarg, (size_t)(eq - optarg));
			pl_vars_set(&a->overrides, key, eq + 1, false);
			free(key);
			break;
		case OPT_NEEDS:
			a->needs = true;
			break;
		case OPT_MANUAL:
			strvec_push(&a->manual, optarg);
			break;
		case OPT_LIST:
			a->list = true;
			break;
		case OPT_CONCURRENCY:
			a->concurrency = strtol(optarg, &end, 10);
			if (!*optarg || *end || a->concurrency < 1 ||
			    a->concurrency > EXEC_MAX_CONCURRENCY)
				return cli_usage_error(verb, "--concurrency needs a number from 1 to %d, not '%s'",
						       EXEC_MAX_CONCURRENCY, optarg);
			break;
		case OPT_REPORT:
			if (strcmp(optarg, "json"))
				return cli_usage_error(verb, "--report knows 'json', not '%s'",
						       optarg);
			a->report = optarg;
			break;
		case OPT_REPORT_FILE:
			a->report_file = optarg;
			break;
		case OPT_EXECUTOR:
			a->executor = optarg;
			break;
		case OPT_CACHE_DIR:
			if (!*optarg)
				return cli_usage_error(verb, "--cache-dir needs a directory");
			free(a->cache_dir);
			a->cache_dir = absolute(optarg);
			break;
		case OPT_GIT_CLONE:
			a->git_clone = true;
			break;
		case OPT_GITLAB_URL:
			a->gitlab_url = optarg;
			break;
		case OPT_GITLAB_TOKEN:
			a->gitlab_token = optarg;
			break;
		case OPT_OFFLINE:
			a->offline = true;
			break;
		case OPT_INCLUDE_TIMEOUT:
			a->include_timeout = strtol(optarg, &end, 10);
			if (!*optarg || *end || a->include_timeout < 1 ||
			    a->include_timeout > 3600)
				return cli_usage_error(verb, "--include-timeout needs a number of seconds from 1 to 3600, not '%s'",
						       optarg);
			break;
		case OPT_SHELL_ISOLATION:
			a->shell_isolation = true;
			break;
		case OPT_NO_SHELL_ISOLATION:
			a->shell_isolation = false;
			break;
		default:
			return cli_usage_error(verb, "unknown option");
		}
	}
	for (; optind < argc; optind++)
		strvec_push(&a->names, argv[optind]);
	if (a->report_file && !a->report)
		a->report = "json";
	return CR_EXIT_OK;
}

/* Whether name is one of the JOB arguments. */
static bool named(const struct strvec *names, const char *name)
{
	size_t i;

	for (i = 0; i < names->nr; i++)
		if (!strcmp(names->v[i], name))
			return true;
	return false;
}

/* One line for every job whose needs: name another project or pipeline. */
static void warn_remote_needs(const struct pipeline *pl)
{
	struct buf jobs = BUF_INIT;
	size_t i;

	for (i = 0; i < pl->nr_jobs; i++)
		if (pl->jobs[i]->remote_needs)
			(void)buf_addf(&jobs, "%s'%s'", jobs.len ? ", " : "",
				       pl->jobs[i]->name);
	if (jobs.len)
		cli_warning("needs: on another project or pipeline (in %s) skipped: those artifacts need GitLab",
			    jobs.data);
	buf_release(&jobs);
}

int cmd_exec(int argc, char **argv, struct cli_globals *g)
{
	const struct cli_verb *verb = cli_find_verb("exec");
	struct exec_args a = { 0 };
	struct pipeline pl = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct dag_options dopt = { 0 };
	struct local_repo repo;
	struct pl_vars predefined = PL_VARS_INIT;
	struct scheduler_options so = { 0 };
	struct include_vars iv;
	const char *source, *ref;
	bool ref_is_tag;
	struct rules_ctx ictx = { 0 };
	struct gitlab_instance gi = GITLAB_INSTANCE_INIT;
	struct include_remote remote = { 0 };
	struct buf why = BUF_INIT;
	struct exec_output out;
	struct buf err = BUF_INIT;
	char root[PATH_MAX];
	char *clone_tmp = NULL, *clone_tree = NULL;
	bool failed = false, repo_read = false;
	size_t i;
	uint64_t duration = 0;
	FILE *jobs_out = stdout;
	int code, built;

	(void)g;
	strvec_init(&a.manual);
	strvec_init(&a.names);
	a.file = ".gitlab-ci.yml";
	a.concurrency = sysconf(_SC_NPROCESSORS_ONLN);
	if (a.concurrency < 1)
		a.concurrency = 1;
	if (a.concurrency > EXEC_MAX_CONCURRENCY)
		a.concurrency = EXEC_MAX_CONCURRENCY;
	if ((code = parse_args(argc, argv, &a, verb)) != CR_EXIT_OK)
		goto out;
	code = CR_EXIT_USAGE;
	if (a.executor && !executor_find(a.executor)) {
		cli_error("executor '%s' is not available in this build of crunner",
			  a.executor);
		goto out;
	}
	if (a.cwd && chdir(a.cwd)) {
		cli_error("cannot change to '%s': %m", a.cwd);
		goto out;
	}
	if (!getcwd(root, sizeof(root))) {
		cli_error("cannot read the current directory: %m");
		goto out;
	}
	code = CR_EXIT_FAILURE;
	local_repo_read(&repo, root);
	repo_read = true;
	/*
	 * --variable CI_PIPELINE_SOURCE / CI_COMMIT_REF_NAME / CI_COMMIT_TAG
	 * stand for another kind of pipeline: only/except see them too.
	 */
	source = pl_vars_get(&a.overrides, "CI_PIPELINE_SOURCE");
	if (!source || !*source)
		source = "push";
	ref = pl_vars_get(&a.overrides, "CI_COMMIT_TAG");
	ref_is_tag = ref && *ref;
	if (!ref_is_tag && !(ref = pl_vars_get(&a.overrides,
					       "CI_COMMIT_REF_NAME"))) {
		ref = repo.ref;
		ref_is_tag = repo.is_tag;
	}
	local_repo_predefined(&repo, source, (long)getpid(), &predefined);
	if (pick_instance(&a, &repo, &gi, &why)) {
		code = CR_EXIT_USAGE;
		goto out;
	}
	if (gi.url)
		set_server_variables(&gi, &predefined);
	if (!a.cache_dir && !(a.cache_dir = default_cache_dir())) {
		struct buf b = BUF_INIT;

		(void)buf_addf(&b, "%s/.crunner/cache", root);
		a.cache_dir = buf_detach(&b, NULL);
	}
	remote.instance = &gi;
	remote.instance_why = why.len ? why.data : NULL;
	remote.fetch.cache_dir = a.cache_dir;
	remote.fetch.offline = a.offline;
	remote.fetch.timeout_s = a.include_timeout;
	remote.fetch.token = a.gitlab_token;
	if (!remote.fetch.token || !*remote.fetch.token)
		remote.fetch.token = getenv("CRUNNER_GITLAB_TOKEN");
	if (!remote.fetch.token || !*remote.fetch.token)
		remote.fetch.token = getenv("GITLAB_TOKEN");
	/* include: rules and paths see predefined and --variable values. */
	iv.overrides = &a.overrides;
	iv.predefined = &predefined;
	ictx.lookup = include_lookup;
	ictx.lookup_ctx = &iv;
	ictx.root_dir = root;
	ictx.ref = ref;
	ictx.ref_is_tag = ref_is_tag;
	ictx.source = source;
	ictx.changes = repo_changes;
	ictx.changes_ctx = &repo;
	ictx.files = repo_files;
	ictx.files_ctx = &repo;
	/* With job names, another job's error does not stop them. */
	pl.keep_job_errors = a.names.nr > 0;
	if (pipeline_load_remote(&pl, root, a.file, &ictx, &remote, &err)) {
		cli_error("%s", err.data);
		goto out;
	}
	if (a.git_clone && !a.list && clone_head(&repo, &clone_tmp, &clone_tree))
		goto out;
	dopt.rules.root_dir = clone_tree ? clone_tree : root;
	dopt.rules.changes = repo_changes;
	dopt.rules.changes_ctx = &repo;
	/* exists: in a --git-clone tree walks the clone itself. */
	if (!clone_tree) {
		dopt.rules.files = repo_files;
		dopt.rules.files_ctx = &repo;
	}
	dopt.rules.ref = ref;
	dopt.rules.ref_is_tag = ref_is_tag;
	dopt.rules.source = source;
	dopt.predefined = &predefined;
	dopt.overrides = &a.overrides;
	dopt.names = a.names.v;
	dopt.nr_names = a.names.nr;
	dopt.with_needs = a.needs;
	dopt.manual = a.manual.v;
	dopt.nr_manual = a.manual.nr;
	built = dag_build(&d, &pl, &dopt, &err);
	for (i = 0; i < d.warnings.nr; i++)
		cli_warning("%s (the job is not run)", d.warnings.v[i]);
	if (built) {
		cli_error("%s", err.data);
		goto out;
	}
	for (i = 0; i < d.triggers.nr; i++)
		if (!a.names.nr || named(&a.names, d.triggers.v[i]))
			cli_warning("job '%s' is a trigger job: its downstream pipeline needs GitLab, it is not run here",
				    d.triggers.v[i]);
	warn_remote_needs(&pl);
	for (i = 0; i < d.nr; i++)
		if (!d.jobs[i].trigger &&
		    local_payload_check(&d.jobs[i], &err)) {
			cli_error("%s", err.data);
			goto out;
		}
	code = CR_EXIT_OK;
	if (d.workflow_skipped) {
		fprintf(stderr, "crunner: workflow:rules created no pipeline; nothing to run\n");
		goto out;
	}
	if (d.edge_only) {
		fprintf(stderr, "crunner: only jobs of the .pre and .post stages are left, which GitLab does not make a pipeline of; nothing to run\n");
		goto out;
	}
	if (a.list) {
		list_jobs(&d);
		goto out;
	}
	if (!d.nr) {
		fprintf(stderr, "crunner: the pipeline has no job to run\n");
		goto out;
	}
	/* With the JSON report on standard output, the rest goes to stderr. */
	if (a.report && (!a.report_file || !strcmp(a.report_file, "-")))
		jobs_out = stderr;
	output_init(&out, jobs_out, isatty(fileno(jobs_out)) &&
		    !getenv("NO_COLOR"));
	so.concurrency = (int)a.concurrency;
	so.executor = a.executor;
	so.repo = &repo;
	so.predefined = &predefined;
	so.overrides = &a.overrides;
	so.pipeline_id = (long)getpid();
	so.out = &out;
	so.project_dir = clone_tree;
	so.shell_isolation = a.shell_isolation;
	/* A clone holds only committed files: all of it is copied. */
	so.isolate_files = a.shell_isolation && !clone_tree ?
		local_repo_files(&repo) : NULL;
	so.cache_dir = a.cache_dir;
	if (scheduler_run(&so, &d, &failed, &duration, &err)) {
		cli_error("%s", err.data);
		output_release(&out);
		code = CR_EXIT_FAILURE;
		goto out;
	}
	output_summary(&out, &d);
	output_release(&out);
	if (a.report && output_report_json(&d, failed, duration,
					   a.report_file ? a.report_file : "-",
					   &err)) {
		cli_error("%s", err.data);
		failed = true;
	}
	code = failed ? CR_EXIT_FAILURE : CR_EXIT_OK;
out:
	remove_tree(clone_tmp);
	free(clone_tmp);
	free(clone_tree);
	free(a.cache_dir);
	gitlab_instance_release(&gi);
	buf_release(&why);
	dag_release(&d);
	pipeline_release(&pl);
	if (repo_read)
		local_repo_release(&repo);
	pl_vars_release(&predefined);
	pl_vars_release(&a.overrides);
	strvec_clear(&a.manual);
	strvec_clear(&a.names);
	buf_release(&err);
	return code;
}
