/*
 * Shared by the kubernetes pod unit tests that build a pod from
 * config.toml lines: k8s_config_load() loads a [runners.kubernetes]
 * section, and struct k8s_pod_fixture holds what k8s_pod_build() takes
 * (one service "db", a one-word command for both containers).
 * k8s_pod_fixture_setup() fills it in, the test may change f->in, then
 * k8s_pod_fixture_build(); k8s_pod_fixture_release() frees all of it.
 * k8s_test_security_defaults() gives a struct config_kubernetes made by
 * hand the unset security contexts config.toml would.
 * Include after <cmocka.h>.
 */
#ifndef CRUNNER_TESTS_K8S_POD_FIXTURE_H
#define CRUNNER_TESTS_K8S_POD_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/strvec.h"

/*
 * Loads a one-runner config.toml whose [runners.kubernetes] section has
 * image = "alpine" and then the given TOML lines.  A load error or any
 * warning at load (every key must be known and have an effect) fails the
 * test.
 */
static inline void k8s_config_load(struct config *cfg, const char *toml)
{
	char path[] = "/tmp/crunner-unit-k8s.XXXXXX";
	struct buf err = BUF_INIT;
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fprintf(fp, "[[runners]]\n  name = \"r\"\n  url = \"https://gitlab.example.com\"\n"
		"  token = \"glrt-x\"\n  executor = \"kubernetes\"\n"
		"  [runners.kubernetes]\n    image = \"alpine\"\n%s\n", toml);
	fclose(fp);
	memset(cfg, 0, sizeof(*cfg));
	if (config_load(path, cfg, &err) != 0)
		fail_msg("config_load: %s", err.data);
	unlink(path);
	buf_release(&err);
	assert_int_equal(cfg->nr_runners, 1);
	if (cfg->warnings.nr)
		fail_msg("config warning: %s", cfg->warnings.v[0]);
}

/* config.toml's defaults of the security context tables (Go's nil). */
static inline void k8s_test_security_defaults(struct config_kubernetes *kc)
{
	int i;

	kc->pod_security.fs_group = -1;
	kc->pod_security.run_as_group = -1;
	kc->pod_security.run_as_user = -1;
	kc->pod_security.run_as_non_root = CONFIG_UNSET;
	for (i = 0; i < K8S_SC_OWNERS; i++) {
		kc->sc[i].privileged = CONFIG_UNSET;
		kc->sc[i].run_as_user = -1;
		kc->sc[i].run_as_group = -1;
		kc->sc[i].run_as_non_root = CONFIG_UNSET;
		kc->sc[i].read_only_root_filesystem = CONFIG_UNSET;
		kc->sc[i].allow_privilege_escalation = CONFIG_UNSET;
	}
}

struct k8s_pod_fixture {
	struct config cfg;
	struct variables vars;
	struct strvec cmd, warnings, notes;
	struct k8s_service_spec svc;
	struct k8s_pod_input in;
	json_t *pod;
};

/* Loads toml and sets the pod's inputs (no variables yet, no notes). */
static inline void k8s_pod_fixture_setup(struct k8s_pod_fixture *f,
					 const char *toml)
{
	memset(f, 0, sizeof(*f));
	k8s_config_load(&f->cfg, toml);
	variables_init(&f->vars);
	strvec_init(&f->cmd);
	strvec_push(&f->cmd, "sh");
	strvec_init(&f->warnings);
	strvec_init(&f->notes);
	f->svc.container = strdup("db");
	f->svc.image = strdup("postgres");
	strvec_init(&f->svc.env);
	f->in.kc = &f->cfg.runners[0]->kubernetes;
	f->in.name = "runner-abc-project-42-concurrent-0-xyz12345";
	f->in.namespace = "ci";
	f->in.unique = "runner-abc-project-42-concurrent-0";
	f->in.vars = &f->vars;
	f->in.image = "alpine";
	f->in.helper_image = "helper";
	f->in.build_cmd = &f->cmd;
	f->in.helper_cmd = &f->cmd;
	f->in.builds_dir = "/builds";
	f->in.scripts_dir = "/scripts-42-1000";
	f->in.services = &f->svc;
	f->in.nr_services = 1;
	f->in.warnings = &f->warnings;
}

/* Builds f->pod from f->in; an error fails the test. */
static inline void k8s_pod_fixture_build(struct k8s_pod_fixture *f)
{
	struct buf err = BUF_INIT;

	if (k8s_pod_build(&f->in, &f->pod, &err) != 0)
		fail_msg("k8s_pod_build: %s", err.data);
	buf_release(&err);
}

static inline void k8s_pod_fixture_release(struct k8s_pod_fixture *f)
{
	json_decref(f->pod);
	variables_release(&f->vars);
	strvec_clear(&f->cmd);
	strvec_clear(&f->warnings);
	strvec_clear(&f->notes);
	strvec_clear(&f->svc.env);
	free(f->svc.container);
	free(f->svc.image);
	free(f->svc.user);
	config_release(&f->cfg);
}

#endif
