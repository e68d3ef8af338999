/*
 * What every verb shares: the verb table entry, the global options and the
 * helpers for option parsing and messages on the terminal.
 */
#ifndef CR_CLI_H
#define CR_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

/* Global options, parsed by main() before the verb runs. */
struct cli_globals {
	const char *config_path;	/* --config/-c, CONFIG_FILE, default */
	int debug;
	/* enum log_level / log_format given on the command line, else -1:
	 * config.toml's log_level and log_format apply only when unset. */
	int log_level;
	int log_format;
};

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv, struct cli_globals *g);
	const char *summary;	/* one line for `crunner --help` */
	const char *usage;	/* the full text `crunner VERB --help` prints */
	/* NULL, or prints more help after usage (generated flag lists). */
	void (*more_help)(FILE *out);
};

/* usage and more_help of verb on out: what `crunner VERB --help` prints. */
void cli_print_help(const struct cli_verb *verb, FILE *out);

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

/*
 * ---- Helpers shared by register, verify, unregister and reset-token
 * (cli_runner.c). ----
 */
struct buf;
struct runner_config;
struct gl_client_options;
struct gl_runner_reply;

/* The config file the verbs use: --config, else cli_default_config_path(). */
const char *cli_config_path(const struct cli_globals *g);

/* Prints "crunner: warning: <message>" on stderr. */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 for a token created in GitLab's UI or API ("glrt-", spec 1.1). */
int cli_token_is_created(const char *token);

/*
 * Go's strconv.ParseBool, as gitlab-runner reads --locked=false and
 * REGISTER_LOCKED: 1 t T TRUE true True, 0 f F FALSE false False.
 * Returns 0, or CR_ERR_INVALID with *out untouched.
 */
int cli_parse_bool(const char *s, bool *out);


/*
 * Stores a token GitLab handed out: rc->token (the old one is wiped),
 * token_obtained_at = now and token_expires_at from the API's text.
 * Returns CR_ERR_INVALID when expires_at cannot be read; the token is
 * stored anyway, with token_expires_at 0.
 */
int cli_runner_set_token(struct runner_config *rc, const char *token,
			 const char *expires_at, time_t now);

/*
 * Fills co to reach rc's GitLab: its URL, TLS files and connection age.
 * co borrows rc's strings.
 */
void cli_runner_client_options(struct gl_client_options *co,
			       const struct runner_config *rc,
			       long connection_max_age_s);

/*
 * Why a lifecycle call failed, as one line for a message: the HTTP status
 * and the server's text, or the transport error.  Any copy of token in it
 * is replaced by "[MASKED]".
 */
void cli_runner_describe(struct buf *out, const struct gl_runner_reply *r,
			 const char *token);

/*
 * Whether crunner has rc's executor.  When it has not (one gitlab-runner
 * has and crunner lacks, a typo, none), prints one warning naming the
 * runner and saying that it does not ask GitLab for jobs, and returns false.
 */
bool cli_runner_check_executor(const struct runner_config *rc);

/*
 * The system ID kept beside config_path (config/system_id.h); the
 * directory is created (0700) when missing.  When it cannot be stored, a
 * warning is printed and a temporary ID is used.
 */
void cli_system_id(const char *config_path, char *out, size_t size);

/*
 * Writes question (and " [shown_default]: " when there is one) to out, then
 * reads one line from in.  *answer gets the line without surrounding
 * white space (malloc'd, "" for an empty line).  Returns 0; CR_ERR_IO at
 * end of input or on a read error; CR_ERR_TOO_LARGE for a line over
 * CLI_PROMPT_MAX bytes.
 */
#define CLI_PROMPT_MAX 4096
int cli_prompt(FILE *in, FILE *out, const char *question,
	       const char *shown_default, char **answer);

#endif
