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
	{ "run-single", cmd_run_single,
	  "Run jobs of one runner given on the command line",
	  "usage: crunner run-single --url URL --token TOKEN [options]\n"
	  "       crunner run-single --config FILE [--name NAME] [options]\n"
	  "\n"
	  "Asks GitLab for jobs for one runner and runs them one at a time, as\n"
	  "gitlab-runner run-single does.  The runner comes from the flags, or\n"
	  "from config.toml (the entry named --name, else the first).  SIGQUIT\n"
	  "finishes the running job and exits; SIGINT/SIGTERM abort it (it is\n"
	  "reported failed with runner_interrupted); a second one exits at once.\n"
	  "\n"
	  "options:\n"
	  "  -u, --url URL            GitLab URL ($CI_SERVER_URL)\n"
	  "  -t, --token TOKEN        runner authentication token ($CI_SERVER_TOKEN)\n"
	  "      --executor NAME      executor (default shell; $RUNNER_EXECUTOR)\n"
	  "      --shell NAME         bash (default) or sh\n"
	  "      --builds-dir DIR     where jobs run (default ./builds)\n"
	  "      --cache-dir DIR      where caches are kept\n"
	  "      --name NAME          runner name (also --description)\n"
	  "      --env KEY=VALUE      extra job variable; repeatable\n"
	  "      --max-builds N       stop after N jobs (default 0: no limit)\n"
	  "      --wait-timeout SECS  stop when no job came in SECS (default 0: wait)\n"
	  "      --check-interval D   pause between job requests (default 3s)\n"
	  "      --trace-interval D   first interval between log updates (default 3s)\n"
	  "      --output-limit KIB   most log kept per job (default 4096)\n"
	  "      --tls-ca-file FILE   CA certificates for GitLab's TLS\n"
	  "      --tls-cert-file FILE client certificate\n"
	  "      --tls-key-file FILE  client key\n"
	  "  -c, --config FILE        take the runner from this config.toml\n"
	  "  -h, --help               show this help\n" },
	{ NULL, NULL, NULL, NULL },
};
