/*
 * Walking a repository: which files are read (default excludes, size and
 * binary checks; symlinks are never followed), and the per-line dispatch
 * of one file to its format scanner, annotations and custom rules.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan_int.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define RTUP_MAX_FILE ((size_t)1 << 20)
#define RTUP_BINARY_PROBE 8192

struct pin *pinvec_add(struct pinvec *pv)
{
	if (pv->nr == pv->alloc) {
		pv->alloc = pv->alloc ? 2 * pv->alloc : 32;
		pv->v = xreallocarray(pv->v, pv->alloc, sizeof(*pv->v));
	}
	memset(&pv->v[pv->nr], 0, sizeof(*pv->v));
	return &pv->v[pv->nr++];
}

void pinvec_release(struct pinvec *pv)
{
	for (size_t i = 0; i < pv->nr; i++) {
		free(pv->v[i].path);
		free(pv->v[i].runtime);
		free(pv->v[i].value);
		free(pv->v[i].name);
		free(pv->v[i].note);
	}
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

static int excluded(const struct repo_conf *repo, const char *rel,
		    const char *base)
{
	static const char *const defaults[] = {
		"vendor", "node_modules", "testdata", ".git", ".rtup",
	};

	for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
		if (!strcmp(base, defaults[i]))
			return 1;
	for (size_t i = 0; i < repo->exclude.nr; i++) {
		const char *e = repo->exclude.v[i];
		size_t n = strlen(e);

		if (n && e[n - 1] == '/')
			n--;
		if ((strlen(rel) == n && !strncmp(rel, e, n)) ||
		    (strlen(base) == n && !strncmp(base, e, n)))
			return 1;
	}
	return 0;
}

int read_text_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int r = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > RTUP_MAX_FILE)
		goto out;
	buf_reset(out);
	if (buf_grow(out, (size_t)st.st_size + 1))
		goto out;
	for (;;) {
		ssize_t n = read(fd, out->data + out->len,
				 out->alloc - out->len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (!n)
			break;
		out->len += (size_t)n;	/* read() filled the reserved room */
		out->data[out->len] = '\0';
		if (out->len > RTUP_MAX_FILE)
			goto out;
		if (out->alloc - out->len < 2 && buf_grow(out, 4096))
			goto out;
	}
	out->data[out->len] = '\0';
	r = memchr(out->data, '\0', out->len < RTUP_BINARY_PROBE ?
		   out->len : RTUP_BINARY_PROBE) ? -1 : 0;
out:
	close(fd);
	return r;
}

struct walk {
	const struct conf *c;
	const struct repo_conf *repo;
	const char *root;
	char *realroot;
	struct pinvec *out;
	size_t *hits;
	struct buf content, line, abspath;
	int *want;
	text_file_fn each;	/* set: every text file goes here instead */
	void *each_arg;
};

int scan_buffer(const struct conf *c, const struct repo_conf *repo,
		const char *rel, const char *data, size_t len,
		struct pinvec *out, size_t *hits, int *want, struct buf *line)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	struct scan_ctx x;
	scan_line_fn fn;
	int ci = 0, rank = 9, any = 0;

	memset(&x, 0, sizeof(x));
	fn = scan_choose(rel, base, c->docs, &ci, &rank);
	for (size_t k = 0; k < c->nrules; k++) {
		want[k] = 0;
		for (size_t j = 0; j < c->rules[k].files.nr; j++)
			if (path_glob_match(c->rules[k].files.v[j], rel))
				want[k] = any = 1;
	}
	if (!fn && !any)
		return 0;
	if (!data)
		return 1;
	x.c = c;
	x.repo = repo;
	x.path = rel;
	x.data = data;
	x.len = len;
	x.out = out;
	x.first = out->nr;
	x.ci = ci;
	x.rank = rank;
	for (size_t pos = 0; pos < x.len; pos = x.ln) {
		const char *nl = memchr(x.data + pos, '\n', x.len - pos);
		size_t before = x.out->nr;

		x.ls = pos;
		x.ln = nl ? (size_t)(nl - x.data) + 1 : x.len;
		x.le = nl ? (size_t)(nl - x.data) : x.len;
		if (x.le > x.ls && x.data[x.le - 1] == '\r')
			x.le--;
		x.lineno++;
		/* A UTF-8 byte order mark is not part of the first line. */
		if (pos == 0 && x.le - x.ls >= 3 &&
		    !memcmp(x.data, "\xef\xbb\xbf", 3))
			x.ls = 3;
		if (fn) {
			fn(&x);
			if (x.out->nr == before && (ci || rank >= 5))
				scan_derived_refs(&x, "ref");
			if (x.out->nr == before)
				scan_annotation(&x);
		}
		if (any)
			scan_rules(&x, want, hits, line);
	}
	scan_bind_annotations(&x);
	scan_apply_overrides(&x);
	return 1;
}

static void scan_file(struct walk *w, const char *rel)
{
	if (w->each) {
		buf_reset(&w->abspath);
		buf_addf(&w->abspath, "%s/%s", w->root, rel);
		if (!read_text_file(w->abspath.data, &w->content))
			w->each(w->each_arg, rel, w->content.data,
				w->content.len);
		return;
	}
	if (!scan_buffer(w->c, w->repo, rel, NULL, 0, w->out, w->hits,
			 w->want, &w->line))
		return;
	buf_reset(&w->abspath);
	buf_addf(&w->abspath, "%s/%s", w->root, rel);
	if (read_text_file(w->abspath.data, &w->content))
		return;
	scan_buffer(w->c, w->repo, rel, w->content.data, w->content.len,
		    w->out, w->hits, w->want, &w->line);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void walk_dir(struct walk *w, const char *rel, int depth)
{
	struct buf dir = BUF_INIT;
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	DIR *dh;

	if (depth > 64)
		return;
	buf_addf(&dir, "%s%s%s", w->root, *rel ? "/" : "", rel);
	if (!(dh = opendir(dir.data))) {
		buf_release(&dir);
		return;
	}
	while ((de = readdir(dh)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&names, de->d_name);
	closedir(dh);
	qsort(names.v, names.nr, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.nr; i++) {
		struct buf sub = BUF_INIT, full = BUF_INIT;
		struct stat st;

		buf_addf(&sub, "%s%s%s", rel, *rel ? "/" : "", names.v[i]);
		buf_addf(&full, "%s/%s", w->root, sub.data);
		if (lstat(full.data, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (!excluded(w->repo, sub.data, names.v[i]))
					walk_dir(w, sub.data, depth + 1);
			} else if (S_ISREG(st.st_mode)) {
				scan_file(w, sub.data);
			}
			/*
			 * Symlinks are never read: one leaving the repository
			 * is not ours, and one staying inside points at a file
			 * scanned under its own path (writing through the link
			 * would replace it with a copy).
			 */
		}
		buf_release(&sub);
		buf_release(&full);
	}
	strvec_clear(&names);
	buf_release(&dir);
}

int scan_repo(const struct conf *c, const struct repo_conf *repo,
	      const char *root, struct pinvec *out, size_t *hits,
	      struct buf *err)
{
	struct walk w;
	int r = CR_ERR_INTERNAL;

	memset(&w, 0, sizeof(w));
	w.c = c;
	w.repo = repo;
	w.root = root;
	w.out = out;
	w.hits = hits;
	buf_init(&w.content, 0);
	buf_init(&w.line, 0);
	buf_init(&w.abspath, 0);
	w.want = xcalloc(c->nrules + 1, sizeof(*w.want));
	if (!(w.realroot = realpath(root, NULL))) {
		buf_seterr(err, "%s:%d: cannot open repository '%s' at '%s': %s",
			   c->path, repo->line, repo->name, root,
			   strerror(errno));
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	walk_dir(&w, "", 0);
	r = 0;
out:
	free(w.realroot);
	free(w.want);
	buf_release(&w.content);
	buf_release(&w.line);
	buf_release(&w.abspath);
	return r;
}

void repo_each_text_file(const struct repo_conf *repo, const char *root,
			 text_file_fn fn, void *arg)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.repo = repo;
	w.root = root;
	w.each = fn;
	w.each_arg = arg;
	buf_init(&w.content, 0);
	buf_init(&w.abspath, 0);
	walk_dir(&w, "", 0);
	buf_release(&w.content);
	buf_release(&w.abspath);
}
