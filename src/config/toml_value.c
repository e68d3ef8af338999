/*
 * TOML trees: constructors, lookup, editing and freeing, plus the parser's
 * (table, key) hash index.
 */
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "config/toml_internal.h"
#include "util/xalloc.h"
#include "util/banned.h"

static struct toml_value *new_value(enum toml_type type)
{
	struct toml_value *v = xcalloc(1, sizeof(*v));

	v->type = type;
	return v;
}

struct toml_value *toml_new_table(void)
{
	return new_value(TOML_TABLE);
}

struct toml_value *toml_new_array(void)
{
	return new_value(TOML_ARRAY);
}

struct toml_value *toml_new_string_len(const char *s, size_t len)
{
	struct toml_value *v = new_value(TOML_STRING);

	v->u.str.ptr = xmalloc(len + 1);
	if (len)
		memcpy(v->u.str.ptr, s, len);
	v->u.str.ptr[len] = '\0';
	v->u.str.len = len;
	return v;
}

struct toml_value *toml_new_string(const char *s)
{
	return toml_new_string_len(s, strlen(s));
}

struct toml_value *toml_new_integer(int64_t i)
{
	struct toml_value *v = new_value(TOML_INTEGER);

	v->u.integer = i;
	return v;
}

struct toml_value *toml_new_float(double d)
{
	struct toml_value *v = new_value(TOML_FLOAT);

	v->u.fp = d;
	return v;
}

struct toml_value *toml_new_bool(int b)
{
	struct toml_value *v = new_value(TOML_BOOL);

	v->u.boolean = !!b;
	return v;
}

struct toml_value *toml_new_datetime(enum toml_type type, const char *text)
{
	struct toml_value *v = new_value(type);

	v->u.datetime = xstrdup(text);
	return v;
}

void toml_value_free(struct toml_value *v)
{
	size_t i;

	if (!v)
		return;
	switch (v->type) {
	case TOML_STRING:
		free(v->u.str.ptr);
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		free(v->u.datetime);
		break;
	case TOML_ARRAY:
		for (i = 0; i < v->u.array.nr; i++)
			toml_value_free(v->u.array.items[i]);
		free(v->u.array.items);
		break;
	case TOML_TABLE:
		for (i = 0; i < v->u.table.nr; i++) {
			free(v->u.table.items[i].key);
			toml_value_free(v->u.table.items[i].value);
		}
		free(v->u.table.items);
		break;
	case TOML_INTEGER:
	case TOML_FLOAT:
	case TOML_BOOL:
		break;
	}
	free(v);
}

static struct toml_kv *table_find(const struct toml_value *table,
				  const char *key, size_t len)
{
	size_t i;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	for (i = 0; i < table->u.table.nr; i++) {
		struct toml_kv *kv = &table->u.table.items[i];

		if (kv->keylen == len && !memcmp(kv->key, key, len))
			return kv;
	}
	return NULL;
}

struct toml_value *toml_table_get(const struct toml_value *table,
				  const char *key)
{
	struct toml_kv *kv = table_find(table, key, strlen(key));

	return kv ? kv->value : NULL;
}

void toml_table_append(struct toml_value *table, const char *key, size_t len,
		       struct toml_value *v)
{
	struct toml_table *t = &table->u.table;
	struct toml_kv *kv;

	if (t->nr == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 8;
		t->items = xreallocarray(t->items, t->alloc, sizeof(*t->items));
	}
	kv = &t->items[t->nr++];
	kv->key = xmalloc(len + 1);
	if (len)
		memcpy(kv->key, key, len);
	kv->key[len] = '\0';
	kv->keylen = len;
	kv->value = v;
}

void toml_table_set(struct toml_value *table, const char *key,
		    struct toml_value *v)
{
	size_t len = strlen(key);
	struct toml_kv *kv = table_find(table, key, len);

	if (kv) {
		if (kv->value == v)
			return;
		toml_value_free(kv->value);
		kv->value = v;
		return;
	}
	toml_table_append(table, key, len, v);
}

int toml_table_remove(struct toml_value *table, const char *key)
{
	struct toml_kv *kv = table_find(table, key, strlen(key));
	struct toml_table *t;
	size_t i;

	if (!kv)
		return 0;
	t = &table->u.table;
	i = (size_t)(kv - t->items);
	free(kv->key);
	toml_value_free(kv->value);
	memmove(&t->items[i], &t->items[i + 1],
		(t->nr - i - 1) * sizeof(*t->items));
	t->nr--;
	return 1;
}

void toml_array_append(struct toml_value *array, struct toml_value *v)
{
	struct toml_array *a = &array->u.array;

	if (a->nr == a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 8;
		a->items = xreallocarray(a->items, a->alloc, sizeof(*a->items));
	}
	a->items[a->nr++] = v;
}

void toml_array_remove(struct toml_value *array, size_t i)
{
	struct toml_array *a = &array->u.array;

	if (array->type != TOML_ARRAY || i >= a->nr)
		return;
	toml_value_free(a->items[i]);
	memmove(&a->items[i], &a->items[i + 1],
		(a->nr - i - 1) * sizeof(*a->items));
	a->nr--;
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "boolean";
	case TOML_DATETIME: return "offset date-time";
	case TOML_DATETIME_LOCAL: return "local date-time";
	case TOML_DATE_LOCAL: return "local date";
	case TOML_TIME_LOCAL: return "local time";
	case TOML_ARRAY: return "array";
	case TOML_TABLE: return "table";
	}
	return "unknown";
}

/* FNV-1a over the key, mixed with the table's address. */
static uint64_t index_hash(const struct toml_value *table, const char *key,
			   size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^
		     ((uint64_t)(uintptr_t)table * 0x9e3779b97f4a7c15ULL);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void index_put(struct toml_index *ix, const struct toml_value *table,
		      size_t slot, uint64_t hash)
{
	size_t i = (size_t)hash & (ix->cap - 1);

	while (ix->entries[i].table)
		i = (i + 1) & (ix->cap - 1);
	ix->entries[i].table = table;
	ix->entries[i].slot = slot;
	ix->entries[i].hash = hash;
	ix->nr++;
}

static void index_grow(struct toml_index *ix)
{
	struct toml_index_entry *old = ix->entries;
	size_t i, oldcap = ix->cap;

	ix->cap = oldcap ? oldcap * 2 : 64;
	ix->entries = xcalloc(ix->cap, sizeof(*ix->entries));
	ix->nr = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].table)
			index_put(ix, old[i].table, old[i].slot, old[i].hash);
	free(old);
}

struct toml_value *toml_index_get(struct toml_index *ix,
				  const struct toml_value *table,
				  const char *key, size_t len)
{
	uint64_t hash;
	size_t i;

	if (!ix->cap)
		return NULL;
	hash = index_hash(table, key, len);
	for (i = (size_t)hash & (ix->cap - 1); ix->entries[i].table;
	     i = (i + 1) & (ix->cap - 1)) {
		const struct toml_index_entry *e = &ix->entries[i];
		const struct toml_kv *kv;

		if (e->table != table || e->hash != hash)
			continue;
		kv = &table->u.table.items[e->slot];
		if (kv->keylen == len && !memcmp(kv->key, key, len))
			return kv->value;
	}
	return NULL;
}

void toml_index_add(struct toml_index *ix, struct toml_value *table,
		    const char *key, size_t len, struct toml_value *v)
{
	toml_table_append(table, key, len, v);
	if ((ix->nr + 1) * 2 > ix->cap)
		index_grow(ix);
	index_put(ix, table, table->u.table.nr - 1,
		  index_hash(table, key, len));
}

void toml_index_release(struct toml_index *ix)
{
	free(ix->entries);
	ix->entries = NULL;
	ix->nr = ix->cap = 0;
}

struct toml_value *toml_value_copy(const struct toml_value *v)
{
	struct toml_value *c;
	size_t i;

	switch (v->type) {
	case TOML_STRING:
		c = toml_new_string_len(v->u.str.ptr, v->u.str.len);
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		c = toml_new_datetime(v->type, v->u.datetime);
		break;
	case TOML_ARRAY:
		c = toml_new_array();
		for (i = 0; i < v->u.array.nr; i++)
			toml_array_append(c, toml_value_copy(v->u.array.items[i]));
		break;
	case TOML_TABLE:
		c = toml_new_table();
		for (i = 0; i < v->u.table.nr; i++)
			toml_table_append(c, v->u.table.items[i].key,
					  v->u.table.items[i].keylen,
					  toml_value_copy(v->u.table.items[i].value));
		break;
	default:
		c = new_value(v->type);
		c->u = v->u;
		break;
	}
	c->line = v->line;
	c->col = v->col;
	return c;
}
