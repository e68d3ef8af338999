#include <string.h>

#include "config/config.h"
#include "gitlab/runner_info.h"
#include "util/banned.h"

void runner_info_init(struct gl_info *info, const struct runner_config *rc)
{
	struct gl_features *f = &info->features;

	memset(info, 0, sizeof(*info));
	info->executor = rc->executor ? rc->executor : "shell";
	info->shell = rc->shell ? rc->shell : "bash";
	/* gitlab-runner's getRunnerInfo: Labels = ComputedLabels(). */
	info->labels = (const char *const *)rc->computed_labels;
	info->nr_labels = rc->nr_computed_labels;
	gl_features_set_network(f);
	/* What the job engine and the shell executor do today. */
	f->variables = true;
	f->shared = true;
	f->refspecs = true;
	f->masking = true;
	f->raw_variables = true;
	f->multi_build_steps = true;
	f->return_exit_code = true;
	/* Job secrets from Vault (job/stage_secrets.c), as gitlab-runner's
	 * shells announce it for every executor. */
	f->vault_secrets = true;
	/* Artifacts and the local cache (job/stage_artifacts.c, stage_cache.c). */
	f->artifacts = true;
	f->upload_multiple_artifacts = true;
	f->upload_raw_artifacts = true;
	f->artifacts_exclude = true;
	f->cache = true;
	f->fallback_cache_keys = true;
	/*
	 * gitlab-runner's custom executor adds variables and shared (set above
	 * for every executor); image and services stay off: a driver sees them
	 * only through CUSTOM_ENV_CI_JOB_IMAGE and CUSTOM_ENV_CI_JOB_SERVICES.
	 */
	if (!strcmp(info->executor, "custom")) {
		f->variables = true;
		f->shared = true;
		f->image = false;
		f->services = false;
	}
	/* The docker executor runs the job's image (services: not yet). */
	if (!strcmp(info->executor, "docker"))
		f->image = true;
}

void runner_http_options(struct gl_http_options *http,
			 const struct runner_config *rc,
			 long connection_max_age_s)
{
	memset(http, 0, sizeof(*http));
	http->ca_file = rc->tls_ca_file;
	http->cert_file = rc->tls_cert_file;
	http->key_file = rc->tls_key_file;
	http->connection_max_age_s = connection_max_age_s;
}
