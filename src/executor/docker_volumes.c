/*
 * The docker executor's volumes, as gitlab-runner's volumes manager makes
 * them:
 *  - the builds dir: the job's own volume "<prefix>-cache-<md5(dir)>",
 *    removed at the end; with the job's git strategy fetch (GIT_STRATEGY,
 *    or GitLab's default when unset) and the cache enabled
 *    "<unique>-cache-<md5(dir)>", kept so the next job fetches into it;
 *    none when a host volume of [runners.docker] volumes holds the dir;
 *  - the cache dir: a kept volume "<unique>-cache-<md5(dir)>", or with
 *    [runners.docker] cache_dir the host directory
 *    <cache_dir>/<unique>/<md5(dir)>; none with disable_cache;
 *  - [runners.docker] volumes: "src:dst[:mode]" as they are, a bare path
 *    as a kept cache volume (or under cache_dir), none with disable_cache;
 *  - the scripts' directory on this host, read-only.
 * Every volume is labelled as gitlab-runner labels it (type "cache").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* ---- MD5 (RFC 1321): only for names, as gitlab-runner's hashPath ---- */

struct md5 {
	uint32_t h[4];
	uint64_t len;
	unsigned char block[64];
	size_t used;
};

static const uint32_t md5_k[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const unsigned char md5_r[64] = {
	7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
	5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
	4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
	6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};

static void md5_block(struct md5 *m, const unsigned char *p)
{
	uint32_t w[16], a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[i * 4] | (uint32_t)p[i * 4 + 1] << 8 |
		       (uint32_t)p[i * 4 + 2] << 16 | (uint32_t)p[i * 4 + 3] << 24;
	for (i = 0; i < 64; i++) {
		uint32_t f, t;
		unsigned g;

		if (i < 16) {
			f = (b & c) | (~b & d);
			g = i;
		} else if (i < 32) {
			f = (d & b) | (~d & c);
			g = (5 * i + 1) % 16;
		} else if (i < 48) {
			f = b ^ c ^ d;
			g = (3 * i + 5) % 16;
		} else {
			f = c ^ (b | ~d);
			g = (7 * i) % 16;
		}
		t = d;
		d = c;
		c = b;
		f += a + md5_k[i] + w[g];
		b += (f << md5_r[i]) | (f >> (32 - md5_r[i]));
		a = t;
	}
	m->h[0] += a;
	m->h[1] += b;
	m->h[2] += c;
	m->h[3] += d;
}

static void md5_add(struct md5 *m, const void *data, size_t len)
{
	const unsigned char *p = data;

	m->len += len;
	while (len) {
		size_t n = 64 - m->used < len ? 64 - m->used : len;

		memcpy(m->block + m->used, p, n);
		m->used += n;
		p += n;
		len -= n;
		if (m->used == 64) {
			md5_block(m, m->block);
			m->used = 0;
		}
	}
}

void docker_md5_hex(const char *s, char out[33])
{
	struct md5 m = { { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 },
			 0, { 0 }, 0 };
	unsigned char pad[72] = { 0x80 };
	uint64_t bits;
	size_t padlen;
	unsigned i;

	md5_add(&m, s, strlen(s));
	bits = m.len * 8;
	padlen = m.used < 56 ? 56 - m.used : 120 - m.used;
	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (8 * i));
	md5_add(&m, pad, padlen + 8);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x",
			 (unsigned)(m.h[i / 4] >> (8 * (i % 4))) & 0xff);
}

void docker_volume_name(struct buf *out, const char *base, const char *path)
{
	char hex[33];

	docker_md5_hex(path, hex);
	(void)buf_addf(out, "%s-cache-%s", base, hex);
}

int docker_volume_is_temporary(const char *name, const char *short_token)
{
	struct buf want = BUF_INIT;
	const char *p, *c;
	size_t n, i;
	int r = 0;

	(void)buf_addf(&want, "runner-%s-project-", short_token);
	for (i = 0; i < want.len; i++)
		if (want.data[i] >= 'A' && want.data[i] <= 'Z')
			want.data[i] = (char)(want.data[i] - 'A' + 'a');
	if (strncmp(name, want.data, want.len))
		goto out;
	p = strstr(name + want.len, "-concurrent-");
	if (!p)
		goto out;
	p += strlen("-concurrent-");
	n = strspn(p, "0123456789");
	if (!n || p[n] != '-')
		goto out;
	p += n + 1;
	/* "<8 hex>-cache-": a job's own; "cache-": kept on purpose. */
	c = p;
	n = strspn(c, "0123456789abcdef");
	r = n == 8 && !strncmp(c + 8, "-cache-", 7);
out:
	buf_release(&want);
	return r;
}

/* ---- the plan: binds and the volumes to create ---- */

static int has(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

/* Whether dir is dst or under it. */
static int path_under(const char *dir, const char *dst)
{
	size_t n = strlen(dst);

	while (n > 1 && dst[n - 1] == '/')
		n--;
	return !strncmp(dir, dst, n) && (dir[n] == '\0' || dir[n] == '/');
}

/* A bare path: a kept volume, or a host directory under cache_dir. */
static void add_cache_volume(struct docker_job *dj, const char *path)
{
	struct buf name = BUF_INIT;
	char hex[33];

	if (dj->dc->cache_dir && *dj->dc->cache_dir) {
		docker_md5_hex(path, hex);
		strvec_pushf(&dj->vol_binds, "%s/%s/%s:%s", dj->dc->cache_dir,
			     dj->unique.data, hex, path);
		return;
	}
	docker_volume_name(&name, dj->unique.data, path);
	strvec_pushf(&dj->vol_binds, "%s:%s", name.data, path);
	strvec_push(&dj->new_volumes, name.data);
	buf_release(&name);
}

/*
 * Sets dj->binds empty (the volumes' binds come with their creation),
 * new_volumes, temp_volumes (kept across calls) and builds_shared.
 */
void docker_volumes_plan(struct docker_job *dj)
{
	const struct config_docker *dc = dj->dc;
	/* The engine's: an unset GIT_STRATEGY is fetch when GitLab allows it. */
	const char *strategy = dj->git_strategy;
	struct buf name = BUF_INIT;
	int cache_covered = 0;
	size_t i;

	dj->builds_shared = 0;
	strvec_clear(&dj->binds);
	strvec_clear(&dj->vol_binds);
	strvec_clear(&dj->new_volumes);
	for (i = 0; i < dc->volumes.nr; i++) {
		const char *v = dc->volumes.v[i], *c = strchr(v, ':');
		char *dst;

		if (!c) {
			if (path_under(dj->ccache_dir, v))
				cache_covered = 1;
			continue;
		}
		dst = xstrdup(c + 1);
		if (strchr(dst, ':'))
			*strchr(dst, ':') = '\0';
		if (path_under(dj->cbuilds_dir, dst))
			dj->builds_shared = 1;
		if (path_under(dj->ccache_dir, dst))
			cache_covered = 1;
		free(dst);
	}
	if (!dj->builds_shared) {
		if (strategy && !strcmp(strategy, "fetch") && !dc->disable_cache) {
			add_cache_volume(dj, dj->cbuilds_dir);
		} else {
			docker_volume_name(&name, dj->prefix.data, dj->cbuilds_dir);
			strvec_pushf(&dj->vol_binds, "%s:%s", name.data,
				     dj->cbuilds_dir);
			strvec_push(&dj->new_volumes, name.data);
			if (!has(&dj->temp_volumes, name.data))
				strvec_push(&dj->temp_volumes, name.data);
			buf_reset(&name);
		}
	}
	for (i = 0; i < dc->volumes.nr; i++) {
		const char *v = dc->volumes.v[i];

		if (strchr(v, ':'))
			strvec_push(&dj->vol_binds, v);
		else if (!dc->disable_cache && !path_under(dj->cbuilds_dir, v))
			add_cache_volume(dj, v);
	}
	if (!cache_covered && !dc->disable_cache &&
	    !path_under(dj->ccache_dir, dj->cbuilds_dir))
		add_cache_volume(dj, dj->ccache_dir);
	buf_release(&name);
}

/* ---- creating and removing ---- */

static void volumes_step_done(struct docker_job *dj)
{
	size_t i;

	/*
	 * Only now do containers get them: a bind of a volume that does not
	 * exist yet makes the engine create it, without our labels.
	 */
	for (i = 0; i < dj->vol_binds.nr; i++)
		strvec_push(&dj->binds, dj->vol_binds.v[i]);
	strvec_clear(&dj->vol_binds);
	void (*after)(struct docker_job *) = dj->after_step;

	dj->after_step = NULL;
	after(dj);
}

static void create_next(struct docker_job *dj);

static void on_created(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	dj->req = NULL;
	if (resp->status != 201 && resp->status != 200) {
		struct buf why = BUF_INIT;

		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot create volume '%s': %s",
			    dj->new_volumes.v[0], why.data);
		buf_release(&why);
		volumes_step_done(dj);
		return;
	}
	free((char *)dj->new_volumes.v[0]);
	memmove(&dj->new_volumes.v[0], &dj->new_volumes.v[1],
		dj->new_volumes.nr * sizeof(char *));
	dj->new_volumes.nr--;
	create_next(dj);
}

static void create_next(struct docker_job *dj)
{
	json_t *body;
	char *text;

	if (!dj->new_volumes.nr || dj->reason) {
		volumes_step_done(dj);
		return;
	}
	body = json_pack("{s:s, s:o}", "Name", dj->new_volumes.v[0], "Labels",
			 docker_labels(&dj->ji, "cache"));
	/* gitlab-runner's volume_driver and volume_driver_ops. */
	if (dj->dc->volume_driver && *dj->dc->volume_driver)
		json_object_set_new(body, "Driver",
				    json_string(dj->dc->volume_driver));
	if (dj->dc->volume_driver_ops.nr) {
		json_t *opts = json_object();
		size_t i;

		for (i = 0; i < dj->dc->volume_driver_ops.nr; i++)
			json_object_set_new(opts,
				dj->dc->volume_driver_ops.items[i].key,
				json_string(dj->dc->volume_driver_ops.items[i].value));
		json_object_set_new(body, "DriverOpts", opts);
	}
	text = json_dumps(body, JSON_COMPACT);
	dj->req = docker_api_call(dj->api, "POST", "/volumes/create", text, 0,
				  on_created, dj);
	free(text);
	json_decref(body);
}

void docker_volumes_create(struct docker_job *dj,
			   void (*after)(struct docker_job *dj))
{
	dj->after_step = after;
	create_next(dj);
}

static void remove_next(struct docker_job *dj);

static void on_removed(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	dj->req = NULL;
	if (resp->status != 204 && resp->status != 404) {
		struct buf why = BUF_INIT;

		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot remove volume '%s': %s",
			    dj->temp_volumes.v[0], why.data);
		buf_release(&why);
	}
	/* Forgotten either way: cleanup() must not try forever. */
	free((char *)dj->temp_volumes.v[0]);
	memmove(&dj->temp_volumes.v[0], &dj->temp_volumes.v[1],
		dj->temp_volumes.nr * sizeof(char *));
	dj->temp_volumes.nr--;
	remove_next(dj);
}

static void remove_next(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	if (!dj->temp_volumes.nr) {
		volumes_step_done(dj);
		return;
	}
	(void)buf_addf(&path, "/volumes/%s?force=1", dj->temp_volumes.v[0]);
	dj->req = docker_api_call(dj->api, "DELETE", path.data, NULL, 0,
				  on_removed, dj);
	buf_release(&path);
}

void docker_volumes_remove(struct docker_job *dj,
			   void (*after)(struct docker_job *dj))
{
	dj->after_step = after;
	remove_next(dj);
}

void docker_volumes_remove_sync(struct docker_job *dj)
{
	struct buf path = BUF_INIT;
	size_t i;

	for (i = 0; i < dj->temp_volumes.nr; i++) {
		struct docker_api_response resp = DOCKER_API_RESPONSE_INIT;

		buf_reset(&path);
		(void)buf_addf(&path, "/volumes/%s?force=1",
			       dj->temp_volumes.v[i]);
		docker_api_call_sync(dj->api, "DELETE", path.data, 30000L, &resp);
		docker_api_response_release(&resp);
	}
	buf_release(&path);
}
