/*
 * The check the artifacts helper makes before a dotenv report
 * (artifact_type "dotenv") is uploaded, so that a report GitLab would
 * refuse (Ci::ParseDotenvArtifactService: 400 Bad Request, the job's
 * variables never set) fails the upload with a clear line instead.
 */
#ifndef CR_ARCHIVE_DOTENV_REPORT_H
#define CR_ARCHIVE_DOTENV_REPORT_H

#include <stdio.h>

#include "archive/glob.h"

/*
 * GitLab's rules: the stored artifact (the archive at archive_path, as
 * compressed) smaller than DOTENV_MAX_SIZE bytes; every matched file (one
 * blob each) parsed with dotenv_parse_blob(), at most DOTENV_MAX_VARIABLES
 * variables over all of them.  Prints how many variables it found, or one
 * "ERROR: ..." line, to out.  Returns ARTIFACTS_EXIT_OK or
 * ARTIFACTS_EXIT_FAILED.
 */
int artifacts_check_dotenv(const char *dir, const struct glob_spec *spec,
			   const char *archive_path, FILE *out);

#endif
