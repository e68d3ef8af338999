/*
 * [runners.autoscaler.plugin_config]: an arbitrary TOML table that
 * gitlab-runner decodes into a Go map and hands to the plugin as
 * json.Marshal writes it.  A plugin unmarshals those bytes into its own
 * struct, so crunner writes the same bytes: keys sorted, integers as
 * integers, floats in Go's shortest form (1.0 is "1"), date-times as
 * RFC 3339 strings, and Go's HTML-safe string escapes.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/banned.h"

/* Go's encodeState.string with HTML escaping on (json.Marshal's). */
static void go_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf_addch(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			buf_addch(out, '\\');
			buf_addch(out, (char)c);
		} else if (c == '\n') {
			buf_addstr(out, "\\n");
		} else if (c == '\r') {
			buf_addstr(out, "\\r");
		} else if (c == '\t') {
			buf_addstr(out, "\\t");
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			buf_addstr(out, "\\u00");
			buf_addch(out, hex[c >> 4]);
			buf_addch(out, hex[c & 15]);
		} else if (c == 0xe2 && i + 2 < len &&
			   (unsigned char)s[i + 1] == 0x80 &&
			   ((unsigned char)s[i + 2] == 0xa8 ||
			    (unsigned char)s[i + 2] == 0xa9)) {
			/* U+2028 and U+2029 */
			buf_addstr(out, (unsigned char)s[i + 2] == 0xa8 ?
				   "\\u2028" : "\\u2029");
			i += 2;
		} else {
			buf_addch(out, (char)c);
		}
	}
	buf_addch(out, '"');
}

/*
 * strconv.FormatFloat(f, 'f' or 'e', -1, 64) as encoding/json picks it:
 * the shortest digits that read back to the same double, plain notation
 * for 1e-6 <= |f| < 1e21, else exponent notation ("1e+21", "1e-7").
 */
static void go_float(struct buf *out, double f)
{
	char text[64], digits[32];
	int prec, exp10, nd = 0, i;
	const char *p;

	if (!isfinite(f)) {		/* json.Marshal refuses these */
		buf_addstr(out, "null");
		return;
	}
	if (f == 0) {
		buf_addstr(out, signbit(f) ? "-0" : "0");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*e", prec - 1, f);
		if (strtod(text, NULL) == f)
			break;
	}
	p = text;
	if (*p == '-') {
		buf_addch(out, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	exp10 = (int)strtol(p + 1, NULL, 10);
	if (fabs(f) < 1e-6 || fabs(f) >= 1e21) {
		buf_addch(out, digits[0]);
		if (nd > 1) {
			buf_addch(out, '.');
			buf_add(out, digits + 1, (size_t)nd - 1);
		}
		buf_addf(out, "e%c%02d", exp10 < 0 ? '-' : '+',
			 exp10 < 0 ? -exp10 : exp10);
		return;
	}
	if (exp10 < 0) {
		buf_addstr(out, "0.");
		for (i = -1; i > exp10; i--)
			buf_addch(out, '0');
		buf_add(out, digits, (size_t)nd);
		return;
	}
	for (i = 0; i <= exp10 || i < nd; i++) {
		if (i == exp10 + 1)
			buf_addch(out, '.');
		buf_addch(out, i < nd ? digits[i] : '0');
	}
}

static int kv_cmp(const void *a, const void *b)
{
	const struct toml_kv *x = *(const struct toml_kv *const *)a;
	const struct toml_kv *y = *(const struct toml_kv *const *)b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

void config_toml_to_json(const struct toml_value *v, struct buf *out)
{
	size_t i;

	switch (v->type) {
	case TOML_STRING:
		go_string(out, v->u.str.ptr, v->u.str.len);
		break;
	case TOML_INTEGER:
		buf_addf(out, "%lld", (long long)v->u.integer);
		break;
	case TOML_FLOAT:
		go_float(out, v->u.fp);
		break;
	case TOML_BOOL:
		buf_addstr(out, v->u.boolean ? "true" : "false");
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		go_string(out, v->u.datetime, strlen(v->u.datetime));
		break;
	case TOML_ARRAY:
		buf_addch(out, '[');
		for (i = 0; i < v->u.array.nr; i++) {
			if (i)
				buf_addch(out, ',');
			config_toml_to_json(v->u.array.items[i], out);
		}
		buf_addch(out, ']');
		break;
	case TOML_TABLE: {
		size_t n = v->u.table.nr;
		const struct toml_kv **kv = calloc(n ? n : 1, sizeof(*kv));

		if (!kv)
			abort();
		for (i = 0; i < n; i++)
			kv[i] = &v->u.table.items[i];
		qsort(kv, n, sizeof(*kv), kv_cmp);
		buf_addch(out, '{');
		for (i = 0; i < n; i++) {
			if (i)
				buf_addch(out, ',');
			go_string(out, kv[i]->key, kv[i]->keylen);
			buf_addch(out, ':');
			config_toml_to_json(kv[i]->value, out);
		}
		buf_addch(out, '}');
		free(kv);
		break;
	}
	}
}

struct toml_value *config_toml_from_json(const json_t *j)
{
	struct toml_value *v;
	const char *key;
	json_t *item;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		v = toml_new_table();
		json_object_foreach((json_t *)j, key, item) {
			struct toml_value *sub = config_toml_from_json(item);

			if (sub)
				toml_table_set(v, key, sub);
		}
		return v;
	case JSON_ARRAY:
		v = toml_new_array();
		json_array_foreach(j, i, item) {
			struct toml_value *sub = config_toml_from_json(item);

			if (sub)
				toml_array_append(v, sub);
		}
		return v;
	case JSON_STRING:
		return toml_new_string(json_string_value(j));
	case JSON_INTEGER:
		return toml_new_integer(json_integer_value(j));
	case JSON_REAL:
		return toml_new_float(json_real_value(j));
	case JSON_TRUE:
		return toml_new_bool(1);
	case JSON_FALSE:
		return toml_new_bool(0);
	case JSON_NULL:
	default:
		return NULL;
	}
}

struct toml_value *config_json_to_toml(const char *json)
{
	json_t *root = json_loads(json, 0, NULL);
	struct toml_value *v;

	if (!root)
		return NULL;
	v = config_toml_from_json(root);
	json_decref(root);
	return v;
}
