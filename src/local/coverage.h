/*
 * A job's `coverage:` regex applied to its log, as GitLab does
 * (Gitlab::Ci::Trace::Stream#extract_coverage): of the last line that
 * matches, the last match (its last capture group when it has groups),
 * and in that the first number ("78.46").
 *
 * The caller does: coverage_init() with the keyword's value ("/re/");
 * coverage_feed() with every line of the log, in order; reads value (""
 * when no line matched); coverage_release().
 */
#ifndef CR_LOCAL_COVERAGE_H
#define CR_LOCAL_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct coverage {
	void *re;		/* pcre2_code */
	void *md;		/* pcre2_match_data */
	char value[32];
};

#define COVERAGE_INIT { NULL, NULL, "" }

/*
 * Compiles pattern, written as GitLab wants it, between slashes.
 * CR_ERR_INVALID with err (naming job) when it is not.
 */
int coverage_init(struct coverage *c, const char *pattern, const char *job,
		  struct buf *err);
/* One line of the log, without its newline; NUL bytes allowed. */
void coverage_feed(struct coverage *c, const char *line, size_t len);
void coverage_release(struct coverage *c);

#endif
