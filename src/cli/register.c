/*
 * crunner register: adds a [[runners]] entry to config.toml, as
 * gitlab-runner register does.
 *
 * With a runner authentication token (glrt-, runner created in GitLab) it
 * only verifies the token (POST runners/verify with this host's system ID)
 * and stores it; the runner's settings belong to GitLab.  With a legacy
 * registration token it creates the runner (POST runners) with the tags,
 * locking and the other settings given here, and stores the token GitLab
 * hands back.  Values come from the flags, then gitlab-runner's environment
 * variables; on a terminal, without --non-interactive, every question is
 * asked with that value as the default.  Without a terminal a missing value
 * is a usage error.  When something fails after GitLab took the runner, the
 * runner is unregistered again (unless --leave-runner), so no orphan is
 * left behind; config.toml is only written once everything worked.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/register_int.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "config/toml.h"
#include "executor/executor.h"
#include "gitlab/api.h"
#include "gitlab/runner_info.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Executors `register` offers; the prompt lists those crunner can run. */
static const char *const executor_names[] = {
	"shell", "docker", "docker-windows", "docker+machine",
	"docker-autoscaler", "custom", "instance", "kubernetes", "ssh",
	"parallels", "virtualbox",
};

/* Calls GitLab for the runner being registered. */
static int call(struct reg *r, enum gl_runner_op op,
		const struct gl_runner_params *p, struct gl_runner_reply *reply,
		struct buf *err)
{
	struct gl_client_options co;

	cli_runner_client_options(&co, &r->rc,
				  (long)(r->cfg.connection_max_age_ms / 1000));
	return gl_runner_call_sync(&co, op, p, reply, err);
}

/* Takes the runner back from GitLab after a later step failed. */
static void undo_registration(struct reg *r)
{
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct buf err = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	bool manager = cli_token_is_created(r->rc.token);

	if (!r->registered || r->leave_runner)
		return;
	p.token = r->rc.token;
	p.system_id = r->system_id;
	runner_short_token(r->rc.token, short_token);
	if (call(r, manager ? GL_RUNNER_UNREGISTER_MANAGER : GL_RUNNER_UNREGISTER,
		 &p, &reply, &err) == 0 && reply.result == GL_OK)
		log_info("Unregistering runner%s from GitLab succeeded runner=%s",
			 manager ? " manager" : "", short_token);
	else
		log_warn("could not unregister runner %s again: %s", short_token,
			 err.len ? err.data : reply.message.data);
	gl_runner_reply_release(&reply);
	buf_release(&err);
}

/* Registration failed at GitLab: one line saying why. */
static int call_failed(struct reg *r, const char *what,
		       const struct gl_runner_reply *reply, const char *token,
		       const char *hint)
{
	struct buf why = BUF_INIT;

	cli_runner_describe(&why, reply, token);
	cli_error("cannot %s at '%s': %s%s", what, r->rc.url, why.data,
		  hint ? hint : "");
	buf_release(&why);
	return CR_EXIT_FAILURE;
}

static void fill_info(struct gl_info *info, const struct runner_config *rc)
{
	runner_info_init(info, rc);
	/* Not chosen yet: say nothing rather than guess. */
	info->executor = rc->executor;
	info->shell = rc->shell;
}

/* A glrt- token: GitLab already has the runner; verify it (spec 1.4). */
static int verify_runner(struct reg *r)
{
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct gl_info info;
	struct buf err = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	int code = CR_EXIT_FAILURE;

	fill_info(&info, &r->rc);
	p.token = r->rc.token;
	p.system_id = r->system_id;
	p.info = &info;
	runner_short_token(r->rc.token, short_token);
	if (call(r, GL_RUNNER_VERIFY, &p, &reply, &err) != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_USAGE;
		goto out;
	}
	if (reply.result != GL_OK) {
		code = call_failed(r, "verify the runner", &reply, r->rc.token,
				   reply.status == 403 ?
				   " (the runner authentication token is not valid)" :
				   NULL);
		goto out;
	}
	if (cli_token_is_created(r->rc.token) && reply.id <= 0) {
		cli_error("cannot verify the runner at '%s': GitLab did not say which runner the token belongs to",
			  r->rc.url);
		goto out;
	}
	log_info("Verifying runner... is %s runner=%s",
		 cli_token_is_created(r->rc.token) ? "valid" : "alive",
		 short_token);
	if (reply.id > 0)
		r->rc.id = reply.id;
	if (cli_runner_set_token(&r->rc, r->rc.token, reply.token_expires_at,
				 time(NULL)))
		cli_warning("cannot read token_expires_at '%s' from GitLab; the token is stored without it",
			    reply.token_expires_at);
	/*
	 * Only this host's manager is new (a glrt- token); a runner that was
	 * registered before (-t with an older token) is not ours to remove.
	 */
	r->registered = cli_token_is_created(r->rc.token);
	code = 0;
out:
	gl_runner_reply_release(&reply);
	buf_release(&err);
	return code;
}

/* A registration token: create the runner (spec 1.3). */
static int register_runner(struct reg *r)
{
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct gl_info info;
	struct buf err = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	char *registration_token = r->rc.token;
	int code = CR_EXIT_FAILURE;

	if (!r->tag_list || !*r->tag_list)
		r->run_untagged = true;
	cli_warning("registration tokens are deprecated since GitLab 15.6: create the runner in GitLab and register it with its glrt- token");
	fill_info(&info, &r->rc);
	p.token = registration_token;
	p.description = r->rc.name;
	p.maintenance_note = r->maintenance_note;
	p.tag_list = r->tag_list;
	p.access_level = r->access_level;
	p.maximum_timeout = r->maximum_timeout;
	p.run_untagged = r->run_untagged;
	p.locked = r->locked;
	p.paused = r->paused;
	p.info = &info;
	if (call(r, GL_RUNNER_REGISTER, &p, &reply, &err) != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_USAGE;
		goto out;
	}
	if (reply.result != GL_OK) {
		code = call_failed(r, "register the runner", &reply,
				   registration_token,
				   reply.status == 403 ?
				   " (check the registration token)" :
				   reply.status == 410 ?
				   " (registration tokens are disabled on this GitLab: create the runner in GitLab and use its glrt- token with --token)" :
				   NULL);
		goto out;
	}
	r->rc.id = reply.id;
	/* From here on rc.token is the runner's own token. */
	if (cli_runner_set_token(&r->rc, reply.token, reply.token_expires_at,
				 time(NULL)))
		cli_warning("cannot read token_expires_at '%s' from GitLab; the token is stored without it",
			    reply.token_expires_at);
	r->registered = true;
	runner_short_token(r->rc.token, short_token);
	log_info("Registering runner... succeeded runner=%s", short_token);
	code = 0;
out:
	gl_runner_reply_release(&reply);
	buf_release(&err);
	return code;
}

/* gitlab-runner's ensureServerConfigArgsEmpty(). */
static int check_server_settings(struct reg *r)
{
	if (r->locked && (!r->access_level || !*r->access_level) &&
	    !r->run_untagged && !r->maximum_timeout && !r->paused &&
	    (!r->tag_list || !*r->tag_list) &&
	    (!r->maintenance_note || !*r->maintenance_note))
		return 0;
	if (r->token_from_registration_flag) {
		cli_warning("a runner authentication token was given as --registration-token: --locked, --access-level, --run-untagged, --maximum-timeout, --paused, --tag-list and --maintenance-note are ignored (GitLab keeps these settings)");
		return 0;
	}
	cli_error("--locked, --access-level, --run-untagged, --maximum-timeout, --paused, --tag-list and --maintenance-note cannot be used with a runner authentication token: set them on the runner in GitLab");
	return CR_EXIT_USAGE;
}

/* gitlab-runner's askRunner(): the URL, the token, then GitLab's answer. */
static int ask_runner(struct reg *r)
{
	struct buf err = BUF_INIT, base = BUF_INIT;
	int code;

	if ((code = REGISTER_ASK(r, rc.url,
			"Enter the GitLab instance URL (for example, https://gitlab.com/):",
			0)) != 0)
		return code;
	code = gl_base_url(r->rc.url, &base, &err);
	if (code)
		cli_error("%s", err.data);
	buf_release(&base);
	buf_release(&err);
	if (code)
		return CR_EXIT_USAGE;

	if (r->rc.token && *r->rc.token && !cli_token_is_created(r->rc.token)) {
		/* A token of a runner registered earlier: only check it. */
		log_info("Token specified trying to verify runner...");
		log_warn("If you want to register use the '-r' instead of '-t'.");
		return verify_runner(r);
	}
	if (!r->rc.token || !*r->rc.token) {
		free_secret(r->rc.token);
		r->rc.token = r->registration_token ?
			xstrdup(r->registration_token) : NULL;
		if ((code = REGISTER_ASK(r, rc.token,
				"Enter the registration token:", ASK_SECRET)) != 0)
			return code;
		r->token_from_registration_flag = r->registration_token &&
			!strcmp(r->registration_token, r->rc.token);
	}
	if (!cli_token_is_created(r->rc.token)) {
		if ((code = REGISTER_ASK(r, rc.name,
				"Enter a description for the runner:", 0)) != 0 ||
		    (code = REGISTER_ASK(r, tag_list,
				"Enter tags for the runner (comma-separated):",
				ASK_OPTIONAL)) != 0 ||
		    (code = REGISTER_ASK(r, maintenance_note,
				"Enter optional maintenance note for the runner:",
				ASK_OPTIONAL)) != 0)
			return code;
		return register_runner(r);
	}
	if (config_find_runner_by_token(&r->cfg, r->rc.url, r->rc.token, NULL))
		log_warn("A runner with this system ID and token has already been registered.");
	if ((code = check_server_settings(r)) != 0 ||
	    (code = verify_runner(r)) != 0)
		return code;
	return REGISTER_ASK(r, rc.name,
		   "Enter a name for the runner. This is stored only in the local config.toml file:",
		   0);
}

static bool is_docker(const char *executor)
{
	return !strncmp(executor, "docker", 6);
}

/*
 * gitlab-runner's askSSHServer() and askSSHLogin() for the ssh executor:
 * the host and the user are needed, the rest may stay empty (without a
 * terminal a missing needed one is a usage error).
 */
static int ask_ssh(struct reg *r)
{
	int code;

	r->rc.ssh.present = true;
	if ((code = REGISTER_ASK(r, rc.ssh.host,
			"Enter the SSH server address (for example, my.server.com):",
			0)) != 0 ||
	    (code = REGISTER_ASK(r, rc.ssh.port,
			"Enter the SSH server port (for example, 22):",
			ASK_OPTIONAL)) != 0 ||
	    (code = REGISTER_ASK(r, rc.ssh.user,
			"Enter the SSH user (for example, root):", 0)) != 0 ||
	    (code = REGISTER_ASK(r, rc.ssh.password,
			"Enter the SSH password (for example, docker.io):",
			ASK_OPTIONAL)) != 0)
		return code;
	return REGISTER_ASK(r, rc.ssh.identity_file,
		"Enter the path to the SSH identity file (for example, /home/user/.ssh/id_rsa):",
		ASK_OPTIONAL);
}

/* The executor and what it needs; re-asked on a terminal until valid. */
static int ask_executor(struct reg *r)
{
	struct buf question = BUF_INIT, err = BUF_INIT;
	size_t i, n = 0;
	int code;

	(void)buf_addstr(&question, "Enter an executor: ");
	for (i = 0; i < sizeof(executor_names) / sizeof(executor_names[0]); i++)
		if (executor_find(executor_names[i]))
			(void)buf_addf(&question, "%s%s", n++ ? ", " : "",
				       executor_names[i]);
	(void)buf_addch(&question, ':');
	for (;;) {
		if ((code = REGISTER_ASK(r, rc.executor,
				question.data, 0)) != 0)
			goto out;
		buf_reset(&err);
		if (config_runner_check(&r->rc, &err) == 0)
			break;
		if (!r->interactive) {
			cli_error("%s", err.data);
			code = CR_EXIT_USAGE;
			goto out;
		}
		log_error("Invalid executor specified: %s", err.data);
		free(r->rc.executor);
		r->rc.executor = NULL;
	}
	if (!executor_find(r->rc.executor))
		cli_warning("crunner cannot run jobs with the '%s' executor yet; the runner is registered, but its jobs will fail until it can",
			    r->rc.executor);
	if (is_docker(r->rc.executor)) {
		const char *cache = strcmp(r->rc.executor, "docker-windows") ?
			"/cache" : "c:\\cache";
		bool has_cache = false;

		if ((code = REGISTER_ASK(r, rc.docker.image,
				strcmp(r->rc.executor, "docker-windows") ?
				"Enter the default Docker image (for example, ruby:3.3):" :
				"Enter the default Docker image (for example, mcr.microsoft.com/windows/servercore:1809):",
				0)) != 0)
			goto out;
		r->rc.docker.present = true;
		for (i = 0; i < r->rc.docker.volumes.nr; i++) {
			const char *v = r->rc.docker.volumes.v[i];
			size_t len = strlen(v), cl = strlen(cache);

			if (len >= cl && !strcmp(v + len - cl, cache))
				has_cache = true;
		}
		if (!has_cache && !r->rc.docker.disable_cache)
			strvec_push(&r->rc.docker.volumes, cache);
	}
	if (!strcmp(r->rc.executor, "ssh") && (code = ask_ssh(r)) != 0)
		goto out;
	code = 0;
out:
	buf_release(&question);
	buf_release(&err);
	return code;
}

/*
 * Without questions, what is asked after GitLab took the runner must be
 * known before: failing then would register and unregister for nothing.
 */
static int check_unattended(struct reg *r)
{
	int code;

	if (r->interactive)
		return 0;
	if ((code = REGISTER_ASK(r, rc.url, NULL, 0)) != 0)
		return code;
	if ((!r->rc.token || !*r->rc.token) &&
	    (!r->registration_token || !*r->registration_token)) {
		cli_error("the token needs to be entered: give --token or $CI_SERVER_TOKEN (--registration-token for a legacy registration token)%s",
			  r->non_interactive ? "" :
			  ", or run 'crunner register' on a terminal");
		return CR_EXIT_USAGE;
	}
	if ((code = REGISTER_ASK(r, rc.executor, NULL, 0)) != 0)
		return code;
	if (is_docker(r->rc.executor))
		return REGISTER_ASK(r, rc.docker.image, NULL, 0);
	if (!strcmp(r->rc.executor, "ssh"))
		return ask_ssh(r);
	return 0;
}

static void set_defaults(struct reg *r)
{
	char host[256] = "";

	runner_config_init(&r->rc);
	r->tree = toml_new_table();
	/* gitlab-runner's default name, before flags and template. */
	if (gethostname(host, sizeof(host) - 1) == 0 && *host)
		toml_table_set(r->tree, "name", toml_new_string(host));
	r->locked = true;
}

/*
 * gitlab-runner's askExecutorOptions(): the sections of other executors
 * are dropped, whatever flags or the template said (the cache stays).
 */
static void keep_executor_sections(struct reg *r)
{
	static const struct {
		const char *executor, *keep;
	} keep[] = {
		{ "kubernetes", " kubernetes " },
		{ "docker+machine", " machine docker " },
		{ "docker", " docker " },
		{ "docker-autoscaler", " docker " },
		{ "docker-windows", " docker " },
		{ "ssh", " ssh " },
		{ "parallels", " ssh parallels " },
		{ "virtualbox", " ssh virtualbox " },
		{ "custom", " custom " },
	};
	static const char *const sections[] = {
		"kubernetes", "machine", "docker", "ssh", "parallels",
		"virtualbox", "custom", "referees",
	};
	const char *kept = "";
	char word[32];
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (!strcmp(r->rc.executor, keep[i].executor))
			kept = keep[i].keep;
	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		snprintf(word, sizeof(word), " %s ", sections[i]);
		if (strstr(kept, word))
			continue;
		toml_table_remove(r->tree, sections[i]);
		if (!strcmp(sections[i], "docker"))
			r->rc.docker.present = false;
		else if (!strcmp(sections[i], "custom"))
			r->rc.custom.present = false;
	}
	if (!strcmp(r->rc.executor, "docker-windows") && !r->rc.shell)
		r->rc.shell = xstrdup("pwsh");
}

/* The new entry as gitlab-runner writes it, then into config.toml. */
static int save_runner(struct reg *r)
{
	struct buf err = BUF_INIT;
	int code = CR_EXIT_FAILURE;

	keep_executor_sections(r);
	r->rc.custom_build_dir.present = true;
	r->rc.cache.present = true;
	r->rc.cache.s3.present = true;
	r->rc.cache.gcs.present = true;
	r->rc.cache.azure.present = true;
	if (config_runner_check(&r->rc, &err) != 0) {
		cli_error("%s", err.data);
		goto out;
	}
	if (config_runner_add_tree(&r->cfg, &r->rc, r->tree) != 0) {
		cli_error("cannot add the runner to '%s'", r->cfg.path);
		goto out;
	}
	if (config_save(&r->cfg, &err) != 0) {
		cli_error("%s", err.data);
		goto out;
	}
	code = 0;
out:
	buf_release(&err);
	return code;
}

int cmd_register(int argc, char **argv, struct cli_globals *g)
{
	struct reg r;
	struct buf err = BUF_INIT;
	const char *path;
	size_t i;
	int code;

	memset(&r, 0, sizeof(r));
	set_defaults(&r);
	if ((code = register_parse_args(&r, argc, argv, g)) != 0)
		goto out;
	if (r.access_level && *r.access_level &&
	    strcmp(r.access_level, "not_protected") &&
	    strcmp(r.access_level, "ref_protected")) {
		code = cli_usage_error(register_verb(), "--access-level must be not_protected or ref_protected, not '%s'",
				       r.access_level);
		goto out;
	}
	if (config_runner_check(&r.rc, &err) != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_USAGE;
		goto out;
	}
	r.interactive = !r.non_interactive && isatty(STDIN_FILENO);
	if ((code = check_unattended(&r)) != 0)
		goto out;

	path = cli_config_path(g);
	if ((code = config_load(path, &r.cfg, &err)) == CR_ERR_NOT_FOUND) {
		config_default(&r.cfg, path);
	} else if (code != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_CONFIG;
		goto out;
	}
	for (i = 0; i < r.cfg.warnings.nr; i++)
		cli_warning("%s", r.cfg.warnings.v[i]);
	cli_system_id(r.cfg.path, r.system_id, sizeof(r.system_id));

	if ((code = ask_runner(&r)) != 0 || (code = ask_executor(&r)) != 0 ||
	    (code = save_runner(&r)) != 0) {
		undo_registration(&r);
		goto out;
	}
	if (r.rc.limit > r.cfg.concurrent)
		cli_warning("the runner's job limit (%d) is larger than the global concurrent limit (%d), which takes precedence",
			    r.rc.limit, r.cfg.concurrent);
	if (r.rc.request_concurrency > r.cfg.concurrent)
		cli_warning("the runner's request concurrency (%d) is larger than the global concurrent limit (%d), which takes precedence",
			    r.rc.request_concurrency, r.cfg.concurrent);
	log_info("Runner registered successfully. Feel free to start it, but if it's running already the config should be automatically reloaded!");
	log_info("Configuration (with the authentication token) was saved in \"%s\"",
		 r.cfg.path);
	code = CR_EXIT_OK;
out:
	runner_config_release(&r.rc);
	config_runner_tree_free(r.tree);
	free(r.template_path);
	free_secret(r.registration_token);
	free(r.tag_list);
	free(r.access_level);
	free(r.maintenance_note);
	config_release(&r.cfg);
	buf_release(&err);
	return code;
}
