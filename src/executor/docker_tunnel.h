/*
 * The docker-autoscaler transport: the Docker API of an instance an
 * autoscaler acquired, reached over SSH, as gitlab-runner's docker
 * executor dials through its acquisition (executors/docker/docker.go,
 * environmentDialContext).
 *
 * A forwarder child ("crunner ssh-helper forward", src/cli/helper_ssh.c,
 * forked without exec) logs in to the instance once and serves a private
 * unix socket in a directory of the job's own; every connection to it gets
 * a channel of its own to the instance's Docker daemon:
 *   - by default (FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO=true) an exec
 *     channel running "docker system dial-stdio" ("docker -H <host> system
 *     dial-stdio" when [runners.docker] host is set);
 *   - with the flag false a direct-streamlocal channel to the daemon's
 *     socket: the unix:// path of [runners.docker] host, else $DOCKER_HOST,
 *     else /var/run/docker.sock.
 * The Docker API client (docker_api.h) is simply pointed at that socket.
 *
 * The caller does:
 *  1. docker_tunnel_start(): the forwarder starts at once (the SSH login
 *     goes on in the child, never on the loop);
 *  2. docker_tunnel_wait(): cb follows from the loop once the socket is
 *     served (0) or the forwarder gave up (CR_ERR_NETWORK and one
 *     sentence); a forwarder that ended (a lost connection, a failed
 *     login) is started again first, so a retried prepare dials again;
 *  3. docker_tunnel_free(): the forwarder is stopped (SIGTERM: it closes
 *     its channels and the connection; SIGKILL when it does not end), the
 *     directory removed.
 */
#ifndef CR_DOCKER_TUNNEL_H
#define CR_DOCKER_TUNNEL_H

struct buf;
struct ig_connect_info;
struct loop;
struct docker_tunnel;

struct docker_tunnel_config {
	const struct ig_connect_info *instance;	/* borrowed until free */
	int dial_stdio;		/* FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO */
	const char *docker_host;	/* [runners.docker] host; NULL: unset */
	const char *tmp_parent;	/* where the private dir goes; NULL: /tmp */
};

/*
 * Starts the forwarder.  Returns 0 and *out, or a negative CR_ERR_* with
 * one sentence in err: CR_ERR_UNSUPPORTED for a Docker host a socket
 * forward cannot reach (tcp:// with the flag false) or an instance that
 * does not speak SSH, CR_ERR_IO when the directory or the child cannot
 * be made.
 */
int docker_tunnel_start(struct loop *loop, const struct docker_tunnel_config *cfg,
			struct docker_tunnel **out, struct buf *err);

/* "unix:///tmp/crunner-docker-XXXXXX/docker.sock": for docker_api_new(). */
const char *docker_tunnel_host(const struct docker_tunnel *t);
/* The instance's id, for the trace. */
const char *docker_tunnel_instance(const struct docker_tunnel *t);
/* Whether the socket is being served now. */
int docker_tunnel_ready(const struct docker_tunnel *t);

typedef void (*docker_tunnel_cb)(void *ctx, int r, const char *why);

/*
 * Calls cb once, from the loop: r 0 when the socket is served, else
 * CR_ERR_NETWORK with why ("connecting to instance i-1: ssh: ...").  One
 * waiter at a time (a second call replaces the first).  0, or a
 * negative CR_ERR_* with one sentence in err (the forwarder could not be
 * started again) and no callback.
 */
int docker_tunnel_wait(struct docker_tunnel *t, docker_tunnel_cb cb, void *ctx,
		       struct buf *err);
/* Drops the waiter: its cb will not be called. */
void docker_tunnel_unwait(struct docker_tunnel *t);

/* Stops the forwarder and removes its directory; NULL is fine. */
void docker_tunnel_free(struct docker_tunnel *t);

/*
 * A service's port checked where its container is, as gitlab-runner's
 * health-check container does on the Docker host: a child ("crunner
 * ssh-helper probe") logs in to the instance and tries host:port from
 * there every 250 ms.  cb follows from the loop once a connection was made
 * (0), or when the child gave up (CR_ERR_NETWORK: the login failed or the
 * connection was lost).  docker_probe_free() stops the child if it still
 * runs; never from inside cb.
 */
struct docker_probe;
typedef void (*docker_probe_cb)(void *ctx, int r);
int docker_tunnel_probe(struct docker_tunnel *t, const char *host, int port,
			docker_probe_cb cb, void *ctx, struct docker_probe **out,
			struct buf *err);
void docker_probe_free(struct docker_probe *p);

#endif
