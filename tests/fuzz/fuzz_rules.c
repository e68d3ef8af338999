/*
 * rules:if / only:variables expressions: any text is either refused by
 * both the syntax check and the evaluation, or accepted by both; nothing
 * crashes, leaks or loops, whatever the regexes and nesting.
 */
#include "fuzz.h"

#include "local/rules.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

static const char *lookup(void *ctx, const char *name)
{
	static const struct {
		const char *name, *value;
	} vars[] = {
		{ "CI_COMMIT_BRANCH", "main" },
		{ "CI_PIPELINE_SOURCE", "push" },
		{ "EMPTY", "" },
		{ "A", "abc" },
		{ "B", "/ab+c/i" },
		{ "N", "42" },
	};
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(vars) / sizeof(*vars); i++)
		if (!strcmp(vars[i].name, name))
			return vars[i].value;
	return NULL;
}

static const struct strvec *no_files(void *ctx)
{
	static const struct strvec none = STRVEC_INIT;

	(void)ctx;
	return &none;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules_ctx ctx = { 0 };
	struct buf cerr = BUF_INIT, eerr = BUF_INIT;
	char *expr;
	bool out = false;
	int rc, re;

	if (size > 4096)
		return 0;
	expr = fuzz_cstr(data, size);
	ctx.lookup = lookup;
	ctx.root_dir = "/nonexistent-crunner-fuzz";
	ctx.ref = "main";
	ctx.source = "push";
	ctx.files = no_files;
	rc = rules_expr_check(expr, &cerr);
	re = rules_expr_eval(expr, &ctx, &out, &eerr);
	FUZZ_CHECK((rc == 0) == (re == 0),
		   "check says %d (%s), eval says %d (%s)", rc, cerr.data, re,
		   eerr.data);
	FUZZ_CHECK(rc == 0 || cerr.len > 0, "check error without a message");
	free(expr);
	buf_release(&cerr);
	buf_release(&eerr);
	return 0;
}
