/* rtup scan, check, versions and import. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "plan.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int cli_conf(struct opts *o, struct conf *c)
{
	struct buf err = BUF_INIT;

	/* scan and check need no manifest: the current directory is then the
	 * one repository, with the built-in rules. */
	if (!o->manifest && o->manifest_optional && access("rtup.toml", F_OK)) {
		if (conf_default(".", c, &err)) {
			fprintf(stderr, "rtup: %s\n", err.data);
			buf_release(&err);
			return RTUP_EXIT_CONFIG;
		}
		fprintf(stderr, "rtup: no rtup.toml here: the current directory "
			"is the one repository ('%s'), with the built-in rules\n",
			c->repos[0].name);
		return 0;
	}
	if (conf_load(o->manifest ? o->manifest : "rtup.toml", c, &err)) {
		fprintf(stderr, "rtup: %s\n", err.data);
		buf_release(&err);
		conf_release(c);
		return RTUP_EXIT_CONFIG;
	}
	if (o->repo && !conf_repo(c, o->repo)) {
		fprintf(stderr, "rtup: %s: no [repo.%s]\n", c->path, o->repo);
		conf_release(c);
		return RTUP_EXIT_CONFIG;
	}
	return 0;
}

int cli_want(const struct opts *o, const struct repo_conf *rp)
{
	return !o->repo || !strcmp(o->repo, rp->name);
}

int cli_scan(struct conf *c, const struct repo_conf *rp, const char *root,
	     struct pinvec *pins, size_t *hits)
{
	struct buf err = BUF_INIT;

	if (scan_repo(c, rp, root ? root : rp->path, pins, hits, &err)) {
		fprintf(stderr, "rtup: %s\n", err.data);
		buf_release(&err);
		return RTUP_EXIT_CONFIG;
	}
	return 0;
}

static json_t *pin_json(const struct pin *p)
{
	json_t *j = json_object();

	json_object_set_new(j, "path", json_string(p->path));
	json_object_set_new(j, "line", json_integer(p->line));
	json_object_set_new(j, "col", json_integer(p->col));
	json_object_set_new(j, "end_col",
			    json_integer(p->col + (json_int_t)(p->end - p->start)));
	json_object_set_new(j, "runtime", json_string(p->runtime));
	json_object_set_new(j, "role", json_string(role_name(p->role)));
	json_object_set_new(j, "value", json_stringn(p->value, strlen(p->value)));
	if (p->name)
		json_object_set_new(j, "name", json_string(p->name));
	json_object_set_new(j, "scanner", json_string(p->scanner));
	if (p->note)
		json_object_set_new(j, "note", json_string(p->note));
	return j;
}

static int silent_rules(const struct conf *c, const size_t *hits, int strict)
{
	int bad = 0;

	for (size_t k = 0; k < c->nrules; k++)
		if (!hits[k]) {
			fprintf(stderr, "rtup: %s: %s: rule '%s' matches nothing\n",
				c->path, strict ? "error" : "warning",
				c->rules[k].name);
			bad = 1;
		}
	return bad;
}

int cmd_scan(struct opts *o)
{
	struct conf c;
	json_t *root = json_object(), *repos = json_array();
	size_t *hits;
	int r;

	o->manifest_optional = 1;
	if ((r = cli_conf(o, &c)))
		goto done;
	hits = xcalloc(c.nrules + 1, sizeof(*hits));
	for (size_t i = 0; i < c.nrepos && !r; i++) {
		struct pinvec pins = { 0 };
		json_t *jr, *jp;

		if (!cli_want(o, &c.repos[i]))
			continue;
		if ((r = cli_scan(&c, &c.repos[i], NULL, &pins, hits)))
			break;
		jr = json_object();
		jp = json_array();
		json_object_set_new(jr, "repo", json_string(c.repos[i].name));
		for (size_t k = 0; k < pins.nr; k++) {
			const struct pin *p = &pins.v[k];

			if (o->runtime && strcmp(o->runtime, p->runtime))
				continue;
			if (o->json)
				json_array_append_new(jp, pin_json(p));
			else
				printf("%s\t%s:%d:%d\t%s\t%s\t%s%s%s\n",
				       c.repos[i].name, p->path, p->line, p->col,
				       p->runtime, role_name(p->role), p->value,
				       p->note ? "\t" : "", p->note ? p->note : "");
		}
		json_object_set_new(jr, "pins", jp);
		json_array_append_new(repos, jr);
		pinvec_release(&pins);
	}
	if (!r && !o->repo)
		silent_rules(&c, hits, 0);
	if (!r && o->json) {
		char *s;

		json_object_set_new(root, "schema", json_string("rtup-scan/1"));
		json_object_set(root, "repos", repos);
		s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
	}
	free(hits);
	conf_release(&c);
done:
	json_decref(repos);
	json_decref(root);
	return r;
}

int cmd_check(struct opts *o)
{
	struct findings f = { STRVEC_INIT, 0 };
	struct conf c;
	size_t *hits;
	int r;

	o->manifest_optional = 1;
	if ((r = cli_conf(o, &c)))
		return r;
	hits = xcalloc(c.nrules + 1, sizeof(*hits));
	for (size_t i = 0; i < c.nrepos && !r; i++) {
		struct pinvec pins = { 0 };

		if (!cli_want(o, &c.repos[i]))
			continue;
		if ((r = cli_scan(&c, &c.repos[i], NULL, &pins, hits)))
			break;
		check_repo(&c, &c.repos[i], &pins, o->now, &f);
		pinvec_release(&pins);
	}
	if (!r) {
		for (size_t i = 0; i < f.lines.nr; i++)
			printf("%s\n", f.lines.v[i]);
		if (!o->repo && silent_rules(&c, hits, o->strict) && o->strict)
			r = RTUP_EXIT_FINDINGS;
		if (f.serious)
			r = RTUP_EXIT_FINDINGS;
	}
	free(hits);
	findings_release(&f);
	conf_release(&c);
	return r;
}

int cmd_versions(struct opts *o)
{
	struct buf err = BUF_INIT;
	struct conf c;
	struct feed fd;
	int r;

	if (o->args.nr != 1) {
		fprintf(stderr, "usage: rtup versions RUNTIME [--supported]\n");
		return RTUP_EXIT_CONFIG;
	}
	if ((r = cli_conf(o, &c)))
		return r;
	if (feed_load(c.versions, o->args.v[0], &fd, &err)) {
		fprintf(stderr, "rtup: %s\n", err.data);
		r = RTUP_EXIT_CONFIG;
	} else if (o->supported) {
		struct ver sup[64];
		const struct rt_policy *p = conf_policy(&c, o->args.v[0]);
		size_t n = feed_supported(&fd, o->now, sup, (size_t)p->window);

		for (size_t i = 0; i < n; i++) {
			char s[48];

			printf("%s%s", i ? " " : "", ver_str(&sup[i], sup[i].parts, s, sizeof(s)));
		}
		printf("\n");
	} else {
		for (size_t i = 0; i < fd.nr; i++) {
			char s[48], d[16] = "-";
			struct tm tm;

			if (fd.r[i].date && gmtime_r(&fd.r[i].date, &tm))
				strftime(d, sizeof(d), "%Y-%m-%d", &tm);
			printf("%s\t%s\t%s\n", ver_str(&fd.r[i].v, fd.r[i].v.parts, s, sizeof(s)),
			       d, fd.r[i].prerelease ? "prerelease" : "stable");
		}
	}
	feed_release(&fd);
	buf_release(&err);
	conf_release(&c);
	return r;
}

/* go.dev/dl/?mode=json&include=all: [{"version":"go1.22.1","stable":true}] */
static int import_go_dl(json_t *j, const char *rt)
{
	size_t i;
	json_t *e;

	if (!json_is_array(j))
		return -1;
	printf("# runtime\tversion\treleased\tflags\n");
	json_array_foreach(j, i, e) {
		const char *v = json_string_value(json_object_get(e, "version"));
		int stable = json_is_true(json_object_get(e, "stable"));
		struct ver ver;

		if (!v || strncmp(v, "go", 2) || ver_parse_str(v + 2, &ver))
			return -1;
		printf("%s\t%s\t-\t%s\n", rt, v + 2,
		       stable ? "stable" : "prerelease");
	}
	return 0;
}

/* endoflife.date: [{"cycle":"1.26","releaseDate":..,"eol":..,"latest":..}] */
static int import_eol(json_t *j, const char *rt)
{
	size_t i;
	json_t *e;

	if (!json_is_array(j))
		return -1;
	printf("# runtime\tversion\treleased\tflags\n");
	json_array_foreach(j, i, e) {
		const char *cy = json_string_value(json_object_get(e, "cycle"));
		const char *rd = json_string_value(json_object_get(e, "releaseDate"));
		const char *la = json_string_value(json_object_get(e, "latest"));
		const char *ld = json_string_value(json_object_get(e, "latestReleaseDate"));
		const char *eol = json_string_value(json_object_get(e, "eol"));
		struct ver v;
		time_t t;

		if (!cy || !rd || ver_parse_str(cy, &v) || date_parse(rd, &t) ||
		    (eol && date_parse(eol, &t)))
			return -1;
		printf("%s\t%s.0\t%s\tstable%s%s\n", rt, cy, rd,
		       eol ? "\teol=" : "", eol ? eol : "");
		if (la && ld && strcmp(la, cy) && !ver_parse_str(la, &v) &&
		    v.parts == 3 && v.n[2] != 0)
			printf("%s\t%s\t%s\tstable%s%s\n", rt, la, ld,
			       eol ? "\teol=" : "", eol ? eol : "");
	}
	return 0;
}

int cmd_import(struct opts *o)
{
	json_error_t je;
	json_t *j;
	int r;

	if (o->args.nr != 2 || (strcmp(o->args.v[0], "go-dl") &&
				strcmp(o->args.v[0], "eol"))) {
		fprintf(stderr, "usage: rtup import go-dl|eol FILE --runtime RT\n");
		return RTUP_EXIT_CONFIG;
	}
	if (!(j = json_load_file(o->args.v[1], 0, &je))) {
		fprintf(stderr, "rtup: %s:%d: %s\n", o->args.v[1], je.line, je.text);
		return RTUP_EXIT_CONFIG;
	}
	r = !strcmp(o->args.v[0], "go-dl") ?
	    import_go_dl(j, o->runtime ? o->runtime : "go") :
	    import_eol(j, o->runtime ? o->runtime : "go");
	json_decref(j);
	if (r) {
		fprintf(stderr, "rtup: %s:1: not %s-shaped JSON\n", o->args.v[1],
			o->args.v[0]);
		return RTUP_EXIT_CONFIG;
	}
	return 0;
}
