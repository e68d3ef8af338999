/*
 * A job's `environment:` as GitLab's predefined variables
 * (lib/gitlab/ci/variables/builder.rb, app/models/environment.rb):
 *
 *   CI_ENVIRONMENT_NAME    the name, variables expanded
 *   CI_ENVIRONMENT_SLUG    the name made DNS-safe (Gitlab::Slug::Environment)
 *   CI_ENVIRONMENT_URL     environment:url, expanded (only when set)
 *   CI_ENVIRONMENT_ACTION  environment:action, default "start"
 *   CI_ENVIRONMENT_TIER    environment:deployment_tier, else guessed from
 *                          the name (Environment#guess_tier)
 *
 * `environment: name` and `environment: {name: ..., url: ...}` are both
 * accepted; a job without one (or with an empty name) gets none of them.
 */
#ifndef CR_LOCAL_ENVIRONMENT_H
#define CR_LOCAL_ENVIRONMENT_H

#include "local/pipeline.h"

struct ynode;

/* A variable's value as the job sees it, or NULL when it has none. */
typedef const char *(*env_lookup_fn)(void *ctx, const char *key);

/*
 * text with $VAR, ${VAR} (and %VAR%) replaced by lookup's values, an
 * unknown one by nothing, as GitLab's ExpandVariables.expand.  A new
 * string.
 */
char *env_expand(const char *text, env_lookup_fn lookup, void *ctx);

/* GitLab's environment slug of name (at most 24 bytes).  A new string. */
char *env_slug(const char *name);

/* The tier GitLab guesses from an environment's name ("production"...). */
const char *env_tier_guess(const char *name);

/* Adds the CI_ENVIRONMENT_* variables of `environment:` node to out. */
void env_variables(const struct ynode *node, env_lookup_fn lookup, void *ctx,
		   struct pl_vars *out);

#endif
