/*
 * The ssh executor's stage scripts: what runs before each one on the
 * remote host, and the private files around them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/container_script.h"
#include "executor/ssh_int.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/banned.h"

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
	char *pgid = ssh_pgid_path(vars);

	if (pgid && container_mkdir_script(vars, text)) {
		/* Field 5 of /proc/PID/stat is the process group. */
		(void)buf_addstr(text, "(read -r _ _ _ _ g _ </proc/$$/stat 2>/dev/null && echo \"$g\" || echo \"$$\") >");
		container_sh_quote(text, pgid);
		(void)buf_addstr(text, " 2>/dev/null\n");
		container_file_variables_script(vars, false, text);
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
