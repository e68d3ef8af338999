/*
 * Release tables (versions/<runtime>.tsv) and maps for indirect pins
 * (versions/maps/<name>.tsv).  Both are read line by line; a bad row is an
 * error naming file:line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtup.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int date_parse(const char *s, time_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

static int cmp_release(const void *a, const void *b)
{
	return ver_cmp(&((const struct release *)a)->v,
		       &((const struct release *)b)->v);
}

/* Splits a line into at most max tab-separated fields, in place. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		if (!(line = strchr(line, '\t')))
			break;
		*line++ = '\0';
	}
	return n;
}

int feed_load(const char *dir, const char *runtime, struct feed *f,
	      struct buf *err)
{
	struct buf path = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, r = CR_ERR_INTERNAL;
	FILE *fp = NULL;

	memset(f, 0, sizeof(*f));
	f->runtime = xstrdup(runtime);
	buf_addf(&path, "%s/%s.tsv", dir, runtime);
	if (!(fp = fopen(path.data, "r"))) {
		buf_seterr(err, "%s:0: cannot read the release table of '%s': "
			   "%s", path.data, runtime, strerror(errno));
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	while (getline(&line, &cap, fp) > 0) {
		char *fld[5];
		size_t n;
		struct release rel;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		memset(&rel, 0, sizeof(rel));
		n = split_tabs(line, fld, 5);
		if (n < 3 || strcmp(fld[0], runtime) ||
		    ver_parse_str(fld[1], &rel.v) ||
		    (strcmp(fld[2], "-") && date_parse(fld[2], &rel.date))) {
			buf_seterr(err, "%s:%d: bad release row (want "
				   "RUNTIME<TAB>VERSION<TAB>YYYY-MM-DD<TAB>FLAGS)",
				   path.data, lineno);
			r = CR_ERR_INVALID;
			goto out;
		}
		for (size_t i = 3; i < n; i++) {
			if (strstr(fld[i], "prerelease"))
				rel.prerelease = 1;
			if (!strncmp(fld[i], "eol=", 4) &&
			    date_parse(fld[i] + 4, &rel.eol)) {
				buf_seterr(err, "%s:%d: bad eol= date",
					   path.data, lineno);
				r = CR_ERR_INVALID;
				goto out;
			}
		}
		if (*rel.v.pre)
			rel.prerelease = 1;
		f->r = xreallocarray(f->r, f->nr + 1, sizeof(*f->r));
		f->r[f->nr++] = rel;
	}
	if (!f->nr) {
		buf_seterr(err, "%s:%d: the release table of '%s' is empty",
			   path.data, lineno, runtime);
		r = CR_ERR_INVALID;
		goto out;
	}
	qsort(f->r, f->nr, sizeof(*f->r), cmp_release);
	r = 0;
out:
	if (r)
		feed_release(f);
	if (fp)
		fclose(fp);
	free(line);
	buf_release(&path);
	return r;
}

void feed_release(struct feed *f)
{
	free(f->runtime);
	free(f->r);
	memset(f, 0, sizeof(*f));
}

/* The first stable release of the line v is on (node 22.0.0, go 1.26.0). */
static const struct release *line_start(const struct feed *f,
					const struct ver *v)
{
	for (size_t i = 0; i < f->nr; i++)
		if (!f->r[i].prerelease &&
		    support_same_line(f->runtime, &f->r[i].v, v))
			return &f->r[i];
	return NULL;
}

int feed_line_supported(const struct feed *f, const struct ver *v,
			time_t now)
{
	const struct release *first = line_start(f, v);

	if (!first || (first->date && first->date > now))
		return -1;
	return support_line_supported(f, first, now);
}

size_t feed_supported(const struct feed *f, time_t now, struct ver *out,
		      size_t max)
{
	struct ver all[256];
	int parts = support_line_parts(f->runtime);
	size_t n = 0, skip;

	for (size_t i = 0; i < f->nr && n < 256; i++) {
		const struct release *r = &f->r[i];

		if (r->prerelease || (r->date && r->date > now))
			continue;
		if (n && support_same_line(f->runtime, &all[n - 1], &r->v))
			continue;
		if (!support_is_target_line(f->runtime, &r->v) ||
		    !support_line_supported(f, line_start(f, &r->v), now))
			continue;
		all[n] = r->v;
		for (int k = parts; k < 3; k++)
			all[n].n[k] = 0;
		all[n].parts = parts;
		all[n].pre[0] = '\0';
		n++;
	}
	skip = n > max ? n - max : 0;
	for (size_t i = skip; i < n; i++)
		out[i - skip] = all[i];
	return n - skip;
}

const struct release *feed_newest_patch(const struct feed *f,
					const struct ver *minor, time_t now)
{
	const struct release *best = NULL;

	for (size_t i = 0; i < f->nr; i++)
		if (!f->r[i].prerelease &&
		    support_same_line(f->runtime, &f->r[i].v, minor) &&
		    (!f->r[i].date || f->r[i].date <= now))
			best = &f->r[i];
	return best;
}

int map_lookup(const char *dir, const char *map, const char *rt,
	       const struct ver *v, char **revision, struct buf *err)
{
	struct buf path = BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, r = CR_ERR_INTERNAL;
	struct ver best_rev = { .parts = 0 };
	FILE *fp;

	*revision = NULL;
	buf_addf(&path, "%s/maps/%s.tsv", dir, map);
	if (!(fp = fopen(path.data, "r"))) {
		buf_seterr(err, "%s:0: cannot read map '%s': %s", path.data,
			   map, strerror(errno));
		buf_release(&path);
		return CR_ERR_NOT_FOUND;
	}
	while (getline(&line, &cap, fp) > 0) {
		char *fld[3];
		struct ver rv, vv;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line || *line == '#')
			continue;
		if (split_tabs(line, fld, 3) != 3 ||
		    ver_parse_str(fld[2], &vv)) {
			buf_seterr(err, "%s:%d: bad map row (want "
				   "REVISION<TAB>RUNTIME<TAB>VERSION)",
				   path.data, lineno);
			r = CR_ERR_INVALID;
			goto out;
		}
		if (strcmp(fld[1], rt) || ver_cmp(&vv, v))
			continue;
		if (ver_parse_str(fld[0], &rv) == 0 &&
		    (!*revision || ver_cmp(&rv, &best_rev) < 0)) {
			free(*revision);
			*revision = xstrdup(fld[0]);
			best_rev = rv;
		} else if (!*revision)
			*revision = xstrdup(fld[0]);
	}
	r = 0;
out:
	if (r) {
		free(*revision);
		*revision = NULL;
	}
	fclose(fp);
	free(line);
	buf_release(&path);
	return r;
}
