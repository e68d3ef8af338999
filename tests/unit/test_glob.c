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

#include "archive/glob.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

/* ---- glob_match: a table of patterns and paths ---- */

static const struct {
	const char *pattern, *path;
	bool match;
} match_table[] = {
	{ "a.txt", "a.txt", true },
	{ "a.txt", "b.txt", false },
	{ "*.txt", "a.txt", true },
	{ "*.txt", "dir/a.txt", false },	/* * stops at '/' */
	{ "*", "dir", true },
	{ "dir/*", "dir/a", true },
	{ "dir/*", "dir/a/b", false },
	{ "**/*.txt", "a.txt", true },		/* ** matches zero dirs */
	{ "**/*.txt", "x/y/z/a.txt", true },
	{ "**/*.txt", "x/y/a.log", false },
	{ "dir/**", "dir", true },
	{ "dir/**", "dir/a/b/c", true },
	{ "dir/**", "dirx/a", false },
	{ "a/**/b", "a/b", true },
	{ "a/**/b", "a/x/y/b", true },
	{ "a/**/b", "a/x/y/c", false },
	{ "?.c", "a.c", true },
	{ "?.c", "ab.c", false },
	{ "?", "/", false },
	{ "[abc].c", "b.c", true },
	{ "[abc].c", "d.c", false },
	{ "[a-c]x", "bx", true },
	{ "[!a-c]x", "bx", false },
	{ "[^a-c]x", "dx", true },
	{ "\\*.c", "*.c", true },
	{ "\\*.c", "a.c", false },
	{ "[unclosed", "[unclosed", true },
	{ "build/*.o", "build/x.o", true },
	{ "b*d/*.o", "build/x.o", true },
	{ "*/*/*", "a/b/c", true },
	{ "*/*/*", "a/b", false },
};

static void test_match_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(match_table) / sizeof(match_table[0]); i++) {
		bool got = glob_match(match_table[i].pattern,
				      match_table[i].path);

		if (got != match_table[i].match)
			fail_msg("glob_match('%s', '%s'): expected %d, got %d",
				 match_table[i].pattern, match_table[i].path,
				 match_table[i].match, got);
	}
}

static void test_clean_path(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(glob_clean_path("/p", "./a//b/../c", &b), 0);
	assert_string_equal(b.data, "a/c");
	assert_int_equal(glob_clean_path("/p", "/p/x/y", &b), 0);
	assert_string_equal(b.data, "x/y");
	assert_int_equal(glob_clean_path("/p", ".", &b), 0);
	assert_string_equal(b.data, "");
	assert_int_equal(glob_clean_path("/p", "../x", &b), CR_ERR_INVALID);
	assert_int_equal(glob_clean_path("/p", "a/../../x", &b),
			 CR_ERR_INVALID);
	assert_int_equal(glob_clean_path("/p", "/etc/passwd", &b),
			 CR_ERR_INVALID);
	assert_int_equal(glob_clean_path("/p", "/pq/x", &b), CR_ERR_INVALID);
	buf_release(&b);
}

/* ---- glob_collect: patterns against a tree on disk ---- */

static char tree[] = "/tmp/crunner-glob-XXXXXX";

static void touch(const char *rel)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(rel, f);
	fclose(f);
}

static void mkd(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup_tree(void **state)
{
	char path[512];

	(void)state;
	if (!mkdtemp(tree))
		return -1;
	mkd("src");
	mkd("src/sub");
	mkd("build");
	mkd("build/obj");
	touch("a.txt");
	touch("b.log");
	touch("src/x.c");
	touch("src/sub/y.c");
	touch("src/sub/y.txt");
	touch("build/out.bin");
	touch("build/obj/o.o");
	snprintf(path, sizeof(path), "%s/link", tree);
	if (symlink("/etc", path) != 0)
		return -1;
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	return system(cmd) == 0 ? 0 : -1;
}

static void count_warning(void *ctx, const char *line)
{
	(void)line;
	(*(int *)ctx)++;
}

/* Runs one collection; returns the matches joined with ' '. */
static char *collect(const char *const *paths, const char *const *exclude,
		     int *warnings)
{
	struct strvec p = STRVEC_INIT, x = STRVEC_INIT, out = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	struct buf joined = BUF_INIT, err = BUF_INIT;
	size_t i;

	for (; paths && *paths; paths++)
		strvec_push(&p, *paths);
	for (; exclude && *exclude; exclude++)
		strvec_push(&x, *exclude);
	spec.paths = &p;
	spec.exclude = &x;
	spec.warn = count_warning;
	spec.warn_ctx = warnings;
	*warnings = 0;
	assert_int_equal(glob_collect(tree, &spec, &out, &err), 0);
	for (i = 0; i < out.nr; i++) {
		if (i)
			buf_addch(&joined, ' ');
		buf_addstr(&joined, out.v[i]);
	}
	strvec_clear(&p);
	strvec_clear(&x);
	strvec_clear(&out);
	buf_release(&err);
	return buf_detach(&joined, NULL);
}

static const struct {
	const char *paths[4];
	const char *exclude[3];
	const char *expect;
	int warnings;
} tree_table[] = {
	{ { "a.txt" }, { NULL }, "a.txt", 0 },
	{ { "*.txt" }, { NULL }, "a.txt", 0 },
	{ { "**/*.txt" }, { NULL }, "a.txt src/sub/y.txt", 0 },
	{ { "src" }, { NULL }, "src src/sub src/sub/y.c src/sub/y.txt src/x.c", 0 },
	{ { "src/" }, { "src/sub" }, "src src/x.c", 0 },
	{ { "src/**/*.c" }, { NULL }, "src/sub/y.c src/x.c", 0 },
	{ { "build" }, { "**/*.o" }, "build build/obj build/out.bin", 0 },
	{ { "**/*.c", "src/x.c" }, { NULL }, "src/sub/y.c src/x.c", 0 },
	{ { "missing" }, { NULL }, "", 1 },
	{ { "../outside" }, { NULL }, "", 1 },
	{ { "/etc/passwd" }, { NULL }, "", 1 },
	{ { "link" }, { NULL }, "link", 0 },	/* a link, not followed */
	{ { "[ab].*" }, { NULL }, "a.txt b.log", 0 },
	{ { "." }, { "build", "src", "link" }, "a.txt b.log", 0 },
	{ { "./src/../a.txt" }, { NULL }, "a.txt", 0 },
};

static void test_collect_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tree_table) / sizeof(tree_table[0]); i++) {
		int warnings;
		char *got = collect(tree_table[i].paths, tree_table[i].exclude,
				    &warnings);

		if (strcmp(got, tree_table[i].expect))
			fail_msg("case %zu ('%s'): expected '%s', got '%s'", i,
				 tree_table[i].paths[0], tree_table[i].expect,
				 got);
		if (warnings != tree_table[i].warnings)
			fail_msg("case %zu: expected %d warnings, got %d", i,
				 tree_table[i].warnings, warnings);
		free(got);
	}
}

static void test_untracked(void **state)
{
	char cmd[700];
	struct strvec out = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	struct buf err = BUF_INIT;

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && git init -q . && printf 'b.log\\n' > .gitignore && "
		 "git add a.txt .gitignore && "
		 "git -c user.email=t@e -c user.name=t commit -q -m x", tree);
	assert_int_equal(system(cmd), 0);
	spec.untracked = true;
	assert_int_equal(glob_collect(tree, &spec, &out, &err), 0);
	/* a.txt is tracked, b.log ignored; the rest is untracked. */
	assert_int_equal(out.nr, 6);
	assert_string_equal(out.v[0], "build/obj/o.o");
	assert_string_equal(out.v[1], "build/out.bin");
	assert_string_equal(out.v[2], "link");
	assert_string_equal(out.v[5], "src/x.c");
	strvec_clear(&out);
	buf_release(&err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/.git' '%s/.gitignore'", tree,
		 tree);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_table),
		cmocka_unit_test(test_clean_path),
		cmocka_unit_test(test_collect_table),
		cmocka_unit_test(test_untracked),
	};

	return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
