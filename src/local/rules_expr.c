/*
 * rules:if expressions: a cursor parser that evaluates as it goes (the
 * grammar is in rules.h).  With ctx == NULL it only checks the syntax.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/rules.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define EXPR_MAX_DEPTH 64

enum val_kind { VAL_NULL, VAL_STR, VAL_PATTERN, VAL_BOOL };

struct val {
	enum val_kind kind;
	char *s;		/* owned; the regex for VAL_PATTERN */
	char flags[8];		/* VAL_PATTERN */
	bool b;
};

struct parser {
	const char *start, *p;
	const struct rules_ctx *ctx;
	struct buf *err;
	int depth;
};

static void val_release(struct val *v)
{
	free(v->s);
	v->s = NULL;
}

static int fail(struct parser *ps, const char *what)
{
	if (!ps->err->len)
		buf_seterr(ps->err, "invalid expression '%s': %s at offset %d",
			   ps->start, what, (int)(ps->p - ps->start));
	return CR_ERR_INVALID;
}

static void skip_ws(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

static bool truthy(const struct val *v)
{
	switch (v->kind) {
	case VAL_NULL:
		return false;
	case VAL_STR:
		return v->s && *v->s;
	case VAL_PATTERN:
		return true;
	case VAL_BOOL:
		return v->b;
	}
	return false;
}

/* "/regex/flags" at *p into v; advances p. */
static int scan_pattern(const char *text, const char **end, struct val *v)
{
	const char *p = text + 1;
	struct buf re = BUF_INIT;
	size_t nf = 0;

	for (; *p && *p != '/'; p++) {
		if (*p == '\\' && p[1] == '/') {
			(void)buf_addch(&re, '/');
			p++;
			continue;
		}
		if (*p == '\\' && p[1])
			(void)buf_addch(&re, *p++);
		(void)buf_addch(&re, *p);
	}
	if (*p != '/') {
		buf_release(&re);
		return -1;
	}
	p++;
	while (isalpha((unsigned char)*p)) {
		if (!strchr("imsx", *p) || nf + 1 >= sizeof(v->flags)) {
			buf_release(&re);
			return -2;
		}
		v->flags[nf++] = *p++;
	}
	v->flags[nf] = 0;
	v->kind = VAL_PATTERN;
	v->s = buf_detach(&re, NULL);
	*end = p;
	return 0;
}

static int parse_or(struct parser *ps, struct val *out);

static int parse_operand(struct parser *ps, struct val *v)
{
	const char *p;

	memset(v, 0, sizeof(*v));
	skip_ws(ps);
	p = ps->p;
	if (*p == '(') {
		int r;

		if (++ps->depth > EXPR_MAX_DEPTH)
			return fail(ps, "nested too deeply");
		ps->p++;
		if ((r = parse_or(ps, v)))
			return r;
		skip_ws(ps);
		if (*ps->p != ')') {
			val_release(v);
			return fail(ps, "missing ')'");
		}
		ps->p++;
		ps->depth--;
		return 0;
	}
	if (*p == '$') {
		const char *name = p + 1, *end;
		bool brace = *name == '{';
		char *key;
		const char *value;

		if (brace)
			name++;
		for (end = name; isalnum((unsigned char)*end) || *end == '_';
		     end++)
			;
		if (end == name || (brace && *end != '}'))
			return fail(ps, "bad variable name");
		key = xstrndup(name, (size_t)(end - name));
		ps->p = end + (brace ? 1 : 0);
		value = ps->ctx ? ps->ctx->lookup(ps->ctx->lookup_ctx, key) : "";
		free(key);
		if (value) {
			v->kind = VAL_STR;
			v->s = xstrdup(value);
		}
		return 0;
	}
	if (*p == '"' || *p == '\'') {
		const char *end = strchr(p + 1, *p);

		if (!end)
			return fail(ps, "unterminated string");
		v->kind = VAL_STR;
		v->s = xstrndup(p + 1, (size_t)(end - p - 1));
		ps->p = end + 1;
		return 0;
	}
	if (*p == '/') {
		int r = scan_pattern(p, &ps->p, v);

		if (r == -1)
			return fail(ps, "unterminated regular expression");
		if (r == -2)
			return fail(ps, "unknown regular expression flag");
		return 0;
	}
	if (!strncmp(p, "null", 4) && !isalnum((unsigned char)p[4]) &&
	    p[4] != '_') {
		ps->p += 4;
		return 0;
	}
	return fail(ps, *p ? "unexpected input" : "operand missing");
}

static int regex_match(struct parser *ps, const struct val *pat,
		       const char *subject, bool *out)
{
	uint32_t opts = 0;
	pcre2_code *re;
	pcre2_match_data *md;
	int errcode, rc;
	PCRE2_SIZE erroff;
	const char *f;

	for (f = pat->flags; *f; f++)
		opts |= *f == 'i' ? PCRE2_CASELESS : *f == 'm' ? PCRE2_MULTILINE :
			*f == 's' ? PCRE2_DOTALL : PCRE2_EXTENDED;
	re = pcre2_compile((PCRE2_SPTR)pat->s, PCRE2_ZERO_TERMINATED, opts,
			   &errcode, &erroff, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(errcode, msg, sizeof(msg));
		if (!ps->err->len)
			buf_seterr(ps->err, "invalid expression '%s': bad regular expression /%s/: %s",
				   ps->start, pat->s, (const char *)msg);
		return CR_ERR_INVALID;
	}
	*out = false;
	if (subject) {
		md = pcre2_match_data_create_from_pattern(re, NULL);
		rc = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0,
				 md, NULL);
		*out = rc >= 0;
		pcre2_match_data_free(md);
	}
	pcre2_code_free(re);
	return 0;
}

static int compare(struct parser *ps, const char *op, struct val *l,
		   struct val *r, struct val *out)
{
	bool res = false;
	int rc;

	memset(out, 0, sizeof(*out));
	out->kind = VAL_BOOL;
	if (op[1] == '=') {
		bool lnull = l->kind == VAL_NULL, rnull = r->kind == VAL_NULL;

		if (lnull || rnull)
			res = lnull && rnull;
		else if (l->kind == VAL_BOOL || r->kind == VAL_BOOL)
			res = truthy(l) == truthy(r);
		else
			res = !strcmp(l->s, r->s);
		out->b = op[0] == '=' ? res : !res;
		return 0;
	}
	/*
	 * =~ and !~, as GitLab's Matches: the right side is a /pattern/, or a
	 * string (literal or variable) holding one; any other string is
	 * searched for the left side as a substring (Ruby's String#scan).  An
	 * unset left side is the empty string; an unset right side matches
	 * nothing.
	 */
	if (r->kind == VAL_STR && r->s[0] == '/') {
		struct val pat = { 0 };
		const char *end;

		if (scan_pattern(r->s, &end, &pat) == 0 && !*end) {
			val_release(r);
			*r = pat;
		} else {
			val_release(&pat);
		}
	}
	if (r->kind == VAL_NULL) {
		out->b = op[0] == '!';
		return 0;
	}
	if (r->kind == VAL_STR) {
		res = strstr(r->s, l->kind == VAL_STR ? l->s : "") != NULL;
		out->b = op[0] == '=' ? res : !res;
		return 0;
	}
	if (r->kind != VAL_PATTERN)
		return fail(ps, "the right side of =~ and !~ must be a /pattern/ or a string");
	if ((rc = regex_match(ps, r, l->kind == VAL_STR ? l->s : "", &res)))
		return rc;
	out->b = op[0] == '=' ? res : !res;
	return 0;
}

static int parse_compare(struct parser *ps, struct val *out)
{
	static const char *const ops[] = { "==", "!=", "=~", "!~" };
	struct val l, r;
	size_t i;
	int rc;

	if ((rc = parse_operand(ps, &l)))
		return rc;
	skip_ws(ps);
	for (i = 0; i < 4; i++)
		if (!strncmp(ps->p, ops[i], 2))
			break;
	if (i == 4) {
		*out = l;
		return 0;
	}
	ps->p += 2;
	if ((rc = parse_operand(ps, &r))) {
		val_release(&l);
		return rc;
	}
	rc = compare(ps, ops[i], &l, &r, out);
	val_release(&l);
	val_release(&r);
	return rc;
}

static int parse_and(struct parser *ps, struct val *out)
{
	struct val rhs;
	bool acc;
	int rc;

	if ((rc = parse_compare(ps, out)))
		return rc;
	for (;;) {
		skip_ws(ps);
		if (strncmp(ps->p, "&&", 2))
			return 0;
		ps->p += 2;
		if ((rc = parse_compare(ps, &rhs))) {
			val_release(out);
			return rc;
		}
		acc = truthy(out) && truthy(&rhs);
		val_release(out);
		val_release(&rhs);
		out->kind = VAL_BOOL;
		out->b = acc;
	}
}

static int parse_or(struct parser *ps, struct val *out)
{
	struct val rhs;
	bool acc;
	int rc;

	if ((rc = parse_and(ps, out)))
		return rc;
	for (;;) {
		skip_ws(ps);
		if (strncmp(ps->p, "||", 2))
			return 0;
		ps->p += 2;
		if ((rc = parse_and(ps, &rhs))) {
			val_release(out);
			return rc;
		}
		acc = truthy(out) || truthy(&rhs);
		val_release(out);
		val_release(&rhs);
		out->kind = VAL_BOOL;
		out->b = acc;
	}
}

static int run(const char *expr, const struct rules_ctx *ctx, bool *out,
	       struct buf *err)
{
	struct parser ps = { expr, expr, ctx, err, 0 };
	struct val v = { 0 };
	int rc;

	buf_reset(err);
	rc = parse_or(&ps, &v);
	if (!rc) {
		skip_ws(&ps);
		if (*ps.p)
			rc = fail(&ps, "unexpected input");
	}
	if (!rc && out)
		*out = truthy(&v);
	val_release(&v);
	return rc;
}

int rules_expr_eval(const char *expr, const struct rules_ctx *ctx, bool *out,
		    struct buf *err)
{
	return run(expr, ctx, out, err);
}

int rules_expr_check(const char *expr, struct buf *err)
{
	return run(expr, NULL, NULL, err);
}
