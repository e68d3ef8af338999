/*
 * Host facts kept between jobs (src/executor/host_cache.c): the stale-dir
 * sweep runs for the first job and then once per HOST_CACHE_SWEEP_MS per
 * parent and prefix; a shell found on PATH is kept, dropped as soon as
 * its file goes or PATH changes, and looked up again after
 * HOST_CACHE_LOOKUP_MS so that one put earlier on PATH is found.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/host_cache.h"
#include "util/buf.h"
#include "util/fs.h"

static void test_sweep_due(void **state)
{
	struct host_cache *hc = host_cache_new();
	const uint64_t t = 1000000;

	(void)state;
	assert_true(host_cache_sweep_due(NULL, "/tmp", "crunner-stage-", t));
	assert_true(host_cache_sweep_due(NULL, "/tmp", "crunner-stage-", t));
	/* The first job sweeps; the next ones within the interval do not. */
	assert_true(host_cache_sweep_due(hc, "/tmp", "crunner-stage-", t));
	assert_false(host_cache_sweep_due(hc, "/tmp", "crunner-stage-", t + 1));
	assert_false(host_cache_sweep_due(hc, "/tmp", "crunner-stage-",
					  t + HOST_CACHE_SWEEP_MS - 1));
	/* Another parent or prefix has its own clock. */
	assert_true(host_cache_sweep_due(hc, "/var/tmp", "crunner-stage-", t + 2));
	assert_true(host_cache_sweep_due(hc, "/tmp", "crunner-ssh-", t + 2));
	/* Once the interval passed, the sweep is due again, then noted. */
	assert_true(host_cache_sweep_due(hc, "/tmp", "crunner-stage-",
					 t + HOST_CACHE_SWEEP_MS));
	assert_false(host_cache_sweep_due(hc, "/tmp", "crunner-stage-",
					  t + HOST_CACHE_SWEEP_MS + 1));
	host_cache_free(hc);
}

static void put_program(const char *path, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("#!/bin/sh\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void assert_found(struct host_cache *hc, const char *path_env,
			 uint64_t now, const char *want)
{
	struct buf out = BUF_INIT;

	assert_int_equal(host_cache_find_program(hc, "crsh", path_env, now,
						 &out), 0);
	assert_string_equal(out.data, want);
	buf_release(&out);
}

static void test_program_appears_and_goes(void **state)
{
	char base[] = "/tmp/test-host-cache-XXXXXX";
	struct host_cache *hc = host_cache_new();
	struct buf d1 = BUF_INIT, d2 = BUF_INIT, p1 = BUF_INIT, p2 = BUF_INIT,
		   path_env = BUF_INIT, out = BUF_INIT;
	const uint64_t t = 5000000;

	(void)state;
	assert_non_null(mkdtemp(base));
	buf_addf(&d1, "%s/one", base);
	buf_addf(&d2, "%s/two", base);
	assert_int_equal(mkdir(d1.data, 0755), 0);
	assert_int_equal(mkdir(d2.data, 0755), 0);
	buf_addf(&p1, "%s/crsh", d1.data);
	buf_addf(&p2, "%s/crsh", d2.data);
	buf_addf(&path_env, "%s:%s", d1.data, d2.data);

	put_program(p2.data, 0755);
	assert_found(hc, path_env.data, t, p2.data);
	assert_found(NULL, path_env.data, t, p2.data);

	/* One put earlier on PATH: the kept one serves until the interval
	 * ends (a lookup without the cache finds the new one at once). */
	put_program(p1.data, 0755);
	assert_found(hc, path_env.data, t + 1000, p2.data);
	assert_found(NULL, path_env.data, t + 1000, p1.data);
	assert_found(hc, path_env.data, t + HOST_CACHE_LOOKUP_MS, p1.data);

	/* The kept file went: looked up again at once. */
	assert_int_equal(unlink(p1.data), 0);
	assert_found(hc, path_env.data, t + HOST_CACHE_LOOKUP_MS + 1, p2.data);

	/* No longer executable counts as gone too. */
	put_program(p1.data, 0755);
	assert_found(hc, path_env.data, t + 3 * HOST_CACHE_LOOKUP_MS, p1.data);
	assert_int_equal(chmod(p1.data, 0644), 0);
	assert_found(hc, path_env.data, t + 3 * HOST_CACHE_LOOKUP_MS + 1,
		     p2.data);
	assert_int_equal(unlink(p1.data), 0);

	/* Another PATH is another lookup, at once. */
	assert_found(hc, d2.data, t + 3 * HOST_CACHE_LOOKUP_MS + 2, p2.data);
	assert_int_equal(host_cache_find_program(hc, "crsh", d1.data,
						 t + 3 * HOST_CACHE_LOOKUP_MS + 3,
						 &out), ENOENT);
	assert_int_equal(out.len, 0);

	/* Nothing left anywhere. */
	assert_int_equal(unlink(p2.data), 0);
	assert_int_equal(host_cache_find_program(hc, "crsh", path_env.data,
						 t + 3 * HOST_CACHE_LOOKUP_MS + 4,
						 &out), ENOENT);

	host_cache_free(hc);
	fs_remove_tree(base);
	buf_release(&d1);
	buf_release(&d2);
	buf_release(&p1);
	buf_release(&p2);
	buf_release(&path_env);
	buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_due),
		cmocka_unit_test(test_program_appears_and_goes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
