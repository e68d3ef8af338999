/*
 * cache:key:files digests (contract in cachekey.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/glob.h"
#include "job/script.h"
#include "local/cachekey.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define CMD_OUTPUT_MAX ((size_t)1 << 20)

/* Runs cmd in sh; its output lines that look like hex object ids. */
static void run_ids(const char *cmd, struct strvec *ids)
{
	struct buf out = BUF_INIT;
	char chunk[4096];
	const char *p;
	size_t n;
	FILE *f = popen(cmd, "r");

	if (!f)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (out.len + n <= CMD_OUTPUT_MAX)
			(void)buf_add(&out, chunk, n);
	if (pclose(f) != 0 || !out.len) {
		buf_release(&out);
		return;
	}
	for (p = out.data; *p;) {
		size_t len = strcspn(p, "\n"), hex = strspn(p, "0123456789abcdef");

		if (len >= 40 && hex == len)
			strvec_push_nodup(ids, xstrndup(p, len));
		p += len;
		if (*p)
			p++;
	}
	buf_release(&out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_file(const char *dir, const char *rel)
{
	struct buf path = BUF_INIT;
	struct stat st;
	bool ok;

	(void)buf_addf(&path, "%s/%s", dir, rel);
	ok = !stat(path.data, &st) && S_ISREG(st.st_mode);
	buf_release(&path);
	return ok;
}

/* The listed files, patterns with '*' expanded, that exist in dir. */
static void expand(const char *dir, const struct strvec *files,
		   struct strvec *out)
{
	size_t i, k;

	for (i = 0; i < files->nr; i++) {
		const char *f = files->v[i];

		if (!*f || !strncmp(f, "./", 2))
			continue;	/* GitLab finds no blob for these */
		if (strchr(f, '*')) {
			struct strvec one = STRVEC_INIT, found = STRVEC_INIT;
			struct glob_spec spec = { 0 };
			struct buf err = BUF_INIT;

			strvec_push(&one, f);
			spec.paths = &one;
			if (!glob_collect(dir, &spec, &found, &err))
				for (k = 0; k < found.nr; k++)
					if (glob_match(f, found.v[k]) &&
					    is_file(dir, found.v[k]))
						strvec_push(out, found.v[k]);
			strvec_clear(&one);
			strvec_clear(&found);
			buf_release(&err);
		} else if (is_file(dir, f)) {
			strvec_push(out, f);
		}
	}
}

char *local_cache_key_digest(const char *dir, const struct strvec *files,
			     bool commits)
{
	struct strvec paths = STRVEC_INIT, ids = STRVEC_INIT,
		digest = STRVEC_INIT;
	struct buf cmd = BUF_INIT;
	size_t i;
	char *out;

	expand(dir, files, &paths);
	if (paths.nr) {
		(void)buf_addstr(&cmd, "cd ");
		(void)script_quote_str(&cmd, SCRIPT_SHELL_SH, dir);
		(void)buf_addstr(&cmd, commits ? " 2>/dev/null && {" :
				 " 2>/dev/null && git hash-object --");
		for (i = 0; i < paths.nr; i++) {
			if (commits) {
				(void)buf_addstr(&cmd,
						 " { git log -1 --format=%H -- ");
				(void)script_quote_str(&cmd, SCRIPT_SHELL_SH,
						       paths.v[i]);
				(void)buf_addstr(&cmd, " 2>/dev/null; echo; };");
			} else {
				(void)buf_addch(&cmd, ' ');
				(void)script_quote_str(&cmd, SCRIPT_SHELL_SH,
						       paths.v[i]);
			}
		}
		if (commits)
			(void)buf_addstr(&cmd, " true; }");
		(void)buf_addstr(&cmd, " 2>/dev/null");
		run_ids(cmd.data, &ids);
	}
	if (ids.nr) {
		qsort(ids.v, ids.nr, sizeof(*ids.v), cmp_str);
		buf_reset(&cmd);
		(void)buf_addstr(&cmd, "printf %s '");
		for (i = 0; i < ids.nr; i++) {
			if (i && !strcmp(ids.v[i], ids.v[i - 1]))
				continue;
			if (i)
				(void)buf_addch(&cmd, '-');
			(void)buf_addstr(&cmd, ids.v[i]);
		}
		(void)buf_addstr(&cmd, "' | sha1sum | cut -c1-40");
		run_ids(cmd.data, &digest);
	}
	out = xstrdup(digest.nr ? digest.v[0] : "default");
	strvec_clear(&paths);
	strvec_clear(&ids);
	strvec_clear(&digest);
	buf_release(&cmd);
	return out;
}
