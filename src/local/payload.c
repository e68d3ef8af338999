/*
 * A local job as GitLab's job payload.  Variables go in GitLab's order
 * (predefined, then the job's, then dotenv reports of its dependencies,
 * then pipeline variables such as --variable): the engine lets the last
 * of a key win.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/cachekey.h"
#include "local/environment.h"
#include "local/payload.h"
#include "local/payload_int.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/hex.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DEFAULT_TIMEOUT_S 3600

static const char *const failure_reasons[] = {
	"unknown_failure", "script_failure", "api_failure",
	"stuck_or_timeout_failure", "runner_system_failure",
	"missing_dependency_failure", "runner_unsupported",
	"job_execution_timeout", "runner_interrupted", NULL,
};

static void add_var(json_t *arr, const char *key, const char *value,
		    bool raw)
{
	json_t *v = json_object();

	json_object_set_new(v, "key", json_string(key));
	json_object_set_new(v, "value", json_string(value));
	json_object_set_new(v, "public", json_true());
	json_object_set_new(v, "masked", json_false());
	if (raw)
		json_object_set_new(v, "raw", json_true());
	json_array_append_new(arr, v);
}

static void add_vars(json_t *arr, const struct pl_vars *vars)
{
	size_t i;

	for (i = 0; vars && i < vars->nr; i++)
		add_var(arr, vars->v[i].key, vars->v[i].value, vars->v[i].raw);
}

static json_t *strings(const struct strvec *a, const struct strvec *b)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; a && i < a->nr; i++)
		json_array_append_new(arr, json_string(a->v[i]));
	for (i = 0; b && i < b->nr; i++)
		json_array_append_new(arr, json_string(b->v[i]));
	return arr;
}

/* GitLab's report types: format and default file name (Enums::Ci::JobArtifact). */
static const struct report_type {
	const char *type, *format, *filename;
} report_types[] = {
	{ "junit", "gzip", "junit.xml" },
	{ "metrics", "gzip", "metrics.txt" },
	{ "dotenv", "gzip", ".env" },
	{ "cobertura", "gzip", "cobertura-coverage.xml" },
	{ "jacoco", "gzip", "jacoco-coverage.xml" },
	{ "lsif", "zip", "lsif.json" },
	{ "scip", "zip", "index.scip" },
	{ "cyclonedx", "gzip", "gl-sbom.cdx.json" },
	{ "annotations", "gzip", "gl-annotations.json" },
	{ "repository_xray", "gzip", "gl-repository-xray.json" },
	{ "sast", "raw", "gl-sast-report.json" },
	{ "secret_detection", "raw", "gl-secret-detection-report.json" },
	{ "dependency_scanning", "raw", "gl-dependency-scanning-report.json" },
	{ "container_scanning", "raw", "gl-container-scanning-report.json" },
	{ "cluster_image_scanning", "raw", "gl-cluster-image-scanning-report.json" },
	{ "dast", "raw", "gl-dast-report.json" },
	{ "license_scanning", "raw", "gl-license-scanning-report.json" },
	{ "accessibility", "raw", "gl-accessibility.json" },
	{ "codequality", "raw", "gl-code-quality-report.json" },
	{ "performance", "raw", "performance.json" },
	{ "browser_performance", "raw", "browser-performance.json" },
	{ "load_performance", "raw", "load-performance.json" },
	{ "terraform", "raw", "tfplan.json" },
	{ "requirements", "raw", "requirements.json" },
	{ "requirements_v2", "raw", "requirements_v2.json" },
	{ "coverage_fuzzing", "raw", "gl-coverage-fuzzing.json" },
	{ "api_fuzzing", "raw", "gl-api-fuzzing-report.json" },
	{ "sarif", "raw", "gl-sarif-report.sarif" },
	{ NULL, NULL, NULL },
};

static const char *const artifact_keys[] = {
	"name", "paths", "exclude", "untracked", "when", "expire_in",
	"reports", "expose_as", "public", "access", NULL,
};

static const char *const cache_keys[] = {
	"key", "untracked", "paths", "when", "policy", "unprotect",
	"fallback_keys", NULL,
};

static const char *const whens3[] = {
	"on_success", "on_failure", "always", NULL,
};

static bool in_table(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

int payload_bad(struct buf *err, const struct ynode *n, const char *job,
		const char *what)
{
	char where[512];

	ynode_where_key(n, where, sizeof(where));
	buf_seterr(err, "%s: job '%s': %s", where, job, what);
	return CR_ERR_INVALID;
}

int payload_check_keys(const struct ynode *n, const char *const *keys,
		       const char *job, const char *owner, struct buf *err)
{
	struct buf what = BUF_INIT;
	size_t i;
	int r;

	if (n->kind != YNODE_MAP) {
		(void)buf_addf(&what, "'%s' should be a mapping", owner);
		r = payload_bad(err, n, job, what.data);
		buf_release(&what);
		return r;
	}
	for (i = 0; i < n->nr; i++)
		if (!in_table(keys, n->keys[i])) {
			(void)buf_addf(&what, "%s: unknown key '%s'", owner,
				       n->keys[i]);
			r = payload_bad(err, n->items[i], job, what.data);
			buf_release(&what);
			return r;
		}
	return 0;
}

/* A string or a list of strings into a JSON array (and out, if given). */
static int str_list(const struct ynode *n, const char *job, const char *key,
		    json_t **arr, struct buf *err)
{
	struct buf what = BUF_INIT;
	size_t i;

	*arr = json_array();
	if (!n || n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SCALAR) {
		json_array_append_new(*arr, json_string(ynode_text(n)));
		return 0;
	}
	if (n->kind == YNODE_SEQ) {
		for (i = 0; i < n->nr; i++) {
			if (n->items[i]->kind != YNODE_SCALAR)
				goto bad;
			json_array_append_new(*arr,
				json_string(ynode_text(n->items[i])));
		}
		return 0;
	}
bad:
	json_decref(*arr);
	*arr = NULL;
	(void)buf_addf(&what, "'%s' should be an array of strings", key);
	(void)payload_bad(err, n, job, what.data);
	buf_release(&what);
	return CR_ERR_INVALID;
}

static int scalar(const struct ynode *n, const char *job, const char *key,
		  const char **out, struct buf *err)
{
	struct buf what = BUF_INIT;

	*out = NULL;
	if (!n || n->kind == YNODE_NULL)
		return 0;
	if (n->kind == YNODE_SCALAR) {
		*out = ynode_text(n);
		return 0;
	}
	(void)buf_addf(&what, "'%s' should be a string", key);
	(void)payload_bad(err, n, job, what.data);
	buf_release(&what);
	return CR_ERR_INVALID;
}

static int boolean(const struct ynode *n, const char *job, const char *key,
		   bool *out, struct buf *err)
{
	struct buf what = BUF_INIT;
	int b;

	*out = false;
	if (!n || n->kind == YNODE_NULL)
		return 0;
	if ((b = ynode_bool(n)) >= 0) {
		*out = b;
		return 0;
	}
	(void)buf_addf(&what, "'%s' should be a boolean value", key);
	(void)payload_bad(err, n, job, what.data);
	buf_release(&what);
	return CR_ERR_INVALID;
}

static int when_value(const struct ynode *n, const char *job, const char *key,
		      const char **out, struct buf *err)
{
	struct buf what = BUF_INIT;
	int r;

	if ((r = scalar(n, job, key, out, err)))
		return r;
	if (!*out || in_table(whens3, *out))
		return 0;
	(void)buf_addf(&what, "'%s' should be on_success, on_failure or always",
		       key);
	r = payload_bad(err, n, job, what.data);
	buf_release(&what);
	return r;
}

static void set_str(json_t *o, const char *key, const char *value)
{
	if (value)
		json_object_set_new(o, key, json_string(value));
}

static int add_reports(json_t *arr, const struct ynode *reports,
		       const char *expire_in, const char *job,
		       struct buf *err)
{
	size_t i, k;
	int r;

	if (reports->kind != YNODE_MAP)
		return payload_bad(err, reports, job, "'artifacts:reports' should be a mapping");
	for (i = 0; i < reports->nr; i++) {
		const char *type = reports->keys[i], *format = NULL;
		const char *filename = NULL;
		const struct ynode *v = reports->items[i];
		json_t *a, *paths;

		if (!strcmp(type, "coverage_report")) {
			const char *cf = NULL, *path = NULL;

			if (v->kind != YNODE_MAP)
				return payload_bad(err, v, job, "'artifacts:reports:coverage_report' should be a mapping");
			if ((r = scalar(ynode_get(v, "coverage_format"), job,
					"coverage_format", &cf, err)) ||
			    (r = scalar(ynode_get(v, "path"), job, "path",
					&path, err)))
				return r;
			if (!cf || !path)
				return payload_bad(err, v, job, "'artifacts:reports:coverage_report' needs coverage_format and path");
			type = cf;
			paths = json_array();
			json_array_append_new(paths, json_string(path));
		} else if ((r = str_list(v, job, type, &paths, err))) {
			return r;
		}
		for (k = 0; report_types[k].type; k++)
			if (!strcmp(report_types[k].type, type)) {
				format = report_types[k].format;
				filename = report_types[k].filename;
			}
		if (!format) {
			struct buf what = BUF_INIT;

			json_decref(paths);
			(void)buf_addf(&what, "artifacts:reports: unknown report type '%s'",
				       type);
			r = payload_bad(err, v, job, what.data);
			buf_release(&what);
			return r;
		}
		a = json_object();
		json_object_set_new(a, "name", json_string(filename));
		json_object_set_new(a, "paths", paths);
		json_object_set_new(a, "when", json_string("always"));
		set_str(a, "expire_in", expire_in);
		json_object_set_new(a, "artifact_type", json_string(type));
		json_object_set_new(a, "artifact_format", json_string(format));
		json_array_append_new(arr, a);
	}
	return 0;
}

/* artifacts: as the presenter's create_archive + create_reports. */
static int add_artifacts(json_t *arr, const struct local_job *j,
			 struct buf *err)
{
	const struct ynode *n = ynode_get(j->def->node, "artifacts");
	const char *name, *when, *expire_in;
	const struct ynode *reports;
	json_t *paths = NULL, *exclude = NULL, *a;
	bool untracked;
	int r;

	if (!n || n->kind == YNODE_NULL)
		return 0;
	if ((r = payload_check_keys(n, artifact_keys, j->name, "artifacts", err)) ||
	    (r = scalar(ynode_get(n, "name"), j->name, "artifacts:name",
			&name, err)) ||
	    (r = when_value(ynode_get(n, "when"), j->name, "artifacts:when",
			    &when, err)) ||
	    (r = scalar(ynode_get(n, "expire_in"), j->name,
			"artifacts:expire_in", &expire_in, err)) ||
	    (r = boolean(ynode_get(n, "untracked"), j->name,
			 "artifacts:untracked", &untracked, err)))
		return r;
	if ((r = str_list(ynode_get(n, "paths"), j->name, "artifacts:paths",
			  &paths, err)))
		return r;
	if ((r = str_list(ynode_get(n, "exclude"), j->name,
			  "artifacts:exclude", &exclude, err))) {
		json_decref(paths);
		return r;
	}
	if (untracked || ynode_get(n, "paths")) {
		a = json_object();
		set_str(a, "name", name);
		json_object_set_new(a, "untracked", json_boolean(untracked));
		json_object_set_new(a, "paths", paths);
		json_object_set_new(a, "exclude", exclude);
		set_str(a, "when", when);
		set_str(a, "expire_in", expire_in);
		json_object_set_new(a, "artifact_type", json_string("archive"));
		json_object_set_new(a, "artifact_format", json_string("zip"));
		json_array_append_new(arr, a);
	} else {
		json_decref(paths);
		json_decref(exclude);
	}
	reports = ynode_get(n, "reports");
	if (reports && reports->kind != YNODE_NULL)
		return add_reports(arr, reports, expire_in, j->name, err);
	return 0;
}

/*
 * GitLab's KeyValidator (lib/gitlab/ci/config/entry/validators.rb) for
 * cache:key and cache:key:prefix: the text, URL-decoded as CGI.unescape
 * does ('+' is a space), may not hold '/' nor be "." or "..".  The runner
 * side (cache_key_sanitize()) still cleans what variables expand to.
 */
static int check_key_text(const struct ynode *n, const char *text,
			  const char *job, const char *key, struct buf *err)
{
	struct buf plain = BUF_INIT, what = BUF_INIT;
	const char *p;
	int r = 0;

	for (p = text; *p; p++) {
		int hi, lo;

		if (*p == '%' && (hi = hex_digit((unsigned char)p[1])) >= 0 &&
		    (lo = hex_digit((unsigned char)p[2])) >= 0) {
			(void)buf_addch(&plain, (char)(hi << 4 | lo));
			p += 2;
		} else {
			(void)buf_addch(&plain, *p == '+' ? ' ' : *p);
		}
	}
	if (memchr(plain.data, '/', plain.len))
		(void)buf_addf(&what, "%s config cannot contain the \"/\" character",
			       key);
	else if (!strcmp(plain.data, ".") || !strcmp(plain.data, ".."))
		(void)buf_addf(&what, "%s config cannot be \".\" or \"..\"",
			       key);
	if (what.len)
		r = payload_bad(err, n, job, what.data);
	buf_release(&plain);
	buf_release(&what);
	return r;
}

static int cache_key(const struct ynode *key, size_t index,
		     const char *dir, const char *job, char **out,
		     struct buf *err)
{
	const struct ynode *files, *commits;
	const char *prefix = NULL;
	struct strvec list = STRVEC_INIT;
	struct buf b = BUF_INIT;
	json_t *arr;
	char *digest;
	size_t i;
	int r;

	*out = NULL;
	if (!key || key->kind == YNODE_NULL) {
		*out = xstrdup("default");
		return 0;
	}
	if (key->kind == YNODE_SCALAR) {
		if ((r = check_key_text(key, ynode_text(key), job, "cache:key",
					err)))
			return r;
		*out = xstrdup(ynode_text(key));
		return 0;
	}
	if ((r = payload_check_keys(key, (const char *const[]){ "files",
				"files_commits", "prefix", NULL }, job,
				"cache:key", err)) ||
	    (r = scalar(ynode_get(key, "prefix"), job, "cache:key:prefix",
			&prefix, err)) ||
	    (prefix && (r = check_key_text(ynode_get(key, "prefix"), prefix,
					   job, "cache:key:prefix", err))))
		return r;
	files = ynode_get(key, "files");
	commits = ynode_get(key, "files_commits");
	if (files && commits)
		return payload_bad(err, key, job, "cache:key: files and files_commits cannot be used together");
	if ((r = str_list(files ? files : commits, job,
			  files ? "cache:key:files" : "cache:key:files_commits",
			  &arr, err)))
		return r;
	if (json_array_size(arr) > 2) {
		json_decref(arr);
		return payload_bad(err, files ? files : commits, job,
				   "cache:key: at most two files are allowed");
	}
	for (i = 0; i < json_array_size(arr); i++)
		strvec_push(&list, json_string_value(json_array_get(arr, i)));
	json_decref(arr);
	digest = dir ? local_cache_key_digest(dir, &list, commits != NULL) :
		xstrdup("default");
	if (prefix)
		(void)buf_addstr(&b, prefix);
	else
		(void)buf_addf(&b, "%zu", index);
	(void)buf_addf(&b, "%s%s", b.len ? "-" : "", digest);
	free(digest);
	strvec_clear(&list);
	*out = buf_detach(&b, NULL);
	return 0;
}

static int add_cache(json_t *arr, const struct ynode *n, size_t index,
		     const char *dir, const char *job, struct buf *err)
{
	const char *policy, *when;
	json_t *paths = NULL, *fallback = NULL, *c;
	bool untracked, unprotect;
	char *key = NULL;
	int r;

	if ((r = payload_check_keys(n, cache_keys, job, "cache", err)) ||
	    (r = scalar(ynode_get(n, "policy"), job, "cache:policy", &policy,
			err)) ||
	    (r = when_value(ynode_get(n, "when"), job, "cache:when", &when,
			    err)) ||
	    (r = boolean(ynode_get(n, "untracked"), job, "cache:untracked",
			 &untracked, err)) ||
	    (r = boolean(ynode_get(n, "unprotect"), job, "cache:unprotect",
			 &unprotect, err)) ||
	    (r = cache_key(ynode_get(n, "key"), index, dir, job, &key, err)))
		return r;
	if ((r = str_list(ynode_get(n, "paths"), job, "cache:paths", &paths,
			  err)))
		goto out;
	if ((r = str_list(ynode_get(n, "fallback_keys"), job,
			  "cache:fallback_keys", &fallback, err)))
		goto out;
	c = json_object();
	json_object_set_new(c, "key", json_string(key));
	json_object_set_new(c, "untracked", json_boolean(untracked));
	json_object_set_new(c, "paths", paths);
	json_object_set_new(c, "policy", json_string(policy && *policy ?
						     policy : "pull-push"));
	json_object_set_new(c, "when", json_string(when ? when : "on_success"));
	json_object_set_new(c, "fallback_keys", fallback);
	json_array_append_new(arr, c);
	paths = fallback = NULL;
out:
	json_decref(paths);
	json_decref(fallback);
	free(key);
	return r;
}

/* cache: one mapping or a list of them (GitLab allows four). */
static int add_caches(json_t *arr, const struct local_job *j,
		      const char *dir, struct buf *err)
{
	const struct ynode *n = ynode_get(j->def->node, "cache");
	size_t i;
	int r;

	if (!n || n->kind == YNODE_NULL)
		return 0;
	if (n->kind != YNODE_SEQ)
		return add_cache(arr, n, 0, dir, j->name, err);
	if (n->nr > 4)
		return payload_bad(err, n, j->name, "cache: no more than 4 caches can be created");
	for (i = 0; i < n->nr; i++)
		if ((r = add_cache(arr, n->items[i], i, dir, j->name, err)))
			return r;
	return 0;
}

int local_payload_check(const struct local_job *j, struct buf *err)
{
	json_t *arr = json_array(), *image = NULL, *services = NULL;
	int r;

	if (!(r = add_artifacts(arr, j, err)))
		r = add_caches(arr, j, NULL, err);
	if (!r)
		r = payload_image(j, &image, &services, err);
	json_decref(arr);
	json_decref(image);
	json_decref(services);
	return r;
}

bool local_payload_passes_artifacts(const struct dag *d,
				    const struct local_job *j, size_t k)
{
	const struct local_job *p = &d->jobs[j->deps[k]];
	size_t i;

	if (p->trigger)
		return false;	/* it never ran here: nothing to pass */
	/*
	 * As GitLab's BuildDependencies: a needs: entry with artifacts: false
	 * passes none, whatever dependencies: lists (needs and dependencies
	 * intersect).
	 */
	if (j->dep_no_artifacts[k])
		return false;
	if (j->def->has_dependencies) {
		for (i = 0; i < j->def->dependencies.nr; i++)
			if (!strcmp(p->name, j->def->dependencies.v[i]) ||
			    !strcmp(p->def->name, j->def->dependencies.v[i]))
				return true;
		return false;
	}
	return true;
}

/* A variable as the job sees it, for environment:'s name and url. */
static const char *job_lookup(void *ctx, const char *key)
{
	const void *const *pair = ctx;
	const struct local_job *j = pair[0];
	const struct local_payload_options *o = pair[1];
	const char *v;

	if ((o->overrides && (v = pl_vars_get(o->overrides, key))) ||
	    (v = pl_vars_get(&j->variables, key)) ||
	    (v = pl_vars_get(&j->predef, key)) ||
	    (o->predefined && (v = pl_vars_get(o->predefined, key))))
		return v;
	return NULL;
}

/* CI_ENVIRONMENT_*: predefined, so before the job's own variables. */
static void add_environment(json_t *vars, const struct local_job *j,
			    const struct local_payload_options *o)
{
	const void *pair[2] = { j, o };
	struct pl_vars env = PL_VARS_INIT;

	env_variables(ynode_get(j->def->node, "environment"), job_lookup,
		      (void *)pair, &env);
	add_vars(vars, &env);
	pl_vars_release(&env);
}

static json_t *step(const char *name, json_t *script, long timeout,
		    const char *when, bool allow_failure)
{
	json_t *s = json_object();

	json_object_set_new(s, "name", json_string(name));
	json_object_set_new(s, "script", script);
	json_object_set_new(s, "timeout", json_integer(timeout));
	json_object_set_new(s, "when", json_string(when));
	json_object_set_new(s, "allow_failure", json_boolean(allow_failure));
	return s;
}

int local_payload_compose(const struct local_job *j,
			  const struct local_payload_options *o, char **json,
			  struct buf *err)
{
	const struct local_repo *repo = o->repo;
	json_t *p = json_object(), *info = json_object(), *git = json_object();
	json_t *runner = json_object(), *vars = json_array();
	json_t *steps = json_array(), *features = json_object(), *fr;
	long timeout = j->def->timeout_s > 0 ? j->def->timeout_s :
		DEFAULT_TIMEOUT_S;
	const char *project_dir = o->project_dir ? o->project_dir : repo->root;
	json_t *artifacts = json_array(), *caches = json_array();
	json_t *deps = json_array(), *image = NULL, *services = NULL;
	char num[32];
	size_t i;

	json_object_set_new(p, "id", json_integer(o->job_id));
	json_object_set_new(p, "token", json_string(o->token));
	json_object_set_new(p, "allow_git_fetch", json_false());

	json_object_set_new(info, "id", json_integer(o->job_id));
	json_object_set_new(info, "name", json_string(j->name));
	json_object_set_new(info, "stage", json_string(j->def->stage));
	json_object_set_new(info, "pipeline_id", json_integer(o->pipeline_id));
	json_object_set_new(info, "project_id", json_integer(0));
	json_object_set_new(info, "project_name",
			    json_string(repo->project_name));
	json_object_set_new(info, "project_full_path",
			    json_string(repo->project_path));
	json_object_set_new(info, "project_jobs_running_on_instance_runners_count",
			    json_string("+Inf"));
	json_object_set_new(p, "job_info", info);

	json_object_set_new(git, "repo_url", json_string(""));
	json_object_set_new(git, "ref", json_string(repo->ref));
	json_object_set_new(git, "sha", json_string(repo->sha));
	json_object_set_new(git, "before_sha", json_string(repo->before_sha));
	json_object_set_new(git, "ref_type",
			    json_string(repo->is_tag ? "tag" : "branch"));
	json_object_set_new(git, "refspecs", json_array());
	json_object_set_new(git, "depth", json_integer(0));
	json_object_set_new(git, "repo_object_format", json_string("sha1"));
	json_object_set_new(git, "protected", json_false());
	json_object_set_new(p, "git_info", git);

	json_object_set_new(runner, "uuid", json_string("local"));
	json_object_set_new(runner, "timeout", json_integer(timeout));
	json_object_set_new(runner, "runner_session_url", json_null());
	json_object_set_new(p, "runner_info", runner);

	add_vars(vars, o->predefined);
	snprintf(num, sizeof(num), "%ld", o->job_id);
	add_var(vars, "CI_JOB_ID", num, false);
	add_var(vars, "CI_JOB_TOKEN", o->token, false);
	add_var(vars, "CI_JOB_STARTED_AT", "", false);
	add_var(vars, "CI_JOB_MANUAL", strcmp(j->when, "manual") ? "" : "true",
		false);
	add_vars(vars, &j->predef);
	add_environment(vars, j, o);
	add_vars(vars, &j->variables);
	add_vars(vars, o->dotenv);
	add_vars(vars, o->overrides);
	/* The working tree as it is: never fetched, never cleaned. */
	add_var(vars, "GIT_STRATEGY", "none", false);
	add_var(vars, "CI_PROJECT_DIR", project_dir, false);
	json_object_set_new(p, "variables", vars);

	json_array_append_new(steps, step("script",
					  strings(&j->def->before_script,
						  &j->def->script),
					  timeout, "on_success", false));
	if (j->def->after_script.nr)
		json_array_append_new(steps, step("after_script",
						  strings(&j->def->after_script,
							  NULL),
						  timeout, "always", true));
	json_object_set_new(p, "steps", steps);
	if (payload_image(j, &image, &services, err) ||
	    add_artifacts(artifacts, j, err) ||
	    add_caches(caches, j, project_dir, err)) {
		json_decref(image);
		json_decref(services);
		json_decref(artifacts);
		json_decref(caches);
		json_decref(deps);
		json_decref(p);
		*json = NULL;
		return CR_ERR_INVALID;
	}
	json_object_set_new(p, "image", image);
	json_object_set_new(p, "services", services);
	json_object_set_new(p, "artifacts", artifacts);
	json_object_set_new(p, "cache", caches);
	for (i = 0; i < o->nr_deps; i++) {
		json_t *dep = json_object();

		json_object_set_new(dep, "id", json_integer(o->deps[i].id));
		json_object_set_new(dep, "name", json_string(o->deps[i].name));
		json_object_set_new(dep, "token", json_string(o->token));
		if (o->deps[i].filename) {
			json_t *f = json_object();

			json_object_set_new(f, "filename",
					    json_string(o->deps[i].filename));
			json_object_set_new(f, "size",
					    json_integer(o->deps[i].size));
			json_object_set_new(dep, "artifacts_file", f);
		}
		json_array_append_new(deps, dep);
	}
	json_object_set_new(p, "dependencies", deps);
	fr = json_array();
	for (i = 0; failure_reasons[i]; i++)
		json_array_append_new(fr, json_string(failure_reasons[i]));
	json_object_set_new(features, "trace_sections", json_false());
	json_object_set_new(features, "failure_reasons", fr);
	json_object_set_new(p, "features", features);

	*json = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (!*json) {
		buf_seterr(err, "job '%s': cannot encode its payload", j->name);
		return CR_ERR_NOMEM;
	}
	return 0;
}
