/*
 * What a custom executor driver sees: its environment and the job
 * response file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "executor/custom_int.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void push_kv(struct strvec *env, const char *key, const char *value)
{
	struct buf kv = BUF_INIT;

	(void)buf_addf(&kv, "%s=%s", key, value ? value : "");
	strvec_push(env, kv.data);
	buf_release_secret(&kv);
}

static void push_int(struct strvec *env, const char *key, int value)
{
	char num[16];

	snprintf(num, sizeof(num), "%d", value);
	push_kv(env, key, num);
}

static json_t *strvec_json(const struct strvec *v)
{
	json_t *a;
	size_t i;

	if (!v->nr)
		return json_null();
	a = json_array();
	for (i = 0; i < v->nr; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

/*
 * CI_JOB_SERVICES: gitlab-runner's JSON array of {name, alias,
 * entrypoint, command}, "" when the job has no services.
 */
static char *services_json(const struct job_payload *p)
{
	json_t *a;
	char *s;
	size_t i;

	if (!p || !p->nr_services)
		return xstrdup("");
	a = json_array();
	for (i = 0; i < p->nr_services; i++) {
		const struct job_image *svc = &p->services[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(svc->name ?
							   svc->name : ""));
		json_object_set_new(o, "alias", json_string(svc->alias ?
							    svc->alias : ""));
		json_object_set_new(o, "entrypoint",
				    strvec_json(&svc->entrypoint));
		json_object_set_new(o, "command", strvec_json(&svc->command));
		json_array_append_new(a, o);
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s ? s : xstrdup("");
}

void custom_env_build(const struct custom_env_options *o, struct strvec *env)
{
	const struct variables *vars = o->variables;
	struct buf key = BUF_INIT;
	char *services;
	size_t i;

	push_kv(env, "TMPDIR", o->tmp_dir);
	push_int(env, "BUILD_FAILURE_EXIT_CODE",
		 CUSTOM_BUILD_FAILURE_EXIT_CODE);
	push_int(env, "SYSTEM_FAILURE_EXIT_CODE",
		 CUSTOM_SYSTEM_FAILURE_EXIT_CODE);
	push_kv(env, "BUILD_EXIT_CODE_FILE", o->exit_code_file);
	push_kv(env, "JOB_RESPONSE_FILE", o->response_file);
	/* job_env first, so it never hides a job variable (gitlab-runner). */
	if (o->job_env)
		for (i = 0; i < o->job_env->nr; i++)
			strvec_push(env, o->job_env->v[i]);
	/* The image name, expanded; a job variable of that name wins. */
	if (o->payload && o->payload->image && o->payload->image->name) {
		char *image = vars ? variables_expand(vars,
				o->payload->image->name) :
			xstrdup(o->payload->image->name);

		push_kv(env, "CUSTOM_ENV_CI_JOB_IMAGE", image);
		free(image);
	} else {
		push_kv(env, "CUSTOM_ENV_CI_JOB_IMAGE", "");
	}
	for (i = 0; vars && i < vars->nr; i++) {
		buf_reset(&key);
		(void)buf_addf(&key, "CUSTOM_ENV_%s", vars->items[i].key);
		push_kv(env, key.data, vars->items[i].value);
	}
	services = services_json(o->payload);
	push_kv(env, "CUSTOM_ENV_CI_JOB_SERVICES", services);
	free(services);
	buf_release(&key);
}

int custom_env_write_response(const char *path,
			      const struct job_payload *payload,
			      struct buf *err)
{
	const char *data = payload && payload->json ? payload->json : "{}";
	size_t len = payload && payload->json ? payload->json_len : 2;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		      O_NOFOLLOW, 0600);

	if (fd < 0) {
		buf_seterr(err, "cannot create the job response file '%s': %s",
			   path, strerror(errno));
		return CR_ERR_IO;
	}
	/* The umask may have taken bits away, never added: still say it. */
	(void)fchmod(fd, 0600);
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			buf_seterr(err, "cannot write the job response file '%s': %s",
				   path, n < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(path);
			return CR_ERR_IO;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0) {
		buf_seterr(err, "cannot write the job response file '%s': %s",
			   path, strerror(errno));
		unlink(path);
		return CR_ERR_IO;
	}
	return 0;
}
