/*
 * [runners.docker] gpus and service_gpus: the value of "docker run
 * --gpus", read as gitlab-runner reads it (docker/cli's GpuOpts): one CSV
 * record of fields, each a count ("all" or an integer) or key=value with
 * driver, count, device (comma separated ids), capabilities (comma
 * separated, "gpu" added) or options (a CSV record of k=v).  Without a
 * count and without devices the count is 1; capabilities default to
 * [["gpu"]].  The result is HostConfig.DeviceRequests.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "executor/docker_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

/*
 * The first record of s as Go's encoding/csv reads it (comma separated,
 * "..." quoting with "" for a quote); 0, or -1 with the reason in why.
 */
static int csv_record(const char *s, struct strvec *fields, const char **why)
{
	struct buf field = BUF_INIT;
	const char *p = s;

	for (;;) {
		buf_reset(&field);
		if (*p == '"') {
			for (p++;; p++) {
				if (!*p) {
					*why = "extraneous or missing \" in quoted-field";
					goto fail;
				}
				if (*p == '"' && p[1] == '"') {
					(void)buf_addch(&field, '"');
					p++;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					(void)buf_addch(&field, *p);
				}
			}
			if (*p && *p != ',' && *p != '\n' && *p != '\r') {
				*why = "extraneous or missing \" in quoted-field";
				goto fail;
			}
		} else {
			for (; *p && *p != ',' && *p != '\n' && *p != '\r'; p++) {
				if (*p == '"') {
					*why = "bare \" in non-quoted-field";
					goto fail;
				}
				(void)buf_addch(&field, *p);
			}
		}
		strvec_push(fields, field.len ? field.data : "");
		if (*p != ',')
			break;
		p++;
	}
	buf_release(&field);
	return 0;
fail:
	buf_release(&field);
	return -1;
}

static int has(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

static int parse_count(const char *s, json_int_t *count, struct buf *err)
{
	char *end;
	long long n;

	if (!strcmp(s, "all")) {
		*count = -1;
		return 0;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (!*s || *end || errno || n < INT_MIN || n > INT_MAX) {
		buf_seterr(err, "invalid count (%s): value must be either \"all\" or an integer",
			   s);
		return -1;
	}
	*count = (json_int_t)n;
	return 0;
}

static json_t *split_comma(const char *s)
{
	json_t *a = json_array();
	const char *c;

	for (;; s = c + 1) {
		c = strchr(s, ',');
		json_array_append_new(a, c ? json_stringn(s, (size_t)(c - s)) :
				      json_string(s));
		if (!c)
			return a;
	}
}

static int one_field(const char *field, json_t *req, struct strvec *seen,
		     struct buf *err)
{
	const char *eq = strchr(field, '=');
	char *key = eq ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
	const char *val = eq ? eq + 1 : NULL;
	json_int_t count;
	int r = -1;

	if (has(seen, key)) {
		buf_seterr(err, "gpu request key '%s' can be specified only once",
			   key);
		goto out;
	}
	strvec_push(seen, key);
	if (!val) {
		strvec_push(seen, "count");
		if (parse_count(key, &count, err) != 0)
			goto out;
		json_object_set_new(req, "Count", json_integer(count));
	} else if (!strcmp(key, "driver")) {
		json_object_set_new(req, "Driver", json_string(val));
	} else if (!strcmp(key, "count")) {
		if (parse_count(val, &count, err) != 0)
			goto out;
		json_object_set_new(req, "Count", json_integer(count));
	} else if (!strcmp(key, "device")) {
		json_object_set_new(req, "DeviceIDs", split_comma(val));
	} else if (!strcmp(key, "capabilities")) {
		json_t *caps = split_comma(val);

		json_array_append_new(caps, json_string("gpu"));
		json_object_set_new(req, "Capabilities",
				    json_pack("[o]", caps));
	} else if (!strcmp(key, "options")) {
		struct strvec opts = STRVEC_INIT;
		const char *why = NULL;
		json_t *o = json_object();
		size_t i;

		if (csv_record(val, &opts, &why) != 0) {
			buf_seterr(err, "failed to read gpu options: %s", why);
			json_decref(o);
			strvec_clear(&opts);
			goto out;
		}
		for (i = 0; i < opts.nr; i++) {
			const char *e = strchr(opts.v[i], '=');
			char *k = e ? xstrndup(opts.v[i],
					       (size_t)(e - opts.v[i])) :
				xstrdup(opts.v[i]);

			json_object_set_new(o, k, json_string(e ? e + 1 : ""));
			free(k);
		}
		strvec_clear(&opts);
		json_object_set_new(req, "Options", o);
	} else {
		buf_seterr(err, "unexpected key '%s' in '%s'", key, field);
		goto out;
	}
	r = 0;
out:
	free(key);
	return r;
}

int docker_gpu_requests(const char *gpus, json_t **out, struct buf *err)
{
	struct strvec fields = STRVEC_INIT, seen = STRVEC_INIT;
	struct buf why = BUF_INIT;
	const char *p, *csv_why = NULL;
	json_t *req;
	size_t i;

	*out = NULL;
	for (p = gpus ? gpus : ""; *p == ' ' || (*p >= '\t' && *p <= '\r'); p++)
		;
	if (!*p)
		return 0;	/* gitlab-runner: only blanks is no request */
	req = json_pack("{s:s, s:i, s:n}", "Driver", "", "Count", 0,
			"DeviceIDs");
	if (csv_record(gpus, &fields, &csv_why) != 0) {
		(void)buf_addstr(&why, csv_why);
		goto fail;
	}
	for (i = 0; i < fields.nr; i++)
		if (one_field(fields.v[i], req, &seen, &why) != 0)
			goto fail;
	if (!has(&seen, "count") &&
	    json_is_null(json_object_get(req, "DeviceIDs")))
		json_object_set_new(req, "Count", json_integer(1));
	if (!json_object_get(req, "Capabilities"))
		json_object_set_new(req, "Capabilities",
				    json_pack("[[s]]", "gpu"));
	if (!json_object_get(req, "Options"))
		json_object_set_new(req, "Options", json_object());
	*out = json_pack("[o]", req);
	strvec_clear(&fields);
	strvec_clear(&seen);
	return 0;
fail:
	buf_seterr(err, "parsing gpus string \"%s\": %s", gpus, why.data);
	buf_release(&why);
	json_decref(req);
	strvec_clear(&fields);
	strvec_clear(&seen);
	return CR_ERR_INVALID;
}
