/*
 * crunner: a GitLab-compatible CI/CD job runner.
 *
 * main() only parses the global options, finds the verb and runs it; each
 * verb lives in src/cli/<verb>.c.
 */
#include <getopt.h>
#include <stdio.h>
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
	"      --log-level LEVEL debug, info, warn, error, fatal, panic\n"
	"      --log-format FMT  text or json\n"
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
	enum log_format format = LOG_FORMAT_TEXT;
	const struct cli_verb *verb;
	int c, parsed;

	/* '+' stops at the verb: what follows is the verb's own options. */
	while ((c = getopt_long(argc, argv, "+c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			g.config_path = optarg;
			break;
		case OPT_DEBUG:
			g.debug = 1;
			level = LOG_LEVEL_DEBUG;
			g.log_level = (int)level;
			break;
		case OPT_LOG_LEVEL:
			if ((parsed = log_level_parse(optarg)) < 0) {
				cli_error("unknown log level '%s'", optarg);
				return CR_EXIT_USAGE;
			}
			level = (enum log_level)parsed;
			g.log_level = parsed;
			break;
		case OPT_LOG_FORMAT:
			if ((parsed = log_format_parse(optarg)) < 0) {
				cli_error("unknown log format '%s'", optarg);
				return CR_EXIT_USAGE;
			}
			format = (enum log_format)parsed;
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
