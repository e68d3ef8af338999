/* gitlab-runner's back-off between tries of a job stage (spec 8.2). */
#ifndef CR_BACKOFF_H
#define CR_BACKOFF_H

#include <stddef.h>

/*
 * The wait before try number failures + 1, in ms: 5 s growing by 1.5 per
 * failure up to 5 min, jittered anywhere between 5 s and that step
 * (FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY).  failures >= 1.
 */
long backoff_stage_retry_ms(unsigned failures);

/* ms as Go prints a duration: "5s", "6.25s".  out holds 32 bytes. */
void backoff_format(long ms, char *out, size_t size);

#endif
