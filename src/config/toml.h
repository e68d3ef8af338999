/*
 * TOML 1.0 documents as a tree of values.
 *
 * 1. toml_parse() reads a document into a tree the caller owns; on failure
 *    it returns a negative CR_ERR_* and appends one sentence naming
 *    "<name>:<line>:<col>" and the problem to err.
 * 2. The caller walks the tree with toml_table_get() and the array/table
 *    fields, or edits it with the toml_table_set_*() helpers.
 * 3. toml_write() turns a tree back into TOML text; toml_write_file() does
 *    so atomically (temp file + rename, mode 0600).
 * 4. toml_value_free() frees a tree and everything under it.
 *
 * Every value remembers the line and column where it was defined, so that
 * the config model can name file:line in its messages.
 */
#ifndef CR_TOML_H
#define CR_TOML_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME,		/* offset date-time: 1979-05-27T07:32:00Z */
	TOML_DATETIME_LOCAL,	/* 1979-05-27T07:32:00 */
	TOML_DATE_LOCAL,	/* 1979-05-27 */
	TOML_TIME_LOCAL,	/* 07:32:00 */
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_value;

/* One key/value pair of a table; the table owns key and value. */
struct toml_kv {
	char *key;		/* NUL-terminated; may hold NULs, see keylen */
	size_t keylen;
	struct toml_value *value;
};

struct toml_table {
	struct toml_kv *items;	/* in the order the document defined them */
	size_t nr, alloc;
};

struct toml_array {
	struct toml_value **items;
	size_t nr, alloc;
};

struct toml_value {
	enum toml_type type;
	int line, col;		/* 1-based; 0 for values made in memory */
	union {
		struct {
			char *ptr;	/* NUL-terminated, may hold NULs */
			size_t len;
		} str;
		int64_t integer;
		double fp;
		int boolean;
		/*
		 * Date/time values keep their text normalised to RFC 3339
		 * with 'T' and upper-case 'T'/'Z', e.g.
		 * "1979-05-27T07:32:00.999-07:00"; seconds are always present.
		 */
		char *datetime;
		struct toml_array array;
		struct toml_table table;
	} u;
	/* Parser bookkeeping; zero for values made in memory. */
	unsigned flags;
};

/*
 * Parses len bytes of text (need not be NUL-terminated).  name is used in
 * messages ("config.toml:12:5: ...").  On success *out is a TOML_TABLE the
 * caller frees with toml_value_free().
 */
int toml_parse(const char *text, size_t len, const char *name,
	       struct toml_value **out, struct buf *err);
/* Reads and parses a file (at most CR_MAX_TOML_FILE bytes). */
int toml_parse_file(const char *path, struct toml_value **out,
		    struct buf *err);

void toml_value_free(struct toml_value *v);

/* Looks a key up in a table value; NULL when absent or v is not a table. */
struct toml_value *toml_table_get(const struct toml_value *table,
				  const char *key);

/* Constructors for building or editing trees; they never fail. */
struct toml_value *toml_new_table(void);
struct toml_value *toml_new_array(void);
struct toml_value *toml_new_string(const char *s);
struct toml_value *toml_new_integer(int64_t i);
struct toml_value *toml_new_float(double d);
struct toml_value *toml_new_bool(int b);
/* type is one of the four date/time types; text as in toml_value. */
struct toml_value *toml_new_datetime(enum toml_type type, const char *text);

/* A deep copy of v (line and column kept). */
struct toml_value *toml_value_copy(const struct toml_value *v);

/*
 * Sets key in a table value to v, replacing (and freeing) any old value in
 * place so the key keeps its position.  The table takes ownership of v.
 */
void toml_table_set(struct toml_value *table, const char *key,
		    struct toml_value *v);
/* Removes key from a table, freeing its value; returns 1 if it was there. */
int toml_table_remove(struct toml_value *table, const char *key);
/* Appends v to an array value, which takes ownership of it. */
void toml_array_append(struct toml_value *array, struct toml_value *v);
/* Removes and frees element i of an array value. */
void toml_array_remove(struct toml_value *array, size_t i);

/*
 * Appends the TOML text of a root table to out.  Plain values come first,
 * then sub-tables as [a.b] sections and arrays of tables as [[a]]; the
 * output parses back to an equal tree.
 */
int toml_write(const struct toml_value *root, struct buf *out);
/*
 * Writes the tree to path atomically: a temp file beside it with mode
 * 0600, fsync, rename.  On failure path is untouched and err says why.
 */
int toml_write_file(const char *path, const struct toml_value *root,
		    struct buf *err);

/* "string", "integer", ... as TOML names its types. */
const char *toml_type_name(enum toml_type type);

#endif
