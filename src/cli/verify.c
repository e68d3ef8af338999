/*
 * crunner verify: asks GitLab whether each runner of config.toml (or the
 * ones selected by --name, --url, --token) still exists, as gitlab-runner
 * verify does.  A runner GitLab refuses (403) fails the verb, unless
 * --delete removes it from config.toml.  Unlike gitlab-runner, a runner
 * that could not be checked at all (GitLab unreachable, 5xx) also makes
 * the verb fail; it is never deleted.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "config/system_id.h"
#include "gitlab/api.h"
#include "gitlab/runner_info.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

enum verify_outcome {
	VERIFY_OK,
	VERIFY_GONE,		/* 403: GitLab does not know the token */
	VERIFY_FAILED,		/* no answer that says either */
};

static enum verify_outcome verify_one(const struct config *cfg,
				      const struct runner_config *rc,
				      const char *system_id)
{
	struct gl_client_options co;
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct gl_info info;
	struct buf err = BUF_INIT, why = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	bool created = cli_token_is_created(rc->token);
	enum verify_outcome outcome = VERIFY_FAILED;

	runner_short_token(rc->token, short_token);
	runner_info_init(&info, rc);
	cli_runner_client_options(&co, rc,
				  (long)(cfg->connection_max_age_ms / 1000));
	p.token = rc->token;
	p.system_id = system_id;
	p.info = &info;
	if (!rc->url || !rc->token) {
		log_error("Verifying runner... failed runner=%s name=%s: no %s in config.toml",
			  short_token, rc->name ? rc->name : "",
			  rc->url ? "token" : "url");
		goto out;
	}
	if (gl_runner_call_sync(&co, GL_RUNNER_VERIFY, &p, &reply, &err) != 0) {
		log_error("Verifying runner... failed runner=%s: %s", short_token,
			  err.data);
		goto out;
	}
	if (reply.result == GL_OK) {
		log_info("Verifying runner... is %s runner=%s",
			 created ? "valid" : "alive", short_token);
		outcome = VERIFY_OK;
	} else if (reply.status == 403) {
		/* gitlab-runner's words, which scripts look for. */
		if (created)
			log_error("Verifying runner... is not valid runner=%s",
				  short_token);
		else
			log_error("Verifying runner... is removed runner=%s",
				  short_token);
		outcome = VERIFY_GONE;
	} else {
		cli_runner_describe(&why, &reply, rc->token);
		log_error("Verifying runner... failed runner=%s: %s",
			  short_token, why.data);
	}
out:
	gl_runner_reply_release(&reply);
	buf_release(&err);
	buf_release(&why);
	return outcome;
}

/* A given --url and --token must both match (gitlab-runner's SameAs). */
static bool selected(const struct runner_config *rc, const char *name,
		     const char *url, const char *token)
{
	if (!name && !url && !token)
		return true;
	if (name && rc->name && !strcmp(rc->name, name))
		return true;
	if (!url && !token)
		return false;
	return (!url || (rc->url && !strcmp(rc->url, url))) &&
	       (!token || (rc->token && !strcmp(rc->token, token)));
}

int cmd_verify(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "delete", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("verify");
	struct config cfg = { 0 };
	struct buf err = BUF_INIT;
	const char *name = NULL, *url = NULL;
	char *token = NULL;
	char system_id[SYSTEM_ID_SIZE];
	bool delete = false, *gone = NULL;
	size_t i, nr_selected = 0, nr_gone = 0, nr_failed = 0;
	int c, code;

	while ((c = getopt_long(argc, argv, "n:u:t:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 't':
			free_secret(token);
			token = xstrdup(optarg);
			break;
		case 'd':
			delete = true;
			break;
		case 'c':
			g->config_path = optarg;
			break;
		default:
			code = cli_usage_error(verb, "unknown option");
			goto out;
		}
	}
	if (optind < argc) {
		code = cli_usage_error(verb, "unexpected argument '%s'",
				       argv[optind]);
		goto out;
	}
	if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK)
		goto out;
	cli_system_id(cfg.path, system_id, sizeof(system_id));

	code = CR_EXIT_FAILURE;
	gone = xcalloc(cfg.nr_runners + 1, sizeof(*gone));
	for (i = 0; i < cfg.nr_runners; i++) {
		if (!selected(cfg.runners[i], name, url, token))
			continue;
		nr_selected++;
		/* GitLab still knows it; it just never asks for jobs. */
		(void)cli_runner_check_executor(cfg.runners[i]);
		switch (verify_one(&cfg, cfg.runners[i], system_id)) {
		case VERIFY_OK:
			break;
		case VERIFY_GONE:
			gone[i] = true;
			nr_gone++;
			break;
		case VERIFY_FAILED:
			nr_failed++;
			break;
		}
	}
	if ((name || url || token) && !nr_selected) {
		cli_error("no runner matches the filtering parameters in '%s'",
			  cfg.path);
		goto out;
	}
	if (nr_gone && !delete) {
		cli_error("failed to verify runners: %zu of %zu %s not known to GitLab (--delete removes %s from '%s')",
			  nr_gone, nr_selected, nr_gone == 1 ? "is" : "are",
			  nr_gone == 1 ? "it" : "them", cfg.path);
		goto out;
	}
	if (nr_gone) {
		/* Backwards, so the indexes still ahead stay valid. */
		for (i = cfg.nr_runners; i-- > 0;)
			if (gone[i] && config_runner_remove(&cfg, i) != 0) {
				cli_error("cannot remove runner %zu from '%s'",
					  i + 1, cfg.path);
				goto out;
			}
		if (config_save(&cfg, &err) != 0) {
			cli_error("%s", err.data);
			goto out;
		}
		log_info("Updated %s", cfg.path);
	}
	if (nr_failed) {
		cli_error("could not verify %zu of %zu runners", nr_failed,
			  nr_selected);
		goto out;
	}
	code = CR_EXIT_OK;
out:
	free(gone);
	free_secret(token);
	config_release(&cfg);
	buf_release(&err);
	return code;
}
