/*
 * What every format scanner shares: adding a pin over a byte span, reading
 * a value, a list or an image reference, $VAR references; and what runs on
 * every file: renovate annotations and their binding, repository role
 * overrides, custom [rule] regexes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "scan_int.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct pin *scan_pin(struct scan_ctx *x, const char *rt, enum role role,
		     size_t s, size_t e, const char *name, const char *scanner)
{
	struct pin *p;

	/* A value is text on one line: a NUL (past the binary probe) or a
	 * line break inside a span is never a pin. */
	for (size_t i = s; i < e; i++)
		if (!x->data[i] || x->data[i] == '\n' || x->data[i] == '\r')
			return NULL;
	for (size_t i = x->first; i < x->out->nr; i++)
		if (x->out->v[i].start < e && s < x->out->v[i].end)
			return NULL;
	p = pinvec_add(x->out);
	p->path = xstrdup(x->path);
	p->line = x->lineno;
	p->col = (int)(s - x->ls) + 1;
	p->start = s;
	p->end = e;
	p->lstart = x->ls;
	p->lend = x->ln;
	p->runtime = xstrdup(rt);
	p->role = role;
	p->value = xstrndup(x->data + s, e - s);
	p->name = name ? xstrdup(name) : NULL;
	p->scanner = scanner;
	p->ci = x->ci;
	p->rank = x->rank;
	return p;
}

/*
 * A value computed by a command, $(shell cat .go-version) in Make or
 * $(cat .go-version) in a shell: "$(" then a word then a blank.  It names
 * no variable, so it is not a derived pin (a variable reference such as
 * $(GO_VERSION) or ${GO_VERSION} is).
 */
static int command_substitution(const char *v, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++) {
		size_t j = i + 2;

		if (v[i] != '$' || v[i + 1] != '(')
			continue;
		while (j < n && (isalnum((unsigned char)v[j]) || v[j] == '_' ||
				 v[j] == '-'))
			j++;
		if (j > i + 2 && j < n && (v[j] == ' ' || v[j] == '\t'))
			return 1;
	}
	return 0;
}

struct pin *scan_value(struct scan_ctx *x, const struct runtime_desc *rd,
		       enum role base, size_t s, size_t e, const char *name,
		       const char *scanner, int suffix_ok)
{
	const char *d = x->data;
	struct ver v;
	size_t used, i;

	if (s >= e)
		return NULL;
	if (memchr(d + s, '$', e - s))
		return command_substitution(d + s, e - s) ? NULL :
		       scan_pin(x, rd->name, ROLE_DERIVED, s, e, name, scanner);
	i = s;
	if (d[i] == 'v' && i + 1 < e && isdigit((unsigned char)d[i + 1]))
		i++;
	if (ver_parse(d + i, e - i, &v, &used) == 0) {
		enum role role = base;

		if (!suffix_ok && i + used != e)
			return NULL;
		if (base == ROLE_EXACT && v.parts < 3)
			role = ROLE_MINOR;
		return scan_pin(x, rd->name, role, i, i + used, name, scanner);
	}
	for (i = s; i < e; i++)
		if (!isalnum((unsigned char)d[i]) && d[i] != '-' && d[i] != '_')
			return NULL;
	return scan_pin(x, rd->name, ROLE_FLOATING, s, e, name, scanner);
}

void scan_list(struct scan_ctx *x, const struct runtime_desc *rd, size_t s,
	       size_t e, const char *name, const char *scanner)
{
	const char *d = x->data;
	int idx = 0;

	while (s < e) {
		struct ver v;
		size_t used;

		if (isdigit((unsigned char)d[s]) &&
		    (s == 0 || !isalnum((unsigned char)d[s - 1])) &&
		    ver_parse(d + s, e - s, &v, &used) == 0) {
			struct pin *p = scan_pin(x, rd->name, ROLE_WINDOW, s,
						 s + used, name, scanner);

			if (p) {
				p->group = x->lineno;
				p->index = idx++;
			}
			s += used;
		} else
			s++;
	}
}

void scan_unquote(const char *d, size_t *s, size_t *e)
{
	size_t a = *s, b = *e;

	while (a < b && (d[a] == ' ' || d[a] == '\t'))
		a++;
	if (a < b && (d[a] == '"' || d[a] == '\'')) {
		const char *q = memchr(d + a + 1, d[a], b - a - 1);

		if (q) {
			*s = a + 1;
			*e = (size_t)(q - d);
			return;
		}
	}
	for (size_t i = a; i < b; i++)
		if (d[i] == '#' && i > a && (d[i - 1] == ' ' || d[i - 1] == '\t')) {
			b = i;
			break;
		}
	while (b > a && (d[b - 1] == ' ' || d[b - 1] == '\t'))
		b--;
	*s = a;
	*e = b;
}

void scan_image(struct scan_ctx *x, size_t s, size_t e, const char *scanner)
{
	const char *d = x->data;
	size_t slash = s, colon = 0, name_end;
	const struct runtime_desc *rd;

	for (size_t i = s; i < e; i++) {
		if (d[i] == '/')
			slash = i + 1, colon = 0;
		else if (d[i] == ':')
			colon = i;
		else if (d[i] == '@') {
			e = i;
			break;
		}
	}
	name_end = colon ? colon : e;
	/* A registry in a variable: ${REGISTRY_PREFIX}node:24-slim */
	if (slash < name_end && d[slash] == '$') {
		size_t v = slash + 1;

		if (v < name_end && d[v] == '{') {
			while (v < name_end && d[v] != '}')
				v++;
			v += v < name_end;
		} else {
			while (v < name_end && (isalnum((unsigned char)d[v]) ||
						d[v] == '_'))
				v++;
		}
		slash = v;
	}
	rd = runtime_by_image(d + slash, name_end - slash);
	if (rd) {
		if (!colon) {
			scan_pin(x, rd->name, ROLE_FLOATING, slash, e,
				 NULL, scanner);
			return;
		}
		scan_value(x, rd, ROLE_EXACT, colon + 1, e, NULL, scanner, 1);
		return;
	}
	/* Composite tags: runner-linters:2.12.2-go1.26.3 */
	for (size_t i = colon ? colon + 1 : e; i + 3 < e; i++) {
		size_t skip = 0, used;
		struct ver v;

		if (d[i] != '-')
			continue;
		if (e - i > 3 && !memcmp(d + i, "-go", 3))
			skip = 3;
		if (e - i > 8 && !memcmp(d + i, "-golang-", 8))
			skip = 8;
		if (!skip || !isdigit((unsigned char)d[i + skip]))
			continue;
		if (ver_parse(d + i + skip, e - i - skip, &v, &used) == 0) {
			scan_pin(x, "go", v.parts == 3 ? ROLE_EXACT : ROLE_MINOR,
				 i + skip, i + skip + used, NULL, scanner);
			return;
		}
	}
}

void scan_derived_refs(struct scan_ctx *x, const char *scanner)
{
	const char *d = x->data;

	for (size_t i = x->ls; i < x->le; i++) {
		size_t a, b, end;
		const struct runtime_desc *rd;
		int next;

		if (d[i] != '$')
			continue;
		a = i + 1;
		if (a < x->le && d[a] == '{')
			a++;
		b = a;
		while (b < x->le && (isalnum((unsigned char)d[b]) || d[b] == '_'))
			b++;
		end = b;
		if (a > i + 1) {
			if (b >= x->le || d[b] != '}')
				continue;
			end = b + 1;
		}
		rd = runtime_by_var(d + a, b - a, &next);
		if (rd) {
			char *name = xstrndup(d + a, b - a);

			scan_pin(x, rd->name, ROLE_DERIVED, i, end, name, scanner);
			free(name);
		}
		i = end - 1;
	}
}

/* # renovate: datasource=docker depName=golang allowedVersions=/1\.26\..+/ */
void scan_annotation(struct scan_ctx *x)
{
	const char *d = x->data, *p, *end = d + x->le;
	const char *dep, *av;
	const struct runtime_desc *rd;
	size_t dl, s;

	p = memmem(d + x->ls, x->le - x->ls, "renovate:", 9);
	if (!p || !(dep = memmem(p, end - p, "depName=", 8)))
		return;
	dep += 8;
	for (dl = 0; dep + dl < end && !isspace((unsigned char)dep[dl]); dl++)
		;
	if (!(rd = runtime_by_renovate(dep, dl)))
		return;
	if (!(av = memmem(p, end - p, "allowedVersions=", 16)))
		return;
	av += 16;
	if (av < end && *av == '/')
		av++;
	if (av < end && *av == '^')
		av++;
	s = (size_t)(av - d);
	if (s >= x->le || !isdigit((unsigned char)d[s]))
		return;
	{
		size_t e = s;

		while (e < x->le && isdigit((unsigned char)d[e]))
			e++;
		if (e + 2 < x->le && d[e] == '\\' && d[e + 1] == '.' &&
		    isdigit((unsigned char)d[e + 2])) {
			e += 2;
			while (e < x->le && isdigit((unsigned char)d[e]))
				e++;
			scan_pin(x, rd->name, ROLE_ANNOTATION, s, e, NULL,
				 "renovate");
		}
	}
}

/* An annotation binds to the next pin within two lines, of its runtime. */
void scan_bind_annotations(struct scan_ctx *x)
{
	struct pinvec *pv = x->out;

	for (size_t i = x->first; i < pv->nr; i++) {
		struct pin *a = &pv->v[i];
		const struct pin *next = NULL;
		struct buf note = BUF_INIT;

		if (a->role != ROLE_ANNOTATION)
			continue;
		for (size_t j = x->first; j < pv->nr; j++)
			if (pv->v[j].role != ROLE_ANNOTATION &&
			    pv->v[j].line > a->line &&
			    (!next || pv->v[j].line < next->line ||
			     (pv->v[j].line == next->line &&
			      pv->v[j].start < next->start)))
				next = &pv->v[j];
		if (!next || next->line > a->line + 2)
			buf_addstr(&note, "annotation-misbound (no pin within "
				   "2 lines)");
		else if (strcmp(next->runtime, a->runtime))
			buf_addf(&note, "annotation-misbound (next pin %s is "
				 "not runtime %s)",
				 next->name ? next->name : next->value,
				 a->runtime);
		if (note.len)
			a->note = buf_detach(&note, NULL);
		buf_release(&note);
	}
}

/* Repository role overrides: "/go.mod:exact" (root only) or "go.mod:exact". */
void scan_apply_overrides(struct scan_ctx *x)
{
	for (size_t k = 0; k < x->repo->roles.nr; k++) {
		const char *ent = x->repo->roles.v[k];
		const char *colon = strrchr(ent, ':');
		char *pat = xstrndup(ent, colon - ent);
		enum role role;
		int hit;

		role_parse(colon + 1, &role);
		if (pat[0] == '/')
			hit = path_glob_match(pat + 1, x->path);
		else
			hit = path_glob_match(pat, x->path) ||
			      (strrchr(x->path, '/') &&
			       path_glob_match(pat, strrchr(x->path, '/') + 1));
		free(pat);
		if (!hit)
			continue;
		for (size_t i = x->first; i < x->out->nr; i++) {
			struct pin *p = &x->out->v[i];

			if (p->role == ROLE_MINIMUM || p->role == ROLE_EXACT ||
			    p->role == ROLE_MINOR || p->role == ROLE_DOCS)
				p->role = role;
		}
	}
}

void scan_rules(struct scan_ctx *x, const int *want, size_t *hits,
		       struct buf *line)
{
	for (size_t k = 0; k < x->c->nrules; k++) {
		const struct rule *ru = &x->c->rules[k];
		const struct runtime_desc *rd = runtime_find(ru->runtime);
		struct runtime_desc tmp = { .name = ru->runtime };
		regmatch_t m[10];
		size_t s, e;

		if (!want[k])
			continue;
		buf_reset(line);
		buf_add(line, x->data + x->ls, x->le - x->ls);
		if (memchr(line->data, '\0', line->len) ||
		    regexec(&ru->re, line->data, 10, m, 0) ||
		    m[ru->group].rm_so < 0)
			continue;
		s = x->ls + (size_t)m[ru->group].rm_so;
		e = x->ls + (size_t)m[ru->group].rm_eo;
		if (!rd)
			rd = &tmp;
		if (hits)
			hits[k]++;
		if (ru->role == ROLE_WINDOW)
			scan_list(x, rd, s, e, ru->name, "rule");
		else {
			struct pin *p = scan_value(x, rd, ru->role, s, e,
						   ru->name, "rule", 0);

			if (p && ru->role == ROLE_EXACT)
				p->role = ROLE_EXACT;
		}
	}
}
