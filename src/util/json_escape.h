#ifndef CR_JSON_ESCAPE_H
#define CR_JSON_ESCAPE_H

#include <stddef.h>

struct buf;

/* Appends s as a quoted JSON string, escaping what JSON requires. */
void json_escape_append(struct buf *out, const char *s, size_t len);

#endif
