#!/usr/bin/env bash
# config_exec of the "local" driver: tells crunner where the job lives.
# stdout is read as JSON; anything meant for the job log goes to stderr.
#
# Every job gets its own builds directory inside the executor's private
# temporary directory ($TMPDIR, removed by crunner after cleanup_exec), so
# nothing is shared between jobs.  The cache directory is shared and kept.
set -eu

cache_root=${CUSTOM_ENV_LOCAL_DRIVER_CACHE_DIR:-${TMPDIR%/*}/crunner-local-cache}

cat <<JSON
{
  "builds_dir": "$TMPDIR/builds",
  "cache_dir": "$cache_root",
  "builds_dir_is_shared": false,
  "driver": {
    "name": "local",
    "version": "v1.0.0"
  },
  "job_env": {
    "LOCAL_DRIVER_BUILDS": "$TMPDIR/builds"
  }
}
JSON
