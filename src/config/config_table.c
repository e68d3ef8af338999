/*
 * The engine behind the key tables: reading, defaulting, freeing and
 * writing whole sections with the per-type operations of config_field.c,
 * and the messages that name file:line and the key.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/config_int.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define FIELD(base, k) ((void *)((char *)(base) + (k)->off))
#define CFIELD(base, k) ((const void *)((const char *)(base) + (k)->off))

static int has_range(const struct config_key *k)
{
	return k->min || k->max;
}

static int is_key(const struct toml_kv *kv, const char *name)
{
	return kv->keylen == strlen(name) && !memcmp(kv->key, name, kv->keylen);
}

/*
 * gitlab-runner's TOML decoder (BurntSushi/toml) matches a key to a struct
 * field by its exact name first, else by the first name equal to it
 * ignoring case (Go's strings.EqualFold; crunner folds ASCII only, as
 * every key name is ASCII): "Type" sets type.  Map keys
 * ([runners.feature_flags], environment tables) stay exact.
 */
static int is_key_folded(const struct toml_kv *kv, const char *name)
{
	return kv->keylen == strlen(name) &&
	       !strncasecmp(kv->key, name, kv->keylen);
}

static struct toml_kv *tree_kv(const struct toml_value *table,
			       const char *name)
{
	size_t i;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	for (i = 0; i < table->u.table.nr; i++)
		if (is_key(&table->u.table.items[i], name))
			return &table->u.table.items[i];
	for (i = 0; i < table->u.table.nr; i++)
		if (is_key_folded(&table->u.table.items[i], name))
			return &table->u.table.items[i];
	return NULL;
}

struct toml_value *config_tree_get(const struct toml_value *table,
				   const char *name)
{
	struct toml_kv *kv = tree_kv(table, name);

	return kv ? kv->value : NULL;
}

char *config_tree_key(const struct toml_value *table, const char *name)
{
	struct toml_kv *kv = tree_kv(table, name);

	return xstrdup(kv ? kv->key : name);
}

/* --- messages --- */

void config_add_where(struct buf *b, const struct config_ctx *ctx, int line)
{
	if (ctx && ctx->file && line > 0)
		buf_addf(b, "%s:%d: ", ctx->file, line);
	else if (ctx && ctx->file)
		buf_addf(b, "%s: ", ctx->file);
}

/* Bytes a terminal could misread are shown as '?'. */
static void add_printable(struct buf *b, const char *s, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		buf_addch(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	if (len > max)
		buf_addstr(b, "...");
}

static void describe_value(struct buf *b, const struct toml_value *v)
{
	switch (v->type) {
	case TOML_STRING:
		buf_addch(b, '"');
		add_printable(b, v->u.str.ptr, v->u.str.len, 60);
		buf_addch(b, '"');
		break;
	case TOML_INTEGER:
		buf_addf(b, "%lld", (long long)v->u.integer);
		break;
	case TOML_FLOAT:
		buf_addf(b, "%g", v->u.fp);
		break;
	case TOML_BOOL:
		buf_addstr(b, v->u.boolean ? "true" : "false");
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		buf_addstr(b, v->u.datetime);
		break;
	case TOML_ARRAY:
		buf_addstr(b, "an array");
		break;
	case TOML_TABLE:
		buf_addstr(b, "a table");
		break;
	}
}

static void describe_expect(struct buf *b, const struct config_key *k)
{
	static const char *const by_type[] = {
		[CT_STRING] = "a string",
		[CT_INT] = "an integer",
		[CT_INT64] = "an integer",
		[CT_BOOL] = "a boolean",
		[CT_TRIBOOL] = "a boolean",
		[CT_DURATION] = "a duration such as \"15m\" or \"1h30m\"",
		[CT_TIME] = "a date-time such as 2024-01-01T00:00:00Z",
		[CT_STRLIST] = "an array of strings",
		[CT_STR_OR_LIST] = "a string or an array of strings",
		[CT_STRMAP] = "a table of strings",
		[CT_BOOLMAP] = "a table of booleans",
		[CT_SECTION] = "a table",
		[CT_SECTION_ARRAY] = "an array of tables",
		[CT_ACCEPTED] = "a value",
		[CT_DOUBLE] = "a number",
		[CT_JSON] = "a table",
		[CT_LISTMAP] = "a table of string arrays",
		[CT_DOUBLE_LIST] = "an array of numbers",
	};
	const char *const *c;

	if (k->expect) {
		buf_addstr(b, k->expect);
	} else if (k->choices) {
		buf_addstr(b, "one of ");
		for (c = k->choices; *c; c++)
			buf_addf(b, "%s%s", c == k->choices ? "" : ", ", *c);
	} else if (has_range(k) && (k->max == INT64_MAX ||
				    (k->type == CT_INT && k->max == INT_MAX))) {
		buf_addf(b, "an integer >= %lld", (long long)k->min);
	} else if (has_range(k)) {
		buf_addf(b, "an integer between %lld and %lld",
			 (long long)k->min, (long long)k->max);
	} else {
		buf_addstr(b, by_type[k->type]);
	}
}

/* "config.toml:3: 'concurrent' must be an integer >= 1, not "two"" */
int config_bad_value(const struct config_section *sec,
		     const struct config_key *k, const struct toml_value *v,
		     const struct config_ctx *ctx)
{
	struct buf msg = BUF_INIT;

	config_add_where(&msg, ctx, v->line);
	buf_addf(&msg, "'%s'", k->name);
	if (sec->title)
		buf_addf(&msg, " in %s", sec->title);
	buf_addstr(&msg, " must be ");
	describe_expect(&msg, k);
	buf_addstr(&msg, ", not ");
	describe_value(&msg, v);
	buf_seterr(ctx->err, "%s", msg.data);
	buf_release(&msg);
	return CR_ERR_INVALID;
}

static void warn_unknown(const struct config_section *sec,
			 const struct toml_kv *kv, const struct config_ctx *ctx)
{
	struct buf msg = BUF_INIT;

	if (!ctx->warnings)
		return;
	config_add_where(&msg, ctx, kv->value->line);
	buf_addstr(&msg, "unknown key '");
	add_printable(&msg, kv->key, kv->keylen, 100);
	buf_addf(&msg, "' in %s (ignored)",
		 sec->title ? sec->title : "the global section");
	strvec_push_nodup(ctx->warnings, buf_detach(&msg, NULL));
}

/* "config.toml:7: 'isolation' in [runners.docker] has no effect in crunner" */
static void warn_no_effect(const struct config_section *sec,
			   const struct toml_kv *kv,
			   const struct config_ctx *ctx)
{
	struct buf msg = BUF_INIT;

	if (!ctx->warnings)
		return;
	config_add_where(&msg, ctx, kv->value->line);
	buf_addstr(&msg, "'");
	add_printable(&msg, kv->key, kv->keylen, 100);
	buf_addf(&msg, "' in %s has no effect in crunner",
		 sec->title ? sec->title : "the global section");
	strvec_push_nodup(ctx->warnings, buf_detach(&msg, NULL));
}

/*
 * Whether a CF_NO_EFFECT key is set to something that would change what
 * gitlab-runner does: not its default (gitlab-runner writes network_mtu = 0
 * into every new file), and for a section, not an empty table.
 */
static bool sets_something(const struct config_key *k, const void *f,
			   const struct toml_value *v)
{
	if (k->type == CT_ACCEPTED)
		return v->type != TOML_TABLE || v->u.table.nr > 0;
	return !config_field_is_default(k, f);
}

/* --- sections --- */

static const struct config_key *find_key(const struct config_section *sec,
					 const struct toml_kv *kv)
{
	size_t i;

	for (i = 0; i < sec->nr_keys; i++)
		if (is_key(kv, sec->keys[i].name))
			return &sec->keys[i];
	for (i = 0; i < sec->nr_keys; i++)
		if (is_key_folded(kv, sec->keys[i].name))
			return &sec->keys[i];
	return NULL;
}

void config_section_defaults(const struct config_section *sec, void *base)
{
	size_t i;

	if (sec->present_off != NO_PRESENT)
		*(bool *)((char *)base + sec->present_off) = false;
	for (i = 0; i < sec->nr_keys; i++)
		config_field_default(&sec->keys[i], FIELD(base, &sec->keys[i]));
}

static int read_section_array(const struct config_section *sec,
			      const struct config_key *k, void *base,
			      const struct toml_value *v,
			      const struct config_ctx *ctx)
{
	size_t *nr = (size_t *)((char *)base + k->off2);
	char **items = FIELD(base, k);
	size_t i;
	int r;

	if (v->type != TOML_ARRAY)
		return config_bad_value(sec, k, v, ctx);
	for (i = 0; i < v->u.array.nr; i++)
		if (v->u.array.items[i]->type != TOML_TABLE)
			return config_bad_value(sec, k, v->u.array.items[i],
						ctx);
	config_field_free(k, items);
	if (!v->u.array.nr)
		return 0;
	/* Default every element first, so a failure leaves all freeable. */
	*items = xcalloc(v->u.array.nr, k->sub->size);
	*nr = v->u.array.nr;
	for (i = 0; i < *nr; i++)
		config_section_defaults(k->sub, *items + i * k->sub->size);
	for (i = 0; i < *nr; i++) {
		r = config_section_read(k->sub, *items + i * k->sub->size,
					v->u.array.items[i], ctx);
		if (r)
			return r;
	}
	return 0;
}

int config_section_read(const struct config_section *sec, void *base,
			const struct toml_value *table,
			const struct config_ctx *ctx)
{
	const struct toml_value *bad;
	size_t i;
	int r;

	if (sec->present_off != NO_PRESENT)
		*(bool *)((char *)base + sec->present_off) = true;
	for (i = 0; i < table->u.table.nr; i++) {
		const struct toml_kv *kv = &table->u.table.items[i];
		const struct config_key *k = find_key(sec, kv);

		if (!k) {
			warn_unknown(sec, kv, ctx);
			continue;
		}
		switch (k->type) {
		case CT_ACCEPTED:
			if ((k->flags & CF_NO_EFFECT) &&
			    sets_something(k, NULL, kv->value))
				warn_no_effect(sec, kv, ctx);
			continue;
		case CT_SECTION:
			if (kv->value->type != TOML_TABLE)
				return config_bad_value(sec, k, kv->value, ctx);
			r = config_section_read(k->sub, FIELD(base, k),
						kv->value, ctx);
			break;
		case CT_SECTION_ARRAY:
			r = read_section_array(sec, k, base, kv->value, ctx);
			break;
		default:
			r = 0;
			if (config_field_read(k, FIELD(base, k), kv->value,
					      &bad))
				r = config_bad_value(sec, k, bad, ctx);
			else if ((k->flags & CF_NO_EFFECT) &&
				 sets_something(k, FIELD(base, k), kv->value))
				warn_no_effect(sec, kv, ctx);
			break;
		}
		if (r)
			return r;
	}
	for (i = 0; i < sec->nr_keys; i++) {
		const struct config_key *k = &sec->keys[i];

		if (k->type == CT_INT || k->type == CT_INT64)
			config_field_normalize(k, FIELD(base, k));
	}
	return 0;
}

void config_section_free(const struct config_section *sec, void *base)
{
	size_t i;

	for (i = 0; i < sec->nr_keys; i++)
		config_field_free(&sec->keys[i], FIELD(base, &sec->keys[i]));
}

/*
 * Whether the tree value v already says what field f holds, so that an
 * unchanged key keeps its spelling ("1h" stays "1h", not "1h0m0s").
 */
static int tree_matches(const struct config_key *k, const struct toml_value *v,
			const void *f)
{
	const struct toml_value *bad;
	union config_field tmp;
	int same;

	config_field_default(k, &tmp);
	if (config_field_read(k, &tmp, v, &bad)) {
		config_field_free(k, &tmp);
		return 0;
	}
	if (k->type == CT_INT || k->type == CT_INT64)
		config_field_normalize(k, &tmp);
	same = config_field_equal(k, &tmp, f);
	config_field_free(k, &tmp);
	return same;
}

static void write_section_array(const struct config_key *k, const void *base,
				struct toml_value *table)
{
	size_t nr = *(const size_t *)((const char *)base + k->off2);
	const char *items = *(char *const *)CFIELD(base, k);
	struct toml_value *old = config_tree_get(table, k->name), *arr;
	char *name = config_tree_key(table, k->name);
	size_t i;

	if (old && old->type == TOML_ARRAY && old->u.array.nr == nr) {
		for (i = 0; i < nr; i++)
			if (old->u.array.items[i]->type == TOML_TABLE)
				config_section_write(k->sub,
						     items + i * k->sub->size,
						     old->u.array.items[i]);
		free(name);
		return;
	}
	if (!nr) {
		toml_table_remove(table, name);
		free(name);
		return;
	}
	arr = toml_new_array();
	for (i = 0; i < nr; i++) {
		struct toml_value *t = toml_new_table();

		config_section_write(k->sub, items + i * k->sub->size, t);
		toml_array_append(arr, t);
	}
	toml_table_set(table, name, arr);
	free(name);
}

void config_section_write(const struct config_section *sec, const void *base,
			  struct toml_value *table)
{
	size_t i;

	for (i = 0; i < sec->nr_keys; i++) {
		const struct config_key *k = &sec->keys[i];
		const void *f = CFIELD(base, k);
		struct toml_value *old = config_tree_get(table, k->name), *v;
		char *name;

		switch (k->type) {
		case CT_ACCEPTED:
			continue;
		case CT_SECTION:
			if (old && old->type == TOML_TABLE) {
				config_section_write(k->sub, f, old);
			} else if (*(const bool *)((const char *)f +
						   k->sub->present_off)) {
				v = toml_new_table();
				config_section_write(k->sub, f, v);
				toml_table_set(table, k->name, v);	/* new */
			}
			continue;
		case CT_SECTION_ARRAY:
			write_section_array(k, base, table);
			continue;
		default:
			break;
		}
		if (old ? tree_matches(k, old, f)
			: !(k->flags & CF_ALWAYS) &&
			  config_field_is_default(k, f))
			continue;
		/* An existing key keeps its spelling ("Type" stays). */
		name = config_tree_key(table, k->name);
		if ((v = config_field_to_toml(k, f)) != NULL)
			toml_table_set(table, name, v);
		else if (old)
			toml_table_remove(table, name);
		free(name);
	}
}

void config_section_wipe_tree(const struct config_section *sec,
			      struct toml_value *table)
{
	size_t i, j;

	if (!table || table->type != TOML_TABLE)
		return;
	for (i = 0; i < sec->nr_keys; i++) {
		const struct config_key *k = &sec->keys[i];
		struct toml_value *v = config_tree_get(table, k->name);

		if (!v)
			continue;
		if (k->type == CT_SECTION) {
			config_section_wipe_tree(k->sub, v);
		} else if (k->type == CT_SECTION_ARRAY &&
			   v->type == TOML_ARRAY) {
			for (j = 0; j < v->u.array.nr; j++)
				config_section_wipe_tree(k->sub,
							 v->u.array.items[j]);
		} else if ((k->flags & CF_SECRET) && v->type == TOML_STRING) {
			explicit_bzero(v->u.str.ptr, v->u.str.len);
		}
	}
}

static void visit_no_effect(const struct config_section *sec,
			    config_key_fn fn, void *ctx)
{
	size_t i;

	for (i = 0; i < sec->nr_keys; i++) {
		const struct config_key *k = &sec->keys[i];

		if (k->flags & CF_NO_EFFECT)
			fn(ctx, sec->title, k->name);
		if (k->type == CT_SECTION || k->type == CT_SECTION_ARRAY)
			visit_no_effect(k->sub, fn, ctx);
	}
}

void config_no_effect_keys(config_key_fn fn, void *ctx)
{
	visit_no_effect(&config_global_section, fn, ctx);
	visit_no_effect(&config_runner_section, fn, ctx);
}

static const struct config_key *find_named(const struct config_section *sec,
					   const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sec->nr_keys; i++)
		if (strlen(sec->keys[i].name) == len &&
		    !strncmp(sec->keys[i].name, name, len))
			return &sec->keys[i];
	return NULL;
}

enum config_key_state config_runner_key_state(const char *path)
{
	const struct config_section *sec = &config_runner_section;
	const struct config_key *k;
	const char *dot;

	for (;;) {
		dot = strchr(path, '.');
		k = find_named(sec, path, dot ? (size_t)(dot - path) : strlen(path));
		if (!k)
			return CONFIG_KEY_UNKNOWN;
		if (k->type == CT_ACCEPTED || (k->flags & CF_NO_EFFECT))
			return CONFIG_KEY_NO_EFFECT;
		if (!dot)
			return CONFIG_KEY_ACTED_ON;
		if (k->type != CT_SECTION)
			return CONFIG_KEY_UNKNOWN;
		sec = k->sub;
		path = dot + 1;
	}
}

void config_section_copy_unmodelled(const struct config_section *sec,
				    struct toml_value *dst,
				    const struct toml_value *extra)
{
	size_t i;

	for (i = 0; i < extra->u.table.nr; i++) {
		const struct toml_kv *kv = &extra->u.table.items[i];
		const struct config_key *k = find_key(sec, kv);
		struct toml_value *have = toml_table_get(dst, kv->key);

		if (k && k->type == CT_SECTION && kv->value->type == TOML_TABLE) {
			bool made = !have || have->type != TOML_TABLE;

			if (made) {
				have = toml_new_table();
				toml_table_set(dst, kv->key, have);
			}
			config_section_copy_unmodelled(k->sub, have, kv->value);
			if (made && !have->u.table.nr)
				toml_table_remove(dst, kv->key);
			continue;
		}
		if ((k && k->type != CT_ACCEPTED) || have)
			continue;
		toml_table_set(dst, kv->key, toml_value_copy(kv->value));
	}
}
