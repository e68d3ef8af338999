/*
 * config_exec's JSON answer, read the way gitlab-runner's encoding/json
 * reads it into pointers: a key that is absent or null changes nothing,
 * unknown keys are ignored, a known key of the wrong type fails the job.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "executor/custom_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define PARSE_ERR "error while parsing config_exec's JSON output"

void custom_config_init(struct custom_config *c)
{
	memset(c, 0, sizeof(*c));
	c->builds_dir_is_shared = -1;
	strvec_init(&c->job_env);
}

void custom_config_release(struct custom_config *c)
{
	free(c->builds_dir);
	free(c->cache_dir);
	free(c->hostname);
	free(c->shell);
	free(c->driver_name);
	free(c->driver_version);
	strvec_clear(&c->job_env);
	custom_config_init(c);
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/*
 * A string member: absent or null leaves *out alone, anything but a string
 * is an error, and so is "" when !allow_empty.
 */
static int get_string(const json_t *obj, const char *key, const char *where,
		      int allow_empty, char **out, struct buf *err)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		buf_seterr(err, PARSE_ERR ": '%s%s' must be a string, not %s",
			   where, key, json_type_name(v));
		return CR_ERR_INVALID;
	}
	if (!allow_empty && !json_string_length(v)) {
		buf_seterr(err, PARSE_ERR ": '%s%s' must not be empty", where,
			   key);
		return CR_ERR_INVALID;
	}
	/* A NUL inside would cut the value short: refuse it. */
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		buf_seterr(err, PARSE_ERR ": '%s%s' holds a NUL character",
			   where, key);
		return CR_ERR_INVALID;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_job_env(const json_t *obj, struct strvec *out, struct buf *err)
{
	const json_t *env = json_object_get(obj, "job_env"), *v;
	const char *key;

	if (!env || json_is_null(env))
		return 0;
	if (!json_is_object(env)) {
		buf_seterr(err, PARSE_ERR ": 'job_env' must be an object, not %s",
			   json_type_name(env));
		return CR_ERR_INVALID;
	}
	json_object_foreach((json_t *)env, key, v) {
		struct buf kv = BUF_INIT;

		if (!json_is_string(v)) {
			buf_seterr(err, PARSE_ERR ": 'job_env.%s' must be a string, not %s",
				   key, json_type_name(v));
			return CR_ERR_INVALID;
		}
		if (!*key || strchr(key, '=') ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			buf_seterr(err, PARSE_ERR ": 'job_env.%s' cannot be an environment variable",
				   key);
			return CR_ERR_INVALID;
		}
		(void)buf_addf(&kv, "%s=%s", key, json_string_value(v));
		strvec_push(out, kv.data);
		buf_release(&kv);
	}
	return 0;
}

static int parse_object(const json_t *root, struct custom_config *c,
			struct buf *err)
{
	const json_t *v, *driver;
	int r;

	if ((r = get_string(root, "builds_dir", "", 0, &c->builds_dir, err)) ||
	    (r = get_string(root, "cache_dir", "", 0, &c->cache_dir, err)) ||
	    (r = get_string(root, "hostname", "", 1, &c->hostname, err)) ||
	    (r = get_string(root, "shell", "", 0, &c->shell, err)) ||
	    (r = get_job_env(root, &c->job_env, err)))
		return r;
	v = json_object_get(root, "builds_dir_is_shared");
	if (v && !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			buf_seterr(err, PARSE_ERR ": 'builds_dir_is_shared' must be a boolean, not %s",
				   json_type_name(v));
			return CR_ERR_INVALID;
		}
		c->builds_dir_is_shared = json_is_true(v);
	}
	driver = json_object_get(root, "driver");
	if (!driver || json_is_null(driver))
		return 0;
	if (!json_is_object(driver)) {
		buf_seterr(err, PARSE_ERR ": 'driver' must be an object, not %s",
			   json_type_name(driver));
		return CR_ERR_INVALID;
	}
	if ((r = get_string(driver, "name", "driver.", 1, &c->driver_name,
			    err)) ||
	    (r = get_string(driver, "version", "driver.", 1,
			    &c->driver_version, err)))
		return r;
	return 0;
}

int custom_config_parse(const char *json, size_t len, struct custom_config *c,
			struct buf *err)
{
	json_error_t jerr;
	json_t *root;
	int r;

	custom_config_init(c);
	if (!len)
		return 0;	/* no answer: nothing to change */
	if (len > CUSTOM_MAX_CONFIG_OUTPUT) {
		buf_seterr(err, PARSE_ERR ": larger than %zu bytes",
			   (size_t)CUSTOM_MAX_CONFIG_OUTPUT);
		return CR_ERR_INVALID;
	}
	root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		buf_seterr(err, PARSE_ERR ": %s at line %d column %d",
			   jerr.text, jerr.line, jerr.column);
		return CR_ERR_INVALID;
	}
	if (json_is_null(root)) {
		r = 0;
	} else if (!json_is_object(root)) {
		buf_seterr(err, PARSE_ERR ": expected an object, got %s",
			   json_type_name(root));
		r = CR_ERR_INVALID;
	} else {
		r = parse_object(root, c, err);
	}
	json_decref(root);
	if (r)
		custom_config_release(c);
	return r;
}

void custom_config_banner(const struct custom_config *c, struct buf *out)
{
	(void)buf_addstr(out, "Using Custom executor");
	if (c->driver_name) {
		(void)buf_addf(out, " with driver %s", c->driver_name);
		if (c->driver_version)
			(void)buf_addf(out, " %s", c->driver_version);
	}
	(void)buf_addstr(out, "...");
}
