/*
 * dlopen() of libzstd on first use (see zstd_dl.h).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "archive/zstd_dl.h"
#include "util/buf.h"
#include "util/lazy_lib.h"
#include "util/banned.h"

#define ZSTD_SONAME "libzstd.so.1"

static const char *const names[] = {
	"ZSTD_createCCtx", "ZSTD_freeCCtx", "ZSTD_CCtx_setParameter",
	"ZSTD_compressStream2", "ZSTD_isError", "ZSTD_getErrorName",
};
#define NR_FNS (sizeof(names) / sizeof(names[0]))

/*
 * Process-wide, like the library mapping: filled once under
 * pthread_once, then only read.
 */
static void *fns[NR_FNS];
static struct zstd_dl table;
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	if (!lazy_lib_open(ZSTD_SONAME, names, fns, NR_FNS))
		return;
	/* POSIX makes dlsym()'s object pointers callable as functions. */
	*(void **)&table.create_cctx = fns[0];
	*(void **)&table.free_cctx = fns[1];
	*(void **)&table.set_parameter = fns[2];
	*(void **)&table.compress_stream2 = fns[3];
	*(void **)&table.is_error = fns[4];
	*(void **)&table.error_name = fns[5];
	loaded = true;
}

const struct zstd_dl *zstd_dl_load(struct buf *err)
{
	pthread_once(&load_once, load);
	if (!loaded) {
		buf_seterr(err, "cannot load " ZSTD_SONAME
			   " (needed for the zipzstd cache format)");
		return NULL;
	}
	return &table;
}
