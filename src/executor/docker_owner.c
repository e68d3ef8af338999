/*
 * FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR, as gitlab-runner's docker executor
 * does it: the helper's scripts keep the container's umask (no "umask
 * 0000", so its files are not everyone's), and when the build container
 * is first needed, if the job image's user (Config.User) is set and not
 * root, the build user's uid and gid ("id -u", "id -g" in that image) get
 * the project dir and its .tmp dir ("chown -RP" in the helper, errors
 * ignored) before the build stage runs.
 */
#include <stdlib.h>
#include <string.h>

#include "executor/container_script.h"
#include "executor/docker_int.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define FF_DISABLE_UMASK "FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR"

int docker_umask_disabled(const struct docker_job *dj)
{
	return docker_feature_flag(dj, FF_DISABLE_UMASK);
}

int docker_owner_needed(const struct docker_job *dj)
{
	return !dj->owner_done && docker_umask_disabled(dj) &&
		dj->image_user && *dj->image_user &&
		strcmp(dj->image_user, "root");
}

/* The held stage, now in the build image. */
static void run_held(struct docker_job *dj)
{
	void (*after)(struct docker_job *) = dj->after_owner;
	struct buf empty = BUF_INIT;

	dj->after_owner = NULL;
	buf_release_secret(&dj->upload);
	dj->upload = dj->held_upload;
	dj->held_upload = empty;
	docker_run_container(dj, CTYPE_BUILD, &dj->held_cmd, 0, after);
	strvec_clear(&dj->held_cmd);
}

/* A failure before the stage: it ends as a failed run would. */
static void give_up(struct docker_job *dj)
{
	dj->after_owner = NULL;
	strvec_clear(&dj->held_cmd);
	buf_release_secret(&dj->held_upload);
	docker_op_end(dj);
}

static void after_chown(struct docker_job *dj)
{
	/* gitlab-runner logs a failed chown and goes on. */
	if (dj->err || dj->reason) {
		give_up(dj);
		return;
	}
	run_held(dj);
}

/* The last line of s as a number; -1 when it is none. */
static long last_number(const char *s, size_t len)
{
	char *copy = xstrndup(s, len), *line, *end;
	size_t n = strlen(copy);
	long v;

	while (n && (copy[n - 1] == '\n' || copy[n - 1] == '\r' ||
		     copy[n - 1] == ' '))
		copy[--n] = '\0';
	line = strrchr(copy, '\n');
	line = line ? line + 1 : copy;
	v = strtol(line, &end, 10);
	if (end == line || *end || v < 0)
		v = -1;
	free(copy);
	return v;
}

static void after_ids(struct docker_job *dj)
{
	static const char *const keys[] = {
		"CI_PROJECT_DIR", "RUNNER_TEMP_PROJECT_DIR"
	};
	struct strvec cmd = STRVEC_INIT;
	struct buf script = BUF_INIT;
	const char *nl;
	long uid, gid;
	size_t i;

	if (dj->err || dj->reason) {
		give_up(dj);
		return;
	}
	/* "id -u" then "id -g": a line each. */
	nl = memchr(dj->captured.data, '\n', dj->captured.len);
	uid = nl ? last_number(dj->captured.data,
			       (size_t)(nl - dj->captured.data)) : -1;
	gid = nl ? last_number(nl + 1, dj->captured.len -
			       (size_t)(nl + 1 - dj->captured.data)) : -1;
	if (dj->exit_status != 0 || uid < 0 || gid < 0) {
		docker_fail(dj, CR_ERR_IO,
			    "checking \"%s\" image UID and GID: \"id -u; id -g\" printed \"%s\" (exit status %d)",
			    dj->image, dj->captured.len ? dj->captured.data : "",
			    dj->exit_status);
		give_up(dj);
		return;
	}
	if (uid == 0) {
		run_held(dj);
		return;
	}
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *dir = dj->vars ? variables_get(dj->vars, keys[i]) :
			NULL;

		if (!dir || !*dir)
			continue;
		docker_say(dj, "Changing ownership of files at \"%s\" to %ld:%ld",
			   dir, uid, gid);
		(void)buf_addf(&script, "chown -RP -- %ld:%ld ", uid, gid);
		container_sh_quote(&script, dir);
		(void)buf_addstr(&script, "\n");
	}
	strvec_push(&cmd, "/bin/sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, script.len ? script.data : ":");
	/* Not captured: a captured run has no volumes. */
	docker_run_container(dj, CTYPE_HELPER, &cmd, 0, after_chown);
	strvec_clear(&cmd);
	buf_release(&script);
}

void docker_owner_then_run(struct docker_job *dj, const struct strvec *cmd,
			   void (*after_run)(struct docker_job *dj))
{
	struct strvec probe = STRVEC_INIT;
	struct buf empty = BUF_INIT;
	size_t i;

	dj->owner_done = 1;
	dj->after_owner = after_run;
	strvec_clear(&dj->held_cmd);
	for (i = 0; i < cmd->nr; i++)
		strvec_push(&dj->held_cmd, cmd->v[i]);
	buf_release_secret(&dj->held_upload);
	dj->held_upload = dj->upload;
	dj->upload = empty;
	strvec_push(&probe, dj->shell_path);
	strvec_push(&probe, "-c");
	strvec_push(&probe, "id -u; id -g");
	docker_run_container(dj, CTYPE_BUILD, &probe, 1, after_ids);
	strvec_clear(&probe);
}
