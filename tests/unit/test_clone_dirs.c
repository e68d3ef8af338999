/*
 * Where a job's sources come from and go to: remote_url_build()
 * (clone_url, gitlab-runner's GitAuthHelper.GetRemoteURL) and
 * clone_path_resolve() (GIT_CLONE_PATH, gitlab-runner's
 * getCustomBuildDir).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "job/clone_path.h"
#include "job/executor_defaults.h"
#include "job/remote_url.h"
#include "util/buf.h"
#include "util/error.h"

#define REPO "https://gitlab-ci-token:JT@gitlab.example.com/acme/widget.git"

static void assert_remote(const char *clone_url, const char *want)
{
	struct buf out = BUF_INIT;

	assert_int_equal(remote_url_build(REPO, clone_url, "acme/widget",
					  "JT", &out), 0);
	assert_string_equal(out.data, want);
	buf_release_secret(&out);
}

static void test_repo_url_without_clone_url(void **state)
{
	(void)state;
	assert_remote(NULL, REPO);
	assert_remote("", REPO);
	/* No scheme: gitlab-runner ignores it too. */
	assert_remote("mirror.example.com", REPO);
	assert_false(remote_url_uses_clone_url("mirror.example.com"));
	assert_true(remote_url_uses_clone_url("http://mirror"));
}

static void test_clone_url_http(void **state)
{
	(void)state;
	assert_remote("http://127.0.0.1:8080",
		      "http://gitlab-ci-token:JT@127.0.0.1:8080/acme/widget.git");
	/* Its path is kept, a trailing slash is not doubled. */
	assert_remote("https://mirror.example/gitlab/",
		      "https://gitlab-ci-token:JT@mirror.example/gitlab/acme/widget.git");
	/* Credentials in clone_url give way to the job token. */
	assert_remote("https://user:pw@mirror.example",
		      "https://gitlab-ci-token:JT@mirror.example/acme/widget.git");
}

static void test_clone_url_ssh(void **state)
{
	(void)state;
	assert_remote("ssh://mirror.example:2222",
		      "ssh://git@mirror.example:2222/acme/widget.git");
	assert_remote("ssh://ci@mirror.example/repos",
		      "ssh://ci@mirror.example/repos/acme/widget.git");
}

static void assert_clone_path(const char *builds, const char *path,
			      bool enabled, int want_r, const char *want)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	assert_int_equal(clone_path_resolve(builds, path, enabled, &out, &err),
			 want_r);
	assert_string_equal(want_r ? err.data : out.data, want);
	buf_release(&out);
	buf_release(&err);
}

static void test_clone_path(void **state)
{
	(void)state;
	assert_clone_path("/builds", "/builds/acme/custom", true, 0,
			  "/builds/acme/custom");
	assert_clone_path("/builds/", "/builds//a/./b/../c/", true, 0,
			  "/builds/a/c");
	/* The builds dir itself is within it (filepath.Rel gives "."). */
	assert_clone_path("/builds", "/builds", true, 0, "/builds");
	assert_clone_path("/", "/anywhere", true, 0, "/anywhere");
	assert_clone_path("/builds", "/builds/x", false, CR_ERR_CONFIG,
			  "setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature");
	assert_clone_path("/builds", "/tmp/x", true, CR_ERR_CONFIG,
			  "the GIT_CLONE_PATH=\"/tmp/x\" has to be within \"/builds\"");
	assert_clone_path("/builds", "/builds/../etc", true, CR_ERR_CONFIG,
			  "the GIT_CLONE_PATH=\"/builds/../etc\" has to be within \"/builds\"");
	/* A sibling sharing the prefix is outside. */
	assert_clone_path("/builds", "/builds2/x", true, CR_ERR_CONFIG,
			  "the GIT_CLONE_PATH=\"/builds2/x\" has to be within \"/builds\"");
	/* Go's HasPrefix(rel, ".."): also a first component "..x". */
	assert_clone_path("/builds", "/builds/..x", true, CR_ERR_CONFIG,
			  "the GIT_CLONE_PATH=\"/builds/..x\" has to be within \"/builds\"");
	assert_clone_path("/builds", "rel/x", true, CR_ERR_CONFIG,
			  "Rel: can't make rel/x relative to /builds");
}

static void test_executor_defaults(void **state)
{
	static const struct { const char *executor; bool on, safe; } rows[] = {
		{ "docker", true, true }, { "docker-autoscaler", true, true },
		{ "docker+machine", true, true }, { "kubernetes", true, true },
		{ "virtualbox", false, true }, { "parallels", false, true },
		{ "shell", false, false }, { "ssh", false, false },
		{ "custom", false, false }, { "instance", false, false },
		{ NULL, false, false },
	};
	struct runner_config rc;
	size_t i;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		rc.executor = (char *)rows[i].executor;
		rc.custom_build_dir.enabled = CONFIG_UNSET;
		rc.safe_directory_checkout = CONFIG_UNSET;
		assert_int_equal(executor_defaults_custom_build_dir(&rc), rows[i].on);
		assert_int_equal(executor_defaults_safe_directory(&rc), rows[i].safe);
		rc.custom_build_dir.enabled = CONFIG_TRUE;
		rc.safe_directory_checkout = CONFIG_TRUE;
		assert_true(executor_defaults_custom_build_dir(&rc));
		assert_true(executor_defaults_safe_directory(&rc));
		rc.custom_build_dir.enabled = CONFIG_FALSE;
		rc.safe_directory_checkout = CONFIG_FALSE;
		assert_false(executor_defaults_custom_build_dir(&rc));
		assert_false(executor_defaults_safe_directory(&rc));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repo_url_without_clone_url),
		cmocka_unit_test(test_clone_url_http),
		cmocka_unit_test(test_clone_url_ssh),
		cmocka_unit_test(test_clone_path),
		cmocka_unit_test(test_executor_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
