/*
 * The ssh executor's stage scripts: what runs before each one on the
 * remote host, and the private files around them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/ssh_int.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/banned.h"

static void add_quoted(struct buf *b, const char *s)
{
	(void)buf_addch(b, '\'');
	for (; *s; s++)
		(void)(*s == '\'' ? buf_addstr(b, "'\\''") : buf_addch(b, *s));
	(void)buf_addch(b, '\'');
}

static const char *var(const struct variables *vars, const char *key)
{
	const char *v = vars ? variables_get(vars, key) : NULL;

	return v && *v ? v : NULL;
}

/* The remote stage's process group file; NULL before the CONFIG hook. */
char *ssh_pgid_path(const struct variables *vars)
{
	const char *tmp = var(vars, "RUNNER_TEMP_PROJECT_DIR");
	struct buf b = BUF_INIT;

	if (!tmp)
		return NULL;
	(void)buf_addf(&b, "%s/" SSH_PGID_FILE, tmp);
	return buf_detach(&b, NULL);
}

/*
 * What crunner makes on its own host for the shell executor, made where
 * the job runs: the project's dirs and the file variables; and the
 * process group a cancel must kill.
 */
void ssh_script_prefix(const struct variables *vars, struct buf *text)
{
	const char *tmp = var(vars, "RUNNER_TEMP_PROJECT_DIR");
	const char *proj = var(vars, "CI_PROJECT_DIR");
	char *pgid = ssh_pgid_path(vars);
	size_t i;

	if (!tmp || !pgid) {
		free(pgid);
		return;
	}
	(void)buf_addstr(text, "mkdir -p ");
	add_quoted(text, tmp);
	if (proj) {
		(void)buf_addch(text, ' ');
		add_quoted(text, proj);
	}
	(void)buf_addstr(text, " || exit 1\n");
	/* Field 5 of /proc/PID/stat is the process group. */
	(void)buf_addstr(text, "(read -r _ _ _ _ g _ </proc/$$/stat 2>/dev/null && echo \"$g\" || echo \"$$\") >");
	add_quoted(text, pgid);
	(void)buf_addstr(text, " 2>/dev/null\n");
	for (i = 0; i < vars->nr; i++) {
		const struct variable *v = &vars->items[i];
		struct buf path = BUF_INIT;

		if (!(v->flags & VAR_FILE))
			continue;
		(void)buf_addf(&path, "%s/%s", tmp, v->key);
		(void)buf_addstr(text, "(umask 077 && printf '%s' ");
		add_quoted(text, v->value);
		(void)buf_addstr(text, " > ");
		add_quoted(text, path.data);
		(void)buf_addstr(text, ") || exit 1\n");
		buf_release(&path);
	}
	free(pgid);
}

int ssh_write_private_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0600);
	int e;

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			errno = e;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return close(fd);
}

void ssh_read_small_file(const char *path, struct buf *out)
{
	char chunk[1024];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && out->len < 4096)
		(void)buf_add(out, chunk, (size_t)n);
	close(fd);
	while (out->len && (out->data[out->len - 1] == '\n'))
		buf_setlen(out, out->len - 1);
}
