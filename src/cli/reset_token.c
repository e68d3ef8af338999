/*
 * crunner reset-token: asks GitLab for a new runner authentication token
 * and writes it to config.toml, as gitlab-runner reset-token does.  The
 * runner is chosen by --name, or by --url and --id; --all-runners resets
 * every one.  Normally the current token authenticates the request (POST
 * runners/reset_authentication_token); with --pat an administrator's
 * personal access token does (POST runners/:id/reset_authentication_token).
 * The old token stops working at once, so config.toml is written as soon as
 * one token changed, even when another reset failed.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "gitlab/api.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Returns 0 when the runner at index has its new token, else -1. */
static int reset_one(struct config *cfg, size_t index, const char *pat,
		     bool single)
{
	struct runner_config *rc = cfg->runners[index];
	struct gl_client_options co;
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct buf err = BUF_INIT, why = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	int r = -1;

	runner_short_token(rc->token, short_token);
	cli_runner_client_options(&co, rc,
				  (long)(cfg->connection_max_age_ms / 1000));
	p.token = rc->token;
	p.private_token = pat;
	p.runner_id = rc->id;
	if (!rc->url || (!pat && !rc->token)) {
		(void)buf_addf(&why, "no %s in config.toml",
			       rc->url ? "token" : "url");
	} else if (pat && rc->id <= 0) {
		(void)buf_addstr(&why, "--pat needs the runner's id, and config.toml has none");
	} else if (gl_runner_call_sync(&co, GL_RUNNER_RESET_TOKEN, &p, &reply,
				       &err) != 0) {
		(void)buf_addstr(&why, err.data);
	} else if (reply.result != GL_OK) {
		cli_runner_describe(&why, &reply, rc->token);
		if (reply.status == 403 || reply.status == 401)
			(void)buf_addstr(&why, pat ? " (check the personal access token)" :
					 " (check the runner's token)");
	} else {
		r = 0;
	}
	if (r && single) {
		cli_error("cannot reset the authentication token of runner '%s' (%s) at '%s': %s",
			  rc->name ? rc->name : "", short_token,
			  rc->url ? rc->url : "", why.data);
		goto out;
	}
	if (r) {
		log_error("Resetting runner authentication token... failed runner=%s name=%s: %s",
			  short_token, rc->name ? rc->name : "", why.data);
		goto out;
	}
	if (cli_runner_set_token(rc, reply.token, reply.token_expires_at,
				 time(NULL)))
		cli_warning("cannot read token_expires_at '%s' from GitLab; the token is stored without it",
			    reply.token_expires_at);
	if (config_runner_sync(cfg, index) != 0) {
		/* The old token is dead already: say which runner lost it. */
		log_error("cannot write the new token of runner '%s' into '%s'",
			  rc->name ? rc->name : "", cfg->path);
		r = -1;
		goto out;
	}
	runner_short_token(rc->token, short_token);
	log_info("Resetting runner authentication token... succeeded runner=%s",
		 short_token);
out:
	gl_runner_reply_release(&reply);
	buf_release(&err);
	buf_release(&why);
	return r;
}

static int find(const struct config *cfg, const char *name, const char *url,
		long long id, size_t *index)
{
	size_t i;

	for (i = 0; i < cfg->nr_runners; i++) {
		const struct runner_config *rc = cfg->runners[i];

		if (name ? rc->name && !strcmp(rc->name, name) :
		    rc->url && !strcmp(rc->url, url) && rc->id == id) {
			*index = i;
			return 0;
		}
	}
	return -1;
}

int cmd_reset_token(int argc, char **argv, struct cli_globals *g)
{
	enum { OPT_ALL = 256, OPT_PAT };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "url", required_argument, NULL, 'u' },
		{ "id", required_argument, NULL, 'i' },
		{ "all-runners", no_argument, NULL, OPT_ALL },
		{ "pat", required_argument, NULL, OPT_PAT },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("reset-token");
	struct config cfg = { 0 };
	struct buf err = BUF_INIT;
	const char *name = NULL, *url = NULL;
	char *pat = NULL, *end;
	long long id = 0;
	bool all = false;
	size_t i, nr_reset = 0, nr_failed = 0;
	int c, code;

	while ((c = getopt_long(argc, argv, "n:u:i:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'i':
			id = strtoll(optarg, &end, 10);
			if (!*optarg || *end || id <= 0) {
				code = cli_usage_error(verb, "--id needs the runner's id, not '%s'",
						       optarg);
				goto out;
			}
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_PAT:
			free_secret(pat);
			pat = xstrdup(optarg);
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
	if (!all && !name && (!url || !id)) {
		code = cli_usage_error(verb, "give --name, or --url and --id, or --all-runners");
		goto out;
	}
	if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK)
		goto out;
	code = CR_EXIT_FAILURE;

	if (all) {
		log_warn("Resetting all runner authentication tokens");
		for (i = 0; i < cfg.nr_runners; i++) {
			if (reset_one(&cfg, i, pat, false))
				nr_failed++;
			else
				nr_reset++;
		}
	} else if (find(&cfg, name, url, id, &i) != 0) {
		if (name)
			cli_error("no runner named '%s' in '%s'", name, cfg.path);
		else
			cli_error("no runner with URL '%s' and id %lld in '%s'",
				  url, id, cfg.path);
		goto out;
	} else if (reset_one(&cfg, i, pat, true) != 0) {
		goto out;
	} else {
		nr_reset++;
	}
	if (nr_reset) {
		if (config_save(&cfg, &err) != 0) {
			cli_error("%s; the new token%s lost: reset %s again with --pat",
				  err.data, nr_reset == 1 ? " is" : "s are",
				  nr_reset == 1 ? "it" : "them");
			goto out;
		}
		log_info("Updated %s", cfg.path);
	}
	if (nr_failed) {
		cli_error("failed to reset the authentication token of %zu runner%s",
			  nr_failed, nr_failed == 1 ? "" : "s");
		goto out;
	}
	code = CR_EXIT_OK;
out:
	free_secret(pat);
	config_release(&cfg);
	buf_release(&err);
	return code;
}
