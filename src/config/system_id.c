#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/system_id.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

int system_id_valid(const char *s)
{
	int i;

	if ((s[0] != 's' && s[0] != 'r') || s[1] != '_')
		return 0;
	for (i = 2; i < 14; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return s[14] == '\0';
}

void system_id_generate(char out[SYSTEM_ID_SIZE])
{
	static const char alphabet[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[12];
	int i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		for (i = 0; i < 12; i++)
			rnd[i] = (unsigned char)random();
	out[0] = 'r';
	out[1] = '_';
	for (i = 0; i < 12; i++)
		out[2 + i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[14] = '\0';
}

static void state_path(const char *config_path, struct buf *out)
{
	const char *slash = strrchr(config_path, '/');

	if (slash)
		(void)buf_add(out, config_path, (size_t)(slash - config_path + 1));
	(void)buf_addstr(out, ".runner_system_id");
}

int system_id_load(const char *config_path, char out[SYSTEM_ID_SIZE],
		   struct buf *err)
{
	struct buf path = BUF_INIT, tmp = BUF_INIT;
	char text[64];
	ssize_t n;
	int fd, r = CR_ERR_IO;

	if (!config_path) {
		system_id_generate(out);
		return 0;
	}
	state_path(config_path, &path);
	fd = open(path.data, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n > 0) {
			text[n] = '\0';
			text[strcspn(text, "\r\n ")] = '\0';
			if (system_id_valid(text)) {
				memcpy(out, text, 15);
				r = 0;
				goto done;
			}
		}
	}
	system_id_generate(out);
	(void)buf_addf(&tmp, "%s.XXXXXX", path.data);
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd >= 0) {
		int ok = fchmod(fd, 0600) == 0 && write(fd, out, 14) == 14 &&
			write(fd, "\n", 1) == 1;

		if (close(fd) < 0 || !ok || rename(tmp.data, path.data) < 0) {
			int saved = errno;

			unlink(tmp.data);
			errno = saved;
			fd = -1;
		}
	}
	if (fd < 0) {
		buf_seterr(err, "cannot store the system id in '%s': %s",
			   path.data, strerror(errno));
		goto done;
	}
	r = 0;
done:
	buf_release(&path);
	buf_release(&tmp);
	return r;
}
