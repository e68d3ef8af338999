/*
 * Stage scripts for bash and POSIX sh, shaped like gitlab-runner's
 * (shells/bash.go, shells/abstract.go):
 *
 *   #!/usr/bin/env bash
 *   trap 'exit 1' TERM                  (no script dump when cancelled)
 *   set -o xtrace                       (SCRIPT_TRACE only)
 *   set -o pipefail; set -o errexit     (sh: pipefail only if supported)
 *   set +o noclobber
 *   (trap 'exit 1' TERM; eval '<body>') < /dev/null
 *                                       (a subshell with an empty stdin;
 *                                        SCRIPT_LEGACY_EVAL: : | eval '<body>')
 *   exit 0
 *
 * and the body, for a user step:
 *
 *   export KEY='value'                  every variable, safely quoted
 *   export CI_JOB_STATUS=failed         (after_script only)
 *   cd '/builds/group/project'          + exit-code check
 *   echo $'\e[32;1mRunning after script...\e[0;m'    (optional notice)
 *   echo $'\e[32;1m$ make\e[0;m'        each command echoed in bold green,
 *   make                                then run,
 *   _cr_status=$?; if ...; then exit "$_cr_status"; fi   (SCRIPT_EXIT_CODE_CHECK)
 *
 * As gitlab-runner (shells/bash.go CheckForErrors), a user command's exit
 * status is checked after it only with FF_ENABLE_BASH_EXIT_CODE_CHECK
 * (SCRIPT_EXIT_CODE_CHECK); otherwise errexit alone stops the script, so a
 * status that errexit ignores (a failing command inside `a && b`, `if`,
 * `!`, or after `set +e`) does not fail the job.  The engine's own commands
 * (cd, helper calls) are always checked.  A multi-line command is echoed
 * as its first line followed by " # collapsed multi-line command".
 *
 * Quoting is safe for any bytes (a C string cannot hold NUL, and neither
 * can a shell word): plain words stay as they are, anything else is single
 * quoted, and bash uses $'...' with escapes when the text holds control
 * characters so that traces stay readable.
 *
 * Every function appends to a struct buf and returns 0, or
 * CR_ERR_TOO_LARGE when the buffer's limit is reached (the buffer may then
 * hold part of the output).
 */
#ifndef CR_SCRIPT_H
#define CR_SCRIPT_H

#include <stddef.h>

struct buf;
struct strvec;

enum script_shell {
	SCRIPT_SHELL_BASH,
	SCRIPT_SHELL_SH,	/* POSIX sh (dash, busybox ash) */
};

enum script_flags {
	SCRIPT_TRACE = 1 << 0,	/* CI_DEBUG_TRACE: set -o xtrace */
	/* FF_ENABLE_BASH_EXIT_CODE_CHECK: each user command's status checked */
	SCRIPT_EXIT_CODE_CHECK = 1 << 1,
	/* FF_USE_LEGACY_BASH_EVAL: ": | eval" instead of the subshell */
	SCRIPT_LEGACY_EVAL = 1 << 2,
	/*
	 * FF_SCRIPT_SECTIONS (with the job's features.trace_sections): a
	 * multi-line command is announced by a collapsed trace section whose
	 * header is the whole command, not by its first line (see
	 * script_command_section()).
	 */
	SCRIPT_SECTIONS = 1 << 3,
	/*
	 * FF_POSIXLY_CORRECT_ESCAPES: in a bash script_generate() script a
	 * word that needs quoting is double quoted with \ before ` " \ $
	 * (POSIX), never $'...'.  sh scripts, and the stage scripts the
	 * engine composes itself, keep their quoting.
	 */
	SCRIPT_POSIX_ESCAPES = 1 << 4,
};

/* One exported variable.  Both strings are borrowed. */
struct script_var {
	const char *key;
	const char *value;	/* NULL is taken as "" */
};

/*
 * What one stage script does.  Everything is borrowed for the duration of
 * script_generate(); NULL and 0 fields are skipped.
 */
struct script_spec {
	/*
	 * Exported in order (the engine passes one entry per key, file
	 * variables already pointing at their file).  A key that is not a
	 * shell name ([A-Za-z_][A-Za-z0-9_]*) cannot be exported by a shell
	 * and is skipped: the caller may warn about it.
	 */
	const struct script_var *env;
	size_t nr_env;
	/* Exported as CI_JOB_STATUS after env: the state so far, for after_script. */
	const char *job_status;
	/* The project directory; the script fails if it cannot cd there. */
	const char *workdir;
	/* A bold green line printed before the commands. */
	const char *notice;
	/*
	 * The commands: pre (config pre_build_script), then commands (the
	 * step's script lines), then post (post_build_script).  Each entry is
	 * one command, possibly multi-line; surrounding white space is trimmed
	 * and an empty entry prints an empty line.
	 */
	const struct strvec *pre;
	const struct strvec *commands;
	const struct strvec *post;
	/*
	 * The section name prefix of the commands (SCRIPT_SECTIONS):
	 * gitlab-runner's "script_step" when NULL, "after_script_step" for
	 * after_script.  pre and post are "pre_build_script" and
	 * "post_build_script".
	 */
	const char *section_prefix;
	unsigned flags;		/* enum script_flags */
};

/*
 * Appends the whole script for spec to out.  Returns 0, or a negative
 * CR_ERR_* with one sentence in err.
 */
int script_generate(const struct script_spec *spec, enum script_shell shell,
		    struct buf *out, struct buf *err);

/* "bash" or "sh" (the config's shell names); CR_ERR_UNSUPPORTED otherwise. */
int script_shell_parse(const char *name, enum script_shell *shell);
const char *script_shell_name(enum script_shell shell);

/*
 * Building blocks, for stage scripts the engine composes itself
 * (get_sources, cache, artifacts).  They append to a body that
 * script_wrap() then turns into a whole script.
 */

/* Appends s[0..len) as one shell word. */
int script_quote(struct buf *out, enum script_shell shell, const char *s,
		 size_t len);
/* The same for a NUL-terminated string. */
int script_quote_str(struct buf *out, enum script_shell shell, const char *s);

/* Message kinds, coloured as gitlab-runner's script messages (spec 7.4). */
enum script_echo_kind {
	SCRIPT_ECHO_PLAIN,	/* reset, then the text */
	SCRIPT_ECHO_NOTICE,	/* bold green */
	SCRIPT_ECHO_WARNING,	/* yellow */
	SCRIPT_ECHO_ERROR,	/* bold red */
};

/* A line that prints text (which may hold any bytes but NUL). */
int script_echo(struct buf *body, enum script_shell shell,
		enum script_echo_kind kind, const char *text);

/* "export KEY=value"; CR_ERR_INVALID (nothing appended) for a bad name. */
int script_export(struct buf *body, enum script_shell shell, const char *key,
		  const char *value);

/*
 * A user command: echoed as "$ cmd", run, then its exit code checked when
 * flags (enum script_flags) has SCRIPT_EXIT_CODE_CHECK.
 */
int script_command(struct buf *body, enum script_shell shell, unsigned flags,
		   const char *command);

/*
 * The same, for the index'th command of a list gitlab-runner names prefix
 * ("script_step", "pre_clone_script", ...).  With SCRIPT_SECTIONS a
 * multi-line command is announced as gitlab-runner's writeMultilineCommand
 * does: an empty, collapsed section "section_<prefix>_<index>" whose
 * header is "$ " and the whole command in bold green,
 *
 *   section_start:T:section_script_step_0[hide_duration=true,collapsed=true]\r\e[0K\e[32;1m$ cmd\e[0;m
 *   section_end:T:section_script_step_0\r\e[0K
 *
 * (T the time in seconds), then the command runs.  A one-line command is
 * echoed as always.
 */
int script_command_section(struct buf *body, enum script_shell shell,
			   unsigned flags, const char *command,
			   const char *prefix, size_t index);

/* Runs argv[0] with the arguments, each quoted, then checks its exit code. */
int script_run(struct buf *body, enum script_shell shell,
	       const char *const *argv);

/* The line that stops the script when the previous command failed. */
int script_check(struct buf *body);

/* Appends the whole script (prologue, eval of body, exit 0) to out. */
int script_wrap(struct buf *out, enum script_shell shell, unsigned flags,
		const char *body, size_t len);

#endif
