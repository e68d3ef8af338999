/*
 * Every size limit on data that comes from outside, in one list.
 * Going over one is an ordinary error (CR_ERR_TOO_LARGE), never a crash.
 */
#ifndef CR_LIMITS_H
#define CR_LIMITS_H

/* A struct buf with max == 0 may hold this much. */
#define BUF_MAX_DEFAULT ((size_t)256 << 20)

/* config.toml and other TOML files. */
#define CR_MAX_TOML_FILE ((size_t)16 << 20)
/* Nesting of arrays and inline tables in TOML. */
#define CR_MAX_TOML_DEPTH 128

/* A job payload from POST jobs/request. */
#define CR_MAX_PAYLOAD ((size_t)32 << 20)
/* Any other JSON body from the coordinator. */
#define CR_MAX_HTTP_BODY ((size_t)4 << 20)

/*
 * What one archive extraction (artifacts, cache) may write, all entries
 * together, unless CRUNNER_EXTRACT_MAX_SIZE says otherwise.  gitlab-runner
 * has no such limit; this one is above GitLab's largest artifact sizes and
 * usual caches, and stops a zip bomb long before it fills a disk.
 */
#define CR_EXTRACT_MAX_DEFAULT ((uint64_t)10 << 30)
/*
 * An extraction also leaves this much of the file system free: 5% of its
 * size, at most 1 GiB.
 */
#define CR_EXTRACT_FREE_MARGIN_PERCENT 5
#define CR_EXTRACT_FREE_MARGIN_MAX ((uint64_t)1 << 30)

#endif
