/*
 * Which tables a document may define or extend, and when.
 *
 * A table remembers how it was made (toml_internal.h, TOML_F_*):
 *  - [a.b] defines a.b and makes a implicitly; a later [a] may still
 *    define a, but nothing may define a.b again;
 *  - dotted keys make tables that no [header] may define afterwards,
 *    though a header may reach through them to define sub-tables;
 *  - dotted keys may not reach into a table a [header] defined;
 *  - inline tables and static arrays are frozen once written;
 *  - [[a]] appends to an array it made itself, never to a static one, and
 *    a header path through such an array means its last element.
 */
#include <stdlib.h>
#include <string.h>

#include "config/toml.h"
#include "config/toml_internal.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/banned.h"

void toml_key_path_release(struct key_path *kp)
{
	size_t i;

	for (i = 0; i < kp->nr; i++)
		free(kp->segs[i].s);
	free(kp->segs);
	kp->segs = NULL;
	kp->nr = kp->alloc = 0;
}

int toml_is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void toml_describe_key(struct buf *b, const struct key_path *kp,
		       size_t upto)
{
	size_t i, j;

	for (i = 0; i <= upto && i < kp->nr; i++) {
		const struct key_seg *sg = &kp->segs[i];
		int bare = sg->len > 0;

		for (j = 0; j < sg->len; j++)
			bare = bare && toml_is_bare((unsigned char)sg->s[j]);
		if (i)
			buf_addch(b, '.');
		if (bare) {
			buf_add(b, sg->s, sg->len);
			continue;
		}
		buf_addch(b, '"');
		for (j = 0; j < sg->len; j++) {
			unsigned char c = (unsigned char)sg->s[j];

			if (c < 0x20 || c == 0x7f)
				buf_addf(b, "\\u%04X", c);
			else if (c == '"' || c == '\\')
				buf_addf(b, "\\%c", c);
			else
				buf_addch(b, (char)c);
		}
		buf_addch(b, '"');
	}
}

/* Records fmt with the key kp[0..upto] as its single %s, at segment upto. */
static int key_err(struct toml_parser *ps, const struct key_path *kp,
		   size_t upto, const char *fmt)
{
	struct buf key = BUF_INIT;
	int r;

	toml_describe_key(&key, kp, upto);
	r = toml_parser_err(ps, kp->segs[upto].at, fmt, key.data);
	buf_release(&key);
	return r;
}

/* "key 'a' already holds an integer, not a table" */
static int not_table_err(struct toml_parser *ps, const struct key_path *kp,
			 size_t upto, const struct toml_value *v,
			 const char *wanted)
{
	struct buf key = BUF_INIT;
	const char *type = toml_type_name(v->type);
	int r;

	toml_describe_key(&key, kp, upto);
	r = toml_parser_err(ps, kp->segs[upto].at,
			    "key '%s' already holds %s %s, not %s", key.data,
			    strchr("aeiou", type[0]) ? "an" : "a", type, wanted);
	buf_release(&key);
	return r;
}

int toml_check_depth(struct toml_parser *ps, const char *at, int depth)
{
	if (depth > CR_MAX_TOML_DEPTH)
		return toml_parser_err(ps, at, "nesting deeper than %d levels",
				       CR_MAX_TOML_DEPTH);
	return 0;
}

/* A new empty table of the given kind as key seg of parent. */
static int add_table(struct toml_parser *ps, struct toml_value *parent,
		     const struct key_seg *seg, const char *at, unsigned kind,
		     struct toml_value **out)
{
	struct toml_value *t;
	int r;

	if ((r = toml_check_depth(ps, at, TOML_DEPTH(parent) + 1)) != 0)
		return r;
	t = toml_new_table();
	t->flags = kind;
	TOML_SET_DEPTH(t, TOML_DEPTH(parent) + 1);
	toml_parser_pos(ps, at, &t->line, &t->col);
	toml_index_add(&ps->index, parent, seg->s, seg->len, t);
	*out = t;
	return 0;
}

int toml_resolve_dotted(struct toml_parser *ps, struct toml_value *t,
			const struct key_path *kp, struct toml_value **target)
{
	const struct key_seg *last = &kp->segs[kp->nr - 1];
	struct toml_value *sub;
	size_t i;
	int r;

	for (i = 0; i + 1 < kp->nr; i++) {
		const struct key_seg *sg = &kp->segs[i];

		sub = toml_index_get(&ps->index, t, sg->s, sg->len);
		if (!sub) {
			if ((r = add_table(ps, t, sg, sg->at, TOML_F_DOTTED,
					   &sub)) != 0)
				return r;
		} else if (sub->type != TOML_TABLE) {
			return not_table_err(ps, kp, i, sub, "a table");
		} else if (sub->flags & TOML_F_INLINE) {
			return key_err(ps, kp, i, "cannot extend inline table '%s'");
		} else if (sub->flags & TOML_F_DEFINED) {
			return key_err(ps, kp, i,
				       "dotted keys cannot extend table '%s' defined by a [table] header");
		} else if (sub->flags & TOML_F_IMPLICIT) {
			toml_set_kind(sub, TOML_F_DOTTED);
		}
		t = sub;
	}
	if (toml_index_get(&ps->index, t, last->s, last->len))
		return key_err(ps, kp, kp->nr - 1, "duplicate key '%s'");
	*target = t;
	return 0;
}

int toml_resolve_header(struct toml_parser *ps, struct toml_value *root,
			const struct key_path *kp, const char *at, int aot,
			struct toml_value **cur)
{
	const struct key_seg *last = &kp->segs[kp->nr - 1];
	struct toml_value *t = root, *v;
	size_t i;
	int r;

	for (i = 0; i + 1 < kp->nr; i++) {
		const struct key_seg *sg = &kp->segs[i];

		v = toml_index_get(&ps->index, t, sg->s, sg->len);
		if (!v) {
			if ((r = add_table(ps, t, sg, sg->at, TOML_F_IMPLICIT,
					   &v)) != 0)
				return r;
		} else if (v->type == TOML_ARRAY && (v->flags & TOML_F_AOT)) {
			v = v->u.array.items[v->u.array.nr - 1];
		} else if (v->type == TOML_ARRAY) {
			return key_err(ps, kp, i, "cannot extend static array '%s'");
		} else if (v->type != TOML_TABLE) {
			return not_table_err(ps, kp, i, v, "a table");
		} else if (v->flags & TOML_F_INLINE) {
			return key_err(ps, kp, i, "cannot extend inline table '%s'");
		}
		t = v;
	}
	v = toml_index_get(&ps->index, t, last->s, last->len);
	if (!aot) {
		if (!v)
			return add_table(ps, t, last, at, TOML_F_DEFINED, cur);
		if (v->type != TOML_TABLE)
			return not_table_err(ps, kp, kp->nr - 1, v, "a table");
		if (v->flags & TOML_F_INLINE)
			return key_err(ps, kp, kp->nr - 1,
				       "table '%s' is already defined as an inline table");
		if (v->flags & TOML_F_DOTTED)
			return key_err(ps, kp, kp->nr - 1,
				       "table '%s' is already defined by dotted keys");
		if (v->flags & TOML_F_DEFINED)
			return key_err(ps, kp, kp->nr - 1,
				       "table '%s' is already defined");
		/* Defining a super-table after its sub-table is fine. */
		toml_set_kind(v, TOML_F_DEFINED);
		toml_parser_pos(ps, at, &v->line, &v->col);
		*cur = v;
		return 0;
	}
	if (!v) {
		if ((r = toml_check_depth(ps, at, TOML_DEPTH(t) + 2)) != 0)
			return r;
		v = toml_new_array();
		v->flags = TOML_F_AOT;
		TOML_SET_DEPTH(v, TOML_DEPTH(t) + 1);
		toml_parser_pos(ps, at, &v->line, &v->col);
		toml_index_add(&ps->index, t, last->s, last->len, v);
	} else if (v->type != TOML_ARRAY) {
		return not_table_err(ps, kp, kp->nr - 1, v, "an array of tables");
	} else if (!(v->flags & TOML_F_AOT)) {
		return key_err(ps, kp, kp->nr - 1,
			       "cannot append to static array '%s'");
	}
	t = toml_new_table();
	t->flags = TOML_F_DEFINED;
	TOML_SET_DEPTH(t, TOML_DEPTH(v) + 1);
	toml_parser_pos(ps, at, &t->line, &t->col);
	toml_array_append(v, t);
	*cur = t;
	return 0;
}
