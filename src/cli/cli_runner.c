/*
 * What register, verify, unregister and reset-token share: token kinds,
 * the times GitLab sends, storing a new token, reaching a runner's GitLab,
 * messages about failed calls, the system ID and terminal prompts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/timeparse.h"
#include "config/config.h"
#include "config/system_id.h"
#include "executor/executor.h"
#include "gitlab/api.h"
#include "gitlab/runner_info.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

const char *cli_config_path(const struct cli_globals *g)
{
	return g->config_path ? g->config_path : cli_default_config_path();
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;

	/* --log-format json: every line on stderr is a JSON object. */
	if (log_current_format() != LOG_FORMAT_RUNNER) {
		struct buf msg = BUF_INIT;

		va_start(ap, fmt);
		(void)buf_vaddf(&msg, fmt, ap);
		va_end(ap);
		log_warn("%s", msg.data);
		buf_release(&msg);
		return;
	}
	fputs("crunner: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_token_is_created(const char *token)
{
	return token && !strncmp(token, "glrt-", 5);
}

int cli_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return CR_ERR_INVALID;
}

int cli_runner_set_token(struct runner_config *rc, const char *token,
			 const char *expires_at, time_t now)
{
	int r;

	if (rc->token != token) {
		free_secret(rc->token);
		rc->token = xstrdup(token);
	}
	rc->token_obtained_at = now;
	rc->token_expires_at = 0;	/* absent: the token never expires */
	if (!expires_at || !*expires_at)
		return 0;
	if ((r = time_parse_rfc3339(expires_at, &rc->token_expires_at)) != 0)
		rc->token_expires_at = 0;
	return r;
}

void cli_runner_client_options(struct gl_client_options *co,
			       const struct runner_config *rc,
			       long connection_max_age_s)
{
	memset(co, 0, sizeof(*co));
	co->url = rc->url;
	runner_http_options(&co->http, rc, connection_max_age_s);
}

/* Replaces every copy of secret in b by "[MASKED]". */
static void mask_secret(struct buf *b, const char *secret)
{
	struct buf out = BUF_INIT;
	size_t n = secret ? strlen(secret) : 0;
	const char *p, *hit;

	if (!n || !b->len || !strstr(b->data, secret))
		return;
	for (p = b->data; (hit = strstr(p, secret)) != NULL; p = hit + n) {
		(void)buf_add(&out, p, (size_t)(hit - p));
		(void)buf_addstr(&out, "[MASKED]");
	}
	(void)buf_addstr(&out, p);
	buf_release_secret(b);
	*b = out;
}

void cli_runner_describe(struct buf *out, const struct gl_runner_reply *r,
			 const char *token)
{
	struct buf part = BUF_INIT;
	size_t i;

	if (r->message.len)
		(void)buf_add(&part, r->message.data, r->message.len);
	else if (r->status)
		(void)buf_addf(&part, "HTTP %ld", r->status);
	else
		(void)buf_addstr(&part, gl_result_name(r->result));
	/* One line: a server's text may hold newlines. */
	for (i = 0; i < part.len; i++)
		if (part.data[i] == '\n' || part.data[i] == '\r')
			part.data[i] = ' ';
	mask_secret(&part, token);
	(void)buf_add(out, part.data, part.len);
	buf_release(&part);
}

void cli_system_id(const char *config_path, char *out, size_t size)
{
	char id[SYSTEM_ID_SIZE];
	struct buf err = BUF_INIT;

	if (fs_make_parent_dirs(config_path, 0700, &err) != 0 ||
	    system_id_load(config_path, id, &err) != 0) {
		cli_warning("%s; using a temporary system ID", err.data);
		system_id_generate(id);
	}
	snprintf(out, size, "%s", id);
	buf_release(&err);
}

int cli_prompt(FILE *in, FILE *out, const char *question,
	       const char *shown_default, char **answer)
{
	struct buf line = BUF_INIT;
	size_t start, end;
	int c, r = 0;

	fprintf(out, "%s\n", question);
	if (shown_default && *shown_default)
		fprintf(out, "[%s]: ", shown_default);
	fflush(out);
	while ((c = fgetc(in)) != EOF && c != '\n') {
		if (line.len >= CLI_PROMPT_MAX) {
			r = CR_ERR_TOO_LARGE;
			continue;	/* read the rest of the line away */
		}
		(void)buf_addch(&line, (char)c);
	}
	if (c == EOF && (ferror(in) || !line.len))
		r = r ? r : CR_ERR_IO;
	if (r) {
		buf_release_secret(&line);
		return r;
	}
	for (start = 0; start < line.len && isspace((unsigned char)line.data[start]);
	     start++)
		;
	for (end = line.len; end > start && isspace((unsigned char)line.data[end - 1]);
	     end--)
		;
	*answer = xstrndup(line.data + start, end - start);
	buf_release_secret(&line);
	return 0;
}

bool cli_runner_check_executor(const struct runner_config *rc)
{
	char short_token[RUNNER_SHORT_TOKEN_SIZE];

	if (rc->executor && executor_find(rc->executor))
		return true;
	cli_warning("runner %s (%s): executor \"%s\" is not available in crunner: it does not ask GitLab for jobs",
		    runner_short_token(rc->token, short_token),
		    rc->name ? rc->name : "",
		    rc->executor ? rc->executor : "");
	return false;
}
