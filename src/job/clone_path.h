/*
 * GIT_CLONE_PATH: the directory a job asks to be cloned into, allowed by
 * [runners.custom_build_dir] enabled (executor_defaults.h) as
 * gitlab-runner's getCustomBuildDir (common/build.go) does.
 */
#ifndef CR_CLONE_PATH_H
#define CR_CLONE_PATH_H

#include <stdbool.h>

struct buf;

/*
 * Appends to out the project dir for clone_path (non-empty, already
 * expanded) under builds_dir (absolute): the path cleaned as Go's
 * path.Clean.  Returns 0, or CR_ERR_CONFIG with a sentence in err when
 * the runner does not allow it or it lies outside builds_dir; the words
 * are gitlab-runner's.
 */
int clone_path_resolve(const char *builds_dir, const char *clone_path,
		       bool enabled, struct buf *out, struct buf *err);

#endif
