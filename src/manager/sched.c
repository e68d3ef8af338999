/*
 * The manager's decisions as pure functions of their inputs, so the unit
 * tests can pin them down: may this entry ask for a job now, how long to
 * back off, the adaptive request concurrency, the concurrency slot id and
 * when a token is due for rotation.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "manager/manager_int.h"
#include "util/banned.h"

/*
 * In gitlab-runner's order: the feeder skips unhealthy entries; a free
 * worker (concurrent) takes the feed; acquireBuild checks limit and
 * acquireRequest request_concurrency.  A request holds its build slot, so
 * limit and concurrent count requests in flight as well as jobs.
 */
enum sched_verdict sched_may_request(const struct sched_state *s)
{
	if (s->unhealthy)
		return SCHED_UNHEALTHY;
	if (s->backing_off)
		return SCHED_BACKOFF;
	if (s->busy >= s->concurrent)
		return SCHED_CONCURRENT_FULL;
	if (s->limit > 0 && s->requests + s->jobs >= s->limit)
		return SCHED_LIMIT_REACHED;
	if (s->requests >= (s->request_limit < 1 ? 1 : s->request_limit))
		return SCHED_REQUESTS_FULL;
	return SCHED_REQUEST;
}

const char *sched_verdict_name(enum sched_verdict v)
{
	switch (v) {
	case SCHED_REQUEST:
		return "request";
	case SCHED_UNHEALTHY:
		return "unhealthy";
	case SCHED_BACKOFF:
		return "backing off after failures";
	case SCHED_CONCURRENT_FULL:
		return "'concurrent' reached";
	case SCHED_LIMIT_REACHED:
		return "'limit' reached";
	case SCHED_REQUESTS_FULL:
		return "'request_concurrency' reached";
	}
	return "?";
}

long sched_backoff_ms(unsigned failures, long base_ms, long max_ms,
		      uint32_t rnd)
{
	long d = base_ms > 0 ? base_ms : 1;
	unsigned i;

	if (!failures)
		return 0;
	for (i = 1; i < failures && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	/* Equal jitter: half fixed, half random, so runners spread out. */
	return d - d / 2 + (long)(rnd % (uint32_t)(d / 2 + 1));
}

double sched_adaptive_update(double cur, enum sched_outcome o, int hard)
{
	double max = hard < 1 ? 1 : hard;

	switch (o) {
	case SCHED_GOT_JOB:
		cur *= 1.1;
		break;
	case SCHED_NO_JOB:
		cur *= 0.95;
		break;
	case SCHED_SLOW_DOWN:
		cur *= 0.5;
		break;
	}
	if (cur < 1)
		cur = 1;
	if (cur > max)
		cur = max;
	return cur;
}

int sched_request_limit(double adaptive, int hard, bool adaptive_on)
{
	int n;

	if (hard < 1)
		hard = 1;
	if (!adaptive_on)
		return hard;
	n = (int)ceil(adaptive);
	if (n < 1)
		n = 1;
	return n > hard ? hard : n;
}

int sched_free_slot(const int *used, size_t n)
{
	int id = 0;
	size_t i;
	bool taken;

	do {
		taken = false;
		for (i = 0; i < n; i++)
			if (used[i] == id) {
				taken = true;
				id++;
				break;
			}
	} while (taken);
	return id;
}

time_t sched_token_reset_at(time_t obtained, time_t expires)
{
	return obtained + (time_t)((double)(expires - obtained) * 0.75);
}
