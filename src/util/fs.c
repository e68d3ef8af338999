#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

int fs_make_parent_dirs(const char *path, mode_t mode, struct buf *err)
{
	char *dir = xstrdup(path), *p;
	int r = 0;

	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, mode) && errno != EEXIST) {
			buf_seterr(err, "cannot create directory '%s': %s", dir,
				   strerror(errno));
			r = CR_ERR_IO;
			break;
		}
		*p = '/';
	}
	free(dir);
	return r;
}
