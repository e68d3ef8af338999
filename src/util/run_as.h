/*
 * Running a job as another user: gitlab-runner's `user` (config.toml's
 * global key, `run --user`), which its shell executor applies with
 * "su -s /bin/<shell> <user> -c <shell>".  crunner resolves the account
 * once per job and switches in the child process instead (struct proc's
 * user), with what su sets up: the user's uid, primary group and
 * supplementary groups (initgroups), and HOME, SHELL, USER and LOGNAME.
 * Files crunner writes for such a job are made to belong to the user
 * (run_as_chown(), run_as_mkdir_p()).
 *
 * Switching needs root.  run_as_resolve() says what to do when crunner
 * is not root: nothing when the user is crunner's own, an error otherwise
 * (gitlab-runner's su would ask for a password there and the job fail).
 */
#ifndef CR_RUN_AS_H
#define CR_RUN_AS_H

#include <sys/types.h>

struct buf;
struct strvec;

struct run_as {
	char *name;
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, gid included */
	int nr_groups;
	char *home;
};

#define RUN_AS_INIT { NULL, 0, 0, NULL, 0, NULL }

/*
 * Looks the account up (getpwnam) with its groups (getgrouplist).
 * Returns 0, CR_ERR_NOT_FOUND ("no such user 'x'") or CR_ERR_IO, with
 * one sentence in err.  ra is left empty on failure.
 */
int run_as_lookup(const char *name, struct run_as *ra, struct buf *err);

/*
 * What a job for user name should do, given crunner's effective uid euid:
 * with euid 0, looks the user up into *out (heap, free with run_as_free)
 * and returns 0; when name is crunner's own account, sets *out = NULL
 * (no switch needed) and returns 0; otherwise returns
 * CR_ERR_UNSUPPORTED with one sentence in err.
 */
int run_as_resolve(const char *name, uid_t euid, struct run_as **out,
		   struct buf *err);

void run_as_release(struct run_as *ra);
void run_as_free(struct run_as *ra);

/*
 * The variables su sets for the target ("NAME=value" into env): HOME,
 * SHELL (shell_path), USER and LOGNAME.
 */
void run_as_push_env(const struct run_as *ra, const char *shell_path,
		     struct strvec *env);

/*
 * Gives path (not following a final symlink) to the user and its primary
 * group.  ra NULL: nothing to do.  Returns 0, or CR_ERR_IO with one
 * sentence in err.
 */
int run_as_chown(const struct run_as *ra, const char *path, struct buf *err);

/*
 * mkdir -p whose new directories belong to the user (existing ones are
 * left as they are); dir itself gets mode, its new parents 0755.  ra NULL:
 * fs_mkdir_p().  Returns 0, or CR_ERR_IO with one sentence in err.
 */
int run_as_mkdir_p(const struct run_as *ra, const char *dir, mode_t mode,
		   struct buf *err);

#endif
