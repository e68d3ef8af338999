/*
 * The failure_reason sent in the final job update (spec 5.6): a runner-side
 * reason mapped to one the server knows.
 */
#ifndef CR_GL_FAILURE_REASON_H
#define CR_GL_FAILURE_REASON_H

#include <stddef.h>

struct strvec;

/* Runner-side reasons (gitlab-runner's JobFailureReason values). */
#define FAILURE_SCRIPT "script_failure"
#define FAILURE_RUNNER_SYSTEM "runner_system_failure"
#define FAILURE_JOB_EXECUTION_TIMEOUT "job_execution_timeout"
#define FAILURE_IMAGE_PULL "image_pull_failure"
#define FAILURE_UNKNOWN "unknown_failure"
#define FAILURE_RUNNER_CONFIGURATION "runner_configuration_error"
#define FAILURE_EXTERNAL_DEPENDENCY "runner_external_dependency_failure"
#define FAILURE_RUNNER_INTERRUPTED "runner_interrupted"
#define FAILURE_JOB_CANCELED "job_canceled"	/* internal only */

/*
 * Maps reason for a job whose payload listed supported
 * (features.failure_reasons; NULL or empty: only the always-supported
 * ones):
 *  1. NULL or "" -> script_failure;
 *  2. listed in supported, or one of script_failure, runner_system_failure,
 *     job_execution_timeout -> reason itself;
 *  3. else follow the compatibility map (image_pull_failure and
 *     runner_external_dependency_failure -> runner_system_failure,
 *     runner_configuration_error -> script_failure), up to 10 hops, each
 *     result checked as in 2;
 *  4. else unknown_failure.
 * Returns reason itself or a static string.
 */
const char *failure_reason_map(const char *reason,
			       const struct strvec *supported);

#endif
