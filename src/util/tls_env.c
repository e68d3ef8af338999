/*
 * CA trust from the environment (tls_env.h).  Read on every handle: the
 * variables are two getenv() calls, and a long-lived runner then follows
 * what its environment says without a restart-time snapshot.
 */
#include <stdlib.h>

#include "util/tls_env.h"
#include "util/banned.h"

CURLcode tls_env_apply(CURL *e, const char *ca_file)
{
	const char *file = ca_file && *ca_file ? ca_file :
			   getenv("SSL_CERT_FILE");
	const char *dirs = getenv("SSL_CERT_DIR");
	CURLcode cc = CURLE_OK;

	if (file && *file)
		cc = curl_easy_setopt(e, CURLOPT_CAINFO, file);
	if (cc == CURLE_OK && dirs && *dirs)
		cc = curl_easy_setopt(e, CURLOPT_CAPATH, dirs);
	return cc;
}
