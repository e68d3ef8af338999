/*
 * Shared by the unit tests that load config.toml texts: a temporary dir
 * for the test group (config_dir_setup/config_dir_teardown, for
 * cmocka_run_group_tests), config_text_write() to put a text in its
 * config.toml, and load() to load one (a load error fails the test).
 * Include after <cmocka.h>.
 */
#ifndef CRUNNER_TESTS_CONFIG_TEXT_H
#define CRUNNER_TESTS_CONFIG_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "util/buf.h"

static char config_dir[64];

static int config_dir_setup(void **state)
{
	(void)state;
	snprintf(config_dir, sizeof(config_dir), "/tmp/crunner-unit-cfg.XXXXXX");
	return mkdtemp(config_dir) ? 0 : -1;
}

static int config_dir_teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/config.toml", config_dir);
	unlink(path);
	return rmdir(config_dir);
}

/* Writes text to the group's config.toml; its path goes into path. */
static inline void config_text_write(const char *text, char *path,
				     size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/config.toml", config_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static inline void load(const char *text, struct config *cfg)
{
	struct buf err = BUF_INIT;
	char path[128];

	config_text_write(text, path, sizeof(path));
	if (config_load(path, cfg, &err))
		fail_msg("config_load: %s", err.data);
	buf_release(&err);
}

#endif
