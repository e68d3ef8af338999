/* git and other child programs, argument vectors only (no shell). */
#ifndef RTUP_GIT_H
#define RTUP_GIT_H
#include "rtup.h"

/*
 * Runs argv (NULL-terminated) in dir with extra env ("NAME=value"), stdout
 * into out (may be NULL), stderr into err's message on failure.  timeout
 * in seconds (0: none) kills the whole process group.  Returns the exit
 * status (>= 0), CR_ERR_TIMEOUT, or a negative CR_ERR_* when it could not
 * start.  With log_fd >= 0 both outputs go there instead.
 */
int run_cmd(const char *dir, const char *const *argv,
	    const struct strvec *env, int timeout, int log_fd,
	    struct buf *out, struct buf *err);
/* git -C dir ARGS...; 0 on exit 0, else CR_ERR_IO with git's stderr. */
int git(const char *dir, struct buf *out, struct buf *err, ...)
	__attribute__((sentinel));
#endif
