/*
 * crunner fleeting-probe: drives one instance group (src/autoscale/) from
 * the command line, step by step, and prints what each step returned.
 * For tests and for an operator checking a plugin; not part of
 * gitlab-runner's command set.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autoscale/instance_group.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int parse_int(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 0 || v > 1000000000)
		return -1;
	*out = (int)v;
	return 0;
}

static void print_list(const char *what, const struct ig_instance_list *l)
{
	size_t i;

	printf("%s %zu:", what, l->n);
	for (i = 0; i < l->n; i++)
		printf(" %s=%s", l->v[i].id, ig_state_name(l->v[i].state));
	printf("\n");
}

/* Runs one step; *used = how many argv words it took. */
static int run_step(struct instance_group *g, char **argv, int argc,
		    int *used, struct buf *err)
{
	const char *step = argv[0];
	int r = 0, n;

	*used = 1;
	if (!strcmp(step, "init")) {
		struct ig_provider_info info = { 0 };

		r = ig_init(g, &info, err);
		if (!r)
			printf("init id=%s max_size=%d version=%s\n",
			       info.id ? info.id : "", info.max_size,
			       info.version ? info.version : "");
		ig_provider_info_release(&info);
	} else if (!strcmp(step, "update")) {
		struct ig_instance_list l = { 0 };

		r = ig_update(g, &l, err);
		if (!r)
			print_list("update", &l);
		ig_instance_list_release(&l);
	} else if (!strcmp(step, "increase") || !strcmp(step, "sleep")) {
		if (argc < 2 || parse_int(argv[1], &n)) {
			buf_seterr(err, "%s needs a number", step);
			return CR_ERR_USAGE;
		}
		*used = 2;
		if (step[0] == 's') {
			usleep((useconds_t)n * 1000);
			return 0;
		}
		{
			int ok = 0;

			r = ig_increase(g, n, &ok, err);
			if (!r)
				printf("increase requested=%d succeeded=%d\n", n, ok);
		}
	} else if (!strcmp(step, "decrease")) {
		struct strvec ids = STRVEC_INIT;
		struct ig_instance_list ok = { 0 };
		char *list, *p, *save = NULL;

		if (argc < 2) {
			buf_seterr(err, "decrease needs ID[,ID...]");
			return CR_ERR_USAGE;
		}
		*used = 2;
		list = xstrdup(argv[1]);
		for (p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save))
			strvec_push(&ids, p);
		r = ig_decrease(g, (const char *const *)ids.v, ids.nr, &ok, err);
		if (!r)
			print_list("decrease", &ok);
		ig_instance_list_release(&ok);
		strvec_clear(&ids);
		free(list);
	} else if (!strcmp(step, "connect-info") || !strcmp(step, "heartbeat")) {
		if (argc < 2) {
			buf_seterr(err, "%s needs an instance id", step);
			return CR_ERR_USAGE;
		}
		*used = 2;
		if (step[0] == 'h') {
			r = ig_heartbeat(g, argv[1], err);
			if (r == CR_ERR_UNSUPPORTED || !r) {
				printf("heartbeat %s %s\n", argv[1],
				       r ? "unsupported" : "ok");
				r = 0;
			}
		} else {
			struct ig_connect_info ci;

			r = ig_connect_info(g, argv[1], &ci, err);
			if (!r)
				printf("connect-info id=%s internal=%s external=%s "
				       "protocol=%s port=%d os=%s arch=%s user=%s "
				       "password=%s key_bytes=%zu expires=%lld\n",
				       ci.id ? ci.id : "",
				       ci.internal_addr ? ci.internal_addr : "",
				       ci.external_addr ? ci.external_addr : "",
				       ci.conn.protocol ? ci.conn.protocol : "",
				       ci.conn.protocol_port,
				       ci.conn.os ? ci.conn.os : "",
				       ci.conn.arch ? ci.conn.arch : "",
				       ci.conn.username ? ci.conn.username : "",
				       ci.conn.password ? "set" : "unset",
				       ci.conn.key_len, (long long)ci.expires_unix);
			ig_connect_info_release(&ci);
		}
	} else if (!strcmp(step, "shutdown")) {
		r = ig_shutdown(g, err);
		if (!r)
			printf("shutdown ok\n");
	} else if (!strcmp(step, "pid")) {
		printf("pid %d\n", ig_plugin_pid(g));
	} else {
		buf_seterr(err, "unknown step '%s'", step);
		return CR_ERR_USAGE;
	}
	return r;
}

int cmd_fleeting_probe(int argc, char **argv, struct cli_globals *gl)
{
	static const struct option opts[] = {
		{ "plugin", required_argument, NULL, 'p' },
		{ "plugin-config", required_argument, NULL, 'j' },
		{ "username", required_argument, NULL, 'u' },
		{ "key-path", required_argument, NULL, 'k' },
		{ "start-timeout-ms", required_argument, NULL, 's' },
		{ "call-timeout-ms", required_argument, NULL, 'c' },
		{ "grace-ms", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("fleeting-probe");
	struct ig_config cfg = { 0 };
	struct instance_group *g = NULL;
	struct buf err = BUF_INIT;
	int c, r, i, failed = 0, restarts = 0;

	(void)gl;
	cfg.plugin_config_json = "null";
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		int *num = NULL;

		switch (c) {
		case 'p': cfg.plugin = optarg; break;
		case 'j': cfg.plugin_config_json = optarg; break;
		case 'u': cfg.settings.username = optarg; break;
		case 'k':
			if (ig_connector_read_key(&cfg.settings, optarg, &err)) {
				cli_error("%s", err.data);
				buf_release(&err);
				return CR_EXIT_FAILURE;
			}
			break;
		case 's': num = &cfg.start_timeout_ms; break;
		case 'c': num = &cfg.call_timeout_ms; break;
		case 'g': num = &cfg.shutdown_grace_ms; break;
		case 'h':
			fputs(verb->usage, stdout);
			return CR_EXIT_OK;
		default:
			return cli_usage_error(verb, "unknown option");
		}
		if (num && parse_int(optarg, num))
			return cli_usage_error(verb, "'%s' is not a number of "
					       "milliseconds", optarg);
	}
	if (!cfg.plugin)
		return cli_usage_error(verb, "--plugin is required");
	r = instance_group_open(&cfg, &g, &err);
	if (r) {
		cli_error("%s", err.data);
		freezero(cfg.settings.key, cfg.settings.key_len);
		buf_release(&err);
		return CR_EXIT_FAILURE;
	}
	printf("plugin kind=%s pid=%d\n", ig_kind(g), ig_plugin_pid(g));
	fflush(stdout);
	for (i = optind; i < argc;) {
		int used = 1;

		buf_reset(&err);
		r = run_step(g, argv + i, argc - i, &used, &err);
		if (r) {
			printf("%s error: %s\n", argv[i], err.data);
			failed = 1;
			if (r == CR_ERR_USAGE)
				break;
		}
		if (ig_restarts(g) != restarts) {
			restarts = ig_restarts(g);
			printf("plugin restarted count=%d pid=%d\n", restarts,
			       ig_plugin_pid(g));
		}
		fflush(stdout);
		i += used;
	}
	ig_free(g);
	freezero(cfg.settings.key, cfg.settings.key_len);
	buf_release(&err);
	return failed ? CR_EXIT_FAILURE : CR_EXIT_OK;
}
