/*
 * The URL a job's get_sources fetches from: GitLab's repo_url or the
 * runner's clone_url (config.toml [[runners]] clone_url).
 */
#ifndef CR_REMOTE_URL_H
#define CR_REMOTE_URL_H

#include <stdbool.h>

struct buf;

/*
 * Whether clone_url replaces repo_url: it has a scheme, as in
 * gitlab-runner, and a "//host" (without one gitlab-runner builds a URL
 * git cannot use; crunner keeps repo_url).
 */
bool remote_url_uses_clone_url(const char *clone_url);

/*
 * Appends the remote URL to out: repo_url as it is, or clone_url's
 * scheme://host/path + "/" + project_path + ".git" with credentials for
 * the scheme (http/https: gitlab-ci-token:<token>; ssh: its user or
 * "git"; other schemes: none).  out holds the token then: release it
 * with buf_release_secret().  Returns 0 or a buf error.
 */
int remote_url_build(const char *repo_url, const char *clone_url,
		     const char *project_path, const char *token,
		     struct buf *out);

#endif
