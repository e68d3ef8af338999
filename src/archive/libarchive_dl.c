/*
 * dlopen() of libarchive on first use (see libarchive_dl.h).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

#define LIBARCHIVE_DL_IMPL
#include "archive/libarchive_dl.h"
#include "util/error.h"
#include "util/banned.h"

/* The SONAME crunner is built against (ARCHIVE_VERSION_NUMBER 3.x). */
#define LIBARCHIVE_SONAME "libarchive.so.13"

/*
 * Process-wide, like the library mapping itself: filled once, then only
 * read.  crunner is single-threaded where it builds archives (the helper
 * process, crunner exec's loop), so no lock.
 */
static struct libarchive_dl table;
static int load_result = 1;	/* 1: not tried yet */
static char load_error[256];

const struct libarchive_dl *libarchive_dl = &table;

int libarchive_dl_load(struct buf *err)
{
	void *lib;
	const char *what = NULL;

#ifndef CR_LAZY_LIBARCHIVE
	/* Linked the usual way: nothing to load. */
	(void)lib;
	(void)what;
	(void)err;
	return 0;
#endif
	if (load_result == 1) {
		load_result = 0;
		lib = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			what = dlerror();
		} else {
#define LIBARCHIVE_DL_SYM(name) \
			if (!what && !(table.name = (__typeof__(table.name)) \
				       dlsym(lib, #name))) \
				what = #name;
			LIBARCHIVE_DL_FUNCTIONS(LIBARCHIVE_DL_SYM)
#undef LIBARCHIVE_DL_SYM
		}
		if (what) {
			snprintf(load_error, sizeof(load_error),
				 "cannot load " LIBARCHIVE_SONAME ": %s", what);
			load_result = CR_ERR_UNSUPPORTED;
		}
	}
	if (load_result)
		buf_seterr(err, "%s", load_error);
	return load_result;
}
