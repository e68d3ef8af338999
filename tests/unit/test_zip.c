#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive/artifacts.h"
#include "archive/glob.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "job/crc32.h"
#include "file_text.h"
#include "le_bytes.h"

static char top[] = "/tmp/crunner-zip-XXXXXX";
static char src[600], dst[600], zpath[600];

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
	write_file_mode(path.data, "#!/bin/sh\necho hi\n", 0750);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/sub/data.txt", src);
	write_file_mode(path.data, "data", 0640);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/rel-link", src);
	assert_int_equal(symlink("sub/data.txt", path.data), 0);

	strvec_push(&pats, "dir");
	spec.paths = &pats;
	assert_int_equal(glob_collect(src, &spec, &files, &err), 0);
	assert_int_equal(files.nr, 5);
	assert_int_equal(zip_create(src, &files, zpath, ZIP_LEVEL_LIBARCHIVE,
				    NULL, NULL, &err), 0);

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
	write_file_mode(zpath, "this is not a zip file at all", 0644);
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
	write_file_mode(path.data, "data", 0640);
	buf_reset(&path);
	buf_addf(&path, "%s/dir/run.sh", src);
	write_file_mode(path.data, "run\n", 0750);
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

/* ---- issue 16: links resolved on disk, sizes and CRC, the cap ---- */

/* A new, empty target directory top/<name>/root; its path in out. */
static void fresh_root(const char *name, struct buf *out)
{
	buf_reset(out);
	buf_addf(out, "%s/%s", top, name);
	assert_int_equal(mkdir(out->data, 0755), 0);
	buf_addstr(out, "/root");
	assert_int_equal(mkdir(out->data, 0755), 0);
}

static bool exists(const char *dir, const char *rel)
{
	struct buf path = BUF_INIT;
	struct stat st;
	bool there;

	buf_addf(&path, "%s/%s", dir, rel);
	there = lstat(path.data, &st) == 0;
	buf_release(&path);
	return there;
}

/* Whether anything in dir (not below) has a name starting with prefix. */
static bool has_name_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			found = true;
	closedir(d);
	return found;
}

static void test_link_through_link_refused_in_either_order(void **state)
{
	/* The probe's pair, in both orders. */
	const char *first[] = {
		"a/b/s", "../..",
		"esc", "a/b/s/../../x",
		NULL,
	};
	const char *second[] = {
		"esc", "a/b/s/../../x",
		"a/b/s", "../..",
		NULL,
	};
	const char *const *orders[] = { first, second };
	struct strvec warnings = STRVEC_INIT;
	struct buf err = BUF_INIT, root = BUF_INIT, path = BUF_INIT;
	size_t i, refused;
	struct stat st;

	(void)state;
	for (i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "order-%zu", i);
		fresh_root(name, &root);
		evil_zip(orders[i]);
		strvec_clear(&warnings);
		refused = 0;
		assert_int_equal(zip_extract(zpath, root.data, collect_warning,
					     &warnings, &refused, &err), 0);
		if (refused != 1 || warnings.nr != 1)
			fail_msg("order %zu: expected 1 refusal, got %zu", i,
				 refused);
		assert_non_null(strstr(warnings.v[0], "esc: link whose target climbs"));
		assert_false(exists(root.data, "esc"));
		/* The in-tree link itself is fine: it points at the root. */
		buf_reset(&path);
		buf_addf(&path, "%s/a/b/s", root.data);
		assert_int_equal(lstat(path.data, &st), 0);
		assert_true(S_ISLNK(st.st_mode));
	}
	strvec_clear(&warnings);
	buf_release(&err);
	buf_release(&root);
	buf_release(&path);
}

static void test_link_across_link_on_disk(void **state)
{
	const char *entries[] = {
		"l", "up/x",
		"deep/k", "../up/y",
		"n", "inside/file",
		"chain", "hop",
		NULL,
	};
	struct strvec warnings = STRVEC_INIT;
	struct buf err = BUF_INIT, root = BUF_INIT, path = BUF_INIT;
	size_t refused = 0;

	(void)state;
	fresh_root("on-disk", &root);
	/* As a checkout could hold them: one link out, two in. */
	buf_addf(&path, "%s/up", root.data);
	assert_int_equal(symlink("../..", path.data), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/sub", root.data);
	assert_int_equal(mkdir(path.data, 0755), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/inside", root.data);
	assert_int_equal(symlink("sub", path.data), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/hop", root.data);
	assert_int_equal(symlink("up", path.data), 0);

	evil_zip(entries);
	assert_int_equal(zip_extract(zpath, root.data, collect_warning,
				     &warnings, &refused, &err), 0);
	if (refused != 3)
		fail_msg("expected 3 refusals (l, deep/k, chain), got %zu",
			 refused);
	assert_false(exists(root.data, "l"));
	assert_false(exists(root.data, "deep/k"));
	assert_false(exists(root.data, "chain"));
	assert_true(exists(root.data, "n"));
	strvec_clear(&warnings);
	buf_release(&err);
	buf_release(&root);
	buf_release(&path);
}

static void test_file_replaces_link_never_writes_through(void **state)
{
	const char *entries[] = { "victim", NULL, "d/v2", NULL, NULL };
	struct buf err = BUF_INIT, root = BUF_INIT, path = BUF_INIT,
		outside = BUF_INIT;
	size_t refused = 0;
	struct stat st;

	(void)state;
	fresh_root("replace", &root);
	buf_addf(&outside, "%s/replace/outside.txt", top);
	write_file_mode(outside.data, "keep", 0644);
	buf_addf(&path, "%s/victim", root.data);
	assert_int_equal(symlink(outside.data, path.data), 0);
	buf_reset(&path);
	buf_addf(&path, "%s/d", root.data);
	assert_int_equal(mkdir(path.data, 0755), 0);
	buf_addstr(&path, "/v2");
	assert_int_equal(symlink("../../outside.txt", path.data), 0);

	evil_zip(entries);
	assert_int_equal(zip_extract(zpath, root.data, NULL, NULL, &refused,
				     &err), 0);
	assert_int_equal(refused, 0);
	assert_string_equal(read_text(outside.data), "keep");
	buf_reset(&path);
	buf_addf(&path, "%s/victim", root.data);
	assert_int_equal(lstat(path.data, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(read_text(path.data), "evil");
	buf_reset(&path);
	buf_addf(&path, "%s/d/v2", root.data);
	assert_int_equal(lstat(path.data, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	buf_release(&err);
	buf_release(&root);
	buf_release(&path);
	buf_release(&outside);
}

/* ---- hand-made stored zips, for headers that lie ---- */

struct raw_entry {
	const char *name, *data;
	unsigned mode;		/* st_mode, as Unix zips keep it */
	bool bad_crc;
	uint32_t declared;	/* uncompressed size; 0: the data's */
};

static void raw_zip(const char *path, const struct raw_entry *e, size_t n)
{
	struct buf z = BUF_INIT, cd = BUF_INIT;
	uint32_t offsets[16];
	size_t i;
	FILE *f;

	assert_true(n <= 16);
	for (i = 0; i < n; i++) {
		size_t len = strlen(e[i].data);
		uint32_t crc = crc32_update(CRC32_INIT, e[i].data, len);
		uint32_t usize = e[i].declared ? e[i].declared : (uint32_t)len;
		struct buf *parts[2] = { &z, &cd };
		int k;

		if (e[i].bad_crc)
			crc ^= 0x5a5a5a5a;
		offsets[i] = (uint32_t)z.len;
		for (k = 0; k < 2; k++) {
			struct buf *b = parts[k];

			put32(b, k ? 0x02014b50 : 0x04034b50);
			if (k)
				put16(b, 0x031e);	/* made on Unix */
			put16(b, 20);
			put16(b, 0);		/* flags */
			put16(b, 0);		/* stored */
			put16(b, 0);		/* time */
			put16(b, 0x21);		/* date: 1980-01-01 */
			put32(b, crc);
			put32(b, (uint32_t)len);
			put32(b, usize);
			put16(b, (unsigned)strlen(e[i].name));
			put16(b, 0);		/* extra */
			if (k) {
				put16(b, 0);	/* comment */
				put16(b, 0);	/* disk */
				put16(b, 0);	/* internal attributes */
				put32(b, (uint32_t)e[i].mode << 16);
				put32(b, offsets[i]);
			}
			buf_addstr(b, e[i].name);
			if (!k)
				buf_add(b, e[i].data, len);
		}
	}
	{
		uint32_t cd_at = (uint32_t)z.len;

		buf_add(&z, cd.data, cd.len);
		put32(&z, 0x06054b50);
		put16(&z, 0);
		put16(&z, 0);
		put16(&z, (unsigned)n);
		put16(&z, (unsigned)n);
		put32(&z, (uint32_t)cd.len);
		put32(&z, cd_at);
		put16(&z, 0);
	}
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(z.data, 1, z.len, f), z.len);
	assert_int_equal(fclose(f), 0);
	buf_release(&z);
	buf_release(&cd);
}

static void test_refuses_crc_and_size_lies(void **state)
{
	const struct raw_entry entries[] = {
		{ "ok.txt", "fine", 0100644, false, 0 },
		{ "bad-crc.txt", "hello", 0100644, true, 0 },
		/* 4 GiB declared, 1 byte held: the probe's sparse file */
		{ "sparse.bin", "x", 0100644, false, 0xffffff00u },
		{ "short.txt", "hello", 0100644, false, 2 },
		{ "link", "ok.txt", 0120777, false, 0 },
	};
	struct strvec warnings = STRVEC_INIT;
	struct buf err = BUF_INIT, root = BUF_INIT, path = BUF_INIT;
	size_t refused = 0;
	struct stat st;

	(void)state;
	fresh_root("lies", &root);
	raw_zip(zpath, entries, sizeof(entries) / sizeof(entries[0]));
	assert_int_equal(zip_extract(zpath, root.data, collect_warning,
				     &warnings, &refused, &err), 0);
	if (refused != 3)
		fail_msg("expected 3 refusals, got %zu", refused);
	assert_non_null(strstr(warnings.v[0], "bad-crc.txt: ZIP bad CRC"));
	assert_non_null(strstr(warnings.v[1], "sparse.bin: ZIP uncompressed data is wrong size"));
	assert_non_null(strstr(warnings.v[1], "4294967040), refusing"));
	assert_non_null(strstr(warnings.v[2], "short.txt: more data than its declared size"));
	assert_false(exists(root.data, "bad-crc.txt"));
	assert_false(exists(root.data, "sparse.bin"));
	assert_false(exists(root.data, "short.txt"));
	assert_false(has_name_prefix(root.data, ".crunner-extract-"));
	buf_addf(&path, "%s/ok.txt", root.data);
	assert_string_equal(read_text(path.data), "fine");
	buf_reset(&path);
	buf_addf(&path, "%s/link", root.data);
	assert_int_equal(lstat(path.data, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	strvec_clear(&warnings);
	buf_release(&err);
	buf_release(&root);
	buf_release(&path);
}

/* A zip of count files of size zero bytes each (deflated to little). */
static void zeros_zip(size_t count, size_t size)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	char *zeros = calloc(1, size);
	size_t i;

	assert_non_null(zeros);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, zpath), ARCHIVE_OK);
	for (i = 0; i < count; i++) {
		char name[32];

		snprintf(name, sizeof(name), "zeros-%zu.bin", i);
		archive_entry_clear(e);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		assert_int_equal(archive_write_data(a, zeros, size),
				 (la_ssize_t)size);
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	free(zeros);
}

static void test_extraction_cap(void **state)
{
	struct buf err = BUF_INIT, root = BUF_INIT, path = BUF_INIT;
	struct stat st;
	size_t refused = 0;
	char text[4096];
	FILE *out;
	size_t n;

	(void)state;
	fresh_root("cap", &root);
	zeros_zip(3, (size_t)600 << 10);
	assert_true(stat(zpath, &st) == 0 && st.st_size < 64 << 10);
	assert_int_equal(zip_extract_limited(zpath, root.data, (uint64_t)1 << 20,
					     NULL, NULL, &refused, &err),
			 CR_ERR_TOO_LARGE);
	assert_non_null(strstr(err.data, "'zeros-1.bin'"));
	assert_non_null(strstr(err.data, "limit of 1048576 bytes"));
	assert_true(exists(root.data, "zeros-0.bin"));
	assert_false(exists(root.data, "zeros-1.bin"));
	assert_false(exists(root.data, "zeros-2.bin"));
	assert_false(has_name_prefix(root.data, ".crunner-extract-"));

	/* The helper takes the limit from the environment. */
	out = tmpfile();
	assert_non_null(out);
	setenv(ZIP_EXTRACT_MAX_ENV, "1m", 1);
	assert_int_equal(artifacts_extract(zpath, root.data, out),
			 ARTIFACTS_EXIT_FAILED);
	setenv(ZIP_EXTRACT_MAX_ENV, "two", 1);
	buf_reset(&path);
	buf_addf(&path, "%s/zeros-0.bin", root.data);
	unlink(path.data);
	assert_int_equal(artifacts_extract(zpath, root.data, out),
			 ARTIFACTS_EXIT_OK);
	unsetenv(ZIP_EXTRACT_MAX_ENV);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	fclose(out);
	assert_non_null(strstr(text, "limit of 1048576 bytes (CRUNNER_EXTRACT_MAX_SIZE)"));
	assert_non_null(strstr(text, "ignoring CRUNNER_EXTRACT_MAX_SIZE=two"));
	assert_true(exists(root.data, "zeros-2.bin"));
	buf_release(&err);
	buf_release(&root);
	buf_release(&path);
}

static void test_budget_is_bounded_by_free_space(void **state)
{
	struct buf err = BUF_INIT;
	struct statvfs fs;
	uint64_t budget = 0;
	bool disk = false;

	(void)state;
	assert_int_equal(statvfs(top, &fs), 0);
	assert_int_equal(zip_extract_budget(top, UINT64_MAX, &budget, &disk,
					    &err), 0);
	assert_true(disk);
	assert_true(budget < (uint64_t)fs.f_bavail * fs.f_frsize);
	assert_int_equal(zip_extract_budget(top, 1000, &budget, &disk, &err),
			 0);
	assert_false(disk);
	assert_int_equal(budget, 1000);
	buf_release(&err);
}

static void test_parse_limit(void **state)
{
	static const struct {
		const char *text;
		uint64_t value;	/* 0: refused */
	} cases[] = {
		{ "1048576", 1048576 }, { "512m", (uint64_t)512 << 20 },
		{ "10G", (uint64_t)10 << 30 }, { "10GiB", (uint64_t)10 << 30 },
		{ "2kB", 2048 }, { "1t", (uint64_t)1 << 40 },
		{ "", 0 }, { "0", 0 }, { "abc", 0 }, { "10X", 0 },
		{ "-1", 0 }, { "99999999999999999999", 0 },
		{ "20000000t", 0 }, { "5 m", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = 0;
		int r = zip_extract_parse_limit(cases[i].text, &got);

		if (cases[i].value ? (r != 0 || got != cases[i].value) :
		    r != CR_ERR_INVALID)
			fail_msg("'%s': expected %llu, got %d/%llu",
				 cases[i].text,
				 (unsigned long long)cases[i].value, r,
				 (unsigned long long)got);
	}
}

static void test_read_only_directory_set_last(void **state)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct buf err = BUF_INIT, root = BUF_INIT, path = BUF_INIT;
	size_t refused = 0;
	struct stat st;

	(void)state;
	fresh_root("ro", &root);
	assert_int_equal(archive_write_set_format_zip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, zpath), ARCHIVE_OK);
	archive_entry_set_pathname(e, "ro/");
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0555);
	archive_entry_set_mtime(e, 1000000000, 0);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	archive_entry_clear(e);
	archive_entry_set_pathname(e, "ro/f.txt");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, 2);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "ro", 2), 2);
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);

	assert_int_equal(zip_extract(zpath, root.data, NULL, NULL, &refused,
				     &err), 0);
	assert_int_equal(refused, 0);
	buf_addf(&path, "%s/ro/f.txt", root.data);
	assert_string_equal(read_text(path.data), "ro");
	assert_int_equal(stat(path.data, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	buf_reset(&path);
	buf_addf(&path, "%s/ro", root.data);
	assert_int_equal(stat(path.data, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	assert_int_equal(st.st_mtime, 1000000000);
	assert_int_equal(chmod(path.data, 0755), 0);	/* for teardown */
	buf_release(&err);
	buf_release(&root);
	buf_release(&path);
}

static void test_long_names_refused(void **state)
{
	char longname[300], nested[320];
	const char *entries[] = { longname, NULL, nested, NULL, "after.txt",
				  NULL, NULL };
	struct buf err = BUF_INIT, root = BUF_INIT;
	size_t refused = 0;

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(nested, sizeof(nested), "d/%s/f", longname);
	fresh_root("long", &root);
	evil_zip(entries);
	assert_int_equal(zip_extract(zpath, root.data, NULL, NULL, &refused,
				     &err), 0);
	assert_int_equal(refused, 2);
	assert_true(exists(root.data, "after.txt"));
	buf_release(&err);
	buf_release(&root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_keeps_content_modes_links),
		cmocka_unit_test(test_refuses_escaping_entries),
		cmocka_unit_test(test_refuses_writing_through_existing_link),
		cmocka_unit_test(test_not_a_zip),
		cmocka_unit_test(test_gzip_members),
		cmocka_unit_test(test_link_through_link_refused_in_either_order),
		cmocka_unit_test(test_link_across_link_on_disk),
		cmocka_unit_test(test_file_replaces_link_never_writes_through),
		cmocka_unit_test(test_refuses_crc_and_size_lies),
		cmocka_unit_test(test_extraction_cap),
		cmocka_unit_test(test_budget_is_bounded_by_free_space),
		cmocka_unit_test(test_parse_limit),
		cmocka_unit_test(test_read_only_directory_set_last),
		cmocka_unit_test(test_long_names_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
