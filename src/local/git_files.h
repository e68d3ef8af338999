/*
 * What two git commands say, read from a plain repository's files when
 * that is simple, so that `crunner exec` (and --list) need not start git:
 *
 *  - git_files_head(): what `git log -1 --no-show-signature
 *    --decorate=short --format=%H%n%P%n%an <%ae>%n%cI%n%D%n%B` prints,
 *    for a HEAD that is a branch whose commit is a loose object (a fresh
 *    commit); %D holds only "HEAD -> branch", the one decoration crunner
 *    reads then.
 *  - git_files_user(): what `git config --get-regexp
 *    '^user\.(name|email)$'` prints, from the system, global and
 *    repository config files.
 *
 * Each returns false, and leaves the answer to git, whenever the files say
 * more than this reader knows: a variable that moves the repository or its
 * config, a detached HEAD, a packed commit, shallow, grafted or replaced
 * commits, a message in another encoding, config includes, quoting or
 * escapes.  root is the working tree; root/.git must be a directory (the
 * caller checked).
 */
#ifndef CR_LOCAL_GIT_FILES_H
#define CR_LOCAL_GIT_FILES_H

#include <stdbool.h>

/* *out: a new string, as git would print it (trailing newlines aside). */
bool git_files_head(const char *root, char **out);
bool git_files_user(const char *root, char **out);

#endif
