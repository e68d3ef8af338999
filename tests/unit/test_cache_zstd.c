/*
 * The cache's zstd formats (archive/cache_format.h): format selection,
 * tarzstd and zipzstd round trips, archives made by other tools, and the
 * extraction checks for tar entries.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive/cache.h"
#include "archive/cache_format.h"
#include "archive/glob.h"
#include "archive/zip.h"
#include "archive/zipzstd.h"
#include "archive/zstd_dl.h"
#include "job/crc32.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "file_text.h"
#include "le_bytes.h"

static char top[] = "/tmp/crunner-zstd-XXXXXX";
static char src[600], dst[600], apath[600];

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void run(const char *fmt, ...)
{
	char cmd[2000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* A fresh src (dir/run.sh 0750, dir/sub/data.txt 0640, dir/rel-link) and dst. */
static int setup_each(void **state)
{
	char path[700];

	(void)state;
	run("rm -rf '%s/src' '%s/dst' && mkdir -p '%s/src/dir/sub' '%s/dst'",
	    top, top, top, top);
	snprintf(path, sizeof(path), "%s/dir/run.sh", src);
	write_file_mode(path, "#!/bin/sh\necho hi\n", 0750);
	snprintf(path, sizeof(path), "%s/dir/sub/data.txt", src);
	write_file_mode(path, "data", 0640);
	snprintf(path, sizeof(path), "%s/dir/rel-link", src);
	assert_int_equal(symlink("sub/data.txt", path), 0);
	unlink(apath);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(top))
		return -1;
	snprintf(src, sizeof(src), "%s/src", top);
	snprintf(dst, sizeof(dst), "%s/dst", top);
	snprintf(apath, sizeof(apath), "%s/cache.zip", top);
	return 0;
}

static int teardown(void **state)
{
	char cmd[700];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void collect_warning(void *ctx, const char *line)
{
	strvec_push(ctx, line);
}

static void collect(struct strvec *files)
{
	struct strvec pats = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	struct buf err = BUF_INIT;

	strvec_push(&pats, "dir");
	spec.paths = &pats;
	assert_int_equal(glob_collect(src, &spec, files, &err), 0);
	assert_int_equal(files->nr, 5);
	strvec_clear(&pats);
	buf_release(&err);
}

static void read_head(const char *path, unsigned char head[4])
{
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fread(head, 1, 4, f), 4);
	fclose(f);
}

/* What setup_each() made, found again under dst. */
static void expect_extracted_tree(void)
{
	char path[700], linkbuf[64];
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/dir/run.sh", dst);
	assert_string_equal(read_text(path), "#!/bin/sh\necho hi\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	snprintf(path, sizeof(path), "%s/dir/sub/data.txt", dst);
	assert_string_equal(read_text(path), "data");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(path, sizeof(path), "%s/dir/rel-link", dst);
	n = readlink(path, linkbuf, sizeof(linkbuf) - 1);
	assert_true(n > 0);
	linkbuf[n] = '\0';
	assert_string_equal(linkbuf, "sub/data.txt");
}

/*
 * The archive at apath lists files (in their order) and extracts into dst
 * with nothing refused or warned of, giving setup_each()'s tree back.
 */
static void expect_lists_and_extracts(const struct strvec *files)
{
	struct strvec names = STRVEC_INIT, warnings = STRVEC_INIT;
	struct buf err = BUF_INIT;
	size_t refused = 99, i;

	assert_int_equal(zip_list(apath, &names, &err), 0);
	assert_int_equal(names.nr, files->nr);
	for (i = 0; i < names.nr; i++)
		assert_string_equal(names.v[i], files->v[i]);
	assert_int_equal(zip_extract(apath, dst, collect_warning, &warnings,
				     &refused, &err), 0);
	assert_int_equal(refused, 0);
	assert_int_equal(warnings.nr, 0);
	expect_extracted_tree();
	strvec_clear(&names);
	strvec_clear(&warnings);
	buf_release(&err);
}

static void test_format_selection(void **state)
{
	bool known;

	(void)state;
	assert_int_equal(cache_format_from_name(NULL), CACHE_FORMAT_ZIP);
	assert_int_equal(cache_format_from_name(""), CACHE_FORMAT_ZIP);
	assert_int_equal(cache_format_from_name("zip"), CACHE_FORMAT_ZIP);
	assert_int_equal(cache_format_from_name("tarzstd"),
			 CACHE_FORMAT_TARZSTD);
	assert_int_equal(cache_format_from_name("TarZstd"),
			 CACHE_FORMAT_TARZSTD);
	assert_int_equal(cache_format_from_name("ZIPZSTD"),
			 CACHE_FORMAT_ZIPZSTD);
	/* Anything else falls back to zip, as gitlab-runner's switch does. */
	assert_int_equal(cache_format_from_name("gzip"), CACHE_FORMAT_ZIP);
	assert_int_equal(cache_format_from_name("tar.zst"), CACHE_FORMAT_ZIP);
	assert_string_equal(cache_format_name(CACHE_FORMAT_TARZSTD), "tarzstd");
	assert_string_equal(cache_format_name(CACHE_FORMAT_ZIPZSTD), "zipzstd");
	assert_string_equal(cache_format_name(CACHE_FORMAT_ZIP), "zip");

	assert_int_equal(cache_zstd_level_from_name("fastest", &known), 1);
	assert_true(known);
	assert_int_equal(cache_zstd_level_from_name("fast", &known), 1);
	assert_int_equal(cache_zstd_level_from_name("default", &known), 3);
	assert_int_equal(cache_zstd_level_from_name("", &known), 3);
	assert_int_equal(cache_zstd_level_from_name("slow", &known), 7);
	assert_int_equal(cache_zstd_level_from_name("slowest", &known), 11);
	assert_true(known);
	assert_int_equal(cache_zstd_level_from_name("turbo", &known), 3);
	assert_false(known);
}

static void test_tarzstd_round_trip(void **state)
{
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT;
	enum cache_format found;
	unsigned char head[4];

	(void)state;
	collect(&files);
	assert_int_equal(tarzstd_create(src, &files, apath, 3, NULL, NULL,
					&err), 0);
	read_head(apath, head);
	assert_true(cache_format_is_zstd_magic(head, 4));
	assert_int_equal(cache_format_sniff(apath, &found, &err), 0);
	assert_int_equal(found, CACHE_FORMAT_TARZSTD);
	/* GNU tar reads it as a tar in zstd, directories as "name/". */
	run("tar --zstd -tf '%s' >'%s/list'", apath, top);
	{
		char list[700];

		snprintf(list, sizeof(list), "%s/list", top);
		assert_non_null(strstr(read_text(list), "dir/sub/data.txt\n"));
		assert_non_null(strstr(read_text(list), "dir/sub/\n"));
	}
	expect_lists_and_extracts(&files);
	strvec_clear(&files);
	buf_release(&err);
}

/* The method of each local header of the zip at path, in order. */
static size_t zip_methods(const char *path, unsigned methods[], size_t max,
			  char names[][64])
{
	unsigned char b[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t len, at = 0, n = 0;

	assert_non_null(f);
	len = fread(b, 1, sizeof(b), f);
	fclose(f);
	while (n < max && at + 30 <= len && b[at] == 'P' && b[at + 1] == 'K' &&
	       b[at + 2] == 3 && b[at + 3] == 4) {
		unsigned name_len = b[at + 26] | b[at + 27] << 8;
		unsigned extra = b[at + 28] | b[at + 29] << 8;
		uint32_t csize = b[at + 18] | b[at + 19] << 8 |
			(uint32_t)b[at + 20] << 16 | (uint32_t)b[at + 21] << 24;

		methods[n] = b[at + 8] | b[at + 9] << 8;
		assert_true(name_len < 64);
		memcpy(names[n], b + at + 30, name_len);
		names[n][name_len] = '\0';
		n++;
		at += 30 + name_len + extra + csize;
	}
	return n;
}

static void test_zipzstd_round_trip(void **state)
{
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT;
	enum cache_format found;
	char entry_names[8][64];
	unsigned methods[8];
	size_t i, n;

	(void)state;
	collect(&files);
	assert_int_equal(zipzstd_create(src, &files, apath, 3, NULL, NULL,
					&err), 0);
	assert_int_equal(cache_format_sniff(apath, &found, &err), 0);
	assert_int_equal(found, CACHE_FORMAT_ZIP);
	/* Files are zstd (93); directories and links are stored. */
	n = zip_methods(apath, methods, 8, entry_names);
	assert_int_equal(n, 5);
	for (i = 0; i < n; i++) {
		size_t nl = strlen(entry_names[i]);

		if (!strcmp(entry_names[i], "dir/run.sh") ||
		    !strcmp(entry_names[i], "dir/sub/data.txt"))
			assert_int_equal(methods[i], 93);
		else
			assert_int_equal(methods[i], 0);
		if (!strcmp(entry_names[i], "dir/sub/") ||
		    !strcmp(entry_names[i], "dir/"))
			assert_int_equal(entry_names[i][nl - 1], '/');
	}
	/* Info-ZIP's zipinfo agrees on the structure (it cannot inflate 93). */
	if (system("command -v zipinfo >/dev/null") == 0)
		run("zipinfo '%s' >/dev/null", apath);
	expect_lists_and_extracts(&files);
	strvec_clear(&files);
	buf_release(&err);
}

/* A cache made by GNU tar (tar --zstd -cf), as a user's tooling might. */
static void test_extracts_gnu_tar_zstd(void **state)
{
	struct buf err = BUF_INIT;
	size_t refused = 99;

	(void)state;
	if (system("tar --zstd --version >/dev/null 2>&1") != 0)
		skip();
	run("cd '%s' && tar --zstd -cf '%s' dir", src, apath);
	assert_int_equal(zip_extract(apath, dst, NULL, NULL, &refused, &err),
			 0);
	assert_int_equal(refused, 0);
	expect_extracted_tree();
	buf_release(&err);
}

/*
 * A zip of one method-93 entry built by hand (APPNOTE layout, data
 * compressed here with libzstd): independent of zipzstd_create().
 */
static void hand_zip(const char *path, const char *name, const char *text,
		     bool bad_crc)
{
	const struct zstd_dl *z;
	struct buf err = BUF_INIT, zipb = BUF_INIT, cd = BUF_INIT;
	unsigned char comp[4096];
	ZSTD_CCtx *cctx;
	ZSTD_inBuffer in = { text, strlen(text), 0 };
	ZSTD_outBuffer out = { comp, sizeof(comp), 0 };
	uint32_t crc = crc32_update(0, text, strlen(text)) ^ (bad_crc ? 1 : 0);
	size_t name_len = strlen(name), cd_len;
	FILE *f;

	z = zstd_dl_load(&err);
	assert_non_null(z);
	cctx = z->create_cctx();
	assert_non_null(cctx);
	assert_int_equal(z->compress_stream2(cctx, &out, &in, ZSTD_e_end), 0);
	z->free_cctx(cctx);

	put32(&zipb, 0x04034b50);
	put16(&zipb, 63);
	put16(&zipb, 0);
	put16(&zipb, 93);
	put16(&zipb, 0);
	put16(&zipb, 0x21);
	put32(&zipb, crc);
	put32(&zipb, (uint32_t)out.pos);
	put32(&zipb, (uint32_t)strlen(text));
	put16(&zipb, (unsigned)name_len);
	put16(&zipb, 0);
	buf_add(&zipb, name, name_len);
	buf_add(&zipb, comp, out.pos);

	put32(&cd, 0x02014b50);
	put16(&cd, 0x0300 | 63);
	put16(&cd, 63);
	put16(&cd, 0);
	put16(&cd, 93);
	put16(&cd, 0);
	put16(&cd, 0x21);
	put32(&cd, crc);
	put32(&cd, (uint32_t)out.pos);
	put32(&cd, (uint32_t)strlen(text));
	put16(&cd, (unsigned)name_len);
	put16(&cd, 0);
	put16(&cd, 0);
	put16(&cd, 0);
	put16(&cd, 0);
	put32(&cd, (uint32_t)0100644 << 16);
	put32(&cd, 0);
	buf_add(&cd, name, name_len);
	cd_len = cd.len;

	put32(&cd, 0x06054b50);
	put16(&cd, 0);
	put16(&cd, 0);
	put16(&cd, 1);
	put16(&cd, 1);
	put32(&cd, (uint32_t)cd_len);
	put32(&cd, (uint32_t)zipb.len);
	put16(&cd, 0);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(zipb.data, 1, zipb.len, f), zipb.len);
	assert_int_equal(fwrite(cd.data, 1, cd.len, f), cd.len);
	fclose(f);
	buf_release(&err);
	buf_release(&zipb);
	buf_release(&cd);
}

static void test_extracts_hand_built_zstd_zip(void **state)
{
	struct strvec warnings = STRVEC_INIT;
	struct buf err = BUF_INIT;
	char path[700];
	size_t refused = 99;

	(void)state;
	hand_zip(apath, "hello.txt", "hello zstd, hello zstd, hello zstd\n",
		 false);
	assert_int_equal(zip_extract(apath, dst, NULL, NULL, &refused, &err),
			 0);
	assert_int_equal(refused, 0);
	snprintf(path, sizeof(path), "%s/hello.txt", dst);
	assert_string_equal(read_text(path),
			    "hello zstd, hello zstd, hello zstd\n");

	/* A zstd entry whose CRC lies is refused like a deflated one. */
	hand_zip(apath, "liar.txt", "not what the CRC says\n", true);
	assert_int_equal(zip_extract(apath, dst, collect_warning, &warnings,
				     &refused, &err), 0);
	assert_int_equal(refused, 1);
	assert_int_equal(warnings.nr, 1);
	snprintf(path, sizeof(path), "%s/liar.txt", dst);
	assert_null(read_text(path));
	strvec_clear(&warnings);
	buf_release(&err);
}

enum tar_kind { T_FILE, T_LINK, T_HARD, T_FIFO, T_DEV, T_SETUID };

struct tar_entry {
	enum tar_kind kind;
	const char *name, *target;
};

/* A tar in zstd with hand-made entries, written with libarchive. */
static void evil_tar(const struct tar_entry *entries, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	size_t i;

	assert_int_equal(archive_write_set_format_pax_restricted(a),
			 ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, apath), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, entries[i].name);
		archive_entry_set_mtime(e, 1, 0);
		archive_entry_set_size(e, 0);
		switch (entries[i].kind) {
		case T_LINK:
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_perm(e, 0777);
			archive_entry_set_symlink(e, entries[i].target);
			break;
		case T_HARD:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
			archive_entry_set_hardlink(e, entries[i].target);
			break;
		case T_FIFO:
			archive_entry_set_filetype(e, AE_IFIFO);
			archive_entry_set_perm(e, 0644);
			break;
		case T_DEV:
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_perm(e, 0666);
			archive_entry_set_rdev(e, 0x0103);	/* /dev/null */
			break;
		case T_FILE:
		case T_SETUID:
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, entries[i].kind == T_SETUID ?
					       04755 : 0644);
			archive_entry_set_size(e, 4);
			break;
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (entries[i].kind == T_FILE || entries[i].kind == T_SETUID)
			assert_int_equal(archive_write_data(a, "evil", 4), 4);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
}

static void test_tar_refuses_what_zip_refuses(void **state)
{
	static const struct tar_entry entries[] = {
		{ T_FILE, "../escaped.txt", NULL },
		{ T_FILE, "ok/../../escaped2.txt", NULL },
		{ T_FILE, "/tmp/crunner-zstd-absolute.txt", NULL },
		{ T_LINK, "out-link", "../../../etc" },
		{ T_LINK, "abs-link", "/etc" },
		{ T_LINK, "in-link", "fine.txt" },
		{ T_FILE, "out-link/through.txt", NULL },
		{ T_FILE, "fine.txt", NULL },
		{ T_HARD, "hard", "fine.txt" },
		{ T_HARD, "hard-out", "/etc/passwd" },
		{ T_FIFO, "fifo", NULL },
		{ T_DEV, "dev", NULL },
		{ T_SETUID, "suid", NULL },
		{ T_FILE, "./dot/x.txt", NULL },
	};
	struct strvec warnings = STRVEC_INIT;
	struct buf err = BUF_INIT;
	char path[700];
	size_t refused = 0;
	struct stat st;

	(void)state;
	evil_tar(entries, sizeof(entries) / sizeof(entries[0]));
	assert_int_equal(zip_extract(apath, dst, collect_warning, &warnings,
				     &refused, &err), 0);
	/* 3 escaping names, 2 escaping links, 2 hard links, fifo, device. */
	assert_int_equal(refused, 9);
	assert_int_equal(warnings.nr, 9);
	assert_non_null(strstr(warnings.v[0], "../escaped.txt"));
	snprintf(path, sizeof(path), "%s/escaped.txt", top);
	assert_int_not_equal(lstat(path, &st), 0);
	assert_int_not_equal(lstat("/tmp/crunner-zstd-absolute.txt", &st), 0);
	snprintf(path, sizeof(path), "%s/out-link", dst);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	snprintf(path, sizeof(path), "%s/hard", dst);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/fifo", dst);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/dev", dst);
	assert_int_not_equal(lstat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/fine.txt", dst);
	assert_string_equal(read_text(path), "evil");
	/* Mode bits above 0777 are dropped. */
	snprintf(path, sizeof(path), "%s/suid", dst);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/dot/x.txt", dst);
	assert_string_equal(read_text(path), "evil");
	strvec_clear(&warnings);
	buf_release(&err);
}

/* A file through a link the archive made earlier is never written. */
static void test_tar_never_writes_through_its_own_link(void **state)
{
	static const struct tar_entry entries[] = {
		{ T_LINK, "sub", "." },
		{ T_LINK, "sub/up", ".." },
		{ T_FILE, "sub/up/escaped.txt", NULL },
	};
	struct buf err = BUF_INIT;
	char path[700];
	size_t refused = 0;
	struct stat st;

	(void)state;
	evil_tar(entries, 3);
	assert_int_equal(zip_extract(apath, dst, NULL, NULL, &refused, &err),
			 0);
	assert_true(refused >= 1);
	snprintf(path, sizeof(path), "%s/escaped.txt", top);
	assert_int_not_equal(lstat(path, &st), 0);
	buf_release(&err);
}

/* The cap holds for a zstd stream that inflates far past its size. */
static void test_tar_extraction_cap(void **state)
{
	struct buf err = BUF_INIT;
	size_t refused = 0;
	struct stat st;

	(void)state;
	run("head -c 4194304 /dev/zero >'%s/dir/zeros'", src);
	{
		struct strvec files = STRVEC_INIT;

		strvec_push(&files, "dir");
		strvec_push(&files, "dir/zeros");
		assert_int_equal(tarzstd_create(src, &files, apath, 19, NULL,
						NULL, &err), 0);
		strvec_clear(&files);
	}
	assert_int_equal(stat(apath, &st), 0);
	assert_true(st.st_size < 4096);
	assert_int_equal(zip_extract_limited(apath, dst, 1 << 20, NULL, NULL,
					     &refused, &err),
			 CR_ERR_TOO_LARGE);
	buf_release(&err);
}

static void test_truncated_tarzstd_is_an_error(void **state)
{
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT;
	struct stat st;

	(void)state;
	run("head -c 200000 /dev/urandom >'%s/dir/noise'", src);
	strvec_push(&files, "dir/noise");
	assert_int_equal(tarzstd_create(src, &files, apath, 3, NULL, NULL,
					&err), 0);
	assert_int_equal(stat(apath, &st), 0);
	assert_int_equal(truncate(apath, st.st_size / 2), 0);
	buf_reset(&err);
	assert_int_equal(zip_extract(apath, dst, NULL, NULL, NULL, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "cache.zip"));
	strvec_clear(&files);
	buf_release(&err);
}

/* The kept archive must be of the asked kind: tar and zip swap. */
static void test_cache_archive_switches_format(void **state)
{
	struct strvec pats = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	struct cache_compression tar = { CACHE_FORMAT_TARZSTD, 3 },
		zip = { CACHE_FORMAT_ZIP, ZIP_LEVEL_LIBARCHIVE };
	struct buf err = BUF_INIT;
	unsigned char head[4];
	bool up_to_date, nothing;

	(void)state;
	strvec_push(&pats, "dir");
	spec.paths = &pats;
	assert_int_equal(cache_archive_create(src, &spec, apath, &tar,
					      &up_to_date, &nothing, &err), 0);
	assert_false(up_to_date);
	read_head(apath, head);
	assert_true(cache_format_is_zstd_magic(head, 4));
	assert_int_equal(cache_archive_create(src, &spec, apath, &tar,
					      &up_to_date, &nothing, &err), 0);
	assert_true(up_to_date);
	assert_int_equal(cache_archive_create(src, &spec, apath, &zip,
					      &up_to_date, &nothing, &err), 0);
	assert_false(up_to_date);
	read_head(apath, head);
	assert_memory_equal(head, "PK\3\4", 4);
	strvec_clear(&pats);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_selection),
		cmocka_unit_test_setup(test_tarzstd_round_trip, setup_each),
		cmocka_unit_test_setup(test_zipzstd_round_trip, setup_each),
		cmocka_unit_test_setup(test_extracts_gnu_tar_zstd, setup_each),
		cmocka_unit_test_setup(test_extracts_hand_built_zstd_zip,
				       setup_each),
		cmocka_unit_test_setup(test_tar_refuses_what_zip_refuses,
				       setup_each),
		cmocka_unit_test_setup(test_tar_never_writes_through_its_own_link,
				       setup_each),
		cmocka_unit_test_setup(test_tar_extraction_cap, setup_each),
		cmocka_unit_test_setup(test_truncated_tarzstd_is_an_error,
				       setup_each),
		cmocka_unit_test_setup(test_cache_archive_switches_format,
				       setup_each),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
