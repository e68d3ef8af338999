#!/usr/bin/env bash
# config_exec of the "unshare" driver: the job's builds directory is
# private to the job ($TMPDIR is crunner's per-job directory).
set -eu

cat <<JSON
{
  "builds_dir": "$TMPDIR/builds",
  "builds_dir_is_shared": false,
  "hostname": "crunner-sandbox-${CUSTOM_ENV_CI_JOB_ID:-0}",
  "driver": {
    "name": "unshare",
    "version": "v1.0.0"
  },
  "job_env": {
    "SANDBOX_BUILDS": "$TMPDIR/builds",
    "SANDBOX_HOSTNAME": "crunner-sandbox-${CUSTOM_ENV_CI_JOB_ID:-0}"
  }
}
JSON
