/*
 * The zipzstd writer (zipzstd.h).  Each local header is written with
 * zero CRC and sizes, the data follows, and the header is patched once
 * the data is written: the output is a regular file, so no data
 * descriptors are needed.
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
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "archive/zip.h"
#include "archive/zipzstd.h"
#include "archive/zstd_dl.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define METHOD_STORE 0
#define METHOD_ZSTD 93
#define MADE_BY_UNIX (3u << 8)
#define VERSION_ZSTD 63		/* APPNOTE 6.3, where method 93 appears */
#define VERSION_ZIP64 45
#define VERSION_STORE 20
#define FLAG_UTF8 (1u << 11)
#define U32_MAX_FIELD 0xffffffffu
/* Files from this size on get ZIP64 sizes: zstd never grows data by 1/16. */
#define ZIP64_FROM ((uint64_t)0xf0000000u)

/* What the central directory needs of an entry. */
struct entry {
	char *name;
	uint16_t method, dos_time, dos_date, version;
	uint32_t crc, mode;
	int64_t mtime;
	uint64_t csize, usize, offset;
};

struct writer {
	FILE *f;
	const char *out_path;
	const struct zstd_dl *zstd;
	ZSTD_CCtx *cctx;
	char *in, *out;		/* ZIP_IO_CHUNK each */
	struct entry *entries;
	size_t nr, alloc;
	struct buf *err;
};

static void le16(struct buf *b, uint32_t v)
{
	unsigned char p[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	(void)buf_add(b, p, 2);
}

static void le32(struct buf *b, uint32_t v)
{
	le16(b, v & 0xffff);
	le16(b, v >> 16);
}

static void le64(struct buf *b, uint64_t v)
{
	le32(b, (uint32_t)v);
	le32(b, (uint32_t)(v >> 32));
}

static int put(struct writer *w, const void *data, size_t len)
{
	if (len && fwrite(data, 1, len, w->f) != len) {
		buf_seterr(w->err, "cannot write '%s': %s", w->out_path,
			   strerror(errno));
		return CR_ERR_IO;
	}
	return 0;
}

static void dos_time(int64_t t, uint16_t *tm, uint16_t *dt)
{
	time_t tt = (time_t)t;
	struct tm lt;

	if (!localtime_r(&tt, &lt) || lt.tm_year < 80) {
		*tm = 0;
		*dt = (1 << 5) | 1;	/* 1980-01-01 */
		return;
	}
	*tm = (uint16_t)((lt.tm_hour << 11) | (lt.tm_min << 5) |
			 (lt.tm_sec / 2));
	*dt = (uint16_t)(((lt.tm_year - 80) << 9) | ((lt.tm_mon + 1) << 5) |
			 lt.tm_mday);
}

/* The extended-timestamp field with the modification time only. */
static void ut_field(struct buf *b, int64_t mtime)
{
	le16(b, 0x5455);
	le16(b, 5);
	(void)buf_addch(b, 1);
	le32(b, (uint32_t)mtime);
}

/*
 * Writes e's local header; with zip64, the sizes go into a ZIP64 field
 * patched later (patch_local() knows where).
 */
static int write_local(struct writer *w, const struct entry *e, bool zip64)
{
	struct buf h = BUF_INIT;
	size_t name_len = strlen(e->name);
	int r;

	le32(&h, 0x04034b50);
	le16(&h, e->version);
	le16(&h, FLAG_UTF8);
	le16(&h, e->method);
	le16(&h, e->dos_time);
	le16(&h, e->dos_date);
	le32(&h, 0);		/* CRC, patched */
	le32(&h, zip64 ? U32_MAX_FIELD : 0);
	le32(&h, zip64 ? U32_MAX_FIELD : 0);
	le16(&h, (uint32_t)name_len);
	le16(&h, (zip64 ? 20 : 0) + 9);
	(void)buf_add(&h, e->name, name_len);
	if (zip64) {
		le16(&h, 0x0001);
		le16(&h, 16);
		le64(&h, 0);	/* uncompressed, patched */
		le64(&h, 0);	/* compressed, patched */
	}
	ut_field(&h, e->mtime);
	r = put(w, h.data, h.len);
	buf_release(&h);
	return r;
}

/* Fills in the CRC and sizes of the local header at e->offset. */
static int patch_local(struct writer *w, const struct entry *e, bool zip64)
{
	struct buf p = BUF_INIT;
	off_t end = ftello(w->f);
	int r = CR_ERR_IO;

	if (end < 0)
		goto fail;
	le32(&p, e->crc);
	if (!zip64) {
		le32(&p, (uint32_t)e->csize);
		le32(&p, (uint32_t)e->usize);
	}
	if (fseeko(w->f, (off_t)e->offset + 14, SEEK_SET) != 0)
		goto fail;
	if ((r = put(w, p.data, p.len)) != 0)
		goto out;
	if (zip64) {
		buf_reset(&p);
		le64(&p, e->usize);
		le64(&p, e->csize);
		if (fseeko(w->f, (off_t)(e->offset + 30 + strlen(e->name) + 4),
			   SEEK_SET) != 0)
			goto fail;
		if ((r = put(w, p.data, p.len)) != 0)
			goto out;
	}
	if (fseeko(w->f, end, SEEK_SET) != 0)
		goto fail;
	r = 0;
	goto out;
fail:
	buf_seterr(w->err, "cannot write '%s': %s", w->out_path,
		   strerror(errno));
	r = CR_ERR_IO;
out:
	buf_release(&p);
	return r;
}

/* Compresses what zstd holds or is given in in, writing it out. */
static int compress_chunk(struct writer *w, struct entry *e, size_t len,
			  ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { w->in, len, 0 };
	size_t left;
	int r;

	do {
		ZSTD_outBuffer out = { w->out, ZIP_IO_CHUNK, 0 };

		left = w->zstd->compress_stream2(w->cctx, &out, &in, end);
		if (w->zstd->is_error(left)) {
			buf_seterr(w->err, "cannot compress '%s': %s", e->name,
				   w->zstd->error_name(left));
			return CR_ERR_IO;
		}
		if ((r = put(w, w->out, out.pos)) != 0)
			return r;
		e->csize += out.pos;
	} while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static int write_file_data(struct writer *w, struct entry *e, int fd)
{
	ssize_t n;
	int r;

	for (;;) {
		n = read(fd, w->in, ZIP_IO_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_seterr(w->err, "cannot read '%s': %s", e->name,
				   strerror(errno));
			return CR_ERR_IO;
		}
		e->crc = (uint32_t)crc32_z(e->crc, (const Bytef *)w->in,
					   (z_size_t)n);
		e->usize += (uint64_t)n;
		if ((r = compress_chunk(w, e, (size_t)n,
					n ? ZSTD_e_continue : ZSTD_e_end)) != 0)
			return r;
		if (!n)
			return 0;
	}
}

static struct entry *new_entry(struct writer *w, const char *name,
			       const struct stat *st)
{
	struct entry *e;

	if (w->nr == w->alloc) {
		w->alloc = w->alloc ? 2 * w->alloc : 64;
		w->entries = xreallocarray(w->entries, w->alloc,
					   sizeof(*w->entries));
	}
	e = &w->entries[w->nr];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->mode = (uint32_t)st->st_mode;
	e->mtime = (int64_t)st->st_mtime;
	dos_time(e->mtime, &e->dos_time, &e->dos_date);
	return e;
}

/* One file, directory or link; 1 when it is skipped with a warning. */
static int add_entry(struct writer *w, const char *dir, const char *rel,
		     zip_warn_fn warn, void *ctx)
{
	struct buf path = BUF_INIT, name = BUF_INIT;
	char target[4096];
	struct stat st;
	struct entry *e;
	bool zip64 = false;
	ssize_t tl = 0;
	off_t at;
	int fd = -1, r = 1;

	(void)buf_addf(&path, "%s/%s", dir, rel);
	(void)buf_addstr(&name, rel);
	if (lstat(path.data, &st) != 0) {
		zip_warnf(warn, ctx, "%s: %s", rel, strerror(errno));
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		if ((tl = readlink(path.data, target, sizeof(target))) < 0) {
			zip_warnf(warn, ctx, "%s: %s", rel, strerror(errno));
			goto out;
		}
	} else if (S_ISREG(st.st_mode)) {
		fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			buf_seterr(w->err, "cannot open '%s': %s", path.data,
				   strerror(errno));
			r = CR_ERR_IO;
			goto out;
		}
		zip64 = (uint64_t)st.st_size >= ZIP64_FROM;
	} else if (S_ISDIR(st.st_mode)) {
		(void)buf_addch(&name, '/');
	} else {
		zip_warnf(warn, ctx, "%s: not a file, directory or link, skipped",
		      rel);
		goto out;
	}
	if ((at = ftello(w->f)) < 0) {
		buf_seterr(w->err, "cannot write '%s': %s", w->out_path,
			   strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	e = new_entry(w, name.data, &st);
	w->nr++;
	e->offset = (uint64_t)at;
	e->method = fd >= 0 ? METHOD_ZSTD : METHOD_STORE;
	e->version = fd >= 0 ? VERSION_ZSTD : VERSION_STORE;
	if ((r = write_local(w, e, zip64)) != 0)
		goto out;
	if (fd >= 0) {
		/* Each ZSTD_e_end closes a frame; the next call opens one. */
		r = write_file_data(w, e, fd);
	} else if (tl > 0) {
		e->crc = (uint32_t)crc32_z(0, (const Bytef *)target,
					   (z_size_t)tl);
		e->csize = e->usize = (uint64_t)tl;
		r = put(w, target, (size_t)tl);
	}
	if (r)
		goto out;
	if (!zip64 && (e->csize >= U32_MAX_FIELD || e->usize >= U32_MAX_FIELD)) {
		buf_seterr(w->err, "'%s' grew past 4 GiB while it was archived",
			   rel);
		r = CR_ERR_IO;
		goto out;
	}
	r = patch_local(w, e, zip64);
out:
	if (fd >= 0)
		close(fd);
	buf_release(&path);
	buf_release(&name);
	return r;
}

static void central_entry(struct buf *cd, const struct entry *e)
{
	bool big_u = e->usize >= U32_MAX_FIELD, big_c = e->csize >= U32_MAX_FIELD,
	     big_o = e->offset >= U32_MAX_FIELD;
	uint32_t z64_len = 8u * (big_u + big_c + big_o);
	size_t name_len = strlen(e->name);
	uint32_t external = e->mode << 16;

	if ((e->mode & S_IFMT) == S_IFDIR)
		external |= 0x10;	/* MS-DOS directory */
	le32(cd, 0x02014b50);
	le16(cd, MADE_BY_UNIX | VERSION_ZSTD);
	le16(cd, z64_len && e->version < VERSION_ZIP64 ? VERSION_ZIP64 :
	     e->version);
	le16(cd, FLAG_UTF8);
	le16(cd, e->method);
	le16(cd, e->dos_time);
	le16(cd, e->dos_date);
	le32(cd, e->crc);
	le32(cd, big_c ? U32_MAX_FIELD : (uint32_t)e->csize);
	le32(cd, big_u ? U32_MAX_FIELD : (uint32_t)e->usize);
	le16(cd, (uint32_t)name_len);
	le16(cd, (z64_len ? 4 + z64_len : 0) + 9);
	le16(cd, 0);		/* comment */
	le16(cd, 0);		/* disk */
	le16(cd, 0);		/* internal attributes */
	le32(cd, external);
	le32(cd, big_o ? U32_MAX_FIELD : (uint32_t)e->offset);
	(void)buf_add(cd, e->name, name_len);
	if (z64_len) {
		le16(cd, 0x0001);
		le16(cd, z64_len);
		if (big_u)
			le64(cd, e->usize);
		if (big_c)
			le64(cd, e->csize);
		if (big_o)
			le64(cd, e->offset);
	}
	ut_field(cd, e->mtime);
}

/* The central directory and its end records, ZIP64 ones when needed. */
static int write_central(struct writer *w)
{
	struct buf cd = BUF_INIT;
	off_t start = ftello(w->f);
	uint64_t cd_size;
	size_t i;
	bool zip64;
	int r;

	if (start < 0) {
		buf_seterr(w->err, "cannot write '%s': %s", w->out_path,
			   strerror(errno));
		return CR_ERR_IO;
	}
	for (i = 0; i < w->nr; i++)
		central_entry(&cd, &w->entries[i]);
	cd_size = cd.len;
	zip64 = w->nr >= 0xffff || cd_size >= U32_MAX_FIELD ||
		(uint64_t)start >= U32_MAX_FIELD;
	if (zip64) {
		uint64_t record = (uint64_t)start + cd_size;

		le32(&cd, 0x06064b50);
		le64(&cd, 44);
		le16(&cd, MADE_BY_UNIX | VERSION_ZSTD);
		le16(&cd, VERSION_ZIP64);
		le32(&cd, 0);
		le32(&cd, 0);
		le64(&cd, w->nr);
		le64(&cd, w->nr);
		le64(&cd, cd_size);
		le64(&cd, (uint64_t)start);
		le32(&cd, 0x07064b50);
		le32(&cd, 0);
		le64(&cd, record);
		le32(&cd, 1);
	}
	le32(&cd, 0x06054b50);
	le16(&cd, 0);
	le16(&cd, 0);
	le16(&cd, zip64 ? 0xffff : (uint32_t)w->nr);
	le16(&cd, zip64 ? 0xffff : (uint32_t)w->nr);
	le32(&cd, zip64 ? U32_MAX_FIELD : (uint32_t)cd_size);
	le32(&cd, zip64 ? U32_MAX_FIELD : (uint32_t)start);
	le16(&cd, 0);
	r = put(w, cd.data, cd.len);
	buf_release(&cd);
	return r;
}

int zipzstd_create(const char *dir, const struct strvec *files,
		   const char *out_path, int zstd_level, zip_warn_fn warn,
		   void *ctx, struct buf *err)
{
	struct writer w = { .out_path = out_path, .err = err };
	size_t i;
	int r = CR_ERR_UNSUPPORTED;

	if (!(w.zstd = zstd_dl_load(err)))
		return r;
	if (!(w.cctx = w.zstd->create_cctx())) {
		buf_seterr(err, "cannot create a zstd compressor");
		return CR_ERR_NOMEM;
	}
	if (w.zstd->is_error(w.zstd->set_parameter(
		    w.cctx, ZSTD_c_compressionLevel, zstd_level))) {
		buf_seterr(err, "cannot set the zstd level %d", zstd_level);
		goto out;
	}
	r = CR_ERR_IO;
	if (!(w.f = fopen(out_path, "wb"))) {
		buf_seterr(err, "cannot create '%s': %s", out_path,
			   strerror(errno));
		goto out;
	}
	w.in = xmalloc(ZIP_IO_CHUNK);
	w.out = xmalloc(ZIP_IO_CHUNK);
	for (i = 0; i < files->nr; i++)
		if ((r = add_entry(&w, dir, files->v[i], warn, ctx)) < 0)
			goto out;
	if ((r = write_central(&w)) != 0)
		goto out;
	if (fclose(w.f) != 0) {
		w.f = NULL;
		buf_seterr(err, "cannot write '%s': %s", out_path,
			   strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	w.f = NULL;
	r = 0;
out:
	if (w.f)
		fclose(w.f);
	for (i = 0; i < w.nr; i++)
		free(w.entries[i].name);
	free(w.entries);
	free(w.in);
	free(w.out);
	w.zstd->free_cctx(w.cctx);
	return r;
}
