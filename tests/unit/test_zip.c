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

#include <archive.h>
#include <archive_entry.h>

#include "archive/glob.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

static char top[] = "/tmp/crunner-zip-XXXXXX";
static char src[600], dst[600], zpath[600];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
	static char text[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static int setup(void **state)
{
	char cmd[2000];

	(void)state;
	if (!mkdtemp(top))
		return -1;
	snprintf(src, sizeof(src), "%s/src", top);
	snprintf(dst, sizeof(dst), "%s/dst", top);
	snprintf(zpath, sizeof(zpath), "%s/a.zip", top);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/dir/sub' '%s'", src, dst);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[2000];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void collect_warning(void *ctx, const char *line)
{
	struct strvec *w = ctx;

	strvec_push(w, line);
}

static void test_round_trip_keeps_content_modes_links(void **state)
{
	struct strvec files = STRVEC_INIT, names = STRVEC_INIT,
		warnings = STRVEC_INIT;
	struct buf err = BUF_INIT, path = BUF_INIT;
	struct glob_spec spec = { 0 };
	struct strvec pats = STRVEC_INIT;
	char linkbuf[64];
	struct stat st;
	size_t refused = 99;
	ssize_t n;

	(void)state;
	buf_addf(&path, "%s/dir/run.sh", src);
	write_file(path.data, "#!/bin/sh\necho hi\n", 0750);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/sub/data.txt", src);
	write_file(path.data, "data", 0640);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/rel-link", src);
	assert_int_equal(symlink("sub/data.txt", path.data), 0);

	strvec_push(&pats, "dir");
	spec.paths = &pats;
	assert_int_equal(glob_collect(src, &spec, &files, &err), 0);
	assert_int_equal(files.nr, 5);
	assert_int_equal(zip_create(src, &files, zpath, NULL, NULL, &err), 0);

	assert_int_equal(zip_list(zpath, &names, &err), 0);
	assert_int_equal(names.nr, 5);
	assert_string_equal(names.v[0], "dir");

	assert_int_equal(zip_extract(zpath, dst, collect_warning, &warnings,
				     &refused, &err), 0);
	assert_int_equal(refused, 0);
	assert_int_equal(warnings.nr, 0);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/run.sh", dst);
	assert_string_equal(read_text(path.data), "#!/bin/sh\necho hi\n");
	assert_int_equal(stat(path.data, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/sub/data.txt", dst);
	assert_string_equal(read_text(path.data), "data");
	assert_int_equal(stat(path.data, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/rel-link", dst);
	n = readlink(path.data, linkbuf, sizeof(linkbuf) - 1);
	assert_true(n > 0);
	linkbuf[n] = '\0';
	assert_string_equal(linkbuf, "sub/data.txt");

	strvec_clear(&files);
	strvec_clear(&names);
	strvec_clear(&warnings);
	strvec_clear(&pats);
	buf_release(&err);
	buf_release(&path);
}

/* Writes a zip with hand-made entries: name, or name -> link target. */
static void evil_zip(const char *const *entries)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();

	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, zpath), ARCHIVE_OK);
	for (; *entries; entries += 2) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, entries[0]);
		archive_entry_set_mtime(e, 1, 0);
		if (entries[1]) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, entries[1]);
			archive_entry_set_size(e, 0);
			assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_size(e, 4);
			assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
			assert_int_equal(archive_write_data(a, "evil", 4), 4);
		}
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
}

static void test_refuses_escaping_entries(void **state)
{
	const char *entries[] = {
		"../escaped.txt", NULL,
		"ok/../../escaped2.txt", NULL,
		"/tmp/crunner-zip-absolute.txt", NULL,
		"out-link", "../../../etc",
		"abs-link", "/etc",
		"in-link", "fine.txt",
		"out-link/through.txt", NULL,
		"fine.txt", NULL,
		NULL,
	};
	struct strvec warnings = STRVEC_INIT;
	struct buf err = BUF_INIT, path = BUF_INIT;
	char outside[700];
	size_t refused = 0;
	struct stat st;

	(void)state;
	evil_zip(entries);
	assert_int_equal(zip_extract(zpath, dst, collect_warning, &warnings,
				     &refused, &err), 0);
	/* out-link/through.txt lands in a plain directory out-link/. */
	assert_int_equal(refused, 5);
	assert_int_equal(warnings.nr, 5);
	assert_non_null(strstr(warnings.v[0], "../escaped.txt"));
	snprintf(outside, sizeof(outside), "%s/escaped.txt", top);
	assert_int_not_equal(lstat(outside, &st), 0);
	assert_int_not_equal(lstat("/tmp/crunner-zip-absolute.txt", &st), 0);
	buf_addf(&path, "%s/out-link", dst);
	assert_int_equal(lstat(path.data, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	buf_reset(&path);
	buf_addf(&path, "%s/fine.txt", dst);
	assert_string_equal(read_text(path.data), "evil");
	buf_reset(&path);
	buf_addf(&path, "%s/in-link", dst);
	assert_int_equal(lstat(path.data, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	strvec_clear(&warnings);
	buf_release(&err);
	buf_release(&path);
}

static void test_refuses_writing_through_existing_link(void **state)
{
	const char *entries[] = { "trap/x.txt", NULL, NULL };
	struct buf err = BUF_INIT, path = BUF_INIT;
	char outside[700];
	size_t refused = 0;
	struct stat st;

	(void)state;
	snprintf(outside, sizeof(outside), "%s/outside-dir", top);
	assert_int_equal(mkdir(outside, 0755), 0);
	buf_addf(&path, "%s/trap", dst);
	assert_int_equal(symlink(outside, path.data), 0);
	evil_zip(entries);
	assert_int_equal(zip_extract(zpath, dst, NULL, NULL, &refused, &err),
			 0);
	assert_int_equal(refused, 1);
	buf_reset(&path);
	buf_addf(&path, "%s/x.txt", outside);
	assert_int_not_equal(lstat(path.data, &st), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/trap", dst);
	unlink(path.data);
	buf_release(&err);
	buf_release(&path);
}

static void test_not_a_zip(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	write_file(zpath, "this is not a zip file at all", 0644);
	assert_int_equal(zip_extract(zpath, dst, NULL, NULL, NULL, &err),
			 CR_ERR_INVALID);
	assert_true(err.len > 0);
	buf_release(&err);
}

static void test_gzip_members(void **state)
{
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT, path = BUF_INIT, cmt = BUF_INIT;
	char cmd[1500], gz[700];
	unsigned char head[64];
	FILE *f;
	size_t n;

	(void)state;
	buf_addf(&path, "%s/dir/sub/data.txt", src);
	write_file(path.data, "data", 0640);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/run.sh", src);
	write_file(path.data, "run\n", 0750);
	strvec_push(&files, "dir");
	strvec_push(&files, "dir/run.sh");
	strvec_push(&files, "dir/sub/data.txt");
	snprintf(gz, sizeof(gz), "%s/r.gz", top);
	assert_int_equal(gzip_create(src, &files, gz, NULL, NULL, &err), 0);
	f = fopen(gz, "rb");
	assert_non_null(f);
	n = fread(head, 1, sizeof(head), f);
	fclose(f);
	assert_true(n > 30);
	assert_int_equal(head[0], 0x1f);
	assert_int_equal(head[1], 0x8b);
	assert_int_equal(head[3], 0x18);	/* FNAME | FCOMMENT */
	assert_string_equal((char *)head + 10, "run.sh");
	assert_string_equal((char *)head + 17, "dir/run.sh");
	snprintf(cmd, sizeof(cmd), "test \"$(gzip -dc '%s')\" = \"$(printf 'run\\ndata')\"",
		 gz);
	assert_int_equal(system(cmd), 0);

	gzip_comment("a%b/\xc3\xa9.txt", &cmt);
	assert_string_equal(cmt.data, "e:a%25b/%C3%A9.txt");

	/* raw: exactly one file */
	assert_int_equal(raw_create(src, &files, gz, &err), CR_ERR_INVALID);
	strvec_clear(&files);
	strvec_push(&files, "dir/run.sh");
	buf_reset(&err);
	assert_int_equal(raw_create(src, &files, gz, &err), 0);
	assert_string_equal(read_text(gz), "run\n");
	strvec_clear(&files);
	buf_release(&err);
	buf_release(&path);
	buf_release(&cmt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_content_modes_links),
		cmocka_unit_test(test_refuses_escaping_entries),
		cmocka_unit_test(test_refuses_writing_through_existing_link),
		cmocka_unit_test(test_not_a_zip),
		cmocka_unit_test(test_gzip_members),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
