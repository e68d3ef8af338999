#include <string.h>

#include "executor/executor.h"
#include "util/banned.h"

/* Every backend, in the order `crunner register` lists them. */
static const struct executor_ops *const executors[] = {
	&shell_executor,
	&custom_executor,
	&docker_executor,
	&kubernetes_executor,
	&ssh_executor,
	&docker_autoscaler_executor,
	&instance_executor,
};

const struct executor_ops *executor_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(executors) / sizeof(executors[0]); i++)
		if (!strcmp(executors[i]->name, name))
			return executors[i];
	return NULL;
}
