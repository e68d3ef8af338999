/*
 * Reads the local git repository with a few `git` commands (run directly,
 * no shell: half a dozen processes in all).  The working
 * directory is the repository's (crunner exec changed to it), so the
 * commands take no user input.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/repo.h"
#include "util/buf.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GIT_OUTPUT_MAX ((size_t)4 << 20)

/*
 * Runs git with these arguments (no shell between); its output without the
 * trailing newlines, "" when it failed (*ok false).
 */
static char *git_argv(const char *const *argv, bool *ok)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	int st = proc_capture(argv, NULL, &out, GIT_OUTPUT_MAX, &err);

	buf_release(&err);
	*ok = st == 0;
	while (out.len && out.data[out.len - 1] == '\n')
		buf_setlen(&out, out.len - 1);
	if (!*ok)
		buf_reset(&out);
	return buf_detach(&out, NULL);
}

#define GIT(ok, ...) git_argv((const char *const[]){ "git", __VA_ARGS__, NULL }, (ok))

/* The next '\n'-terminated field of a multi-line answer, advancing *p. */
static char *next_line(const char **p)
{
	const char *nl = strchr(*p, '\n');
	char *line = nl ? xstrndup(*p, (size_t)(nl - *p)) : xstrdup(*p);

	*p = nl ? nl + 1 : *p + strlen(*p);
	return line;
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

#define NULL_SHA "0000000000000000000000000000000000000000"

/* Default branch: origin's HEAD, else main, else master, else ref. */
static char *default_branch(const struct local_repo *r)
{
	static const char origin[] = "refs/remotes/origin/";
	bool ok, main = false, master = false;
	char *refs = GIT(&ok, "for-each-ref", "--format=%(refname) %(symref)",
			 "refs/remotes/origin/HEAD", "refs/heads/main",
			 "refs/heads/master");
	const char *p = refs;
	char *found = NULL;

	while (*p) {
		char *line = next_line(&p), *sym = strchr(line, ' ');

		if (sym)
			*sym++ = '\0';
		if (!strcmp(line, "refs/remotes/origin/HEAD") && sym &&
		    !strncmp(sym, origin, sizeof(origin) - 1) && !found)
			found = xstrdup(sym + sizeof(origin) - 1);
		main |= !strcmp(line, "refs/heads/main");
		master |= !strcmp(line, "refs/heads/master");
		free(line);
	}
	free(refs);
	if (found)
		return found;
	if (main)
		return xstrdup("main");
	if (master)
		return xstrdup("master");
	return xstrdup(r->has_git && !r->is_tag ? r->ref : "main");
}

void local_repo_read(struct local_repo *r, const char *root)
{
	struct buf b = BUF_INIT;
	const char *base, *p;
	char *url, *full = NULL, *head, *parents, *sp, *nl;
	bool ok;

	memset(r, 0, sizeof(*r));
	strvec_init(&r->changed);
	r->root = xstrdup(root);

	/* One git process for everything about HEAD's commit. */
	head = GIT(&ok, "log", "-1", "--format=%H%n%P%n%an <%ae>%n%cI%n%B");
	if (ok) {
		r->has_git = true;
		p = head;
		r->sha = next_line(&p);
		parents = next_line(&p);
		sp = strchr(parents, ' ');
		r->before_sha = *parents ? xstrndup(parents, sp ?
			(size_t)(sp - parents) : strlen(parents)) : xstrdup(NULL_SHA);
		free(parents);
		r->author = next_line(&p);
		r->timestamp = next_line(&p);
		r->message = xstrdup(p);
	} else {
		/* No commit yet, or no repository at all. */
		free(GIT(&ok, "rev-parse", "--is-inside-work-tree"));
		r->has_git = ok;
		r->sha = xstrdup(NULL_SHA);
		r->before_sha = xstrdup(NULL_SHA);
		r->author = xstrdup("");
		r->timestamp = xstrdup("");
		r->message = xstrdup("");
	}
	free(head);
	r->short_sha = xstrndup(r->sha, 8);
	nl = strchr(r->message, '\n');
	r->title = nl ? xstrndup(r->message, (size_t)(nl - r->message)) :
		xstrdup(r->message);
	r->description = xstrdup(nl ? nl + 1 : "");

	r->ref = GIT(&ok, "symbolic-ref", "--short", "-q", "HEAD");
	if (!ok || !*r->ref) {
		free(r->ref);
		r->ref = r->has_git ?
			GIT(&ok, "describe", "--tags", "--exact-match") : xstrdup("");
		r->is_tag = r->has_git && ok && *r->ref;
		if (!r->is_tag) {
			free(r->ref);
			r->ref = xstrdup(r->has_git ? r->short_sha : "main");
		}
	}
	r->default_branch = r->has_git ? default_branch(r) : xstrdup("main");

	url = r->has_git ? GIT(&ok, "config", "--get", "remote.origin.url") :
		(ok = false, xstrdup(""));
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
		char *st = GIT(&ok, "status", "--porcelain", "-uall");
		char *last = GIT(&ok, "diff", "--name-only", "HEAD~1", "HEAD");

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
