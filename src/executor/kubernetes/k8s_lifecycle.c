/*
 * [runners.kubernetes.container_lifecycle]: the postStart and preStop
 * hooks gitlab-runner gives every container it builds (build, helper,
 * services; prepareLifecycleHooks and ToKubernetesLifecycleHandler in
 * common/config.go): exec's command, httpGet (host, path, port, scheme,
 * httpHeaders), tcpSocket (host, port), as Go's encoding/json writes
 * k8s.io/api's LifecycleHandler.
 */
#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod_int.h"
#include "util/banned.h"

static void set_str(json_t *o, const char *key, const char *s)
{
	if (s && *s)
		json_object_set_new(o, key, json_string(s));
}

static json_t *handler(const struct config_k8s_lifecycle_handler *h)
{
	json_t *out = json_object();
	size_t i;

	if (h->exec.present) {
		json_t *e = json_object();

		if (h->exec.command.nr)
			json_object_set_new(e, "command",
				k8s_json_strings(&h->exec.command));
		json_object_set_new(out, "exec", e);
	}
	if (h->http_get.present) {
		const struct config_k8s_http_get *g = &h->http_get;
		json_t *o = json_object();

		set_str(o, "path", g->path);
		json_object_set_new(o, "port", json_integer(g->port));
		set_str(o, "host", g->host);
		set_str(o, "scheme", g->scheme);
		if (g->nr_http_headers) {
			json_t *a = json_array();

			for (i = 0; i < g->nr_http_headers; i++)
				json_array_append_new(a, json_pack("{s:s,s:s}",
					"name", g->http_headers[i].name ?
					g->http_headers[i].name : "", "value",
					g->http_headers[i].value ?
					g->http_headers[i].value : ""));
			json_object_set_new(o, "httpHeaders", a);
		}
		json_object_set_new(out, "httpGet", o);
	}
	if (h->tcp_socket.present) {
		json_t *o = json_object();

		json_object_set_new(o, "port", json_integer(h->tcp_socket.port));
		set_str(o, "host", h->tcp_socket.host);
		json_object_set_new(out, "tcpSocket", o);
	}
	return out;
}

json_t *k8s_container_lifecycle(const struct config_kubernetes *kc)
{
	const struct config_k8s_container_lifecycle *cl =
		&kc->container_lifecycle;
	json_t *out;

	if (!cl->post_start.present && !cl->pre_stop.present)
		return NULL;
	out = json_object();
	if (cl->post_start.present)
		json_object_set_new(out, "postStart", handler(&cl->post_start));
	if (cl->pre_stop.present)
		json_object_set_new(out, "preStop", handler(&cl->pre_stop));
	return out;
}

void k8s_add_container_lifecycle(json_t *pod,
				 const struct config_kubernetes *kc)
{
	json_t *lc = k8s_container_lifecycle(kc), *c;
	size_t i;

	if (!lc)
		return;
	json_array_foreach(json_object_get(json_object_get(pod, "spec"),
					   "containers"), i, c)
		json_object_set_new(c, "lifecycle", json_deep_copy(lc));
	json_decref(lc);
}
