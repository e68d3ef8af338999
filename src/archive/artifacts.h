/*
 * The archive work of crunner's hidden artifacts-helper verb, which the
 * job engine runs in a child process (job/engine_helper.c) so that zip
 * work never holds up the event loop.  Each function prints what it does
 * as gitlab-runner's helpers do, one line at a time, to out (the child's
 * stdout, which the engine copies into the job's trace), and returns the
 * process exit status below.
 */
#ifndef CR_ARCHIVE_ARTIFACTS_H
#define CR_ARCHIVE_ARTIFACTS_H

struct cache_compression;

#include <stdio.h>

#include "archive/glob.h"

enum artifacts_exit {
	ARTIFACTS_EXIT_OK = 0,
	ARTIFACTS_EXIT_FAILED = 1,
	/* archive: no file matched ("No files to upload"): not an error. */
	ARTIFACTS_EXIT_NOTHING = 10,
};

/*
 * An artifact archive of format zip, gzip or raw at out_path; level is
 * zip_create()'s (the other formats ignore it).
 */
int artifacts_archive(const char *dir, const char *format,
		      const struct glob_spec *spec, const char *out_path,
		      int level, FILE *out);

/* Extracts a downloaded zip archive into dir. */
int artifacts_extract(const char *archive_path, const char *dir, FILE *out);

/* Saves a cache archive (kept when up to date), and restores one. */
int artifacts_cache_archive(const char *dir, const struct glob_spec *spec,
			    const char *file,
			    const struct cache_compression *comp, FILE *out);
int artifacts_cache_extract(const char *file, const char *dir, FILE *out);

#endif
