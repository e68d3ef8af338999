/*
 * FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR, as gitlab-runner does it
 * (executors/kubernetes/kubernetes.go buildUiGidCollector, shells/
 * abstract.go changeFilesOwnership):
 *
 * - an init container "init-build-uid-gid-collector" runs the job's image
 *   as the build container would (its user, mounts, resources) and
 *   creates <builds_dir>/.gitlab-build-uid-gid, so the file is owned by
 *   the build's uid and gid;
 * - the helper's scripts keep the container's umask (no "umask 0000");
 * - after get_sources (the builds dir), restore_cache and
 *   download_artifacts (the cache and builds dirs) the helper gives those
 *   dirs to the file's owner: chown -R "$(stat -c '%u:%g' FILE)" DIR.
 */
#include <string.h>

#include "executor/container_script.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/banned.h"

#define UID_GID_CONTAINER "init-build-uid-gid-collector"
#define UID_GID_FILE ".gitlab-build-uid-gid"

int k8s_umask_disabled(const struct k8s_job *kj)
{
	return kj->vars && variables_get_bool(kj->vars,
		"FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR", 0);
}

static void uid_gid_file(const char *builds_dir, struct buf *out)
{
	(void)buf_addf(out, "%s/" UID_GID_FILE, builds_dir);
}

void k8s_add_uid_gid_collector(json_t *pod, const char *builds_dir)
{
	json_t *spec = json_object_get(pod, "spec");
	json_t *build = json_array_get(json_object_get(spec, "containers"), 0);
	json_t *init = json_object_get(spec, "initContainers");
	json_t *c = json_object();
	static const char *const copied[] = {
		"image", "imagePullPolicy", "resources", "volumeMounts",
		"securityContext",
	};
	struct buf cmd = BUF_INIT, file = BUF_INIT;
	size_t i;

	json_object_set_new(c, "name", json_string(UID_GID_CONTAINER));
	for (i = 0; i < sizeof(copied) / sizeof(*copied); i++) {
		json_t *v = json_object_get(build, copied[i]);

		if (v)
			json_object_set_new(c, copied[i], json_deep_copy(v));
	}
	uid_gid_file(builds_dir, &file);
	(void)buf_addstr(&cmd, "> ");
	container_sh_quote(&cmd, file.data);
	json_object_set_new(c, "command", json_pack("[s,s,s]", "sh", "-c",
						    cmd.data));
	if (!json_is_array(init)) {
		init = json_array();
		json_object_set_new(spec, "initContainers", init);
	}
	/* gitlab-runner's buildInitContainers: before any other. */
	json_array_insert_new(init, 0, c);
	buf_release(&cmd);
	buf_release(&file);
}

/* The directories a helper stage hands to the build's user, or NULL. */
static int chown_dirs(const struct k8s_job *kj, const char **dirs)
{
	const char *stage = kj->stage_name ? kj->stage_name : "";

	if (!strcmp(stage, "get_sources")) {
		dirs[0] = kj->builds_dir;
		return 1;
	}
	if (!strcmp(stage, "restore_cache") ||
	    !strcmp(stage, "download_artifacts")) {
		dirs[0] = kj->cache_dir;
		dirs[1] = kj->builds_dir;
		return 2;
	}
	return 0;
}

void k8s_umask_stage_script(const struct k8s_job *kj, const char *script,
			    size_t len, struct buf *out)
{
	const char *dirs[2];
	struct buf file = BUF_INIT;
	int n = chown_dirs(kj, dirs), i;

	if (!n) {
		(void)buf_add(out, script, len);
		return;
	}
	/*
	 * The stage's script in a subshell (it ends with exit), then the
	 * chown whatever its status, which is the stage's.
	 */
	(void)buf_addstr(out, "(\n");
	(void)buf_add(out, script, len);
	(void)buf_addstr(out, "\n)\n_cr_status=$?\n");
	uid_gid_file(kj->builds_dir, &file);
	(void)buf_addstr(out, "if [ -f ");
	container_sh_quote(out, file.data);
	(void)buf_addstr(out, " ]; then\n");
	for (i = 0; i < n; i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		(void)buf_addstr(out, "  if [ -d ");
		container_sh_quote(out, dirs[i]);
		(void)buf_addstr(out, " ]; then chown -R \"$(stat -c '%u:%g' ");
		container_sh_quote(out, file.data);
		(void)buf_addstr(out, ")\" ");
		container_sh_quote(out, dirs[i]);
		(void)buf_addstr(out, " || exit 1; fi\n");
	}
	(void)buf_addstr(out, "fi\nexit \"$_cr_status\"\n");
	buf_release(&file);
}
