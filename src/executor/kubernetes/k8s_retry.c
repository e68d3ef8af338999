/*
 * gitlab-runner's retries of Kubernetes API requests (executors/
 * kubernetes/kubernetes.go NewRetry, helpers/retry): a request that
 * failed with a network error (no answer; or an error whose text holds
 * one of retryNetworkErrorsGroup's), or whose error text holds a key of
 * retry_limits, is tried again, up to retry_limit attempts in all (5) or
 * that key's count, with a back-off from 500 ms doubling up to
 * retry_backoff_max (2000 ms).
 */
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "util/banned.h"

#define DEFAULT_LIMIT 5
#define BACKOFF_MIN_MS 500L
#define DEFAULT_BACKOFF_MAX_MS 2000L

/* retryNetworkErrorsGroup, and the errno texts Go puts in its errors. */
static const char *const network_errors[] = {
	"error dialing backend", "TLS handshake timeout",
	"read: connection timed out", "connect: connection timed out",
	"Timeout occurred", "etcdserver: request timed out",
	"http2: client connection lost", "connection refused",
	"tls: internal error", "unexpected EOF", "connection reset by peer",
	"software caused connection abort", "broken pipe",
};

long k8s_retry_backoff_max_ms(const struct config_kubernetes *kc)
{
	if (kc->retry_backoff_max <= 0)
		return DEFAULT_BACKOFF_MAX_MS;
	if (kc->retry_backoff_max <= BACKOFF_MIN_MS)
		return BACKOFF_MIN_MS;
	return kc->retry_backoff_max;
}

int k8s_retry_max_tries(const struct config_kubernetes *kc, const char *what,
			int no_answer)
{
	json_t *limits = kc->retry_limits ? json_loads(kc->retry_limits, 0,
						       NULL) : NULL;
	json_t *v;
	const char *key;
	int tries = 0, retry = no_answer;
	size_t i;

	json_object_foreach(limits, key, v)
		if (what && *key && strstr(what, key)) {
			tries = (int)json_integer_value(v);
			retry = 1;
			break;
		}
	json_decref(limits);
	for (i = 0; !retry && what && i < sizeof(network_errors) /
	     sizeof(*network_errors); i++)
		if (strstr(what, network_errors[i]))
			retry = 1;
	if (!retry)
		return 1;
	if (tries)
		return tries;
	return kc->retry_limit > 0 ? kc->retry_limit : DEFAULT_LIMIT;
}

int k8s_api_call_retry(struct k8s_job *kj, const char *method,
		       const char *path, const char *json,
		       struct k8s_response *resp)
{
	long backoff = BACKOFF_MIN_MS, max = k8s_retry_backoff_max_ms(kj->kc);
	int tries = 0, r;

	for (;;) {
		struct buf why = BUF_INIT;
		int more;

		k8s_response_release(resp);
		r = k8s_api_call(&kj->api, method, path, json, 0, resp);
		if (r != 0 || (resp->status >= 200 && resp->status < 400))
			return r;
		k8s_api_describe(resp, &why);
		more = ++tries < k8s_retry_max_tries(kj->kc, why.data,
						     resp->status == 0);
		buf_release(&why);
		if (!more || k8s_nap(kj, backoff))
			return r;
		backoff = backoff * 2 > max ? max : backoff * 2;
	}
}
