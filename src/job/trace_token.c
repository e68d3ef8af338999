/*
 * Token prefix masking (spec 7.5): after a known token prefix such as
 * "glpat-", the token characters that follow become "[MASKED]" and the
 * prefix stays.  A prefix followed by no token character is left alone.
 *
 * The prefixes are checked shortest first, so at one position the
 * shortest that matches is taken.  Like the phrase masker, the stage holds
 * back only a possible start of a prefix, and remembers across writes that
 * it is inside a token.
 */
#include <stdlib.h>
#include <string.h>

#include "job/trace_internal.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* glpat- is always masked; the rest only with FF_MASK_ALL_DEFAULT_TOKENS. */
static const char *const default_prefixes[] = {
	"glpat-",
	"gloas-", "gldt-", "glrt-", "glcbt-", "glrtr-", "glptt-", "glft-",
	"glimt-", "glagent-", "glsoat-", "glffct-", "_gitlab_session=",
	"gltok-",
};

void trace_token_setup(struct trace_sink *sink,
		       const struct trace_options *opts)
{
	size_t i, nr = sizeof(default_prefixes) / sizeof(*default_prefixes);

	if (opts->no_default_token_masks)
		nr = 1;
	for (i = 0; i < nr; i++)
		trace_patterns_add(&sink->prefixes, default_prefixes[i],
				   strlen(default_prefixes[i]),
				   TRACE_SHORTEST_FIRST);
	for (i = 0; i < opts->nr_token_prefixes; i++) {
		const char *s = opts->token_prefixes[i];

		if (s)
			trace_patterns_add(&sink->prefixes, s, strlen(s),
					   TRACE_SHORTEST_FIRST);
	}
	trace_patterns_truncate(&sink->prefixes, TRACE_MAX_TOKEN_PREFIXES);
}

static int is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '=';
}

enum token_state {
	TOKEN_TEXT,
	TOKEN_AFTER_PREFIX,	/* a prefix was seen, no token character yet */
	TOKEN_MASKING,		/* "[MASKED]" written, dropping the token */
};

struct token_writer {
	struct trace_writer base;
	struct trace_hold hold;
	enum token_state state;
};

static int token_run(struct token_writer *t, const char *data, size_t len,
		     int final)
{
	const struct trace_patterns *pats = &t->base.sink->prefixes;
	struct trace_window win;
	size_t total, p = 0, run = 0, mlen;
	enum trace_match mt;
	unsigned char c;
	int r;

	trace_patterns_ready(&t->base.sink->prefixes);
	if (!t->hold.len && t->state == TOKEN_TEXT && !pats->nr)
		return trace_writer_pass(&t->base, data, len);
	trace_hold_reserve(&t->hold, pats->maxlen);
	win = (struct trace_window){ t->hold.data, t->hold.len, data, len };
	total = win.hold_len + win.data_len;

	while (p < total) {
		c = trace_window_at(&win, p);
		if (t->state != TOKEN_TEXT && is_token_char(c)) {
			/* The token: the first character brings "[MASKED]". */
			if (t->state == TOKEN_AFTER_PREFIX &&
			    (r = trace_window_pass_masked(&t->base, &win, run,
							  p)) != 0)
				return r;
			t->state = TOKEN_MASKING;
			run = ++p;
			continue;
		}
		t->state = TOKEN_TEXT;
		if (!pats->first[c]) {
			p++;
			/* Skip what cannot start a prefix in one go. */
			if (p >= win.hold_len && p < total)
				p += trace_patterns_skip(pats,
					data + (p - win.hold_len), total - p);
			continue;
		}
		mt = trace_patterns_match(pats, &win, p, final, &mlen);
		if (mt == TRACE_MATCH_PARTIAL)
			break;
		if (mt == TRACE_MATCH_FULL) {
			/* The prefix itself is shown: it stays in the run. */
			p += mlen;
			t->state = TOKEN_AFTER_PREFIX;
			continue;
		}
		p++;
	}
	if ((r = trace_window_pass(&t->base, &win, run, p)) != 0)
		return r;
	trace_hold_keep(&t->hold, &win, p);
	return 0;
}

static int token_write(struct trace_writer *w, const char *data, size_t len)
{
	return token_run((struct token_writer *)w, data, len, 0);
}

static int token_close(struct trace_writer *w)
{
	struct token_writer *t = (struct token_writer *)w;
	int r = token_run(t, "", 0, 1);

	t->state = TOKEN_TEXT;
	return r;
}

static size_t token_held(const struct trace_writer *w, size_t *alloc)
{
	const struct token_writer *t = (const struct token_writer *)w;

	*alloc = t->hold.alloc;
	return t->hold.len;
}

static void token_free(struct trace_writer *w)
{
	struct token_writer *t = (struct token_writer *)w;

	trace_hold_release(&t->hold);
	free(t);
}

static const struct trace_writer_ops token_ops = {
	.name = "token",
	.write = token_write,
	.close = token_close,
	.held = token_held,
	.free = token_free,
};

struct trace_writer *trace_token_new(struct trace_sink *sink,
				     struct trace_writer *next)
{
	struct token_writer *t = xcalloc(1, sizeof(*t));

	t->base = (struct trace_writer){ &token_ops, next, sink };
	return &t->base;
}
