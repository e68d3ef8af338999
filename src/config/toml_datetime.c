/*
 * TOML dates and times (RFC 3339 as TOML restricts it): offset and local
 * date-times, local dates and local times, checked field by field and
 * normalised to one spelling.
 */
#include <string.h>

#include "config/toml_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

int toml_lex_is_datetime(const char *p)
{
	if (is_digit(p[0]) && is_digit(p[1]) && p[2] == ':')
		return 1;
	return is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) &&
	       is_digit(p[3]) && p[4] == '-';
}

/* Exactly n digits at *p as a number; -1 if they are not there. */
static int fixed_digits(const char **p, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

/* "dd" then the separator sep (if any), in the range [lo, hi]. */
static int lex_field(const char **p, int n, char sep, int lo, int hi,
		     const char *what, int *out, const char **why)
{
	const char *at = *p;
	int v = fixed_digits(p, n);

	if (v < 0) {
		*why = what;
		*p = at;
		return CR_ERR_INVALID;
	}
	if (v < lo || v > hi) {
		*why = "date or time field out of range";
		*p = at;
		return CR_ERR_INVALID;
	}
	if (sep) {
		if (**p != sep) {
			*why = what;
			return CR_ERR_INVALID;
		}
		(*p)++;
	}
	*out = v;
	return 0;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static int lex_time(const char **p, struct buf *norm, const char **why)
{
	const char *s = *p, *frac;
	int h, m, sec, r;

	if ((r = lex_field(&s, 2, ':', 0, 23, "expected hh:mm:ss", &h, why)) ||
	    (r = lex_field(&s, 2, ':', 0, 59, "expected hh:mm:ss", &m, why)) ||
	    (r = lex_field(&s, 2, 0, 0, 60, "expected hh:mm:ss", &sec, why))) {
		*p = s;
		return r;
	}
	buf_addf(norm, "%02d:%02d:%02d", h, m, sec);
	if (*s == '.') {
		frac = ++s;
		while (is_digit((unsigned char)*s))
			s++;
		if (s == frac) {
			*why = "expected digits after '.' in time";
			*p = s;
			return CR_ERR_INVALID;
		}
		buf_addch(norm, '.');
		buf_add(norm, frac, (size_t)(s - frac));
	}
	*p = s;
	return 0;
}

static int lex_offset(const char **p, struct buf *norm, const char **why)
{
	const char *s = *p;
	char sign = *s;
	int h, m, r;

	if (sign == 'Z' || sign == 'z') {
		buf_addch(norm, 'Z');
		*p = s + 1;
		return 0;
	}
	s++;
	if ((r = lex_field(&s, 2, ':', 0, 23, "expected +hh:mm offset", &h, why)) ||
	    (r = lex_field(&s, 2, 0, 0, 59, "expected +hh:mm offset", &m, why))) {
		*p = s;
		return r;
	}
	buf_addf(norm, "%c%02d:%02d", sign, h, m);
	*p = s;
	return 0;
}

int toml_lex_datetime(const char **p, enum toml_type *type, struct buf *norm,
		      const char **why)
{
	const char *s = *p;
	int y, mo, d, r;

	if (s[2] == ':') {
		if ((r = lex_time(&s, norm, why)) != 0)
			goto out;
		*type = TOML_TIME_LOCAL;
		goto done;
	}
	if ((r = lex_field(&s, 4, '-', 0, 9999, "expected yyyy-mm-dd", &y, why)) ||
	    (r = lex_field(&s, 2, '-', 1, 12, "expected yyyy-mm-dd", &mo, why)))
		goto out;
	if ((r = lex_field(&s, 2, 0, 1, 31, "expected yyyy-mm-dd", &d, why)))
		goto out;
	if (d > days_in_month(y, mo)) {
		*why = "day out of range for its month";
		s -= 2;
		r = CR_ERR_INVALID;
		goto out;
	}
	buf_addf(norm, "%04d-%02d-%02d", y, mo, d);
	/* A space separates date and time only when a time follows. */
	if (*s == 'T' || *s == 't' ||
	    (*s == ' ' && is_digit((unsigned char)s[1]) &&
	     is_digit((unsigned char)s[2]) && s[3] == ':')) {
		s++;
		buf_addch(norm, 'T');
		if ((r = lex_time(&s, norm, why)) != 0)
			goto out;
		if (*s == 'Z' || *s == 'z' || *s == '+' || *s == '-') {
			if ((r = lex_offset(&s, norm, why)) != 0)
				goto out;
			*type = TOML_DATETIME;
		} else {
			*type = TOML_DATETIME_LOCAL;
		}
	} else {
		*type = TOML_DATE_LOCAL;
	}
done:
	if (toml_is_number_char((unsigned char)*s) || *s == ':') {
		*why = "invalid date or time";
		r = CR_ERR_INVALID;
		goto out;
	}
	r = 0;
out:
	*p = s;
	return r;
}
