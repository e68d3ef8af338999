/*
 * A local unix socket whose every connection is a channel to the remote
 * Docker daemon (or any unix socket there): what the docker-autoscaler
 * executor points its Docker API client at.  One connection to the host
 * carries them all, each in its own channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libssh/server.h>	/* ssh_send_keepalive() */

#include "ssh/sshc_int.h"
#include "ssh/sshc_link.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Connections served at once; more wait in the listen backlog. */
#define SSHC_FORWARD_MAX 64
/* How soon to look at the channels again when more than one is open. */
#define FORWARD_RECHECK_MS 50

static int listen_unix(const char *path, struct buf *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof(sa.sun_path)) {
		buf_seterr(err, "ssh: the socket path %s is too long", path);
		return CR_ERR_INVALID;
	}
	memcpy(sa.sun_path, path, len + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || (unlink(path) < 0 && errno != ENOENT) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		buf_seterr(err, "ssh: cannot listen on %s: %s", path,
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return CR_ERR_IO;
	}
	return fd;
}

struct forward_state {
	struct sshc_conn *c;
	const struct sshc_forward *f;
	struct sshc_link links[SSHC_FORWARD_MAX];
	int nr;
};

static void drop_link(struct forward_state *st, int i)
{
	int fd = st->links[i].fd;

	sshc_link_release(&st->links[i]);
	close(fd);
	st->links[i] = st->links[--st->nr];
}

/* A new local connection: its channel, or it is closed at once. */
static void accept_one(struct forward_state *st, int lfd)
{
	struct buf err = BUF_INIT;
	ssh_channel ch = NULL;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK), r;

	if (fd < 0)
		return;
	if (st->nr == SSHC_FORWARD_MAX) {
		close(fd);
		return;
	}
	r = st->f->mode == SSHC_FORWARD_DIAL_STDIO ?
		sshc_open_dial_stdio(st->c, st->f->docker_host, &ch,
				     &err) :
		sshc_open_unix(st->c, st->f->remote_path, &ch, &err);
	if (r) {
		/* The client sees its connection closed; we say why. */
		(void)!write(STDERR_FILENO, err.data, err.len);
		(void)!write(STDERR_FILENO, "\n", 1);
		close(fd);
		buf_release(&err);
		return;
	}
	sshc_link_init(&st->links[st->nr++], fd, ch);
}

/* Moves what can move on every link; 1 when anything did, -1 error. */
static int step_all(struct forward_state *st)
{
	int i, any = 0;

	for (i = 0; i < st->nr; i++) {
		int s = sshc_link_step(&st->links[i]);

		if (s < 0)
			return -1;
		any |= s;
		if (sshc_link_done(&st->links[i]))
			drop_link(st, i--);
	}
	return any;
}

int sshc_forward_serve(struct sshc_conn *c, const struct sshc_forward *f,
		       struct buf *err)
{
	struct forward_state *st = xcalloc(1, sizeof(*st));
	struct pollfd p[SSHC_FORWARD_MAX + 3];
	int lfd = listen_unix(f->listen_path, err), r = 0;
	long idle_ms = 0;

	if (lfd < 0) {
		free(st);
		return lfd;
	}
	st->c = c;
	st->f = f;
	if (f->on_listening)
		f->on_listening(f->ctx);
	for (;;) {
		int n = 0, i, s, timeout;

		if ((s = step_all(st)) < 0) {
			buf_seterr(err, "ssh: lost the connection to %s: %s",
				   c->name, ssh_get_error(c->session));
			r = CR_ERR_NETWORK;
			break;
		}
		if (s)
			continue;
		/*
		 * With no channel nobody reads the session (a keepalive does,
		 * blocking): polling it would spin on an unread reply.
		 */
		p[n++] = (struct pollfd){ .fd = st->nr ?
					  (int)ssh_get_fd(c->session) : -1,
					  .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = f->cancel_fd,
					  .events = POLLIN };
		for (i = 0; i < st->nr; i++)
			if (sshc_link_want_read(&st->links[i]))
				p[n++] = (struct pollfd){
					.fd = st->links[i].fd,
					.events = POLLIN };
		/*
		 * One channel's read may complete another's packet, which then
		 * waits in libssh's buffer with the socket empty: with more
		 * than one channel, look again soon.
		 */
		timeout = c->keepalive_ms ? (int)c->keepalive_ms : -1;
		if (st->nr > 1 && (timeout < 0 || timeout > FORWARD_RECHECK_MS))
			timeout = FORWARD_RECHECK_MS;
		s = poll(p, (nfds_t)n, timeout);
		if (s == 0 && timeout == FORWARD_RECHECK_MS &&
		    (!c->keepalive_ms ||
		     (idle_ms += FORWARD_RECHECK_MS) < c->keepalive_ms))
			continue;
		idle_ms = 0;
		if (s < 0 && errno != EINTR) {
			buf_seterr(err, "ssh: poll: %s", strerror(errno));
			r = CR_ERR_IO;
			break;
		}
		if (s == 0 && ssh_send_keepalive(c->session) == SSH_ERROR) {
			buf_seterr(err, "ssh: lost the connection to %s: %s",
				   c->name, ssh_get_error(c->session));
			r = CR_ERR_NETWORK;
			break;
		}
		if (s > 0 && f->cancel_fd >= 0 && p[2].revents)
			break;
		if (s > 0 && p[1].revents)
			accept_one(st, lfd);
	}
	while (st->nr)
		drop_link(st, 0);
	close(lfd);
	(void)unlink(f->listen_path);
	free(st);
	return r;
}
