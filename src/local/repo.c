/*
 * Reads the local git repository with a few `git` commands.  The working
 * directory is the repository's (crunner exec changed to it), so the
 * commands take no user input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/repo.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GIT_OUTPUT_MAX ((size_t)4 << 20)

/* Runs a fixed git command line; its output without the last newline. */
static char *git(const char *cmd, bool *ok)
{
	struct buf out = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = popen(cmd, "r");
	int st;

	*ok = false;
	if (!f)
		return xstrdup("");
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (out.len + n <= GIT_OUTPUT_MAX)
			(void)buf_add(&out, chunk, n);
	st = pclose(f);
	*ok = st == 0;
	while (out.len && out.data[out.len - 1] == '\n')
		buf_setlen(&out, out.len - 1);
	if (!*ok)
		buf_reset(&out);
	return buf_detach(&out, NULL);
}

static char *git_or(const char *cmd, const char *def)
{
	bool ok;
	char *s = git(cmd, &ok);

	if (ok && *s)
		return s;
	free(s);
	return xstrdup(def);
}

static void add_lines(struct strvec *sv, const char *text, bool porcelain)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n'), *start = p, *arrow;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line;

		if (porcelain) {
			start = len > 3 ? p + 3 : p + len;
			len -= (size_t)(start - p);
		}
		line = xstrndup(start, len);
		if (porcelain && (arrow = strstr(line, " -> ")))
			strvec_push(sv, arrow + 4);
		else if (*line)
			strvec_push(sv, line);
		free(line);
		p = nl ? nl + 1 : p + strlen(p);
	}
}

/* "git@host:group/sub/proj.git" or "https://host/group/proj" -> path. */
static char *path_from_url(const char *url)
{
	const char *p = strstr(url, "://");
	char *path;
	size_t len;

	if (p)
		p = strchr(p + 3, '/');
	else
		p = strchr(url, ':');
	if (!p || !p[1])
		return NULL;
	p++;
	path = xstrdup(p);
	len = strlen(path);
	if (len > 4 && !strcmp(path + len - 4, ".git"))
		path[len - 4] = 0;
	return path;
}

void local_repo_read(struct local_repo *r, const char *root)
{
	struct buf b = BUF_INIT;
	const char *base;
	char *url, *full = NULL, *msg, *nl;
	bool ok;

	memset(r, 0, sizeof(*r));
	strvec_init(&r->changed);
	r->root = xstrdup(root);
	free(git("git rev-parse --is-inside-work-tree 2>/dev/null", &ok));
	r->has_git = ok;
	r->sha = git_or("git rev-parse HEAD 2>/dev/null",
			"0000000000000000000000000000000000000000");
	r->short_sha = xstrndup(r->sha, 8);
	r->before_sha = git_or("git rev-parse HEAD~1 2>/dev/null",
			       "0000000000000000000000000000000000000000");
	r->ref = git_or("git symbolic-ref --short -q HEAD 2>/dev/null", "");
	if (!*r->ref) {
		free(r->ref);
		r->ref = git("git describe --tags --exact-match 2>/dev/null", &ok);
		r->is_tag = ok && *r->ref;
		if (!r->is_tag) {
			free(r->ref);
			r->ref = xstrdup(r->has_git ? r->short_sha : "main");
		}
	}
	msg = git_or("git log -1 --format=%B 2>/dev/null", "");
	r->message = msg;
	nl = strchr(msg, '\n');
	r->title = nl ? xstrndup(msg, (size_t)(nl - msg)) : xstrdup(msg);
	r->description = xstrdup(nl ? nl + 1 : "");
	r->author = git_or("git log -1 --format='%an <%ae>' 2>/dev/null", "");
	r->timestamp = git_or("git log -1 --format=%cI 2>/dev/null", "");
	r->default_branch = git_or(
		"git symbolic-ref --short -q refs/remotes/origin/HEAD 2>/dev/null | sed 's|^origin/||'",
		"");
	if (!*r->default_branch) {
		free(r->default_branch);
		r->default_branch = NULL;
		free(git("git rev-parse -q --verify refs/heads/main >/dev/null 2>&1", &ok));
		if (ok) {
			r->default_branch = xstrdup("main");
		} else {
			free(git("git rev-parse -q --verify refs/heads/master >/dev/null 2>&1", &ok));
			if (ok)
				r->default_branch = xstrdup("master");
		}
		if (!r->default_branch)
			r->default_branch = xstrdup(r->has_git && !r->is_tag ?
						    r->ref : "main");
	}
	url = git("git remote get-url origin 2>/dev/null", &ok);
	if (ok)
		full = path_from_url(url);
	free(url);
	base = strrchr(root, '/');
	base = base && base[1] ? base + 1 : root;
	if (!full) {
		(void)buf_addf(&b, "local/%s", base);
		full = buf_detach(&b, NULL);
	}
	r->project_path = full;
	base = strrchr(full, '/');
	r->project_name = xstrdup(base ? base + 1 : full);
	r->namespace = base ? xstrndup(full, (size_t)(base - full)) : xstrdup("");
	if (r->has_git) {
		char *st = git("git status --porcelain -uall 2>/dev/null", &ok);
		char *last = git("git diff --name-only HEAD~1 HEAD 2>/dev/null", &ok);

		add_lines(&r->changed, st, true);
		add_lines(&r->changed, last, false);
		free(st);
		free(last);
	}
	buf_release(&b);
}

void local_repo_release(struct local_repo *r)
{
	free(r->root);
	free(r->sha);
	free(r->short_sha);
	free(r->before_sha);
	free(r->ref);
	free(r->message);
	free(r->title);
	free(r->description);
	free(r->author);
	free(r->timestamp);
	free(r->default_branch);
	free(r->project_name);
	free(r->project_path);
	free(r->namespace);
	strvec_clear(&r->changed);
}

/* CI_COMMIT_REF_SLUG: lower case, [a-z0-9] kept, others '-', 63 chars. */
static char *slug(const char *s)
{
	char *out = xstrdup(s), *p;
	size_t len;

	for (p = out; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	len = strlen(out);
	if (len > 63)
		out[len = 63] = 0;
	while (len && out[len - 1] == '-')
		out[--len] = 0;
	p = out;
	while (*p == '-')
		p++;
	memmove(out, p, strlen(p) + 1);
	return out;
}

void local_repo_predefined(const struct local_repo *r, const char *source,
			   long pipeline_id, struct pl_vars *v)
{
	char num[32], *s;

	pl_vars_set(v, "CI", "true", false);
	pl_vars_set(v, "GITLAB_CI", "true", false);
	pl_vars_set(v, "CI_SERVER_NAME", "GitLab", false);
	pl_vars_set(v, "CI_SERVER_URL", "https://gitlab.com", false);
	pl_vars_set(v, "CI_SERVER_HOST", "gitlab.com", false);
	pl_vars_set(v, "CI_PIPELINE_SOURCE", source, false);
	snprintf(num, sizeof(num), "%ld", pipeline_id);
	pl_vars_set(v, "CI_PIPELINE_ID", num, false);
	pl_vars_set(v, "CI_PIPELINE_IID", num, false);
	pl_vars_set(v, "CI_PIPELINE_CREATED_AT", r->timestamp, false);
	pl_vars_set(v, "CI_COMMIT_SHA", r->sha, false);
	pl_vars_set(v, "CI_COMMIT_SHORT_SHA", r->short_sha, false);
	pl_vars_set(v, "CI_COMMIT_BEFORE_SHA", r->before_sha, false);
	pl_vars_set(v, "CI_COMMIT_REF_NAME", r->ref, false);
	s = slug(r->ref);
	pl_vars_set(v, "CI_COMMIT_REF_SLUG", s, false);
	free(s);
	pl_vars_set(v, "CI_COMMIT_REF_PROTECTED", "false", false);
	if (r->is_tag)
		pl_vars_set(v, "CI_COMMIT_TAG", r->ref, false);
	else
		pl_vars_set(v, "CI_COMMIT_BRANCH", r->ref, false);
	pl_vars_set(v, "CI_COMMIT_MESSAGE", r->message, false);
	pl_vars_set(v, "CI_COMMIT_TITLE", r->title, false);
	pl_vars_set(v, "CI_COMMIT_DESCRIPTION", r->description, false);
	pl_vars_set(v, "CI_COMMIT_AUTHOR", r->author, false);
	pl_vars_set(v, "CI_COMMIT_TIMESTAMP", r->timestamp, false);
	pl_vars_set(v, "CI_DEFAULT_BRANCH", r->default_branch, false);
	pl_vars_set(v, "CI_PROJECT_NAME", r->project_name, false);
	pl_vars_set(v, "CI_PROJECT_TITLE", r->project_name, false);
	pl_vars_set(v, "CI_PROJECT_PATH", r->project_path, false);
	s = slug(r->project_path);
	pl_vars_set(v, "CI_PROJECT_PATH_SLUG", s, false);
	free(s);
	pl_vars_set(v, "CI_PROJECT_NAMESPACE", r->namespace, false);
	pl_vars_set(v, "CI_PROJECT_ROOT_NAMESPACE", r->namespace, false);
	pl_vars_set(v, "CI_PROJECT_DIR", r->root, false);
	pl_vars_set(v, "CI_PROJECT_VISIBILITY", "private", false);
}
