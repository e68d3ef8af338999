/*
 * crunner run: the long-running service, gitlab-runner's `run`.  Loads
 * config.toml and hands it to the manager (src/manager/), which asks
 * GitLab for jobs for every [[runners]] entry until a signal stops it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "config/system_id.h"
#include "executor/docker.h"
#include "executor/kubernetes/kubernetes.h"
#include "manager/manager.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

enum {
	OPT_LISTEN = 256, OPT_SYSLOG, OPT_TRACE_INTERVAL,
};

/* An absolute path, so --working-directory does not move the file. */
static char *absolute_path(const char *path)
{
	char cwd[PATH_MAX];
	struct buf b = BUF_INIT;

	if (*path == '/' || !getcwd(cwd, sizeof(cwd)))
		return xstrdup(path);
	buf_addf(&b, "%s/%s", cwd, path);
	return buf_detach(&b, NULL);
}


/*
 * The pods a killed crunner of this installation left (its system ID,
 * loaded again by the manager), for the kubernetes runners only.
 */
static void remove_kubernetes_leftovers(const struct config *cfg)
{
	char system_id[SYSTEM_ID_SIZE] = "";
	struct buf err = BUF_INIT;
	size_t i;

	for (i = 0; i < cfg->nr_runners; i++)
		if (cfg->runners[i]->executor &&
		    !strcmp(cfg->runners[i]->executor, "kubernetes"))
			break;
	if (i == cfg->nr_runners)
		return;
	if (system_id_load(cfg->path, system_id, &err) == 0)
		kubernetes_remove_leftovers(cfg->runners, cfg->nr_runners,
					    system_id);
	else
		log_warn("kubernetes: not looking for leftover pods: %s",
			 err.data);
	buf_release(&err);
}

int cmd_run(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen-address", required_argument, NULL, OPT_LISTEN },
		{ "working-directory", required_argument, NULL, 'd' },
		{ "user", required_argument, NULL, 'u' },
		{ "service", required_argument, NULL, 'n' },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "trace-interval", required_argument, NULL,
		  OPT_TRACE_INTERVAL },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("run");
	struct manager_options mo = { 0 };
	struct config cfg = { 0 };
	struct manager *m = NULL;
	struct buf err = BUF_INIT;
	const char *workdir = NULL, *env;
	char *config_path = NULL;
	int c, code = CR_EXIT_FAILURE;

	if ((env = getenv("LISTEN_ADDRESS")) && *env)
		mo.listen_address = env;
	while ((c = getopt_long(argc, argv, "c:d:u:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			g->config_path = optarg;
			break;
		case OPT_LISTEN:
			mo.listen_address = optarg;
			break;
		case 'd':
			workdir = optarg;
			break;
		case 'u':
			mo.user = optarg;
			break;
		case 'n':
			break;	/* the service name only matters to init systems */
		case OPT_SYSLOG:
			log_warn("--syslog is not supported: logging to standard error");
			break;
		case OPT_TRACE_INTERVAL: {
			int64_t ms;

			if (config_parse_duration(optarg, &ms) || ms <= 0) {
				code = cli_usage_error(verb, "--trace-interval needs a duration such as 3s, not '%s'", optarg);
				goto out;
			}
			mo.trace_interval_ms = (long)ms;
			break;
		}
		default:
			code = cli_usage_error(verb, "unknown option");
			goto out;
		}
	}
	if (optind < argc) {
		code = cli_usage_error(verb, "unexpected argument '%s'",
				       argv[optind]);
		goto out;
	}
	mo.cli_log_level = g->log_level;
	mo.cli_log_format = g->log_format;

	config_path = absolute_path(g->config_path ? g->config_path :
				    cli_default_config_path());
	g->config_path = config_path;
	/*
	 * As gitlab-runner: a config.toml that does not exist yet is no error
	 * (packages start the service before anyone registers); crunner runs
	 * with no runners and loads the file when it appears.
	 */
	if (access(config_path, F_OK) != 0 && errno == ENOENT) {
		log_warn("%s does not exist yet: running with no runners until it "
			 "appears (crunner register writes it)", config_path);
		config_default(&cfg, config_path);
	} else if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK) {
		goto out;
	}
	if (workdir && chdir(workdir) != 0) {
		cli_error("cannot change to working directory '%s': %s",
			  workdir, strerror(errno));
		code = CR_EXIT_FAILURE;
		goto out;
	}
	docker_remove_leftovers(cfg.runners, cfg.nr_runners);
	remove_kubernetes_leftovers(&cfg);
	if (manager_new(&mo, &cfg, &m, &err) != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_FAILURE;
		goto out;
	}
	code = manager_run(m);
out:
	manager_free(m);
	config_release(&cfg);
	if (config_path && g->config_path == config_path)
		g->config_path = NULL;
	free(config_path);
	buf_release(&err);
	return code;
}
