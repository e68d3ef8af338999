/* The state directory: apply.json and verify.json (see state.c). */
#ifndef RTUP_STATE_H
#define RTUP_STATE_H
#include <jansson.h>
#include "rtup.h"

/* The object in <state>/<name>.json, or a new empty object; never NULL. */
json_t *state_load(const struct conf *c, const char *name);
/* Writes j to <state>/<name>.json atomically. */
int state_save(const struct conf *c, const char *name, json_t *j,
	       struct buf *err);
/* state[repo] when key is NULL and it is a string, else state[repo][key]. */
const char *state_repo_str(json_t *state, const char *repo, const char *key);
#endif
