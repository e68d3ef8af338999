/*
 * struct variables: an ordered collection of job variables, as GitLab
 * sends them (spec section 3.5): duplicate keys are normal and the last
 * occurrence wins for lookups and in the environment.
 *
 * The collection owns every key and value; values of masked variables are
 * wiped when released.
 */
#ifndef CR_VARIABLES_H
#define CR_VARIABLES_H

#include <stddef.h>

struct buf;

enum variable_flags {
	VAR_PUBLIC = 1 << 0,	/* may reach service containers */
	VAR_MASKED = 1 << 1,	/* masked in the trace */
	VAR_FILE = 1 << 2,	/* value goes to a file, the variable names it */
	VAR_RAW = 1 << 3,	/* no $ expansion */
};

struct variable {
	char *key;
	char *value;
	unsigned flags;
};

struct variables {
	struct variable *items;
	size_t nr, alloc;
};

#define VARIABLES_INIT { NULL, 0, 0 }

void variables_init(struct variables *vars);
void variables_release(struct variables *vars);

/* Appends a copy of key and value (NULL value is taken as ""). */
void variables_add(struct variables *vars, const char *key, const char *value,
		   unsigned flags);
/* Appends every variable of src, in order. */
void variables_add_all(struct variables *vars, const struct variables *src);

/* The last variable named key, or NULL. */
const struct variable *variables_find(const struct variables *vars,
				      const char *key);
/* Its value, or NULL when there is none. */
const char *variables_get(const struct variables *vars, const char *key);
/* 1 for "1", "true", "yes", "on" (any case); def when unset or unknown. */
int variables_get_bool(const struct variables *vars, const char *key,
		       int def);

/*
 * Appends s to out with $NAME and ${NAME} replaced by their values in vars
 * (unknown names become empty, "$$" becomes "$"), one level deep, as
 * gitlab-runner's ExpandValue does.
 */
void variables_expand_into(const struct variables *vars, const char *s,
			   struct buf *out);
/* A malloc'd expansion of s; the caller frees it. */
char *variables_expand(const struct variables *vars, const char *s);

/*
 * Expands every value that is not VAR_RAW against the collection as it was
 * before any expansion (a value never sees another's expanded form).
 */
void variables_expand_all(struct variables *vars);

/*
 * Builds the collection that is exported to the job, one entry per key
 * (the last occurrence, in first-occurrence order).  dst must be empty.
 */
void variables_unique(const struct variables *src, struct variables *dst);

#endif
