/*
 * TOML tokens: UTF-8 validation, the four string forms and numbers (dates
 * and times are in toml_datetime.c).  Each function takes a cursor and
 * advances it on success.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hex.h"
#include "util/banned.h"

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int toml_utf8_check(const char *s, size_t len, size_t *bad)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned c = u[i];
		size_t n, k;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, cp = c & 0x1f, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, cp = c & 0x0f, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, cp = c & 0x07, min = 0x10000;
		} else {
			*bad = i;
			return -1;
		}
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (u[i + k] & 0xc0) != 0x80) {
				*bad = i;
				return -1;
			}
			cp = (cp << 6) | (u[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			*bad = i;
			return -1;
		}
		i += n + 1;
	}
	return 0;
}

static void add_utf8(struct buf *out, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(out, b, n);
}

/*
 * A control character TOML forbids inside strings and comments (tab is
 * allowed; newlines are handled by the callers).
 */
static int is_bad_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* At a newline inside a multi-line string: appends "\n", steps over it. */
static int ml_newline(struct toml_parser *ps, const char **p, struct buf *out)
{
	if (**p == '\r') {
		if ((*p)[1] != '\n')
			return toml_parser_err(ps, *p,
				"carriage return not followed by a newline in string");
		(*p)++;
	}
	(*p)++;
	buf_addch(out, '\n');
	return 0;
}

/*
 * \uXXXX or \UXXXXXXXX at *p (pointing at the backslash), n hex digits.
 */
static int lex_unicode_escape(struct toml_parser *ps, const char **p, int n,
			      struct buf *out)
{
	const char *at = *p;
	uint32_t cp = 0;
	int i, h;

	for (i = 0; i < n; i++) {
		if ((h = hex_digit((unsigned char)at[2 + i])) < 0)
			return toml_parser_err(ps, at,
				"\\%c escape needs %d hex digits", at[1], n);
		cp = (cp << 4) | (uint32_t)h;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return toml_parser_err(ps, at,
			"escape \\%c%.*s is not a unicode scalar value",
			at[1], n, at + 2);
	add_utf8(out, cp);
	*p = at + 2 + n;
	return 0;
}

static int bad_char_err(struct toml_parser *ps, const char *at)
{
	if (*at == '\0')
		return toml_parser_err(ps, at, "unterminated string");
	if (*at == '\n' || (*at == '\r' && at[1] == '\n'))
		return toml_parser_err(ps, at, "newline in single-line string");
	return toml_parser_err(ps, at,
		"control character U+%04X must be escaped in strings",
		(unsigned char)*at);
}

/* One escape at *p (the backslash) in a basic string. */
static int lex_escape(struct toml_parser *ps, const char **p, int ml,
		      struct buf *out)
{
	const char *at = *p, *q;
	char c;

	switch (at[1]) {
	case 'b': c = '\b'; break;
	case 't': c = '\t'; break;
	case 'n': c = '\n'; break;
	case 'f': c = '\f'; break;
	case 'r': c = '\r'; break;
	case '"': c = '"'; break;
	case '\\': c = '\\'; break;
	case 'u': return lex_unicode_escape(ps, p, 4, out);
	case 'U': return lex_unicode_escape(ps, p, 8, out);
	default:
		/* Line-ending backslash: skip all whitespace after it. */
		q = at + 1;
		while (ml && (*q == ' ' || *q == '\t'))
			q++;
		if (ml && (*q == '\n' || (*q == '\r' && q[1] == '\n'))) {
			while (*q == ' ' || *q == '\t' || *q == '\n' ||
			       (*q == '\r' && q[1] == '\n'))
				q++;
			*p = q;
			return 0;
		}
		if (at[1] == '\0' || at[1] == '\n' || at[1] == '\r')
			return bad_char_err(ps, at + 1);
		if ((unsigned char)at[1] < 0x20 || at[1] == 0x7f)
			return toml_parser_err(ps, at, "invalid escape sequence");
		return toml_parser_err(ps, at, "invalid escape sequence '\\%c'",
				       at[1]);
	}
	buf_addch(out, c);
	*p = at + 2;
	return 0;
}

/*
 * The body of a string after its opening delimiter; q is the quote
 * character, ml whether it is a multi-line form.
 */
static int lex_string_body(struct toml_parser *ps, const char **p, char q,
			   int ml, struct buf *out)
{
	const char *s = *p;
	int r;

	for (;;) {
		unsigned char c = (unsigned char)*s;

		if (c == (unsigned char)q) {
			size_t n = 1;

			if (!ml) {
				s++;
				break;
			}
			while (s[n] == q)
				n++;
			if (n >= 3) {
				/* Up to two quotes may sit right before the end. */
				if (n > 5)
					return toml_parser_err(ps, s + 5,
						"too many quotes at the end of a multi-line string");
				buf_add(out, s, n - 3);
				s += n;
				break;
			}
			buf_add(out, s, n);
			s += n;
		} else if (c == '\\' && q == '"') {
			if ((r = lex_escape(ps, &s, ml, out)) != 0)
				return r;
		} else if (ml && (c == '\n' || c == '\r')) {
			if ((r = ml_newline(ps, &s, out)) != 0)
				return r;
		} else if (is_bad_control(c)) {
			return bad_char_err(ps, s);
		} else {
			buf_addch(out, (char)c);
			s++;
		}
	}
	*p = s;
	return 0;
}

int toml_lex_string(struct toml_parser *ps, const char **p, int allow_ml,
		    struct buf *out)
{
	const char *s = *p;
	char q = *s;
	int r;

	if (s[1] == q && s[2] == q) {
		if (!allow_ml)
			return toml_parser_err(ps, s,
				"a multi-line string cannot be a key");
		s += 3;
		/* A newline right after the opening delimiter is trimmed. */
		if (*s == '\n')
			s++;
		else if (*s == '\r' && s[1] == '\n')
			s += 2;
		r = lex_string_body(ps, &s, q, 1, out);
	} else {
		s++;
		r = lex_string_body(ps, &s, q, 0, out);
	}
	if (r == 0)
		*p = s;
	return r;
}

/*
 * A run of digits (per is_ok) where '_' may only sit between two digits;
 * copies the digits without underscores to out.
 */
static int lex_digits(const char **p, int (*is_ok)(int), struct buf *out,
		      const char **why)
{
	const char *s = *p;

	if (!is_ok((unsigned char)*s)) {
		*why = *s == '_' ? "'_' must sit between digits" : "expected a digit";
		*p = s;
		return CR_ERR_INVALID;
	}
	for (;;) {
		if (is_ok((unsigned char)*s)) {
			buf_addch(out, *s++);
		} else if (*s == '_') {
			if (!is_ok((unsigned char)s[1])) {
				*why = "'_' must sit between digits";
				*p = s;
				return CR_ERR_INVALID;
			}
			s++;
		} else {
			break;
		}
	}
	*p = s;
	return 0;
}

static int is_hex(int c)
{
	return hex_digit(c) >= 0;
}

static int is_oct(int c)
{
	return c >= '0' && c <= '7';
}

static int is_bin(int c)
{
	return c == '0' || c == '1';
}

/* Converts digits in base to an int64, checking for overflow. */
static int to_int64(const char *digits, int base, int neg, int64_t *out)
{
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t n = 0;

	for (; *digits; digits++) {
		uint64_t d = (uint64_t)hex_digit((unsigned char)*digits);

		if (n > (limit - d) / (uint64_t)base)
			return CR_ERR_INVALID;
		n = n * (uint64_t)base + d;
	}
	if (neg)
		*out = n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n;
	else
		*out = (int64_t)n;
	return 0;
}

int toml_is_number_char(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '.' || c == '+' || c == '-';
}

static int lex_radix(const char **p, struct toml_value *v, const char **why)
{
	const char *s = *p + 2;
	struct buf digits = BUF_INIT;
	int base, r;

	switch ((*p)[1]) {
	case 'x': base = 16; r = lex_digits(&s, is_hex, &digits, why); break;
	case 'o': base = 8; r = lex_digits(&s, is_oct, &digits, why); break;
	default: base = 2; r = lex_digits(&s, is_bin, &digits, why); break;
	}
	if (r == 0 && toml_is_number_char((unsigned char)*s)) {
		*why = "invalid digit in integer";
		r = CR_ERR_INVALID;
	}
	if (r == 0 && to_int64(digits.data, base, 0, &v->u.integer) != 0) {
		*why = "integer out of range";
		s = *p;
		r = CR_ERR_INVALID;
	}
	buf_release(&digits);
	*p = s;
	if (r == 0)
		v->type = TOML_INTEGER;
	return r;
}

/* inf or nan, with an optional sign already stepped over. */
static int lex_special_float(const char **p, const char *s, int neg,
			     struct toml_value *v)
{
	v->type = TOML_FLOAT;
	if (s[0] == 'i')
		v->u.fp = neg ? -INFINITY : INFINITY;
	else
		v->u.fp = neg ? -NAN : NAN;
	*p = s + 3;
	return 0;
}

int toml_lex_number(const char **p, struct toml_value *v, const char **why)
{
	const char *start = *p, *s = *p, *int_start;
	struct buf num = BUF_INIT;
	int neg = 0, is_float = 0, r;

	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!strncmp(s, "inf", 3) || !strncmp(s, "nan", 3))
		return lex_special_float(p, s, neg, v);
	if (s == start && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
		return lex_radix(p, v, why);
	if (neg)
		buf_addch(&num, '-');
	int_start = s;
	if ((r = lex_digits(&s, is_digit, &num, why)) != 0)
		goto out;
	if (*int_start == '0' && s - int_start > 1) {
		*why = "leading zeros are not allowed";
		s = int_start;
		r = CR_ERR_INVALID;
		goto out;
	}
	if (*s == '.') {
		is_float = 1;
		buf_addch(&num, *s++);
		if ((r = lex_digits(&s, is_digit, &num, why)) != 0)
			goto out;
	}
	if (*s == 'e' || *s == 'E') {
		is_float = 1;
		buf_addch(&num, *s++);
		if (*s == '+' || *s == '-')
			buf_addch(&num, *s++);
		if ((r = lex_digits(&s, is_digit, &num, why)) != 0)
			goto out;
	}
	if (toml_is_number_char((unsigned char)*s)) {
		*why = is_float ? "invalid float" : "invalid integer";
		r = CR_ERR_INVALID;
		goto out;
	}
	if (is_float) {
		char *end;

		/*
		 * strtod() follows LC_NUMERIC; crunner never changes it from
		 * "C", so '.' is the decimal point.
		 */
		errno = 0;
		v->u.fp = strtod(num.data, &end);
		if (errno == ERANGE && isinf(v->u.fp)) {
			*why = "float out of range";
			s = start;
			r = CR_ERR_INVALID;
			goto out;
		}
		v->type = TOML_FLOAT;
	} else {
		if (to_int64(num.data + neg, 10, neg,
			     &v->u.integer) != 0) {
			*why = "integer out of range";
			s = start;
			r = CR_ERR_INVALID;
			goto out;
		}
		v->type = TOML_INTEGER;
	}
	r = 0;
out:
	buf_release(&num);
	*p = s;
	return r;
}
