/*
 * The user and group a job asks its containers to run as (the image's or
 * service's `kubernetes: user: "uid[:gid]"`), as gitlab-runner's
 * getContainerUIDGID decides: the container security context's
 * runAsUser/runAsGroup wins, then the pod's, then the job's when it is a
 * non-negative number allowed by allowed_users / allowed_groups (root only
 * when listed, even with an empty list).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "executor/kubernetes/k8s_pod_int.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Go's strconv.ParseInt(s, 10, 64): 0, or -1 with its error in err. */
static int parse_id(const char *s, int64_t *out, struct buf *err)
{
	const char *p = s;
	long long v;
	char *end;

	if (*p == '+' || *p == '-')
		p++;
	if (!*p || strspn(p, "0123456789") != strlen(p)) {
		(void)buf_addf(err, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE) {
		(void)buf_addf(err, "strconv.ParseInt: parsing \"%s\": value out of range", s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Go's %v of a []string: "[a b]". */
static void list_text(const struct strvec *sv, struct buf *out)
{
	size_t i;

	(void)buf_addch(out, '[');
	for (i = 0; i < sv->nr; i++)
		(void)buf_addf(out, "%s%s", i ? " " : "", sv->v[i]);
	(void)buf_addch(out, ']');
}

static int listed(int64_t id, const struct strvec *allowed)
{
	struct buf ignored = BUF_INIT;
	int64_t v;
	size_t i;
	int found = 0;

	/* Entries that are not numbers are skipped. */
	for (i = 0; i < allowed->nr && !found; i++)
		found = parse_id(allowed->v[i], &v, &ignored) == 0 && v == id;
	buf_release(&ignored);
	return found;
}

/*
 * parseAndValidateID: kind "UID"/"GID", what "user"/"group".  Returns the
 * ID, or -1 with the reason in err.
 */
static int64_t job_id(const char *s, const char *kind, const char *what,
		      const struct strvec *allowed, struct buf *err)
{
	struct buf why = BUF_INIT, list = BUF_INIT;
	int64_t id = -1;

	if (parse_id(s, &id, &why) != 0) {
		(void)buf_addf(err, "failed to parse %s: %s", kind, why.data);
		id = -1;
	} else if (id < 0) {
		(void)buf_addf(err, "failed to parse %s: negative values not allowed",
			       kind);
		id = -1;
	} else if ((id == 0 || allowed->nr) && !listed(id, allowed)) {
		list_text(allowed, &list);
		(void)buf_addf(err, "validating %s: %s \"%s\" is not in the allowed list: %s",
			       kind, what, s, list.data);
		id = -1;
	}
	buf_release(&why);
	buf_release(&list);
	return id;
}

static void pick(json_t *sc, const char *key, int64_t container_id,
		 int64_t pod_id, const char *job, const char *container,
		 const struct strvec *allowed, struct k8s_id_log *log)
{
	int is_user = !strcmp(key, "runAsUser");
	const char *source = NULL;
	int64_t id = -1;

	if (container_id >= 0) {
		id = container_id;
		source = "container security context";
	} else if (pod_id >= 0) {
		id = pod_id;
		source = "pod security context";
	} else if (*job) {
		struct buf err = BUF_INIT;

		id = job_id(job, is_user ? "UID" : "GID",
			    is_user ? "user" : "group", allowed, &err);
		if (id < 0 && log->warnings)
			strvec_pushf(log->warnings, "Error parsing '%s' from image options for container \"%s\", using the configured security context: %s",
				     is_user ? "uid" : "gid", container,
				     err.data);
		buf_release(&err);
		if (id >= 0)
			json_object_set_new(sc, key, json_integer(id));
	}
	if (source && *job && log->notes)
		strvec_pushf(log->notes, "Overriding %s for container \"%s\" to \"%s\" is not allowed: %s is set to %lld in %s",
			     is_user ? "user" : "group", container, job,
			     is_user ? "user" : "group", (long long)id,
			     source);
}

void k8s_container_job_ids(json_t *sc, const struct config_kubernetes *kc,
			   enum config_k8s_sc_owner owner,
			   const char *job_user, const char *container,
			   struct k8s_id_log *log)
{
	const struct config_kubernetes_container_security *c = &kc->sc[owner];
	const struct config_kubernetes_pod_security *p = &kc->pod_security;
	const char *colon = job_user ? strchr(job_user, ':') : NULL;
	char *uid = job_user ? (colon ? xstrndup(job_user,
				(size_t)(colon - job_user)) :
				xstrdup(job_user)) : xstrdup("");
	const char *gid = colon ? colon + 1 : "";

	pick(sc, "runAsUser", c->run_as_user, p->run_as_user, uid, container,
	     &kc->allowed_users, log);
	pick(sc, "runAsGroup", c->run_as_group, p->run_as_group, gid,
	     container, &kc->allowed_groups, log);
	free(uid);
}
