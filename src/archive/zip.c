/*
 * Zip creation and listing through libarchive (extraction is in
 * zip_extract.c).
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

#include "archive/cache_format.h"
#include "archive/glob.h"
#include "archive/libarchive_dl.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

void zip_warnf(zip_warn_fn warn, void *ctx, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	(void)buf_vaddf(&line, fmt, ap);
	va_end(ap);
	warn(ctx, line.data);
	buf_release(&line);
}

/* Streams one regular file into the archive entry just written. */
static int copy_file_data(struct archive *a, const char *path, char *chunk,
			  struct buf *err)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		buf_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		return CR_ERR_IO;
	}
	while ((n = read(fd, chunk, ZIP_IO_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			buf_seterr(err, "cannot read '%s': %s", path,
				   strerror(errno));
			close(fd);
			return CR_ERR_IO;
		}
		if (archive_write_data(a, chunk, (size_t)n) != n) {
			buf_seterr(err, "cannot write the archive: %s",
				   archive_error_string(a));
			close(fd);
			return CR_ERR_IO;
		}
	}
	close(fd);
	return 0;
}

int archive_read_support_sniffed(struct archive *in, const char *path,
				 struct buf *err)
{
	enum cache_format format;
	int r;

	if ((r = cache_format_sniff(path, &format, err)) != 0)
		return r;
	if (format == CACHE_FORMAT_TARZSTD) {
		/* Only tar, only zstd: no other format or filter is tried. */
		if (archive_read_support_format_tar(in) != ARCHIVE_OK ||
		    archive_read_support_filter_zstd(in) != ARCHIVE_OK) {
			buf_seterr(err, "cannot read '%s' as tar+zstd: %s", path,
				   archive_error_string(in));
			return CR_ERR_UNSUPPORTED;
		}
		return 0;
	}
	archive_read_support_format_zip_seekable(in);
	return 0;
}

/* Sets the zip writer's compression for level (see zip.h). */
static int set_level(struct archive *a, int level, struct buf *err)
{
	char text[4];
	int r;

	if (level == ZIP_LEVEL_LIBARCHIVE)
		return 0;
	if (level == ZIP_LEVEL_STORE)
		r = archive_write_set_format_option(a, "zip", "compression",
						    "store");
	else {
		(void)snprintf(text, sizeof(text), "%d", level);
		r = archive_write_set_format_option(a, "zip", "compression",
						    "deflate");
		if (r == ARCHIVE_OK)
			r = archive_write_set_format_option(
				a, "zip", "compression-level", text);
	}
	if (r != ARCHIVE_OK) {
		buf_seterr(err, "cannot set the zip compression level %d: %s",
			   level, archive_error_string(a));
		return CR_ERR_UNSUPPORTED;
	}
	return 0;
}

int zip_level_from_name(const char *name, bool *known)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "fastest", ZIP_LEVEL_STORE }, { "fast", 1 },
		{ "default", 5 }, { "", 5 }, { "slow", 7 }, { "slowest", 9 },
	};
	size_t i;

	*known = true;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(name, levels[i].name))
			return levels[i].level;
	*known = false;
	return 5;
}

/*
 * Writes files (relative to dir) as entries of a, a writer whose format
 * and filters are set, opened on out_path, then closes it.  Frees
 * neither a nor anything of the caller's.
 */
static int write_entries(struct archive *a, const char *dir,
			 const struct strvec *files, const char *out_path,
			 zip_warn_fn warn, void *ctx, struct buf *err)
{
	struct archive_entry *e = archive_entry_new();
	struct buf path = BUF_INIT;
	char *chunk = xmalloc(ZIP_IO_CHUNK);
	char target[4096];
	struct stat st;
	size_t i;
	int r = CR_ERR_IO;

	if (archive_write_open_filename(a, out_path) != ARCHIVE_OK) {
		buf_seterr(err, "cannot create '%s': %s", out_path,
			   archive_error_string(a));
		goto out;
	}
	for (i = 0; i < files->nr; i++) {
		const char *rel = files->v[i];
		ssize_t tl;

		buf_reset(&path);
		(void)buf_addf(&path, "%s/%s", dir, rel);
		if (lstat(path.data, &st) != 0) {
			zip_warnf(warn, ctx, "%s: %s", rel, strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
		    !S_ISLNK(st.st_mode)) {
			zip_warnf(warn, ctx, "%s: not a file, directory or link, skipped",
			      rel);
			continue;
		}
		archive_entry_clear(e);
		archive_entry_copy_stat(e, &st);
		archive_entry_set_pathname_utf8(e, rel);
		if (S_ISLNK(st.st_mode)) {
			tl = readlink(path.data, target, sizeof(target) - 1);
			if (tl < 0) {
				zip_warnf(warn, ctx, "%s: %s", rel, strerror(errno));
				continue;
			}
			target[tl] = '\0';
			archive_entry_set_symlink_utf8(e, target);
			archive_entry_set_size(e, 0);
		} else if (S_ISDIR(st.st_mode)) {
			archive_entry_set_size(e, 0);
		}
		if (archive_write_header(a, e) != ARCHIVE_OK) {
			buf_seterr(err, "cannot add '%s' to the archive: %s",
				   rel, archive_error_string(a));
			goto out;
		}
		if (S_ISREG(st.st_mode) &&
		    (r = copy_file_data(a, path.data, chunk, err)) != 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		buf_seterr(err, "cannot write '%s': %s", out_path,
			   archive_error_string(a));
		r = CR_ERR_IO;
		goto out;
	}
	r = 0;
out:
	archive_entry_free(e);
	buf_release(&path);
	free(chunk);
	return r;
}

static int zip_create_loaded(const char *dir, const struct strvec *files,
			     const char *out_path, int level,
			     zip_warn_fn warn, void *ctx, struct buf *err)
{
	struct archive *a = archive_write_new();
	int r;

	if (archive_write_set_format_zip(a) != ARCHIVE_OK) {
		buf_seterr(err, "cannot create '%s': %s", out_path,
			   archive_error_string(a));
		r = CR_ERR_IO;
	} else if ((r = set_level(a, level, err)) == 0) {
		r = write_entries(a, dir, files, out_path, warn, ctx, err);
	}
	archive_write_free(a);
	return r;
}

/*
 * gitlab-runner's tarzstd: a tar as Go's archive/tar writes it (ustar,
 * pax headers only where ustar cannot hold a name, size or time), the
 * whole stream compressed as zstd frames.
 */
static int tarzstd_create_loaded(const char *dir, const struct strvec *files,
				 const char *out_path, int zstd_level,
				 zip_warn_fn warn, void *ctx, struct buf *err)
{
	struct archive *a = archive_write_new();
	char text[12];
	int r = CR_ERR_UNSUPPORTED;

	(void)snprintf(text, sizeof(text), "%d", zstd_level);
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "zstd", "compression-level",
					    text) != ARCHIVE_OK) {
		buf_seterr(err, "cannot create '%s' as tar+zstd (level %d): %s",
			   out_path, zstd_level, archive_error_string(a));
	} else {
		r = write_entries(a, dir, files, out_path, warn, ctx, err);
	}
	archive_write_free(a);
	return r;
}

static int zip_list_loaded(const char *archive_path, struct strvec *names,
			   struct buf *err)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	int rc, r;

	if ((r = archive_read_support_sniffed(in, archive_path, err)) != 0)
		goto out;
	r = CR_ERR_INVALID;
	if (archive_read_open_filename(in, archive_path, ZIP_IO_CHUNK) !=
	    ARCHIVE_OK) {
		buf_seterr(err, "cannot open '%s': %s", archive_path,
			   archive_error_string(in));
		goto out;
	}
	while ((rc = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		const char *name;
		size_t len;

		if (rc < ARCHIVE_WARN) {
			buf_seterr(err, "cannot read '%s': %s", archive_path,
				   archive_error_string(in));
			goto out;
		}
		name = archive_entry_pathname(e);
		len = name ? strlen(name) : 0;
		/* Directories are stored as "name/". */
		if (len > 1 && name[len - 1] == '/')
			strvec_push_nodup(names, xmemdup(name, len - 1));
		else
			strvec_push(names, name ? name : "");
		archive_read_data_skip(in);
	}
	r = 0;
out:
	archive_read_free(in);
	return r;
}

int zip_create(const char *dir, const struct strvec *files,
	       const char *out_path, int level, zip_warn_fn warn, void *ctx,
	       struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return zip_create_loaded(dir, files, out_path, level, warn, ctx,
				 err);
}

int tarzstd_create(const char *dir, const struct strvec *files,
		   const char *out_path, int zstd_level, zip_warn_fn warn,
		   void *ctx, struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return tarzstd_create_loaded(dir, files, out_path, zstd_level, warn,
				     ctx, err);
}

int zip_list(const char *archive_path, struct strvec *names, struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return zip_list_loaded(archive_path, names, err);
}
