/* The info object a [[runners]] entry announces (spec 1.8). */
#ifndef CR_RUNNER_INFO_H
#define CR_RUNNER_INFO_H

#include "gitlab/api.h"

struct runner_config;

/*
 * Fills info for rc: its executor and shell, and only the features crunner
 * implements for that executor (the server drops jobs that need others).
 * info borrows strings from rc.
 */
void runner_info_init(struct gl_info *info, const struct runner_config *rc);

/* HTTP options (TLS files, connection age) for rc. */
void runner_http_options(struct gl_http_options *http,
			 const struct runner_config *rc,
			 long connection_max_age_s);

#endif
