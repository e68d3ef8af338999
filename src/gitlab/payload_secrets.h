/* Private to the payload decoder: the "secrets" object (payload_secrets.c). */
#ifndef CR_GL_PAYLOAD_SECRETS_H
#define CR_GL_PAYLOAD_SECRETS_H

#include <jansson.h>

struct buf;
struct job_payload;

/*
 * Fills p->secrets from root's "secrets" (absent or null: none).  A wrong
 * type is CR_ERR_INVALID with one sentence naming the member; never a
 * value in it.  What was filled is freed by job_payload_free_secrets().
 */
int job_payload_decode_secrets(json_t *root, struct job_payload *p,
			       struct buf *err);
/* Overwrites the auth data values (the JWT) with NUL bytes. */
void job_payload_wipe_secrets(struct job_payload *p);
/* Wipes, then frees p->secrets. */
void job_payload_free_secrets(struct job_payload *p);

#endif
