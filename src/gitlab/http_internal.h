/* Shared by http.c and http_result.c only. */
#ifndef CR_GL_HTTP_INTERNAL_H
#define CR_GL_HTTP_INTERNAL_H

#include <stdint.h>

struct gl_http_response;

/* Frees the captured headers of resp. */
void gl_http_clear_headers(struct gl_http_response *resp);

#endif
