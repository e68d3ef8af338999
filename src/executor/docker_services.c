/*
 * The job's services, as gitlab-runner's docker executor starts them:
 * [[runners.docker.services]] then the job's services: (allowed_services),
 * each image got under the pull policies, a container
 * "<prefix>-<name with / as __>-<index>" labelled type "service" with the
 * job's public variables and its own as environment, its command and
 * entrypoint (at most services_limit of them); then a wait (wait_for_services_timeout, default 30 s) for
 * the lowest TCP port its image exposes, as gitlab-runner's health-check
 * helper does: on 127.0.0.1 with network_mode host, else on the
 * container's address.  The check runs where the containers are: on this
 * host for a local engine, on the instance for docker-autoscaler (through
 * SSH: docker_tunnel_probe()).  A service that is not ready is a warning
 * with its logs, never a failure.  Containers are removed with the job's others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "executor/docker_tunnel.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define WAIT_POLL_MS 250L
#define SERVICE_LOG_TAIL "100"

static void service_next(struct docker_job *dj);
static void wait_begin(struct docker_job *dj);

static void services_done(struct docker_job *dj)
{
	void (*after)(struct docker_job *) = dj->after_step;

	dj->after_step = NULL;
	after(dj);
}

/* "name[:tag]" split as gitlab-runner's splitServiceAndVersion does. */
static void split_image(struct docker_service *s)
{
	const char *slash = strrchr(s->image, '/'), *colon, *at;
	const char *base = slash ? slash + 1 : s->image;

	at = strchr(s->image, '@');
	colon = strrchr(base, ':');
	if (at) {
		s->name = xstrndup(s->image, (size_t)(at - s->image));
		s->version = xstrdup(at + 1);
	} else if (colon) {
		s->name = xstrndup(s->image, (size_t)(colon - s->image));
		s->version = xstrdup(colon + 1);
	} else {
		s->name = xstrdup(s->image);
		s->version = xstrdup("latest");
	}
}

static char *expand(struct docker_job *dj, const char *s)
{
	return dj->vars ? variables_expand(dj->vars, s) : xstrdup(s);
}

/* The list: config.toml's services, then the job's; 0 or CR_ERR_INVALID. */
static int collect(struct docker_job *dj)
{
	const struct config_docker *dc = dj->dc;
	const struct job_payload *p = dj->payload;
	size_t n = dc->nr_services + p->nr_services, i, k;

	/* The engine tries PREPARE again after a failure: start afresh. */
	docker_services_release(dj);
	dj->services = xcalloc(n ? n : 1, sizeof(*dj->services));
	for (i = 0; i < dc->nr_services; i++) {
		const struct config_docker_service *cs = &dc->services[i];
		struct docker_service *s = &dj->services[dj->nr_services++];

		s->image = expand(dj, cs->name ? cs->name : "");
		strvec_init(&s->aliases);
		s->alias = cs->alias ? xstrdup(cs->alias) : NULL;
		s->command = &cs->command;
		s->entrypoint = &cs->entrypoint;
		strvec_init(&s->env);
		for (k = 0; k < cs->environment.nr; k++)
			strvec_push(&s->env, cs->environment.v[k]);
		split_image(s);
	}
	for (i = 0; i < p->nr_services; i++) {
		const struct job_image *js = &p->services[i];
		struct docker_service *s = &dj->services[dj->nr_services++];

		s->image = expand(dj, js->name ? js->name : "");
		strvec_init(&s->env);
		strvec_init(&s->aliases);
		split_image(s);
		if (!docker_image_allowed(dj, s->image, "services",
					  &dc->allowed_services))
			return CR_ERR_INVALID;
		s->alias = js->alias ? xstrdup(js->alias) : NULL;
		s->command = &js->command;
		s->entrypoint = &js->entrypoint;
		s->pull_policy = &js->pull_policy;
		s->platform = js->executor_opts.docker.platform;
		s->user = js->executor_opts.docker.user &&
			*js->executor_opts.docker.user ?
			js->executor_opts.docker.user : NULL;
		for (k = 0; k < js->variables.nr; k++)
			strvec_pushf(&s->env, "%s=%s", js->variables.v[k].key,
				     js->variables.v[k].value);
	}
	for (i = 0; i < dj->nr_services; i++)
		docker_service_aliases(dj->services[i].image,
				       dj->services[i].alias,
				       &dj->services[i].aliases);
	/* gitlab-runner counts both lists; its error is retried, as here. */
	if (dc->services_limit >= 0 &&
	    dj->nr_services > (size_t)dc->services_limit) {
		docker_fail(dj, CR_ERR_INVALID,
			    "too many services requested: %zu, only %d allowed",
			    dj->nr_services, dc->services_limit);
		return CR_ERR_INVALID;
	}
	for (i = 0; i < dj->nr_services; i++) {
		if (!*dj->services[i].image) {
			docker_fail(dj, CR_ERR_INVALID, "invalid service name: \"\"");
			return CR_ERR_INVALID;
		}
	}
	return 0;
}

/* ---- one service: image, create, start ---- */

static struct docker_service *current(struct docker_job *dj)
{
	return &dj->services[dj->service_at];
}

static void on_service_started(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	dj->req = NULL;
	if (resp->status != 204 && resp->status != 304) {
		struct buf why = BUF_INIT;

		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot start service %s: %s",
			    current(dj)->image, why.data);
		buf_release(&why);
		services_done(dj);
		return;
	}
	dj->service_at++;
	service_next(dj);
}

static void on_service_created(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct docker_service *s = current(dj);
	struct buf path = BUF_INIT, why = BUF_INIT;
	json_t *j;
	const char *id;

	dj->req = NULL;
	j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	id = json_string_value(json_object_get(j, "Id"));
	if (resp->status != 201 || !id) {
		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot create service %s: %s",
			    s->image, why.data);
		json_decref(j);
		buf_release(&why);
		services_done(dj);
		return;
	}
	s->cid = xstrdup(id);
	strvec_push(&dj->containers, id);
	json_decref(j);
	if (dj->reason) {
		services_done(dj);
		return;
	}
	(void)buf_addf(&path, "/containers/%s/start", s->cid);
	dj->req = docker_api_call(dj->api, "POST", path.data, NULL, 0,
				  on_service_started, dj);
	buf_release(&path);
}

/* gitlab-runner gives a service the job's public variables. */
static void service_env(struct docker_job *dj, struct docker_service *s,
			struct strvec *env)
{
	size_t i;

	for (i = 0; dj->vars && i < dj->vars->nr; i++) {
		const struct variable *v = &dj->vars->items[i];

		if (v->flags & VAR_PUBLIC)
			strvec_pushf(env, "%s=%s", v->key, v->value);
	}
	for (i = 0; i < s->env.nr; i++)
		strvec_push(env, s->env.v[i]);
}

static void create_service(struct docker_job *dj)
{
	struct docker_service *s = current(dj);
	struct docker_container_spec spec = { 0 };
	struct buf body = BUF_INIT, path = BUF_INIT, why = BUF_INIT,
		slug = BUF_INIT;
	struct strvec env = STRVEC_INIT, devices = STRVEC_INIT;
	const char *p;
	json_t *labels;
	struct buf key = BUF_INIT;

	if (dj->err || dj->reason || !dj->want_id) {
		services_done(dj);
		goto out;
	}
	docker_say(dj, "Starting service %s:%s ...", s->name, s->version);
	for (p = s->name; *p; p++)
		(void)(*p == '/' ? buf_addstr(&slug, "__") : buf_addch(&slug, *p));
	labels = docker_labels(&dj->ji, "service");
	(void)buf_addf(&key, "%s.service", DOCKER_LABEL_PREFIX);
	json_object_set_new(labels, key.data, json_string(s->name));
	(void)buf_addstr(&key, ".version");
	json_object_set_new(labels, key.data, json_string(s->version));
	service_env(dj, s, &env);
	spec.image = dj->want_id;
	spec.cmd = s->command;
	spec.entrypoint = dj->dc->disable_entrypoint_overwrite ? NULL :
		s->entrypoint;
	spec.env = &env;
	/* A service runs as its image says, or as its image:docker:user. */
	spec.user = s->user ? s->user : "";
	spec.labels = labels;
	spec.binds = &dj->binds;
	spec.service = 1;
	spec.cgroup_parent = dj->service_slot_cgroup;
	spec.privileged = docker_privileged(dj->dc, s->image, 1);
	spec.init = docker_feature_flag(dj, "FF_USE_INIT_WITH_DOCKER_EXECUTOR");
	spec.network_mode = docker_network_mode(dj);
	spec.aliases = &s->aliases;
	docker_service_devices(dj->dc, s->image, &devices);
	spec.devices = &devices;
	if (docker_create_body(dj->dc, &spec, &body, &why) != 0) {
		docker_fail(dj, CR_ERR_INVALID, "%s", why.data);
		services_done(dj);
		goto out;
	}
	(void)buf_addf(&path, "%s-%s-%zu", dj->prefix.data, slug.data,
		       dj->service_at);
	free(s->cname);
	s->cname = xstrdup(path.data);
	buf_reset(&path);
	(void)buf_addf(&path, "/containers/create?name=%s", s->cname);
	docker_add_platform(&path, s->platform);
	dj->req = docker_api_call(dj->api, "POST", path.data, body.data, 0,
				  on_service_created, dj);
out:
	strvec_clear(&env);
	strvec_clear(&devices);
	buf_release(&body);
	buf_release(&path);
	buf_release(&why);
	buf_release(&slug);
	buf_release(&key);
}

static void service_next(struct docker_job *dj)
{
	struct strvec policies = STRVEC_INIT;

	if (dj->reason || dj->err) {
		services_done(dj);
		return;
	}
	if (dj->service_at >= dj->nr_services) {
		wait_begin(dj);
		return;
	}
	if (docker_image_policies(dj, current(dj)->image,
				  current(dj)->pull_policy, &policies) != 0) {
		services_done(dj);
		return;
	}
	docker_image_get(dj, current(dj)->image, &policies,
			 current(dj)->platform, create_service);
	strvec_clear(&policies);
}

void docker_services_start(struct docker_job *dj,
			   void (*after)(struct docker_job *dj))
{
	dj->after_step = after;
	dj->service_at = 0;
	if (collect(dj) != 0) {
		services_done(dj);
		return;
	}
	service_next(dj);
}

/* ---- the wait ---- */

/*
 * One connect.  Loopback and a local bridge answer at once; anything else
 * gets CONNECT_WAIT_MS, so the loop never stalls on a silent address.
 */
#define CONNECT_WAIT_MS 50

static int port_open(const char *ip, int port)
{
	struct sockaddr_in sa = { 0 };
	struct pollfd pfd;
	int fd, ok = 0, e = 0;
	socklen_t elen = sizeof(e);

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ok = 1;
	} else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		ok = poll(&pfd, 1, CONNECT_WAIT_MS) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0 &&
		     e == 0;
	}
	close(fd);
	return ok;
}

static void warn_next(struct docker_job *dj);
static void inspect_next(struct docker_job *dj);

static void on_probe(void *ctx, int r)
{
	struct docker_service *s = ctx;

	if (!r)
		s->port = 0;	/* ready */
}

/*
 * Whether s answers now.  On an instance, a probe child keeps trying from
 * there; it is started once (one that gave up, or could not start, is not
 * started again: the service is then reported at the deadline).
 */
static int service_ready(struct docker_job *dj, struct docker_service *s)
{
	struct buf err = BUF_INIT;

	if (!s->ip)
		return 0;
	if (!dj->tunnel)
		return port_open(s->ip, s->port);
	if (!s->probe &&
	    docker_tunnel_probe(dj->tunnel, s->ip, s->port, on_probe, s,
				&s->probe, &err) != 0) {
		docker_say(dj, "service %s: cannot check its port from the instance: %s",
			   s->cname, err.data);
		free(s->ip);	/* not tried again */
		s->ip = NULL;
	}
	buf_release(&err);
	return 0;
}

static void on_service_logs(struct docker_api_response *resp, void *ctx);

static void log_data(void *ctx, int is_stderr, const char *data, size_t len)
{
	struct buf *out = ctx;

	(void)is_stderr;
	(void)buf_add(out, data, len);
}

static void on_service_logs(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct docker_service *s = current(dj);
	struct docker_stream dec = DOCKER_STREAM_INIT;
	struct buf logs = BUF_INIT;

	dj->req = NULL;
	if (resp->status == 200)
		(void)docker_stream_feed(&dec, resp->body.data, resp->body.len,
					 log_data, &logs);
	docker_say(dj, "*** WARNING: Service %s probably didn't start properly.",
		   s->cname);
	docker_say(dj, "%s", "");
	docker_say(dj, "Health check error:");
	docker_say(dj, "service %s did not answer on %s:%d within %d seconds",
		   s->image, s->ip ? s->ip : "?", s->port,
		   dj->dc->wait_for_services_timeout > 0 ?
		   dj->dc->wait_for_services_timeout : 30);
	docker_say(dj, "%s", "");
	docker_say(dj, "Service container logs:");
	if (logs.len && logs.data[logs.len - 1] == '\n')
		buf_setlen(&logs, logs.len - 1);
	docker_say(dj, "%s", logs.data);
	docker_say(dj, "%s", "");
	docker_say(dj, "*********");
	buf_release(&logs);
	dj->service_at++;
	warn_next(dj);
}

/* The services still not ready after the timeout: one warning each. */
static void warn_next(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	while (dj->service_at < dj->nr_services &&
	       !current(dj)->port)
		dj->service_at++;
	if (dj->service_at >= dj->nr_services || dj->reason) {
		services_done(dj);
		return;
	}
	(void)buf_addf(&path, "/containers/%s/logs?stdout=1&stderr=1&tail=%s",
		       current(dj)->cid, SERVICE_LOG_TAIL);
	dj->req = docker_api_call(dj->api, "GET", path.data, NULL, 0,
				  on_service_logs, dj);
	buf_release(&path);
}

static long on_wait_poll(struct loop *loop, void *ctx)
{
	struct docker_job *dj = ctx;
	size_t i, left = 0;

	(void)loop;
	for (i = 0; i < dj->nr_services; i++) {
		struct docker_service *s = &dj->services[i];

		if (!s->port)
			continue;
		if (service_ready(dj, s))
			s->port = 0;	/* ready */
		else
			left++;
	}
	if (!left) {
		dj->wait_timer = 0;
		docker_services_stop_wait(dj);
		services_done(dj);
		return LOOP_TIMER_STOP;
	}
	if (dj->reason || loop_now_ms(dj->loop) >= dj->wait_deadline) {
		dj->wait_timer = 0;
		docker_services_stop_wait(dj);
		dj->service_at = 0;
		warn_next(dj);
		return LOOP_TIMER_STOP;
	}
	return WAIT_POLL_MS;
}

static void on_service_inspect(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct docker_service *s = current(dj);
	json_t *j = NULL, *ports;
	const char *key;
	json_t *v;

	dj->req = NULL;
	if (resp->status == 200)
		j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	ports = json_object_get(json_object_get(j, "Config"), "ExposedPorts");
	json_object_foreach(ports, key, v) {
		char *end;
		long n = strtol(key, &end, 10);

		if (n > 0 && n < 65536 && !strcmp(end, "/tcp") &&
		    (!s->port || n < s->port))
			s->port = (int)n;
	}
	if (docker_network_is(dj, "host")) {
		s->ip = xstrdup("127.0.0.1");
	} else {
		json_t *ns = json_object_get(j, "NetworkSettings");
		const char *ip = json_string_value(json_object_get(ns,
								  "IPAddress"));
		const char *mode = docker_network_mode(dj);

		/* On a user-defined network: its endpoint's address. */
		if ((!ip || !*ip) && mode)
			ip = json_string_value(json_object_get(json_object_get(
				json_object_get(ns, "Networks"), mode),
				"IPAddress"));
		s->ip = ip && *ip ? xstrdup(ip) : NULL;
	}
	json_decref(j);
	dj->service_at++;
	inspect_next(dj);
}

static void inspect_next(struct docker_job *dj)
{
	long timeout = dj->dc->wait_for_services_timeout;
	struct buf path = BUF_INIT;

	if (dj->reason) {
		services_done(dj);
		return;
	}
	if (dj->service_at >= dj->nr_services) {
		dj->wait_deadline = loop_now_ms(dj->loop) +
			(uint64_t)(timeout > 0 ? timeout : 30) * 1000;
		dj->wait_timer = loop_add_timer(dj->loop, 0, on_wait_poll, dj);
		return;
	}
	(void)buf_addf(&path, "/containers/%s/json", current(dj)->cid);
	dj->req = docker_api_call(dj->api, "GET", path.data, NULL, 0,
				  on_service_inspect, dj);
	buf_release(&path);
}

/* Inspects each service for its port, then polls them all. */
static void wait_begin(struct docker_job *dj)
{
	long timeout = dj->dc->wait_for_services_timeout;

	if (timeout < 0 || !dj->nr_services) {
		services_done(dj);
		return;
	}
	docker_say(dj, "Waiting for services to be up and running (timeout %ld seconds)...",
		   timeout > 0 ? timeout : 30);
	dj->service_at = 0;
	inspect_next(dj);
}

void docker_services_stop_wait(struct docker_job *dj)
{
	size_t i;

	if (dj->wait_timer)
		loop_cancel_timer(dj->loop, dj->wait_timer);
	dj->wait_timer = 0;
	for (i = 0; i < dj->nr_services; i++) {
		docker_probe_free(dj->services[i].probe);
		dj->services[i].probe = NULL;
	}
}

void docker_services_release(struct docker_job *dj)
{
	size_t i;

	docker_services_stop_wait(dj);
	for (i = 0; i < dj->nr_services; i++) {
		struct docker_service *s = &dj->services[i];

		free(s->image);
		free(s->name);
		free(s->version);
		free(s->alias);
		free(s->cid);
		free(s->cname);
		free(s->ip);
		strvec_clear(&s->env);
		strvec_clear(&s->aliases);
	}
	free(dj->services);
	dj->services = NULL;
	dj->nr_services = 0;
}
