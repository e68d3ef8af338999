/*
 * The Docker Engine API over dockerd's unix socket, asynchronous on the
 * loop: a private libcurl multi handle whose sockets and timer are loop
 * watches (the same pattern as gitlab/http.c), JSON bodies in and out.
 *
 * The caller does:
 *  1. docker_api_new(loop, host, tls, &api, err): host is [runners.docker]
 *     host, else $DOCKER_HOST, else unix:///var/run/docker.sock; unix://
 *     and tcp:// (HTTP, or HTTPS with TLS files);
 *  2. docker_api_negotiate(): GET /_ping; the version used from then on is
 *     the engine's API-Version header capped at DOCKER_API_MAX_VERSION;
 *  3. docker_api_call() for a request with a (capped) JSON answer, or
 *     docker_api_stream() for one whose body comes as it is produced
 *     (container logs, image pulls); each cb is called exactly once, from
 *     the loop, never from inside the starting call, unless the request is
 *     dropped first with docker_api_cancel();
 *  4. docker_api_free() outside this api's callbacks: pending requests are
 *     dropped without their callbacks.
 *
 * docker_api_call_sync() does one request to its end, blocking, for the
 * executor's last-resort cleanup (a job freed while containers exist).
 */
#ifndef CR_DOCKER_API_H
#define CR_DOCKER_API_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct loop;
struct docker_api;
struct docker_api_req;

/* The newest and oldest Engine API versions we speak. */
#define DOCKER_API_MAX_MAJOR 1
#define DOCKER_API_MAX_MINOR 43
#define DOCKER_API_MIN_MINOR 24
#define DOCKER_DEFAULT_HOST "unix:///var/run/docker.sock"
/* An ordinary request's time limit, ms. */
#define DOCKER_API_TIMEOUT_MS 60000L

/*
 * The answer, the API's until the callback returns (take the body with
 * buf_detach() to keep it); from docker_api_call_sync() the caller's, who
 * calls docker_api_response_release().
 */
struct docker_api_response {
	long status;		/* HTTP status; 0: no answer at all */
	struct buf body;	/* calls: the body, cut at CR_MAX_HTTP_BODY */
	struct buf error;	/* status 0: why there is no answer */
	char api_version[16];	/* negotiate: the engine's API-Version */
};

#define DOCKER_API_RESPONSE_INIT { .body = BUF_INIT, .error = BUF_INIT }

void docker_api_response_release(struct docker_api_response *resp);

/*
 * One sentence for a failed answer: the engine's "message" member, else
 * the HTTP status, else the transport error.  Appended to out.
 */
void docker_api_describe(const struct docker_api_response *resp,
			 struct buf *out);

typedef void (*docker_api_cb)(struct docker_api_response *resp, void *ctx);
/* Stream data: stdout/stderr frames, or raw bytes (is_stderr 0). */
typedef void (*docker_api_data_cb)(void *ctx, int is_stderr,
				   const char *data, size_t len);

/* TLS for tcp:// ([runners.docker] tls_verify, tls_cert_path). */
struct docker_api_tls {
	const char *cert_path;	/* ca.pem, cert.pem, key.pem in it */
	int verify;		/* verify the engine's certificate */
};

/*
 * host: unix:///path, tcp://host[:port] (plain HTTP, port 2375; with TLS
 * files or verify: HTTPS, port 2376, as docker's CLI), http://, https://.
 * tls may be NULL; $DOCKER_CERT_PATH and $DOCKER_TLS_VERIFY apply too.
 * Returns 0 and *out, or CR_ERR_UNSUPPORTED / CR_ERR_INVALID with one
 * sentence in err for a host we cannot use.
 */
int docker_api_new(struct loop *loop, const char *host,
		   const struct docker_api_tls *tls, struct docker_api **out,
		   struct buf *err);

/*
 * The mapping behind docker_api_new(), for tests: base gets the URL the
 * paths go after ("http://docker" for a socket, "https://h:2376"),
 * socket_path the unix socket (nothing for TCP).  0 or CR_ERR_*.
 */
int docker_api_url(const char *host, int tls, struct buf *base,
		   struct buf *socket_path, struct buf *err);
void docker_api_free(struct docker_api *api);

/* "1.41": the version in use (DOCKER_API_MAX_* until negotiated). */
const char *docker_api_version(const struct docker_api *api);
/* The host as given ("unix:///var/run/docker.sock"), for messages. */
const char *docker_api_host(const struct docker_api *api);

/* GET /_ping, and adopts the engine's version; cb sees the answer. */
struct docker_api_req *docker_api_negotiate(struct docker_api *api,
					    docker_api_cb cb, void *ctx);

/*
 * method path (as "/containers/create?name=x", without the version
 * prefix) with an optional JSON body (copied).  timeout_ms 0: the default.
 */
struct docker_api_req *docker_api_call(struct docker_api *api,
				       const char *method, const char *path,
				       const char *json, long timeout_ms,
				       docker_api_cb cb, void *ctx);

/* As docker_api_call(), with a body of any type (copied). */
struct docker_api_req *docker_api_call_body(struct docker_api *api,
					    const char *method,
					    const char *path,
					    const char *content_type,
					    const void *body, size_t len,
					    docker_api_cb cb, void *ctx);

enum docker_stream_kind {
	DOCKER_STREAM_MUX,	/* stdout/stderr frames (non-TTY logs) */
	DOCKER_STREAM_RAW,	/* the body as it is (pull progress) */
};

/*
 * As docker_api_call(), but a 2xx body goes to on_data as it arrives
 * (decoded per kind) instead of resp->body; no time limit.  An answer
 * that is not 2xx still fills resp->body.  header: one more request
 * header ("X-Registry-Auth: ..."), copied and wiped with the request, or
 * NULL.
 */
struct docker_api_req *docker_api_stream(struct docker_api *api,
					 const char *method, const char *path,
					 const char *header,
					 enum docker_stream_kind kind,
					 docker_api_data_cb on_data,
					 docker_api_cb cb, void *ctx);

/* Drops a request that has not completed; its cb will not be called. */
void docker_api_cancel(struct docker_api_req *req);

/*
 * GET /_ping, blocking, and adopts the engine's version; resp (..._INIT)
 * gets the answer.  0, or CR_ERR_NETWORK when the engine did not say OK.
 */
int docker_api_negotiate_sync(struct docker_api *api,
			      struct docker_api_response *resp);

/* Runs one request to its end, blocking; resp must be ..._INIT.  0. */
int docker_api_call_sync(struct docker_api *api, const char *method,
			 const char *path, long timeout_ms,
			 struct docker_api_response *resp);

/*
 * The multiplexed stream of a container without a TTY: frames of an
 * 8-byte header (stream 0 stdin, 1 stdout, 2 stderr; three zero bytes;
 * a big-endian 32-bit length) then that many bytes.  The decoder keeps
 * its place across calls, so frames may be split anywhere.
 */
struct docker_stream {
	unsigned char head[8];
	size_t head_len;
	uint32_t left;		/* payload bytes still due in this frame */
	int is_stderr;
	int failed;
};

#define DOCKER_STREAM_INIT { { 0 }, 0, 0, 0, 0 }

/*
 * Feeds len bytes; complete or partial payloads go to on_data as they
 * come.  Returns 0, or CR_ERR_PROTOCOL for a header that is not a frame
 * header (the decoder then stays failed).
 */
int docker_stream_feed(struct docker_stream *s, const char *data, size_t len,
		       docker_api_data_cb on_data, void *ctx);

#endif
