/*
 * The docker executor's names and bytes that tests against an engine do
 * not pin down: MD5 (gitlab-runner's hashPath, RFC 1321's vectors), the
 * volume names and which ones a restart may remove, the tar of a stage
 * script, how a docker host becomes a URL, who may be privileged, and
 * the registry credentials sent with a pull.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "gitlab/payload.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static void expect_md5(const char *in, const char *want)
{
	char out[33];

	docker_md5_hex(in, out);
	assert_string_equal(want, out);
}

static void test_md5_rfc1321(void **state)
{
	(void)state;
	expect_md5("", "d41d8cd98f00b204e9800998ecf8427e");
	expect_md5("a", "0cc175b9c0f1b6a831c399e269772661");
	expect_md5("abc", "900150983cd24fb0d6963f7d28e17f72");
	expect_md5("message digest", "f96b697d7cb7938d525a2f31aaf161d0");
	expect_md5("abcdefghijklmnopqrstuvwxyz",
		   "c3fcd3d76192e4007dfb496cca67e13b");
	/* 62 and 80 bytes: padding across a block boundary. */
	expect_md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
		   "d174ab98d277d9f5a5611c2c9f419d9f");
	expect_md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
		   "57edf4a22be3c955ac49da2e2107b67a");
}

static void test_volume_names(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	docker_volume_name(&b, "runner-abc-project-7-concurrent-0", "/cache");
	assert_string_equal("runner-abc-project-7-concurrent-0-cache-3c3f060a0374fc8bc39395164f415a70",
			    b.data);
	buf_release(&b);
}

static void test_volume_is_temporary(void **state)
{
	(void)state;
	/* A job's own: the job hash before -cache-. */
	assert_true(docker_volume_is_temporary(
		"runner-abc123xyz-project-7-concurrent-0-0badf00d-cache-3c3f060a0374fc8bc39395164f415a70",
		"abc123xyz"));
	/* The short token is compared as the name has it: lower case. */
	assert_true(docker_volume_is_temporary(
		"runner-abcxyz-project-7-concurrent-12-0badf00d-cache-x", "AbcXyz"));
	/* Kept on purpose: the cache and a fetch build volume. */
	assert_false(docker_volume_is_temporary(
		"runner-abc123xyz-project-7-concurrent-0-cache-3c3f060a0374fc8bc39395164f415a70",
		"abc123xyz"));
	/* Another runner's, or not ours at all. */
	assert_false(docker_volume_is_temporary(
		"runner-other-project-7-concurrent-0-0badf00d-cache-x", "abc123xyz"));
	assert_false(docker_volume_is_temporary("my-data", "abc123xyz"));
	assert_false(docker_volume_is_temporary(
		"runner-abc123xyz-project-7-concurrent--0badf00d-cache-x", "abc123xyz"));
	assert_false(docker_volume_is_temporary(
		"runner-abc123xyz-project-7-concurrent-0-0badf0-cache-x", "abc123xyz"));
}

static unsigned octal(const unsigned char *p, size_t n)
{
	char tmp[16];

	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return (unsigned)strtoul(tmp, NULL, 8);
}

static void test_tar_file(void **state)
{
	struct buf b = BUF_INIT;
	const unsigned char *h;
	unsigned sum = 0;
	size_t i;

	(void)state;
	docker_tar_file(&b, "crunner-scripts", "1-step_script.sh", "echo hi\n", 8);
	/* dir header, file header, one data block, two end blocks */
	assert_int_equal(5 * 512, b.len);
	h = (const unsigned char *)b.data;
	assert_string_equal("crunner-scripts/", (const char *)h);
	assert_int_equal('5', h[156]);
	h += 512;
	assert_string_equal("crunner-scripts/1-step_script.sh", (const char *)h);
	assert_int_equal('0', h[156]);
	assert_int_equal(8, octal(h + 124, 11));
	assert_int_equal(0755, octal(h + 100, 7));
	assert_memory_equal("ustar", h + 257, 6);
	for (i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	assert_int_equal(sum, octal(h + 148, 6));
	assert_memory_equal("echo hi\n", h + 512, 8);
	for (i = 2 * 512 + 8; i < b.len; i++)
		assert_int_equal(0, (unsigned char)b.data[i]);
	buf_release(&b);
}

static void expect_url(const char *host, int tls, const char *base,
		       const char *sock)
{
	struct buf b = BUF_INIT, s = BUF_INIT, err = BUF_INIT;

	assert_int_equal(0, docker_api_url(host, tls, &b, &s, &err));
	assert_string_equal(base, b.data);
	assert_string_equal(sock, s.data);
	buf_release(&b);
	buf_release(&s);
	buf_release(&err);
}

static void test_api_url(void **state)
{
	struct buf b = BUF_INIT, s = BUF_INIT, err = BUF_INIT;

	(void)state;
	expect_url("unix:///var/run/docker.sock", 0, "http://docker",
		   "/var/run/docker.sock");
	expect_url("tcp://127.0.0.1:2375", 0, "http://127.0.0.1:2375", "");
	expect_url("tcp://docker.example.com", 0, "http://docker.example.com:2375", "");
	expect_url("tcp://docker.example.com", 1, "https://docker.example.com:2376", "");
	expect_url("tcp://10.0.0.1:4243/", 0, "http://10.0.0.1:4243", "");
	expect_url("https://10.0.0.1:4243", 0, "https://10.0.0.1:4243", "");
	expect_url("tcp://[::1]:2375", 0, "http://[::1]:2375", "");
	expect_url("tcp://[::1]", 0, "http://[::1]:2375", "");
	assert_int_equal(CR_ERR_UNSUPPORTED,
			 docker_api_url("ssh://me@host", 0, &b, &s, &err));
	assert_non_null(strstr(err.data, "'ssh://me@host' is not supported"));
	buf_reset(&err);
	assert_int_equal(CR_ERR_INVALID, docker_api_url("tcp://", 0, &b, &s, &err));
	buf_reset(&err);
	assert_int_equal(CR_ERR_INVALID, docker_api_url("unix://", 0, &b, &s, &err));
	buf_release(&b);
	buf_release(&s);
	buf_release(&err);
}

static void test_privileged(void **state)
{
	struct config_docker dc;

	(void)state;
	memset(&dc, 0, sizeof(dc));
	strvec_init(&dc.allowed_privileged_images);
	strvec_init(&dc.allowed_privileged_services);
	dc.services_privileged = CONFIG_UNSET;
	assert_false(docker_privileged(&dc, "alpine", 0));
	assert_false(docker_privileged(&dc, "docker:dind", 1));
	dc.privileged = true;
	assert_true(docker_privileged(&dc, "alpine", 0));
	assert_true(docker_privileged(&dc, "docker:dind", 1));
	/* services_privileged decides for services when it is set. */
	dc.services_privileged = CONFIG_FALSE;
	assert_false(docker_privileged(&dc, "docker:dind", 1));
	assert_true(docker_privileged(&dc, "alpine", 0));
	dc.privileged = false;
	dc.services_privileged = CONFIG_TRUE;
	assert_true(docker_privileged(&dc, "docker:dind", 1));
	assert_false(docker_privileged(&dc, "alpine", 0));
	/* The allow lists narrow it down. */
	strvec_push(&dc.allowed_privileged_services, "docker:*");
	assert_true(docker_privileged(&dc, "docker:dind", 1));
	assert_false(docker_privileged(&dc, "evil:latest", 1));
	dc.privileged = true;
	strvec_push(&dc.allowed_privileged_images, "builder/*");
	assert_true(docker_privileged(&dc, "builder/x", 0));
	assert_false(docker_privileged(&dc, "alpine", 0));
	strvec_clear(&dc.allowed_privileged_images);
	strvec_clear(&dc.allowed_privileged_services);
}

static void expect_registry(const char *image, const char *want)
{
	struct buf b = BUF_INIT;

	docker_image_registry(image, &b);
	assert_string_equal(want, b.data);
	buf_release(&b);
}

/* The JSON inside an "X-Registry-Auth: " header (static storage). */
static const char *decode_header(const struct buf *b)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	static char dec[512];
	unsigned v = 0, bits = 0;
	size_t i, o = 0;

	for (i = 17; i < b->len && b->data[i] != '=' && o + 1 < sizeof(dec); i++) {
		v = v << 6 | (unsigned)(strchr(tab, b->data[i]) - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			dec[o++] = (char)(v >> bits & 0xff);
		}
	}
	dec[o] = '\0';
	return dec;
}

static const char *want_hub(void)
{
	return "{\"username\":\"hub\",\"password\":\"secret\",\"serveraddress\":\"docker.io\"}";
}

static void test_registry_auth(void **state)
{
	char t1[] = "registry", u1[] = "other.example.com", n1[] = "u",
	     p1[] = "p";
	char t2[] = "registry", u2[] = "registry.example.com:5005",
	     n2[] = "gitlab-ci-token", p2[] = "tok\"en";
	struct job_credential creds[2] = {
		{ t1, u1, n1, p1 },
		{ t2, u2, n2, p2 },
	};
	struct job_payload p;
	struct buf b = BUF_INIT;
	const char *want = "{\"username\":\"gitlab-ci-token\",\"password\":\"tok\\\"en\",\"serveraddress\":\"registry.example.com:5005\"}";
	char *dec;
	size_t i, n;

	(void)state;
	expect_registry("alpine", "docker.io");
	expect_registry("library/alpine:3", "docker.io");
	expect_registry("registry.example.com:5005/g/p:tag", "registry.example.com:5005");
	expect_registry("localhost/x", "localhost");
	expect_registry("host:5000/x", "host:5000");

	memset(&p, 0, sizeof(p));
	p.credentials = creds;
	p.nr_credentials = 2;
	assert_null(docker_registry_auth(&p, NULL, "alpine:3", &b));
	assert_int_equal(0, b.len);
	assert_string_equal("job payload (GitLab Registry)",
			    docker_registry_auth(&p, NULL, "registry.example.com:5005/g/p", &b));
	assert_int_equal(0, strncmp(b.data, "X-Registry-Auth: ", 17));
	/* base64url back to the JSON */
	n = b.len - 17;
	dec = calloc(1, n);
	{
		static const char tab[] =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		unsigned v = 0, bits = 0;
		size_t o = 0;

		for (i = 17; i < b.len && b.data[i] != '='; i++) {
			v = v << 6 | (unsigned)(strchr(tab, b.data[i]) - tab);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				dec[o++] = (char)(v >> bits & 0xff);
			}
		}
	}
	assert_string_equal(want, dec);
	free(dec);
	buf_release(&b);

	/* $DOCKER_AUTH_CONFIG first; "auth" is base64 of user:password. */
	assert_string_equal("$DOCKER_AUTH_CONFIG", docker_registry_auth(&p,
		"{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"aHViOnNlY3JldA==\"}}}",
		"alpine:3", &b));
	assert_string_equal(want_hub(), decode_header(&b));
	buf_release(&b);
	assert_string_equal("$DOCKER_AUTH_CONFIG", docker_registry_auth(&p,
		"{\"auths\": {\"registry.example.com:5005\": {\"username\": \"a\", \"password\": \"b\"}}}",
		"registry.example.com:5005/g/p", &b));
	assert_string_equal("{\"username\":\"a\",\"password\":\"b\",\"serveraddress\":\"registry.example.com:5005\"}",
			    decode_header(&b));
	buf_release(&b);
	/* Not in it: the payload's. */
	assert_string_equal("job payload (GitLab Registry)", docker_registry_auth(&p,
		"{\"auths\": {}}", "registry.example.com:5005/g/p", &b));
	buf_release(&b);
}

/* A docker_job with only what docker_volumes_plan() reads. */
static void plan_volumes(const char *git_strategy, struct docker_job *dj,
			 const struct config_docker *dc)
{
	memset(dj, 0, sizeof(*dj));
	dj->dc = dc;
	dj->git_strategy = git_strategy;
	buf_init(&dj->unique, 0);
	buf_init(&dj->prefix, 0);
	buf_addstr(&dj->unique, "runner-abc-project-7-concurrent-0");
	buf_addstr(&dj->prefix, "runner-abc-project-7-concurrent-0-0badf00d");
	dj->cbuilds_dir = xstrdup("/builds");
	dj->ccache_dir = xstrdup("/cache");
	strvec_init(&dj->binds);
	strvec_init(&dj->vol_binds);
	strvec_init(&dj->new_volumes);
	strvec_init(&dj->temp_volumes);
	docker_volumes_plan(dj);
}

static void plan_release(struct docker_job *dj)
{
	free(dj->cbuilds_dir);
	free(dj->ccache_dir);
	buf_release(&dj->unique);
	buf_release(&dj->prefix);
	strvec_clear(&dj->binds);
	strvec_clear(&dj->vol_binds);
	strvec_clear(&dj->new_volumes);
	strvec_clear(&dj->temp_volumes);
}

/*
 * The builds volume follows the engine's resolved strategy: with
 * GIT_STRATEGY unset GitLab's allow_git_fetch makes it fetch, and the
 * volume is kept for the next job (no variable is visible here at all).
 */
static void test_builds_volume_follows_git_strategy(void **state)
{
	struct config_docker dc;
	struct docker_job dj;
	char hex[33];
	struct buf kept = BUF_INIT, own = BUF_INIT;

	(void)state;
	memset(&dc, 0, sizeof(dc));
	docker_md5_hex("/builds", hex);
	buf_addf(&kept, "runner-abc-project-7-concurrent-0-cache-%s", hex);
	buf_addf(&own, "runner-abc-project-7-concurrent-0-0badf00d-cache-%s",
		 hex);

	plan_volumes("fetch", &dj, &dc);
	assert_int_equal(dj.new_volumes.nr, 2);	/* builds and cache */
	assert_string_equal(dj.new_volumes.v[0], kept.data);
	assert_int_equal(dj.temp_volumes.nr, 0);
	plan_release(&dj);

	plan_volumes("clone", &dj, &dc);
	assert_string_equal(dj.new_volumes.v[0], own.data);
	assert_int_equal(dj.temp_volumes.nr, 1);
	assert_string_equal(dj.temp_volumes.v[0], own.data);
	plan_release(&dj);

	/* disable_cache: a fetch still gets a volume of its own. */
	dc.disable_cache = true;
	plan_volumes("fetch", &dj, &dc);
	assert_int_equal(dj.new_volumes.nr, 1);
	assert_string_equal(dj.new_volumes.v[0], own.data);
	plan_release(&dj);

	buf_release(&kept);
	buf_release(&own);
}

static void set_list(struct strvec *sv, const char *const *items)
{
	strvec_clear(sv);
	for (; *items; items++)
		strvec_push(sv, *items);
}

#define POLICIES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * Checks docker_pull_policies(): want NULL for none, expect the effective
 * list joined by spaces, or the refusal's sentence when refused.
 */
static void check_policies(const struct config_docker *dc,
			   const char *const *want, int refused,
			   const char *expect)
{
	struct strvec job = STRVEC_INIT, out = STRVEC_INIT;
	struct buf err = BUF_INIT, got = BUF_INIT;
	size_t i;
	int r;

	if (want)
		set_list(&job, want);
	r = docker_pull_policies(dc, want ? &job : NULL, &out, &err);
	for (i = 0; i < out.nr; i++)
		buf_addf(&got, "%s%s", i ? " " : "", out.v[i]);
	if (refused) {
		assert_int_equal(r, CR_ERR_CONFIG);
		assert_int_equal(out.nr, 0);
		assert_string_equal(err.data, expect);
	} else {
		assert_int_equal(r, 0);
		assert_string_equal(got.data, expect);
		assert_string_equal(err.data, "");
	}
	strvec_clear(&job);
	strvec_clear(&out);
	buf_release(&err);
	buf_release(&got);
}

/*
 * gitlab-runner's rule: with allowed_pull_policies empty, the runner's own
 * pull_policy list (default always) is what a job may ask for.
 */
static void test_pull_policies(void **state)
{
	struct config_docker dc;

	(void)state;
	memset(&dc, 0, sizeof(dc));
	strvec_init(&dc.pull_policy);
	strvec_init(&dc.allowed_pull_policies);

	/* Nothing configured: always, and a job cannot skip it. */
	check_policies(&dc, NULL, 0, "always");
	check_policies(&dc, POLICIES("if-not-present"), 1,
		"pull_policy ([if-not-present]) defined in GitLab pipeline config "
		"is not one of the allowed_pull_policies ([always])");

	/* An admin's always: the job's never is refused. */
	set_list(&dc.pull_policy, POLICIES("always"));
	check_policies(&dc, POLICIES("never"), 1,
		"pull_policy ([never]) defined in GitLab pipeline config is not "
		"one of the allowed_pull_policies ([always])");
	check_policies(&dc, POLICIES("always"), 0, "always");

	/* The runner's list allows each of its own, in the job's order. */
	set_list(&dc.pull_policy, POLICIES("always", "if-not-present"));
	check_policies(&dc, POLICIES("never", "if-not-present"), 0,
		       "if-not-present");
	check_policies(&dc, POLICIES("if-not-present", "always"), 0,
		       "if-not-present always");
	check_policies(&dc, NULL, 0, "always if-not-present");
	check_policies(&dc, POLICIES("sometimes"), 1,
		"pull_policy ([sometimes]) defined in GitLab pipeline config is "
		"not one of the allowed_pull_policies ([always if-not-present])");

	/* allowed_pull_policies, when set, is the list. */
	set_list(&dc.allowed_pull_policies, POLICIES("never", "if-not-present"));
	check_policies(&dc, POLICIES("never"), 0, "never");
	check_policies(&dc, NULL, 0, "if-not-present");
	set_list(&dc.pull_policy, POLICIES("always"));
	check_policies(&dc, NULL, 1,
		"pull_policy ([always]) defined in Runner config is not one of "
		"the allowed_pull_policies ([never if-not-present])");
	strvec_clear(&dc.pull_policy);
	check_policies(&dc, NULL, 1,
		"pull_policy ([always]) defined in Runner config (default) is not "
		"one of the allowed_pull_policies ([never if-not-present])");

	strvec_clear(&dc.allowed_pull_policies);
}

static void test_create_body_extras(void **state)
{
	struct config_docker dc;
	struct config_kv ul[] = { { (char *)"nofile", (char *)"1024:2048" },
					   { (char *)"nproc", (char *)"512" } };
	struct config_kv lb[] = {
		{ (char *)"team", (char *)"ci" },
		{ (char *)"com.gitlab.gitlab-runner.job.id", (char *)"forged" } };
	struct docker_container_spec spec = { 0 };
	struct buf out = BUF_INIT, err = BUF_INIT;
	json_t *j, *hc, *labels;
	char img[] = "alpine";

	(void)state;
	memset(&dc, 0, sizeof(dc));
	strvec_init(&dc.cap_add);
	strvec_init(&dc.cap_drop);
	strvec_init(&dc.extra_hosts);
	strvec_init(&dc.dns);
	strvec_init(&dc.dns_search);
	strvec_init(&dc.group_add);
	strvec_init(&dc.security_opt);
	strvec_init(&dc.services_security_opt);
	strvec_init(&dc.devices);
	strvec_init(&dc.volumes_from);
	strvec_push(&dc.volumes_from, "data-container:ro");
	dc.volume_driver = (char *)"local";
	dc.mac_address = (char *)"02:42:ac:11:00:02";
	dc.ulimit.items = ul;
	dc.ulimit.nr = 2;
	dc.container_labels.items = lb;
	dc.container_labels.nr = 2;
	spec.image = img;
	spec.labels = json_pack("{s:s}", "com.gitlab.gitlab-runner.job.id", "7");
	assert_int_equal(0, docker_create_body(&dc, &spec, &out, &err));
	j = json_loads(out.data, 0, NULL);
	hc = json_object_get(j, "HostConfig");
	labels = json_object_get(j, "Labels");
	assert_string_equal("ci", json_string_value(json_object_get(labels, "team")));
	assert_string_equal("7", json_string_value(json_object_get(labels,
						"com.gitlab.gitlab-runner.job.id")));
	assert_string_equal("02:42:ac:11:00:02",
			    json_string_value(json_object_get(j, "MacAddress")));
	assert_string_equal("local", json_string_value(json_object_get(hc, "VolumeDriver")));
	assert_string_equal("data-container:ro", json_string_value(
		json_array_get(json_object_get(hc, "VolumesFrom"), 0)));
	assert_int_equal(2048, json_integer_value(json_object_get(
		json_array_get(json_object_get(hc, "Ulimits"), 0), "Hard")));
	assert_int_equal(512, json_integer_value(json_object_get(
		json_array_get(json_object_get(hc, "Ulimits"), 1), "Soft")));
	json_decref(j);
	buf_release(&out);

	ul[1].value = (char *)"lots";
	spec.labels = NULL;
	assert_int_equal(CR_ERR_INVALID, docker_create_body(&dc, &spec, &out, &err));
	assert_non_null(strstr(err.data, "invalid ulimit 'nproc = lots'"));
	buf_release(&out);
	buf_release(&err);
	strvec_clear(&dc.volumes_from);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_md5_rfc1321),
		cmocka_unit_test(test_volume_names),
		cmocka_unit_test(test_volume_is_temporary),
		cmocka_unit_test(test_tar_file),
		cmocka_unit_test(test_api_url),
		cmocka_unit_test(test_privileged),
		cmocka_unit_test(test_registry_auth),
		cmocka_unit_test(test_create_body_extras),
		cmocka_unit_test(test_builds_volume_follows_git_strategy),
		cmocka_unit_test(test_pull_policies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
