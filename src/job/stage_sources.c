/*
 * The get_sources stage (spec 8.4): GIT_STRATEGY clone, fetch, none or
 * empty, then checkout and clean, with the runner's and the job's
 * pre/post get-sources hooks around it.
 *
 * The credentials in git_info.repo_url reach neither .git/config nor any
 * command line: origin is the URL without them, and an include file in
 * the job's temporary dir sets a credential helper for the remote's
 * scheme://host that answers git with the password from $CI_JOB_TOKEN,
 * as gitlab-runner does with FF_GIT_URLS_WITHOUT_TOKENS.  Without that
 * flag gitlab-runner maps the URL to one with the token (insteadOf, in
 * the same kind of file); crunner keeps the helper either way, since a URL
 * with credentials would put the token in the argv of `git remote-http`,
 * which `ps` shows to every user.  What the flag changes here is
 * tokenless_git_config(): GIT_CONFIG_GLOBAL for every stage.  The helper is shell code git runs; its echo is a builtin, so the
 * token stays in the environment.  The engine removes the file when the
 * job ends (job_env_remove_files()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/executor_defaults.h"
#include "job/remote_url.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/run_as.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "version.h"
#include "util/banned.h"

/*
 * The URL with any "user:password@" removed, into out; an ssh URL keeps
 * its user, which is no secret (gitlab-runner's applyAuth).
 */
static void url_without_credentials(const char *url, struct buf *out)
{
	const char *scheme = strstr(url, "://"), *host, *at, *slash;

	if (!scheme || !strncasecmp(url, "ssh://", 6)) {
		(void)buf_addstr(out, url);
		return;
	}
	host = scheme + 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (!at) {
		(void)buf_addstr(out, url);
		return;
	}
	(void)buf_add(out, url, (size_t)(host - url));
	(void)buf_addstr(out, at + 1);
}

/* Appends a raw shell line: words already quoted by the caller. */
static int line(struct buf *body, const char *text)
{
	int r;

	if ((r = buf_addstr(body, text)) != 0 || (r = buf_addch(body, '\n')) != 0)
		return r;
	return script_check(body);
}

static int quoted(struct buf *body, const struct job *job, const char *s)
{
	return script_quote(body, job->shell, s, strlen(s));
}

static int run_argv(struct buf *body, const struct job *job,
		    const char *const *argv)
{
	return script_run(body, job->shell, argv);
}

/*
 * The get_sources hooks as gitlab-runner lists them: pre_clone_script is
 * the config's pre_get_sources_script then the job's pre hook lines,
 * post_clone_script the job's post hook lines then the config's
 * post_get_sources_script.  prefix names the list (SCRIPT_SECTIONS).
 */
static int hook_commands(struct buf *body, const struct job *job,
			 const char *config_script, const char *hook_name,
			 const char *prefix)
{
	const struct job_payload *p = job->payload;
	const bool config_first = !strcmp(prefix, "pre_clone_script");
	const bool has_config = config_script && *config_script;
	unsigned flags = job_script_flags(job) & ~SCRIPT_TRACE;
	size_t i, k, index = 0;
	int r;

	if (config_first && has_config &&
	    (r = script_command_section(body, job->shell, flags, config_script,
					prefix, index++)) != 0)
		return r;
	for (i = 0; i < p->nr_hooks; i++) {
		if (!p->hooks[i].name || strcmp(p->hooks[i].name, hook_name))
			continue;
		for (k = 0; k < p->hooks[i].script.nr; k++)
			if ((r = script_command_section(body, job->shell, flags,
							p->hooks[i].script.v[k],
							prefix, index++)) != 0)
				return r;
	}
	if (!config_first && has_config &&
	    (r = script_command_section(body, job->shell, flags, config_script,
					prefix, index)) != 0)
		return r;
	return 0;
}

const char *job_git_strategy(const struct job *job)
{
	static const char *const strategies[] = {
		"clone", "fetch", "none", "empty",
	};
	const char *s = variables_get(&job->vars, "GIT_STRATEGY");
	size_t i;

	/* The table's strings: they outlive a rebuild of the variables. */
	for (i = 0; s && i < sizeof(strategies) / sizeof(*strategies); i++)
		if (!strcmp(s, strategies[i]))
			return strategies[i];
	return job->payload->allow_git_fetch ? "fetch" : "clone";
}

/*
 * git's credential helper: "get" answers the password from the job's
 * environment; store and erase do nothing.  No token in the text.
 */
#define CREDENTIAL_HELPER \
	"!f(){ if [ \"$1\" = get ]; then echo \"password=${CI_JOB_TOKEN}\"; fi; }; f"

/* The URL's "scheme://host[:port]", the key of git's credential.<url>.*. */
static void url_scheme_host(const char *plain, struct buf *out)
{
	const char *scheme = strstr(plain, "://"), *slash;

	if (!scheme) {
		(void)buf_addstr(out, plain);
		return;
	}
	slash = strchr(scheme + 3, '/');
	(void)buf_add(out, plain, slash ? (size_t)(slash - plain) :
		      strlen(plain));
}

/* The user name of "scheme://user[:password]@host/...", into out. */
static void url_user(const char *url, struct buf *out)
{
	const char *host = strstr(url, "://"), *at, *slash, *colon;

	if (!host)
		return;
	host += 3;
	slash = strchr(host, '/');
	at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (!at)
		return;
	colon = memchr(host, ':', (size_t)(at - host));
	(void)buf_add(out, host, (size_t)((colon ? colon : at) - host));
}

/*
 * gitlab-runner's setupExternalGitConfig, before the credentials:
 * FF_USE_GITALY_CORRELATION_ID (a GitLab job's request correlation ID
 * to Gitaly in X-Gitaly-Correlation-ID, and a notice naming it) and
 * FF_USE_GIT_BUNDLE_URIS (transfer.bundleURI; git 2.41+ acts on it), both
 * on by default.
 */
static int write_gitaly_config(struct buf *body, const struct job *job,
			       const char *include)
{
	const char *id = job->settings.correlation_id;
	int r = 0;

	if (id && *id && variables_get_bool(&job->vars,
					    "FF_USE_GITALY_CORRELATION_ID", 1)) {
		struct buf header = BUF_INIT, notice = BUF_INIT;
		const char *cfg[] = { "git", "config", "-f", include,
				      "http.extraHeader", NULL, NULL };

		(void)buf_addf(&header, "X-Gitaly-Correlation-ID: %s", id);
		(void)buf_addf(&notice, "Gitaly correlation ID: %s", id);
		cfg[5] = header.data;
		if (!(r = run_argv(body, job, cfg)))
			r = script_echo(body, job->shell, SCRIPT_ECHO_NOTICE,
					notice.data);
		buf_release(&header);
		buf_release(&notice);
	}
	if (!r && variables_get_bool(&job->vars, "FF_USE_GIT_BUNDLE_URIS", 1)) {
		const char *cfg[] = { "git", "config", "-f", include,
				      "transfer.bundleURI", "true", NULL };

		r = run_argv(body, job, cfg);
	}
	return r;
}

/*
 * gitlab-runner's writeGitSSLConfig (a shared environment's form, into
 * the job-private include): git trusts the repository's host with the
 * files of CI_SERVER_TLS_CA_FILE, and presents those of
 * CI_SERVER_TLS_CERT_FILE / _KEY_FILE (engine_tls.c), through
 * http.<scheme://host>.sslCAInfo, sslCert and sslKey.
 */
static int write_tls_config(struct buf *body, const struct job *job,
			    const char *plain, const char *include)
{
	static const char *const pairs[][2] = {
		{ "CI_SERVER_TLS_CA_FILE", "sslCAInfo" },
		{ "CI_SERVER_TLS_CERT_FILE", "sslCert" },
		{ "CI_SERVER_TLS_KEY_FILE", "sslKey" },
	};
	struct buf key = BUF_INIT;
	size_t p, i;
	int r = 0;

	for (p = 0; p < sizeof(pairs) / sizeof(pairs[0]) && !r; p++) {
		for (i = 0; i < job->vars.nr; i++)
			if (job->var_paths && job->var_paths[i] &&
			    !strcmp(job->vars.items[i].key, pairs[p][0]) &&
			    *job->vars.items[i].value)
				break;
		if (i == job->vars.nr)
			continue;
		{
			const char *cfg[] = { "git", "config", "-f", include,
					      NULL, job->var_paths[i], NULL };

			buf_reset(&key);
			(void)buf_addstr(&key, "http.");
			url_scheme_host(plain, &key);
			(void)buf_addf(&key, ".%s", pairs[p][1]);
			cfg[4] = key.data;
			r = run_argv(body, job, cfg);
		}
	}
	buf_release(&key);
	return r;
}

/*
 * Writes include (a git config file) with the credential helper for the
 * remote: an empty helper first resets the list, so helpers of the
 * user's or system's config (a credential store) neither answer nor
 * keep the token.  The Gitaly settings come first (write_gitaly_config),
 * then the TLS files (write_tls_config).
 */
static int write_credentials_include(struct buf *body, const struct job *job,
				     const char *url, const char *plain,
				     const char *include)
{
	struct buf key = BUF_INIT, user = BUF_INIT;
	const char *rm[] = { "rm", "-f", include, NULL };
	int r;

	(void)buf_addstr(&key, "credential.");
	url_scheme_host(plain, &key);
	url_user(url, &user);
	if (!user.len)
		(void)buf_addstr(&user, "gitlab-ci-token");
	{
		size_t base = key.len;
		const char *reset[] = { "git", "config", "-f", include,
					"--replace-all", NULL, "", NULL };
		const char *add[] = { "git", "config", "-f", include, "--add",
				      NULL, CREDENTIAL_HELPER, NULL };
		const char *name[] = { "git", "config", "-f", include, NULL,
				       user.data, NULL };

		if ((r = run_argv(body, job, rm)) ||
		    (r = write_gitaly_config(body, job, include)) ||
		    (r = write_tls_config(body, job, plain, include)))
			goto out;
		(void)buf_addstr(&key, ".helper");
		reset[5] = add[5] = key.data;
		if ((r = run_argv(body, job, reset)) ||
		    (r = run_argv(body, job, add)))
			goto out;
		buf_setlen(&key, base);
		(void)buf_addstr(&key, ".username");
		name[4] = key.data;
		r = run_argv(body, job, name);
	}
out:
	buf_release(&key);
	buf_release(&user);
	return r;
}

/* Appends the words of a flags variable ("--a --b"); "none" adds nothing. */
static void push_words(struct strvec *argv, const char *flags)
{
	char *copy, *save = NULL, *w;

	if (!flags || !strcmp(flags, "none"))
		return;
	copy = xstrdup(flags);
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		strvec_push(argv, w);
	free(copy);
}

/* "git submodule <verb> [--recursive] ..." with the paths appended. */
static void submodule_argv(struct strvec *argv, const char *verb,
			   bool recursive)
{
	strvec_clear(argv);
	strvec_push(argv, "git");
	strvec_push(argv, "submodule");
	strvec_push(argv, verb);
	if (recursive)
		strvec_push(argv, "--recursive");
}

/* GIT_SUBMODULE_STRATEGY, _PATHS, _DEPTH, _UPDATE_FLAGS (spec 8.4). */
static int submodules(struct buf *body, const struct job *job,
		      const struct job_git_info *g)
{
	const char *strategy = variables_get(&job->vars, "GIT_SUBMODULE_STRATEGY");
	const char *paths = variables_get(&job->vars, "GIT_SUBMODULE_PATHS");
	const char *depth = variables_get(&job->vars, "GIT_SUBMODULE_DEPTH");
	const char *flags = variables_get(&job->vars,
					  "GIT_SUBMODULE_UPDATE_FLAGS");
	const char *clean = variables_get(&job->vars, "GIT_CLEAN_FLAGS");
	struct strvec argv = STRVEC_INIT;
	bool recursive;
	long long d = g->depth;
	int r;

	if (!strategy || !*strategy || !strcmp(strategy, "none"))
		return script_echo(body, job->shell, SCRIPT_ECHO_NOTICE,
				   "Skipping Git submodules setup");
	if (strcmp(strategy, "normal") && strcmp(strategy, "recursive")) {
		struct buf w = BUF_INIT;

		(void)buf_addf(&w, "GIT_SUBMODULE_STRATEGY '%s' is not normal, recursive or none: skipping submodules",
			       strategy);
		r = script_echo(body, job->shell, SCRIPT_ECHO_WARNING, w.data);
		buf_release(&w);
		return r;
	}
	recursive = !strcmp(strategy, "recursive");
	if (depth && *depth) {
		char *end;

		d = strtoll(depth, &end, 10);
		if (*end || d < 0)
			d = g->depth;
	}
	r = script_echo(body, job->shell, SCRIPT_ECHO_NOTICE, recursive ?
			"Updating/initializing submodules recursively..." :
			"Updating/initializing submodules...");

	submodule_argv(&argv, "init", false);
	push_words(&argv, paths);
	if (!r)
		r = run_argv(body, job, argv.v);

	submodule_argv(&argv, "sync", recursive);
	push_words(&argv, paths);
	if (!r)
		r = run_argv(body, job, argv.v);

	submodule_argv(&argv, "update", false);
	strvec_push(&argv, "--init");
	if (recursive)
		strvec_push(&argv, "--recursive");
	if (d > 0)
		strvec_pushf(&argv, "--depth=%lld", d);
	push_words(&argv, flags);
	push_words(&argv, paths);
	if (!r)
		r = run_argv(body, job, argv.v);

	/* Leftovers from an earlier job must not leak into this one. */
	if (!clean)
		clean = "-ffdx";
	if (strcmp(clean, "none")) {
		struct buf cmd = BUF_INIT;

		(void)buf_addstr(&cmd, "git clean ");
		(void)buf_addstr(&cmd, clean);
		submodule_argv(&argv, "foreach", recursive);
		strvec_push(&argv, cmd.data);
		if (!r)
			r = run_argv(body, job, argv.v);
		buf_release(&cmd);
	}
	strvec_clear(&argv);
	return r;
}

/* "git -c http.userAgent=... [-c http.<host>.proactiveAuth=basic]". */
static void git_remote_argv(struct strvec *argv, const struct job *job,
			    const char *plain)
{
	strvec_push(argv, "git");
	strvec_push(argv, "-c");
	strvec_pushf(argv, "http.userAgent=crunner %s linux", CR_VERSION);
	if (variables_get_bool(&job->vars, "FF_USE_GIT_PROACTIVE_AUTH", 0)) {
		/*
		 * gitlab-runner's proactiveAuthArgs: credentials with the first
		 * request, not after a 401 (a public project's fetch then
		 * carries the job's identity), scoped to the remote's host.
		 */
		struct buf host = BUF_INIT;

		url_scheme_host(plain, &host);
		strvec_push(argv, "-c");
		strvec_pushf(argv, "http.%s.proactiveAuth=basic", host.data);
		buf_release(&host);
	}
}

/*
 * gitlab-runner's writeRefspecFetchCmd: git init (or the existing
 * worktree), origin set to the URL without credentials, the credentials
 * include in .git/config, then git fetch of the job's refspecs.
 */
static int init_and_fetch(struct buf *body, const struct job *job,
			  const char *url, const char *plain,
			  const char *include)
{
	const struct job_git_info *g = &job->payload->git_info;
	const char *extra = variables_get(&job->vars, "GIT_FETCH_EXTRA_FLAGS");
	struct buf text = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	size_t i;
	int r;

	if (g->depth > 0)
		(void)buf_addf(&text, "Fetching changes with git depth set to %lld...",
			       (long long)g->depth);
	else
		(void)buf_addstr(&text, "Fetching changes...");
	if ((r = script_echo(body, job->shell, SCRIPT_ECHO_NOTICE, text.data)))
		goto out;

	/* Stale lock files from a killed job would make every git call fail. */
	(void)buf_addstr(body, "rm -f ");
	for (i = 0; i < 4; i++) {
		static const char *const locks[] = { "index.lock",
			"shallow.lock", "HEAD.lock", "config.lock" };

		buf_reset(&text);
		(void)buf_addf(&text, "%s/.git/%s", job->project_dir, locks[i]);
		(void)quoted(body, job, text.data);
		(void)buf_addch(body, ' ');
	}
	if ((r = line(body, "")) ||
	    (r = job_git_config_cleanup(job, body)))
		goto out;

	(void)buf_addstr(body, "if [ -d ");
	(void)quoted(body, job, job->project_dir);
	(void)buf_addstr(body, "/.git ]; then _cr_fresh=; else _cr_fresh=1; fi\n");
	{
		const char *init[] = { "git", "init", "-q", job->project_dir,
				       NULL };

		if ((r = run_argv(body, job, init)))
			goto out;
	}
	(void)buf_addstr(body, "if [ -n \"$_cr_fresh\" ]; then ");
	(void)script_echo(body, job->shell, SCRIPT_ECHO_PLAIN,
			  "Created fresh repository.");
	(void)buf_addstr(body, "fi\n");
	(void)buf_addstr(body, "cd ");
	(void)quoted(body, job, job->project_dir);
	if ((r = line(body, "")))
		goto out;

	if (strcmp(url, plain)) {
		if ((r = write_credentials_include(body, job, url, plain,
						   include)))
			goto out;
		{
			const char *cfg[] = { "git", "config", "include.path",
					      include, NULL };

			if ((r = run_argv(body, job, cfg)))
				goto out;
		}
	}
	(void)buf_addstr(body, "if git remote get-url origin >/dev/null 2>&1; "
			 "then git remote set-url origin ");
	(void)quoted(body, job, plain);
	(void)buf_addstr(body, "; else git remote add origin ");
	(void)quoted(body, job, plain);
	if ((r = line(body, "; fi")))
		goto out;

	git_remote_argv(&argv, job, plain);
	strvec_push(&argv, "fetch");
	strvec_push(&argv, "origin");
	strvec_push(&argv, "--no-recurse-submodules");
	if (g->refspecs.nr) {
		strvec_pushv(&argv, g->refspecs.v);
	} else {
		strvec_push(&argv, "+refs/heads/*:refs/remotes/origin/*");
		strvec_push(&argv, "+refs/tags/*:refs/tags/*");
	}
	if (g->depth > 0)
		strvec_pushf(&argv, "--depth=%lld", (long long)g->depth);
	/* Flags are words separated by spaces, as gitlab-runner splits them. */
	push_words(&argv, extra ? extra : "--prune --quiet");
	if ((r = run_argv(body, job, argv.v)))
		goto out;
out:
	strvec_clear(&argv);
	buf_release(&text);
	return r;
}

/* gitlab-runner's gitMinVersionCloneWithRef: git clone --revision. */
#define GIT_NATIVE_CLONE_VERSION "2.49"

/*
 * FF_USE_GIT_NATIVE_CLONE: GIT_STRATEGY clone uses git clone instead of
 * git init + git fetch (gitlab-runner's writeCloneCmdIfPossible).
 */
static bool native_clone_wanted(const struct job *job)
{
	return !strcmp(job_git_strategy(job), "clone") &&
	       variables_get_bool(&job->vars, "FF_USE_GIT_NATIVE_CLONE", 0);
}

/*
 * Opens "if <git is at least version>; then", as gitlab-runner's
 * IfGitVersionIsAtLeast: the third word of `git version` against version,
 * compared field by field as numbers (sort -n on each dot field).
 */
static int git_version_at_least(struct buf *body, const struct job *job,
				const char *version)
{
	struct buf text = BUF_INIT;
	int r;

	(void)buf_addstr(body, "_cr_git_have=\"$(git version | cut -d ' ' -f 3)\"\n"
			 "_cr_git_min=\"$(printf '%s\\n%s' ");
	(void)quoted(body, job, version);
	(void)buf_addstr(body, " \"$_cr_git_have\" | sort -t '.' -k 1,1n -k 2,2n -k 3,3n | sed -n '1p')\"\n"
			 "if [ \"$_cr_git_min\" = ");
	(void)quoted(body, job, version);
	(void)buf_addstr(body, " ]; then\n");
	(void)buf_addf(&text, "Git version at least \"%s\"", version);
	r = script_echo(body, job->shell, SCRIPT_ECHO_PLAIN, text.data);
	buf_release(&text);
	return r;
}

/*
 * gitlab-runner's writeCloneRevisionCmd: git clone --no-checkout of the
 * URL without credentials into the project dir, --depth, the ref as
 * --revision (a full "refs/..." name) or --branch, then
 * GIT_CLONE_EXTRA_FLAGS.  Where gitlab-runner's --template carries its
 * credentials config, crunner's include is set with --config, which git
 * writes to the new repository before it fetches.
 */
static int native_clone(struct buf *body, const struct job *job,
			const char *url, const char *plain, const char *include)
{
	const struct job_git_info *g = &job->payload->git_info;
	struct buf text = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	int r;

	if (g->depth > 0)
		(void)buf_addf(&text, "Cloning repository for %s with git depth set to %lld...",
			       g->ref ? g->ref : "", (long long)g->depth);
	else if (g->ref && *g->ref)
		(void)buf_addf(&text, "Cloning repository for %s...", g->ref);
	else
		(void)buf_addstr(&text, "Cloning repository...");
	if ((r = script_echo(body, job->shell, SCRIPT_ECHO_NOTICE, text.data)))
		goto out;
	if (strcmp(url, plain) &&
	    (r = write_credentials_include(body, job, url, plain, include)))
		goto out;

	git_remote_argv(&argv, job, plain);
	strvec_push(&argv, "clone");
	strvec_push(&argv, "--no-checkout");
	strvec_push(&argv, plain);
	strvec_push(&argv, job->project_dir);
	if (strcmp(url, plain)) {
		strvec_push(&argv, "--config");
		strvec_pushf(&argv, "include.path=%s", include);
	}
	if (g->depth > 0) {
		strvec_push(&argv, "--depth");
		strvec_pushf(&argv, "%lld", (long long)g->depth);
	}
	if (g->ref && !strncmp(g->ref, "refs/", 5)) {
		strvec_push(&argv, "--revision");
		strvec_push(&argv, g->ref);
	} else if (g->ref && *g->ref) {
		strvec_push(&argv, "--branch");
		strvec_push(&argv, g->ref);
	}
	push_words(&argv, variables_get(&job->vars, "GIT_CLONE_EXTRA_FLAGS"));
	if ((r = run_argv(body, job, argv.v)))
		goto out;
	(void)buf_addstr(body, "cd ");
	(void)quoted(body, job, job->project_dir);
	r = line(body, "");
out:
	strvec_clear(&argv);
	buf_release(&text);
	return r;
}

static int fetch_and_checkout(struct buf *body, const struct job *job)
{
	const struct job_payload *p = job->payload;
	const struct job_git_info *g = &p->git_info;
	struct buf plain = BUF_INIT, include = BUF_INIT, text = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	const char *clean = variables_get(&job->vars, "GIT_CLEAN_FLAGS");
	struct buf remote = BUF_INIT;
	const char *url;
	int r;

	if ((r = remote_url_build(g->repo_url, job->settings.runner->clone_url,
				  variables_get(&job->vars, "CI_PROJECT_PATH"),
				  p->token, &remote))) {
		buf_release_secret(&remote);
		return r;
	}
	url = remote.data;
	url_without_credentials(url, &plain);
	(void)buf_addf(&include, "%s/" JOB_GIT_CREDENTIALS,
		       job->tmp_project_dir);

	if (native_clone_wanted(job)) {
		r = git_version_at_least(body, job, GIT_NATIVE_CLONE_VERSION);
		if (!r)
			r = native_clone(body, job, url, plain.data,
					 include.data);
		/* No line(): $? here is the failed test's. */
		if (!r)
			r = buf_addstr(body, "else\n");
		if (!r)
			r = init_and_fetch(body, job, url, plain.data,
					   include.data);
		if (!r)
			r = buf_addstr(body, "fi\n");
	} else {
		r = init_and_fetch(body, job, url, plain.data, include.data);
	}
	if (r)
		goto out;

	if (variables_get_bool(&job->vars, "GIT_CHECKOUT", 1)) {
		const char *sha = g->sha ? g->sha : "HEAD";
		const char *co[] = { "git", "-c", "submodule.recurse=false",
				     "checkout", "-f", "-q", sha, NULL };

		buf_reset(&text);
		(void)buf_addf(&text, "Checking out %.8s as detached HEAD (ref is %s)...",
			       sha, g->ref ? g->ref : "");
		if ((r = script_echo(body, job->shell, SCRIPT_ECHO_NOTICE,
				     text.data)) ||
		    (r = run_argv(body, job, co)))
			goto out;
		if (!clean)
			clean = "-ffdx";
		if (strcmp(clean, "none")) {
			strvec_clear(&argv);
			strvec_push(&argv, "git");
			strvec_push(&argv, "clean");
			push_words(&argv, clean);
			if ((r = run_argv(body, job, argv.v)))
				goto out;
		}
	} else {
		r = script_echo(body, job->shell, SCRIPT_ECHO_NOTICE,
				"Skipping Git checkout");
		if (r)
			goto out;
	}
	r = submodules(body, job, g);
out:
	strvec_clear(&argv);
	buf_release_secret(&remote);
	buf_release(&plain);
	buf_release_secret(&include);
	buf_release(&text);
	return r;
}

/*
 * FF_GIT_URLS_WITHOUT_TOKENS, as gitlab-runner's setupTokenlessGitConfig:
 * the file GIT_CONFIG_GLOBAL names (engine_env.c) is written afresh with
 * includes of the user's global configs that exist, then of the
 * credentials include, so every git command of the job (a clone of
 * another project in the script too) gets the credential helper and the
 * job's "git config --global" writes stay in the job.  Without git
 * (GIT_STRATEGY none or empty) the credentials include is written here.
 */
static int tokenless_git_config(struct buf *body, const struct job *job,
				const char *strategy)
{
	static const char *const user_configs[] = {
		"\"$HOME/.gitconfig\"", "\"$HOME/.config/git/config\"",
	};
	struct buf seed = BUF_INIT, include = BUF_INIT, text = BUF_INIT;
	size_t i;
	int r;

	if (!variables_get_bool(&job->vars, "FF_GIT_URLS_WITHOUT_TOKENS", 0))
		return 0;
	(void)buf_addf(&seed, "%s/" JOB_GIT_CONFIG_GLOBAL, job->tmp_project_dir);
	(void)buf_addf(&include, "%s/" JOB_GIT_CREDENTIALS,
		       job->tmp_project_dir);
	{
		const char *rm[] = { "rm", "-f", seed.data, NULL };

		if ((r = run_argv(body, job, rm)))
			goto out;
	}
	for (i = 0; i < 2; i++) {
		buf_reset(&text);
		(void)buf_addf(&text, "if [ -r %s ]; then git config --file ",
			       user_configs[i]);
		(void)quoted(&text, job, seed.data);
		(void)buf_addf(&text, " --add include.path %s; fi",
			       user_configs[i]);
		if ((r = line(body, text.data)))
			goto out;
	}
	{
		const char *add[] = { "git", "config", "--file", seed.data,
				      "--add", "include.path", include.data,
				      NULL };

		if ((r = run_argv(body, job, add)))
			goto out;
	}
	if (!strcmp(strategy, "none") || !strcmp(strategy, "empty")) {
		const struct job_payload *p = job->payload;
		struct buf remote = BUF_INIT, plain = BUF_INIT;

		r = remote_url_build(p->git_info.repo_url,
				     job->settings.runner->clone_url,
				     variables_get(&job->vars, "CI_PROJECT_PATH"),
				     p->token, &remote);
		if (!r) {
			url_without_credentials(remote.data, &plain);
			if (strcmp(remote.data, plain.data))
				r = write_credentials_include(body, job,
							      remote.data,
							      plain.data,
							      include.data);
		}
		buf_release_secret(&remote);
		buf_release(&plain);
	}
out:
	buf_release(&seed);
	buf_release_secret(&include);
	buf_release(&text);
	return r;
}

int job_stage_get_sources(struct job *job, const struct job_stage *stage,
			  struct buf *out, struct buf *err)
{
	const struct runner_config *rc = job->settings.runner;
	const char *strategy = job_git_strategy(job);
	struct buf body = BUF_INIT;
	const char *rm[] = { "rm", "-rf", job->project_dir, NULL };
	const char *mk[] = { "mkdir", "-p", job->project_dir, NULL };
	const char *safe_dir[] = { "git", "config", "--global", "--add",
				   "safe.directory", job->project_dir, NULL };
	size_t i, nr_env;
	struct script_var *env;
	int r;

	(void)stage;
	env = job_env_script_vars(job, &nr_env);
	for (i = 0; i < nr_env; i++)
		(void)script_export(&body, job->shell, env[i].key,
				    env[i].value);
	free(env);
	(void)line(&body, "export GIT_TERMINAL_PROMPT=0 GCM_INTERACTIVE=Never");

	r = tokenless_git_config(&body, job, strategy);
	if (r) {
		/* an error: nothing more */
	} else if (!strcmp(strategy, "none")) {
		r = script_echo(&body, job->shell, SCRIPT_ECHO_NOTICE,
				"Skipping Git repository setup");
		if (!r)
			r = run_argv(&body, job, mk);
	} else if (!strcmp(strategy, "empty")) {
		r = script_echo(&body, job->shell, SCRIPT_ECHO_NOTICE,
				"Skipping Git repository setup and creating an empty build directory");
		if (!r)
			r = run_argv(&body, job, rm);
		if (!r)
			r = run_argv(&body, job, mk);
	} else {
		r = hook_commands(&body, job, rc->pre_get_sources_script,
				  "pre_get_sources_script", "pre_clone_script");
		if (!r && !strcmp(strategy, "clone"))
			r = run_argv(&body, job, rm);
		/* A worktree another user owns (an earlier job's image) stays usable. */
		if (!r && executor_defaults_safe_directory(rc))
			r = run_argv(&body, job, safe_dir);
		if (!r)
			r = fetch_and_checkout(&body, job);
		if (!r) {
			(void)buf_addstr(&body, "cd ");
			(void)quoted(&body, job, job->project_dir);
			r = line(&body, "");
		}
		if (!r)
			r = hook_commands(&body, job,
					  rc->post_get_sources_script,
					  "post_get_sources_script",
					  "post_clone_script");
	}
	if (!r)
		r = script_wrap(out, job->shell,
				job_script_flags(job) & SCRIPT_LEGACY_EVAL,
				body.data, body.len);
	if (r)
		buf_seterr(err, "cannot build the get_sources script: %s",
			   cr_strerror(r));
	buf_release_secret(&body);
	return r;
}

/*
 * Before get_sources is tried again: a worktree a failed fetch left in a
 * bad state (e.g. untracked files in an uninitialised submodule) is
 * emptied with git rm, which removes whole submodules, then git clean.
 */
int job_stage_clear_worktree(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err)
{
	const char *rm[] = { "git", "rm", "-rf", "--ignore-unmatch", ".", NULL };
	const char *clean[] = { "git", "clean", "-ffdx", NULL };
	struct buf body = BUF_INIT;
	int r;

	(void)stage;
	r = script_echo(&body, job->shell, SCRIPT_ECHO_NOTICE,
			"Deleting tracked and untracked files...");
	if (!r)
		r = buf_addstr(&body, "if [ -d ");
	if (!r)
		r = quoted(&body, job, job->project_dir);
	if (!r)
		r = buf_addstr(&body, " ]; then\ncd ");
	if (!r)
		r = quoted(&body, job, job->project_dir);
	if (!r)
		r = line(&body, "");
	if (!r)
		r = run_argv(&body, job, rm);
	if (!r)
		r = run_argv(&body, job, clean);
	if (!r)
		r = buf_addstr(&body, "fi\n");
	if (!r)
		r = script_wrap(out, job->shell,
				job_script_flags(job) & SCRIPT_LEGACY_EVAL,
				body.data, body.len);
	if (r)
		buf_seterr(err, "cannot build the clear_worktree script: %s",
			   cr_strerror(r));
	buf_release(&body);
	return r;
}

/*
 * Without git (GIT_STRATEGY none or empty) on this host, get_sources is
 * one notice and a mkdir: crunner does it itself rather than start a
 * shell for it (a few ms per job).  Backends whose jobs live elsewhere
 * (stage_scripts_everywhere) still get the script.
 */
bool job_get_sources_as_script(const struct job *job)
{
	const char *strategy = job_git_strategy(job);

	return job_stage_scripts(job) ||
	       (strcmp(strategy, "none") && strcmp(strategy, "empty")) ||
	       variables_get_bool(&job->vars, "FF_GIT_URLS_WITHOUT_TOKENS", 0);
}

bool job_get_sources_has_work(struct job *job, const struct job_stage *stage)
{
	(void)job;
	(void)stage;
	return true;	/* the notice at least, as the script prints it */
}

void job_get_sources_start(struct job *job, const struct job_stage *stage)
{
	bool empty = !strcmp(job_git_strategy(job), "empty");
	struct buf err = BUF_INIT;

	(void)stage;
	trace_sink_info(job->sink, "%s", empty ?
			"Skipping Git repository setup and creating an empty build directory" :
			"Skipping Git repository setup");
	if (empty)
		fs_remove_tree(job->project_dir);
	if (run_as_mkdir_p(job->run_as, job->project_dir, 0777, &err) != 0) {
		trace_sink_error(job->sink, "%s", err.data);
		buf_release(&err);
		job_native_done(job, 1, 0);
		return;
	}
	job_native_done(job, 0, 0);
}


/*
 * FF_ENABLE_JOB_CLEANUP, as gitlab-runner's
 * writeCleanupBuildDirectoryScript: at the end of the job a clone (or
 * empty) project dir is removed; a fetched one is cleaned with
 * GIT_CLEAN_FLAGS and reset, its submodules too when
 * GIT_SUBMODULE_STRATEGY is normal or recursive; with none it is left.
 */
int job_cleanup_build_dir(const struct job *job, struct buf *body)
{
	const char *strategy = job_git_strategy(job);
	const char *sub = variables_get(&job->vars, "GIT_SUBMODULE_STRATEGY");
	const char *clean = variables_get(&job->vars, "GIT_CLEAN_FLAGS");
	bool with_submodules = sub && (!strcmp(sub, "normal") ||
				       !strcmp(sub, "recursive"));
	struct strvec argv = STRVEC_INIT, clean_args = STRVEC_INIT;
	int r;

	if (!variables_get_bool(&job->vars, "FF_ENABLE_JOB_CLEANUP", 0))
		return 0;
	if (!strcmp(strategy, "none"))
		return script_echo(body, job->shell, SCRIPT_ECHO_NOTICE,
				   "Skipping build directory cleanup step");
	if (strcmp(strategy, "fetch")) {
		const char *chmod[] = { "chmod", "-R", "u+rwX",
					job->project_dir, NULL };
		const char *rm[] = { "rm", "-r", "-f", job->project_dir, NULL };

		(void)buf_addstr(body, "if [ -d ");
		(void)quoted(body, job, job->project_dir);
		if ((r = buf_addstr(body, " ]; then ")) ||
		    (r = run_argv(body, job, chmod)) ||
		    (r = buf_addstr(body, "fi\n")))
			return r;
		return run_argv(body, job, rm);
	}
	/*
	 * Only a worktree there is cleaned: a failed get_sources may have
	 * left none, and the cleanup stage must not fail the job for it.
	 */
	(void)buf_addstr(body, "if [ -d ");
	(void)quoted(body, job, job->project_dir);
	if ((r = buf_addstr(body, "/.git ]; then\n")))
		return r;
	{
		const char *cd[] = { "cd", job->project_dir, NULL };

		if ((r = run_argv(body, job, cd)))
			return r;
	}
	strvec_push(&clean_args, "git");
	strvec_push(&clean_args, "clean");
	push_words(&clean_args, clean ? clean : "-ffdx");
	if (clean_args.nr > 2 && (r = run_argv(body, job, clean_args.v)))
		goto out;
	if ((r = run_argv(body, job, (const char *[]){ "git", "reset", "--hard",
						       NULL })))
		goto out;
	if (with_submodules) {
		const bool recursive = !strcmp(sub, "recursive");
		size_t i;

		if (clean_args.nr > 2) {
			submodule_argv(&argv, "foreach", recursive);
			for (i = 0; i < clean_args.nr; i++)
				strvec_push(&argv, clean_args.v[i]);
			if ((r = run_argv(body, job, argv.v)))
				goto out;
		}
		submodule_argv(&argv, "foreach", recursive);
		strvec_pushv(&argv, (const char *[]){ "git", "reset", "--hard",
						      NULL });
		if ((r = run_argv(body, job, argv.v)))
			goto out;
	}
	r = buf_addstr(body, "fi\n");
out:
	strvec_clear(&argv);
	strvec_clear(&clean_args);
	return r;
}
