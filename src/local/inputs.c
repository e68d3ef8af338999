/*
 * spec:inputs: the header checked, the arguments checked against it, and
 * the content interpolated (GitLab's Interpolation::Inputs, Template and
 * Block; the functions are in local/inputs_func.c).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local/inputs.h"
#include "local/inputs_int.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define INPUTS_MAX_BLOCKS 10000
#define INPUTS_MAX_FUNCTIONS 3
#define INPUTS_MAX_OPTIONS 50
#define INPUTS_MAX_ACCESS 1024

struct input {
	const char *name;		/* borrowed from the header */
	const struct ynode *value;	/* argument or default; NULL: nil */
};

struct inputs {
	struct input *v;
	size_t nr;
	const struct inputs_vars *vars;
	const char *file;
	size_t blocks;
};

enum ival_kind inputs_kind(const struct ynode *n)
{
	static const char *const bools[] = {
		"true", "false", "yes", "no", "on", "off", NULL,
	};
	const char *s;
	size_t i;

	if (!n || n->kind == YNODE_NULL)
		return IV_NIL;
	if (n->kind == YNODE_SEQ)
		return IV_ARRAY;
	if (n->kind == YNODE_MAP)
		return IV_HASH;
	if (n->quoted)
		return IV_STRING;
	s = n->str;
	for (i = 0; bools[i]; i++)
		if (!strcasecmp(s, bools[i]))
			return IV_BOOL;
	/* Psych's numbers: [-+]digits[.digits][e[-+]digits] */
	if (*s == '-' || *s == '+')
		s++;
	if (!isdigit((unsigned char)*s) &&
	    !(*s == '.' && isdigit((unsigned char)s[1])))
		return IV_STRING;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if ((*s == 'e' || *s == 'E') &&
	    (isdigit((unsigned char)s[1]) ||
	     ((s[1] == '-' || s[1] == '+') && isdigit((unsigned char)s[2])))) {
		for (s += 2; isdigit((unsigned char)*s); s++)
			;
	}
	return *s ? IV_STRING : IV_NUMBER;
}

static void where_of(const struct ynode *n, const char *file, char *out,
		     size_t size)
{
	ynode_where(n, out, size);
	if (!*out)
		snprintf(out, size, "%s", file);
}

/* "where: message" in err (replacing what it held); CR_ERR_INVALID. */
static int fail(struct buf *err, const struct ynode *n, const char *file,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct buf *err, const struct ynode *n, const char *file,
		const char *fmt, ...)
{
	char where[512];
	va_list ap;

	where_of(n, file, where, sizeof(where));
	buf_reset(err);
	(void)buf_addf(err, "%s: ", where);
	va_start(ap, fmt);
	(void)buf_vaddf(err, fmt, ap);
	va_end(ap);
	return CR_ERR_INVALID;
}

static bool same_value(const struct ynode *a, const struct ynode *b)
{
	return inputs_kind(a) == inputs_kind(b) && ynode_text(a) &&
		ynode_text(b) && !strcmp(ynode_text(a), ynode_text(b));
}

static int regex_matches(const char *pattern, const char *subject,
			 bool *match)
{
	pcre2_code *re;
	pcre2_match_data *md;
	PCRE2_SIZE off;
	int code, rc;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			   PCRE2_UTF, &code, &off, NULL);
	if (!re)
		return -1;
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md,
			 NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	*match = rc >= 0;
	return 0;
}

/* GitLab's BaseInput#run_validations for one value (default or given). */
static int check_value(const struct ynode *spec, const char *type,
		       const char *name, const struct ynode *value,
		       bool is_default, const char *file, struct buf *err)
{
	const struct ynode *options = ynode_get(spec, "options");
	const struct ynode *regex = ynode_get(spec, "regex");
	const char *which = is_default ? "default" : "provided";
	enum ival_kind k = inputs_kind(value);
	const struct ynode *at = value ? value : spec;
	size_t i;

	if (!strcmp(type, "string") ? k != IV_STRING :
	    !strcmp(type, "number") ? k != IV_NUMBER :
	    !strcmp(type, "boolean") ? k != IV_BOOL : k != IV_ARRAY) {
		return fail(err, at, file, "input %s: %s value is not a%s %s",
			    name, which, !strcmp(type, "array") ? "n" : "",
			    type);
	}
	if (options && value) {
		bool found = false;

		if (strcmp(type, "string") && strcmp(type, "number"))
			return fail(err, options, file,
				    "input %s: options can only be used with string and number inputs",
				    name);
		for (i = 0; i < options->nr && !found; i++)
			found = same_value(options->items[i], value);
		if (!found)
			return fail(err, at, file,
				    "input %s: '%s' cannot be used because it is not in the list of allowed options",
				    name, ynode_text(value) ? ynode_text(value) : "");
	}
	if (regex) {
		bool match = false;

		if (strcmp(type, "string"))
			return fail(err, regex, file,
				    "input %s: regex validation can only be used with string inputs",
				    name);
		if (regex_matches(ynode_text(regex), ynode_text(value), &match))
			return fail(err, regex, file,
				    "input %s: invalid regular expression '%s'",
				    name, ynode_text(regex));
		if (!match)
			return fail(err, at, file,
				    "input %s: %s value does not match the required regex pattern",
				    name, which);
	}
	return 0;
}

/* One input of the header: its spec checked, then its value. */
static int check_input(struct inputs *in, const char *name,
		       const struct ynode *spec, const struct ynode *args,
		       struct buf *err)
{
	static const char *const keys[] = {
		"default", "description", "options", "regex", "type", NULL,
	};
	const struct ynode *type_n = ynode_get(spec, "type");
	const struct ynode *opts = ynode_get(spec, "options");
	const struct ynode *regex = ynode_get(spec, "regex");
	const struct ynode *def = ynode_get(spec, "default");
	const struct ynode *given = args ? ynode_get(args, name) : NULL;
	const char *type = type_n ? ynode_text(type_n) : "string";
	struct input *slot = &in->v[in->nr++];
	struct buf label = BUF_INIT;
	size_t i, k;
	int r;

	slot->name = name;
	if (spec->kind != YNODE_MAP && spec->kind != YNODE_NULL)
		return fail(err, spec, in->file,
			    "spec:inputs: input '%s' should be a mapping", name);
	for (i = 0; spec->kind == YNODE_MAP && i < spec->nr; i++) {
		for (k = 0; keys[k] && strcmp(keys[k], spec->keys[i]); k++)
			;
		if (!keys[k])
			return fail(err, spec->items[i], in->file,
				    "spec:inputs: input '%s': unknown keyword '%s' (default, description, options, regex, type)",
				    name, spec->keys[i]);
	}
	if (!type || (strcmp(type, "string") && strcmp(type, "number") &&
		      strcmp(type, "boolean") && strcmp(type, "array")))
		return fail(err, type_n, in->file,
			    "spec:inputs: input '%s': unknown type '%s' (array, boolean, number, string)",
			    name, type ? type : "");
	if (opts && (opts->kind != YNODE_SEQ || opts->nr > INPUTS_MAX_OPTIONS))
		return fail(err, opts, in->file,
			    "spec:inputs: input '%s': 'options' should be a list of at most 50 values",
			    name);
	if (regex && (regex->kind != YNODE_SCALAR))
		return fail(err, regex, in->file,
			    "spec:inputs: input '%s': 'regex' should be a string",
			    name);
	if (given && given->kind == YNODE_NULL)
		given = NULL;	/* nil: as if not given */
	if (!def && !given) {
		char where[512];

		where_of(args ? args : spec, in->file, where, sizeof(where));
		buf_reset(err);
		(void)buf_addf(err, "%s: input '%s' of '%s' is required: it has no default and no value was given",
			       where, name, in->file);
		return CR_ERR_INVALID;
	}
	(void)buf_addf(&label, "'%s' of '%s'", name, in->file);
	r = def ? check_value(spec, type, label.data, def, true, in->file,
			      err) : 0;
	if (!r && given)
		r = check_value(spec, type, label.data, given, false, in->file,
				err);
	buf_release(&label);
	if (r)
		return r;
	slot->value = given ? given : def;
	return 0;
}

static int read_header(struct inputs *in, const struct ynode *header,
		       const struct ynode *args, struct buf *err)
{
	const struct ynode *spec = ynode_get(header, "spec");
	const struct ynode *decl;
	struct buf unknown = BUF_INIT;
	size_t i;
	int r;

	if (header->kind != YNODE_MAP || !spec || spec->kind != YNODE_MAP)
		return fail(err, header, in->file,
			    "the header document should be a mapping with 'spec'");
	for (i = 0; i < header->nr; i++)
		if (strcmp(header->keys[i], "spec"))
			return fail(err, header->items[i], in->file,
				    "header: unknown keyword '%s'",
				    header->keys[i]);
	for (i = 0; i < spec->nr; i++)
		if (strcmp(spec->keys[i], "inputs") &&
		    strcmp(spec->keys[i], "component"))
			return fail(err, spec->items[i], in->file,
				    "spec: unknown keyword '%s' (inputs)",
				    spec->keys[i]);
	decl = ynode_get(spec, "inputs");
	if (decl && decl->kind != YNODE_MAP && decl->kind != YNODE_NULL)
		return fail(err, decl, in->file,
			    "spec:inputs should be a mapping");
	if (args && args->kind != YNODE_MAP)
		return fail(err, args, in->file,
			    "include: inputs should be a mapping");
	for (i = 0; args && i < args->nr; i++)
		if (!decl || ynode_index(decl, args->keys[i]) < 0)
			(void)buf_addf(&unknown, "%s%s", unknown.len ? ", " : "",
				       args->keys[i]);
	if (unknown.len) {
		r = fail(err, args, in->file,
			 "unknown input arguments for '%s': %s", in->file,
			 unknown.data);
		buf_release(&unknown);
		return r;
	}
	if (!decl || decl->kind != YNODE_MAP)
		return 0;
	in->v = xcalloc(decl->nr + 1, sizeof(*in->v));
	for (i = 0; i < decl->nr; i++)
		if ((r = check_input(in, decl->keys[i], decl->items[i], args,
				     err)))
			return r;
	return 0;
}

/*
 * The next block of text at or after from: GitLab's
 * /\$\[\[\s*(\S.*?\S)\s*\]\]/ (one line, data of two characters or
 * more).  0 when there is none.
 */
static int find_block(const char *text, size_t from, size_t *start,
		      size_t *end, size_t *data, size_t *data_len)
{
	const char *p = text + from, *open;

	while ((open = strstr(p, "$[["))) {
		const char *s = open + 3, *e;

		while (*s && *s != '\n' && isspace((unsigned char)*s))
			s++;
		for (e = s + 1; *s && *s != '\n' && *e && *e != '\n'; e++) {
			const char *q = e + 1;

			if (isspace((unsigned char)*e))
				continue;
			while (*q && *q != '\n' && isspace((unsigned char)*q))
				q++;
			if (q[0] == ']' && q[1] == ']') {
				*start = (size_t)(open - text);
				*end = (size_t)(q + 2 - text);
				*data = (size_t)(s - text);
				*data_len = (size_t)(e + 1 - s);
				return 1;
			}
		}
		p = open + 3;
	}
	return 0;
}

/* "inputs.name" to the input's value (a copy); NULL and err on failure. */
static struct ynode *access_value(struct inputs *in, const char *access,
				  const struct ynode *at, struct buf *err)
{
	const char *dot = strchr(access, '.');
	size_t i;

	if (!dot || !dot[1]) {
		fail(err, at, in->file, "invalid interpolation access pattern '%s'",
		     access);
		return NULL;
	}
	if (strlen(access) > INPUTS_MAX_ACCESS) {
		fail(err, at, in->file, "maximum interpolation expression size exceeded");
		return NULL;
	}
	if ((size_t)(dot - access) != 6 || strncmp(access, "inputs", 6)) {
		char *key = xstrndup(access, (size_t)(dot - access));

		fail(err, at, in->file, "unknown interpolation key '%s'", key);
		free(key);
		return NULL;
	}
	for (i = 0; i < in->nr; i++)
		if (!strcmp(in->v[i].name, dot + 1))
			return in->v[i].value ? ynode_copy(in->v[i].value) :
				ynode_new(YNODE_NULL, NULL, 0, 0);
	fail(err, at, in->file, "unknown interpolation key '%s'",
	     strchr(dot + 1, '.') ? strchr(dot + 1, '.') + 1 : dot + 1);
	return NULL;
}

static char *strip(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return xstrndup(s, len);
}

/*
 * One block's value (data: "access | f1 | f2"), a new node; *skip when
 * it is a matrix expression, left for needs:parallel:matrix.
 */
static struct ynode *block_value(struct inputs *in, const char *data,
				 size_t len, const struct ynode *at,
				 bool *skip, struct buf *err)
{
	struct ynode *v = NULL;
	const char *p = data, *end = data + len, *bar;
	char *part;
	int nfunc = 0;

	*skip = false;
	bar = memchr(p, '|', (size_t)(end - p));
	part = strip(p, (size_t)((bar ? bar : end) - p));
	if (!strncmp(part, "matrix.", 7) || !strcmp(part, "matrix")) {
		*skip = true;
		free(part);
		return NULL;
	}
	if (++in->blocks > INPUTS_MAX_BLOCKS) {
		fail(err, at, in->file, "too many interpolation blocks");
		free(part);
		return NULL;
	}
	for (p = bar; p && p < end; p = memchr(p + 1, '|', (size_t)(end - p - 1)))
		nfunc++;
	if (nfunc > INPUTS_MAX_FUNCTIONS) {
		fail(err, at, in->file, "too many functions in interpolation block");
		free(part);
		return NULL;
	}
	v = access_value(in, part, at, err);
	free(part);
	while (v && bar) {
		p = bar + 1;
		bar = memchr(p, '|', (size_t)(end - p));
		part = strip(p, (size_t)((bar ? bar : end) - p));
		v = inputs_call(part, v, in->vars, at, in->file, err);
		free(part);
	}
	return v;
}

/*
 * n's text with its blocks replaced: *whole gets the value when the text
 * is exactly one block (typed), else *text the new string.
 */
static int interpolate_text(struct inputs *in, const struct ynode *n,
			    const char *text, struct ynode **whole,
			    char **out, struct buf *err)
{
	struct buf b = BUF_INIT;
	size_t from = 0, start, end, data, dlen;
	bool skip;

	*whole = NULL;
	*out = NULL;
	while (find_block(text, from, &start, &end, &data, &dlen)) {
		struct ynode *v = block_value(in, text + data, dlen, n, &skip,
					      err);

		if (!v && !skip) {
			buf_release(&b);
			return CR_ERR_INVALID;
		}
		if (v && start == 0 && !text[end] && from == 0) {
			*whole = v;
			buf_release(&b);
			return 0;
		}
		(void)buf_add(&b, text + from, start - from);
		if (skip)
			(void)buf_add(&b, text + start, end - start);
		else
			inputs_to_s(v, &b);
		ynode_free(v);
		from = end;
	}
	if (!from)
		return 0;
	(void)buf_addstr(&b, text + from);
	*out = buf_detach(&b, NULL);
	return 0;
}

static int walk(struct inputs *in, struct ynode **slot, bool *spliced,
		struct buf *err);

static int walk_children(struct inputs *in, struct ynode *n,
			 struct buf *err)
{
	size_t i, k;
	int r;

	for (i = 0; i < n->nr; i++) {
		bool splice = false;

		if (n->kind == YNODE_MAP && strstr(n->keys[i], "$[[")) {
			struct ynode *whole;
			char *text;
			struct buf b = BUF_INIT;

			if ((r = interpolate_text(in, n->items[i], n->keys[i],
						  &whole, &text, err)))
				return r;
			if (whole) {
				inputs_to_s(whole, &b);
				ynode_free(whole);
				text = buf_detach(&b, NULL);
			}
			if (text) {
				free(n->keys[i]);
				n->keys[i] = text;
			}
		}
		if ((r = walk(in, &n->items[i], &splice, err)))
			return r;
		if (n->kind == YNODE_SEQ && splice) {
			struct ynode *list = n->items[i];
			size_t add = list->nr;

			size_t after = n->nr - i - 1;

			/* list's items take its place in n */
			for (k = 0; k + 1 < add; k++)
				ynode_push(n, NULL);
			memmove(n->items + i + add,
				n->items + i + 1, after * sizeof(*n->items));
			for (k = 0; k < add; k++)
				n->items[i + k] = list->items[k];
			list->nr = 0;
			ynode_free(list);
			if (!add)
				n->nr--;
			i = i + add - 1;	/* wraps for add 0: i++ fixes it */
		}
	}
	return 0;
}

static int walk(struct inputs *in, struct ynode **slot, bool *spliced,
		struct buf *err)
{
	struct ynode *n = *slot, *whole;
	char *text;
	int r;

	*spliced = false;
	if (n->kind == YNODE_SEQ || n->kind == YNODE_MAP)
		return walk_children(in, n, err);
	if (n->kind != YNODE_SCALAR || !strstr(n->str, "$[["))
		return 0;
	if ((r = interpolate_text(in, n, n->str, &whole, &text, err)))
		return r;
	if (text) {
		free(n->str);
		n->str = text;
		n->quoted = true;
		return 0;
	}
	if (!whole)
		return 0;
	whole->file = n->file;
	whole->line = n->line;
	whole->col = n->col;
	whole->kline = n->kline;
	whole->kcol = n->kcol;
	*spliced = whole->kind == YNODE_SEQ;
	ynode_free(n);
	*slot = whole;
	return 0;
}

int inputs_apply(const struct ynode *header, const struct ynode *args,
		 struct ynode *content, const struct inputs_vars *vars,
		 const char *file, struct buf *err)
{
	struct inputs in = { NULL, 0, vars, file, 0 };
	bool spliced;
	int r;

	if (!header) {
		if (args && args->kind == YNODE_MAP && args->nr)
			return fail(err, args, file,
				    "inputs given to '%s', which has no spec:inputs header",
				    file);
		return 0;
	}
	if (!(r = read_header(&in, header, args, err)))
		r = walk(&in, &content, &spliced, err);
	free(in.v);
	return r;
}
