#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "local/gitlab_origin.h"
#include "local/include_fetch.h"
#include "local/include_remote.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

/* ---- origin remotes ---- */

static const struct {
	const char *remote, *url, *fqdn;
} remotes[] = {
	{ "git@gitlab.com:group/proj.git", "https://gitlab.com", "gitlab.com" },
	{ "gitlab.example.org:group/sub/proj", "https://gitlab.example.org",
	  "gitlab.example.org" },
	{ "ssh://git@gitlab.example.org:2222/group/proj.git",
	  "https://gitlab.example.org", "gitlab.example.org" },
	{ "git+ssh://git@host/g/p.git", "https://host", "host" },
	{ "https://gitlab.com/group/proj.git", "https://gitlab.com", "gitlab.com" },
	{ "https://user:s3cret@gitlab.example.org:8443/g/p.git",
	  "https://gitlab.example.org:8443", "gitlab.example.org:8443" },
	{ "https://gitlab.example.org:443/g/p", "https://gitlab.example.org",
	  "gitlab.example.org" },
	{ "http://127.0.0.1:8080/g/p.git", "http://127.0.0.1:8080",
	  "127.0.0.1:8080" },
	{ "http://[::1]:8080/g/p.git", "http://[::1]:8080", "[::1]:8080" },
	{ "git://host.example/g/p.git", "https://host.example", "host.example" },
	{ "/srv/git/proj.git", NULL, NULL },
	{ "../proj", NULL, NULL },
	{ "file:///srv/git/proj.git", NULL, NULL },
	{ "./dir:with/colon", NULL, NULL },
	{ "https:///nohost", NULL, NULL },
};

static void test_instance_from_remote(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(remotes) / sizeof(*remotes); i++) {
		struct gitlab_instance gi = GITLAB_INSTANCE_INIT;
		struct buf err = BUF_INIT;
		int r = gitlab_instance_from_remote(remotes[i].remote, &gi, &err);

		if (!remotes[i].url) {
			if (r != CR_ERR_INVALID)
				fail_msg("'%s': expected an error, got url '%s'",
					 remotes[i].remote, gi.url);
			assert_non_null(strstr(err.data, remotes[i].remote));
		} else {
			if (r)
				fail_msg("'%s': %s", remotes[i].remote, err.data);
			if (strcmp(gi.url, remotes[i].url) ||
			    strcmp(gi.fqdn, remotes[i].fqdn))
				fail_msg("'%s': expected %s / %s, got %s / %s",
					 remotes[i].remote, remotes[i].url,
					 remotes[i].fqdn, gi.url, gi.fqdn);
			assert_null(strstr(gi.url, "s3cret"));
		}
		gitlab_instance_release(&gi);
		buf_release(&err);
	}
}

/* A mirror's origin on a forge that is not GitLab names no instance. */
static void test_instance_not_gitlab(void **state)
{
	static const char *const mirrors[] = {
		"https://github.com/GNOME/glib.git",
		"git@github.com:qemu/qemu.git",
		"ssh://git@GitHub.com/a/b",
		"https://user:s3cret@bitbucket.org/a/b.git",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(mirrors) / sizeof(*mirrors); i++) {
		struct gitlab_instance gi = GITLAB_INSTANCE_INIT;
		struct buf err = BUF_INIT;

		assert_int_equal(gitlab_instance_from_remote(mirrors[i], &gi,
							     &err),
				 CR_ERR_INVALID);
		assert_null(gi.url);
		assert_non_null(strstr(err.data, "not a GitLab server"));
		assert_null(strstr(err.data, "s3cret"));
		buf_release(&err);
	}
}

static void test_instance_from_url(void **state)
{
	struct gitlab_instance gi = GITLAB_INSTANCE_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(gitlab_instance_from_url("https://gl.example/gitlab/", &gi,
						  &err), 0);
	assert_string_equal(gi.url, "https://gl.example/gitlab");
	assert_string_equal(gi.fqdn, "gl.example");
	gitlab_instance_release(&gi);
	assert_int_equal(gitlab_instance_from_url("http://127.0.0.1:3000", &gi,
						  &err), 0);
	assert_string_equal(gi.url, "http://127.0.0.1:3000");
	assert_string_equal(gi.fqdn, "127.0.0.1:3000");
	gitlab_instance_release(&gi);
	assert_int_equal(gitlab_instance_from_url("gl.example", &gi, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "--gitlab-url 'gl.example'"));
	buf_reset(&err);
	assert_int_equal(gitlab_instance_from_url("https://u:p@gl.example", &gi,
						  &err), CR_ERR_INVALID);
	buf_release(&err);
}

/* ---- component versions ---- */

static void test_semver(void **state)
{
	long v[3];
	int pre;

	(void)state;
	assert_true(include_semver_parse("1.2.3", v, &pre));
	assert_true(v[0] == 1 && v[1] == 2 && v[2] == 3 && !pre);
	assert_true(include_semver_parse("v10.0.1-rc.1+b5", v, &pre));
	assert_true(v[0] == 10 && v[1] == 0 && v[2] == 1 && pre);
	assert_true(include_semver_parse("2.0.0+build", v, &pre) && !pre);
	assert_false(include_semver_parse("1.2", v, &pre));
	assert_false(include_semver_parse("1.2.3x", v, &pre));
	assert_false(include_semver_parse("main", v, &pre));
}

static const char releases[] =
	"[{\"tag_name\": \"0.9.0\"}, {\"tag_name\": \"2.0.0-rc1\"},"
	" {\"tag_name\": \"1.10.0\"}, {\"tag_name\": \"1.9.3\"},"
	" {\"tag_name\": \"1.2.7\"}, {\"tag_name\": \"1.2.10\"},"
	" {\"tag_name\": \"3.0.0\", \"upcoming_release\": true},"
	" {\"tag_name\": \"not-a-version\"}]";

static void expect_tag(const char *version, const char *want)
{
	char *got = include_component_tag(releases, strlen(releases), version);

	if (want == NULL ? got != NULL : got == NULL || strcmp(got, want))
		fail_msg("version '%s': expected %s, got %s", version,
			 want ? want : "(none)", got ? got : "(none)");
	free(got);
}

static void test_component_tag(void **state)
{
	(void)state;
	expect_tag("~latest", "1.10.0");	/* semver order, no pre-release */
	expect_tag("1", "1.10.0");
	expect_tag("1.2", "1.2.10");
	expect_tag("0", "0.9.0");
	expect_tag("2", NULL);			/* only a pre-release */
	expect_tag("1.2.7", NULL);		/* a full version: used as a ref */
	expect_tag("main", NULL);
	assert_null(include_component_tag("{}", 2, "~latest"));
}

/* ---- include_remote_fetch without a network: validation, offline ---- */

struct fixture {
	char dir[64];
	struct gitlab_instance gi;
	struct include_remote ir;
	struct yfiles files;
	struct ynode *doc;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct buf err = BUF_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/cr-increm-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(gitlab_instance_from_url("https://gl.example", &f->gi,
						  &err), 0);
	f->ir.instance = &f->gi;
	f->ir.fetch.cache_dir = f->dir;
	f->ir.fetch.offline = true;
	buf_release(&err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ynode_free(f->doc);
	yfiles_release(&f->files);
	gitlab_instance_release(&f->gi);
	fs_remove_tree(f->dir);
	free(f);
	return 0;
}

/* The include entry of a one-entry `include:` list. */
static const struct ynode *entry_of(struct fixture *f, const char *yaml)
{
	struct buf err = BUF_INIT;

	ynode_free(f->doc);
	f->doc = NULL;
	if (yaml_load_string(&f->files, yaml, strlen(yaml), "ci.yml", &f->doc,
			     &err))
		fail_msg("%s", err.data);
	buf_release(&err);
	return ynode_get(f->doc, "include")->items[0];
}

static void put_cache(struct fixture *f, const char *key, const char *text)
{
	char *path = include_fetch_cache_path(&f->ir.fetch, key);
	struct buf err = BUF_INIT;
	FILE *fp;

	assert_int_equal(fs_make_parent_dirs(path, 0700, &err), 0);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	free(path);
	buf_release(&err);
}

static int fetch(struct fixture *f, const char *yaml, const char *project,
		 struct yaml_fetched **out, size_t *nr, struct buf *err)
{
	return include_remote_fetch(&f->ir, NULL, entry_of(f, yaml), project,
				    project ? "main" : NULL, out, nr, err);
}

static void release_all(struct yaml_fetched *out, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		yaml_fetched_release(&out[i]);
	free(out);
}

static void test_offline_reads_the_cache(void **state)
{
	struct fixture *f = *state;
	struct yaml_fetched *out = NULL;
	size_t nr = 0;
	struct buf err = BUF_INIT;

	put_cache(f, "project https://gl.example g/p HEAD a.yml", "a: 1\n");
	put_cache(f, "project https://gl.example g/p HEAD b.yml", "b: 1\n");
	assert_int_equal(fetch(f, "include:\n  - project: G/P\n    file: [/a.yml, b.yml]\n",
			       NULL, &out, &nr, &err), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(out[0].text, "a: 1\n");
	assert_string_equal(out[0].name, "g/p@HEAD:a.yml");
	assert_string_equal(out[0].project, "g/p");	/* its local includes */
	assert_string_equal(out[0].ref, "HEAD");
	assert_string_equal(out[1].text, "b: 1\n");
	release_all(out, nr);

	/* A remote file keeps the includer's place for its local includes. */
	put_cache(f, "remote https://x.example/ci.yml", "r: 1\n");
	assert_int_equal(fetch(f, "include:\n  - https://x.example/ci.yml\n", NULL,
			       &out, &nr, &err), 0);
	assert_int_equal(nr, 1);
	assert_null(out[0].project);
	release_all(out, nr);

	/* integrity: is checked on the file, cached or not. */
	assert_int_equal(fetch(f, "include:\n  - remote: https://x.example/ci.yml\n"
			       "    integrity: sha256-qhqfMEdEaDuxpPn4QS9j7St3rA9DPNtYvK0NYM9Rkt0=\n", NULL, &out, &nr, &err), 0);
	release_all(out, nr);
	assert_int_equal(fetch(f, "include:\n  - remote: https://x.example/ci.yml\n"
			       "    integrity: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
			       NULL, &out, &nr, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, "ci.yml:2:5: include remote 'https://x.example/ci.yml': the file does not match its integrity: it is sha256-qhqfMEdEaDuxpPn4QS9j7St3rA9DPNtYvK0NYM9Rkt0=, integrity says sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	buf_reset(&err);
	assert_int_equal(fetch(f, "include:\n  - remote: https://x.example/ci.yml\n"
			       "    integrity: sha256-not*base64\n", NULL, &out, &nr, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "integrity hash must be base64 encoded"));
	buf_reset(&err);
	assert_int_equal(fetch(f, "include:\n  - remote: https://x.example/ci.yml\n"
			       "    integrity: md5-abc\n", NULL, &out, &nr, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "integrity hash must start with 'sha256-'"));
	buf_reset(&err);

	/* A local include in a file of project g/p is that project's. */
	put_cache(f, "project https://gl.example g/p main sub/c.yml", "c: 1\n");
	assert_int_equal(fetch(f, "include:\n  - local: /sub/c.yml\n", "g/p",
			       &out, &nr, &err), 0);
	assert_string_equal(out[0].text, "c: 1\n");
	release_all(out, nr);

	/* The simple component layout is tried first, then the directory. */
	put_cache(f, "project https://gl.example g/comps 1.0.0 templates/x/template.yml",
		  "x: 1\n");
	assert_int_equal(fetch(f, "include:\n  - component: gl.example/g/comps/x@1.0.0\n",
			       NULL, &out, &nr, &err), 0);
	assert_string_equal(out[0].text, "x: 1\n");
	assert_string_equal(out[0].name, "gl.example/g/comps@1.0.0:templates/x/template.yml");
	assert_string_equal(out[0].project, "g/comps");
	assert_string_equal(out[0].ref, "1.0.0");
	release_all(out, nr);
	/* Not in the cache in either layout: the error says what to do. */
	assert_int_equal(fetch(f, "include:\n  - component: gl.example/g/comps/y@1.0.0\n",
			       NULL, &out, &nr, &err), CR_ERR_NOT_FOUND);
	assert_non_null(strstr(err.data, "templates%2Fy%2Ftemplate.yml"));
	assert_non_null(strstr(err.data, "not in the include cache"));
	assert_non_null(strstr(err.data, "; run once without --offline to fetch it"));
	buf_release(&err);
}

static void test_entry_errors(void **state)
{
	static const struct {
		const char *yaml, *message;
	} cases[] = {
		{ "include:\n  - remote: https://x.example/ci.txt\n",
		  "ci.yml:2:5: included file `https://x.example/ci.txt` does not have YAML extension!" },
		{ "include:\n  - template: Bash\n",
		  "template file `Bash` is not a valid location!" },
		{ "include:\n  - {project: g/p, file: a.yml, remote: https://x/a.yml}\n",
		  "each include must use only one of:" },
		{ "include:\n  - {ref: main}\n",
		  "does not have a valid subkey for include" },
		{ "include:\n  - {remote: https://x/a.yml, integrity: sha256-x, cache: true}\n",
		  "ci.yml:2:52: include: unknown keyword 'cache'" },
		{ "include:\n  - {project: g/p, file: a.yml, integrity: sha256-x}\n",
		  "integrity can only be specified for remote includes" },
		{ "include:\n  - component: gitlab.com/g/p/c@1\n",
		  "component 'gitlab.com/g/p/c@1' - the component path is not supported: it must be 'gl.example/<project path>/<name>@<version>'" },
		{ "include:\n  - component: gl.example/c@1\n",
		  "the path must name a project and a component" },
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct yaml_fetched *out = NULL;
		size_t nr = 0;
		struct buf err = BUF_INIT;

		if (!fetch(f, cases[i].yaml, NULL, &out, &nr, &err))
			fail_msg("case %zu: no error", i);
		if (!strstr(err.data, cases[i].message))
			fail_msg("case %zu: expected '%s' in '%s'", i,
				 cases[i].message, err.data);
		assert_null(out);
		buf_release(&err);
	}
}

static void test_unknown_instance(void **state)
{
	struct fixture *f = *state;
	struct yaml_fetched *out = NULL;
	size_t nr = 0;
	struct buf err = BUF_INIT;

	f->ir.instance = NULL;
	f->ir.instance_why = "the repository has no origin remote";
	assert_int_equal(fetch(f, "include:\n  - template: Bash.gitlab-ci.yml\n",
			       NULL, &out, &nr, &err), CR_ERR_USAGE);
	assert_string_equal(err.data, "ci.yml:2:5: include template 'Bash.gitlab-ci.yml': cannot tell which GitLab server to ask: the repository has no origin remote; give it with --gitlab-url");
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instance_from_remote),
		cmocka_unit_test(test_instance_not_gitlab),
		cmocka_unit_test(test_instance_from_url),
		cmocka_unit_test(test_semver),
		cmocka_unit_test(test_component_tag),
		cmocka_unit_test_setup_teardown(test_offline_reads_the_cache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_entry_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_instance, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
