/*
 * [[runners]] entries: reading one, and the edits register, unregister
 * and token rotation make to the tree before config_save().
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

void runner_config_init(struct runner_config *r)
{
	config_section_defaults(&config_runner_section, r);
	r->computed_labels = NULL;
	r->nr_computed_labels = 0;
	r->cache.gcs.legacy_adapter = false;
}

void runner_config_release(struct runner_config *r)
{
	size_t i;

	config_section_free(&config_runner_section, r);
	for (i = 0; i < 2 * r->nr_computed_labels; i++)
		free(r->computed_labels[i]);
	free(r->computed_labels);
	runner_config_init(r);
}

static bool is_gitlab_executor(const char *name)
{
	const char *const *e;

	for (e = config_gitlab_executors; name && *e; e++)
		if (!strcmp(*e, name))
			return true;
	return false;
}

/*
 * gitlab-runner loads a runner whatever its executor says and only its
 * run loop finds no such executor; so a typo is a warning here, and that
 * runner alone never asks for jobs (src/manager/).
 */
static void check_executor(const struct runner_config *r,
			   const struct toml_value *table,
			   const struct config_ctx *ctx)
{
	const struct toml_value *v = config_tree_get(table, "executor");
	const char *const *e;
	struct buf msg = BUF_INIT;

	if (!ctx->warnings || is_gitlab_executor(r->executor))
		return;
	config_add_where(&msg, ctx, v ? v->line : table->line);
	if (r->executor) {
		buf_addf(&msg, "'executor' in [[runners]] is \"%s\", not one of ",
			 r->executor);
		for (e = config_gitlab_executors; *e; e++)
			buf_addf(&msg, "%s%s",
				 e == config_gitlab_executors ? "" : ", ", *e);
	} else {
		buf_addstr(&msg, "no 'executor' in [[runners]]");
	}
	buf_addf(&msg, ": runner '%s' will not ask for jobs",
		 r->name ? r->name : "");
	strvec_push_nodup(ctx->warnings, buf_detach(&msg, NULL));
}

static void expand_field(char **field, int secret)
{
	char *v;

	if (!*field || !strchr(*field, '$'))
		return;
	v = config_expand_env(*field);
	if (secret)
		explicit_bzero(*field, strlen(*field));
	free(*field);
	*field = *v ? v : NULL;
	if (!*v)
		free(v);
}

int config_runner_read(struct runner_config *r, const struct toml_value *table,
		       const struct config_ctx *ctx)
{
	int ret;

	runner_config_init(r);
	if ((ret = config_section_read(&config_runner_section, r, table,
				       ctx)) != 0) {
		runner_config_release(r);
		return ret;
	}
	check_executor(r, table, ctx);
	/* gitlab-runner's RunnerConfig.loadConfig: os.ExpandEnv on these. */
	expand_field(&r->token, 1);
	expand_field(&r->url, 0);
	config_feature_flags_check(config_tree_get(table, "feature_flags"), ctx);
	config_slot_cgroups_check(r, table, ctx);
	/* gitlab-runner's rewriteGetSourcesHooks: the old names still work. */
	if (!r->pre_get_sources_script && r->pre_clone_script)
		r->pre_get_sources_script = xstrdup(r->pre_clone_script);
	if (!r->post_get_sources_script && r->post_clone_script)
		r->post_get_sources_script = xstrdup(r->post_clone_script);
	return 0;
}

/* The [[runners]] array of the tree, or NULL when there is none. */
static struct toml_value *runners_array(const struct config *cfg)
{
	struct toml_value *arr = config_tree_get(cfg->tree, "runners");

	return arr && arr->type == TOML_ARRAY ? arr : NULL;
}

static void free_table_wiped(struct toml_value *t)
{
	config_section_wipe_tree(&config_runner_section, t);
	toml_value_free(t);
}

/*
 * Writes r into a new table and reads it back into copy: a deep copy that
 * also proves r would load from the file.
 */
static int runner_to_table(const struct runner_config *r,
			   struct toml_value **out, struct runner_config *copy,
			   struct buf *err)
{
	struct config_ctx ctx = { NULL, NULL, err };
	struct toml_value *t = toml_new_table();
	int ret;

	config_section_write(&config_runner_section, r, t);
	if ((ret = config_runner_read(copy, t, &ctx)) != 0) {
		free_table_wiped(t);
		return ret;
	}
	*out = t;
	return 0;
}

int config_runner_check(const struct runner_config *r, struct buf *err)
{
	struct runner_config copy;
	struct toml_value *t;
	int ret;

	if ((ret = runner_to_table(r, &t, &copy, err)) != 0)
		return ret;
	runner_config_release(&copy);
	free_table_wiped(t);
	return 0;
}

int config_runner_add(struct config *cfg, const struct runner_config *r)
{
	struct runner_config *copy = xmalloc(sizeof(*copy));
	struct toml_value *t, *arr;
	int ret;

	if (!cfg->tree)
		cfg->tree = toml_new_table();
	if ((ret = runner_to_table(r, &t, copy, NULL)) != 0) {
		free(copy);
		return ret;
	}
	if (!(arr = runners_array(cfg))) {
		toml_table_set(cfg->tree, "runners", toml_new_array());
		arr = runners_array(cfg);
	}
	toml_array_append(arr, t);
	cfg->runners = xreallocarray(cfg->runners, cfg->nr_runners + 1,
				     sizeof(*cfg->runners));
	cfg->runners[cfg->nr_runners++] = copy;
	return 0;
}

int config_runner_remove(struct config *cfg, size_t index)
{
	struct toml_value *arr = runners_array(cfg);

	if (index >= cfg->nr_runners)
		return CR_ERR_NOT_FOUND;
	if (!arr || index >= arr->u.array.nr)
		return CR_ERR_INTERNAL;
	config_section_wipe_tree(&config_runner_section,
				 arr->u.array.items[index]);
	toml_array_remove(arr, index);
	if (!arr->u.array.nr) {
		char *name = config_tree_key(cfg->tree, "runners");

		toml_table_remove(cfg->tree, name);
		free(name);
	}

	runner_config_release(cfg->runners[index]);
	free(cfg->runners[index]);
	memmove(cfg->runners + index, cfg->runners + index + 1,
		(cfg->nr_runners - index - 1) * sizeof(*cfg->runners));
	if (!--cfg->nr_runners) {
		free(cfg->runners);
		cfg->runners = NULL;
	}
	return 0;
}

int config_runner_sync(struct config *cfg, size_t index)
{
	struct toml_value *arr = runners_array(cfg);
	int ret;

	if (index >= cfg->nr_runners)
		return CR_ERR_NOT_FOUND;
	if (!arr || index >= arr->u.array.nr)
		return CR_ERR_INTERNAL;
	/* Never write a value the next load would refuse. */
	if ((ret = config_runner_check(cfg->runners[index], NULL)) != 0)
		return ret;
	config_section_write(&config_runner_section, cfg->runners[index],
			     arr->u.array.items[index]);
	return 0;
}

bool runner_feature_flag(const struct runner_config *r, const char *name,
			 bool def)
{
	size_t i;

	for (i = 0; i < r->feature_flags.nr; i++)
		if (!strcmp(r->feature_flags.items[i].name, name))
			return r->feature_flags.items[i].value;
	return def;
}

static int is_partition(const char *p)
{
	return p[0] == 't' && p[1] >= '1' && p[1] <= '3' && p[2] == '_';
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * gitlab-runner strips its prefixes one pattern after the other, each on
 * what the previous left: ^glrt-(t[123]_)?|^t[123]_|^glrtr-, then ^glcbt-,
 * then ^GR[0-9A-Fa-f]{7}.
 */
const char *runner_short_token(const char *token,
			       char out[RUNNER_SHORT_TOKEN_SIZE])
{
	const char *p = token ? token : "";
	size_t n, i;

	if (!strncmp(p, "glrt-", 5)) {
		p += 5;
		if (is_partition(p))
			p += 3;
	} else if (is_partition(p)) {
		p += 3;
	} else if (!strncmp(p, "glrtr-", 6)) {
		p += 6;
	}
	if (!strncmp(p, "glcbt-", 6))
		p += 6;
	if (p[0] == 'G' && p[1] == 'R') {
		for (i = 2; i < 9 && is_hex(p[i]); i++)
			;
		if (i == 9)
			p += 9;
	}
	n = strnlen(p, RUNNER_SHORT_TOKEN_SIZE - 1);
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

int config_runner_add_tree(struct config *cfg, const struct runner_config *r,
			   const struct toml_value *extra)
{
	struct toml_value *arr;
	int ret;

	if ((ret = config_runner_add(cfg, r)) != 0)
		return ret;
	arr = runners_array(cfg);
	if (extra && arr && arr->u.array.nr)
		config_section_copy_unmodelled(&config_runner_section,
			arr->u.array.items[arr->u.array.nr - 1], extra);
	return 0;
}

void config_runner_tree_free(struct toml_value *t)
{
	if (t)
		free_table_wiped(t);
}

int config_runner_from_tree(struct runner_config *r,
			    const struct toml_value *table, const char *file,
			    struct buf *err)
{
	struct config_ctx ctx = { file, NULL, err };

	return config_runner_read(r, table, &ctx);
}

bool config_docker_user_allowed(const struct config_docker *dc,
				const char *user)
{
	size_t i;

	if (!user || !*user)
		return true;
	if (!dc->allowed_users.nr)
		return !dc->user || !*dc->user || !strcmp(dc->user, user);
	for (i = 0; i < dc->allowed_users.nr; i++)
		if (!strcmp(dc->allowed_users.v[i], user))
			return true;
	return false;
}
