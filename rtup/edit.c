/*
 * Edits are byte spans found at scan time: the file is never serialised
 * again, so whatever the scanner did not touch (quotes, CRLF, BOM, the
 * missing final newline, comments) is kept byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edit.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int cmp_edit(const void *a, const void *b)
{
	const struct edit *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

int edit_apply(const char *data, size_t len, struct file_edits *fe,
	       struct buf *out)
{
	size_t pos = 0;

	qsort(fe->e, fe->nr, sizeof(*fe->e), cmp_edit);
	buf_reset(out);
	for (size_t i = 0; i < fe->nr; i++) {
		const struct edit *e = &fe->e[i];

		if (e->start < pos || e->end > len)
			return CR_ERR_INTERNAL;
		buf_add(out, data + pos, e->start - pos);
		buf_addstr(out, e->text);
		pos = e->end;
	}
	buf_add(out, data + pos, len - pos);
	return 0;
}

struct dline {
	size_t s, e;		/* the old line, with its break */
	int changed, deleted;
	struct buf now;		/* the new text when changed */
};

static void emit(struct buf *out, char tag, const char *s, size_t n)
{
	buf_addch(out, tag);
	buf_add(out, s, n);
	if (!n || s[n - 1] != '\n')
		buf_addstr(out, "\n\\ No newline at end of file\n");
}

void edit_diff(const char *path, const char *data, size_t len,
	       struct file_edits *fe, struct buf *out)
{
	struct dline *l = NULL;
	size_t n = 0, k = 0;

	qsort(fe->e, fe->nr, sizeof(*fe->e), cmp_edit);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) + 1 : len;
		struct dline *d;

		l = xreallocarray(l, n + 1, sizeof(*l));
		d = &l[n++];
		memset(d, 0, sizeof(*d));
		d->s = pos;
		d->e = end;
		buf_init(&d->now, 0);
		for (size_t p = pos; k < fe->nr && fe->e[k].start < end; k++) {
			const struct edit *e = &fe->e[k];

			if (e->start == pos && e->end == end && !*e->text) {
				d->deleted = 1;
				continue;
			}
			buf_add(&d->now, data + p, e->start - p);
			buf_addstr(&d->now, e->text);
			p = e->end;
			d->changed = 1;
			if (k + 1 == fe->nr || fe->e[k + 1].start >= end)
				buf_add(&d->now, data + p, end - p);
		}
		pos = end;
	}
	buf_addf(out, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n", path, path,
		 path, path);
	for (size_t i = 0, dels = 0; i < n;) {
		size_t a, b, j, oc = 0, nc = 0, dbefore;

		if (!l[i].changed && !l[i].deleted) {
			i++;
			continue;
		}
		a = i >= 3 ? i - 3 : 0;
		b = i;
		/* extend while the next change is within 6 lines */
		for (j = i; j < n; j++)
			if (l[j].changed || l[j].deleted)
				b = j;
			else if (j - b > 6)
				break;
		b = b + 4 < n ? b + 4 : n;
		dbefore = dels;
		for (j = a; j < b; j++) {
			oc++;
			if (!l[j].deleted)
				nc++;
			else if (j >= i)
				dels++;
		}
		buf_addf(out, "@@ -%zu,%zu +%zu,%zu @@\n", a + 1, oc,
			 a + 1 - dbefore, nc);
		for (j = a; j < b;) {
			size_t m;

			if (!l[j].changed && !l[j].deleted) {
				emit(out, ' ', data + l[j].s, l[j].e - l[j].s);
				j++;
				continue;
			}
			for (m = j; m < b && (l[m].changed || l[m].deleted); m++)
				emit(out, '-', data + l[m].s, l[m].e - l[m].s);
			for (m = j; m < b && (l[m].changed || l[m].deleted); m++)
				if (!l[m].deleted)
					emit(out, '+', l[m].now.data, l[m].now.len);
			j = m;
		}
		i = b;
	}
	for (size_t i = 0; i < n; i++)
		buf_release(&l[i].now);
	free(l);
}

int edit_read(const char *path, struct buf *out, struct buf *err)
{
	FILE *fp = fopen(path, "rb");
	char chunk[16384];
	size_t n;

	buf_reset(out);
	if (!fp) {
		buf_seterr(err, "cannot read '%s': %s", path, strerror(errno));
		return CR_ERR_IO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_add(out, chunk, n)) {
			fclose(fp);
			buf_seterr(err, "'%s' is too large", path);
			return CR_ERR_TOO_LARGE;
		}
	fclose(fp);
	return 0;
}

int edit_write_atomic(const char *path, const char *data, size_t len,
		      struct buf *err)
{
	struct buf tmp = BUF_INIT;
	struct stat st;
	int fd = -1, r = CR_ERR_IO;
	size_t off = 0;

	buf_addf(&tmp, "%s.rtup-XXXXXX", path);
	if (lstat(path, &st))
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		/* rename(2) would replace a symlink with a copy */
		buf_seterr(err, "cannot write '%s': not a regular file", path);
		buf_release(&tmp);
		return CR_ERR_IO;
	}
	if ((fd = mkstemp(tmp.data)) < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, st.st_mode & 07777) || fsync(fd) || close(fd))
		goto fail;
	fd = -1;
	if (rename(tmp.data, path))
		goto fail;
	r = 0;
	goto out;
fail:
	buf_seterr(err, "cannot write '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
out:
	buf_release(&tmp);
	return r;
}

int edit_repo(const char *root, struct repo_plan *p, int write,
	      struct buf *diff, struct buf *err)
{
	struct buf *content = xcalloc(p->nr + 1, sizeof(*content));
	struct buf path = BUF_INIT, result = BUF_INIT;
	int r = 0;

	for (size_t i = 0; i < p->nr && !r; i++) {
		unsigned char md[SHA256_LEN];
		char hex[SHA256_HEX_LEN + 1];

		buf_init(&content[i], 0);
		buf_reset(&path);
		buf_addf(&path, "%s/%s", root, p->files[i].path);
		if ((r = edit_read(path.data, &content[i], err)))
			break;
		sha256(content[i].data, content[i].len, md);
		sha256_hex(md, SHA256_LEN, hex);
		if (*p->files[i].hash && strcmp(hex, p->files[i].hash)) {
			buf_seterr(err, "%s: file changed since plan: '%s'",
				   p->repo->name, p->files[i].path);
			r = CR_ERR_EXISTS;
		}
	}
	for (size_t i = 0; i < p->nr && !r; i++) {
		if (diff)
			edit_diff(p->files[i].path, content[i].data,
				  content[i].len, &p->files[i], diff);
		if (!write)
			continue;
		buf_reset(&path);
		buf_addf(&path, "%s/%s", root, p->files[i].path);
		if ((r = edit_apply(content[i].data, content[i].len,
				    &p->files[i], &result)) ||
		    (r = edit_write_atomic(path.data, result.data, result.len,
					   err)))
			break;
	}
	for (size_t i = 0; i < p->nr; i++)
		buf_release(&content[i]);
	free(content);
	buf_release(&path);
	buf_release(&result);
	return r;
}
