#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/json_escape.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Process configuration: written once at start-up, read everywhere. */
static enum log_level current_level = LOG_LEVEL_INFO;
static enum log_format current_format = LOG_FORMAT_RUNNER;
static void (*observer)(void *ctx, enum log_level level);
static void *observer_ctx;
/* Per thread, not shared: where this thread's lines go instead (log.h). */
static __thread struct log_capture *capture;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARN] = "warning",
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_FATAL] = "fatal",
};

void log_setup(enum log_level level, enum log_format format)
{
	current_level = level;
	current_format = format;
}

enum log_level log_current_level(void)
{
	return current_level;
}

enum log_format log_current_format(void)
{
	return current_format;
}

void log_observe(void (*fn)(void *ctx, enum log_level level), void *ctx)
{
	observer = fn;
	observer_ctx = ctx;
}

int log_level_parse(const char *name)
{
	if (!strcasecmp(name, "debug") || !strcasecmp(name, "trace"))
		return LOG_LEVEL_DEBUG;
	if (!strcasecmp(name, "info"))
		return LOG_LEVEL_INFO;
	if (!strcasecmp(name, "warn") || !strcasecmp(name, "warning"))
		return LOG_LEVEL_WARN;
	if (!strcasecmp(name, "error"))
		return LOG_LEVEL_ERROR;
	if (!strcasecmp(name, "fatal") || !strcasecmp(name, "panic"))
		return LOG_LEVEL_FATAL;
	return -1;
}

int log_format_parse(const char *name)
{
	if (!strcmp(name, "runner"))
		return LOG_FORMAT_RUNNER;
	if (!strcmp(name, "text"))
		return LOG_FORMAT_TEXT;
	if (!strcmp(name, "json"))
		return LOG_FORMAT_JSON;
	return -1;
}

/* Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
static void add_nano_stamp(struct buf *out)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], frac[16];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	(void)buf_addstr(out, stamp);
	if (ts.tv_nsec) {
		snprintf(frac, sizeof(frac), "%09ld", ts.tv_nsec);
		for (n = 9; n > 0 && frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
		(void)buf_addf(out, ".%s", frac);
	}
	(void)buf_addch(out, 'Z');
}

/*
 * A value as logrus's TextFormatter writes it: bare when it is only
 * letters, digits and -._/@^+, else quoted as Go's %q does (here: JSON
 * escapes, which agree for what a log line holds).
 */
static void add_text_value(struct buf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr("-._/@^+", c)))
			break;
	}
	if (len && i == len) {
		(void)buf_add(out, s, len);
		return;
	}
	json_escape_append(out, s, len);
}

static void keep(struct log_capture *cap, enum log_level level,
		 const char *file, int line, const char *func, struct buf *msg)
{
	struct log_captured *c;

	if (cap->nr == cap->alloc) {
		cap->alloc = cap->alloc ? 2 * cap->alloc : 4;
		cap->v = xreallocarray(cap->v, cap->alloc, sizeof(*cap->v));
	}
	c = &cap->v[cap->nr++];
	c->level = level;
	c->file = file;
	c->line = line;
	c->func = func;
	c->msg = buf_detach(msg, NULL);
}

void log_capture_begin(struct log_capture *cap)
{
	capture = cap;
}

void log_capture_end(void)
{
	capture = NULL;
}

void log_capture_replay(const struct log_capture *cap)
{
	size_t i;

	for (i = 0; i < cap->nr; i++)
		log_write(cap->v[i].level, cap->v[i].file, cap->v[i].line,
			  cap->v[i].func, 0, "%s", cap->v[i].msg);
}

void log_capture_release(struct log_capture *cap)
{
	size_t i;

	for (i = 0; i < cap->nr; i++)
		free(cap->v[i].msg);
	free(cap->v);
	cap->v = NULL;
	cap->nr = cap->alloc = 0;
}

void log_write(enum log_level level, const char *file, int line,
	       const char *func, int err, const char *fmt, ...)
{
	struct buf msg = BUF_INIT, out = BUF_INIT;
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	if (err)
		(void)buf_addf(&msg, ": %s", cr_strerror(err));
	if (capture) {
		keep(capture, level, file, line, func, &msg);
		return;
	}
	if (observer && level >= LOG_LEVEL_WARN)
		observer(observer_ctx, level);

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (current_format == LOG_FORMAT_JSON) {
		/* logrus's keys, in its (sorted) order. */
		(void)buf_addf(&out, "{\"level\":\"%s\",\"msg\":",
			       level_names[level]);
		json_escape_append(&out, msg.data, msg.len);
		(void)buf_addstr(&out, ",\"time\":\"");
		add_nano_stamp(&out);
		(void)buf_addch(&out, '"');
		if (level == LOG_LEVEL_DEBUG)
			(void)buf_addf(&out, ",\"caller\":\"%s:%d %s\"", file,
				       line, func);
		(void)buf_addstr(&out, "}\n");
	} else if (current_format == LOG_FORMAT_TEXT) {
		(void)buf_addstr(&out, "time=\"");
		add_nano_stamp(&out);
		(void)buf_addf(&out, "\" level=%s msg=", level_names[level]);
		add_text_value(&out, msg.data, msg.len);
		if (level == LOG_LEVEL_DEBUG) {
			struct buf caller = BUF_INIT;

			(void)buf_addf(&caller, "%s:%d %s", file, line, func);
			(void)buf_addstr(&out, " caller=");
			add_text_value(&out, caller.data, caller.len);
			buf_release(&caller);
		}
		(void)buf_addch(&out, '\n');
	} else {
		(void)buf_addf(&out, "%s %-7s %s", stamp, level_names[level],
			       msg.data);
		if (level == LOG_LEVEL_DEBUG)
			(void)buf_addf(&out, "  (%s:%d %s)", file, line, func);
		(void)buf_addch(&out, '\n');
	}
	/* One write per line so concurrent writers do not interleave. */
	fwrite(out.data, 1, out.len, stderr);
	fflush(stderr);
	buf_release(&msg);
	buf_release(&out);
}
