/*
 * crunner ssh-helper: the blocking SSH work (src/ssh/sshc.h) in a process
 * of its own, so the manager's loop only ever watches a child: the ssh
 * executor runs "exec" for each stage (proc's run_in_child), "forward"
 * serves a local unix socket that reaches a remote one (Docker's), and
 * "probe --target HOST:PORT" tries a TCP connection from the remote host
 * every PROBE_INTERVAL_MS until one succeeds (exit status 0): a service's
 * port on a docker-autoscaler instance, checked where the container is.
 *
 * The password and an in-memory private key come in the environment
 * (CRUNNER_SSH_PASSWORD, CRUNNER_SSH_PRIVATE_KEY), never in argv.  SIGTERM
 * or SIGINT stops the command (exec: the KILL signal to the remote
 * command, as gitlab-runner's ssh executor sends on cancel).
 * Exit status: exec: the remote command's; a failure of the helper itself
 * is one line on stderr, in --error-file when given, and exit status 255.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "ssh/sshc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

#define SSH_HELPER_FAILED 255
#define PROBE_INTERVAL_MS 250

/* The cancel self-pipe's write end, for the signal handler only. */
static volatile sig_atomic_t cancel_wfd = -1;

static void on_stop_signal(int signo)
{
	int saved = errno;

	(void)signo;
	if (cancel_wfd >= 0)
		(void)!write(cancel_wfd, "x", 1);
	errno = saved;
}

static int cancel_pipe(int p[2])
{
	struct sigaction sa;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	cancel_wfd = p[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	/* A reader of our output that went away is an error, not a death. */
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

static int fail(const char *error_file, const struct buf *err)
{
	fprintf(stderr, "%s\n", err->data);
	fflush(stderr);
	if (error_file) {
		FILE *f = fopen(error_file, "we");

		if (f) {
			fputs(err->data, f);
			fclose(f);
		}
	}
	return SSH_HELPER_FAILED;
}

static int read_file(const char *path, struct buf *out)
{
	char chunk[16384];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		(void)buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

/*
 * After a cancel: kills the remote process group whose id the stage
 * script wrote to path.  OpenSSH refuses the KILL signal request for a
 * root login (no privilege separation after login), and a channel closed
 * under a running script leaves it running until it writes.
 */
static void kill_remote_group(struct sshc_conn *conn, const char *path)
{
	struct buf cmd = BUF_INIT, q = BUF_INIT, err = BUF_INIT;
	const char *p;
	struct sshc_exec x = { .out_fd = -1, .err_fd = -1, .cancel_fd = -1 };
	int status;

	(void)buf_addch(&q, '\'');
	for (p = path; *p; p++)
		(void)(*p == '\'' ? buf_addstr(&q, "'\\''") : buf_addch(&q, *p));
	(void)buf_addch(&q, '\'');
	(void)buf_addf(&cmd, "p=$(cat %s 2>/dev/null); [ \"${p:-0}\" -gt 1 ] 2>/dev/null && kill -KILL -- -\"$p\" 2>/dev/null; rm -f %s",
		       q.data, q.data);
	x.command = cmd.data;
	if (sshc_exec(conn, &x, &status, &err) != 0)
		fprintf(stderr, "%s\n", err.data);
	buf_release(&cmd);
	buf_release(&q);
	buf_release(&err);
}

/*
 * "probe": until host:port accepts a connection made by the remote host,
 * or cancel_fd is readable (then CR_ERR_CANCELED).  A lost connection to
 * the host ends it with that error.
 */
static int probe_until_open(struct sshc_conn *conn, const char *target,
			    int cancel_fd, struct buf *err)
{
	const char *colon = strrchr(target, ':');
	struct buf host = BUF_INIT;
	struct pollfd pfd = { .fd = cancel_fd, .events = POLLIN };
	long port = colon ? strtol(colon + 1, NULL, 10) : 0;
	int r;

	if (!colon || colon == target || port <= 0 || port > 65535) {
		buf_seterr(err, "ssh: probe: --target '%s' is not HOST:PORT",
			   target);
		return CR_ERR_INVALID;
	}
	(void)buf_add(&host, target, (size_t)(colon - target));
	for (;;) {
		buf_reset(err);
		r = sshc_probe_tcp(conn, host.data, (int)port, err);
		if (!r || !sshc_connected(conn))
			break;
		if (poll(&pfd, 1, PROBE_INTERVAL_MS) > 0) {
			r = CR_ERR_CANCELED;
			break;
		}
	}
	buf_release(&host);
	return r;
}

static void say_listening(void *ctx)
{
	const char *path = ctx;

	printf("listening on %s\n", path);
	fflush(stdout);
}

enum {
	OPT_HOST = 256, OPT_PORT, OPT_USER, OPT_IDENTITY, OPT_KNOWN_HOSTS,
	OPT_INSECURE, OPT_TIMEOUT, OPT_KEEPALIVE, OPT_TRIES, OPT_STDIN_FILE,
	OPT_ERROR_FILE, OPT_LISTEN, OPT_REMOTE, OPT_DIAL_STDIO, OPT_KILL_FILE,
	OPT_DOCKER_HOST, OPT_TARGET,
};

int cmd_ssh_helper(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, OPT_HOST },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "user", required_argument, NULL, OPT_USER },
		{ "identity-file", required_argument, NULL, OPT_IDENTITY },
		{ "known-hosts-file", required_argument, NULL, OPT_KNOWN_HOSTS },
		{ "disable-strict-host-key-checking", no_argument, NULL,
		  OPT_INSECURE },
		{ "connect-timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
		{ "connect-tries", required_argument, NULL, OPT_TRIES },
		{ "stdin-file", required_argument, NULL, OPT_STDIN_FILE },
		{ "error-file", required_argument, NULL, OPT_ERROR_FILE },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "remote", required_argument, NULL, OPT_REMOTE },
		{ "dial-stdio", no_argument, NULL, OPT_DIAL_STDIO },
		{ "kill-group-file", required_argument, NULL, OPT_KILL_FILE },
		{ "docker-host", required_argument, NULL, OPT_DOCKER_HOST },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("ssh-helper");
	struct sshc_target t = SSHC_TARGET_INIT;
	struct sshc_forward f = { 0 };
	const char *sub, *stdin_file = NULL, *error_file = NULL,
		*kill_file = NULL, *target = NULL;
	struct buf err = BUF_INIT, in = BUF_INIT, cmd = BUF_INIT;
	struct sshc_conn *conn = NULL;
	int c, status = SSH_HELPER_FAILED, cancel[2] = { -1, -1 };

	(void)g;
	if (argc < 2)
		return cli_usage_error(verb, "missing sub-command");
	sub = argv[1];
	argc--;
	argv++;
	f.mode = SSHC_FORWARD_STREAMLOCAL;
	f.remote_path = "/var/run/docker.sock";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HOST: t.host = optarg; break;
		case OPT_PORT: t.port = optarg; break;
		case OPT_USER: t.user = optarg; break;
		case OPT_IDENTITY: t.identity_file = optarg; break;
		case OPT_KNOWN_HOSTS: t.known_hosts_file = optarg; break;
		case OPT_INSECURE: t.insecure_host_key = 1; break;
		case OPT_TIMEOUT: t.connect_timeout_s = strtol(optarg, NULL, 10); break;
		case OPT_KEEPALIVE: t.keepalive_s = strtol(optarg, NULL, 10); break;
		case OPT_TRIES: t.connect_tries = (int)strtol(optarg, NULL, 10); break;
		case OPT_STDIN_FILE: stdin_file = optarg; break;
		case OPT_ERROR_FILE: error_file = optarg; break;
		case OPT_LISTEN: f.listen_path = optarg; break;
		case OPT_REMOTE: f.remote_path = optarg; break;
		case OPT_DIAL_STDIO: f.mode = SSHC_FORWARD_DIAL_STDIO; break;
		case OPT_KILL_FILE: kill_file = optarg; break;
		case OPT_DOCKER_HOST: f.docker_host = optarg; break;
		case OPT_TARGET: target = optarg; break;
		default: return cli_usage_error(verb, "bad option");
		}
	}
	t.password = getenv("CRUNNER_SSH_PASSWORD");
	t.private_key = getenv("CRUNNER_SSH_PRIVATE_KEY");
	if (strcmp(sub, "exec") && strcmp(sub, "forward") &&
	    strcmp(sub, "probe"))
		return cli_usage_error(verb, "unknown sub-command '%s'", sub);
	if (!strcmp(sub, "exec") && optind >= argc)
		return cli_usage_error(verb, "exec: missing the remote command");
	if (!strcmp(sub, "forward") && !f.listen_path)
		return cli_usage_error(verb, "forward: missing --listen PATH");
	if (!strcmp(sub, "probe") && !target)
		return cli_usage_error(verb, "probe: missing --target HOST:PORT");
	for (c = optind; c < argc; c++)
		(void)buf_addf(&cmd, "%s%s", c > optind ? " " : "", argv[c]);

	if (cancel_pipe(cancel) < 0) {
		buf_seterr(&err, "ssh: cannot make a pipe: %s", strerror(errno));
		status = fail(error_file, &err);
		goto out;
	}
	if (stdin_file && read_file(stdin_file, &in) < 0) {
		buf_seterr(&err, "ssh: cannot read the script %s: %s",
			   stdin_file, strerror(errno));
		status = fail(error_file, &err);
		goto out;
	}
	if (sshc_connect(&t, &conn, &err) != 0) {
		status = fail(error_file, &err);
		goto out;
	}
	if (!strcmp(sub, "exec")) {
		struct sshc_exec x = {
			.command = cmd.data, .in = stdin_file ? in.data : NULL,
			.in_len = in.len, .out_fd = STDOUT_FILENO,
			.err_fd = STDERR_FILENO, .cancel_fd = cancel[0],
		};
		int r = sshc_exec(conn, &x, &status, &err);

		if (r == CR_ERR_CANCELED) {
			if (kill_file)
				kill_remote_group(conn, kill_file);
			status = 128 + SIGTERM;
		}
		else if (r)
			status = fail(error_file, &err);
		else if (status < 0)
			status = 255;	/* the server never said */
	} else if (!strcmp(sub, "probe")) {
		int r = probe_until_open(conn, target, cancel[0], &err);

		status = !r ? 0 : r == CR_ERR_CANCELED ? 128 + SIGTERM :
			fail(error_file, &err);
	} else {
		f.cancel_fd = cancel[0];
		f.on_listening = say_listening;
		f.ctx = (void *)f.listen_path;
		status = sshc_forward_serve(conn, &f, &err) ?
			fail(error_file, &err) : 0;
	}
out:
	sshc_close(conn);
	cancel_wfd = -1;
	if (cancel[0] >= 0) {
		close(cancel[0]);
		close(cancel[1]);
	}
	buf_release_secret(&in);
	buf_release(&cmd);
	buf_release(&err);
	return status;
}

int ssh_helper_main(int argc, char **argv)
{
	struct cli_globals g = { NULL, 0, -1, -1 };

	if (argc < 2 || strcmp(argv[1], "ssh-helper"))
		return SSH_HELPER_FAILED;
	optind = 0;	/* getopt_long restarts fully, as in main() */
	return cmd_ssh_helper(argc - 1, argv + 1, &g);
}
