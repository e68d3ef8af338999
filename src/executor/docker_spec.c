/*
 * Names, labels and container-create bodies for the docker executor, as
 * gitlab-runner's docker executor makes them.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/glob.h"
#include "config/config.h"
#include "executor/docker_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* gitlab-runner's default: raw sockets are not a build's business. */
static const char *const default_cap_drop[] = { "NET_RAW" };

static void add_rfc1123(struct buf *out, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		(void)buf_addch(out, c);
	}
}

void docker_unique_name(struct buf *out, const struct docker_job_info *ji)
{
	struct buf raw = BUF_INIT;

	(void)buf_addf(&raw, "runner-%s-project-%lld-concurrent-%d",
		       ji->short_token ? ji->short_token : "",
		       (long long)ji->project_id, ji->concurrent_project_id);
	add_rfc1123(out, raw.data);
	buf_release(&raw);
}

/* FNV-1a, 32 bits: a name tag, not a security measure. */
static uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

void docker_job_prefix(struct buf *out, const struct docker_job_info *ji,
		       const char *token)
{
	uint32_t h = 2166136261u;
	char id[32];

	snprintf(id, sizeof(id), "%lld", (long long)ji->job_id);
	h = fnv1a(h, id, strlen(id));
	if (token)
		h = fnv1a(h, token, strlen(token));
	docker_unique_name(out, ji);
	(void)buf_addf(out, "-%08x", h);
}

static void label(json_t *obj, const char *key, const char *value)
{
	struct buf k = BUF_INIT;

	(void)buf_addf(&k, "%s.%s", DOCKER_LABEL_PREFIX, key);
	json_object_set_new(obj, k.data, json_string(value ? value : ""));
	buf_release(&k);
}

/* gitlab-runner's DefaultTimeout, for a job GitLab gave none. */
#define DOCKER_DEFAULT_JOB_TIMEOUT_S 7200

json_t *docker_labels(const struct docker_job_info *ji, const char *type)
{
	json_t *obj = json_object();
	struct buf timeout = BUF_INIT;
	char n[32];

	snprintf(n, sizeof(n), "%lld", (long long)ji->job_id);
	label(obj, "job.id", n);
	label(obj, "job.url", ji->job_url);
	label(obj, "job.sha", ji->sha);
	label(obj, "job.before_sha", ji->before_sha);
	label(obj, "job.ref", ji->ref);
	/* Go's Duration.String() of the job's timeout, as GetBuildTimeout. */
	(void)config_format_duration((ji->timeout_s > 0 ? ji->timeout_s :
				      DOCKER_DEFAULT_JOB_TIMEOUT_S) * 1000,
				     &timeout);
	label(obj, "job.timeout", timeout.data);
	buf_release(&timeout);
	snprintf(n, sizeof(n), "%lld", (long long)ji->project_id);
	label(obj, "project.id", n);
	/* gitlab-runner's ProjectRunnerID: CI_CONCURRENT_PROJECT_ID. */
	snprintf(n, sizeof(n), "%d", ji->concurrent_project_id);
	label(obj, "project.runner_id", n);
	label(obj, "pipeline.id", ji->pipeline_id);
	label(obj, "runner.id", ji->short_token);
	snprintf(n, sizeof(n), "%d", ji->concurrent_id);
	label(obj, "runner.local_id", n);
	label(obj, "runner.system_id", ji->system_id ? ji->system_id : "");
	label(obj, "managed", "true");
	if (type)
		label(obj, "type", type);
	return obj;
}

int docker_privileged(const struct config_docker *dc, const char *image,
		      int service)
{
	const struct strvec *allowed = service ?
		&dc->allowed_privileged_services : &dc->allowed_privileged_images;
	int want = dc->privileged;
	size_t i;

	if (service && dc->services_privileged != CONFIG_UNSET)
		want = dc->services_privileged == CONFIG_TRUE;
	if (!want || !allowed->nr)
		return want;
	for (i = 0; i < allowed->nr; i++)
		if (glob_match(allowed->v[i], image))
			return 1;
	return 0;
}

/*
 * x rounded to the nearest integer, halves away from zero, as llround()
 * does for 0 <= x < 2^53 (where x - trunc(x) is exact): without libm,
 * which crunner would otherwise map for this one call.
 */
static int64_t round_nonnegative(double x)
{
	int64_t n = (int64_t)x;

	return x - (double)n >= 0.5 ? n + 1 : n;
}

int docker_parse_cpus(const char *s, int64_t *nano)
{
	char *end;
	double v, d = 1;

	errno = 0;
	v = strtod(s, &end);
	if (end != s && *end == '/') {
		const char *q = end + 1;

		d = strtod(q, &end);
		if (end == q)
			return CR_ERR_INVALID;
	}
	if (end == s || *end || errno || !isfinite(v) || !(d > 0) ||
	    v / d < 0 || v / d > 1e6)
		return CR_ERR_INVALID;
	*nano = round_nonnegative(v / d * 1e9);
	return 0;
}

static json_t *strings(const struct strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; sv && i < sv->nr; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static void set_if(json_t *obj, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(obj, key, json_string(value));
}

static void set_list_if(json_t *obj, const char *key, const struct strvec *sv)
{
	if (sv && sv->nr)
		json_object_set_new(obj, key, strings(sv));
}

/* "host[:container[:perms]]", as docker run --device reads it. */
static json_t *devices(const struct strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->nr; i++) {
		char *copy = xstrdup(sv->v[i]);
		char *c1 = strchr(copy, ':'), *c2 = NULL;

		if (c1) {
			*c1++ = '\0';
			if ((c2 = strchr(c1, ':')))
				*c2++ = '\0';
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}",
			"PathOnHost", copy,
			"PathInContainer", c1 && *c1 ? c1 : copy,
			"CgroupPermissions", c2 && *c2 ? c2 : "rwm"));
		free(copy);
	}
	return a;
}

static json_t *strmap(const struct config_strmap *m)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < m->nr; i++)
		json_object_set_new(o, m->items[i].key,
				    json_string(m->items[i].value));
	return o;
}

/* [runners.docker.ulimit] "nofile" = "1024:2048" (soft[:hard]). */
static json_t *ulimits(const struct config_strmap *m, struct buf *err)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < m->nr; i++) {
		const char *v = m->items[i].value;
		char *end;
		long long soft, hard;

		soft = strtoll(v, &end, 10);
		hard = soft;
		if (end != v && *end == ':')
			hard = strtoll(end + 1, &end, 10);
		if (end == v || *end) {
			buf_seterr(err, "invalid ulimit '%s = %s' in [runners.docker.ulimit]",
				   m->items[i].key, v);
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name",
						   m->items[i].key, "Soft",
						   (json_int_t)soft, "Hard",
						   (json_int_t)hard));
	}
	return a;
}

/* A container's resources: [runners.docker]'s or its service_* ones. */
struct resources {
	const char *prefix;	/* "" or "service_", for messages */
	const char *memory, *memory_swap, *memory_reservation;
	const char *cpus, *cpuset_cpus;
	int64_t cpu_shares;
};

static int ram_size(json_t *hc, const char *key, const char *prefix,
		    const char *name, const char *value, struct buf *err)
{
	int64_t v;

	if (!value || !*value)
		return 0;
	if (config_parse_ram_size(value, &v) != 0) {
		buf_seterr(err, "invalid %s%s value '%s' in [runners.docker]",
			   prefix, name, value);
		return CR_ERR_INVALID;
	}
	json_object_set_new(hc, key, json_integer(v));
	return 0;
}

static int limits(const struct resources *rs, json_t *hc, struct buf *err)
{
	int64_t v;

	if (ram_size(hc, "Memory", rs->prefix, "memory", rs->memory, err) ||
	    ram_size(hc, "MemorySwap", rs->prefix, "memory_swap",
		     rs->memory_swap, err) ||
	    ram_size(hc, "MemoryReservation", rs->prefix, "memory_reservation",
		     rs->memory_reservation, err))
		return CR_ERR_INVALID;
	if (rs->cpus && *rs->cpus) {
		if (docker_parse_cpus(rs->cpus, &v) != 0) {
			buf_seterr(err, "invalid %scpus value '%s' in [runners.docker]",
				   rs->prefix, rs->cpus);
			return CR_ERR_INVALID;
		}
		json_object_set_new(hc, "NanoCpus", json_integer(v));
	}
	set_if(hc, "CpusetCpus", rs->cpuset_cpus);
	if (rs->cpu_shares > 0)
		json_object_set_new(hc, "CpuShares", json_integer(rs->cpu_shares));
	return 0;
}

/* The build container's: resources, OOM settings, PID namespace. */
static int build_only(const struct config_docker *dc, json_t *hc,
		      struct buf *err)
{
	const struct resources rs = {
		"", dc->memory, dc->memory_swap, dc->memory_reservation,
		dc->cpus, dc->cpuset_cpus, dc->cpu_shares
	};

	if (limits(&rs, hc, err) != 0)
		return CR_ERR_INVALID;
	set_if(hc, "CpusetMems", dc->cpuset_mems);
	if (dc->oom_kill_disable)
		json_object_set_new(hc, "OomKillDisable", json_true());
	if (dc->oom_score_adjust)
		json_object_set_new(hc, "OomScoreAdj",
				    json_integer(dc->oom_score_adjust));
	/* gitlab-runner: pid_mode is for the build container only. */
	set_if(hc, "PidMode", dc->pid_mode);
	return 0;
}

static int service_only(const struct config_docker *dc, json_t *hc,
			struct buf *err)
{
	const struct resources rs = {
		"service_", dc->service_memory, dc->service_memory_swap,
		dc->service_memory_reservation, dc->service_cpus,
		dc->service_cpuset_cpus, dc->service_cpu_shares
	};

	return limits(&rs, hc, err);
}

/* gpus (service_gpus for a service) as HostConfig.DeviceRequests. */
static int gpus(const char *value, json_t *hc, struct buf *err)
{
	json_t *req;

	if (docker_gpu_requests(value, &req, err) != 0)
		return CR_ERR_INVALID;
	if (req)
		json_object_set_new(hc, "DeviceRequests", req);
	return 0;
}

/*
 * gitlab-runner sends isolation as it is; on Linux only "" and "default"
 * are valid (moby's Isolation.IsValid), anything else fails the job.
 */
static int isolation(const struct config_docker *dc, json_t *hc,
		     struct buf *err)
{
	const char *v = dc->isolation;

	if (!v || !*v)
		return 0;
	if (strcasecmp(v, "default")) {
		buf_seterr(err, "the isolation value \"%s\" is not valid. the valid values are: 'process', 'hyperv', 'default' and an empty string",
			   v);
		return CR_ERR_INVALID;
	}
	json_object_set_new(hc, "Isolation", json_string(v));
	return 0;
}

/* gitlab-runner's GetLogConfig: json-file, with log_options when set. */
static json_t *log_config(const struct config_docker *dc)
{
	json_t *lc = json_pack("{s:s}", "Type", "json-file");

	if (dc->log_options.nr)
		json_object_set_new(lc, "Config", strmap(&dc->log_options));
	return lc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int docker_check_log_options(const struct config_docker *dc, struct buf *err)
{
	const char **bad = xcalloc(dc->log_options.nr + 1, sizeof(*bad));
	struct buf list = BUF_INIT;
	size_t i, n = 0;

	for (i = 0; i < dc->log_options.nr; i++) {
		const char *k = dc->log_options.items[i].key;

		if (strcmp(k, "env") && strcmp(k, "labels"))
			bad[n++] = k;
	}
	if (!n) {
		free(bad);
		return 0;
	}
	/* Go's %q of a sorted []string: ["a" "b"]. */
	qsort(bad, n, sizeof(*bad), cmp_str);
	for (i = 0; i < n; i++)
		(void)buf_addf(&list, "%s\"%s\"", i ? " " : "", bad[i]);
	buf_seterr(err, "creating docker log configuration: invalid log options: only [\"env\" \"labels\"] are allowed, but found: [%s]",
		   list.data);
	buf_release(&list);
	free(bad);
	return CR_ERR_CONFIG;
}

int docker_create_body(const struct config_docker *dc,
		       const struct docker_container_spec *spec,
		       struct buf *out, struct buf *err)
{
	json_t *body = json_object(), *hc = json_object(), *drop, *labels;
	const char *user = spec->user ? spec->user : dc->user;
	const char *mode = spec->network_mode ? spec->network_mode :
		dc->network_mode;
	char *text = NULL;
	size_t i;
	int r = CR_ERR_INVALID;

	json_object_set_new(body, "Image", json_string(spec->image));
	if (spec->cmd && spec->cmd->nr)
		json_object_set_new(body, "Cmd", strings(spec->cmd));
	if (spec->entrypoint && spec->entrypoint->nr)
		json_object_set_new(body, "Entrypoint", strings(spec->entrypoint));
	json_object_set_new(body, "Env", strings(spec->env));
	set_if(body, "Hostname", spec->hostname);
	set_if(body, "User", user);
	json_object_set_new(body, "Tty", json_false());
	json_object_set_new(body, "OpenStdin", json_false());
	json_object_set_new(body, "AttachStdout", json_false());
	json_object_set_new(body, "AttachStderr", json_false());
	labels = spec->labels ? json_copy(spec->labels) : json_object();
	/* container_labels never replace gitlab-runner's own. */
	for (i = 0; i < dc->container_labels.nr; i++) {
		const char *k = dc->container_labels.items[i].key;

		if (strncmp(k, DOCKER_LABEL_PREFIX ".",
			    sizeof(DOCKER_LABEL_PREFIX)))
			json_object_set_new(labels, k, json_string(
				dc->container_labels.items[i].value));
	}
	json_object_set_new(body, "Labels", labels);
	if (!spec->service && !spec->helper)
		set_if(body, "MacAddress", dc->mac_address);

	set_list_if(hc, "Binds", spec->binds);
	set_list_if(hc, "VolumesFrom", &dc->volumes_from);
	set_if(hc, "VolumeDriver", dc->volume_driver);
	if (dc->ulimit.nr) {
		json_t *u = ulimits(&dc->ulimit, err);

		if (!u) {
			r = CR_ERR_INVALID;
			goto out;
		}
		json_object_set_new(hc, "Ulimits", u);
	}
	set_if(hc, "NetworkMode", mode);
	json_object_set_new(hc, "Privileged", json_boolean(spec->privileged));
	if (!spec->service && !spec->helper &&
	    (r = build_only(dc, hc, err)) != 0)
		goto out;
	if (spec->service && (r = service_only(dc, hc, err)) != 0)
		goto out;
	/* cgroup, device rules and GPUs: the helper's too, as gitlab-runner. */
	set_if(hc, "CgroupParent", spec->cgroup_parent ? spec->cgroup_parent :
	       spec->service ? dc->service_cgroup_parent : dc->cgroup_parent);
	if (!spec->service)
		set_list_if(hc, "DeviceCgroupRules", &dc->device_cgroup_rules);
	if ((r = gpus(spec->service ? dc->service_gpus : dc->gpus, hc,
		      err)) != 0 ||
	    (r = isolation(dc, hc, err)) != 0)
		goto out;
	r = CR_ERR_INVALID;
	if (spec->init)
		json_object_set_new(hc, "Init", json_true());
	json_object_set_new(hc, "LogConfig", log_config(dc));
	set_list_if(hc, "Links", spec->links);
	if (dc->shm_size > 0)
		json_object_set_new(hc, "ShmSize", json_integer(dc->shm_size));
	set_list_if(hc, "CapAdd", &dc->cap_add);
	drop = strings(&dc->cap_drop);
	for (i = 0; i < sizeof(default_cap_drop) / sizeof(*default_cap_drop); i++) {
		/* cap_add wins over the default drop, as in gitlab-runner */
		size_t k;
		int added = 0;

		for (k = 0; k < dc->cap_add.nr; k++)
			if (!strcmp(dc->cap_add.v[k], default_cap_drop[i]))
				added = 1;
		if (!added)
			json_array_append_new(drop, json_string(default_cap_drop[i]));
	}
	json_object_set_new(hc, "CapDrop", drop);
	set_list_if(hc, "ExtraHosts", &dc->extra_hosts);
	/* A service gets services_devices' only, the helper none. */
	if (spec->service) {
		if (spec->devices && spec->devices->nr)
			json_object_set_new(hc, "Devices",
					    devices(spec->devices));
	} else if (dc->devices.nr && !spec->helper) {
		json_object_set_new(hc, "Devices", devices(&dc->devices));
	}
	set_list_if(hc, "Dns", &dc->dns);
	set_list_if(hc, "DnsSearch", &dc->dns_search);
	set_list_if(hc, "GroupAdd", &dc->group_add);
	set_list_if(hc, "SecurityOpt", spec->service ?
		    &dc->services_security_opt : &dc->security_opt);
	set_if(hc, "UsernsMode", dc->userns_mode);
	set_if(hc, "IpcMode", dc->ipcmode);
	set_if(hc, "Runtime", dc->runtime);
	if (dc->sysctls.nr)
		json_object_set_new(hc, "Sysctls", strmap(&dc->sysctls));
	if (!spec->service && !spec->helper && dc->tmpfs.nr)
		json_object_set_new(hc, "Tmpfs", strmap(&dc->tmpfs));
	if (spec->service && dc->services_tmpfs.nr)
		json_object_set_new(hc, "Tmpfs", strmap(&dc->services_tmpfs));
	json_object_set_new(body, "HostConfig", hc);
	hc = NULL;
	/*
	 * gitlab-runner's networkConfig before API 1.44 (crunner asks for at
	 * most 1.43): the aliases on a user-defined network, else nothing.
	 */
	if (docker_network_user_defined(mode))
		json_object_set_new(body, "NetworkingConfig", json_pack(
			"{s:{s:{s:o}}}", "EndpointsConfig", mode, "Aliases",
			spec->aliases && spec->aliases->nr ?
			strings(spec->aliases) : json_null()));

	text = json_dumps(body, JSON_COMPACT);
	(void)buf_addstr(out, text ? text : "{}");
	r = 0;
out:
	free(text);
	json_decref(hc);
	json_decref(body);
	json_decref(spec->labels);
	return r;
}

/*
 * The service name of an image as gitlab-runner's SplitNameAndVersion
 * reads it: without tag or digest, and without a port after the first
 * part ("host:5000/a/b" is "host/a/b").
 */
static char *service_name(const char *image)
{
	const char *slash = strchr(image, '/');
	const char *base = strrchr(image, '/');
	const char *end, *colon, *port;
	struct buf out = BUF_INIT;

	base = base ? base + 1 : image;
	end = strchr(base, '@');
	colon = strchr(base, ':');
	if (!end || (colon && colon < end))
		end = colon;
	if (!end)
		end = base + strlen(base);
	port = slash ? memchr(image, ':', (size_t)(slash - image)) : NULL;
	if (port && port + 1 < slash &&
	    strspn(port + 1, "0123456789") == (size_t)(slash - port - 1)) {
		(void)buf_add(&out, image, (size_t)(port - image));
		(void)buf_add(&out, slash, (size_t)(end - slash));
	} else {
		(void)buf_add(&out, image, (size_t)(end - image));
	}
	return buf_detach(&out, NULL);
}

static void push_replaced(struct strvec *out, const char *s, const char *with)
{
	struct buf b = BUF_INIT;

	for (; *s; s++)
		(void)(*s == '/' ? buf_addstr(&b, with) : buf_addch(&b, *s));
	strvec_push(out, b.data);
	buf_release(&b);
}

void docker_service_aliases(const char *image, const char *alias,
			    struct strvec *out)
{
	char *name = service_name(image);
	const char *p = alias;

	push_replaced(out, name, "__");
	if (strchr(name, '/'))
		push_replaced(out, name, "-");
	free(name);
	while (p && *p) {
		size_t n;

		p += strspn(p, " \t\n\v\f\r,");
		n = strcspn(p, " \t\n\v\f\r,");
		if (n) {
			char *word = xstrndup(p, n);

			strvec_push(out, word);
			free(word);
		}
		p += n;
	}
}

void docker_service_devices(const struct config_docker *dc, const char *image,
			    struct strvec *out)
{
	const char *base = strrchr(image, '/');
	struct buf name = BUF_INIT;
	size_t i, k;

	base = base ? base + 1 : image;
	(void)buf_addstr(&name, image);
	if (!strchr(base, ':') && !strchr(base, '@'))
		(void)buf_addstr(&name, ":latest");
	for (i = 0; i < dc->services_devices.nr; i++) {
		const struct config_kvlist *m = &dc->services_devices.items[i];

		if (!glob_match(m->key, name.data))
			continue;
		for (k = 0; k < m->values.nr; k++)
			strvec_push(out, m->values.v[k]);
	}
	buf_release(&name);
}

void docker_container_delete_path(const struct config_docker *dc,
				  const char *id, struct buf *out)
{
	(void)buf_addf(out, "/containers/%s?force=1&v=%d", id,
		       dc->volume_keep ? 0 : 1);
}

/* ---- a tar archive of one file, for PUT /containers/{id}/archive ---- */

static void tar_header(struct buf *out, const char *name, char type,
		       unsigned mode, size_t size)
{
	unsigned char h[512] = { 0 };
	unsigned sum = 0;
	size_t i;

	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum & 0777777);
	h[155] = ' ';
	(void)buf_add(out, h, sizeof(h));
}

void docker_tar_file(struct buf *out, const char *dir, const char *name,
		     const char *data, size_t len)
{
	static const char zeros[1024];
	struct buf path = BUF_INIT;

	(void)buf_addf(&path, "%s/", dir);
	tar_header(out, path.data, '5', 0755, 0);
	(void)buf_addstr(&path, name);
	tar_header(out, path.data, '0', 0755, len);
	(void)buf_add(out, data, len);
	if (len % 512)
		(void)buf_add(out, zeros, 512 - len % 512);
	(void)buf_add(out, zeros, sizeof(zeros));
	buf_release(&path);
}
