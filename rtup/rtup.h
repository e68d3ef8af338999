/*
 * rtup: runtime version updates across many repositories.
 *
 * The pieces, in the order a run uses them:
 *  1. conf_load() reads the fleet manifest (rtup.toml) into struct conf;
 *  2. scan_repo() walks one repository and fills a struct pinvec, each pin
 *     a byte span of one file with its runtime, role and value;
 *  3. feed_load() reads the release table of a runtime; target_resolve()
 *     turns --to or the policy into struct target;
 *  4. plan_repo() turns pins and targets into edits (byte-span
 *     replacements) and findings; edit_*() write them or print a diff;
 *  5. git_*() puts them on a branch in a worktree, verify_repo() runs the
 *     repository's commands, report_*() prints the table.
 *
 * Ownership: every struct here owns the strings it points at unless a
 * comment says otherwise, and is freed by its _release() function.
 */
#ifndef RTUP_H
#define RTUP_H
#include <regex.h>
#include <stddef.h>
#include <time.h>
#include "util/buf.h"
#include "util/path_glob.h"
#include "util/strvec.h"

/* Exit codes, defined once (design 3.4). */
enum rtup_exit {
	RTUP_EXIT_OK = 0,	/* nothing to do, all good */
	RTUP_EXIT_FINDINGS = 1,	/* lag, inconsistency, blocked, verify failed */
	RTUP_EXIT_CONFIG = 2,	/* usage or configuration error */
	RTUP_EXIT_STATE = 3,	/* dirty tree, file changed since plan */
};

/* A version as the runtime grammars write it: 1.26, 1.26.5, 1.27rc1, 20. */
struct ver {
	int n[3];
	int parts;		/* 1 to 3 */
	char pre[12];		/* "rc1", "beta2" or "" */
};
/*
 * Parses a version at s (len bytes at most); *used gets how many bytes it
 * took.  Returns 0, or -1 when s does not start with a version.
 */
int ver_parse(const char *s, size_t len, struct ver *v, size_t *used);
/* Parses all of s; -1 unless the whole string is one version. */
int ver_parse_str(const char *s, struct ver *v);
/* Missing parts count as 0; a pre-release sorts before its release. */
int ver_cmp(const struct ver *a, const struct ver *b);
/* Same major and minor. */
int ver_same_minor(const struct ver *a, const struct ver *b);
/* Appends v with the given number of parts (pre-release only at parts 3). */
void ver_format(const struct ver *v, int parts, struct buf *out);
/* As ver_format() into a static-free caller buffer of at least 48 bytes. */
const char *ver_str(const struct ver *v, int parts, char *out, size_t size);

enum role {
	ROLE_EXACT, ROLE_MINOR, ROLE_MINIMUM, ROLE_TOOLCHAIN, ROLE_WINDOW,
	ROLE_NEXT, ROLE_INDIRECT, ROLE_ANNOTATION, ROLE_DOCS, ROLE_FLOATING,
	ROLE_DERIVED,
};
const char *role_name(enum role r);
/* Returns 0 and sets *r, or -1 for an unknown name. */
int role_parse(const char *name, enum role *r);

/* A built-in runtime: how files and images name it. */
struct runtime_desc {
	const char *name;
	const char *aliases[4];	/* .tool-versions, mise */
	const char *images[4];	/* last path component of an image */
	const char *vars[4];	/* CI, Dockerfile and Makefile variables */
	const char *idiomatic[3];
	const char *renovate[4];	/* depName values */
	const char *follows;	/* "go" for go-fips */
	const char *toolchain_dir;	/* printf format, %s is the version */
};
const struct runtime_desc *runtime_find(const char *name);
const struct runtime_desc *runtime_by_alias(const char *s, size_t len);
const struct runtime_desc *runtime_by_image(const char *s, size_t len);
/* Sets *next for NEXT_<VAR>; NULL when s names no runtime variable. */
const struct runtime_desc *runtime_by_var(const char *s, size_t len,
					  int *next);
const struct runtime_desc *runtime_by_idiomatic(const char *base);
const struct runtime_desc *runtime_by_renovate(const char *s, size_t len);
extern const struct runtime_desc runtimes[];
extern const size_t runtimes_nr;

/* One pin: a version written somewhere in a repository. */
struct pin {
	char *path;		/* relative to the repository root */
	int line, col;		/* 1-based; col counts bytes */
	size_t start, end;	/* the value's byte span in the file */
	size_t lstart, lend;	/* its line, lend past the line break */
	char *runtime;
	enum role role;
	char *value;		/* the span's text */
	char *name;		/* variable, alias or image; may be NULL */
	const char *scanner;	/* static */
	int group;		/* window lists: the list's id; else 0 */
	int index;		/* position in the list */
	int shift;		/* .tool-versions: window = previous defaults */
	int ci;			/* found in a CI file */
	int rank;		/* how authoritative as a reference (lower wins) */
	char *note;		/* misbound annotation, map name of indirect */
};
struct pinvec {
	struct pin *v;
	size_t nr, alloc;
};
struct pin *pinvec_add(struct pinvec *pv);
void pinvec_release(struct pinvec *pv);

enum tc_policy { TC_KEEP, TC_FORBID, TC_SYNC };

struct rt_policy {
	char *name;
	int window, soak_days, adopt_days, lag_warn;
	int track_minor;	/* latest-minor */
	struct ver pin_minor;	/* pin:1.26; parts 0 when unset */
	struct ver max;		/* parts 0 when unset */
	int min_raise, min_patch_zero, min_track;
	enum tc_policy toolchain;
	char *follows;
	int allow_lag_none;
};

struct repo_conf {
	char *name;
	char *path;		/* absolute */
	int wave;
	char *base;		/* NULL: HEAD */
	struct strvec exclude, roles, verify, env, indirect;
	char *verify_job;
	char *binary;
	int offline;		/* verify in an empty network namespace; -1 unset */
	int line;		/* of its table in the manifest, for messages */
};

struct rule {
	char *name;
	char *runtime;
	enum role role;
	struct strvec files;
	regex_t re;
	int compiled;
	int group;
	size_t matches;
};

struct conf {
	char *path;		/* the manifest */
	char *dir;		/* its directory, absolute */
	char *versions, *toolchains, *branch, *message, *state_dir;
	int docs;
	int offline;		/* [rtup] offline: the default of every repo */
	struct rt_policy *rt;
	size_t nrt;
	struct repo_conf *repos;
	size_t nrepos;
	struct rule *rules;
	size_t nrules;
};
/* Loads a manifest; errors name "file:line" in err (exit 2). */
int conf_load(const char *path, struct conf *c, struct buf *err);
/* No manifest: dir is the one repository, built-in rules, defaults. */
int conf_default(const char *dir, struct conf *c, struct buf *err);
void conf_release(struct conf *c);
/* The policy of a runtime: the manifest's or the defaults (never NULL). */
const struct rt_policy *conf_policy(const struct conf *c, const char *rt);
struct repo_conf *conf_repo(const struct conf *c, const char *name);

/* Release tables (versions/<runtime>.tsv). */
struct release {
	struct ver v;
	time_t date;		/* 0 when unknown */
	time_t eol;		/* 0 when not given */
	int prerelease;
};
struct feed {
	char *runtime;
	struct release *r;	/* sorted by version, oldest first */
	size_t nr;
};
/* Loads dir/<runtime>.tsv; missing or empty is an error (exit 2). */
int feed_load(const char *dir, const char *runtime, struct feed *f,
	      struct buf *err);
void feed_release(struct feed *f);
/*
 * Release lines supported at now and fit as targets (oldest first) into
 * out[] (at most max, the newest kept): minors, or majors for Node (their
 * parts say which; support.c has each runtime's rule).
 */
size_t feed_supported(const struct feed *f, time_t now, struct ver *out,
		      size_t max);
/* 1 when the line of v is supported at now, 0 when it has ended, -1 when
 * the table does not know the line or it starts after now. */
int feed_line_supported(const struct feed *f, const struct ver *v,
			time_t now);
/* Newest release of the line of minor (a minor, or a Node major) at or
 * before now, or NULL. */
const struct release *feed_newest_patch(const struct feed *f,
					const struct ver *minor, time_t now);
/* Looks a map up: the smallest revision providing rt@v; NULL if none. */
int map_lookup(const char *dir, const char *map, const char *rt,
	       const struct ver *v, char **revision, struct buf *err);
/* Support windows per runtime (support.c). */
/* Parts that name a release line: 1 for node (a major), else 2. */
int support_line_parts(const char *runtime);
/* a and b are on the same release line of runtime. */
int support_same_line(const char *runtime, const struct ver *a,
		      const struct ver *b);
/* 0 for a line that is never a target (an odd Node major), else 1. */
int support_is_target_line(const char *runtime, const struct ver *line);
/* 1 while the line starting at the stable release first is supported:
 * an eol= row of that line, else the runtime's rule. */
int support_line_supported(const struct feed *f, const struct release *first,
			   time_t now);
/* "YYYY-MM-DD" to a time at 00:00 UTC. */
int date_parse(const char *s, time_t *out);

/* Scanning. */
int scan_repo(const struct conf *c, const struct repo_conf *repo,
	      const char *root, struct pinvec *out, size_t *rule_hits,
	      struct buf *err);
/*
 * Calls fn for every text file of the repository scan_repo() would walk
 * (same exclusions, size limit and binary probe), in path order; data is
 * NUL-terminated and valid only during the call.
 */
/* Reads a regular text file of at most 1 MiB (no NUL in its first
 * bytes) into out; -1 otherwise. */
int read_text_file(const char *path, struct buf *out);
typedef void (*text_file_fn)(void *arg, const char *rel, const char *data,
			     size_t len);
void repo_each_text_file(const struct repo_conf *repo, const char *root,
			 text_file_fn fn, void *arg);
/*
 * Scans one file's content (data, len bytes) as if it were rel.  want is
 * scratch room for one int per rule, line a scratch buffer.  With data
 * NULL it only says whether any scanner or rule would read rel (1) or not
 * (0); with data it returns 1 once scanned, 0 when nothing reads rel.
 */
int scan_buffer(const struct conf *c, const struct repo_conf *repo,
		const char *rel, const char *data, size_t len,
		struct pinvec *out, size_t *hits, int *want, struct buf *line);

/* Targets. */
struct target {
	char *runtime;
	struct ver v;
	struct ver next;	/* newest release or pre-release, for next pins */
	int held_by_max;
	struct ver lag_of;	/* follows: the followed target, when lagging */
	int lagging;
};
struct targets {
	struct target *v;
	size_t nr;
};
const struct target *targets_find(const struct targets *t, const char *rt);
void targets_release(struct targets *t);

/* Findings: what plan and check report besides edits. */
struct findings {
	struct strvec lines;	/* "repo: text" */
	int serious;		/* any that makes the exit code 1 */
};
void finding_add(struct findings *f, int serious, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Edits of one file. */
struct edit {
	size_t start, end;
	char *text;		/* replacement */
	int line;
};
struct file_edits {
	char *path;		/* relative */
	char hash[65];		/* sha256 of the content planned against */
	struct edit *e;
	size_t nr, alloc;
};
struct repo_plan {
	const struct repo_conf *repo;
	struct file_edits *files;
	size_t nr, alloc;
	int aborted;		/* an invariant failed: nothing is written */
};
void repo_plan_release(struct repo_plan *p);
#endif
