/*
 * Private to src/config/toml*.c: the parser state shared by the document
 * parser (toml.c), the lexer (toml_lex.c), the tree helpers (toml_value.c)
 * and the writer (toml_write.c).
 */
#ifndef CR_TOML_INTERNAL_H
#define CR_TOML_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config/toml.h"

struct buf;

/*
 * Bits of toml_value.flags.  They record how the parser created a table or
 * array, which decides what a later header or dotted key may do with it.
 * The bits above TOML_F_DEPTH_SHIFT hold the value's nesting depth (the
 * root is 0) so the parser can cap it at CR_MAX_TOML_DEPTH.
 */
enum toml_flags {
	TOML_F_IMPLICIT = 1 << 0,	/* made by a header path; [x] may define it */
	TOML_F_DEFINED = 1 << 1,	/* defined by [x] or [[x]] */
	TOML_F_DOTTED = 1 << 2,		/* made by a dotted key */
	TOML_F_INLINE = 1 << 3,		/* inline table or static array: frozen */
	TOML_F_AOT = 1 << 4,		/* array of tables made by [[x]] */
};
#define TOML_F_DEPTH_SHIFT 8
#define TOML_F_KIND_MASK ((1u << TOML_F_DEPTH_SHIFT) - 1)
#define TOML_DEPTH(v) ((int)((v)->flags >> TOML_F_DEPTH_SHIFT))
#define TOML_SET_DEPTH(v, d) \
	((v)->flags = ((v)->flags & TOML_F_KIND_MASK) | \
		      ((unsigned)(d) << TOML_F_DEPTH_SHIFT))

/* Replaces the TOML_F_* bits of v, keeping its depth. */
static inline void toml_set_kind(struct toml_value *v, unsigned kind)
{
	v->flags = (v->flags & ~TOML_F_KIND_MASK) | kind;
}

/*
 * Hash index from (table, key) to the key's slot in that table, so that
 * parsing a table with many keys stays linear.  Tables only grow while
 * parsing, so slots never move.
 */
struct toml_index_entry {
	const struct toml_value *table;	/* NULL: empty slot */
	size_t slot;
	uint64_t hash;
};

struct toml_index {
	struct toml_index_entry *entries;
	size_t nr, cap;			/* cap is 0 or a power of two */
};

/* State of one toml_parse() call. */
struct toml_parser {
	const char *text;	/* NUL-terminated copy; holds no other NUL */
	const char *end;	/* text + length */
	const char *name;	/* for messages */
	struct buf *err;
	/* Cache for toml_parser_pos(): the position of pos_ptr. */
	const char *pos_ptr;
	int pos_line, pos_col;
	struct toml_index index;
};

/* The 1-based line and column (in characters) of at. */
void toml_parser_pos(struct toml_parser *ps, const char *at, int *line,
		     int *col);
/*
 * Records "<name>:<line>:<col>: <message>" for position at in ps->err (the
 * first error wins) and returns CR_ERR_INVALID.
 */
int toml_parser_err(struct toml_parser *ps, const char *at, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* One segment of a dotted key, and where it starts in the document. */
struct key_seg {
	char *s;		/* owned; may hold NULs */
	size_t len;
	const char *at;
};

struct key_path {
	struct key_seg *segs;
	size_t nr, alloc;
};

#define KEY_PATH_INIT { NULL, 0, 0 }

/* --- toml_table.c --- */

void toml_key_path_release(struct key_path *kp);
/* Whether c may appear in a bare key. */
int toml_is_bare(int c);
/* Appends segments 0..upto of kp, dotted and quoted where needed. */
void toml_describe_key(struct buf *b, const struct key_path *kp,
		       size_t upto);
/* Fails when depth is over CR_MAX_TOML_DEPTH. */
int toml_check_depth(struct toml_parser *ps, const char *at, int depth);
/*
 * For "a.b.c = v" in table t: walks (and makes) the tables a and a.b,
 * checks that c is not defined yet and sets *target to the table that
 * receives c.
 */
int toml_resolve_dotted(struct toml_parser *ps, struct toml_value *t,
			const struct key_path *kp, struct toml_value **target);
/*
 * For a [a.b] (aot == 0) or [[a.b]] header at at: walks from the root,
 * through arrays of tables to their last element, defines the table or
 * appends one to the array, and sets *cur to the table that receives the
 * key/value lines that follow.
 */
int toml_resolve_header(struct toml_parser *ps, struct toml_value *root,
			const struct key_path *kp, const char *at, int aot,
			struct toml_value **cur);

/* --- toml_lex.c --- */

/*
 * Checks that len bytes are valid UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF).  Returns 0, or -1 with *bad set to the
 * offset of the first offending byte.
 */
int toml_utf8_check(const char *s, size_t len, size_t *bad);

/*
 * Parses one of the four string forms at *p (which points at ' or ") and
 * appends its bytes to out.  With allow_ml == 0, multi-line forms are
 * rejected (keys).  Advances *p past the closing quote on success.
 */
int toml_lex_string(struct toml_parser *ps, const char **p, int allow_ml,
		    struct buf *out);

/*
 * Parses an integer or float at *p into v (type and value).  On failure
 * returns CR_ERR_INVALID with *why set and *p at the offending character.
 */
int toml_lex_number(const char **p, struct toml_value *v, const char **why);

/* Whether c may continue a number token ([0-9A-Za-z_.+-]). */
int toml_is_number_char(int c);

/* --- toml_datetime.c --- */

/* Whether *p starts a date (dddd-) or a time (dd:) rather than a number. */
int toml_lex_is_datetime(const char *p);

/*
 * Parses a date, time or date-time at *p; sets *type and appends the
 * normalised text (see toml.h) to norm.  On failure returns CR_ERR_INVALID
 * with *why set and *p at the offending character.
 */
int toml_lex_datetime(const char **p, enum toml_type *type, struct buf *norm,
		      const char **why);

/* --- toml_value.c --- */

/* A string value of len bytes (may hold NULs). */
struct toml_value *toml_new_string_len(const char *s, size_t len);
/* Appends key (len bytes) with v to a table; no check for duplicates. */
void toml_table_append(struct toml_value *table, const char *key, size_t len,
		       struct toml_value *v);

/* Looks key up in table through the index; NULL when absent. */
struct toml_value *toml_index_get(struct toml_index *ix,
				  const struct toml_value *table,
				  const char *key, size_t len);
/* toml_table_append() and records the new key in the index. */
void toml_index_add(struct toml_index *ix, struct toml_value *table,
		    const char *key, size_t len, struct toml_value *v);
void toml_index_release(struct toml_index *ix);

#endif
