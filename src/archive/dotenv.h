/*
 * dotenv reports (artifacts:reports:dotenv) parsed and checked as GitLab
 * checks them when it receives one (Ci::ParseDotenvArtifactService): at
 * most DOTENV_MAX_SIZE bytes and DOTENV_MAX_VARIABLES variables, one
 * KEY=VALUE per line, keys of letters, digits and '_', blank lines
 * skipped, white space around key and value removed, a value wrapped in
 * matching single or double quotes unwrapped; a later duplicate key
 * replaces the earlier one.  The artifacts helper uses it to refuse a
 * report GitLab would refuse, before uploading it (dotenv_report.h).
 */
#ifndef CR_ARCHIVE_DOTENV_H
#define CR_ARCHIVE_DOTENV_H

#include <stddef.h>

#include "util/strvec.h"

struct buf;

#define DOTENV_MAX_SIZE ((size_t)5 << 10)
#define DOTENV_MAX_VARIABLES 20

/*
 * Parses len bytes of text.  On success keys and values receive one entry
 * per variable, in first-seen order.  Returns 0, CR_ERR_TOO_LARGE (size or
 * count) or CR_ERR_INVALID with one sentence naming the line in err.
 */
int dotenv_parse(const char *text, size_t len, struct strvec *keys,
		 struct strvec *values, struct buf *err);

/*
 * The same without the size limit on the text, for one blob of a report
 * whose stored (compressed) size the caller checked, as GitLab limits
 * that; keys and values add up over the blobs of one report, and the
 * variable limit counts them all.
 */
int dotenv_parse_blob(const char *text, size_t len, struct strvec *keys,
		      struct strvec *values, struct buf *err);

#endif
