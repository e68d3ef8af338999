/* Shared by the sshc_*.c files only. */
#ifndef CR_SSHC_INT_H
#define CR_SSHC_INT_H

#include <libssh/libssh.h>

#include "ssh/sshc.h"

struct sshc_conn {
	ssh_session session;
	char *name;		/* "user@host:port" */
	long keepalive_ms;	/* 0: none */
};

/* The host key policy of gitlab-runner's [runners.ssh]. */
int sshc_check_host_key(struct sshc_conn *c, const struct sshc_target *t,
			struct buf *err);
/* Public key, then password; CR_ERR_AUTH when neither logged in. */
int sshc_authenticate(struct sshc_conn *c, const struct sshc_target *t,
		      struct buf *err);
/*
 * Waits up to timeout_ms for the session socket or extra_fd (-1: none) to
 * become readable; 1: extra_fd is, 0: otherwise (data or timeout).
 */
int sshc_wait(struct sshc_conn *c, int extra_fd, long timeout_ms);

#endif
