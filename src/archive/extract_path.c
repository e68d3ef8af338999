/*
 * Walks below an extraction's target directory (contract in
 * extract_path.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/extract_path.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* As the kernel's limit on links followed in one lookup. */
#define EXTRACT_MAX_LINK_HOPS 40

/*
 * O_PATH: walking needs no read permission on the directories, and the
 * descriptor still serves as the base of openat, mkdirat, renameat...
 */
#define WALK_OPEN (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* One step of a walk: *next opened on name below cur. */
static int walk_step(int cur, const char *name, const char *path,
		     unsigned flags, int *next, const char **why,
		     struct buf *err)
{
	struct stat st;
	int e;

	*next = openat(cur, name, WALK_OPEN);
	if (*next < 0 && errno == ENOENT && (flags & EXTRACT_WALK_CREATE)) {
		/* EEXIST: a job extracting beside us made it meanwhile. */
		if (mkdirat(cur, name, 0777) != 0 && errno != EEXIST) {
			buf_seterr(err, "cannot create a directory for '%s': %s",
				   path, strerror(errno));
			return CR_ERR_IO;
		}
		*next = openat(cur, name, WALK_OPEN);
	}
	if (*next >= 0)
		return 0;
	e = errno;
	if (e == ELOOP || e == ENOTDIR) {
		if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			*why = "path through a symbolic link";
		else
			*why = "path through a file that is not a directory";
		return 1;
	}
	if (e == ENOENT) {
		*why = "directory does not exist";
		return 1;
	}
	buf_seterr(err, "cannot open a directory of '%s': %s", path,
		   strerror(e));
	return CR_ERR_IO;
}

int extract_path_open_dir(int root, const char *path, unsigned flags,
			  int *dirfd, const char **base, const char **why,
			  struct buf *err)
{
	const char *p = path, *slash;
	char name[NAME_MAX + 1];
	int cur, next, r;

	*dirfd = -1;
	*why = NULL;
	if ((cur = openat(root, ".", WALK_OPEN)) < 0) {
		buf_seterr(err, "cannot open the target directory: %s",
			   strerror(errno));
		return CR_ERR_IO;
	}
	for (;;) {
		size_t len;

		slash = strchr(p, '/');
		if (!slash && !(flags & EXTRACT_WALK_WHOLE))
			break;
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len > NAME_MAX) {
			close(cur);
			*why = "name too long";
			return 1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		r = walk_step(cur, name, path, flags, &next, why, err);
		close(cur);
		if (r)
			return r;
		cur = next;
		p += len;
		if (!slash)
			break;
		p++;
	}
	*dirfd = cur;
	*base = p;
	return 0;
}

/* The components of text, pushed so that popping gives them in order. */
static void push_reversed(struct strvec *todo, const char *text)
{
	const char *end = text + strlen(text), *start;

	while (end > text) {
		start = end;
		while (start > text && start[-1] != '/')
			start--;
		strvec_push_nodup(todo, xstrndup(start, (size_t)(end - start)));
		end = start > text ? start - 1 : text;
	}
}

static char *strvec_pop(struct strvec *v)
{
	char *last = (char *)v->v[--v->nr];

	v->v[v->nr] = NULL;
	return last;
}

static void join(const struct strvec *v, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < v->nr; i++) {
		if (i)
			(void)buf_addch(out, '/');
		(void)buf_addstr(out, v->v[i]);
	}
}

/* The first check: the text alone, whatever is on disk. */
static const char *target_shape_refusal(const char *path, const char *target)
{
	const char *p = target, *slash;
	size_t climb = 0, depth = 0;
	int named = 0;

	if (!*target)
		return "link without a target";
	if (strlen(target) >= PATH_MAX)
		return "link target too long";
	if (target[0] == '/')
		return "link to an absolute path";
	for (;;) {
		size_t len;

		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (named)
				return "link whose target climbs with '..' after a name";
			climb++;
		} else if (len && !(len == 1 && p[0] == '.')) {
			named = 1;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	for (p = path; (p = strchr(p, '/')); p++)
		depth++;
	if (climb > depth)
		return "link pointing outside the target directory";
	return NULL;
}

int extract_path_link_refusal(int root, const char *path, const char *target,
			      const char **why, struct buf *err)
{
	struct strvec at = STRVEC_INIT, todo = STRVEC_INIT;
	struct buf cur = BUF_INIT;
	char text[PATH_MAX];
	size_t hops = 0;
	int missing = 0, r = 1;
	struct stat st;
	ssize_t n;

	if ((*why = target_shape_refusal(path, target)))
		return 1;
	/*
	 * Then follow the target on disk, from the link's directory, as the
	 * kernel will: at holds the components reached, none of them a link
	 * (each link met is replaced by its own target), so looking up
	 * their join never follows one.
	 */
	push_reversed(&todo, path);
	while (todo.nr > 1)
		strvec_push_nodup(&at, strvec_pop(&todo));
	strvec_clear(&todo);
	push_reversed(&todo, target);
	while (todo.nr) {
		char *c = strvec_pop(&todo);

		if (!*c || !strcmp(c, ".")) {
			free(c);
			continue;
		}
		if (!strcmp(c, "..")) {
			free(c);
			if (!at.nr) {
				*why = "link pointing outside the target directory";
				goto out;
			}
			free(strvec_pop(&at));
			continue;
		}
		strvec_push_nodup(&at, c);
		if (missing)
			continue;
		join(&at, &cur);
		if (fstatat(root, cur.data, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT && errno != ENOTDIR) {
				buf_seterr(err, "cannot look at '%s': %s",
					   cur.data, strerror(errno));
				r = CR_ERR_IO;
				goto out;
			}
			/* Nothing below it either: the rest is text only. */
			missing = 1;
			continue;
		}
		if (!S_ISLNK(st.st_mode))
			continue;
		if (++hops > EXTRACT_MAX_LINK_HOPS) {
			*why = "link through too many symbolic links";
			goto out;
		}
		n = readlinkat(root, cur.data, text, sizeof(text) - 1);
		if (n < 0) {
			buf_seterr(err, "cannot read the link '%s': %s",
				   cur.data, strerror(errno));
			r = CR_ERR_IO;
			goto out;
		}
		text[n] = '\0';
		if (text[0] == '/') {
			*why = "link through a link to an absolute path";
			goto out;
		}
		free(strvec_pop(&at));
		push_reversed(&todo, text);
	}
	r = 0;
out:
	strvec_clear(&at);
	strvec_clear(&todo);
	buf_release(&cur);
	return r;
}
