/*
 * One line scanner per file format (design 3.5).  Each reads the current
 * line of struct scan_ctx and adds pins; none evaluates anything.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scan_int.h"
#include "util/xalloc.h"
#include "util/banned.h"

static size_t skip_ws(const char *d, size_t i, size_t e)
{
	while (i < e && (d[i] == ' ' || d[i] == '\t'))
		i++;
	return i;
}

static int starts(const struct scan_ctx *x, size_t i, const char *w)
{
	size_t n = strlen(w);

	return x->le - i >= n && !memcmp(x->data + i, w, n);
}

static size_t token_end(const char *d, size_t i, size_t e)
{
	while (i < e && d[i] != ' ' && d[i] != '\t' && d[i] != '#')
		i++;
	return i;
}

/* go.mod, go.work: "go 1.22", "toolchain go1.22.6" */
static void scan_gomod(struct scan_ctx *x)
{
	const char *d = x->data;
	size_t i = skip_ws(d, x->ls, x->le);

	if (starts(x, i, "go ") || starts(x, i, "go\t")) {
		i = skip_ws(d, i + 2, x->le);
		scan_value(x, runtime_find("go"), ROLE_MINIMUM, i,
			   token_end(x->data, i, x->le), "go", "go.mod", 0);
	} else if (starts(x, i, "toolchain")) {
		i = skip_ws(d, i + 9, x->le);
		if (starts(x, i, "go"))
			scan_value(x, runtime_find("go"), ROLE_TOOLCHAIN, i + 2,
				   token_end(x->data, i, x->le), "toolchain",
				   "go.mod", 0);
	}
}

/* .tool-versions: "golang 1.21.4 1.20.10  # comment" */
static void scan_tool_versions(struct scan_ctx *x)
{
	const char *d = x->data;
	const struct runtime_desc *rd;
	size_t i = skip_ws(d, x->ls, x->le), a, idx = 0;
	char *alias;

	if (i >= x->le || d[i] == '#')
		return;
	a = token_end(d, i, x->le);
	if (!(rd = runtime_by_alias(d + i, a - i)))
		return;
	alias = xstrndup(d + i, a - i);
	for (i = skip_ws(d, a, x->le); i < x->le && d[i] != '#';
	     i = skip_ws(d, a, x->le)) {
		struct pin *p;

		a = token_end(d, i, x->le);
		p = scan_value(x, rd, idx ? ROLE_WINDOW : ROLE_EXACT, i, a,
			       alias, ".tool-versions", 0);
		if (p && p->role == ROLE_MINOR && !idx)
			p->role = ROLE_EXACT;
		if (p && idx) {
			p->group = x->lineno;
			p->index = (int)idx - 1;
			p->shift = 1;
		}
		idx++;
	}
	free(alias);
}

/* mise.toml [tools]: go = "1.26.3", node = { version = "20" } */
static void scan_mise(struct scan_ctx *x)
{
	const char *d = x->data;
	const struct runtime_desc *rd;
	size_t i = skip_ws(d, x->ls, x->le), k, s, e;

	if (i < x->le && d[i] == '[') {
		size_t n = x->le - i < sizeof(x->section) - 1 ?
			   x->le - i : sizeof(x->section) - 1;

		memcpy(x->section, d + i, n);
		x->section[n] = '\0';
		return;
	}
	if (strncmp(x->section, "[tools]", 7))
		return;
	if (i < x->le && d[i] == '"')
		i++;
	for (k = i; k < x->le && (isalnum((unsigned char)d[k]) ||
				  d[k] == '-' || d[k] == '_'); k++)
		;
	if (!(rd = runtime_by_alias(d + i, k - i)))
		return;
	s = (const char *)memchr(d + k, '=', x->le - k) ?
	    (size_t)((const char *)memchr(d + k, '=', x->le - k) - d) + 1 : x->le;
	s = skip_ws(d, s, x->le);
	if (s < x->le && d[s] == '{') {
		const char *v = memmem(d + s, x->le - s, "version", 7);

		if (!v || !(v = memchr(v, '=', d + x->le - v)))
			return;
		s = (size_t)(v - d) + 1;
		e = x->le;
		scan_unquote(d, &s, &e);
		if (e > s && d[e - 1] == '}')
			return;
	} else {
		e = x->le;
		scan_unquote(d, &s, &e);
	}
	{
		struct pin *p = scan_value(x, rd, ROLE_EXACT, s, e, rd->name,
					   "mise", 0);

		if (p && p->role == ROLE_MINOR)
			p->role = ROLE_EXACT;
	}
}

/* .go-version, .nvmrc ...: the first token of the first line */
static void scan_idiomatic(struct scan_ctx *x)
{
	const char *base = strrchr(x->path, '/') ? strrchr(x->path, '/') + 1 :
			   x->path;
	const struct runtime_desc *rd = runtime_by_idiomatic(base);
	size_t s = skip_ws(x->data, x->ls, x->le);
	struct pin *p;

	if (x->lineno != 1 || !rd)
		return;
	p = scan_value(x, rd, ROLE_EXACT, s, token_end(x->data, s, x->le),
		       NULL, "idiomatic", 0);
	if (p && p->role == ROLE_MINOR)
		p->role = ROLE_EXACT;
}

/* A NAME: value, NAME=value or NAME ?= value assignment of a runtime var. */
static void scan_assignment(struct scan_ctx *x, size_t ns, size_t ne,
			    size_t vs, const char *scanner)
{
	const char *d = x->data;
	const struct runtime_desc *rd;
	size_t e = x->le;
	char *name;
	int next;

	if (!(rd = runtime_by_var(d + ns, ne - ns, &next)))
		return;
	name = xstrndup(d + ns, ne - ns);
	vs = skip_ws(d, vs, e);
	if (vs < e && d[vs] == '[') {
		const char *close = memchr(d + vs, ']', e - vs);

		if (close)
			scan_list(x, rd, vs + 1, (size_t)(close - d), name,
				  scanner);
	} else {
		scan_unquote(d, &vs, &e);
		scan_value(x, rd, next ? ROLE_NEXT : ROLE_EXACT, vs, e, name,
			   scanner, 0);
	}
	free(name);
}

static size_t ident_end(const char *d, size_t i, size_t e)
{
	while (i < e && (isalnum((unsigned char)d[i]) || d[i] == '_'))
		i++;
	return i;
}

static size_t indent_of(const char *d, size_t ls, size_t le)
{
	size_t i = ls;

	while (i < le && d[i] == ' ')
		i++;
	return i - ls;
}

/*
 * Whether the line at ls (a "name:" key) sits in an "image:" mapping:
 * the nearest line above it that is indented less is "image:" (or
 * "- image:") with nothing after the colon.
 */
static int in_image_mapping(const char *d, size_t ls, size_t le)
{
	size_t ind = indent_of(d, ls, le), e = ls, b;

	while (e > 0) {
		size_t i;

		b = e - 1;	/* the '\n' ending the line above */
		while (b > 0 && d[b - 1] != '\n')
			b--;
		i = b + indent_of(d, b, e - 1);
		if (i < e - 1 && d[i] != '#' && d[i] != '\r' &&
		    i - b < ind) {
			size_t k = e - 1;

			if (d[i] == '-' && i + 1 < k && d[i + 1] == ' ')
				i += 2;
			while (k > i && (d[k - 1] == ' ' || d[k - 1] == '\r'))
				k--;
			return k - i == 6 && !memcmp(d + i, "image:", 6);
		}
		e = b;
	}
	return 0;
}

/* .gitlab-ci.yml and friends */
static void scan_ci(struct scan_ctx *x)
{
	const char *d = x->data;
	size_t i = skip_ws(d, x->ls, x->le), k;

	if (i + 1 < x->le && d[i] == '-' && d[i + 1] == ' ')
		i = skip_ws(d, i + 1, x->le);
	if (i < x->le && (d[i] == '"' || d[i] == '\''))
		return;
	k = i;
	while (k < x->le && (isalnum((unsigned char)d[k]) || d[k] == '_' ||
			     d[k] == '-' || d[k] == '.'))
		k++;
	if (k == i || k >= x->le || d[k] != ':')
		return;
	/* image: and variables holding one (BUILD_IMAGE: golang:1.26), and
	 * the mapping form's "image: {name: golang:1.26}" on its own line */
	if ((k - i == 5 && !memcmp(d + i, "image", 5)) ||
	    (k - i > 6 && !memcmp(d + k - 6, "_IMAGE", 6)) ||
	    (k - i == 4 && !memcmp(d + i, "name", 4) && i > x->ls &&
	     in_image_mapping(d, x->ls, x->le))) {
		size_t s = k + 1, e = x->le;

		scan_unquote(d, &s, &e);
		if (e > s)
			scan_image(x, s, e, "ci");
		return;
	}
	for (size_t j = 0; j < x->repo->indirect.nr; j++) {
		/* "FILE:VAR RUNTIME via MAP" */
		const char *ent = x->repo->indirect.v[j];
		const char *colon = strchr(ent, ':');
		const char *sp = colon ? strchr(colon, ' ') : NULL;
		const char *via = strstr(ent, " via ");

		if (!sp || !via || (size_t)(colon - ent) != strlen(x->path) ||
		    memcmp(ent, x->path, colon - ent) ||
		    (size_t)(sp - colon - 1) != k - i ||
		    memcmp(colon + 1, d + i, k - i)) {
			continue;
		} else {
			size_t s = k + 1, e = x->le;
			char *rt = xstrndup(sp + 1, via - sp - 1);
			char *name = xstrndup(d + i, k - i);
			struct pin *p;

			scan_unquote(d, &s, &e);
			if ((p = scan_pin(x, rt, ROLE_INDIRECT, s, e, name,
					  "ci")))
				p->note = xstrdup(via + 5);
			free(rt);
			free(name);
			return;
		}
	}
	scan_assignment(x, i, k, k + 1, "ci");
}

/* Makefile, *.mk: [target: ][export] NAME ?= value */
static void scan_make(struct scan_ctx *x)
{
	const char *d = x->data;

	for (size_t i = x->ls; i < x->le; i++) {
		size_t e, o;
		int dummy;

		if (d[i] == '#')
			return;
		if (!isupper((unsigned char)d[i]) ||
		    (i > x->ls && (isalnum((unsigned char)d[i - 1]) ||
				   d[i - 1] == '_')))
			continue;
		e = ident_end(d, i, x->le);
		if (!runtime_by_var(d + i, e - i, &dummy)) {
			i = e;
			continue;
		}
		o = skip_ws(d, e, x->le);
		if (starts(x, o, "?=") || starts(x, o, ":=") || starts(x, o, "+="))
			o += 2;
		else if (starts(x, o, "::="))
			o += 3;
		else if (starts(x, o, "="))
			o += 1;
		else {
			i = e;
			continue;
		}
		scan_assignment(x, i, e, o, "make");
		return;
	}
}

/* Dockerfile: FROM [--platform=...] image[:tag] [AS x]; ARG/ENV NAME=v */
static void scan_dockerfile(struct scan_ctx *x)
{
	const char *d = x->data;
	size_t i = skip_ws(d, x->ls, x->le), e;

	if (x->le - i > 5 && !strncasecmp(d + i, "FROM", 4) &&
	    isblank((unsigned char)d[i + 4])) {
		i = skip_ws(d, i + 4, x->le);
		while (starts(x, i, "--"))
			i = skip_ws(d, token_end(d, i, x->le), x->le);
		e = token_end(d, i, x->le);
		scan_image(x, i, e, "dockerfile");
	} else if (x->le - i > 4 && (!strncasecmp(d + i, "ARG", 3) ||
				     !strncasecmp(d + i, "ENV", 3)) &&
		   isblank((unsigned char)d[i + 3])) {
		i = skip_ws(d, i + 3, x->le);
		e = ident_end(d, i, x->le);
		if (e < x->le && (d[e] == '=' || d[e] == ' '))
			scan_assignment(x, i, e, e + 1, "dockerfile");
	}
}

/* package.json: engines.node (minimum), volta.node (exact) */
static void scan_package_json(struct scan_ctx *x)
{
	const char *d = x->data, *k;
	size_t s, e;
	const char *eng = memmem(d + x->ls, x->le - x->ls, "\"engines\"", 9);
	const char *vol = memmem(d + x->ls, x->le - x->ls, "\"volta\"", 7);

	if (eng)
		memcpy(x->section, "engines", 8);
	if (vol)
		memcpy(x->section, "volta", 6);
	if (!(k = memmem(d + x->ls, x->le - x->ls, "\"node\"", 6)) ||
	    !*x->section)
		return;
	s = (size_t)(k - d) + 6;
	s = skip_ws(d, s, x->le);
	if (s >= x->le || d[s] != ':')
		return;
	s = skip_ws(d, s + 1, x->le);
	if (s >= x->le || d[s] != '"')
		return;
	s++;
	for (e = s; e < x->le && d[e] != '"'; e++)
		;
	while (s < e && strchr("<>=^~ ", d[s]))
		s++;
	scan_value(x, runtime_find("node"),
		   !strcmp(x->section, "engines") ? ROLE_MINIMUM : ROLE_EXACT,
		   s, e, "node", "package.json", 1);
}

/* Gemfile: ruby "3.3.0"; Gemfile.lock: RUBY VERSION / ruby 3.3.0p0 */
static void scan_gemfile(struct scan_ctx *x)
{
	const char *d = x->data;
	size_t i = skip_ws(d, x->ls, x->le), s, e;
	struct pin *p;

	if (starts(x, i, "RUBY VERSION")) {
		memcpy(x->section, "ruby", 5);
		return;
	}
	if (!starts(x, i, "ruby ") && !starts(x, i, "ruby\t"))
		return;
	s = i + 5;
	e = x->le;
	if (!strcmp(x->section, "ruby")) {
		x->section[0] = '\0';
		s = skip_ws(d, s, x->le);
		scan_value(x, runtime_find("ruby"), ROLE_EXACT, s,
			   token_end(d, s, x->le), "ruby", "gemfile", 1);
		return;
	}
	scan_unquote(d, &s, &e);
	p = scan_value(x, runtime_find("ruby"), ROLE_EXACT, s, e, "ruby",
		       "gemfile", 0);
	if (p && p->role == ROLE_MINOR)
		p->role = ROLE_EXACT;
}

/* pyproject.toml: requires-python = ">=3.11" */
static void scan_pyproject(struct scan_ctx *x)
{
	const char *d = x->data;
	size_t i = skip_ws(d, x->ls, x->le), s, e;
	const char *eq;

	if (!starts(x, i, "requires-python") ||
	    !(eq = memchr(d + i, '=', x->le - i)))
		return;
	s = (size_t)(eq - d) + 1;
	e = x->le;
	scan_unquote(d, &s, &e);
	while (s < e && strchr("<>=~^! ", d[s]))
		s++;
	scan_value(x, runtime_find("python"), ROLE_MINIMUM, s, e,
		   "requires-python", "pyproject", 1);
}

/* Markdown: go1.26.3.linux-amd64.tar.gz, pkg install go-1.26.3 */
static void scan_docs(struct scan_ctx *x)
{
	const char *d = x->data;

	for (size_t i = x->ls; i + 3 < x->le; i++) {
		size_t s, used;
		struct ver v;

		if (d[i] != 'g' || d[i + 1] != 'o' ||
		    (i > x->ls && isalnum((unsigned char)d[i - 1])))
			continue;
		s = i + 2;
		if (d[s] == '-')
			s++;
		if (s >= x->le || !isdigit((unsigned char)d[s]) ||
		    ver_parse(d + s, x->le - s, &v, &used) || v.parts < 2)
			continue;
		if (d[i + 2] != '-' && !(s + used < x->le && d[s + used] == '.'))
			continue;
		if (d[i + 2] == '-' && (i < x->ls + 12 ||
		    memcmp(d + i - 12, "pkg install ", 12)))
			continue;
		scan_pin(x, "go", ROLE_DOCS, s, s + used, NULL, "docs");
		i = s + used;
	}
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

scan_line_fn scan_choose(const char *rel, const char *base, int docs,
			 int *ci, int *rank)
{
	*ci = 0;
	*rank = 9;
	if (!strcmp(base, "go.mod") || !strcmp(base, "go.work"))
		return scan_gomod;
	if (!strcmp(base, ".tool-versions"))
		return *rank = 3, scan_tool_versions;
	if (!strcmp(base, "mise.toml") || !strcmp(base, ".mise.toml") ||
	    !strcmp(base, ".rtx.toml") ||
	    (!strncmp(rel, ".config/mise", 12) && ends_with(rel, ".toml")))
		return *rank = 3, scan_mise;
	if (runtime_by_idiomatic(base)) {
		/* The runtime's own file (.nvmrc) before the others. */
		*rank = strcmp(runtime_by_idiomatic(base)->idiomatic[0], base) ?
			2 : 1;
		return scan_idiomatic;
	}
	if (!strncmp(base, "Dockerfile", 10) ||
	    !strncmp(base, "Containerfile", 13) || ends_with(base, ".Dockerfile"))
		return *rank = 5, scan_dockerfile;
	if (!strcmp(rel, ".gitlab-ci.yml") ||
	    (!strncmp(rel, ".gitlab/", 8) &&
	     (ends_with(rel, ".yml") || ends_with(rel, ".yaml"))) ||
	    (!strncmp(rel, "ci_files/", 9) && ends_with(rel, ".yml")) ||
	    (!strncmp(rel, "gitlab-ci-config/", 17) && ends_with(rel, ".yml")))
		return *ci = 1, *rank = 0, scan_ci;
	if (!strcmp(base, "Makefile") || !strcmp(base, "GNUmakefile") ||
	    ends_with(base, ".mk"))
		return *rank = 5, scan_make;
	if (!strcmp(base, "package.json"))
		return *rank = 4, scan_package_json;
	if (!strcmp(base, "Gemfile") || !strcmp(base, "Gemfile.lock"))
		return *rank = 4, scan_gemfile;
	if (!strcmp(base, "pyproject.toml"))
		return *rank = 4, scan_pyproject;
	if (docs && ends_with(base, ".md"))
		return scan_docs;
	return NULL;
}
