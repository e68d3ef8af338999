/*
 * The output limit (spec 4.4).  When a write reaches the limit, the part
 * that fits is passed on, cut so that no UTF-8 character is split, then
 * one notice, and from then on everything is dropped while the job goes
 * on.  The notice counts in bytesize and checksum, so the log may end up a
 * little longer than the limit.
 *
 * The stage is shared by every lane and comes after UTF-8 repair, so each
 * write it sees is whole, valid characters.
 */
#include <stdio.h>
#include <stdlib.h>

#include "job/trace_internal.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct limit_writer {
	struct trace_writer base;
	size_t limit;		/* 0: none */
	size_t used;
	int full;
};

static int limit_notice(struct limit_writer *l)
{
	char notice[256];
	int n;

	n = snprintf(notice, sizeof(notice),
		     "\n" TRACE_ANSI_BOLD_YELLOW
		     "Job's log exceeded limit of %zu bytes.\n"
		     "Job execution will continue but no more output will be "
		     "collected." TRACE_ANSI_RESET "\n", l->limit);
	if (n < 0 || (size_t)n >= sizeof(notice))
		return CR_ERR_INTERNAL;
	return trace_writer_pass(&l->base, notice, (size_t)n);
}

static int limit_write(struct trace_writer *w, const char *data, size_t len)
{
	struct limit_writer *l = (struct limit_writer *)w;
	size_t room, cut;
	int r;

	if (l->full)
		return 0;
	if (!l->limit)
		return trace_writer_pass(w, data, len);
	room = l->limit - l->used;
	if (len < room) {
		l->used += len;
		return trace_writer_pass(w, data, len);
	}
	/* Reaching the limit, even exactly, ends the log. */
	cut = room;
	while (cut > 0 && cut < len &&
	       ((unsigned char)data[cut] & 0xc0) == 0x80)
		cut--;	/* data[cut] continues the character before it */
	l->full = 1;
	l->used += cut;
	if ((r = trace_writer_pass(w, data, cut)) != 0)
		return r;
	return limit_notice(l);
}

static int limit_close(struct trace_writer *w)
{
	(void)w;
	return 0;
}

static size_t limit_held(const struct trace_writer *w, size_t *alloc)
{
	(void)w;
	*alloc = 0;
	return 0;
}

static void limit_free(struct trace_writer *w)
{
	free(w);
}

static const struct trace_writer_ops limit_ops = {
	.name = "limit",
	.write = limit_write,
	.close = limit_close,
	.held = limit_held,
	.free = limit_free,
};

struct trace_writer *trace_limit_new(struct trace_sink *sink,
				     struct trace_writer *next, size_t limit)
{
	struct limit_writer *l = xcalloc(1, sizeof(*l));

	l->base = (struct trace_writer){ &limit_ops, next, sink };
	l->limit = limit;
	return &l->base;
}
