/*
 * The pod's events in the job log, as gitlab-runner prints them
 * (executors/kubernetes/kubernetes.go):
 *
 * - FF_PRINT_POD_EVENTS: "Subscribing to Kubernetes Pod events...", then a
 *   "Type Reason Message" table of the pod's events (field selector
 *   involvedObject.name) instead of the "Waiting for pod ..." lines.
 *   gitlab-runner watches them for the whole job; crunner lists them each
 *   poll_interval while it waits for the pod, once more when the pod runs
 *   or failed to, then each poll_interval while a stage runs (a thread of
 *   its own, k8s_events_watch_start) and at each stage's end (each event
 *   once: uid and count).
 * - print_pod_warning_events (default true; logPodWarningEvents): when
 *   preparing the pod or a stage fails, the pod's Warning events not shown
 *   yet, oldest first, each "WARNING: Event retrieved from the cluster:
 *   <message>".
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "job/variables.h"
#include "util/timeparse.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define EVENTS_PAGE 200
#define PAD 3

struct event {
	const char *type, *reason, *message;
	char *key;		/* uid:count */
	time_t when;
};

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static time_t parse_time(const char *s)
{
	time_t t = 0;

	if (s && *s && time_parse_rfc3339(s, &t) == 0)
		return t;
	return 0;
}

/* gitlab-runner's eventLastOccurredTimestamp. */
static time_t last_occurred(json_t *ev)
{
	time_t t;

	if ((t = parse_time(jstr(json_object_get(ev, "series"),
				 "lastObservedTime"))))
		return t;
	if ((t = parse_time(jstr(ev, "lastTimestamp"))))
		return t;
	if ((t = parse_time(jstr(ev, "eventTime"))))
		return t;
	if ((t = parse_time(jstr(ev, "firstTimestamp"))))
		return t;
	return parse_time(jstr(json_object_get(ev, "metadata"),
			       "creationTimestamp"));
}

static int seen(const struct strvec *sv, const char *key)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], key))
			return 1;
	return 0;
}

static int by_time(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	return (x->when > y->when) - (x->when < y->when);
}

/*
 * The pod's events (only_type: NULL, or "Warning"), every page, into a
 * new array (*items, the JSON kept alive in *lists).  0, or -1 when the
 * API did not answer 200.
 */
static int list_events(struct k8s_job *kj, const char *only_type,
		       json_t *lists)
{
	struct buf cont = BUF_INIT;
	int r = 0;

	do {
		struct buf path = BUF_INIT, sel = BUF_INIT;
		struct k8s_response resp = K8S_RESPONSE_INIT;
		json_t *list;

		(void)buf_addf(&sel, "involvedObject.name=%s", kj->pod_name);
		if (only_type)
			(void)buf_addf(&sel, ",type=%s", only_type);
		k8s_core_path(&path, kj->namespace, "events?fieldSelector=",
			      NULL);
		k8s_url_escape(&path, sel.data);
		(void)buf_addf(&path, "&limit=%d", EVENTS_PAGE);
		if (cont.len) {
			(void)buf_addstr(&path, "&continue=");
			k8s_url_escape(&path, cont.data);
		}
		buf_reset(&cont);
		if (k8s_api_call_retry(kj, "GET", path.data, NULL,
				       &resp) != 0 || resp.status != 200) {
			r = -1;
		} else {
			list = json_loadb(resp.body.data, resp.body.len, 0,
					  NULL);
			(void)buf_addstr(&cont, jstr(json_object_get(list,
							"metadata"), "continue"));
			if (list)
				json_array_append_new(lists, list);
		}
		buf_release(&path);
		buf_release(&sel);
		k8s_response_release(&resp);
	} while (r == 0 && cont.len);
	buf_release(&cont);
	return r;
}

/* The events of lists not in *done, oldest first; keys added to done. */
static size_t new_events(json_t *lists, struct strvec *done,
			 struct event **out)
{
	json_t *list, *ev;
	size_t i, j, n = 0, alloc = 0;
	struct event *e = NULL;

	json_array_foreach(lists, i, list)
		json_array_foreach(json_object_get(list, "items"), j, ev) {
			struct buf key = BUF_INIT;

			(void)buf_addf(&key, "%s:%lld",
				       jstr(json_object_get(ev, "metadata"),
					    "uid"),
				       (long long)json_integer_value(
					       json_object_get(ev, "count")));
			if (seen(done, key.data)) {
				buf_release(&key);
				continue;
			}
			strvec_push(done, key.data);
			if (n == alloc) {
				alloc = alloc ? alloc * 2 : 8;
				e = xrealloc(e, alloc * sizeof(*e));
			}
			e[n].type = jstr(ev, "type");
			e[n].reason = jstr(ev, "reason");
			e[n].message = jstr(ev, "message");
			e[n].when = last_occurred(ev);
			e[n].key = buf_detach(&key, NULL);
			n++;
		}
	if (n)
		qsort(e, n, sizeof(*e), by_time);
	*out = e;
	return n;
}

static void free_events(struct event *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(e[i].key);
	free(e);
}

static void pad(struct buf *line, const char *cell, size_t width)
{
	size_t n = strlen(cell);

	(void)buf_addstr(line, cell);
	while (n++ < width + PAD)
		(void)buf_addch(line, ' ');
}

static size_t widest(size_t a, size_t b)
{
	return a > b ? a : b;
}

/*
 * A block of rows as Go's tabwriter (minwidth 3, padding 3) aligns them
 * between two flushes: the header goes out with the first block.
 */
static void print_rows(struct k8s_job *kj, const struct event *e, size_t n,
		       int with_header)
{
	size_t w0 = with_header ? 4 : 0, w1 = with_header ? 6 : 0, i;

	for (i = 0; i < n; i++) {
		w0 = widest(w0, strlen(e[i].type));
		w1 = widest(w1, strlen(e[i].reason));
	}
	w0 = widest(w0, PAD);
	w1 = widest(w1, PAD);
	for (i = 0; i < n + (with_header ? 1 : 0); i++) {
		struct buf line = BUF_INIT;
		const struct event *x = with_header ? (i ? &e[i - 1] : NULL) :
			&e[i];

		pad(&line, x ? x->type : "Type", w0);
		pad(&line, x ? x->reason : "Reason", w1);
		(void)buf_addstr(&line, x ? x->message : "Message");
		k8s_say(kj, "%s", line.data);
		buf_release(&line);
	}
}

int k8s_print_pod_events_on(const struct k8s_job *kj)
{
	return kj->vars && variables_get_bool(kj->vars, "FF_PRINT_POD_EVENTS",
					       0);
}

void k8s_events_print(struct k8s_job *kj)
{
	json_t *lists = json_array();
	struct event *e = NULL;
	size_t n, i;

	if (!kj->pod_name || list_events(kj, NULL, lists) != 0) {
		json_decref(lists);
		return;
	}
	n = new_events(lists, &kj->events_printed, &e);
	/* Each row is flushed as it comes: aligned on its own. */
	for (i = 0; i < n; i++) {
		print_rows(kj, &e[i], 1, !kj->events_header);
		kj->events_header = 1;
	}
	free_events(e, n);
	json_decref(lists);
}

static void *watch_events(void *arg)
{
	struct k8s_events_watch *w = arg;
	struct k8s_job *kj = w->kj;
	long interval = (kj->kc->poll_interval > 0 ?
			 kj->kc->poll_interval : 3) * 1000L, slept = 0;

	while (!atomic_load(&w->stop) && !atomic_load(&kj->cancel)) {
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
		if ((slept += 100) < interval)
			continue;
		slept = 0;
		k8s_events_print(kj);
	}
	return NULL;
}

void k8s_events_watch_start(struct k8s_job *kj, struct k8s_events_watch *w)
{
	memset(w, 0, sizeof(*w));
	w->kj = kj;
	atomic_init(&w->stop, 0);
	if (!k8s_print_pod_events_on(kj) || !kj->pod_name)
		return;
	/* No thread: the events come at the stage's end all the same. */
	w->live = pthread_create(&w->thread, NULL, watch_events, w) == 0;
}

void k8s_events_watch_stop(struct k8s_events_watch *w)
{
	if (!w->kj || !k8s_print_pod_events_on(w->kj) || !w->kj->pod_name)
		return;
	if (w->live) {
		atomic_store(&w->stop, 1);
		pthread_join(w->thread, NULL);
		w->live = 0;
	}
	k8s_events_print(w->kj);
}

void k8s_events_warnings(struct k8s_job *kj)
{
	json_t *lists;
	struct event *e = NULL;
	size_t n, i;

	if (!kj->pod_name || !kj->pod_created ||
	    kj->kc->print_pod_warning_events == CONFIG_FALSE)
		return;
	lists = json_array();
	/* A failed list is a debug line in gitlab-runner: nothing here. */
	if (list_events(kj, "Warning", lists) == 0) {
		n = new_events(lists, &kj->warnings_seen, &e);
		for (i = 0; i < n; i++)
			k8s_say(kj, "WARNING: Event retrieved from the cluster: %s",
				e[i].message);
		free_events(e, n);
	}
	json_decref(lists);
}
