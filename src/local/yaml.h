/*
 * Loading .gitlab-ci.yml into a struct ynode tree with libfyaml: aliases
 * and `<<` merge keys are resolved here as Ruby's Psych (GitLab's parser)
 * does, duplicate keys allowed (the later wins), a `spec:` header document
 * applied (local/inputs.h); tags such as
 * `!reference` stay on their nodes for local/pipeline.c.  `include:`
 * (local files and globs, nested) is merged here, as GitLab does: the
 * included files in order, then the including file on top, deep-merged.
 *
 * Errors: one sentence in err starting with "file:line:col: ".
 */
#ifndef CR_LOCAL_YAML_H
#define CR_LOCAL_YAML_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct ynode;

/* GitLab's default ci_max_includes. */
#define YAML_MAX_INCLUDES 150

/* The file names the nodes point to; lives as long as the nodes. */
struct yfiles {
	char **names;
	size_t nr, alloc;
};

#define YFILES_INIT { NULL, 0, 0 }

void yfiles_release(struct yfiles *f);

/*
 * Parses text (named display in messages) into *out (a new tree): with a
 * `spec:` header document, its inputs filled in from their defaults.
 */
int yaml_load_string(struct yfiles *files, const char *text, size_t len,
		     const char *display, struct ynode **out, struct buf *err);

/* A file an include entry names outside the working tree, fetched. */
struct yaml_fetched {
	char *text;
	size_t len;
	char *name;		/* in messages: URL, "group/proj@ref:file"... */
	/* Where its own `include: local` files are; project NULL: in the
	 * working tree. */
	char *project, *ref;
};

void yaml_fetched_release(struct yaml_fetched *f);

/*
 * The same for an included file: args is its `include: inputs:` mapping
 * (NULL for none), vars what expand_vars sees (NULL: nothing expands).
 * Every include, local or fetched, goes through here (local/inputs.h).
 */
struct inputs_vars;
int yaml_load_with_inputs(struct yfiles *files, const char *text, size_t len,
			  const char *display, const struct ynode *args,
			  const struct inputs_vars *vars, struct ynode **out,
			  struct buf *err);

/*
 * What `include:` entries need from the rules engine (local/pipeline.c
 * fills it): keep() decides an entry's `rules:` (*keep false leaves the
 * file out), expand() replaces the variables in a path (a new string).
 */
struct yaml_include_ctx {
	int (*keep)(void *ctx, const struct ynode *rules, bool *keep,
		    struct buf *err);
	char *(*expand)(void *ctx, const char *path);
	void *ctx;
	/*
	 * Entries whose files are not in the working tree (remote, project,
	 * template, component, and local ones in a file from another
	 * project): fills *out with a new array of *nr fetched files, read
	 * as from a file of project at ref (NULL: the working tree).  NULL:
	 * such entries are refused.  See local/include_remote.h.
	 */
	int (*fetch)(void *fetch_ctx, const struct yaml_include_ctx *ic,
		     const struct ynode *entry, const char *project,
		     const char *ref, struct yaml_fetched **out, size_t *nr,
		     struct buf *err);
	void *fetch_ctx;
};

/*
 * Loads root_dir/file and every `include: local` it names (paths relative
 * to root_dir; a leading '/' is optional; '*' matches within a directory
 * and '**' across directories), as ic's rules and variables say (ic NULL:
 * every entry, paths as written), and the other include forms through
 * ic->fetch.  At most YAML_MAX_INCLUDES files are included in all
 * (GitLab's "Maximum of 150 nested includes", which also stops cycles).
 * *out is the merged top-level mapping without the `include` key.
 */
int yaml_load_pipeline(struct yfiles *files, const char *root_dir,
		       const char *file, const struct yaml_include_ctx *ic,
		       struct ynode **out, struct buf *err);

/* Glob match used by include and exists: '*', '**', '?', '[...]'. */
int yaml_glob_match(const char *pattern, const char *path);

/*
 * The files under root matching pattern (relative paths, sorted; .git
 * skipped; symbolic links not followed).  A pattern without wildcards is
 * returned as it is, whether or not it exists.
 */
struct strvec;
void yaml_glob_files(const char *root, const char *pattern,
		     struct strvec *matches);

#endif
