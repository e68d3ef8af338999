#include "util/buf.h"
#include "util/json_escape.h"
#include "util/banned.h"

void json_escape_append(struct buf *out, const char *s, size_t len)
{
	size_t i;

	(void)buf_addch(out, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': (void)buf_addstr(out, "\\\""); break;
		case '\\': (void)buf_addstr(out, "\\\\"); break;
		case '\n': (void)buf_addstr(out, "\\n"); break;
		case '\r': (void)buf_addstr(out, "\\r"); break;
		case '\t': (void)buf_addstr(out, "\\t"); break;
		default:
			if (c < 0x20)
				(void)buf_addf(out, "\\u%04x", c);
			else
				(void)buf_addch(out, (char)c);
		}
	}
	(void)buf_addch(out, '"');
}
