#include <stdarg.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

const char *strvec_empty[] = { NULL };

void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->nr = 0;
	sv->alloc = 0;
}

void strvec_push_nodup(struct strvec *sv, char *s)
{
	if (sv->nr + 2 > sv->alloc) {
		size_t want = sv->alloc ? sv->alloc * 2 : 8;

		if (sv->v == strvec_empty)
			sv->v = NULL;
		sv->v = xreallocarray(sv->v, want, sizeof(*sv->v));
		sv->alloc = want;
	}
	sv->v[sv->nr++] = s;
	sv->v[sv->nr] = NULL;
}

const char *strvec_push(struct strvec *sv, const char *s)
{
	char *copy = xstrdup(s);

	strvec_push_nodup(sv, copy);
	return copy;
}

const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	(void)buf_vaddf(&b, fmt, ap);
	va_end(ap);
	s = buf_detach(&b, NULL);
	strvec_push_nodup(sv, s);
	return s;
}

void strvec_pushv(struct strvec *sv, const char **items)
{
	for (; *items; items++)
		strvec_push(sv, *items);
}

void strvec_clear(struct strvec *sv)
{
	size_t i;

	if (sv->v != strvec_empty) {
		for (i = 0; i < sv->nr; i++)
			free((char *)sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}
