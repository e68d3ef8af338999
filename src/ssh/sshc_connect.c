/*
 * Connecting: the TCP connection and key exchange (retried as
 * gitlab-runner's helpers/ssh Connect() does), then the host key check and
 * the login (sshc_hostkey.c, sshc_auth.c).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ssh/sshc_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const char *or_default(const char *s, const char *def)
{
	return s && *s ? s : def;
}

static int set_options(struct sshc_conn *c, const struct sshc_target *t,
		       struct buf *err)
{
	long timeout = t->connect_timeout_s > 0 ? t->connect_timeout_s :
		SSHC_CONNECT_TIMEOUT_S;
	int no = 0, yes = 1;

	/*
	 * Only what config.toml says counts: no ~/.ssh/config, no agent, no
	 * default identities (gitlab-runner's Go client reads none of them).
	 */
	if (ssh_options_set(c->session, SSH_OPTIONS_PROCESS_CONFIG, &no) ||
	    ssh_options_set(c->session, SSH_OPTIONS_HOST,
			    or_default(t->host, "localhost")) ||
	    ssh_options_set(c->session, SSH_OPTIONS_PORT_STR,
			    or_default(t->port, "22")) ||
	    ssh_options_set(c->session, SSH_OPTIONS_USER,
			    or_default(t->user, "root")) ||
	    ssh_options_set(c->session, SSH_OPTIONS_TIMEOUT, &timeout) ||
	    ssh_options_set(c->session, SSH_OPTIONS_NODELAY, &yes) ||
	    ssh_options_set(c->session, SSH_OPTIONS_GSSAPI_AUTH, &no)) {
		buf_seterr(err, "ssh: bad options for %s: %s", c->name,
			   ssh_get_error(c->session));
		return CR_ERR_CONFIG;
	}
	return 0;
}

/* Dead peers are found by TCP too, where the server sends nothing. */
static void tcp_keepalive(struct sshc_conn *c)
{
	int fd = (int)ssh_get_fd(c->session), on = 1;

	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
}

static int connect_with_retries(struct sshc_conn *c,
				const struct sshc_target *t, struct buf *err)
{
	int tries = t->connect_tries > 0 ? t->connect_tries :
		SSHC_CONNECT_TRIES;
	struct buf last = BUF_INIT;
	int i;

	for (i = 0; i < tries; i++) {
		if (i)
			sleep(SSHC_RETRY_INTERVAL_S);
		if (ssh_connect(c->session) == SSH_OK) {
			tcp_keepalive(c);
			buf_release(&last);
			return 0;
		}
		buf_reset(&last);
		(void)buf_addstr(&last, ssh_get_error(c->session));
		ssh_disconnect(c->session);
	}
	buf_seterr(err, "ssh: cannot connect to %s (%d attempt%s): %s",
		   c->name, tries, tries > 1 ? "s" : "", last.data);
	buf_release(&last);
	return CR_ERR_NETWORK;
}

int sshc_connect(const struct sshc_target *t, struct sshc_conn **out,
		 struct buf *err)
{
	struct sshc_conn *c = xcalloc(1, sizeof(*c));
	struct buf name = BUF_INIT;
	int r;

	(void)buf_addf(&name, "%s@%s:%s", or_default(t->user, "root"),
		       or_default(t->host, "localhost"),
		       or_default(t->port, "22"));
	c->name = buf_detach(&name, NULL);
	c->keepalive_ms = t->keepalive_s < 0 ? 0 :
		(t->keepalive_s ? t->keepalive_s : SSHC_KEEPALIVE_S) * 1000;
	c->session = ssh_new();
	if (!c->session) {
		buf_seterr(err, "ssh: cannot create a session for %s", c->name);
		r = CR_ERR_NOMEM;
		goto fail;
	}
	if ((r = set_options(c, t, err)) != 0 ||
	    (r = connect_with_retries(c, t, err)) != 0 ||
	    (r = sshc_check_host_key(c, t, err)) != 0 ||
	    (r = sshc_authenticate(c, t, err)) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	sshc_close(c);
	return r;
}

void sshc_close(struct sshc_conn *c)
{
	if (!c)
		return;
	if (c->session) {
		ssh_disconnect(c->session);
		ssh_free(c->session);
	}
	free(c->name);
	free(c);
}

const char *sshc_name(const struct sshc_conn *c)
{
	return c->name;
}

int sshc_connected(const struct sshc_conn *c)
{
	return ssh_is_connected(c->session);
}
