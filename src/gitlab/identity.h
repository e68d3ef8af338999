/*
 * Who we are on the wire: the architecture name GitLab expects and the
 * User-Agent header (spec sections 0.3 and 1.8).
 */
#ifndef CR_GL_IDENTITY_H
#define CR_GL_IDENTITY_H

#include <stddef.h>

struct buf;

/* Large enough for any struct utsname machine field plus its NUL. */
#define GL_ARCH_MAX 65

/*
 * The Go-style architecture name of this machine (x86_64 -> "amd64",
 * aarch64 -> "arm64", i686 -> "386", armv7l -> "arm"; others as uname
 * reports them).  Returns a static string or out, which must hold
 * GL_ARCH_MAX bytes.
 */
const char *gl_identity_arch(char out[GL_ARCH_MAX]);

/* Maps one uname machine name; exposed for the unit tests. */
const char *gl_identity_arch_of(const char *machine);

/*
 * Appends "crunner <version> (<branch>; <compiler>; linux/<arch>)", the
 * User-Agent of every request.
 */
void gl_identity_user_agent(struct buf *out);

#endif
