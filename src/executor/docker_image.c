/*
 * Getting an image for the docker executor, as gitlab-runner does: the
 * allowed_images / allowed_services globs, the pull policies (the job's,
 * else config.toml's, else "always"; allowed_pull_policies), and for each
 * policy in turn an inspect or a pull.  Used for the job's image, the
 * helper image and each service.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config/config.h"
#include "executor/allowed_images.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define PULL_TAIL_MAX 8192

static void try_policy(struct docker_job *dj);
static void pull_image(struct docker_job *dj);

static void image_done(struct docker_job *dj)
{
	void (*after)(struct docker_job *) = dj->after_image;

	dj->after_image = NULL;
	after(dj);
}

static void policies_text(const struct strvec *sv, struct buf *out)
{
	size_t i;

	(void)buf_addch(out, '[');
	for (i = 0; i < sv->nr; i++)
		(void)buf_addf(out, "%s%s", i ? " " : "", sv->v[i]);
	(void)buf_addch(out, ']');
}

/* This policy did not give us the image: the next one, or the end. */
static void policy_failed(struct docker_job *dj, const char *why)
{
	struct buf list = BUF_INIT;

	if (dj->policy + 1 < dj->policies.nr) {
		docker_say(dj, "WARNING: %s; trying the next pull policy", why);
		dj->policy++;
		dj->pull_tried = 0;
		try_policy(dj);
		return;
	}
	policies_text(&dj->policies, &list);
	docker_fail(dj, CR_ERR_NOT_FOUND,
		    "failed to pull image \"%s\" with specified policies %s: %s",
		    dj->want, list.data, why);
	buf_release(&list);
	image_done(dj);
}

static void on_inspect(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	const char *policy = dj->policies.v[dj->policy];
	struct buf why = BUF_INIT;
	json_t *j;

	dj->req = NULL;
	if (resp->status == 200) {
		const char *id, *user;

		j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
		id = json_string_value(json_object_get(j, "Id"));
		if (!dj->pull_tried && strcmp(policy, "always"))
			docker_say(dj, "Using locally found image version due to \"%s\" pull policy",
				   policy);
		docker_say(dj, "Using docker image %s for %s ...", id ? id : "?",
			   dj->want);
		free(dj->want_id);
		dj->want_id = xstrdup(id ? id : dj->want);
		user = json_string_value(json_object_get(
			json_object_get(j, "Config"), "User"));
		free(dj->want_user);
		dj->want_user = xstrdup(user ? user : "");
		json_decref(j);
		image_done(dj);
		return;
	}
	docker_api_describe(resp, &why);
	if (resp->status == 404 && !strcmp(policy, "if-not-present") &&
	    !dj->pull_tried) {
		pull_image(dj);
	} else if (resp->status && resp->status != 404) {
		docker_fail(dj, CR_ERR_IO, "cannot inspect image '%s': %s",
			    dj->want, why.data);
		image_done(dj);
	} else {
		policy_failed(dj, why.data);
	}
	buf_release(&why);
}

static void inspect_image(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	(void)buf_addf(&path, "/images/%s/json", dj->want);
	dj->req = docker_api_call(dj->api, "GET", path.data, NULL, 0,
				  on_inspect, dj);
	buf_release(&path);
}

static void on_pull_data(void *ctx, int is_stderr, const char *data,
			 size_t len)
{
	struct docker_job *dj = ctx;

	(void)is_stderr;
	if (dj->pull_tail.len + len > PULL_TAIL_MAX) {
		size_t keep = dj->pull_tail.len > PULL_TAIL_MAX / 2 ?
			PULL_TAIL_MAX / 2 : dj->pull_tail.len;

		memmove(dj->pull_tail.data,
			dj->pull_tail.data + dj->pull_tail.len - keep, keep);
		buf_setlen(&dj->pull_tail, keep);
		if (len > PULL_TAIL_MAX / 2) {
			data += len - PULL_TAIL_MAX / 2;
			len = PULL_TAIL_MAX / 2;
		}
	}
	(void)buf_add(&dj->pull_tail, data, len);
}

/* The last {"error": ...} line of a pull's progress, if any. */
static int pull_error(struct docker_job *dj, struct buf *why)
{
	char *line = dj->pull_tail.data, *end;
	int found = 0;

	while (*line) {
		json_t *j;
		const char *e;

		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		j = json_loads(line, 0, NULL);
		e = json_string_value(json_object_get(j, "error"));
		if (e) {
			buf_reset(why);
			(void)buf_addstr(why, e);
			found = 1;
		}
		json_decref(j);
		if (!end)
			break;
		line = end + 1;
	}
	return found;
}

static void on_pull(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct buf why = BUF_INIT;

	dj->req = NULL;
	if (resp->status != 200)
		docker_api_describe(resp, &why);
	if (resp->status != 200 || pull_error(dj, &why)) {
		policy_failed(dj, why.data);
		buf_release(&why);
		return;
	}
	buf_release(&why);
	inspect_image(dj);	/* pull_tried: no "locally found" line */
}

static void pull_image(struct docker_job *dj)
{
	struct buf path = BUF_INIT, auth = BUF_INIT;
	char *name = xstrdup(dj->want), *tag = NULL, *slash, *colon, *e1, *e2;
	const char *source;

	dj->pull_tried = 1;
	docker_say(dj, "Pulling docker image %s ...", dj->want);
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (!strchr(name, '@') && colon && (!slash || colon > slash)) {
		*colon = '\0';
		tag = colon + 1;
	}
	e1 = curl_easy_escape(NULL, name, 0);
	e2 = curl_easy_escape(NULL, tag ? tag : "latest", 0);
	(void)buf_addf(&path, "/images/create?fromImage=%s&tag=%s", e1, e2);
	if (dj->want_platform) {
		char *e3 = curl_easy_escape(NULL, dj->want_platform, 0);

		(void)buf_addf(&path, "&platform=%s", e3);
		curl_free(e3);
	}
	buf_reset(&dj->pull_tail);
	source = docker_registry_auth(dj->payload, dj->vars ?
				      variables_get(dj->vars, "DOCKER_AUTH_CONFIG") :
				      NULL, dj->want, &auth);
	if (source)
		docker_say(dj, "Authenticating with credentials from %s", source);
	dj->req = docker_api_stream(dj->api, "POST", path.data,
				    auth.len ? auth.data : NULL,
				    DOCKER_STREAM_RAW, on_pull_data, on_pull,
				    dj);
	buf_release_secret(&auth);
	curl_free(e1);
	curl_free(e2);
	free(name);
	buf_release(&path);
}

/* ---- registry credentials (the job's, spec 3.x "credentials") ---- */

void docker_image_registry(const char *image, struct buf *out)
{
	const char *slash = strchr(image, '/');
	size_t n = slash ? (size_t)(slash - image) : 0;

	/* docker's rule: a first part with a dot, a colon, or "localhost". */
	if (slash && (memchr(image, '.', n) || memchr(image, ':', n) ||
		      (n == 9 && !strncmp(image, "localhost", 9))))
		(void)buf_add(out, image, n);
	else
		(void)buf_addstr(out, "docker.io");
}

static void base64url(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		(void)buf_addch(out, tab[p[i] >> 2]);
		(void)buf_addch(out, tab[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		(void)buf_addch(out, tab[(p[i + 1] & 15) << 2 | p[i + 2] >> 6]);
		(void)buf_addch(out, tab[p[i + 2] & 63]);
	}
	if (n - i == 1) {
		(void)buf_addch(out, tab[p[i] >> 2]);
		(void)buf_addch(out, tab[(p[i] & 3) << 4]);
		(void)buf_addstr(out, "==");
	} else if (n - i == 2) {
		(void)buf_addch(out, tab[p[i] >> 2]);
		(void)buf_addch(out, tab[(p[i] & 3) << 4 | p[i + 1] >> 4]);
		(void)buf_addch(out, tab[(p[i + 1] & 15) << 2]);
		(void)buf_addch(out, '=');
	}
}

static void auth_header(struct buf *out, const char *user, const char *pass,
			const char *server)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "username", user, "password",
			      pass, "serveraddress", server);
	char *text = json_dumps(j, JSON_COMPACT);

	(void)buf_addstr(out, "X-Registry-Auth: ");
	if (text) {
		base64url(out, (const unsigned char *)text, strlen(text));
		explicit_bzero(text, strlen(text));
	}
	free(text);
	json_decref(j);
}

/* Standard base64 of "user:password" (docker's config "auth"). */
static int base64_decode(const char *in, struct buf *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned v = 0, bits = 0;
	const char *c;

	for (; *in && *in != '='; in++) {
		if (!(c = strchr(tab, *in)) || !*in)
			return -1;
		v = (v << 6 | (unsigned)(c - tab)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			(void)buf_addch(out, (char)(v >> bits & 0xff));
		}
	}
	return 0;
}

/* docker's config.json "auths" entry for reg; docker.io has old names. */
static json_t *auths_entry(json_t *auths, const char *reg)
{
	static const char *const hub[] = {
		"docker.io", "index.docker.io", "https://index.docker.io/v1/",
		"registry-1.docker.io",
	};
	const char *key;
	json_t *v;
	size_t i;

	if (strcmp(reg, "docker.io"))
		return json_object_get(auths, reg);
	for (i = 0; i < sizeof(hub) / sizeof(*hub); i++)
		if ((v = json_object_get(auths, hub[i])))
			return v;
	json_object_foreach(auths, key, v)
		if (strstr(key, "index.docker.io"))
			return v;
	return NULL;
}

static int from_auth_config(const char *config, const char *reg,
			    struct buf *out)
{
	json_t *j = json_loads(config, 0, NULL), *e;
	struct buf up = BUF_INIT;
	const char *a, *user, *pass;
	char *colon;
	int found = 0;

	e = auths_entry(json_object_get(j, "auths"), reg);
	user = json_string_value(json_object_get(e, "username"));
	pass = json_string_value(json_object_get(e, "password"));
	a = json_string_value(json_object_get(e, "auth"));
	if (user && pass) {
		auth_header(out, user, pass, reg);
		found = 1;
	} else if (a && base64_decode(a, &up) == 0 &&
		   (colon = strchr(up.data, ':'))) {
		*colon = '\0';
		auth_header(out, up.data, colon + 1, reg);
		found = 1;
	}
	buf_release_secret(&up);
	json_decref(j);
	return found;
}

const char *docker_registry_auth(const struct job_payload *p,
				 const char *auth_config, const char *image,
				 struct buf *out)
{
	struct buf reg = BUF_INIT;
	const char *source = NULL;
	size_t i;

	docker_image_registry(image, &reg);
	/* gitlab-runner's order: $DOCKER_AUTH_CONFIG, then the payload. */
	if (auth_config && *auth_config &&
	    from_auth_config(auth_config, reg.data, out))
		source = "$DOCKER_AUTH_CONFIG";
	for (i = 0; p && i < p->nr_credentials && !source; i++) {
		const struct job_credential *c = &p->credentials[i];

		if (!c->type || strcmp(c->type, "registry") || !c->url ||
		    strcmp(c->url, reg.data))
			continue;
		auth_header(out, c->username ? c->username : "",
			    c->password ? c->password : "", c->url);
		source = "job payload (GitLab Registry)";
	}
	buf_release(&reg);
	return source;
}

static void try_policy(struct docker_job *dj)
{
	if (!strcmp(dj->policies.v[dj->policy], "always"))
		pull_image(dj);
	else
		inspect_image(dj);	/* never, if-not-present */
}

void docker_image_get(struct docker_job *dj, const char *name,
		      const struct strvec *policies, const char *platform,
		      void (*after)(struct docker_job *dj))
{
	size_t i;

	free(dj->want_platform);
	dj->want_platform = platform && *platform ? xstrdup(platform) : NULL;
	free(dj->want);
	dj->want = xstrdup(name);
	free(dj->want_id);
	dj->want_id = NULL;
	free(dj->want_user);
	dj->want_user = NULL;
	strvec_clear(&dj->policies);
	for (i = 0; i < policies->nr; i++)
		strvec_push(&dj->policies, policies->v[i]);
	if (!dj->policies.nr)
		strvec_push(&dj->policies, "always");
	dj->policy = 0;
	dj->pull_tried = 0;
	dj->after_image = after;
	try_policy(dj);
}

static const struct strvec *runner_policies(const struct config_docker *dc,
					   struct strvec *fallback)
{
	if (dc->pull_policy.nr)
		return &dc->pull_policy;
	strvec_push(fallback, "always");
	return fallback;
}

int docker_pull_policies(const struct config_docker *dc,
			 const struct strvec *want, struct strvec *out,
			 struct buf *err)
{
	struct strvec default_allowed = STRVEC_INIT, default_want = STRVEC_INIT;
	const struct strvec *allowed = &dc->allowed_pull_policies;
	const char *source = "GitLab pipeline config";
	size_t i, k;
	int r = 0;

	/* gitlab-runner's GetAllowedPullPolicies: else the runner's list. */
	if (!allowed->nr)
		allowed = runner_policies(dc, &default_allowed);
	if (!want || !want->nr) {
		source = dc->pull_policy.nr ? "Runner config" :
			"Runner config (default)";
		want = runner_policies(dc, &default_want);
	}
	for (i = 0; i < want->nr; i++)
		for (k = 0; k < allowed->nr; k++)
			if (!strcmp(allowed->v[k], want->v[i])) {
				strvec_push(out, want->v[i]);
				break;
			}
	if (!out->nr) {
		struct buf a = BUF_INIT, b = BUF_INIT;

		/* Go's %v of a slice: "[always if-not-present]". */
		policies_text(want, &a);
		policies_text(allowed, &b);
		buf_seterr(err, "pull_policy (%s) defined in %s is not one of the allowed_pull_policies (%s)",
			   a.data, source, b.data);
		buf_release(&a);
		buf_release(&b);
		r = CR_ERR_CONFIG;
	}
	strvec_clear(&default_allowed);
	strvec_clear(&default_want);
	return r;
}

int docker_image_policies(struct docker_job *dj, const char *image,
			  const struct strvec *want, struct strvec *out)
{
	struct buf why = BUF_INIT;
	int r;

	if ((r = docker_pull_policies(dj->dc, want, out, &why)) != 0)
		docker_fail(dj, r, "invalid pull policy for image \"%s\": %s",
			    image, why.data);
	buf_release(&why);
	return r;
}

int docker_image_allowed(struct docker_job *dj, const char *image,
			 const char *what, const struct strvec *allowed)
{
	struct strvec lines = STRVEC_INIT;
	size_t i;

	if (allowed_image(image, what, allowed, NULL, &lines))
		return 1;
	for (i = 0; i < lines.nr; i++)
		docker_say(dj, "%s", lines.v[i]);
	strvec_clear(&lines);
	docker_fail(dj, CR_ERR_INVALID, "invalid image \"%s\": not in allowed_%s",
		    image, what);
	return 0;
}
