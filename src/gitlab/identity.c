#include <string.h>
#include <sys/utsname.h>

#include "gitlab/identity.h"
#include "util/buf.h"
#include "version.h"
#include "util/banned.h"

#ifndef CR_GIT_BRANCH
#define CR_GIT_BRANCH "main"
#endif

#if defined(__clang__)
#define GL_COMPILER "clang" __clang_version__
#elif defined(__GNUC__)
#define GL_COMPILER "gcc" __VERSION__
#else
#define GL_COMPILER "cc"
#endif

const char *gl_identity_arch_of(const char *machine)
{
	static const struct {
		const char *machine, *go;
	} map[] = {
		{ "x86_64", "amd64" }, { "amd64", "amd64" },
		{ "aarch64", "arm64" }, { "arm64", "arm64" },
		{ "i386", "386" }, { "i486", "386" }, { "i586", "386" },
		{ "i686", "386" },
		{ "s390x", "s390x" }, { "ppc64le", "ppc64le" },
		{ "riscv64", "riscv64" },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(machine, map[i].machine))
			return map[i].go;
	/* armv6l, armv7l, armhf...: Go calls all 32-bit ARM "arm". */
	if (!strncmp(machine, "arm", 3))
		return "arm";
	return NULL;
}

const char *gl_identity_arch(char out[GL_ARCH_MAX])
{
	struct utsname u;
	const char *go;
	size_t n;

	if (uname(&u) < 0)
		return "unknown";
	if ((go = gl_identity_arch_of(u.machine)) != NULL)
		return go;
	n = strnlen(u.machine, GL_ARCH_MAX - 1);
	memcpy(out, u.machine, n);
	out[n] = '\0';
	return out;
}

void gl_identity_user_agent(struct buf *out)
{
	char arch[GL_ARCH_MAX];

	(void)buf_addf(out, "crunner %s (%s; %s; linux/%s)", CR_VERSION,
		       CR_GIT_BRANCH, GL_COMPILER, gl_identity_arch(arch));
}
