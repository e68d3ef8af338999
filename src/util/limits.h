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

#endif
