/*
 * artifacts:reports:dotenv read back from the local store, so the
 * variables a job exports reach the jobs that receive its artifacts, as
 * GitLab does (the report's rules: archive/dotenv.h).
 */
#ifndef CR_LOCAL_DOTENV_H
#define CR_LOCAL_DOTENV_H

#include "local/pipeline.h"

struct buf;

/*
 * Reads the stored report at path (gzip members, one per file) into out
 * (a later key wins).  Returns 0, or a negative CR_ERR_* with err and out
 * unchanged: an invalid report gives no variable, as in GitLab.
 */
int local_dotenv_read(const char *path, struct pl_vars *out, struct buf *err);

#endif
