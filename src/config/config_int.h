/*
 * Private to src/config/config*.c: the key tables and the engine that
 * reads, defaults, frees, writes and compares the fields they describe.
 *
 * A section (the global one, [[runners]], [runners.docker], ...) is an
 * array of struct config_key rows over one C struct.  Each row names a TOML
 * key, its type, the offset of its field, its default and its checks:
 *
 *	{ .name = "concurrent", .type = CT_INT, OFF(struct config, concurrent),
 *	  .def = 1, .min = 1, .max = INT_MAX, .flags = CF_ALWAYS },
 *
 * config_section_defaults() applies every row's default, then
 * config_section_read() reads a TOML table into the struct (warning about
 * keys no row names), config_section_write() writes the struct into a
 * TOML table in row order and config_section_free() frees what it holds.
 */
#ifndef CR_CONFIG_INT_H
#define CR_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct buf;
struct toml_value;

enum config_type {
	CT_STRING,		/* char *; NULL when absent or "" */
	CT_INT,			/* int */
	CT_INT64,		/* int64_t */
	CT_BOOL,		/* bool */
	CT_TRIBOOL,		/* enum config_tribool (a Go *bool) */
	CT_DURATION,		/* int64_t ms; a Go duration string */
	CT_TIME,		/* time_t; a date-time, 0 = Go's zero time */
	CT_STRLIST,		/* struct strvec; an array of strings */
	CT_STR_OR_LIST,		/* struct strvec; a string or array of them */
	CT_STRMAP,		/* struct config_strmap; a table of strings */
	CT_BOOLMAP,		/* struct config_flags; a table of booleans */
	CT_SECTION,		/* an embedded struct described by .sub */
	CT_SECTION_ARRAY,	/* .sub structs: array .off, count .off2 */
	CT_ACCEPTED,		/* known and kept in the tree, not read */
	CT_DOUBLE,		/* double; a float or an integer; default 0 */
	/*
	 * char *: a table of anything, as Go's encoding/json writes it
	 * (sorted keys); NULL when absent (Go's nil map, JSON "null").  A
	 * row with a .check takes an array whose elements pass it instead.
	 */
	CT_JSON,
	CT_LISTMAP,		/* struct config_listmap; a table of string arrays */
	CT_DOUBLE_LIST,		/* struct config_doubles; an array of numbers */
};

enum config_key_flags {
	CF_SECRET = 1 << 0,	/* wiped before it is freed */
	CF_ALWAYS = 1 << 1,	/* written even when it holds the default */
	CF_NONPOS_DEFAULT = 1 << 2,	/* a value <= 0 reads as the default */
	CF_ZERO_DEFAULT = 1 << 3,	/* a value of 0 reads as the default */
	/*
	 * Read but not acted on: a value other than the default (for
	 * CT_ACCEPTED, anything but an empty table) is one warning at load,
	 * "file:line: 'k' in [s] has no effect in crunner".
	 */
	CF_NO_EFFECT = 1 << 4,
};

/* Checks one TOML value (or one array element); 0 when it is acceptable. */
typedef int (*config_check_fn)(const struct toml_value *v);

struct config_section;

struct config_key {
	const char *name;
	enum config_type type;
	size_t off;
	size_t off2;
	unsigned flags;
	int64_t def;		/* integers, booleans, durations (ms) */
	const char *def_str;	/* strings */
	int64_t min, max;	/* integer range; unchecked when both are 0 */
	const char *const *choices;	/* NULL-terminated allowed strings */
	config_check_fn check;
	const char *expect;	/* "must be <expect>"; NULL: from the type */
	const struct config_section *sub;
};

struct config_section {
	const char *title;	/* "[[runners]]"; NULL for the global section */
	const struct config_key *keys;
	size_t nr_keys;
	size_t size;		/* sizeof the struct */
	size_t present_off;	/* offset of its bool present, or NO_PRESENT */
};

#define NO_PRESENT ((size_t)-1)
#define OFF(type, field) .off = offsetof(type, field)

/*
 * config_table.c: a key of a config.toml table as gitlab-runner's decoder
 * finds it: exact name first, else ignoring case.  config_tree_get()
 * returns the value (NULL: none); config_tree_key() the spelling the
 * table has, or name when it has none (heap, the caller frees).
 */
struct toml_value *config_tree_get(const struct toml_value *table,
				   const char *name);
char *config_tree_key(const struct toml_value *table, const char *name);

/* config_keys.c */
extern const struct config_section config_global_section;
extern const struct config_section config_runner_section;
/* gitlab-runner's executor names, NULL-terminated. */
extern const char *const config_gitlab_executors[];

/* Where messages come from: the file name, and warnings to add to. */
struct config_ctx {
	const char *file;	/* NULL for values built in memory */
	struct strvec *warnings;	/* NULL: do not collect warnings */
	struct buf *err;
};

/* config_field.c: one field f of row k, by k->type. */

/* Storage for any one non-section field, to read a value on the side. */
union config_field {
	char *s;
	int i;
	int64_t l;
	bool b;
	time_t t;
	struct strvec sv;
	struct config_strmap sm;
	struct config_flags ff;
	double d;
	struct config_listmap lm;
	struct config_doubles dl;
};

int config_is_plain_string(const struct toml_value *v);
/* Sets f to the row's default; f's old content is not freed. */
void config_field_default(const struct config_key *k, void *f);
void config_field_free(const struct config_key *k, void *f);
/*
 * Replaces f (which holds a value) by what v says.  Returns 0, or -1 with
 * *bad set to the value at fault (v or one of its elements) and f unchanged.
 * Not for CT_SECTION, CT_SECTION_ARRAY and CT_ACCEPTED rows.
 */
int config_field_read(const struct config_key *k, void *f,
		      const struct toml_value *v,
		      const struct toml_value **bad);
/* CF_NONPOS_DEFAULT/CF_ZERO_DEFAULT: puts the default in place of 0. */
void config_field_normalize(const struct config_key *k, void *f);
int config_field_equal(const struct config_key *k, const void *a,
		       const void *b);
int config_field_is_default(const struct config_key *k, const void *f);
/* A new TOML value for f, or NULL when it has none (an unset tribool). */
struct toml_value *config_field_to_toml(const struct config_key *k,
					const void *f);

/* config_table.c */
void config_section_defaults(const struct config_section *sec, void *base);
int config_section_read(const struct config_section *sec, void *base,
			const struct toml_value *table,
			const struct config_ctx *ctx);
void config_section_free(const struct config_section *sec, void *base);
/*
 * Writes base into table: a key the table already has is replaced (in
 * place) only when its value reads differently; a missing key is added when
 * it differs from the default or has CF_ALWAYS.
 */
void config_section_write(const struct config_section *sec, const void *base,
			  struct toml_value *table);
/* Overwrites the CF_SECRET strings of a tree before it is freed. */
void config_section_wipe_tree(const struct config_section *sec,
			      struct toml_value *table);
/*
 * Records "file:line: 'key' [in <section>] must be <expect>, not <value>"
 * in ctx->err and returns CR_ERR_INVALID.
 */
int config_bad_value(const struct config_section *sec,
		     const struct config_key *k, const struct toml_value *v,
		     const struct config_ctx *ctx);
/* "file:line: " or "file: " or "" into b, for messages. */
void config_add_where(struct buf *b, const struct config_ctx *ctx, int line);

/*
 * Copies into dst each key of extra that sec has no row for, or whose row
 * is CT_ACCEPTED, unless dst has it; sub-sections are walked the same way.
 */
void config_section_copy_unmodelled(const struct config_section *sec,
				    struct toml_value *dst,
				    const struct toml_value *extra);

/* config_runner.c */
/* Reads one [[runners]] table into r (overwritten; released on failure). */
int config_runner_read(struct runner_config *r, const struct toml_value *table,
		       const struct config_ctx *ctx);

/* feature_flags.c */
/*
 * Adds to ctx->warnings one line per [runners.feature_flags] entry that
 * crunner does not act on (a flag it ignores set to anything but
 * gitlab-runner's default) or that gitlab-runner does not have.
 */
void config_feature_flags_check(const struct toml_value *table,
				const struct config_ctx *ctx);

/* slot_cgroup.c */
/*
 * gitlab-runner's validateSlotCgroups: with use_slot_cgroups, one warning
 * in ctx->warnings per template (slot_cgroup_template or its default,
 * [runners.docker] service_slot_cgroup_template) without ${slot}.
 */
void config_slot_cgroups_check(const struct runner_config *r,
			       const struct toml_value *table,
			       const struct config_ctx *ctx);

/* config_json.c: a TOML table and Go's JSON encoding of it. */
/* Appends v as Go's json.Marshal would write its decoded value. */
void config_toml_to_json(const struct toml_value *v, struct buf *out);
/* The TOML value of a JSON text (NULL for "null" or bad JSON). */
struct toml_value *config_json_to_toml(const char *json);

/* config_value.c */
/* Unix seconds to "2024-01-01T00:00:00Z" (0 gives 0001-01-01T00:00:00Z). */
void config_format_time(time_t t, char out[32]);

#endif
