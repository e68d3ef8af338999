#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "util/buf.h"
#include "util/banned.h"

/* Returned by cli_default_config_path(); built once, process lifetime. */
static struct buf default_config_path = BUF_INIT;

const char *cli_default_config_path(void)
{
	const char *env = getenv("CONFIG_FILE"), *home;

	if (env && *env)
		return env;
	if (default_config_path.len)
		return default_config_path.data;
	home = getenv("HOME");
	if (geteuid() == 0 || !home || !*home)
		(void)buf_addstr(&default_config_path,
				 "/etc/gitlab-runner/config.toml");
	else
		(void)buf_addf(&default_config_path,
			       "%s/.gitlab-runner/config.toml", home);
	return default_config_path.data;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("crunner: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "crunner %s: ", verb->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'crunner %s --help'\n", verb->name);
	return CR_EXIT_USAGE;
}

const struct cli_verb *cli_find_verb(const char *name)
{
	const struct cli_verb *v;

	for (v = cli_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

void cli_print_help(const struct cli_verb *verb, FILE *out)
{
	fputs(verb->usage, out);
	if (verb->more_help)
		verb->more_help(out);
}
