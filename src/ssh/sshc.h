/*
 * sshc: crunner's SSH client, on libssh.  Every call here blocks (libssh's
 * blocking API), so none of them runs on the manager's loop: the executors
 * run them in a child process of their own ("crunner ssh-helper",
 * src/cli/helper_ssh.c), which the loop watches like any other child.
 *
 * The caller does:
 *  1. struct sshc_target t = SSHC_TARGET_INIT; t.host = ...;
 *  2. sshc_connect(&t, &conn, err): TCP connect (retried), host key check
 *     (gitlab-runner's [runners.ssh] policy), then authentication: the
 *     private key (identity_file, or private_key held in memory), then the
 *     password;
 *  3. any number of, one at a time:
 *       sshc_exec(conn, &x, &status, err): a command in an exec channel,
 *         stdin from a buffer, stdout/stderr to descriptors, until it ends
 *         or x.cancel_fd becomes readable;
 *       sshc_open_unix(conn, path, &ch, err): a channel to a unix socket on
 *         the remote host (direct-streamlocal@openssh.com);
 *       sshc_open_dial_stdio(conn, host, &ch, err): a channel to the remote
 *         Docker daemon through "docker system dial-stdio";
 *       sshc_pump(conn, ch, fd, cancel_fd, err): copies bytes both ways
 *         between a local socket and such a channel until both ends close;
 *       sshc_forward_serve(conn, &f, err): accepts on a local unix socket
 *         and gives every connection a channel of its own (Docker's API
 *         for curl, or the docker CLI, through DOCKER_HOST=unix://...);
 *  4. sshc_close(conn).
 * Every error is one sentence in err naming user@host:port and the step
 * that failed.
 */
#ifndef CR_SSHC_H
#define CR_SSHC_H

#include <stddef.h>

struct buf;
struct sshc_conn;
struct ssh_channel_struct;

/* Where to connect and how to log in; strings are borrowed. */
struct sshc_target {
	const char *host;		/* NULL or "": "localhost" */
	const char *port;		/* NULL or "": "22" */
	const char *user;		/* NULL or "": "root" */
	const char *password;		/* NULL or "": no password auth */
	const char *identity_file;	/* a private key file; NULL: none */
	/* A private key's text (PEM or OpenSSH format); NULL: none. */
	const char *private_key;
	/* NULL or "": ~/.ssh/known_hosts, as gitlab-runner. */
	const char *known_hosts_file;
	/* Accept any host key (disable_strict_host_key_checking). */
	int insecure_host_key;
	long connect_timeout_s;		/* <= 0: SSHC_CONNECT_TIMEOUT_S */
	/* Idle interval between keepalives, s; 0: default; < 0: none. */
	long keepalive_s;
	/* TCP connection attempts (3 s apart); <= 0: SSHC_CONNECT_TRIES. */
	int connect_tries;
};

#define SSHC_TARGET_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0 }
#define SSHC_CONNECT_TIMEOUT_S 30L
#define SSHC_KEEPALIVE_S 30L
/* gitlab-runner's helpers/ssh: 3 tries, sshRetryInterval (3 s) apart. */
#define SSHC_CONNECT_TRIES 3
#define SSHC_RETRY_INTERVAL_S 3

/*
 * Connects and logs in.  Returns 0 and *out (freed by sshc_close), or a
 * negative CR_ERR_*: CR_ERR_NETWORK (cannot reach or lost the host),
 * CR_ERR_AUTH (host key refused, or no method logged in), CR_ERR_CONFIG
 * (a key or known_hosts file that cannot be read).
 */
int sshc_connect(const struct sshc_target *t, struct sshc_conn **out,
		 struct buf *err);
void sshc_close(struct sshc_conn *c);
/* "user@host:port", for messages; valid until sshc_close. */
const char *sshc_name(const struct sshc_conn *c);
/* Whether the connection to the host still stands. */
int sshc_connected(const struct sshc_conn *c);

/* One command in an exec channel. */
struct sshc_exec {
	const char *command;	/* the remote command line */
	const char *in;		/* what the command reads on stdin; NULL: none */
	size_t in_len;
	int out_fd, err_fd;	/* where its stdout and stderr go */
	/*
	 * Readable: stop the command.  It is sent the KILL signal (as
	 * gitlab-runner's ssh executor does) and its channel closed.  -1: none.
	 */
	int cancel_fd;
};

/*
 * Runs x->command.  Returns 0 with *exit_status the command's exit code
 * (128 + signal number when a signal ended it, -1 when the server said
 * neither), CR_ERR_CANCELED when cancel_fd ended it, or another negative
 * CR_ERR_* (the connection or the channel failed).
 */
int sshc_exec(struct sshc_conn *c, const struct sshc_exec *x,
	      int *exit_status, struct buf *err);

/* A channel to the remote unix socket path; freed by sshc_pump(). */
int sshc_open_unix(struct sshc_conn *c, const char *path,
		   struct ssh_channel_struct **out, struct buf *err);
/*
 * Whether host:port accepts a TCP connection made by the remote host (a
 * direct-tcpip channel, opened and closed at once): 0 when it does,
 * CR_ERR_NETWORK (and why in err) when the server could not connect.
 */
int sshc_probe_tcp(struct sshc_conn *c, const char *host, int port,
		   struct buf *err);
/*
 * A channel running "docker system dial-stdio", or "docker -H <host>
 * system dial-stdio" when docker_host is set (gitlab-runner's command when
 * [runners.docker] host is); freed by sshc_pump().
 */
int sshc_open_dial_stdio(struct sshc_conn *c, const char *docker_host,
			 struct ssh_channel_struct **out, struct buf *err);
/*
 * Copies between fd (a connected socket or a pipe both ways) and ch until
 * both directions reached end of file or cancel_fd (-1: none) became
 * readable; then frees ch.  fd stays the caller's.
 */
int sshc_pump(struct sshc_conn *c, struct ssh_channel_struct *ch, int fd,
	      int cancel_fd, struct buf *err);

/* How sshc_forward_serve() reaches the remote socket. */
enum sshc_forward_mode {
	SSHC_FORWARD_STREAMLOCAL,	/* direct-streamlocal@openssh.com */
	SSHC_FORWARD_DIAL_STDIO,	/* "docker system dial-stdio" */
};

struct sshc_forward {
	const char *listen_path;	/* the local unix socket, created */
	const char *remote_path;	/* STREAMLOCAL: the remote socket */
	const char *docker_host;	/* DIAL_STDIO: -H for docker; NULL: none */
	enum sshc_forward_mode mode;
	int cancel_fd;			/* readable: stop; -1: never */
	/* Called once listening (e.g. to tell a parent); NULL: none. */
	void (*on_listening)(void *ctx);
	void *ctx;
};

/*
 * Serves f->listen_path until cancel_fd is readable or the connection to
 * the host is lost; each accepted connection gets its own channel.  The
 * socket file is removed on return.  Returns 0 after a cancel, or a
 * negative CR_ERR_*.
 */
int sshc_forward_serve(struct sshc_conn *c, const struct sshc_forward *f,
		       struct buf *err);

#endif
