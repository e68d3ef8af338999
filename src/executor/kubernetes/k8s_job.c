/*
 * What the worker thread does for one job: create the pod and wait for
 * it (gitlab-runner's setupBuildPod, waitForPodRunning), run a stage's
 * script through exec (its legacy execution strategy), delete the pod
 * (cleanupResources).  Blocking calls only; kj->cancel stops them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/container_script.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "executor/kubernetes/k8s_pod_patch.h"
#include "executor/kubernetes/k8s_ws.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SLICE_MS 200
#define DEFAULT_CLEANUP_TIMEOUT_MS (5 * 60 * 1000LL)
#define REQUEST_TIMEOUT_MS 30000L

/* The shell the containers wait in, and the one that runs a script. */
#define SHELL_LIST "/usr/local/bin/bash /usr/bin/bash /bin/bash " \
	"/usr/local/bin/sh /usr/bin/sh /bin/sh /busybox/sh"
const char k8s_detect_shell[] =
	"for s in " SHELL_LIST "; do if [ -x \"$s\" ]; then exec \"$s\" \"$@\"; "
	"fi; done; echo shell not found; exit 1";

static void send_frame(struct k8s_job *kj, int is_stderr, const char *data,
		       size_t len)
{
	unsigned char head[5];

	head[0] = is_stderr ? 1 : 0;
	head[1] = (unsigned char)(len >> 24);
	head[2] = (unsigned char)(len >> 16);
	head[3] = (unsigned char)(len >> 8);
	head[4] = (unsigned char)len;
	if (send(kj->fds[1], head, sizeof(head), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(head))
		return;
	while (len) {
		ssize_t n = send(kj->fds[1], data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

void k8s_out(struct k8s_job *kj, int is_stderr, const char *data, size_t len)
{
	if (!len)
		return;
	pthread_mutex_lock(&kj->out_lock);
	send_frame(kj, is_stderr, data, len);
	pthread_mutex_unlock(&kj->out_lock);
}

void k8s_say(struct k8s_job *kj, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vaddf(&b, fmt, ap);
	va_end(ap);
	(void)buf_addch(&b, '\n');
	k8s_out(kj, 0, b.data, b.len);
	buf_release(&b);
}

void k8s_fail(struct k8s_job *kj, int err, const char *fmt, ...)
{
	va_list ap;

	if (kj->err)
		return;
	kj->err = err;
	buf_reset(&kj->why);
	va_start(ap, fmt);
	(void)buf_vaddf(&kj->why, fmt, ap);
	va_end(ap);
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int canceled(struct k8s_job *kj)
{
	return atomic_load(&kj->cancel) != 0;
}

int k8s_nap(struct k8s_job *kj, long ms)
{
	while (ms > 0 && !canceled(kj)) {
		long step = ms < SLICE_MS ? ms : SLICE_MS;
		struct timespec ts = { step / 1000, (step % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
	return canceled(kj);
}

static void pod_path(struct k8s_job *kj, struct buf *p, const char *name)
{
	k8s_core_path(p, kj->namespace, "pods", name);
}

/* ---- the services ---- */

/* A DNS-1123 label: [a-z0-9-], at most 63, alphanumeric at both ends. */
static int dns_label(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/*
 * gitlab-runner's getServiceName: the first alias (aliases are
 * space or comma separated) that is a DNS-1123 label not used yet.
 */
static char *service_name(const char *aliases, struct strvec *used)
{
	char *copy = xstrdup(aliases ? aliases : ""), *p = copy, *out = NULL;

	while (*p && !out) {
		size_t n = strcspn(p, " ,"), i;
		int taken = 0;

		if (n) {
			char *a = xstrndup(p, n);

			for (i = 0; i < used->nr; i++)
				if (!strcmp(used->v[i], a))
					taken = 1;
			if (!taken) {
				strvec_push(used, a);
				if (dns_label(a))
					out = xstrdup(a);
			}
			free(a);
		}
		p += n;
		p += strspn(p, " ,");
	}
	free(copy);
	return out;
}

static void public_env(struct k8s_job *kj, struct strvec *env)
{
	size_t i;

	for (i = 0; kj->vars && i < kj->vars->nr; i++) {
		const struct variable *v = &kj->vars->items[i];

		if (v->flags & VAR_PUBLIC)
			strvec_pushf(env, "%s=%s", v->key, v->value);
	}
}

static int by_container(const void *a, const void *b)
{
	return strcmp(((const struct k8s_service_spec *)a)->container,
		      ((const struct k8s_service_spec *)b)->container);
}

static char *expand(struct k8s_job *kj, const char *s)
{
	return kj->vars ? variables_expand(kj->vars, s) : xstrdup(s);
}

/* config.toml's services, then the job's, sorted by container name. */
static size_t plan_services(struct k8s_job *kj, struct k8s_service_spec **out)
{
	const struct config_kubernetes *kc = kj->kc;
	const struct job_payload *p = kj->payload;
	size_t n = kc->nr_services + p->nr_services, nr = 0, i, j;
	struct k8s_service_spec *s = xcalloc(n ? n : 1, sizeof(*s));
	struct strvec used = STRVEC_INIT;
	int index = 0;

	for (i = 0; i < n; i++) {
		const struct config_kubernetes_service *cs =
			i < kc->nr_services ? &kc->services[i] : NULL;
		const struct job_image *js = cs ? NULL :
			&p->services[i - kc->nr_services];
		const char *name = cs ? cs->name : js->name;
		const char *alias = cs ? cs->alias : js->alias;
		struct k8s_service_spec *t = &s[nr];

		if (!name || !*name)
			continue;
		t->image = expand(kj, name);
		t->container = service_name(alias, &used);
		if (!t->container) {
			struct buf b = BUF_INIT;

			(void)buf_addf(&b, "svc-%d", index++);
			t->container = buf_detach(&b, NULL);
		}
		strvec_init(&t->env);
		public_env(kj, &t->env);
		if (cs) {
			t->command = &cs->command;
			t->entrypoint = &cs->entrypoint;
		} else {
			t->command = &js->command;
			t->entrypoint = &js->entrypoint;
			t->ports = js->ports;
			t->nr_ports = js->nr_ports;
			if (js->executor_opts.kubernetes.user)
				t->user = expand(kj,
					js->executor_opts.kubernetes.user);
			for (j = 0; j < js->variables.nr; j++)
				strvec_pushf(&t->env, "%s=%s",
					     js->variables.v[j].key,
					     js->variables.v[j].value ?
					     js->variables.v[j].value : "");
		}
		nr++;
	}
	strvec_clear(&used);
	qsort(s, nr, sizeof(*s), by_container);
	*out = s;
	return nr;
}

static void free_services(struct k8s_service_spec *s, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		free(s[i].container);
		free(s[i].image);
		free(s[i].user);
		strvec_clear(&s[i].env);
	}
	free(s);
}

/* ---- creating the pod ---- */

static int in_list(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

/*
 * The pull policy: the job's image:pull_policy, else config.toml's
 * pull_policy; each must be in allowed_pull_policies when that is set.
 * The first one is the container's imagePullPolicy (Kubernetes takes one).
 */
static int pull_policy(struct k8s_job *kj, const char **out)
{
	const struct strvec *want = kj->payload->image &&
		kj->payload->image->pull_policy.nr ?
		&kj->payload->image->pull_policy : &kj->kc->pull_policy;
	const struct strvec *allowed = kj->kc->allowed_pull_policies.nr ?
		&kj->kc->allowed_pull_policies : NULL;
	size_t i;

	*out = NULL;
	for (i = 0; i < want->nr; i++) {
		if (allowed && !in_list(allowed, want->v[i])) {
			k8s_fail(kj, CR_ERR_CONFIG,
				 "invalid pull policy for image \"%s\": %s is not one of the allowed_pull_policies",
				 kj->image, want->v[i]);
			return CR_ERR_CONFIG;
		}
		if (!*out)
			*out = k8s_pull_policy(want->v[i]);
	}
	return 0;
}

static void timeout_text(struct k8s_job *kj, struct buf *out)
{
	int64_t s = kj->payload->runner_info.timeout;

	(void)config_format_duration((s > 0 ? s : 3600) * 1000, out);
}

static int create_pod(struct k8s_job *kj)
{
	struct k8s_pod_input in = { 0 };
	struct k8s_service_spec *services = NULL;
	struct strvec build_cmd = STRVEC_INIT, env = STRVEC_INIT;
	struct strvec helper_env = STRVEC_INIT, warnings = STRVEC_INIT;
	struct strvec notes = STRVEC_INIT;
	char *build_user = NULL;
	struct buf name = BUF_INIT, timeout = BUF_INIT, path = BUF_INIT;
	struct buf why = BUF_INIT;
	struct k8s_response resp = K8S_RESPONSE_INIT;
	const struct job_payload *p = kj->payload;
	const char *policy = NULL;
	char suffix[9];
	json_t *pod = NULL;
	char *body = NULL;
	size_t i;
	int r;

	if ((r = pull_policy(kj, &policy)) != 0)
		return r;
	/*
	 * FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR (getContainerCommand):
	 * the build and helper containers' shell runs under the dumb-init
	 * the init container copied to the scripts dir.
	 */
	in.dumb_init = kj->vars && variables_get_bool(kj->vars,
		"FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR", 0);
	if (in.dumb_init) {
		strvec_pushf(&build_cmd, "%s/dumb-init", kj->scripts_dir);
		strvec_push(&build_cmd, "--");
	}
	strvec_push(&build_cmd, "sh");
	strvec_push(&build_cmd, "-c");
	strvec_push(&build_cmd, k8s_detect_shell);
	public_env(kj, &env);
	/* The stage scripts run "$CRUNNER_HELPER_BIN" artifacts-helper. */
	strvec_push(&helper_env, "CRUNNER_HELPER_BIN=" K8S_HELPER_BIN);
	k8s_random_suffix(suffix);
	k8s_resource_name(&name, kj->unique.data, suffix);
	timeout_text(kj, &timeout);
	in.kc = kj->kc;
	in.name = name.data;
	in.namespace = kj->namespace;
	in.unique = kj->unique.data;
	in.project_id = p->job_info.project_id;
	in.job_id = p->id;
	in.root_namespace_id = p->job_info.root_namespace_id;
	in.job_name = p->job_info.name;
	in.project_name = p->job_info.project_name;
	in.job_url = kj->vars ? variables_get(kj->vars, "CI_JOB_URL") : NULL;
	in.sha = p->git_info.sha;
	in.before_sha = p->git_info.before_sha;
	in.ref = p->git_info.ref;
	in.timeout = timeout.data;
	in.runner_name = kj->rc->name;
	in.short_desc = kj->short_token;
	in.system_id = kj->system_id;
	in.vars = kj->vars;
	in.image = kj->image;
	in.helper_image = kj->helper_image;
	in.build_cmd = &build_cmd;
	in.helper_cmd = &build_cmd;
	in.build_env = &env;
	in.helper_env = &helper_env;
	if (p->image) {
		in.build_ports = p->image->ports;
		in.nr_build_ports = p->image->nr_ports;
		if (p->image->executor_opts.kubernetes.user)
			build_user = expand(kj,
				p->image->executor_opts.kubernetes.user);
	}
	in.build_user = build_user;
	in.notes = &notes;
	in.nr_services = plan_services(kj, &services);
	in.services = services;
	if ((r = k8s_allowed_images(kj, services, in.nr_services)) != 0)
		goto out;
	/* setupBuildNamespace, then setupCredentials. */
	if ((r = k8s_namespace_create(kj)) != 0 ||
	    (r = k8s_credentials_create(kj)) != 0)
		goto out;
	in.credentials_secret = kj->secret_name;
	in.builds_dir = kj->builds_dir;
	in.scripts_dir = kj->scripts_dir;
	in.logs_dir = kj->logs_dir;
	in.pull_policy = policy;
	in.service_account = kj->ov.service_account;
	in.label_overwrites = &kj->ov.labels;
	in.annotation_overwrites = &kj->ov.annotations;
	in.node_selector_overwrites = &kj->ov.node_selector;
	in.toleration_overwrites = &kj->ov.node_tolerations;
	in.warnings = &warnings;
	in.honor_entrypoint = kj->vars && variables_get_bool(kj->vars,
		"FF_KUBERNETES_HONOR_ENTRYPOINT", 0);
	/* On by default in gitlab-runner 19. */
	if (!kj->vars || variables_get_bool(kj->vars,
			"FF_USE_POD_ACTIVE_DEADLINE_SECONDS", 1)) {
		int64_t s = p->runner_info.timeout > 0 ?
			p->runner_info.timeout : 3600;

		/* A second more: GitLab's timeout comes first. */
		in.active_deadline_seconds = s + 1;
		k8s_say(kj, "Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to the job timeout: %s...",
			timeout.data);
	}
	r = k8s_pod_build(&in, &pod, &why);
	for (i = 0; i < warnings.nr; i++)
		k8s_say(kj, "WARNING: %s", warnings.v[i]);
	for (i = 0; i < notes.nr; i++)
		k8s_say(kj, "%s", notes.v[i]);
	if (r == 0)
		k8s_add_container_lifecycle(pod, kj->kc);
	if (r == 0 && k8s_umask_disabled(kj))
		k8s_add_uid_gid_collector(pod, kj->builds_dir);
	if (r == 0 && kj->vars && variables_get_bool(kj->vars,
			"FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", 0)) {
		k8s_say(kj, "WARNING: Advanced Pod Spec configuration enabled, merging the provided PodSpec to the generated one. This is a beta feature and is subject to change. Feedback is collected in this issue: https://gitlab.com/gitlab-org/gitlab-runner/-/issues/29659 ...");
		r = k8s_pod_spec_patches(kj->kc, pod, &why);
	}
	if (r != 0) {
		k8s_fail(kj, r, "%s", why.data);
		goto out;
	}
	if (k8s_check_dependant_resources(kj) != 0) {
		r = kj->err ? kj->err : CR_ERR_CANCELED;
		goto out;
	}
	body = json_dumps(pod, JSON_COMPACT);
	pod_path(kj, &path, NULL);
	free(kj->pod_name);
	kj->pod_name = xstrdup(name.data);
	/* From here the pod may exist: cleanup deletes it by name. */
	kj->pod_created = 1;
	r = k8s_api_call_retry(kj, "POST", path.data, body, &resp);
	if (r != 0)
		goto out;
	/* gitlab-runner's requestPodCreation: a retried POST that made it. */
	if (resp.status == 409) {
		k8s_response_release(&resp);
		buf_reset(&path);
		pod_path(kj, &path, kj->pod_name);
		r = k8s_api_call_retry(kj, "GET", path.data, NULL, &resp);
		if (r != 0)
			goto out;
	}
	if (resp.status != 201 && resp.status != 200) {
		k8s_api_describe(&resp, &why);
		if (resp.status != 409)
			kj->pod_created = resp.status == 0;
		k8s_fail(kj, resp.status == 0 ? CR_ERR_NETWORK : CR_ERR_INVALID,
			 "cannot create the pod: %s", why.data);
		r = kj->err;
	}
	if (r == 0)
		r = k8s_credentials_own(kj, &resp);
out:
	free(body);
	json_decref(pod);
	free_services(services, in.nr_services);
	strvec_clear(&build_cmd);
	strvec_clear(&env);
	strvec_clear(&helper_env);
	strvec_clear(&warnings);
	strvec_clear(&notes);
	free(build_user);
	buf_release(&name);
	buf_release(&timeout);
	buf_release(&path);
	buf_release(&why);
	k8s_response_release(&resp);
	return r;
}

/* ---- waiting for it ---- */

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* gitlab-runner's CheckTerminalContainerErrors; 0 when none. */
static int terminal_error(struct k8s_job *kj, json_t *statuses)
{
	json_t *cs;
	size_t i;

	json_array_foreach(statuses, i, cs) {
		json_t *w = json_object_get(json_object_get(cs, "state"),
					    "waiting");
		const char *reason = jstr(w, "reason");
		const char *msg = jstr(w, "message");

		if (json_is_true(json_object_get(cs, "ready")) || !w)
			continue;
		if (!strcmp(reason, "InvalidImageName")) {
			k8s_fail(kj, CR_ERR_CONFIG, "image pull failed: %s",
				 msg);
			return 1;
		}
		if (!strcmp(reason, "ErrImagePull") ||
		    !strcmp(reason, "ImagePullBackOff")) {
			k8s_fail(kj, CR_ERR_NOT_FOUND,
				 "image pull failed: %s", msg);
			return 1;
		}
		if (!strcmp(reason, "CrashLoopBackOff")) {
			k8s_fail(kj, CR_ERR_CONFIG,
				 "container \"%s\" is in CrashLoopBackOff: %s",
				 jstr(cs, "name"), msg);
			return 1;
		}
		if (!strcmp(reason, "CreateContainerConfigError")) {
			k8s_fail(kj, CR_ERR_CONFIG,
				 "container configuration error: %s", msg);
			return 1;
		}
	}
	return 0;
}

/*
 * Whether the build and helper containers are ready: gitlab-runner waits
 * for the build container; every stage here may exec into the helper
 * too, which must be running by then.
 */
static int build_ready(json_t *statuses)
{
	json_t *cs;
	size_t i;
	int ready = 0;

	json_array_foreach(statuses, i, cs)
		if ((!strcmp(jstr(cs, "name"), K8S_BUILD_CONTAINER) ||
		     !strcmp(jstr(cs, "name"), K8S_HELPER_CONTAINER)) &&
		    json_is_true(json_object_get(cs, "ready")))
			ready++;
	return ready == 2;
}

/*
 * One look at the pod: 1 running, 0 not yet (the phase in *phase), -1
 * failed (recorded).
 */
static int check_pod(struct k8s_job *kj, struct buf *phase)
{
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT, why = BUF_INIT;
	json_t *pod = NULL, *status, *conds, *c, *statuses, *all;
	const char *ph, *node;
	size_t i;
	int r = -1;

	pod_path(kj, &path, kj->pod_name);
	if (k8s_api_call_retry(kj, "GET", path.data, NULL, &resp) != 0)
		goto out;
	if (resp.status != 200) {
		k8s_api_describe(&resp, &why);
		k8s_fail(kj, CR_ERR_NETWORK, "waiting for pod running: %s",
			 why.data);
		goto out;
	}
	pod = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	status = json_object_get(pod, "status");
	ph = jstr(status, "phase");
	buf_reset(phase);
	(void)buf_addstr(phase, *ph ? ph : "Unknown");
	statuses = json_object_get(status, "containerStatuses");
	if (!strcmp(ph, "Running")) {
		if (build_ready(statuses)) {
			r = 1;
			goto out;
		}
	} else if (!strcmp(ph, "Succeeded")) {
		k8s_fail(kj, CR_ERR_INVALID, "waiting for pod running: pod already succeeded before it begins running");
		goto out;
	} else if (!strcmp(ph, "Failed")) {
		k8s_fail(kj, CR_ERR_INVALID, "waiting for pod running: pod status is failed");
		goto out;
	}
	all = json_array();
	json_array_extend(all, statuses);
	json_array_extend(all, json_object_get(status,
					       "initContainerStatuses"));
	i = (size_t)terminal_error(kj, all);
	json_decref(all);
	if (i)
		goto out;
	r = 0;
	/* FF_PRINT_POD_EVENTS: the events, not these lines (k8s_events.c). */
	if (k8s_print_pod_events_on(kj)) {
		k8s_events_print(kj);
		goto out;
	}
	node = jstr(json_object_get(pod, "spec"), "nodeName");
	k8s_say(kj, "Waiting for pod %s/%s to be running on the node %s, status is %s",
		kj->namespace, kj->pod_name, *node ? node : "<unknown>",
		phase->data);
	conds = json_object_get(status, "conditions");
	json_array_foreach(conds, i, c) {
		json_t *msg = json_object_get(c, "message");
		char *quoted;

		/* print_pod_warning_events = false: no condition lines. */
		if (kj->kc->print_pod_warning_events == CONFIG_FALSE)
			break;
		if (!*jstr(c, "reason"))
			continue;
		quoted = json_dumps(msg ? msg : json_string(""),
				    JSON_ENCODE_ANY);
		k8s_say(kj, "\t%s: %s", jstr(c, "reason"), quoted);
		free(quoted);
	}
	r = 0;
out:
	json_decref(pod);
	buf_release(&path);
	buf_release(&why);
	k8s_response_release(&resp);
	return r;
}

static void wait_running(struct k8s_job *kj)
{
	int interval = kj->kc->poll_interval > 0 ? kj->kc->poll_interval : 3;
	int timeout = kj->kc->poll_timeout > 0 ? kj->kc->poll_timeout : 180;
	int attempts = timeout / interval, i;
	struct buf phase = BUF_INIT;

	(void)buf_addstr(&phase, "Unknown");
	for (i = 0; i <= attempts; i++) {
		int r = check_pod(kj, &phase);

		if (r != 0 || canceled(kj))
			goto out;
		if (k8s_nap(kj, interval * 1000L))
			goto out;
	}
	/* Not CR_ERR_TIMEOUT: that is the job's own timeout to the engine. */
	k8s_fail(kj, CR_ERR_IO,
		 "waiting for pod running: timed out waiting for pod to start (last phase: %s)",
		 phase.data);
out:
	buf_release(&phase);
}

/*
 * FF_WAIT_FOR_POD_TO_BE_REACHABLE (gitlab-runner's WaitForPodReachable):
 * the helper's log (its last 10 lines) opened, every poll_interval, up to
 * poll_timeout / poll_interval more times, until the API server serves it.
 */
static void wait_reachable(struct k8s_job *kj)
{
	int interval = kj->kc->poll_interval > 0 ? kj->kc->poll_interval : 3;
	int timeout = kj->kc->poll_timeout > 0 ? kj->kc->poll_timeout : 180;
	int attempts = timeout / interval, i;
	struct buf path = BUF_INIT;

	pod_path(kj, &path, kj->pod_name);
	(void)buf_addstr(&path, "/log?container=" K8S_HELPER_CONTAINER
			 "&tailLines=10");
	for (i = 0; i <= attempts; i++) {
		struct k8s_response resp = K8S_RESPONSE_INIT;
		int ok = k8s_api_call(&kj->api, "GET", path.data, NULL, 0,
				      &resp) == 0 && resp.status == 200;

		k8s_response_release(&resp);
		if (ok || canceled(kj) || k8s_nap(kj, interval * 1000L))
			goto out;
	}
	k8s_fail(kj, CR_ERR_IO,
		 "pod failed to become attachable timed out waiting for pod to become attachable");
out:
	buf_release(&path);
}

void k8s_job_prepare(struct k8s_job *kj)
{
	if (create_pod(kj) != 0 || canceled(kj)) {
		if (kj->err)
			k8s_events_warnings(kj);
		return;
	}
	if (k8s_print_pod_events_on(kj))
		k8s_say(kj, "Subscribing to Kubernetes Pod events...");
	wait_running(kj);
	if (k8s_print_pod_events_on(kj) && !canceled(kj))
		k8s_events_print(kj);
	if (!kj->err && !canceled(kj) && kj->vars &&
	    variables_get_bool(kj->vars, "FF_WAIT_FOR_POD_TO_BE_REACHABLE", 0))
		wait_reachable(kj);
	if (!kj->err && !canceled(kj) && kj->logs_dir)
		(void)k8s_attach_setup(kj);
	if (kj->err && !canceled(kj))
		k8s_events_warnings(kj);
	kj->exit_status = kj->err ? -1 : 0;
}

/* ---- a stage ---- */

int k8s_stage_in_build(const char *name)
{
	return !strncmp(name, "step_", 5) || !strcmp(name, "after_script") ||
		!strcmp(name, "build_script");
}

static void on_exec_output(void *ctx, int is_stderr, const char *data,
			   size_t len)
{
	k8s_out(ctx, is_stderr, data, len);
}

void k8s_stage_script(struct k8s_job *kj, struct buf *text)
{
	if (!k8s_stage_in_build(kj->stage_name)) {
		if (!k8s_umask_disabled(kj))
			(void)buf_addstr(text, "umask 0000\n");
		if (!kj->initialized) {
			container_init_script(kj->vars, false, text);
			kj->initialized = 1;
		}
		if (k8s_umask_disabled(kj)) {
			k8s_umask_stage_script(kj, kj->script.data,
					       kj->script.len, text);
			return;
		}
	}
	(void)buf_add(text, kj->script.data, kj->script.len);
}

void k8s_stage_file(struct k8s_job *kj, struct buf *file)
{
	const char *p;

	(void)buf_addf(file, "%s/%u-", kj->scripts_dir, ++kj->seq);
	for (p = kj->stage_name; *p; p++)
		(void)buf_addch(file, (*p >= 'a' && *p <= 'z') ||
				(*p >= '0' && *p <= '9') || *p == '_' ? *p : '_');
	(void)buf_addstr(file, ".sh");
}

/* The legacy strategy: the script on exec's stdin, run by that exec. */
static void run_with_exec(struct k8s_job *kj)
{
	struct buf text = BUF_INIT, file = BUF_INIT, cmdline = BUF_INIT,
		why = BUF_INIT;
	struct strvec cmd = STRVEC_INIT;
	int build = k8s_stage_in_build(kj->stage_name), code = -1, r;

	k8s_stage_script(kj, &text);
	k8s_stage_file(kj, &file);
	/*
	 * The script comes on stdin, exactly its length (v4 cannot close
	 * stdin), into the scripts emptyDir; then the image's shell runs it.
	 */
	(void)buf_addf(&cmdline, "head -c %zu > \"$1\" && set -- \"$1\" && %s",
		       text.len, k8s_detect_shell);
	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, cmdline.data);
	strvec_push(&cmd, "sh");
	strvec_push(&cmd, file.data);
	r = k8s_exec(&kj->api, kj->namespace, kj->pod_name,
		     build ? K8S_BUILD_CONTAINER : K8S_HELPER_CONTAINER, &cmd,
		     text.data, text.len, on_exec_output, kj, &code, NULL,
		     &why);
	if (r == CR_ERR_CANCELED) {
		kj->exit_status = -1;
	} else if (r != 0) {
		k8s_fail(kj, r, "%s", why.data);
		kj->exit_status = -1;
	} else if (code < 0) {
		k8s_fail(kj, CR_ERR_PROTOCOL,
			 "exec in container \"%s\" ended without an exit status",
			 build ? K8S_BUILD_CONTAINER : K8S_HELPER_CONTAINER);
		kj->exit_status = -1;
	} else {
		kj->exit_status = code;
	}
	buf_release_secret(&text);
	buf_release(&file);
	buf_release(&cmdline);
	buf_release(&why);
	strvec_clear(&cmd);
}

void k8s_job_run(struct k8s_job *kj)
{
	struct k8s_events_watch watch;

	k8s_events_watch_start(kj, &watch);
	if (kj->logs_dir)
		k8s_attach_run(kj);
	else
		run_with_exec(kj);
	k8s_events_watch_stop(&watch);
	/* gitlab-runner's withPullRetry: after any failed Run. */
	if ((kj->err || kj->exit_status != 0) && !canceled(kj))
		k8s_events_warnings(kj);
}

/* ---- deleting it ---- */

int k8s_delete_pod(struct k8s_job *kj, struct buf *why)
{
	struct k8s_api api = kj->api;	/* shallow: ignores the cancel flag */
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT, body = BUF_INIT;
	long backoff = 500;
	long long deadline;
	int r = 0, tries = 0;

	if (!kj->pod_created || !kj->pod_name)
		return 0;
	api.cancel = NULL;
	pod_path(kj, &path, kj->pod_name);
	(void)buf_addstr(&body, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"propagationPolicy\":\"Background\"");
	if (kj->kc->cleanup_grace_period_seconds >= 0)
		(void)buf_addf(&body, ",\"gracePeriodSeconds\":%lld",
			       (long long)kj->kc->cleanup_grace_period_seconds);
	(void)buf_addch(&body, '}');
	/*
	 * gitlab-runner's retry.WithFn over the delete (k8s_retry.c: a
	 * network failure, or a retry_limits error, is tried again), all of
	 * it within cleanup_resources_timeout (5 minutes): an API server back
	 * within seconds still sees it.
	 */
	deadline = mono_ms() + (kj->kc->cleanup_resources_timeout > 0 ?
				kj->kc->cleanup_resources_timeout :
				DEFAULT_CLEANUP_TIMEOUT_MS);
	for (;;) {
		struct buf err = BUF_INIT;
		long long left = deadline - mono_ms();
		int more;

		k8s_response_release(&resp);
		(void)k8s_api_call(&api, "DELETE", path.data, body.data,
				   left < REQUEST_TIMEOUT_MS ?
				   (left > 0 ? (long)left : 1) :
				   REQUEST_TIMEOUT_MS, &resp);
		if (resp.status == 200 || resp.status == 202 ||
		    resp.status == 404)
			break;
		k8s_api_describe(&resp, &err);
		more = ++tries < k8s_retry_max_tries(kj->kc, err.data,
						     resp.status == 0);
		buf_release(&err);
		if (!more || mono_ms() + backoff >= deadline)
			break;
		{
			struct timespec ts = { backoff / 1000,
					       (backoff % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
		backoff = backoff * 2 > k8s_retry_backoff_max_ms(kj->kc) ?
			k8s_retry_backoff_max_ms(kj->kc) : backoff * 2;
	}
	if (resp.status == 200 || resp.status == 202 || resp.status == 404) {
		kj->pod_created = 0;
	} else {
		k8s_api_describe(&resp, why);
		r = CR_ERR_NETWORK;
	}
	buf_release(&path);
	buf_release(&body);
	k8s_response_release(&resp);
	return r;
}

void k8s_job_cleanup(struct k8s_job *kj)
{
	struct buf why = BUF_INIT;

	if (k8s_delete_pod(kj, &why) != 0) {
		k8s_say(kj, "ERROR: Error cleaning up pod: %s", why.data);
		k8s_fail(kj, CR_ERR_NETWORK, "Error cleaning up pod: %s",
			 why.data);
	}
	buf_reset(&why);
	if (k8s_credentials_delete(kj, &why) != 0)
		k8s_say(kj, "ERROR: Error cleaning up secrets: %s", why.data);
	buf_reset(&why);
	if (k8s_namespace_delete(kj, &why) != 0)
		k8s_say(kj, "ERROR: Error tearing down namespace: %s",
			why.data);
	kj->exit_status = kj->err ? 1 : 0;
	buf_release(&why);
}
