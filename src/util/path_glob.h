/* Matching '/'-separated relative paths against glob patterns. */
#ifndef CR_PATH_GLOB_H
#define CR_PATH_GLOB_H

#include <stdbool.h>

/*
 * Whether path matches pattern: "*" and "?" within one component, "**"
 * across any number of them (a/<two stars>/b also matches a/b), "[...]"
 * classes of one character (never '/'), as Ruby's File.fnmatch with
 * FNM_PATHNAME, which GitLab uses for include:, changes: and exists:.
 * Used by crunner exec and rtup; artifacts and caches have their own,
 * component-wise matcher (archive/glob.h), as gitlab-runner does.
 */
bool path_glob_match(const char *pattern, const char *path);

#endif
