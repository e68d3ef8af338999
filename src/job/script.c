#include <string.h>

#include "job/script.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/banned.h"

#define ANSI_RESET "\033[0;m"
#define ANSI_BOLD_GREEN "\033[32;1m"
#define ANSI_YELLOW "\033[0;33m"
#define ANSI_BOLD_RED "\033[31;1m"

#define COLLAPSED " # collapsed multi-line command"

int script_shell_parse(const char *name, enum script_shell *shell)
{
	if (!strcmp(name, "bash")) {
		*shell = SCRIPT_SHELL_BASH;
		return 0;
	}
	if (!strcmp(name, "sh")) {
		*shell = SCRIPT_SHELL_SH;
		return 0;
	}
	return CR_ERR_UNSUPPORTED;
}

const char *script_shell_name(enum script_shell shell)
{
	return shell == SCRIPT_SHELL_SH ? "sh" : "bash";
}

/*
 * Bytes that mean nothing to either shell anywhere in a word.  '~' is not
 * here (tilde expansion after '=' and ':' in assignments), nor '^' (a pipe
 * in old Bourne shells).
 */
static int plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("_-./,:=+@%", c));
}

static int control_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* bash's $'...': backslash escapes, so control bytes stay visible. */
static int quote_ansi_c(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	int r = buf_addstr(out, "$'");

	for (i = 0; i < len && !r; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\\':
			r = buf_addstr(out, "\\\\");
			break;
		case '\'':
			r = buf_addstr(out, "\\'");
			break;
		case '\n':
			r = buf_addstr(out, "\\n");
			break;
		case '\t':
			r = buf_addstr(out, "\\t");
			break;
		case '\r':
			r = buf_addstr(out, "\\r");
			break;
		default:
			if (control_byte(c)) {
				/* At most two hex digits follow \x: no ambiguity. */
				char esc[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

				r = buf_add(out, esc, sizeof(esc));
			} else {
				r = buf_addch(out, (char)c);
			}
		}
	}
	return r ? r : buf_addch(out, '\'');
}

/* POSIX single quotes: everything literal; ' becomes '\''. */
static int quote_single(struct buf *out, const char *s, size_t len)
{
	const char *end = s + len;
	int r = buf_addch(out, '\'');

	while (!r && s < end) {
		const char *q = memchr(s, '\'', (size_t)(end - s));
		size_t n = q ? (size_t)(q - s) : (size_t)(end - s);

		r = buf_add(out, s, n);
		if (!r && q)
			r = buf_addstr(out, "'\\''");
		s += n + (q ? 1 : 0);
	}
	return r ? r : buf_addch(out, '\'');
}

int script_quote(struct buf *out, enum script_shell shell, const char *s,
		 size_t len)
{
	size_t i;
	int plain = len > 0, control = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!plain_byte(c))
			plain = 0;
		if (control_byte(c))
			control = 1;
	}
	if (plain)
		return buf_add(out, s, len);
	if (control && shell == SCRIPT_SHELL_BASH)
		return quote_ansi_c(out, s, len);
	return quote_single(out, s, len);
}

int script_quote_str(struct buf *out, enum script_shell shell, const char *s)
{
	return script_quote(out, shell, s, strlen(s));
}

/*
 * POSIX double quotes: only ` " \ $ keep a meaning there, each gets a
 * backslash (gitlab-runner's PosixShellEscape, which also leaves control
 * bytes as they are).
 */
static int quote_double(struct buf *out, const char *s, size_t len)
{
	size_t i;
	int r = buf_addch(out, '"');

	for (i = 0; i < len && !r; i++) {
		if (strchr("`\"\\$", s[i]) && s[i])
			r = buf_addch(out, '\\');
		if (!r)
			r = buf_addch(out, s[i]);
	}
	return r ? r : buf_addch(out, '"');
}

/*
 * A word for a script made with flags (enum script_flags):
 * SCRIPT_POSIX_ESCAPES double quotes for bash what needs quoting, as
 * gitlab-runner's bash writer with FF_POSIXLY_CORRECT_ESCAPES; sh's
 * single quotes are POSIX already.
 */
static int quote_word(struct buf *out, enum script_shell shell,
		      unsigned flags, const char *s, size_t len)
{
	size_t i;

	if (!(flags & SCRIPT_POSIX_ESCAPES) || shell != SCRIPT_SHELL_BASH)
		return script_quote(out, shell, s, len);
	for (i = 0; i < len && plain_byte((unsigned char)s[i]); i++)
		;
	if (len && i == len)
		return buf_add(out, s, len);
	return quote_double(out, s, len);
}

static int echo_flags(struct buf *body, enum script_shell shell,
		      unsigned flags, enum script_echo_kind kind,
		      const char *text)
{
	struct buf line = BUF_INIT;
	const char *color;
	int r;

	switch (kind) {
	case SCRIPT_ECHO_NOTICE:
		color = ANSI_BOLD_GREEN;
		break;
	case SCRIPT_ECHO_WARNING:
		color = ANSI_YELLOW;
		break;
	case SCRIPT_ECHO_ERROR:
		color = ANSI_BOLD_RED;
		break;
	default:
		color = ANSI_RESET;
	}
	buf_init(&line, body->max);
	if ((r = buf_addstr(&line, color)) != 0 ||
	    (r = buf_addstr(&line, text)) != 0 ||
	    (kind != SCRIPT_ECHO_PLAIN &&
	     (r = buf_addstr(&line, ANSI_RESET)) != 0))
		goto out;
	/*
	 * dash's echo interprets backslashes, so sh gets printf; bash's echo
	 * does not (without xpg_echo), and the text starts with ESC, so it
	 * can never be taken for an option.
	 */
	if ((r = buf_addstr(body, shell == SCRIPT_SHELL_SH ?
			    "printf '%s\\n' " : "echo ")) != 0 ||
	    (r = quote_word(body, shell, flags, line.data, line.len)) != 0 ||
	    (r = buf_addch(body, '\n')) != 0)
		goto out;
	r = 0;
out:
	buf_release(&line);
	return r;
}

int script_echo(struct buf *body, enum script_shell shell,
		enum script_echo_kind kind, const char *text)
{
	return echo_flags(body, shell, 0, kind, text);
}

static int shell_name_ok(const char *key)
{
	const char *p;

	if (!*key || (*key >= '0' && *key <= '9'))
		return 0;
	for (p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int export_flags(struct buf *body, enum script_shell shell,
			unsigned flags, const char *key, const char *value)
{
	int r;

	if (!shell_name_ok(key))
		return CR_ERR_INVALID;
	if ((r = buf_addstr(body, "export ")) != 0 ||
	    (r = buf_addstr(body, key)) != 0 ||
	    (r = buf_addch(body, '=')) != 0 ||
	    (r = quote_word(body, shell, flags, value ? value : "",
			    value ? strlen(value) : 0)) != 0)
		return r;
	return buf_addch(body, '\n');
}

int script_export(struct buf *body, enum script_shell shell, const char *key,
		  const char *value)
{
	return export_flags(body, shell, 0, key, value);
}

int script_check(struct buf *body)
{
	return buf_addstr(body, "_cr_status=$?; if [ \"$_cr_status\" -ne 0 ]; "
			  "then exit \"$_cr_status\"; fi\n");
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/*
 * "section_start:T:section_<prefix>_<index>[opts]\r\e[0K<header>" or the
 * section_end line, printed; T from awk's srand() (seconds since the
 * epoch, where date +%s is not POSIX), as gitlab-runner's bash writer.
 */
static int section_line(struct buf *body, enum script_shell shell,
			unsigned flags, const char *kind, const char *prefix, size_t index,
			const char *header, size_t header_len)
{
	struct buf rest = BUF_INIT;
	int r;

	buf_init(&rest, body->max);
	if ((r = buf_addf(&rest, ":section_%s_%zu%s\r\033[0K", prefix, index,
			  header ? "[hide_duration=true,collapsed=true]" :
			  "")) != 0 ||
	    (header && ((r = buf_addstr(&rest, ANSI_BOLD_GREEN "$ ")) != 0 ||
			(r = buf_add(&rest, header, header_len)) != 0 ||
			(r = buf_addstr(&rest, ANSI_RESET)) != 0)) ||
	    (r = buf_addf(body, "printf '%%s\\n' %s:\"$(awk "
			  "'BEGIN{srand(); print srand()}')\"", kind)) != 0 ||
	    (r = quote_word(body, shell, flags, rest.data, rest.len)) != 0 ||
	    (r = buf_addch(body, '\n')) != 0)
		goto out;
	r = 0;
out:
	buf_release(&rest);
	return r;
}

int script_command(struct buf *body, enum script_shell shell, unsigned flags,
		   const char *command)
{
	return script_command_section(body, shell, flags & ~SCRIPT_SECTIONS,
				      command, NULL, 0);
}

int script_command_section(struct buf *body, enum script_shell shell,
			   unsigned flags, const char *command,
			   const char *prefix, size_t index)
{
	const char *start = command, *end = command + strlen(command), *nl;
	struct buf echo = BUF_INIT;
	int r;

	while (start < end && is_space(*start))
		start++;
	while (end > start && is_space(end[-1]))
		end--;
	if (start == end) {
		if ((r = buf_addstr(body, "echo\n")) != 0)
			return r;
		return (flags & SCRIPT_EXIT_CODE_CHECK) ? script_check(body) : 0;
	}

	buf_init(&echo, body->max);
	nl = memchr(start, '\n', (size_t)(end - start));
	if (nl && (flags & SCRIPT_SECTIONS) && prefix) {
		if ((r = section_line(body, shell, flags, "section_start", prefix,
				      index, start,
				      (size_t)(end - start))) != 0 ||
		    (r = section_line(body, shell, flags, "section_end", prefix,
				      index, NULL, 0)) != 0)
			goto out;
	} else if ((r = buf_addstr(&echo, "$ ")) != 0 ||
	    (r = buf_add(&echo, start, (size_t)((nl ? nl : end) - start))) != 0 ||
	    (nl && (r = buf_addstr(&echo, COLLAPSED)) != 0) ||
	    (r = echo_flags(body, shell, flags, SCRIPT_ECHO_NOTICE,
			    echo.data)) != 0)
		goto out;
	if ((r = buf_add(body, start, (size_t)(end - start))) != 0 ||
	    (r = buf_addch(body, '\n')) != 0 ||
	    ((flags & SCRIPT_EXIT_CODE_CHECK) && (r = script_check(body)) != 0))
		goto out;
	r = 0;
out:
	buf_release(&echo);
	return r;
}

static int run_flags(struct buf *body, enum script_shell shell,
		     unsigned flags, const char *const *argv)
{
	size_t i;
	int r = 0;

	for (i = 0; argv[i] && !r; i++) {
		if (i)
			r = buf_addch(body, ' ');
		if (!r)
			r = quote_word(body, shell, flags, argv[i],
				       strlen(argv[i]));
	}
	if (!r)
		r = buf_addch(body, '\n');
	return r ? r : script_check(body);
}

int script_run(struct buf *body, enum script_shell shell,
	       const char *const *argv)
{
	return run_flags(body, shell, 0, argv);
}

int script_wrap(struct buf *out, enum script_shell shell, unsigned flags,
		const char *body, size_t len)
{
	int r;

	if ((r = buf_addf(out, "#!/usr/bin/env %s\n\n",
			  script_shell_name(shell))) != 0 ||
	    /*
	     * Cancelling sends TERM to the whole group: leave quietly rather
	     * than let bash print the script it was running.
	     */
	    (r = buf_addstr(out, "trap 'exit 1' TERM\n\n")) != 0 ||
	    ((flags & SCRIPT_TRACE) &&
	     (r = buf_addstr(out, "set -o xtrace\n")) != 0) ||
	    (r = buf_addstr(out, shell == SCRIPT_SHELL_SH ?
			    "if (set -o pipefail) 2>/dev/null; then "
			    "set -o pipefail; fi; set -o errexit\n" :
			    "set -o pipefail; set -o errexit\n")) != 0 ||
	    (r = buf_addstr(out, "set +o noclobber\n")) != 0)
		return r;
	/*
	 * The body is one quoted word, so no byte of it can end the script
	 * early.  As gitlab-runner 19.1+ (shells/bash.go Finish): a subshell
	 * with its own TERM trap (traps do not cross into it) and an empty
	 * stdin: one fork.  FF_USE_LEGACY_BASH_EVAL's ": | eval" pipeline
	 * forks twice (both sides of the pipe), and a cancelled job may then
	 * print the body (bash < 4.4 and >= 5.3, gitlab-runner issue 39005).
	 */
	if ((r = buf_addstr(out, (flags & SCRIPT_LEGACY_EVAL) ? ": | eval " :
			    "(trap 'exit 1' TERM; eval ")) != 0 ||
	    (r = quote_word(out, shell, flags, body, len)) != 0 ||
	    (!(flags & SCRIPT_LEGACY_EVAL) &&
	     (r = buf_addstr(out, ") < /dev/null")) != 0) ||
	    (r = buf_addstr(out, "\nexit 0\n")) != 0)
		return r;
	return 0;
}

static int add_commands(struct buf *body, enum script_shell shell,
			unsigned flags, const struct strvec *cmds,
			const char *prefix)
{
	size_t i;
	int r = 0;

	for (i = 0; cmds && i < cmds->nr && !r; i++)
		r = script_command_section(body, shell, flags, cmds->v[i],
					   prefix, i);
	return r;
}

int script_generate(const struct script_spec *spec, enum script_shell shell,
		    struct buf *out, struct buf *err)
{
	struct buf body = BUF_INIT;
	size_t i;
	int r;

	buf_init(&body, out->max);
	for (i = 0; i < spec->nr_env; i++) {
		r = export_flags(&body, shell, spec->flags, spec->env[i].key,
				 spec->env[i].value);
		if (r == CR_ERR_INVALID)
			continue;	/* not a shell name: see script.h */
		if (r)
			goto out;
	}
	if (spec->job_status &&
	    (r = export_flags(&body, shell, spec->flags, "CI_JOB_STATUS",
			      spec->job_status)) != 0)
		goto out;
	if (spec->workdir) {
		const char *cd[] = { "cd", spec->workdir, NULL };

		if ((r = run_flags(&body, shell, spec->flags, cd)) != 0)
			goto out;
	}
	if (spec->notice &&
	    (r = echo_flags(&body, shell, spec->flags, SCRIPT_ECHO_NOTICE,
			    spec->notice)) != 0)
		goto out;
	if ((r = add_commands(&body, shell, spec->flags, spec->pre,
			      "pre_build_script")) != 0 ||
	    (r = add_commands(&body, shell, spec->flags, spec->commands,
			      spec->section_prefix ? spec->section_prefix :
			      "script_step")) != 0 ||
	    (r = add_commands(&body, shell, spec->flags, spec->post,
			      "post_build_script")) != 0)
		goto out;
	r = script_wrap(out, shell, spec->flags, body.data, body.len);
out:
	if (r)
		buf_seterr(err, "cannot generate the %s script: %s",
			   script_shell_name(shell), cr_strerror(r));
	/* The body holds variable values, masked ones among them. */
	buf_release_secret(&body);
	return r;
}
