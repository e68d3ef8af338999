/*
 * The Kubernetes REST API, blocking: one libcurl easy handle per request,
 * for the executor's worker thread (kubernetes.c).  A request gives up
 * when *cancel (k8s_api_new) becomes non-zero.
 */
#ifndef CR_K8S_API_H
#define CR_K8S_API_H

#include <stdatomic.h>

#include <curl/curl.h>

#include "executor/kubernetes/k8s_conn.h"
#include "util/buf.h"

struct k8s_api {
	struct k8s_conn conn;	/* taken from the caller */
	const atomic_int *cancel;	/* may be NULL */
};

struct k8s_response {
	long status;		/* HTTP status; 0: no answer */
	struct buf body;
	struct buf error;	/* status 0: why */
};

#define K8S_RESPONSE_INIT { 0, BUF_INIT, BUF_INIT }
void k8s_response_release(struct k8s_response *r);

/* Takes conn's contents (conn is left empty). */
void k8s_api_init(struct k8s_api *api, struct k8s_conn *conn,
		  const atomic_int *cancel);
void k8s_api_release(struct k8s_api *api);

/*
 * Applies the connection's TLS and credentials to e (also for the
 * WebSocket of exec); headers gets "Authorization: Bearer ..." (freed by
 * the caller with curl_slist_free_all, a secret in it).
 */
CURLcode k8s_api_setup(const struct k8s_api *api, CURL *e,
		       struct curl_slist **headers);

/* The bearer token to send now (a new copy, a secret), or NULL. */
char *k8s_api_bearer(const struct k8s_api *api);

/*
 * method path (as "/api/v1/namespaces/x/pods") with an optional JSON
 * body; timeout_ms 0: 30 s.  Returns 0 with resp filled (any status), or
 * CR_ERR_CANCELED when *cancel was set.
 */
int k8s_api_call(const struct k8s_api *api, const char *method,
		 const char *path, const char *json, long timeout_ms,
		 struct k8s_response *resp);

/* One sentence: the Status "message", else the HTTP status, else why. */
void k8s_api_describe(const struct k8s_response *resp, struct buf *out);

/* Appends s percent-encoded for a query string or path segment. */
void k8s_url_escape(struct buf *out, const char *s);

/*
 * Appends the core API path of a namespaced resource:
 * "/api/v1/namespaces/NS/RESOURCE", then "/NAME" when name is not NULL.
 */
void k8s_core_path(struct buf *out, const char *ns, const char *resource,
		   const char *name);

#endif
