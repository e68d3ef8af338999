/*
 * One command in an exec channel, as gitlab-runner's helpers/ssh Run():
 * stdin from memory (the ssh executor pipes the stage script into
 * "bash -l"), stdout and stderr copied out as they come, the exit status,
 * and on cancel the KILL signal and the channel closed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <libssh/callbacks.h>
#include <libssh/server.h>	/* ssh_send_keepalive(), a client call too */

#include "ssh/sshc_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

#define SSHC_CHUNK 32768

/* What the server said about the command's end, besides exit-status. */
struct exec_end {
	int signo;	/* 0: no exit-signal */
};

static const struct {
	const char *name;
	int signo;
} signals[] = {
	{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "FPE", SIGFPE },
	{ "HUP", SIGHUP }, { "ILL", SIGILL }, { "INT", SIGINT },
	{ "KILL", SIGKILL }, { "PIPE", SIGPIPE }, { "QUIT", SIGQUIT },
	{ "SEGV", SIGSEGV }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 },
};

static void on_exit_signal(ssh_session session, ssh_channel channel,
			   const char *signal, int core, const char *errmsg,
			   const char *lang, void *userdata)
{
	struct exec_end *end = userdata;
	size_t i;

	(void)session, (void)channel, (void)core, (void)errmsg, (void)lang;
	end->signo = SIGTERM;	/* a name of no RFC 4254 signal */
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		if (signal && !strcmp(signal, signals[i].name))
			end->signo = signals[i].signo;
}

int sshc_wait(struct sshc_conn *c, int extra_fd, long timeout_ms)
{
	struct pollfd p[2];
	int n = 1;

	p[0].fd = (int)ssh_get_fd(c->session);
	p[0].events = POLLIN;
	p[0].revents = 0;
	if (extra_fd >= 0) {
		p[1].fd = extra_fd;
		p[1].events = POLLIN;
		p[1].revents = 0;
		n = 2;
	}
	if (poll(p, (nfds_t)n, timeout_ms > 0 ? (int)timeout_ms : -1) <= 0)
		return 0;
	return n == 2 && p[1].revents ? 1 : 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
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

/* Sends what fits in the peer's window; 1 when something went. */
static int feed_stdin(ssh_channel ch, const struct sshc_exec *x, size_t *sent)
{
	uint32_t window = ssh_channel_window_size(ch);
	size_t n = x->in_len - *sent;
	int w;

	if (!n || !window)
		return 0;
	if (n > window)
		n = window;
	if (n > SSHC_CHUNK)
		n = SSHC_CHUNK;
	w = ssh_channel_write(ch, x->in + *sent, (uint32_t)n);
	if (w == SSH_ERROR)
		return -1;
	*sent += (size_t)w;
	return w > 0;
}

/* Copies what arrived on one stream; 1 when something did. */
static int drain(ssh_channel ch, int is_stderr, int fd, char *rbuf)
{
	int n = ssh_channel_read_nonblocking(ch, rbuf, SSHC_CHUNK, is_stderr);

	if (n == SSH_ERROR)
		return -1;
	if (n > 0 && fd >= 0 && write_all(fd, rbuf, (size_t)n) < 0)
		return -2;
	return n > 0;
}

static int run_channel(struct sshc_conn *c, ssh_channel ch,
		       const struct sshc_exec *x, struct buf *err)
{
	char rbuf[SSHC_CHUNK];
	size_t sent = 0;
	int eof_sent = 0;

	for (;;) {
		int progress = 0, a, b;

		if (!eof_sent) {
			if ((a = feed_stdin(ch, x, &sent)) < 0)
				goto lost;
			progress |= a;
			if (sent == x->in_len) {
				(void)ssh_channel_send_eof(ch);
				eof_sent = 1;
			}
		}
		a = drain(ch, 0, x->out_fd, rbuf);
		b = drain(ch, 1, x->err_fd, rbuf);
		if (a == -2 || b == -2) {
			buf_seterr(err, "ssh: cannot pass on the output of '%s' from %s: %s",
				   x->command, c->name, strerror(errno));
			return CR_ERR_IO;
		}
		if (a < 0 || b < 0)
			goto lost;
		if (a || b || progress)
			continue;
		if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch))
			return 0;
		a = sshc_wait(c, x->cancel_fd, c->keepalive_ms);
		if (a == 1)
			return CR_ERR_CANCELED;
		if (ssh_send_keepalive(c->session) == SSH_ERROR)
			goto lost;
	}
lost:
	buf_seterr(err, "ssh: lost the connection to %s while '%s' ran: %s",
		   c->name, x->command, ssh_get_error(c->session));
	return CR_ERR_NETWORK;
}

int sshc_exec(struct sshc_conn *c, const struct sshc_exec *x,
	      int *exit_status, struct buf *err)
{
	struct ssh_channel_callbacks_struct cb = { 0 };
	struct exec_end end = { 0 };
	ssh_channel ch = ssh_channel_new(c->session);
	int r, status;

	*exit_status = -1;
	if (!ch || ssh_channel_open_session(ch) != SSH_OK) {
		buf_seterr(err, "ssh: cannot open a session channel on %s: %s",
			   c->name, ssh_get_error(c->session));
		r = CR_ERR_NETWORK;
		goto out;
	}
	memset(&cb, 0, sizeof(cb));
	cb.userdata = &end;
	cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&cb);
	(void)ssh_set_channel_callbacks(ch, &cb);
	if (ssh_channel_request_exec(ch, x->command) != SSH_OK) {
		buf_seterr(err, "ssh: %s refused to run '%s': %s", c->name,
			   x->command, ssh_get_error(c->session));
		r = CR_ERR_NETWORK;
		goto out;
	}
	r = run_channel(c, ch, x, err);
	if (r == CR_ERR_CANCELED) {
		/* gitlab-runner: session.Signal(ssh.SIGKILL), session.Close(). */
		(void)ssh_channel_request_send_signal(ch, "KILL");
		goto out;
	}
	if (r)
		goto out;
	status = ssh_channel_get_exit_status(ch);
	*exit_status = end.signo ? 128 + end.signo : status;
out:
	if (ch) {
		/*
		 * libssh keeps a channel freed before the server closed it
		 * until then: its callbacks must not point at this frame.
		 */
		(void)ssh_remove_channel_callbacks(ch, &cb);
		if (ssh_channel_is_open(ch))
			(void)ssh_channel_close(ch);
		ssh_channel_free(ch);
	}
	return r;
}
