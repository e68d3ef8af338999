#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "local/docker_probe.h"
#include "util/buf.h"
#include "util/banned.h"

#define DEFAULT_DOCKER_SOCKET "/var/run/docker.sock"

int local_docker_available(struct buf *why)
{
	const char *host = getenv("DOCKER_HOST");
	const char *path = DEFAULT_DOCKER_SOCKET;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ok;

	if (host && *host) {
		if (strncmp(host, "unix://", 7))
			return 1;
		path = host + 7;
	}
	if (strlen(path) >= sizeof(addr.sun_path)) {
		(void)buf_addf(why, "the Docker socket path '%s' is too long",
			       path);
		return 0;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		(void)buf_addf(why, "cannot make a socket: %s", strerror(errno));
		return 0;
	}
	ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	if (!ok)
		(void)buf_addf(why, "no Docker engine at %s (%s)", path,
			       strerror(errno));
	close(fd);
	return ok;
}
