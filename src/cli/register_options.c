/*
 * How crunner register learns its values, as gitlab-runner's register:
 * each option's flag and environment variable (one table), then, on a
 * terminal, a question with the value given as its default.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/register_int.h"
#include "gitlab/runner_info.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

enum reg_type {
	RT_CONFIG,	/* -c: the global option */
	RT_STR,
	RT_SECRET,	/* a token: wiped when replaced */
	RT_BOOL,	/* --flag or --flag=false, as urfave/cli reads them */
	RT_INT,		/* >= 0 */
	RT_LONG,	/* >= 0 */
	RT_ENV,		/* repeatable KEY=VALUE */
	RT_LIST,	/* repeatable */
};

/* One row per option: gitlab-runner's flag, its variable, where it goes. */
struct reg_option {
	const char *name;
	char short_opt;
	const char *env;
	enum reg_type type;
	size_t off;
};

#define R(f) offsetof(struct reg, f)
static const struct reg_option reg_options[] = {
	{ "config", 'c', NULL, RT_CONFIG, 0 },
	{ "non-interactive", 'n', "REGISTER_NON_INTERACTIVE", RT_BOOL,
	  R(non_interactive) },
	{ "leave-runner", 0, "REGISTER_LEAVE_RUNNER", RT_BOOL, R(leave_runner) },
	{ "url", 'u', "CI_SERVER_URL", RT_STR, R(rc.url) },
	{ "token", 't', "CI_SERVER_TOKEN", RT_SECRET, R(rc.token) },
	{ "registration-token", 'r', "REGISTRATION_TOKEN", RT_SECRET,
	  R(registration_token) },
	{ "name", 0, "RUNNER_NAME", RT_STR, R(rc.name) },
	{ "description", 0, NULL, RT_STR, R(rc.name) },
	{ "tag-list", 0, "RUNNER_TAG_LIST", RT_STR, R(tag_list) },
	{ "run-untagged", 0, "REGISTER_RUN_UNTAGGED", RT_BOOL, R(run_untagged) },
	{ "locked", 0, "REGISTER_LOCKED", RT_BOOL, R(locked) },
	{ "access-level", 0, "REGISTER_ACCESS_LEVEL", RT_STR, R(access_level) },
	{ "maximum-timeout", 0, "REGISTER_MAXIMUM_TIMEOUT", RT_LONG,
	  R(maximum_timeout) },
	{ "paused", 0, "REGISTER_PAUSED", RT_BOOL, R(paused) },
	{ "maintenance-note", 0, "REGISTER_MAINTENANCE_NOTE", RT_STR,
	  R(maintenance_note) },
	{ "executor", 0, "RUNNER_EXECUTOR", RT_STR, R(rc.executor) },
	{ "shell", 0, "RUNNER_SHELL", RT_STR, R(rc.shell) },
	{ "builds-dir", 0, "RUNNER_BUILDS_DIR", RT_STR, R(rc.builds_dir) },
	{ "cache-dir", 0, "RUNNER_CACHE_DIR", RT_STR, R(rc.cache_dir) },
	{ "clone-url", 0, "CLONE_URL", RT_STR, R(rc.clone_url) },
	{ "env", 0, "RUNNER_ENV", RT_ENV, R(rc.environment) },
	{ "limit", 0, "RUNNER_LIMIT", RT_INT, R(rc.limit) },
	{ "output-limit", 0, "RUNNER_OUTPUT_LIMIT", RT_INT, R(rc.output_limit) },
	{ "request-concurrency", 0, "RUNNER_REQUEST_CONCURRENCY", RT_INT,
	  R(rc.request_concurrency) },
	{ "tls-ca-file", 0, "CI_SERVER_TLS_CA_FILE", RT_STR, R(rc.tls_ca_file) },
	{ "tls-cert-file", 0, "CI_SERVER_TLS_CERT_FILE", RT_STR,
	  R(rc.tls_cert_file) },
	{ "tls-key-file", 0, "CI_SERVER_TLS_KEY_FILE", RT_STR,
	  R(rc.tls_key_file) },
	{ "docker-image", 0, "DOCKER_IMAGE", RT_STR, R(rc.docker.image) },
	{ "docker-privileged", 0, "DOCKER_PRIVILEGED", RT_BOOL,
	  R(rc.docker.privileged) },
	{ "docker-volumes", 0, "DOCKER_VOLUMES", RT_LIST, R(rc.docker.volumes) },
};
#undef R
#define NR_REG_OPTIONS (sizeof(reg_options) / sizeof(reg_options[0]))

const struct cli_verb *register_verb(void)
{
	return cli_find_verb("register");
}

/* Sets the option's field from value (NULL for a bare bool flag). */
static int reg_set(struct reg *r, struct cli_globals *g,
		   const struct reg_option *o, const char *value,
		   const char *from)
{
	void *f = (char *)r + o->off;
	char *end;
	long n;

	switch (o->type) {
	case RT_CONFIG:
		g->config_path = value;
		return 0;
	case RT_STR:
		free(*(char **)f);
		*(char **)f = xstrdup(value);
		return 0;
	case RT_SECRET:
		free_secret(*(char **)f);
		*(char **)f = xstrdup(value);
		return 0;
	case RT_BOOL:
		if (!value) {
			*(bool *)f = true;
			return 0;
		}
		if (cli_parse_bool(value, (bool *)f))
			return cli_usage_error(register_verb(), "%s needs true or false, not '%s'",
					       from, value);
		return 0;
	case RT_INT:
	case RT_LONG:
		n = strtol(value, &end, 10);
		if (!*value || *end || n < 0 || (o->type == RT_INT && n > 1000000000))
			return cli_usage_error(register_verb(), "%s needs a number, not '%s'",
					       from, value);
		if (o->type == RT_INT)
			*(int *)f = (int)n;
		else
			*(long *)f = n;
		return 0;
	case RT_ENV:
		if (!strchr(value, '=') || *value == '=')
			return cli_usage_error(register_verb(), "%s needs KEY=VALUE, not '%s'",
					       from, value);
		/* fall through */
	case RT_LIST:
		strvec_push(f, value);
		return 0;
	}
	return CR_EXIT_USAGE;
}

int register_parse_args(struct reg *r, int argc, char **argv,
			struct cli_globals *g)
{
	struct option opts[NR_REG_OPTIONS + 1];
	char shorts[32], from[64];
	size_t i, ns = 0;
	int c, code;

	/* gitlab-runner's variables first; the command line overrides them. */
	for (i = 0; i < NR_REG_OPTIONS; i++) {
		const struct reg_option *o = &reg_options[i];
		const char *v = o->env ? getenv(o->env) : NULL;

		if (v && *v && (code = reg_set(r, g, o, v, o->env)) != 0)
			return code;
	}
	memset(opts, 0, sizeof(opts));
	for (i = 0; i < NR_REG_OPTIONS; i++) {
		const struct reg_option *o = &reg_options[i];

		opts[i].name = o->name;
		opts[i].has_arg = o->type == RT_BOOL ? optional_argument :
			required_argument;
		opts[i].val = 256 + (int)i;
		if (o->short_opt) {
			shorts[ns++] = o->short_opt;
			if (o->type != RT_BOOL)
				shorts[ns++] = ':';
		}
	}
	shorts[ns] = '\0';
	while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
		const struct reg_option *o = NULL;

		if (c >= 256 && c < 256 + (int)NR_REG_OPTIONS)
			o = &reg_options[c - 256];
		for (i = 0; !o && c < 256 && i < NR_REG_OPTIONS; i++)
			if (reg_options[i].short_opt == c)
				o = &reg_options[i];
		if (!o)
			return cli_usage_error(register_verb(), "unknown option");
		snprintf(from, sizeof(from), "--%s", o->name);
		if ((code = reg_set(r, g, o, optarg, from)) != 0)
			return code;
	}
	if (optind < argc)
		return cli_usage_error(register_verb(), "unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

static const struct reg_option *option_at(size_t off)
{
	size_t i;

	for (i = 0; i < NR_REG_OPTIONS; i++)
		if (reg_options[i].off == off && reg_options[i].type != RT_CONFIG)
			return &reg_options[i];
	return NULL;
}

int register_ask(struct reg *r, size_t off, const char *question,
		 unsigned flags)
{
	const struct reg_option *o = option_at(off);
	char **value = (char **)((char *)r + off), *answer = NULL;
	char shown[RUNNER_SHORT_TOKEN_SIZE + 4];
	bool empty;
	int err;

	for (;;) {
		empty = !*value || !**value;
		if (!r->interactive) {
			if (!empty || (flags & ASK_OPTIONAL))
				return 0;
			cli_error("the %s needs to be entered: give --%s%s%s%s",
				  o->name, o->name, o->env ? " or $" : "",
				  o->env ? o->env : "",
				  r->non_interactive ? "" :
				  ", or run 'crunner register' on a terminal");
			return CR_EXIT_USAGE;
		}
		if (flags & ASK_SECRET && !empty) {
			runner_short_token(*value, shown);
			/*
			 * XXX a token of an unknown kind under 10 characters
			 * is its own short form; real ones are longer.
			 */
			snprintf(shown + strlen(shown), 4, "...");
		}
		err = cli_prompt(stdin, stderr, question,
				 empty ? NULL : (flags & ASK_SECRET) ? shown : *value,
				 &answer);
		if (err) {
			cli_error("no answer to '%s' (%s); use --non-interactive to register unattended",
				  question, err == CR_ERR_TOO_LARGE ?
				  "the line is too long" : "end of input");
			return CR_EXIT_USAGE;
		}
		if (*answer) {
			if (flags & ASK_SECRET)
				free_secret(*value);
			else
				free(*value);
			*value = answer;
			return 0;
		}
		free(answer);
		if (!empty || (flags & ASK_OPTIONAL))
			return 0;
	}
}
