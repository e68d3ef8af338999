/*
 * Error codes shared by every module.
 *
 * A function that can fail returns int: 0 on success, a negative CR_ERR_*
 * value on failure.  Human context travels separately in a struct buf (see
 * buf.h); cr_strerror() names the code itself.
 */
#ifndef CR_ERROR_H
#define CR_ERROR_H

enum cr_err {
	CR_OK = 0,
	CR_ERR_INTERNAL = -1,	/* a bug or an impossible state */
	CR_ERR_NOMEM = -2,
	CR_ERR_INVALID = -3,	/* bad input: syntax, type or value */
	CR_ERR_TOO_LARGE = -4,	/* over a limit from src/util/limits.h */
	CR_ERR_IO = -5,		/* a system call failed; errno has more */
	CR_ERR_NOT_FOUND = -6,
	CR_ERR_EXISTS = -7,
	CR_ERR_NETWORK = -8,	/* could not talk to the coordinator */
	CR_ERR_AUTH = -9,	/* token refused */
	CR_ERR_PROTOCOL = -10,	/* the peer said something we cannot use */
	CR_ERR_USAGE = -11,	/* bad command line */
	CR_ERR_CANCELED = -12,
	CR_ERR_TIMEOUT = -13,
	CR_ERR_UNSUPPORTED = -14,
	CR_ERR_RETRY = -15,	/* transient; the same call may succeed later */
	/*
	 * The runner's configuration refuses what the job asks for (a pull
	 * policy it does not allow): a job's runner_configuration_error, not
	 * retried (gitlab-runner's BuildError with ConfigurationError).
	 */
	CR_ERR_CONFIG = -16,
};

/* A static, lower-case description of an error code; never NULL. */
const char *cr_strerror(int err);

#endif
