/* Timestamps as GitLab and config.toml write them. */
#ifndef CR_TIMEPARSE_H
#define CR_TIMEPARSE_H

#include <time.h>

/*
 * Reads an RFC 3339 / ISO 8601 timestamp into Unix seconds:
 * "2026-05-01T10:00:00Z", with 'T', 't' or ' ' between date and time,
 * optional fractional seconds (dropped), then "Z", " UTC", "+hh:mm",
 * "+hhmm", "+hh", or nothing (UTC).  Go's zero time
 * (0001-01-01T00:00:00Z), which gitlab-runner writes for "never", gives 0.
 * Returns 0, or CR_ERR_INVALID (NULL and "" too) leaving *out untouched.
 */
int time_parse_rfc3339(const char *text, time_t *out);

#endif
