/*
 * include: remote / project / template / component (and local files of
 * another project): from an entry to the text of its files.  See
 * include_remote.h for GitLab's rules this follows.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local/gitlab_origin.h"
#include "local/include_remote.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define KINDS "`local`, `project`, `remote`, `template`, `artifact`, `component`"

/* One entry being resolved. */
struct req {
	const struct include_remote *ir;
	const struct yaml_include_ctx *ic;
	const struct ynode *entry;
	const char *project, *ref;	/* the including file's */
	struct yaml_fetched *out;
	size_t nr;
	struct buf *err;
	char where[512];
};

static char *expand(const struct req *q, const char *text)
{
	const struct yaml_include_ctx *ic = q->ic;

	return ic && ic->expand ? ic->expand(ic->ctx, text) : xstrdup(text);
}

/* Percent-encodes everything but RFC 3986's unreserved characters. */
static void add_encoded(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			(void)buf_addch(b, (char)c);
		else
			(void)buf_addf(b, "%%%02X", c);
	}
}

/* GitLab's YAML_ALLOWLIST_EXTENSION, on the location's basename. */
static bool yaml_extension(const char *location)
{
	const char *base = strrchr(location, '/');
	size_t len;

	base = base ? base + 1 : location;
	len = strlen(base);
	return (len > 4 && !strcasecmp(base + len - 4, ".yml")) ||
		(len > 5 && !strcasecmp(base + len - 5, ".yaml"));
}

/* Whether s is an http(s) URL with a host (GitLab's UrlSanitizer.valid?). */
static bool is_url(const char *s)
{
	const char *h = !strncmp(s, "https://", 8) ? s + 8 :
		!strncmp(s, "http://", 7) ? s + 7 : NULL;

	return h && *h && *h != '/';
}

/* "; <what to do>" after a fetch that failed with r. */
static void add_hint(struct buf *b, const struct include_remote *ir, int r,
		     bool api)
{
	bool token = ir->fetch.token && *ir->fetch.token;

	if (ir->fetch.offline) {
		(void)buf_addstr(b, "; run once without --offline to fetch it");
		return;
	}
	switch (r) {
	case CR_ERR_AUTH:
		(void)buf_addstr(b, token ?
				 "; the token was refused: check --gitlab-token, $CRUNNER_GITLAB_TOKEN or $GITLAB_TOKEN" :
				 "; give a token with --gitlab-token, $CRUNNER_GITLAB_TOKEN or $GITLAB_TOKEN");
		break;
	case CR_ERR_NOT_FOUND:
		if (!api)
			(void)buf_addstr(b, "; check the URL");
		else if (!token)
			(void)buf_addstr(b, "; check the names, and give a token (--gitlab-token, $CRUNNER_GITLAB_TOKEN or $GITLAB_TOKEN) if the project is private");
		else
			(void)buf_addstr(b, "; check the names, and that the token may read the project");
		break;
	case CR_ERR_NETWORK:
		(void)buf_addf(b, "; check the network%s, or run with --offline to use the files fetched before",
			       api ? " and --gitlab-url" : "");
		break;
	default:
		break;
	}
}

/*
 * GETs url (cached under key) into body; what names the include in the
 * message ("project 'g/p' file 'f'").  api: the instance's API (sends the
 * token).  quiet_404: a 404 is returned without a message (the caller
 * tries something else).
 */
static int get(struct req *q, const char *what, const char *url,
	       const char *key, bool api, bool quiet_404, struct buf *body)
{
	struct buf why = BUF_INIT;
	int r = include_fetch_get(&q->ir->fetch, url, key,
				  api ? INCLUDE_FETCH_TOKEN : 0, body, &why);

	if (r && !(quiet_404 && r == CR_ERR_NOT_FOUND)) {
		struct buf msg = BUF_INIT;

		(void)buf_addf(&msg, "%s: include %s: cannot fetch %s: %s",
			       q->where, what, url, why.data);
		add_hint(&msg, q->ir, r, api);
		buf_seterr(q->err, "%s", msg.data);
		buf_release(&msg);
	}
	buf_release(&why);
	return r;
}

/* Adds a fetched file (body taken) to q's output. */
static void add_file(struct req *q, struct buf *body, const char *name,
		     const char *project, const char *ref)
{
	struct yaml_fetched *f;

	q->out = xreallocarray(q->out, q->nr + 1, sizeof(*q->out));
	f = &q->out[q->nr++];
	f->text = buf_detach(body, &f->len);
	f->name = xstrdup(name);
	f->project = project ? xstrdup(project) : NULL;
	f->ref = ref ? xstrdup(ref) : NULL;
}

static int need_instance(struct req *q, const char *what)
{
	if (q->ir->instance && q->ir->instance->url)
		return 0;
	buf_seterr(q->err, "%s: include %s: cannot tell which GitLab server to ask%s%s; give it with --gitlab-url",
		   q->where, what, q->ir->instance_why ? ": " : "",
		   q->ir->instance_why ? q->ir->instance_why : "");
	return CR_ERR_USAGE;
}

/* The scalar value of key in the entry, expanded; NULL when absent. */
static int scalar(struct req *q, const char *key, char **out)
{
	const struct ynode *n = ynode_get(q->entry, key);
	char where[512];

	*out = NULL;
	if (!n)
		return 0;
	if (n->kind != YNODE_SCALAR || !*n->str) {
		ynode_where(n, where, sizeof(where));
		buf_seterr(q->err, "%s: include: '%s' must be a non-empty string",
			   where, key);
		return CR_ERR_INVALID;
	}
	*out = expand(q, n->str);
	return 0;
}

/* One file of a project at ref, through the repository files API. */
static int project_file(struct req *q, const char *project, const char *ref,
			const char *file, const char *kind)
{
	const struct gitlab_instance *gi = q->ir->instance;
	struct buf url = BUF_INIT, key = BUF_INIT, what = BUF_INIT,
		name = BUF_INIT, body = BUF_INIT;
	int r;

	while (*file == '/')
		file++;
	if (*kind)
		(void)buf_addf(&what, "local '%s' of project '%s'", file, project);
	else
		(void)buf_addf(&what, "project '%s' file '%s'", project, file);
	if ((r = need_instance(q, what.data)))
		goto out;
	if (!yaml_extension(file)) {
		buf_seterr(q->err, "%s: included file `%s` does not have YAML extension!",
			   q->where, file);
		r = CR_ERR_INVALID;
		goto out;
	}
	(void)buf_addf(&url, "%s/api/v4/projects/", gi->url);
	add_encoded(&url, project);
	(void)buf_addstr(&url, "/repository/files/");
	add_encoded(&url, file);
	(void)buf_addstr(&url, "/raw?ref=");
	add_encoded(&url, ref);
	(void)buf_addf(&key, "project %s %s %s %s", gi->url, project, ref, file);
	if ((r = get(q, what.data, url.data, key.data, true, false, &body)))
		goto out;
	(void)buf_addf(&name, "%s@%s:%s", project, ref, file);
	add_file(q, &body, name.data, project, ref);
out:
	buf_release(&url);
	buf_release(&key);
	buf_release(&what);
	buf_release(&name);
	buf_release(&body);
	return r;
}

/* include: project (ref, file: one path or a list). */
static int do_project(struct req *q)
{
	const struct ynode *files = ynode_get(q->entry, "file");
	char *project = NULL, *ref = NULL, *file;
	size_t i, n;
	int r;

	if ((r = scalar(q, "project", &project)) || (r = scalar(q, "ref", &ref)))
		goto out;
	for (i = 0; project[i]; i++)
		project[i] = (char)tolower((unsigned char)project[i]);
	if (!ref)
		ref = xstrdup("HEAD");
	if (!files || (files->kind != YNODE_SCALAR && files->kind != YNODE_SEQ) ||
	    (files->kind == YNODE_SCALAR && !*files->str) ||
	    (files->kind == YNODE_SEQ && !files->nr)) {
		buf_seterr(q->err, "%s: include project '%s': must specify the file where to fetch the config from",
			   q->where, project);
		r = CR_ERR_INVALID;
		goto out;
	}
	n = files->kind == YNODE_SEQ ? files->nr : 1;
	for (i = 0; i < n && !r; i++) {
		const struct ynode *f = files->kind == YNODE_SEQ ?
			files->items[i] : files;

		if (f->kind != YNODE_SCALAR || !*f->str) {
			char where[512];

			ynode_where(f, where, sizeof(where));
			buf_seterr(q->err, "%s: include: 'file' must be a path or a list of paths",
				   where);
			r = CR_ERR_INVALID;
			break;
		}
		file = expand(q, f->str);
		r = project_file(q, project, ref, file, "");
		free(file);
	}
out:
	free(project);
	free(ref);
	return r;
}

/* Standard base64 (RFC 4648, with padding) of len bytes. */
static void add_base64(struct buf *b, const unsigned char *in, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		(void)buf_addch(b, abc[(v >> 18) & 63]);
		(void)buf_addch(b, abc[(v >> 12) & 63]);
		(void)buf_addch(b, i + 1 < len ? abc[(v >> 6) & 63] : '=');
		(void)buf_addch(b, i + 2 < len ? abc[v & 63] : '=');
	}
}

/* Whether s is strict base64: groups of 4, '=' only as padding at the end. */
static bool is_base64(const char *s)
{
	size_t len = strlen(s), i, pad = 0;

	if (!len || len % 4)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '=' && i >= len - 2)
			pad++;
		else if (pad || !(isalnum((unsigned char)s[i]) || s[i] == '+' ||
				  s[i] == '/'))
			return false;
	}
	return true;
}

/*
 * include: remote's integrity: "sha256-<base64 of the SHA-256 of the
 * file>" (GitLab's BaseInclude checks the form); the file must match.
 */
static int check_integrity(struct req *q, const char *location,
			   const struct buf *body)
{
	const struct ynode *n = ynode_get(q->entry, "integrity");
	const char *want = ynode_text(n);
	unsigned char sum[SHA256_LEN];
	struct buf got = BUF_INIT;
	int r = 0;

	if (!n)
		return 0;
	if (!want || strncmp(want, "sha256-", 7)) {
		buf_seterr(q->err, "%s: include: integrity hash must start with 'sha256-'",
			   q->where);
		return CR_ERR_INVALID;
	}
	if (!is_base64(want + 7)) {
		buf_seterr(q->err, "%s: include: integrity hash must be base64 encoded",
			   q->where);
		return CR_ERR_INVALID;
	}
	sha256(body->data, body->len, sum);
	(void)buf_addstr(&got, "sha256-");
	add_base64(&got, sum, sizeof(sum));
	if (strcmp(got.data, want)) {
		buf_seterr(q->err, "%s: include remote '%s': the file does not match its integrity: it is %s, integrity says %s",
			   q->where, location, got.data, want);
		r = CR_ERR_INVALID;
	}
	buf_release(&got);
	return r;
}

/* include: remote (or a plain URL). */
static int do_remote(struct req *q, const char *location)
{
	struct buf key = BUF_INIT, what = BUF_INIT, body = BUF_INIT;
	int r;

	if (!is_url(location)) {
		buf_seterr(q->err, "%s: remote file `%s` does not have a valid address!",
			   q->where, location);
		return CR_ERR_INVALID;
	}
	if (!yaml_extension(location)) {
		buf_seterr(q->err, "%s: included file `%s` does not have YAML extension!",
			   q->where, location);
		return CR_ERR_INVALID;
	}
	(void)buf_addf(&key, "remote %s", location);
	(void)buf_addf(&what, "remote '%s'", location);
	if (!(r = get(q, what.data, location, key.data, false, false, &body)) &&
	    !(r = check_integrity(q, location, &body)))
		add_file(q, &body, location, q->project, q->ref);
	buf_release(&key);
	buf_release(&what);
	buf_release(&body);
	return r;
}

/* include: template, from the instance's CI template API. */
static int do_template(struct req *q, const char *location)
{
	static const char suffix[] = ".gitlab-ci.yml";
	const struct gitlab_instance *gi = q->ir->instance;
	size_t len = strlen(location), sl = sizeof(suffix) - 1;
	struct buf url = BUF_INIT, key = BUF_INIT, what = BUF_INIT,
		body = BUF_INIT, name = BUF_INIT, text = BUF_INIT;
	json_t *j = NULL, *content;
	char *tname = NULL;
	int r;

	(void)buf_addf(&what, "template '%s'", location);
	if (len <= sl || strcmp(location + len - sl, suffix)) {
		buf_seterr(q->err, "%s: template file `%s` is not a valid location!",
			   q->where, location);
		r = CR_ERR_INVALID;
		goto out;
	}
	if ((r = need_instance(q, what.data)))
		goto out;
	tname = xstrndup(location, len - sl);
	(void)buf_addf(&url, "%s/api/v4/templates/gitlab_ci_ymls/", gi->url);
	add_encoded(&url, tname);
	(void)buf_addf(&key, "template %s %s", gi->url, tname);
	if ((r = get(q, what.data, url.data, key.data, true, false, &body)))
		goto out;
	j = json_loadb(body.data, body.len, 0, NULL);
	content = j ? json_object_get(j, "content") : NULL;
	if (!json_is_string(content)) {
		buf_seterr(q->err, "%s: include %s: %s did not answer a template (JSON with \"content\")",
			   q->where, what.data, url.data);
		r = CR_ERR_PROTOCOL;
		goto out;
	}
	(void)buf_add(&text, json_string_value(content),
		      json_string_length(content));
	(void)buf_addf(&name, "template %s", location);
	add_file(q, &text, name.data, q->project, q->ref);
	r = 0;
out:
	json_decref(j);
	free(tname);
	buf_release(&url);
	buf_release(&key);
	buf_release(&what);
	buf_release(&body);
	buf_release(&name);
	buf_release(&text);
	return r;
}

/* GitLab's SHORTHAND_SEMVER_PATTERN, ^\d+(\.\d+)?$: "1", "1.2". */
static bool is_shorthand(const char *v)
{
	int dots = 0;

	if (!isdigit((unsigned char)*v))
		return false;
	for (; *v; v++) {
		if (*v == '.') {
			if (++dots > 1 || !isdigit((unsigned char)v[1]))
				return false;
		} else if (!isdigit((unsigned char)*v)) {
			return false;
		}
	}
	return true;
}

int include_semver_parse(const char *text, long v[3], int *prerelease)
{
	const char *p = text;
	char *end;
	int i;

	if (*p == 'v')
		p++;
	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return 0;
		v[i] = strtol(p, &end, 10);
		p = end;
		if (i < 2 && *p++ != '.')
			return 0;
	}
	*prerelease = *p == '-';
	if (*p && *p != '-' && *p != '+')
		return 0;
	return 1;
}

char *include_component_tag(const char *json, size_t len, const char *version)
{
	json_t *j = json_loadb(json, len, 0, NULL), *rel;
	long want[2] = { -1, -1 }, best[3] = { -1, -1, -1 }, v[3];
	const char *best_tag = NULL;
	char *out = NULL, *end;
	size_t i;
	int pre;

	if (strcmp(version, "~latest")) {
		if (!is_shorthand(version))
			goto out;
		want[0] = strtol(version, &end, 10);
		if (*end == '.')
			want[1] = strtol(end + 1, &end, 10);
	}
	if (!json_is_array(j))
		goto out;
	json_array_foreach(j, i, rel) {
		const char *tag = json_string_value(json_object_get(rel, "tag_name"));

		if (!tag || json_is_true(json_object_get(rel, "upcoming_release")) ||
		    !include_semver_parse(tag, v, &pre) || pre)
			continue;
		if ((want[0] >= 0 && v[0] != want[0]) ||
		    (want[1] >= 0 && v[1] != want[1]))
			continue;
		if (v[0] > best[0] || (v[0] == best[0] && (v[1] > best[1] ||
		    (v[1] == best[1] && v[2] > best[2])))) {
			memcpy(best, v, sizeof(best));
			best_tag = tag;
		}
	}
	if (best_tag)
		out = xstrdup(best_tag);
out:
	json_decref(j);
	return out;
}

/*
 * The instance a component address names ("<fqdn>/..."), for a tree
 * whose origin names none: in GitLab the address's FQDN is the project's
 * own instance.  0 with gi set, else need_instance()'s error.
 */
static int component_instance(struct req *q, const char *address,
			      const char *what, struct gitlab_instance *gi)
{
	const char *slash = strchr(address, '/');
	struct buf url = BUF_INIT, why = BUF_INIT;
	int r = CR_ERR_USAGE;

	if (slash && slash != address) {
		(void)buf_addstr(&url, "https://");
		(void)buf_add(&url, address, (size_t)(slash - address));
		if (!gitlab_instance_from_url(url.data, gi, &why))
			r = 0;
	}
	buf_release(&url);
	buf_release(&why);
	return r ? need_instance(q, what) : 0;
}

/* include: component: "<fqdn>/<project path>/<name>@<version>". */
static int do_component(struct req *q, const char *address)
{
	const struct gitlab_instance *gi = q->ir->instance;
	struct gitlab_instance named = GITLAB_INSTANCE_INIT;
	const char *at = strchr(address, '@'), *path, *slash;
	struct buf url = BUF_INIT, key = BUF_INIT, what = BUF_INIT,
		body = BUF_INIT, file = BUF_INIT, name = BUF_INIT;
	char *project = NULL, *comp = NULL, *version = NULL, *ref = NULL;
	size_t fl;
	int r, attempt;
	bool api = true;	/* the token goes only to the chosen instance */

	(void)buf_addf(&what, "component '%s'", address);
	if (!gi || !gi->url) {
		if ((r = component_instance(q, address, what.data, &named)))
			goto out;
		gi = &named;
		api = false;
	}
	fl = strlen(gi->fqdn);
	if (!at || strncmp(address, gi->fqdn, fl) || address[fl] != '/') {
		buf_seterr(q->err, "%s: component '%s' - the component path is not supported: it must be '%s/<project path>/<name>@<version>' (the GitLab server is %s; see --gitlab-url)",
			   q->where, address, gi->fqdn, gi->url);
		r = CR_ERR_INVALID;
		goto out;
	}
	path = address + fl + 1;
	slash = memrchr(path, '/', (size_t)(at - path));
	if (!slash || slash == path || slash + 1 == at || !at[1]) {
		buf_seterr(q->err, "%s: component '%s' - content not found: the path must name a project and a component",
			   q->where, address);
		r = CR_ERR_INVALID;
		goto out;
	}
	project = xstrndup(path, (size_t)(slash - path));
	comp = xstrndup(slash + 1, (size_t)(at - slash - 1));
	version = xstrdup(at + 1);
	if (!strcmp(version, "~latest") || is_shorthand(version)) {
		struct buf rel = BUF_INIT;
		bool shorthand = strcmp(version, "~latest") != 0;

		(void)buf_addf(&url, "%s/api/v4/projects/", gi->url);
		add_encoded(&url, project);
		(void)buf_addstr(&url, "/releases?per_page=100");
		(void)buf_addf(&key, "releases %s %s", gi->url, project);
		r = get(q, what.data, url.data, key.data, api, shorthand, &rel);
		if (!r)
			ref = include_component_tag(rel.data, rel.len, version);
		buf_release(&rel);
		if (r && !(shorthand && r == CR_ERR_NOT_FOUND))
			goto out;
		r = 0;
		buf_reset(&url);
		buf_reset(&key);
		/* "1.0" with no such release: a tag or branch of that name. */
		if (!ref && shorthand) {
			ref = xstrdup(version);
		} else if (!ref) {
			buf_seterr(q->err, "%s: component '%s' - The ~latest version reference needs a release with a semantic version (project '%s' has none); use a tag, branch, or commit SHA instead",
				   q->where, address, project);
			r = CR_ERR_NOT_FOUND;
			goto out;
		}
	} else {
		ref = xstrdup(version);
	}
	/* templates/<name>.yml, else templates/<name>/template.yml */
	for (attempt = 0; attempt < 2; attempt++) {
		buf_reset(&file);
		buf_reset(&url);
		buf_reset(&key);
		(void)buf_addf(&file, attempt ? "templates/%s/template.yml" :
			       "templates/%s.yml", comp);
		(void)buf_addf(&url, "%s/api/v4/projects/", gi->url);
		add_encoded(&url, project);
		(void)buf_addstr(&url, "/repository/files/");
		add_encoded(&url, file.data);
		(void)buf_addstr(&url, "/raw?ref=");
		add_encoded(&url, ref);
		(void)buf_addf(&key, "project %s %s %s %s", gi->url, project, ref,
			       file.data);
		r = get(q, what.data, url.data, key.data, api, !attempt, &body);
		if (r != CR_ERR_NOT_FOUND || attempt)
			break;
	}
	if (r)
		goto out;
	(void)buf_addf(&name, "%s/%s@%s:%s", gi->fqdn, project, ref, file.data);
	add_file(q, &body, name.data, project, ref);
out:
	gitlab_instance_release(&named);
	free(project);
	free(comp);
	free(version);
	free(ref);
	buf_release(&url);
	buf_release(&key);
	buf_release(&what);
	buf_release(&body);
	buf_release(&file);
	buf_release(&name);
	return r;
}

static const char *const allowed_keys[] = {
	"local", "file", "remote", "project", "ref", "template", "artifact",
	"job", "rules", "component", "inputs", "integrity", NULL,
};

static const char *const kind_keys[] = {
	"local", "project", "remote", "template", "artifact", "component", NULL,
};

static int do_entry(struct req *q)
{
	const struct ynode *e = q->entry;
	const char *kind = NULL, *text;
	char *value = NULL;
	size_t i, k, kinds = 0;
	int r;

	if ((text = ynode_text(e)) && *text) {
		value = expand(q, text);
		if (is_url(value))
			r = do_remote(q, value);
		else if (q->project)
			r = project_file(q, q->project, q->ref, value, "local");
		else	/* yaml.c reads the working tree's own files */
			r = (buf_seterr(q->err, "%s: include '%s' is a local file",
					q->where, value), CR_ERR_INTERNAL);
		free(value);
		return r;
	}
	for (i = 0; i < e->nr; i++) {
		for (k = 0; allowed_keys[k]; k++)
			if (!strcmp(e->keys[i], allowed_keys[k]))
				break;
		if (!allowed_keys[k]) {
			char where[512];

			ynode_where_key(e->items[i], where, sizeof(where));
			buf_seterr(q->err, "%s: include: unknown keyword '%s'",
				   where, e->keys[i]);
			return CR_ERR_INVALID;
		}
		for (k = 0; kind_keys[k]; k++)
			if (!strcmp(e->keys[i], kind_keys[k])) {
				kind = kind_keys[k];
				kinds++;
			}
	}
	if (kinds != 1) {
		buf_seterr(q->err, kinds ? "%s: each include must use only one of: " KINDS :
			   "%s: include does not have a valid subkey for include. Valid subkeys are: " KINDS,
			   q->where);
		return CR_ERR_INVALID;
	}
	if (ynode_get(e, "integrity") && strcmp(kind, "remote")) {
		buf_seterr(q->err, "%s: include: integrity can only be specified for remote includes",
			   q->where);
		return CR_ERR_INVALID;
	}
	if (!strcmp(kind, "artifact")) {
		buf_seterr(q->err, "%s: include: artifact reads a job artifact of a parent pipeline, which crunner exec does not have",
			   q->where);
		return CR_ERR_UNSUPPORTED;
	}
	if (!strcmp(kind, "project"))
		return do_project(q);
	if ((r = scalar(q, kind, &value)))
		return r;
	if (!strcmp(kind, "remote"))
		r = do_remote(q, value);
	else if (!strcmp(kind, "template"))
		r = do_template(q, value);
	else if (!strcmp(kind, "component"))
		r = do_component(q, value);
	else if (strpbrk(value, "*?["))
		r = (buf_seterr(q->err, "%s: include local '%s': wildcards in a file from project '%s' are not supported by crunner exec",
				q->where, value, q->project), CR_ERR_UNSUPPORTED);
	else
		r = project_file(q, q->project, q->ref, value, "local");
	free(value);
	return r;
}

int include_remote_fetch(void *ctx, const struct yaml_include_ctx *ic,
			 const struct ynode *entry, const char *project,
			 const char *ref, struct yaml_fetched **out, size_t *nr,
			 struct buf *err)
{
	struct req q = { 0 };
	size_t i;
	int r;

	q.ir = ctx;
	q.ic = ic;
	q.entry = entry;
	q.project = project;
	q.ref = ref;
	q.err = err;
	ynode_where(entry, q.where, sizeof(q.where));
	r = do_entry(&q);
	if (r) {
		for (i = 0; i < q.nr; i++)
			yaml_fetched_release(&q.out[i]);
		free(q.out);
		*out = NULL;
		*nr = 0;
		return r;
	}
	*out = q.out;
	*nr = q.nr;
	return 0;
}
