/*
 * [runners.autoscaler] and [runners.instance]: gitlab-runner's key names
 * and defaults, plugin_config as Go's json.Marshal writes it, and a
 * runner copied through its TOML table keeping every autoscaler value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

#include "config_text.h"

#define RUNNER_HEAD \
	"[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example\"\n" \
	"  token = \"glrt-abc\"\n  executor = \"instance\"\n"

static void test_defaults(void **state)
{
	struct config cfg;
	const struct config_autoscaler *as;

	(void)state;
	load(RUNNER_HEAD "  [runners.autoscaler]\n    plugin = \"static\"\n",
	     &cfg);
	assert_int_equal(cfg.nr_runners, 1);
	as = &cfg.runners[0]->autoscaler;
	assert_true(as->present);
	assert_string_equal(as->plugin, "static");
	assert_null(as->plugin_config_json);
	assert_int_equal(as->capacity_per_instance, 0);
	assert_int_equal(as->max_use_count, 0);
	assert_int_equal(as->max_instances, 0);
	assert_int_equal(as->instance_acquire_timeout_ms, 15 * 60 * 1000);
	assert_int_equal(as->update_interval_ms, 60 * 1000);
	assert_int_equal(as->update_interval_when_expecting_ms, 2000);
	assert_int_equal(as->deletion_retry_interval_ms, 60 * 1000);
	assert_int_equal(as->shutdown_deletion_interval_ms, 10 * 1000);
	assert_int_equal(as->shutdown_deletion_retries, 3);
	assert_int_equal(as->failure_threshold, 3);
	assert_int_equal(as->reservation_throttling, CONFIG_UNSET);
	assert_false(as->delete_instances_on_shutdown);
	assert_false(as->state_storage.enabled);
	assert_int_equal(as->nr_policy, 0);
	assert_false(cfg.runners[0]->instance.present);
	/* Nothing here warns: every key acts. */
	assert_int_equal(cfg.warnings.nr, 0);
	config_release(&cfg);
}

static const char full[] = RUNNER_HEAD
	"  [runners.instance]\n"
	"    use_common_build_dir = false\n"
	"  [runners.autoscaler]\n"
	"    plugin = \"fleeting-plugin-aws\"\n"
	"    capacity_per_instance = 4\n"
	"    max_use_count = 10\n"
	"    max_instances = 7\n"
	"    instance_ready_command = \"cloud-init status --wait\"\n"
	"    instance_acquire_timeout = \"2m\"\n"
	"    update_interval = \"30s\"\n"
	"    failure_threshold = 5\n"
	"    delete_instances_on_shutdown = true\n"
	"    reservation_throttling = false\n"
	"    instance_operation_time_buckets = [10]\n"
	"    instance_readiness_time_buckets = [1, 2.5, 30]\n"
	"    [runners.autoscaler.plugin_config]\n"
	"      name = \"my <asg>\"\n"
	"      region = \"eu-west-1\"\n"
	"      ratio = 1.0\n"
	"      small = 0.0000001\n"
	"      half = 2.5\n"
	"      count = 3\n"
	"      list = [1, \"x\", true]\n"
	"      [runners.autoscaler.plugin_config.nested]\n"
	"        b = 2\n"
	"        a = 1\n"
	"    [runners.autoscaler.connector_config]\n"
	"      username = \"ec2-user\"\n"
	"      key_path = \"/etc/key.pem\"\n"
	"      use_external_addr = true\n"
	"      timeout = \"5m\"\n"
	"    [runners.autoscaler.state_storage]\n"
	"      enabled = true\n"
	"      dir = \"/var/lib/ts\"\n"
	"    [runners.autoscaler.scale_throttle]\n"
	"      limit = -1\n"
	"    [[runners.autoscaler.policy]]\n"
	"      idle_count = 2\n"
	"      idle_time = \"20m\"\n"
	"    [[runners.autoscaler.policy]]\n"
	"      periods = [\"* 8-17 * * mon-fri\"]\n"
	"      timezone = \"Europe/Berlin\"\n"
	"      idle_count = 5\n"
	"      scale_factor = 1.5\n"
	"      scale_factor_limit = 10\n"
	"      preemptive_mode = false\n";

static void assert_full(const struct config_autoscaler *as)
{
	const struct config_autoscaler_policy *p;

	assert_string_equal(as->plugin, "fleeting-plugin-aws");
	assert_int_equal(as->capacity_per_instance, 4);
	assert_int_equal(as->max_use_count, 10);
	assert_int_equal(as->max_instances, 7);
	assert_string_equal(as->instance_ready_command,
			    "cloud-init status --wait");
	assert_int_equal(as->instance_acquire_timeout_ms, 120000);
	assert_int_equal(as->update_interval_ms, 30000);
	assert_int_equal(as->failure_threshold, 5);
	assert_true(as->delete_instances_on_shutdown);
	assert_int_equal(as->reservation_throttling, CONFIG_FALSE);
	/* Integers and floats alike, as Go's []float64. */
	assert_int_equal(as->instance_operation_time_buckets.nr, 1);
	assert_true(as->instance_operation_time_buckets.v[0] == 10);
	assert_int_equal(as->instance_readiness_time_buckets.nr, 3);
	assert_true(as->instance_readiness_time_buckets.v[0] == 1);
	assert_true(as->instance_readiness_time_buckets.v[1] == 2.5);
	assert_true(as->instance_readiness_time_buckets.v[2] == 30);
	assert_int_equal(as->instance_creation_time_buckets.nr, 0);
	assert_int_equal(as->instance_life_duration_buckets.nr, 0);
	/* Sorted keys, Go's float form and HTML-safe escapes. */
	assert_string_equal(as->plugin_config_json,
			    "{\"count\":3,\"half\":2.5,\"list\":[1,\"x\",true],"
			    "\"name\":\"my \\u003casg\\u003e\","
			    "\"nested\":{\"a\":1,\"b\":2},\"ratio\":1,"
			    "\"region\":\"eu-west-1\",\"small\":1e-07}");
	assert_string_equal(as->connector_config.username, "ec2-user");
	assert_string_equal(as->connector_config.key_path, "/etc/key.pem");
	assert_true(as->connector_config.use_external_addr);
	assert_int_equal(as->connector_config.timeout_ms, 300000);
	assert_true(as->state_storage.enabled);
	assert_string_equal(as->state_storage.dir, "/var/lib/ts");
	assert_int_equal(as->scale_throttle.limit, -1);
	assert_int_equal(as->nr_policy, 2);
	p = &as->policy[0];
	assert_int_equal(p->idle_count, 2);
	assert_int_equal(p->idle_time_ms, 20 * 60 * 1000);
	assert_int_equal(p->periods.nr, 0);
	assert_int_equal(p->preemptive_mode, CONFIG_UNSET);
	p = &as->policy[1];
	assert_int_equal(p->periods.nr, 1);
	assert_string_equal(p->periods.v[0], "* 8-17 * * mon-fri");
	assert_string_equal(p->timezone, "Europe/Berlin");
	assert_int_equal(p->idle_count, 5);
	assert_true(p->scale_factor == 1.5);
	assert_int_equal(p->scale_factor_limit, 10);
	assert_int_equal(p->preemptive_mode, CONFIG_FALSE);
}

static void test_full(void **state)
{
	struct config cfg;

	(void)state;
	load(full, &cfg);
	assert_int_equal(cfg.nr_runners, 1);
	assert_true(cfg.runners[0]->instance.present);
	assert_full(&cfg.runners[0]->autoscaler);
	/* failure_threshold acts (heartbeats): no warning at all. */
	assert_int_equal(cfg.warnings.nr, 0);
	config_release(&cfg);
}

/* A runner copied through its table (register, reload) keeps it all. */
static void test_round_trip(void **state)
{
	struct config cfg, again;
	struct buf err = BUF_INIT;

	(void)state;
	load(full, &cfg);
	assert_int_equal(config_runner_add(&cfg, cfg.runners[0]), 0);
	assert_int_equal(cfg.nr_runners, 2);
	assert_full(&cfg.runners[1]->autoscaler);
	if (config_save(&cfg, &err))
		fail_msg("config_save: %s", err.data);
	assert_int_equal(config_load(cfg.path, &again, &err), 0);
	assert_int_equal(again.nr_runners, 2);
	assert_full(&again.runners[1]->autoscaler);
	buf_release(&err);
	config_release(&again);
	config_release(&cfg);
}

static void test_bad_values(void **state)
{
	struct config cfg;
	struct buf err = BUF_INIT;
	char path[128];

	(void)state;
	config_text_write(RUNNER_HEAD "  [runners.autoscaler]\n"
			  "    [[runners.autoscaler.policy]]\n"
			  "      scale_factor = \"lots\"\n", path, sizeof(path));
	assert_int_not_equal(config_load(path, &cfg, &err), 0);
	assert_non_null(strstr(err.data, "scale_factor"));
	assert_non_null(strstr(err.data, "must be a number"));
	buf_reset(&err);
	config_text_write(RUNNER_HEAD "  [runners.autoscaler]\n"
			  "    instance_life_duration_buckets = [60, \"1h\"]\n",
			  path, sizeof(path));
	assert_int_not_equal(config_load(path, &cfg, &err), 0);
	assert_non_null(strstr(err.data, "instance_life_duration_buckets"));
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_values),
	};

	return cmocka_run_group_tests(tests, config_dir_setup,
				      config_dir_teardown);
}
