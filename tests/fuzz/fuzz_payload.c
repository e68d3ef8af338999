/*
 * The job payload (POST /jobs/request's answer): any bytes decode or are
 * refused with a message; a decoded payload validates, and wiping leaves
 * no secret behind.
 */
#include "fuzz.h"

#include "gitlab/payload.h"
#include "util/buf.h"

static int all_zero(const char *s)
{
	return !s || !*s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_payload *p = NULL;
	struct buf err = BUF_INIT, msg = BUF_INIT;
	size_t i;
	int r;

	r = job_payload_decode((const char *)data, size, &p, &err);
	if (r) {
		FUZZ_CHECK(!p, "a payload next to error %d", r);
		FUZZ_CHECK(err.len > 0, "error %d without a message", r);
		buf_release(&err);
		return 0;
	}
	FUZZ_CHECK(p != NULL, "success without a payload");
	(void)job_payload_validate(p, &msg);
	job_payload_wipe(p);
	FUZZ_CHECK(all_zero(p->token), "token left after wipe");
	for (i = 0; i < p->variables.nr; i++)
		FUZZ_CHECK(all_zero(p->variables.v[i].value),
			   "variable %zu left after wipe", i);
	job_payload_free(p);
	buf_release(&err);
	buf_release(&msg);
	return 0;
}
