/* What the parts of a local job's payload share (payload*.c). */
#ifndef CR_LOCAL_PAYLOAD_INT_H
#define CR_LOCAL_PAYLOAD_INT_H

#include <jansson.h>

struct buf;
struct local_job;
struct ynode;

/* err = "file:line:col: job 'x': what" at n's key; CR_ERR_INVALID. */
int payload_bad(struct buf *err, const struct ynode *n, const char *job,
		const char *what);
/* n must be a mapping whose keys are all in keys (NULL-terminated);
 * owner names it in the message ("cache:key"). */
int payload_check_keys(const struct ynode *n, const char *const *keys,
		       const char *job, const char *owner, struct buf *err);

/*
 * payload_image.c: the job's image: and services: as the payload's
 * "image" (null when none) and "services" (spec 3.7), new references in
 * *image and *services; or CR_ERR_INVALID with err naming file:line.
 */
int payload_image(const struct local_job *j, json_t **image,
		  json_t **services, struct buf *err);

#endif
