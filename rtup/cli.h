/* The verbs and their shared options. */
#ifndef RTUP_CLI_H
#define RTUP_CLI_H
#include "rtup.h"

struct opts {
	const char *manifest, *repo, *runtime, *plan_in, *plan_out;
	const char *json_out, *md_out, *crunner;
	struct strvec to;
	int json, policy, diff, no_commit, fix_toolchain, allow_dirty;
	int ignore_waves, keep_going, strict, supported, timeout;
	int allow_unreleased;
	int manifest_optional;	/* scan, check: no rtup.toml is fine */
	time_t now;
	struct strvec args;	/* operands */
};

int cmd_scan(struct opts *o);
int cmd_check(struct opts *o);
int cmd_plan(struct opts *o);
int cmd_apply(struct opts *o);
int cmd_verify(struct opts *o);
int cmd_report(struct opts *o);
int cmd_versions(struct opts *o);
int cmd_import(struct opts *o);

/* Loads the manifest; prints the error and returns 2 on failure. */
int cli_conf(struct opts *o, struct conf *c);
/* Scans one repository (at root, or its path); exit code on failure. */
int cli_scan(struct conf *c, const struct repo_conf *rp, const char *root,
	     struct pinvec *pins, size_t *hits);
/* The tree rtup works on: apply's worktree when there is one, else the
 * checkout. */
void repo_tree(const struct conf *c, const struct repo_conf *rp,
	       struct buf *out);
/* Whether a repository is selected by --repo. */
int cli_want(const struct opts *o, const struct repo_conf *rp);
#endif
