/*
 * Small JSON helpers shared by the gitlab/ files.
 *
 * Writing: request bodies are built in a struct buf, so a body that holds a
 * token can be wiped with buf_release_secret() (a jansson tree could not).
 * Each gl_json_* writer adds the separating comma itself, by looking at the
 * last byte written, so callers just list members:
 *
 *	gl_json_open(&b, NULL);
 *	gl_json_str(&b, "token", token);
 *	gl_json_open(&b, "output");
 *	gl_json_close(&b);
 *	gl_json_close(&b);
 *
 * Reading: gl_json_wipe_decref() overwrites every string of a parsed tree
 * before dropping it, for answers that carry tokens.
 */
#ifndef CR_GL_JSON_H
#define CR_GL_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct buf;

/* Opens an object, as member key when key is not NULL. */
void gl_json_open(struct buf *b, const char *key);
void gl_json_close(struct buf *b);
void gl_json_str(struct buf *b, const char *key, const char *value);
void gl_json_bool(struct buf *b, const char *key, bool value);
void gl_json_int(struct buf *b, const char *key, int64_t value);

/* Overwrites every string value in j (recursively), then json_decref(). */
void gl_json_wipe_decref(json_t *j);

/*
 * Appends the text of a Rails error body to out: the "message" member
 * (a string, or an object shown compactly), else the body itself trimmed
 * and cut at 200 bytes.  Appends nothing for an empty body.
 */
void gl_json_error_message(struct buf *out, const char *body, size_t len);

/*
 * What jansson could not parse, as a fixed phrase chosen by the error's
 * code ("unexpected end of input", "nested too deep"...).  Never
 * e->text: jansson ends it with "near '...'", a quote of the input, and
 * an input such as a job payload holds secrets.
 */
const char *gl_json_error_what(const json_error_t *e);

#endif
