/*
 * image: and services: of a local job as GitLab sends them (spec 3.7):
 * a string or a mapping (name, entrypoint, pull_policy, docker: user and
 * platform; a service also alias, command, variables), so the docker
 * executor gets in crunner exec what it gets from GitLab.
 */
#include <jansson.h>
#include <string.h>

#include "local/dag.h"
#include "local/payload_int.h"
#include "local/pipeline.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

static const char *const image_keys[] = {
	"name", "entrypoint", "pull_policy", "docker", "kubernetes", NULL,
};

static const char *const service_keys[] = {
	"name", "entrypoint", "pull_policy", "docker", "kubernetes", "alias",
	"command", "variables", NULL,
};

static const char *const pull_policies[] = {
	"always", "if-not-present", "never", NULL,
};

/* A string or a list of strings into a JSON array; what names it. */
static int string_list(const struct ynode *n, const char *job,
		       const char *what, bool scalar_ok, json_t **out,
		       struct buf *err)
{
	struct buf msg = BUF_INIT;
	size_t i;
	int r;

	*out = json_array();
	if (n->kind == YNODE_SCALAR && scalar_ok) {
		json_array_append_new(*out, json_string(ynode_text(n)));
		return 0;
	}
	if (n->kind == YNODE_SEQ) {
		for (i = 0; i < n->nr; i++) {
			if (n->items[i]->kind != YNODE_SCALAR)
				break;
			json_array_append_new(*out,
				json_string(ynode_text(n->items[i])));
		}
		if (i == n->nr)
			return 0;
	}
	json_decref(*out);
	*out = NULL;
	(void)buf_addf(&msg, "'%s' should be %sa list of strings", what,
		       scalar_ok ? "a string or " : "");
	r = payload_bad(err, n, job, msg.data);
	buf_release(&msg);
	return r;
}

static int pull_policy(const struct ynode *n, const char *job,
		       const char *what, json_t **out, struct buf *err)
{
	struct buf msg = BUF_INIT;
	size_t i;
	int r;

	if ((r = string_list(n, job, what, true, out, err)))
		return r;
	for (i = 0; i < json_array_size(*out); i++) {
		const char *p = json_string_value(json_array_get(*out, i));
		const char *const *k;

		for (k = pull_policies; *k && strcmp(*k, p); k++)
			;
		if (*k)
			continue;
		(void)buf_addf(&msg, "'%s': unknown pull policy '%s' (always, if-not-present or never)",
			       what, p);
		r = payload_bad(err, n, job, msg.data);
		buf_release(&msg);
		json_decref(*out);
		*out = NULL;
		return r;
	}
	return 0;
}

/* docker: {user, platform} as executor_opts.docker. */
static int docker_opts(const struct ynode *n, const char *job,
		       const char *what, json_t *entry, struct buf *err)
{
	json_t *docker;
	size_t i;
	int r;

	if ((r = payload_check_keys(n, (const char *const[]){ "user",
				"platform", NULL }, job, what, err)))
		return r;
	docker = json_object();
	for (i = 0; i < n->nr; i++) {
		if (n->items[i]->kind != YNODE_SCALAR) {
			json_decref(docker);
			return payload_bad(err, n->items[i], job,
					   "executor options should be strings");
		}
		json_object_set_new(docker, n->keys[i],
				    json_string(ynode_text(n->items[i])));
	}
	json_object_set_new(entry, "executor_opts",
			    json_pack("{s:o}", "docker", docker));
	return 0;
}

static void add_variables(json_t *entry, const struct pl_vars *vars)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < vars->nr; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:b}",
			"key", vars->v[i].key, "value", vars->v[i].value,
			"public", 1, "masked", 0));
	json_object_set_new(entry, "variables", arr);
}

/* One image: or services: entry; is_service allows a service's keys. */
static int entry(const struct ynode *n, const char *job, bool is_service,
		 json_t **out, struct buf *err)
{
	const char *owner = is_service ? "services" : "image";
	const struct ynode *v;
	json_t *e, *list;
	int r = 0;

	if (n->kind == YNODE_SCALAR) {
		if (!*ynode_text(n))
			return payload_bad(err, n, job, is_service ?
					   "a service needs an image name" :
					   "'image' needs a name");
		*out = json_pack("{s:s}", "name", ynode_text(n));
		return 0;
	}
	if ((r = payload_check_keys(n, is_service ? service_keys : image_keys,
				    job, owner, err)))
		return r;
	v = ynode_get(n, "name");
	if (!v || v->kind != YNODE_SCALAR || !*ynode_text(v))
		return payload_bad(err, n, job, is_service ?
				   "a service needs a name" :
				   "'image' needs a name");
	e = json_pack("{s:s}", "name", ynode_text(v));
	if (!r && (v = ynode_get(n, "entrypoint")) &&
	    !(r = string_list(v, job, "entrypoint", false, &list, err)))
		json_object_set_new(e, "entrypoint", list);
	if (!r && (v = ynode_get(n, "pull_policy")) &&
	    !(r = pull_policy(v, job, "pull_policy", &list, err)))
		json_object_set_new(e, "pull_policy", list);
	if (!r && (v = ynode_get(n, "docker")))
		r = docker_opts(v, job, "docker", e, err);
	if (!r && (v = ynode_get(n, "alias"))) {
		if (v->kind != YNODE_SCALAR)
			r = payload_bad(err, v, job, "'alias' should be a string");
		else
			json_object_set_new(e, "alias",
					    json_string(ynode_text(v)));
	}
	if (!r && (v = ynode_get(n, "command")) &&
	    !(r = string_list(v, job, "command", false, &list, err)))
		json_object_set_new(e, "command", list);
	if (!r && (v = ynode_get(n, "variables"))) {
		struct pl_vars vars = PL_VARS_INIT;

		if (!(r = pl_vars_parse(&vars, v, job, err)))
			add_variables(e, &vars);
		pl_vars_release(&vars);
	}
	if (r) {
		json_decref(e);
		return r;
	}
	*out = e;
	return 0;
}

int payload_image(const struct local_job *j, json_t **image,
		  json_t **services, struct buf *err)
{
	const struct ynode *img = ynode_get(j->def->node, "image");
	const struct ynode *svc = ynode_get(j->def->node, "services");
	json_t *e;
	size_t i;
	int r;

	*image = NULL;
	*services = json_array();
	if (img && img->kind != YNODE_NULL &&
	    (r = entry(img, j->name, false, image, err)))
		goto fail;
	if (svc && svc->kind != YNODE_NULL) {
		if (svc->kind != YNODE_SEQ) {
			r = payload_bad(err, svc, j->name,
					"'services' should be a list");
			goto fail;
		}
		for (i = 0; i < svc->nr; i++) {
			if ((r = entry(svc->items[i], j->name, true, &e, err)))
				goto fail;
			json_array_append_new(*services, e);
		}
	}
	if (!*image)
		*image = json_null();
	return 0;
fail:
	json_decref(*image);
	json_decref(*services);
	*image = *services = NULL;
	return r;
}
