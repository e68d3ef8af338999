/*
 * What the rest of crunner asks of the docker executor outside a job.
 */
#ifndef CR_DOCKER_H
#define CR_DOCKER_H

#include <stddef.h>

struct runner_config;

/*
 * Removes what jobs of these runners left behind when crunner died (kill
 * -9, a crash, a power cut): every container labelled
 * com.gitlab.gitlab-runner.managed=true with the runner's short token as
 * runner.id, and the job's own volumes (not the cache volumes kept on
 * purpose).  Call it when crunner starts, before any job runs: no job of
 * this process exists yet, so everything found is a leftover.  Runners
 * with another executor are skipped; an engine that does not answer is a
 * warning in the log, never an error.  Blocks (a few requests per
 * leftover).
 */
void docker_remove_leftovers(struct runner_config *const *runners, size_t nr);

#endif
