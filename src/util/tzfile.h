/*
 * Local time in a named zone ("Europe/Berlin") without touching $TZ.
 *
 * The C library converts to another zone only through $TZ, and setting
 * $TZ races every other thread that reads the environment (getenv,
 * localtime).  This reads the zone's TZif file (RFC 8536, versions 1 to
 * 4) from $TZDIR or /usr/share/zoneinfo itself: the transition in force
 * at the time, or, past the last transition, the file's POSIX TZ footer
 * ("CET-1CEST,M3.5.0,M10.5.0/3").
 */
#ifndef CR_UTIL_TZFILE_H
#define CR_UTIL_TZFILE_H

#include <time.h>

struct buf;

/*
 * The broken-down time of t in zone.  "UTC" (and "") is UTC; "Local" is
 * the process's local time (localtime_r).  Returns 0, CR_ERR_CONFIG for
 * an unknown zone or CR_ERR_INVALID for a damaged file, with one sentence
 * in err.  Thread-safe: reads $TZDIR, writes nothing.
 */
int tzfile_local_time(const char *zone, time_t t, struct tm *out,
		      struct buf *err);

/*
 * The UTC offset in seconds (east positive) of the POSIX TZ string rule
 * at t, as a TZif footer gives it.  Returns 0, or -1 when the rule cannot
 * be read.  For tests and tzfile.c.
 */
int tzfile_posix_offset(const char *rule, time_t t, long *offset);

#endif
