/*
 * What the executors keep between the jobs of one crunner process about
 * the host they run on, so that per-job work that rarely finds anything
 * new is not redone for every job:
 *
 *  - the sweep for private dirs a killed crunner left behind
 *    (private_dir_clean_stale(): a scan of all of $TMPDIR) runs for the
 *    first job, then at most once per HOST_CACHE_SWEEP_MS;
 *  - the shell program found on PATH (16 stat()s per stage on a long
 *    PATH) is kept: a kept file is re-checked with one stat() per use and
 *    looked up again when it went, when PATH changed, or after
 *    HOST_CACHE_LOOKUP_MS (a shell put earlier on PATH is found then).
 *
 * Owned by whoever runs jobs one after another (the manager, run-single,
 * exec's scheduler) and borrowed by each job; NULL everywhere means "keep
 * nothing": sweep and look up for every job.  Used on the loop's thread
 * only.
 */
#ifndef CR_EXECUTOR_HOST_CACHE_H
#define CR_EXECUTOR_HOST_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct buf;

#define HOST_CACHE_SWEEP_MS (60L * 1000)
#define HOST_CACHE_LOOKUP_MS (10L * 1000)

struct host_cache;

struct host_cache *host_cache_new(void);
void host_cache_free(struct host_cache *hc);

/*
 * True when parent/prefix* is due a sweep (never swept by this cache, or
 * HOST_CACHE_SWEEP_MS ago); the sweep is then noted as done at now_ms.
 * NULL hc: always true.
 */
bool host_cache_sweep_due(struct host_cache *hc, const char *parent,
			  const char *prefix, uint64_t now_ms);

/*
 * The file of program name on path (a PATH value, as proc_find_program()
 * takes it) into out.  Returns 0, or an errno value (ENOENT, EACCES) with
 * out empty.  NULL hc: looked up every time.
 */
int host_cache_find_program(struct host_cache *hc, const char *name,
			    const char *path, uint64_t now_ms,
			    struct buf *out);

#endif
