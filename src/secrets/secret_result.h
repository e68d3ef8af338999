/*
 * What came of resolving one secret, as gitlab-runner classifies it
 * (helpers/secrets/errors.go and its resolvers' classifyError()): the
 * class picks the job's failure reason.
 */
#ifndef CR_SECRET_RESULT_H
#define CR_SECRET_RESULT_H

enum secret_outcome {
	SECRET_OK,
	SECRET_NOT_FOUND,	/* no such secret or field (ErrSecretNotFound) */
	/* refused for how the job or the provider is set up: 400, 401,
	 * 403, 404 -> runner_configuration_error */
	SECRET_CONFIG_ERROR,
	/* the provider failed (5xx) -> runner_external_dependency_failure */
	SECRET_EXTERNAL_ERROR,
	SECRET_SYSTEM_ERROR,	/* anything else -> runner_system_failure */
};

/*
 * The end of one resolution, from the loop.  value (SECRET_OK only) is the
 * callee's to wipe; error (one line, never the value) names what failed.
 */
typedef void (*secret_done_cb)(void *ctx, enum secret_outcome outcome,
			       const char *value, const char *error);

#endif
