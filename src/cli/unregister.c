/*
 * crunner unregister: tells GitLab a runner of config.toml is gone, then
 * removes its entry, as gitlab-runner unregister does.  A runner created in
 * GitLab (glrt- token) keeps existing there: only this host's runner
 * manager (its system ID) is removed.  A legacy-registered runner is
 * deleted.  config.toml is written only when an entry was removed.
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
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Returns 0 when GitLab took it, else prints why and returns -1. */
static int unregister_one(const struct config *cfg,
			  const struct runner_config *rc,
			  const char *system_id, bool quiet_error)
{
	struct gl_client_options co;
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct buf err = BUF_INIT, why = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	bool manager = cli_token_is_created(rc->token);
	const char *what = manager ? "runner manager" : "runner";
	int r = -1;

	runner_short_token(rc->token, short_token);
	cli_runner_client_options(&co, rc,
				  (long)(cfg->connection_max_age_ms / 1000));
	p.token = rc->token;
	p.system_id = system_id;
	if (!rc->url || !rc->token)
		(void)buf_addf(&why, "no %s in config.toml",
			       rc->url ? "token" : "url");
	else if (gl_runner_call_sync(&co, manager ?
				     GL_RUNNER_UNREGISTER_MANAGER :
				     GL_RUNNER_UNREGISTER, &p, &reply,
				     &err) != 0)
		(void)buf_addstr(&why, err.data);
	else if (reply.result != GL_OK)
		cli_runner_describe(&why, &reply, rc->token);
	else
		r = 0;
	if (!r)
		log_info("Unregistering %s from GitLab succeeded runner=%s", what,
			 short_token);
	else if (quiet_error)
		log_error("Unregistering %s from GitLab failed runner=%s name=%s: %s",
			  what, short_token, rc->name ? rc->name : "", why.data);
	else
		cli_error("cannot unregister %s '%s' (%s) from '%s': %s", what,
			  rc->name ? rc->name : "", short_token,
			  rc->url ? rc->url : "", why.data);
	gl_runner_reply_release(&reply);
	buf_release(&err);
	buf_release(&why);
	return r;
}

/* gitlab-runner's choice: name and token, token (and URL), or name. */
static struct runner_config *find(const struct config *cfg, const char *name,
				  const char *url, const char *token,
				  size_t *index)
{
	size_t i;

	for (i = 0; i < cfg->nr_runners; i++) {
		const struct runner_config *rc = cfg->runners[i];

		if (name && (!rc->name || strcmp(rc->name, name)))
			continue;
		if (token && (!rc->token || strcmp(rc->token, token)))
			continue;
		if (token && url && (!rc->url || strcmp(rc->url, url)))
			continue;
		*index = i;
		return cfg->runners[i];
	}
	return NULL;
}

static char *env_secret(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? xstrdup(v) : NULL;
}

int cmd_unregister(int argc, char **argv, struct cli_globals *g)
{
	enum { OPT_ALL = 256 };
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "all-runners", no_argument, NULL, OPT_ALL },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("unregister");
	struct config cfg = { 0 };
	struct buf err = BUF_INIT;
	const char *name = NULL;
	/* gitlab-runner reads these two from its environment as well. */
	char *url = env_secret("CI_SERVER_URL");
	char *token = env_secret("CI_SERVER_TOKEN");
	char system_id[SYSTEM_ID_SIZE];
	bool all = false;
	size_t i, nr_failed = 0, nr_removed = 0;
	int c, code;

	while ((c = getopt_long(argc, argv, "n:u:t:c:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'u':
			free(url);
			url = xstrdup(optarg);
			break;
		case 't':
			free_secret(token);
			token = xstrdup(optarg);
			break;
		case OPT_ALL:
			all = true;
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
	if (!all && !name && !token) {
		code = cli_usage_error(verb, "at least one of --name, --token or --all-runners must be given");
		goto out;
	}
	if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK)
		goto out;
	code = CR_EXIT_FAILURE;
	cli_system_id(cfg.path, system_id, sizeof(system_id));

	if (all) {
		log_warn("Unregistering all runners");
		for (i = 0; i < cfg.nr_runners;) {
			/* A failed one stays in config.toml. */
			if (unregister_one(&cfg, cfg.runners[i], system_id, true)) {
				nr_failed++;
				i++;
				continue;
			}
			if (config_runner_remove(&cfg, i) != 0) {
				cli_error("cannot remove runner %zu from '%s'",
					  i + 1, cfg.path);
				goto out;
			}
			nr_removed++;
		}
	} else {
		struct runner_config *rc = find(&cfg, name, url, token, &i);

		if (!rc) {
			cli_error("no runner %s%s%s%s%s in '%s'",
				  name ? "named '" : "", name ? name : "",
				  name ? "'" : "", name && token ? " and " : "",
				  token ? "with that token" : "", cfg.path);
			goto out;
		}
		if (unregister_one(&cfg, rc, system_id, false))
			goto out;
		if (config_runner_remove(&cfg, i) != 0) {
			cli_error("cannot remove runner %zu from '%s'", i + 1,
				  cfg.path);
			goto out;
		}
		nr_removed++;
	}
	if (nr_removed) {
		if (config_save(&cfg, &err) != 0) {
			cli_error("%s", err.data);
			goto out;
		}
		log_info("Updated %s", cfg.path);
	}
	if (nr_failed) {
		cli_error("failed to unregister %zu runner%s; %s kept in '%s'",
			  nr_failed, nr_failed == 1 ? "" : "s",
			  nr_failed == 1 ? "it is" : "they are", cfg.path);
		goto out;
	}
	code = CR_EXIT_OK;
out:
	free(url);
	free_secret(token);
	config_release(&cfg);
	buf_release(&err);
	return code;
}
