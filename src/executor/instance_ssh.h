/*
 * How crunner logs in to an instance an autoscaler acquired: the
 * instance's connect info (fleeting's ConnectInfo) as the TARGET options
 * and environment of "crunner ssh-helper" (src/cli/helper_ssh.c).
 *
 * As gitlab-runner's fleeting connector: the address is InternalAddr, or
 * ExternalAddr when there is no internal one (choosing the external one
 * under use_external_addr is the acquisition's business: it may leave
 * only that one set); the port is the address's own, else protocol_port,
 * else 22; the key, then the password; the host key is not pinned
 * (instances are fresh machines whose keys nobody knows beforehand).
 */
#ifndef CR_INSTANCE_SSH_H
#define CR_INSTANCE_SSH_H

struct buf;
struct ig_connect_info;
struct strvec;

/*
 * Appends --host, --port, --user, --disable-strict-host-key-checking and
 * the connect timeout and keepalive to args, and CRUNNER_SSH_PRIVATE_KEY
 * and CRUNNER_SSH_PASSWORD (set, or "NAME" alone: unset) to env (a secret:
 * the caller wipes it).  Returns 0, or CR_ERR_UNSUPPORTED (a protocol
 * other than ssh) or CR_ERR_INVALID (no address) with one sentence in err.
 */
int instance_ssh_args(const struct ig_connect_info *ci, struct strvec *args,
		      struct strvec *env, struct buf *err);

/*
 * Splits addr into host and port: "h", "h:22", "[::1]:22", "::1" (more
 * than one colon and no brackets: all host).  *port is NULL when addr has
 * none.  Both are new strings (free()).
 */
void instance_ssh_split_addr(const char *addr, char **host, char **port);

/*
 * How the job log names the instance in "Dialing instance %s...", as
 * gitlab-runner's acquisition: its id, then ", " and the internal address
 * with log_internal_ip, then ", " and the external one with
 * log_external_ip (each only when the plugin gave one).  A new string.
 */
char *instance_dial_ident(const struct ig_connect_info *ci,
			  int log_internal_ip, int log_external_ip);

#endif
