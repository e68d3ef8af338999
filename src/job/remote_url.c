/*
 * The URL get_sources fetches from, as gitlab-runner's GitAuthHelper
 * (helpers/url/gitauth.go) makes it: the repo_url GitLab sent, or, when
 * the runner has a clone_url with a scheme, that URL's scheme, host and
 * path joined with "<CI_PROJECT_PATH>.git".  An http(s) clone_url gets
 * the job token as gitlab-ci-token's password (the credential helper of
 * stage_sources.c answers with it, so it reaches no command line); an
 * ssh one keeps its user, "git" when it names none.
 */
#include <string.h>
#include <strings.h>

#include "job/remote_url.h"
#include "util/buf.h"
#include "util/banned.h"

/* "scheme:" as Go's url.Parse reads it; 0 when s has none. */
static size_t scheme_len(const char *s)
{
	size_t i;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	for (i = 1; s[i]; i++) {
		char c = s[i];

		if (c == ':')
			return i;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return 0;
	}
	return 0;
}

static bool scheme_is(const char *url, size_t len, const char *name)
{
	return strlen(name) == len && !strncasecmp(url, name, len);
}

bool remote_url_uses_clone_url(const char *clone_url)
{
	return clone_url && scheme_len(clone_url) > 0 &&
	       !strncmp(clone_url + scheme_len(clone_url), "://", 3);
}

int remote_url_build(const char *repo_url, const char *clone_url,
		     const char *project_path, const char *token,
		     struct buf *out)
{
	const char *host, *end, *at, *path;
	size_t slen, plen;
	bool ssh;

	if (!remote_url_uses_clone_url(clone_url))
		return buf_addstr(out, repo_url ? repo_url : "");
	slen = scheme_len(clone_url);
	ssh = scheme_is(clone_url, slen, "ssh");
	host = clone_url + slen + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	path = end;
	plen = strcspn(path, "?#");
	/* path.Join: no trailing slash before the project's path. */
	while (plen && path[plen - 1] == '/')
		plen--;

	(void)buf_add(out, clone_url, slen + 3);
	if (ssh) {
		if (at)
			(void)buf_add(out, host, (size_t)(at + 1 - host));
		else
			(void)buf_addstr(out, "git@");
	} else if (scheme_is(clone_url, slen, "http") ||
		   scheme_is(clone_url, slen, "https")) {
		(void)buf_addf(out, "gitlab-ci-token:%s@", token ? token : "");
	}
	host = at ? at + 1 : host;
	(void)buf_add(out, host, (size_t)(end - host));
	(void)buf_add(out, path, plen);
	(void)buf_addch(out, '/');
	if (project_path)
		(void)buf_addstr(out, project_path);
	return buf_addstr(out, ".git");
}
