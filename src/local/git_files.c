/*
 * A plain repository's HEAD commit and user identity read from its files
 * (git_files.h): two fewer git processes for every `crunner exec`.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "local/git_files.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GIT_FILE_MAX ((size_t)1 << 20)

/* Variables that make git read another repository, objects or config. */
static bool env_moves_git(void)
{
	static const char *const moved[] = {
		"GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE", "GIT_CONFIG",
		"GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_COUNT",
		"GIT_CONFIG_PARAMETERS", "GIT_OBJECT_DIRECTORY",
		"GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_REPLACE_REF_BASE",
		"GIT_GRAFT_FILE", "GIT_SHALLOW_FILE", "GIT_NAMESPACE", NULL,
	};
	size_t i;

	for (i = 0; moved[i]; i++)
		if (getenv(moved[i]))
			return true;
	return false;
}

/*
 * A whole file (at most GIT_FILE_MAX bytes) into *text; true with *text
 * NULL when it does not exist, false when it cannot be read.
 */
static bool read_file(const char *path, char **text)
{
	struct buf b = BUF_INIT;
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*text = NULL;
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 &&
	       b.len + (size_t)n <= GIT_FILE_MAX)
		(void)buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (n != 0) {
		buf_release(&b);
		return false;
	}
	*text = buf_detach(&b, NULL);
	return true;
}

static char *git_path(const char *root, const char *name)
{
	struct buf b = BUF_INIT;

	(void)buf_addf(&b, "%s/.git/%s", root, name);
	return buf_detach(&b, NULL);
}

static bool exists(const char *root, const char *name)
{
	char *path = git_path(root, name);
	struct stat st;
	bool there = lstat(path, &st) == 0;

	free(path);
	return there;
}

static bool is_sha(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* ---- config files ---- */

/*
 * Calls fn for every "section.key value" of a config file's text, section
 * and key lower-cased ("user.name", "i18n.logoutputencoding"; a
 * subsection stays quoted: "remote.\"origin\".url"), the value as written
 * (fn decides what it can take of it); false for what this reader leaves
 * to git: escapes and continued lines, a subsection with escapes, a key
 * without '=', text after a section header.
 */
static bool config_scan(const char *text,
			void (*fn)(void *ctx, const char *key, const char *value),
			void *ctx)
{
	struct buf section = BUF_INIT;
	const char *p = text;
	bool ok = true;

	while (ok && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len), *l = line, *end, *eq;

		p += len + (eol != NULL);
		while (*l == ' ' || *l == '\t')
			l++;
		end = l + strlen(l);
		while (end > l && strchr(" \t\r", end[-1]))
			*--end = 0;
		if (!*l || *l == '#' || *l == ';') {
			free(line);
			continue;
		}
		ok = !strchr(l, '\\');
		if (ok && *l == '[') {
			const char *q = l + 1, *quote = strchr(l, '"');

			buf_reset(&section);
			while (ok && *q && *q != ']' && *q != ' ') {
				ok = isalnum((unsigned char)*q) || *q == '-' ||
					*q == '.';
				(void)buf_addch(&section,
						(char)tolower((unsigned char)*q));
				q++;
			}
			if (ok && *q == ' ' && quote == q + 1) {
				const char *close = strchr(quote + 1, '"');

				ok = close && close[1] == ']' && !close[2];
				if (ok)
					(void)buf_addf(&section, ".%.*s",
						       (int)(close + 1 - quote),
						       quote);
			} else {
				ok = ok && *q == ']' && !q[1] && section.len;
			}
		} else if (ok) {
			eq = strchr(l, '=');
			ok = eq && section.len;
			if (ok) {
				char *k = l, *kend = eq, *v = eq + 1, *key;
				struct buf full = BUF_INIT;

				while (kend > k && (kend[-1] == ' ' ||
						    kend[-1] == '\t'))
					kend--;
				while (*v == ' ' || *v == '\t')
					v++;
				key = xstrndup(k, (size_t)(kend - k));
				for (k = key; *k && ok; k++) {
					ok = isalnum((unsigned char)*k) ||
						*k == '-';
					*k = (char)tolower((unsigned char)*k);
				}
				ok = ok && *key;
				if (ok) {
					(void)buf_addf(&full, "%s.%s",
						       section.data, key);
					fn(ctx, full.data, v);
				}
				buf_release(&full);
				free(key);
			}
		}
		free(line);
	}
	buf_release(&section);
	return ok;
}

struct config_answer {
	struct buf user;	/* "user.name X\nuser.email Y\n" */
	bool unsupported;	/* a key this reader cannot honour */
};

static void on_config(void *ctx, const char *key, const char *value)
{
	struct config_answer *a = ctx;

	if (!strcmp(key, "user.name") || !strcmp(key, "user.email")) {
		/* Quotes, comments and tabs: git's value parser decides. */
		if (strpbrk(value, "\"#;\t"))
			a->unsupported = true;
		else
			(void)buf_addf(&a->user, "%s %s\n", key, value);
	} else if (!strcmp(key, "include.path") ||
		 !strncmp(key, "includeif.", 10) ||
		 !strncmp(key, "extensions.", 11) ||
		 !strcmp(key, "i18n.logoutputencoding") ||
		 (!strcmp(key, "core.repositoryformatversion") &&
		  strcmp(value, "0") != 0))
		a->unsupported = true;
}

/* Every config file git reads here, in its order, through on_config(). */
static bool config_all(const char *root, struct config_answer *a)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	struct buf path = BUF_INIT;
	char *paths[4] = { NULL, NULL, NULL, NULL };
	bool ok = home && *home;
	size_t i;

	buf_init(&a->user, 0);
	a->unsupported = false;
	if (!ok)
		return false;
	if (!getenv("GIT_CONFIG_NOSYSTEM"))
		paths[0] = xstrdup("/etc/gitconfig");
	if (xdg && *xdg)
		(void)buf_addf(&path, "%s/git/config", xdg);
	else
		(void)buf_addf(&path, "%s/.config/git/config", home);
	paths[1] = buf_detach(&path, NULL);
	(void)buf_addf(&path, "%s/.gitconfig", home);
	paths[2] = buf_detach(&path, NULL);
	paths[3] = git_path(root, "config");
	for (i = 0; i < 4; i++) {
		char *text = NULL;

		if (ok && paths[i] && (ok = read_file(paths[i], &text)) && text)
			ok = config_scan(text, on_config, a);
		free(text);
		free(paths[i]);
	}
	if (!ok || a->unsupported) {
		buf_release(&a->user);
		return false;
	}
	return true;
}

bool git_files_user(const char *root, char **out)
{
	struct config_answer a;

	*out = NULL;
	if (env_moves_git() || !config_all(root, &a))
		return false;
	*out = buf_detach(&a.user, NULL);
	return true;
}

/* ---- HEAD's commit ---- */

/* The sha refs/heads/<branch> names, loose or packed; false when none. */
static bool branch_sha(const char *root, const char *ref, const char *packed,
		       char sha[41])
{
	char *path = git_path(root, ref), *text = NULL;
	const char *p;
	bool ok = read_file(path, &text);

	free(path);
	if (!ok)
		return false;
	if (text) {
		ok = strlen(text) >= 40 && is_sha(text) &&
			(text[40] == '\n' || text[40] == 0);
		if (ok)
			memcpy(sha, text, 40);
		free(text);
		sha[40] = 0;
		return ok;
	}
	/* "<sha> refs/heads/x\n" lines; "^<sha>" peel lines follow tags. */
	for (p = packed; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len == 41 + strlen(ref) && p[40] == ' ' && is_sha(p) &&
		    !strncmp(p + 41, ref, strlen(ref))) {
			memcpy(sha, p, 40);
			sha[40] = 0;
			return true;
		}
		p = eol ? eol + 1 : p + len;
	}
	return false;
}

/* A loose object's inflated bytes; false when it is not a loose commit. */
static bool loose_commit(const char *root, const char *sha, struct buf *out)
{
	struct buf name = BUF_INIT;
	char *path, *raw = NULL, chunk[16384];
	z_stream z;
	int zr;
	bool ok;
	struct stat st;

	(void)buf_addf(&name, "objects/%.2s/%s", sha, sha + 2);
	path = git_path(root, name.data);
	buf_release(&name);
	ok = lstat(path, &st) == 0 && read_file(path, &raw) && raw;
	free(path);
	if (!ok) {
		free(raw);
		return false;
	}
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		free(raw);
		return false;
	}
	z.next_in = (unsigned char *)raw;
	z.avail_in = (uInt)st.st_size;
	do {
		z.next_out = (unsigned char *)chunk;
		z.avail_out = sizeof(chunk);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			break;
		(void)buf_add(out, chunk, sizeof(chunk) - z.avail_out);
	} while (zr != Z_STREAM_END && out->len < GIT_FILE_MAX);
	inflateEnd(&z);
	free(raw);
	if (zr != Z_STREAM_END || out->len < 8 ||
	    strncmp(out->data, "commit ", 7))
		return false;
	{
		const char *nul = memchr(out->data, 0, out->len);
		char *end;
		unsigned long size;

		if (!nul)
			return false;
		size = strtoul(out->data + 7, &end, 10);
		return end == nul && size == out->len - (size_t)(nul + 1 - out->data);
	}
}

/* "Name <email> 1700000000 +0100" -> name+email part and the ISO date. */
static bool ident_date(const char *ident, size_t len, char **who, char **iso)
{
	const char *gt = NULL, *p;
	char *line = xstrndup(ident, len), *end;
	long long ts;
	long tz;
	int sign, hh, mm;
	time_t t;
	struct tm tm;
	char date[64];

	for (p = line; *p; p++)
		if (*p == '>')
			gt = p;
	if (!gt || gt[1] != ' ') {
		free(line);
		return false;
	}
	*who = xstrndup(line, (size_t)(gt + 1 - line));
	ts = strtoll(gt + 2, &end, 10);
	if (*end != ' ' || (end[1] != '+' && end[1] != '-') ||
	    strlen(end + 2) != 4 || !isdigit((unsigned char)end[2])) {
		free(*who);
		free(line);
		return false;
	}
	sign = end[1] == '-' ? -1 : 1;
	tz = strtol(end + 2, NULL, 10);
	hh = (int)(tz / 100);
	mm = (int)(tz % 100);
	t = (time_t)(ts + sign * (hh * 3600 + mm * 60));
	if (!gmtime_r(&t, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		free(*who);
		free(line);
		return false;
	}
	{
		struct buf b = BUF_INIT;

		(void)buf_addf(&b, "%s%c%02d:%02d", date, sign < 0 ? '-' : '+',
			       hh, mm);
		*iso = buf_detach(&b, NULL);
	}
	free(line);
	return true;
}

/* "author Name <e> ts tz" -> "Name <e>"; the committer's date as %cI. */
static bool format_commit(const char *sha, const char *branch,
			  const char *obj, size_t len, char **out)
{
	const char *p = obj, *end = obj + len, *body = NULL;
	struct buf parents = BUF_INIT, b = BUF_INIT;
	char *author = NULL, *adate = NULL, *committer = NULL, *cdate = NULL;
	bool ok = true;

	while (p < end && ok) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);

		if (!eol) {
			ok = false;
			break;
		}
		if (!n) {
			body = eol + 1;
			break;
		}
		if (n == 47 && !strncmp(p, "parent ", 7) && is_sha(p + 7)) {
			(void)buf_addf(&parents, "%s%.40s", parents.len ? " " : "",
				       p + 7);
		} else if (n > 7 && !strncmp(p, "author ", 7) && !author) {
			ok = ident_date(p + 7, n - 7, &author, &adate);
		} else if (n > 10 && !strncmp(p, "committer ", 10) && !committer) {
			ok = ident_date(p + 10, n - 10, &committer, &cdate);
		} else if (n >= 9 && !strncmp(p, "encoding ", 9)) {
			ok = false;	/* git log would re-encode it */
		}
		p = eol + 1;
	}
	ok = ok && body && author && committer &&
		!memchr(body, 0, (size_t)(end - body));
	if (ok) {
		(void)buf_addf(&b, "%s\n%s\n%s\n%s\nHEAD -> %s\n", sha,
			       parents.len ? parents.data : "", author, cdate,
			       branch);
		(void)buf_add(&b, body, (size_t)(end - body));
		/* As local_repo_read() trims git's answer. */
		while (b.len && b.data[b.len - 1] == '\n')
			buf_setlen(&b, b.len - 1);
		*out = buf_detach(&b, NULL);
	}
	buf_release(&b);
	buf_release(&parents);
	free(author);
	free(adate);
	free(committer);
	free(cdate);
	return ok;
}

bool git_files_head(const char *root, char **out)
{
	static const char *const unusual[] = {
		"shallow", "info/grafts", "refs/replace", "objects/info/alternates",
		NULL,
	};
	struct config_answer conf;
	struct buf obj = BUF_INIT;
	char *head = NULL, *packed = NULL, *path, sha[41];
	const char *nul;
	size_t i;
	bool ok;

	*out = NULL;
	if (env_moves_git())
		return false;
	for (i = 0; unusual[i]; i++)
		if (exists(root, unusual[i]))
			return false;
	if (!config_all(root, &conf))
		return false;	/* e.g. i18n.logOutputEncoding */
	buf_release(&conf.user);
	path = git_path(root, "HEAD");
	ok = read_file(path, &head) && head && !strncmp(head, "ref: refs/heads/", 16);
	free(path);
	if (ok) {
		head[strcspn(head, "\r\n")] = 0;
		path = git_path(root, "packed-refs");
		ok = read_file(path, &packed) &&
			!(packed && strstr(packed, " refs/replace/")) &&
			branch_sha(root, head + 5, packed, sha) &&
			loose_commit(root, sha, &obj);
		free(path);
	}
	if (ok) {
		nul = memchr(obj.data, 0, obj.len);
		ok = format_commit(sha, head + 16, nul + 1,
				   obj.len - (size_t)(nul + 1 - obj.data), out);
	}
	buf_release(&obj);
	free(head);
	free(packed);
	return ok;
}
