/* Internal to the scanners: the per-file cursor and pin helpers. */
#ifndef RTUP_SCAN_INT_H
#define RTUP_SCAN_INT_H
#include "rtup.h"

struct scan_ctx {
	const struct conf *c;
	const struct repo_conf *repo;
	const char *path;	/* relative; not owned */
	const char *data;	/* the file; not owned */
	size_t len;
	struct pinvec *out;
	size_t first;		/* index of this file's first pin */
	int ci, rank;
	/* The current line: [ls, le) without its line break; next at ln. */
	size_t ls, le, ln;
	int lineno;
	char section[32];	/* mise/package.json/Gemfile.lock state */
};

typedef void (*scan_line_fn)(struct scan_ctx *x);

/* Adds a pin over [s, e) unless one overlaps it; returns it or NULL. */
struct pin *scan_pin(struct scan_ctx *x, const char *rt, enum role role,
		     size_t s, size_t e, const char *name, const char *scanner);
/*
 * A value at [s, e): '$' makes it derived, a version (optionally after
 * 'v') a pin whose role is base (exact becomes minor below three parts),
 * a plain word floating.  With suffix_ok, text may follow the version.
 */
struct pin *scan_value(struct scan_ctx *x, const struct runtime_desc *rd,
		       enum role base, size_t s, size_t e, const char *name,
		       const char *scanner, int suffix_ok);
/* Every version in [s, e) as one window list. */
void scan_list(struct scan_ctx *x, const struct runtime_desc *rd, size_t s,
	       size_t e, const char *name, const char *scanner);
/* An image reference at [s, e). */
void scan_image(struct scan_ctx *x, size_t s, size_t e, const char *scanner);
/* $VAR and ${VAR} naming runtime variables on the current line. */
void scan_derived_refs(struct scan_ctx *x, const char *scanner);
/* Trims blanks and one pair of quotes off [*s, *e); stops at " #". */
void scan_unquote(const char *d, size_t *s, size_t *e);

/* "# renovate: ... allowedVersions=/1\.26\..+/" on the current line. */
void scan_annotation(struct scan_ctx *x);
/* Binds each annotation of the file to the next pin within two lines. */
void scan_bind_annotations(struct scan_ctx *x);
/* The repository's role = ["PATH:ROLE"] overrides on the file's pins. */
void scan_apply_overrides(struct scan_ctx *x);
/* The [rule]s selected in want on the current line; hits counts matches. */
void scan_rules(struct scan_ctx *x, const int *want, size_t *hits,
		struct buf *line);

scan_line_fn scan_choose(const char *rel, const char *base, int docs,
			 int *ci, int *rank);
#endif
