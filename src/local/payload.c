/*
 * A local job as GitLab's job payload.  Variables go in GitLab's order
 * (predefined, then the job's, then pipeline variables such as
 * --variable): the engine lets the last of a key win.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/payload.h"
#include "util/buf.h"
#include "util/error.h"
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
	add_vars(vars, &j->variables);
	add_vars(vars, o->overrides);
	/* The working tree as it is: never fetched, never cleaned. */
	add_var(vars, "GIT_STRATEGY", "none", false);
	add_var(vars, "CI_PROJECT_DIR", repo->root, false);
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
	if (j->def->image) {
		json_t *img = json_object();

		json_object_set_new(img, "name", json_string(j->def->image));
		json_object_set_new(p, "image", img);
	} else {
		json_object_set_new(p, "image", json_null());
	}
	json_object_set_new(p, "services", json_array());
	json_object_set_new(p, "artifacts", json_array());
	json_object_set_new(p, "cache", json_array());
	json_object_set_new(p, "dependencies", json_array());
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
