/*
 * How crunner register learns its values, as gitlab-runner's register:
 * every flag and environment variable of gitlab-runner's (the generated
 * table of runner_flags.h), a --template-config, then, on a terminal, a
 * question with the value given as its default.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/register_int.h"
#include "cli/runner_flags.h"
#include "cli/verbs.h"
#include "gitlab/runner_info.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Where the command's own options go. */
struct reg_parse {
	struct reg *r;
	struct cli_globals *g;
};

static int set_bool(bool *f, const char *value, const char *from,
		    struct buf *err)
{
	if (cli_parse_bool(value, f) == 0)
		return 0;
	buf_addf(err, "%s needs true or false, not '%s'", from, value);
	return -1;
}

static void set_str(char **f, const char *value)
{
	free(*f);
	*f = xstrdup(value);
}

/* RegisterCommand's fields (commands/register.go), by flag. */
static int reg_option(void *ctx, const struct runner_flag *f,
		      const char *value, const char *from, struct buf *err)
{
	struct reg_parse *p = ctx;
	struct reg *r = p->r;
	char *end;
	long n;

	if (!strcmp(f->flag, "config")) {
		p->g->config_path = value;
	} else if (!strcmp(f->flag, "template-config")) {
		set_str(&r->template_path, value);
	} else if (!strcmp(f->flag, "registration-token")) {
		free_secret(r->registration_token);
		r->registration_token = xstrdup(value);
	} else if (!strcmp(f->flag, "tag-list")) {
		set_str(&r->tag_list, value);
	} else if (!strcmp(f->flag, "access-level")) {
		set_str(&r->access_level, value);
	} else if (!strcmp(f->flag, "maintenance-note")) {
		set_str(&r->maintenance_note, value);
	} else if (!strcmp(f->flag, "non-interactive")) {
		return set_bool(&r->non_interactive, value, from, err);
	} else if (!strcmp(f->flag, "leave-runner")) {
		return set_bool(&r->leave_runner, value, from, err);
	} else if (!strcmp(f->flag, "run-untagged")) {
		return set_bool(&r->run_untagged, value, from, err);
	} else if (!strcmp(f->flag, "locked")) {
		return set_bool(&r->locked, value, from, err);
	} else if (!strcmp(f->flag, "paused")) {
		return set_bool(&r->paused, value, from, err);
	} else if (!strcmp(f->flag, "maximum-timeout")) {
		n = strtol(value, &end, 10);
		if (!*value || *end || n < 0) {
			buf_addf(err, "%s needs a number, not '%s'", from, value);
			return -1;
		}
		r->maximum_timeout = n;
	} else {
		buf_addf(err, "%s is not implemented", from);
		return -1;
	}
	return 0;
}

const struct cli_verb *register_verb(void)
{
	return cli_find_verb("register");
}

int register_parse_args(struct reg *r, int argc, char **argv,
			struct cli_globals *g)
{
	struct reg_parse p = { r, g };
	struct runner_flags_cmd c = { RF_REGISTER, NULL, 0, reg_option, &p };
	struct buf err = BUF_INIT;
	int code = 0;

	if (runner_flags_parse(&c, argc, argv, r->tree, &err)) {
		code = cli_usage_error(register_verb(), "%s", err.data);
		goto out;
	}
	if (r->template_path) {
		log_info("Merging configuration from template file \"%s\"",
			 r->template_path);
		if (register_merge_template(r->tree, r->template_path, &err)) {
			cli_error("%s", err.data);
			code = CR_EXIT_USAGE;
			goto out;
		}
	}
	runner_config_release(&r->rc);
	if (config_runner_from_tree(&r->rc, r->tree, NULL, &err)) {
		cli_error("%s", err.data);
		code = CR_EXIT_USAGE;
	}
out:
	buf_release(&err);
	return code;
}

void register_more_help(FILE *out)
{
	runner_flags_help(out, RF_REGISTER);
}

/* The flag each question stands for, to name it when it is missing. */
#define R(f) offsetof(struct reg, f)
static const struct {
	size_t off;
	const char *flag;
} asked[] = {
	{ R(rc.url), "url" },
	{ R(rc.token), "token" },
	{ R(rc.name), "description" },
	{ R(rc.executor), "executor" },
	{ R(rc.docker.image), "docker-image" },
	{ R(tag_list), "tag-list" },
	{ R(maintenance_note), "maintenance-note" },
	{ R(rc.ssh.host), "ssh-host" },
	{ R(rc.ssh.port), "ssh-port" },
	{ R(rc.ssh.user), "ssh-user" },
	{ R(rc.ssh.password), "ssh-password" },
	{ R(rc.ssh.identity_file), "ssh-identity-file" },
};
#undef R

static const struct runner_flag *flag_at(size_t off)
{
	size_t i;

	for (i = 0; i < sizeof(asked) / sizeof(asked[0]); i++)
		if (asked[i].off == off)
			return runner_flags_find(RF_REGISTER, asked[i].flag);
	return NULL;
}

int register_ask(struct reg *r, size_t off, const char *question,
		 unsigned flags)
{
	const struct runner_flag *o = flag_at(off);
	const char *name = o->alias ? o->alias : o->flag;
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
				  name, name, o->env ? " or $" : "",
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
