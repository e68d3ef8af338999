#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"
#include "util/timeparse.h"
#include "util/banned.h"

/* Go's zero time.Time, which gitlab-runner writes for "never". */
#define GO_ZERO_TIME (-62135596800LL)

/* Reads "+hh:mm", "+hhmm" or "+hh" at p into seconds east of UTC. */
static int parse_offset(const char *p, long *secs, const char **end)
{
	int sign = *p == '-' ? -1 : 1, digits[4], n = 0;

	for (p++; n < 4 && *p; p++) {
		if (*p == ':' && n == 2)
			continue;
		if (!isdigit((unsigned char)*p))
			break;
		digits[n++] = *p - '0';
	}
	if (n != 2 && n != 4)
		return CR_ERR_INVALID;
	*secs = (digits[0] * 10 + digits[1]) * 3600L;
	if (n == 4)
		*secs += (digits[2] * 10 + digits[3]) * 60L;
	if (*secs > 24 * 3600L)
		return CR_ERR_INVALID;
	*secs *= sign;
	*end = p;
	return 0;
}

int time_parse_rfc3339(const char *text, time_t *out)
{
	int y, mo, d, h, mi, s, n = 0;
	long offset = 0;
	const char *p;
	struct tm tm = { 0 };
	time_t t;

	if (!text || !*text)
		return CR_ERR_INVALID;
	if (sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h,
		   &mi, &s, &n) != 6 || n != 19)
		return CR_ERR_INVALID;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || s < 0 || s > 60)
		return CR_ERR_INVALID;
	p = text + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (!strcmp(p, "UTC"))
		p += 3;
	else if ((*p == '+' || *p == '-') && parse_offset(p, &offset, &p))
		return CR_ERR_INVALID;
	if (*p)
		return CR_ERR_INVALID;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	errno = 0;
	t = timegm(&tm);
	if (t == (time_t)-1 && errno)
		return CR_ERR_INVALID;
	t -= offset;
	*out = (long long)t == GO_ZERO_TIME ? 0 : t;
	return 0;
}
