#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/run_as.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* getpwnam_r/getpwuid_r with a buffer that grows on ERANGE. */
static int get_passwd(const char *name, uid_t uid, struct passwd *pw,
		      char **mem)
{
	size_t size = 1024;
	struct passwd *res = NULL;
	int e;

	for (;;) {
		*mem = xmalloc(size);
		e = name ? getpwnam_r(name, pw, *mem, size, &res) :
			getpwuid_r(uid, pw, *mem, size, &res);
		if (e != ERANGE || size >= (1u << 20))
			break;
		free(*mem);
		size *= 4;
	}
	if (!e && !res)
		e = ENOENT;
	if (e) {
		free(*mem);
		*mem = NULL;
	}
	return e;
}

int run_as_lookup(const char *name, struct run_as *ra, struct buf *err)
{
	struct passwd pw;
	char *mem = NULL;
	int n = 16, e;

	*ra = (struct run_as)RUN_AS_INIT;
	if (!name || !*name) {
		buf_seterr(err, "no user name given");
		return CR_ERR_INVALID;
	}
	if ((e = get_passwd(name, 0, &pw, &mem)) != 0) {
		if (e == ENOENT || e == ESRCH || e == EBADF || e == EPERM) {
			buf_seterr(err, "no such user '%s'", name);
			return CR_ERR_NOT_FOUND;
		}
		buf_seterr(err, "cannot look up user '%s': %s", name,
			   strerror(e));
		return CR_ERR_IO;
	}
	ra->name = xstrdup(pw.pw_name);
	ra->uid = pw.pw_uid;
	ra->gid = pw.pw_gid;
	ra->home = xstrdup(pw.pw_dir && *pw.pw_dir ? pw.pw_dir : "/");
	for (;;) {
		int got = n;

		ra->groups = xreallocarray(ra->groups, (size_t)n,
					   sizeof(*ra->groups));
		if (getgrouplist(pw.pw_name, pw.pw_gid, ra->groups, &got) >= 0) {
			ra->nr_groups = got;
			break;
		}
		if (got <= n || got > 65536) {
			/* Cannot say: the primary group alone, as su would. */
			ra->groups[0] = pw.pw_gid;
			ra->nr_groups = 1;
			break;
		}
		n = got;
	}
	free(mem);
	return 0;
}

int run_as_resolve(const char *name, uid_t euid, struct run_as **out,
		   struct buf *err)
{
	struct run_as *ra = xmalloc(sizeof(*ra));
	struct passwd pw;
	char *mem = NULL;
	int r;

	*out = NULL;
	if ((r = run_as_lookup(name, ra, err)) != 0) {
		free(ra);
		return r;
	}
	if (euid == 0) {
		*out = ra;
		return 0;
	}
	if (ra->uid == euid) {
		run_as_free(ra);
		return 0;	/* already that user */
	}
	r = get_passwd(NULL, euid, &pw, &mem);
	buf_seterr(err, "cannot run the job as user '%s': crunner runs as "
		   "'%s', not root, and only root can switch users",
		   name, r == 0 ? pw.pw_name : "(unknown)");
	free(mem);
	run_as_free(ra);
	return CR_ERR_UNSUPPORTED;
}

void run_as_release(struct run_as *ra)
{
	if (!ra)
		return;
	free(ra->name);
	free(ra->home);
	free(ra->groups);
	*ra = (struct run_as)RUN_AS_INIT;
}

void run_as_free(struct run_as *ra)
{
	run_as_release(ra);
	free(ra);
}

void run_as_push_env(const struct run_as *ra, const char *shell_path,
		     struct strvec *env)
{
	strvec_pushf(env, "HOME=%s", ra->home);
	strvec_pushf(env, "SHELL=%s", shell_path);
	strvec_pushf(env, "USER=%s", ra->name);
	strvec_pushf(env, "LOGNAME=%s", ra->name);
}

int run_as_chown(const struct run_as *ra, const char *path, struct buf *err)
{
	if (!ra)
		return 0;
	if (lchown(path, ra->uid, ra->gid) < 0) {
		buf_seterr(err, "cannot give '%s' to user '%s': %s", path,
			   ra->name, strerror(errno));
		return CR_ERR_IO;
	}
	return 0;
}

int run_as_mkdir_p(const struct run_as *ra, const char *dir, mode_t mode,
		   struct buf *err)
{
	char *copy;
	char *p;
	int r = 0, last;

	if (!ra) {
		if (fs_mkdir_p(dir, mode) < 0) {
			buf_seterr(err, "cannot create directory '%s': %s",
				   dir, strerror(errno));
			return CR_ERR_IO;
		}
		return 0;
	}
	copy = xstrdup(dir);
	for (p = copy + 1;; p++) {
		if (*p && *p != '/')
			continue;
		last = !*p || (p[0] == '/' && !p[1]);
		*p = '\0';
		if (mkdir(copy, last ? mode : 0755) == 0) {
			if ((r = run_as_chown(ra, copy, err)) != 0)
				break;
		} else if (errno != EEXIST) {
			buf_seterr(err, "cannot create directory '%s': %s",
				   copy, strerror(errno));
			r = CR_ERR_IO;
			break;
		}
		if (last)
			break;
		*p = '/';
	}
	if (!r) {
		struct stat st;

		if (stat(copy, &st) < 0 || !S_ISDIR(st.st_mode)) {
			buf_seterr(err, "cannot create directory '%s': %s",
				   copy, strerror(ENOTDIR));
			r = CR_ERR_IO;
		}
	}
	free(copy);
	return r;
}
