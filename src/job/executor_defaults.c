/*
 * config.toml's value, else the executor's default: true for the
 * container executors (docker and its autoscaled kinds, kubernetes), and
 * safe_directory_checkout also for the VM ones, false for shell, ssh,
 * custom and instance, whose jobs run where the runner's user is.
 */
#include <string.h>

#include "config/config.h"
#include "job/executor_defaults.h"
#include "util/banned.h"

struct executor_default {
	const char *executor;
	bool custom_build_dir;
	bool safe_directory_checkout;
};

static const struct executor_default defaults[] = {
	{ "docker", true, true },
	{ "docker-windows", true, true },
	{ "docker+machine", true, true },
	{ "docker-autoscaler", true, true },
	{ "kubernetes", true, true },
	{ "parallels", false, true },
	{ "virtualbox", false, true },
};

static const struct executor_default *find(const char *executor)
{
	size_t i;

	for (i = 0; executor && i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!strcmp(defaults[i].executor, executor))
			return &defaults[i];
	return NULL;	/* shell, ssh, custom, instance: both false */
}

bool executor_defaults_custom_build_dir(const struct runner_config *rc)
{
	const struct executor_default *d = find(rc->executor);

	if (rc->custom_build_dir.enabled != CONFIG_UNSET)
		return rc->custom_build_dir.enabled == CONFIG_TRUE;
	return d && d->custom_build_dir;
}

bool executor_defaults_safe_directory(const struct runner_config *rc)
{
	const struct executor_default *d = find(rc->executor);

	if (rc->safe_directory_checkout != CONFIG_UNSET)
		return rc->safe_directory_checkout == CONFIG_TRUE;
	return d && d->safe_directory_checkout;
}
