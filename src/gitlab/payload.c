/*
 * Job payload decoding, driven by one table per struct: each row names a
 * JSON member, its type and where it goes.  The same tables give the
 * defaults ("" for strings) and drive job_payload_free(), so a field added
 * to a table is decoded, defaulted and freed without more code.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gitlab/gl_json.h"
#include "gitlab/payload.h"
#include "gitlab/payload_secrets.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/xalloc.h"
#include "util/banned.h"

enum field_type {
	FT_STR,		/* char *, "" by default */
	FT_SECRET,	/* the same, wiped on free */
	FT_STR_OR_INT,	/* char *; an integer is kept as its decimal text */
	FT_BOOL,	/* bool */
	FT_TRIBOOL,	/* int: 1, 0, -1 when absent or null */
	FT_INT,		/* int64_t */
	FT_INT_OPT,	/* int64_t at off, bool "present" at off2 */
	FT_NUM,		/* double, from an integer or a real */
	FT_STRVEC,	/* struct strvec from an array of strings */
	FT_OBJ,		/* an embedded struct described by sub */
	FT_OBJ_PTR,	/* a pointer to a struct described by sub; NULL default */
	FT_ARRAY,	/* pointer at off, size_t count at off2, elements sub */
};

struct spec;

struct field {
	const char *name;
	enum field_type type;
	size_t off, off2;
	const struct spec *sub;
};

struct spec {
	size_t size;
	const struct field *fields;
	size_t nr_fields;
	bool keep_unknown;	/* names of unknown members go to a strvec */
	size_t unknown_off;
};

#define FIELD(json, ft, T, m) { json, ft, offsetof(T, m), 0, NULL }
#define FIELD2(json, ft, T, m, m2, sub) \
	{ json, ft, offsetof(T, m), offsetof(T, m2), sub }
#define FIELDS(arr) arr, sizeof(arr) / sizeof(arr[0])

/* ---- the tables ---- */

#define T struct job_variable
static const struct field variable_fields[] = {
	FIELD("key", FT_STR, T, key),
	FIELD("value", FT_SECRET, T, value),
	FIELD("public", FT_BOOL, T, is_public),
	FIELD("masked", FT_BOOL, T, masked),
	FIELD("file", FT_BOOL, T, file),
	FIELD("raw", FT_BOOL, T, raw),
};
#undef T
static const struct spec variable_spec = {
	sizeof(struct job_variable), FIELDS(variable_fields), false, 0 };

#define T struct job_info
static const struct field job_info_fields[] = {
	FIELD("id", FT_INT, T, id),
	FIELD("name", FT_STR, T, name),
	FIELD("stage", FT_STR, T, stage),
	FIELD("pipeline_id", FT_INT, T, pipeline_id),
	FIELD("project_id", FT_INT, T, project_id),
	FIELD("project_name", FT_STR, T, project_name),
	FIELD("project_full_path", FT_STR, T, project_full_path),
	FIELD("namespace_id", FT_INT, T, namespace_id),
	FIELD("root_namespace_id", FT_INT, T, root_namespace_id),
	FIELD("organization_id", FT_INT, T, organization_id),
	FIELD("instance_id", FT_STR, T, instance_id),
	FIELD("instance_uuid", FT_STR, T, instance_uuid),
	FIELD("user_id", FT_INT, T, user_id),
	FIELD2("scoped_user_id", FT_INT_OPT, T, scoped_user_id,
	       has_scoped_user_id, NULL),
	FIELD("time_in_queue_seconds", FT_NUM, T, time_in_queue_seconds),
	FIELD("project_jobs_running_on_instance_runners_count", FT_STR, T,
	      project_jobs_running_on_instance_runners_count),
	FIELD("queue_size", FT_INT, T, queue_size),
	FIELD("queue_depth", FT_INT, T, queue_depth),
};
#undef T
static const struct spec job_info_spec = {
	sizeof(struct job_info), FIELDS(job_info_fields), false, 0 };

#define T struct job_git_info
static const struct field git_info_fields[] = {
	FIELD("repo_url", FT_SECRET, T, repo_url),
	FIELD("ref", FT_STR, T, ref),
	FIELD("sha", FT_STR, T, sha),
	FIELD("before_sha", FT_STR, T, before_sha),
	FIELD("ref_type", FT_STR, T, ref_type),
	FIELD("refspecs", FT_STRVEC, T, refspecs),
	FIELD("depth", FT_INT, T, depth),
	FIELD("repo_object_format", FT_STR, T, repo_object_format),
	FIELD("protected", FT_TRIBOOL, T, protected_ref),
};
#undef T
static const struct spec git_info_spec = {
	sizeof(struct job_git_info), FIELDS(git_info_fields), false, 0 };

#define T struct job_runner_info
static const struct field runner_info_fields[] = {
	FIELD("uuid", FT_STR, T, uuid),
	FIELD("timeout", FT_INT, T, timeout),
	FIELD("runner_session_url", FT_STR, T, runner_session_url),
};
#undef T
static const struct spec runner_info_spec = {
	sizeof(struct job_runner_info), FIELDS(runner_info_fields), false, 0 };

#define T struct job_step
static const struct field step_fields[] = {
	FIELD("name", FT_STR, T, name),
	FIELD("script", FT_STRVEC, T, script),
	FIELD("timeout", FT_INT, T, timeout),
	FIELD("when", FT_STR, T, when),
	FIELD("allow_failure", FT_BOOL, T, allow_failure),
};
#undef T
static const struct spec step_spec = {
	sizeof(struct job_step), FIELDS(step_fields), false, 0 };

#define T struct job_hook
static const struct field hook_fields[] = {
	FIELD("name", FT_STR, T, name),
	FIELD("script", FT_STRVEC, T, script),
};
#undef T
static const struct spec hook_spec = {
	sizeof(struct job_hook), FIELDS(hook_fields), false, 0 };

#define T struct job_port
static const struct field port_fields[] = {
	FIELD("number", FT_INT, T, number),
	FIELD("protocol", FT_STR, T, protocol),
	FIELD("name", FT_STR, T, name),
};
#undef T
static const struct spec port_spec = {
	sizeof(struct job_port), FIELDS(port_fields), false, 0 };

#define T struct job_docker_opts
static const struct field docker_opts_fields[] = {
	FIELD("platform", FT_STR, T, platform),
	FIELD("user", FT_STR_OR_INT, T, user),
};
static const struct spec docker_opts_spec = {
	sizeof(T), FIELDS(docker_opts_fields), true, offsetof(T, unsupported) };
#undef T

#define T struct job_kubernetes_opts
static const struct field kubernetes_opts_fields[] = {
	FIELD("user", FT_STR_OR_INT, T, user),
};
static const struct spec kubernetes_opts_spec = {
	sizeof(T), FIELDS(kubernetes_opts_fields), true,
	offsetof(T, unsupported) };
#undef T

#define T struct job_executor_opts
static const struct field executor_opts_fields[] = {
	FIELD2("docker", FT_OBJ, T, docker, docker, &docker_opts_spec),
	FIELD2("kubernetes", FT_OBJ, T, kubernetes, kubernetes,
	       &kubernetes_opts_spec),
};
static const struct spec executor_opts_spec = {
	sizeof(T), FIELDS(executor_opts_fields), true, offsetof(T, unsupported) };
#undef T

#define T struct job_image
static const struct field image_fields[] = {
	FIELD("name", FT_STR, T, name),
	FIELD("entrypoint", FT_STRVEC, T, entrypoint),
	FIELD2("ports", FT_ARRAY, T, ports, nr_ports, &port_spec),
	FIELD2("executor_opts", FT_OBJ, T, executor_opts, executor_opts,
	       &executor_opts_spec),
	FIELD("pull_policy", FT_STRVEC, T, pull_policy),
	FIELD("alias", FT_STR, T, alias),
	FIELD("command", FT_STRVEC, T, command),
	FIELD2("variables", FT_ARRAY, T, variables.v, variables.nr,
	       &variable_spec),
};
#undef T
static const struct spec image_spec = {
	sizeof(struct job_image), FIELDS(image_fields), false, 0 };

#define T struct job_artifact
static const struct field artifact_fields[] = {
	FIELD("name", FT_STR, T, name),
	FIELD("untracked", FT_BOOL, T, untracked),
	FIELD("paths", FT_STRVEC, T, paths),
	FIELD("exclude", FT_STRVEC, T, exclude),
	FIELD("when", FT_STR, T, when),
	FIELD("expire_in", FT_STR, T, expire_in),
	FIELD("artifact_type", FT_STR, T, artifact_type),
	FIELD("artifact_format", FT_STR, T, artifact_format),
};
#undef T
static const struct spec artifact_spec = {
	sizeof(struct job_artifact), FIELDS(artifact_fields), false, 0 };

#define T struct job_cache
static const struct field cache_fields[] = {
	FIELD("key", FT_STR, T, key),
	FIELD("untracked", FT_BOOL, T, untracked),
	FIELD("paths", FT_STRVEC, T, paths),
	FIELD("policy", FT_STR, T, policy),
	FIELD("when", FT_STR, T, when),
	FIELD("fallback_keys", FT_STRVEC, T, fallback_keys),
};
#undef T
static const struct spec cache_spec = {
	sizeof(struct job_cache), FIELDS(cache_fields), false, 0 };

#define T struct job_credential
static const struct field credential_fields[] = {
	FIELD("type", FT_STR, T, type),
	FIELD("url", FT_STR, T, url),
	FIELD("username", FT_STR, T, username),
	FIELD("password", FT_SECRET, T, password),
};
#undef T
static const struct spec credential_spec = {
	sizeof(struct job_credential), FIELDS(credential_fields), false, 0 };

#define T struct job_artifacts_file
static const struct field artifacts_file_fields[] = {
	FIELD("filename", FT_STR, T, filename),
	FIELD("size", FT_INT, T, size),
};
#undef T
static const struct spec artifacts_file_spec = {
	sizeof(struct job_artifacts_file), FIELDS(artifacts_file_fields),
	false, 0 };

#define T struct job_dependency
static const struct field dependency_fields[] = {
	FIELD("id", FT_INT, T, id),
	FIELD("name", FT_STR, T, name),
	FIELD("token", FT_SECRET, T, token),
	FIELD2("artifacts_file", FT_OBJ, T, artifacts_file, artifacts_file,
	       &artifacts_file_spec),
};
#undef T
static const struct spec dependency_spec = {
	sizeof(struct job_dependency), FIELDS(dependency_fields), false, 0 };

#define T struct job_features
static const struct field features_fields[] = {
	FIELD("trace_sections", FT_BOOL, T, trace_sections),
	FIELD("failure_reasons", FT_STRVEC, T, failure_reasons),
	FIELD("token_mask_prefixes", FT_STRVEC, T, token_mask_prefixes),
};
#undef T
static const struct spec features_spec = {
	sizeof(struct job_features), FIELDS(features_fields), false, 0 };

#define T struct job_payload
static const struct field payload_fields[] = {
	FIELD("id", FT_INT, T, id),
	FIELD("token", FT_SECRET, T, token),
	FIELD("allow_git_fetch", FT_BOOL, T, allow_git_fetch),
	FIELD2("job_info", FT_OBJ, T, job_info, job_info, &job_info_spec),
	FIELD2("git_info", FT_OBJ, T, git_info, git_info, &git_info_spec),
	FIELD2("runner_info", FT_OBJ, T, runner_info, runner_info,
	       &runner_info_spec),
	FIELD2("variables", FT_ARRAY, T, variables.v, variables.nr,
	       &variable_spec),
	FIELD2("steps", FT_ARRAY, T, steps, nr_steps, &step_spec),
	FIELD2("hooks", FT_ARRAY, T, hooks, nr_hooks, &hook_spec),
	FIELD2("image", FT_OBJ_PTR, T, image, image, &image_spec),
	FIELD2("services", FT_ARRAY, T, services, nr_services, &image_spec),
	FIELD2("artifacts", FT_ARRAY, T, artifacts, nr_artifacts,
	       &artifact_spec),
	FIELD2("cache", FT_ARRAY, T, caches, nr_caches, &cache_spec),
	FIELD2("credentials", FT_ARRAY, T, credentials, nr_credentials,
	       &credential_spec),
	FIELD2("features", FT_OBJ, T, features, features, &features_spec),
	FIELD2("dependencies", FT_ARRAY, T, dependencies, nr_dependencies,
	       &dependency_spec),
	FIELD("run", FT_STR, T, run),
};
#undef T
static const struct spec payload_spec = {
	sizeof(struct job_payload), FIELDS(payload_fields), false, 0 };

/* ---- defaults and freeing, from the tables ---- */

#define AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

static void spec_init(const struct spec *s, void *obj)
{
	size_t i;

	memset(obj, 0, s->size);
	for (i = 0; i < s->nr_fields; i++) {
		const struct field *f = &s->fields[i];

		switch (f->type) {
		case FT_STR:
		case FT_SECRET:
		case FT_STR_OR_INT:
			*AT(obj, f->off, char *) = xstrdup("");
			break;
		case FT_TRIBOOL:
			*AT(obj, f->off, int) = -1;
			break;
		case FT_STRVEC:
			strvec_init(AT(obj, f->off, struct strvec));
			break;
		case FT_OBJ:
			spec_init(f->sub, AT(obj, f->off, char));
			break;
		default:
			break;	/* zero is the default */
		}
	}
	if (s->keep_unknown)
		strvec_init(AT(obj, s->unknown_off, struct strvec));
}

static void spec_release(const struct spec *s, void *obj)
{
	size_t i, k;

	for (i = 0; i < s->nr_fields; i++) {
		const struct field *f = &s->fields[i];
		char *elems;
		size_t nr;

		switch (f->type) {
		case FT_STR:
		case FT_STR_OR_INT:
			free(*AT(obj, f->off, char *));
			break;
		case FT_SECRET:
			free_secret(*AT(obj, f->off, char *));
			break;
		case FT_STRVEC:
			strvec_clear(AT(obj, f->off, struct strvec));
			break;
		case FT_OBJ:
			spec_release(f->sub, AT(obj, f->off, char));
			break;
		case FT_OBJ_PTR:
			if ((elems = *AT(obj, f->off, char *))) {
				spec_release(f->sub, elems);
				free(elems);
			}
			break;
		case FT_ARRAY:
			elems = *AT(obj, f->off, char *);
			nr = *AT(obj, f->off2, size_t);
			for (k = 0; k < nr; k++)
				spec_release(f->sub, elems + k * f->sub->size);
			free(elems);
			break;
		default:
			break;
		}
	}
	if (s->keep_unknown)
		strvec_clear(AT(obj, s->unknown_off, struct strvec));
}

static void spec_wipe(const struct spec *s, void *obj)
{
	size_t i, k;

	for (i = 0; i < s->nr_fields; i++) {
		const struct field *f = &s->fields[i];
		char *p;
		size_t nr;

		switch (f->type) {
		case FT_SECRET:
			p = *AT(obj, f->off, char *);
			explicit_bzero(p, strlen(p));
			break;
		case FT_OBJ:
			spec_wipe(f->sub, AT(obj, f->off, char));
			break;
		case FT_OBJ_PTR:
			if ((p = *AT(obj, f->off, char *)))
				spec_wipe(f->sub, p);
			break;
		case FT_ARRAY:
			p = *AT(obj, f->off, char *);
			nr = *AT(obj, f->off2, size_t);
			for (k = 0; k < nr; k++)
				spec_wipe(f->sub, p + k * f->sub->size);
			break;
		default:
			break;
		}
	}
}

/* ---- decoding ---- */

struct dec {
	struct buf path;	/* "steps[0].script" */
	struct buf *err;
};

static int type_error(struct dec *d, const char *what)
{
	buf_seterr(d->err, "job payload: '%s' must be %s", d->path.data, what);
	return CR_ERR_INVALID;
}

static int too_many(struct dec *d)
{
	buf_seterr(d->err, "job payload: '%s' has more than %d entries",
		   d->path.data, JOB_PAYLOAD_MAX_ITEMS);
	return CR_ERR_TOO_LARGE;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s);
}

static int decode_obj(struct dec *d, const struct spec *s, json_t *j,
		      void *obj);

static int decode_strvec(struct dec *d, json_t *j, struct strvec *sv)
{
	json_t *v;
	size_t i;

	if (!json_is_array(j))
		return type_error(d, "an array of strings");
	if (json_array_size(j) > JOB_PAYLOAD_MAX_ITEMS)
		return too_many(d);
	json_array_foreach(j, i, v) {
		if (json_is_null(v))
			strvec_push(sv, "");
		else if (json_is_string(v))
			strvec_push(sv, json_string_value(v));
		else
			return type_error(d, "an array of strings");
	}
	return 0;
}

static int decode_array(struct dec *d, const struct field *f, json_t *j,
			void *obj)
{
	size_t i, nr, mark = d->path.len;
	char *elems;
	json_t *v;
	int r;

	if (!json_is_array(j))
		return type_error(d, "an array");
	if ((nr = json_array_size(j)) > JOB_PAYLOAD_MAX_ITEMS)
		return too_many(d);
	if (!nr)
		return 0;
	/* Every element is initialised first, so a failure frees cleanly. */
	elems = xcalloc(nr, f->sub->size);
	for (i = 0; i < nr; i++)
		spec_init(f->sub, elems + i * f->sub->size);
	*AT(obj, f->off, char *) = elems;
	*AT(obj, f->off2, size_t) = nr;
	json_array_foreach(j, i, v) {
		if (json_is_null(v))
			continue;
		(void)buf_addf(&d->path, "[%zu]", i);
		r = decode_obj(d, f->sub, v, elems + i * f->sub->size);
		buf_setlen(&d->path, mark);
		if (r)
			return r;
	}
	return 0;
}

static int decode_field(struct dec *d, const struct field *f, json_t *v,
			void *obj)
{
	char num[32];
	char *p;

	switch (f->type) {
	case FT_STR:
	case FT_SECRET:
		if (!json_is_string(v))
			return type_error(d, "a string");
		set_str(AT(obj, f->off, char *), json_string_value(v));
		return 0;
	case FT_STR_OR_INT:
		if (json_is_string(v)) {
			set_str(AT(obj, f->off, char *), json_string_value(v));
			return 0;
		}
		if (!json_is_integer(v))
			return type_error(d, "a string or an integer");
		snprintf(num, sizeof(num), "%lld",
			 (long long)json_integer_value(v));
		set_str(AT(obj, f->off, char *), num);
		return 0;
	case FT_BOOL:
		if (!json_is_boolean(v))
			return type_error(d, "a boolean");
		*AT(obj, f->off, bool) = json_is_true(v);
		return 0;
	case FT_TRIBOOL:
		if (!json_is_boolean(v))
			return type_error(d, "a boolean");
		*AT(obj, f->off, int) = json_is_true(v) ? 1 : 0;
		return 0;
	case FT_INT:
	case FT_INT_OPT:
		if (!json_is_integer(v))
			return type_error(d, "an integer");
		*AT(obj, f->off, int64_t) = (int64_t)json_integer_value(v);
		if (f->type == FT_INT_OPT)
			*AT(obj, f->off2, bool) = true;
		return 0;
	case FT_NUM:
		if (!json_is_number(v))
			return type_error(d, "a number");
		*AT(obj, f->off, double) = json_number_value(v);
		return 0;
	case FT_STRVEC:
		return decode_strvec(d, v, AT(obj, f->off, struct strvec));
	case FT_OBJ:
		return decode_obj(d, f->sub, v, AT(obj, f->off, char));
	case FT_OBJ_PTR:
		if (!json_is_object(v))
			return type_error(d, "an object");
		p = xcalloc(1, f->sub->size);
		spec_init(f->sub, p);
		*AT(obj, f->off, char *) = p;
		return decode_obj(d, f->sub, v, p);
	case FT_ARRAY:
		return decode_array(d, f, v, obj);
	}
	return CR_ERR_INTERNAL;
}

static const struct field *find_field(const struct spec *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nr_fields; i++)
		if (!strcmp(s->fields[i].name, key))
			return &s->fields[i];
	return NULL;
}

static int decode_obj(struct dec *d, const struct spec *s, json_t *j,
		      void *obj)
{
	size_t i, mark = d->path.len;
	const char *key;
	json_t *v;
	int r;

	if (!json_is_object(j))
		return type_error(d, "an object");
	for (i = 0; i < s->nr_fields; i++) {
		const struct field *f = &s->fields[i];

		/* null means absent, whatever type was expected. */
		if (!(v = json_object_get(j, f->name)) || json_is_null(v))
			continue;
		(void)buf_addf(&d->path, "%s%s", mark ? "." : "", f->name);
		r = decode_field(d, f, v, obj);
		buf_setlen(&d->path, mark);
		if (r)
			return r;
	}
	if (s->keep_unknown) {
		json_object_foreach(j, key, v)
			if (!find_field(s, key))
				strvec_push(AT(obj, s->unknown_off,
					       struct strvec), key);
	}
	return 0;
}

/* "run" is a string holding a JSON array of steps (spec 3.1). */
static int check_run(struct job_payload *p, struct buf *err)
{
	json_t *steps;

	if (!*p->run)
		return 0;
	steps = json_loads(p->run, 0, NULL);
	if (!json_is_array(steps)) {
		json_decref(steps);
		buf_seterr(err, "job payload: 'run' must be a JSON-encoded array of steps");
		return CR_ERR_INVALID;
	}
	p->nr_run_steps = json_array_size(steps);
	json_decref(steps);
	return 0;
}

int job_payload_decode(const char *json, size_t len, struct job_payload **out,
		       struct buf *err)
{
	struct dec d = { BUF_INIT, err };
	struct job_payload *p = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int r = CR_ERR_INTERNAL;

	*out = NULL;
	if (len > CR_MAX_PAYLOAD) {
		buf_seterr(err, "job payload: larger than %zu bytes",
			   (size_t)CR_MAX_PAYLOAD);
		return CR_ERR_TOO_LARGE;
	}
	if (!(root = json_loadb(json, len, 0, &jerr))) {
		/* Where and what, never the text there: it may be a secret. */
		buf_seterr(err, "job payload: invalid JSON at line %d column %d (byte %d): %s",
			   jerr.line, jerr.column, jerr.position,
			   gl_json_error_what(&jerr));
		return CR_ERR_INVALID;
	}
	if (!json_is_object(root)) {
		buf_seterr(err, "job payload: must be a JSON object");
		r = CR_ERR_INVALID;
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	spec_init(&payload_spec, p);
	if ((r = decode_obj(&d, &payload_spec, root, p)) != 0 ||
	    (r = check_run(p, err)) != 0 ||
	    (r = job_payload_decode_secrets(root, p, err)) != 0)
		goto out;
	p->json = xstrndup(json, len);
	p->json_len = strlen(p->json);
	*out = p;
	p = NULL;
	r = 0;
out:
	job_payload_free(p);
	/* The tree holds the job token and every variable value. */
	gl_json_wipe_decref(root);
	buf_release(&d.path);
	return r;
}

void job_payload_wipe(struct job_payload *p)
{
	if (!p)
		return;
	spec_wipe(&payload_spec, p);
	job_payload_wipe_secrets(p);
	if (p->json)
		explicit_bzero(p->json, p->json_len);
}

void job_payload_free(struct job_payload *p)
{
	if (!p)
		return;
	/* One walk over the tables wipes every FT_SECRET before any free. */
	spec_wipe(&payload_spec, p);
	spec_release(&payload_spec, p);
	job_payload_free_secrets(p);
	if (p->json)
		freezero(p->json, p->json_len);
	free(p);
}
