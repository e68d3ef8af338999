/*
 * gitlab-runner 19.4's feature flags (helpers/featureflags/flags.go), each
 * with its default there and what crunner does with it.  Every name is
 * accepted in [runners.feature_flags]; one set to anything but its default
 * that crunner does not act on is a "has no effect in crunner" warning, a
 * name gitlab-runner does not have either is an unknown-key warning.
 * docs/config-no-effect.md lists them all (docs/gen_config_doc.c).
 */
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/banned.h"

#define HONOURED(n, d) { n, d, CONFIG_FF_HONOURED, NULL }
#define NO_EFFECT(n, d) { n, d, CONFIG_FF_NO_EFFECT, NULL }
/* For what crunner does not have at all: the flag cannot apply. */
#define ELSEWHERE(n, d, what) { n, d, CONFIG_FF_NO_EFFECT, what }

static const struct config_feature_flag flags[] = {
	HONOURED("FF_NETWORK_PER_BUILD", false),
	HONOURED("FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", false),
	/* Dependency downloads' first attempt (job/stage_artifacts.c). */
	HONOURED("FF_USE_DIRECT_DOWNLOAD", true),
	/* ARTIFACT_ and CACHE_COMPRESSION_LEVEL (job/stage_artifacts.c). */
	HONOURED("FF_USE_FASTZIP", true),
	HONOURED("FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR", false),
	HONOURED("FF_ENABLE_BASH_EXIT_CODE_CHECK", false),
	ELSEWHERE("FF_USE_WINDOWS_LEGACY_PROCESS_STRATEGY", false,
		  "Windows support"),
	HONOURED("FF_USE_LEGACY_BASH_EVAL", false),
	ELSEWHERE("FF_USE_POWERSHELL_PATH_RESOLVER", false,
		  "PowerShell support"),
	HONOURED("FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL", false),
	HONOURED("FF_SCRIPT_SECTIONS", false),
	HONOURED("FF_ENABLE_JOB_CLEANUP", false),
	HONOURED("FF_KUBERNETES_HONOR_ENTRYPOINT", false),
	/* The step scripts' quoting (job/script.h SCRIPT_POSIX_ESCAPES). */
	HONOURED("FF_POSIXLY_CORRECT_ESCAPES", false),
	/* The job's CI_SERVER_TLS_CA_FILE (gitlab/tls_chain_resolve.h). */
	HONOURED("FF_RESOLVE_FULL_TLS_CHAIN", false),
	ELSEWHERE("FF_DISABLE_POWERSHELL_STDIN", false,
		  "PowerShell support"),
	HONOURED("FF_USE_POD_ACTIVE_DEADLINE_SECONDS", true),
	HONOURED("FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", false),
	/* A missing secret fails the job (job/stage_secrets.c). */
	HONOURED("FF_SECRET_RESOLVING_FAILS_IF_MISSING", true),
	HONOURED("FF_PRINT_POD_EVENTS", false),
	HONOURED("FF_USE_GIT_BUNDLE_URIS", true),
	/* git clone for GIT_STRATEGY clone, git 2.49+ (job/stage_sources.c). */
	HONOURED("FF_USE_GIT_NATIVE_CLONE", false),
	HONOURED("FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR", false),
	HONOURED("FF_USE_INIT_WITH_DOCKER_EXECUTOR", false),
	HONOURED("FF_LOG_IMAGES_CONFIGURED_FOR_JOB", false),
	HONOURED("FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO", true),
	HONOURED("FF_CLEAN_UP_FAILED_CACHE_EXTRACT", false),
	ELSEWHERE("FF_USE_WINDOWS_JOB_OBJECT", false, "Windows support"),
	HONOURED("FF_TIMESTAMPS", true),
	HONOURED("FF_DISABLE_AUTOMATIC_TOKEN_ROTATION", false),
	/* The cache's GCS credentials and host (job/stage_cache.c). */
	HONOURED("FF_USE_LEGACY_GCS_CACHE_ADAPTER", false),
	HONOURED("FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR", false),
	/* The legacy adapter's signing and headers (job/stage_cache.c). */
	HONOURED("FF_USE_LEGACY_S3_CACHE_ADAPTER", false),
	HONOURED("FF_GIT_URLS_WITHOUT_TOKENS", false),
	HONOURED("FF_WAIT_FOR_POD_TO_BE_REACHABLE", false),
	HONOURED("FF_MASK_ALL_DEFAULT_TOKENS", true),
	/* Stage durations on /metrics (job/engine_stage_time.c). */
	HONOURED("FF_EXPORT_HIGH_CARDINALITY_METRICS", false),
	HONOURED("FF_USE_FLEETING_ACQUIRE_HEARTBEATS", false),
	HONOURED("FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", true),
	HONOURED("FF_USE_ADAPTIVE_REQUEST_CONCURRENCY", true),
	HONOURED("FF_USE_GITALY_CORRELATION_ID", true),
	HONOURED("FF_USE_GIT_PROACTIVE_AUTH", false),
	HONOURED("FF_HASH_CACHE_KEYS", false),
	NO_EFFECT("FF_ENABLE_JOB_INPUTS_INTERPOLATION", true),
	NO_EFFECT("FF_USE_JOB_ROUTER", false),
	NO_EFFECT("FF_SCRIPT_TO_STEP_MIGRATION", false),
	/* Ranged parallel downloads (gitlab/range_download.h). */
	HONOURED("FF_USE_PARALLEL_CACHE_TRANSFER", false),
	HONOURED("FF_USE_PARALLEL_ARTIFACT_TRANSFER", false),
	NO_EFFECT("FF_CONCRETE", false),
	NO_EFFECT("FF_SUSPENDABLE_ENVIRONMENTS", false),
	HONOURED("FF_USE_NATIVE_CONTAINER_STOP", false),
};

const struct config_feature_flag *config_feature_flags(size_t *nr)
{
	*nr = sizeof(flags) / sizeof(flags[0]);
	return flags;
}

const struct config_feature_flag *config_feature_flag_find(const char *name,
							   size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strlen(flags[i].name) == len &&
		    !memcmp(flags[i].name, name, len))
			return &flags[i];
	return NULL;
}

void config_feature_flags_check(const struct toml_value *table,
				const struct config_ctx *ctx)
{
	size_t i;

	if (!ctx->warnings || !table || table->type != TOML_TABLE)
		return;
	for (i = 0; i < table->u.table.nr; i++) {
		const struct toml_kv *kv = &table->u.table.items[i];
		const struct config_feature_flag *f =
			config_feature_flag_find(kv->key, kv->keylen);
		struct buf msg = BUF_INIT;

		if (f && (f->state == CONFIG_FF_HONOURED ||
			  kv->value->type != TOML_BOOL ||
			  kv->value->u.boolean == f->def))
			continue;
		config_add_where(&msg, ctx, kv->value->line);
		buf_addstr(&msg, f ? "feature flag '" : "unknown feature flag '");
		buf_add(&msg, kv->key, kv->keylen);
		buf_addstr(&msg, f ? "' in [runners.feature_flags] has no effect in crunner" :
			   "' in [runners.feature_flags] (ignored)");
		strvec_push_nodup(ctx->warnings, buf_detach(&msg, NULL));
	}
}
