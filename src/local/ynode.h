/*
 * struct ynode: a plain tree of YAML values (null, scalar, sequence,
 * mapping) with the position each node came from.  The local source
 * loads .gitlab-ci.yml into this tree (local/yaml.c), then merges
 * includes, resolves !reference tags and extends on it (local/pipeline.c)
 * before it reads jobs out of it.
 *
 * Ownership: a node owns its key strings, children, tag and text; the
 * file name is shared with the struct yfiles the loader keeps alive for
 * the whole pipeline (nodes only borrow it).  ynode_free() accepts NULL.
 */
#ifndef CR_LOCAL_YNODE_H
#define CR_LOCAL_YNODE_H

#include <stdbool.h>
#include <stddef.h>

enum ynode_kind {
	YNODE_NULL,
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_kind kind;
	char *tag;		/* "!reference" and the like; NULL for none */
	char *str;		/* scalars: the text ("" for null) */
	bool quoted;		/* the scalar was quoted: always a string */
	struct ynode **items;	/* sequence items, or mapping values */
	char **keys;		/* mappings: one key per item */
	size_t nr, alloc;
	const char *file;	/* borrowed; may be NULL */
	int line, col;		/* 1-based; 0 when unknown */
	int kline, kcol;	/* a mapping value: where its key is */
};

struct ynode *ynode_new(enum ynode_kind kind, const char *file, int line,
			int col);
struct ynode *ynode_new_scalar(const char *text, const char *file, int line,
			       int col);
void ynode_free(struct ynode *n);

/* A deep copy (positions and tags included). */
struct ynode *ynode_copy(const struct ynode *n);

/* Appends to a sequence; the sequence takes item. */
void ynode_push(struct ynode *seq, struct ynode *item);

/* Mapping lookup; NULL when absent or when map is not a mapping. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
/* Index of key in map, or -1. */
long ynode_index(const struct ynode *map, const char *key);
/* Sets key (replacing any old value in place); the map takes value. */
void ynode_set(struct ynode *map, const char *key, struct ynode *value);
/* Removes key, freeing its value; nothing when absent. */
void ynode_remove(struct ynode *map, const char *key);

/*
 * GitLab's deep merge (extends, include): mappings merge key by key,
 * recursively; anything else in src replaces what dst has.  dst must be
 * a mapping; src is copied, not taken.
 */
void ynode_merge(struct ynode *dst, const struct ynode *src);

/*
 * Splices nested sequences into seq, in order, as Ruby's Array#flatten
 * (lists nested up to max_depth levels; deeper ones stay lists).
 * Nothing when seq is not a sequence.
 */
void ynode_flatten(struct ynode *seq, int max_depth);

/* A scalar's text ("" for null), or NULL for sequences and mappings. */
const char *ynode_text(const struct ynode *n);
/* true/false scalars (unquoted); -1 when n is not a boolean. */
int ynode_bool(const struct ynode *n);
/* "file:line:col" of n, or "file" / "" when unknown. */
void ynode_where(const struct ynode *n, char *out, size_t size);
/* The same for the key a mapping value sits under (else the value). */
void ynode_where_key(const struct ynode *n, char *out, size_t size);

#endif
