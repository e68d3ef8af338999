/* Writing planned edits: byte spans, unified diffs, atomic writes. */
#ifndef RTUP_EDIT_H
#define RTUP_EDIT_H
#include "rtup.h"

/* Applies fe's edits to data into out (edits sorted on the way). */
int edit_apply(const char *data, size_t len, struct file_edits *fe,
	       struct buf *out);
/* A git-style unified diff of one file, appended to out. */
void edit_diff(const char *path, const char *data, size_t len,
	       struct file_edits *fe, struct buf *out);
/* Temp file beside path, same mode, fsync, rename(2). */
int edit_write_atomic(const char *path, const char *data, size_t len,
		      struct buf *err);
/* Reads a whole file (at most 16 MiB). */
int edit_read(const char *path, struct buf *out, struct buf *err);
/*
 * For every file of p under root: checks its hash (CR_ERR_EXISTS with
 * "file changed since plan" in err when it differs), then appends the diff
 * to diff (may be NULL) and, with write, writes the result.  Nothing is
 * written unless every hash matches.
 */
int edit_repo(const char *root, struct repo_plan *p, int write,
	      struct buf *diff, struct buf *err);
#endif
