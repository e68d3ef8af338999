#include <stdlib.h>
#include <string.h>

#include "gitlab/gl_json.h"
#include "util/buf.h"
#include "util/json_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GL_ERROR_TEXT_MAX 200

static void add_key(struct buf *b, const char *key)
{
	if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
		(void)buf_addch(b, ',');
	if (key) {
		json_escape_append(b, key, strlen(key));
		(void)buf_addch(b, ':');
	}
}

void gl_json_open(struct buf *b, const char *key)
{
	add_key(b, key);
	(void)buf_addch(b, '{');
}

void gl_json_close(struct buf *b)
{
	(void)buf_addch(b, '}');
}

void gl_json_str(struct buf *b, const char *key, const char *value)
{
	add_key(b, key);
	json_escape_append(b, value ? value : "", value ? strlen(value) : 0);
}

void gl_json_bool(struct buf *b, const char *key, bool value)
{
	add_key(b, key);
	(void)buf_addstr(b, value ? "true" : "false");
}

void gl_json_int(struct buf *b, const char *key, int64_t value)
{
	add_key(b, key);
	(void)buf_addf(b, "%lld", (long long)value);
}

static void wipe(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_STRING:
		/* The value is jansson's own heap copy; writing it is fine. */
		explicit_bzero((char *)json_string_value(j), json_string_length(j));
		break;
	case JSON_OBJECT:
		json_object_foreach(j, key, v)
			wipe(v);
		break;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			wipe(v);
		break;
	default:
		break;
	}
}

void gl_json_wipe_decref(json_t *j)
{
	if (!j)
		return;
	wipe(j);
	json_decref(j);
}

static void add_trimmed(struct buf *out, const char *s, size_t len)
{
	size_t i;

	while (len && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r' || s[len - 1] == '\t'))
		len--;
	/* Log text: no control bytes from the network, and not too much. */
	for (i = 0; i < len && i < GL_ERROR_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		(void)buf_addch(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
	if (len > GL_ERROR_TEXT_MAX)
		(void)buf_addstr(out, "...");
}

void gl_json_error_message(struct buf *out, const char *body, size_t len)
{
	json_t *j, *msg;
	char *text;

	if (!len)
		return;
	j = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	msg = json_is_object(j) ? json_object_get(j, "message") : NULL;
	if (json_is_string(msg)) {
		add_trimmed(out, json_string_value(msg), json_string_length(msg));
	} else if (msg && (text = json_dumps(msg, JSON_COMPACT)) != NULL) {
		add_trimmed(out, text, strlen(text));
		free(text);
	} else {
		add_trimmed(out, body, len);
	}
	json_decref(j);
}

const char *gl_json_error_what(const json_error_t *e)
{
	switch (json_error_code(e)) {
	case json_error_out_of_memory:
		return "out of memory";
	case json_error_stack_overflow:
		return "nested too deep";
	case json_error_invalid_utf8:
		return "invalid UTF-8";
	case json_error_premature_end_of_input:
		return "unexpected end of input";
	case json_error_end_of_input_expected:
		return "more text after the end of the document";
	case json_error_invalid_syntax:
		return "invalid syntax";
	case json_error_null_character:
		return "NUL byte in the text";
	case json_error_numeric_overflow:
		return "number out of range";
	default:
		return "not valid JSON";
	}
}
