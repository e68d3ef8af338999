/*
 * Masking of masked variable values (spec 7.5), and the pattern and
 * hold-back helpers the token stage shares.
 *
 * Every occurrence of a phrase becomes "[MASKED]".  Where occurrences
 * overlap, the masked region is their union, so no byte of any of them
 * shows; at one position the longest phrase wins.  Adjacent occurrences
 * give one "[MASKED]" each, as gitlab-runner does.
 *
 * Positions are decided in order.  Position p is decided when every phrase
 * either matches there or cannot; while the bytes seen so far are the
 * start of some phrase, p and everything after it is held back.  That is
 * fewer bytes than the longest phrase, whatever the write sizes.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "job/trace_internal.h"
#include "util/xalloc.h"
#include "util/banned.h"

/*
 * The two-byte starts are hashed into 8192 bits (1 KiB per sink and set,
 * where one bit per pair would take 8 KiB): a collision only sends a
 * position to the full comparison, which decides.
 */
#define PAIRS_BITS 8192
#define PAIRS_SIZE (PAIRS_BITS / 8)

static size_t pair_bit(unsigned char a, unsigned char b)
{
	return ((size_t)a * 31 + b) % PAIRS_BITS;
}

/* Rebuilds first, pairs and the groups after the list changed. */
static void patterns_index(struct trace_patterns *pats)
{
	uint32_t count[256] = { 0 };
	unsigned char c, firsts[256], pa[TRACE_FEW], pb[TRACE_FEW];
	size_t i, k, bit, nr_firsts = 0, nr_pairs = 0;
	bool pairs_fit = true;

	memset(pats->first, 0, sizeof(pats->first));
	if (pats->pairs)
		memset(pats->pairs, 0, PAIRS_SIZE);
	else if (pats->nr)
		pats->pairs = xcalloc(1, PAIRS_SIZE);
	free(pats->by_first);
	pats->by_first = pats->nr ?
		xreallocarray(NULL, pats->nr, sizeof(*pats->by_first)) : NULL;
	pats->maxlen = 0;
	for (i = 0; i < pats->nr; i++) {
		c = (unsigned char)pats->str[i][0];
		count[c]++;
		pats->first[c] |= TRACE_FIRST_START;
		if (pats->len[i] == 1) {
			pats->first[c] |= TRACE_FIRST_SINGLE;
			pairs_fit = false;
		} else {
			unsigned char c2 = (unsigned char)pats->str[i][1];

			bit = pair_bit(c, c2);
			pats->pairs[bit / 8] |= (unsigned char)(1U << (bit % 8));
			for (k = 0; k < nr_pairs; k++)
				if (pa[k] == c && pb[k] == c2)
					break;
			if (k == nr_pairs && nr_pairs < TRACE_FEW) {
				pa[nr_pairs] = c;
				pb[nr_pairs++] = c2;
			} else if (k == nr_pairs) {
				pairs_fit = false;
			}
		}
		if (pats->len[i] > pats->maxlen)
			pats->maxlen = pats->len[i];
	}
	pats->group[0] = 0;
	for (i = 0; i < 256; i++) {
		pats->group[i + 1] = pats->group[i] + count[i];
		if (count[i])
			firsts[nr_firsts++] = (unsigned char)i;
	}
	trace_few_init(&pats->few, firsts, nr_firsts);
	if (!pairs_fit)
		nr_pairs = 0;
	trace_few_init(&pats->pair_first, pa, nr_pairs);
	trace_few_init(&pats->pair_second, pb, nr_pairs);
	/* Stable, so each group keeps the list order. */
	memset(count, 0, sizeof(count));
	for (i = 0; i < pats->nr; i++) {
		c = (unsigned char)pats->str[i][0];
		pats->by_first[pats->group[c] + count[c]++] = (uint32_t)i;
	}
}

/*
 * The positions of s[0..16) where one of the (at most TRACE_FEW) two-byte
 * starts begins, as bits; s[16] is read too.  One expression per number
 * of starts, so that no pair is compared twice.
 */
static inline uint32_t pair_bits(const struct trace_few *fa,
				 const struct trace_few *fb, const char *s)
{
	trace_v16 v, w;

	memcpy(&v, s, 16);
	memcpy(&w, s + 1, 16);
	switch (fa->nr) {
	case 1:
		return trace_v16_bits((trace_v16)((v == fa->vec[0]) &
						  (w == fb->vec[0])));
	case 2:
		return trace_v16_bits((trace_v16)(
			((v == fa->vec[0]) & (w == fb->vec[0])) |
			((v == fa->vec[1]) & (w == fb->vec[1]))));
	default:
		return trace_v16_bits((trace_v16)(
			((v == fa->vec[0]) & (w == fb->vec[0])) |
			((v == fa->vec[1]) & (w == fb->vec[1])) |
			((v == fa->vec[2]) & (w == fb->vec[2])) |
			((v == fa->vec[3]) & (w == fb->vec[3]))));
	}
}

size_t trace_patterns_skip(const struct trace_patterns *pats, const char *s,
			   size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	const struct trace_few *fa = &pats->pair_first, *fb = &pats->pair_second;
	uint32_t bits;
	size_t i = 0, bit;

	/*
	 * Both bytes of each start at once, 32 positions at a time: a hit is
	 * a position where a pattern's first two bytes are (no one-byte
	 * pattern when fa->nr is set), the first one found is the answer.
	 */
	if (fa->nr && n >= 64 && trace_avx2() &&
	    trace_pair_scan_avx2(fa, fb, s, n, &i))
		return i;
	if (fa->nr) {
		for (; i + 33 <= n; i += 32) {
			bits = pair_bits(fa, fb, s + i) |
			       pair_bits(fa, fb, s + i + 16) << 16;
			if (bits)
				return i + (size_t)__builtin_ctz(bits);
		}
		for (; i + 17 <= n; i += 16) {
			bits = pair_bits(fa, fb, s + i);
			if (bits)
				return i + (size_t)__builtin_ctz(bits);
		}
	}
	for (;;) {
		i += trace_scan_few(pats->first, &pats->few, s + i, n - i);
		/* The last byte's successor is unknown: a candidate. */
		if (i + 1 >= n || pats->first[p[i]] & TRACE_FIRST_SINGLE)
			return i;
		bit = pair_bit(p[i], p[i + 1]);
		if (pats->pairs[bit / 8] & (1U << (bit % 8)))
			return i;
		i++;
	}
}

int trace_patterns_add(struct trace_patterns *pats, const char *s,
		       size_t len, enum trace_patterns_order order)
{
	if (!len)
		return 1;
	if (pats->nr == pats->alloc) {
		pats->alloc = pats->alloc ? 2 * pats->alloc : 8;
		pats->str = xreallocarray(pats->str, pats->alloc,
					  sizeof(*pats->str));
		pats->len = xreallocarray(pats->len, pats->alloc,
					  sizeof(*pats->len));
	}
	/*
	 * Appended: the order, the duplicates and the index wait for
	 * trace_patterns_ready(), so that n values cost one O(n log n) sort
	 * instead of an insertion and a new index each.
	 */
	pats->str[pats->nr] = xmemdup(s, len);
	pats->len[pats->nr] = len;
	pats->nr++;
	pats->order = order;
	pats->dirty = 1;
	return 0;
}

/* One pattern while the list is sorted; pos is its place before. */
struct pattern_ref {
	char *str;
	size_t len, pos;
};

static int cmp_pos(size_t a, size_t b)
{
	return a < b ? -1 : a > b;
}

/* By bytes, so that equal patterns are neighbours, the first added first. */
static int cmp_bytes(const void *va, const void *vb)
{
	const struct pattern_ref *a = va, *b = vb;
	int c;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if ((c = memcmp(a->str, b->str, a->len)) != 0)
		return c;
	return cmp_pos(a->pos, b->pos);
}

/*
 * By length, then by place: patterns of one length keep the order they
 * were added in (new ones come after every old one).
 */
static int cmp_longest(const void *va, const void *vb)
{
	const struct pattern_ref *a = va, *b = vb;

	if (a->len != b->len)
		return a->len > b->len ? -1 : 1;
	return cmp_pos(a->pos, b->pos);
}

static int cmp_shortest(const void *va, const void *vb)
{
	const struct pattern_ref *a = va, *b = vb;

	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return cmp_pos(a->pos, b->pos);
}

void trace_patterns_ready(struct trace_patterns *pats)
{
	struct pattern_ref *refs;
	size_t i, kept = 0;

	if (!pats->dirty)
		return;
	pats->dirty = 0;
	if (!pats->nr) {
		patterns_index(pats);
		return;
	}
	refs = xreallocarray(NULL, pats->nr, sizeof(*refs));
	for (i = 0; i < pats->nr; i++)
		refs[i] = (struct pattern_ref){ pats->str[i], pats->len[i], i };
	qsort(refs, pats->nr, sizeof(*refs), cmp_bytes);
	for (i = 0; i < pats->nr; i++) {
		if (kept && refs[kept - 1].len == refs[i].len &&
		    !memcmp(refs[kept - 1].str, refs[i].str, refs[i].len)) {
			freezero(refs[i].str, refs[i].len);
			continue;
		}
		refs[kept++] = refs[i];
	}
	qsort(refs, kept, sizeof(*refs),
	      pats->order == TRACE_LONGEST_FIRST ? cmp_longest : cmp_shortest);
	for (i = 0; i < kept; i++) {
		pats->str[i] = refs[i].str;
		pats->len[i] = refs[i].len;
	}
	pats->nr = kept;
	free(refs);
	patterns_index(pats);
}

void trace_patterns_truncate(struct trace_patterns *pats, size_t nr)
{
	size_t i;

	trace_patterns_ready(pats);
	if (nr >= pats->nr)
		return;
	for (i = nr; i < pats->nr; i++)
		freezero(pats->str[i], pats->len[i]);
	pats->nr = nr;
	patterns_index(pats);
}

void trace_patterns_release(struct trace_patterns *pats)
{
	size_t i;

	for (i = 0; i < pats->nr; i++)
		freezero(pats->str[i], pats->len[i]);
	free(pats->str);
	free(pats->len);
	free(pats->pairs);
	free(pats->by_first);
	memset(pats, 0, sizeof(*pats));
}

/* Compares n bytes of the window at pos with s. */
static int window_equal(const struct trace_window *win, size_t pos,
			const char *s, size_t n)
{
	size_t k = 0;

	if (pos < win->hold_len) {
		k = win->hold_len - pos;
		if (k > n)
			k = n;
		if (memcmp(win->hold + pos, s, k))
			return 0;
		pos += k;
	}
	if (n == k)
		return 1;
	return !memcmp(win->data + (pos - win->hold_len), s + k, n - k);
}

enum trace_match trace_patterns_match(const struct trace_patterns *pats,
				      const struct trace_window *win,
				      size_t pos, int final, size_t *len)
{
	size_t avail = win->hold_len + win->data_len - pos;
	unsigned char c = trace_window_at(win, pos);
	size_t g, i, n, bit;

	if (!pats->first[c])
		return TRACE_MATCH_NONE;
	if (avail >= 2 && !(pats->first[c] & TRACE_FIRST_SINGLE)) {
		bit = pair_bit(c, trace_window_at(win, pos + 1));
		if (!(pats->pairs[bit / 8] & (1U << (bit % 8))))
			return TRACE_MATCH_NONE;
	}
	/*
	 * Only patterns starting with c can match here, so the first of them
	 * in list order is the first of all.
	 */
	for (g = pats->group[c]; g < pats->group[c + 1]; g++) {
		i = pats->by_first[g];
		n = pats->len[i] < avail ? pats->len[i] : avail;
		if (!window_equal(win, pos, pats->str[i], n))
			continue;
		if (n == pats->len[i]) {
			*len = n;
			return TRACE_MATCH_FULL;
		}
		if (!final)
			return TRACE_MATCH_PARTIAL;
	}
	return TRACE_MATCH_NONE;
}

int trace_window_pass(struct trace_writer *w, const struct trace_window *win,
		      size_t from, size_t to)
{
	size_t k;
	int r;

	if (from < win->hold_len) {
		k = (to < win->hold_len ? to : win->hold_len) - from;
		if ((r = trace_writer_pass(w, win->hold + from, k)) != 0)
			return r;
		from += k;
	}
	if (from >= to)
		return 0;
	return trace_writer_pass(w, win->data + (from - win->hold_len),
				 to - from);
}

int trace_window_pass_masked(struct trace_writer *w,
			     const struct trace_window *win, size_t from,
			     size_t to)
{
	int r;

	if ((r = trace_window_pass(w, win, from, to)) != 0)
		return r;
	return trace_writer_pass(w, TRACE_MASKED, TRACE_MASKED_LEN);
}

void trace_hold_reserve(struct trace_hold *hold, size_t size)
{
	char *p;

	if (size <= hold->alloc)
		return;
	/* Not xrealloc: the old block may hold part of a secret. */
	p = xmalloc(size);
	if (hold->len)
		memcpy(p, hold->data, hold->len);
	freezero(hold->data, hold->alloc);
	hold->data = p;
	hold->alloc = size;
}

void trace_hold_keep(struct trace_hold *hold, const struct trace_window *win,
		     size_t from)
{
	size_t total = win->hold_len + win->data_len;
	size_t n = total - from, k = 0;

	if (n > hold->alloc)
		abort();	/* a stage held back more than it reserved */
	if (from < win->hold_len) {
		k = win->hold_len - from;
		memmove(hold->data, hold->data + from, k);
		from = win->hold_len;
	}
	if (n > k)
		memcpy(hold->data + k, win->data + (from - win->hold_len),
		       n - k);
	if (n < hold->len)
		explicit_bzero(hold->data + n, hold->len - n);
	hold->len = n;
}

void trace_hold_release(struct trace_hold *hold)
{
	freezero(hold->data, hold->alloc);
	memset(hold, 0, sizeof(*hold));
}

struct mask_writer {
	struct trace_writer base;
	struct trace_hold hold;
	/* Bytes from the first undecided position on that are masked. */
	size_t masking;
};

static int mask_run(struct mask_writer *m, const char *data, size_t len,
		    int final)
{
	const struct trace_patterns *pats = &m->base.sink->phrases;
	struct trace_window win;
	size_t total, p = 0, run = 0, mlen;
	enum trace_match mt;
	int r;

	/* Phrases may have been added since the last write. */
	trace_patterns_ready(&m->base.sink->phrases);
	if (!m->hold.len && !m->masking && !pats->nr)
		return trace_writer_pass(&m->base, data, len);
	trace_hold_reserve(&m->hold, pats->maxlen);
	win = (struct trace_window){ m->hold.data, m->hold.len, data, len };
	total = win.hold_len + win.data_len;

	while (p < total) {
		if (!m->masking && p >= win.hold_len) {
			/* Skip what cannot start a phrase in one go. */
			p += trace_patterns_skip(pats, data + (p - win.hold_len),
						 total - p);
			if (p == total)
				break;
		}
		if (!m->masking && !pats->first[trace_window_at(&win, p)]) {
			p++;
			continue;
		}
		if (pats->first[trace_window_at(&win, p)]) {
			mt = trace_patterns_match(pats, &win, p, final, &mlen);
			if (mt == TRACE_MATCH_PARTIAL)
				break;
			if (mt == TRACE_MATCH_FULL && !m->masking &&
			    (r = trace_window_pass_masked(&m->base, &win, run,
							  p)) != 0)
				return r;
			if (mt == TRACE_MATCH_FULL && mlen > m->masking)
				m->masking = mlen;
		}
		if (m->masking) {
			/* Inside a masked region: drop the byte. */
			m->masking--;
			run = p + 1;
		}
		p++;
	}
	if ((r = trace_window_pass(&m->base, &win, run, p)) != 0)
		return r;
	trace_hold_keep(&m->hold, &win, p);
	return 0;
}

static int mask_write(struct trace_writer *w, const char *data, size_t len)
{
	return mask_run((struct mask_writer *)w, data, len, 0);
}

static int mask_close(struct trace_writer *w)
{
	struct mask_writer *m = (struct mask_writer *)w;
	int r = mask_run(m, "", 0, 1);

	m->masking = 0;
	return r;
}

static size_t mask_held(const struct trace_writer *w, size_t *alloc)
{
	const struct mask_writer *m = (const struct mask_writer *)w;

	*alloc = m->hold.alloc;
	return m->hold.len;
}

static void mask_free(struct trace_writer *w)
{
	struct mask_writer *m = (struct mask_writer *)w;

	trace_hold_release(&m->hold);
	free(m);
}

static const struct trace_writer_ops mask_ops = {
	.name = "mask",
	.write = mask_write,
	.close = mask_close,
	.held = mask_held,
	.free = mask_free,
};

struct trace_writer *trace_mask_new(struct trace_sink *sink,
				    struct trace_writer *next)
{
	struct mask_writer *m = xcalloc(1, sizeof(*m));

	m->base = (struct trace_writer){ &mask_ops, next, sink };
	return &m->base;
}
