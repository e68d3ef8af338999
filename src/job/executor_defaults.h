/*
 * The defaults gitlab-runner's executors give the [[runners]] keys that
 * change what a job does when config.toml leaves them unset (its
 * ExecutorOptions: DefaultCustomBuildsDirEnabled and
 * DefaultSafeDirectoryCheckout in executors/<name>/).
 */
#ifndef CR_EXECUTOR_DEFAULTS_H
#define CR_EXECUTOR_DEFAULTS_H

#include <stdbool.h>

struct runner_config;

/* [runners.custom_build_dir] enabled: may a job set GIT_CLONE_PATH? */
bool executor_defaults_custom_build_dir(const struct runner_config *rc);

/* safe_directory_checkout: git config --global safe.directory <project>? */
bool executor_defaults_safe_directory(const struct runner_config *rc);

#endif
