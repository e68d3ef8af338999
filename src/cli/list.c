/*
 * crunner list: the [[runners]] entries of config.toml, as gitlab-runner
 * list shows them, with the short token instead of the full one.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "util/banned.h"

int cmd_list(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg = { 0 };
	int c, code;
	size_t i;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == 'c')
			g->config_path = optarg;
		else
			return cli_usage_error(cli_find_verb("list"),
					       "unknown option");
	}
	if (optind < argc)
		return cli_usage_error(cli_find_verb("list"),
				       "unexpected argument '%s'", argv[optind]);
	if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK) {
		config_release(&cfg);
		return code;
	}
	printf("%-40s ConfigFile=%s\n", "Listing configured runners", cfg.path);
	for (i = 0; i < cfg.nr_runners; i++) {
		const struct runner_config *r = cfg.runners[i];
		char short_token[RUNNER_SHORT_TOKEN_SIZE];

		printf("%-40s Executor=%s Token=%s URL=%s\n",
		       r->name ? r->name : "",
		       r->executor ? r->executor : "",
		       runner_short_token(r->token, short_token),
		       r->url ? r->url : "");
	}
	/* After the listing, on stderr: scripts read stdout as gitlab-runner's. */
	fflush(stdout);
	for (i = 0; i < cfg.nr_runners; i++)
		(void)cli_runner_check_executor(cfg.runners[i]);
	config_release(&cfg);
	return CR_EXIT_OK;
}
