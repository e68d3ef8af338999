#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "job/crc32.h"
#include "job/trace.h"
#include "job/trace_internal.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

#define ESC "\033"
/* 2026-08-22T10:15:03.482113Z */
#define T0 1787393703
#define TS0 "2026-08-22T10:15:03.482113Z "

static struct timespec test_now = { T0, 482113999 };

static void test_clock(struct timespec *now)
{
	*now = test_now;
}

/* A sink whose consumer collects everything into out. */
struct fixture {
	struct trace_options opts;
	struct trace_sink *sink;
	struct buf out;
	int fail;		/* the consumer returns this */
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct fixture *f = ctx;

	if (f->fail)
		return f->fail;
	return buf_add(&f->out, data, len);
}

static void fx_start(struct fixture *f)
{
	struct trace_consumer c = { collect, f };

	f->opts.clock = test_clock;
	f->sink = trace_sink_new(&f->opts, c);
	buf_init(&f->out, 0);
}

static void fx_end(struct fixture *f)
{
	trace_sink_free(f->sink);
	buf_release(&f->out);
}

static void job(struct fixture *f, const char *s, size_t len)
{
	assert_int_equal(trace_sink_write(f->sink, TRACE_STREAM_JOB,
					  TRACE_STDOUT, s, len), 0);
}

static void jobs(struct fixture *f, const char *s)
{
	job(f, s, strlen(s));
}

/* Shows bytes with escapes, so a failure prints both sides readably. */
static void escape(struct buf *b, const char *s, size_t len)
{
	const char *name;
	size_t i;

	for (i = 0; i < len; i++) {
		name = s[i] == '\n' ? "\\n" : s[i] == '\r' ? "\\r" :
		       s[i] == '\033' ? "\\e" : s[i] == '\\' ? "\\\\" : NULL;
		if (name)
			buf_addstr(b, name);
		else if (s[i] < 0x20 || s[i] >= 0x7f)
			buf_addf(b, "\\x%02x", (unsigned char)s[i]);
		else
			buf_addch(b, s[i]);
	}
}

static void check_bytes(const char *actual, size_t alen, const char *expected,
			size_t elen, const char *file, int line)
{
	struct buf a = BUF_INIT, e = BUF_INIT;

	if (alen == elen && !memcmp(actual, expected, elen))
		return;
	escape(&e, expected, elen);
	escape(&a, actual, alen);
	print_error("expected: \"%s\" (%zu bytes)\n"
		    "  actual: \"%s\" (%zu bytes)\n", e.data, elen, a.data,
		    alen);
	buf_release(&e);
	buf_release(&a);
	_fail(file, line);
}

#define assert_bytes(actual, alen, expected) \
	check_bytes((actual), (alen), (expected), sizeof(expected) - 1, \
		    __FILE__, __LINE__)
#define assert_out(f, expected) \
	assert_bytes((f)->out.data, (f)->out.len, expected)

/* Checks the sink's counters against what the consumer received. */
static void assert_counts(struct fixture *f)
{
	char sum[16], want[16];

	snprintf(want, sizeof(want), "crc32:%08x",
		 (unsigned)crc32_update(CRC32_INIT, f->out.data, f->out.len));
	trace_sink_checksum(f->sink, sum);
	assert_string_equal(sum, want);
	assert_int_equal(trace_sink_bytesize(f->sink), f->out.len);
}

/*
 * Runs input through a fresh sink in pieces cut at cuts[] and returns the
 * output, which the caller releases.
 */
static struct buf run_cut(const struct trace_options *opts,
			  const char *const *masks, const char *input,
			  const size_t *cuts, size_t nr_cuts)
{
	struct fixture f = { .opts = *opts };
	size_t i, at = 0, len = strlen(input), to;
	struct buf out;

	fx_start(&f);
	for (i = 0; masks && masks[i]; i++)
		trace_sink_add_mask(f.sink, masks[i]);
	for (i = 0; i <= nr_cuts; i++) {
		to = i < nr_cuts ? cuts[i] : len;
		if (to > at)
			job(&f, input + at, to - at);
		at = to;
	}
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_counts(&f);
	out = f.out;
	buf_init(&f.out, 0);
	fx_end(&f);
	return out;
}

/*
 * The output must be the same whole, in every split into 2 and 3 pieces,
 * and byte by byte.
 */
static void check_all_splits(const struct trace_options *opts,
			     const char *const *masks, const char *input,
			     const char *expected, const char *file, int line)
{
	size_t len = strlen(input), i, j, cuts[2];
	size_t *bytes = calloc(len + 1, sizeof(*bytes));
	struct buf out;

	assert_non_null(bytes);
	out = run_cut(opts, masks, input, NULL, 0);
	check_bytes(out.data, out.len, expected, strlen(expected), file, line);
	buf_release(&out);
	for (i = 1; i < len; i++) {
		for (j = i; j < len; j++) {
			cuts[0] = i;
			cuts[1] = j;
			out = run_cut(opts, masks, input, cuts, 2);
			check_bytes(out.data, out.len, expected,
				    strlen(expected), file, line);
			buf_release(&out);
		}
	}
	for (i = 0; i < len; i++)
		bytes[i] = i + 1;
	out = run_cut(opts, masks, input, bytes, len);
	check_bytes(out.data, out.len, expected, strlen(expected), file, line);
	buf_release(&out);
	free(bytes);
}

#define assert_masked(opts, masks, input, expected) \
	check_all_splits((opts), (masks), (input), (expected), __FILE__, \
			 __LINE__)

static void test_crc32_vectors(void **state)
{
	const char *fox = "The quick brown fox jumps over the lazy dog";

	(void)state;
	assert_int_equal(crc32_update(CRC32_INIT, "", 0), 0);
	assert_int_equal(crc32_update(CRC32_INIT, "123456789", 9), 0xcbf43926);
	assert_int_equal(crc32_update(CRC32_INIT, fox, strlen(fox)),
			 0x414fa339);
	/* In pieces, as the sink feeds it. */
	assert_int_equal(crc32_update(crc32_update(CRC32_INIT, "1234", 4),
				      "56789", 5), 0xcbf43926);
}

static void test_checksum_and_bytesize(void **state)
{
	struct fixture f = { 0 };
	char sum[16];

	(void)state;
	fx_start(&f);
	trace_sink_checksum(f.sink, sum);
	assert_string_equal(sum, "crc32:00000000");
	jobs(&f, "1234");
	jobs(&f, "56789");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	trace_sink_checksum(f.sink, sum);
	assert_string_equal(sum, "crc32:cbf43926");
	assert_int_equal(trace_sink_bytesize(f.sink), 9);
	/* After finish, writes are dropped. */
	jobs(&f, "more");
	trace_sink_info(f.sink, "late");
	assert_int_equal(trace_sink_bytesize(f.sink), 9);
	assert_out(&f, "123456789");
	fx_end(&f);
}

static void test_runner_lines(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	fx_start(&f);
	trace_sink_line(f.sink, "Running with crunner %s (%s)", "0.1.0", "abc");
	trace_sink_info(f.sink, "Job succeeded");
	trace_sink_warning(f.sink, "%d files", 3);
	trace_sink_error(f.sink, "Job failed: exit status %d", 1);
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, ESC "[0KRunning with crunner 0.1.0 (abc)" ESC "[0;m\n"
		   ESC "[32;1mJob succeeded" ESC "[0;m\n"
		   ESC "[0;33mWARNING: 3 files" ESC "[0;m\n"
		   ESC "[31;1mERROR: Job failed: exit status 1" ESC "[0;m\n");
	assert_counts(&f);
	fx_end(&f);
}

static void test_runner_line_cut_and_many_streams(void **state)
{
	struct fixture f = { 0 };
	char *big = malloc(100000);
	size_t i, n = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	fx_start(&f);
	trace_sink_info(f.sink, "%s", big);
	assert_int_equal(f.out.len, 7 + ((size_t)64 << 10) + 5 + 1);
	/* Streams past the last lane are refused; the others go on. */
	jobs(&f, "job");
	for (i = 2; i < 2 + TRACE_MAX_LANES; i++)
		n += trace_sink_write(f.sink, (enum trace_stream)i,
				      TRACE_STDOUT, "s", 1) == 0;
	assert_int_equal(n, TRACE_MAX_LANES - 2);
	assert_int_equal(trace_sink_write(f.sink, (enum trace_stream)99,
					  TRACE_STDOUT, "s", 1),
			 CR_ERR_TOO_LARGE);
	jobs(&f, "job");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	free(big);
	fx_end(&f);
}

static void test_sections(void **state)
{
	struct fixture f = { .opts.trace_sections = 1 };

	(void)state;
	fx_start(&f);
	trace_sink_section_start(f.sink, "prepare_executor",
				 "Preparing the \"shell\" executor");
	trace_sink_line(f.sink, "Using Shell (bash) executor...");
	trace_sink_section_end(f.sink, "prepare_executor");
	test_now.tv_sec++;
	trace_sink_section_start(f.sink, "prepare_script", NULL);
	test_now.tv_sec--;
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, "section_start:1787393703:prepare_executor\r" ESC "[0K"
		   ESC "[0K" ESC "[36;1mPreparing the \"shell\" executor"
		   ESC "[0;m" ESC "[0;m\n"
		   ESC "[0KUsing Shell (bash) executor..." ESC "[0;m\n"
		   "section_end:1787393703:prepare_executor\r" ESC "[0K"
		   "section_start:1787393704:prepare_script\r" ESC "[0K");
	assert_counts(&f);
	fx_end(&f);
}

static void test_sections_off_keeps_header(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	fx_start(&f);
	trace_sink_section_start(f.sink, "step_script", "Executing");
	trace_sink_section_end(f.sink, "step_script");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, ESC "[0K" ESC "[36;1mExecuting" ESC "[0;m" ESC "[0;m\n");
	fx_end(&f);
}

static void test_mask_phrase(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const masks[] = { "s3cr3t", NULL };

	(void)state;
	assert_masked(&opts, masks, "pw=s3cr3t ok\n", "pw=[MASKED] ok\n");
	assert_masked(&opts, masks, "s3cr3ts3cr3t", "[MASKED][MASKED]");
	assert_masked(&opts, masks, "s3cr3s3cr3t!", "s3cr3[MASKED]!");
	assert_masked(&opts, masks, "s3cr3", "s3cr3");
	assert_masked(&opts, masks, "no secret here", "no secret here");
}

static void test_mask_trim_dedup_empty(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const masks[] = { "  hunter2\n", "hunter2", "", " \t",
				      NULL };
	struct fixture f = { 0 };

	(void)state;
	assert_masked(&opts, masks, "a hunter2 b", "a [MASKED] b");
	fx_start(&f);
	trace_sink_add_mask(f.sink, " abc ");
	trace_sink_add_mask(f.sink, "abc");
	trace_sink_add_mask(f.sink, "   ");
	trace_sink_add_mask(f.sink, NULL);
	trace_patterns_ready(&f.sink->phrases);
	assert_int_equal(f.sink->phrases.nr, 1);
	assert_int_equal(f.sink->phrases.maxlen, 3);
	fx_end(&f);
}

static void test_mask_overlapping_longest_first(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const nested[] = { "pass", "password123", "word", NULL };
	const char *const crossing[] = { "abcd", "xab", NULL };

	(void)state;
	assert_masked(&opts, nested, "x password123 y", "x [MASKED] y");
	assert_masked(&opts, nested, "x password12 y",
		      "x [MASKED][MASKED]12 y");
	assert_masked(&opts, nested, "passpass", "[MASKED][MASKED]");
	/* Crossing occurrences: nothing of either shows. */
	assert_masked(&opts, crossing, "-xabcd-", "-[MASKED]-");
}

static void test_mask_multiline_phrase(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const masks[] = { "line1\nline2", NULL };

	(void)state;
	assert_masked(&opts, masks, "a line1\nline2 b\nline1\nx\n",
		      "a [MASKED] b\nline1\nx\n");
}

static void test_mask_added_after_output(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	fx_start(&f);
	jobs(&f, "before ab");
	trace_sink_add_mask(f.sink, "abcdefghij");
	jobs(&f, "cdefghij abcdefghij\n");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, "before abcdefghij [MASKED]\n");
	fx_end(&f);
}

/*
 * Many phrases sharing first bytes, a one-byte phrase, and text dense with
 * those first bytes, longer than a vector block: the index (first bytes,
 * two-byte starts, groups) must find exactly what a plain search would.
 */
static void test_mask_many_phrases(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const few[] = { "sesame", "ssh-key", "swordfish", "Q",
				    NULL };
	char *many[102];
	char value[64];
	size_t i;

	(void)state;
	assert_masked(&opts, few,
		      "ssss sesam sesame ssh-ke ssh-key Qs sword swordfish!",
		      "ssss sesam [MASKED] ssh-ke [MASKED] [MASKED]s sword "
		      "[MASKED]!");
	assert_masked(&opts, few, "a long line of text without secrets, "
		      "just many esses: mississippi, assess, stress",
		      "a long line of text without secrets, "
		      "just many esses: mississippi, assess, stress");
	/* More distinct first bytes than the vector scan takes. */
	for (i = 0; i < 100; i++) {
		snprintf(value, sizeof(value), "%c%c3cr3t-%03zu",
			 (int)('a' + i % 26), (int)('0' + i % 10), i);
		many[i] = strdup(value);
		assert_non_null(many[i]);
	}
	many[100] = strdup("z");
	many[101] = NULL;
	assert_masked(&opts, (const char *const *)many,
		      "x a03cr3t-000 b13cr3t-001 b13cr3t-00 k03cr3t-010 "
		      "xyz a0 a03cr3t-0",
		      "x [MASKED] [MASKED] b13cr3t-00 [MASKED] "
		      "xy[MASKED] a0 a03cr3t-0");
	for (i = 0; many[i]; i++)
		free(many[i]);
}

/* CPU seconds, not wall-clock ones: a busy machine must not fail a test. */
static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * 100,000 masked values (a payload may carry that many) are added in
 * O(n log n): this took 40 s of CPU when each add re-sorted and
 * re-indexed the list, it takes well under a second now, even under ASan.  Duplicates
 * count once and masking is still the longest match.
 */
static void test_mask_100k_values(void **state)
{
	struct fixture f = { 0 };
	struct timespec t0;
	char value[64];
	const char *line = "a=secret-000042-x b=secret-099999-x "
			   "c=secret-1000000 d=secret-050000-xy\n";
	const char *want = "a=[MASKED] b=[MASKED] c=secret-1000000 "
			   "d=[MASKED]\n";
	double took;
	size_t i;

	(void)state;
	fx_start(&f);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < 100000; i++) {
		snprintf(value, sizeof(value), "secret-%06zu-x", i);
		trace_sink_add_mask(f.sink, value);
		/* Every tenth value twice: duplicates are dropped. */
		if (i % 10 == 0)
			trace_sink_add_mask(f.sink, value);
	}
	/* A longer value sharing a prefix wins where both match. */
	trace_sink_add_mask(f.sink, "secret-050000-xy");
	jobs(&f, line);
	assert_int_equal(trace_sink_finish(f.sink), 0);
	took = seconds_since(&t0);
	print_message("100000 masked values added and used in %.3f s of CPU\n",
		      took);
	if (took >= 2.0)
		fail_msg("adding 100000 masked values and one line took %.2f s of CPU, expected < 2 s",
			 took);
	assert_int_equal(f.sink->phrases.nr, 100001);
	assert_int_equal(f.sink->phrases.maxlen, 16);
	check_bytes(f.out.data, f.out.len, want, strlen(want), __FILE__,
		    __LINE__);
	fx_end(&f);
}

/*
 * At most four two-byte starts and no one-byte phrase: the scan looks for
 * both bytes at once, 16 positions at a time.  Near misses ("s3", "sz")
 * and matches on and across the 16-byte blocks, in every split.
 */
static void test_mask_pair_scan(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const masks[] = { "s3cr3t", "sz9", NULL };

	(void)state;
	assert_masked(&opts, masks,
		      "ssss s3 sz s3cr3 s3cr3t xx sz9 "
		      "sssssssssssssssssss3cr3tsz9 tail s3cr3t",
		      "ssss s3 sz s3cr3 [MASKED] xx [MASKED] "
		      "ssssssssssssssssss[MASKED][MASKED] tail [MASKED]");
}

/*
 * One write whose masked pieces add up to more than the block the last
 * stage collects before the consumer: the bytes and counts are the same.
 */
static void test_mask_dense_long_write(void **state)
{
	struct fixture f = { 0 };
	struct buf in = BUF_INIT, want = BUF_INIT;
	size_t i;

	(void)state;
	fx_start(&f);
	trace_sink_add_mask(f.sink, "pw1");
	for (i = 0; i < 6000; i++) {
		buf_addf(&in, "a=pw1&%zu ", i);
		buf_addf(&want, "a=[MASKED]&%zu ", i);
	}
	job(&f, in.data, in.len);
	assert_int_equal(trace_sink_finish(f.sink), 0);
	check_bytes(f.out.data, f.out.len, want.data, want.len, __FILE__,
		    __LINE__);
	assert_counts(&f);
	buf_release(&in);
	buf_release(&want);
	fx_end(&f);
}

static void test_token_prefixes(void **state)
{
	const struct trace_options opts = { 0 };

	(void)state;
	assert_masked(&opts, NULL, "token glpat-abc123XYZ done\n",
		      "token glpat-[MASKED] done\n");
	assert_masked(&opts, NULL, "glpat-", "glpat-");
	assert_masked(&opts, NULL, "glpat- x", "glpat- x");
	assert_masked(&opts, NULL, "a glrt-A.b_c=d-e/f",
		      "a glrt-[MASKED]/f");
	assert_masked(&opts, NULL, "_gitlab_session=0123abc;",
		      "_gitlab_session=[MASKED];");
	assert_masked(&opts, NULL, "glpglpat-x", "glpglpat-[MASKED]");
	assert_masked(&opts, NULL, "glrtr-x gloas-y",
		      "glrtr-[MASKED] gloas-[MASKED]");
}

static void test_token_prefixes_options(void **state)
{
	const char *const extra[] = { "mytok_", "", "glpat-" };
	const struct trace_options no_defaults = {
		.no_default_token_masks = 1,
		.token_prefixes = extra,
		.nr_token_prefixes = 3,
	};
	const char *const many[] = { "a1-", "a2-", "a3-", "a4-" };
	const struct trace_options with_many = {
		.token_prefixes = many, .nr_token_prefixes = 4,
	};
	struct fixture f = { .opts = with_many };
	size_t i;

	(void)state;
	assert_masked(&no_defaults, NULL, "glrt-abc glpat-abc mytok_abc",
		      "glrt-abc glpat-[MASKED] mytok_[MASKED]");
	/* 14 built-in + 4 short ones: sorted shortest first, cut at 15. */
	fx_start(&f);
	assert_int_equal(f.sink->prefixes.nr, 15);
	for (i = 1; i < f.sink->prefixes.nr; i++)
		assert_true(f.sink->prefixes.len[i - 1] <=
			    f.sink->prefixes.len[i]);
	assert_memory_equal(f.sink->prefixes.str[0], "a1-", 3);
	assert_int_equal(f.sink->prefixes.len[14], 7);	/* glsoat-, glffct- */
	fx_end(&f);
	assert_masked(&with_many, NULL, "a4-x glagent-x _gitlab_session=x",
		      "a4-[MASKED] glagent-x _gitlab_session=x");
}

static void test_url_params(void **state)
{
	const struct trace_options opts = { 0 };

	(void)state;
	assert_masked(&opts, NULL, "GET /api?private_token=xyz&a=1\n",
		      "GET /api?private_token=[MASKED]&a=1\n");
	assert_masked(&opts, NULL, "u?a=1&X-Amz-Signature=ab/c d",
		      "u?a=1&X-Amz-Signature=[MASKED] d");
	assert_masked(&opts, NULL, "?rss_token=&x", "?rss_token=&x");
	assert_masked(&opts, NULL, "??private_token=1?x-amz-credential=2\t",
		      "??private_token=[MASKED]?x-amz-credential=[MASKED]\t");
	assert_masked(&opts, NULL, "?private_tokens=1 &authenticity_token",
		      "?private_tokens=1 &authenticity_token");
}

/*
 * A '?' or '&' whose next byte begins no parameter name stays in the run
 * (the URL stage does not cut there); one whose next byte does, or that
 * ends a write, is decided as before.  Names in any case.
 */
static void test_url_delimiter_runs(void **state)
{
	const struct trace_options opts = { 0 };

	(void)state;
	assert_masked(&opts, NULL,
		      "a?id=1&step=2?&&?private_token=x&Private_Token=y&?rss_"
		      "token=z&p&x-amz-signature=w?x&X-AMZ-CREDENTIAL=v p&q\n",
		      "a?id=1&step=2?&&?private_token=[MASKED]&Private_Token="
		      "[MASKED]&?rss_token=[MASKED]&p&x-amz-signature=[MASKED]"
		      "?x&X-AMZ-CREDENTIAL=[MASKED] p&q\n");
	assert_masked(&opts, NULL, "?a&r?x&", "?a&r?x&");
}

/*
 * The phrase scan looks for the phrases' two-byte starts 16 positions at
 * a time with one loop per number of starts (1 to 4), and byte by byte
 * with more or with a one-byte phrase: every count finds a phrase at every
 * offset of a 16-byte block, and near misses stay.
 */
static void test_mask_pair_counts(void **state)
{
	const char *const all[] = { "ab12", "cd34", "ef56", "gh78", "ij90",
				    "Q" };
	const struct trace_options opts = { 0 };
	const char *masks[7];
	struct buf in = BUF_INIT, want = BUF_INIT;
	size_t nr, i, k;

	(void)state;
	for (nr = 1; nr <= 6; nr++) {
		for (i = 0; i < 7; i++)
			masks[i] = i < nr ? all[i] : NULL;
		buf_reset(&in);
		buf_reset(&want);
		for (i = 0; i < 6; i++) {
			/* An offset in the block, a near miss, the phrase. */
			for (k = 0; k < 3 + 2 * i; k++) {
				buf_addch(&in, 'x');
				buf_addch(&want, 'x');
			}
			buf_addf(&in, "%.*s-%s", (int)strlen(all[i]) - 1,
				 all[i], all[i]);
			buf_addf(&want, "%.*s-%s", (int)strlen(all[i]) - 1,
				 all[i], i < nr ? "[MASKED]" : all[i]);
		}
		assert_masked(&opts, masks, in.data, want.data);
	}
	buf_release(&in);
	buf_release(&want);
}

/*
 * UTF-8 repair checks 32 ASCII bytes at a time: a character or a bad
 * byte at any offset around those blocks is found, across writes too.
 */
static void test_utf8_around_wide_scan(void **state)
{
	const struct trace_options opts = { 0 };

	(void)state;
	assert_masked(&opts, NULL,
		      "0123456789abcdefghijklmnopqrstu\xc3\xa9"
		      "0123456789abcdefghijklmnopqrstuvw\xff"
		      "\xe4\xbd\xa0x\xf0\x9f\x98\x80" "0123456789abcdef\xc3",
		      "0123456789abcdefghijklmnopqrstu\xc3\xa9"
		      "0123456789abcdefghijklmnopqrstuvw\xef\xbf\xbd"
		      "\xe4\xbd\xa0x\xf0\x9f\x98\x80" "0123456789abcdef"
		      "\xef\xbf\xbd");
}

/*
 * The prefix made for one time is reused for the entries of that time
 * only: a new microsecond, a new second with the same microsecond, and a
 * clock set back each get their own; '+' and ' ' follow each entry.
 */
static void test_timestamps_prefix_reuse(void **state)
{
	struct fixture f = { .opts.timestamps = 1 };

	(void)state;
	fx_start(&f);
	jobs(&f, "a\nb\nc\rd");
	test_now.tv_nsec = 482114000;
	jobs(&f, "e\nf\n");
	test_now.tv_sec = T0 + 1;
	jobs(&f, "g\n");
	test_now.tv_sec = T0;
	test_now.tv_nsec = 482113999;
	jobs(&f, "h\n");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, TS0 "01O a\n"
		   TS0 "01O b\n"
		   TS0 "01O c\rd\n"
		   "2026-08-22T10:15:03.482114Z 01O+e\n"
		   "2026-08-22T10:15:03.482114Z 01O f\n"
		   "2026-08-22T10:15:04.482114Z 01O g\n"
		   TS0 "01O h\n");
	assert_counts(&f);
	fx_end(&f);
}

static void test_all_maskers_together(void **state)
{
	const struct trace_options opts = { 0 };
	const char *const masks[] = { "hunter2", NULL };

	(void)state;
	assert_masked(&opts, masks,
		      "hunter2 glpat-hunter2 ?private_token=hunter2x\n",
		      "[MASKED] glpat-[MASKED] ?private_token=[MASKED]\n");
}

static void test_runner_lines_are_masked(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	fx_start(&f);
	trace_sink_add_mask(f.sink, "topsecret");
	trace_sink_error(f.sink, "bad password topsecret");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, ESC "[31;1mERROR: bad password [MASKED]" ESC "[0;m\n");
	fx_end(&f);
}

static void test_runner_line_flushes_job_output(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	fx_start(&f);
	jobs(&f, "last words gl");	/* "gl" may start a token prefix */
	trace_sink_info(f.sink, "Job succeeded");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, "last words gl" ESC "[32;1mJob succeeded" ESC "[0;m\n");
	fx_end(&f);
}

#define NOTICE(n) "\n" ESC "[33;1mJob's log exceeded limit of " n " bytes.\n" \
	"Job execution will continue but no more output will be collected." \
	ESC "[0;m\n"

static void test_output_limit(void **state)
{
	const struct trace_options ten = { .output_limit = 10 };
	const struct trace_options six = { .output_limit = 6 };
	const struct trace_options four = { .output_limit = 4 };
	const struct trace_options five = { .output_limit = 5 };
	struct fixture f = { .opts = ten };

	(void)state;
	assert_masked(&ten, NULL, "123456789abcdef", "123456789a" NOTICE("10"));
	/* No UTF-8 character is cut in two: a b é € ! */
	assert_masked(&six, NULL, "ab\xc3\xa9\xe2\x82\xac!",
		      "ab\xc3\xa9" NOTICE("6"));
	/* Reaching the limit exactly ends the log too. */
	assert_masked(&four, NULL, "abcd", "abcd" NOTICE("4"));
	assert_masked(&five, NULL, "abcd", "abcd");
	/* Later output, the runner's too, is dropped; the notice counts. */
	fx_start(&f);
	jobs(&f, "12345");
	jobs(&f, "6789abcdef");
	jobs(&f, "dropped");
	trace_sink_error(f.sink, "dropped too");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, "123456789a" NOTICE("10"));
	assert_counts(&f);
	assert_int_equal(trace_sink_bytesize(f.sink),
			 10 + sizeof(NOTICE("10")) - 1);
	fx_end(&f);
}

static void test_utf8_repair(void **state)
{
	const struct trace_options opts = { 0 };

	(void)state;
	assert_masked(&opts, NULL, "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n",
		      "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
	assert_masked(&opts, NULL, "a\xff" "b", "a\xef\xbf\xbd" "b");
	assert_masked(&opts, NULL, "\xe2\x82x", "\xef\xbf\xbd\xef\xbf\xbdx");
	assert_masked(&opts, NULL, "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80",
		      "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
		      "\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		      "\xef\xbf\xbd");
	/* Cut short at the end of the log. */
	assert_masked(&opts, NULL, "x\xf0\x9f\x98", "x\xef\xbf\xbd"
		      "\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_utf8_binary_output(void **state)
{
	struct fixture f = { 0 };
	char bin[1000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(0x80 + i % 0x40);
	fx_start(&f);
	job(&f, bin, sizeof(bin));
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_int_equal(f.out.len, 3 * sizeof(bin));
	for (i = 0; i < sizeof(bin); i++)
		assert_memory_equal(f.out.data + 3 * i, "\xef\xbf\xbd", 3);
	assert_counts(&f);
	fx_end(&f);
}

static void test_timestamps(void **state)
{
	struct fixture f = { .opts.timestamps = 1 };

	(void)state;
	fx_start(&f);
	trace_sink_line(f.sink, "Running");
	jobs(&f, "one\ntw");
	test_now.tv_nsec = 5000;
	jobs(&f, "o\nthree");
	assert_int_equal(trace_sink_write(f.sink, TRACE_STREAM_JOB,
					  TRACE_STDERR, "err\n", 4), 0);
	test_now.tv_nsec = 482113999;
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, TS0 "00O " ESC "[0KRunning" ESC "[0;m\n"
		   TS0 "01O one\n"
		   TS0 "01O two\n"
		   "2026-08-22T10:15:03.000005Z 01E err\n"
		   "2026-08-22T10:15:03.000005Z 01O three\n");
	assert_counts(&f);
	fx_end(&f);
}

static void test_timestamps_carriage_return(void **state)
{
	struct fixture f = { .opts.timestamps = 1, .opts.trace_sections = 1 };

	(void)state;
	fx_start(&f);
	jobs(&f, "10%\r");
	jobs(&f, "50%\r\xe2\x82");
	jobs(&f, "\xac" "done\n");
	trace_sink_section_end(f.sink, "step");
	trace_sink_line(f.sink, "next");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_out(&f, TS0 "01O 10%\r\n"
		   TS0 "01O+50%\r\n"
		   TS0 "01O+\xe2\x82\xac" "done\n"
		   TS0 "00O section_end:1787393703:step\r" ESC "[0K\n"
		   TS0 "00O+" ESC "[0Knext" ESC "[0;m\n");
	fx_end(&f);
}

static void test_timestamps_long_line(void **state)
{
	struct fixture f = { .opts.timestamps = 1 };
	char *line = malloc(TRACE_TS_LINE_MAX + 3);
	const size_t pre = sizeof(TS0 "01O ") - 1;
	size_t i;

	(void)state;
	assert_non_null(line);
	memset(line, 'x', TRACE_TS_LINE_MAX + 3);
	/* A 3-byte character across the 8 KiB mark stays whole. */
	memcpy(line + TRACE_TS_LINE_MAX - 1, "\xe2\x82\xac", 3);
	fx_start(&f);
	for (i = 0; i < TRACE_TS_LINE_MAX + 3; i += 1000)
		job(&f, line + i, TRACE_TS_LINE_MAX + 3 - i < 1000 ?
		    TRACE_TS_LINE_MAX + 3 - i : 1000);
	jobs(&f, "y");
	assert_int_equal(trace_sink_finish(f.sink), 0);
	assert_int_equal(f.out.len, pre + TRACE_TS_LINE_MAX - 1 + 1 +
			 pre + 3 + 1 + 1 + 1);
	assert_bytes(f.out.data, pre, TS0 "01O ");
	assert_bytes(f.out.data + pre + TRACE_TS_LINE_MAX - 2, 2 + pre,
		     "x\n" TS0 "01O+");
	assert_bytes(f.out.data + 2 * pre + TRACE_TS_LINE_MAX, 6,
		     "\xe2\x82\xacxy\n");
	assert_counts(&f);
	free(line);
	fx_end(&f);
}

static void test_consumer_error_is_kept(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	fx_start(&f);
	f.fail = CR_ERR_IO;
	assert_int_equal(trace_sink_write(f.sink, TRACE_STREAM_JOB,
					  TRACE_STDOUT, "x", 1), CR_ERR_IO);
	f.fail = 0;
	assert_int_equal(trace_sink_write(f.sink, TRACE_STREAM_JOB,
					  TRACE_STDOUT, "y", 1), CR_ERR_IO);
	assert_int_equal(trace_sink_finish(f.sink), CR_ERR_IO);
	assert_int_equal(trace_sink_bytesize(f.sink), 0);
	fx_end(&f);
}

/*
 * The big-log consumer keeps no output: it counts "[MASKED]" and looks for
 * leaked secrets across write boundaries with a short tail.
 */
struct scan {
	char tail[16];
	size_t tail_len;
	size_t masked, leaks, bytes;
};

static size_t count_in(const char *hay, size_t len, const char *needle,
		       size_t from)
{
	size_t n = strlen(needle), i, count = 0;

	for (i = 0; i + n <= len; i++)
		if (i + n > from && !memcmp(hay + i, needle, n))
			count++;
	return count;
}

static int scan_write(void *ctx, const char *data, size_t len)
{
	struct scan *s = ctx;
	char *all = malloc(s->tail_len + len);
	size_t n = s->tail_len + len;

	assert_non_null(all);
	memcpy(all, s->tail, s->tail_len);
	memcpy(all + s->tail_len, data, len);
	s->masked += count_in(all, n, "[MASKED]", s->tail_len);
	s->leaks += count_in(all, n, "hunter2", s->tail_len) +
		    count_in(all, n, "SECRETTOKEN", s->tail_len) +
		    count_in(all, n, "=zz", s->tail_len);
	s->tail_len = n < sizeof(s->tail) ? n : sizeof(s->tail);
	memcpy(s->tail, all + n - s->tail_len, s->tail_len);
	s->bytes += len;
	free(all);
	return 0;
}

/* A clock that moves one second on at each read, and counts the reads. */
static int ticking_reads;

static void ticking_clock(struct timespec *now)
{
	*now = test_now;
	now->tv_sec += ticking_reads++;
}

/*
 * The clock is read once per write, not once per piece the stages hand
 * on (a masked value, a URL, a token split a line in pieces): every entry
 * of one write has the write's time.
 */
static void test_timestamps_one_clock_read_per_write(void **state)
{
	struct fixture f = { .opts.timestamps = 1 };
	const char *p;
	int entries = 0;

	(void)state;
	fx_start(&f);
	f.sink->opts.clock = ticking_clock;
	trace_sink_add_mask(f.sink, "hunter2");
	ticking_reads = 0;
	jobs(&f, "a hunter2 b\nhunter2 c https://x.example/?private_token=zz d\n"
		 "glpat-0123456789abcdefghij e hunter2\nf\n");
	assert_int_equal(ticking_reads, 1);
	for (p = f.out.data; (p = strstr(p, "2026-08-22T10:15:")) != NULL;
	     p++) {
		assert_memory_equal(p, TS0, strlen(TS0));
		entries++;
	}
	assert_int_equal(entries, 4);
	fx_end(&f);
}

static void test_memory_bounded_50mib(void **state)
{
	const char unit[] = "key hunter2hunter2 glpat-SECRETTOKEN "
			    "?private_token=zz&x=1 \xc3\xa9\xe2\x82\xac\n";
	const size_t total = (size_t)50 << 20, piece = 4096;
	struct trace_options opts = { .timestamps = 1, .clock = test_clock };
	struct scan scan = { 0 };
	struct trace_consumer c = { scan_write, &scan };
	struct trace_sink *sink = trace_sink_new(&opts, c);
	size_t ulen = sizeof(unit) - 1, nr_units, i, done, held, alloc;
	size_t max_held = 0, first_alloc = 0;
	char *chunk = malloc(piece + ulen);

	(void)state;
	assert_non_null(chunk);
	trace_sink_add_mask(sink, "hunter2");
	trace_sink_add_mask(sink, "hunter2hunter2");
	/* A piece size that is no multiple of the unit moves the cuts. */
	for (i = 0; i < piece + ulen; i++)
		chunk[i] = unit[i % ulen];
	nr_units = total / ulen;
	for (done = 0; done < nr_units * ulen; done += piece) {
		size_t n = nr_units * ulen - done < piece ?
			   nr_units * ulen - done : piece;

		assert_int_equal(trace_sink_write(sink, TRACE_STREAM_JOB,
				 TRACE_STDOUT, chunk + done % ulen, n), 0);
		held = trace_sink_held(sink, &alloc);
		if (!first_alloc)
			first_alloc = alloc;
		assert_int_equal(alloc, first_alloc);
		if (held > max_held)
			max_held = held;
	}
	assert_int_equal(trace_sink_finish(sink), 0);
	/* Less than a line: "[MASKED]" and partial lines, never a piece. */
	assert_true(max_held < ulen);
	assert_true(first_alloc <= TRACE_TS_LINE_MAX + TRACE_TS_OUT_MAX + 64);
	assert_int_equal(scan.leaks, 0);
	assert_int_equal(scan.masked, 3 * nr_units);
	assert_int_equal(scan.bytes, trace_sink_bytesize(sink));
	trace_sink_free(sink);
	free(chunk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_vectors),
		cmocka_unit_test(test_checksum_and_bytesize),
		cmocka_unit_test(test_runner_lines),
		cmocka_unit_test(test_runner_line_cut_and_many_streams),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_sections_off_keeps_header),
		cmocka_unit_test(test_mask_phrase),
		cmocka_unit_test(test_mask_trim_dedup_empty),
		cmocka_unit_test(test_mask_overlapping_longest_first),
		cmocka_unit_test(test_mask_multiline_phrase),
		cmocka_unit_test(test_mask_added_after_output),
		cmocka_unit_test(test_mask_many_phrases),
		cmocka_unit_test(test_mask_100k_values),
		cmocka_unit_test(test_mask_pair_scan),
		cmocka_unit_test(test_mask_dense_long_write),
		cmocka_unit_test(test_token_prefixes),
		cmocka_unit_test(test_token_prefixes_options),
		cmocka_unit_test(test_url_params),
		cmocka_unit_test(test_url_delimiter_runs),
		cmocka_unit_test(test_mask_pair_counts),
		cmocka_unit_test(test_utf8_around_wide_scan),
		cmocka_unit_test(test_timestamps_prefix_reuse),
		cmocka_unit_test(test_all_maskers_together),
		cmocka_unit_test(test_runner_lines_are_masked),
		cmocka_unit_test(test_runner_line_flushes_job_output),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_utf8_repair),
		cmocka_unit_test(test_utf8_binary_output),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_timestamps_carriage_return),
		cmocka_unit_test(test_timestamps_long_line),
		cmocka_unit_test(test_consumer_error_is_kept),
		cmocka_unit_test(test_timestamps_one_clock_read_per_write),
		cmocka_unit_test(test_memory_bounded_50mib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
