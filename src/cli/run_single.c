/*
 * crunner run-single: one runner given on the command line (or picked from
 * config.toml), asking GitLab for jobs and running them one at a time,
 * until --max-builds jobs ran, --wait-timeout passed without a job, or a
 * signal: SIGQUIT finishes the running job first, SIGINT/SIGTERM abort it
 * (reported as runner_interrupted).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/cache_s3_sts.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/runner_flags.h"
#include "cli/verbs.h"
#include "config/config.h"
#include "config/system_id.h"
#include "config/toml.h"
#include "executor/docker.h"
#include "executor/kubernetes/kubernetes.h"
#include "gitlab/api.h"
#include "gitlab/remote_job.h"
#include "gitlab/runner_info.h"
#include "util/error.h"
#include "util/log.h"
#include "executor/host_cache.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DEFAULT_CHECK_INTERVAL_MS 3000L
/* gitlab-runner's DefaultShutdownTimeout, as for `run`. */
#define DEFAULT_SHUTDOWN_TIMEOUT_MS 30000L

struct single {
	struct loop *loop;
	struct gl_client *client;
	const struct runner_config *rc;
	struct gl_info info;
	char system_id[SYSTEM_ID_SIZE];
	char short_token[RUNNER_SHORT_TOKEN_SIZE];

	long max_builds, builds;
	int64_t wait_timeout_ms;	/* 0: wait for ever */
	int64_t check_interval_ms;
	long trace_interval_ms;
	uint64_t started_ms;

	struct gl_call *request;
	struct remote_job *job, *finished_job;
	/* The job's payload could not be decoded: no build, ask later. */
	bool job_undecodable;
	uint64_t poll_timer, free_timer;
	/* After SIGINT/SIGTERM: how long the aborted job may take to end
	 * (its final update included) before crunner exits anyway. */
	long shutdown_timeout_ms;
	uint64_t shutdown_timer;
	struct s3_role_cache *s3_roles;	/* kept between builds */
	struct host_cache *host_cache;	/* kept between builds */
	bool stopping, interrupted;
	int exit_code;
};

static void poll_now(struct single *s);

static void maybe_stop(struct single *s)
{
	if (!s->job && !s->request && (s->stopping || s->interrupted))
		loop_stop(s->loop);
}

static long on_poll_timer(struct loop *loop, void *ctx)
{
	struct single *s = ctx;

	(void)loop;
	s->poll_timer = 0;
	poll_now(s);
	return LOOP_TIMER_STOP;
}

static void poll_later(struct single *s, int64_t delay_ms)
{
	if (s->stopping || s->interrupted || s->poll_timer)
		return;
	s->poll_timer = loop_add_timer(s->loop, (long)delay_ms, on_poll_timer,
				       s);
}

static long on_free_timer(struct loop *loop, void *ctx)
{
	struct single *s = ctx;

	(void)loop;
	s->free_timer = 0;
	remote_job_free(s->finished_job);
	s->finished_job = NULL;
	maybe_stop(s);
	/* As gitlab-runner: a job it cannot decode is a failed request,
	 * and the next one waits for the check interval. */
	if (s->job_undecodable)
		poll_later(s, s->check_interval_ms);
	else if (!s->stopping && !s->interrupted)
		poll_now(s);
	s->job_undecodable = false;
	return LOOP_TIMER_STOP;
}

static void on_job_done(void *ctx, const struct remote_job_summary *sum)
{
	struct single *s = ctx;

	if (!sum->dropped && !s->job_undecodable)
		s->builds++;
	/* Freed from the loop: we are inside the job's own callback. */
	s->finished_job = s->job;
	s->job = NULL;
	if (s->max_builds > 0 && s->builds >= s->max_builds) {
		log_info("ran %ld of %ld builds: stopping", s->builds,
			 s->max_builds);
		s->stopping = true;
	}
	s->free_timer = loop_add_timer(s->loop, 0, on_free_timer, s);
}

static void on_job_reply(struct gl_job_reply *reply, void *ctx)
{
	struct single *s = ctx;
	struct remote_job_options o = { 0 };
	uint64_t now = loop_now_ms(s->loop);

	s->request = NULL;
	switch (reply->outcome) {
	case GL_JOB_RECEIVED:
		o.loop = s->loop;
		o.client = s->client;
		o.info = &s->info;
		o.runner = s->rc;
		o.system_id = s->system_id;
		o.concurrent_id = 0;
		o.trace_interval_ms = s->trace_interval_ms;
		o.s3_roles = s->s3_roles;
		o.host_cache = s->host_cache;
		o.correlation_id = reply->correlation_id;
		o.tls_ca_chain = reply->tls_ca_chain;
		s->job_undecodable = remote_job_start(&o, reply->payload,
						      reply->payload_len,
						      on_job_done, s,
						      &s->job) != 0;
		reply->payload = NULL;	/* taken */
		if (s->job_undecodable)
			log_warn("runner %s: asking for a job failed: the job's payload cannot be decoded",
				 s->short_token);
		return;
	case GL_JOB_FORBIDDEN:
		log_error("runner %s: GitLab refused the token (403 forbidden): "
			  "is the runner still registered?", s->short_token);
		s->exit_code = CR_EXIT_FAILURE;
		s->stopping = true;
		maybe_stop(s);
		return;
	case GL_JOB_FAILED:
		log_warn("runner %s: asking for a job failed: %s",
			 s->short_token, reply->message.len ?
			 reply->message.data : gl_result_name(reply->result));
		break;
	case GL_JOB_NONE:
		log_debug("runner %s: no job", s->short_token);
		break;
	}
	if (s->wait_timeout_ms > 0 && !s->builds &&
	    now - s->started_ms >= (uint64_t)s->wait_timeout_ms) {
		log_info("no job within the wait timeout: stopping");
		s->stopping = true;
		maybe_stop(s);
		return;
	}
	poll_later(s, s->check_interval_ms);
	maybe_stop(s);
}

static void poll_now(struct single *s)
{
	struct gl_job_request rq = { 0 };

	if (s->stopping || s->interrupted || s->job || s->request)
		return;
	rq.info = &s->info;
	rq.token = s->rc->token;
	rq.system_id = s->system_id;
	if (gl_request_job(s->client, &rq, on_job_reply, s, &s->request) != 0) {
		s->request = NULL;
		poll_later(s, s->check_interval_ms);
	}
}

static long on_shutdown_timeout(struct loop *loop, void *ctx)
{
	struct single *s = ctx;

	s->shutdown_timer = 0;
	log_error("the shutdown timeout (%ld s) passed with the job still running: exiting",
		  s->shutdown_timeout_ms / 1000);
	s->exit_code = CR_EXIT_FAILURE;
	loop_stop(loop);
	return LOOP_TIMER_STOP;
}

static void on_signal(struct loop *loop, int signo, void *ctx)
{
	struct single *s = ctx;

	if (signo == SIGQUIT) {
		log_info("SIGQUIT: finishing the running job, then stopping");
		s->stopping = true;
	} else {
		if (s->interrupted) {
			log_warn("second %s: exiting at once", strsignal(signo));
			s->exit_code = CR_EXIT_FAILURE;
			loop_stop(loop);
			return;
		}
		log_info("%s: aborting the running job", strsignal(signo));
		s->interrupted = true;
		s->shutdown_timer = loop_add_timer(loop, s->shutdown_timeout_ms,
						   on_shutdown_timeout, s);
		remote_job_cancel(s->job, JOB_CANCEL_INTERRUPTED);
	}
	if (s->poll_timer) {
		loop_cancel_timer(loop, s->poll_timer);
		s->poll_timer = 0;
	}
	gl_call_cancel(s->request);
	s->request = NULL;
	maybe_stop(s);
}

/* crunner's own run-single options (gitlab-runner has neither). */
static const struct runner_flag single_extra[] = {
	{ "check-interval", NULL, 0, NULL, NULL, "CheckInterval", RF_DURATION,
	  "", RF_RUN_SINGLE },
	{ "trace-interval", NULL, 0, NULL, NULL, "TraceInterval", RF_DURATION,
	  "", RF_RUN_SINGLE },
};

/* What the command's own options say. */
struct single_args {
	struct single *s;
	struct cli_globals *g;
	const char *runner_name;	/* -r/--runner */
};

static int parse_count(const char *s, long *out)
{
	char *end;

	*out = strtol(s, &end, 10);
	return (*s && !*end && *out >= 0) ? 0 : -1;
}

/* RunSingleCommand's fields (commands/single.go), by flag. */
static int single_option(void *ctx, const struct runner_flag *f,
			 const char *value, const char *from, struct buf *err)
{
	struct single_args *a = ctx;
	int64_t ms;
	long n;

	if (!strcmp(f->flag, "config")) {
		a->g->config_path = value;
	} else if (!strcmp(f->flag, "runner")) {
		a->runner_name = value;
	} else if (!strcmp(f->flag, "max-builds")) {
		if (parse_count(value, &a->s->max_builds))
			goto bad_number;
	} else if (!strcmp(f->flag, "wait-timeout")) {
		if (parse_count(value, &n))
			goto bad_number;
		a->s->wait_timeout_ms = (int64_t)n * 1000;
	} else if (!strcmp(f->flag, "shutdown-timeout")) {
		if (parse_count(value, &n) || n <= 0)
			goto bad_number;
		a->s->shutdown_timeout_ms = n * 1000;
	} else if (!strcmp(f->flag, "check-interval") ||
		   !strcmp(f->flag, "trace-interval")) {
		if (config_parse_duration(value, &ms) || ms < 0 ||
		    (!ms && f->flag[0] == 't')) {
			buf_addf(err, "%s needs a duration such as 3s, not '%s'",
				 from, value);
			return -1;
		}
		if (f->flag[0] == 'c')
			a->s->check_interval_ms = ms;
		else
			a->s->trace_interval_ms = (long)ms;
	} else {
		buf_addf(err, "%s is not implemented", from);
		return -1;
	}
	return 0;
bad_number:
	buf_addf(err, "%s needs a number of %s, not '%s'", from,
		 strcmp(f->flag, "max-builds") ? "seconds" : "jobs", value);
	return -1;
}

void run_single_more_help(FILE *out)
{
	runner_flags_help(out, RF_RUN_SINGLE);
}

/* The runner named name in the config file, or NULL (said). */
static const struct runner_config *runner_from_config(struct config *cfg,
						      const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nr_runners; i++)
		if (!name || (cfg->runners[i]->name &&
			      !strcmp(cfg->runners[i]->name, name)))
			return cfg->runners[i];
	cli_error("no runner %s%s%sin '%s'", name ? "named '" : "",
		  name ? name : "", name ? "' " : "", cfg->path);
	return NULL;
}

int cmd_run_single(int argc, char **argv, struct cli_globals *g)
{
	const struct cli_verb *verb = cli_find_verb("run-single");
	struct single s = { 0 };
	struct single_args args = { &s, g, NULL };
	struct runner_flags_cmd flags = {
		RF_RUN_SINGLE, single_extra,
		sizeof(single_extra) / sizeof(single_extra[0]),
		single_option, &args
	};
	struct runner_config flags_rc;
	struct toml_value *tree = toml_new_table();
	const struct toml_value *url, *token, *name;
	struct config cfg = { 0 };
	struct gl_client_options co = { 0 };
	struct buf err = BUF_INIT;
	bool from_config = false;
	int code = CR_EXIT_FAILURE;

	runner_config_init(&flags_rc);
	s.check_interval_ms = DEFAULT_CHECK_INTERVAL_MS;
	/* crunner's default; gitlab-runner wants --executor. */
	toml_table_set(tree, "executor", toml_new_string("shell"));
	if (runner_flags_parse(&flags, argc, argv, tree, &err)) {
		code = cli_usage_error(verb, "%s", err.data);
		goto out;
	}
	url = toml_table_get(tree, "url");
	token = toml_table_get(tree, "token");
	name = toml_table_get(tree, "name");

	if (args.runner_name) {
		/* gitlab-runner's HandleArgs: that entry replaces the flags. */
		from_config = true;
		if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK)
			goto out;
		code = CR_EXIT_CONFIG;
		if (!(s.rc = runner_from_config(&cfg, args.runner_name)))
			goto out;
	} else if (url || token) {
		if (!url || !token) {
			code = cli_usage_error(verb, "--url and --token go together");
			goto out;
		}
		if (config_runner_from_tree(&flags_rc, tree, NULL, &err) != 0) {
			cli_error("%s", err.data);
			code = CR_EXIT_USAGE;
			goto out;
		}
		s.rc = &flags_rc;
	} else if (g->config_path) {
		from_config = true;
		if ((code = cli_load_config(g, &cfg)) != CR_EXIT_OK)
			goto out;
		code = CR_EXIT_CONFIG;
		if (!(s.rc = runner_from_config(&cfg, name &&
				name->type == TOML_STRING ? name->u.str.ptr : NULL)))
			goto out;
	} else {
		code = cli_usage_error(verb, "give --url and --token, -r NAME or --config");
		goto out;
	}

	/* gitlab-runner's run-single stops at once: "Unknown executor". */
	if (!cli_runner_check_executor(s.rc)) {
		code = CR_EXIT_CONFIG;
		goto out;
	}
	if (!s.shutdown_timeout_ms)
		s.shutdown_timeout_ms = from_config && cfg.shutdown_timeout > 0 ?
			cfg.shutdown_timeout * 1000L :
			DEFAULT_SHUTDOWN_TIMEOUT_MS;
	code = CR_EXIT_FAILURE;
	if (system_id_load(from_config ? cfg.path : NULL, s.system_id, &err)) {
		log_warn("%s; using a temporary one", err.data);
		buf_reset(&err);
		system_id_generate(s.system_id);
	}
	runner_short_token(s.rc->token, s.short_token);
	runner_info_init(&s.info, s.rc);
	s.loop = loop_new();
	s.s3_roles = s3_role_cache_new();
	s.host_cache = host_cache_new();
	co.url = s.rc->url;
	runner_http_options(&co.http, s.rc,
			    from_config ? (long)(cfg.connection_max_age_ms / 1000) : 0);
	if (gl_client_new(s.loop, &co, &s.client, &err) != 0) {
		cli_error("%s", err.data);
		code = CR_EXIT_USAGE;
		goto out;
	}
	loop_watch_signal(s.loop, SIGINT, on_signal, &s);
	loop_watch_signal(s.loop, SIGTERM, on_signal, &s);
	loop_watch_signal(s.loop, SIGQUIT, on_signal, &s);
	log_info("runner %s: asking %s for jobs (executor %s, system ID %s)",
		 s.short_token, s.rc->url, s.info.executor, s.system_id);
	docker_remove_leftovers((struct runner_config *const *)&s.rc, 1);
	kubernetes_remove_leftovers((struct runner_config *const *)&s.rc, 1,
				    s.system_id);
	s.started_ms = loop_now_ms(s.loop);
	poll_now(&s);
	loop_run(s.loop);
	code = s.exit_code;
out:
	gl_call_cancel(s.request);
	if (s.poll_timer)
		loop_cancel_timer(s.loop, s.poll_timer);
	if (s.free_timer)
		loop_cancel_timer(s.loop, s.free_timer);
	if (s.shutdown_timer)
		loop_cancel_timer(s.loop, s.shutdown_timer);
	remote_job_free(s.finished_job);
	remote_job_free(s.job);
	gl_client_free(s.client);
	loop_free(s.loop);
	s3_role_cache_free(s.s3_roles);
	host_cache_free(s.host_cache);
	runner_config_release(&flags_rc);
	config_runner_tree_free(tree);
	config_release(&cfg);
	buf_release(&err);
	return code;
}
