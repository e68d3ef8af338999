/*
 * The TOML parser and writer: any text parses or is refused with a
 * message; a parsed tree written out parses back to an equal tree, and
 * writing that again gives the same text (the round-trip property that
 * `crunner register` relies on when it rewrites config.toml).
 */
#include <math.h>

#include "fuzz.h"

#include "config/toml.h"
#include "util/buf.h"

static int equal(const struct toml_value *a, const struct toml_value *b);

static const struct toml_value *table_find(const struct toml_table *t,
					   const struct toml_kv *kv)
{
	size_t i;

	for (i = 0; i < t->nr; i++)
		if (t->items[i].keylen == kv->keylen &&
		    !memcmp(t->items[i].key, kv->key, kv->keylen))
			return t->items[i].value;
	return NULL;
}

/* Tables compare as sets of keys: the writer puts sub-tables last. */
static int equal(const struct toml_value *a, const struct toml_value *b)
{
	size_t i;

	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case TOML_STRING:
		return a->u.str.len == b->u.str.len &&
		       !memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len);
	case TOML_INTEGER:
		return a->u.integer == b->u.integer;
	case TOML_FLOAT:
		if (isnan(a->u.fp))
			return isnan(b->u.fp);
		return a->u.fp == b->u.fp &&
		       signbit(a->u.fp) == signbit(b->u.fp);
	case TOML_BOOL:
		return !a->u.boolean == !b->u.boolean;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		return !strcmp(a->u.datetime, b->u.datetime);
	case TOML_ARRAY:
		if (a->u.array.nr != b->u.array.nr)
			return 0;
		for (i = 0; i < a->u.array.nr; i++)
			if (!equal(a->u.array.items[i], b->u.array.items[i]))
				return 0;
		return 1;
	case TOML_TABLE:
		if (a->u.table.nr != b->u.table.nr)
			return 0;
		for (i = 0; i < a->u.table.nr; i++) {
			const struct toml_value *o =
				table_find(&b->u.table, &a->u.table.items[i]);

			if (!o || !equal(a->u.table.items[i].value, o))
				return 0;
		}
		return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *first = NULL, *second = NULL;
	struct buf err = BUF_INIT, text = BUF_INIT, again = BUF_INIT;
	int r;

	if (size > 65536)
		return 0;
	r = toml_parse((const char *)data, size, "fuzz.toml", &first, &err);
	if (r) {
		FUZZ_CHECK(!first, "a tree next to error %d", r);
		FUZZ_CHECK(err.len > 0, "error %d without a message", r);
		goto out;
	}
	FUZZ_CHECK(toml_write(first, &text) == 0, "cannot write a parsed tree");
	r = toml_parse(text.data, text.len, "written.toml", &second, &err);
	FUZZ_CHECK(r == 0, "the written text does not parse: %s\n--- text:\n%s",
		   err.data, text.data);
	FUZZ_CHECK(equal(first, second),
		   "the written text parses to another tree\n--- text:\n%s",
		   text.data);
	FUZZ_CHECK(toml_write(second, &again) == 0, "cannot write it again");
	FUZZ_CHECK(text.len == again.len &&
		   !memcmp(text.data, again.data, text.len),
		   "writing is not stable\n--- first:\n%s\n--- second:\n%s",
		   text.data, again.data);
out:
	toml_value_free(first);
	toml_value_free(second);
	buf_release(&err);
	buf_release(&text);
	buf_release(&again);
	return 0;
}
