/*
 * The functions of an interpolation block, as GitLab's
 * Interpolation::FunctionsStack has them: truncate, expand_vars,
 * posix_escape and split; and Ruby's to_s of a value.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/inputs.h"
#include "local/inputs_int.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void inspect(const struct ynode *v, struct buf *out)
{
	const char *p;
	size_t i;

	switch (inputs_kind(v)) {
	case IV_NIL:
		(void)buf_addstr(out, "nil");
		return;
	case IV_STRING:
		(void)buf_addch(out, '"');
		for (p = v->str; *p; p++) {
			if (*p == '"' || *p == '\\')
				(void)buf_addch(out, '\\');
			(void)buf_addch(out, *p);
		}
		(void)buf_addch(out, '"');
		return;
	case IV_ARRAY:
		(void)buf_addch(out, '[');
		for (i = 0; i < v->nr; i++) {
			(void)buf_addstr(out, i ? ", " : "");
			inspect(v->items[i], out);
		}
		(void)buf_addch(out, ']');
		return;
	case IV_HASH:
		(void)buf_addch(out, '{');
		for (i = 0; i < v->nr; i++) {
			(void)buf_addf(out, "%s\"%s\"=>", i ? ", " : "",
				       v->keys[i]);
			inspect(v->items[i], out);
		}
		(void)buf_addch(out, '}');
		return;
	default:
		(void)buf_addstr(out, v->str);
	}
}

void inputs_to_s(const struct ynode *v, struct buf *out)
{
	enum ival_kind k = inputs_kind(v);

	if (k == IV_NIL)
		return;
	if (k == IV_ARRAY || k == IV_HASH)
		inspect(v, out);
	else
		(void)buf_addstr(out, v->str);
}

static struct ynode *string_node(char *text)
{
	struct ynode *n = ynode_new(YNODE_SCALAR, NULL, 0, 0);

	n->str = text;
	n->quoted = true;
	return n;
}

/* Ruby's str[offset, length] on characters (UTF-8). */
static char *substring(const char *s, unsigned long offset,
		       unsigned long length)
{
	const char *p = s, *start;
	unsigned long n = 0;

	while (*p && n < offset) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
		n++;
	}
	start = p;
	for (n = 0; *p && n < length; n++) {
		p++;
		while ((*p & 0xC0) == 0x80)
			p++;
	}
	return xstrndup(start, (size_t)(p - start));
}

/* "truncate(offset, length)" (the closing parenthesis optional). */
static bool parse_truncate(const char *e, unsigned long *off,
			   unsigned long *len)
{
	char *end;

	if (strncmp(e, "truncate(", 9))
		return false;
	e += 9;
	while (isspace((unsigned char)*e))
		e++;
	if (!isdigit((unsigned char)*e))
		return false;
	*off = strtoul(e, &end, 10);
	for (e = end; isspace((unsigned char)*e); e++)
		;
	if (*e++ != ',')
		return false;
	while (isspace((unsigned char)*e))
		e++;
	if (!isdigit((unsigned char)*e))
		return false;
	*len = strtoul(e, &end, 10);
	for (e = end; isspace((unsigned char)*e); e++)
		;
	if (*e == ')')
		e++;
	return !*e;
}

/* Ruby's Shellwords.shellescape. */
static char *posix_escape(const char *s)
{
	struct buf b = BUF_INIT;

	if (!*s)
		return xstrdup("''");
	for (; *s; s++) {
		if (*s == '\n')
			(void)buf_addstr(&b, "'\n'");
		else if (isalnum((unsigned char)*s) || strchr("_-.,:+/@", *s) ||
			 ((unsigned char)*s & 0xC0) == 0x80)
			(void)buf_addch(&b, *s);	/* a character's tail too */
		else {
			(void)buf_addch(&b, '\\');
			(void)buf_addch(&b, *s);
		}
	}
	return buf_detach(&b, NULL);
}

/* input.split(sep).map(&:strip).reject(&:empty?) */
static struct ynode *split(const char *s, const char *sep)
{
	struct ynode *list = ynode_new(YNODE_SEQ, NULL, 0, 0);
	size_t seplen = strlen(sep);

	for (;;) {
		const char *next = strstr(s, sep);
		size_t len = next ? (size_t)(next - s) : strlen(s);

		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (len)
			ynode_push(list, string_node(xstrndup(s, len)));
		if (!next)
			break;
		s = next + seplen;
	}
	return list;
}

static struct ynode *func_error(const struct ynode *at, const char *file,
				const char *fn, const char *msg,
				struct buf *err)
{
	char where[512];

	ynode_where(at, where, sizeof(where));
	buf_reset(err);
	(void)buf_addf(err, "%s: error in '%s' function: %s",
		       *where ? where : file, fn, msg);
	return NULL;
}

struct ynode *inputs_call(const char *expr, struct ynode *v,
			  const struct inputs_vars *vars,
			  const struct ynode *at, const char *file,
			  struct buf *err)
{
	static const char *const names[] = {
		"truncate", "expand_vars", "posix_escape", "split", NULL,
	};
	unsigned long off = 0, len = 0;
	size_t seplen = 0, i;
	const char *fn = NULL;
	struct ynode *out = NULL;
	bool is_split = !strncmp(expr, "split('", 7) &&
		(seplen = strlen(expr)) >= 9 &&
		!strcmp(expr + seplen - 2, "')") &&
		!memchr(expr + 7, '\'', seplen - 9);

	if (parse_truncate(expr, &off, &len))
		fn = "truncate";
	else if (!strcmp(expr, "expand_vars") || !strcmp(expr, "posix_escape"))
		fn = expr;
	else if (is_split)
		fn = "split";
	if (!fn) {
		char where[512];

		ynode_where(at, where, sizeof(where));
		buf_reset(err);
		(void)buf_addf(err, "%s: no function matching '%s': check that the function name, arguments, and types are correct (",
			       *where ? where : file, expr);
		for (i = 0; names[i]; i++)
			(void)buf_addf(err, "%s%s", i ? ", " : "", names[i]);
		(void)buf_addch(err, ')');
		ynode_free(v);
		return NULL;
	}
	if (inputs_kind(v) != IV_STRING) {
		char msg[128];

		snprintf(msg, sizeof(msg),
			 "invalid input type: %s can only be used with string inputs",
			 fn);
		ynode_free(v);
		return func_error(at, file, fn, msg, err);
	}
	if (!strcmp(fn, "truncate")) {
		out = string_node(substring(v->str, off, len));
	} else if (!strcmp(fn, "expand_vars")) {
		out = string_node(vars && vars->expand ?
				  vars->expand(vars->ctx, v->str) :
				  xstrdup(v->str));
	} else if (!strcmp(fn, "posix_escape")) {
		out = string_node(posix_escape(v->str));
	} else {
		char *sep = xstrndup(expr + 7, seplen - 9);

		if (!*sep)
			func_error(at, file, fn,
				   "invalid argument: separator cannot be empty",
				   err);
		else
			out = split(v->str, sep);
		free(sep);
	}
	ynode_free(v);
	return out;
}
