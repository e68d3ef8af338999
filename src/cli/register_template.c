/*
 * register --template-config FILE, as gitlab-runner's configTemplate:
 * the file is a config.toml with exactly one [[runners]] entry; its token
 * is dropped and mergo.Merge copies each of its values into the runner
 * being registered wherever that one holds nothing (a missing key or
 * Go's zero value: "", 0, false, an empty list).  Flags and variables win.
 */
#include <stdbool.h>
#include <string.h>

#include "cli/register_int.h"
#include "config/config.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/banned.h"

static bool is_zero(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_STRING:
		return !v->u.str.len;
	case TOML_INTEGER:
		return !v->u.integer;
	case TOML_FLOAT:
		return v->u.fp == 0;
	case TOML_BOOL:
		return !v->u.boolean;
	case TOML_ARRAY:
		return !v->u.array.nr;
	case TOML_TABLE:
		return !v->u.table.nr;
	default:
		return false;
	}
}

/* The template may hold secrets (cache keys, tokens): wipe every string. */
static void wipe_strings(struct toml_value *v)
{
	size_t i;

	if (v->type == TOML_STRING)
		explicit_bzero(v->u.str.ptr, v->u.str.len);
	else if (v->type == TOML_ARRAY)
		for (i = 0; i < v->u.array.nr; i++)
			wipe_strings(v->u.array.items[i]);
	else if (v->type == TOML_TABLE)
		for (i = 0; i < v->u.table.nr; i++)
			wipe_strings(v->u.table.items[i].value);
}

static void merge(struct toml_value *dst, const struct toml_value *src)
{
	size_t i;

	for (i = 0; i < src->u.table.nr; i++) {
		const struct toml_kv *kv = &src->u.table.items[i];
		struct toml_value *have = toml_table_get(dst, kv->key);

		if (have && have->type == TOML_TABLE &&
		    kv->value->type == TOML_TABLE)
			merge(have, kv->value);
		else if (!have || is_zero(have))
			toml_table_set(dst, kv->key, toml_value_copy(kv->value));
	}
}

int register_merge_template(struct toml_value *tree, const char *path,
			    struct buf *err)
{
	struct toml_value *doc = NULL, *runners, *entry;
	struct runner_config check;
	int r = -1;

	if (toml_parse_file(path, &doc, err))
		goto out;
	runners = toml_table_get(doc, "runners");
	if (!runners || runners->type != TOML_ARRAY ||
	    runners->u.array.nr != 1 ||
	    runners->u.array.items[0]->type != TOML_TABLE) {
		buf_addf(err, "the configuration template '%s' must contain exactly one [[runners]] entry",
			 path);
		goto out;
	}
	entry = runners->u.array.items[0];
	/* gitlab-runner loads the template as a config.toml: same checks. */
	if (config_runner_from_tree(&check, entry, path, err))
		goto out;
	runner_config_release(&check);
	toml_table_remove(entry, "token");
	merge(tree, entry);
	r = 0;
out:
	if (doc) {
		wipe_strings(doc);
		toml_value_free(doc);
	}
	return r;
}
