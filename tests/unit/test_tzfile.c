/*
 * Zone times without $TZ (util/tzfile.c): a TZif v2 file made here (its
 * transitions, the time before them, and its POSIX footer after them),
 * POSIX rules of both hemispheres, bad zones; and the autoscaler policy
 * that uses them never sets $TZ (another thread may read the environment
 * meanwhile).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "autoscale/ts_model.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/tzfile.h"

/*
 * setenv/unsetenv of TZ would race the taskscaler's worker thread: count
 * them (this definition takes the place of the C library's here).
 */
static int tz_writes;

int setenv(const char *name, const char *value, int overwrite)
{
	(void)value;
	(void)overwrite;
	if (!strcmp(name, "TZ"))
		tz_writes++;
	return 0;
}

int unsetenv(const char *name)
{
	if (!strcmp(name, "TZ"))
		tz_writes++;
	return 0;
}

static char dir[64];
static char tzdir_env[128];

static void put32(unsigned char **p, uint32_t v)
{
	(*p)[0] = (unsigned char)(v >> 24);
	(*p)[1] = (unsigned char)(v >> 16);
	(*p)[2] = (unsigned char)(v >> 8);
	(*p)[3] = (unsigned char)v;
	*p += 4;
}

static void put64(unsigned char **p, int64_t v)
{
	put32(p, (uint32_t)((uint64_t)v >> 32));
	put32(p, (uint32_t)v);
}

static void header(unsigned char **p, uint32_t times, uint32_t types,
		   uint32_t chars)
{
	memcpy(*p, "TZif2", 5);
	memset(*p + 5, 0, 15);
	*p += 20;
	put32(p, 0);		/* isut */
	put32(p, 0);		/* isstd */
	put32(p, 0);		/* leap */
	put32(p, times);
	put32(p, types);
	put32(p, chars);
}

static void ttinfo(unsigned char **p, int32_t utoff, int dst, int idx)
{
	put32(p, (uint32_t)utoff);
	*(*p)++ = (unsigned char)dst;
	*(*p)++ = (unsigned char)idx;
}

/*
 * Test/Zone: +1h (TST) until 1000000000, +2h (TDT) until 1010000000,
 * +1h after; then the footer's rule: Central European summer time.
 */
static void write_zone(void)
{
	unsigned char data[512], *p = data;
	static const char footer[] = "\nTST-1TDT,M3.5.0,M10.5.0/3\n";
	char path[128];
	FILE *f;

	/* Version 1 block: one type, no transitions. */
	header(&p, 0, 1, 4);
	ttinfo(&p, 3600, 0, 0);
	memcpy(p, "TST", 4);
	p += 4;
	/* Version 2 block. */
	header(&p, 2, 2, 8);
	put64(&p, 1000000000);
	put64(&p, 1010000000);
	*p++ = 1;
	*p++ = 0;
	ttinfo(&p, 3600, 0, 0);
	ttinfo(&p, 7200, 1, 4);
	memcpy(p, "TST\0TDT", 8);
	p += 8;
	memcpy(p, footer, sizeof(footer) - 1);
	p += sizeof(footer) - 1;
	snprintf(path, sizeof(path), "%s/Test", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/Test/Zone", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, (size_t)(p - data), f),
			 (size_t)(p - data));
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/Test/Broken", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("TZif2 not really", f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_tzfile.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_zone();
	/* putenv: our setenv above only counts. */
	snprintf(tzdir_env, sizeof(tzdir_env), "TZDIR=%s", dir);
	return putenv(tzdir_env);
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/Test/Zone", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test/Broken", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Test", dir);
	rmdir(path);
	return rmdir(dir);
}

/* The zone's offset at t, from the broken-down local time. */
static long offset_at(const char *zone, time_t t)
{
	struct buf err = BUF_INIT;
	struct tm tm;
	time_t back;

	if (tzfile_local_time(zone, t, &tm, &err))
		fail_msg("%s: %s", zone, err.data);
	buf_release(&err);
	back = timegm(&tm);
	return (long)(back - t);
}

static void test_transitions(void **state)
{
	(void)state;
	/* Before the first transition: type 0. */
	assert_int_equal(offset_at("Test/Zone", 999999999), 3600);
	assert_int_equal(offset_at("Test/Zone", 1000000000), 7200);
	assert_int_equal(offset_at("Test/Zone", 1009999999), 7200);
	assert_int_equal(offset_at("Test/Zone", 1010000000), 3600);
}

/* Past the last transition, the footer: EU rules in 2026. */
static void test_footer(void **state)
{
	(void)state;
	/* Summer time starts 2026-03-29T01:00:00Z, ends 2026-10-25T01:00:00Z. */
	assert_int_equal(offset_at("Test/Zone", 1774745999), 3600);
	assert_int_equal(offset_at("Test/Zone", 1774746000), 7200);
	assert_int_equal(offset_at("Test/Zone", 1782907200), 7200);
	assert_int_equal(offset_at("Test/Zone", 1792889999), 7200);
	assert_int_equal(offset_at("Test/Zone", 1792890000), 3600);
	assert_int_equal(offset_at("Test/Zone", 1796601600), 3600);
}

static void test_posix_rules(void **state)
{
	long off;

	(void)state;
	/* Southern hemisphere: summer spans the new year. */
	assert_int_equal(tzfile_posix_offset("AEST-10AEDT,M10.1.0,M4.1.0/3",
					     1768435200, &off), 0);
	assert_int_equal(off, 11 * 3600);
	assert_int_equal(tzfile_posix_offset("AEST-10AEDT,M10.1.0,M4.1.0/3",
					     1782907200, &off), 0);
	assert_int_equal(off, 10 * 3600);
	/* A quoted name and minutes; no daylight time. */
	assert_int_equal(tzfile_posix_offset("<+0530>-5:30", 1782907200, &off),
			 0);
	assert_int_equal(off, 5 * 3600 + 1800);
	/* West of UTC, Julian days (J60 = March 1). */
	assert_int_equal(tzfile_posix_offset("EST5EDT,J60,J300", 1782907200,
					     &off), 0);
	assert_int_equal(off, -4 * 3600);
	assert_int_equal(tzfile_posix_offset("EST5EDT,J60,J300", 1768435200,
					     &off), 0);
	assert_int_equal(off, -5 * 3600);
	assert_int_equal(tzfile_posix_offset("nonsense", 0, &off), -1);
	assert_int_equal(tzfile_posix_offset("CET-1CEST,M13.5.0,M10.5.0", 0,
					     &off), -1);
}

static void test_bad_zones(void **state)
{
	struct buf err = BUF_INIT;
	struct tm tm;

	(void)state;
	assert_int_equal(tzfile_local_time("Nowhere/Atlantis", 0, &tm, &err),
			 CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "Nowhere/Atlantis"));
	assert_int_equal(tzfile_local_time("../Test/Zone", 0, &tm, &err),
			 CR_ERR_CONFIG);
	assert_int_equal(tzfile_local_time("Test/Broken", 0, &tm, &err),
			 CR_ERR_INVALID);
	/* UTC needs no file. */
	assert_int_equal(tzfile_local_time("UTC", 86400 + 3600, &tm, &err), 0);
	assert_int_equal(tm.tm_hour, 1);
	assert_int_equal(tm.tm_mday, 2);
	buf_release(&err);
}

/*
 * A policy in a zone: matched in that zone's time, and $TZ is never set
 * (before, ts_model set it around localtime_r).
 */
static void test_policy_without_tz(void **state)
{
	struct config_autoscaler_policy v;
	struct ts_policy pol;
	struct buf err = BUF_INIT;
	char zone[] = "Test/Zone";

	(void)state;
	memset(&v, 0, sizeof(v));
	strvec_init(&v.periods);
	/* 2026-07-01T12:00:00Z is 14:00 in Test/Zone (summer). */
	strvec_push(&v.periods, "* 14 * * *");
	v.timezone = zone;
	v.idle_count = 4;
	v.preemptive_mode = CONFIG_UNSET;
	tz_writes = 0;
	assert_int_equal(ts_policy_active(&v, 1, 1782907200, &pol, &err), 0);
	assert_int_equal(pol.idle_count, 4);
	/* 2026-12-07T13:00:00Z is 14:00 there in winter. */
	assert_int_equal(ts_policy_active(&v, 1, 1796601600 + 13 * 3600, &pol,
					  &err), 0);
	assert_int_equal(pol.idle_count, 4);
	assert_int_equal(ts_policy_active(&v, 1, 1796601600 + 14 * 3600, &pol,
					  &err), 0);
	assert_int_equal(pol.idle_count, 0);
	assert_int_equal(tz_writes, 0);
	strvec_clear(&v.periods);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_footer),
		cmocka_unit_test(test_posix_rules),
		cmocka_unit_test(test_bad_zones),
		cmocka_unit_test(test_policy_without_tz),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
