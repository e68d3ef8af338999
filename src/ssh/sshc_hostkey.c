/*
 * The host key policy of gitlab-runner's [runners.ssh] (helpers/ssh
 * getHostKeyCallback): disable_strict_host_key_checking = true accepts any
 * key; otherwise the key must be in known_hosts_file, ~/.ssh/known_hosts by
 * default, and a missing file is an error rather than an empty list.
 * Entries for a port other than 22 are "[host]:port", as OpenSSH writes
 * them.  Nothing is ever added to the file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ssh/sshc_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

static int known_hosts_path(const struct sshc_target *t, struct buf *path,
			    struct buf *err)
{
	const char *home;

	if (t->known_hosts_file && *t->known_hosts_file)
		return buf_addstr(path, t->known_hosts_file);
	home = getenv("HOME");
	if (!home || !*home) {
		buf_seterr(err, "ssh: getting host key callback: user home directory: $HOME is not defined");
		return CR_ERR_CONFIG;
	}
	return buf_addf(path, "%s/.ssh/known_hosts", home);
}

int sshc_check_host_key(struct sshc_conn *c, const struct sshc_target *t,
			struct buf *err)
{
	struct buf path = BUF_INIT;
	enum ssh_known_hosts_e known;
	int r;

	if (t->insecure_host_key)
		return 0;
	if ((r = known_hosts_path(t, &path, err)) != 0)
		goto out;
	if (access(path.data, R_OK) != 0) {
		buf_seterr(err, "ssh: getting host key callback: open %s: %s",
			   path.data, strerror(errno));
		r = CR_ERR_CONFIG;
		goto out;
	}
	/* The one file, as Go's knownhosts.New(file): not /etc/ssh's too. */
	if (ssh_options_set(c->session, SSH_OPTIONS_KNOWNHOSTS, path.data) ||
	    ssh_options_set(c->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
			    path.data)) {
		buf_seterr(err, "ssh: cannot use known hosts file %s: %s",
			   path.data, ssh_get_error(c->session));
		r = CR_ERR_CONFIG;
		goto out;
	}
	known = ssh_session_is_known_server(c->session);
	switch (known) {
	case SSH_KNOWN_HOSTS_OK:
		r = 0;
		break;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		buf_seterr(err, "ssh: handshake with %s failed: knownhosts: key mismatch (the host key differs from the one in %s)",
			   c->name, path.data);
		r = CR_ERR_AUTH;
		break;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		buf_seterr(err, "ssh: handshake with %s failed: knownhosts: key is unknown (not in %s; add it, or set disable_strict_host_key_checking)",
			   c->name, path.data);
		r = CR_ERR_AUTH;
		break;
	default:
		buf_seterr(err, "ssh: cannot check the host key of %s against %s: %s",
			   c->name, path.data, ssh_get_error(c->session));
		r = CR_ERR_AUTH;
		break;
	}
out:
	buf_release(&path);
	return r;
}
