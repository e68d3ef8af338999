/*
 * toml-test conformance driver.
 *
 *   toml_test_driver <tests-dir> <files-list>
 *
 * For each valid/x.toml in the list: parse it, turn the tree into
 * toml-test's tagged JSON and compare that with valid/x.json; then write
 * the tree with toml_write(), parse the output again and check that it
 * gives the same tree.  For each invalid/x.toml: parsing must fail with a
 * message that carries a ":line:col:" position.  One line per failure,
 * then one summary line; exit status 0 only when every case passes.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

struct counts {
	int passed, failed, valid, invalid, round_trips;
};

static const char *tag_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING: return "string";
	case TOML_INTEGER: return "integer";
	case TOML_FLOAT: return "float";
	case TOML_BOOL: return "bool";
	case TOML_DATETIME: return "datetime";
	case TOML_DATETIME_LOCAL: return "datetime-local";
	case TOML_DATE_LOCAL: return "date-local";
	case TOML_TIME_LOCAL: return "time-local";
	default: return "?";
	}
}

static json_t *tagged(enum toml_type type, json_t *value)
{
	return json_pack("{s:s, s:o}", "type", tag_name(type), "value", value);
}

/*
 * jansson cannot hold a NUL in an object key, and one toml-test case has
 * such a key.  Keys are compared with each NUL replaced by U+FDD0 (a
 * noncharacter no case uses), on both sides.
 */
#define NUL_MASK "\xef\xb7\x90"

static void mask_nul(struct buf *out, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (key[i])
			buf_addch(out, key[i]);
		else
			buf_addstr(out, NUL_MASK);
	}
}

/* In JSON text, rewrites \u0000 inside object keys as \uFDD0. */
static void mask_json_keys(char *text, size_t len)
{
	size_t i = 0, start, k;

	while (i < len) {
		if (text[i++] != '"')
			continue;
		for (start = i; i < len && text[i] != '"'; i++)
			if (text[i] == '\\')
				i++;
		k = i + 1;
		while (k < len && isspace((unsigned char)text[k]))
			k++;
		if (k < len && text[k] == ':') {
			for (k = start; k + 6 <= i; k++) {
				if (text[k] == '\\' && !memcmp(text + k, "\\u0000", 6))
					memcpy(text + k, "\\uFDD0", 6);
				else if (text[k] == '\\')
					k++;
			}
		}
		i++;
	}
}

static json_t *load_json(const char *path, json_error_t *jerr)
{
	struct buf text = BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[4096];
	size_t n;
	json_t *j;

	if (!f) {
		snprintf(jerr->text, sizeof(jerr->text), "%s", strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&text, chunk, n);
	fclose(f);
	mask_json_keys(text.data, text.len);
	j = json_loadb(text.data, text.len, JSON_ALLOW_NUL, jerr);
	buf_release(&text);
	return j;
}

/* A TOML tree in toml-test's JSON form. */
static json_t *to_json(const struct toml_value *v)
{
	char num[64];
	json_t *j;
	size_t i;

	switch (v->type) {
	case TOML_TABLE:
		j = json_object();
		for (i = 0; i < v->u.table.nr; i++) {
			const struct toml_kv *kv = &v->u.table.items[i];

			struct buf key = BUF_INIT;

			mask_nul(&key, kv->key, kv->keylen);
			json_object_setn_new_nocheck(j, key.data, key.len,
						     to_json(kv->value));
			buf_release(&key);
		}
		return j;
	case TOML_ARRAY:
		j = json_array();
		for (i = 0; i < v->u.array.nr; i++)
			json_array_append_new(j, to_json(v->u.array.items[i]));
		return j;
	case TOML_STRING:
		return tagged(v->type, json_stringn_nocheck(v->u.str.ptr,
							    v->u.str.len));
	case TOML_INTEGER:
		snprintf(num, sizeof(num), "%lld", (long long)v->u.integer);
		return tagged(v->type, json_string(num));
	case TOML_FLOAT:
		if (isnan(v->u.fp))
			snprintf(num, sizeof(num), "nan");
		else if (isinf(v->u.fp))
			snprintf(num, sizeof(num), "%sinf",
				 v->u.fp < 0 ? "-" : "");
		else
			snprintf(num, sizeof(num), "%.17g", v->u.fp);
		return tagged(v->type, json_string(num));
	case TOML_BOOL:
		return tagged(v->type,
			      json_string(v->u.boolean ? "true" : "false"));
	default:
		return tagged(v->type, json_string(v->u.datetime));
	}
}

static double parse_float(const char *s)
{
	const char *t = s + (*s == '+' || *s == '-');

	if (!strcmp(t, "nan"))
		return NAN;
	if (!strcmp(t, "inf"))
		return *s == '-' ? -INFINITY : INFINITY;
	return strtod(s, NULL);
}

/*
 * Date/times in one spelling: 'T' and 'Z' upper case, a space separator
 * as 'T', no trailing zeros in the fraction, and +00:00 as Z.
 */
static void norm_datetime(struct buf *out, const char *s)
{
	const char *frac = NULL;
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (i == 10 && (c == ' ' || c == 't'))
			c = 'T';
		if (c == 'z')
			c = 'Z';
		if (c == '.') {
			frac = s + i + 1;
			while (isdigit((unsigned char)s[i + 1]))
				i++;
			/* Keep the fraction without its trailing zeros. */
			n = (size_t)(s + i + 1 - frac);
			while (n && frac[n - 1] == '0')
				n--;
			if (n) {
				buf_addch(out, '.');
				buf_add(out, frac, n);
			}
			n = strlen(s);
			continue;
		}
		if ((c == '+' || c == '-') && i > 10 &&
		    !strcmp(s + i + 1, "00:00")) {
			buf_addch(out, 'Z');
			break;
		}
		buf_addch(out, c);
	}
}

static int is_tagged(const json_t *j)
{
	return json_is_object(j) && json_object_size(j) == 2 &&
	       json_is_string(json_object_get(j, "type")) &&
	       json_is_string(json_object_get(j, "value"));
}

static void describe(struct buf *why, const char *path, const json_t *want,
		     const json_t *got)
{
	char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT |
				   JSON_SORT_KEYS);
	char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT |
				  JSON_SORT_KEYS);

	buf_addf(why, "at '%s': expected %.300s, got %.300s", path,
		 w ? w : "?", g ? g : "?");
	free(w);
	free(g);
}

static int same_scalar(const json_t *want, const json_t *got)
{
	const char *type = json_string_value(json_object_get(want, "type"));
	const json_t *wv = json_object_get(want, "value");
	const json_t *gv = json_object_get(got, "value");
	const char *ws = json_string_value(wv), *gs = json_string_value(gv);
	struct buf a = BUF_INIT, b = BUF_INIT;
	int same;

	if (strcmp(type, json_string_value(json_object_get(got, "type"))))
		return 0;
	if (!strcmp(type, "integer")) {
		same = strtoll(ws, NULL, 10) == strtoll(gs, NULL, 10);
	} else if (!strcmp(type, "float")) {
		double x = parse_float(ws), y = parse_float(gs);

		same = (isnan(x) && isnan(y)) ||
		       (x == y && signbit(x) == signbit(y));
	} else if (!strcmp(type, "string") || !strcmp(type, "bool")) {
		same = json_string_length(wv) == json_string_length(gv) &&
		       !memcmp(ws, gs, json_string_length(wv));
	} else {
		norm_datetime(&a, ws);
		norm_datetime(&b, gs);
		same = !strcmp(a.data, b.data);
	}
	buf_release(&a);
	buf_release(&b);
	return same;
}

/* Compares toml-test JSON; on a difference appends where and what to why. */
static int same_json(const json_t *want, const json_t *got, struct buf *path,
		     struct buf *why)
{
	size_t mark = path->len, i, klen;
	const char *key;
	json_t *wv;

	if (is_tagged(want) || is_tagged(got)) {
		if (!is_tagged(want) || !is_tagged(got) ||
		    !same_scalar(want, got))
			goto differ;
		return 1;
	}
	if (json_is_array(want) && json_is_array(got)) {
		if (json_array_size(want) != json_array_size(got))
			goto differ;
		for (i = 0; i < json_array_size(want); i++) {
			buf_addf(path, "[%zu]", i);
			if (!same_json(json_array_get(want, i),
				       json_array_get(got, i), path, why))
				return 0;
			buf_setlen(path, mark);
		}
		return 1;
	}
	if (!json_is_object(want) || !json_is_object(got) ||
	    json_object_size(want) != json_object_size(got))
		goto differ;
	json_object_keylen_foreach((json_t *)want, key, klen, wv) {
		const json_t *gv = json_object_getn(got, key, klen);

		if (path->len)
			buf_addch(path, '.');
		buf_add(path, key, klen);
		if (!gv) {
			buf_addf(why, "at '%s': key missing", path->data);
			return 0;
		}
		if (!same_json(wv, gv, path, why))
			return 0;
		buf_setlen(path, mark);
	}
	return 1;
differ:
	describe(why, path->data, want, got);
	return 0;
}

static int has_position(const char *msg)
{
	const char *p;

	/* ":<digits>:<digits>: " somewhere in the message */
	for (p = strchr(msg, ':'); p; p = strchr(p + 1, ':')) {
		const char *q = p + 1;

		if (!isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (*q++ != ':' || !isdigit((unsigned char)*q))
			continue;
		while (isdigit((unsigned char)*q))
			q++;
		if (q[0] == ':' && q[1] == ' ')
			return 1;
	}
	return 0;
}

static void run_invalid(const char *dir, const char *name, struct counts *c)
{
	struct buf path = BUF_INIT, err = BUF_INIT;
	struct toml_value *root = NULL;

	buf_addf(&path, "%s/%s", dir, name);
	if (toml_parse_file(path.data, &root, &err) == 0) {
		printf("FAIL %s: expected an error, but the document was accepted\n",
		       name);
		c->failed++;
	} else if (!has_position(err.data)) {
		printf("FAIL %s: error has no :line:col: position: %s\n", name,
		       err.data);
		c->failed++;
	} else {
		c->passed++;
		c->invalid++;
	}
	toml_value_free(root);
	buf_release(&path);
	buf_release(&err);
}

/* Writes root, parses the text again and compares; 1 when equal. */
static int round_trip(const struct toml_value *root, const json_t *got,
		      struct buf *why)
{
	struct buf text = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
	struct toml_value *again = NULL;
	json_t *j = NULL;
	int ok = 0, r;

	if ((r = toml_write(root, &text)) != 0) {
		buf_addf(why, "toml_write failed: %s", cr_strerror(r));
		goto out;
	}
	if (toml_parse(text.data, text.len, "written", &again, &err) != 0) {
		buf_addf(why, "output does not parse: %s", err.data);
		goto out;
	}
	j = to_json(again);
	ok = same_json(got, j, &path, why);
out:
	if (!ok)
		buf_addf(why, "\n--- written text ---\n%.2000s--- end ---",
			 text.data);
	json_decref(j);
	toml_value_free(again);
	buf_release(&text);
	buf_release(&err);
	buf_release(&path);
	return ok;
}

static void run_valid(const char *dir, const char *name, struct counts *c)
{
	struct buf path = BUF_INIT, err = BUF_INIT, why = BUF_INIT;
	struct buf jpath = BUF_INIT, where = BUF_INIT;
	struct toml_value *root = NULL;
	json_t *want = NULL, *got = NULL;
	json_error_t jerr;

	buf_addf(&path, "%s/%s", dir, name);
	buf_add(&jpath, path.data, path.len - 5);
	buf_addstr(&jpath, ".json");
	if (!(want = load_json(jpath.data, &jerr))) {
		printf("FAIL %s: cannot load '%s': %s\n", name, jpath.data,
		       jerr.text);
		c->failed++;
		goto out;
	}
	if (toml_parse_file(path.data, &root, &err) != 0) {
		printf("FAIL %s: rejected a valid document: %s\n", name,
		       err.data);
		c->failed++;
		goto out;
	}
	got = to_json(root);
	if (!same_json(want, got, &where, &why)) {
		printf("FAIL %s: %s\n", name, why.data);
		c->failed++;
		goto out;
	}
	c->valid++;
	if (!round_trip(root, got, &why)) {
		printf("FAIL %s: round trip: %s\n", name, why.data);
		c->failed++;
		goto out;
	}
	c->round_trips++;
	c->passed++;
out:
	json_decref(want);
	json_decref(got);
	toml_value_free(root);
	buf_release(&path);
	buf_release(&jpath);
	buf_release(&where);
	buf_release(&err);
	buf_release(&why);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int main(int argc, char **argv)
{
	struct counts c = { 0, 0, 0, 0, 0 };
	char line[4096];
	FILE *list;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <tests-dir> <files-list>\n", argv[0]);
		return 2;
	}
	if (!(list = fopen(argv[2], "r"))) {
		perror(argv[2]);
		return 2;
	}
	while (fgets(line, sizeof(line), list)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!ends_with(line, ".toml"))
			continue;
		if (!strncmp(line, "valid/", 6))
			run_valid(argv[1], line, &c);
		else if (!strncmp(line, "invalid/", 8))
			run_invalid(argv[1], line, &c);
	}
	fclose(list);
	printf("toml-test 1.0.0: %d passed, %d failed (%d valid, %d invalid, %d round-trips)\n",
	       c.passed, c.failed, c.valid, c.invalid, c.round_trips);
	return c.failed || !c.passed ? 1 : 0;
}
