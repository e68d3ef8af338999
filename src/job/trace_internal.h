/*
 * Inside the trace sink: the stages and what they share.
 *
 * Every (stream, fd) pair written to gets a lane, a chain of its own stages:
 *
 *   mask -> url -> token -> [timestamp] -> utf8 --+
 *   mask -> url -> token -> [timestamp] -> utf8 --+--> limit -> out
 *
 * The per-lane stages keep state across writes (a secret split over two
 * pipe reads, half a line, half a UTF-8 character), so each stream needs
 * its own; limit and out are shared, they count the final bytes.
 *
 * A stage is a struct trace_writer followed by its own fields, in the
 * manner of curl's client writers.  write() hands bytes on with
 * trace_writer_pass() as soon as it knows what they become and keeps back
 * only what it cannot decide yet; close() hands on whatever is kept back
 * (the stream ended) and resets the stage.  A stage never keeps more than
 * a fixed amount: the longest masked phrase, the longest token prefix, one
 * 8 KiB partial line, three bytes of a UTF-8 character.
 */
#ifndef CR_TRACE_INTERNAL_H
#define CR_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "job/trace.h"

/* Escape sequences of spec section 7.4. */
#define TRACE_ANSI_CLEAR "\033[0K"
#define TRACE_ANSI_RESET "\033[0;m"
#define TRACE_ANSI_BOLD_CYAN "\033[36;1m"
#define TRACE_ANSI_BOLD_GREEN "\033[32;1m"
#define TRACE_ANSI_YELLOW "\033[0;33m"
#define TRACE_ANSI_BOLD_YELLOW "\033[33;1m"
#define TRACE_ANSI_BOLD_RED "\033[31;1m"

/* What every masker writes instead of a secret (spec 7.5). */
#define TRACE_MASKED "[MASKED]"
#define TRACE_MASKED_LEN (sizeof(TRACE_MASKED) - 1)

/* At most this many token prefixes are active (spec 7.5). */
#define TRACE_MAX_TOKEN_PREFIXES 15
/* A partial line the timestamper holds is emitted at this size (7.2). */
#define TRACE_TS_LINE_MAX 8192
/* The timestamper gathers entries in a block this big before handing them on. */
#define TRACE_TS_OUT_MAX 4096
/* Distinct (stream, fd) pairs one sink accepts. */
#define TRACE_MAX_LANES 32
/* Up to this many distinct bytes, a scan for them is vectorised. */
#define TRACE_FEW 4

/*
 * The index of the first byte of s[0..n) whose entry in set is non-zero,
 * or n.  The stages skip plain text with it: a tight loop over the bytes
 * runs several times faster than their per-byte state machines, and in the
 * common case (no secret, no token, no URL) it is the only work they do.
 */
static inline size_t trace_scan(const unsigned char set[256], const char *s,
				size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i + 4 <= n) {
		if (set[p[i]])
			return i;
		if (set[p[i + 1]])
			return i + 1;
		if (set[p[i + 2]])
			return i + 2;
		if (set[p[i + 3]])
			return i + 3;
		i += 4;
	}
	while (i < n && !set[p[i]])
		i++;
	return i;
}

/*
 * The same, when the set has at most TRACE_FEW bytes: 32 bytes at a time
 * with vector compares (GCC's vector extensions: SSE2 on x86-64, NEON on
 * arm64), several times faster again.  few holds the set's bytes, each
 * repeated over a vector (trace_few_init()); with few->nr 0 this is
 * trace_scan().
 */
typedef unsigned char trace_v16 __attribute__((vector_size(16)));

struct trace_few {
	trace_v16 vec[TRACE_FEW];
	size_t nr;		/* 0: more than TRACE_FEW bytes in the set */
};

static inline void trace_few_init(struct trace_few *few,
				  const unsigned char *bytes, size_t nr)
{
	size_t i, k;

	few->nr = nr <= TRACE_FEW ? nr : 0;
	for (i = 0; few->nr && i < TRACE_FEW; i++)
		for (k = 0; k < 16; k++)
			few->vec[i][k] = bytes[i % nr];
}

/* Bit k is the high bit of byte k of m (compares give 0 or 0xff). */
static inline uint32_t trace_v16_bits(trace_v16 m)
{
#if defined(__SSE2__)
	return (uint32_t)_mm_movemask_epi8((__m128i)m);
#else
	unsigned char b[16];
	uint32_t bits = 0;
	size_t k;

	memcpy(b, &m, 16);
	for (k = 0; k < 16; k++)
		bits |= (uint32_t)(b[k] >> 7) << k;
	return bits;
#endif
}

/* The positions of s[0..16) that hold a byte of few (few->nr > 0). */
static inline uint32_t trace_few_bits(const struct trace_few *few,
				      const char *s)
{
	trace_v16 v;

	memcpy(&v, s, 16);
	/* One expression per set size: no compare with a repeated byte. */
	switch (few->nr) {
	case 1:
		return trace_v16_bits((trace_v16)(v == few->vec[0]));
	case 2:
		return trace_v16_bits((trace_v16)((v == few->vec[0]) |
						  (v == few->vec[1])));
	default:
		return trace_v16_bits((trace_v16)((v == few->vec[0]) |
						  (v == few->vec[1]) |
						  (v == few->vec[2]) |
						  (v == few->vec[3])));
	}
}

/*
 * With AVX2 (x86-64, checked at run time): the scans 32 bytes per compare.
 * Each moves *at over the bytes it looked at and returns true when it
 * stopped at a hit; fewer than 32 (33) bytes left are for the caller.
 */
bool trace_avx2(void);
bool trace_scan_few_avx2(const struct trace_few *few, const char *s,
			 size_t n, size_t *at);
bool trace_pair_scan_avx2(const struct trace_few *fa,
			  const struct trace_few *fb, const char *s,
			  size_t n, size_t *at);

static inline size_t trace_scan_few(const unsigned char set[256],
				    const struct trace_few *few,
				    const char *s, size_t n)
{
	uint32_t bits;
	size_t i = 0;

	if (few->nr && n >= 64 && trace_avx2() &&
	    trace_scan_few_avx2(few, s, n, &i))
		return i;
	if (few->nr) {
		for (; i + 32 <= n; i += 32) {
			bits = trace_few_bits(few, s + i) |
			       trace_few_bits(few, s + i + 16) << 16;
			if (bits)
				return i + (size_t)__builtin_ctz(bits);
		}
		for (; i + 16 <= n; i += 16) {
			bits = trace_few_bits(few, s + i);
			if (bits)
				return i + (size_t)__builtin_ctz(bits);
		}
	}
	return i + trace_scan(set, s + i, n - i);
}

struct trace_writer;

struct trace_writer_ops {
	const char *name;
	int (*write)(struct trace_writer *w, const char *data, size_t len);
	/* End of the stream: pass on what is held back, reset the state. */
	int (*close)(struct trace_writer *w);
	/* Bytes held back now, and bytes allocated for holding them. */
	size_t (*held)(const struct trace_writer *w, size_t *alloc);
	/* Frees w, wiping held-back bytes (they may be part of a secret). */
	void (*free)(struct trace_writer *w);
};

struct trace_writer {
	const struct trace_writer_ops *ops;
	struct trace_writer *next;	/* not owned */
	struct trace_sink *sink;	/* not owned */
};

/* Hands len bytes to the stage after w; nothing happens when len is 0. */
static inline int trace_writer_pass(struct trace_writer *w, const char *data,
				    size_t len)
{
	if (!len)
		return 0;
	return w->next->ops->write(w->next, data, len);
}

enum trace_patterns_order {
	TRACE_LONGEST_FIRST,
	TRACE_SHORTEST_FIRST,
};

/*
 * A set of byte strings to look for: the masked phrases (longest first)
 * or the token prefixes (shortest first).  The order is the priority:
 * trace_patterns_match() reports the first pattern in the list that is
 * decided at a position.
 */
struct trace_patterns {
	char **str;		/* owned, wiped on release */
	size_t *len;
	size_t nr, alloc;
	size_t maxlen;
	/* Added to since trace_patterns_ready(): order and index are stale. */
	int dirty;
	enum trace_patterns_order order;	/* of the last add */
	/* TRACE_FIRST_* of each byte; non-zero: some pattern starts with it */
	unsigned char first[256];
	/*
	 * The index that keeps a position where nothing can match cheap (a
	 * log line is full of bytes that begin some secret): a bit per
	 * two-byte start of a pattern, hashed (NULL while there is none), the
	 * pattern numbers grouped by first byte, list order within a group:
	 * group b is by_first[group[b]] .. by_first[group[b + 1] - 1].
	 */
	unsigned char *pairs;
	uint32_t *by_first;
	uint32_t group[257];
	/* The distinct first bytes, for trace_scan_few(). */
	struct trace_few few;
	/*
	 * With at most TRACE_FEW distinct two-byte starts and no one-byte
	 * pattern, their first and second bytes (pair k is vec[k] of each),
	 * so that trace_patterns_skip() looks for both bytes at once; nr 0
	 * otherwise.  Text is full of 's' or 'g', seldom of "s3" or "gl".
	 */
	struct trace_few pair_first, pair_second;
};

enum trace_first_flags {
	TRACE_FIRST_START = 1 << 0,	/* a pattern starts with this byte */
	TRACE_FIRST_SINGLE = 1 << 1,	/* a pattern is this byte alone */
};

/*
 * Adds a copy of s[0..len) in O(1): it takes its place in the order (after
 * patterns of the same length), or goes if it is a duplicate, at the next
 * trace_patterns_ready().  Returns 0, or 1 when s is empty (not added).
 */
int trace_patterns_add(struct trace_patterns *pats, const char *s,
		       size_t len, enum trace_patterns_order order);
/*
 * Sorts what was added since the last call, drops duplicates and rebuilds
 * the index, in O(n log n); nothing when nothing was added.  The lookups
 * below (skip, match) and nr, maxlen and first[] are valid only after it.
 */
void trace_patterns_ready(struct trace_patterns *pats);
/*
 * The index of the first position of s[0..n) where a pattern may start
 * (its first two bytes are those of some pattern, or only one byte is
 * left), or n.
 */
size_t trace_patterns_skip(const struct trace_patterns *pats, const char *s,
			   size_t n);
/* Drops patterns after the first nr (in order; readies the set first). */
void trace_patterns_truncate(struct trace_patterns *pats, size_t nr);
void trace_patterns_release(struct trace_patterns *pats);

/*
 * The bytes a stage looks at in one write: what it held back, then the
 * new data, seen as one sequence of hold_len + data_len bytes.
 */
struct trace_window {
	const char *hold;
	size_t hold_len;
	const char *data;
	size_t data_len;
};

static inline unsigned char trace_window_at(const struct trace_window *win,
					    size_t i)
{
	if (i < win->hold_len)
		return (unsigned char)win->hold[i];
	return (unsigned char)win->data[i - win->hold_len];
}

/* Passes bytes [from, to) of the window to the stage after w. */
int trace_window_pass(struct trace_writer *w, const struct trace_window *win,
		      size_t from, size_t to);
/* The same, then "[MASKED]". */
int trace_window_pass_masked(struct trace_writer *w,
			     const struct trace_window *win, size_t from,
			     size_t to);

enum trace_match {
	TRACE_MATCH_NONE,
	TRACE_MATCH_PARTIAL,	/* the window ends inside a possible match */
	TRACE_MATCH_FULL,
};

/*
 * The first pattern, in list order, that matches or may still match at
 * position pos of the window.  With final set (no more bytes will come)
 * there is no PARTIAL.  On FULL, *len is the pattern's length.
 *
 * Longest first, this is the longest match, or PARTIAL while a longer one
 * is undecided; shortest first, it is the shortest match.
 */
enum trace_match trace_patterns_match(const struct trace_patterns *pats,
				      const struct trace_window *win,
				      size_t pos, int final, size_t *len);

/*
 * A stage's held-back bytes: a heap array that only grows to the size the
 * stage asks for, wiped when it moves or is freed.
 */
struct trace_hold {
	char *data;
	size_t len, alloc;
};

void trace_hold_reserve(struct trace_hold *hold, size_t size);
/*
 * Keeps bytes [from, end) of win (whose hold is this hold) for the next
 * write; they must fit in what was reserved.
 */
void trace_hold_keep(struct trace_hold *hold, const struct trace_window *win,
		     size_t from);
void trace_hold_release(struct trace_hold *hold);

struct trace_lane {
	uint8_t stream;
	enum trace_fd fd;
	struct trace_writer *head;	/* owned down to (excluding) limit */
};

struct trace_sink {
	struct trace_options opts;	/* token_prefixes not kept */
	struct trace_consumer consumer;
	struct trace_patterns phrases;	/* masked values, longest first */
	struct trace_patterns prefixes;	/* token prefixes, shortest first */
	struct trace_lane lanes[TRACE_MAX_LANES];
	size_t nr_lanes;
	struct trace_writer *limit;	/* shared tail: limit -> out */
	struct trace_writer *out;
	/*
	 * What out collected during the current trace_sink_write(): the
	 * stages hand on a line in pieces (text, "[MASKED]", text...), and
	 * the consumer and the checksum are much cheaper on one block per
	 * write than on every piece.  Empty between calls.
	 */
	char *pending;
	size_t pending_len, pending_max;	/* max: the most it held */
	uint32_t crc;
	uint64_t bytes;
	/*
	 * The clock read once when trace_sink_write() starts, for every
	 * piece of that write: the stages hand a line on in pieces, and a
	 * clock read per piece was 15% of crunner's CPU on a masked log
	 * (a kvm-clock read costs ~100 ns).  Valid while write_time_set.
	 */
	struct timespec write_time;
	int write_time_set;
	int err;		/* first error; later writes return it */
	int finished;
};

/* Reads the sink's clock. */
void trace_sink_now(const struct trace_sink *sink, struct timespec *now);

/* Stage constructors; each returns a new stage whose next stage is next. */
struct trace_writer *trace_mask_new(struct trace_sink *sink,
				    struct trace_writer *next);
struct trace_writer *trace_url_new(struct trace_sink *sink,
				   struct trace_writer *next);
struct trace_writer *trace_token_new(struct trace_sink *sink,
				     struct trace_writer *next);
struct trace_writer *trace_timestamp_new(struct trace_sink *sink,
					 struct trace_writer *next,
					 uint8_t stream, enum trace_fd fd);
struct trace_writer *trace_utf8_new(struct trace_sink *sink,
				    struct trace_writer *next);
struct trace_writer *trace_limit_new(struct trace_sink *sink,
				     struct trace_writer *next, size_t limit);

/*
 * Fills sink->prefixes from the built-in list (spec 7.5) and the job's
 * extra prefixes: sorted shortest first, at most 15.
 */
void trace_token_setup(struct trace_sink *sink,
		       const struct trace_options *opts);

/*
 * For tests and the memory bound: bytes held back over all lanes now, and
 * bytes allocated for holding them.
 */
size_t trace_sink_held(const struct trace_sink *sink, size_t *alloc);

#endif
