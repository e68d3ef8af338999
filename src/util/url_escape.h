/*
 * URL escaping as Go's net/url does it, for signed URLs whose signature
 * covers the escaped text and so must match what gitlab-runner's Go
 * clients produce byte for byte.
 */
#ifndef CR_UTIL_URL_ESCAPE_H
#define CR_UTIL_URL_ESCAPE_H

struct buf;

/* url.QueryEscape: unreserved characters stay, space is '+', the rest
 * %XX (upper-case hex). */
void url_query_escape(struct buf *out, const char *s);

/* url.URL.EscapedPath of a path without RawPath: unreserved characters
 * and "/$&+,:;=@" stay, the rest %XX. */
void url_path_escape(struct buf *out, const char *s);

#endif
