/*
 * The gzip and raw artifact formats (spec 6.2).
 *
 * libarchive 3.6 cannot put a name and a comment into a gzip header, so
 * each member's header is written here and libarchive's own 10-byte header
 * (no optional fields) is dropped from its output: the deflate stream and
 * the trailer that follow it are the same either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/libarchive_dl.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GZIP_HEADER_LEN 10
#define GZIP_FNAME 0x08
#define GZIP_FCOMMENT 0x10

struct member_out {
	int fd;
	size_t skipped;		/* bytes of libarchive's header dropped */
	bool bad_header;
};

static la_ssize_t member_write(struct archive *a, void *ctx,
			       const void *data, size_t len)
{
	struct member_out *m = ctx;
	const unsigned char *p = data;
	size_t n = len;

	(void)a;
	while (n && m->skipped < GZIP_HEADER_LEN) {
		/* Byte 3 holds the flags: ours must be the only ones. */
		if (m->skipped == 3 && *p != 0)
			m->bad_header = true;
		m->skipped++;
		p++;
		n--;
	}
	if (n && fs_write_all(m->fd, p, n) != 0)
		return -1;
	return (la_ssize_t)len;
}

void gzip_comment(const char *path, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	bool plain = true;

	for (p = (const unsigned char *)path; *p; p++)
		if (*p >= 0x80 || *p == '%')
			plain = false;
	if (plain) {
		(void)buf_addstr(out, path);
		return;
	}
	/* Go's url.PathEscape: unreserved characters and a few others stay. */
	(void)buf_addstr(out, "e:");
	for (p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~$&+,/:;=@", *p)) {
			(void)buf_addch(out, (char)*p);
		} else {
			(void)buf_addch(out, '%');
			(void)buf_addch(out, hex[*p >> 4]);
			(void)buf_addch(out, hex[*p & 15]);
		}
	}
}

static int add_member(int out_fd, const char *path, const char *rel,
		      const struct stat *st, char *chunk, struct buf *err)
{
	struct member_out m = { out_fd, 0, false };
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct buf hdr = BUF_INIT;
	const char *base = strrchr(rel, '/');
	unsigned char fixed[GZIP_HEADER_LEN];
	uint32_t mtime = (uint32_t)st->st_mtime;
	ssize_t n;
	int fd = -1, r = CR_ERR_IO;

	fixed[0] = 0x1f;
	fixed[1] = 0x8b;
	fixed[2] = 8;
	fixed[3] = GZIP_FNAME | GZIP_FCOMMENT;
	fixed[4] = (unsigned char)mtime;
	fixed[5] = (unsigned char)(mtime >> 8);
	fixed[6] = (unsigned char)(mtime >> 16);
	fixed[7] = (unsigned char)(mtime >> 24);
	fixed[8] = 0;
	fixed[9] = 3;	/* Unix */
	(void)buf_add(&hdr, fixed, sizeof(fixed));
	(void)buf_addstr(&hdr, base ? base + 1 : rel);
	(void)buf_addch(&hdr, '\0');
	gzip_comment(rel, &hdr);
	(void)buf_addch(&hdr, '\0');
	if (fs_write_all(out_fd, hdr.data, hdr.len) != 0) {
		buf_seterr(err, "cannot write the archive: %s", strerror(errno));
		goto out;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		buf_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	archive_write_set_format_raw(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_bytes_per_block(a, 0);
	if (archive_write_open(a, &m, NULL, member_write, NULL) != ARCHIVE_OK)
		goto archive_error;
	archive_entry_set_pathname(e, rel);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, st->st_size);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto archive_error;
	while ((n = read(fd, chunk, ZIP_IO_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			buf_seterr(err, "cannot read '%s': %s", path,
				   strerror(errno));
			goto out;
		}
		if (archive_write_data(a, chunk, (size_t)n) != n)
			goto archive_error;
	}
	if (archive_write_close(a) != ARCHIVE_OK)
		goto archive_error;
	if (m.bad_header) {
		buf_seterr(err, "libarchive wrote an unexpected gzip header");
		r = CR_ERR_INTERNAL;
		goto out;
	}
	r = 0;
	goto out;
archive_error:
	buf_seterr(err, "cannot compress '%s': %s", rel,
		   archive_error_string(a));
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	archive_write_free(a);
	buf_release(&hdr);
	return r;
}

static int open_output(const char *out_path, struct buf *err)
{
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		buf_seterr(err, "cannot create '%s': %s", out_path,
			   strerror(errno));
	return fd;
}

static int gzip_create_loaded(const char *dir, const struct strvec *files,
			      const char *out_path, zip_warn_fn warn,
			      void *ctx, struct buf *err)
{
	struct buf path = BUF_INIT;
	char *chunk = NULL;
	struct stat st;
	size_t i;
	int fd, r = CR_ERR_IO;

	if ((fd = open_output(out_path, err)) < 0)
		return CR_ERR_IO;
	chunk = xmalloc(ZIP_IO_CHUNK);
	for (i = 0; i < files->nr; i++) {
		buf_reset(&path);
		(void)buf_addf(&path, "%s/%s", dir, files->v[i]);
		if (lstat(path.data, &st) != 0 || !S_ISREG(st.st_mode))
			continue;	/* only regular files go in */
		if ((r = add_member(fd, path.data, files->v[i], &st, chunk,
				    err)) != 0)
			goto out;
	}
	(void)warn;
	(void)ctx;
	r = 0;
out:
	if (close(fd) != 0 && !r) {
		buf_seterr(err, "cannot write '%s': %s", out_path,
			   strerror(errno));
		r = CR_ERR_IO;
	}
	free(chunk);
	buf_release(&path);
	return r;
}

int raw_create(const char *dir, const struct strvec *files,
	       const char *out_path, struct buf *err)
{
	struct buf path = BUF_INIT;
	const char *only = NULL;
	char *chunk = NULL;
	struct stat st;
	size_t i;
	ssize_t n;
	int in = -1, fd = -1, r = CR_ERR_INVALID;

	for (i = 0; i < files->nr; i++) {
		buf_reset(&path);
		(void)buf_addf(&path, "%s/%s", dir, files->v[i]);
		if (lstat(path.data, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (only) {
			buf_seterr(err, "only one file can be sent as raw");
			goto out;
		}
		only = files->v[i];
	}
	if (!only) {
		buf_seterr(err, "no file to send as raw");
		goto out;
	}
	buf_reset(&path);
	(void)buf_addf(&path, "%s/%s", dir, only);
	r = CR_ERR_IO;
	if ((in = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		buf_seterr(err, "cannot open '%s': %s", path.data,
			   strerror(errno));
		goto out;
	}
	if ((fd = open_output(out_path, err)) < 0)
		goto out;
	chunk = xmalloc(ZIP_IO_CHUNK);
	while ((n = read(in, chunk, ZIP_IO_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fs_write_all(fd, chunk, (size_t)n) != 0) {
			buf_seterr(err, "cannot copy '%s': %s", only,
				   strerror(errno));
			goto out;
		}
	}
	r = 0;
out:
	if (in >= 0)
		close(in);
	if (fd >= 0 && close(fd) != 0 && !r) {
		buf_seterr(err, "cannot write '%s': %s", out_path,
			   strerror(errno));
		r = CR_ERR_IO;
	}
	free(chunk);
	buf_release(&path);
	return r;
}

int gzip_create(const char *dir, const struct strvec *files,
		const char *out_path, zip_warn_fn warn, void *ctx,
		struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return gzip_create_loaded(dir, files, out_path, warn, ctx, err);
}
