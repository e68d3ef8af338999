/*
 * dotenv reports (artifacts:reports:dotenv): whatever the text, the parse
 * ends, respects its limits, and gives only valid names.
 */
#include "fuzz.h"

#include "archive/dotenv.h"
#include "util/buf.h"
#include "util/strvec.h"

static int valid_name(const char *s)
{
	const char *p;

	if (!*s)
		return 0;
	for (p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

static void one(const char *text, size_t len, int blob)
{
	struct strvec keys = STRVEC_INIT, values = STRVEC_INIT;
	struct buf err = BUF_INIT;
	size_t i;
	int r;

	r = blob ? dotenv_parse_blob(text, len, &keys, &values, &err) :
		   dotenv_parse(text, len, &keys, &values, &err);
	if (r == 0) {
		FUZZ_CHECK(keys.nr == values.nr, "%zu keys, %zu values",
			   keys.nr, values.nr);
		FUZZ_CHECK(keys.nr <= DOTENV_MAX_VARIABLES, "%zu variables",
			   keys.nr);
		FUZZ_CHECK(blob || len <= DOTENV_MAX_SIZE, "%zu bytes", len);
		for (i = 0; i < keys.nr; i++)
			FUZZ_CHECK(valid_name(keys.v[i]), "key '%s'",
				   keys.v[i]);
	} else {
		FUZZ_CHECK(err.len > 0, "error %d without a message", r);
	}
	strvec_clear(&keys);
	strvec_clear(&values);
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one((const char *)data, size, 0);
	one((const char *)data, size, 1);
	return 0;
}
