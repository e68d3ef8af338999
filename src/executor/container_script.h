/*
 * What the container executors (docker, kubernetes) share when they set a
 * job up: the helper image's name and the first helper script's lines
 * that make what the engine makes on its own host for the shell executor
 * (the ssh executor's stage scripts start with the same lines).
 */
#ifndef CR_EXECUTOR_CONTAINER_SCRIPT_H
#define CR_EXECUTOR_CONTAINER_SCRIPT_H

#include <stdbool.h>

struct buf;
struct variables;

/* Appends s in single quotes for sh: ' becomes '\''. */
void container_sh_quote(struct buf *b, const char *s);

/*
 * The helper image: configured (helper_image) with the runner's version
 * variables from vars (may be NULL) expanded, as gitlab-runner does (only
 * those: a job must not pick the image that gets its token), else
 * crunner-helper:<version>.  Malloc'd.
 */
char *container_helper_image(const char *configured,
			     const struct variables *vars);

/*
 * Lines for the first helper script: mkdir -p of RUNNER_TEMP_PROJECT_DIR
 * (and CI_PROJECT_DIR), then each file-type variable written to
 * RUNNER_TEMP_PROJECT_DIR/<key>, under umask 022 when group_readable (the
 * job runs as another user), else 077.  Nothing without
 * RUNNER_TEMP_PROJECT_DIR.  vars may be NULL.
 */
void container_init_script(const struct variables *vars, bool group_readable,
			   struct buf *text);

/* container_init_script()'s two parts: the mkdir -p line (false, and
 * nothing, without RUNNER_TEMP_PROJECT_DIR), then the file variables. */
bool container_mkdir_script(const struct variables *vars, struct buf *text);
void container_file_variables_script(const struct variables *vars,
				     bool group_readable, struct buf *text);

#endif
