/*
 * struct buf: a growable byte buffer with a per-instance size limit.
 *
 * Invariants:
 *  - data is never NULL once initialised (it points at an empty string
 *    before the first allocation) and data[len] is always '\0', so a buf
 *    holding text can be used as a C string;
 *  - len is public and may be read; alloc is private;
 *  - the content may contain NUL bytes (trace data is bytes): use len, not
 *    strlen();
 *  - max is the most bytes the buffer may hold (0 = BUF_MAX_DEFAULT); an add
 *    that would go past it fails with CR_ERR_TOO_LARGE and leaves the buffer
 *    unchanged.
 *
 * The caller owns the struct (usually on the stack, initialised with
 * BUF_INIT or buf_init()) and frees the memory with buf_release().
 * buf_detach() is the only way to take the memory away from a buf.
 */
#ifndef CR_BUF_H
#define CR_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/limits.h"

extern char buf_empty[];

struct buf {
	char *data;
	size_t len;
	size_t alloc;
	size_t max;
};

#define BUF_INIT { buf_empty, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
/* Frees the memory and leaves b as after buf_init() with the same max. */
void buf_release(struct buf *b);
/* As buf_release(), but overwrites the content first (for secrets). */
void buf_release_secret(struct buf *b);
/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);
/* Hands the memory (NUL-terminated, never NULL) to the caller. */
char *buf_detach(struct buf *b, size_t *len);

/* Makes room for extra more bytes; CR_ERR_TOO_LARGE over max. */
int buf_grow(struct buf *b, size_t extra);
/* Truncates to len (which must be <= b->len). */
void buf_setlen(struct buf *b, size_t len);

int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/*
 * Records an error message in err, keeping the first one: when err already
 * holds text, nothing is added (the first error is usually the cause).
 * err may be NULL.  Returns nothing so it can sit in an error path.
 */
void buf_seterr(struct buf *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
