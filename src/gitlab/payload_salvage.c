/*
 * The id and token of a job payload that job_payload_decode() refused, so
 * the job can still be reported as failed.  The top-level members are read
 * one value at a time, so a payload cut short (GitLab sends "id" and
 * "token" first) still gives what comes before the cut; a payload that is
 * not an object gives nothing.  Each value goes through jansson, whose
 * depth limit (JSON_PARSER_MAX_DEPTH) bounds the recursion.
 */
#include <string.h>

#include <jansson.h>

#include "gitlab/gl_json.h"
#include "gitlab/payload.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct scan {
	const char *p, *end;
};

static void skip_space(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool take(struct scan *s, char c)
{
	skip_space(s);
	if (s->p >= s->end || *s->p != c)
		return false;
	s->p++;
	return true;
}

/* One JSON value at s->p; NULL when the text breaks inside it. */
static json_t *next_value(struct scan *s)
{
	json_error_t e;
	json_t *v;

	skip_space(s);
	if (s->p >= s->end)
		return NULL;
	v = json_loadb(s->p, (size_t)(s->end - s->p),
		       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
	if (!v)
		return NULL;
	if (e.position <= 0 || e.position > s->end - s->p) {
		gl_json_wipe_decref(v);
		return NULL;
	}
	s->p += e.position;
	return v;
}

bool job_payload_salvage_identity(const char *text, size_t len, int64_t *id,
				  char **token)
{
	struct scan s = { text, text + len };
	json_t *key = NULL, *val = NULL;

	*id = 0;
	*token = NULL;
	if (!take(&s, '{') || take(&s, '}'))
		return false;
	for (;;) {
		if (!(key = next_value(&s)) || !json_is_string(key) ||
		    !take(&s, ':') || !(val = next_value(&s)))
			break;
		/* A value counts once the text goes on after it: a number
		 * cut short ("12" of "123") would read as another number. */
		skip_space(&s);
		if (s.p >= s.end || (*s.p != ',' && *s.p != '}'))
			break;
		if (!strcmp(json_string_value(key), "id") &&
		    json_is_integer(val)) {
			*id = json_integer_value(val);
		} else if (!strcmp(json_string_value(key), "token") &&
			   json_is_string(val)) {
			free_secret(*token);
			*token = xstrdup(json_string_value(val));
		}
		gl_json_wipe_decref(key);
		gl_json_wipe_decref(val);
		key = val = NULL;
		if (!take(&s, ','))
			break;
	}
	gl_json_wipe_decref(key);
	gl_json_wipe_decref(val);
	return *id > 0 && *token && **token;
}
