/*
 * .gitlab-ci.yml to job payloads, as `crunner exec` does it: any bytes
 * load (libfyaml, then the pipeline model) or are refused with a message,
 * in bounded time; a loaded pipeline builds its graph, and every job's
 * composed payload is JSON that the engine's decoder accepts.
 */
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#include "gitlab/payload.h"
#include "local/dag.h"
#include "local/payload.h"
#include "local/pipeline.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/strvec.h"

static char dir[] = "/tmp/crunner-fuzz-yaml-XXXXXX";

static void remove_dir(void)
{
	(void)rmdir(dir);
}

/* An empty directory: the project tree that exists: and key:files see. */
static const char *empty_dir(void)
{
	static bool made;

	if (!made) {
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
		made = true;
	}
	return dir;
}

static const struct strvec *no_files(void *ctx)
{
	static const struct strvec none = STRVEC_INIT;

	(void)ctx;
	return &none;
}

static void compose_all(const struct dag *d, const char *root)
{
	struct local_repo repo = { 0 };
	struct local_payload_options o = { 0 };
	struct buf err = BUF_INIT;
	struct job_payload *p;
	size_t i;
	char *json;
	int r;

	repo.root = (char *)root;
	repo.sha = repo.before_sha = repo.ref = (char *)"main";
	repo.project_name = repo.project_path = (char *)"p";
	o.repo = &repo;
	o.token = "fuzz-token";
	for (i = 0; i < d->nr; i++) {
		buf_reset(&err);
		if (local_payload_check(&d->jobs[i], &err))
			continue;
		o.job_id = (long)i + 1;
		json = NULL;
		r = local_payload_compose(&d->jobs[i], &o, &json, &err);
		if (r) {
			FUZZ_CHECK(err.len > 0, "compose error %d without a message",
				   r);
			continue;
		}
		p = NULL;
		r = job_payload_decode(json, strlen(json), &p, &err);
		FUZZ_CHECK(r == 0, "job '%s': the composed payload does not decode: %s\n%s",
			   d->jobs[i].name, err.data, json);
		job_payload_free(p);
		free(json);
	}
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yfiles files = YFILES_INIT;
	struct pipeline pl = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct dag_options o = { 0 };
	struct ynode *doc = NULL;
	struct buf err = BUF_INIT;
	const char *root = empty_dir();
	char *text;
	int r;

	if (size > 65536)
		return 0;
	/* The bytes as they are, NULs included, straight to the YAML layer. */
	r = yaml_load_string(&files, (const char *)data, size, "ci.yml", &doc,
			     &err);
	FUZZ_CHECK(r == 0 || err.len > 0, "yaml error %d without a message", r);
	ynode_free(doc);
	yfiles_release(&files);
	buf_reset(&err);

	text = fuzz_cstr(data, size);
	if (pipeline_load_string(&pl, text, &err) == 0) {
		o.rules.root_dir = root;
		o.rules.ref = "main";
		o.rules.source = "push";
		o.rules.files = no_files;
		r = dag_build(&d, &pl, &o, &err);
		if (r == 0)
			compose_all(&d, root);
		else
			FUZZ_CHECK(err.len > 0, "dag error %d without a message", r);
	} else {
		FUZZ_CHECK(err.len > 0, "pipeline refused without a message");
	}
	dag_release(&d);
	pipeline_release(&pl);
	free(text);
	buf_release(&err);
	return 0;
}
