#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/ynode.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct ynode *ynode_new(enum ynode_kind kind, const char *file, int line,
			int col)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->file = file;
	n->line = line;
	n->col = col;
	if (kind == YNODE_NULL)
		n->str = xstrdup("");
	return n;
}

struct ynode *ynode_new_scalar(const char *text, const char *file, int line,
			       int col)
{
	struct ynode *n = ynode_new(YNODE_SCALAR, file, line, col);

	n->str = xstrdup(text);
	return n;
}

void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->nr; i++) {
		ynode_free(n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->tag);
	free(n->str);
	free(n);
}

struct ynode *ynode_copy(const struct ynode *n)
{
	struct ynode *c;
	size_t i;

	if (!n)
		return NULL;
	c = ynode_new(n->kind, n->file, n->line, n->col);
	free(c->str);
	c->str = n->str ? xstrdup(n->str) : NULL;
	c->tag = n->tag ? xstrdup(n->tag) : NULL;
	c->quoted = n->quoted;
	c->kline = n->kline;
	c->kcol = n->kcol;
	for (i = 0; i < n->nr; i++) {
		if (n->kind == YNODE_MAP)
			ynode_set(c, n->keys[i], ynode_copy(n->items[i]));
		else
			ynode_push(c, ynode_copy(n->items[i]));
	}
	return c;
}

static void grow(struct ynode *n)
{
	if (n->nr < n->alloc)
		return;
	n->alloc = n->alloc ? n->alloc * 2 : 4;
	n->items = xreallocarray(n->items, n->alloc, sizeof(*n->items));
	if (n->kind == YNODE_MAP)
		n->keys = xreallocarray(n->keys, n->alloc, sizeof(*n->keys));
}

void ynode_push(struct ynode *seq, struct ynode *item)
{
	grow(seq);
	seq->items[seq->nr++] = item;
}

long ynode_index(const struct ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != YNODE_MAP)
		return -1;
	for (i = 0; i < map->nr; i++)
		if (!strcmp(map->keys[i], key))
			return (long)i;
	return -1;
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	long i = ynode_index(map, key);

	return i < 0 ? NULL : map->items[i];
}

void ynode_set(struct ynode *map, const char *key, struct ynode *value)
{
	long i = ynode_index(map, key);

	if (i >= 0) {
		ynode_free(map->items[i]);
		map->items[i] = value;
		return;
	}
	grow(map);
	map->keys[map->nr] = xstrdup(key);
	map->items[map->nr++] = value;
}

void ynode_remove(struct ynode *map, const char *key)
{
	long i = ynode_index(map, key);

	if (i < 0)
		return;
	ynode_free(map->items[i]);
	free(map->keys[i]);
	memmove(map->items + i, map->items + i + 1,
		(map->nr - (size_t)i - 1) * sizeof(*map->items));
	memmove(map->keys + i, map->keys + i + 1,
		(map->nr - (size_t)i - 1) * sizeof(*map->keys));
	map->nr--;
}

void ynode_merge(struct ynode *dst, const struct ynode *src)
{
	size_t i;

	if (!src || src->kind != YNODE_MAP || dst->kind != YNODE_MAP)
		return;
	for (i = 0; i < src->nr; i++) {
		struct ynode *old = ynode_get(dst, src->keys[i]);

		if (old && old->kind == YNODE_MAP &&
		    src->items[i]->kind == YNODE_MAP && !src->items[i]->tag)
			ynode_merge(old, src->items[i]);
		else
			ynode_set(dst, src->keys[i], ynode_copy(src->items[i]));
	}
}

const char *ynode_text(const struct ynode *n)
{
	if (!n)
		return NULL;
	if (n->kind == YNODE_NULL)
		return "";
	return n->kind == YNODE_SCALAR ? n->str : NULL;
}

int ynode_bool(const struct ynode *n)
{
	if (!n || n->kind != YNODE_SCALAR || n->quoted)
		return -1;
	if (!strcmp(n->str, "true") || !strcmp(n->str, "True") ||
	    !strcmp(n->str, "TRUE"))
		return 1;
	if (!strcmp(n->str, "false") || !strcmp(n->str, "False") ||
	    !strcmp(n->str, "FALSE"))
		return 0;
	return -1;
}

void ynode_where(const struct ynode *n, char *out, size_t size)
{
	if (!n || !n->file)
		snprintf(out, size, "%s", "");
	else if (n->line > 0)
		snprintf(out, size, "%s:%d:%d", n->file, n->line, n->col);
	else
		snprintf(out, size, "%s", n->file);
}

void ynode_where_key(const struct ynode *n, char *out, size_t size)
{
	if (n && n->file && n->kline > 0)
		snprintf(out, size, "%s:%d:%d", n->file, n->kline, n->kcol);
	else
		ynode_where(n, out, size);
}

/* Moves the items of seq (nested lists spliced) onto out. */
static void flatten_into(struct ynode *out, struct ynode *seq, int depth,
			 int max_depth)
{
	size_t i;

	for (i = 0; i < seq->nr; i++) {
		struct ynode *c = seq->items[i];

		if (c->kind == YNODE_SEQ && depth < max_depth) {
			flatten_into(out, c, depth + 1, max_depth);
			ynode_free(c);
		} else {
			ynode_push(out, c);
		}
	}
	seq->nr = 0;
}

void ynode_flatten(struct ynode *seq, int max_depth)
{
	struct ynode tmp;
	size_t i;

	if (!seq || seq->kind != YNODE_SEQ)
		return;
	for (i = 0; i < seq->nr && seq->items[i]->kind != YNODE_SEQ; i++)
		;
	if (i == seq->nr)
		return;
	memset(&tmp, 0, sizeof(tmp));
	tmp.kind = YNODE_SEQ;
	flatten_into(&tmp, seq, 1, max_depth);
	free(seq->items);
	seq->items = tmp.items;
	seq->nr = tmp.nr;
	seq->alloc = tmp.alloc;
}
