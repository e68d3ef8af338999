/*
 * crunner artifacts-helper: the archive work of the job engine's artifact
 * and cache stages, run in a child process (as gitlab-runner runs its own
 * artifacts-uploader and cache-archiver helpers).  Internal: its command
 * line may change between versions.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive/artifacts.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "util/strvec.h"
#include "util/banned.h"

enum { OPT_FORMAT = 256, OPT_OUTPUT, OPT_INPUT, OPT_FILE, OPT_PATH,
	OPT_EXCLUDE, OPT_UNTRACKED };

int cmd_artifacts_helper(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "input", required_argument, NULL, OPT_INPUT },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "untracked", no_argument, NULL, OPT_UNTRACKED },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("artifacts-helper");
	struct strvec paths = STRVEC_INIT, exclude = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	const char *sub, *format = "zip", *output = NULL, *input = NULL,
		*file = NULL;
	char cwd[4096];
	int c, status;

	(void)g;
	if (argc < 2)
		return cli_usage_error(verb, "missing sub-command");
	sub = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT: format = optarg; break;
		case OPT_OUTPUT: output = optarg; break;
		case OPT_INPUT: input = optarg; break;
		case OPT_FILE: file = optarg; break;
		case OPT_PATH: strvec_push(&paths, optarg); break;
		case OPT_EXCLUDE: strvec_push(&exclude, optarg); break;
		case OPT_UNTRACKED: spec.untracked = true; break;
		default:
			strvec_clear(&paths);
			strvec_clear(&exclude);
			return cli_usage_error(verb, "bad option");
		}
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		cli_error("cannot read the working directory");
		return CR_EXIT_FAILURE;
	}
	spec.paths = &paths;
	spec.exclude = &exclude;
	if (!strcmp(sub, "archive") && output)
		status = artifacts_archive(cwd, format, &spec, output, stdout);
	else if (!strcmp(sub, "extract") && input)
		status = artifacts_extract(input, cwd, stdout);
	else if (!strcmp(sub, "cache-archive") && file)
		status = artifacts_cache_archive(cwd, &spec, file, stdout);
	else if (!strcmp(sub, "cache-extract") && file)
		status = artifacts_cache_extract(file, cwd, stdout);
	else
		status = cli_usage_error(verb, "unknown sub-command '%s' or missing option",
					 sub);
	strvec_clear(&paths);
	strvec_clear(&exclude);
	return status;
}
