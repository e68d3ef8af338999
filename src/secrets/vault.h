/*
 * HashiCorp Vault (and OpenBao): one secret read as gitlab-runner's vault
 * resolver reads it (helpers/vault): log in with the job's JWT
 * (PUT /v1/auth/<auth path>/login {"jwt", "role"}), then read
 * GET /v1/<engine path>/data/<path> (kv-v2) or /v1/<engine path>/<path>
 * (kv-v1, generic) with X-Vault-Token, X-Vault-Namespace when a namespace
 * is set, and pick the field.  The client token is not revoked, as
 * gitlab-runner's is not: it expires with its TTL.
 *
 * Asynchronous on the caller's loop through gl_http (gitlab/http.h).
 */
#ifndef CR_SECRETS_VAULT_H
#define CR_SECRETS_VAULT_H

#include "secrets/secret_result.h"

struct buf;
struct gl_http;
struct strvec;
struct vault_op;

/* Everything expanded already; borrowed only during vault_resolve(). */
struct vault_secret_request {
	const char *url;		/* server URL, may have a path prefix */
	const char *namespace;		/* "" or NULL: none */
	const char *auth_name;		/* only "jwt" is known */
	const char *auth_path;
	const struct strvec *auth_keys, *auth_values;
	const char *engine_name;	/* kv-v2, kv-v1, generic */
	const char *engine_path;
	const char *path;
	const char *field;
	/*
	 * GitLab's secrets manager (OpenBao behind GitLab; gitlab-runner's
	 * gitlab_secrets_manager resolver): set, there is no login request:
	 * the read carries OpenBao's inline auth headers (this login path,
	 * inline_jwt, inline_role), the field must hold a string, and the
	 * texts are that resolver's.  auth_* are then unused.
	 */
	const char *inline_auth_path;
	const char *inline_jwt, *inline_role;
};

/*
 * Starts the reads.  Returns the operation, whose done comes exactly once
 * from the loop unless vault_cancel() comes first; or NULL with
 * *outcome and err set when the request cannot even start (an unknown
 * auth method, a missing "jwt"): then done is never called.
 */
struct vault_op *vault_resolve(struct gl_http *http,
			       const struct vault_secret_request *req,
			       secret_done_cb done, void *ctx,
			       enum secret_outcome *outcome, struct buf *err);
void vault_cancel(struct vault_op *op);

/*
 * Go's path.Join of a and b (either may be NULL), cleaned: no empty or
 * "." elements, ".." resolved, no leading or trailing slash.  Appended
 * to out.  Exposed for the unit tests.
 */
void vault_path_join(struct buf *out, const char *a, const char *b,
		     const char *c);

#endif
