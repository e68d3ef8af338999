/*
 * Byte streams through the connection: a channel to a remote unix socket
 * (direct-streamlocal@openssh.com, as "ssh -L local.sock:/var/run/docker.sock"
 * does) or to "docker system dial-stdio" in an exec channel (what the
 * docker CLI runs for DOCKER_HOST=ssh://), and the copying between such a
 * channel and a local socket (sshc_link).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh/server.h>	/* ssh_send_keepalive() */

#include "ssh/sshc_int.h"
#include "ssh/sshc_link.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

int sshc_open_unix(struct sshc_conn *c, const char *path,
		   struct ssh_channel_struct **out, struct buf *err)
{
	ssh_channel ch = ssh_channel_new(c->session);

	/* The originator fields are informational; OpenSSH ignores them. */
	if (!ch || ssh_channel_open_forward_unix(ch, path, "127.0.0.1", 0) !=
	    SSH_OK) {
		buf_seterr(err, "ssh: %s refused a connection to its unix socket %s: %s",
			   c->name, path, ssh_get_error(c->session));
		if (ch)
			ssh_channel_free(ch);
		return CR_ERR_NETWORK;
	}
	*out = ch;
	return 0;
}

int sshc_probe_tcp(struct sshc_conn *c, const char *host, int port,
		   struct buf *err)
{
	ssh_channel ch = ssh_channel_new(c->session);
	int r = 0;

	if (!ch || ssh_channel_open_forward(ch, host, port, "127.0.0.1", 0) !=
	    SSH_OK) {
		buf_seterr(err, "ssh: %s could not connect to %s:%d: %s",
			   c->name, host, port, ssh_get_error(c->session));
		r = CR_ERR_NETWORK;
	} else {
		(void)ssh_channel_close(ch);
	}
	if (ch)
		ssh_channel_free(ch);
	return r;
}

int sshc_open_dial_stdio(struct sshc_conn *c, const char *docker_host,
			 struct ssh_channel_struct **out, struct buf *err)
{
	struct buf cmd = BUF_INIT;
	ssh_channel ch;
	const char *p;

	/* gitlab-runner: "docker -H <host> system dial-stdio" for a set host. */
	if (docker_host && *docker_host) {
		(void)buf_addstr(&cmd, "docker -H '");
		for (p = docker_host; *p; p++)
			(void)(*p == '\'' ? buf_addstr(&cmd, "'\\''") :
			       buf_addch(&cmd, *p));
		(void)buf_addstr(&cmd, "' system dial-stdio");
	} else {
		(void)buf_addstr(&cmd, "docker system dial-stdio");
	}
	ch = ssh_channel_new(c->session);
	if (!ch || ssh_channel_open_session(ch) != SSH_OK ||
	    ssh_channel_request_exec(ch, cmd.data) != SSH_OK) {
		buf_seterr(err, "ssh: cannot run '%s' on %s: %s", cmd.data,
			   c->name, ssh_get_error(c->session));
		if (ch)
			ssh_channel_free(ch);
		buf_release(&cmd);
		return CR_ERR_NETWORK;
	}
	buf_release(&cmd);
	*out = ch;
	return 0;
}

void sshc_link_init(struct sshc_link *l, int fd, struct ssh_channel_struct *ch)
{
	int fl = fcntl(fd, F_GETFL);

	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->ch = ch;
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/*
			 * XXX a slow local reader stalls every link of this
			 * connection; the Docker API client reads promptly.
			 */
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			(void)poll(&p, 1, -1);
			continue;
		}
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int sshc_link_want_read(const struct sshc_link *l)
{
	return !l->local_eof && ssh_channel_window_size(l->ch) > 0;
}

int sshc_link_step(struct sshc_link *l)
{
	char rbuf[32768];
	int progress = 0, n;

	if (sshc_link_want_read(l)) {
		uint32_t window = ssh_channel_window_size(l->ch);
		size_t want = window < sizeof(rbuf) ? window : sizeof(rbuf);
		ssize_t got = read(l->fd, rbuf, want);

		if (got > 0) {
			if (ssh_channel_write(l->ch, rbuf, (uint32_t)got) ==
			    SSH_ERROR)
				return -1;
			progress = 1;
		} else if (got == 0 ||
			   (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)) {
			(void)ssh_channel_send_eof(l->ch);
			l->local_eof = 1;
			progress = 1;
		}
	}
	/*
	 * dial-stdio's complaints go to our stderr, never into the stream.
	 * Read before the stream: a read takes whatever the socket has, so
	 * the last one must be the stream's, or a packet of the stream that
	 * the stderr read completed would wait in libssh's buffer, the
	 * socket empty, until the next keepalive woke us up.
	 */
	n = ssh_channel_read_nonblocking(l->ch, rbuf, sizeof(rbuf), 1);
	if (n > 0) {
		(void)write_all(STDERR_FILENO, rbuf, (size_t)n);
		progress = 1;
	}
	if (!l->remote_eof) {
		n = ssh_channel_read_nonblocking(l->ch, rbuf, sizeof(rbuf), 0);
		if (n == SSH_ERROR)
			return -1;
		if (n > 0) {
			if (write_all(l->fd, rbuf, (size_t)n) < 0) {
				/* The local side went away: nothing to say. */
				l->local_eof = l->remote_eof = 1;
				return 1;
			}
			progress = 1;
		} else if (ssh_channel_is_eof(l->ch) ||
			   ssh_channel_is_closed(l->ch)) {
			(void)shutdown(l->fd, SHUT_WR);
			l->remote_eof = 1;
			progress = 1;
		}
	}
	return progress;
}

int sshc_link_done(const struct sshc_link *l)
{
	return (l->local_eof && l->remote_eof) || ssh_channel_is_closed(l->ch);
}

void sshc_link_release(struct sshc_link *l)
{
	if (l->ch) {
		if (ssh_channel_is_open(l->ch))
			(void)ssh_channel_close(l->ch);
		ssh_channel_free(l->ch);
		l->ch = NULL;
	}
}

int sshc_pump(struct sshc_conn *c, struct ssh_channel_struct *ch, int fd,
	      int cancel_fd, struct buf *err)
{
	struct sshc_link l;
	int r = 0;

	sshc_link_init(&l, fd, ch);
	while (!sshc_link_done(&l)) {
		struct pollfd p[3];
		int n = 0, s;

		if ((s = sshc_link_step(&l)) < 0) {
			buf_seterr(err, "ssh: lost the connection to %s: %s",
				   c->name, ssh_get_error(c->session));
			r = CR_ERR_NETWORK;
			break;
		}
		if (s)
			continue;
		p[n++] = (struct pollfd){ .fd = (int)ssh_get_fd(c->session),
					  .events = POLLIN };
		if (sshc_link_want_read(&l))
			p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (cancel_fd >= 0)
			p[n++] = (struct pollfd){ .fd = cancel_fd,
						  .events = POLLIN };
		s = poll(p, (nfds_t)n, c->keepalive_ms ? (int)c->keepalive_ms :
			 -1);
		if (s == 0 && ssh_send_keepalive(c->session) == SSH_ERROR) {
			buf_seterr(err, "ssh: lost the connection to %s: %s",
				   c->name, ssh_get_error(c->session));
			r = CR_ERR_NETWORK;
			break;
		}
		if (s > 0 && cancel_fd >= 0 && p[n - 1].fd == cancel_fd &&
		    p[n - 1].revents)
			break;
	}
	sshc_link_release(&l);
	return r;
}
