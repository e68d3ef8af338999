/* Shared between local/pipeline.c and local/pipeline_job.c only. */
#ifndef CR_LOCAL_PIPELINE_INT_H
#define CR_LOCAL_PIPELINE_INT_H

#include <stdbool.h>

struct buf;
struct pipeline;
struct pl_job;
struct strvec;
struct ynode;

bool pl_in_list(const char *const *list, const char *s);

/*
 * A string or a list of strings (nested lists flattened, as GitLab does
 * for script: with !reference); job may be NULL for top-level keys.
 */
int pl_string_list(const struct ynode *n, const char *job, const char *key,
		   struct strvec *out, struct buf *err);

/* Reads every keyword of job->node into job; checks unknown keywords. */
int pl_job_parse(struct pipeline *pl, struct pl_job *job, const char *name,
		 struct buf *err);

#endif
