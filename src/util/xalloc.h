/*
 * Allocation wrappers: they never return NULL.  On exhaustion they print a
 * message and abort, so error paths elsewhere deal with real errors only.
 */
#ifndef CR_XALLOC_H
#define CR_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array of nmemb elements of size each, checking for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* Overwrites len bytes of ptr with zeros before freeing it; NULL is fine. */
void freezero(void *ptr, size_t len);
/* freezero() of a NUL-terminated secret such as a token. */
void free_secret(char *s);

#endif
