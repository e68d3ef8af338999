/*
 * GIT_CLONE_PATH checks, as gitlab-runner's Build.getCustomBuildDir:
 * refused unless custom_build_dir is enabled; the path, relative to the
 * builds dir (filepath.Rel, both cleaned), must not start with "..".
 */
#include <string.h>

#include "job/clone_path.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

/*
 * Go's path.Clean of an absolute path into out: no "." or empty
 * components, ".." removes the one before it (and stays at "/").
 */
static void clean_absolute(const char *path, struct buf *out)
{
	const char *p = path;

	buf_reset(out);
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = out->len ? strrchr(out->data, '/') : NULL;

			if (slash)
				buf_setlen(out, (size_t)(slash - out->data));
		} else {
			(void)buf_addch(out, '/');
			(void)buf_add(out, p, n);
		}
		p += n;
	}
	if (!out->len)
		(void)buf_addch(out, '/');
}

int clone_path_resolve(const char *builds_dir, const char *clone_path,
		       bool enabled, struct buf *out, struct buf *err)
{
	struct buf root = BUF_INIT, dir = BUF_INIT;
	const char *rel;
	int r = CR_ERR_CONFIG;

	if (!enabled) {
		buf_seterr(err, "setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature");
		goto out;
	}
	if (clone_path[0] != '/') {
		/* filepath.Rel's words for a relative path against an absolute one */
		buf_seterr(err, "Rel: can't make %s relative to %s",
			   clone_path, builds_dir);
		goto out;
	}
	clean_absolute(builds_dir, &root);
	clean_absolute(clone_path, &dir);
	if (!strcmp(dir.data, root.data))
		rel = ".";
	else if (!strcmp(root.data, "/"))
		rel = dir.data + 1;
	else if (!strncmp(dir.data, root.data, root.len) &&
		 dir.data[root.len] == '/')
		rel = dir.data + root.len + 1;
	else
		rel = "..";	/* outside root: Rel's answer climbs */
	if (!strncmp(rel, "..", 2)) {
		buf_seterr(err, "the GIT_CLONE_PATH=\"%s\" has to be within \"%s\"",
			   clone_path, builds_dir);
		goto out;
	}
	r = buf_addstr(out, dir.data);
out:
	buf_release(&root);
	buf_release(&dir);
	return r;
}
