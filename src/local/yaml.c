/*
 * .gitlab-ci.yml with libfyaml, and `include: local`.
 */
#include <errno.h>
#include <ftw.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "local/inputs.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/path_glob.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/utf8.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define YAML_MAX_FILE ((size_t)8 << 20)
#define YAML_MAX_DEPTH 100

void yfiles_release(struct yfiles *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		free(f->names[i]);
	free(f->names);
	f->names = NULL;
	f->nr = f->alloc = 0;
}

static const char *yfiles_add(struct yfiles *f, const char *name)
{
	if (f->nr == f->alloc) {
		f->alloc = f->alloc ? f->alloc * 2 : 4;
		f->names = xreallocarray(f->names, f->alloc, sizeof(*f->names));
	}
	f->names[f->nr] = xstrdup(name);
	return f->names[f->nr++];
}

static void node_pos(struct fy_node *fyn, int *line, int *col)
{
	struct fy_token *t = NULL;
	const struct fy_mark *m;

	*line = *col = 0;
	if (fy_node_is_scalar(fyn))
		t = fy_node_get_scalar_token(fyn);
	if (!t)
		t = fy_node_get_tag_token(fyn);
	if (!t && fy_node_is_mapping(fyn)) {
		void *it = NULL;
		struct fy_node_pair *p = fy_node_mapping_iterate(fyn, &it);

		if (p && fy_node_pair_key(p) &&
		    fy_node_is_scalar(fy_node_pair_key(p)))
			t = fy_node_get_scalar_token(fy_node_pair_key(p));
	}
	if (!t && fy_node_is_sequence(fyn)) {
		void *it = NULL;
		struct fy_node *first = fy_node_sequence_iterate(fyn, &it);

		if (first) {
			node_pos(first, line, col);
			return;
		}
	}
	if (!t || !(m = fy_token_start_mark(t)))
		return;
	*line = m->line + 1;
	*col = m->column + 1;
}

/* Every node made counts here: aliases may not blow a file up. */
#define YAML_MAX_NODES 500000

struct convert_state {
	const char *file;
	size_t nodes;
	struct buf *err;
	const char *text;	/* the parsed input, for scalar_text() */
	size_t len;
};

/* One line of a single-quoted scalar, '' unescaped, appended at out+o. */
static size_t sq_line(const char *s, size_t n, char *out, size_t o)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[o++] = s[i];
		if (s[i] == '\'' && i + 1 < n && s[i + 1] == '\'')
			i++;
	}
	return o;
}

/*
 * The value of a single-quoted scalar from its content (between the
 * quotes), as YAML (Psych, PyYAML) reads it: '' is a quote; the white
 * space around a line break goes, one break is a space, a break followed
 * by n empty lines is n newlines.  out has room for rl + 1 bytes.
 */
static size_t sq_value(const char *raw, size_t rl, char *out)
{
	size_t i = 0, o = 0, breaks = 0;
	bool first = true;

	for (;;) {
		size_t e = i, b = i, a;
		bool last;

		while (e < rl && raw[e] != '\n' && raw[e] != '\r')
			e++;
		last = e >= rl;
		a = e;
		if (!first)
			while (b < a && (raw[b] == ' ' || raw[b] == '\t'))
				b++;
		if (!last)
			while (a > b && (raw[a - 1] == ' ' || raw[a - 1] == '\t'))
				a--;
		if (first) {
			o = sq_line(raw + b, a - b, out, o);
		} else if (b < a || last) {
			if (breaks == 1)
				out[o++] = ' ';
			for (; breaks > 1; breaks--)
				out[o++] = '\n';
			breaks = 0;
			o = sq_line(raw + b, a - b, out, o);
		}
		if (last)
			break;
		i = e + (raw[e] == '\r' && e + 1 < rl && raw[e + 1] == '\n' ?
			 2 : 1);
		breaks++;
		first = false;
	}
	out[o] = 0;
	return o;
}

/*
 * The text of scalar fyn.  A single-quoted scalar with a '' escape is
 * read from the input here (sq_value): libfyaml 0.7.12 gets consecutive
 * escapes wrong ('x''''y' gives x''' where Psych gives x''y), folds lines
 * of escapes wrong, and leaks the buffer it builds for many of them (fuzz
 * findings).  *owned: what to free.
 */
static const char *scalar_text(struct fy_node *fyn,
			       const struct convert_state *cs, size_t *len,
			       char **owned)
{
	struct fy_token *t;
	const struct fy_mark *sm, *em;
	const char *raw;
	size_t rl;

	*owned = NULL;
	/* The token's marks are its content's, inside the quotes. */
	if (fy_node_get_style(fyn) != FYNS_SINGLE_QUOTED || !cs->text ||
	    !(t = fy_node_get_scalar_token(fyn)) ||
	    !(sm = fy_token_start_mark(t)) || !(em = fy_token_end_mark(t)) ||
	    em->input_pos >= cs->len || !sm->input_pos ||
	    sm->input_pos > em->input_pos)
		return fy_node_get_scalar(fyn, len);
	raw = cs->text + sm->input_pos;
	rl = em->input_pos - sm->input_pos;
	if (raw[-1] != '\'' || raw[rl] != '\'' || !memchr(raw, '\'', rl))
		return fy_node_get_scalar(fyn, len);
	*owned = xmalloc(rl + 1);
	*len = sq_value(raw, rl, *owned);
	return *owned;
}

static struct ynode *convert(struct fy_node *fyn, struct convert_state *cs,
			     int depth);

/*
 * A `<<` merge key, as Ruby's Psych (GitLab's YAML parser) does it: the
 * keys of the merged mapping (or of each mapping of a list, the first
 * one winning) are set on n in place, over what n already holds; keys
 * that come after the `<<` override them in turn.  Anything else under
 * `<<` is a plain key.
 */
static void merge_key(struct ynode *n, struct ynode *v)
{
	size_t i, k;

	if (v->kind == YNODE_MAP) {
		for (i = 0; i < v->nr; i++) {
			ynode_set(n, v->keys[i], v->items[i]);
			v->items[i] = NULL;
		}
		ynode_free(v);
		return;
	}
	if (v->kind == YNODE_SEQ) {
		for (i = 0; i < v->nr; i++)
			if (v->items[i]->kind != YNODE_MAP)
				break;
		if (i == v->nr) {
			struct ynode *acc = ynode_new(YNODE_MAP, v->file,
						      v->line, v->col);

			for (i = v->nr; i-- > 0;)
				for (k = 0; k < v->items[i]->nr; k++)
					ynode_set(acc, v->items[i]->keys[k],
						  ynode_copy(v->items[i]->items[k]));
			ynode_free(v);
			merge_key(n, acc);
			return;
		}
	}
	ynode_set(n, "<<", v);
}

static struct ynode *convert_mapping(struct fy_node *fyn,
				     struct convert_state *cs, int depth,
				     int line, int col)
{
	struct ynode *n = ynode_new(YNODE_MAP, cs->file, line, col);
	struct fy_node_pair *p;
	void *it = NULL;

	while ((p = fy_node_mapping_iterate(fyn, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		size_t len = 0;
		char *owned = NULL;
		const char *key = k ? scalar_text(k, cs, &len, &owned) : NULL;
		struct ynode *v;
		char *kcopy;

		if (k && fy_node_is_alias(k)) {
			struct fy_node *t = fy_node_resolve_alias(k);

			free(owned);
			owned = NULL;
			key = t && fy_node_is_scalar(t) ?
				scalar_text(t, cs, &len, &owned) : NULL;
		}
		if (!key) {
			int kl, kc;

			node_pos(k, &kl, &kc);
			buf_seterr(cs->err, "%s:%d:%d: a mapping key must be a plain value",
				   cs->file, kl, kc);
			goto fail;
		}
		kcopy = xstrndup(key, len);
		free(owned);
		v = convert(fy_node_pair_value(p), cs, depth + 1);
		if (!v) {
			free(kcopy);
			goto fail;
		}
		node_pos(k, &v->kline, &v->kcol);
		if (!fy_node_pair_value(p)) {
			v->line = v->kline;
			v->col = v->kcol;
		}
		/* Duplicate keys: the later one wins, as in Psych. */
		if (!strcmp(kcopy, "<<") &&
		    fy_node_get_style(k) == FYNS_PLAIN)
			merge_key(n, v);
		else
			ynode_set(n, kcopy, v);
		free(kcopy);
	}
	return n;
fail:
	ynode_free(n);
	return NULL;
}

static struct ynode *convert(struct fy_node *fyn, struct convert_state *cs,
			     int depth)
{
	struct ynode *n = NULL;
	const char *tag, *text;
	char *owned = NULL;
	size_t len = 0;
	int line, col;

	if (!fyn)
		return ynode_new(YNODE_NULL, cs->file, 0, 0);
	node_pos(fyn, &line, &col);
	if (depth > YAML_MAX_DEPTH || ++cs->nodes > YAML_MAX_NODES) {
		buf_seterr(cs->err, "%s:%d:%d: %s", cs->file, line, col,
			   depth > YAML_MAX_DEPTH ? "nested too deeply" :
			   "too many nodes (aliases expand to more than 500000)");
		return NULL;
	}
	if (fy_node_is_alias(fyn)) {
		struct fy_node *target = fy_node_resolve_alias(fyn);

		if (!target) {
			buf_seterr(cs->err, "%s:%d:%d: unknown alias", cs->file,
				   line, col);
			return NULL;
		}
		return convert(target, cs, depth + 1);
	}
	switch (fy_node_get_type(fyn)) {
	case FYNT_SCALAR:
		text = scalar_text(fyn, cs, &len, &owned);
		if (!text)
			text = "";
		if (fy_node_get_style(fyn) == FYNS_PLAIN &&
		    (len == 0 || (len == 4 && !memcmp(text, "null", 4)) ||
		     (len == 1 && text[0] == '~'))) {
			n = ynode_new(YNODE_NULL, cs->file, line, col);
		} else {
			n = ynode_new(YNODE_SCALAR, cs->file, line, col);
			n->str = xstrndup(text, len);
			n->quoted = fy_node_get_style(fyn) != FYNS_PLAIN;
		}
		free(owned);
		break;
	case FYNT_SEQUENCE: {
		void *it = NULL;
		struct fy_node *c;

		n = ynode_new(YNODE_SEQ, cs->file, line, col);
		while ((c = fy_node_sequence_iterate(fyn, &it))) {
			struct ynode *item = convert(c, cs, depth + 1);

			if (!item) {
				ynode_free(n);
				return NULL;
			}
			ynode_push(n, item);
		}
		break;
	}
	case FYNT_MAPPING:
		if (!(n = convert_mapping(fyn, cs, depth, line, col)))
			return NULL;
		break;
	}
	tag = fy_node_get_tag(fyn, &len);
	if (tag && len)
		n->tag = xstrndup(tag, len);
	return n;
}

/*
 * For a syntax error on line (0-based): "job 'name': " for the top-level
 * key whose block holds that line (the last unindented "key:" at or above
 * it), "'stages': " for a global keyword, "" when there is none.
 */
static void error_owner(const char *text, size_t len, int line,
			struct buf *out)
{
	static const char *const globals[] = {
		"stages", "variables", "default", "workflow", "include",
		"image", "services", "cache", "before_script", "after_script",
		"types", "spec", NULL,
	};
	const char *p = text, *end = text + len, *key = NULL;
	size_t key_len = 0, i;
	int n;

	for (n = 0; p < end && n <= line; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *colon;

		if (p < eol && !strchr(" \t#-\r", *p) &&
		    (colon = memchr(p, ':', (size_t)(eol - p)))) {
			key = p;
			key_len = (size_t)(colon - p);
			if (key_len >= 2 && strchr("'\"", *key) &&
			    key[key_len - 1] == *key) {
				key++;
				key_len -= 2;
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (!key || !key_len || key_len > 200)
		return;
	for (i = 0; globals[i]; i++)
		if (strlen(globals[i]) == key_len &&
		    !strncmp(globals[i], key, key_len)) {
			(void)buf_addf(out, "'%.*s': ", (int)key_len, key);
			return;
		}
	(void)buf_addf(out, "job '%.*s': ", (int)key_len, key);
}

/*
 * What libfyaml is handed must be within the size cap and valid UTF-8:
 * libfyaml 0.7.12 spins for ever on some invalid bytes ("%\xb6", a
 * directive line with a stray byte), so they are refused here first.
 */
static int check_text(const char *file, const char *text, size_t len,
		      struct buf *err)
{
	size_t valid, i;
	int line = 1, col = 1;

	if (len > YAML_MAX_FILE) {
		buf_seterr(err, "%s: larger than %zu bytes", file,
			   YAML_MAX_FILE);
		return CR_ERR_TOO_LARGE;
	}
	valid = utf8_valid_prefix(text, len);
	if (valid == len)
		return 0;
	for (i = 0; i < valid; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	buf_seterr(err, "%s:%d:%d: invalid UTF-8 (byte 0x%02x): the file must be UTF-8",
		   file, line, col, (unsigned char)text[valid]);
	return CR_ERR_INVALID;
}

/* A parse error of text as "file:line:col: [owner: ]message". */
static void parse_error(struct fy_diag *diag, const char *text, size_t len,
			const char *file, struct buf *err)
{
	void *it = NULL;
	struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
	struct buf owner = BUF_INIT;

	if (!e) {
		buf_seterr(err, "%s: invalid YAML", file);
		return;
	}
	error_owner(text, len, e->line, &owner);
	buf_seterr(err, "%s:%d:%d: %s%s", file, e->line + 1, e->column + 1,
		   owner.data, e->msg);
	buf_release(&owner);
}

/*
 * The documents of text: with two or more and a first one holding
 * `spec:`, *header is that one and *content the next (GitLab's
 * Yaml::Documents); else *header is NULL and *content the first.
 */
static int load_documents(struct yfiles *files, const char *text,
			  size_t len, const char *display,
			  struct ynode **header, struct ynode **content,
			  struct buf *err)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg cfg = { 0 };
	struct fy_diag *diag;
	struct fy_parser *fyp = NULL;
	struct fy_document *doc;
	struct ynode *docs[2] = { NULL, NULL };
	const char *file = yfiles_add(files, display);
	size_t nr = 0;
	int r = CR_ERR_INVALID;

	*header = *content = NULL;
	if ((r = check_text(file, text, len, err)) != 0)
		return r;
	r = CR_ERR_INVALID;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	dcfg.colorize = false;
	diag = fy_diag_create(&dcfg);
	if (!diag)
		return CR_ERR_NOMEM;
	fy_diag_set_collect_errors(diag, true);
	/*
	 * Duplicate keys are Psych's (later wins); aliases and `<<` are
	 * resolved by convert() the way Psych does, not by libfyaml.
	 */
	cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG |
		FYPCF_ALLOW_DUPLICATE_KEYS;
	cfg.diag = diag;
	if (!(fyp = fy_parser_create(&cfg)) ||
	    fy_parser_set_string(fyp, text, len)) {
		r = CR_ERR_NOMEM;
		goto out;
	}
	while (nr < 2 && (doc = fy_parse_load_document(fyp))) {
		struct convert_state cs = { file, 0, err, text, len };

		docs[nr] = fy_document_root(doc) ?
			convert(fy_document_root(doc), &cs, 0) :
			ynode_new(YNODE_MAP, file, 1, 1);
		fy_parse_document_destroy(fyp, doc);
		if (!docs[nr])
			goto out;
		nr++;
	}
	if (fy_diag_got_error(diag)) {
		parse_error(diag, text, len, file, err);
		goto out;
	}
	if (nr == 2 && docs[0]->kind == YNODE_MAP && ynode_get(docs[0], "spec")) {
		*header = docs[0];
		*content = docs[1];
		docs[0] = docs[1] = NULL;
	} else {
		*content = nr ? docs[0] : ynode_new(YNODE_MAP, file, 1, 1);
		docs[0] = NULL;
	}
	r = 0;
out:
	ynode_free(docs[0]);
	ynode_free(docs[1]);
	if (fyp)
		fy_parser_destroy(fyp);
	fy_diag_destroy(diag);
	return r;
}

int yaml_load_with_inputs(struct yfiles *files, const char *text, size_t len,
			  const char *display, const struct ynode *args,
			  const struct inputs_vars *vars, struct ynode **out,
			  struct buf *err)
{
	struct ynode *header = NULL, *content = NULL;
	int r;

	*out = NULL;
	if ((r = load_documents(files, text, len, display, &header, &content,
				err)) == 0 &&
	    (r = inputs_apply(header, args, content, vars, display, err)) == 0) {
		*out = content;
		content = NULL;
	}
	ynode_free(header);
	ynode_free(content);
	return r;
}

int yaml_load_string(struct yfiles *files, const char *text, size_t len,
		     const char *display, struct ynode **out, struct buf *err)
{
	return yaml_load_with_inputs(files, text, len, display, NULL, NULL,
				     out, err);
}

static int read_file(const char *path, struct buf *text, struct buf *err)
{
	FILE *f = fopen(path, "r");
	char chunk[8192];
	size_t n;

	if (!f) {
		buf_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		return CR_ERR_IO;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (text->len + n > YAML_MAX_FILE) {
			fclose(f);
			buf_seterr(err, "'%s' is larger than %zu bytes", path,
				   YAML_MAX_FILE);
			return CR_ERR_TOO_LARGE;
		}
		(void)buf_add(text, chunk, n);
	}
	fclose(f);
	return 0;
}

static int load_file(struct yfiles *files, const char *root, const char *rel,
		     const struct ynode *inputs,
		     const struct yaml_include_ctx *ic, struct ynode **out,
		     struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct inputs_vars vars = { ic ? ic->expand : NULL,
				    ic ? ic->ctx : NULL };
	int r;

	/* Only the main file (--file) can be absolute; includes are not. */
	if (rel[0] == '/')
		(void)buf_addstr(&path, rel);
	else
		(void)buf_addf(&path, "%s/%s", root, rel);
	if ((r = read_file(path.data, &text, err)) == 0)
		r = yaml_load_with_inputs(files, text.data, text.len, rel,
					  inputs, &vars, out, err);
	buf_release(&path);
	buf_release(&text);
	return r;
}

/*
 * The first {a,b,...} group of pat (nesting respected): *open at '{',
 * *close at its '}'; 0 when there is none with a top-level comma.
 */
static int brace_group(const char *pat, const char **open, const char **close)
{
	const char *p;

	for (p = pat; (p = strchr(p, '{')); p++) {
		const char *q;
		int depth = 0;
		bool comma = false;

		for (q = p; *q; q++) {
			if (*q == '{')
				depth++;
			else if (*q == '}' && --depth == 0)
				break;
			else if (*q == ',' && depth == 1)
				comma = true;
		}
		if (*q == '}' && comma) {
			*open = p;
			*close = q;
			return 1;
		}
	}
	return 0;
}

/* Ruby's FNM_EXTGLOB braces: "*.{c,h}" matches as "*.c" or "*.h". */
int yaml_glob_match(const char *pat, const char *s)
{
	const char *open, *close, *alt, *p;
	int depth = 0, found = 0;

	if (!strchr(pat, '{') || !brace_group(pat, &open, &close))
		return path_glob_match(pat, s);
	for (alt = p = open + 1; p <= close && !found; p++) {
		if (*p == '{') {
			depth++;
		} else if (*p == '}' && depth) {
			depth--;
		} else if ((*p == ',' && !depth) || p == close) {
			struct buf one = BUF_INIT;

			(void)buf_add(&one, pat, (size_t)(open - pat));
			(void)buf_add(&one, alt, (size_t)(p - alt));
			(void)buf_addstr(&one, close + 1);
			found = yaml_glob_match(one.data, s);
			buf_release(&one);
			alt = p + 1;
		}
	}
	return found;
}

/*
 * GitLab's include:local wildcards (Repository#search_files_by_wildcard_
 * path): "**" is any run of characters, '/' included, "*" any run without
 * '/', everything else (?, [, {) literal.  "ci/<two stars>/<star>.yml" thus
 * needs a subfolder, unlike a glob.
 */
static int include_wildcard_match(const char *p, const char *s)
{
	if (p[0] == '*' && p[1] == '*') {
		for (p += 2;; s++) {
			if (include_wildcard_match(p, s))
				return 1;
			if (!*s)
				return 0;
		}
	}
	if (*p == '*') {
		for (p++;; s++) {
			if (include_wildcard_match(p, s))
				return 1;
			if (!*s || *s == '/')
				return 0;
		}
	}
	if (!*p || *p != *s)
		return !*p && !*s;
	return include_wildcard_match(p + 1, s + 1);
}

/* nftw has no context pointer: the walk state lives here for one walk. */
static struct {
	const char *root, *pattern;
	struct strvec *matches;
	size_t root_len;
	int (*match)(const char *pattern, const char *path);
} walk;

static int walk_one(const char *path, const struct stat *st, int type,
		    struct FTW *ftw)
{
	const char *rel = path + walk.root_len;

	(void)st;
	(void)ftw;
	while (*rel == '/')
		rel++;
	if (type == FTW_D && (!strcmp(rel, ".git") || strstr(rel, "/.git")))
		return FTW_SKIP_SUBTREE;
	if (type == FTW_F && walk.match(walk.pattern, rel))
		strvec_push(walk.matches, rel);
	return FTW_CONTINUE;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void walk_tree(const char *root, const char *pattern,
		      int (*match)(const char *, const char *),
		      struct strvec *matches)
{
	walk.root = root;
	walk.root_len = strlen(root);
	walk.pattern = pattern;
	walk.matches = matches;
	walk.match = match;
	(void)nftw(root, walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	qsort(matches->v, matches->nr, sizeof(*matches->v), cmp_str);
}

void yaml_glob_files(const char *root, const char *pattern,
			 struct strvec *matches)
{
	while (*pattern == '/')
		pattern++;
	if (!strpbrk(pattern, "*?[{")) {
		strvec_push(matches, pattern);
		return;
	}
	walk_tree(root, pattern, yaml_glob_match, matches);
}

/*
 * The working-tree files an include:local path names: itself when it has
 * no '*', else those include_wildcard_match() picks (none is no error, as
 * GitLab's LocationExpander).
 */
static void include_local_files(const char *root, const char *pattern,
				struct strvec *matches)
{
	while (*pattern == '/')
		pattern++;
	if (!strchr(pattern, '*')) {
		strvec_push(matches, pattern);
		return;
	}
	walk_tree(root, pattern, include_wildcard_match, matches);
}

void yaml_fetched_release(struct yaml_fetched *f)
{
	if (!f)
		return;
	free(f->text);
	free(f->name);
	free(f->project);
	free(f->ref);
	memset(f, 0, sizeof(*f));
}

/*
 * One file to include: a path (or glob) in the working tree, or a file
 * fetched from elsewhere.  inputs is the entry's `inputs:` (borrowed from
 * the including document), for spec:inputs interpolation.
 */
struct yinc {
	char *path;
	struct yaml_fetched fetched;
	const struct ynode *inputs;
};

struct yincs {
	struct yinc *v;
	size_t nr, alloc;
};

static struct yinc *yincs_add(struct yincs *l, const struct ynode *entry)
{
	struct yinc *it;

	if (l->nr == l->alloc) {
		l->alloc = l->alloc ? l->alloc * 2 : 4;
		l->v = xreallocarray(l->v, l->alloc, sizeof(*l->v));
	}
	it = &l->v[l->nr++];
	memset(it, 0, sizeof(*it));
	it->inputs = entry->kind == YNODE_MAP ? ynode_get(entry, "inputs") : NULL;
	return it;
}

static void yincs_release(struct yincs *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++) {
		free(l->v[i].path);
		yaml_fetched_release(&l->v[i].fetched);
	}
	free(l->v);
	l->v = NULL;
	l->nr = l->alloc = 0;
}

static char *expand_text(const struct yaml_include_ctx *ic, const char *text)
{
	return ic && ic->expand ? ic->expand(ic->ctx, text) : xstrdup(text);
}

/*
 * Whether the entry is a local one: `local: path`, or a string that is
 * not an http(s) URL (GitLab's Normalizer: anything else is local).
 */
static bool entry_is_local(const struct ynode *entry,
			   const struct yaml_include_ctx *ic)
{
	const char *text = ynode_text(entry);

	if (text && *text) {
		char *full = expand_text(ic, text);
		bool url = !strncmp(full, "https://", 8) ||
			!strncmp(full, "http://", 7);

		free(full);
		return !url;
	}
	return entry->kind == YNODE_MAP && ynode_get(entry, "local") &&
		ynode_get(entry, "local")->kind == YNODE_SCALAR;
}

/* Whether root/rel is a regular file. */
static bool tree_file(const char *root, const char *rel)
{
	struct buf full = BUF_INIT;
	struct stat st;
	bool ok;

	(void)buf_addf(&full, "%s/%s", root, rel);
	ok = stat(full.data, &st) == 0 && S_ISREG(st.st_mode);
	buf_release(&full);
	return ok;
}

/* Whether text equals the value of variable name (unset: never). */
static bool is_variable(const struct yaml_include_ctx *ic, const char *text,
			const char *name)
{
	char ref[64], *value;
	bool same;

	(void)snprintf(ref, sizeof(ref), "${%s}", name);
	value = ic->expand(ic->ctx, ref);
	same = *value && !strcmp(value, text);
	free(value);
	return same;
}

/*
 * The working-tree file of `component:` naming a component of this very
 * project at this commit ("$CI_SERVER_FQDN/$CI_PROJECT_PATH/name@
 * $CI_COMMIT_SHA", how a component project tests its components): the
 * tree holds the file GitLab would read, templates/<name>.yml else
 * templates/<name>/template.yml.  NULL for any other address.
 */
static char *own_component(const char *root, const struct ynode *entry,
			   const struct yaml_include_ctx *ic)
{
	const struct ynode *c = ynode_get(entry, "component");
	char *address, *at, *slash, *name, *path = NULL;
	struct buf file = BUF_INIT;

	if (!c || c->kind != YNODE_SCALAR || !ic || !ic->expand)
		return NULL;
	address = ic->expand(ic->ctx, ynode_text(c));
	at = strrchr(address, '@');
	slash = strchr(address, '/');
	name = at ? memrchr(address, '/', (size_t)(at - address)) : NULL;
	if (!at || !slash || !name || name <= slash)
		goto out;
	*at = *slash = *name = 0;
	if ((!is_variable(ic, address, "CI_SERVER_FQDN") &&
	     !is_variable(ic, address, "CI_SERVER_HOST")) ||
	    !is_variable(ic, slash + 1, "CI_PROJECT_PATH") ||
	    (!is_variable(ic, at + 1, "CI_COMMIT_SHA") &&
	     !is_variable(ic, at + 1, "CI_COMMIT_REF_NAME")) ||
	    !name[1] || strpbrk(name + 1, "*?[/"))
		goto out;
	(void)buf_addf(&file, "templates/%s.yml", name + 1);
	if (!tree_file(root, file.data)) {
		buf_reset(&file);
		(void)buf_addf(&file, "templates/%s/template.yml", name + 1);
		if (!tree_file(root, file.data))
			goto out;
	}
	path = buf_detach(&file, NULL);
out:
	buf_release(&file);
	free(address);
	return path;
}

/*
 * The files one `include:` entry names (none when its rules leave it
 * out), added to out: local ones of the working tree as paths (and a
 * component of this project at this commit: own_component()), the
 * others fetched through ic->fetch.  project/ref: where the including
 * file's own local includes are (NULL: the working tree).
 */
static int include_entry(const char *root, const struct ynode *entry,
			 const struct yaml_include_ctx *ic, const char *project,
			 const char *ref, size_t count, struct yincs *out,
			 struct buf *err)
{
	char where[512];
	const char *text = ynode_text(entry);
	const struct ynode *rules;
	struct yaml_fetched *got = NULL;
	size_t i, nr = 0;
	int r;

	/* As GitLab's Mapper (Array.wrap(...).compact): a null include, or
	 * a null entry of the list, includes nothing. */
	if (entry->kind == YNODE_NULL)
		return 0;
	ynode_where_key(entry, where, sizeof(where));
	if (entry->kind == YNODE_MAP && (rules = ynode_get(entry, "rules")) &&
	    ic && ic->keep) {
		bool keep = false;

		if ((r = ic->keep(ic->ctx, rules, &keep, err)))
			return r;
		if (!keep)
			return 0;
	}
	if (!project && entry_is_local(entry, ic)) {
		if (entry->kind == YNODE_MAP) {
			for (i = 0; i < entry->nr; i++)
				if (strcmp(entry->keys[i], "local") &&
				    strcmp(entry->keys[i], "rules") &&
				    strcmp(entry->keys[i], "inputs")) {
					ynode_where_key(entry->items[i], where,
							sizeof(where));
					buf_seterr(err, "%s: include: unknown keyword '%s' (local, rules, inputs)",
						   where, entry->keys[i]);
					return CR_ERR_INVALID;
				}
			text = ynode_text(ynode_get(entry, "local"));
		}
		yincs_add(out, entry)->path = expand_text(ic, text);
		return 0;
	}
	if (entry->kind == YNODE_MAP && ynode_get(entry, "component")) {
		char *own = own_component(root, entry, ic);

		if (own) {
			yincs_add(out, entry)->path = own;
			return 0;
		}
	}
	if (!(text && *text) && entry->kind != YNODE_MAP) {
		buf_seterr(err, "%s: include entries must be a path, a URL or a mapping such as 'local: path'",
			   where);
		return CR_ERR_INVALID;
	}
	if (!ic || !ic->fetch) {
		buf_seterr(err, "%s: include '%s' is not supported here (only local files)",
			   where, text && *text ? text : entry->keys[0]);
		return CR_ERR_UNSUPPORTED;
	}
	/* As GitLab, count the file before fetching it: a cycle of remote
	 * includes stops without one request too many. */
	if (count + out->nr >= YAML_MAX_INCLUDES) {
		buf_seterr(err, "%s: maximum of %d nested includes are allowed (is there an include cycle?)",
			   where, YAML_MAX_INCLUDES);
		return CR_ERR_TOO_LARGE;
	}
	if ((r = ic->fetch(ic->fetch_ctx, ic, entry, project, ref, &got, &nr,
			   err)))
		return r;
	for (i = 0; i < nr; i++)
		yincs_add(out, entry)->fetched = got[i];
	free(got);
	return 0;
}

/*
 * Parses one file to include into *doc: a working-tree path (relative to
 * root) or fetched text, its spec:inputs header filled from the entry's
 * `inputs:` (inc->inputs; local/inputs.c).
 */
static int load_one(struct yfiles *files, const char *root,
		    const struct yinc *inc, const struct yaml_include_ctx *ic,
		    struct ynode **doc, struct buf *err)
{
	struct inputs_vars vars = { ic ? ic->expand : NULL,
				    ic ? ic->ctx : NULL };

	if (inc->path)
		return load_file(files, root, inc->path, inc->inputs, ic, doc,
				 err);
	return yaml_load_with_inputs(files, inc->fetched.text, inc->fetched.len,
				     inc->fetched.name, inc->inputs, &vars,
				     doc, err);
}

static int expand_includes(struct yfiles *files, const char *root,
			   struct ynode *doc, const char *project,
			   const char *ref, const struct yaml_include_ctx *ic,
			   size_t *count, struct ynode **out, struct buf *err);

/* Loads inc (and what it includes, in turn) and merges it into merged. */
static int include_one(struct yfiles *files, const char *root,
		       const struct ynode *entry, const struct yinc *inc,
		       const char *project, const char *ref,
		       const struct yaml_include_ctx *ic, size_t *count,
		       struct ynode *merged, struct buf *err)
{
	struct ynode *doc = NULL, *sub = NULL;
	char where[512];
	int r;

	if (++*count > YAML_MAX_INCLUDES) {
		ynode_where(entry, where, sizeof(where));
		buf_seterr(err, "%s: maximum of %d nested includes are allowed (is there an include cycle?)",
			   where, YAML_MAX_INCLUDES);
		return CR_ERR_TOO_LARGE;
	}
	if ((r = load_one(files, root, inc, ic, &doc, err)))
		return r;
	if (!inc->path) {
		project = inc->fetched.project;
		ref = inc->fetched.ref;
	}
	r = expand_includes(files, root, doc, project, ref, ic, count, &sub,
			    err);
	doc = NULL;	/* expand_includes took it */
	if (!r)
		ynode_merge(merged, sub);
	ynode_free(sub);
	return r;
}

/*
 * doc (taken) with its `include:` entries merged under it, as GitLab
 * does: the included files in order, each with its own includes, then
 * doc on top.
 */
static int expand_includes(struct yfiles *files, const char *root,
			   struct ynode *doc, const char *project,
			   const char *ref, const struct yaml_include_ctx *ic,
			   size_t *count, struct ynode **out, struct buf *err)
{
	struct ynode *merged = NULL, *inc;
	struct yincs incs = { 0 };
	size_t i, k;
	int r = 0;

	*out = NULL;
	if (doc->kind != YNODE_MAP) {
		char where[512];

		ynode_where(doc, where, sizeof(where));
		buf_seterr(err, "%s: the top level must be a mapping", where);
		r = CR_ERR_INVALID;
		goto out;
	}
	inc = ynode_get(doc, "include");
	if (!inc) {
		*out = doc;
		return 0;
	}
	if (inc->kind == YNODE_SEQ) {
		for (i = 0; i < inc->nr && !r; i++)
			r = include_entry(root, inc->items[i], ic, project, ref,
					  *count, &incs, err);
	} else {
		r = include_entry(root, inc, ic, project, ref, *count, &incs,
				  err);
	}
	if (r)
		goto out;
	merged = ynode_new(YNODE_MAP, doc->file, doc->line, doc->col);
	for (i = 0; i < incs.nr; i++) {
		struct strvec matches = STRVEC_INIT;

		if (!incs.v[i].path) {
			if ((r = include_one(files, root, inc, &incs.v[i], project,
					     ref, ic, count, merged, err)))
				goto out;
			continue;
		}
		include_local_files(root, incs.v[i].path, &matches);
		if (!strchr(incs.v[i].path, '*')) {
			struct buf full = BUF_INIT;
			struct stat st;

			(void)buf_addf(&full, "%s/%s", root, matches.v[0]);
			if (stat(full.data, &st) != 0)
				strvec_clear(&matches);
			buf_release(&full);
		}
		/* A wildcard that matches nothing includes nothing. */
		if (!matches.nr && !strchr(incs.v[i].path, '*')) {
			char where[512];

			ynode_where(inc, where, sizeof(where));
			buf_seterr(err, "%s: include '%s' matches no file", where,
				   incs.v[i].path);
			r = CR_ERR_NOT_FOUND;
		}
		for (k = 0; k < matches.nr && !r; k++) {
			struct yinc one = { .path = xstrdup(matches.v[k]),
					    .inputs = incs.v[i].inputs };

			r = include_one(files, root, inc, &one, NULL, NULL, ic,
					count, merged, err);
			free(one.path);
		}
		strvec_clear(&matches);
		if (r)
			goto out;
	}
	ynode_remove(doc, "include");
	ynode_merge(merged, doc);
	*out = merged;
	merged = NULL;
	r = 0;
out:
	ynode_free(merged);
	ynode_free(doc);
	yincs_release(&incs);
	return r;
}

int yaml_load_pipeline(struct yfiles *files, const char *root_dir,
		       const char *file, const struct yaml_include_ctx *ic,
		       struct ynode **out, struct buf *err)
{
	struct ynode *doc = NULL;
	size_t count = 0;
	int r;

	*out = NULL;
	if ((r = load_file(files, root_dir, file, NULL, ic, &doc, err)))
		return r;
	return expand_includes(files, root_dir, doc, NULL, NULL, ic, &count,
			       out, err);
}
