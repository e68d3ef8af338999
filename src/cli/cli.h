/*
 * What every verb shares: the verb table entry, the global options and the
 * helpers for option parsing and messages on the terminal.
 */
#ifndef CR_CLI_H
#define CR_CLI_H

#include <stdio.h>

/* Global options, parsed by main() before the verb runs. */
struct cli_globals {
	const char *config_path;	/* --config/-c, CONFIG_FILE, default */
	int debug;
};

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_globals *g);
	const char *summary;	/* one line for `crunner --help` */
	const char *usage;	/* the full text `crunner VERB --help` prints */
};

/* The verb table, NULL-name terminated; defined in main.c. */
extern const struct cli_verb cli_verbs[];

/* Default config path as gitlab-runner's: root or user's home. */
const char *cli_default_config_path(void);

/* Prints "crunner: <message>" on stderr (the edge reports errors once). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the verb's usage hint after a bad option; returns CR_EXIT_USAGE. */
int cli_usage_error(const struct cli_verb *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const struct cli_verb *cli_find_verb(const char *name);

struct config;
/*
 * Loads the config file named by --config (or the default), printing its
 * warnings; on failure prints the one-line error and returns
 * CR_EXIT_CONFIG, else CR_EXIT_OK.  The caller releases cfg either way.
 */
int cli_load_config(const struct cli_globals *g, struct config *cfg);

#endif
