/*
 * Checked extraction of a zip (contract in zip.h).
 *
 * libarchive reads the archive and checks each entry's CRC-32 and sizes
 * against its headers (a mismatch is an ARCHIVE_WARN on the last block);
 * the writing is ours, through descriptors only (extract_path.h), so that
 * nothing is written through a symbolic link and nothing is written that
 * the archive does not hold: libarchive's disk writer extends a file to
 * the size its header declares, whatever data came.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "archive/extract_path.h"
#include "archive/glob.h"
#include "archive/libarchive_dl.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/limits.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A directory's mode and time, set once everything below it is written. */
struct dir_fixup {
	char *path;
	mode_t mode;
	bool has_mtime;
	struct timespec mtime;
};

struct extraction {
	int root;		/* the target directory */
	struct archive *in;
	zip_warn_fn warn;
	void *ctx;
	uint64_t budget;	/* what may be written, all entries together */
	uint64_t written;
	uint64_t limit;		/* the configured limit, for messages */
	bool disk_bound;	/* budget is the disk's free space, not limit */
	size_t refused;
	unsigned long seq;	/* temporary names */
	struct dir_fixup *fixups;
	size_t nr_fixups, alloc_fixups;
};

static void warnf(const struct extraction *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(const struct extraction *x, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (!x->warn)
		return;
	va_start(ap, fmt);
	(void)buf_vaddf(&line, fmt, ap);
	va_end(ap);
	x->warn(x->ctx, line.data);
	buf_release(&line);
}

int zip_extract_parse_limit(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t n = 0, unit = 1;

	if (*p < '0' || *p > '9')
		return CR_ERR_INVALID;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return CR_ERR_INVALID;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': unit = (uint64_t)1 << 10; break;
	case 'm': case 'M': unit = (uint64_t)1 << 20; break;
	case 'g': case 'G': unit = (uint64_t)1 << 30; break;
	case 't': case 'T': unit = (uint64_t)1 << 40; break;
	case '\0': break;
	default: return CR_ERR_INVALID;
	}
	if (unit > 1) {
		p++;
		if (*p == 'i')
			p++;
		if (*p == 'B' || *p == 'b')
			p++;
	}
	if (*p || !n || n > UINT64_MAX / unit)
		return CR_ERR_INVALID;
	*out = n * unit;
	return 0;
}

int zip_extract_budget(const char *dest_dir, uint64_t limit,
		       uint64_t *budget, bool *disk_bound, struct buf *err)
{
	struct statvfs fs;
	uint64_t avail, size, margin;

	if (statvfs(dest_dir, &fs) != 0) {
		buf_seterr(err, "cannot read the free space of '%s': %s",
			   dest_dir, strerror(errno));
		return CR_ERR_IO;
	}
	avail = (uint64_t)fs.f_bavail * fs.f_frsize;
	size = (uint64_t)fs.f_blocks * fs.f_frsize;
	margin = size / 100 * CR_EXTRACT_FREE_MARGIN_PERCENT;
	if (margin > CR_EXTRACT_FREE_MARGIN_MAX)
		margin = CR_EXTRACT_FREE_MARGIN_MAX;
	avail = avail > margin ? avail - margin : 0;
	*disk_bound = avail < limit;
	*budget = *disk_bound ? avail : limit;
	return 0;
}

static int over_budget(const struct extraction *x, const char *name,
		       struct buf *err)
{
	if (x->disk_bound)
		buf_seterr(err, "extraction stopped at '%s': the archive needs more than the free space of the disk (%llu bytes, keeping a margin)",
			   name, (unsigned long long)x->budget);
	else
		buf_seterr(err, "extraction stopped at '%s': the archive holds more than the limit of %llu bytes (" ZIP_EXTRACT_MAX_ENV ")",
			   name, (unsigned long long)x->limit);
	return CR_ERR_TOO_LARGE;
}

/* The entry's time for futimens/utimensat; false when it has none. */
static bool entry_times(struct archive_entry *e, struct timespec ts[2])
{
	if (!archive_entry_mtime_is_set(e))
		return false;
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	ts[0] = ts[1];
	return true;
}

/*
 * A name for a new file or link beside the entry's: it is written under
 * this name, then renamed over the entry's, so a job reading it meanwhile
 * (crunner exec extracts the same artifacts for jobs side by side in one
 * tree) never sees half a file, and what was there, a link too, is
 * replaced rather than written through.
 */
static void temp_name(struct extraction *x, struct buf *tmp)
{
	buf_reset(tmp);
	(void)buf_addf(tmp, ".crunner-extract-%ld-%lu", (long)getpid(),
		       x->seq++);
}

/* Renames tmp over base: 1 with why when a directory is in the way. */
static int put_in_place(int dirfd, const char *tmp, const char *base,
			const char *name, const char **why, struct buf *err)
{
	if (renameat(dirfd, tmp, dirfd, base) == 0)
		return 0;
	if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) {
		*why = "a directory is in the way";
		return 1;
	}
	buf_seterr(err, "cannot write '%s': %s", name, strerror(errno));
	return CR_ERR_IO;
}

/* Sets the time the entry has; a failure is only a warning. */
static void set_link_time(const struct extraction *x, int dirfd,
			  const char *base, const char *name,
			  struct archive_entry *e)
{
	struct timespec ts[2];

	if (entry_times(e, ts) &&
	    utimensat(dirfd, base, ts, AT_SYMLINK_NOFOLLOW) != 0)
		warnf(x, "%s: cannot set its time: %s", name, strerror(errno));
}

static int write_file(struct extraction *x, struct archive_entry *e,
		      int dirfd, const char *base, const char *name,
		      const char **why, struct buf *err)
{
	la_int64_t declared = archive_entry_size_is_set(e) ?
		archive_entry_size(e) : -1;
	struct buf tmp = BUF_INIT;
	struct timespec ts[2];
	const void *block;
	uint64_t done = 0;
	la_int64_t offset;
	size_t size;
	int fd = -1, rc, r = CR_ERR_IO, tries;

	if (declared >= 0 && (uint64_t)declared > x->budget - x->written) {
		r = over_budget(x, name, err);
		goto out;
	}
	for (tries = 0; fd < 0 && tries < 100; tries++) {
		temp_name(x, &tmp);
		fd = openat(dirfd, tmp.data, O_WRONLY | O_CREAT | O_EXCL |
			    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		buf_seterr(err, "cannot create '%s': %s", name,
			   strerror(errno));
		buf_reset(&tmp);
		goto out;
	}
	for (;;) {
		rc = archive_read_data_block(x->in, &block, &size, &offset);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc == ARCHIVE_WARN) {
			/* "ZIP bad CRC", "ZIP uncompressed data is wrong size" */
			*why = archive_error_string(x->in);
			if (!*why)
				*why = "damaged entry";
			r = 1;
			goto out;
		}
		if (rc < ARCHIVE_WARN) {
			buf_seterr(err, "cannot read '%s' from the archive: %s",
				   name, archive_error_string(x->in));
			r = CR_ERR_INVALID;
			goto out;
		}
		if (offset < 0 || (uint64_t)offset != done) {
			*why = "sparse or out of order data";
			r = 1;
			goto out;
		}
		if (declared >= 0 && size > (uint64_t)declared - done) {
			*why = "more data than its declared size";
			r = 1;
			goto out;
		}
		if (size > x->budget - x->written) {
			r = over_budget(x, name, err);
			goto out;
		}
		if (fs_write_all(fd, block, size) != 0) {
			buf_seterr(err, "cannot write '%s': %s", name,
				   strerror(errno));
			goto out;
		}
		done += size;
		x->written += size;
	}
	if (declared >= 0 && done != (uint64_t)declared) {
		*why = "less data than its declared size";
		r = 1;
		goto out;
	}
	if (fchmod(fd, archive_entry_perm(e) & 0777) != 0 ||
	    (entry_times(e, ts) && futimens(fd, ts) != 0)) {
		buf_seterr(err, "cannot set the mode or time of '%s': %s",
			   name, strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		buf_seterr(err, "cannot write '%s': %s", name, strerror(errno));
		goto out;
	}
	if ((r = put_in_place(dirfd, tmp.data, base, name, why, err)) != 0)
		goto out;
	buf_reset(&tmp);	/* renamed: nothing to remove */
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		(void)unlinkat(dirfd, tmp.data, 0);
	buf_release(&tmp);
	return r;
}

static int write_link(struct extraction *x, struct archive_entry *e,
		      int dirfd, const char *clean, const char *base,
		      const char *name, const char **why, struct buf *err)
{
	const char *target = archive_entry_symlink(e);
	struct buf tmp = BUF_INIT;
	int r, tries;

	if ((r = extract_path_link_refusal(x->root, clean,
					   target ? target : "", why,
					   err)) != 0)
		return r;
	if (strlen(target) > x->budget - x->written)
		return over_budget(x, name, err);
	r = -1;
	for (tries = 0; r && tries < 100; tries++) {
		temp_name(x, &tmp);
		r = symlinkat(target, dirfd, tmp.data);
		if (r && errno != EEXIST)
			break;
	}
	if (r) {
		buf_seterr(err, "cannot create the link '%s': %s", name,
			   strerror(errno));
		buf_release(&tmp);
		return CR_ERR_IO;
	}
	x->written += strlen(target);
	if ((r = put_in_place(dirfd, tmp.data, base, name, why, err)) != 0) {
		(void)unlinkat(dirfd, tmp.data, 0);
		buf_release(&tmp);
		return r;
	}
	set_link_time(x, dirfd, base, name, e);
	buf_release(&tmp);
	return 0;
}

static int write_dir(struct extraction *x, struct archive_entry *e,
		     int dirfd, const char *clean, const char *base,
		     const char *name, const char **why, struct buf *err)
{
	struct dir_fixup *f;
	struct stat st;

	if (mkdirat(dirfd, base, 0700) != 0) {
		if (errno != EEXIST ||
		    fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			buf_seterr(err, "cannot create '%s': %s", name,
				   strerror(errno));
			return CR_ERR_IO;
		}
		/* A file or a link where the directory goes: replaced. */
		if (!S_ISDIR(st.st_mode) &&
		    (unlinkat(dirfd, base, 0) != 0 ||
		     mkdirat(dirfd, base, 0700) != 0)) {
			if (errno == EEXIST) {
				*why = "something else is in the way";
				return 1;
			}
			buf_seterr(err, "cannot create '%s': %s", name,
				   strerror(errno));
			return CR_ERR_IO;
		}
	}
	if (x->nr_fixups == x->alloc_fixups) {
		x->alloc_fixups = x->alloc_fixups ? 2 * x->alloc_fixups : 16;
		x->fixups = xreallocarray(x->fixups, x->alloc_fixups,
					  sizeof(*x->fixups));
	}
	f = &x->fixups[x->nr_fixups++];
	f->path = xstrdup(clean);
	f->mode = archive_entry_perm(e) & 0777;
	f->has_mtime = archive_entry_mtime_is_set(e);
	f->mtime.tv_sec = archive_entry_mtime(e);
	f->mtime.tv_nsec = archive_entry_mtime_nsec(e);
	return 0;
}

/*
 * The directories' modes and times, deepest first (archive order lists
 * a directory before what it holds): a read-only directory is made so
 * only after its files are in, and writing them does not move its time.
 */
static void fix_dirs(struct extraction *x)
{
	const char *why, *base;
	struct buf err = BUF_INIT;
	size_t i = x->nr_fixups;

	while (i--) {
		struct dir_fixup *f = &x->fixups[i];
		struct timespec ts[2] = { f->mtime, f->mtime };
		int fd;

		buf_reset(&err);
		if (extract_path_open_dir(x->root, f->path, EXTRACT_WALK_WHOLE,
					  &fd, &base, &why, &err) != 0) {
			warnf(x, "%s: cannot set its mode: %s", f->path,
			      err.len ? err.data : why);
			continue;
		}
		/* An O_PATH descriptor cannot change a mode: reopen it. */
		{
			int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY |
					 O_CLOEXEC);

			close(fd);
			if (dfd < 0 || fchmod(dfd, f->mode) != 0 ||
			    (f->has_mtime && futimens(dfd, ts) != 0))
				warnf(x, "%s: cannot set its mode or time: %s",
				      f->path, strerror(errno));
			if (dfd >= 0)
				close(dfd);
		}
	}
	buf_release(&err);
}

/* Whether the file system can take path, each component and whole. */
static bool name_fits(const char *path)
{
	const char *p = path;

	if (strlen(path) >= PATH_MAX)
		return false;
	for (;;) {
		size_t len = strcspn(p, "/");

		if (len > NAME_MAX)
			return false;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

/* 0, 1 with why (refused), or a negative CR_ERR_* with err. */
static int extract_entry(struct extraction *x, struct archive_entry *e,
			 const char *name, struct buf *clean, const char **why,
			 struct buf *err)
{
	unsigned type = archive_entry_filetype(e);
	const char *base;
	int dirfd, r;

	if (!name)
		*why = "entry without a name";
	else if (name[0] == '/')
		*why = "absolute path";
	else if (glob_clean_path("/", name, clean) != 0)
		*why = "path leaves the target directory";
	else if (archive_entry_hardlink(e))
		*why = "hard links are not extracted";
	else if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		*why = "not a file, directory or link";
	else if (!name_fits(clean->data))
		*why = "name too long";
	if (*why)
		return 1;
	if (!clean->len)
		return 0;	/* "./": the target itself */
	if ((r = extract_path_open_dir(x->root, clean->data,
				       EXTRACT_WALK_CREATE, &dirfd, &base,
				       why, err)) != 0)
		return r;
	if (type == AE_IFDIR)
		r = write_dir(x, e, dirfd, clean->data, base, name, why, err);
	else if (type == AE_IFLNK)
		r = write_link(x, e, dirfd, clean->data, base, name, why, err);
	else
		r = write_file(x, e, dirfd, base, name, why, err);
	close(dirfd);
	return r;
}

static int extract_all(struct extraction *x, const char *archive_path,
		       struct buf *err)
{
	struct archive_entry *e;
	struct buf clean = BUF_INIT;
	int rc, r = 0;

	for (;;) {
		const char *name, *why = NULL;

		rc = archive_read_next_header(x->in, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN) {
			buf_seterr(err, "cannot read '%s': %s", archive_path,
				   archive_error_string(x->in));
			r = CR_ERR_INVALID;
			break;
		}
		name = archive_entry_pathname(e);
		r = extract_entry(x, e, name, &clean, &why, err);
		if (r < 0)
			break;
		if (r == 1) {
			/* libarchive's messages may end in a newline. */
			size_t len = strlen(why);

			while (len && (why[len - 1] == '\n' ||
				       why[len - 1] == ' '))
				len--;
			warnf(x, "%s: %.*s, refusing to extract it",
			      name ? name : "?", (int)len, why);
			x->refused++;
			r = 0;
		}
	}
	buf_release(&clean);
	return r;
}

static int zip_extract_loaded(const char *archive_path,
			      const char *dest_dir, uint64_t limit,
			      zip_warn_fn warn, void *ctx, size_t *refused,
			      struct buf *err)
{
	struct extraction x = { .root = -1, .warn = warn, .ctx = ctx };
	size_t i;
	int r;

	x.limit = limit ? limit : CR_EXTRACT_MAX_DEFAULT;
	x.in = archive_read_new();
	if ((r = archive_read_support_sniffed(x.in, archive_path, err)) != 0)
		goto out;
	if ((r = zip_extract_budget(dest_dir, x.limit, &x.budget,
				    &x.disk_bound, err)) != 0)
		goto out;
	if ((x.root = open(dest_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
		buf_seterr(err, "cannot enter '%s': %s", dest_dir,
			   strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	if (archive_read_open_filename(x.in, archive_path, ZIP_IO_CHUNK) !=
	    ARCHIVE_OK) {
		buf_seterr(err, "cannot open '%s': %s", archive_path,
			   archive_error_string(x.in));
		r = archive_errno(x.in) == ENOENT ? CR_ERR_NOT_FOUND :
			CR_ERR_INVALID;
		goto out;
	}
	r = extract_all(&x, archive_path, err);
	fix_dirs(&x);
out:
	if (refused)
		*refused = x.refused;
	if (x.root >= 0)
		close(x.root);
	for (i = 0; i < x.nr_fixups; i++)
		free(x.fixups[i].path);
	free(x.fixups);
	archive_read_free(x.in);
	return r;
}

int zip_extract_limited(const char *archive_path, const char *dest_dir,
			uint64_t limit, zip_warn_fn warn, void *ctx,
			size_t *refused, struct buf *err)
{
	int r;

	if (refused)
		*refused = 0;
	if ((r = libarchive_dl_load(err)) != 0)
		return r;
	return zip_extract_loaded(archive_path, dest_dir, limit, warn, ctx,
				  refused, err);
}

int zip_extract(const char *archive_path, const char *dest_dir,
		zip_warn_fn warn, void *ctx, size_t *refused,
		struct buf *err)
{
	return zip_extract_limited(archive_path, dest_dir, 0, warn, ctx,
				   refused, err);
}
