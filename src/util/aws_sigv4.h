/*
 * AWS Signature Version 4 (docs.aws.amazon.com, "Create a signed AWS API
 * request"), for the S3 cache's pre-signed URLs and STS calls
 * (archive/cache_remote.c, cache_s3_sts.c) and the AWS secrets provider
 * (secrets/aws_secrets_manager.c), and the one XML field reader their
 * answers need.
 */
#ifndef CR_UTIL_AWS_SIGV4_H
#define CR_UTIL_AWS_SIGV4_H

#include <stddef.h>

#include "util/sha256.h"

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

/*
 * The signature (hex) of the canonical request creq, made at date
 * (YYYYMMDDTHHMMSSZ) on day (YYYYMMDD) for region and service with
 * secret: the string to sign, the signing key, its HMAC.  For a request
 * signed in its query (a pre-signed URL), whose caller builds creq.
 */
void aws_sigv4_signature(const char *secret, const char *date,
			 const char *day, const char *region,
			 const char *service, const struct buf *creq,
			 char hex[SHA256_HEX_LEN + 1]);

/* The current UTC time as YYYYMMDDTHHMMSSZ into out[17]. */
void aws_sigv4_now(char out[17]);

/* The text of the first <tag>...</tag> in an AWS XML answer, malloc'd,
 * or NULL. */
char *aws_xml_text(const char *xml, const char *tag);

#endif
