/*
 * What a request came to: the mapping of libcurl codes and HTTP statuses to
 * enum gl_result, the one decision of what is transient (spec 0.4) and the
 * wait before the next attempt; plus the response helpers.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gitlab/http.h"
#include "gitlab/http_internal.h"
#include "util/xalloc.h"
#include "util/random.h"
#include "util/banned.h"

const char *gl_result_name(enum gl_result r)
{
	switch (r) {
	case GL_OK: return "ok";
	case GL_NOT_FOUND: return "not found";
	case GL_AUTH: return "forbidden";
	case GL_RATE_LIMITED: return "rate limited";
	case GL_RETRY: return "temporary failure";
	case GL_REJECTED: return "rejected";
	case GL_TOO_LARGE: return "answer too large";
	case GL_BAD_RESPONSE: return "unusable answer";
	case GL_ERROR: return "local error";
	}
	return "unknown";
}

bool gl_http_status_is_transient(long status)
{
	switch (status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return true;
	}
	return status >= 512;
}

enum gl_result gl_http_classify(int curl_code, long status, bool over_cap)
{
	if (over_cap)
		return GL_TOO_LARGE;
	if (curl_code != CURLE_OK) {
		switch (curl_code) {
		/* Our own setup is wrong: asking again changes nothing. */
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_NOT_BUILT_IN:
		case CURLE_OUT_OF_MEMORY:
		case CURLE_BAD_FUNCTION_ARGUMENT:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_UNKNOWN_OPTION:
		case CURLE_FAILED_INIT:
		case CURLE_READ_ERROR:
			return GL_ERROR;
		default:
			/* Connect, DNS, TLS handshake, timeout, reset, cut body. */
			return GL_RETRY;
		}
	}
	if (status >= 200 && status < 300)
		return GL_OK;
	if (status == 404)
		return GL_NOT_FOUND;
	if (status == 401 || status == 403)
		return GL_AUTH;
	if (status == 429)
		return GL_RATE_LIMITED;
	if (status == 0 || gl_http_status_is_transient(status))
		return GL_RETRY;
	return GL_REJECTED;
}

static long header_wait_ms(const char *value, long long now)
{
	const char *p = value;
	long long secs = 0;
	time_t t;

	while (*p == ' ')
		p++;
	if (*p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9'; p++) {
			secs = secs * 10 + (*p - '0');
			if (secs > GL_HTTP_HEADER_WAIT_MAX_MS / 1000)
				return GL_HTTP_HEADER_WAIT_MAX_MS;
		}
		return *p && *p != ' ' ? -1 : (long)(secs * 1000);
	}
	/* An HTTP date (RFC 1123), for both headers. */
	if ((t = curl_getdate(value, NULL)) < 0)
		return -1;
	if ((long long)t <= now)
		return 0;
	secs = (long long)t - now;
	if (secs > GL_HTTP_HEADER_WAIT_MAX_MS / 1000)
		return GL_HTTP_HEADER_WAIT_MAX_MS;
	return (long)(secs * 1000);
}

long gl_http_retry_delay_ms(const struct gl_http_response *resp,
			    unsigned attempt, long base_ms, long long now)
{
	const char *v;
	long wait, cap;
	unsigned i;

	if ((v = gl_http_response_header(resp, "RateLimit-ResetTime")) &&
	    (wait = header_wait_ms(v, now)) >= 0)
		return wait;
	if ((v = gl_http_response_header(resp, "Retry-After")) &&
	    (wait = header_wait_ms(v, now)) >= 0)
		return wait;
	if (base_ms <= 0)
		base_ms = GL_HTTP_BACKOFF_BASE_MS;
	cap = base_ms;
	for (i = 1; i < attempt && cap < GL_HTTP_BACKOFF_MAX_MS; i++)
		cap *= 2;
	if (cap > GL_HTTP_BACKOFF_MAX_MS)
		cap = GL_HTTP_BACKOFF_MAX_MS;
	/* Jitter: anywhere between the base and the doubled delay. */
	if (cap > base_ms)
		return base_ms + (long)(random_u32() % (uint32_t)(cap - base_ms + 1));
	return cap;
}

const char *gl_http_response_header(const struct gl_http_response *resp,
				    const char *name)
{
	size_t i = resp->nr_headers;

	while (i--)
		if (!strcasecmp(resp->headers[i].name, name))
			return resp->headers[i].value;
	return NULL;
}

void gl_http_clear_headers(struct gl_http_response *resp)
{
	size_t i;

	for (i = 0; i < resp->nr_headers; i++) {
		free(resp->headers[i].name);
		free_secret(resp->headers[i].value);
	}
	free(resp->headers);
	resp->headers = NULL;
	resp->nr_headers = 0;
}

void gl_http_response_release(struct gl_http_response *resp)
{
	gl_http_clear_headers(resp);
	/* Bodies carry job payloads and tokens. */
	buf_release_secret(&resp->body);
	buf_release(&resp->error);
	buf_release(&resp->tls_chain);
}
