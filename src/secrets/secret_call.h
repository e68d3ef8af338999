/*
 * What every secrets provider (vault.c, aws_secrets_manager.c,
 * azure_key_vault.c, gcp_secret_manager.c) does the same way around its
 * HTTP requests: one resolution ("op") holds a struct secret_call, sends
 * its requests through it on the loop, and ends through it exactly once.
 *
 * Ownership: the op owns the call (embedded); the call owns nothing but
 * the request in flight.  secret_call_finish() frees the op (through
 * free_op) before it reports, so the report may free what the op was
 * started for.
 */
#ifndef CR_SECRETS_SECRET_CALL_H
#define CR_SECRETS_SECRET_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gitlab/http.h"
#include "secrets/secret_result.h"

struct buf;
struct strvec;

/* Every answer is a token or one secret: small. */
#define SECRET_MAX_RESPONSE ((size_t)1 << 20)

struct secret_call {
	struct gl_http *http;
	struct gl_http_req *req;	/* the request in flight, or NULL */
	secret_done_cb done;
	void *ctx;
	long timeout_ms;		/* of each request */
	/* Frees the op that embeds this call (its cancel function). */
	void (*free_op)(void *op);
	void *op;
};

void secret_call_init(struct secret_call *call, struct gl_http *http,
		      long timeout_ms, secret_done_cb done, void *ctx,
		      void (*free_op)(void *op), void *op);

/*
 * Starts a request on the loop; cb gets call->op.  body may be NULL (no
 * body); headers (they may hold a token) are wiped and cleared, sent or
 * not.  A failed answer is tried again as gl_http does.
 */
void secret_call_send(struct secret_call *call, const char *method,
		      const char *url, const struct buf *body,
		      struct strvec *headers, gl_http_cb cb);

/* As secret_call_send(), tried once: an answer expected to be an error
 * (Azure's 401 challenge). */
void secret_call_send_once(struct secret_call *call, const char *method,
			   const char *url, const struct buf *body,
			   struct strvec *headers, gl_http_cb cb);

/* Drops the request in flight, if any (from the op's cancel). */
void secret_call_stop(struct secret_call *call);

/* Ends the resolution: frees the op, then reports to done. */
void secret_call_finish(struct secret_call *call, enum secret_outcome outcome,
			const char *value, const char *error);

/* secret_call_finish() with SECRET_SYSTEM_ERROR and this text. */
void secret_call_fail(struct secret_call *call, const char *text);

/* As secret_call_fail() with a formatted text. */
void secret_call_failf(struct secret_call *call, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The transport's error of an answer-less response, else no_answer. */
const char *secret_transport_error(const struct gl_http_response *resp,
				   const char *no_answer);

/* The answer's body as JSON (a new reference), or NULL. */
json_t *secret_response_json(const struct gl_http_response *resp);

/* A copy of root's non-empty string member name, or NULL. */
char *secret_json_token(json_t *root, const char *name);

/* Whether url starts with http:// or https://. */
bool secret_url_is_http(const char *url);

/* Drops the trailing '/'s of b. */
void secret_trim_slashes(struct buf *b);

/* Wipes each of headers (they may hold a token), then clears them. */
void secret_wipe_headers(struct strvec *headers);

#endif
