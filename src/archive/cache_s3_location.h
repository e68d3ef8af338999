/*
 * gitlab-runner's detectBucketLocation(): a [runners.cache.s3] without
 * BucketLocation asks S3 where the bucket is (GetBucketLocation) before it
 * signs anything, so its URLs carry the bucket's own region.
 */
#ifndef CR_ARCHIVE_CACHE_S3_LOCATION_H
#define CR_ARCHIVE_CACHE_S3_LOCATION_H

#include <time.h>

struct buf;
struct config_cache_s3;
struct s3_creds;

/*
 * The region a GetBucketLocation answer body names: its LocationConstraint,
 * us-east-1 when that is empty, eu-west-1 for the legacy "EU", into out.
 * Returns 0, or CR_ERR_PROTOCOL when body has no LocationConstraint.
 */
int s3_location_from_xml(const char *body, struct buf *out);

/*
 * The region of s3's bucket into out: GET /<bucket>?location at
 * ServerAddress (else the global s3.amazonaws.com, no dual-stack or
 * acceleration), signed for us-east-1 with creds (the runner's own: access
 * keys or IAM, not a RoleARN's).  When S3 cannot say (no answer, an error,
 * a body without a region) the region is us-east-1 and why is a warning in
 * crunner's log, as gitlab-runner falls back.  Never fails.
 */
void s3_detect_bucket_location(const struct config_cache_s3 *s3,
			       const struct s3_creds *creds, time_t now,
			       struct buf *out);

#endif
