/*
 * struct strvec: a NULL-terminated array of strings it owns, for argv,
 * envp and lists of lines.  v is never NULL after STRVEC_INIT/strvec_init.
 */
#ifndef CR_STRVEC_H
#define CR_STRVEC_H

#include <stddef.h>

extern const char *strvec_empty[];

struct strvec {
	const char **v;
	size_t nr, alloc;
};

#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
/* Appends a copy of s; returns the copy. */
const char *strvec_push(struct strvec *sv, const char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s itself; the strvec takes ownership. */
void strvec_push_nodup(struct strvec *sv, char *s);
void strvec_pushv(struct strvec *sv, const char **items);
/* Frees every string and the array; sv is empty and usable afterwards. */
void strvec_clear(struct strvec *sv);

#endif
