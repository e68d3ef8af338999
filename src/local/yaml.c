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
#define YAML_MAX_INCLUDES 150
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

static struct ynode *convert(struct fy_node *fyn, const char *file, int depth,
			     struct buf *err)
{
	struct ynode *n = NULL;
	const char *tag, *text;
	size_t len = 0;
	int line, col;

	if (!fyn)
		return ynode_new(YNODE_NULL, file, 0, 0);
	node_pos(fyn, &line, &col);
	if (depth > YAML_MAX_DEPTH) {
		buf_seterr(err, "%s:%d:%d: nested too deeply", file, line, col);
		return NULL;
	}
	switch (fy_node_get_type(fyn)) {
	case FYNT_SCALAR:
		text = fy_node_get_scalar(fyn, &len);
		if (!text)
			text = "";
		if (fy_node_get_style(fyn) == FYNS_PLAIN &&
		    (len == 0 || (len == 4 && !memcmp(text, "null", 4)) ||
		     (len == 1 && text[0] == '~'))) {
			n = ynode_new(YNODE_NULL, file, line, col);
		} else {
			n = ynode_new(YNODE_SCALAR, file, line, col);
			n->str = xstrndup(text, len);
			n->quoted = fy_node_get_style(fyn) != FYNS_PLAIN;
		}
		break;
	case FYNT_SEQUENCE: {
		void *it = NULL;
		struct fy_node *c;

		n = ynode_new(YNODE_SEQ, file, line, col);
		while ((c = fy_node_sequence_iterate(fyn, &it))) {
			struct ynode *item = convert(c, file, depth + 1, err);

			if (!item)
				goto fail;
			ynode_push(n, item);
		}
		break;
	}
	case FYNT_MAPPING: {
		void *it = NULL;
		struct fy_node_pair *p;

		n = ynode_new(YNODE_MAP, file, line, col);
		while ((p = fy_node_mapping_iterate(fyn, &it))) {
			struct fy_node *k = fy_node_pair_key(p);
			const char *key = k ? fy_node_get_scalar(k, &len) : NULL;
			struct ynode *v;
			char *kcopy;

			if (!key) {
				int kl, kc;

				node_pos(k, &kl, &kc);
				buf_seterr(err, "%s:%d:%d: a mapping key must be a plain value",
					   file, kl, kc);
				goto fail;
			}
			kcopy = xstrndup(key, len);
			v = convert(fy_node_pair_value(p), file, depth + 1, err);
			if (!v) {
				free(kcopy);
				goto fail;
			}
			node_pos(k, &v->kline, &v->kcol);
			if (!fy_node_pair_value(p)) {
				v->line = v->kline;
				v->col = v->kcol;
			}
			ynode_set(n, kcopy, v);
			free(kcopy);
		}
		break;
	}
	}
	tag = fy_node_get_tag(fyn, &len);
	if (tag && len)
		n->tag = xstrndup(tag, len);
	return n;
fail:
	ynode_free(n);
	return NULL;
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

int yaml_load_string(struct yfiles *files, const char *text, size_t len,
		     const char *display, struct ynode **out, struct buf *err)
{
	struct fy_diag_cfg dcfg;
	struct fy_parse_cfg cfg = { 0 };
	struct fy_diag *diag;
	struct fy_document *doc = NULL;
	const char *file = yfiles_add(files, display);
	int r = CR_ERR_INVALID;

	*out = NULL;
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
	cfg.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG;
	cfg.diag = diag;
	doc = fy_document_build_from_string(&cfg, text, len);
	if (!doc || fy_document_resolve(doc) != 0) {
		void *it = NULL;
		struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);

		if (e) {
			struct buf owner = BUF_INIT;

			error_owner(text, len, e->line, &owner);
			buf_seterr(err, "%s:%d:%d: %s%s", file, e->line + 1,
				   e->column + 1, owner.data, e->msg);
			buf_release(&owner);
		}
		else
			buf_seterr(err, "%s: invalid YAML", file);
		goto out;
	}
	if (!fy_document_root(doc)) {
		*out = ynode_new(YNODE_MAP, file, 1, 1);
		r = 0;
		goto out;
	}
	*out = convert(fy_document_root(doc), file, 0, err);
	r = *out ? 0 : CR_ERR_INVALID;
out:
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return r;
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
		     struct ynode **out, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	int r;

	/* Only the main file (--file) can be absolute; includes are not. */
	if (rel[0] == '/')
		(void)buf_addstr(&path, rel);
	else
		(void)buf_addf(&path, "%s/%s", root, rel);
	if ((r = read_file(path.data, &text, err)) == 0)
		r = yaml_load_string(files, text.data, text.len, rel, out, err);
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

/* nftw has no context pointer: the walk state lives here for one walk. */
static struct {
	const char *root, *pattern;
	struct strvec *matches;
	size_t root_len;
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
	if (type == FTW_F && yaml_glob_match(walk.pattern, rel))
		strvec_push(walk.matches, rel);
	return FTW_CONTINUE;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
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
	walk.root = root;
	walk.root_len = strlen(root);
	walk.pattern = pattern;
	walk.matches = matches;
	(void)nftw(root, walk_one, 16, FTW_PHYS | FTW_ACTIONRETVAL);
	qsort(matches->v, matches->nr, sizeof(*matches->v), cmp_str);
}

/* The local paths one `include:` entry names; err for other kinds. */
/*
 * The local paths one `include:` entry names (none when its rules leave
 * it out); err for other kinds.
 */
static int include_paths(const struct ynode *entry,
			 const struct yaml_include_ctx *ic, struct strvec *out,
			 struct buf *err)
{
	char where[512];
	const char *text = ynode_text(entry);
	const struct ynode *local, *rules;
	size_t i;
	int r;

	ynode_where(entry, where, sizeof(where));
	if (text && *text) {
		if (strstr(text, "://")) {
			buf_seterr(err, "%s: include '%s': remote includes are not supported by crunner exec",
				   where, text);
			return CR_ERR_UNSUPPORTED;
		}
		strvec_push_nodup(out, ic && ic->expand ?
				  ic->expand(ic->ctx, text) : xstrdup(text));
		return 0;
	}
	if (entry->kind == YNODE_MAP &&
	    (local = ynode_get(entry, "local")) && ynode_text(local) &&
	    local->kind == YNODE_SCALAR) {
		for (i = 0; i < entry->nr; i++)
			if (strcmp(entry->keys[i], "local") &&
			    strcmp(entry->keys[i], "rules") &&
			    strcmp(entry->keys[i], "inputs")) {
				ynode_where_key(entry->items[i], where,
						sizeof(where));
				buf_seterr(err, "%s: include: unknown keyword '%s' (local, rules)",
					   where, entry->keys[i]);
				return CR_ERR_INVALID;
			}
		if ((rules = ynode_get(entry, "rules")) && ic && ic->keep) {
			bool keep = false;

			if ((r = ic->keep(ic->ctx, rules, &keep, err)))
				return r;
			if (!keep)
				return 0;
		}
		strvec_push_nodup(out, ic && ic->expand ?
				  ic->expand(ic->ctx, ynode_text(local)) :
				  xstrdup(ynode_text(local)));
		return 0;
	}
	if (entry->kind == YNODE_MAP && entry->nr)
		buf_seterr(err, "%s: include '%s' is not supported by crunner exec (only local files)",
			   where, entry->keys[0]);
	else
		buf_seterr(err, "%s: include entries must be a path or 'local: path'",
			   where);
	return CR_ERR_UNSUPPORTED;
}

static int load_with_includes(struct yfiles *files, const char *root,
			      const char *rel, const struct yaml_include_ctx *ic,
			      int depth, size_t *count, struct ynode **out,
			      struct buf *err)
{
	struct ynode *doc = NULL, *merged = NULL, *inc;
	struct strvec paths = STRVEC_INIT;
	size_t i, k;
	int r;

	if (++*count > YAML_MAX_INCLUDES || depth > 100) {
		buf_seterr(err, "%s: too many nested includes (at most %d files)",
			   rel, YAML_MAX_INCLUDES);
		return CR_ERR_TOO_LARGE;
	}
	if ((r = load_file(files, root, rel, &doc, err)) != 0)
		return r;
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
		for (i = 0; i < inc->nr; i++)
			if ((r = include_paths(inc->items[i], ic, &paths, err)))
				goto out;
	} else if ((r = include_paths(inc, ic, &paths, err))) {
		goto out;
	}
	merged = ynode_new(YNODE_MAP, doc->file, doc->line, doc->col);
	for (i = 0; i < paths.nr; i++) {
		struct strvec matches = STRVEC_INIT;

		yaml_glob_files(root, paths.v[i], &matches);
		if (matches.nr == 1 && !strpbrk(paths.v[i], "*?[")) {
			struct buf full = BUF_INIT;
			struct stat st;

			(void)buf_addf(&full, "%s/%s", root, matches.v[0]);
			if (stat(full.data, &st) != 0)
				strvec_clear(&matches);
			buf_release(&full);
		}
		if (!matches.nr) {
			char where[512];

			ynode_where(inc, where, sizeof(where));
			buf_seterr(err, "%s: include '%s' matches no file", where,
				   paths.v[i]);
			r = CR_ERR_NOT_FOUND;
		}
		for (k = 0; k < matches.nr && !r; k++) {
			struct ynode *sub = NULL;

			r = load_with_includes(files, root, matches.v[k], ic,
					       depth + 1, count, &sub, err);
			if (!r)
				ynode_merge(merged, sub);
			ynode_free(sub);
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
	strvec_clear(&paths);
	return r;
}

int yaml_load_pipeline(struct yfiles *files, const char *root_dir,
		       const char *file, const struct yaml_include_ctx *ic,
		       struct ynode **out, struct buf *err)
{
	size_t count = 0;

	*out = NULL;
	return load_with_includes(files, root_dir, file, ic, 0, &count, out,
				  err);
}
