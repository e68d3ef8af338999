#include <stddef.h>

#include "cli/cli.h"
#include "cli/verbs.h"
#include "util/banned.h"

/*
 * Every verb crunner knows.  main() answers `crunner VERB --help` from the
 * usage text here before the verb runs, so every verb has one.
 */
const struct cli_verb cli_verbs[] = {
	{ "list", cmd_list, "List the runners in config.toml",
	  "usage: crunner list [--config FILE]\n"
	  "\n"
	  "Lists every [[runners]] entry of config.toml with its executor, URL\n"
	  "and short token (never the full token).\n"
	  "\n"
	  "options:\n"
	  "  -c, --config FILE   config file (default: $CONFIG_FILE, else\n"
	  "                      /etc/gitlab-runner/config.toml as root,\n"
	  "                      ~/.gitlab-runner/config.toml otherwise)\n"
	  "  -h, --help          show this help\n" },
	{ NULL, NULL, NULL, NULL },
};
