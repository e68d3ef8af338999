/*
 * gitlab-runner's flags and environment variables for `register` and
 * `run-single`: one generated row each (runner_flags_table.c, written by
 * scripts/gen-runner-flags.py from gitlab-runner's struct tags), read here
 * the way gitlab-runner reads them.
 *
 * A row with a TOML path sets that key of the [[runners]] table being
 * built; the others are the command's own options, handed to a callback.
 * Variables are read first, then the command line (Go's flag syntax:
 * --name value, --name=value, -name, a bare --bool or --bool=false).  A
 * repeated list flag adds an element; a variable is one element, so a list
 * gets the variable's element and then the flags' (gitlab-runner's order).
 */
#ifndef CR_RUNNER_FLAGS_H
#define CR_RUNNER_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct buf;
struct toml_value;

/* How gitlab-runner turns one flag value into its Go field. */
enum runner_flag_kind {
	RF_STRING,
	RF_INT,		/* Go ParseInt, base 10 */
	RF_FLOAT,
	RF_BOOL,	/* Go ParseBool; a bare flag is true */
	RF_DURATION,	/* Go ParseDuration; written as a duration string */
	RF_LIST,	/* []string: each value adds one element */
	RF_INT_LIST,	/* []int64: each value adds one element */
	RF_CSV,		/* StringOrArray: "a, b" replaces the list with a, b */
	RF_MAP,		/* map[string]string: each "key:value" adds one */
	RF_MAP_BOOL,	/* map[string]bool: "key:true", "key" alone is true */
	RF_MAP_INT,	/* map[string]int */
	RF_MAP_LIST,	/* map[string][]string: "key:value" sets key = [value] */
	RF_JSON,	/* a JSON array of objects (kubernetes host_aliases) */
};

enum runner_flag_cmd {
	RF_REGISTER = 1 << 0,
	RF_RUN_SINGLE = 1 << 1,
};

struct runner_flag {
	const char *flag;	/* "docker-image": --docker-image */
	const char *alias;	/* a second long name ("name"), or NULL */
	char short_opt;		/* 'u' for -u, or 0 */
	const char *env;	/* "DOCKER_IMAGE", or NULL */
	const char *toml;	/* "docker.image" below [[runners]]; NULL:
				   an option of the command itself */
	const char *field;	/* such an option: gitlab-runner's field name */
	enum runner_flag_kind kind;
	const char *group;	/* the namespaces, "cache-s3"; "" for none */
	unsigned cmds;		/* enum runner_flag_cmd */
};

extern const struct runner_flag runner_flags[];
extern const size_t runner_flags_nr;

/*
 * Called for each of the command's own options (toml == NULL) that is
 * given: value is the text ("true" for a bare boolean flag), from names
 * where it came from ("--tag-list", "$RUNNER_TAG_LIST") for messages.
 * Returns 0, or -1 with one sentence in err.
 */
typedef int (*runner_flag_option_fn)(void *ctx, const struct runner_flag *f,
				     const char *value, const char *from,
				     struct buf *err);

/* A command's flags: the table's rows for cmd, plus crunner's own. */
struct runner_flags_cmd {
	unsigned cmd;			/* enum runner_flag_cmd */
	const struct runner_flag *extra;	/* options gitlab-runner lacks */
	size_t nr_extra;
	runner_flag_option_fn fn;	/* for rows without a TOML path */
	void *ctx;
};

/*
 * Reads the variables, then argv[1..argc-1] (argv[0] is the verb) into
 * runner (a TOML table the caller owns) and c->fn.  Returns 0, or -1 with
 * one sentence in err (an unknown flag, a value of the wrong kind, a stray
 * argument).
 */
int runner_flags_parse(const struct runner_flags_cmd *c, int argc,
		       char **argv, struct toml_value *runner,
		       struct buf *err);

/* Sets f's key in runner from text, as the flag would; 0 or -1 and err. */
int runner_flags_set(struct toml_value *runner, const struct runner_flag *f,
		     const char *value, const char *from, struct buf *err);

/* The row named name (flag, alias or short option) for cmd, or NULL. */
const struct runner_flag *runner_flags_find(unsigned cmd, const char *name);

/* Whether crunner acts on the row's value (else it is only kept). */
bool runner_flag_has_effect(const struct runner_flag *f);

/*
 * The rows of cmd for `--help`, grouped by namespace: each flag with its
 * aliases, its variable and the config.toml key it sets.
 */
void runner_flags_help(FILE *out, unsigned cmd);

#endif
