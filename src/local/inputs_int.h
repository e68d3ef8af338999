/* Shared between local/inputs.c and local/inputs_func.c only. */
#ifndef CR_LOCAL_INPUTS_INT_H
#define CR_LOCAL_INPUTS_INT_H

struct buf;
struct inputs_vars;
struct ynode;

/* What a value is to Ruby once Psych has read it. */
enum ival_kind {
	IV_NIL,
	IV_STRING,
	IV_NUMBER,
	IV_BOOL,
	IV_ARRAY,
	IV_HASH,
};

enum ival_kind inputs_kind(const struct ynode *n);

/* Ruby's to_s of a value (arrays and hashes as inspect shows them). */
void inputs_to_s(const struct ynode *v, struct buf *out);

/*
 * Applies the interpolation function expr ("truncate(0, 8)",
 * "expand_vars", "posix_escape", "split(',')") to v, which it takes;
 * returns the new value, or NULL with err set (at/file for messages).
 */
struct ynode *inputs_call(const char *expr, struct ynode *v,
			  const struct inputs_vars *vars,
			  const struct ynode *at, const char *file,
			  struct buf *err);

#endif
