/*
 * Zip creation and checked extraction through libarchive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/glob.h"
#include "archive/libarchive_dl.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void warnf(zip_warn_fn warn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warnf(zip_warn_fn warn, void *ctx, const char *fmt, ...)
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

static int zip_create_loaded(const char *dir, const struct strvec *files,
			     const char *out_path, zip_warn_fn warn,
			     void *ctx, struct buf *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	struct buf path = BUF_INIT;
	char *chunk = xmalloc(ZIP_IO_CHUNK);
	char target[4096];
	struct stat st;
	size_t i;
	int r = CR_ERR_IO;

	if (archive_write_set_format_zip(a) != ARCHIVE_OK ||
	    archive_write_open_filename(a, out_path) != ARCHIVE_OK) {
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
			warnf(warn, ctx, "%s: %s", rel, strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
		    !S_ISLNK(st.st_mode)) {
			warnf(warn, ctx, "%s: not a file, directory or link, skipped",
			      rel);
			continue;
		}
		archive_entry_clear(e);
		archive_entry_copy_stat(e, &st);
		archive_entry_set_pathname_utf8(e, rel);
		if (S_ISLNK(st.st_mode)) {
			tl = readlink(path.data, target, sizeof(target) - 1);
			if (tl < 0) {
				warnf(warn, ctx, "%s: %s", rel, strerror(errno));
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
	archive_write_free(a);
	buf_release(&path);
	free(chunk);
	return r;
}

/* ---- extraction ---- */

/* Why an entry may not be written, or NULL when it may. */
static const char *entry_refusal(const char *name, const char *link,
				 bool is_symlink, struct buf *clean)
{
	struct buf resolved = BUF_INIT;
	const char *why = NULL, *slash;

	if (name[0] == '/')
		return "absolute path";
	if (glob_clean_path("/", name, clean) != 0)
		return "path leaves the target directory";
	if (!link)
		return NULL;
	if (link[0] == '/')
		return is_symlink ? "link to an absolute path" :
			"hard link to an absolute path";
	if (is_symlink) {
		/* A symlink's target is relative to the link's directory. */
		slash = strrchr(clean->data, '/');
		if (slash)
			(void)buf_add(&resolved, clean->data,
				      (size_t)(slash - clean->data + 1));
		(void)buf_addstr(&resolved, link);
	} else {
		(void)buf_addstr(&resolved, link);
	}
	{
		struct buf tmp = BUF_INIT;

		if (glob_clean_path("/", resolved.data, &tmp) != 0)
			why = "link pointing outside the target directory";
		buf_release(&tmp);
	}
	buf_release(&resolved);
	return why;
}

/* Whether a directory above clean (relative to cwd) is a symlink on disk. */
static bool through_symlink(const char *clean)
{
	struct buf prefix = BUF_INIT;
	const char *slash = clean;
	struct stat st;
	bool hit = false;

	while (!hit && (slash = strchr(slash, '/'))) {
		buf_reset(&prefix);
		(void)buf_add(&prefix, clean, (size_t)(slash - clean));
		if (lstat(prefix.data, &st) == 0 && S_ISLNK(st.st_mode))
			hit = true;
		slash++;
	}
	buf_release(&prefix);
	return hit;
}

static int extract_data(struct archive *in, struct archive *out,
			struct buf *err)
{
	const void *block;
	size_t size;
	la_int64_t offset;
	int rc;

	for (;;) {
		rc = archive_read_data_block(in, &block, &size, &offset);
		if (rc == ARCHIVE_EOF)
			return 0;
		if (rc < ARCHIVE_WARN) {
			buf_seterr(err, "cannot read the archive: %s",
				   archive_error_string(in));
			return CR_ERR_INVALID;
		}
		if (archive_write_data_block(out, block, size, offset) <
		    ARCHIVE_WARN) {
			buf_seterr(err, "cannot write: %s",
				   archive_error_string(out));
			return CR_ERR_IO;
		}
	}
}

static int zip_extract_loaded(const char *archive_path,
			      const char *dest_dir, zip_warn_fn warn,
			      void *ctx, size_t *refused, struct buf *err)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	struct archive_entry *e;
	struct buf clean = BUF_INIT;
	size_t nr_refused = 0;
	int cwd = -1, rc, r = CR_ERR_IO;

	archive_read_support_format_zip_seekable(in);
	/*
	 * SAFE_WRITES: each file is written to a temp name and renamed over
	 * the old one, so a job reading it meanwhile (crunner exec extracts the
	 * same artifacts for jobs running side by side in one tree) never sees
	 * half a file.
	 */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM |
		ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK |
		ARCHIVE_EXTRACT_SAFE_WRITES |
		ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		ARCHIVE_EXTRACT_SECURE_NODOTDOT |
		ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	archive_write_disk_set_standard_lookup(out);
	if (archive_read_open_filename(in, archive_path, ZIP_IO_CHUNK) !=
	    ARCHIVE_OK) {
		buf_seterr(err, "cannot open '%s': %s", archive_path,
			   archive_error_string(in));
		r = archive_errno(in) == ENOENT ? CR_ERR_NOT_FOUND :
			CR_ERR_INVALID;
		goto out;
	}
	/*
	 * libarchive's symlink checks work on names relative to the current
	 * directory, so names stay relative and we move into dest_dir.
	 */
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    chdir(dest_dir) != 0) {
		buf_seterr(err, "cannot enter '%s': %s", dest_dir,
			   strerror(errno));
		goto out;
	}
	for (;;) {
		const char *name, *link, *why;
		bool is_symlink;

		rc = archive_read_next_header(in, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			buf_seterr(err, "cannot read '%s': %s", archive_path,
				   archive_error_string(in));
			r = CR_ERR_INVALID;
			goto out;
		}
		name = archive_entry_pathname(e);
		is_symlink = archive_entry_filetype(e) == AE_IFLNK;
		link = is_symlink ? archive_entry_symlink(e) :
			archive_entry_hardlink(e);
		why = name ? entry_refusal(name, link, is_symlink, &clean) :
			"entry without a name";
		if (!why && !clean.len)
			continue;	/* "./": the target itself */
		if (!why && through_symlink(clean.data))
			why = "path through a symbolic link";
		if (why) {
			warnf(warn, ctx, "%s: %s, refusing to extract it",
			      name ? name : "?", why);
			nr_refused++;
			continue;
		}
		archive_entry_set_pathname(e, clean.data);
		rc = archive_write_header(out, e);
		if (rc < ARCHIVE_WARN) {
			/* A path through a symlink on disk lands here. */
			warnf(warn, ctx, "%s: %s, refusing to extract it", name,
			      archive_error_string(out));
			nr_refused++;
			continue;
		}
		if (archive_entry_size(e) > 0 &&
		    (r = extract_data(in, out, err)) != 0)
			goto out;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			buf_seterr(err, "cannot write '%s': %s", name,
				   archive_error_string(out));
			r = CR_ERR_IO;
			goto out;
		}
	}
	if (archive_write_close(out) < ARCHIVE_WARN) {
		buf_seterr(err, "cannot finish extraction: %s",
			   archive_error_string(out));
		r = CR_ERR_IO;
		goto out;
	}
	r = 0;
out:
	if (cwd >= 0) {
		if (fchdir(cwd) != 0 && !r) {
			buf_seterr(err, "cannot return to the working directory: %s",
				   strerror(errno));
			r = CR_ERR_IO;
		}
		close(cwd);
	}
	if (refused)
		*refused = nr_refused;
	archive_read_free(in);
	archive_write_free(out);
	buf_release(&clean);
	return r;
}

static int zip_list_loaded(const char *archive_path, struct strvec *names,
			   struct buf *err)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	int rc, r = CR_ERR_INVALID;

	archive_read_support_format_zip_seekable(in);
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
	       const char *out_path, zip_warn_fn warn, void *ctx,
	       struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return zip_create_loaded(dir, files, out_path, warn, ctx, err);
}

int zip_extract(const char *archive_path, const char *dest_dir,
		zip_warn_fn warn, void *ctx, size_t *refused,
		struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return zip_extract_loaded(archive_path, dest_dir, warn, ctx, refused,
				  err);
}

int zip_list(const char *archive_path, struct strvec *names, struct buf *err)
{
	int r;

	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return zip_list_loaded(archive_path, names, err);
}
