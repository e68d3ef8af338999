/*
 * rtup verify (design 3.9): each repository's commands in its worktree (or
 * its checkout), with the target toolchain first on PATH and the
 * manifest's env; a verify-job through 'crunner exec'; the binary check;
 * then a re-scan.  Later waves wait for earlier ones.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "git.h"
#include "plan.h"
#include "state.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

void repo_tree(const struct conf *c, const struct repo_conf *rp,
	       struct buf *out)
{
	struct stat st;

	buf_reset(out);
	buf_addf(out, "%s/worktrees/%s", c->state_dir, rp->name);
	if (stat(out->data, &st) || !S_ISDIR(st.st_mode)) {
		buf_reset(out);
		buf_addstr(out, rp->path);
	}
}

/* "rt=version" for each runtime: --to, else the tree's reference pin. */
static void versions_for(struct opts *o, const struct pinvec *pins,
			 struct strvec *out)
{
	for (size_t i = 0; i < runtimes_nr; i++) {
		const char *rt = runtimes[i].name;
		const struct pin *ref = ref_pin(pins, rt);
		const char *v = ref ? ref->value : NULL;
		size_t n = strlen(rt);

		for (size_t k = 0; k < o->to.nr; k++)
			if (!strncmp(o->to.v[k], rt, n) && o->to.v[k][n] == '@')
				v = o->to.v[k] + n + 1;
		if (v)
			strvec_pushf(out, "%s=%s", rt, v);
	}
}

struct vctx {
	struct opts *o;
	const struct conf *c;
	const struct repo_conf *rp;
	const char *tree;
	struct strvec env;
	char *go_bin;		/* the target go, when its toolchain is there */
	const char *go_ver;
	int n;			/* log number */
	int offline;		/* commands in an empty network namespace */
	struct buf *status;
};

/*
 * Offline verification: the command runs in a new, empty network
 * namespace (only a down loopback), so nothing it starts can download a
 * toolchain or a module.  As root 'unshare -n'; otherwise a user namespace
 * too ('unshare -rn').  argv is copied into out with the prefix.
 */
static const char *const *offline_argv(const struct vctx *v,
				       const char *const *argv,
				       const char **out, size_t max)
{
	size_t k = 0;

	if (!v->offline)
		return argv;
	while (argv[k])
		k++;
	if (k + 4 > max) {
		/* callers pass at most a handful: a broken invariant */
		fprintf(stderr, "rtup: BUG: offline_argv: %zu arguments\n", k);
		abort();
	}
	out[0] = "unshare";
	out[1] = geteuid() == 0 ? "-n" : "-rn";
	out[2] = "--";
	memcpy(out + 3, argv, (k + 1) * sizeof(*argv));
	return out;
}

/* Runs one step with its output in logs/<repo>/<n>.log; sets the status. */
static int step(struct vctx *v, const char *label, const char *const *argv,
		struct buf *out)
{
	struct buf log = BUF_INIT, err = BUF_INIT;
	const char *wrapped[16];
	int fd, st;

	argv = offline_argv(v, argv, wrapped, sizeof(wrapped) / sizeof(*wrapped));

	buf_addf(&log, "%s/logs/%s/%d.log", v->c->state_dir, v->rp->name,
		 ++v->n);
	fs_make_parent_dirs(log.data, 0755, &err);
	fd = open(log.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0 && dprintf(fd, "$ %s\n", label) < 0)
		st = CR_ERR_IO;
	st = run_cmd(v->tree, argv, &v->env, v->o->timeout, out ? -1 : fd,
		     out, &err);
	if (out && fd >= 0 && out->len && write(fd, out->data, out->len) < 0)
		st = CR_ERR_IO;
	if (fd >= 0)
		close(fd);
	if (st == CR_ERR_TIMEOUT)
		buf_addf(v->status, "timeout(%s)", label);
	else if (st < 0)
		buf_addf(v->status, "verify-failed(%s: %s)", label, err.data);
	buf_release(&log);
	buf_release(&err);
	return st;
}

static void run_commands(struct vctx *v)
{
	for (size_t i = 0; i < v->rp->verify.nr && !v->status->len; i++) {
		const char *argv[] = { "/bin/sh", "-c", v->rp->verify.v[i], NULL };

		if (step(v, v->rp->verify.v[i], argv, NULL) > 0)
			buf_addf(v->status, "verify-failed(%s)", v->rp->verify.v[i]);
	}
}

/*
 * verify-job: crunner models the pipeline first ('exec --list'); a
 * pipeline it cannot read, or a job it does not list, is unverifiable,
 * never silently skipped.  The job runs on the shell executor, with the
 * target toolchain first on PATH, even when it names an image (which
 * would pin the old toolchain, and needs a registry).
 */
static void run_job(struct vctx *v)
{
	const char *crunner = v->o->crunner ? v->o->crunner : "crunner";
	const char *job = v->rp->verify_job;
	const char *list[] = { crunner, "exec", "--list", NULL };
	const char *argv[] = { crunner, "exec", "--executor", "shell", job,
			       NULL };
	struct buf out = BUF_INIT, label = BUF_INIT, err = BUF_INIT;
	int st, found = 0;

	if (!job || v->status->len)
		return;
	{
		const char *wrapped[8];

		st = run_cmd(v->tree, offline_argv(v, list, wrapped, 8), &v->env,
			     v->o->timeout, -1, &out, &err);
	}
	for (const char *p = out.data; st == 0 && p && *p;) {
		size_t n = strcspn(p, " \t\n");

		if (n == strlen(job) && !strncmp(p, job, n))
			found = 1;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	if (st != 0) {
		/* run_cmd() says "PROGRAM: first line"; the line is enough */
		size_t skip = strlen(crunner) + 2;
		const char *why = err.len > skip && !strncmp(err.data, crunner,
				  skip - 2) ? err.data + skip : err.data;

		buf_addf(v->status, "unverifiable(job %s: %s)", job,
			 *why ? why : "crunner cannot read the pipeline");
	} else if (!found) {
		buf_addf(v->status, "unverifiable(job %s: not in the pipeline)",
			 job);
	} else {
		buf_addf(&label, "crunner exec %s", job);
		if (step(v, label.data, argv, NULL) > 0)
			buf_addf(v->status, "verify-failed(%s)", label.data);
	}
	buf_release(&out);
	buf_release(&label);
	buf_release(&err);
}

/* binary = PATH: 'go version PATH' must name the target (Omnibus MR 6851). */
static void check_binary(struct vctx *v)
{
	const char *argv[] = { v->go_bin ? v->go_bin : "go", "version",
			       v->rp->binary, NULL };
	struct buf out = BUF_INIT, label = BUF_INIT, want = BUF_INIT;
	const char *hit;

	if (!v->rp->binary || v->status->len)
		return;
	buf_addf(&label, "go version %s", v->rp->binary);
	if (step(v, label.data, argv, &out) > 0) {
		buf_addf(v->status, "verify-failed(%s)", label.data);
	} else if (!v->status->len && v->go_ver) {
		buf_addf(&want, "go%s", v->go_ver);
		hit = strstr(out.data, want.data);
		if (!hit || isalnum((unsigned char)hit[want.len]) ||
		    hit[want.len] == '.')
			buf_addf(v->status, "verify-failed(%s: built with "
				 "%.*s, want %s)", label.data,
				 (int)strcspn(out.data, "\n"), out.data,
				 want.data);
	}
	buf_release(&out);
	buf_release(&label);
	buf_release(&want);
}

static int verify_one(struct opts *o, struct conf *c, struct repo_conf *rp,
		      struct buf *status)
{
	struct vctx v = { .o = o, .c = c, .rp = rp, .status = status };
	struct buf tree = BUF_INIT, path = BUF_INIT;
	struct strvec vers = STRVEC_INIT;
	struct findings f = { STRVEC_INIT, 0 };
	struct pinvec pins = { 0 };
	int r;

	strvec_init(&v.env);
	repo_tree(c, rp, &tree);
	v.tree = tree.data;
	if ((r = cli_scan(c, rp, tree.data, &pins, NULL)))
		goto out;
	versions_for(o, &pins, &vers);
	for (size_t i = 0; i < vers.nr; i++) {
		const char *eq = strchr(vers.v[i], '=');
		char *rt = xstrndup(vers.v[i], eq - vers.v[i]);
		const struct runtime_desc *rd = runtime_find(rt);
		struct buf dir = BUF_INIT;

		buf_addf(&dir, "%s/", c->toolchains);
		buf_addf(&dir, rd->toolchain_dir, eq + 1);
		buf_addstr(&dir, "/bin");
		if (access(dir.data, X_OK) == 0) {
			buf_addf(&path, "%s:", dir.data);
			if (!strcmp(rt, "go")) {
				struct buf g = BUF_INIT;

				buf_addf(&g, "%s/go", dir.data);
				v.go_bin = buf_detach(&g, NULL);
			}
		}
		if (!strcmp(rt, "go"))
			v.go_ver = eq + 1;
		buf_release(&dir);
		free(rt);
	}
	buf_addstr(&path, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	strvec_pushf(&v.env, "PATH=%s", path.data);
	if (rp->env.nr)
		strvec_pushv(&v.env, rp->env.v);
	v.offline = rp->offline >= 0 ? rp->offline : c->offline;
	if (v.offline) {
		const char *probe[] = { "true", NULL }, *wrapped[8];
		struct buf err = BUF_INIT;

		if (run_cmd(tree.data, offline_argv(&v, probe, wrapped, 8),
			    NULL, 30, -1, NULL, &err))
			buf_addf(status, "unverifiable(offline: cannot create a "
				 "network namespace: %s)", err.len ? err.data :
				 "unshare failed");
		buf_release(&err);
	}
	run_commands(&v);
	run_job(&v);
	check_binary(&v);
	if (!status->len) {
		/* The built-in check: the tree's pins agree. */
		check_repo(c, rp, &pins, o->now, &f);
		for (size_t i = 0; i < f.lines.nr && !status->len; i++)
			if (strstr(f.lines.v[i], ": inconsistent: "))
				buf_addf(status, "verify-failed(re-scan: %s)",
					 strstr(f.lines.v[i], ": inconsistent: ") + 16);
	}
	if (!status->len)
		buf_addstr(status, "verified");
out:
	pinvec_release(&pins);
	findings_release(&f);
	strvec_clear(&v.env);
	strvec_clear(&vers);
	free(v.go_bin);
	buf_release(&tree);
	buf_release(&path);
	return r;
}

/* apply held this repository back: there is nothing to verify yet. */
static int applied_held(const struct conf *c, const struct repo_conf *rp)
{
	json_t *a = state_load(c, "apply");
	const char *oc = state_repo_str(a, rp->name, "outcome");
	int held = oc && !strcmp(oc, "held");

	json_decref(a);
	return held;
}

int cmd_verify(struct opts *o)
{
	struct buf err = BUF_INIT;
	json_t *state;
	struct conf c;
	int r, failed_wave = -1, any_bad = 0, lo = -1, hi = -1;

	if ((r = cli_conf(o, &c)))
		return r;
	state = state_load(&c, "verify");
	for (size_t i = 0; i < c.nrepos; i++) {
		if (lo < 0 || c.repos[i].wave < lo)
			lo = c.repos[i].wave;
		if (c.repos[i].wave > hi)
			hi = c.repos[i].wave;
	}
	for (int wave = lo; wave <= hi && !r; wave++) {
		for (size_t i = 0; i < c.nrepos && !r; i++) {
			struct repo_conf *rp = &c.repos[i];
			struct buf status = BUF_INIT;

			if (rp->wave != wave || !cli_want(o, rp))
				continue;
			if (applied_held(&c, rp)) {
				printf("%s: not applied yet (held by its wave)\n",
				       rp->name);
				continue;
			}
			if (failed_wave >= 0 && failed_wave < wave &&
			    !o->ignore_waves && !o->keep_going && !o->repo)
				buf_addf(&status, "held(wave %d failed)",
					 failed_wave);
			else if ((r = verify_one(o, &c, rp, &status)) != 0) {
				buf_release(&status);
				break;
			}
			printf("%s: %s\n", rp->name, status.data);
			if (strcmp(status.data, "verified")) {
				any_bad = 1;
				/* the rest of this wave still runs */
				if (failed_wave < 0)
					failed_wave = wave;
			}
			json_object_set_new(state, rp->name,
					    json_string(status.data));
			buf_release(&status);
		}
	}
	if (!r) {
		if (state_save(&c, "verify", state, &err))
			fprintf(stderr, "rtup: %s\n", err.data);
		r = any_bad ? RTUP_EXIT_FINDINGS : 0;
	}
	json_decref(state);
	buf_release(&err);
	conf_release(&c);
	return r;
}
