/*
 * crunner: a GitLab-compatible CI/CD job runner.
 *
 * main() only parses the global options, finds the verb and runs it; each
 * verb lives in src/cli/<verb>.c.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "util/log.h"
#include "version.h"
#include "util/banned.h"

static const char main_usage_head[] =
	"usage: crunner [GLOBAL OPTIONS] VERB [OPTIONS]\n"
	"\n"
	"A GitLab-compatible CI/CD job runner: a drop-in for gitlab-runner.\n"
	"\n"
	"verbs:\n";

static const char main_usage_tail[] =
	"\n"
	"global options:\n"
	"  -c, --config FILE     config file for every verb that reads one\n"
	"      --debug           debug logging (same as --log-level debug)\n"
	"                        [$RUNNER_DEBUG]\n"
	"  -l, --log-level LEVEL debug, info, warn, error, fatal, panic\n"
	"                        [$LOG_LEVEL]\n"
	"      --log-format FMT  runner, text or json [$LOG_FORMAT]\n"
	"  -v, --version         print the version and exit\n"
	"  -h, --help            show this help\n"
	"\n"
	"'crunner VERB --help' describes a verb.\n";

static void print_main_usage(FILE *out)
{
	const struct cli_verb *v;
	int width = 0;

	for (v = cli_verbs; v->name; v++)
		if ((int)strlen(v->name) > width)
			width = (int)strlen(v->name);
	fputs(main_usage_head, out);
	for (v = cli_verbs; v->name; v++)
		fprintf(out, "  %-*s  %s\n", width, v->name, v->summary);
	fputs(main_usage_tail, out);
}

static void print_version(void)
{
	printf("crunner %s\n"
	       "git revision: %s\n"
	       "build date:   %s\n"
	       "compatible:   gitlab-runner API v4\n",
	       CR_VERSION, CR_GIT_REVISION, CR_BUILD_DATE);
}

static int has_help_flag(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

/* Flush and check stdout once the verb is done: a full disk is an error. */
static int finish_stdout(int code)
{
	if (fflush(stdout) || ferror(stdout)) {
		if (code == CR_EXIT_OK)
			cli_error("cannot write to standard output");
		return code ? code : CR_EXIT_FAILURE;
	}
	return code;
}

enum { OPT_DEBUG = 256, OPT_LOG_LEVEL, OPT_LOG_FORMAT };

/*
 * gitlab-runner's log flags read LOG_LEVEL, LOG_FORMAT and RUNNER_DEBUG
 * when not given (urfave/cli EnvVar): set that way they count as given,
 * so config.toml's log_level / log_format do not override them.  Returns
 * 0, or CR_EXIT_USAGE after a message.
 */
static int log_from_env(struct cli_globals *g)
{
	const char *v;
	bool on;
	int parsed;

	if ((v = getenv("LOG_LEVEL")) && *v) {
		if ((parsed = log_level_parse(v)) < 0) {
			cli_error("unknown log level '%s' in LOG_LEVEL", v);
			return CR_EXIT_USAGE;
		}
		g->log_level = parsed;
	}
	if ((v = getenv("LOG_FORMAT")) && *v) {
		if ((parsed = log_format_parse(v)) < 0) {
			cli_error("unknown log format '%s' in LOG_FORMAT", v);
			return CR_EXIT_USAGE;
		}
		g->log_format = parsed;
	}
	if ((v = getenv("RUNNER_DEBUG")) && *v) {
		if (cli_parse_bool(v, &on) != 0) {
			cli_error("RUNNER_DEBUG must be true or false, not '%s'",
				  v);
			return CR_EXIT_USAGE;
		}
		g->debug = on;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_globals g = { .log_level = -1, .log_format = -1 };
	enum log_level level = LOG_LEVEL_INFO;
	enum log_format format = LOG_FORMAT_RUNNER;
	const struct cli_verb *verb;
	int c, parsed;

	if ((c = log_from_env(&g)) != 0)
		return c;
	/* '+' stops at the verb: what follows is the verb's own options. */
	while ((c = getopt_long(argc, argv, "+c:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			g.config_path = optarg;
			break;
		case OPT_DEBUG:
			g.debug = 1;
			break;
		case 'l':
		case OPT_LOG_LEVEL:
			if ((parsed = log_level_parse(optarg)) < 0) {
				cli_error("unknown log level '%s'", optarg);
				return CR_EXIT_USAGE;
			}
			g.log_level = parsed;
			break;
		case OPT_LOG_FORMAT:
			if ((parsed = log_format_parse(optarg)) < 0) {
				cli_error("unknown log format '%s'", optarg);
				return CR_EXIT_USAGE;
			}
			g.log_format = parsed;
			break;
		case 'v':
			print_version();
			return finish_stdout(CR_EXIT_OK);
		case 'h':
			print_main_usage(stdout);
			return finish_stdout(CR_EXIT_OK);
		default:
			fputs("see 'crunner --help'\n", stderr);
			return CR_EXIT_USAGE;
		}
	}
	/* --debug wins over any level, as in gitlab-runner. */
	if (g.debug)
		g.log_level = LOG_LEVEL_DEBUG;
	if (g.log_level >= 0)
		level = (enum log_level)g.log_level;
	if (g.log_format >= 0)
		format = (enum log_format)g.log_format;
	log_setup(level, format);

	if (optind >= argc) {
		print_main_usage(stderr);
		return CR_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && (verb = cli_find_verb(argv[optind + 1]))) {
			cli_print_help(verb, stdout);
			return finish_stdout(CR_EXIT_OK);
		}
		print_main_usage(stdout);
		return finish_stdout(CR_EXIT_OK);
	}
	if (!strcmp(argv[optind], "version")) {
		print_version();
		return finish_stdout(CR_EXIT_OK);
	}
	verb = cli_find_verb(argv[optind]);
	if (!verb) {
		cli_error("'%s' is not a crunner verb; see 'crunner --help'",
			  argv[optind]);
		return CR_EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (has_help_flag(argc, argv)) {
		cli_print_help(verb, stdout);
		return finish_stdout(CR_EXIT_OK);
	}
	optind = 0;	/* getopt_long restarts fully for the verb */
	return finish_stdout(verb->fn(argc, argv, &g));
}
