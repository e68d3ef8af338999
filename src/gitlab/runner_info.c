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
	gl_features_set_network(f);
	/* What the job engine and the shell executor do today. */
	f->variables = true;
	f->shared = true;
	f->refspecs = true;
	f->masking = true;
	f->raw_variables = true;
	f->multi_build_steps = true;
	f->return_exit_code = true;
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
