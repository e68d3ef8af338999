/* failure_reason_map(): spec section 5.6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gitlab/failure_reason.h"
#include "util/strvec.h"

/* The newest server's list (a part of it is enough to matter here). */
static void full_list(struct strvec *sv)
{
	static const char *const reasons[] = {
		"unknown_failure", "script_failure", "api_failure",
		"stuck_or_timeout_failure", "runner_system_failure",
		"missing_dependency_failure", "runner_unsupported",
		"job_execution_timeout", "runner_configuration_error",
		"runner_external_dependency_failure", "runner_interrupted",
		NULL,
	};

	strvec_init(sv);
	strvec_pushv(sv, (const char **)reasons);
}

static void test_empty_is_script_failure(void **state)
{
	struct strvec sv;

	(void)state;
	full_list(&sv);
	assert_string_equal(failure_reason_map(NULL, &sv), "script_failure");
	assert_string_equal(failure_reason_map("", &sv), "script_failure");
	assert_string_equal(failure_reason_map("", NULL), "script_failure");
	strvec_clear(&sv);
}

static void test_always_supported_without_list(void **state)
{
	(void)state;
	assert_string_equal(failure_reason_map("script_failure", NULL),
			    "script_failure");
	assert_string_equal(failure_reason_map("runner_system_failure", NULL),
			    "runner_system_failure");
	assert_string_equal(failure_reason_map("job_execution_timeout", NULL),
			    "job_execution_timeout");
}

static void test_listed_reason_kept(void **state)
{
	struct strvec sv;

	(void)state;
	full_list(&sv);
	assert_string_equal(failure_reason_map("runner_configuration_error", &sv),
			    "runner_configuration_error");
	assert_string_equal(failure_reason_map("runner_interrupted", &sv),
			    "runner_interrupted");
	assert_string_equal(failure_reason_map("runner_external_dependency_failure", &sv),
			    "runner_external_dependency_failure");
	strvec_clear(&sv);
}

static void test_compat_map_on_old_server(void **state)
{
	(void)state;
	/* An old server lists none of the newer reasons. */
	assert_string_equal(failure_reason_map("image_pull_failure", NULL),
			    "runner_system_failure");
	assert_string_equal(failure_reason_map("runner_configuration_error", NULL),
			    "script_failure");
	assert_string_equal(failure_reason_map("runner_external_dependency_failure", NULL),
			    "runner_system_failure");
}

static void test_image_pull_failure_never_sent(void **state)
{
	struct strvec sv;

	(void)state;
	full_list(&sv);
	/* Not in the server enum: mapped even on the newest server. */
	assert_string_equal(failure_reason_map("image_pull_failure", &sv),
			    "runner_system_failure");
	strvec_clear(&sv);
}

static void test_unknown_reasons(void **state)
{
	struct strvec sv;

	(void)state;
	full_list(&sv);
	assert_string_equal(failure_reason_map("job_canceled", &sv),
			    "unknown_failure");
	assert_string_equal(failure_reason_map("runner_interrupted", NULL),
			    "unknown_failure");
	assert_string_equal(failure_reason_map("no_such_reason", NULL),
			    "unknown_failure");
	strvec_clear(&sv);
}

static void test_listed_unknown_to_runner(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	strvec_push(&sv, "api_failure");
	/* Whatever the job's server lists is sent as it is. */
	assert_string_equal(failure_reason_map("api_failure", &sv),
			    "api_failure");
	strvec_clear(&sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_script_failure),
		cmocka_unit_test(test_always_supported_without_list),
		cmocka_unit_test(test_listed_reason_kept),
		cmocka_unit_test(test_compat_map_on_old_server),
		cmocka_unit_test(test_image_pull_failure_never_sent),
		cmocka_unit_test(test_unknown_reasons),
		cmocka_unit_test(test_listed_unknown_to_runner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
