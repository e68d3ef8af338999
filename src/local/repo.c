/*
 * Reads the local git repository with a few `git` commands (run directly,
 * no shell; three at once for what every run needs, more only for
 * changes: rules).  The working
 * directory is the repository's (crunner exec changed to it), so the
 * commands take no user input.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local/git_files.h"
#include "local/repo.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/proc.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GIT_OUTPUT_MAX ((size_t)4 << 20)

/*
 * A git command run alongside others: local_repo_read() starts them all,
 * then reads their outputs together, so the repository costs the time of
 * its slowest git call rather than the sum of them (on a one-job pipeline
 * the sum was a third of the run).
 */
struct git_call {
	struct proc p;
	struct buf out;
	size_t kept;
	bool ok;
};

static void git_start(struct git_call *c, const char *const *argv)
{
	struct buf err = BUF_INIT;

	proc_init(&c->p);
	buf_init(&c->out, 0);
	c->kept = 0;
	c->ok = false;
	strvec_pushv(&c->p.args, (const char **)argv);
	c->p.out = PROC_FD_PIPE;
	c->p.err = PROC_FD_NULL;
	if (proc_start(&c->p, &err))
		proc_release(&c->p);	/* no git: every answer is "" */
	buf_release(&err);
}

#define GIT_START(c, ...) git_start((c), (const char *const[]){ "git", __VA_ARGS__, NULL })

/* Reads every started call to its end, then reaps them. */
static void git_collect(struct git_call *calls, size_t n)
{
	struct pollfd pfd[8];
	char chunk[8192];
	size_t i, open;

	for (;;) {
		for (open = 0, i = 0; i < n && open < 8; i++)
			if (calls[i].p.out >= 0) {
				pfd[open].fd = calls[i].p.out;
				pfd[open].events = POLLIN;
				open++;
			}
		if (!open)
			break;
		if (poll(pfd, open, -1) < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			struct git_call *c = &calls[i];
			ssize_t got;

			if (c->p.out < 0)
				continue;
			got = read(c->p.out, chunk, sizeof(chunk));
			if (got > 0) {
				size_t take = (size_t)got;

				if (c->kept + take > GIT_OUTPUT_MAX)
					take = GIT_OUTPUT_MAX - c->kept;
				(void)buf_add(&c->out, chunk, take);
				c->kept += take;
			} else if (got == 0 || (errno != EAGAIN &&
						errno != EWOULDBLOCK &&
						errno != EINTR)) {
				close(c->p.out);
				c->p.out = -1;
			}
		}
	}
	for (i = 0; i < n; i++) {
		struct git_call *c = &calls[i];

		c->ok = c->p.pid > 0 && proc_wait(&c->p) == 0;
		proc_release(&c->p);
		while (c->out.len && c->out.data[c->out.len - 1] == '\n')
			buf_setlen(&c->out, c->out.len - 1);
		if (!c->ok)
			buf_reset(&c->out);
	}
}

/* The output of a collected call (a new string), and whether it worked. */
static char *git_take(struct git_call *c, bool *ok)
{
	*ok = c->ok;
	return buf_detach(&c->out, NULL);
}

/* One git command on its own; its output, "" when it failed (*ok false). */
static char *git_argv(const char *const *argv, bool *ok)
{
	struct git_call c;

	git_start(&c, argv);
	git_collect(&c, 1);
	return git_take(&c, ok);
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

/*
 * Porcelain status lines ("XY path", "R  old -> new") or plain names into
 * sv; with untracked, only the "??" lines go there.
 */
static void add_lines(struct strvec *sv, const char *text, bool porcelain,
		      bool untracked_only)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n'), *start = p, *arrow;
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line;
		bool untracked = porcelain && len > 3 && !strncmp(p, "?? ", 3);

		if (porcelain) {
			start = len > 3 ? p + 3 : p + len;
			len -= (size_t)(start - p);
		}
		line = xstrndup(start, len);
		if (untracked_only && !untracked)
			;
		else if (porcelain && (arrow = strstr(line, " -> ")))
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
static char *default_branch(const struct local_repo *r, const char *refs)
{
	static const char origin[] = "refs/remotes/origin/";
	bool main = false, master = false;
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
	if (found)
		return found;
	if (main)
		return xstrdup("main");
	if (master)
		return xstrdup("master");
	return xstrdup(r->has_git && !r->is_tag ? r->ref : "main");
}

/*
 * The branch HEAD is on ("HEAD -> main" in %D), else the first tag on
 * HEAD's commit ("tag: v1"), from git log's short decorations; NULL when
 * HEAD is detached on an untagged commit.
 */
static char *ref_from_decorations(const char *decorations, bool *is_tag)
{
	const char *p = decorations;
	char *tag = NULL;

	*is_tag = false;
	while (*p) {
		const char *end = strstr(p, ", ");
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 8 && !strncmp(p, "HEAD -> ", 8)) {
			free(tag);
			return xstrndup(p + 8, len - 8);
		}
		if (!tag && len > 5 && !strncmp(p, "tag: ", 5))
			tag = xstrndup(p + 5, len - 5);
		p = end ? end + 2 : p + len;
	}
	*is_tag = tag != NULL;
	return tag;
}

/* A small file's contents (at most 64 KiB), or NULL. */
static char *slurp(const char *root, const char *name)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd;

	(void)buf_addf(&path, "%s/.git/%s", root, name);
	fd = open(path.data, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	buf_release(&path);
	if (fd < 0)
		return NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 &&
	       text.len + (size_t)n <= 65536)
		(void)buf_add(&text, chunk, (size_t)n);
	close(fd);
	if (n != 0) {
		buf_release(&text);
		return NULL;
	}
	return buf_detach(&text, NULL);
}

/* Whether .git/<ref> ("refs/heads/main") exists, loose or packed. */
static bool has_ref(const char *root, const char *packed, const char *ref)
{
	struct buf path = BUF_INIT;
	struct stat st;
	const char *p;
	bool found;

	(void)buf_addf(&path, "%s/.git/%s", root, ref);
	found = lstat(path.data, &st) == 0 && S_ISREG(st.st_mode);
	buf_reset(&path);
	(void)buf_addf(&path, " %s\n", ref);
	for (p = packed; !found && p && (p = strstr(p, path.data)); p++)
		found = p == packed || p[-1] != '\n';	/* after a sha */
	buf_release(&path);
	return found;
}

/*
 * origin's URL in .git/config: the last url of [remote "origin"]; "" when
 * none.  false when the file says more than this parser knows (includes,
 * reftable refs), so that git is asked instead.
 */
static bool config_origin_url(const char *config, char **url)
{
	const char *p = config;
	bool in_origin = false;

	*url = xstrdup("");
	while (*p) {
		const char *eol = strchr(p, '\n'), *q;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = xstrndup(p, len), *l = line, *end;

		p += len + (eol != NULL);
		while (*l == ' ' || *l == '\t')
			l++;
		end = l + strlen(l);
		while (end > l && strchr(" \t\r", end[-1]))
			*--end = 0;
		if (*l == '[') {
			if (!strncasecmp(l, "[include", 8) ||
			    strchr(l, ']') != end - 1) {
				free(line);
				return false;
			}
			in_origin = !strncasecmp(l, "[remote \"origin\"]", 17) &&
				l[17] == 0;
		} else if (!strncasecmp(l, "refstorage", 10) ||
			   strchr(l, '\\')) {
			free(line);
			return false;	/* reftable, or escapes: leave it to git */
		} else if (in_origin && !strncasecmp(l, "url", 3) &&
			   strchr(" \t=", l[3])) {
			for (q = l + 3; *q == ' ' || *q == '\t'; q++)
				;
			if (*q++ != '=') {
				free(line);
				return false;
			}
			while (*q == ' ' || *q == '\t')
				q++;
			if (*q == '"' || strpbrk(q, "#;")) {
				free(line);
				return false;
			}
			free(*url);
			*url = xstrdup(q);
		}
		free(line);
	}
	return true;
}

/*
 * What `git for-each-ref` and `git config --get remote.origin.url` would
 * say (local_repo_read()), read from the files of a plain repository:
 * root/.git a directory, no GIT_* variable that moves it, refs as files.
 * Two fewer git processes per run; false sends the caller to git.
 */
static bool read_git_files(const char *root, char **refs, char **url)
{
	static const char *const moved[] = {
		"GIT_DIR", "GIT_COMMON_DIR", "GIT_CONFIG", "GIT_CONFIG_GLOBAL",
		"GIT_CONFIG_SYSTEM", "GIT_CONFIG_COUNT", "GIT_WORK_TREE",
		"GIT_CONFIG_PARAMETERS", NULL,
	};
	struct buf b = BUF_INIT;
	struct stat st;
	char *config, *head, *packed;
	bool ok;
	size_t i;

	*refs = *url = NULL;
	for (i = 0; moved[i]; i++)
		if (getenv(moved[i]))
			return false;
	(void)buf_addf(&b, "%s/.git/reftable", root);
	ok = lstat(b.data, &st) != 0;
	buf_reset(&b);
	(void)buf_addf(&b, "%s/.git", root);
	ok = ok && lstat(b.data, &st) == 0 && S_ISDIR(st.st_mode);
	buf_release(&b);
	if (!ok || !(config = slurp(root, "config")))
		return false;
	ok = config_origin_url(config, url);
	free(config);
	if (!ok) {
		free(*url);
		*url = NULL;
		return false;
	}
	packed = slurp(root, "packed-refs");
	head = slurp(root, "refs/remotes/origin/HEAD");
	if (head) {
		size_t len = strcspn(head, "\r\n");

		head[len] = 0;
		/* As for-each-ref: a symref to nothing is no ref at all. */
		if (strncmp(head, "ref: ", 5))
			(void)buf_addstr(&b, "refs/remotes/origin/HEAD \n");
		else if (has_ref(root, packed, head + 5))
			(void)buf_addf(&b, "refs/remotes/origin/HEAD %s\n",
				       head + 5);
		free(head);
	}
	if (has_ref(root, packed, "refs/heads/main"))
		(void)buf_addstr(&b, "refs/heads/main \n");
	if (has_ref(root, packed, "refs/heads/master"))
		(void)buf_addstr(&b, "refs/heads/master \n");
	free(packed);
	*refs = buf_detach(&b, NULL);
	return true;
}

/* "user.name A B\nuser.email a@b" (git config --get-regexp); the last wins. */
static void read_user(struct local_repo *r, const char *text)
{
	const char *p = text;

	r->user_name = xstrdup("");
	r->user_email = xstrdup("");
	while (*p) {
		char *line = next_line(&p), **field = NULL;
		size_t skip = 0;

		if (!strncmp(line, "user.name ", 10))
			field = &r->user_name, skip = 10;
		else if (!strncmp(line, "user.email ", 11))
			field = &r->user_email, skip = 11;
		if (field) {
			free(*field);
			*field = xstrdup(line + skip);
		}
		free(line);
	}
}

void local_repo_read(struct local_repo *r, const char *root)
{
	struct git_call calls[4];
	struct buf b = BUF_INIT;
	const char *base, *p;
	char *url, *full = NULL, *head = NULL, *refs, *parents, *sp, *nl;
	char *decor;
	char *user = NULL;
	bool ok, url_ok, refs_ok, user_ok;

	memset(r, 0, sizeof(*r));
	strvec_init(&r->changed);
	strvec_init(&r->untracked);
	strvec_init(&r->files);
	r->root = xstrdup(root);

	/*
	 * HEAD's commit with its decorations (branch, tags) from git log; the
	 * refs that name the default branch and origin's URL from the files
	 * of a plain repository, else from two more git processes run at the
	 * same time.  A branch's fresh (loose) commit and the user's identity
	 * are read from the files too when they are plain (git_files.h): no
	 * git process at all then.  What only changes: rules need is read
	 * when one asks.
	 */
	if (read_git_files(root, &refs, &url) &&
	    git_files_head(root, &head) && git_files_user(root, &user)) {
		refs_ok = user_ok = ok = true;
		url_ok = *url != 0;
	} else {
		free(head);
		free(refs);
		free(url);
		GIT_START(&calls[0], "log", "-1", "--no-show-signature",
			  "--decorate=short",
			  "--format=%H%n%P%n%an <%ae>%n%cI%n%D%n%B");
		/* The user's identity is in global config too: git must say. */
		GIT_START(&calls[1], "config", "--get-regexp",
			  "^user\\.(name|email)$");
		if (read_git_files(root, &refs, &url)) {
			git_collect(calls, 2);
			refs_ok = true;
			url_ok = *url != 0;
		} else {
			GIT_START(&calls[2], "for-each-ref",
				  "--format=%(refname) %(symref)",
				  "refs/remotes/origin/HEAD", "refs/heads/main",
				  "refs/heads/master");
			GIT_START(&calls[3], "config", "--get",
				  "remote.origin.url");
			git_collect(calls, 4);
			refs = git_take(&calls[2], &refs_ok);
			url = git_take(&calls[3], &url_ok);
		}
		user = git_take(&calls[1], &user_ok);
		head = git_take(&calls[0], &ok);
	}
	read_user(r, user_ok ? user : "");
	free(user);
	decor = NULL;
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
		decor = next_line(&p);
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

	r->ref = decor ? ref_from_decorations(decor, &r->is_tag) : NULL;
	free(decor);
	if (!r->ref && r->has_git && !strcmp(r->sha, NULL_SHA)) {
		/* An unborn branch: HEAD names it, no commit decorates it. */
		r->ref = GIT(&ok, "symbolic-ref", "--short", "-q", "HEAD");
		if (!ok || !*r->ref) {
			free(r->ref);
			r->ref = NULL;
		}
	}
	if (!r->ref)
		r->ref = xstrdup(r->has_git ? r->short_sha : "main");
	r->default_branch = r->has_git ? default_branch(r, refs_ok ? refs : "") :
		xstrdup("main");
	free(refs);

	if (r->has_git && url_ok) {
		full = path_from_url(url);
		if (*url)
			r->origin_url = xstrdup(url);
	}
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
	buf_release(&b);
}

/* The working tree's changes: tracked edits against commit, untracked files. */
static void read_worktree_changes(struct local_repo *r)
{
	char *st;
	bool ok;

	if (r->status_read)
		return;
	r->status_read = true;
	st = GIT(&ok, "status", "--porcelain", "-uall");
	add_lines(&r->changed, st, true, false);
	add_lines(&r->untracked, st, true, true);
	free(st);
}

const struct strvec *local_repo_files(struct local_repo *r)
{
	struct git_call c;
	const char *p, *end;
	bool ok;

	if (!r->has_git)
		return NULL;
	if (r->files_read)
		return r->files_ok ? &r->files : NULL;
	r->files_read = true;
	GIT_START(&c, "ls-files", "-z", "--cached", "--others",
		  "--exclude-standard");
	git_collect(&c, 1);
	/* A list cut at GIT_OUTPUT_MAX would miss files: walk instead. */
	r->files_ok = c.ok && c.kept < GIT_OUTPUT_MAX;
	for (p = c.out.data, end = p + c.out.len; r->files_ok && p < end;
	     p += strlen(p) + 1)
		if (*p)
			strvec_push(&r->files, p);
	free(git_take(&c, &ok));
	return r->files_ok ? &r->files : NULL;
}

const struct strvec *local_repo_changed(struct local_repo *r)
{
	char *last;
	bool ok;

	if (!r->has_git)
		return NULL;
	if (!r->changed_read) {
		r->changed_read = true;
		read_worktree_changes(r);
		last = GIT(&ok, "diff", "--name-only", "HEAD~1", "HEAD");
		if (!ok && strcmp(r->sha, NULL_SHA)) {
			/* The first commit: all it adds is its change. */
			free(last);
			last = GIT(&ok, "diff-tree", "--no-commit-id",
				   "--name-only", "-r", "--root", "HEAD");
		}
		add_lines(&r->changed, last, false, false);
		free(last);
	}
	return &r->changed;
}

int local_repo_changed_since(struct local_repo *r, const char *ref,
			     const struct strvec **out, struct buf *err)
{
	struct local_repo_since *since;
	struct buf spec = BUF_INIT;
	char *sha, *base, *names;
	bool ok;
	size_t i;

	*out = NULL;
	if (!r->has_git)
		return 0;
	for (i = 0; i < r->nr_since; i++)
		if (!strcmp(r->since[i].ref, ref)) {
			*out = &r->since[i].paths;
			return 0;
		}
	(void)buf_addf(&spec, "%s^{commit}", ref);
	sha = *ref && *ref != '-' ?
		GIT(&ok, "rev-parse", "-q", "--verify", "--end-of-options",
		    spec.data) : (ok = false, xstrdup(""));
	buf_release(&spec);
	if (!ok) {
		free(sha);
		buf_seterr(err, "rules:changes:compare_to '%s' is not a valid ref",
			   ref);
		return CR_ERR_INVALID;
	}
	/* GitLab diffs from the merge base to the pipeline's commit. */
	base = GIT(&ok, "merge-base", sha, "HEAD");
	free(sha);
	if (!ok) {
		free(base);
		buf_seterr(err, "rules:changes:compare_to '%s' has no common history with HEAD",
			   ref);
		return CR_ERR_INVALID;
	}
	r->since = xreallocarray(r->since, r->nr_since + 1, sizeof(*r->since));
	since = &r->since[r->nr_since++];
	since->ref = xstrdup(ref);
	strvec_init(&since->paths);
	/* Against the working tree: uncommitted edits count, as exec runs them. */
	names = GIT(&ok, "diff", "--name-only", base);
	free(base);
	add_lines(&since->paths, names, false, false);
	free(names);
	read_worktree_changes(r);
	for (i = 0; i < r->untracked.nr; i++)
		strvec_push(&since->paths, r->untracked.v[i]);
	*out = &since->paths;
	return 0;
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
	free(r->origin_url);
	free(r->user_name);
	free(r->user_email);
	strvec_clear(&r->changed);
	strvec_clear(&r->untracked);
	strvec_clear(&r->files);
	for (size_t i = 0; i < r->nr_since; i++) {
		free(r->since[i].ref);
		strvec_clear(&r->since[i].paths);
	}
	free(r->since);
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
	const char *at = strchr(r->user_email, '@');

	pl_vars_set(v, "CI", "true", false);
	pl_vars_set(v, "GITLAB_CI", "false", false);
	pl_vars_set(v, "CI_SERVER_NAME", "GitLab", false);
	pl_vars_set(v, "CI_SERVER_URL", "https://gitlab.com", false);
	pl_vars_set(v, "CI_SERVER_HOST", "gitlab.com", false);
	pl_vars_set(v, "CI_SERVER_FQDN", "gitlab.com", false);
	pl_vars_set(v, "CI_SERVER_PORT", "443", false);
	pl_vars_set(v, "CI_SERVER_PROTOCOL", "https", false);
	pl_vars_set(v, "CI_API_V4_URL", "https://gitlab.com/api/v4", false);
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
	s = xstrndup(r->user_email, at ? (size_t)(at - r->user_email) :
		     strlen(r->user_email));
	pl_vars_set(v, "GITLAB_USER_LOGIN", s, false);
	free(s);
	pl_vars_set(v, "GITLAB_USER_EMAIL", r->user_email, false);
	pl_vars_set(v, "GITLAB_USER_NAME", r->user_name, false);
}
