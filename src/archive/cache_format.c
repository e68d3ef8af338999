/*
 * Cache compression format names and the zstd magic (cache_format.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "archive/cache_format.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

enum cache_format cache_format_from_name(const char *name)
{
	if (name && !strcasecmp(name, "tarzstd"))
		return CACHE_FORMAT_TARZSTD;
	if (name && !strcasecmp(name, "zipzstd"))
		return CACHE_FORMAT_ZIPZSTD;
	return CACHE_FORMAT_ZIP;
}

const char *cache_format_name(enum cache_format format)
{
	switch (format) {
	case CACHE_FORMAT_TARZSTD:
		return "tarzstd";
	case CACHE_FORMAT_ZIPZSTD:
		return "zipzstd";
	case CACHE_FORMAT_ZIP:
		break;
	}
	return "zip";
}

int cache_zstd_level_from_name(const char *name, bool *known)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "fastest", 1 }, { "fast", 1 }, { "default", 3 }, { "", 3 },
		{ "slow", 7 }, { "slowest", 11 },
	};
	size_t i;

	*known = true;
	for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcmp(name, levels[i].name))
			return levels[i].level;
	*known = false;
	return 3;
}

bool cache_format_is_zstd_magic(const unsigned char *head, unsigned long len)
{
	return len >= 4 && head[0] == 0x28 && head[1] == 0xb5 &&
	       head[2] == 0x2f && head[3] == 0xfd;
}

int cache_format_sniff(const char *path, enum cache_format *format,
		       struct buf *err)
{
	unsigned char head[4];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		buf_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		return errno == ENOENT ? CR_ERR_NOT_FOUND : CR_ERR_IO;
	}
	do
		n = read(fd, head, sizeof(head));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		buf_seterr(err, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return CR_ERR_IO;
	}
	close(fd);
	*format = cache_format_is_zstd_magic(head, (unsigned long)n) ?
		CACHE_FORMAT_TARZSTD : CACHE_FORMAT_ZIP;
	return 0;
}
