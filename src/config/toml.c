/*
 * The TOML 1.0 document parser: lines, comments, keys, table headers,
 * arrays and inline tables.  Tokens (strings, numbers, dates) live in
 * toml_lex.c and toml_datetime.c; the rules about which tables may be
 * defined or extended when live in toml_table.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "config/toml_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/xalloc.h"
#include "util/banned.h"

void toml_parser_pos(struct toml_parser *ps, const char *at, int *line,
		     int *col)
{
	const char *q;

	/*
	 * Positions are asked for mostly in document order, so resume from
	 * the last one: the whole parse stays linear.  Columns count
	 * characters, not bytes.
	 */
	if (!ps->pos_ptr || at < ps->pos_ptr) {
		ps->pos_ptr = ps->text;
		ps->pos_line = 1;
		ps->pos_col = 1;
	}
	for (q = ps->pos_ptr; q < at; q++) {
		if (*q == '\n') {
			ps->pos_line++;
			ps->pos_col = 1;
		} else if (((unsigned char)*q & 0xc0) != 0x80) {
			ps->pos_col++;
		}
	}
	ps->pos_ptr = at;
	*line = ps->pos_line;
	*col = ps->pos_col;
}

int toml_parser_err(struct toml_parser *ps, const char *at, const char *fmt,
		    ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	int line, col;

	toml_parser_pos(ps, at, &line, &col);
	va_start(ap, fmt);
	(void)buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	buf_seterr(ps->err, "%s:%d:%d: %s", ps->name, line, col, msg.data);
	buf_release(&msg);
	return CR_ERR_INVALID;
}

/* A short description of the character at at ("'x'", "end of line"). */
static void describe_char(struct buf *b, const char *at)
{
	unsigned char c = (unsigned char)*at;
	size_t n = 1;

	if (c == '\0')
		buf_addstr(b, "end of file");
	else if (c == '\n' || (c == '\r' && at[1] == '\n'))
		buf_addstr(b, "end of line");
	else if (c < 0x20 || c == 0x7f)
		buf_addf(b, "control character U+%04X", c);
	else {
		if (c >= 0xf0)
			n = 4;
		else if (c >= 0xe0)
			n = 3;
		else if (c >= 0xc0)
			n = 2;
		buf_addch(b, '\'');
		buf_add(b, at, n);
		buf_addch(b, '\'');
	}
}

/* Records "<what>, found <char at at>" at at. */
static int err_found(struct toml_parser *ps, const char *at, const char *what)
{
	struct buf found = BUF_INIT;
	int r;

	describe_char(&found, at);
	r = toml_parser_err(ps, at, "%s, found %s", what, found.data);
	buf_release(&found);
	return r;
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static int skip_comment(struct toml_parser *ps, const char **p)
{
	const char *s = *p + 1;

	for (; *s && *s != '\n'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r' && s[1] == '\n')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return toml_parser_err(ps, s,
				"control character U+%04X is not allowed in comments",
				c);
	}
	*p = s;
	return 0;
}

static int skip_newline(const char **p)
{
	if (**p == '\n') {
		(*p)++;
		return 1;
	}
	if (**p == '\r' && (*p)[1] == '\n') {
		*p += 2;
		return 1;
	}
	return 0;
}

/* Whitespace, then an optional comment, then a newline or the end. */
static int expect_eol(struct toml_parser *ps, const char **p, const char *after)
{
	struct buf what = BUF_INIT;
	int r = 0;

	skip_ws(p);
	if (**p == '#' && (r = skip_comment(ps, p)) != 0)
		return r;
	if (**p == '\r' && (*p)[1] != '\n')
		return toml_parser_err(ps, *p,
			"carriage return not followed by a newline");
	if (**p && !skip_newline(p)) {
		buf_addf(&what, "expected end of line after %s", after);
		r = err_found(ps, *p, what.data);
		buf_release(&what);
	}
	return r;
}

/* Whitespace, comments and newlines, as allowed inside arrays. */
static int skip_ws_nl(struct toml_parser *ps, const char **p)
{
	int r;

	for (;;) {
		skip_ws(p);
		if (**p == '#' && (r = skip_comment(ps, p)) != 0)
			return r;
		if (!skip_newline(p))
			return 0;
	}
}

/* A simple or dotted key; leaves *p after the last segment. */
static int parse_key(struct toml_parser *ps, const char **p,
		     struct key_path *kp)
{
	const char *s = *p;
	struct buf seg = BUF_INIT;
	int r;

	for (;;) {
		const char *at = s;

		if (*s == '"' || *s == '\'') {
			if ((r = toml_lex_string(ps, &s, 0, &seg)) != 0)
				goto out;
		} else if (toml_is_bare((unsigned char)*s)) {
			while (toml_is_bare((unsigned char)*s))
				s++;
			buf_add(&seg, at, (size_t)(s - at));
		} else {
			r = err_found(ps, s, "expected a key");
			goto out;
		}
		if (kp->nr >= CR_MAX_TOML_DEPTH) {
			r = toml_parser_err(ps, at, "key has more than %d parts",
					    CR_MAX_TOML_DEPTH);
			goto out;
		}
		if (kp->nr == kp->alloc) {
			kp->alloc = kp->alloc ? kp->alloc * 2 : 4;
			kp->segs = xreallocarray(kp->segs, kp->alloc,
						 sizeof(*kp->segs));
		}
		kp->segs[kp->nr].at = at;
		kp->segs[kp->nr].s = buf_detach(&seg, &kp->segs[kp->nr].len);
		kp->nr++;
		skip_ws(&s);
		if (*s != '.')
			break;
		s++;
		skip_ws(&s);
	}
	r = 0;
out:
	buf_release(&seg);
	*p = s;
	return r;
}

static int parse_value(struct toml_parser *ps, const char **p, int depth,
		       struct toml_value **out);

/*
 * key = value into table t.  The leading segments of a dotted key walk
 * (and create) tables under t; dotted keys may not reach into tables that
 * a [header] defined or that are inline.
 */
static int parse_keyval(struct toml_parser *ps, const char **p,
			struct toml_value *t)
{
	struct key_path kp = KEY_PATH_INIT;
	struct toml_value *v = NULL;
	const struct key_seg *last;
	const char *s = *p;
	int r;

	if ((r = parse_key(ps, &s, &kp)) != 0)
		goto out;
	if (*s != '=') {
		struct buf key = BUF_INIT;

		toml_describe_key(&key, &kp, kp.nr - 1);
		r = toml_parser_err(ps, s, "expected '=' after key '%s'",
				    key.data);
		buf_release(&key);
		goto out;
	}
	s++;
	skip_ws(&s);
	if ((r = toml_resolve_dotted(ps, t, &kp, &t)) != 0)
		goto out;
	last = &kp.segs[kp.nr - 1];
	if ((r = parse_value(ps, &s, TOML_DEPTH(t) + 1, &v)) != 0)
		goto out;
	toml_index_add(&ps->index, t, last->s, last->len, v);
	v = NULL;
	r = 0;
out:
	toml_value_free(v);
	toml_key_path_release(&kp);
	*p = s;
	return r;
}

static int parse_array(struct toml_parser *ps, const char **p,
		       struct toml_value *arr)
{
	struct toml_value *v;
	const char *s = *p + 1;
	int r;

	for (;;) {
		if ((r = skip_ws_nl(ps, &s)) != 0)
			goto out;
		if (*s == ']')
			break;
		if ((r = parse_value(ps, &s, TOML_DEPTH(arr) + 1, &v)) != 0)
			goto out;
		toml_array_append(arr, v);
		if ((r = skip_ws_nl(ps, &s)) != 0)
			goto out;
		if (*s == ']')
			break;
		if (*s != ',') {
			r = err_found(ps, s, "expected ',' or ']' in array");
			goto out;
		}
		s++;
	}
	s++;
	r = 0;
out:
	*p = s;
	return r;
}

/* { k = v, ... } on one line; no trailing comma in TOML 1.0. */
static int parse_inline_table(struct toml_parser *ps, const char **p,
			      struct toml_value *t)
{
	const char *s = *p + 1;
	int r;

	skip_ws(&s);
	if (*s != '}') {
		for (;;) {
			if ((r = parse_keyval(ps, &s, t)) != 0)
				goto out;
			skip_ws(&s);
			if (*s == '}')
				break;
			if (*s != ',') {
				r = err_found(ps, s,
					      "expected ',' or '}' in inline table");
				goto out;
			}
			s++;
			skip_ws(&s);
			if (*s == '}') {
				r = toml_parser_err(ps, s,
					"trailing comma not allowed in inline table");
				goto out;
			}
		}
	}
	s++;
	toml_set_kind(t, TOML_F_INLINE);
	r = 0;
out:
	*p = s;
	return r;
}

static int parse_scalar(struct toml_parser *ps, const char **p,
			struct toml_value *v)
{
	struct buf text = BUF_INIT;
	const char *s = *p, *why = NULL;
	enum toml_type type;
	int r;

	if (!strncmp(s, "true", 4) || !strncmp(s, "false", 5)) {
		v->type = TOML_BOOL;
		v->u.boolean = *s == 't';
		*p = s + (*s == 't' ? 4 : 5);
		return 0;
	}
	if (toml_lex_is_datetime(s)) {
		r = toml_lex_datetime(&s, &type, &text, &why);
		if (r == 0) {
			v->type = type;
			v->u.datetime = buf_detach(&text, NULL);
		}
	} else if ((*s >= '0' && *s <= '9') || *s == '+' || *s == '-' ||
		   !strncmp(s, "inf", 3) || !strncmp(s, "nan", 3)) {
		r = toml_lex_number(&s, v, &why);
	} else {
		r = err_found(ps, s, "expected a value");
		goto out;
	}
	if (r != 0)
		r = toml_parser_err(ps, s, "%s", why);
out:
	buf_release(&text);
	*p = s;
	return r;
}

static int parse_value(struct toml_parser *ps, const char **p, int depth,
		       struct toml_value **out)
{
	struct toml_value *v = NULL;
	struct buf str = BUF_INIT;
	const char *at = *p;
	int r;

	if ((r = toml_check_depth(ps, at, depth)) != 0)
		goto out;
	v = toml_new_table();	/* a placeholder until the type is known */
	TOML_SET_DEPTH(v, depth);
	toml_parser_pos(ps, at, &v->line, &v->col);
	switch (*at) {
	case '"':
	case '\'':
		if ((r = toml_lex_string(ps, p, 1, &str)) != 0)
			goto out;
		v->type = TOML_STRING;
		v->u.str.ptr = buf_detach(&str, &v->u.str.len);
		break;
	case '[':
		v->type = TOML_ARRAY;
		toml_set_kind(v, TOML_F_INLINE);
		r = parse_array(ps, p, v);
		break;
	case '{':
		r = parse_inline_table(ps, p, v);
		break;
	default:
		v->type = TOML_INTEGER;
		r = parse_scalar(ps, p, v);
		break;
	}
	if (r != 0)
		goto out;
	*out = v;
	v = NULL;
out:
	toml_value_free(v);
	buf_release(&str);
	return r;
}

static int parse_header(struct toml_parser *ps, const char **p,
			struct toml_value *root, struct toml_value **cur)
{
	struct key_path kp = KEY_PATH_INIT;
	const char *s = *p, *at = *p;
	int aot = s[1] == '[', r;

	s += aot ? 2 : 1;
	skip_ws(&s);
	if ((r = parse_key(ps, &s, &kp)) != 0)
		goto out;
	if (*s != ']' || (aot && s[1] != ']')) {
		r = err_found(ps, s, aot ? "expected ']]' after table name" :
					   "expected ']' after table name");
		goto out;
	}
	s += aot ? 2 : 1;
	r = toml_resolve_header(ps, root, &kp, at, aot, cur);
out:
	toml_key_path_release(&kp);
	*p = s;
	return r;
}

static int parse_document(struct toml_parser *ps, struct toml_value *root)
{
	struct toml_value *cur = root;
	const char *s = ps->text;
	int r;

	if (!strncmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	while (*s) {
		skip_ws(&s);
		if (*s == '[') {
			if ((r = parse_header(ps, &s, root, &cur)) != 0 ||
			    (r = expect_eol(ps, &s, "table header")) != 0)
				return r;
		} else if (*s == '#' || *s == '\n' || *s == '\r' || !*s) {
			if ((r = expect_eol(ps, &s, "whitespace")) != 0)
				return r;
		} else {
			if ((r = parse_keyval(ps, &s, cur)) != 0 ||
			    (r = expect_eol(ps, &s, "value")) != 0)
				return r;
		}
	}
	return 0;
}

/* Rejects invalid UTF-8 and NUL bytes anywhere in the document. */
static int check_encoding(struct toml_parser *ps)
{
	size_t len = (size_t)(ps->end - ps->text), bad = len;
	const char *nul = memchr(ps->text, '\0', len);

	if (toml_utf8_check(ps->text, len, &bad) != 0 &&
	    (!nul || ps->text + bad < nul))
		return toml_parser_err(ps, ps->text + bad,
				       "invalid UTF-8 byte sequence");
	if (nul)
		return toml_parser_err(ps, nul, "NUL byte is not allowed");
	return 0;
}

int toml_parse(const char *text, size_t len, const char *name,
	       struct toml_value **out, struct buf *err)
{
	struct toml_parser ps;
	struct toml_value *root = NULL;
	char *copy = NULL;
	int r = CR_ERR_INTERNAL;

	*out = NULL;
	memset(&ps, 0, sizeof(ps));
	if (!name)
		name = "<toml>";
	if (len > CR_MAX_TOML_FILE) {
		buf_seterr(err, "%s: document is larger than %zu bytes", name,
			   CR_MAX_TOML_FILE);
		r = CR_ERR_TOO_LARGE;
		goto out;
	}
	copy = xmalloc(len + 1);
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	ps.text = copy;
	ps.end = copy + len;
	ps.name = name;
	ps.err = err;
	if ((r = check_encoding(&ps)) != 0)
		goto out;
	root = toml_new_table();
	root->flags = TOML_F_DEFINED;
	root->line = root->col = 1;
	if ((r = parse_document(&ps, root)) != 0)
		goto out;
	*out = root;
	root = NULL;
	r = 0;
out:
	toml_value_free(root);
	toml_index_release(&ps.index);
	free(copy);
	return r;
}
