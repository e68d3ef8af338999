/*
 * The local artifact store of `crunner exec`: the engine's artifact
 * transport (job/engine.h, struct job_artifact_store_ops) over a
 * directory of the run's temporary dir, so artifacts pass between the
 * jobs of one local pipeline as they do through GitLab.
 *
 * Layout: <dir>/<job id>/<artifact type> (archive, junit, dotenv...): one
 * file per job and artifact type, the archive the engine built, moved in
 * by a hard link (a copy across file systems); an upload of the same type
 * again replaces it.  A download hands the job's "archive" artifact (the
 * only type GitLab passes to later jobs as a dependency) to the engine,
 * which extracts it; reports are kept but never downloaded.  Job ids are
 * the payload ids the scheduler gives each attempt; the store has no
 * expiry (expire_in is ignored): it lives as long as the run.
 *
 * The caller does:
 *  1. local_store_new(loop, dir) (dir's parent exists; the first upload
 *     creates dir);
 *  2. per job attempt, a struct local_store_job { store, job id } as
 *     job_settings.artifact_store_ctx with &local_store_ops;
 *  3. local_store_archive() to learn whether a finished job left an
 *     archive (the payload's dependencies[].artifacts_file);
 *  4. local_store_free() (operations under way are dropped, no callback).
 * Operations do their file work at once and report from a zero-delay
 * timer, so the callback always comes from the loop, never the call.
 */
#ifndef CR_LOCAL_STORE_H
#define CR_LOCAL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "job/engine.h"

struct loop;
struct local_store;

struct local_store_job {
	struct local_store *store;
	long job_id;
};

extern const struct job_artifact_store_ops local_store_ops;

struct local_store *local_store_new(struct loop *loop, const char *dir);
void local_store_free(struct local_store *s);

/*
 * Whether job_id uploaded an artifact of type ("archive"...); *filename
 * (borrowed, may be NULL) the name it was sent as, *size its bytes.
 */
bool local_store_find(const struct local_store *s, long job_id,
		      const char *type, const char **filename,
		      long long *size);

/*
 * The file job_id's artifact of type is kept in (a new string), or NULL
 * when it uploaded none.
 */
char *local_store_path(const struct local_store *s, long job_id,
		       const char *type);

#endif
