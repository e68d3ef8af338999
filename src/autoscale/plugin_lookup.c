#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "autoscale/plugin_lookup.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DEFAULT_REGISTRY "registry.gitlab.com"
#define DEFAULT_REPO "gitlab-org/fleeting/plugins"

static int is_executable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

static char *path_search(const char *name)
{
	const char *path = getenv("PATH");
	struct buf cand = BUF_INIT;

	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);

		buf_reset(&cand);
		buf_addf(&cand, "%.*s/%s", (int)(len ? len : 1),
			 len ? path : ".", name);
		if (is_executable(cand.data))
			return buf_detach(&cand, NULL);
		path += len + (colon ? 1 : 0);
		if (!colon)
			break;
	}
	buf_release(&cand);
	return NULL;
}

/* "1.5.1" -> 3 numbers; the count parsed, 0 when not a version. */
static int parse_semver(const char *s, long v[3])
{
	int n = 0;

	if (*s == 'v')
		s++;
	while (n < 3) {
		char *end;

		if (*s < '0' || *s > '9')
			return 0;
		v[n++] = strtol(s, &end, 10);
		s = end;
		if (*s != '.')
			break;
		s++;
	}
	return *s && *s != '-' && *s != '+' ? 0 : n;
}

static int version_matches(const long v[3], const long c[3], int cn)
{
	int i;

	for (i = 0; i < cn; i++)
		if (v[i] != c[i])
			return 0;
	return 1;
}

static int version_less(const long a[3], const long b[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i];
	return 0;
}

/* The plugin executable inside one installed version directory. */
static char *version_binary(const char *dir)
{
	struct utsname u;
	const char *arch = "amd64";
	struct buf cand = BUF_INIT;

	buf_addf(&cand, "%s/plugin", dir);
	if (is_executable(cand.data))
		return buf_detach(&cand, NULL);
	if (!uname(&u) && (!strcmp(u.machine, "aarch64") ||
			   !strcmp(u.machine, "arm64")))
		arch = "arm64";
	buf_reset(&cand);
	buf_addf(&cand, "%s/linux/%s/plugin", dir, arch);
	if (is_executable(cand.data))
		return buf_detach(&cand, NULL);
	buf_release(&cand);
	return NULL;
}

static char *installed(const char *name, struct buf *tried)
{
	const char *base_env = getenv("FLEETING_PLUGIN_PATH");
	const char *home = getenv("HOME");
	struct buf base = BUF_INIT, dir = BUF_INIT;
	char *ref = xstrdup(name), *colon, *best = NULL;
	long c[3] = { 0 }, bestv[3] = { -1, -1, -1 };
	int cn = 0, slashes = 0;
	const char *p;
	DIR *d;
	struct dirent *e;

	colon = strrchr(ref, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		if (strcmp(colon + 1, "latest") &&
		    !(cn = parse_semver(colon + 1, c)))
			goto out;
	}
	for (p = ref; *p; p++)
		slashes += *p == '/';
	if (base_env && *base_env)
		buf_addstr(&base, base_env);
	else if (home)
		buf_addf(&base, "%s/.config/fleeting/plugins", home);
	else
		goto out;
	if (slashes == 0)
		buf_addf(&dir, "%s/%s/%s/%s", base.data, DEFAULT_REGISTRY,
			 DEFAULT_REPO, ref);
	else if (slashes >= 2 && strchr(ref, '.') &&
		 strchr(ref, '.') < strchr(ref, '/'))
		buf_addf(&dir, "%s/%s", base.data, ref);
	else
		buf_addf(&dir, "%s/%s/%s", base.data, DEFAULT_REGISTRY, ref);
	buf_addf(tried, ", %s/<version>/", dir.data);
	d = opendir(dir.data);
	if (!d)
		goto out;
	while ((e = readdir(d))) {
		long v[3] = { 0 };
		struct buf vdir = BUF_INIT;
		char *bin;

		if (!parse_semver(e->d_name, v) || !version_matches(v, c, cn) ||
		    !version_less(bestv, v))
			continue;
		buf_addf(&vdir, "%s/%s", dir.data, e->d_name);
		bin = version_binary(vdir.data);
		buf_release(&vdir);
		if (!bin)
			continue;
		free(best);
		best = bin;
		memcpy(bestv, v, sizeof(bestv));
	}
	closedir(d);
out:
	free(ref);
	buf_release(&base);
	buf_release(&dir);
	return best;
}

int plugin_lookup(const char *name, char **path, struct buf *err)
{
	struct buf tried = BUF_INIT;

	*path = NULL;
	if (!name || !*name) {
		buf_seterr(err, "[runners.autoscaler] plugin is not set");
		return CR_ERR_CONFIG;
	}
	if (name[0] == '/' || !strncmp(name, "./", 2) ||
	    (strchr(name, '/') && is_executable(name))) {
		if (!is_executable(name)) {
			buf_seterr(err, "plugin %s is not an executable file",
				   name);
			return CR_ERR_NOT_FOUND;
		}
		*path = xstrdup(name);
		return 0;
	}
	if (!strchr(name, '/') && !strchr(name, ':'))
		*path = path_search(name);
	if (!*path)
		*path = installed(name, &tried);
	if (*path) {
		buf_release(&tried);
		return 0;
	}
	buf_seterr(err, "plugin '%s' not found on PATH%s", name, tried.data);
	buf_release(&tried);
	return CR_ERR_NOT_FOUND;
}
