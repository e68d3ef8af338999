/*
 * crunner artifacts-helper: the archive work of the job engine's artifact
 * and cache stages, run in a child process (as gitlab-runner runs its own
 * artifacts-uploader and cache-archiver helpers).  Internal: its command
 * line may change between versions.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/artifacts.h"
#include "archive/cache_remote.h"
#include "archive/dotenv_report.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "util/strvec.h"
#include "util/banned.h"

enum { OPT_FORMAT = 256, OPT_OUTPUT, OPT_INPUT, OPT_FILE, OPT_PATH,
	OPT_EXCLUDE, OPT_UNTRACKED, OPT_REMOTE, OPT_MAX_SIZE,
	OPT_DOTENV };

/*
 * The distributed cache's pre-signed URL comes in the environment, not on
 * the command line, where any local user could read it.
 */
#define CACHE_URL_ENV "CRUNNER_CACHE_URL"

static int cache_extract(const char *file, const char *dir, bool remote)
{
	const char *url = getenv(CACHE_URL_ENV);

	if (remote && url && *url &&
	    cache_remote_download(url, file, stdout) != 0)
		return ARTIFACTS_EXIT_FAILED;
	return artifacts_cache_extract(file, dir, stdout);
}

static int cache_archive(const char *dir, const struct glob_spec *spec,
			 const char *file, bool remote, long long max_size)
{
	const char *url = getenv(CACHE_URL_ENV);
	int status = artifacts_cache_archive(dir, spec, file, stdout);

	if (status != ARTIFACTS_EXIT_OK || !remote || !url || !*url)
		return status;
	if (access(file, F_OK) != 0)
		return status;	/* nothing matched: no archive to send */
	return cache_remote_upload(url, file, max_size, stdout) ?
	       ARTIFACTS_EXIT_FAILED : ARTIFACTS_EXIT_OK;
}

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
		{ "remote", no_argument, NULL, OPT_REMOTE },
		{ "dotenv", no_argument, NULL, OPT_DOTENV },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("artifacts-helper");
	struct strvec paths = STRVEC_INIT, exclude = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	const char *sub, *format = "zip", *output = NULL, *input = NULL,
		*file = NULL;
	char cwd[4096];
	bool remote = false, dotenv = false;
	long long max_size = 0;
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
		case OPT_REMOTE: remote = true; break;
		case OPT_DOTENV: dotenv = true; break;
		case OPT_MAX_SIZE: max_size = strtoll(optarg, NULL, 10); break;
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
	if (!strcmp(sub, "archive") && output) {
		status = artifacts_archive(cwd, format, &spec, output, stdout);
		if (status == ARTIFACTS_EXIT_OK && dotenv)
			status = artifacts_check_dotenv(cwd, &spec, output,
							stdout);
	}
	else if (!strcmp(sub, "extract") && input)
		status = artifacts_extract(input, cwd, stdout);
	else if (!strcmp(sub, "cache-archive") && file)
		status = cache_archive(cwd, &spec, file, remote, max_size);
	else if (!strcmp(sub, "cache-extract") && file)
		status = cache_extract(file, cwd, remote);
	else
		status = cli_usage_error(verb, "unknown sub-command '%s' or missing option",
					 sub);
	strvec_clear(&paths);
	strvec_clear(&exclude);
	return status;
}
