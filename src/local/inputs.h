/*
 * spec:inputs, as GitLab's Ci::Config::Interpolation does it: a file may
 * start with a header document (`spec: inputs: ...`) and `---`; its
 * content then has every `$[[ inputs.name | function | ... ]]` block
 * replaced by the input's value (the `include: inputs:` argument, else
 * the default), after the values are checked against the input's type,
 * options and regex.
 *
 * A block that is a whole value gives the input's own type (a number, a
 * boolean, a list spliced into the list around it); inside a longer
 * string it is replaced by its text.  Keys are interpolated too.
 * `$[[ matrix.NAME ]]` is left alone (needs:parallel:matrix uses it).
 * Functions: truncate(offset, length), expand_vars, posix_escape and
 * split('separator'), at most three per block.
 *
 * The include loader (local/yaml.c) calls inputs_apply() for every file
 * it reads: the main one (no arguments) and each include.
 */
#ifndef CR_LOCAL_INPUTS_H
#define CR_LOCAL_INPUTS_H

struct buf;
struct ynode;

/* What expand_vars sees: $VAR and ${VAR} expanded, unknown ones kept. */
struct inputs_vars {
	char *(*expand)(void *ctx, const char *text);	/* a new string */
	void *ctx;
};

/*
 * Interpolates content (a file's configuration, changed in place) with
 * the inputs header declares (NULL: the file has none) and the arguments
 * args gives (an `include: inputs:` mapping, NULL for none).  vars may be
 * NULL (expand_vars then leaves the text as it is).  On error err holds
 * one sentence naming the file (and the input) and content is half done.
 */
int inputs_apply(const struct ynode *header, const struct ynode *args,
		 struct ynode *content, const struct inputs_vars *vars,
		 const char *file, struct buf *err);

#endif
