/*
 * The local cache, laid out as gitlab-runner's shell executor lays it out:
 * <cache_dir>/<project path>/<sanitised key>/cache.zip.
 *
 * Keys come from the payload (the server already turned `key: files:` and
 * `prefix` into a plain string) and are expanded with the job's variables
 * by the caller; cache_key_sanitize() then makes sure no key leaves the
 * cache directory.
 */
#ifndef CR_ARCHIVE_CACHE_H
#define CR_ARCHIVE_CACHE_H

#include <stdbool.h>

#include "archive/cache_format.h"
#include "archive/glob.h"
#include "archive/zip.h"

struct buf;

/*
 * gitlab-runner's cachekey.Sanitize: "%2f"/"%2F" and "%2e"/"%2E" are
 * decoded, '\' becomes '/', "." and ".." are resolved inside a virtual
 * root (so ".." can never climb out), and trailing white space (Unicode,
 * as Go's unicode.IsSpace) is cut from the last components, dropping those
 * left empty.  Unlike gitlab-runner, resolving and trimming repeat until
 * the key no longer changes, so trimming cannot leave a "." or ".."
 * behind (".. " and "%2e%2e\t" are refused, "a/. " gives "a"; gitlab-runner
 * gives ".." and "a/.").  Returns 0 with the key in out, or CR_ERR_INVALID
 * with one sentence in err when nothing is left ("cache key \"...\" could
 * not be sanitized").
 */
int cache_key_sanitize(const char *key, struct buf *out, struct buf *err);

/* CACHE_FALLBACK_KEY as gitlab-runner trims it: trailing ' ', '/', '\'. */
void cache_fallback_key_trim(const char *key, struct buf *out);

enum cache_policy_check {
	CACHE_POLICY_YES,
	CACHE_POLICY_NO,
	CACHE_POLICY_INVALID,
};

/*
 * Whether a cache with this policy ("pull", "push", "pull-push", or ""
 * meaning pull-push) is restored (pull = true) or saved (pull = false).
 */
enum cache_policy_check cache_policy_allows(const char *policy, bool pull);

/*
 * Builds the archive file at file from the spec's matches (relative to
 * project_dir), through a temporary file renamed into place.  When the
 * existing archive holds exactly the same names and no match changed
 * after it was written, it is kept and *up_to_date set.  *nothing is set
 * when nothing matched (no archive is written).  Returns 0 or a negative
 * CR_ERR_* with one sentence in err.  comp gives the format and level
 * (archive/cache_format.h); an existing archive of the other kind (tar
 * against zip) is never up to date.  zip and zipzstd files are not told
 * apart: switching between those two takes effect with the next change
 * of the files, as with gitlab-runner, which checks times only.
 */
int cache_archive_create(const char *project_dir,
			 const struct glob_spec *spec, const char *file,
			 const struct cache_compression *comp,
			 bool *up_to_date, bool *nothing, struct buf *err);

#endif
