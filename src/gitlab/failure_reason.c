#include <string.h>

#include "gitlab/failure_reason.h"
#include "util/strvec.h"
#include "util/banned.h"

#define MAX_HOPS 10

static const char *const always_supported[] = {
	FAILURE_SCRIPT, FAILURE_RUNNER_SYSTEM, FAILURE_JOB_EXECUTION_TIMEOUT,
};

/* For servers that predate a reason: the older reason to send instead. */
static const struct {
	const char *from, *to;
} compat[] = {
	{ FAILURE_IMAGE_PULL, FAILURE_RUNNER_SYSTEM },
	{ FAILURE_RUNNER_CONFIGURATION, FAILURE_SCRIPT },
	{ FAILURE_EXTERNAL_DEPENDENCY, FAILURE_RUNNER_SYSTEM },
};

static const char *known(const char *reason, const struct strvec *supported)
{
	size_t i;

	for (i = 0; i < sizeof(always_supported) / sizeof(*always_supported); i++)
		if (!strcmp(reason, always_supported[i]))
			return always_supported[i];
	for (i = 0; supported && i < supported->nr; i++)
		if (!strcmp(reason, supported->v[i]))
			return reason;
	return NULL;
}

static const char *older(const char *reason)
{
	size_t i;

	for (i = 0; i < sizeof(compat) / sizeof(*compat); i++)
		if (!strcmp(reason, compat[i].from))
			return compat[i].to;
	return NULL;
}

const char *failure_reason_map(const char *reason,
			       const struct strvec *supported)
{
	const char *r = reason, *ok;
	int hop;

	if (!r || !*r)
		return FAILURE_SCRIPT;
	for (hop = 0; hop <= MAX_HOPS && r; hop++) {
		if ((ok = known(r, supported)))
			return ok;
		r = older(r);
	}
	return FAILURE_UNKNOWN;
}
