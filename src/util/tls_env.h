/*
 * Which certificate authorities a TLS connection trusts, the way Go
 * programs (gitlab-runner among them) decide it:
 *  - an explicit CA file (tls-ca-file, the Docker TLS ca.pem) wins;
 *  - else SSL_CERT_FILE, when set, replaces the system bundle;
 *  - SSL_CERT_DIR, when set, replaces the system certificate
 *    directories (a colon-separated list).
 * XXX Go reads every file in those directories; OpenSSL, through libcurl,
 * finds certificates there by subject hash only, so the directories need
 * their hash links (`openssl rehash DIR`, as /etc/ssl/certs has them).
 */
#ifndef CR_UTIL_TLS_ENV_H
#define CR_UTIL_TLS_ENV_H

#include <curl/curl.h>

/* Sets CURLOPT_CAINFO / CURLOPT_CAPATH on e; ca_file may be NULL. */
CURLcode tls_env_apply(CURL *e, const char *ca_file);

#endif
