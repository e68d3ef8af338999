/*
 * crunner install | uninstall | start | stop | restart | status: the runner
 * as a systemd service, as gitlab-runner's service commands manage theirs
 * (commands/service*.go and its kardianos/service library): the same flags,
 * the same unit (service_unit.c), systemctl enable/daemon-reload on
 * install, disable/remove/daemon-reload on uninstall, and status from
 * `systemctl is-active`.  systemd only: elsewhere each verb says so.
 *
 * CRUNNER_SYSTEMD_UNIT_DIR names the directory for unit files and takes
 * systemd as present (packaging, and the tests with a stand-in systemctl).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/service_unit.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/proc.h"
#include "util/strvec.h"
#include "util/banned.h"

#define DEFAULT_SERVICE "crunner"
#define UNIT_DIR_ENV "CRUNNER_SYSTEMD_UNIT_DIR"

struct service_opts {
	const char *verb;
	const char *service;
	bool user_service;
	/* install only */
	const char *working_dir;
	const char *config;
	bool syslog;
	const char *user;
	const char *init_user;
};

/* Where unit files go; NULL (with err set) where systemd is not running. */
static int unit_dir(const struct service_opts *o, struct buf *dir,
		    struct buf *err)
{
	const char *env = getenv(UNIT_DIR_ENV), *home;
	struct stat st;

	if (env && *env)
		return buf_addstr(dir, env);
	if (stat("/run/systemd/system", &st) != 0 || !S_ISDIR(st.st_mode)) {
		buf_seterr(err, "systemd is not running here (no /run/systemd/system): "
			   "crunner manages services through systemd only; start "
			   "'crunner run' from your init system or supervisor instead");
		return CR_ERR_NOT_FOUND;
	}
	if (!o->user_service)
		return buf_addstr(dir, "/etc/systemd/system");
	home = getenv("HOME");
	if (!home || !*home) {
		buf_seterr(err, "--user-service needs $HOME");
		return CR_ERR_INVALID;
	}
	return buf_addf(dir, "%s/.config/systemd/user", home);
}

/* systemctl [--user] VERB UNIT, its output on ours.  0 or its status. */
static int systemctl(const struct service_opts *o, const char *verb,
		     const char *unit)
{
	struct proc p = PROC_INIT;
	struct buf err = BUF_INIT;
	int status;

	strvec_push(&p.args, "systemctl");
	if (o->user_service)
		strvec_push(&p.args, "--user");
	strvec_push(&p.args, verb);
	if (unit)
		strvec_push(&p.args, unit);
	if (proc_start(&p, &err) != 0) {
		cli_error("%s", err.data);
		buf_release(&err);
		proc_release(&p);
		return 127;
	}
	buf_release(&err);
	status = proc_finish(&p);
	if (status != 0)
		cli_error("'systemctl %s%s%s' failed (exit status %d)", verb,
			  unit ? " " : "", unit ? unit : "", status);
	return status;
}

/* gitlab-runner writes a config.toml on install when there is none yet. */
static int ensure_config(const char *path)
{
	struct config cfg = { 0 };
	struct buf err = BUF_INIT;
	int r = config_load(path, &cfg, &err);

	if (r == CR_ERR_NOT_FOUND) {
		config_release(&cfg);
		buf_reset(&err);
		config_default(&cfg, path);
		if ((r = fs_make_parent_dirs(path, 0700, &err)) == 0)
			r = config_save(&cfg, &err);
	}
	if (r)
		cli_error("%s", err.data);
	config_release(&cfg);
	buf_release(&err);
	return r ? CR_EXIT_CONFIG : CR_EXIT_OK;
}

static int write_unit(const char *path, const struct buf *text)
{
	struct buf tmp = BUF_INIT;
	int fd, r = 0;

	buf_addf(&tmp, "%s.tmp", path);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text->data, text->len) != (ssize_t)text->len ||
	    fsync(fd) != 0 || close(fd) != 0 || rename(tmp.data, path) != 0) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp.data);
		r = -1;
	}
	buf_release(&tmp);
	return r;
}

static int do_install(const struct service_opts *o, const char *unit_path,
		      const char *unit)
{
	struct strvec args = STRVEC_INIT;
	struct buf text = BUF_INIT, config = BUF_INIT;
	char program[PATH_MAX], cwd[PATH_MAX];
	struct service_unit u;
	struct passwd *pw;
	int code = CR_EXIT_FAILURE;

	if (o->user && o->init_user) {
		cli_error("only one of --user and --init-user can be given");
		return CR_EXIT_USAGE;
	}
	if (geteuid() == 0 && !o->user && !o->init_user) {
		cli_error("please give the user that will run the %s service "
			  "(--user or --init-user)", o->service);
		return CR_EXIT_USAGE;
	}
	if (o->config) {
		buf_addstr(&config, o->config);
	} else if (o->init_user) {
		/* gitlab-runner: the init user's home, then config.toml. */
		if (!(pw = getpwnam(o->init_user))) {
			cli_error("no user '%s' on this machine", o->init_user);
			goto out;
		}
		buf_addf(&config, "%s/config.toml", pw->pw_dir);
	} else {
		buf_addstr(&config, cli_default_config_path());
	}
	if (access(unit_path, F_OK) == 0) {
		cli_error("the %s service is already installed (%s); "
			  "'crunner uninstall -n %s' first", o->service,
			  unit_path, o->service);
		goto out;
	}
	if ((code = ensure_config(config.data)) != CR_EXIT_OK)
		goto out;
	code = CR_EXIT_FAILURE;
	if (!realpath("/proc/self/exe", program)) {
		cli_error("cannot find crunner's own path: %s", strerror(errno));
		goto out;
	}
	service_run_args(&args, config.data,
			 o->working_dir ? o->working_dir :
			 (getcwd(cwd, sizeof(cwd)) ? cwd : NULL),
			 o->service, o->syslog, o->user);
	u = (struct service_unit){ .name = o->service,
		.description = "crunner, a GitLab Runner",
		.program = program, .args = &args,
		.init_user = o->init_user, .user_service = o->user_service };
	service_unit_render(&u, &text);
	if (write_unit(unit_path, &text) != 0 ||
	    systemctl(o, "enable", unit) != 0 ||
	    systemctl(o, "daemon-reload", NULL) != 0)
		goto out;
	printf("installed %s (%s)\n", unit, unit_path);
	code = CR_EXIT_OK;
out:
	strvec_clear(&args);
	buf_release(&text);
	buf_release(&config);
	return code;
}

static int do_uninstall(const struct service_opts *o, const char *unit_path,
			const char *unit)
{
	if (access(unit_path, F_OK) != 0) {
		cli_error("%s: the service is not installed (no %s)",
			  o->service, unit_path);
		return CR_EXIT_FAILURE;
	}
	if (systemctl(o, "disable", unit) != 0)
		return CR_EXIT_FAILURE;
	if (unlink(unit_path) != 0) {
		cli_error("cannot remove %s: %s", unit_path, strerror(errno));
		return CR_EXIT_FAILURE;
	}
	if (systemctl(o, "daemon-reload", NULL) != 0)
		return CR_EXIT_FAILURE;
	printf("uninstalled %s\n", unit);
	return CR_EXIT_OK;
}

/* Messages as gitlab-runner's status prints them. */
static int do_status(const struct service_opts *o, const char *unit_path,
		     const char *unit)
{
	const char *argv[] = { "systemctl", "is-active", unit, NULL, NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;
	int r;

	if (o->user_service) {
		argv[1] = "--user";
		argv[2] = "is-active";
		argv[3] = unit;
	}
	if (access(unit_path, F_OK) != 0) {
		fprintf(stderr, "%s: the service is not installed\n", o->service);
		return CR_EXIT_FAILURE;
	}
	r = proc_capture(argv, NULL, &out, 4096, &err);
	buf_release(&err);
	while (out.len && (out.data[out.len - 1] == '\n' ||
			   out.data[out.len - 1] == ' '))
		out.data[--out.len] = '\0';
	if (r == 0 && !strcmp(out.data, "active")) {
		printf("%s: Service is running\n", o->service);
		buf_release(&out);
		return CR_EXIT_OK;
	}
	if (r >= 0 && (!strcmp(out.data, "inactive") ||
		       !strcmp(out.data, "failed")))
		fprintf(stderr, "%s: Service has stopped\n", o->service);
	else
		fprintf(stderr, "%s: Service status unknown (systemctl is-active: %s)\n",
			o->service, out.len ? out.data : "no answer");
	buf_release(&out);
	return CR_EXIT_FAILURE;
}

enum { OPT_USER_SERVICE = 256, OPT_SYSLOG };

int cmd_service(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 'n' },
		{ "user-service", no_argument, NULL, OPT_USER_SERVICE },
		{ "working-directory", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "syslog", no_argument, NULL, OPT_SYSLOG },
		{ "user", required_argument, NULL, 'u' },
		{ "init-user", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct service_opts o = { .verb = argv[0], .service = DEFAULT_SERVICE };
	const struct cli_verb *verb = cli_find_verb(argv[0]);
	bool install = !strcmp(o.verb, "install");
	struct buf dir = BUF_INIT, unit = BUF_INIT, path = BUF_INIT,
		err = BUF_INIT;
	int c, code;

	(void)g;
	while ((c = getopt_long(argc, argv, "n:d:c:u:i:", opts, NULL)) != -1) {
		if (c == 'n' || c == OPT_USER_SERVICE) {
			if (c == 'n')
				o.service = optarg;
			else
				o.user_service = true;
			continue;
		}
		if (!install)
			return cli_usage_error(verb, "unknown option");
		switch (c) {
		case 'd': o.working_dir = optarg; break;
		case 'c': o.config = optarg; break;
		case OPT_SYSLOG: o.syslog = true; break;
		case 'u': o.user = optarg; break;
		case 'i': o.init_user = optarg; break;
		default: return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(verb, "unexpected argument '%s'",
				       argv[optind]);
	if (!*o.service || strchr(o.service, '/'))
		return cli_usage_error(verb, "bad service name '%s'", o.service);
	if ((o.user || o.init_user) && geteuid() != 0) {
		cli_error("--user and --init-user are for root only");
		return CR_EXIT_USAGE;
	}
	if (unit_dir(&o, &dir, &err) != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_FAILURE;
		goto out;
	}
	buf_addf(&unit, "%s.service", o.service);
	buf_addf(&path, "%s/%s", dir.data, unit.data);
	if (install)
		code = do_install(&o, path.data, unit.data);
	else if (!strcmp(o.verb, "uninstall"))
		code = do_uninstall(&o, path.data, unit.data);
	else if (!strcmp(o.verb, "status"))
		code = do_status(&o, path.data, unit.data);
	else
		code = systemctl(&o, o.verb, unit.data) == 0 ?
			CR_EXIT_OK : CR_EXIT_FAILURE;
out:
	buf_release(&dir);
	buf_release(&unit);
	buf_release(&path);
	buf_release(&err);
	return code;
}
