#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job/variables.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

void variables_init(struct variables *vars)
{
	vars->items = NULL;
	vars->nr = 0;
	vars->alloc = 0;
}

static void variable_release(struct variable *v)
{
	free(v->key);
	if (v->flags & VAR_MASKED)
		free_secret(v->value);
	else
		free(v->value);
}

void variables_release(struct variables *vars)
{
	size_t i;

	for (i = 0; i < vars->nr; i++)
		variable_release(&vars->items[i]);
	free(vars->items);
	variables_init(vars);
}

static void variables_push(struct variables *vars, char *key, char *value,
			   unsigned flags)
{
	if (vars->nr + 1 > vars->alloc) {
		vars->alloc = vars->alloc ? vars->alloc * 2 : 32;
		vars->items = xreallocarray(vars->items, vars->alloc,
					    sizeof(*vars->items));
	}
	vars->items[vars->nr].key = key;
	vars->items[vars->nr].value = value;
	vars->items[vars->nr].flags = flags;
	vars->nr++;
}

void variables_add(struct variables *vars, const char *key, const char *value,
		   unsigned flags)
{
	variables_push(vars, xstrdup(key), xstrdup(value ? value : ""), flags);
}

void variables_add_all(struct variables *vars, const struct variables *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++)
		variables_add(vars, src->items[i].key, src->items[i].value,
			      src->items[i].flags);
}

static const struct variable *find_n(const struct variables *vars,
				     const char *key, size_t len)
{
	size_t i = vars->nr;

	while (i--) {
		const char *k = vars->items[i].key;

		if (!strncmp(k, key, len) && k[len] == '\0')
			return &vars->items[i];
	}
	return NULL;
}

const struct variable *variables_find(const struct variables *vars,
				      const char *key)
{
	return find_n(vars, key, strlen(key));
}

const char *variables_get(const struct variables *vars, const char *key)
{
	const struct variable *v = variables_find(vars, key);

	return v ? v->value : NULL;
}

int variables_get_bool(const struct variables *vars, const char *key, int def)
{
	const char *v = variables_get(vars, key);

	if (!v || !*v)
		return def;
	if (!strcasecmp(v, "1") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		return 1;
	if (!strcasecmp(v, "0") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		return 0;
	return def;
}

static int is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

void variables_expand_into(const struct variables *vars, const char *s,
			   struct buf *out)
{
	while (*s) {
		const char *dollar = strchr(s, '$'), *name, *end;
		const struct variable *v;

		if (!dollar) {
			(void)buf_addstr(out, s);
			return;
		}
		(void)buf_add(out, s, (size_t)(dollar - s));
		name = dollar + 1;
		if (*name == '$') {
			(void)buf_addch(out, '$');
			s = name + 1;
			continue;
		}
		if (*name == '{') {
			end = strchr(name + 1, '}');
			if (!end) {
				/* Unterminated: keep the text as it is. */
				(void)buf_addstr(out, dollar);
				return;
			}
			v = find_n(vars, name + 1, (size_t)(end - name - 1));
			s = end + 1;
		} else {
			end = name;
			while (is_name_char(*end))
				end++;
			if (end == name) {
				/* A lone '$' stands for itself. */
				(void)buf_addch(out, '$');
				s = name;
				continue;
			}
			v = find_n(vars, name, (size_t)(end - name));
			s = end;
		}
		if (v)
			(void)buf_addstr(out, v->value);
	}
}

char *variables_expand(const struct variables *vars, const char *s)
{
	struct buf out = BUF_INIT;

	variables_expand_into(vars, s, &out);
	return buf_detach(&out, NULL);
}

void variables_expand_all(struct variables *vars)
{
	struct variables before = VARIABLES_INIT;
	size_t i;

	variables_add_all(&before, vars);
	for (i = 0; i < vars->nr; i++) {
		struct variable *v = &vars->items[i];
		char *expanded;

		if ((v->flags & VAR_RAW) || !strchr(v->value, '$'))
			continue;
		expanded = variables_expand(&before, v->value);
		if (v->flags & VAR_MASKED)
			free_secret(v->value);
		else
			free(v->value);
		v->value = expanded;
	}
	variables_release(&before);
}

void variables_unique(const struct variables *src, struct variables *dst)
{
	size_t i, j;

	for (i = 0; i < src->nr; i++) {
		const struct variable *last;
		int seen = 0;

		for (j = 0; j < dst->nr; j++) {
			if (!strcmp(dst->items[j].key, src->items[i].key)) {
				seen = 1;
				break;
			}
		}
		if (seen)
			continue;
		last = variables_find(src, src->items[i].key);
		variables_add(dst, last->key, last->value, last->flags);
	}
}
