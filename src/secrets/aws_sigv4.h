/*
 * AWS Signature Version 4 for one request whose signed headers the caller
 * lists (the secrets providers' POSTs to STS and Secrets Manager).
 */
#ifndef CR_SECRETS_AWS_SIGV4_H
#define CR_SECRETS_AWS_SIGV4_H

#include <stddef.h>

struct buf;

struct aws_sigv4_header {
	const char *name;	/* lower case; the list sorted by name */
	const char *value;
};

struct aws_sigv4_request {
	const char *access_key, *secret_key;
	const char *region, *service;
	const char *date;	/* YYYYMMDDTHHMMSSZ, also the x-amz-date */
	const char *method;	/* "POST" */
	const char *path;	/* "/", already URI-encoded */
	const char *query;	/* canonical query string, "" for none */
	const struct aws_sigv4_header *headers;
	size_t nr_headers;
	const char *body;
	size_t body_len;
};

/* Appends the Authorization header's value ("AWS4-HMAC-SHA256
 * Credential=..., SignedHeaders=..., Signature=...") to out. */
void aws_sigv4_authorization(const struct aws_sigv4_request *r,
			     struct buf *out);

/* The current UTC time as YYYYMMDDTHHMMSSZ into out[17]. */
void aws_sigv4_now(char out[17]);

#endif
