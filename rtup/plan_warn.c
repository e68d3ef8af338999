/*
 * Warnings for pins a plan leaves as they are although they now read
 * wrong (issue 20 item 7): a .tool-versions fallback on a line that has
 * ended, and a go.mod toolchain line kept below its new go line.  Neither
 * is an edit rtup makes on its own (a fallback is the user's choice;
 * toolchain = "keep" says hands off), so each is one warning naming the
 * file and line.
 */
#include <string.h>

#include "plan.h"
#include "util/banned.h"

void warn_fallback_ended(const struct conf *c, const struct repo_conf *repo,
			 const struct pin *p, const char *value, time_t now,
			 struct findings *f)
{
	struct feed fd;
	struct buf ignore = BUF_INIT;
	struct ver v;
	char line[48];

	if (!p->shift || ver_parse_str(value, &v))
		return;
	if (feed_load(c->versions, p->runtime, &fd, &ignore)) {
		buf_release(&ignore);
		return;		/* no table: nothing is known to have ended */
	}
	buf_release(&ignore);
	if (feed_line_supported(&fd, &v, now) == 0)
		finding_add(f, 0, "%s: %s:%d: warning: fallback %s %s: %s %s "
			    "has ended (asdf and mise use a fallback when the "
			    "first version is missing)", repo->name, p->path,
			    p->line, p->name ? p->name : p->runtime, value,
			    p->runtime, ver_str(&v, support_line_parts(p->runtime),
						line, sizeof(line)));
	feed_release(&fd);
}

/* The go line of the file a toolchain pin is in, or NULL. */
static const struct pin *go_line_of(const struct pinvec *pins,
				    const struct pin *tc, size_t *at)
{
	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *p = &pins->v[i];

		if (p != tc && !strcmp(p->path, tc->path) &&
		    !strcmp(p->runtime, tc->runtime) &&
		    p->role != ROLE_TOOLCHAIN && p->scanner == tc->scanner) {
			*at = i;
			return p;
		}
	}
	return NULL;
}

void warn_toolchain_below(const struct conf *c, const struct repo_conf *repo,
			  const struct pinvec *pins, char *const *after,
			  struct findings *f)
{
	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *tc = &pins->v[i];
		const struct pin *go;
		struct ver tv, gv;
		size_t at;

		if (tc->role != ROLE_TOOLCHAIN ||
		    conf_policy(c, tc->runtime)->toolchain != TC_KEEP ||
		    !(go = go_line_of(pins, tc, &at)) || !after[at] ||
		    !strcmp(after[at], go->value) ||
		    ver_parse_str(tc->value, &tv) ||
		    ver_parse_str(after[at], &gv) || ver_cmp(&tv, &gv) >= 0)
			continue;
		finding_add(f, 0, "%s: %s:%d: warning: toolchain go%s stays "
			    "below the new go %s line (toolchain = \"keep\"); "
			    "the go command ignores a toolchain older than the "
			    "go line: remove it (--fix-toolchain with "
			    "toolchain = \"forbid\") or use toolchain = \"sync\"",
			    repo->name, tc->path, tc->line, tc->value, after[at]);
	}
}
