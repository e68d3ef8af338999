/*
 * Which GitLab instance `crunner exec` asks for remote includes: the one
 * the repository's origin remote points at, or --gitlab-url.
 *
 * Origin forms: "git@host:group/proj.git" (scp-like), "ssh://[user@]host
 * [:port]/group/proj.git", "git://host/...", "http[s]://[user[:pass]@]
 * host[:port]/group/proj.git".  ssh and git remotes name the web server
 * by host only (their port is the ssh daemon's), so the instance is
 * https://host; http(s) remotes keep their scheme and port.  Credentials
 * in a remote URL are never kept.
 */
#ifndef CR_LOCAL_GITLAB_ORIGIN_H
#define CR_LOCAL_GITLAB_ORIGIN_H

struct buf;

struct gitlab_instance {
	char *url;	/* "https://host[:port][/prefix]", no trailing '/' */
	char *fqdn;	/* "host[:port]": what component addresses start with */
};

#define GITLAB_INSTANCE_INIT { NULL, NULL }

/*
 * The instance of a git remote URL (forms above).  CR_ERR_INVALID with a
 * sentence in err for a local path, a URL without a host, or a host of a
 * forge that is not GitLab (github.com: a mirror's clone).
 */
int gitlab_instance_from_remote(const char *remote, struct gitlab_instance *gi,
				struct buf *err);

/* The instance --gitlab-url names ("http[s]://host[:port][/prefix]"). */
int gitlab_instance_from_url(const char *url, struct gitlab_instance *gi,
			     struct buf *err);

void gitlab_instance_release(struct gitlab_instance *gi);

#endif
