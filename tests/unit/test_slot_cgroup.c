/*
 * use_slot_cgroups (src/config/slot_cgroup.c): the cgroup name of an
 * autoscaler slot from slot_cgroup_template and [runners.docker]
 * service_slot_cgroup_template as gitlab-runner's GetSlotCgroupPath and
 * GetServiceSlotCgroupPath expand them (os.Expand), and the load-time
 * warning of validateSlotCgroupTemplate for a template without ${slot}.
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
#include "util/strvec.h"

#include "config_text.h"

#define RUNNER_HEAD \
	"[[runners]]\n  name = \"a\"\n  url = \"https://gitlab.example\"\n" \
	"  token = \"glrt-abc\"\n  executor = \"docker-autoscaler\"\n"

/* The cgroup for slot (service or not), checked and freed. */
static void assert_cgroup(const struct runner_config *rc, int slot,
			  bool service, const char *want)
{
	char *got = config_slot_cgroup(rc, slot, service);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static size_t count_warnings(const struct config *cfg, const char *needle)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->warnings.nr; i++)
		n += strstr(cfg->warnings.v[i], needle) != NULL;
	return n;
}

/* Off by default: no cgroup for any slot, no warning for any template. */
static void test_disabled(void **state)
{
	struct config cfg;
	const struct runner_config *rc;

	(void)state;
	load(RUNNER_HEAD "  slot_cgroup_template = \"fixed\"\n", &cfg);
	rc = cfg.runners[0];
	assert_false(rc->use_slot_cgroups);
	assert_cgroup(rc, 0, false, NULL);
	assert_cgroup(rc, 3, true, NULL);
	assert_int_equal(count_warnings(&cfg, "Slot cgroup template"), 0);
	assert_int_equal(count_warnings(&cfg, "slot_cgroup_template"), 0);
	config_release(&cfg);
}

/* The default template; a negative slot (no acquisition) gives none. */
static void test_default_template(void **state)
{
	struct config cfg;
	const struct runner_config *rc;

	(void)state;
	load(RUNNER_HEAD "  use_slot_cgroups = true\n", &cfg);
	rc = cfg.runners[0];
	assert_true(rc->use_slot_cgroups);
	assert_cgroup(rc, 0, false, "gitlab-runner/slot-0");
	assert_cgroup(rc, 10, false, "gitlab-runner/slot-10");
	assert_cgroup(rc, 10, true, "gitlab-runner/slot-10");
	assert_cgroup(rc, -1, false, NULL);
	assert_int_equal(count_warnings(&cfg, "Slot cgroup template"), 0);
	config_release(&cfg);
}

/*
 * Both spellings of the placeholder; other names expand to "" and a bare
 * '$' stays, as os.Expand.  Services take their own template.
 */
static void test_templates(void **state)
{
	struct config cfg;
	const struct runner_config *rc;

	(void)state;
	load(RUNNER_HEAD "  use_slot_cgroups = true\n"
	     "  slot_cgroup_template = \"runner-slot-${slot}.slice\"\n"
	     "  [runners.docker]\n"
	     "    image = \"alpine\"\n"
	     "    service_slot_cgroup_template = \"svc/$slot/${other}x/$\"\n",
	     &cfg);
	rc = cfg.runners[0];
	assert_string_equal(rc->slot_cgroup_template,
			    "runner-slot-${slot}.slice");
	assert_cgroup(rc, 5, false, "runner-slot-5.slice");
	assert_cgroup(rc, 5, true, "svc/5/x/$");
	assert_int_equal(count_warnings(&cfg, "Slot cgroup template"), 0);
	config_release(&cfg);
}

/*
 * A template without ${slot}: loaded all the same (gitlab-runner only
 * warns), one warning per template naming it and its key.
 */
static void test_template_without_slot_warns(void **state)
{
	static const char want_runner[] =
		"config.toml:7: Slot cgroup template does not contain ${slot} "
		"placeholder. All jobs will use the same cgroup, defeating the "
		"purpose of slot-based isolation. Consider using a template "
		"like 'gitlab-runner/slot-${slot}' "
		"config_name=slot_cgroup_template template=gitlab-runner/shared";
	static const char want_service[] =
		"config_name=service_slot_cgroup_template template=\"svc ${job}\"";
	struct config cfg;
	const struct runner_config *rc;
	size_t i;
	bool runner = false, service = false;

	(void)state;
	load(RUNNER_HEAD "  use_slot_cgroups = true\n"
	     "  slot_cgroup_template = \"gitlab-runner/shared\"\n"
	     "  [runners.docker]\n"
	     "    service_slot_cgroup_template = \"svc ${job}\"\n",
	     &cfg);
	rc = cfg.runners[0];
	assert_cgroup(rc, 2, false, "gitlab-runner/shared");
	assert_cgroup(rc, 2, true, "svc ");
	assert_int_equal(count_warnings(&cfg, "Slot cgroup template"), 2);
	for (i = 0; i < cfg.warnings.nr; i++) {
		const char *w = cfg.warnings.v[i];

		/* The file is the full path: compare from its base name. */
		if (strstr(w, "config_name=slot_cgroup_template")) {
			assert_non_null(strstr(w, "config.toml:7: "));
			assert_string_equal(strstr(w, "config.toml:7: "),
					    want_runner);
			runner = true;
		}
		if (strstr(w, want_service)) {
			assert_non_null(strstr(w, "config.toml:9: "));
			service = true;
		}
	}
	assert_true(runner);
	assert_true(service);
	/* Nor does it say the keys have no effect any more. */
	assert_int_equal(count_warnings(&cfg, "no effect"), 0);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_default_template),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_template_without_slot_warns),
	};

	return cmocka_run_group_tests(tests, config_dir_setup,
				      config_dir_teardown);
}
