/*
 * TOML trees back to text.  Plain values of a table come first, then its
 * sub-tables as [a.b] sections and its arrays of tables as [[a.b]], so
 * that every key lands in the table it came from.  Tables inside arrays
 * that cannot be written as [[x]] become inline tables.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "config/toml_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

/* Output with a sticky error: once an add fails, the rest are skipped. */
struct writer {
	struct buf *out;
	size_t start;		/* out->len before we began */
	int r;
};

static void w_add(struct writer *w, const char *s, size_t len)
{
	if (!w->r)
		w->r = buf_add(w->out, s, len);
}

static void w_addstr(struct writer *w, const char *s)
{
	w_add(w, s, strlen(s));
}

static void w_fail(struct writer *w, int r)
{
	if (!w->r)
		w->r = r;
}

static int is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static void write_string(struct writer *w, const char *s, size_t len)
{
	size_t i, bad;
	char esc[8];

	if (toml_utf8_check(s, len, &bad) != 0) {
		w_fail(w, CR_ERR_INVALID);
		return;
	}
	w_add(w, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;

		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\t': e = "\\t"; break;
		case '\n': e = "\\n"; break;
		case '\f': e = "\\f"; break;
		case '\r': e = "\\r"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04X", c);
				e = esc;
			}
		}
		if (e)
			w_addstr(w, e);
		else
			w_add(w, (const char *)&s[i], 1);
	}
	w_add(w, "\"", 1);
}

static void write_key(struct writer *w, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_bare((unsigned char)key[i]))
			break;
	if (len && i == len)
		w_add(w, key, len);
	else
		write_string(w, key, len);
}

static void write_float(struct writer *w, double d)
{
	char text[40];
	int prec;

	if (isnan(d)) {
		w_addstr(w, "nan");
		return;
	}
	if (isinf(d)) {
		w_addstr(w, d < 0 ? "-inf" : "inf");
		return;
	}
	/* The shortest of %.15g..%.17g that reads back as the same double. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(text, sizeof(text), "%.*g", prec, d);
		if (strtod(text, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(text, sizeof(text), "%.17g", d);
	w_addstr(w, text);
	if (!strpbrk(text, ".e"))
		w_addstr(w, ".0");
}

/* Date/time text must be what the parser would produce for its type. */
static void write_datetime(struct writer *w, const struct toml_value *v)
{
	struct buf norm = BUF_INIT;
	const char *p = v->u.datetime, *why;
	enum toml_type type;

	if (!p || !toml_lex_is_datetime(p) ||
	    toml_lex_datetime(&p, &type, &norm, &why) != 0 || *p ||
	    type != v->type)
		w_fail(w, CR_ERR_INVALID);
	else
		w_add(w, norm.data, norm.len);
	buf_release(&norm);
}

static void write_inline(struct writer *w, const struct toml_value *v);

static void write_inline_table(struct writer *w, const struct toml_value *t)
{
	size_t i;

	if (!t->u.table.nr) {
		w_addstr(w, "{}");
		return;
	}
	w_addstr(w, "{ ");
	for (i = 0; i < t->u.table.nr; i++) {
		const struct toml_kv *kv = &t->u.table.items[i];

		if (i)
			w_addstr(w, ", ");
		write_key(w, kv->key, kv->keylen);
		w_addstr(w, " = ");
		write_inline(w, kv->value);
	}
	w_addstr(w, " }");
}

/* Any value in the form that fits after "key = " or inside [...]. */
static void write_inline(struct writer *w, const struct toml_value *v)
{
	char num[32];
	size_t i;

	switch (v->type) {
	case TOML_STRING:
		write_string(w, v->u.str.ptr, v->u.str.len);
		break;
	case TOML_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)v->u.integer);
		w_addstr(w, num);
		break;
	case TOML_FLOAT:
		write_float(w, v->u.fp);
		break;
	case TOML_BOOL:
		w_addstr(w, v->u.boolean ? "true" : "false");
		break;
	case TOML_DATETIME:
	case TOML_DATETIME_LOCAL:
	case TOML_DATE_LOCAL:
	case TOML_TIME_LOCAL:
		write_datetime(w, v);
		break;
	case TOML_ARRAY:
		w_addstr(w, "[");
		for (i = 0; i < v->u.array.nr; i++) {
			if (i)
				w_addstr(w, ", ");
			write_inline(w, v->u.array.items[i]);
		}
		w_addstr(w, "]");
		break;
	case TOML_TABLE:
		write_inline_table(w, v);
		break;
	default:
		w_fail(w, CR_ERR_INVALID);
	}
}

/* A non-empty array holding only tables: written as [[key]] sections. */
static int is_table_array(const struct toml_value *v)
{
	size_t i;

	if (v->type != TOML_ARRAY || !v->u.array.nr)
		return 0;
	for (i = 0; i < v->u.array.nr; i++)
		if (v->u.array.items[i]->type != TOML_TABLE)
			return 0;
	return 1;
}

static int is_plain(const struct toml_value *v)
{
	return v->type != TOML_TABLE && !is_table_array(v);
}

enum header_kind {
	HEADER_NONE,		/* the root table */
	HEADER_TABLE,		/* [path] */
	HEADER_ARRAY,		/* [[path]] */
};

static void write_header(struct writer *w, const struct buf *path,
			 enum header_kind kind)
{
	if (w->out->len > w->start)
		w_addstr(w, "\n");
	w_addstr(w, kind == HEADER_ARRAY ? "[[" : "[");
	w_add(w, path->data, path->len);
	w_addstr(w, kind == HEADER_ARRAY ? "]]\n" : "]\n");
}

/* Appends ".key" (or "key" at the root) to path as written in a header. */
static void path_push(struct writer *w, struct buf *path, const char *key,
		      size_t len)
{
	struct writer pw = { path, path->len, 0 };

	if (path->len)
		w_add(&pw, ".", 1);
	write_key(&pw, key, len);
	w_fail(w, pw.r);
}

static void write_section(struct writer *w, struct buf *path,
			  const struct toml_value *t, enum header_kind kind)
{
	size_t i, j, plain = 0, mark;

	for (i = 0; i < t->u.table.nr; i++)
		plain += is_plain(t->u.table.items[i].value);
	/*
	 * A table holding only sub-tables needs no header of its own: its
	 * sub-tables' headers create it.  An empty one does.
	 */
	if (kind == HEADER_ARRAY ||
	    (kind == HEADER_TABLE && (plain || !t->u.table.nr)))
		write_header(w, path, kind);
	for (i = 0; i < t->u.table.nr && !w->r; i++) {
		const struct toml_kv *kv = &t->u.table.items[i];

		if (!is_plain(kv->value))
			continue;
		write_key(w, kv->key, kv->keylen);
		w_addstr(w, " = ");
		write_inline(w, kv->value);
		w_addstr(w, "\n");
	}
	for (i = 0; i < t->u.table.nr && !w->r; i++) {
		const struct toml_kv *kv = &t->u.table.items[i];

		if (kv->value->type != TOML_TABLE)
			continue;
		mark = path->len;
		path_push(w, path, kv->key, kv->keylen);
		write_section(w, path, kv->value, HEADER_TABLE);
		buf_setlen(path, mark);
	}
	for (i = 0; i < t->u.table.nr && !w->r; i++) {
		const struct toml_kv *kv = &t->u.table.items[i];

		if (!is_table_array(kv->value))
			continue;
		mark = path->len;
		path_push(w, path, kv->key, kv->keylen);
		for (j = 0; j < kv->value->u.array.nr && !w->r; j++)
			write_section(w, path, kv->value->u.array.items[j],
				      HEADER_ARRAY);
		buf_setlen(path, mark);
	}
}

int toml_write(const struct toml_value *root, struct buf *out)
{
	struct writer w = { out, out->len, 0 };
	struct buf path = BUF_INIT;

	if (!root || root->type != TOML_TABLE)
		return CR_ERR_INVALID;
	write_section(&w, &path, root, HEADER_NONE);
	buf_release(&path);
	if (w.r)
		buf_setlen(out, w.start);
	return w.r;
}
