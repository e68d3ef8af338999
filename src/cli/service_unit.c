/*
 * The systemd unit of `crunner install` (see service_unit.h).
 */
#include <string.h>

#include "cli/service_unit.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/banned.h"

/* An argument as systemd reads it: in double quotes, '"' and '\' escaped. */
static void add_quoted(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_addch(out, '\\');
		buf_addch(out, *s);
	}
	buf_addch(out, '"');
}

/* The program path unquoted, a space written as systemd's "\x20". */
static void add_path(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ')
			buf_addstr(out, "\\x20");
		else
			buf_addch(out, *s);
	}
}

void service_unit_render(const struct service_unit *u, struct buf *out)
{
	size_t i;

	buf_addf(out, "[Unit]\nDescription=%s\nConditionFileIsExecutable=",
		 u->description);
	add_path(out, u->program);
	buf_addstr(out, "\n\nAfter=network.target\n\n[Service]\n"
		   "StartLimitInterval=5\nStartLimitBurst=10\nExecStart=");
	add_path(out, u->program);
	for (i = 0; i < u->args->nr; i++) {
		buf_addch(out, ' ');
		add_quoted(out, u->args->v[i]);
	}
	buf_addch(out, '\n');
	if (u->init_user && *u->init_user)
		buf_addf(out, "User=%s\n", u->init_user);
	buf_addf(out, "Restart=always\nRestartSec=120\n"
		 "EnvironmentFile=-/etc/sysconfig/%s\n\n[Install]\nWantedBy=%s\n",
		 u->name, u->user_service ? "default.target" :
		 "multi-user.target");
}

void service_run_args(struct strvec *args, const char *config,
		      const char *working_dir, const char *service,
		      bool syslog, const char *user)
{
	strvec_push(args, "run");
	strvec_push(args, "--config");
	strvec_push(args, config);
	if (working_dir && *working_dir) {
		strvec_push(args, "--working-directory");
		strvec_push(args, working_dir);
	}
	if (service && *service) {
		strvec_push(args, "--service");
		strvec_push(args, service);
	}
	if (syslog)
		strvec_push(args, "--syslog");
	if (user && *user) {
		strvec_push(args, "--user");
		strvec_push(args, user);
	}
}
