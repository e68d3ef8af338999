/*
 * URL parameter masking (spec 7.5): in "?name=value" or "&name=value",
 * where name is one of a few secret parameters (any case), the value up to
 * the next '?', '&', space or control character becomes "[MASKED]".  An
 * empty value is left alone.
 *
 * The stage holds back at most a '?' or '&' and the start of a parameter
 * name; inside a value it only remembers that it is there.
 */
#include <stdlib.h>
#include <string.h>

#include "job/trace_internal.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const char *const url_params[] = {
	"private_token",
	"authenticity_token",
	"rss_token",
	"x-amz-signature",
	"x-amz-credential",
	"x-amz-security-token",
};

/* '?' or '&', the longest name, then '='. */
#define URL_HOLD_MAX (1 + sizeof("x-amz-security-token"))

enum url_state {
	URL_TEXT,
	URL_NAME,		/* hold has the delimiter and part of a name */
	URL_VALUE_START,	/* "name=" passed, no value byte yet */
	URL_VALUE,		/* "[MASKED]" passed, dropping the value */
};

struct url_writer {
	struct trace_writer base;
	enum url_state state;
	char hold[URL_HOLD_MAX];
	size_t hold_len;
};

enum url_name_match {
	URL_NAME_NONE,
	URL_NAME_PREFIX,
	URL_NAME_FULL,		/* a whole "name=" */
};

static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether s[0..n) equals the first n bytes of name + "=", in any case. */
static int url_name_starts(const char *name, size_t nlen, const char *s,
			   size_t n)
{
	size_t k;

	if (n > nlen + 1)
		return 0;
	for (k = 0; k < n && k < nlen; k++)
		if (ascii_lower((unsigned char)s[k]) != (unsigned char)name[k])
			return 0;
	return n <= nlen || s[nlen] == '=';
}

/* How s[0..n) compares with the start of some "name=". */
static enum url_name_match url_name_match(const char *s, size_t n)
{
	size_t i, nlen;

	for (i = 0; i < sizeof(url_params) / sizeof(*url_params); i++) {
		/* The first byte first: most '?' and '&' start no secret. */
		if (ascii_lower((unsigned char)s[0]) != url_params[i][0])
			continue;
		nlen = strlen(url_params[i]);
		if (n > nlen + 1 ||
		    !url_name_starts(url_params[i], nlen, s, n))
			continue;
		return n == nlen + 1 ? URL_NAME_FULL : URL_NAME_PREFIX;
	}
	return URL_NAME_NONE;
}

/* The bytes that may start a parameter: '?' and '&'. */
static const unsigned char url_delims[256] = { ['?'] = 1, ['&'] = 1 };
static const struct trace_few url_delim_vec = {
	{ { '?', '?', '?', '?', '?', '?', '?', '?',
	    '?', '?', '?', '?', '?', '?', '?', '?' },
	  { '&', '&', '&', '&', '&', '&', '&', '&',
	    '&', '&', '&', '&', '&', '&', '&', '&' },
	  { '?', '?', '?', '?', '?', '?', '?', '?',
	    '?', '?', '?', '?', '?', '?', '?', '?' },
	  { '&', '&', '&', '&', '&', '&', '&', '&',
	    '&', '&', '&', '&', '&', '&', '&', '&' } },
	2
};

/* The first bytes of the parameter names, in either case. */
static const unsigned char url_name_first[256] = {
	['p'] = 1, ['a'] = 1, ['r'] = 1, ['x'] = 1,
	['P'] = 1, ['A'] = 1, ['R'] = 1, ['X'] = 1,
};

static int url_value_end(unsigned char c)
{
	return c == '?' || c == '&' || c == ' ' || c < 0x20 || c == 0x7f;
}

/*
 * The next byte of a possible parameter name.  Returns 0 when c was taken,
 * 1 when it ended the candidate and must be looked at again as text, or a
 * write error.
 */
static int url_name_byte(struct url_writer *u, unsigned char c)
{
	enum url_name_match m;
	int r;

	/* hold_len < URL_HOLD_MAX: the name so far is a proper prefix. */
	u->hold[u->hold_len] = (char)c;
	m = url_name_match(u->hold + 1, u->hold_len);
	if (m == URL_NAME_PREFIX) {
		u->hold_len++;
		return 0;
	}
	if (m == URL_NAME_FULL)
		u->hold_len++;
	if ((r = trace_writer_pass(&u->base, u->hold, u->hold_len)) != 0)
		return r;
	u->hold_len = 0;
	u->state = m == URL_NAME_FULL ? URL_VALUE_START : URL_TEXT;
	return m == URL_NAME_NONE;
}

static int url_write(struct trace_writer *w, const char *data, size_t len)
{
	struct url_writer *u = (struct url_writer *)w;
	size_t i = 0, run = 0;
	unsigned char c;
	int r;

	while (i < len) {
		c = (unsigned char)data[i];
		if (u->state == URL_TEXT) {
			i += trace_scan_few(url_delims, &url_delim_vec,
					    data + i, len - i);
			if (i == len)
				break;
			/*
			 * The byte after the delimiter begins no name
			 * ("?id=", "&step="): plain text, and the run goes
			 * on in one piece instead of being cut here.
			 */
			if (i + 1 < len &&
			    !url_name_first[(unsigned char)data[i + 1]]) {
				i++;
				continue;
			}
			c = (unsigned char)data[i];
			if (c == '?' || c == '&') {
				r = trace_writer_pass(w, data + run, i - run);
				if (r)
					return r;
				u->hold[0] = (char)c;
				u->hold_len = 1;
				u->state = URL_NAME;
				run = i + 1;
			}
			i++;
		} else if (u->state == URL_NAME) {
			if ((r = url_name_byte(u, c)) < 0)
				return r;
			if (!r)
				i++;
			run = i;
		} else if (url_value_end(c)) {
			u->state = URL_TEXT;	/* c is looked at again */
		} else {
			if (u->state == URL_VALUE_START &&
			    (r = trace_writer_pass(w, TRACE_MASKED,
						   TRACE_MASKED_LEN)) != 0)
				return r;
			u->state = URL_VALUE;
			run = ++i;
		}
	}
	return trace_writer_pass(w, data + run, len - run);
}

static int url_close(struct trace_writer *w)
{
	struct url_writer *u = (struct url_writer *)w;
	int r = 0;

	if (u->state == URL_NAME)
		r = trace_writer_pass(w, u->hold, u->hold_len);
	explicit_bzero(u->hold, sizeof(u->hold));
	u->hold_len = 0;
	u->state = URL_TEXT;
	return r;
}

static size_t url_held(const struct trace_writer *w, size_t *alloc)
{
	const struct url_writer *u = (const struct url_writer *)w;

	*alloc = sizeof(u->hold);
	return u->hold_len;
}

static void url_free(struct trace_writer *w)
{
	freezero(w, sizeof(struct url_writer));
}

static const struct trace_writer_ops url_ops = {
	.name = "url",
	.write = url_write,
	.close = url_close,
	.held = url_held,
	.free = url_free,
};

struct trace_writer *trace_url_new(struct trace_sink *sink,
				   struct trace_writer *next)
{
	struct url_writer *u = xcalloc(1, sizeof(*u));

	u->base = (struct trace_writer){ &url_ops, next, sink };
	return &u->base;
}
