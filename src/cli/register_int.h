/*
 * crunner register's state and how it learns values (register_options.c):
 * gitlab-runner's flags and environment variables, then questions on a
 * terminal.  register.c talks to GitLab and writes config.toml.
 */
#ifndef CR_REGISTER_INT_H
#define CR_REGISTER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "config/system_id.h"

struct buf;
struct cli_globals;
struct toml_value;

struct reg {
	struct runner_config rc;	/* the entry being built */
	/*
	 * What the flags, variables and --template-config said, as a
	 * [[runners]] table: rc is read from it; the keys rc has no field
	 * for (kubernetes, ...) are written to config.toml from it.
	 */
	struct toml_value *tree;
	char *template_path;		/* --template-config */
	char *registration_token;	/* secret */
	char *tag_list;
	char *access_level;
	char *maintenance_note;
	long maximum_timeout;
	bool non_interactive, leave_runner;
	bool run_untagged, locked, paused;

	bool interactive;		/* questions go to the terminal */
	bool token_from_registration_flag;
	bool registered;		/* GitLab knows it: undo on failure */
	struct config cfg;
	char system_id[SYSTEM_ID_SIZE];
};

/* The register verb's table entry, for usage errors. */
const struct cli_verb *register_verb(void);

/*
 * Fills r->tree from gitlab-runner's environment variables, then the
 * command line (which wins), then the template (only where neither said
 * anything), and reads it into r->rc.  Returns 0 or an exit code (a usage
 * error, said).
 */
int register_parse_args(struct reg *r, int argc, char **argv,
			struct cli_globals *g);

/*
 * gitlab-runner's --template-config: the template's one [[runners]] entry
 * (its token dropped) fills each key of tree that is missing or holds a
 * zero value (mergo.Merge).  Returns 0, or -1 with err set.
 */
int register_merge_template(struct toml_value *tree, const char *path,
			    struct buf *err);

enum { ASK_OPTIONAL = 1 << 0, ASK_SECRET = 1 << 1 };

/*
 * gitlab-runner's ask(): the string field of r at offset off keeps the
 * value given, or on a terminal takes the answer to question (the value
 * given is the default; a secret shows only its short form).  Without a
 * terminal a missing value that is not ASK_OPTIONAL is a usage error
 * naming the flag and its variable.  Returns 0 or an exit code.
 */
int register_ask(struct reg *r, size_t off, const char *question,
		 unsigned flags);
/* register_ask() for a field of struct reg by name: REGISTER_ASK(r, rc.url, ...). */
#define REGISTER_ASK(r, field, question, flags) \
	register_ask((r), offsetof(struct reg, field), (question), (flags))

#endif
