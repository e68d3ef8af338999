/*
 * cache:key:files and cache:key:files_commits computed on this machine.
 *
 * GitLab computes these keys on the server when it creates the pipeline
 * (lib/gitlab/ci/pipeline/seed/build/cache.rb):
 *   files:          the git blob ids of the listed files (patterns with
 *                   `*` expanded) at the pipeline's commit;
 *   files_commits:  the id of the last commit that changed each file;
 * then SHA-1 of those ids, sorted, each once, joined with "-"; "default"
 * when no file gave one.  The key is "<prefix>-<digest>", prefix being
 * key:prefix or, when not set, the cache entry's index (0, 1...).
 *
 * crunner exec does the same from the tree the jobs run in: a file's blob
 * id is `git hash-object` of the file as it is, so an uncommitted edit
 * changes the key (GitLab would only see it once committed) and it works
 * outside a git repository too; files_commits asks `git log -1` and
 * ignores files no commit touched (untracked, or no repository).
 */
#ifndef CR_LOCAL_CACHEKEY_H
#define CR_LOCAL_CACHEKEY_H

#include <stdbool.h>

#include "util/strvec.h"

/*
 * The digest part ("default" when no file gave an id) of files (content)
 * or, with commits, of their last commits; dir is the project tree.  A
 * new string.
 */
char *local_cache_key_digest(const char *dir, const struct strvec *files,
			     bool commits);

#endif
