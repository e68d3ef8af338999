/*
 * The systemd unit `crunner install` writes, in the shape gitlab-runner's
 * service library (kardianos/service) gives gitlab-runner's: the same
 * sections and keys, ExecStart as "<binary> "run" "--config" ..." with each
 * argument double-quoted, Restart=always, RestartSec=120 and the optional
 * EnvironmentFile=-/etc/sysconfig/<name>.
 */
#ifndef CR_SERVICE_UNIT_H
#define CR_SERVICE_UNIT_H

#include <stdbool.h>

struct buf;
struct strvec;

struct service_unit {
	const char *name;		/* the service name (--service) */
	const char *description;
	const char *program;		/* absolute path of crunner */
	const struct strvec *args;	/* "run" and its options */
	const char *init_user;		/* User=, or NULL */
	bool user_service;		/* a systemd --user unit */
};

/* Appends the unit file's text to out (a buffer without a size cap). */
void service_unit_render(const struct service_unit *unit, struct buf *out);

/*
 * The arguments of `crunner run` in the unit, as gitlab-runner builds
 * them: --config, then --working-directory and --service when given,
 * --syslog when asked for, --user when given.
 */
void service_run_args(struct strvec *args, const char *config,
		      const char *working_dir, const char *service,
		      bool syslog, const char *user);

#endif
