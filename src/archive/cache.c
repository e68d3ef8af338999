/*
 * Cache keys and the local cache archive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/cache.h"
#include "archive/zipzstd.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A component no key can hold (a control character), for the root. */
#define ROOT_MARK "\x01"

/*
 * The length of the white space (Go's unicode.IsSpace, in UTF-8) that
 * ends s[0..len), 0 when it does not end with any.
 */
static size_t trailing_space_len(const char *s, size_t len)
{
	static const char *const wide[] = {
		"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\xa8",
		"\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
	};
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (len && (u[len - 1] == ' ' ||
		    (u[len - 1] >= '\t' && u[len - 1] <= '\r')))
		return 1;
	/* U+2000 to U+200A */
	if (len >= 3 && u[len - 3] == 0xe2 && u[len - 2] == 0x80 &&
	    u[len - 1] >= 0x80 && u[len - 1] <= 0x8a)
		return 3;
	for (i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		size_t n = strlen(wide[i]);

		if (len >= n && !memcmp(s + len - n, wide[i], n))
			return n;
	}
	return 0;
}

/*
 * path.Clean("/" + in) without its leading '/': glob_clean_path() refuses
 * a ".." above its root, while path.Clean keeps it at the root, so enough
 * marker levels go in front that it never climbs out, and are cut off.
 */
static int clean_rooted(const char *in, struct buf *out)
{
	struct buf rooted = BUF_INIT, clean = BUF_INIT;
	size_t depth = 1, i;
	const char *s;
	int r;

	for (s = in; *s; s++)
		if (*s == '/')
			depth++;
	for (i = 0; i < depth + 1; i++)
		(void)buf_addstr(&rooted, "/" ROOT_MARK);
	(void)buf_addch(&rooted, '/');
	(void)buf_addstr(&rooted, in);
	buf_reset(out);
	r = glob_clean_path("/", rooted.data, &clean);
	if (!r) {
		/* Every marker left at the front is one of ours. */
		s = clean.data;
		while (s[0] == ROOT_MARK[0] && (s[1] == '/' || !s[1]))
			s += s[1] ? 2 : 1;
		(void)buf_addstr(out, s);
	}
	buf_release(&rooted);
	buf_release(&clean);
	return r;
}

/* Trailing white space off the last components, dropping emptied ones. */
static void trim_last_components(struct buf *key)
{
	size_t end = key->len, n;

	for (;;) {
		while ((n = trailing_space_len(key->data, end)))
			end -= n;
		if (end && key->data[end - 1] == '/') {
			end--;
			continue;
		}
		break;
	}
	buf_setlen(key, end);
}

int cache_key_sanitize(const char *key, struct buf *out, struct buf *err)
{
	struct buf norm = BUF_INIT, next = BUF_INIT;
	const char *s;
	int r = CR_ERR_INVALID;

	buf_reset(out);
	if (!key || !*key) {
		buf_seterr(err, "empty cache key");
		return CR_ERR_INVALID;
	}
	for (s = key; *s; s++) {
		if (s[0] == '%' && s[1] == '2' &&
		    (s[2] == 'f' || s[2] == 'F')) {
			(void)buf_addch(&norm, '/');
			s += 2;
		} else if (s[0] == '%' && s[1] == '2' &&
			   (s[2] == 'e' || s[2] == 'E')) {
			(void)buf_addch(&norm, '.');
			s += 2;
		} else {
			(void)buf_addch(&norm, *s == '\\' ? '/' : *s);
		}
	}
	/*
	 * gitlab-runner resolves "." and ".." first and trims white space
	 * after, so ".. " or "a/.. /b/.." come out as "..": trimming can make
	 * a new "." or "..".  Resolve and trim again until neither changes
	 * anything; each round that changes something makes the key shorter.
	 */
	(void)buf_addstr(out, norm.data);
	for (;;) {
		if (clean_rooted(out->data, &next) != 0)
			goto out;
		trim_last_components(&next);
		if (next.len == out->len && !strcmp(next.data, out->data))
			break;
		buf_reset(out);
		(void)buf_add(out, next.data, next.len);
	}
	if (!out->len)
		goto out;
	r = 0;
out:
	if (r) {
		buf_reset(out);
		buf_seterr(err, "cache key \"%s\" could not be sanitized", key);
	}
	buf_release(&norm);
	buf_release(&next);
	return r;
}

void cache_fallback_key_trim(const char *key, struct buf *out)
{
	size_t len = strlen(key);

	while (len && (key[len - 1] == ' ' || key[len - 1] == '/' ||
		       key[len - 1] == '\\'))
		len--;
	buf_reset(out);
	(void)buf_add(out, key, len);
}

enum cache_policy_check cache_policy_allows(const char *policy, bool pull)
{
	if (!policy || !*policy || !strcmp(policy, "pull-push"))
		return CACHE_POLICY_YES;
	if (!strcmp(policy, "pull"))
		return pull ? CACHE_POLICY_YES : CACHE_POLICY_NO;
	if (!strcmp(policy, "push"))
		return pull ? CACHE_POLICY_NO : CACHE_POLICY_YES;
	return CACHE_POLICY_INVALID;
}

static int mkdir_parents(const char *file, struct buf *err)
{
	char *dir = xstrdup(file), *p;

	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			buf_seterr(err, "cannot create '%s': %s", dir,
				   strerror(errno));
			free(dir);
			return CR_ERR_IO;
		}
		*p = '/';
	}
	free(dir);
	return 0;
}

/* A zipzstd cache is a zip: only tarzstd differs on disk by its start. */
static bool same_kind(enum cache_format a, enum cache_format b)
{
	return (a == CACHE_FORMAT_TARZSTD) == (b == CACHE_FORMAT_TARZSTD);
}

/*
 * Same names as the archive, nothing changed after it was written, and
 * the archive is a tar+zstd exactly when format is.
 */
static bool archive_current(const char *project_dir, const char *file,
			    const struct strvec *files,
			    enum cache_format format)
{
	struct strvec names = STRVEC_INIT;
	struct buf err = BUF_INIT, path = BUF_INIT;
	struct stat ast, st;
	enum cache_format found;
	bool same = false;
	size_t i;

	if (stat(file, &ast) != 0 ||
	    cache_format_sniff(file, &found, &err) != 0 ||
	    !same_kind(found, format) || zip_list(file, &names, &err) != 0 ||
	    names.nr != files->nr)
		goto out;
	for (i = 0; i < files->nr; i++) {
		if (strcmp(names.v[i], files->v[i]))
			goto out;
		buf_reset(&path);
		(void)buf_addf(&path, "%s/%s", project_dir, files->v[i]);
		if (lstat(path.data, &st) != 0)
			goto out;
		/* A directory's own time moves with extraction; its entries
		 * are compared by name above. */
		if (S_ISDIR(st.st_mode))
			continue;
		if (st.st_mtim.tv_sec > ast.st_mtim.tv_sec ||
		    (st.st_mtim.tv_sec == ast.st_mtim.tv_sec &&
		     st.st_mtim.tv_nsec >= ast.st_mtim.tv_nsec))
			goto out;
	}
	same = true;
out:
	strvec_clear(&names);
	buf_release(&err);
	buf_release(&path);
	return same;
}

/* Writes files into out_path in comp's format. */
static int cache_archive_write(const char *project_dir,
			       const struct strvec *files, const char *out_path,
			       const struct cache_compression *comp,
			       const struct glob_spec *spec, struct buf *err)
{
	switch (comp->format) {
	case CACHE_FORMAT_TARZSTD:
		return tarzstd_create(project_dir, files, out_path, comp->level,
				      spec->warn, spec->warn_ctx, err);
	case CACHE_FORMAT_ZIPZSTD:
		return zipzstd_create(project_dir, files, out_path, comp->level,
				      spec->warn, spec->warn_ctx, err);
	case CACHE_FORMAT_ZIP:
		break;
	}
	return zip_create(project_dir, files, out_path, comp->level,
			  spec->warn, spec->warn_ctx, err);
}

int cache_archive_create(const char *project_dir,
			 const struct glob_spec *spec, const char *file,
			 const struct cache_compression *comp,
			 bool *up_to_date, bool *nothing, struct buf *err)
{
	struct strvec files = STRVEC_INIT;
	struct buf tmp = BUF_INIT;
	int r;

	*up_to_date = *nothing = false;
	if ((r = glob_collect(project_dir, spec, &files, err)) != 0)
		goto out;
	if (!files.nr) {
		*nothing = true;
		goto out;
	}
	if (archive_current(project_dir, file, &files, comp->format)) {
		*up_to_date = true;
		goto out;
	}
	if ((r = mkdir_parents(file, err)) != 0)
		goto out;
	(void)buf_addf(&tmp, "%s.tmp-%ld", file, (long)getpid());
	if ((r = cache_archive_write(project_dir, &files, tmp.data, comp,
				     spec, err)) != 0) {
		unlink(tmp.data);
		goto out;
	}
	if (rename(tmp.data, file) != 0) {
		buf_seterr(err, "cannot rename '%s' to '%s': %s", tmp.data,
			   file, strerror(errno));
		unlink(tmp.data);
		r = CR_ERR_IO;
		goto out;
	}
	r = 0;
out:
	strvec_clear(&files);
	buf_release(&tmp);
	return r;
}
