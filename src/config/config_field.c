/*
 * Operations on one field of a key table row, by type: default, read from
 * a TOML value, free, compare and turn back into a TOML value.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_int.h"
#include "util/timeparse.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int has_range(const struct config_key *k)
{
	return k->min || k->max;
}

int config_is_plain_string(const struct toml_value *v)
{
	return v->type == TOML_STRING && strlen(v->u.str.ptr) == v->u.str.len;
}

void config_field_default(const struct config_key *k, void *f)
{
	switch (k->type) {
	case CT_STRING:
		*(char **)f = k->def_str ? xstrdup(k->def_str) : NULL;
		break;
	case CT_INT:
		*(int *)f = (int)k->def;
		break;
	case CT_INT64:
	case CT_DURATION:
		*(int64_t *)f = k->def;
		break;
	case CT_BOOL:
		*(bool *)f = k->def != 0;
		break;
	case CT_TRIBOOL:
		*(enum config_tribool *)f = CONFIG_UNSET;
		break;
	case CT_TIME:
		*(time_t *)f = 0;
		break;
	case CT_STRLIST:
	case CT_STR_OR_LIST:
		strvec_init(f);
		break;
	case CT_STRMAP:
		memset(f, 0, sizeof(struct config_strmap));
		break;
	case CT_BOOLMAP:
		memset(f, 0, sizeof(struct config_flags));
		break;
	case CT_SECTION:
		config_section_defaults(k->sub, f);
		break;
	case CT_SECTION_ARRAY:
		*(void **)f = NULL;
		*(size_t *)((char *)f - k->off + k->off2) = 0;
		break;
	case CT_ACCEPTED:
		break;
	case CT_DOUBLE:
		*(double *)f = 0;
		break;
	case CT_JSON:
		*(char **)f = NULL;
		break;
	case CT_LISTMAP:
		memset(f, 0, sizeof(struct config_listmap));
		break;
	case CT_DOUBLE_LIST:
		memset(f, 0, sizeof(struct config_doubles));
		break;
	}
}

static void free_str(const struct config_key *k, char *s)
{
	if (k->flags & CF_SECRET)
		free_secret(s);
	else
		free(s);
}

void config_field_free(const struct config_key *k, void *f)
{
	size_t i;

	switch (k->type) {
	case CT_STRING:
	case CT_JSON:
		free_str(k, *(char **)f);
		*(char **)f = NULL;
		break;
	case CT_STRLIST:
	case CT_STR_OR_LIST:
		strvec_clear(f);
		break;
	case CT_STRMAP: {
		struct config_strmap *m = f;

		for (i = 0; i < m->nr; i++) {
			free(m->items[i].key);
			free_str(k, m->items[i].value);
		}
		free(m->items);
		memset(m, 0, sizeof(*m));
		break;
	}
	case CT_BOOLMAP: {
		struct config_flags *m = f;

		for (i = 0; i < m->nr; i++)
			free(m->items[i].name);
		free(m->items);
		memset(m, 0, sizeof(*m));
		break;
	}
	case CT_LISTMAP: {
		struct config_listmap *m = f;

		for (i = 0; i < m->nr; i++) {
			free(m->items[i].key);
			strvec_clear(&m->items[i].values);
		}
		free(m->items);
		memset(m, 0, sizeof(*m));
		break;
	}
	case CT_SECTION:
		config_section_free(k->sub, f);
		break;
	case CT_DOUBLE_LIST:
		free(((struct config_doubles *)f)->v);
		memset(f, 0, sizeof(struct config_doubles));
		break;
	case CT_SECTION_ARRAY: {
		size_t *nr = (size_t *)((char *)f - k->off + k->off2);
		char *items = *(char **)f;

		for (i = 0; i < *nr; i++)
			config_section_free(k->sub, items + i * k->sub->size);
		free(items);
		*(void **)f = NULL;
		*nr = 0;
		break;
	}
	default:
		break;
	}
}

static int check_string(const struct config_key *k, const struct toml_value *v)
{
	const char *const *c;

	if (!config_is_plain_string(v))
		return -1;
	if (k->choices && v->u.str.len) {
		for (c = k->choices; *c; c++)
			if (!strcmp(*c, v->u.str.ptr))
				break;
		if (!*c)
			return -1;
	}
	return k->check ? k->check(v) : 0;
}

static int read_strlist(const struct config_key *k, struct strvec *sv,
			const struct toml_value *v,
			const struct toml_value **bad)
{
	size_t i;

	if (k->type == CT_STR_OR_LIST && v->type == TOML_STRING) {
		if (check_string(k, v))
			return -1;
		if (v->u.str.len)
			strvec_push(sv, v->u.str.ptr);
		return 0;
	}
	if (v->type != TOML_ARRAY)
		return -1;
	for (i = 0; i < v->u.array.nr; i++) {
		if (check_string(k, v->u.array.items[i])) {
			*bad = v->u.array.items[i];
			return -1;
		}
	}
	for (i = 0; i < v->u.array.nr; i++)
		strvec_push(sv, v->u.array.items[i]->u.str.ptr);
	return 0;
}

static int read_map(const struct config_key *k, void *f,
		    const struct toml_value *v, const struct toml_value **bad)
{
	const struct toml_table *t = &v->u.table;
	size_t i;

	if (v->type != TOML_TABLE)
		return -1;
	for (i = 0; i < t->nr; i++) {
		const struct toml_value *item = t->items[i].value;

		if (strlen(t->items[i].key) != t->items[i].keylen ||
		    (k->type == CT_STRMAP ? !config_is_plain_string(item)
					  : item->type != TOML_BOOL)) {
			*bad = item;
			return -1;
		}
	}
	if (k->type == CT_STRMAP) {
		struct config_strmap *m = f;

		m->items = xcalloc(t->nr, sizeof(*m->items));
		for (m->nr = 0; m->nr < t->nr; m->nr++) {
			m->items[m->nr].key = xstrdup(t->items[m->nr].key);
			m->items[m->nr].value =
				xstrdup(t->items[m->nr].value->u.str.ptr);
		}
	} else {
		struct config_flags *m = f;

		m->items = xcalloc(t->nr, sizeof(*m->items));
		for (m->nr = 0; m->nr < t->nr; m->nr++) {
			m->items[m->nr].name = xstrdup(t->items[m->nr].key);
			m->items[m->nr].value =
				t->items[m->nr].value->u.boolean;
		}
	}
	return 0;
}

/* A table whose values are arrays of strings, into m (empty). */
static int read_listmap(const struct config_key *k, struct config_listmap *m,
			const struct toml_value *v,
			const struct toml_value **bad)
{
	const struct toml_table *t = &v->u.table;
	size_t i;

	if (v->type != TOML_TABLE)
		return -1;
	m->items = xcalloc(t->nr ? t->nr : 1, sizeof(*m->items));
	for (i = 0; i < t->nr; i++) {
		struct config_kvlist *item = &m->items[m->nr];

		if (strlen(t->items[i].key) != t->items[i].keylen) {
			*bad = t->items[i].value;
			return -1;
		}
		strvec_init(&item->values);
		item->key = xstrdup(t->items[i].key);
		m->nr++;
		*bad = t->items[i].value;
		if (read_strlist(k, &item->values, t->items[i].value, bad))
			return -1;
	}
	return 0;
}

/* An array of integers or floats, as Go decodes into []float64. */
static int read_doubles(const struct config_key *k, void *f,
			const struct toml_value *v,
			const struct toml_value **bad)
{
	struct config_doubles d = { 0 };
	size_t i;

	if (v->type != TOML_ARRAY)
		return -1;
	for (i = 0; i < v->u.array.nr; i++) {
		const struct toml_value *e = v->u.array.items[i];

		if (e->type != TOML_FLOAT && e->type != TOML_INTEGER) {
			*bad = e;
			return -1;
		}
	}
	d.v = xcalloc(v->u.array.nr ? v->u.array.nr : 1, sizeof(*d.v));
	for (i = 0; i < v->u.array.nr; i++) {
		const struct toml_value *e = v->u.array.items[i];

		d.v[i] = e->type == TOML_FLOAT ? e->u.fp : (double)e->u.integer;
	}
	d.nr = v->u.array.nr;
	config_field_free(k, f);
	*(struct config_doubles *)f = d;
	return 0;
}

/*
 * Reads a scalar, list or map value into f, which holds a default (and is
 * freed first).  Returns 0, or -1 with *bad set to the value at fault.
 */
int config_field_read(const struct config_key *k, void *f,
		      const struct toml_value *v, const struct toml_value **bad)
{
	int64_t n;

	*bad = v;
	switch (k->type) {
	case CT_STRING:
		if (check_string(k, v))
			return -1;
		config_field_free(k, f);
		if (v->u.str.len)
			*(char **)f = xstrdup(v->u.str.ptr);
		else	/* "" is unset, as in Go */
			config_field_default(k, f);
		return 0;
	case CT_INT:
	case CT_INT64:
		if (v->type != TOML_INTEGER)
			return -1;
		n = v->u.integer;
		if (has_range(k) && (n < k->min || n > k->max))
			return -1;
		if (k->type == CT_INT && (n < INT_MIN || n > INT_MAX))
			return -1;
		if (k->check && k->check(v))
			return -1;
		if (k->type == CT_INT)
			*(int *)f = (int)n;
		else
			*(int64_t *)f = n;
		return 0;
	case CT_BOOL:
	case CT_TRIBOOL:
		if (v->type != TOML_BOOL)
			return -1;
		if (k->type == CT_BOOL)
			*(bool *)f = v->u.boolean != 0;
		else
			*(enum config_tribool *)f =
				v->u.boolean ? CONFIG_TRUE : CONFIG_FALSE;
		return 0;
	case CT_DURATION:
		/* Like Go's TOML decoder: a string, or an integer of ns. */
		if (v->type == TOML_INTEGER && v->u.integer < 0)
			return -1;
		if (v->type == TOML_INTEGER)
			n = v->u.integer / 1000000;
		else if (!config_is_plain_string(v) ||
			 config_parse_duration(v->u.str.ptr, &n))
			return -1;
		if (n < 0)
			return -1;
		*(int64_t *)f = n;
		return 0;
	case CT_TIME:
		if (v->type == TOML_DATETIME || v->type == TOML_DATETIME_LOCAL)
			return time_parse_rfc3339(v->u.datetime, f) ? -1 : 0;
		if (config_is_plain_string(v))
			return time_parse_rfc3339(v->u.str.ptr, f) ? -1 : 0;
		return -1;
	case CT_STRLIST:
	case CT_STR_OR_LIST: {
		struct strvec sv = STRVEC_INIT;

		if (read_strlist(k, &sv, v, bad)) {
			strvec_clear(&sv);
			return -1;
		}
		strvec_clear(f);
		*(struct strvec *)f = sv;
		return 0;
	}
	case CT_DOUBLE:
		if (v->type == TOML_FLOAT)
			*(double *)f = v->u.fp;
		else if (v->type == TOML_INTEGER)
			*(double *)f = (double)v->u.integer;
		else
			return -1;
		return 0;
	case CT_DOUBLE_LIST:
		return read_doubles(k, f, v, bad);
	case CT_JSON: {
		struct buf b = BUF_INIT;
		size_t i;

		/* With a .check: an array whose elements pass it. */
		if (v->type == TOML_ARRAY && k->check) {
			for (i = 0; i < v->u.array.nr; i++)
				if (k->check(v->u.array.items[i])) {
					*bad = v->u.array.items[i];
					return -1;
				}
		} else if (v->type != TOML_TABLE) {
			return -1;
		}
		config_toml_to_json(v, &b);
		config_field_free(k, f);
		*(char **)f = buf_detach(&b, NULL);
		return 0;
	}
	case CT_LISTMAP: {
		struct config_listmap m = { 0 };

		if (read_listmap(k, &m, v, bad)) {
			config_field_free(k, &m);
			return -1;
		}
		config_field_free(k, f);
		*(struct config_listmap *)f = m;
		return 0;
	}
	case CT_STRMAP:
	case CT_BOOLMAP: {
		union config_field tmp;

		memset(&tmp, 0, sizeof(tmp));
		if (read_map(k, &tmp, v, bad)) {
			config_field_free(k, &tmp);
			return -1;
		}
		config_field_free(k, f);
		memcpy(f, &tmp, k->type == CT_STRMAP ? sizeof(tmp.sm)
						     : sizeof(tmp.ff));
		return 0;
	}
	default:
		return -1;
	}
}

/* Applies "0 (or less) means the default" after reading. */
void config_field_normalize(const struct config_key *k, void *f)
{
	int64_t n;

	if (!(k->flags & (CF_NONPOS_DEFAULT | CF_ZERO_DEFAULT)))
		return;
	n = k->type == CT_INT ? *(int *)f : *(int64_t *)f;
	if (n == 0 || (n < 0 && (k->flags & CF_NONPOS_DEFAULT))) {
		if (k->type == CT_INT)
			*(int *)f = (int)k->def;
		else
			*(int64_t *)f = k->def;
	}
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int config_field_equal(const struct config_key *k, const void *a,
		       const void *b)
{
	size_t i;

	switch (k->type) {
	case CT_STRING:
	case CT_JSON:
		return str_eq(*(char *const *)a, *(char *const *)b);
	case CT_DOUBLE:
		return *(const double *)a == *(const double *)b;
	case CT_INT:
		return *(const int *)a == *(const int *)b;
	case CT_INT64:
	case CT_DURATION:
		return *(const int64_t *)a == *(const int64_t *)b;
	case CT_BOOL:
		return *(const bool *)a == *(const bool *)b;
	case CT_TRIBOOL:
		return *(const enum config_tribool *)a ==
		       *(const enum config_tribool *)b;
	case CT_TIME:
		return *(const time_t *)a == *(const time_t *)b;
	case CT_STRLIST:
	case CT_STR_OR_LIST: {
		const struct strvec *x = a, *y = b;

		if (x->nr != y->nr)
			return 0;
		for (i = 0; i < x->nr; i++)
			if (strcmp(x->v[i], y->v[i]))
				return 0;
		return 1;
	}
	case CT_DOUBLE_LIST: {
		const struct config_doubles *x = a, *y = b;

		if (x->nr != y->nr)
			return 0;
		for (i = 0; i < x->nr; i++)
			if (x->v[i] != y->v[i])
				return 0;
		return 1;
	}
	case CT_STRMAP: {
		const struct config_strmap *x = a, *y = b;

		if (x->nr != y->nr)
			return 0;
		for (i = 0; i < x->nr; i++)
			if (strcmp(x->items[i].key, y->items[i].key) ||
			    strcmp(x->items[i].value, y->items[i].value))
				return 0;
		return 1;
	}
	case CT_LISTMAP: {
		const struct config_listmap *x = a, *y = b;
		size_t j;

		if (x->nr != y->nr)
			return 0;
		for (i = 0; i < x->nr; i++) {
			const struct strvec *xv = &x->items[i].values,
				*yv = &y->items[i].values;

			if (strcmp(x->items[i].key, y->items[i].key) ||
			    xv->nr != yv->nr)
				return 0;
			for (j = 0; j < xv->nr; j++)
				if (strcmp(xv->v[j], yv->v[j]))
					return 0;
		}
		return 1;
	}
	case CT_BOOLMAP: {
		const struct config_flags *x = a, *y = b;

		if (x->nr != y->nr)
			return 0;
		for (i = 0; i < x->nr; i++)
			if (strcmp(x->items[i].name, y->items[i].name) ||
			    x->items[i].value != y->items[i].value)
				return 0;
		return 1;
	}
	default:
		return 0;
	}
}

int config_field_is_default(const struct config_key *k, const void *f)
{
	switch (k->type) {
	case CT_STRING:
		return str_eq(*(char *const *)f, k->def_str);
	case CT_JSON:
		return *(char *const *)f == NULL;
	case CT_DOUBLE:
		return *(const double *)f == 0;
	case CT_INT:
		return *(const int *)f == k->def;
	case CT_INT64:
	case CT_DURATION:
		return *(const int64_t *)f == k->def;
	case CT_BOOL:
		return *(const bool *)f == (k->def != 0);
	case CT_TRIBOOL:
		return *(const enum config_tribool *)f == CONFIG_UNSET;
	case CT_TIME:
		return *(const time_t *)f == 0;
	case CT_STRLIST:
	case CT_STR_OR_LIST:
		return ((const struct strvec *)f)->nr == 0;
	case CT_STRMAP:
		return ((const struct config_strmap *)f)->nr == 0;
	case CT_DOUBLE_LIST:
		return ((const struct config_doubles *)f)->nr == 0;
	case CT_BOOLMAP:
		return ((const struct config_flags *)f)->nr == 0;
	case CT_LISTMAP:
		return ((const struct config_listmap *)f)->nr == 0;
	default:
		return 1;
	}
}

/* The TOML value of a field, or NULL for "no value" (an unset tribool). */
struct toml_value *config_field_to_toml(const struct config_key *k,
					const void *f)
{
	struct toml_value *v;
	size_t i;

	switch (k->type) {
	case CT_STRING: {
		const char *s = *(char *const *)f;

		return toml_new_string(s ? s : "");
	}
	case CT_JSON: {
		const char *json = *(char *const *)f;

		return json ? config_json_to_toml(json) : NULL;
	}
	case CT_DOUBLE:
		return toml_new_float(*(const double *)f);
	case CT_INT:
		return toml_new_integer(*(const int *)f);
	case CT_INT64:
		return toml_new_integer(*(const int64_t *)f);
	case CT_BOOL:
		return toml_new_bool(*(const bool *)f);
	case CT_TRIBOOL: {
		enum config_tribool t = *(const enum config_tribool *)f;

		if (t == CONFIG_UNSET)
			return NULL;
		return toml_new_bool(t == CONFIG_TRUE);
	}
	case CT_DURATION: {
		struct buf b = BUF_INIT;

		config_format_duration(*(const int64_t *)f, &b);
		v = toml_new_string(b.data);
		buf_release(&b);
		return v;
	}
	case CT_TIME: {
		char text[32];

		config_format_time(*(const time_t *)f, text);
		return toml_new_datetime(TOML_DATETIME, text);
	}
	case CT_STRLIST:
	case CT_STR_OR_LIST: {
		const struct strvec *sv = f;

		v = toml_new_array();
		for (i = 0; i < sv->nr; i++)
			toml_array_append(v, toml_new_string(sv->v[i]));
		return v;
	}
	case CT_DOUBLE_LIST: {
		const struct config_doubles *d = f;

		v = toml_new_array();
		for (i = 0; i < d->nr; i++)
			toml_array_append(v, toml_new_float(d->v[i]));
		return v;
	}
	case CT_STRMAP: {
		const struct config_strmap *m = f;

		v = toml_new_table();
		for (i = 0; i < m->nr; i++)
			toml_table_set(v, m->items[i].key,
				       toml_new_string(m->items[i].value));
		return v;
	}
	case CT_LISTMAP: {
		const struct config_listmap *m = f;

		v = toml_new_table();
		for (i = 0; i < m->nr; i++) {
			struct toml_value *a = toml_new_array();
			size_t j;

			for (j = 0; j < m->items[i].values.nr; j++)
				toml_array_append(a, toml_new_string(
					m->items[i].values.v[j]));
			toml_table_set(v, m->items[i].key, a);
		}
		return v;
	}
	case CT_BOOLMAP: {
		const struct config_flags *m = f;

		v = toml_new_table();
		for (i = 0; i < m->nr; i++)
			toml_table_set(v, m->items[i].name,
				       toml_new_bool(m->items[i].value));
		return v;
	}
	default:
		return NULL;
	}
}
