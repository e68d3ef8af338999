/*
 * Zip and tar+zstd extraction (artifacts and caches) from any bytes: it ends, and
 * nothing appears outside the destination.  The destination sits eight
 * directories deep in a private scratch tree, so a path or link that
 * climbs out lands where the walk after each run finds it.  The bytes
 * written stay within deflate's best ratio (1032:1) of the archive's
 * size, so size lies and sparse tricks count as failures.
 *
 * XXX The size property is checked once zip.h has the extraction cap
 * (ZIP_EXTRACT_MAX_ENV, issue 16 item 4, on another branch): before it, a
 * 122-byte stored entry whose header claims 2 GiB extracts a 2 GiB sparse
 * file (regressions/zip/size-lie-stored-2gib).
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#include "archive/zip.h"
#include "util/buf.h"

#define DEPTH "/a/b/c/d/e/f/g/h"

/* In memory when /dev/shm is there: every run makes and removes a tree. */
static char base[64];
static char dest[sizeof(base) + sizeof(DEPTH) + 8];
static char archive[sizeof(base) + 16];

/* The walk's state: nftw has no context pointer. */
static unsigned long long written;
static const char *stray;
static char stray_path[4096];

static int remove_one(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) && errno != ENOENT ? -1 : 0;
	return unlink(path) && errno != ENOENT ? -1 : 0;
}

static int is_prefix_dir(const char *path)
{
	size_t n = strlen(path);

	/* base itself, or base + a leading part of DEPTH ending a name */
	return !strncmp(path, dest, n) && (dest[n] == '/' || !dest[n]);
}

static int check_one(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)ftw;
	if (!strncmp(path, dest, strlen(dest)) &&
	    (path[strlen(dest)] == '/' || !path[strlen(dest)])) {
		if (type == FTW_F)
			written += (unsigned long long)st->st_size;
		return 0;
	}
	if (!strcmp(path, archive) ||
	    ((type == FTW_D || type == FTW_DP) && is_prefix_dir(path)))
		return 0;
	snprintf(stray_path, sizeof(stray_path), "%s", path);
	stray = stray_path;
	return 1;
}

static void fresh_dest(void)
{
	char sub[sizeof(dest)];
	size_t i;

	(void)nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	if (mkdir(base, 0700) && errno != EEXIST)
		abort();
	for (i = strlen(base) + 1; i <= strlen(dest); i++) {
		if (dest[i] != '/' && dest[i])
			continue;
		memcpy(sub, dest, i);
		sub[i] = '\0';
		if (mkdir(sub, 0700) && errno != EEXIST)
			abort();
	}
}

static void remove_base(void)
{
	(void)nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void warn(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

/*
 * The most an archive of these bytes may inflate to, per byte: deflate's
 * 1032, or with a zstd frame anywhere (a tarzstd cache, a zip's method-93
 * entry) zstd's: an RLE block of 4 bytes stands for 128 KiB.
 */
static unsigned long long best_ratio(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

	return memmem(data, size, magic, sizeof(magic)) ? 32768 : 1032;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf err = BUF_INIT;
	size_t refused = 0;
	FILE *f;
	int r;

	if (!dest[0]) {
		snprintf(base, sizeof(base), "%s/crunner-fuzz-zip-XXXXXX",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (!mkdtemp(base))
			abort();
		atexit(remove_base);
		snprintf(dest, sizeof(dest), "%s%s/root", base, DEPTH);
		snprintf(archive, sizeof(archive), "%s/in.zip", base);
	}
	if (size > 1 << 20)
		return 0;
	fresh_dest();
	f = fopen(archive, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	r = zip_extract(archive, dest, warn, NULL, &refused, &err);
	FUZZ_CHECK(r == 0 || err.len > 0, "error %d without a message", r);
	written = 0;
	stray = NULL;
	(void)nftw(base, check_one, 16, FTW_PHYS);
	FUZZ_CHECK(!stray, "'%s' was written outside the destination", stray);
#ifdef ZIP_EXTRACT_MAX_ENV
	FUZZ_CHECK(written <= best_ratio(data, size) * size + 4096,
		   "%llu bytes extracted from a %zu-byte archive", written,
		   size);
#endif
	buf_release(&err);
	return 0;
}
