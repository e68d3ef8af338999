/*
 * Places a plan does not move although they name the runtime it moves
 * (issue 20 item 1): a line that mentions the runtime and one of the
 * versions the plan moves away from, outside every pin; and a use of a
 * runtime variable (${GO_VERSION}, !reference [.versions, GO_VERSION])
 * that no scanned file defines.  Each is one "not updated" line with
 * file:line and why; `plan --strict` makes them fail the run.
 */
#include <ctype.h>
#include <string.h>

#include "plan.h"
#include "util/banned.h"

struct leftover_scan {
	const struct repo_conf *repo;
	const struct pinvec *pins;
	const struct runtime_desc *rd;
	const char *rt;
	struct strvec old;	/* the versions the plan moves away from */
	int strict;
	struct findings *f;
};

static int word_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

static int letter(char ch)
{
	return isalpha((unsigned char)ch);
}

/*
 * s[0..len) holds name, case-insensitively, as a word: no letter before
 * it, and after it no letter unless camelCase starts there (goVersion).
 * Digits and '_' may follow (go1.20, go_default, GO_VERSION).
 */
static int has_word(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; n && i + n <= len; i++) {
		if (strncasecmp(s + i, name, n) || (i && letter(s[i - 1])))
			continue;
		if (i + n == len || !letter(s[i + n]) ||
		    (isupper((unsigned char)s[i + n]) &&
		     islower((unsigned char)s[i + n - 1])))
			return 1;
	}
	return 0;
}

static int mentions_runtime(const struct runtime_desc *rd, const char *s,
			    size_t len)
{
	if (has_word(s, len, rd->name))
		return 1;
	for (size_t i = 0; i < 4; i++)
		if ((rd->aliases[i] && has_word(s, len, rd->aliases[i])) ||
		    (rd->images[i] && has_word(s, len, rd->images[i])) ||
		    (rd->vars[i] && has_word(s, len, rd->vars[i])))
			return 1;
	return 0;
}

/* The first old version spelled as a whole token in s, or NULL. */
static const char *old_version_in(const struct leftover_scan *ls,
				  const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t j = i;

		if (!isdigit((unsigned char)s[i]) ||
		    (i && (isdigit((unsigned char)s[i - 1]) || s[i - 1] == '.')))
			continue;
		while (j < len && (isdigit((unsigned char)s[j]) || s[j] == '.'))
			j++;
		while (j > i && s[j - 1] == '.')
			j--;
		for (size_t k = 0; k < ls->old.nr; k++)
			if (strlen(ls->old.v[k]) == j - i &&
			    !memcmp(s + i, ls->old.v[k], j - i))
				return ls->old.v[k];
		i = j;
	}
	return NULL;
}

/* A derived pin (${GO_VERSION}) is a use of a variable, not a version:
 * it neither covers its line nor defines its variable. */
static int pinned_line(const struct pinvec *pins, const char *rel, int line)
{
	for (size_t i = 0; i < pins->nr; i++)
		if (pins->v[i].line == line && pins->v[i].role != ROLE_DERIVED &&
		    !strcmp(pins->v[i].path, rel))
			return 1;
	return 0;
}

static int var_defined(const struct pinvec *pins, const char *var)
{
	for (size_t i = 0; i < pins->nr; i++)
		if (pins->v[i].name && pins->v[i].role != ROLE_DERIVED &&
		    !strcmp(pins->v[i].name, var))
			return 1;
	return 0;
}

/* A variable of the runtime used on the line ($V, ${V}, or a !reference
 * naming it) that no pin defines, or NULL. */
static const char *undefined_var_use(const struct leftover_scan *ls,
				     const char *s, size_t len)
{
	int reference = len > 10 && memmem(s, len, "!reference", 10);

	for (size_t i = 0; i < 4 && ls->rd->vars[i]; i++) {
		const char *v = ls->rd->vars[i];
		size_t n = strlen(v);

		for (size_t k = 0; k + n <= len; k++) {
			int dollar = (k >= 1 && s[k - 1] == '$') ||
				     (k >= 2 && s[k - 1] == '{' && s[k - 2] == '$');

			if (memcmp(s + k, v, n) ||
			    (k + n < len && word_char(s[k + n])) ||
			    (k && word_char(s[k - 1])) || (!dollar && !reference))
				continue;
			if (!var_defined(ls->pins, v))
				return v;
		}
	}
	return NULL;
}

static void scan_text(void *arg, const char *rel, const char *data,
		      size_t len)
{
	struct leftover_scan *ls = arg;
	int line = 0;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - data) : len;
		const char *s = data + pos, *old, *var;
		size_t n = end - pos;

		line++;
		pos = nl ? end + 1 : len;
		if (pinned_line(ls->pins, rel, line))
			continue;
		if ((var = undefined_var_use(ls, s, n)) &&
		    memmem(s, n, "!reference", 10))
			finding_add(ls->f, ls->strict, "%s: not updated: %s:%d: "
				    "%s comes from a !reference that no pin rule "
				    "covers", ls->repo->name, rel, line, var);
		else if (var)
			finding_add(ls->f, ls->strict, "%s: not updated: %s:%d: "
				    "uses %s, which no scanned file defines",
				    ls->repo->name, rel, line, var);
		else if ((old = old_version_in(ls, s, n)) &&
			 mentions_runtime(ls->rd, s, n))
			finding_add(ls->f, ls->strict, "%s: not updated: %s:%d: "
				    "mentions %s %s, which no pin rule covers",
				    ls->repo->name, rel, line, ls->rt, old);
	}
}

static int listed(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

static int edited(const struct repo_plan *plan, const struct pin *p)
{
	for (size_t i = 0; i < plan->nr; i++) {
		if (strcmp(plan->files[i].path, p->path))
			continue;
		for (size_t e = 0; e < plan->files[i].nr; e++)
			if (plan->files[i].e[e].start == p->start)
				return 1;
	}
	return 0;
}

void leftovers_report(const struct repo_conf *repo, const char *root,
		      const struct pinvec *pins, const struct repo_plan *plan,
		      const struct targets *t, int strict, struct findings *f)
{
	for (size_t i = 0; i < t->nr; i++) {
		struct leftover_scan ls;

		memset(&ls, 0, sizeof(ls));
		ls.rt = t->v[i].runtime;
		if (!(ls.rd = runtime_find(ls.rt)))
			continue;	/* a [rule] runtime: its rules are the pins */
		strvec_init(&ls.old);
		for (size_t k = 0; k < pins->nr; k++) {
			const struct pin *p = &pins->v[k];

			struct ver v;
			char minor[48];

			if (strcmp(p->runtime, ls.rt) || !edited(plan, p))
				continue;
			if (!listed(&ls.old, p->value))
				strvec_push(&ls.old, p->value);
			/* 1.21.4 moving to 1.26.5 leaves "1.21" behind too */
			if (!ver_parse_str(p->value, &v) && v.parts == 3 &&
			    !ver_same_minor(&v, &t->v[i].v) &&
			    !listed(&ls.old, ver_str(&v, 2, minor, sizeof(minor))))
				strvec_push(&ls.old, minor);
		}
		if (ls.old.nr) {
			ls.repo = repo;
			ls.pins = pins;
			ls.strict = strict;
			ls.f = f;
			repo_each_text_file(repo, root, scan_text, &ls);
		}
		strvec_clear(&ls.old);
	}
}
