/*
 * Our own doublestar matcher and the walk that turns artifact/cache paths
 * into a list of files.  The walk never follows symbolic links: a link is
 * a path of its own (stored as a link by the archiver).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/glob.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* ---- matching ---- */

/*
 * One bracket class starting at *pp ('['), against c.  Returns 1 (match),
 * 0 (no match) and moves *pp past the ']', or -1 when the class is not
 * closed (the '[' is then an ordinary character).
 */
static int class_match(const char **pp, const char *pe, char c)
{
	const char *p = *pp + 1;
	bool negate = false, hit = false, first = true;

	if (p < pe && (*p == '!' || *p == '^')) {
		negate = true;
		p++;
	}
	while (p < pe && (*p != ']' || first)) {
		char lo = *p, hi;

		first = false;
		if (lo == '\\' && p + 1 < pe)
			lo = *++p;
		p++;
		hi = lo;
		if (p + 1 < pe && *p == '-' && p[1] != ']') {
			hi = p[1];
			if (hi == '\\' && p + 2 < pe) {
				hi = p[2];
				p++;
			}
			p += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
	}
	if (p >= pe)
		return -1;
	*pp = p + 1;
	return hit != negate;
}

/* One path component: p..pe against s..se ('/' never occurs in either). */
static bool comp_match(const char *p, const char *pe, const char *s,
		       const char *se)
{
	while (p < pe) {
		const char *q;
		int m;

		switch (*p) {
		case '*':
			while (p < pe && *p == '*')
				p++;
			if (p == pe)
				return true;
			for (; s <= se; s++)
				if (comp_match(p, pe, s, se))
					return true;
			return false;
		case '?':
			if (s == se)
				return false;
			p++;
			s++;
			continue;
		case '[':
			if (s == se)
				return false;
			q = p;
			m = class_match(&q, pe, *s);
			if (m >= 0) {
				if (!m)
					return false;
				p = q;
				s++;
				continue;
			}
			break;
		case '\\':
			if (p + 1 < pe)
				p++;
			break;
		default:
			break;
		}
		if (s == se || *p != *s)
			return false;
		p++;
		s++;
	}
	return s == se;
}

static const char *comp_end(const char *s)
{
	const char *e = strchr(s, '/');

	return e ? e : s + strlen(s);
}

static bool is_doublestar(const char *p, const char *pe)
{
	return pe - p == 2 && p[0] == '*' && p[1] == '*';
}

/* Whether the rest of a pattern is only "**" components. */
static bool only_doublestars(const char *p)
{
	while (*p) {
		const char *pe = comp_end(p);

		if (!is_doublestar(p, pe))
			return false;
		p = *pe ? pe + 1 : pe;
	}
	return true;
}

static bool path_match(const char *p, const char *s)
{
	const char *pe = comp_end(p), *se;

	if (is_doublestar(p, pe)) {
		const char *rest = *pe ? pe + 1 : NULL;

		if (!rest)
			return true;
		for (;;) {
			if (path_match(rest, s))
				return true;
			s = strchr(s, '/');
			if (!s)
				return false;
			s++;
		}
	}
	se = comp_end(s);
	if (!comp_match(p, pe, s, se))
		return false;
	if (!*pe)
		return !*se;
	if (!*se)
		return only_doublestars(pe + 1);
	return path_match(pe + 1, se + 1);
}

bool glob_match(const char *pattern, const char *path)
{
	return path_match(pattern, path);
}

static bool has_meta(const char *s)
{
	return strpbrk(s, "*?[\\") != NULL;
}

/* ---- paths ---- */

int glob_clean_path(const char *project_dir, const char *path,
		    struct buf *out)
{
	size_t plen = strlen(project_dir);
	struct strvec comps = STRVEC_INIT;
	const char *s = path;
	size_t i;
	int r = CR_ERR_INVALID;

	while (plen > 1 && project_dir[plen - 1] == '/')
		plen--;
	buf_reset(out);
	if (path[0] == '/') {
		bool root = plen == 1 && project_dir[0] == '/';

		if (!root && (strncmp(path, project_dir, plen) ||
			      (path[plen] && path[plen] != '/')))
			return CR_ERR_INVALID;
		s = path + (root ? 1 : plen);
	}
	while (*s) {
		const char *e = comp_end(s);
		size_t n = (size_t)(e - s);

		if (n == 0 || (n == 1 && s[0] == '.')) {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (!comps.nr)
				goto out;
			free((char *)comps.v[--comps.nr]);
			comps.v[comps.nr] = NULL;
		} else {
			strvec_push_nodup(&comps, xmemdup(s, n));
		}
		s = *e ? e + 1 : e;
	}
	for (i = 0; i < comps.nr; i++) {
		if (i)
			(void)buf_addch(out, '/');
		(void)buf_addstr(out, comps.v[i]);
	}
	r = 0;
out:
	strvec_clear(&comps);
	return r;
}

/* ---- collecting ---- */

struct collector {
	const char *project_dir;
	const struct glob_spec *spec;
	struct strvec cleaned_exclude;
	struct strvec *out;
	size_t matched;		/* by the current pattern */
	const char *pattern;	/* the wildcard pattern being walked */
	int r;			/* first hard error */
	struct buf *err;
};

static void warnf(const struct collector *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(const struct collector *c, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	if (!c->spec->warn)
		return;
	va_start(ap, fmt);
	(void)buf_vaddf(&line, fmt, ap);
	va_end(ap);
	c->spec->warn(c->spec->warn_ctx, line.data);
	buf_release(&line);
}

static bool excluded(const struct collector *c, const char *rel)
{
	const struct strvec *ex = &c->cleaned_exclude;
	struct buf prefix = BUF_INIT;
	bool hit = false;
	size_t i;

	for (i = 0; i < ex->nr && !hit; i++) {
		const char *s = rel;

		/* The path itself or any directory above it. */
		for (;;) {
			const char *e = comp_end(s);

			buf_reset(&prefix);
			(void)buf_add(&prefix, rel, (size_t)(e - rel));
			if (glob_match(ex->v[i], prefix.data)) {
				hit = true;
				break;
			}
			if (!*e)
				break;
			s = e + 1;
		}
	}
	buf_release(&prefix);
	return hit;
}

static void full_path(const struct collector *c, const char *rel,
		      struct buf *b)
{
	buf_reset(b);
	(void)buf_addstr(b, c->project_dir);
	if (*rel)
		(void)buf_addf(b, "/%s", rel);
}

static void add_tree(struct collector *c, const char *rel);

static void add_children(struct collector *c, const char *rel,
			 void (*each)(struct collector *, const char *))
{
	struct buf path = BUF_INIT, child = BUF_INIT;
	struct dirent *de;
	DIR *d;

	full_path(c, rel, &path);
	if (!(d = opendir(path.data))) {
		warnf(c, "%s: %s", *rel ? rel : ".", strerror(errno));
		buf_release(&path);
		return;
	}
	while (c->r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		buf_reset(&child);
		if (*rel)
			(void)buf_addf(&child, "%s/", rel);
		(void)buf_addstr(&child, de->d_name);
		each(c, child.data);
	}
	closedir(d);
	buf_release(&path);
	buf_release(&child);
}

static void add_tree(struct collector *c, const char *rel)
{
	struct buf path = BUF_INIT;
	struct stat st;

	if (c->r || (*rel && excluded(c, rel)))
		return;
	full_path(c, rel, &path);
	if (lstat(path.data, &st) != 0) {
		buf_release(&path);
		return;
	}
	buf_release(&path);
	if (*rel) {
		if (c->out->nr >= GLOB_MAX_FILES) {
			buf_seterr(c->err, "more than %d files to archive",
				   GLOB_MAX_FILES);
			c->r = CR_ERR_TOO_LARGE;
			return;
		}
		strvec_push(c->out, rel);
		c->matched++;
	}
	if (S_ISDIR(st.st_mode))
		add_children(c, rel, add_tree);
}

static void walk_match(struct collector *c, const char *rel)
{
	struct buf path = BUF_INIT;
	struct stat st;

	if (c->r)
		return;
	if (glob_match(c->pattern, rel)) {
		add_tree(c, rel);	/* a directory brings its contents */
		return;
	}
	full_path(c, rel, &path);
	if (lstat(path.data, &st) == 0 && S_ISDIR(st.st_mode))
		add_children(c, rel, walk_match);
	buf_release(&path);
}

static void collect_pattern(struct collector *c, const char *raw)
{
	struct buf clean = BUF_INIT, path = BUF_INIT, base = BUF_INIT;
	struct stat st;
	const char *s;

	if (glob_clean_path(c->project_dir, raw, &clean) != 0) {
		warnf(c, "artifact path is not a subpath of project directory: %s",
		      raw);
		goto out;
	}
	c->matched = 0;
	if (!has_meta(clean.data)) {
		full_path(c, clean.data, &path);
		if (lstat(path.data, &st) == 0)
			add_tree(c, clean.data);
	} else {
		/* Walk from the deepest directory without wildcards. */
		for (s = clean.data; *s;) {
			const char *e = comp_end(s);

			if (memchr(s, '*', (size_t)(e - s)) ||
			    memchr(s, '?', (size_t)(e - s)) ||
			    memchr(s, '[', (size_t)(e - s)) ||
			    memchr(s, '\\', (size_t)(e - s)) || !*e)
				break;
			if (base.len)
				(void)buf_addch(&base, '/');
			(void)buf_add(&base, s, (size_t)(e - s));
			s = e + 1;
		}
		full_path(c, base.data, &path);
		if (lstat(path.data, &st) == 0 && S_ISDIR(st.st_mode)) {
			c->pattern = clean.data;
			add_children(c, base.data, walk_match);
			c->pattern = NULL;
		}
	}
	if (!c->matched && !c->r)
		warnf(c, "%s: no matching files. Ensure that the artifact path is relative to the working directory (%s)",
		      raw, c->project_dir);
out:
	buf_release(&clean);
	buf_release(&path);
	buf_release(&base);
}

static void collect_untracked(struct collector *c)
{
	struct proc p = PROC_INIT;
	struct buf out = BUF_INIT, perr = BUF_INIT;
	char chunk[8192];
	size_t i, start;
	ssize_t n;
	int status;

	strvec_pushv(&p.args, (const char *[]){ "git", "ls-files", "--others",
			"--exclude-standard", "-z", NULL });
	p.dir = c->project_dir;
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_NULL;
	if (proc_start(&p, &perr) != 0) {
		warnf(c, "untracked: %s", perr.data);
		goto out;
	}
	for (;;) {
		n = read(p.out, chunk, sizeof(chunk));
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			/* The pipe is non-blocking: wait for more. */
			usleep(1000);
			continue;
		}
		if (n <= 0)
			break;
		if (buf_add(&out, chunk, (size_t)n) != 0) {
			warnf(c, "untracked: too many untracked files");
			break;
		}
	}
	status = proc_wait(&p);
	if (status != 0) {
		warnf(c, "untracked: git ls-files failed with exit status %d",
		      status);
		goto out;
	}
	c->matched = 0;
	for (i = start = 0; i < out.len; i++) {
		if (out.data[i])
			continue;
		if (i > start)
			add_tree(c, out.data + start);
		start = i + 1;
	}
out:
	proc_release(&p);
	buf_release(&out);
	buf_release(&perr);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int glob_collect(const char *project_dir, const struct glob_spec *spec,
		 struct strvec *out, struct buf *err)
{
	struct collector c = { 0 };
	struct buf clean = BUF_INIT;
	size_t i, j;

	c.project_dir = project_dir;
	c.spec = spec;
	c.out = out;
	c.err = err;
	strvec_init(&c.cleaned_exclude);
	for (i = 0; spec->exclude && i < spec->exclude->nr; i++) {
		if (glob_clean_path(project_dir, spec->exclude->v[i], &clean))
			warnf(&c, "exclude path is not a subpath of project directory: %s",
			      spec->exclude->v[i]);
		else if (clean.len)
			strvec_push(&c.cleaned_exclude, clean.data);
	}
	for (i = 0; spec->paths && i < spec->paths->nr && !c.r; i++)
		collect_pattern(&c, spec->paths->v[i]);
	if (spec->untracked && !c.r)
		collect_untracked(&c);
	buf_release(&clean);
	strvec_clear(&c.cleaned_exclude);
	if (c.r)
		return c.r;
	if (out->nr > 1) {
		qsort(out->v, out->nr, sizeof(*out->v), cmp_str);
		for (i = j = 1; i < out->nr; i++) {
			if (!strcmp(out->v[i], out->v[j - 1]))
				free((char *)out->v[i]);
			else
				out->v[j++] = out->v[i];
		}
		out->nr = j;
		out->v[j] = NULL;
	}
	return 0;
}
