/*
 * The GitLab instance behind a git remote URL or --gitlab-url.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local/gitlab_origin.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

void gitlab_instance_release(struct gitlab_instance *gi)
{
	free(gi->url);
	free(gi->fqdn);
	gi->url = gi->fqdn = NULL;
}

/*
 * "host[:port]" of an authority ("user:pass@host:port"), without the
 * user part and without a port that is the scheme's default.
 */
static char *host_port(const char *auth, size_t len, const char *scheme,
		       bool keep_port)
{
	const char *at = NULL, *p, *colon = NULL, *end = auth + len;

	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		auth = at + 1;
	for (p = auth; p < end; p++) {
		if (*p == ']')
			colon = NULL;	/* [v6:addr]: colons inside do not count */
		else if (*p == ':')
			colon = p;
	}
	if (colon && (!keep_port ||
		      (!strcmp(scheme, "https") && !strncmp(colon, ":443", 4) &&
		       colon + 4 == end) ||
		      (!strcmp(scheme, "http") && !strncmp(colon, ":80", 3) &&
		       colon + 3 == end)))
		end = colon;
	if (end == auth || (colon && colon == auth))
		return NULL;
	return xstrndup(auth, (size_t)(end - auth));
}

static void set_instance(struct gitlab_instance *gi, const char *scheme,
			 char *hostport, const char *prefix, size_t prefix_len)
{
	struct buf b = BUF_INIT;

	(void)buf_addf(&b, "%s://%s", scheme, hostport);
	while (prefix_len && prefix[prefix_len - 1] == '/')
		prefix_len--;
	if (prefix_len)
		(void)buf_add(&b, prefix, prefix_len);
	gi->url = buf_detach(&b, NULL);
	gi->fqdn = hostport;
}

/*
 * Hosts of forges that are not GitLab: a clone of a GitHub mirror of a
 * GitLab project has its origin there, and asking it GitLab's API only
 * fails later with a puzzling 404.
 */
static const char *const non_gitlab_hosts[] = {
	"github.com", "www.github.com", "bitbucket.org", "codeberg.org",
	"git.sr.ht", NULL,
};

/* Whether hp ("host[:port]") is one of those; a port does not count. */
static bool non_gitlab_host(const char *hp)
{
	size_t len = strcspn(hp, ":"), i;

	for (i = 0; non_gitlab_hosts[i]; i++)
		if (strlen(non_gitlab_hosts[i]) == len &&
		    !strncasecmp(hp, non_gitlab_hosts[i], len))
			return true;
	return false;
}

/* hp as the instance; an error (hp freed) for a host that is no GitLab. */
static int use_host(struct gitlab_instance *gi, const char *scheme, char *hp,
		    struct buf *err)
{
	if (non_gitlab_host(hp)) {
		buf_seterr(err, "the origin remote is on %.*s, which is not a GitLab server (a mirror?)",
			   (int)strcspn(hp, ":"), hp);
		free(hp);
		return CR_ERR_INVALID;
	}
	set_instance(gi, scheme, hp, NULL, 0);
	return 0;
}

int gitlab_instance_from_remote(const char *remote, struct gitlab_instance *gi,
				struct buf *err)
{
	const char *sep = strstr(remote, "://"), *auth, *slash, *colon;
	char *hp;

	gi->url = gi->fqdn = NULL;
	if (sep) {
		size_t slen = (size_t)(sep - remote);
		bool web = (slen == 5 && !strncmp(remote, "https", 5)) ||
			(slen == 4 && !strncmp(remote, "http", 4));
		bool ssh = (slen == 3 && !strncmp(remote, "ssh", 3)) ||
			(slen == 3 && !strncmp(remote, "git", 3)) ||
			(slen == 7 && (!strncmp(remote, "git+ssh", 7) ||
				       !strncmp(remote, "ssh+git", 7)));
		char scheme[8];

		if (!web && !ssh)
			goto bad;
		memcpy(scheme, remote, slen);
		scheme[slen] = 0;
		auth = sep + 3;
		slash = strchr(auth, '/');
		if (!slash)
			slash = auth + strlen(auth);
		hp = host_port(auth, (size_t)(slash - auth), scheme, web);
		if (!hp)
			goto bad;
		return use_host(gi, web ? scheme : "https", hp, err);
	}
	/* scp-like [user@]host:path; a ':' after a '/' is a local path. */
	colon = strchr(remote, ':');
	slash = strchr(remote, '/');
	if (!colon || colon == remote || (slash && slash < colon))
		goto bad;
	hp = host_port(remote, (size_t)(colon - remote), "ssh", false);
	if (!hp)
		goto bad;
	return use_host(gi, "https", hp, err);
bad:
	buf_seterr(err, "the origin remote '%s' does not name a GitLab server",
		   remote);
	return CR_ERR_INVALID;
}

int gitlab_instance_from_url(const char *url, struct gitlab_instance *gi,
			     struct buf *err)
{
	const char *auth, *slash;
	bool https = !strncmp(url, "https://", 8);
	char *hp;

	gi->url = gi->fqdn = NULL;
	if (!https && strncmp(url, "http://", 7))
		goto bad;
	auth = url + (https ? 8 : 7);
	slash = strchr(auth, '/');
	if (!slash)
		slash = auth + strlen(auth);
	if (memchr(auth, '@', (size_t)(slash - auth)))
		goto bad;
	hp = host_port(auth, (size_t)(slash - auth), https ? "https" : "http",
		       true);
	if (!hp)
		goto bad;
	set_instance(gi, https ? "https" : "http", hp, slash, strlen(slash));
	return 0;
bad:
	buf_seterr(err, "--gitlab-url '%s' is not an http(s)://host[:port][/path] URL",
		   url);
	return CR_ERR_INVALID;
}
