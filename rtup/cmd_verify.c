/* rtup verify and report. */
#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "git.h"
#include "plan.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The tree rtup works on: the worktree when apply made one. */
static void repo_tree(const struct conf *c, const struct repo_conf *rp,
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

static const char *state_path(const struct conf *c, struct buf *b)
{
	buf_reset(b);
	buf_addf(b, "%s/verify.json", c->state_dir);
	return b->data;
}

/* The version of each runtime: --to, else the tree's reference pin. */
static void versions_for(struct opts *o, const struct pinvec *pins,
			 struct strvec *out)
{
	for (size_t i = 0; i < runtimes_nr; i++) {
		const char *rt = runtimes[i].name;
		const struct pin *ref = ref_pin(pins, rt);
		const char *v = ref ? ref->value : NULL;

		for (size_t k = 0; k < o->to.nr; k++)
			if (!strncmp(o->to.v[k], rt, strlen(rt)) &&
			    o->to.v[k][strlen(rt)] == '@')
				v = o->to.v[k] + strlen(rt) + 1;
		if (v)
			strvec_pushf(out, "%s=%s", rt, v);
	}
}

static int verify_one(struct opts *o, struct conf *c, struct repo_conf *rp,
		      struct buf *status)
{
	struct buf tree = BUF_INIT, path = BUF_INIT, log = BUF_INIT;
	struct buf err = BUF_INIT;
	struct strvec env = STRVEC_INIT, vers = STRVEC_INIT;
	struct pinvec pins = { 0 };
	int r = 0;

	repo_tree(c, rp, &tree);
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
		if (access(dir.data, X_OK) == 0)
			buf_addf(&path, "%s:", dir.data);
		buf_release(&dir);
		free(rt);
	}
	buf_addstr(&path, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	strvec_pushf(&env, "PATH=%s", path.data);
	strvec_pushv(&env, rp->env.v);
	for (size_t i = 0; i < rp->verify.nr + !!rp->verify_job + !!rp->binary; i++) {
		const char *argv[8];
		const char *go_ver = NULL;
		struct buf cmd = BUF_INIT, out = BUF_INIT;
		int fd, st;

		for (size_t k = 0; k < vers.nr; k++)
			if (!strncmp(vers.v[k], "go=", 3))
				go_ver = vers.v[k] + 3;
		buf_reset(&log);
		buf_addf(&log, "%s/logs/%s/%zu.log", c->state_dir, rp->name, i + 1);
		fs_make_parent_dirs(log.data, 0755, &err);
		fd = open(log.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (i < rp->verify.nr) {
			buf_addstr(&cmd, rp->verify.v[i]);
			argv[0] = "/bin/sh", argv[1] = "-c", argv[2] = cmd.data;
			argv[3] = NULL;
		} else if (i == rp->verify.nr && rp->verify_job) {
			buf_addf(&cmd, "crunner exec %s", rp->verify_job);
			argv[0] = o->crunner ? o->crunner : "crunner";
			argv[1] = "exec", argv[2] = rp->verify_job, argv[3] = NULL;
		} else {
			buf_addf(&cmd, "go version %s", rp->binary);
			argv[0] = "go", argv[1] = "version", argv[2] = rp->binary;
			argv[3] = NULL;
		}
		if (!strcmp(argv[0], "go")) {
			/* the binary check reads go's output */
			st = run_cmd(tree.data, argv, &env, o->timeout, -1, &out,
				     &err);
			if (fd >= 0 && out.len && write(fd, out.data, out.len) < 0)
				st = CR_ERR_IO;
			if (st == 0 && go_ver) {
				struct buf want = BUF_INIT;

				buf_addf(&want, "go%s", go_ver);
				if (!strstr(out.data, want.data) ||
				    isdigit((unsigned char)strstr(out.data, want.data)[want.len]))
					st = 1;
				buf_release(&want);
			}
		} else
			st = run_cmd(tree.data, argv, &env, o->timeout, fd, NULL,
				     &err);
		if (fd >= 0)
			close(fd);
		if (st == CR_ERR_TIMEOUT)
			buf_addf(status, "timeout(%s)", cmd.data);
		else if (st != 0 && i == rp->verify.nr && rp->verify_job && st == 2)
			buf_addf(status, "unverifiable(%s)", cmd.data);
		else if (st != 0)
			buf_addf(status, "verify-failed(%s)", cmd.data);
		buf_release(&cmd);
		buf_release(&out);
		if (status->len)
			break;
	}
	if (!status->len)
		buf_addstr(status, "verified");
out:
	pinvec_release(&pins);
	strvec_clear(&env);
	strvec_clear(&vers);
	buf_release(&tree);
	buf_release(&path);
	buf_release(&log);
	buf_release(&err);
	return r;
}

int cmd_verify(struct opts *o)
{
	struct buf sp = BUF_INIT, err = BUF_INIT;
	json_t *state;
	struct conf c;
	int r, failed_wave = 0, any_bad = 0;

	if ((r = cli_conf(o, &c)))
		return r;
	if (!(state = json_load_file(state_path(&c, &sp), 0, NULL)))
		state = json_object();
	for (int wave = 0; wave <= 1000 && !r; wave++) {
		for (size_t i = 0; i < c.nrepos && !r; i++) {
			struct repo_conf *rp = &c.repos[i];
			struct buf status = BUF_INIT;

			if (rp->wave != wave || !cli_want(o, rp))
				continue;
			if (failed_wave && wave > failed_wave && !o->ignore_waves)
				buf_addf(&status, "held(wave %d failed)", failed_wave);
			else if ((r = verify_one(o, &c, rp, &status)) != 0) {
				buf_release(&status);
				break;
			}
			printf("%s: %s\n", rp->name, status.data);
			if (strcmp(status.data, "verified")) {
				any_bad = 1;
				if (!failed_wave && strncmp(status.data, "held", 4))
					failed_wave = wave;
			}
			json_object_set_new(state, rp->name, json_string(status.data));
			buf_release(&status);
		}
	}
	if (!r) {
		fs_make_parent_dirs(sp.data, 0755, &err);
		json_dump_file(state, sp.data, JSON_INDENT(2) | JSON_SORT_KEYS);
		r = any_bad ? RTUP_EXIT_FINDINGS : 0;
	}
	json_decref(state);
	buf_release(&sp);
	buf_release(&err);
	conf_release(&c);
	return r;
}

static int write_out(const char *dest, const char *text)
{
	FILE *fp;

	if (!strcmp(dest, "-")) {
		fputs(text, stdout);
		return 0;
	}
	if (!(fp = fopen(dest, "w")) || fputs(text, fp) < 0 || fclose(fp)) {
		fprintf(stderr, "rtup: cannot write '%s'\n", dest);
		return RTUP_EXIT_CONFIG;
	}
	return 0;
}

static const char *status_of(const char *verify, const char *before,
			     const char *after, int inconsistent,
			     const char *lag, int blocked)
{
	if (verify && strcmp(verify, "verified"))
		return verify;
	if (blocked)
		return "blocked";
	if (inconsistent)
		return "inconsistent";
	if (strcmp(before, after))
		return "updated";
	if (*lag)
		return lag;
	return "current";
}

int cmd_report(struct opts *o)
{
	struct buf sp = BUF_INIT, md = BUF_INIT;
	json_t *root = json_object(), *rows = json_array(), *state;
	struct conf c;
	int r, bad = 0;

	if ((r = cli_conf(o, &c)))
		goto done;
	state = json_load_file(state_path(&c, &sp), 0, NULL);
	buf_addstr(&md, "| repo | wave | runtime | before | after | status |\n"
		   "|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < c.nrepos && !r; i++) {
		struct repo_conf *rp = &c.repos[i];
		struct pinvec before = { 0 }, after = { 0 };
		struct buf tree = BUF_INIT;
		const char *vs = state ? json_string_value(json_object_get(state, rp->name)) : NULL;

		if (!cli_want(o, rp))
			continue;
		repo_tree(&c, rp, &tree);
		if ((r = cli_scan(&c, rp, NULL, &before, NULL)) ||
		    (r = cli_scan(&c, rp, tree.data, &after, NULL))) {
			buf_release(&tree);
			pinvec_release(&before);
			pinvec_release(&after);
			break;
		}
		for (size_t k = 0; k < runtimes_nr; k++) {
			const char *rt = runtimes[k].name;
			const struct pin *b = ref_pin(&before, rt), *a = ref_pin(&after, rt);
			struct findings f = { STRVEC_INIT, 0 };
			struct buf lag = BUF_INIT;
			json_t *row, *fl = json_array(), *de = json_array(), *mis = json_array();
			const char *st;
			struct ver v;
			int inc = 0;

			if (!a)
				continue;
			check_repo(&c, rp, &after, o->now, &f);
			for (size_t n = 0; n < f.lines.nr; n++)
				if (strstr(f.lines.v[n], "inconsistent") &&
				    strstr(f.lines.v[n], rt))
					inc = 1;
			if (!ver_parse_str(a->value, &v))
				lag_status(&c, rt, &v, o->now, &lag);
			for (size_t n = 0; n < after.nr; n++) {
				const struct pin *p = &after.v[n];
				struct buf s = BUF_INIT;

				if (strcmp(p->runtime, rt))
					continue;
				buf_addf(&s, "%s:%d %s", p->path, p->line, p->value);
				if (p->role == ROLE_FLOATING)
					json_array_append_new(fl, json_string(s.data));
				if (p->role == ROLE_DERIVED)
					json_array_append_new(de, json_string(s.data));
				if (p->role == ROLE_ANNOTATION && p->note) {
					buf_addf(&s, ": %s", p->note);
					json_array_append_new(mis, json_string(s.data));
				}
				buf_release(&s);
			}
			st = status_of(vs, b ? b->value : a->value, a->value, inc,
				       lag.data, 0);
			if (!strncmp(st, "lagging", 7) || !strcmp(st, "inconsistent") ||
			    !strncmp(st, "blocked", 7) || !strncmp(st, "verify-failed", 13) ||
			    !strncmp(st, "timeout", 7))
				bad = 1;
			row = json_object();
			json_object_set_new(row, "repo", json_string(rp->name));
			json_object_set_new(row, "wave", json_integer(rp->wave));
			json_object_set_new(row, "runtime", json_string(rt));
			json_object_set_new(row, "before", json_string(b ? b->value : a->value));
			json_object_set_new(row, "after", json_string(a->value));
			json_object_set_new(row, "status", json_string(st));
			json_object_set_new(row, "floating", fl);
			json_object_set_new(row, "derived", de);
			json_object_set_new(row, "misbound_annotations", mis);
			json_array_append_new(rows, row);
			buf_addf(&md, "| %s | %d | %s | %s | %s | %s |\n", rp->name,
				 rp->wave, rt, b ? b->value : a->value, a->value, st);
			findings_release(&f);
			buf_release(&lag);
		}
		buf_release(&tree);
		pinvec_release(&before);
		pinvec_release(&after);
	}
	if (!r) {
		char *s;

		json_object_set_new(root, "schema", json_string("rtup-report/1"));
		json_object_set(root, "rows", rows);
		s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (o->json || !o->md_out) {
			struct buf b = BUF_INIT;

			buf_addf(&b, "%s\n", s);
			r = write_out(o->json_out ? o->json_out : "-", b.data);
			buf_release(&b);
		}
		if (!r && o->md_out)
			r = write_out(o->md_out, md.data);
		free(s);
		if (!r && bad)
			r = RTUP_EXIT_FINDINGS;
	}
	json_decref(state);
	conf_release(&c);
done:
	json_decref(rows);
	json_decref(root);
	buf_release(&sp);
	buf_release(&md);
	return r;
}
