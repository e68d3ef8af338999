/*
 * resolve_secrets (spec 8.1, stage 1): before the executor is prepared,
 * each of the payload's secrets is read from its provider, one after
 * another in payload order, as gitlab-runner's common/secrets.go does:
 *
 *   Resolving secrets                       (the section's header)
 *   Resolving secret "DB_PASSWORD"...
 *   Using "vault" secret resolver...
 *
 * A resolved value becomes a masked, raw variable of block B (a file
 * variable unless "file": false), and is masked in the trace at once.
 * Providers: HashiCorp Vault (secrets/vault.h), AWS Secrets Manager
 * (secrets/aws_secrets_manager.h), Google Cloud Secret Manager
 * (secrets/gcp_secret_manager.h) and Azure Key Vault
 * (secrets/azure_key_vault.h), and GitLab's own secrets manager (OpenBao
 * with inline auth, secrets/vault.h).  A secret without a provider key
 * is skipped with a warning, as gitlab-runner's registry does.  A missing secret
 * fails the job unless FF_SECRET_RESOLVING_FAILS_IF_MISSING is false
 * (then the variable is empty, silently, as gitlab-runner's).  A failed
 * stage is tried again SECRETS_RETRIEVAL_ATTEMPTS times (1-10) with the
 * stage back-off; the last failure ends the job with "resolving secrets:
 * <why>" and gitlab-runner's failure reason for its class.
 *
 * The HTTP runs on the job's loop (secrets/vault.h); nothing here blocks.
 */
#include <stdlib.h>
#include <string.h>

#include "gitlab/http.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "secrets/aws_secrets_manager.h"
#include "secrets/azure_key_vault.h"
#include "secrets/gcp_secret_manager.h"
#include "secrets/vault.h"
#include "util/backoff.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SECTION "resolve_secrets"

struct job_secrets_run {
	struct job *job;
	struct gl_http *http;
	/* Vault and OpenBao: their own client when crunner's environment
	 * names TLS files for them (vault_http()); else http. */
	struct gl_http *vault_http;
	struct vault_op *op;	/* the read under way: Vault's */
	struct aws_sm_op *aws_op;	/* or AWS's */
	struct gcp_sm_op *gcp_op;	/* or Google's */
	struct azure_kv_op *azure_op;	/* or Azure's */
	size_t next;		/* the payload secret resolved next */
	unsigned failures;	/* failed tries of the whole stage */
	uint64_t timer;		/* the next step, or the back-off */
	bool ended;		/* the section is closed */
	/* The failure of this try. */
	enum secret_outcome outcome;
	struct buf error;
	/* The stage's end is decided: continue (0) or fail (1). */
	int verdict;
	bool decided;
};

static const char *failure_reason(enum secret_outcome outcome)
{
	switch (outcome) {
	case SECRET_CONFIG_ERROR:
		return "runner_configuration_error";
	case SECRET_EXTERNAL_ERROR:
		return "runner_external_dependency_failure";
	default:
		return "runner_system_failure";
	}
}

static void resolve_next(struct job_secrets_run *run);

/* The one way out of the stage: from a timer, never inside a callback
 * of the HTTP client (it is freed here). */
static long on_end(struct loop *loop, void *ctx)
{
	struct job_secrets_run *run = ctx;
	struct job *job = run->job;

	(void)loop;
	run->timer = 0;
	if (run->decided && run->verdict == 0 && !job->failed) {
		job_secrets_free(job);
		job_prepare_executor(job);
		return LOOP_TIMER_STOP;
	}
	if (!job->failed)
		job_set_failure(job, failure_reason(run->outcome), 0,
				"resolving secrets: %s", run->error.data);
	job_secrets_free(job);
	job_finish(job);
	return LOOP_TIMER_STOP;
}

static void end_section(struct job_secrets_run *run)
{
	if (!run->ended) {
		run->ended = true;
		job_section_end(run->job, SECTION);
	}
}

static void decide(struct job_secrets_run *run, int verdict)
{
	run->decided = true;
	run->verdict = verdict;
	end_section(run);
	if (run->timer)
		loop_cancel_timer(run->job->loop, run->timer);
	run->timer = loop_add_timer(run->job->loop, 0, on_end, run);
}

static long on_step(struct loop *loop, void *ctx)
{
	struct job_secrets_run *run = ctx;

	(void)loop;
	run->timer = 0;
	resolve_next(run);
	return LOOP_TIMER_STOP;
}

static void start_try(struct job_secrets_run *run)
{
	struct job *job = run->job;

	variables_release(&job->secret_vars);
	variables_init(&job->secret_vars);
	run->next = 0;
	run->ended = false;
	buf_reset(&run->error);
	job_section_start(job, SECTION, "Resolving secrets");
	resolve_next(run);
}

static long on_retry(struct loop *loop, void *ctx)
{
	struct job_secrets_run *run = ctx;

	(void)loop;
	run->timer = 0;
	if (run->job->failed) {	/* canceled while waiting */
		decide(run, 1);
		return LOOP_TIMER_STOP;
	}
	start_try(run);
	return LOOP_TIMER_STOP;
}

/* This try failed with run->outcome and run->error: again, or the end. */
static void try_failed(struct job_secrets_run *run)
{
	struct job *job = run->job;
	long delay;

	end_section(run);
	if (job->failed ||
	    ++run->failures >= job_attempts(job, "SECRETS_RETRIEVAL_ATTEMPTS")) {
		decide(run, 1);
		return;
	}
	delay = job_retry_delay_ms(job, run->failures);
	if (delay > 0) {
		char text[32];

		backoff_format(delay, text, sizeof(text));
		trace_sink_info(job->sink, "Retrying in %s", text);
	}
	run->timer = loop_add_timer(job->loop, delay, on_retry, run);
}

static void add_secret_variable(struct job *job, const struct job_secret *s,
				const char *value)
{
	trace_sink_add_mask(job->sink, value);
	variables_add(&job->secret_vars, s->name, value,
		      VAR_MASKED | VAR_RAW | (s->file ? VAR_FILE : 0));
}

static void on_resolved(void *ctx, enum secret_outcome outcome,
			const char *value, const char *error)
{
	struct job_secrets_run *run = ctx;
	struct job *job = run->job;
	const struct job_secret *s = &job->payload->secrets[run->next];

	run->op = NULL;
	run->aws_op = NULL;
	run->gcp_op = NULL;
	run->azure_op = NULL;
	if (outcome == SECRET_NOT_FOUND &&
	    !variables_get_bool(&job->vars,
				"FF_SECRET_RESOLVING_FAILS_IF_MISSING", 1)) {
		outcome = SECRET_OK;
		value = "";
	}
	if (outcome == SECRET_OK) {
		add_secret_variable(job, s, value);
		run->next++;
		/* The next one from the loop, not inside this callback. */
		run->timer = loop_add_timer(job->loop, 0, on_step, run);
		return;
	}
	run->outcome = outcome;
	buf_reset(&run->error);
	if (outcome == SECRET_NOT_FOUND)
		(void)buf_addf(&run->error, "secret not found: %s", s->name);
	else
		(void)buf_addstr(&run->error, error ? error : "unknown error");
	try_failed(run);
}

/*
 * The client for Vault and OpenBao.  gitlab-runner's Vault client reads
 * the environment's VAULT_CACERT, VAULT_CLIENT_CERT and VAULT_CLIENT_KEY
 * (the Vault API's DefaultConfig); crunner too, for these requests only.
 */
static struct gl_http *vault_http(struct job_secrets_run *run)
{
	const char *ca = getenv("VAULT_CACERT");
	const char *cert = getenv("VAULT_CLIENT_CERT");
	const char *key = getenv("VAULT_CLIENT_KEY");
	struct gl_http_options opts = { 0 };

	if ((!ca || !*ca) && (!cert || !*cert))
		return run->http;
	if (!run->vault_http) {
		opts.max_attempts = 3;
		opts.ca_file = ca && *ca ? ca : NULL;
		opts.cert_file = cert && *cert ? cert : NULL;
		opts.key_file = key && *key ? key : NULL;
		run->vault_http = gl_http_new(run->job->loop, &opts);
	}
	return run->vault_http;
}

/* A Vault secret's strings with the job's variables expanded. */
static void start_vault(struct job_secrets_run *run,
			const struct job_secret_vault *v)
{
	const struct variables *vars = &run->job->vars;
	struct vault_secret_request r = { 0 };
	struct strvec values = STRVEC_INIT;
	enum secret_outcome outcome;
	char *url, *ns, *auth_name, *auth_path, *engine_name, *engine_path;
	char *path, *field;
	size_t i;

	url = variables_expand(vars, v->url);
	ns = variables_expand(vars, v->namespace);
	auth_name = variables_expand(vars, v->auth_name);
	auth_path = variables_expand(vars, v->auth_path);
	engine_name = variables_expand(vars, v->engine_name);
	engine_path = variables_expand(vars, v->engine_path);
	path = variables_expand(vars, v->path);
	field = variables_expand(vars, v->field);
	for (i = 0; i < v->auth_values.nr; i++)
		strvec_push_nodup(&values,
				  variables_expand(vars, v->auth_values.v[i]));
	r.url = url;
	r.namespace = ns;
	r.auth_name = auth_name;
	r.auth_path = auth_path;
	r.auth_keys = &v->auth_keys;
	r.auth_values = &values;
	r.engine_name = engine_name;
	r.engine_path = engine_path;
	r.path = path;
	r.field = field;
	buf_reset(&run->error);
	run->op = vault_resolve(vault_http(run), &r, on_resolved, run,
				&outcome, &run->error);
	for (i = 0; i < values.nr; i++)
		explicit_bzero((char *)values.v[i], strlen(values.v[i]));
	strvec_clear(&values);
	free(url);
	free(ns);
	free(auth_name);
	free(auth_path);
	free(engine_name);
	free(engine_path);
	free(path);
	free(field);
	if (!run->op) {
		run->outcome = outcome;
		try_failed(run);
	}
}

/* gitlab-runner's default RoleSessionName, at most 64 bytes. */
#define AWS_DEFAULT_SESSION_NAME "${CI_JOB_ID}-${CI_PROJECT_ID}-${CI_SERVER_HOST}"
#define AWS_SESSION_NAME_MAX 64

/* An AWS secret: its own region, role and session over the server's. */
static void start_aws(struct job_secrets_run *run,
		      const struct job_secret_aws *a)
{
	const struct variables *vars = &run->job->vars;
	struct aws_sm_request r = { 0 };
	enum secret_outcome outcome;
	char *v[8];
	size_t i;

	v[0] = variables_expand(vars, a->secret_id);
	v[1] = variables_expand(vars, a->version_id);
	v[2] = variables_expand(vars, a->version_stage);
	v[3] = variables_expand(vars, a->field);
	v[4] = variables_expand(vars, *a->region ? a->region :
				a->server_region);
	v[5] = variables_expand(vars, *a->role_arn ? a->role_arn :
				a->server_role_arn);
	v[6] = variables_expand(vars, *a->role_session_name ?
				a->role_session_name :
				*a->server_role_session_name ?
				a->server_role_session_name :
				AWS_DEFAULT_SESSION_NAME);
	if (strlen(v[6]) > AWS_SESSION_NAME_MAX)
		v[6][AWS_SESSION_NAME_MAX] = '\0';
	v[7] = variables_expand(vars, a->server_jwt);
	r.secret_id = v[0];
	r.version_id = v[1];
	r.version_stage = v[2];
	r.field = v[3];
	r.region = v[4];
	r.role_arn = v[5];
	r.role_session_name = v[6];
	r.jwt = v[7];
	buf_reset(&run->error);
	run->aws_op = aws_sm_resolve(run->http, &r, on_resolved, run,
				     &outcome, &run->error);
	for (i = 0; i < 8; i++)
		free_secret(v[i]);
	if (!run->aws_op) {
		run->outcome = outcome;
		try_failed(run);
	}
}

/* A Google Cloud secret, every string expanded. */
static void start_gcp(struct job_secrets_run *run,
		      const struct job_secret_gcp *g)
{
	const struct variables *vars = &run->job->vars;
	struct gcp_sm_request r = { 0 };
	enum secret_outcome outcome;
	char *v[6];
	size_t i;

	v[0] = variables_expand(vars, g->name);
	v[1] = variables_expand(vars, g->version);
	v[2] = variables_expand(vars, g->project_number);
	v[3] = variables_expand(vars, g->pool_id);
	v[4] = variables_expand(vars, g->provider_id);
	v[5] = variables_expand(vars, g->jwt);
	r.name = v[0];
	r.version = v[1];
	r.project_number = v[2];
	r.pool_id = v[3];
	r.provider_id = v[4];
	r.jwt = v[5];
	buf_reset(&run->error);
	run->gcp_op = gcp_sm_resolve(run->http, &r, on_resolved, run,
				     &outcome, &run->error);
	for (i = 0; i < 6; i++)
		free_secret(v[i]);
	if (!run->gcp_op) {
		run->outcome = outcome;
		try_failed(run);
	}
}

/* An Azure Key Vault secret: gitlab-runner expands the name, the version
 * and the JWT only. */
static void start_azure(struct job_secrets_run *run,
			const struct job_secret_azure *a)
{
	const struct variables *vars = &run->job->vars;
	struct azure_kv_request r = { 0 };
	enum secret_outcome outcome;
	char *name = variables_expand(vars, a->name);
	char *version = variables_expand(vars, a->version);
	char *jwt = variables_expand(vars, a->jwt);

	r.url = a->url;
	r.name = name;
	r.version = version;
	r.tenant_id = a->tenant_id;
	r.client_id = a->client_id;
	r.jwt = jwt;
	buf_reset(&run->error);
	run->azure_op = azure_kv_resolve(run->http, &r, on_resolved, run,
					 &outcome, &run->error);
	free(name);
	free(version);
	free_secret(jwt);
	if (!run->azure_op) {
		run->outcome = outcome;
		try_failed(run);
	}
}

/* GitLab's secrets manager: OpenBao with inline auth, nothing expanded
 * (Rails fills every field). */
static void start_gitlab(struct job_secrets_run *run,
			 const struct job_secret_gitlab *g)
{
	struct vault_secret_request r = { 0 };
	enum secret_outcome outcome;
	struct buf login = BUF_INIT;

	if (*g->auth_path)
		(void)buf_addstr(&login, g->auth_path);
	else
		vault_path_join(&login, "auth", g->auth_mount, "login");
	r.url = g->url;
	r.engine_name = g->engine_name;
	r.engine_path = g->engine_path;
	r.path = g->path;
	r.field = g->field;
	r.inline_auth_path = login.data ? login.data : "";
	r.inline_jwt = g->jwt;
	r.inline_role = g->role;
	buf_reset(&run->error);
	run->op = vault_resolve(vault_http(run), &r, on_resolved, run,
				&outcome, &run->error);
	buf_release(&login);
	if (!run->op) {
		run->outcome = outcome;
		try_failed(run);
	}
}

static void resolve_next(struct job_secrets_run *run)
{
	struct job *job = run->job;
	const struct job_payload *p = job->payload;

	while (run->next < p->nr_secrets) {
		const struct job_secret *s = &p->secrets[run->next];

		if (job->failed) {	/* canceled */
			decide(run, 1);
			return;
		}
		trace_sink_line(job->sink, "Resolving secret \"%s\"...",
				s->name);
		if (s->provider == JOB_SECRET_NONE) {
			trace_sink_warning(job->sink,
				"Not resolved: no resolver that can handle the secret");
			run->next++;
			continue;
		}
		trace_sink_line(job->sink, "Using \"%s\" secret resolver...",
				job_secret_provider_name(s->provider));
		switch (s->provider) {
		case JOB_SECRET_VAULT:
			start_vault(run, s->vault);
			return;
		case JOB_SECRET_GITLAB_SECRETS_MANAGER:
			start_gitlab(run, s->gitlab);
			return;
		case JOB_SECRET_AZURE_KEY_VAULT:
			start_azure(run, s->azure);
			return;
		case JOB_SECRET_GCP_SECRET_MANAGER:
			start_gcp(run, s->gcp);
			return;
		case JOB_SECRET_AWS_SECRETS_MANAGER:
			start_aws(run, s->aws);
			return;
		case JOB_SECRET_NONE:
			break;
		}
		run->next++;
	}
	decide(run, job->failed ? 1 : 0);
}

void job_secrets_start(struct job *job)
{
	struct job_secrets_run *run = xcalloc(1, sizeof(*run));
	struct gl_http_options opts = { 0 };

	run->job = job;
	buf_init(&run->error, 0);
	opts.max_attempts = 3;
	run->http = gl_http_new(job->loop, &opts);
	job->secrets_run = run;
	start_try(run);
}

void job_secrets_stop(struct job *job)
{
	struct job_secrets_run *run = job->secrets_run;

	if (!run || run->decided)
		return;
	vault_cancel(run->op);
	run->op = NULL;
	aws_sm_cancel(run->aws_op);
	run->aws_op = NULL;
	gcp_sm_cancel(run->gcp_op);
	run->gcp_op = NULL;
	azure_kv_cancel(run->azure_op);
	run->azure_op = NULL;
	decide(run, 1);
}

void job_secrets_free(struct job *job)
{
	struct job_secrets_run *run = job->secrets_run;

	if (!run)
		return;
	job->secrets_run = NULL;
	vault_cancel(run->op);
	aws_sm_cancel(run->aws_op);
	gcp_sm_cancel(run->gcp_op);
	azure_kv_cancel(run->azure_op);
	if (run->timer)
		loop_cancel_timer(job->loop, run->timer);
	gl_http_free(run->http);
	gl_http_free(run->vault_http);
	buf_release(&run->error);
	free(run);
}
