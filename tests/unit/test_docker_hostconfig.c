/*
 * The HostConfig crunner asks the engine for, key by key as gitlab-runner's
 * createHostConfig and createHostConfigForService build it: what the build
 * container, the helper and a service each get, gpus as DeviceRequests,
 * LogConfig, Init, isolation, and log_options' allowed keys; the per-build
 * network's create body and the aliases containers get on it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/docker_int.h"
#include "util/buf.h"
#include "util/error.h"

static struct config_kv log_kv[] = { { (char *)"env", (char *)"A,B" } };

static void init_config(struct config_docker *dc)
{
	memset(dc, 0, sizeof(*dc));
	dc->services_limit = -1;
	dc->memory = (char *)"64m";
	dc->cpus = (char *)"0.5";
	dc->cgroup_parent = (char *)"/crunner-build";
	dc->cpuset_mems = (char *)"0";
	dc->pid_mode = (char *)"host";
	strvec_init(&dc->device_cgroup_rules);
	strvec_push(&dc->device_cgroup_rules, "c 13:* rwm");
	dc->gpus = (char *)"all";
	dc->service_memory = (char *)"32m";
	dc->service_memory_swap = (char *)"64m";
	dc->service_memory_reservation = (char *)"16m";
	dc->service_cgroup_parent = (char *)"/crunner-services";
	dc->service_cpuset_cpus = (char *)"0";
	dc->service_cpus = (char *)"3/2";
	dc->service_cpu_shares = 512;
	dc->service_gpus = (char *)"count=2,capabilities=utility";
	dc->log_options.items = log_kv;
	dc->log_options.nr = 1;
}

/* The HostConfig of spec under dc, parsed; NULL (and err) on a refusal. */
static json_t *host_config(const struct config_docker *dc,
			   struct docker_container_spec *spec, struct buf *err)
{
	struct buf out = BUF_INIT;
	json_t *body, *hc = NULL;

	spec->image = "img";
	if (docker_create_body(dc, spec, &out, err) == 0) {
		body = json_loads(out.data, 0, NULL);
		assert_non_null(body);
		hc = json_incref(json_object_get(body, "HostConfig"));
		json_decref(body);
	}
	buf_release(&out);
	return hc;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_int_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static void test_build_container(void **state)
{
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct buf err = BUF_INIT;
	json_t *hc, *req;

	(void)state;
	init_config(&dc);
	spec.init = 1;
	hc = host_config(&dc, &spec, &err);
	assert_non_null(hc);
	assert_string_equal("/crunner-build", str(hc, "CgroupParent"));
	assert_string_equal("0", str(hc, "CpusetMems"));
	assert_string_equal("host", str(hc, "PidMode"));
	assert_int_equal(64 << 20, num(hc, "Memory"));
	assert_string_equal("c 13:* rwm", json_string_value(json_array_get(
		json_object_get(hc, "DeviceCgroupRules"), 0)));
	/* --gpus all: one request, every GPU, the "gpu" capability */
	req = json_array_get(json_object_get(hc, "DeviceRequests"), 0);
	assert_int_equal(1, json_array_size(json_object_get(hc, "DeviceRequests")));
	assert_int_equal(-1, num(req, "Count"));
	assert_string_equal("", str(req, "Driver"));
	assert_true(json_is_null(json_object_get(req, "DeviceIDs")));
	assert_string_equal("gpu", json_string_value(json_array_get(
		json_array_get(json_object_get(req, "Capabilities"), 0), 0)));
	assert_int_equal(0, json_object_size(json_object_get(req, "Options")));
	assert_true(json_is_true(json_object_get(hc, "Init")));
	assert_string_equal("json-file", str(json_object_get(hc, "LogConfig"), "Type"));
	assert_string_equal("A,B", str(json_object_get(json_object_get(hc, "LogConfig"),
						       "Config"), "env"));
	json_decref(hc);
	strvec_clear(&dc.device_cgroup_rules);
	buf_release(&err);
}

static void test_helper_container(void **state)
{
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct buf err = BUF_INIT;
	json_t *hc;

	(void)state;
	init_config(&dc);
	dc.log_options.nr = 0;
	spec.helper = 1;
	hc = host_config(&dc, &spec, &err);
	assert_non_null(hc);
	/* gitlab-runner's predefined container: cgroup, rules, GPUs ... */
	assert_string_equal("/crunner-build", str(hc, "CgroupParent"));
	assert_non_null(json_object_get(hc, "DeviceCgroupRules"));
	assert_non_null(json_object_get(hc, "DeviceRequests"));
	/* ... but pid_mode and Init are the build container's only */
	assert_null(json_object_get(hc, "PidMode"));
	assert_null(json_object_get(hc, "Init"));
	/* json-file without options when log_options is empty */
	assert_string_equal("json-file", str(json_object_get(hc, "LogConfig"), "Type"));
	assert_null(json_object_get(json_object_get(hc, "LogConfig"), "Config"));
	json_decref(hc);
	strvec_clear(&dc.device_cgroup_rules);
	buf_release(&err);
}

static void test_service_container(void **state)
{
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct buf err = BUF_INIT;
	json_t *hc, *req, *caps;

	(void)state;
	init_config(&dc);
	spec.service = 1;
	spec.init = 1;
	hc = host_config(&dc, &spec, &err);
	assert_non_null(hc);
	assert_int_equal(32 << 20, num(hc, "Memory"));
	assert_int_equal(64 << 20, num(hc, "MemorySwap"));
	assert_int_equal(16 << 20, num(hc, "MemoryReservation"));
	assert_string_equal("/crunner-services", str(hc, "CgroupParent"));
	assert_string_equal("0", str(hc, "CpusetCpus"));
	assert_int_equal(1500000000, num(hc, "NanoCpus"));
	assert_int_equal(512, num(hc, "CpuShares"));
	/* none of the build container's own */
	assert_null(json_object_get(hc, "PidMode"));
	assert_null(json_object_get(hc, "CpusetMems"));
	assert_null(json_object_get(hc, "DeviceCgroupRules"));
	req = json_array_get(json_object_get(hc, "DeviceRequests"), 0);
	assert_int_equal(2, num(req, "Count"));
	caps = json_array_get(json_object_get(req, "Capabilities"), 0);
	assert_int_equal(2, json_array_size(caps));
	assert_string_equal("utility", json_string_value(json_array_get(caps, 0)));
	assert_string_equal("gpu", json_string_value(json_array_get(caps, 1)));
	assert_true(json_is_true(json_object_get(hc, "Init")));
	assert_string_equal("json-file", str(json_object_get(hc, "LogConfig"), "Type"));
	json_decref(hc);

	/* a bad service_memory names the key */
	dc.service_memory = (char *)"lots";
	spec.labels = NULL;
	assert_null(host_config(&dc, &spec, &err));
	assert_string_equal("invalid service_memory value 'lots' in [runners.docker]",
			    err.data);
	strvec_clear(&dc.device_cgroup_rules);
	buf_release(&err);
}

static json_t *gpu(const char *value, struct buf *err)
{
	json_t *a = NULL;

	buf_reset(err);
	if (docker_gpu_requests(value, &a, err) != 0)
		return NULL;
	assert_int_equal(1, json_array_size(a));
	json_incref(json_array_get(a, 0));
	{
		json_t *r = json_array_get(a, 0);

		json_decref(a);
		return r;
	}
}

static void test_gpus(void **state)
{
	struct buf err = BUF_INIT;
	json_t *r, *a = (json_t *)1;

	(void)state;
	/* blank: no request at all */
	assert_int_equal(0, docker_gpu_requests("  ", &a, &err));
	assert_null(a);
	/* a bare number is the count */
	r = gpu("2", &err);
	assert_int_equal(2, num(r, "Count"));
	json_decref(r);
	/* devices without a count: Count 0, the ids as given */
	r = gpu("\"device=0,2\",driver=nvidia,\"options=a=1,b\"", &err);
	assert_non_null(r);
	assert_int_equal(0, num(r, "Count"));
	assert_string_equal("nvidia", str(r, "Driver"));
	assert_int_equal(2, json_array_size(json_object_get(r, "DeviceIDs")));
	assert_string_equal("2", json_string_value(json_array_get(
		json_object_get(r, "DeviceIDs"), 1)));
	assert_string_equal("1", str(json_object_get(r, "Options"), "a"));
	assert_string_equal("", str(json_object_get(r, "Options"), "b"));
	json_decref(r);
	/* docker/cli's refusals */
	assert_null(gpu("count=2,count=3", &err));
	assert_string_equal("parsing gpus string \"count=2,count=3\": gpu request key 'count' can be specified only once",
			    err.data);
	assert_null(gpu("all,count=1", &err));
	assert_null(gpu("some", &err));
	assert_string_equal("parsing gpus string \"some\": invalid count (some): value must be either \"all\" or an integer",
			    err.data);
	assert_null(gpu("colour=red", &err));
	assert_string_equal("parsing gpus string \"colour=red\": unexpected key 'colour' in 'colour=red'",
			    err.data);
	assert_null(gpu("a\"b", &err));
	buf_release(&err);
}

static void test_isolation_and_log_options(void **state)
{
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct buf err = BUF_INIT;
	struct config_kv bad[] = {
		{ (char *)"max-size", (char *)"1m" },
		{ (char *)"labels", (char *)"x" },
		{ (char *)"compress", (char *)"true" },
	};
	json_t *hc;

	(void)state;
	init_config(&dc);
	dc.isolation = (char *)"default";
	hc = host_config(&dc, &spec, &err);
	assert_non_null(hc);
	assert_string_equal("default", str(hc, "Isolation"));
	json_decref(hc);
	/* Linux has no other isolation: gitlab-runner's refusal */
	dc.isolation = (char *)"hyperv";
	assert_null(host_config(&dc, &spec, &err));
	assert_string_equal("the isolation value \"hyperv\" is not valid. the valid values are: 'process', 'hyperv', 'default' and an empty string",
			    err.data);

	assert_int_equal(0, docker_check_log_options(&dc, &err));
	dc.log_options.items = bad;
	dc.log_options.nr = 3;
	buf_reset(&err);
	assert_int_equal(CR_ERR_CONFIG, docker_check_log_options(&dc, &err));
	assert_string_equal("creating docker log configuration: invalid log options: only [\"env\" \"labels\"] are allowed, but found: [\"compress\" \"max-size\"]",
			    err.data);
	strvec_clear(&dc.device_cgroup_rules);
	buf_release(&err);
}

/* The create body's NetworkingConfig, as JSON text ("null": none). */
static char *networking(const struct config_docker *dc,
			struct docker_container_spec *spec)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	json_t *body;
	char *text;

	spec->image = "img";
	assert_int_equal(docker_create_body(dc, spec, &out, &err), 0);
	body = json_loads(out.data, 0, NULL);
	assert_non_null(body);
	text = json_dumps(json_object_get(body, "NetworkingConfig"),
			  JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		text = strdup("null");
	json_decref(body);
	buf_release(&out);
	buf_release(&err);
	return text;
}

/*
 * FF_NETWORK_PER_BUILD's network: its create body (gitlab-runner's
 * EnableIPv6 and MTU option), the aliases a container gets on a
 * user-defined network and nowhere else, and a service's aliases.
 */
static void test_network(void **state)
{
	static const char *const modes[] = {
		NULL, "default", "bridge", "host", "none", "container:abc",
	};
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct strvec aliases = STRVEC_INIT;
	json_t *body;
	char *text;
	size_t i;

	(void)state;
	init_config(&dc);
	body = docker_network_create_body(&dc, "runner-x-1-0-7", json_object());
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"EnableIPv6\":false,\"Labels\":{},\"Name\":\"runner-x-1-0-7\",\"Options\":{}}");
	free(text);
	json_decref(body);
	dc.enable_ipv6 = true;
	dc.network_mtu = 1400;
	body = docker_network_create_body(&dc, "n", json_object());
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"EnableIPv6\":true,\"Labels\":{},\"Name\":\"n\",\"Options\":{\"com.docker.network.driver.mtu\":\"1400\"}}");
	free(text);
	json_decref(body);

	strvec_push(&aliases, "build");
	strvec_push(&aliases, "runner-x-build-1");
	spec.aliases = &aliases;
	spec.network_mode = "runner-x-1-0-7";
	text = networking(&dc, &spec);
	assert_string_equal(text, "{\"EndpointsConfig\":{\"runner-x-1-0-7\":{\"Aliases\":[\"build\",\"runner-x-build-1\"]}}}");
	free(text);
	for (i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		spec.network_mode = modes[i];
		text = networking(&dc, &spec);
		assert_string_equal(text, "null");
		free(text);
	}
	/* No spec mode: [runners.docker] network_mode, a network too. */
	spec.network_mode = NULL;
	dc.network_mode = (char *)"ci-net";
	text = networking(&dc, &spec);
	assert_string_equal(text, "{\"EndpointsConfig\":{\"ci-net\":{\"Aliases\":[\"build\",\"runner-x-build-1\"]}}}");
	free(text);
	strvec_clear(&aliases);

	docker_service_aliases("registry.example.com:5000/group/redis:7",
			       "cache, db  kv", &aliases);
	assert_int_equal(aliases.nr, 5);
	assert_string_equal(aliases.v[0], "registry.example.com__group__redis");
	assert_string_equal(aliases.v[1], "registry.example.com-group-redis");
	assert_string_equal(aliases.v[2], "cache");
	assert_string_equal(aliases.v[3], "db");
	assert_string_equal(aliases.v[4], "kv");
	strvec_clear(&aliases);
	docker_service_aliases("postgres", NULL, &aliases);
	assert_int_equal(aliases.nr, 1);
	assert_string_equal(aliases.v[0], "postgres");
	strvec_clear(&aliases);
	docker_service_aliases("localhost:5000/svc", "", &aliases);
	assert_int_equal(aliases.nr, 2);
	assert_string_equal(aliases.v[0], "localhost__svc");
	assert_string_equal(aliases.v[1], "localhost-svc");
	strvec_clear(&aliases);
	strvec_clear(&dc.device_cgroup_rules);
}

/* A slot's cgroup (use_slot_cgroups) wins over cgroup_parent and
 * service_cgroup_parent, as gitlab-runner's getCgroupParent. */
static void test_slot_cgroup_parent(void **state)
{
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct buf err = BUF_INIT;
	json_t *hc;

	(void)state;
	init_config(&dc);
	spec.cgroup_parent = "gitlab-runner/slot-1";
	hc = host_config(&dc, &spec, &err);
	assert_non_null(hc);
	assert_string_equal("gitlab-runner/slot-1", str(hc, "CgroupParent"));
	json_decref(hc);
	memset(&spec, 0, sizeof(spec));
	spec.service = 1;
	spec.cgroup_parent = "svc-slot-1.slice";
	hc = host_config(&dc, &spec, &err);
	assert_non_null(hc);
	assert_string_equal("svc-slot-1.slice", str(hc, "CgroupParent"));
	json_decref(hc);
	strvec_clear(&dc.device_cgroup_rules);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_container),
		cmocka_unit_test(test_helper_container),
		cmocka_unit_test(test_service_container),
		cmocka_unit_test(test_slot_cgroup_parent),
		cmocka_unit_test(test_gpus),
		cmocka_unit_test(test_isolation_and_log_options),
		cmocka_unit_test(test_network),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
