#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static void oom(size_t size)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		oom(size);
	return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);

	return xmemdup(s, end ? (size_t)(end - s) : n);
}

/* Always NUL-terminates the copy, so it doubles as a string duplicator. */
void *xmemdup(const void *p, size_t n)
{
	char *copy = xmalloc(n + 1);

	memcpy(copy, p, n);
	copy[n] = '\0';
	return copy;
}

void freezero(void *ptr, size_t len)
{
	if (!ptr)
		return;
	explicit_bzero(ptr, len);
	free(ptr);
}

void free_secret(char *s)
{
	if (s)
		freezero(s, strlen(s));
}
