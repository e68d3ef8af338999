/*
 * Plumbing shared by api_client.c, api_runner.c and api_job.c: a struct
 * gl_call wraps one HTTP request with the typed callback of its API call.
 *
 * An API call does:
 *  1. call = gl_call_new(client, decode, ctx) and sets call->cb;
 *  2. gl_call_send(call, &request, runner_token, call_out);
 *  3. later decode(call, resp) builds the typed reply and calls the
 *     caller's callback; the call is freed after decode returns.
 */
#ifndef CR_GL_API_INTERNAL_H
#define CR_GL_API_INTERNAL_H

#include "gitlab/api.h"

struct gl_call;

typedef void (*gl_call_decode)(struct gl_call *call,
			       struct gl_http_response *resp);

struct gl_call {
	struct gl_client *client;
	struct gl_call *prev, *next;
	struct gl_http_req *req;
	bool completing;
	gl_call_decode decode;
	union {
		gl_runner_cb runner;
		gl_job_cb job;
		gl_update_cb update;
		gl_trace_cb trace;
	} cb;
	void *ctx;
	/* Runner-token calls: the token, for the X-GitLab-Last-Update store
	 * and the verify text fallback.  Wiped when the call ends. */
	char *runner_token;
	/* Call-specific state. */
	enum gl_runner_op op;
	enum gl_endpoint endpoint;	/* for the client's observer */
	uint64_t offset;
	size_t len;
};

struct gl_call *gl_call_new(struct gl_client *client, gl_call_decode decode,
			    void *ctx);
/* Sends the request; runner_token may be NULL.  Never fails. */
void gl_call_send(struct gl_call *call, const struct gl_http_request *req,
		  const char *runner_token, struct gl_call **call_out);
/* Drops a call that was created but could not be sent. */
void gl_call_discard(struct gl_call *call);

/* base URL + path, as a new string. */
char *gl_client_url(const struct gl_client *client, const char *path);
/* Where to send the sync variant's private loop. */
struct loop *gl_client_loop(const struct gl_client *client);
/* The client's HTTP layer, for requests that are not API calls (the
 * parallel chunks of an artifact on object storage). */
struct gl_http *gl_client_http(const struct gl_client *client);

/* Adds "Name: value" to headers. */
void gl_header_add(struct strvec *headers, const char *name,
		   const char *value);
/* Wipes (they hold tokens) and clears a list of header lines. */
void gl_headers_clear(struct strvec *headers);
/* Copies Job-Status into out (cut to size), "" when absent. */
void gl_copy_job_status(const struct gl_http_response *resp, char *out,
			size_t size);
/* X-GitLab-Trace-Update-Interval as a positive integer, else 0. */
long gl_update_interval(const struct gl_http_response *resp);
/*
 * Fills message with the server's error text or the transport error,
 * unless it already holds one.
 */
void gl_reply_message(struct buf *message, const struct gl_http_response *resp);

#endif
