/*
 * coverage: (contract in coverage.h).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "local/coverage.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int coverage_init(struct coverage *c, const char *pattern, const char *job,
		  struct buf *err)
{
	size_t len = strlen(pattern);
	PCRE2_SIZE offset;
	int errcode;

	c->re = c->md = NULL;
	c->value[0] = 0;
	if (len < 2 || pattern[0] != '/' || pattern[len - 1] != '/') {
		buf_seterr(err, "job '%s': coverage: '%s' should be a regular expression between slashes",
			   job, pattern);
		return CR_ERR_INVALID;
	}
	c->re = pcre2_compile((PCRE2_SPTR)pattern + 1, len - 2, PCRE2_UTF,
			      &errcode, &offset, NULL);
	if (!c->re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		buf_seterr(err, "job '%s': coverage: invalid regular expression '%s': %s",
			   job, pattern, (const char *)msg);
		return CR_ERR_INVALID;
	}
	c->md = pcre2_match_data_create_from_pattern(c->re, NULL);
	return 0;
}

/* The first number (digits, optionally a dot and digits) in s[0..len). */
static bool first_number(const char *s, size_t len, char *out, size_t size)
{
	size_t i, end;

	for (i = 0; i < len && !(s[i] >= '0' && s[i] <= '9'); i++)
		;
	if (i == len)
		return false;
	for (end = i; end < len && s[end] >= '0' && s[end] <= '9'; end++)
		;
	if (end + 1 < len && s[end] == '.' && s[end + 1] >= '0' &&
	    s[end + 1] <= '9')
		for (end++; end < len && s[end] >= '0' && s[end] <= '9'; end++)
			;
	if (end - i >= size)
		return false;
	memcpy(out, s + i, end - i);
	out[end - i] = 0;
	return true;
}

void coverage_feed(struct coverage *c, const char *line, size_t len)
{
	PCRE2_SIZE start = 0, *ov, from = 0, to = 0;
	uint32_t groups;
	bool matched = false;
	char number[sizeof(c->value)];

	if (!c->re)
		return;
	/* The last match of the line (as Ruby's scan(...).last). */
	while (start <= len &&
	       pcre2_match(c->re, (PCRE2_SPTR)line, len, start,
			   0, c->md, NULL) > 0) {
		ov = pcre2_get_ovector_pointer(c->md);
		groups = pcre2_get_ovector_count(c->md);
		/* With groups, scan gives them: the last one is kept. */
		from = ov[groups > 1 ? 2 * (groups - 1) : 0];
		to = ov[groups > 1 ? 2 * (groups - 1) + 1 : 1];
		if (from == PCRE2_UNSET)
			from = to = 0;
		matched = true;
		start = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
	if (matched && first_number(line + from, to - from, number,
				    sizeof(number)))
		memcpy(c->value, number, sizeof(number));
}

void coverage_release(struct coverage *c)
{
	pcre2_match_data_free(c->md);
	pcre2_code_free(c->re);
	c->re = c->md = NULL;
}
