#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config/config.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "file_text.h"

/*
 * Each case runs in a fresh temporary directory (the current directory
 * while it runs), so messages name plain "config.toml" as users see it.
 */
struct fixture {
	char dir[64];
	char oldcwd[4096];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || !getcwd(fx->oldcwd, sizeof(fx->oldcwd)))
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(fx->dir) || chdir(fx->dir))
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int r = chdir(fx->oldcwd);

	remove_tree(fx->dir);
	free(fx);
	return r;
}

static void read_file(const char *path, struct buf *out)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_add(out, chunk, n), 0);
	fclose(f);
}

/* The fixture files live next to this source file. */
static void data_path(const char *name, char *out, size_t size)
{
	const char *src = getenv("CR_SOURCE_DIR");

	if (src)
		snprintf(out, size, "%s/tests/unit/data/config/%s", src, name);
	else
		snprintf(out, size, "%.*s/data/config/%s",
			 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__,
			 name);
}

static void copy_fixture(const char *name, const char *to)
{
	struct buf b = BUF_INIT;
	char path[4096];

	data_path(name, path, sizeof(path));
	read_file(path, &b);
	write_file(to, b.data);
	buf_release(&b);
}

/* What every loaded config must satisfy. */
static void assert_sane_config(const struct config *cfg)
{
	const struct toml_value *arr = toml_table_get(cfg->tree, "runners");
	size_t i;

	assert_non_null(cfg->tree);
	assert_non_null(cfg->warnings.v);
	assert_true(cfg->concurrent >= 1);
	assert_true(cfg->check_interval > 0);
	assert_true(cfg->shutdown_timeout > 0);
	if (cfg->nr_runners) {
		assert_non_null(arr);
		assert_int_equal(arr->type, TOML_ARRAY);
		assert_int_equal(arr->u.array.nr, cfg->nr_runners);
	} else {
		assert_true(!arr || arr->u.array.nr == 0);
	}
	for (i = 0; i < cfg->nr_runners; i++) {
		const struct runner_config *r = cfg->runners[i];

		assert_non_null(r);
		assert_true(r->output_limit > 0);
		assert_true(r->request_concurrency > 0);
		assert_true(!r->name || *r->name);
		assert_true(!r->token || *r->token);
	}
}

static int load_text(const char *text, struct config *cfg, struct buf *err)
{
	write_file("config.toml", text);
	return config_load("config.toml", cfg, err);
}

/* --- defaults --- */

static void assert_default_globals(const struct config *cfg)
{
	assert_int_equal(cfg->concurrent, 1);
	assert_int_equal(cfg->check_interval, 3);
	assert_int_equal(cfg->shutdown_timeout, 30);
	assert_int_equal(cfg->connection_max_age_ms, 15 * 60 * 1000);
	assert_string_equal(cfg->log_level, "info");
	assert_string_equal(cfg->log_format, "runner");
	assert_null(cfg->listen_address);
	assert_null(cfg->sentry_dsn);
	assert_null(cfg->user);
	assert_null(cfg->session_server.listen_address);
	assert_null(cfg->session_server.advertise_address);
	assert_int_equal(cfg->session_server.session_timeout, 1800);
	assert_int_equal(cfg->nr_runners, 0);
}

static void test_empty_file_gives_defaults(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("", &cfg, &err), 0);
	assert_string_equal(err.data, "");
	assert_sane_config(&cfg);
	assert_default_globals(&cfg);
	assert_false(cfg.session_server.present);
	assert_int_equal(cfg.warnings.nr, 0);
	config_release(&cfg);
	config_release(&cfg);	/* release twice is harmless */
}

static void test_runner_defaults(void **state)
{
	struct runner_config r;

	(void)state;
	runner_config_init(&r);
	assert_null(r.name);
	assert_null(r.token);
	assert_null(r.executor);
	assert_int_equal(r.limit, 0);
	assert_int_equal(r.output_limit, 4096);
	assert_int_equal(r.request_concurrency, 1);
	assert_int_equal(r.unhealthy_requests_limit, 3);
	assert_int_equal(r.unhealthy_interval_ms, 3600 * 1000);
	assert_int_equal(r.token_obtained_at, 0);
	assert_int_equal(r.safe_directory_checkout, CONFIG_UNSET);
	assert_int_equal(r.environment.nr, 0);
	assert_non_null(r.environment.v);
	assert_false(r.docker.present);
	assert_int_equal(r.docker.wait_for_services_timeout, 30);
	assert_int_equal(r.docker.services_privileged, CONFIG_UNSET);
	assert_int_equal(r.custom.config_exec_timeout, 3600);
	assert_int_equal(r.custom.prepare_exec_timeout, 3600);
	assert_int_equal(r.custom.cleanup_exec_timeout, 3600);
	assert_int_equal(r.custom.graceful_kill_timeout, 600);
	assert_int_equal(r.custom.force_kill_timeout, 10);
	assert_false(r.cache.present);
	runner_config_release(&r);
}

static void test_zero_means_default(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("check_interval = -5\n"
				   "shutdown_timeout = 0\n"
				   "[[runners]]\n"
				   "output_limit = 0\n"
				   "request_concurrency = 0\n"
				   "unhealthy_requests_limit = -1\n"
				   "[runners.docker]\n"
				   "wait_for_services_timeout = -1\n",
				   &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.check_interval, 3);
	assert_int_equal(cfg.shutdown_timeout, 30);
	assert_int_equal(cfg.runners[0]->output_limit, 4096);
	assert_int_equal(cfg.runners[0]->request_concurrency, 1);
	assert_int_equal(cfg.runners[0]->unhealthy_requests_limit, 3);
	/* -1 means "do not wait for services", not the default. */
	assert_int_equal(cfg.runners[0]->docker.wait_for_services_timeout, -1);
	config_release(&cfg);
	buf_release(&err);
}

/* "" is "not set", as in Go: keys with a default keep it. */
static void test_empty_string_is_unset(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("log_level = \"\"\n"
				   "listen_address = \"\"\n"
				   "[[runners]]\n"
				   "executor = \"\"\n"
				   "shell = \"\"\n",
				   &cfg, &err), 0);
	assert_string_equal(cfg.log_level, "info");
	assert_null(cfg.listen_address);
	assert_null(cfg.runners[0]->executor);
	assert_null(cfg.runners[0]->shell);
	config_release(&cfg);
	buf_release(&err);
}

/* Inline tables are the same TOML as [[runners]] sections. */
static void test_inline_runners(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("runners = [\n"
				   "  { name = \"a\", executor = \"shell\" },\n"
				   "  { name = \"b\", docker = { image = \"x\" } },\n"
				   "]\n", &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.nr_runners, 2);
	assert_string_equal(cfg.runners[0]->executor, "shell");
	assert_true(cfg.runners[1]->docker.present);
	assert_string_equal(cfg.runners[1]->docker.image, "x");
	config_release(&cfg);
	buf_release(&err);
}

/* --- a full, realistic file --- */

static void assert_list(const struct strvec *sv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_true(i < sv->nr);
		assert_string_equal(sv->v[i], want[i]);
	}
	assert_int_equal(sv->nr, i);
	assert_null(sv->v[i]);
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void check_full_globals(const struct config *cfg)
{
	assert_int_equal(cfg->concurrent, 4);
	assert_int_equal(cfg->check_interval, 3);
	assert_int_equal(cfg->connection_max_age_ms, 15 * 60 * 1000);
	assert_int_equal(cfg->shutdown_timeout, 30);
	assert_string_equal(cfg->log_level, "warning");
	assert_string_equal(cfg->log_format, "json");
	assert_string_equal(cfg->listen_address, "127.0.0.1:9252");
	assert_string_equal(cfg->sentry_dsn,
			    "https://public@sentry.example.com/1");
	assert_true(cfg->session_server.present);
	assert_string_equal(cfg->session_server.listen_address, "[::]:8093");
	assert_string_equal(cfg->session_server.advertise_address,
			    "runner-host-name.tld:8093");
	assert_int_equal(cfg->session_server.session_timeout, 1800);
}

static void check_docker_runner(const struct runner_config *r)
{
	const struct config_docker *d = &r->docker;
	const struct config_cache *c = &r->cache;

	assert_string_equal(r->name, "docker-runner");
	assert_int_equal(r->limit, 2);
	assert_int_equal(r->output_limit, 8192);
	assert_int_equal(r->request_concurrency, 2);
	assert_int_equal(r->unhealthy_requests_limit, 5);
	assert_int_equal(r->unhealthy_interval_ms, 30 * 60 * 1000);
	assert_string_equal(r->url, "https://gitlab.example.com/");
	assert_int_equal(r->id, 42);
	assert_string_equal(r->token, "glrt-t1_AbCdEfGhIjKlMnOpQrSt");
	/* 2024-01-02T03:04:05Z */
	assert_int_equal(r->token_obtained_at, 1704164645);
	assert_int_equal(r->token_expires_at, 0);
	assert_string_equal(r->tls_ca_file, "/etc/gitlab-runner/certs/ca.crt");
	assert_null(r->tls_cert_file);
	assert_null(r->tls_key_file);
	assert_string_equal(r->executor, "docker");
	assert_string_equal(r->builds_dir, "/builds");
	assert_string_equal(r->cache_dir, "/cache");
	assert_null(r->clone_url);
	assert_list(&r->environment,
		    LIST("DOCKER_DRIVER=overlay2", "GIT_DEPTH=10", "EMPTY="));
	assert_string_equal(r->pre_get_sources_script, "echo pre");
	assert_null(r->post_get_sources_script);
	assert_null(r->pre_build_script);
	assert_string_equal(r->post_build_script, "echo one\necho two\n");
	assert_true(r->debug_trace_disabled);
	assert_int_equal(r->safe_directory_checkout, CONFIG_UNSET);
	assert_string_equal(r->shell, "bash");
	assert_true(r->custom_build_dir.present);
	assert_int_equal(r->custom_build_dir.enabled, CONFIG_TRUE);

	assert_true(c->present);
	assert_string_equal(c->type, "s3");
	assert_string_equal(c->path, "runner-cache");
	assert_true(c->shared);
	assert_int_equal(c->max_uploaded_archive_size, 104857600);
	assert_true(c->s3.present);
	assert_string_equal(c->s3.server_address, "s3.amazonaws.com");
	assert_string_equal(c->s3.access_key, "AKIAEXAMPLE");
	assert_string_equal(c->s3.secret_key, "s3-secret-key");
	assert_string_equal(c->s3.bucket_name, "runners-cache");
	assert_string_equal(c->s3.bucket_location, "eu-west-1");
	assert_false(c->s3.insecure);
	assert_int_equal(c->s3.dual_stack, CONFIG_UNSET);
	assert_true(c->gcs.present);
	assert_null(c->gcs.bucket_name);
	assert_true(c->azure.present);

	assert_int_equal(r->feature_flags.nr, 2);
	assert_string_equal(r->feature_flags.items[0].name,
			    "FF_NETWORK_PER_BUILD");
	assert_true(runner_feature_flag(r, "FF_NETWORK_PER_BUILD", false));
	assert_true(runner_feature_flag(r, "FF_USE_JOB_ROUTER", false));
	assert_true(runner_feature_flag(r, "FF_NOT_SET", true));

	assert_true(d->present);
	assert_false(d->tls_verify);
	assert_string_equal(d->image, "alpine:3.19");
	assert_true(d->privileged);
	assert_false(d->disable_entrypoint_overwrite);
	assert_false(d->oom_kill_disable);
	assert_false(d->disable_cache);
	assert_list(&d->volumes, LIST("/cache",
				      "/var/run/docker.sock:/var/run/docker.sock"));
	assert_int_equal(d->shm_size, 268435456);
	assert_int_equal(d->network_mtu, 0);
	assert_list(&d->pull_policy, LIST("if-not-present", "always"));
	assert_list(&d->allowed_images, LIST("ruby:*", "python:*"));
	assert_string_equal(d->helper_image,
			    "registry.gitlab.com/gitlab-org/gitlab-runner/"
			    "gitlab-runner-helper:x86_64-latest");
	assert_string_equal(d->memory, "2g");
	assert_string_equal(d->cpus, "1.5");
	assert_list(&d->dns, LIST("8.8.8.8"));
	assert_list(&d->extra_hosts, LIST("gitlab.example.com:10.0.0.2"));
	assert_list(&d->cap_add, LIST("NET_ADMIN"));
	assert_list(&d->cap_drop, LIST("ALL"));
	assert_string_equal(d->network_mode, "bridge");
	assert_int_equal(d->wait_for_services_timeout, 30);
	assert_int_equal(d->tmpfs.nr, 1);
	assert_string_equal(d->tmpfs.items[0].key, "/var/lib/mysql");
	assert_string_equal(d->tmpfs.items[0].value, "rw,noexec");
	assert_int_equal(d->nr_services, 1);
	assert_string_equal(d->services[0].name, "postgres:16");
	assert_string_equal(d->services[0].alias, "db");
	assert_list(&d->services[0].environment,
		    LIST("POSTGRES_PASSWORD=secret"));
	assert_int_equal(d->services[0].command.nr, 0);
	assert_false(r->custom.present);
}

static void check_shell_runner(const struct runner_config *r)
{
	assert_string_equal(r->name, "shell-runner");
	assert_string_equal(r->url, "https://gitlab.example.com");
	assert_int_equal(r->id, 43);
	assert_string_equal(r->token, "glrt-ZyXwVuTsRqPoNmLk");
	assert_int_equal(r->token_obtained_at, 1709294400);
	assert_int_equal(r->token_expires_at, 1717243200);
	assert_string_equal(r->executor, "shell");
	assert_string_equal(r->shell, "sh");
	assert_int_equal(r->limit, 0);
	assert_int_equal(r->output_limit, 4096);
	/* The deprecated spelling still works. */
	assert_string_equal(r->pre_get_sources_script, "echo legacy");
	assert_true(r->cache.present);
	assert_int_equal(r->cache.max_uploaded_archive_size, 0);
	assert_false(r->cache.s3.present);
	assert_false(r->docker.present);
	assert_int_equal(r->feature_flags.nr, 0);
}

static void check_custom_runner(const struct runner_config *r)
{
	const struct config_custom *c = &r->custom;

	assert_string_equal(r->name, "custom-runner");
	assert_int_equal(r->id, 44);
	/* 2023-12-31T23:59:59+01:00 is 22:59:59 UTC. */
	assert_int_equal(r->token_obtained_at, 1704063599);
	assert_string_equal(r->executor, "custom");
	assert_true(c->present);
	assert_string_equal(c->config_exec, "/opt/ci/config.sh");
	assert_int_equal(c->config_args.nr, 0);
	assert_int_equal(c->config_exec_timeout, 3600);
	assert_string_equal(c->prepare_exec, "/opt/ci/prepare.sh");
	assert_list(&c->prepare_args, LIST("--vm", "debian"));
	assert_int_equal(c->prepare_exec_timeout, 600);
	assert_string_equal(c->run_exec, "/opt/ci/run.sh");
	assert_string_equal(c->cleanup_exec, "/opt/ci/cleanup.sh");
	assert_int_equal(c->cleanup_exec_timeout, 3600);
	assert_int_equal(c->graceful_kill_timeout, 120);
	assert_int_equal(c->force_kill_timeout, 10);
}

static void check_full(const struct config *cfg)
{
	assert_sane_config(cfg);
	check_full_globals(cfg);
	assert_int_equal(cfg->nr_runners, 3);
	check_docker_runner(cfg->runners[0]);
	check_shell_runner(cfg->runners[1]);
	check_custom_runner(cfg->runners[2]);
}

/* The first and last "has no effect" warnings full.toml gives. */
#define FULL_NO_EFFECT_0 \
	"config.toml:9: 'sentry_dsn' in the global section has no effect in crunner"
#define FULL_NO_EFFECT_5 \
	"config.toml:58: feature flag 'FF_USE_JOB_ROUTER' in [runners.feature_flags] has no effect in crunner"

static void test_full_file(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	copy_fixture("full.toml", "config.toml");
	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	assert_string_equal(err.data, "");
	/* Its keys crunner does not act on, each said once. */
	for (i = 0; i < cfg.warnings.nr; i++)
		print_message("warning: %s\n", cfg.warnings.v[i]);
	assert_int_equal(cfg.warnings.nr, 4);
	assert_string_equal(cfg.warnings.v[0], FULL_NO_EFFECT_0);
	assert_string_equal(cfg.warnings.v[3], FULL_NO_EFFECT_5);
	check_full(&cfg);
	config_release(&cfg);
}

/* --- warnings and errors --- */

static void test_unknown_keys_warn_with_line(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("concurrent = 2\n"
				   "colour = \"blue\"\n"
				   "\n"
				   "[[runners]]\n"
				   "  name = \"r\"\n"
				   "  executor = \"shell\"\n"
				   "  foo = 1\n"
				   "  [runners.docker]\n"
				   "    imag = \"typo\"\n"
				   "  [runners.feature_flags]\n"
				   "    FF_ANYTHING = true\n",
				   &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.warnings.nr, 4);
	assert_string_equal(cfg.warnings.v[3],
		"config.toml:11: unknown feature flag 'FF_ANYTHING' in [runners.feature_flags] (ignored)");
	assert_string_equal(cfg.warnings.v[0],
		"config.toml:2: unknown key 'colour' in the global section (ignored)");
	assert_string_equal(cfg.warnings.v[1],
		"config.toml:7: unknown key 'foo' in [[runners]] (ignored)");
	assert_string_equal(cfg.warnings.v[2],
		"config.toml:9: unknown key 'imag' in [runners.docker] (ignored)");
	assert_int_equal(cfg.concurrent, 2);
	assert_string_equal(cfg.runners[0]->executor, "shell");
	config_release(&cfg);
}

static void assert_warnings(const struct config *cfg,
			    const char *const *want)
{
	size_t i;

	for (i = 0; i < cfg->warnings.nr; i++)
		print_message("warning: %s\n", cfg->warnings.v[i]);
	for (i = 0; want[i]; i++) {
		assert_true(i < cfg->warnings.nr);
		assert_string_equal(cfg->warnings.v[i], want[i]);
	}
	assert_int_equal(cfg->warnings.nr, i);
}

/*
 * A key crunner reads but does not act on is one warning when it is set
 * to something; at its default (what gitlab-runner writes into a new file)
 * or as an empty table it is silent.
 */
/*
 * labels (global and [[runners]]): gitlab-runner sends the global ones with
 * the runner's over them in its info (ComputedLabels), so no warning; keys
 * and values are checked as its common/labels.go does, and a bad one stops
 * the file from loading.
 */
static void test_labels_computed(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	struct runner_config *rc;

	(void)state;
	assert_int_equal(load_text("[labels]\n"
				   "  team = \"ci\"\n"
				   "  env = \"dev\"\n"
				   "[[runners]]\n"
				   "  name = \"a\"\n"
				   "  executor = \"shell\"\n"
				   "  [runners.labels]\n"
				   "    env = \"prod\"\n"
				   "    zone_1 = \"eu-west.1\"\n",
				   &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.warnings.nr, 0);
	assert_int_equal(cfg.labels.nr, 2);
	assert_string_equal(cfg.labels.items[0].value, "ci");
	rc = cfg.runners[0];
	assert_int_equal(rc->labels.nr, 2);
	assert_string_equal(rc->labels.items[0].key, "env");
	/* The global ones first, a runner's value over a global one. */
	assert_int_equal(rc->nr_computed_labels, 3);
	assert_string_equal(rc->computed_labels[0], "team");
	assert_string_equal(rc->computed_labels[1], "ci");
	assert_string_equal(rc->computed_labels[2], "env");
	assert_string_equal(rc->computed_labels[3], "prod");
	assert_string_equal(rc->computed_labels[4], "zone_1");
	assert_string_equal(rc->computed_labels[5], "eu-west.1");
	config_release(&cfg);
}

static void test_labels_invalid(void **state)
{
	static const char *const bad[][2] = {
		/* two characters: a key has 3 to 65 */
		{ "[labels]\n  ab = \"x\"\n",
		  "'config.toml': invalid config: validating global labels: invalid label key, doesn't match \"^[a-zA-Z0-9_][a-zA-Z0-9._-]{2,64}$\": ab" },
		{ "[[runners]]\n  name = \"r\"\n  [runners.labels]\n    -abc = \"x\"\n",
		  "'config.toml': invalid config: validating runner r: validating labels: invalid label key, doesn't match \"^[a-zA-Z0-9_][a-zA-Z0-9._-]{2,64}$\": -abc" },
		{ "[[runners]]\n  name = \"r\"\n  [runners.labels]\n    abc = \"a b\"\n",
		  "'config.toml': invalid config: validating runner r: validating labels: invalid label value, doesn't match \"^[a-zA-Z0-9._-]{1,256}$\": a b" },
		{ "[[runners]]\n  name = \"r\"\n  [runners.labels]\n    abc = \"\"\n",
		  "'config.toml': invalid config: validating runner r: validating labels: invalid label value, doesn't match \"^[a-zA-Z0-9._-]{1,256}$\": " },
	};
	struct config cfg;
	struct buf err = BUF_INIT, text = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		assert_int_equal(load_text(bad[i][0], &cfg, &err),
				 CR_ERR_INVALID);
		assert_string_equal(err.data, bad[i][1]);
	}
	/* 20 global and 13 more of the runner's: 33, one too many. */
	for (i = 0; i < 20; i++)
		(void)buf_addf(&text, "%sglobal%02zu = \"v\"\n",
			       i ? "" : "[labels]\n", i);
	(void)buf_addstr(&text, "[[runners]]\n  name = \"r\"\n  [runners.labels]\n");
	for (i = 0; i < 13; i++)
		(void)buf_addf(&text, "    own%02zu = \"v\"\n", i);
	buf_reset(&err);
	assert_int_equal(load_text(text.data, &cfg, &err), CR_ERR_INVALID);
	assert_string_equal(err.data,
		"'config.toml': invalid config: validating runner r: validating computed labels: exceeded maximum computed labels number of 32");
	/* 32 is fine; a runner's key over a global one counts once. */
	buf_reset(&err);
	{
		const char *cut = strstr(text.data, "    own12");

		buf_setlen(&text, (size_t)(cut - text.data));
	}
	(void)buf_addstr(&text, "    global00 = \"w\"\n");
	assert_int_equal(load_text(text.data, &cfg, &err), 0);
	assert_int_equal(cfg.runners[0]->nr_computed_labels, 32);
	config_release(&cfg);
	buf_release(&text);
	buf_release(&err);
}

static void test_no_effect_keys_warn(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("sentry_dsn = \"https://k@sentry.example/1\"\n"
				   "[session_server]\n"
				   "  session_timeout = 1800\n"
				   "  listen_address = \"[::]:8093\"\n"
				   "[[runners]]\n"
				   "  name = \"a\"\n"
				   "  executor = \"docker\"\n"
				   "  clone_url = \"https://mirror.example\"\n"
				   "  [runners.docker]\n"
				   "    image = \"alpine\"\n"
				   "    network_mtu = 0\n"
				   "    helper_image_flavor = \"ubuntu\"\n"
				   "    volume_keep = true\n"
				   "  [runners.cache]\n"
				   "    [runners.cache.gcs]\n"
				   "  [runners.custom_build_dir]\n"
				   "    enabled = true\n"
				   "  [runners.kubernetes]\n"
				   "    helper_image_flavor = \"ubuntu\"\n"
				   "[[runners]]\n"
				   "  name = \"b\"\n"
				   "  executor = \"docker\"\n"
				   "  [runners.docker]\n"
				   "    network_mtu = 1400\n"
				   "  [runners.kubernetes]\n"
				   "    namespace = \"ci\"\n",
				   &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_warnings(&cfg, LIST(
		"config.toml:1: 'sentry_dsn' in the global section has no effect in crunner",
		"config.toml:4: 'listen_address' in [session_server] has no effect in crunner",
		"config.toml:12: 'helper_image_flavor' in [runners.docker] has no effect in crunner",
		"config.toml:19: 'helper_image_flavor' in [runners.kubernetes] has no effect in crunner"));
	/* Read, and acted on now (network_mtu: FF_NETWORK_PER_BUILD's): no warning. */
	assert_string_equal(cfg.runners[0]->clone_url, "https://mirror.example");
	assert_int_equal(cfg.runners[0]->custom_build_dir.enabled, CONFIG_TRUE);
	assert_int_equal(cfg.runners[1]->docker.network_mtu, 1400);
	config_release(&cfg);
}

/*
 * Every one of gitlab-runner 19.4's 51 flags is accepted; one crunner does
 * not act on is a warning only when set to anything but its default.
 */
static void test_feature_flags(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	const struct config_feature_flag *all;
	size_t nr, i, honoured = 0;

	(void)state;
	all = config_feature_flags(&nr);
	assert_int_equal(nr, 51);
	for (i = 0; i < nr; i++) {
		assert_ptr_equal(config_feature_flag_find(all[i].name,
							  strlen(all[i].name)),
				 &all[i]);
		if (all[i].state == CONFIG_FF_HONOURED)
			honoured++;
	}
	assert_true(honoured >= 6);
	assert_null(config_feature_flag_find("FF_NOPE", 7));
	assert_null(config_feature_flag_find("FF_TIMESTAMPSX", 14));

	assert_int_equal(load_text("[[runners]]\n"
				   "  name = \"r\"\n"
				   "  executor = \"shell\"\n"
				   "  [runners.feature_flags]\n"
				   "    FF_TIMESTAMPS = false\n"
				   "    FF_ENABLE_BASH_EXIT_CODE_CHECK = true\n"
				   "    FF_SCRIPT_SECTIONS = false\n"
				   "    FF_SCRIPT_SECTIONS_X = false\n"
				   "    FF_NETWORK_PER_BUILD = true\n"
				   "    FF_USE_JOB_ROUTER = true\n"
				   "    FF_SCRIPT_TO_STEP_MIGRATION = true\n",
				   &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_warnings(&cfg, LIST(
		"config.toml:8: unknown feature flag 'FF_SCRIPT_SECTIONS_X' in [runners.feature_flags] (ignored)",
		"config.toml:10: feature flag 'FF_USE_JOB_ROUTER' in [runners.feature_flags] has no effect in crunner",
		"config.toml:11: feature flag 'FF_SCRIPT_TO_STEP_MIGRATION' in [runners.feature_flags] has no effect in crunner"));
	/* Read all the same: jobs see them as variables. */
	assert_int_equal(cfg.runners[0]->feature_flags.nr, 7);
	assert_false(runner_feature_flag(cfg.runners[0], "FF_TIMESTAMPS", true));
	config_release(&cfg);
}

/*
 * gitlab-runner loads a runner whatever its executor; a name it does not
 * know either is a warning, and the other runners load as usual.
 */
static void test_unknown_executor_is_a_warning(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("[[runners]]\n"
				   "  name = \"typo\"\n"
				   "  executor = \"dokcer\"\n"
				   "[[runners]]\n"
				   "  name = \"k8s\"\n"
				   "  executor = \"virtualbox\"\n"
				   "[[runners]]\n"
				   "  name = \"none\"\n"
				   "[[runners]]\n"
				   "  name = \"ok\"\n"
				   "  executor = \"shell\"\n",
				   &cfg, &err), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.nr_runners, 4);
	assert_string_equal(cfg.runners[0]->executor, "dokcer");
	assert_string_equal(cfg.runners[1]->executor, "virtualbox");
	assert_null(cfg.runners[2]->executor);
	assert_string_equal(cfg.runners[3]->executor, "shell");
	assert_warnings(&cfg, LIST(
		"config.toml:3: 'executor' in [[runners]] is \"dokcer\", not one of "
		"shell, docker, docker-windows, docker+machine, docker-autoscaler, "
		"instance, custom, ssh, parallels, virtualbox, kubernetes: "
		"runner 'typo' will not ask for jobs",
		"config.toml:7: no 'executor' in [[runners]]: "
		"runner 'none' will not ask for jobs"));
	config_release(&cfg);
}

/* Loads text, expects CR_ERR_INVALID with message want and an empty cfg. */
static void assert_load_fails(const char *text, const char *want)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	assert_int_equal(load_text(text, &cfg, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, want);
	assert_null(cfg.tree);
	assert_int_equal(cfg.nr_runners, 0);
	config_release(&cfg);
	buf_release(&err);
}

static void test_wrong_type_names_file_line_key(void **state)
{
	(void)state;
	assert_load_fails("# comment\n"
			  "log_level = \"info\"\n"
			  "concurrent = \"two\"\n",
		"config.toml:3: 'concurrent' must be an integer >= 1, not \"two\"");
	assert_load_fails("concurrent = 0\n",
		"config.toml:1: 'concurrent' must be an integer >= 1, not 0");
	assert_load_fails("[[runners]]\nname = \"x\"\nlimit = true\n",
		"config.toml:3: 'limit' in [[runners]] must be an integer >= 0, not true");
	assert_load_fails("[[runners]]\n"
			  "[runners.docker]\n"
			  "privileged = \"yes\"\n",
		"config.toml:3: 'privileged' in [runners.docker] must be a boolean, not \"yes\"");
	assert_load_fails("[[runners]]\ntoken_obtained_at = \"yesterday\"\n",
		"config.toml:2: 'token_obtained_at' in [[runners]] must be a "
		"date-time such as 2024-01-01T00:00:00Z, not \"yesterday\"");
	assert_load_fails("runners = 3\n",
		"config.toml:1: 'runners' must be an array of tables, not 3");
	assert_load_fails("[session_server]\nsession_timeout = 1.5\n",
		"config.toml:2: 'session_timeout' in [session_server] must be an integer, not 1.5");
	assert_load_fails("[[runners]]\n"
			  "[runners.feature_flags]\n"
			  "FF_X = \"true\"\n",
		"config.toml:3: 'feature_flags' in [[runners]] must be a table of booleans, not \"true\"");
}

static void test_bad_enum_value(void **state)
{
	(void)state;
	assert_load_fails("log_level = \"loud\"\n",
		"config.toml:1: 'log_level' must be one of debug, info, warn, "
		"warning, error, fatal, panic, not \"loud\"");
	assert_load_fails("[[runners]]\nshell = \"zsh\"\n",
		"config.toml:2: 'shell' in [[runners]] must be one of bash, sh, "
		"pwsh, powershell, cmd, not \"zsh\"");
	assert_load_fails("[[runners]]\n"
			  "[runners.docker]\n"
			  "pull_policy = [\"always\", \"sometimes\"]\n",
		"config.toml:3: 'pull_policy' in [runners.docker] must be always, "
		"never or if-not-present, or an array of them, not \"sometimes\"");
}

static void test_bad_duration(void **state)
{
	(void)state;
	assert_load_fails("connection_max_age = \"15 minutes\"\n",
		"config.toml:1: 'connection_max_age' must be a duration such as "
		"\"15m\" or \"1h30m\", not \"15 minutes\"");
	assert_load_fails("\n[[runners]]\nunhealthy_interval = \"1h30min\"\n",
		"config.toml:3: 'unhealthy_interval' in [[runners]] must be a "
		"duration such as \"15m\" or \"1h30m\", not \"1h30min\"");
	assert_load_fails("connection_max_age = \"-1s\"\n",
		"config.toml:1: 'connection_max_age' must be a duration such as "
		"\"15m\" or \"1h30m\", not \"-1s\"");
}

static void test_environment_needs_equals(void **state)
{
	(void)state;
	assert_load_fails("[[runners]]\n"
			  "environment = [\"A=1\", \"NOEQUALS\"]\n",
		"config.toml:2: 'environment' in [[runners]] must be an array of "
		"\"KEY=VALUE\" strings, not \"NOEQUALS\"");
	assert_load_fails("[[runners]]\nenvironment = [\"=value\"]\n",
		"config.toml:2: 'environment' in [[runners]] must be an array of "
		"\"KEY=VALUE\" strings, not \"=value\"");
	assert_load_fails("[[runners]]\n"
			  "[[runners.docker.services]]\n"
			  "name = \"redis\"\n"
			  "[[runners.docker.services]]\n"
			  "name = \"pg\"\n"
			  "environment = [\"PGPASSWORD\"]\n",
		"config.toml:6: 'environment' in [[runners.docker.services]] "
		"must be an array of \"KEY=VALUE\" strings, not \"PGPASSWORD\"");
	assert_load_fails("[[runners]]\n[runners.docker]\ncpus = \"nan\"\n",
		"config.toml:3: 'cpus' in [runners.docker] must be a number of "
		"CPUs such as \"1.5\", not \"nan\"");
	assert_load_fails("[[runners]]\n[runners.docker]\nmemory = \"lots\"\n",
		"config.toml:3: 'memory' in [runners.docker] must be a size such "
		"as \"512m\" or \"2g\", not \"lots\"");
}

static void test_toml_syntax_error_is_reported(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("concurrent = 1\nname = \n", &cfg, &err),
			 CR_ERR_INVALID);
	assert_true(!strncmp(err.data, "config.toml:2:", 14));
	config_release(&cfg);
	buf_release(&err);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(config_load("nothere.toml", &cfg, &err),
			 CR_ERR_NOT_FOUND);
	assert_string_equal(err.data,
		"cannot open 'nothere.toml': no such file or directory");
	config_release(&cfg);
	buf_release(&err);
}

static void test_failed_load_leaves_file_untouched(void **state)
{
	static const char text[] =
		"concurrent = 1\n[[runners]]\nshell = \"zsh\"\n";
	struct config cfg;
	struct buf err = BUF_INIT, after = BUF_INIT;
	struct stat before_st, after_st;

	(void)state;
	write_file("config.toml", text);
	assert_int_equal(chmod("config.toml", 0640), 0);
	assert_int_equal(stat("config.toml", &before_st), 0);
	assert_int_equal(config_load("config.toml", &cfg, &err),
			 CR_ERR_INVALID);
	assert_int_equal(stat("config.toml", &after_st), 0);
	read_file("config.toml", &after);
	assert_string_equal(after.data, text);
	assert_int_equal(after_st.st_mode, before_st.st_mode);
	assert_int_equal(after_st.st_ino, before_st.st_ino);
	assert_int_equal(after_st.st_mtim.tv_sec, before_st.st_mtim.tv_sec);
	assert_int_equal(after_st.st_mtim.tv_nsec, before_st.st_mtim.tv_nsec);
	config_release(&cfg);
	buf_release(&err);
	buf_release(&after);
}

/* --- writing back --- */

static void make_new_runner(struct runner_config *r)
{
	runner_config_init(r);
	r->name = strdup("new-runner");
	r->url = strdup("https://gitlab.example.com");
	r->id = 99;
	r->token = strdup("glrt-NEWTOKENabcdefghij");
	r->token_obtained_at = 1714521600;	/* 2024-05-01T00:00:00Z */
	r->executor = strdup("docker");
	r->limit = 3;
	strvec_push(&r->environment, "FOO=bar");
	r->cache.present = true;
	r->docker.present = true;
	r->docker.image = strdup("debian:12");
	strvec_push(&r->docker.volumes, "/cache");
	strvec_push(&r->docker.pull_policy, "if-not-present");
	r->feature_flags.items = calloc(1, sizeof(*r->feature_flags.items));
	r->feature_flags.items[0].name = strdup("FF_USE_FASTZIP");
	r->feature_flags.items[0].value = true;
	r->feature_flags.nr = 1;
}

static void check_new_runner(const struct runner_config *r)
{
	assert_string_equal(r->name, "new-runner");
	assert_string_equal(r->url, "https://gitlab.example.com");
	assert_int_equal(r->id, 99);
	assert_string_equal(r->token, "glrt-NEWTOKENabcdefghij");
	assert_int_equal(r->token_obtained_at, 1714521600);
	assert_int_equal(r->token_expires_at, 0);
	assert_string_equal(r->executor, "docker");
	assert_int_equal(r->limit, 3);
	assert_int_equal(r->output_limit, 4096);
	assert_list(&r->environment, LIST("FOO=bar"));
	assert_true(r->cache.present);
	assert_true(r->docker.present);
	assert_string_equal(r->docker.image, "debian:12");
	assert_list(&r->docker.volumes, LIST("/cache"));
	assert_list(&r->docker.pull_policy, LIST("if-not-present"));
	assert_true(runner_feature_flag(r, "FF_USE_FASTZIP", false));
	assert_false(r->custom.present);
}

static void test_round_trip_add_runner(void **state)
{
	struct config cfg, again;
	struct runner_config r;
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct stat st;

	(void)state;
	copy_fixture("full.toml", "config.toml");
	{
		/* An unknown key in the file must survive the rewrite. */
		struct buf b = BUF_INIT;

		read_file("config.toml", &b);
		buf_addstr(&b, "    future_key = \"keep me\"\n");
		write_file("config.toml", b.data);
		buf_release(&b);
	}
	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	assert_int_equal(cfg.warnings.nr, 5);
	assert_string_equal(cfg.warnings.v[3], FULL_NO_EFFECT_5);
	assert_string_equal(cfg.warnings.v[4],
		"config.toml:118: unknown key 'future_key' in [runners.custom] (ignored)");

	make_new_runner(&r);
	assert_int_equal(config_runner_add(&cfg, &r), 0);
	runner_config_release(&r);	/* cfg holds its own copy */
	assert_sane_config(&cfg);
	assert_int_equal(cfg.nr_runners, 4);
	check_new_runner(cfg.runners[3]);
	assert_int_equal(config_save(&cfg, &err), 0);
	assert_string_equal(err.data, "");
	config_release(&cfg);

	assert_int_equal(stat("config.toml", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(config_load("config.toml", &again, &err), 0);
	assert_string_equal(err.data, "");
	assert_int_equal(again.nr_runners, 4);
	check_full_globals(&again);
	check_docker_runner(again.runners[0]);
	check_shell_runner(again.runners[1]);
	check_custom_runner(again.runners[2]);
	check_new_runner(again.runners[3]);
	assert_int_equal(again.warnings.nr, 5);
	assert_non_null(strstr(again.warnings.v[4],
			       "'future_key' in [runners.custom]"));
	config_release(&again);

	/* gitlab-runner's names and spellings in the written file. */
	read_file("config.toml", &text);
	assert_non_null(strstr(text.data, "future_key = \"keep me\""));
	assert_non_null(strstr(text.data, "unhealthy_interval = \"30m\""));
	assert_non_null(strstr(text.data,
			       "token_expires_at = 0001-01-01T00:00:00Z"));
	assert_non_null(strstr(text.data,
			       "token_obtained_at = 2024-05-01T00:00:00Z"));
	assert_non_null(strstr(text.data, "FF_USE_FASTZIP = true"));
	buf_release(&text);
	buf_release(&err);
}

/* The keys of a new runner come in gitlab-runner's order. */
static void test_new_runner_key_order(void **state)
{
	struct config cfg;
	struct runner_config r;
	struct buf err = BUF_INIT, text = BUF_INIT;
	static const char *const order[] = {
		"name = ", "limit = ", "url = ", "id = ", "token = ",
		"token_obtained_at = ", "token_expires_at = ", "executor = ",
		"environment = ", "image = ", NULL
	};
	const char *p;
	size_t i;

	(void)state;
	config_default(&cfg, "config.toml");
	make_new_runner(&r);
	assert_int_equal(config_runner_add(&cfg, &r), 0);
	runner_config_release(&r);
	assert_int_equal(config_save(&cfg, &err), 0);
	config_release(&cfg);
	read_file("config.toml", &text);
	for (p = text.data, i = 0; order[i]; i++) {
		const char *at = strstr(p, order[i]);

		if (!at)
			fail_msg("'%s' missing or out of order in:\n%s",
				 order[i], text.data);
		p = at;
	}
	/* Defaults gitlab-runner omits are not written. */
	assert_null(strstr(text.data, "output_limit"));
	assert_null(strstr(text.data, "request_concurrency"));
	assert_null(strstr(text.data, "unhealthy_interval"));
	assert_null(strstr(text.data, "services_privileged"));
	buf_release(&text);
	buf_release(&err);
}

static void test_default_config_saves_and_loads(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT, text = BUF_INIT;

	(void)state;
	config_default(&cfg, "sub/dir/config.toml");
	assert_sane_config(&cfg);
	assert_default_globals(&cfg);
	assert_int_equal(config_save(&cfg, &err), 0);
	config_release(&cfg);
	read_file("sub/dir/config.toml", &text);
	assert_non_null(strstr(text.data, "concurrent = 1"));
	assert_non_null(strstr(text.data, "connection_max_age = \"15m0s\""));
	assert_non_null(strstr(text.data, "session_timeout = 1800"));
	assert_int_equal(config_load("sub/dir/config.toml", &cfg, &err), 0);
	assert_default_globals(&cfg);
	assert_true(cfg.session_server.present);
	assert_int_equal(cfg.warnings.nr, 0);
	config_release(&cfg);
	buf_release(&text);
	buf_release(&err);
}

static void test_remove_runner(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	copy_fixture("full.toml", "config.toml");
	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	assert_int_equal(config_runner_remove(&cfg, 3), CR_ERR_NOT_FOUND);
	assert_int_equal(config_runner_remove(&cfg, 1), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.nr_runners, 2);
	assert_string_equal(cfg.runners[1]->name, "custom-runner");
	assert_int_equal(config_save(&cfg, &err), 0);
	config_release(&cfg);

	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	assert_int_equal(cfg.nr_runners, 2);
	check_docker_runner(cfg.runners[0]);
	check_custom_runner(cfg.runners[1]);
	assert_int_equal(config_runner_remove(&cfg, 0), 0);
	assert_int_equal(config_runner_remove(&cfg, 0), 0);
	assert_sane_config(&cfg);
	assert_int_equal(cfg.nr_runners, 0);
	assert_null(toml_table_get(cfg.tree, "runners"));
	config_release(&cfg);
	buf_release(&err);
}

/* Token rotation: only changed keys change; the rest keep their spelling. */
static void test_sync_rotated_token(void **state)
{
	struct config cfg;
	struct runner_config *r;
	struct buf err = BUF_INIT, text = BUF_INIT;
	size_t index = 99;

	(void)state;
	copy_fixture("full.toml", "config.toml");
	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	r = config_find_runner_by_token(&cfg, "https://gitlab.example.com",
					"glrt-ZyXwVuTsRqPoNmLk", &index);
	assert_non_null(r);
	assert_int_equal(index, 1);
	free_secret(r->token);
	r->token = strdup("glrt-ROTATEDrotated123");
	r->token_obtained_at = 1717243200;
	r->token_expires_at = 1725192000;
	assert_int_equal(config_runner_sync(&cfg, index), 0);

	/* A value the loader would refuse is not written. */
	r = cfg.runners[0];
	free(r->shell);
	r->shell = strdup("zsh");
	assert_int_equal(config_runner_sync(&cfg, 0), CR_ERR_INVALID);
	assert_int_equal(config_runner_check(r, &err), CR_ERR_INVALID);
	assert_string_equal(err.data,
		"'shell' in [[runners]] must be one of bash, sh, pwsh, "
		"powershell, cmd, not \"zsh\"");
	buf_reset(&err);

	assert_int_equal(config_save(&cfg, &err), 0);
	config_release(&cfg);
	read_file("config.toml", &text);
	assert_non_null(strstr(text.data,
			       "token = \"glrt-ROTATEDrotated123\""));
	assert_non_null(strstr(text.data,
			       "token_expires_at = 2024-09-01T12:00:00Z"));
	assert_null(strstr(text.data, "glrt-ZyXwVuTsRqPoNmLk"));
	/* Untouched runners keep what the file said. */
	assert_non_null(strstr(text.data, "executor = \"docker\""));
	assert_non_null(strstr(text.data, "check_interval = 0"));
	assert_non_null(strstr(text.data, "unhealthy_interval = \"30m\""));
	assert_non_null(strstr(text.data,
			"token_obtained_at = 2023-12-31T23:59:59+01:00"));
	buf_release(&text);

	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	assert_string_equal(cfg.runners[1]->token, "glrt-ROTATEDrotated123");
	assert_int_equal(cfg.runners[1]->token_expires_at, 1725192000);
	assert_null(config_find_runner_by_token(&cfg,
			"https://gitlab.example.com", "glrt-ZyXwVuTsRqPoNmLk",
			NULL));
	config_release(&cfg);
	buf_release(&err);
}

static void test_find_runner(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	size_t index = 99;

	(void)state;
	copy_fixture("full.toml", "config.toml");
	assert_int_equal(config_load("config.toml", &cfg, &err), 0);
	assert_ptr_equal(config_find_runner(&cfg, "custom-runner", &index),
			 cfg.runners[2]);
	assert_int_equal(index, 2);
	assert_null(config_find_runner(&cfg, "nobody", NULL));
	assert_null(config_find_runner(&cfg, NULL, NULL));
	/* URL must match exactly, as gitlab-runner's SameAs. */
	assert_null(config_find_runner_by_token(&cfg,
			"https://gitlab.example.com",
			"glrt-t1_AbCdEfGhIjKlMnOpQrSt", NULL));
	assert_ptr_equal(config_find_runner_by_token(&cfg,
			 "https://gitlab.example.com/",
			 "glrt-t1_AbCdEfGhIjKlMnOpQrSt", NULL), cfg.runners[0]);
	config_release(&cfg);
	buf_release(&err);
}

/* --- value syntaxes --- */

static void test_short_token(void **state)
{
	char out[RUNNER_SHORT_TOKEN_SIZE];

	(void)state;
	assert_string_equal(runner_short_token("glrt-AbCdEfGhIjKlMnOp", out),
			    "AbCdEfGhI");
	assert_string_equal(runner_short_token("glrt-t1_AbCdEfGhIjKl", out),
			    "AbCdEfGhI");
	assert_string_equal(runner_short_token("t2_AbCdEfGhIjKl", out),
			    "AbCdEfGhI");
	assert_string_equal(runner_short_token("glrtr-AbCdEfGhIjKl", out),
			    "AbCdEfGhI");
	assert_string_equal(runner_short_token("glcbt-AbCdEfGhIjKl", out),
			    "AbCdEfGhI");
	assert_string_equal(runner_short_token("GR1348941aBcDeFgHiJk", out),
			    "aBcDeFgHi");
	assert_string_equal(runner_short_token("GRnothexatallxx", out),
			    "GRnothexa");
	assert_string_equal(runner_short_token("abcdef0123456789", out),
			    "abcdef012");
	assert_string_equal(runner_short_token("short", out), "short");
	assert_string_equal(runner_short_token("", out), "");
	assert_string_equal(runner_short_token(NULL, out), "");
}

static void test_durations(void **state)
{
	static const struct { const char *in; int64_t ms; } ok[] = {
		{ "0", 0 }, { "15m", 900000 }, { "1h30m", 5400000 },
		{ "1.5h", 5400000 }, { "10s", 10000 }, { "300ms", 300 },
		{ "+2m", 120000 }, { "-1s", -1000 }, { "1h0m0s", 3600000 },
		{ "1500us", 1 }, { "1500\xc2\xb5s", 1 }, { ".5s", 500 },
		{ "2562047h", INT64_C(9223369200000) },
	};
	static const char *const bad[] = {
		"", "15", "1x", "1h30min", "h", ".s", "--1s", "1 h",
		"9999999999h", "15 minutes",
	};
	static const struct { int64_t ms; const char *out; } fmt[] = {
		{ 0, "0s" }, { 900000, "15m0s" }, { 3600000, "1h0m0s" },
		{ 1500, "1.5s" }, { 500, "500ms" }, { 90000, "1m30s" },
		{ 5400250, "1h30m0.25s" }, { -2000, "-2s" },
	};
	struct buf b = BUF_INIT;
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (config_parse_duration(ok[i].in, &ms))
			fail_msg("'%s' did not parse", ok[i].in);
		if (ms != ok[i].ms)
			fail_msg("'%s': want %lld ms, got %lld", ok[i].in,
				 (long long)ok[i].ms, (long long)ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (config_parse_duration(bad[i], &ms) != CR_ERR_INVALID)
			fail_msg("'%s' parsed", bad[i]);
	for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		buf_reset(&b);
		assert_int_equal(config_format_duration(fmt[i].ms, &b), 0);
		assert_string_equal(b.data, fmt[i].out);
		assert_int_equal(config_parse_duration(b.data, &ms), 0);
		assert_int_equal(ms, fmt[i].ms);
	}
	buf_release(&b);
}

static void test_ram_sizes(void **state)
{
	int64_t n;

	(void)state;
	assert_int_equal(config_parse_ram_size("128m", &n), 0);
	assert_int_equal(n, 128 << 20);
	assert_int_equal(config_parse_ram_size("2g", &n), 0);
	assert_int_equal(n, INT64_C(2) << 30);
	assert_int_equal(config_parse_ram_size("1.5GiB", &n), 0);
	assert_int_equal(n, INT64_C(3) << 29);
	assert_int_equal(config_parse_ram_size("512 kb", &n), 0);
	assert_int_equal(n, 512 << 10);
	assert_int_equal(config_parse_ram_size("4096", &n), 0);
	assert_int_equal(n, 4096);
	assert_int_equal(config_parse_ram_size("lots", &n), CR_ERR_INVALID);
	assert_int_equal(config_parse_ram_size("1x", &n), CR_ERR_INVALID);
	assert_int_equal(config_parse_ram_size("1.", &n), CR_ERR_INVALID);
	assert_int_equal(config_parse_ram_size("", &n), CR_ERR_INVALID);
}

/* A duration given as an integer is nanoseconds, as in gitlab-runner. */
static void test_duration_integer_is_nanoseconds(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("connection_max_age = 60000000000\n",
				   &cfg, &err), 0);
	assert_int_equal(cfg.connection_max_age_ms, 60000);
	config_release(&cfg);
	buf_release(&err);
}

/*
 * Keys as gitlab-runner's TOML decoder (BurntSushi/toml) matches them to
 * its struct fields: the exact name first, else ignoring case; map keys
 * (feature flags) stay exact.  A rewrite keeps the file's spelling.
 */
static void test_keys_match_ignoring_case(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT, text = BUF_INIT;

	(void)state;
	assert_int_equal(load_text("Concurrent = 4\n"
				   "CHECK_INTERVAL = 7\n"
				   "[[Runners]]\n"
				   "  Name = \"r\"\n"
				   "  URL = \"https://gitlab.example.com\"\n"
				   "  Token = \"glrt-abc\"\n"
				   "  executor = \"shell\"\n"
				   "  Executor = \"docker\"\n"
				   "  [Runners.Cache]\n"
				   "    type = \"s3\"\n"
				   "    [Runners.Cache.s3]\n"
				   "      bucketname = \"b\"\n"
				   "  [Runners.feature_flags]\n"
				   "    ff_use_fastzip = true\n",
				   &cfg, &err), 0);
	assert_string_equal(err.data, "");
	assert_int_equal(cfg.concurrent, 4);
	assert_int_equal(cfg.check_interval, 7);
	assert_int_equal(cfg.nr_runners, 1);
	assert_string_equal(cfg.runners[0]->name, "r");
	assert_string_equal(cfg.runners[0]->url, "https://gitlab.example.com");
	/* Both spellings name one field: the later one is what it holds. */
	assert_string_equal(cfg.runners[0]->executor, "docker");
	assert_string_equal(cfg.runners[0]->cache.type, "s3");
	assert_string_equal(cfg.runners[0]->cache.s3.bucket_name, "b");
	/* Map keys are not folded: the lower-case flag is unknown. */
	assert_int_equal(cfg.warnings.nr, 1);
	assert_non_null(strstr(cfg.warnings.v[0], "'ff_use_fastzip'"));

	/* A changed value is written under the file's spelling, once. */
	free(cfg.runners[0]->token);
	cfg.runners[0]->token = xstrdup("glrt-new");
	assert_int_equal(config_runner_sync(&cfg, 0), 0);
	assert_int_equal(config_save(&cfg, &err), 0);
	config_release(&cfg);
	read_file("config.toml", &text);
	assert_non_null(strstr(text.data, "Token = \"glrt-new\""));
	assert_null(strstr(text.data, "\ntoken ="));
	assert_null(strstr(text.data, " token ="));
	assert_null(strstr(text.data, "[[runners]]"));
	assert_int_equal(load_text(text.data, &cfg, &err), 0);
	assert_string_equal(cfg.runners[0]->token, "glrt-new");
	assert_string_equal(cfg.runners[0]->cache.type, "s3");
	config_release(&cfg);
	buf_release(&text);
	buf_release(&err);
}

/* Go's os.ExpandEnv, case by case (os/env.go's Expand and getShellName). */
static void test_expand_env(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "plain", "plain" },
		{ "$CRT_A", "alpha" },
		{ "${CRT_A}x", "alphax" },
		{ "$CRT_Ax", "" },		/* the name is CRT_Ax, unset */
		{ "a-$CRT_A-b", "a-alpha-b" },
		{ "${CRT_UNSET}", "" },
		{ "cost $", "cost $" },		/* a '$' at the end stays */
		{ "a $ b", "a $ b" },		/* no name: the '$' stays */
		{ "x${}y", "xy" },		/* bad syntax, eaten */
		{ "x${CRT_A", "xCRT_A" },	/* unclosed: "${" eaten */
		{ "$1x", "x" },			/* a special one-char name */
		{ "${-}", "" },
		{ "$$", "" },
	};
	size_t i;

	(void)state;
	setenv("CRT_A", "alpha", 1);
	unsetenv("CRT_UNSET");
	unsetenv("CRT_Ax");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = config_expand_env(cases[i].in);

		print_message("%s -> %s\n", cases[i].in, got);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

/* A runner's token and url are expanded at load, nothing else is. */
/* services_devices: a table of string arrays (CT_LISTMAP). */
static void test_services_devices(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	const struct config_listmap *m;

	(void)state;
	assert_int_equal(load_text("[[runners]]\n"
				   "  name = \"d\"\n"
				   "  executor = \"docker\"\n"
				   "  [runners.docker]\n"
				   "    [runners.docker.services_devices]\n"
				   "      \"registry.example.com/gpu/*\" = [\"/dev/nvidia0\", \"/dev/nvidiactl:/dev/nvidiactl:rw\"]\n"
				   "      \"postgres:*\" = []\n",
				   &cfg, &err), 0);
	assert_int_equal(cfg.warnings.nr, 0);
	m = &cfg.runners[0]->docker.services_devices;
	assert_int_equal(m->nr, 2);
	assert_string_equal(m->items[0].key, "registry.example.com/gpu/*");
	assert_int_equal(m->items[0].values.nr, 2);
	assert_string_equal(m->items[0].values.v[0], "/dev/nvidia0");
	assert_string_equal(m->items[0].values.v[1],
			    "/dev/nvidiactl:/dev/nvidiactl:rw");
	assert_string_equal(m->items[1].key, "postgres:*");
	assert_int_equal(m->items[1].values.nr, 0);
	config_release(&cfg);
	buf_release(&err);

	assert_load_fails("[[runners]]\n"
			  "[runners.docker]\n"
			  "services_devices = { \"a\" = \"/dev/x\" }\n",
		"config.toml:3: 'services_devices' in [runners.docker] must be a table of string arrays, not \"/dev/x\"");
	assert_load_fails("[[runners]]\n"
			  "[runners.docker]\n"
			  "services_devices = [\"/dev/x\"]\n",
		"config.toml:3: 'services_devices' in [runners.docker] must be a table of string arrays, not an array");
}

static void test_token_and_url_expanded(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;

	(void)state;
	setenv("CRT_TOKEN", "glrt-from-env", 1);
	setenv("CRT_HOST", "gitlab.example.com", 1);
	assert_int_equal(load_text("[[runners]]\n"
				   "  name = \"$CRT_HOST\"\n"
				   "  url = \"https://${CRT_HOST}/\"\n"
				   "  token = \"$CRT_TOKEN\"\n"
				   "  executor = \"shell\"\n"
				   "  builds_dir = \"/b/$CRT_HOST\"\n",
				   &cfg, &err), 0);
	assert_string_equal(cfg.runners[0]->url, "https://gitlab.example.com/");
	assert_string_equal(cfg.runners[0]->token, "glrt-from-env");
	assert_string_equal(cfg.runners[0]->name, "$CRT_HOST");
	assert_string_equal(cfg.runners[0]->builds_dir, "/b/$CRT_HOST");
	config_release(&cfg);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_empty_file_gives_defaults),
		T(test_runner_defaults),
		T(test_zero_means_default),
		T(test_empty_string_is_unset),
		T(test_inline_runners),
		T(test_full_file),
		T(test_unknown_keys_warn_with_line),
		T(test_no_effect_keys_warn),
		T(test_labels_computed),
		T(test_labels_invalid),
		T(test_unknown_executor_is_a_warning),
		T(test_feature_flags),
		T(test_wrong_type_names_file_line_key),
		T(test_bad_enum_value),
		T(test_bad_duration),
		T(test_environment_needs_equals),
		T(test_toml_syntax_error_is_reported),
		T(test_missing_file),
		T(test_failed_load_leaves_file_untouched),
		T(test_round_trip_add_runner),
		T(test_new_runner_key_order),
		T(test_default_config_saves_and_loads),
		T(test_remove_runner),
		T(test_sync_rotated_token),
		T(test_find_runner),
		T(test_short_token),
		T(test_durations),
		T(test_ram_sizes),
		T(test_duration_integer_is_nanoseconds),
		T(test_keys_match_ignoring_case),
		T(test_expand_env),
		T(test_token_and_url_expanded),
		T(test_services_devices),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
