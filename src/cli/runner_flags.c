/*
 * Reading gitlab-runner's register/run-single flags and variables into a
 * [[runners]] table (runner_flags.h), with its value parsers: go-flags'
 * convert() for lists (one element per value) and maps ("key:value"),
 * StringOrArray's comma split, and JSON for kubernetes host_aliases.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runner_flags.h"
#include "config/config.h"
#include "config/toml.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

static int parse_int(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return !*s || isspace((unsigned char)*s) || *end || errno ? -1 : 0;
}

static int parse_float(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !*s || isspace((unsigned char)*s) || *end || errno ||
		!isfinite(*out) ? -1 : 0;
}

/* The table at path's parent, created as needed; *leaf gets the last key. */
static struct toml_value *parent_table(struct toml_value *runner,
				       const char *path, char **leaf)
{
	char *copy = xstrdup(path), *dot, *key = copy;
	struct toml_value *t = runner, *sub;

	while ((dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		sub = toml_table_get(t, key);
		if (!sub || sub->type != TOML_TABLE) {
			sub = toml_new_table();
			toml_table_set(t, key, sub);
		}
		t = sub;
		key = dot + 1;
	}
	*leaf = xstrdup(key);
	free(copy);
	return t;
}

/* table[key], made an empty one of type when it is missing or another. */
static struct toml_value *slot(struct toml_value *table, const char *key,
			       enum toml_type type)
{
	struct toml_value *v = toml_table_get(table, key);

	if (!v || v->type != type) {
		v = type == TOML_ARRAY ? toml_new_array() : toml_new_table();
		toml_table_set(table, key, v);
	}
	return v;
}

/* One scalar of kind (the element kind of a list or map) as a value. */
static struct toml_value *scalar(enum runner_flag_kind kind, const char *s,
				 const char *from, struct buf *err)
{
	int64_t i;
	double d;
	bool b;

	switch (kind) {
	case RF_INT:
	case RF_INT_LIST:
	case RF_MAP_INT:
		if (parse_int(s, &i))
			break;
		return toml_new_integer(i);
	case RF_FLOAT:
		if (parse_float(s, &d))
			break;
		return toml_new_float(d);
	case RF_BOOL:
	case RF_MAP_BOOL:
		/* go-flags: an empty value is true. */
		if (*s && cli_parse_bool(s, &b))
			break;
		return toml_new_bool(!*s || b);
	case RF_DURATION: {
		struct buf text = BUF_INIT;
		struct toml_value *v;

		if (config_parse_duration(s, &i))
			break;
		config_format_duration(i, &text);
		v = toml_new_string(text.data);
		buf_release(&text);
		return v;
	}
	default:
		return toml_new_string(s);
	}
	buf_addf(err, "%s needs %s, not '%s'", from,
		 kind == RF_FLOAT ? "a number" :
		 kind == RF_DURATION ? "a duration such as 30s or 1h30m" :
		 (kind == RF_BOOL || kind == RF_MAP_BOOL) ? "true or false" :
		 "a whole number", s);
	return NULL;
}

static int set_json(struct toml_value *table, const char *key, const char *s,
		    const char *from, struct buf *err)
{
	json_error_t jerr;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &jerr);
	struct toml_value *v;
	size_t i;

	if (!j || !json_is_array(j)) {
		buf_addf(err, "%s needs a JSON array such as [{\"ip\": \"10.0.0.1\", \"hostnames\": [\"a\"]}], not '%s'",
			 from, s);
		json_decref(j);
		return -1;
	}
	for (i = 0; i < json_array_size(j); i++) {
		if (!json_is_object(json_array_get(j, i))) {
			buf_addf(err, "%s needs a JSON array of objects, not '%s'",
				 from, s);
			json_decref(j);
			return -1;
		}
	}
	v = config_toml_from_json(j);
	json_decref(j);
	toml_table_set(table, key, v);
	return 0;
}

/* StringOrArray.UnmarshalFlag: split at commas, each part trimmed. */
static void set_csv(struct toml_value *table, const char *key, const char *s)
{
	struct toml_value *arr = toml_new_array();
	const char *p = s, *comma, *end;

	while (*s) {
		comma = strchr(p, ',');
		end = comma ? comma : p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		while (end > p && isspace((unsigned char)end[-1]))
			end--;
		{
			char *item = xstrndup(p, (size_t)(end - p));

			toml_array_append(arr, toml_new_string(item));
			free(item);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	toml_table_set(table, key, arr);
}

int runner_flags_set(struct toml_value *runner, const struct runner_flag *f,
		     const char *value, const char *from, struct buf *err)
{
	struct toml_value *table, *v;
	char *key, *mkey = NULL;
	const char *colon;
	int r = -1;

	table = parent_table(runner, f->toml, &key);
	switch (f->kind) {
	case RF_LIST:
	case RF_INT_LIST:
		if (!(v = scalar(f->kind, value, from, err)))
			goto out;
		toml_array_append(slot(table, key, TOML_ARRAY), v);
		break;
	case RF_CSV:
		set_csv(table, key, value);
		break;
	case RF_JSON:
		if (set_json(table, key, value, from, err))
			goto out;
		break;
	case RF_MAP:
	case RF_MAP_BOOL:
	case RF_MAP_INT:
	case RF_MAP_LIST:
		/* go-flags: split at the first ':'; no ':' is an empty value. */
		colon = strchr(value, ':');
		mkey = colon ? xstrndup(value, (size_t)(colon - value)) :
			xstrdup(value);
		colon = colon ? colon + 1 : "";
		if (!(v = scalar(f->kind, colon, from, err)))
			goto out;
		if (f->kind == RF_MAP_LIST) {
			struct toml_value *arr = toml_new_array();

			toml_array_append(arr, v);
			v = arr;
		}
		toml_table_set(slot(table, key, TOML_TABLE), mkey, v);
		break;
	default:
		if (!(v = scalar(f->kind, value, from, err)))
			goto out;
		toml_table_set(table, key, v);
		break;
	}
	r = 0;
out:
	free(mkey);
	free(key);
	return r;
}

static bool is_name(const struct runner_flag *f, const char *name, size_t len)
{
	if (f->short_opt && len == 1 && *name == f->short_opt)
		return true;
	if (strlen(f->flag) == len && !strncmp(f->flag, name, len))
		return true;
	return f->alias && strlen(f->alias) == len &&
		!strncmp(f->alias, name, len);
}

static const struct runner_flag *find_len(unsigned cmd, const char *name,
					  size_t len)
{
	size_t i;

	for (i = 0; i < runner_flags_nr; i++)
		if ((runner_flags[i].cmds & cmd) &&
		    is_name(&runner_flags[i], name, len))
			return &runner_flags[i];
	return NULL;
}

const struct runner_flag *runner_flags_find(unsigned cmd, const char *name)
{
	return find_len(cmd, name, strlen(name));
}

static int apply(const struct runner_flags_cmd *c,
		 const struct runner_flag *f, struct toml_value *runner,
		 const char *value, const char *from, struct buf *err)
{
	if (f->toml)
		return runner_flags_set(runner, f, value, from, err);
	return c->fn(c->ctx, f, value, from, err);
}

static const struct runner_flag *find_arg(const struct runner_flags_cmd *c,
					  const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < c->nr_extra; i++)
		if (is_name(&c->extra[i], name, len))
			return &c->extra[i];
	return find_len(c->cmd, name, len);
}

int runner_flags_parse(const struct runner_flags_cmd *c, int argc,
		       char **argv, struct toml_value *runner,
		       struct buf *err)
{
	char from[128];
	size_t k;
	int i;

	/* urfave/cli: a variable is the flag's value before the command line. */
	for (k = 0; k < runner_flags_nr; k++) {
		const struct runner_flag *f = &runner_flags[k];
		const char *v;

		if (!(f->cmds & c->cmd) || !f->env || !(v = getenv(f->env)) ||
		    !*v)
			continue;
		snprintf(from, sizeof(from), "$%s", f->env);
		if (apply(c, f, runner, v, from, err))
			return -1;
	}
	/* Go's flag package: -name or --name, =value or the next argument. */
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value;
		const struct runner_flag *f;
		size_t len;

		if (!strcmp(arg, "--")) {
			i++;
			break;
		}
		if (arg[0] != '-' || !arg[1])
			break;
		name = arg + 1 + (arg[1] == '-');
		if (!*name || *name == '-' || *name == '=') {
			buf_addf(err, "bad flag syntax: %s", arg);
			return -1;
		}
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (!(f = find_arg(c, name, len))) {
			buf_addf(err, "unknown option '%.*s'",
				 (int)(name - arg + len), arg);
			return -1;
		}
		snprintf(from, sizeof(from), "--%s", f->flag);
		if (eq)
			value = eq + 1;
		else if (f->kind == RF_BOOL)
			value = "true";
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			buf_addf(err, "%s needs a value", from);
			return -1;
		}
		if (f->kind == RF_BOOL && eq && !*value) {
			buf_addf(err, "%s needs true or false, not ''", from);
			return -1;
		}
		if (apply(c, f, runner, value, from, err))
			return -1;
	}
	if (i < argc) {
		buf_addf(err, "unexpected argument '%s'", argv[i]);
		return -1;
	}
	return 0;
}

bool runner_flag_has_effect(const struct runner_flag *f)
{
	/* Every option of the commands themselves is implemented. */
	if (!f->toml)
		return true;
	return config_runner_key_state(f->toml) == CONFIG_KEY_ACTED_ON;
}

static const char *kind_arg(enum runner_flag_kind kind)
{
	switch (kind) {
	case RF_INT: return "N";
	case RF_FLOAT: return "X";
	case RF_BOOL: return "[=BOOL]";
	case RF_DURATION: return "DURATION";
	case RF_LIST: return "VALUE...";
	case RF_INT_LIST: return "N...";
	case RF_CSV: return "A,B";
	case RF_MAP: return "KEY:VALUE...";
	case RF_MAP_LIST: return "KEY:ITEM...";
	case RF_MAP_BOOL: return "KEY[:BOOL]...";
	case RF_MAP_INT: return "KEY:N...";
	case RF_JSON: return "JSON";
	default: return "VALUE";
	}
}

void runner_flags_help(FILE *out, unsigned cmd)
{
	const char *group = NULL;
	size_t i;

	fputs("\nEvery flag of gitlab-runner's, with its variable in brackets and the\n"
	      "config.toml key (below [[runners]]) it sets; '*' marks keys crunner\n"
	      "keeps but does not act on yet (docs/register-flags.md):\n", out);
	for (i = 0; i < runner_flags_nr; i++) {
		const struct runner_flag *f = &runner_flags[i];

		if (!(f->cmds & cmd))
			continue;
		if (!group || strcmp(group, f->group)) {
			group = f->group;
			fprintf(out, "\n%s options:\n", *group ? group : "general");
		}
		fputs("  ", out);
		if (f->short_opt)
			fprintf(out, "-%c, ", f->short_opt);
		if (f->alias)
			fprintf(out, "--%s, ", f->alias);
		fprintf(out, "--%s%s%s", f->flag, f->kind == RF_BOOL ? "" : " ",
			kind_arg(f->kind));
		if (f->env)
			fprintf(out, " [%s]", f->env);
		if (f->toml)
			fprintf(out, " -> %s%s", f->toml,
				runner_flag_has_effect(f) ? "" : " *");
		fputc('\n', out);
	}
}
