/*
 * config.toml as a whole: load, defaults for a new file, save, release and
 * looking runners up.  The keys themselves live in config_keys.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "util/fs.h"
#include "config/config_int.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Used only to word "'runners' must be an array of tables". */
static const struct config_key runners_key = {
	.name = "runners", .type = CT_SECTION_ARRAY,
};

static void config_init(struct config *cfg, const char *path)
{
	memset(cfg, 0, sizeof(*cfg));
	strvec_init(&cfg->warnings);
	config_section_defaults(&config_global_section, cfg);
	cfg->path = path ? xstrdup(path) : NULL;
}

static int read_runners(struct config *cfg, const struct config_ctx *ctx)
{
	const struct toml_value *arr = config_tree_get(cfg->tree, "runners");
	size_t i;
	int r;

	if (!arr)
		return 0;
	if (arr->type != TOML_ARRAY)
		return config_bad_value(&config_global_section, &runners_key,
					arr, ctx);
	for (i = 0; i < arr->u.array.nr; i++)
		if (arr->u.array.items[i]->type != TOML_TABLE)
			return config_bad_value(&config_global_section,
						&runners_key,
						arr->u.array.items[i], ctx);
	if (!arr->u.array.nr)
		return 0;
	cfg->runners = xcalloc(arr->u.array.nr, sizeof(*cfg->runners));
	for (i = 0; i < arr->u.array.nr; i++) {
		struct runner_config *rc = xmalloc(sizeof(*rc));

		if ((r = config_runner_read(rc, arr->u.array.items[i], ctx))) {
			free(rc);
			return r;
		}
		cfg->runners[cfg->nr_runners++] = rc;
	}
	return 0;
}

int config_load(const char *path, struct config *cfg, struct buf *err)
{
	struct config_ctx ctx = { path, &cfg->warnings, err };
	struct stat st;
	int r;

	config_init(cfg, path);
	if (stat(path, &st) && errno == ENOENT) {
		buf_seterr(err, "cannot open '%s': no such file or directory",
			   path);
		r = CR_ERR_NOT_FOUND;
		goto fail;
	}
	if ((r = toml_parse_file(path, &cfg->tree, err)) != 0 ||
	    (r = config_section_read(&config_global_section, cfg, cfg->tree,
				     &ctx)) != 0 ||
	    (r = read_runners(cfg, &ctx)) != 0 ||
	    (r = config_labels_resolve(cfg, err)) != 0)
		goto fail;
	return 0;
fail:
	config_release(cfg);
	return r;
}

void config_default(struct config *cfg, const char *path)
{
	config_init(cfg, path);
	/* gitlab-runner writes [session_server] session_timeout = 1800. */
	cfg->session_server.present = true;
	cfg->tree = toml_new_table();
	config_section_write(&config_global_section, cfg, cfg->tree);
}

static void wipe_tree(struct config *cfg)
{
	struct toml_value *arr = config_tree_get(cfg->tree, "runners");
	size_t i;

	config_section_wipe_tree(&config_global_section, cfg->tree);
	if (!arr || arr->type != TOML_ARRAY)
		return;
	for (i = 0; i < arr->u.array.nr; i++)
		config_section_wipe_tree(&config_runner_section,
					 arr->u.array.items[i]);
}

void config_release(struct config *cfg)
{
	size_t i;

	if (cfg->tree) {
		wipe_tree(cfg);
		toml_value_free(cfg->tree);
	}
	for (i = 0; i < cfg->nr_runners; i++) {
		runner_config_release(cfg->runners[i]);
		free(cfg->runners[i]);
	}
	free(cfg->runners);
	config_section_free(&config_global_section, cfg);
	free(cfg->path);
	strvec_clear(&cfg->warnings);
	memset(cfg, 0, sizeof(*cfg));
	strvec_init(&cfg->warnings);
}

/*
 * Where saving path writes: gitlab-runner's os.WriteFile follows a
 * symlinked config.toml, so the link stays and its target changes.
 * crunner replaces the file atomically, so it writes next to the target:
 * the link's final target (realpath), or for a dangling link the path it
 * names (relative to the link's dir).  Heap; path itself when not a link.
 */
static char *save_target(const char *path)
{
	char target[PATH_MAX], *resolved, *slash;
	struct buf b = BUF_INIT;
	struct stat st;
	ssize_t n;

	if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
		return xstrdup(path);
	if ((resolved = realpath(path, NULL)) != NULL)
		return resolved;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return xstrdup(path);
	target[n] = '\0';
	if (target[0] == '/')
		return xstrdup(target);
	slash = strrchr(path, '/');
	if (slash)
		(void)buf_add(&b, path, (size_t)(slash - path + 1));
	(void)buf_addstr(&b, target);
	return buf_detach(&b, NULL);
}

int config_save(struct config *cfg, struct buf *err)
{
	char *path;
	int r;

	if (!cfg->path || !cfg->tree) {
		buf_seterr(err, "cannot save the configuration: no file name");
		return CR_ERR_INTERNAL;
	}
	path = save_target(cfg->path);
	if ((r = fs_make_parent_dirs(path, 0700, err)) == 0)
		r = toml_write_file(path, cfg->tree, err);
	free(path);
	return r;
}

struct runner_config *config_find_runner(const struct config *cfg,
					 const char *name, size_t *index)
{
	size_t i;

	for (i = 0; name && i < cfg->nr_runners; i++) {
		if (cfg->runners[i]->name &&
		    !strcmp(cfg->runners[i]->name, name)) {
			if (index)
				*index = i;
			return cfg->runners[i];
		}
	}
	return NULL;
}

struct runner_config *config_find_runner_by_token(const struct config *cfg,
						  const char *url,
						  const char *token,
						  size_t *index)
{
	size_t i;

	for (i = 0; url && token && i < cfg->nr_runners; i++) {
		const struct runner_config *r = cfg->runners[i];

		if (r->url && r->token && !strcmp(r->url, url) &&
		    !strcmp(r->token, token)) {
			if (index)
				*index = i;
			return cfg->runners[i];
		}
	}
	return NULL;
}
