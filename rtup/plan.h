/* Targets, planning and the consistency check (design 3.6, 3.7). */
#ifndef RTUP_PLAN_H
#define RTUP_PLAN_H
#include "rtup.h"

/*
 * Resolves targets from --to RT@VERSION entries and/or the policy (for
 * runtime only_rt, or every [runtime] of the manifest).  Runtimes that
 * follow another one (go-fips) are added when their table exists.  A
 * missing or empty table is an error naming the file (exit 2), and so is a
 * --to version the table does not have, or one released after now unless
 * allow_unreleased.  Lags and "held by max" go to f.
 */
int targets_resolve(const struct conf *c, const struct strvec *to,
		    int policy, const char *only_rt, time_t now,
		    int allow_unreleased, struct targets *t,
		    struct findings *f, struct buf *err);

/*
 * Plans one repository: edits for every pin whose runtime has a target,
 * findings for what is not an edit (warnings judged at now).  Reads the files under root to hash
 * them.  out is filled even when the plan is aborted (out->aborted).
 */
int plan_repo(const struct conf *c, const struct repo_conf *repo,
	      const char *root, const struct pinvec *pins,
	      const struct targets *t, int fix_toolchain, time_t now,
	      struct repo_plan *out, struct findings *f, struct buf *err);

/* Consistency of the pins as they are, lag when the table is there. */
void check_repo(const struct conf *c, const struct repo_conf *repo,
		const struct pinvec *pins, time_t now, struct findings *f);
/* The runtimes pinned in pins: built-ins in their order, then rules'. */
void pins_runtimes(const struct pinvec *pins, struct strvec *out);
/* The same for one runtime. */
void check_repo_rt(const struct conf *c, const struct repo_conf *repo,
		   const struct pinvec *pins, const char *rt, time_t now,
		   struct findings *f);

/* The reference pin of a runtime (CI first, then idiomatic files ...). */
const struct pin *ref_pin(const struct pinvec *pins, const char *rt);

/* "lagging(2 patches)", "lagging(minor)" or "" into out. */
void lag_status(const struct conf *c, const char *rt, const struct ver *v,
		time_t now, struct buf *out);

/*
 * Warnings for what a plan leaves as it is but reads wrong afterwards
 * (plan_warn.c): a .tool-versions fallback p whose value is on a line that
 * has ended at now; a go.mod toolchain kept (policy keep) below the go
 * line's planned value (after[i] is pin i's planned text).
 */
void warn_fallback_ended(const struct conf *c, const struct repo_conf *repo,
			 const struct pin *p, const char *value, time_t now,
			 struct findings *f);
void warn_toolchain_below(const struct conf *c, const struct repo_conf *repo,
			  const struct pinvec *pins, char *const *after,
			  struct findings *f);

/*
 * After plan_repo(): "not updated" findings (serious when strict) for
 * lines under root that mention a runtime the plan moves and a version it
 * moves away from outside every pin, and for uses of a runtime variable no
 * pin defines (leftover.c).
 */
void leftovers_report(const struct repo_conf *repo, const char *root,
		      const struct pinvec *pins, const struct repo_plan *plan,
		      const struct targets *t, int strict, struct findings *f);

/*
 * Edits of a generated file (a "DO NOT EDIT"-style header) move to its
 * source beside it when every edited line is found there, else they are
 * dropped with a "manual step" finding (plan_generated.c).
 */
void plan_redirect_generated(const char *root, const struct repo_conf *repo,
			     struct repo_plan *plan, struct findings *f);
/* The edits of path in p (created empty), and one more edit there. */
struct file_edits *plan_file(struct repo_plan *p, const char *path);
void plan_edit_at(struct repo_plan *p, const char *path, int line, size_t s,
		  size_t e, const char *text);

void findings_release(struct findings *f);
/* The version a pin's value spells (backslashes of annotations dropped). */
int pin_ver(const struct pin *p, struct ver *v);
#endif
