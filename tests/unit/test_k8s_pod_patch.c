/*
 * FF_USE_ADVANCED_POD_SPEC_CONFIGURATION's patches: JSON Patch (RFC 6902),
 * JSON Merge Patch (RFC 7386), the strategic merge of a PodSpec, and the
 * [[runners.kubernetes.pod_spec]] entries read by the real config loader.
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

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_pod_patch.h"
#include "util/buf.h"
#include "util/error.h"
#include "k8s_pod_fixture.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

	if (!j)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return j;
}

static void assert_same(json_t *got, const char *want)
{
	json_t *w = parse(want);

	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS |
				     JSON_ENCODE_ANY);

		fail_msg("got %s, want %s", g, want);
	}
	json_decref(w);
}

static const char spec_json[] =
	"{\"containers\":["
	"{\"name\":\"build\",\"image\":\"alpine\",\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}],"
	"\"volumeMounts\":[{\"name\":\"repo\",\"mountPath\":\"/builds\"}]},"
	"{\"name\":\"helper\",\"image\":\"helper\"}],"
	"\"volumes\":[{\"name\":\"repo\",\"emptyDir\":{}}],"
	"\"nodeSelector\":{\"a\":\"1\"},"
	"\"tolerations\":[{\"key\":\"x\",\"operator\":\"Exists\"}],"
	"\"restartPolicy\":\"Never\"}";

static void test_json_patch(void **state)
{
	json_t *doc = parse(spec_json), *ops;
	struct buf err = BUF_INIT;

	(void)state;
	ops = parse("[{\"op\":\"add\",\"path\":\"/containers/0/env/-\",\"value\":{\"name\":\"C\",\"value\":\"3\"}},"
		    "{\"op\":\"replace\",\"path\":\"/containers/1/image\",\"value\":\"h2\"},"
		    "{\"op\":\"remove\",\"path\":\"/tolerations\"},"
		    "{\"op\":\"add\",\"path\":\"/nodeSelector/k8s.io~1os\",\"value\":\"linux\"},"
		    "{\"op\":\"copy\",\"from\":\"/restartPolicy\",\"path\":\"/x\"},"
		    "{\"op\":\"move\",\"from\":\"/x\",\"path\":\"/y\"},"
		    "{\"op\":\"test\",\"path\":\"/y\",\"value\":\"Never\"},"
		    "{\"op\":\"add\",\"path\":\"/containers/0\",\"value\":{\"name\":\"first\",\"image\":\"i\"}}]");
	assert_int_equal(k8s_json_patch(&doc, ops, &err), 0);
	assert_same(json_object_get(doc, "nodeSelector"),
		    "{\"a\":\"1\",\"k8s.io/os\":\"linux\"}");
	assert_null(json_object_get(doc, "tolerations"));
	assert_null(json_object_get(doc, "x"));
	assert_same(json_object_get(doc, "y"), "\"Never\"");
	assert_same(json_object_get(json_array_get(json_object_get(doc,
		"containers"), 0), "name"), "\"first\"");
	assert_same(json_object_get(json_array_get(json_object_get(doc,
		"containers"), 2), "image"), "\"h2\"");
	assert_same(json_object_get(json_array_get(json_object_get(doc,
		"containers"), 1), "env"),
		"[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"},{\"name\":\"C\",\"value\":\"3\"}]");
	json_decref(ops);

	/* A failing operation leaves the document as it was. */
	ops = parse("[{\"op\":\"remove\",\"path\":\"/restartPolicy\"},"
		    "{\"op\":\"replace\",\"path\":\"/nope\",\"value\":1}]");
	assert_int_equal(k8s_json_patch(&doc, ops, &err), CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "/nope"));
	assert_same(json_object_get(doc, "restartPolicy"), "\"Never\"");
	json_decref(ops);
	buf_reset(&err);
	ops = parse("[{\"op\":\"test\",\"path\":\"/restartPolicy\",\"value\":\"Always\"}]");
	assert_int_equal(k8s_json_patch(&doc, ops, &err), CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "test failed"));
	json_decref(ops);
	buf_reset(&err);
	ops = parse("[{\"op\":\"add\",\"path\":\"/containers/9\",\"value\":{}}]");
	assert_int_equal(k8s_json_patch(&doc, ops, &err), CR_ERR_CONFIG);
	json_decref(ops);
	json_decref(doc);
	buf_release(&err);
}

static void test_merge_patch(void **state)
{
	json_t *doc = parse(spec_json), *patch, *out;

	(void)state;
	/* RFC 7386: maps merge, null deletes, lists are replaced whole. */
	patch = parse("{\"nodeSelector\":{\"a\":null,\"b\":\"2\"},"
		      "\"containers\":[{\"name\":\"only\",\"image\":\"x\"}],"
		      "\"restartPolicy\":null,\"hostNetwork\":true}");
	out = k8s_merge_patch(doc, patch);
	assert_same(json_object_get(out, "nodeSelector"), "{\"b\":\"2\"}");
	assert_same(json_object_get(out, "containers"),
		    "[{\"name\":\"only\",\"image\":\"x\"}]");
	assert_null(json_object_get(out, "restartPolicy"));
	assert_same(json_object_get(out, "hostNetwork"), "true");
	/* The target is untouched. */
	assert_same(json_object_get(doc, "nodeSelector"), "{\"a\":\"1\"}");
	json_decref(out);
	json_decref(patch);
	json_decref(doc);
}

static void test_strategic_merge(void **state)
{
	json_t *doc = parse(spec_json), *patch;
	struct buf err = BUF_INIT;
	json_t *c;

	(void)state;
	/*
	 * Containers merge by name (the build one changed, a new one
	 * appended), env by name, volumes by name; tolerations (no merge
	 * key) are replaced.
	 */
	patch = parse("{\"containers\":["
		      "{\"name\":\"build\",\"env\":[{\"name\":\"B\",\"value\":\"two\"},{\"name\":\"D\",\"value\":\"4\"}],"
		      "\"securityContext\":{\"runAsUser\":1000}},"
		      "{\"name\":\"sidecar\",\"image\":\"busybox\"}],"
		      "\"volumes\":[{\"name\":\"cache\",\"emptyDir\":{}}],"
		      "\"tolerations\":[{\"key\":\"y\",\"operator\":\"Exists\"}],"
		      "\"nodeSelector\":{\"a\":null,\"b\":\"2\"}}");
	assert_int_equal(k8s_strategic_merge_pod_spec(&doc, patch, &err), 0);
	c = json_object_get(doc, "containers");
	assert_int_equal(json_array_size(c), 3);
	assert_same(json_object_get(json_array_get(c, 0), "image"), "\"alpine\"");
	assert_same(json_object_get(json_array_get(c, 0), "env"),
		    "[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\",\"value\":\"two\"},{\"name\":\"D\",\"value\":\"4\"}]");
	assert_same(json_object_get(json_array_get(c, 0), "securityContext"),
		    "{\"runAsUser\":1000}");
	assert_same(json_object_get(json_array_get(c, 0), "volumeMounts"),
		    "[{\"name\":\"repo\",\"mountPath\":\"/builds\"}]");
	assert_same(json_object_get(json_array_get(c, 2), "name"), "\"sidecar\"");
	assert_same(json_object_get(doc, "volumes"),
		    "[{\"name\":\"repo\",\"emptyDir\":{}},{\"name\":\"cache\",\"emptyDir\":{}}]");
	assert_same(json_object_get(doc, "tolerations"),
		    "[{\"key\":\"y\",\"operator\":\"Exists\"}]");
	assert_same(json_object_get(doc, "nodeSelector"), "{\"b\":\"2\"}");
	json_decref(patch);

	/* $patch: delete of an element, $patch: replace of a map. */
	patch = parse("{\"containers\":[{\"name\":\"sidecar\",\"$patch\":\"delete\"},"
		      "{\"name\":\"build\",\"securityContext\":{\"$patch\":\"replace\",\"privileged\":true}}],"
		      "\"nodeSelector\":{\"$patch\":\"delete\"}}");
	assert_int_equal(k8s_strategic_merge_pod_spec(&doc, patch, &err), 0);
	c = json_object_get(doc, "containers");
	assert_int_equal(json_array_size(c), 2);
	assert_same(json_object_get(json_array_get(c, 0), "securityContext"),
		    "{\"privileged\":true}");
	assert_null(json_object_get(doc, "nodeSelector"));
	json_decref(patch);

	/* A list element without its merge key is an error. */
	patch = parse("{\"volumes\":[{\"emptyDir\":{}}]}");
	assert_int_equal(k8s_strategic_merge_pod_spec(&doc, patch, &err),
			 CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "merge key"));
	json_decref(patch);
	json_decref(doc);
	buf_release(&err);
}

static void test_pod_spec_entries(void **state)
{
	char file[] = "/tmp/test_k8s_pod_patch_file.XXXXXX";
	struct config cfg;
	struct buf toml = BUF_INIT, err = BUF_INIT;
	json_t *pod;
	int fd = mkstemp(file);

	(void)state;
	assert_true(fd >= 0);
	/* A YAML JSON patch in a file. */
	assert_true(write(fd, "- op: add\n  path: /hostname\n  value: patched\n",
			  45) == 45);
	close(fd);
	(void)buf_addf(&toml,
		"    [[runners.kubernetes.pod_spec]]\n"
		"      name = \"yaml strategic\"\n"
		"      patch = '''\n"
		"        containers:\n"
		"          - name: build\n"
		"            workingDir: /work\n"
		"        priority: 5\n"
		"      '''\n"
		"    [[runners.kubernetes.pod_spec]]\n"
		"      name = \"json merge\"\n"
		"      patch = '{\"restartPolicy\": null, \"subdomain\": \"s\"}'\n"
		"      patch_type = \"merge\"\n"
		"    [[runners.kubernetes.pod_spec]]\n"
		"      name = \"file\"\n"
		"      patch_path = \"%s\"\n"
		"      patch_type = \"json\"\n", file);
	k8s_config_load(&cfg, toml.data);
	pod = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
		    "\"spec\":{\"containers\":[{\"name\":\"build\",\"image\":\"alpine\"}],\"restartPolicy\":\"Never\"}}");
	assert_int_equal(k8s_pod_spec_patches(&cfg.runners[0]->kubernetes, pod,
					      &err), 0);
	assert_same(json_object_get(pod, "spec"),
		    "{\"containers\":[{\"name\":\"build\",\"image\":\"alpine\",\"workingDir\":\"/work\"}],"
		    "\"priority\":5,\"subdomain\":\"s\",\"hostname\":\"patched\"}");
	assert_same(json_object_get(pod, "metadata"), "{\"name\":\"p\"}");
	json_decref(pod);
	config_release(&cfg);
	unlink(file);

	/* A missing patch file, then both patch and patch_path. */
	buf_reset(&toml);
	(void)buf_addf(&toml, "    [[runners.kubernetes.pod_spec]]\n"
		       "      name = \"gone\"\n      patch_path = \"%s\"\n", file);
	k8s_config_load(&cfg, toml.data);
	pod = parse("{\"spec\":{}}");
	assert_int_equal(k8s_pod_spec_patches(&cfg.runners[0]->kubernetes, pod,
					      &err), CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "loading patch file (gone)"));
	json_decref(pod);
	config_release(&cfg);
	buf_reset(&err);
	k8s_config_load(&cfg, "    [[runners.kubernetes.pod_spec]]\n"
	     "      name = \"both\"\n      patch = \"a: 1\"\n"
	     "      patch_path = \"/x\"\n");
	pod = parse("{\"spec\":{}}");
	assert_int_equal(k8s_pod_spec_patches(&cfg.runners[0]->kubernetes, pod,
					      &err), CR_ERR_CONFIG);
	assert_string_equal(err.data,
		"ambiguous patch: both patch path and patch provided (both)");
	json_decref(pod);
	config_release(&cfg);
	buf_release(&toml);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_patch),
		cmocka_unit_test(test_merge_patch),
		cmocka_unit_test(test_strategic_merge),
		cmocka_unit_test(test_pod_spec_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
