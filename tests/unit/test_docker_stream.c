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
#include "util/buf.h"
#include "util/error.h"

/* ---- the stdout/stderr frame decoder ---- */

struct sink {
	struct buf out, err;
	int calls;
};

static void on_data(void *ctx, int is_stderr, const char *data, size_t len)
{
	struct sink *s = ctx;

	s->calls++;
	buf_add(is_stderr ? &s->err : &s->out, data, len);
}

static void frame(struct buf *b, int stream, const char *payload)
{
	size_t n = strlen(payload);
	unsigned char head[8] = { (unsigned char)stream, 0, 0, 0,
				  (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				  (unsigned char)(n >> 8), (unsigned char)n };

	buf_add(b, head, sizeof(head));
	buf_add(b, payload, n);
}

static void sink_init(struct sink *s)
{
	buf_init(&s->out, 0);
	buf_init(&s->err, 0);
	s->calls = 0;
}

static void sink_release(struct sink *s)
{
	buf_release(&s->out);
	buf_release(&s->err);
}

static void test_frames_whole(void **state)
{
	struct docker_stream ds = DOCKER_STREAM_INIT;
	struct buf in = BUF_INIT;
	struct sink s;

	(void)state;
	sink_init(&s);
	frame(&in, 1, "hello\n");
	frame(&in, 2, "oops\n");
	frame(&in, 1, "bye\n");
	assert_int_equal(0, docker_stream_feed(&ds, in.data, in.len, on_data, &s));
	assert_string_equal("hello\nbye\n", s.out.data);
	assert_string_equal("oops\n", s.err.data);
	assert_int_equal(0, ds.left);
	assert_int_equal(0, ds.head_len);
	buf_release(&in);
	sink_release(&s);
}

/* Every split point, byte by byte: the same text comes out. */
static void test_frames_split_anywhere(void **state)
{
	struct buf in = BUF_INIT;
	size_t cut, i;

	(void)state;
	frame(&in, 1, "first line\n");
	frame(&in, 2, "");
	frame(&in, 2, "to stderr\n");
	frame(&in, 1, "x");
	for (cut = 0; cut <= in.len; cut++) {
		struct docker_stream ds = DOCKER_STREAM_INIT;
		struct sink s;

		sink_init(&s);
		assert_int_equal(0, docker_stream_feed(&ds, in.data, cut, on_data, &s));
		assert_int_equal(0, docker_stream_feed(&ds, in.data + cut,
						       in.len - cut, on_data, &s));
		assert_string_equal("first line\nx", s.out.data);
		assert_string_equal("to stderr\n", s.err.data);
		sink_release(&s);
	}
	{
		struct docker_stream ds = DOCKER_STREAM_INIT;
		struct sink s;

		sink_init(&s);
		for (i = 0; i < in.len; i++)
			assert_int_equal(0, docker_stream_feed(&ds, in.data + i, 1,
							       on_data, &s));
		assert_string_equal("first line\nx", s.out.data);
		assert_string_equal("to stderr\n", s.err.data);
		sink_release(&s);
	}
	buf_release(&in);
}

static void test_frames_binary_and_large(void **state)
{
	struct docker_stream ds = DOCKER_STREAM_INIT;
	struct buf in = BUF_INIT;
	struct sink s;
	char *big = malloc(70000);
	unsigned char head[8] = { 1, 0, 0, 0, 0, 1, 0x11, 0x70 };	/* 70000 */

	(void)state;
	sink_init(&s);
	memset(big, 'a', 70000);
	big[10] = '\0';		/* bytes, not strings */
	buf_add(&in, head, 8);
	buf_add(&in, big, 70000);
	assert_int_equal(0, docker_stream_feed(&ds, in.data, in.len, on_data, &s));
	assert_int_equal(70000, s.out.len);
	assert_memory_equal(big, s.out.data, 70000);
	free(big);
	buf_release(&in);
	sink_release(&s);
}

static void test_frames_bad_header(void **state)
{
	struct docker_stream ds = DOCKER_STREAM_INIT;
	struct sink s;
	/* A TTY stream is plain text: "hello wo" is no frame header. */
	const char *raw = "hello world\n";

	(void)state;
	sink_init(&s);
	assert_int_equal(CR_ERR_PROTOCOL,
			 docker_stream_feed(&ds, raw, strlen(raw), on_data, &s));
	assert_int_equal(0, s.calls);
	/* and it stays failed */
	assert_int_equal(CR_ERR_PROTOCOL, docker_stream_feed(&ds, "\1\0\0\0\0\0\0\0",
							     8, on_data, &s));
	sink_release(&s);
}

/* ---- names and labels ---- */

static const struct docker_job_info info = {
	.short_token = "t1_Integ",
	.project_id = 42,
	.concurrent_project_id = 3,
	.concurrent_id = 1,
	.job_id = 1001,
	.job_url = "http://gitlab.test/acme/widget/-/jobs/1001",
	.sha = "5f1e2d3c",
	.before_sha = "0b1c2d3e",
	.ref = "main",
	.pipeline_id = "77",
	.timeout_s = 5400,
	.system_id = "s_0123456789ab",
};

static void test_unique_name(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	docker_unique_name(&b, &info);
	/* RFC 1123: lower case, '_' becomes '-' */
	assert_string_equal("runner-t1-integ-project-42-concurrent-3", b.data);
	buf_release(&b);
}

static void test_job_prefix(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	struct docker_job_info other = info;

	(void)state;
	docker_job_prefix(&a, &info, "glrt-t1_IntegrationToken");
	docker_job_prefix(&b, &info, "glrt-t1_IntegrationToken");
	other.job_id = 1002;
	docker_job_prefix(&c, &other, "glrt-t1_IntegrationToken");
	assert_string_equal(a.data, b.data);	/* stable */
	assert_string_not_equal(a.data, c.data);	/* per job */
	assert_int_equal(strlen("runner-t1-integ-project-42-concurrent-3") + 9,
			 a.len);
	assert_memory_equal("runner-t1-integ-project-42-concurrent-3-", a.data, 40);
	buf_release(&a);
	buf_release(&b);
	buf_release(&c);
}

static void assert_label(json_t *l, const char *key, const char *want)
{
	char full[128];
	const char *got;

	snprintf(full, sizeof(full), "com.gitlab.gitlab-runner.%s", key);
	got = json_string_value(json_object_get(l, full));
	if (!got || strcmp(got, want))
		fail_msg("label %s: expected '%s', got '%s'", full, want,
			 got ? got : "(none)");
}

static void test_labels(void **state)
{
	json_t *l = docker_labels(&info, "build");

	(void)state;
	assert_int_equal(14, json_object_size(l));
	assert_label(l, "job.id", "1001");
	assert_label(l, "job.url", info.job_url);
	assert_label(l, "job.sha", "5f1e2d3c");
	assert_label(l, "job.before_sha", "0b1c2d3e");
	assert_label(l, "job.ref", "main");
	assert_label(l, "project.id", "42");
	assert_label(l, "pipeline.id", "77");
	assert_label(l, "runner.id", "t1_Integ");
	assert_label(l, "runner.local_id", "1");
	/* The three gitlab-runner's labeler also sets. */
	assert_label(l, "job.timeout", "1h30m0s");
	assert_label(l, "project.runner_id", "3");
	assert_label(l, "runner.system_id", "s_0123456789ab");
	assert_label(l, "managed", "true");
	assert_label(l, "type", "build");
	json_decref(l);
	l = docker_labels(&info, NULL);
	assert_int_equal(13, json_object_size(l));
	json_decref(l);
	/* No timeout from GitLab: its default, 2h, as gitlab-runner says. */
	{
		struct docker_job_info no_timeout = info;

		no_timeout.timeout_s = 0;
		l = docker_labels(&no_timeout, NULL);
		assert_label(l, "job.timeout", "2h0m0s");
		json_decref(l);
	}
}

/* ---- the create body ---- */

static void test_cpus(void **state)
{
	int64_t n = 0;

	(void)state;
	assert_int_equal(0, docker_parse_cpus("1.5", &n));
	assert_int_equal(1500000000, n);
	assert_int_equal(0, docker_parse_cpus("3/2", &n));
	assert_int_equal(1500000000, n);
	assert_int_equal(CR_ERR_INVALID, docker_parse_cpus("lots", &n));
	assert_int_equal(CR_ERR_INVALID, docker_parse_cpus("1/0", &n));
	assert_int_equal(CR_ERR_INVALID, docker_parse_cpus("-1", &n));
}

static void test_create_body(void **state)
{
	struct config_docker dc;
	struct docker_container_spec spec = { 0 };
	struct strvec cmd = STRVEC_INIT, binds = STRVEC_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	json_t *j, *hc;

	(void)state;
	memset(&dc, 0, sizeof(dc));
	strvec_init(&dc.cap_add);
	strvec_init(&dc.cap_drop);
	strvec_init(&dc.extra_hosts);
	strvec_init(&dc.devices);
	strvec_init(&dc.dns);
	strvec_init(&dc.dns_search);
	strvec_init(&dc.group_add);
	strvec_init(&dc.security_opt);
	strvec_init(&dc.services_security_opt);
	dc.memory = (char *)"64m";
	dc.cpus = (char *)"0.5";
	dc.shm_size = 1024;
	dc.network_mode = (char *)"none";
	dc.user = (char *)"nobody";
	strvec_push(&dc.cap_drop, "CHOWN");
	strvec_push(&dc.devices, "/dev/fuse");
	strvec_push(&cmd, "sh");
	strvec_push(&binds, "/b:/b");
	spec.image = "img:1";
	spec.cmd = &cmd;
	spec.binds = &binds;
	spec.labels = docker_labels(&info, "build");
	assert_int_equal(0, docker_create_body(&dc, &spec, &out, &err));
	j = json_loads(out.data, 0, NULL);
	assert_non_null(j);
	hc = json_object_get(j, "HostConfig");
	assert_string_equal("img:1", json_string_value(json_object_get(j, "Image")));
	assert_string_equal("nobody", json_string_value(json_object_get(j, "User")));
	assert_int_equal(64 << 20, json_integer_value(json_object_get(hc, "Memory")));
	assert_int_equal(500000000, json_integer_value(json_object_get(hc, "NanoCpus")));
	assert_int_equal(1024, json_integer_value(json_object_get(hc, "ShmSize")));
	assert_string_equal("none", json_string_value(json_object_get(hc, "NetworkMode")));
	assert_true(json_is_false(json_object_get(hc, "Privileged")));
	/* the configured drop plus gitlab-runner's default NET_RAW */
	assert_int_equal(2, json_array_size(json_object_get(hc, "CapDrop")));
	assert_string_equal("NET_RAW", json_string_value(
		json_array_get(json_object_get(hc, "CapDrop"), 1)));
	assert_string_equal("/dev/fuse", json_string_value(json_object_get(
		json_array_get(json_object_get(hc, "Devices"), 0), "PathInContainer")));
	json_decref(j);

	/* a bad memory value is one sentence, no body */
	buf_reset(&out);
	dc.memory = (char *)"lots";
	spec.labels = NULL;
	assert_int_equal(CR_ERR_INVALID, docker_create_body(&dc, &spec, &out, &err));
	assert_string_equal("invalid memory value 'lots' in [runners.docker]", err.data);

	buf_release(&out);
	buf_release(&err);
	strvec_clear(&cmd);
	strvec_clear(&binds);
	strvec_clear(&dc.cap_drop);
	strvec_clear(&dc.devices);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_whole),
		cmocka_unit_test(test_frames_split_anywhere),
		cmocka_unit_test(test_frames_binary_and_large),
		cmocka_unit_test(test_frames_bad_header),
		cmocka_unit_test(test_unique_name),
		cmocka_unit_test(test_job_prefix),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_cpus),
		cmocka_unit_test(test_create_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
