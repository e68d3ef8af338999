/*
 * Fuzz driver for rtup's scanners (design 3.11, AC12).  Each scanner is fed
 * as the file name it reads; every run checks the pins' invariants (spans
 * inside the input, value equal to its span, no overlap) and then pushes
 * them through the rewriter (edit_apply, edit_diff), so the edit code sees
 * whatever spans the scanners produce.
 *
 * Two builds of the same file:
 *  - with libFuzzer (clang -fsanitize=fuzzer, tests/rtup/fuzz.sh):
 *    LLVMFuzzerTestOneInput, scanner chosen by $RTUP_FUZZ_SCANNER;
 *  - without (the normal build, ctest's smoke run): a deterministic
 *    mutation fuzzer, "rtup_fuzz [--seconds N] [--runs N] [--seed N]
 *    [SCANNER...]", same seed and runs give the same inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edit.h"
#include "rtup.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct target_file {
	const char *scanner;	/* the name on the command line */
	const char *path;	/* what the input pretends to be */
	const char *seeds[4];
};

static const struct target_file targets_tbl[] = {
	{ "gomod", "go.mod", {
	  "module x\n\ngo 1.22\n\ntoolchain go1.22.6\n",
	  "go\t1.26.3 // x\r\ntoolchain  go1.27rc1\n", "go 1.9" } },
	{ "gowork", "sub/go.work", { "go 1.21.0\nuse ./a\n" } },
	{ "tool-versions", ".tool-versions", {
	  "golang 1.21.4 1.20.10 # c\nnodejs 20.10.0\nruby 3.3.0\n",
	  "# x\n  python 3.12.1\tsystem\n" } },
	{ "mise", "mise.toml", {
	  "\xef\xbb\xbf[tools]\ngolang = \"1.26.3\"\nnode = { version = \"20\" }\n",
	  "[env]\nGO=1\n[tools]\n\"go\" = 'latest'\n" } },
	{ "idiomatic", ".go-version", { "1.26.3", "go1.26\n", "v20.11.0\n" } },
	{ "dockerfile", "Dockerfile", {
	  "FROM --platform=$BUILDPLATFORM golang:1.22.3-bookworm AS build\n"
	  "ARG GO_VERSION=1.22.3\nENV GO_URL=\"go${GO_VERSION}.tgz\"\n",
	  "from node:20.11.0-alpine3.19\nFROM golang@sha256:ab\nFROM golang\n" } },
	{ "ci", ".gitlab-ci.yml", {
	  "variables:\n  # renovate: datasource=docker depName=golang allowedVersions=/1\\.26\\..+/\n"
	  "  GO_VERSION: \"1.26.5\"\n  BUILDER_IMAGE_REVISION: \"5.49.0\"\n"
	  "job:\n  image: golang:$GO_VERSION\n  parallel:\n    matrix:\n"
	  "      - GO_VERSION: [\"1.22\", \"1.23\"]\n",
	  "x:\r\n  image: registry/x:2.12.2-go1.26.3\r\n  NEXT_RUBY_VERSION: '3.4'\r\n"
	  "  DEFAULT_IMAGE: \"a-golang-${GO_VERSION}-b\"\r\n" } },
	{ "make", "Makefile", {
	  "go-fips-docker: export GO_VERSION ?= 1.26\nGOLANG_VERSION := 1.26.3 # x\n",
	  "NODE_VERSION=20\n# GO_VERSION = 1\n" } },
	{ "package-json", "package.json", {
	  "{\n  \"engines\": {\"node\": \">=20\"},\n  \"volta\": {\n    \"node\": \"20.11.0\"\n  }\n}\n" } },
	{ "gemfile", "Gemfile", { "source 'x'\nruby \"3.3.0\"\n" } },
	{ "gemfile-lock", "Gemfile.lock", { "RUBY VERSION\n   ruby 3.3.0p0\n\nBUNDLED WITH\n" } },
	{ "pyproject", "pyproject.toml", { "[project]\nrequires-python = \">=3.11\"\n" } },
	{ "docs", "docs/a.md", {
	  "Download go1.26.3.linux-amd64.tar.gz\n\n    pkg install go-1.26.3\n" } },
	{ "rule", "scripts/x.ps1", { "$goVersion = \"1.26.3\"\nWrite-Host $goVersion\n" } },
};
#define NTARGETS (sizeof(targets_tbl) / sizeof(*targets_tbl))

static struct conf conf;
static struct repo_conf repo;
static int *want;
static struct buf line = BUF_INIT;

static void setup(void)
{
	static int done;
	struct rule *ru;

	if (done)
		return;
	done = 1;
	memset(&conf, 0, sizeof(conf));
	memset(&repo, 0, sizeof(repo));
	conf.docs = 1;
	repo.name = xstrdup("fuzz");
	strvec_init(&repo.exclude);
	strvec_init(&repo.roles);
	strvec_init(&repo.indirect);
	strvec_push(&repo.roles, "/go.mod:exact");
	strvec_push(&repo.indirect,
		    ".gitlab-ci.yml:BUILDER_IMAGE_REVISION go via omnibus-builder");
	conf.repos = &repo;
	conf.nrepos = 1;
	conf.rules = ru = xcalloc(2, sizeof(*ru));
	conf.nrules = 2;
	ru[0].name = xstrdup("ps1");
	ru[0].runtime = xstrdup("go");
	ru[0].role = ROLE_EXACT;
	strvec_push(&ru[0].files, "scripts/*.ps1");
	regcomp(&ru[0].re, "^\\$goVersion = \"([0-9.]+)\"",
		REG_EXTENDED | REG_NEWLINE);
	ru[0].group = 1;
	ru[1].name = xstrdup("window");
	ru[1].runtime = xstrdup("go");
	ru[1].role = ROLE_WINDOW;
	strvec_push(&ru[1].files, "**/*.ps1");
	regcomp(&ru[1].re, "supported: *\\[(.*)\\]", REG_EXTENDED | REG_NEWLINE);
	ru[1].group = 1;
	want = xcalloc(conf.nrules, sizeof(*want));
}

static void die_invariant(const char *what, const struct pin *p)
{
	fprintf(stderr, "rtup_fuzz: invariant broken: %s (pin %s:%d:%d "
		"[%zu,%zu) '%s')\n", what, p->path, p->line, p->col, p->start,
		p->end, p->value);
	abort();
}

/* One input through one scanner, then through the rewriter. */
static size_t run_one(const struct target_file *t, const uint8_t *data,
		      size_t len, uint64_t *sig)
{
	struct pinvec pins = { 0 };
	struct file_edits fe;
	struct buf out = BUF_INIT, diff = BUF_INIT;
	size_t hits[2] = { 0, 0 }, n;

	setup();
	scan_buffer(&conf, &repo, t->path, (const char *)data, len, &pins,
		    hits, want, &line);
	memset(&fe, 0, sizeof(fe));
	fe.path = (char *)t->path;
	fe.e = xcalloc(pins.nr + 1, sizeof(*fe.e));
	for (size_t i = 0; i < pins.nr; i++) {
		const struct pin *p = &pins.v[i];
		struct ver v;

		if (p->start > p->end || p->end > len || p->line < 1 ||
		    p->col < 1 || p->lstart > p->start || p->lend < p->end ||
		    p->lend > len)
			die_invariant("span outside the input", p);
		if (strlen(p->value) != p->end - p->start ||
		    memcmp(p->value, data + p->start, p->end - p->start))
			die_invariant("value differs from its span", p);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(pins.v[j].path, p->path) &&
			    pins.v[j].start < p->end && p->start < pins.v[j].end)
				die_invariant("overlapping pins", p);
		*sig = *sig * 31 + (uint64_t)p->role * 7 + (uint64_t)p->line;
		if (p->role == ROLE_FLOATING || p->role == ROLE_DERIVED ||
		    ver_parse_str(p->value, &v))
			continue;
		fe.e[fe.nr].start = p->start;
		fe.e[fe.nr].end = p->end;
		fe.e[fe.nr].line = p->line;
		fe.e[fe.nr].text = (char *)(i % 3 ? "9.99.9" : "");
		fe.nr++;
	}
	if (edit_apply((const char *)data, len, &fe, &out))
		die_invariant("edit_apply refused scanner spans", &pins.v[0]);
	edit_diff(t->path, (const char *)data, len, &fe, &diff);
	if (fe.nr && !strstr(diff.data, "@@ -"))
		die_invariant("edits but no hunk", &pins.v[0]);
	n = pins.nr;
	free(fe.e);
	buf_release(&out);
	buf_release(&diff);
	pinvec_release(&pins);
	return n;
}

static const struct target_file *find_target(const char *name)
{
	for (size_t i = 0; i < NTARGETS; i++)
		if (!strcmp(targets_tbl[i].scanner, name))
			return &targets_tbl[i];
	return NULL;
}

#ifdef RTUP_LIBFUZZER
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* With $RTUP_FUZZ_SEED_DIR, the scanner's seeds are written there first. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("RTUP_FUZZ_SEED_DIR");
	const char *name = getenv("RTUP_FUZZ_SCANNER");
	const struct target_file *t = name ? find_target(name) : NULL;

	(void)argc;
	(void)argv;
	for (size_t i = 0; dir && t && i < 4 && t->seeds[i]; i++) {
		struct buf path = BUF_INIT;
		FILE *fp;

		buf_addf(&path, "%s/seed-%zu", dir, i);
		if ((fp = fopen(path.data, "wb"))) {
			fputs(t->seeds[i], fp);
			fclose(fp);
		}
		buf_release(&path);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct target_file *t;
	uint64_t sig = 0;

	if (!t) {
		const char *name = getenv("RTUP_FUZZ_SCANNER");

		if (!name || !(t = find_target(name))) {
			fprintf(stderr, "rtup_fuzz: set RTUP_FUZZ_SCANNER\n");
			abort();
		}
	}
	run_one(t, data, size, &sig);
	return 0;
}
#else
/* xorshift64*: the whole run follows from the seed. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}
static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* Tokens the scanners care about, spliced in whole. */
static const char *const dict[] = {
	"\n", "\r\n", "\r", " ", "\t", "#", " # ", "\"", "'", ":", "=", "?=",
	":=", "[", "]", "{", "}", ",", "$", "${GO_VERSION}", "$GO_VERSION",
	"go ", "go", "toolchain go", "golang", "golang:", "image: ", "FROM ",
	"ARG ", "ENV ", "GO_VERSION", "NEXT_RUBY_VERSION", "NODE_VERSION",
	"1.26.5", "1.26", "1", "1.27rc1", "99999999999", "v20.11.0", "-go",
	"-golang-", "@", "/", "\xef\xbb\xbf", "[tools]", "version = ",
	"renovate: depName=golang allowedVersions=/1\\.26\\..+/",
	"\"engines\"", "\"volta\"", "\"node\": \"", "RUBY VERSION\n", "ruby ",
	"requires-python = \">=", "pkg install go-", ".linux-amd64.tar.gz",
	"$goVersion = \"", "supported: [", "BUILDER_IMAGE_REVISION: ",
	"export ", "--platform=x ", " AS b", "\0",
};
#define NDICT (sizeof(dict) / sizeof(*dict))
#define MAX_INPUT 4096
#define MAX_CORPUS 512

struct input {
	uint8_t *d;
	size_t n;
};

/* The input being mutated: room for MAX_INPUT plus one insertion. */
struct work {
	uint8_t d[2 * MAX_INPUT + 64];
	size_t n;
};

static void w_insert(struct work *w, size_t pos, const void *src, size_t k)
{
	if (w->n + k > sizeof(w->d))
		k = sizeof(w->d) - w->n;
	memmove(w->d + pos + k, w->d + pos, w->n - pos);
	memcpy(w->d + pos, src, k);
	w->n += k;
}

static void mutate(struct work *w, const struct input *other)
{
	size_t rounds = 1 + rnd_below(6);

	for (size_t r = 0; r < rounds; r++) {
		size_t pos = rnd_below(w->n + 1), k;
		uint8_t tmp[64];

		switch (rnd_below(7)) {
		case 0:	/* flip a bit */
			if (w->n)
				w->d[rnd_below(w->n)] ^= (uint8_t)(1u << rnd_below(8));
			break;
		case 1:	/* a random byte */
			if (w->n)
				w->d[rnd_below(w->n)] = (uint8_t)rnd();
			break;
		case 2: { /* insert a dictionary token ("" is one NUL) */
			const char *tok = dict[rnd_below(NDICT)];

			w_insert(w, pos, tok, *tok ? strlen(tok) : 1);
			break;
		}
		case 3:	/* delete a range */
			k = rnd_below(16) + 1;
			if (pos + k > w->n)
				k = w->n - pos;
			memmove(w->d + pos, w->d + pos + k, w->n - pos - k);
			w->n -= k;
			break;
		case 4:	/* duplicate a range */
			if (w->n) {
				size_t s = rnd_below(w->n);

				k = rnd_below(w->n - s) + 1;
				if (k > sizeof(tmp))
					k = sizeof(tmp);
				memcpy(tmp, w->d + s, k);
				w_insert(w, pos, tmp, k);
			}
			break;
		case 5:	/* splice from another input */
			if (other->n) {
				size_t s = rnd_below(other->n);

				k = rnd_below(other->n - s) + 1;
				if (k > MAX_INPUT)
					k = MAX_INPUT;
				w_insert(w, pos, other->d + s, k);
			}
			break;
		default: /* truncate */
			w->n = pos;
			break;
		}
		if (w->n > MAX_INPUT)
			w->n = MAX_INPUT;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sig_seen(uint64_t *seen, size_t *nseen, uint64_t sig)
{
	for (size_t i = 0; i < *nseen; i++)
		if (seen[i] == sig)
			return 1;
	if (*nseen < 4096)
		seen[(*nseen)++] = sig;
	return 0;
}

static void fuzz_target(const struct target_file *t, double seconds,
			unsigned long runs, uint64_t seed)
{
	struct input corpus[MAX_CORPUS];
	uint64_t *seen = xcalloc(4096, sizeof(*seen));
	struct work *w = xcalloc(1, sizeof(*w));
	size_t nc = 0, nseen = 0, pins = 0;
	unsigned long execs = 0;
	double start = now_s();

	rng_state = seed ? seed : 1;
	for (size_t i = 0; i < 4 && t->seeds[i]; i++) {
		corpus[nc].n = strlen(t->seeds[i]);
		corpus[nc].d = (uint8_t *)xstrdup(t->seeds[i]);
		nc++;
	}
	for (;;) {
		const struct input *pick = &corpus[rnd_below(nc)];
		uint64_t sig = 0;

		if (runs && execs >= runs)
			break;
		if (!runs && (execs & 63) == 0 && now_s() - start >= seconds)
			break;
		memcpy(w->d, pick->d, pick->n);
		w->n = pick->n;
		mutate(w, &corpus[rnd_below(nc)]);
		{
			/* An exact-size copy, so ASan sees any read past it. */
			uint8_t *exact = xmalloc(w->n ? w->n : 1);

			memcpy(exact, w->d, w->n);
			pins += run_one(t, exact, w->n, &sig);
			free(exact);
		}
		execs++;
		/* Keep inputs that gave a pin layout not seen before. */
		if (!sig_seen(seen, &nseen, sig)) {
			size_t slot;

			if (nc < MAX_CORPUS) {
				slot = nc++;
			} else {
				slot = rnd_below(MAX_CORPUS);
				free(corpus[slot].d);
			}
			corpus[slot].d = xmalloc(w->n + 1);
			memcpy(corpus[slot].d, w->d, w->n);
			corpus[slot].n = w->n;
		}
	}
	printf("%s: %lu runs in %.1f s, %zu pins, %zu distinct layouts, "
	       "corpus %zu, no crash\n", t->scanner, execs, now_s() - start,
	       pins, nseen, nc);
	fflush(stdout);
	for (size_t i = 0; i < nc; i++)
		free(corpus[i].d);
	free(seen);
	free(w);
}

int main(int argc, char **argv)
{
	double seconds = 1;
	unsigned long runs = 0;
	uint64_t seed = 20260801;
	int named = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < NTARGETS; k++)
				printf("%s\n", targets_tbl[k].scanner);
			return 0;
		} else if (find_target(argv[i]))
			named = 1;
		else {
			fprintf(stderr, "usage: rtup_fuzz [--seconds N] [--runs N] "
				"[--seed N] [--list] [SCANNER...]\n");
			return 2;
		}
	}
	for (int i = 1; i < argc; i++)
		if (find_target(argv[i]))
			fuzz_target(find_target(argv[i]), seconds, runs, seed);
	for (size_t k = 0; !named && k < NTARGETS; k++)
		fuzz_target(&targets_tbl[k], seconds, runs, seed);
	return 0;
}
#endif
