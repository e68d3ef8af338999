/*
 * What the rest of crunner asks of the kubernetes executor outside a job.
 */
#ifndef CR_KUBERNETES_H
#define CR_KUBERNETES_H

#include <stddef.h>

struct runner_config;

/*
 * Deletes the pods jobs of these runners left when crunner died: every
 * pod in the runner's namespace labelled
 * manager.runner.gitlab.com/id-short=<short token> and
 * crunner/system-id=<system_id> (this installation's: several managers of
 * one runner token often share a cluster, and must not delete each
 * other's pods).  Call it when crunner starts, before any job runs.
 * Runners with another executor are skipped; an API server that does not
 * answer is a warning in the log.  Blocks.
 */
void kubernetes_remove_leftovers(struct runner_config *const *runners,
				 size_t nr, const char *system_id);

#endif
