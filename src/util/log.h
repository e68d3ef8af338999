/*
 * The runner's own log (never job output, never a full token).
 *
 * One macro per level; each passes the call site.  The _r variants append
 * ": <cr_strerror(r)>".  The level is checked before anything is formatted.
 * Lines go to stderr in one of gitlab-runner's three formats (its log
 * package, --log-format / LOG_FORMAT / config.toml's log_format):
 *   runner  crunner's own line ("2026-11-25T02:32:50Z info    message");
 *   text    logrus's TextFormatter: time="<RFC 3339, ns>" level=info
 *           msg="message";
 *   json    logrus's JSONFormatter: {"level":"info","msg":"message",
 *           "time":"<RFC 3339, ns>"}, one object per line.
 */
#ifndef CR_LOG_H
#define CR_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_FATAL,
};

enum log_format {
	LOG_FORMAT_RUNNER,
	LOG_FORMAT_JSON,
	LOG_FORMAT_TEXT,	/* logrus's key=value text */
};

/*
 * The process-wide log settings, set once by main() from the command line
 * and config.toml; this is process configuration, not job state.
 */
void log_setup(enum log_level level, enum log_format format);
enum log_level log_current_level(void);
enum log_format log_current_format(void);
/* "debug", "info", "warn"/"warning", "error", "fatal", "panic"; -1 if none. */
int log_level_parse(const char *name);
/* "text", "runner", "json"; -1 if none. */
int log_format_parse(const char *name);

/*
 * Calls fn for every line written at LOG_LEVEL_WARN or above (metrics count
 * them as gitlab_runner_errors_total).  One observer per process; fn NULL
 * removes it.
 */
void log_observe(void (*fn)(void *ctx, enum log_level level), void *ctx);

void log_write(enum log_level level, const char *file, int line,
	       const char *func, int err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define log_at_(lvl, err, ...) \
	do { \
		if ((lvl) >= log_current_level()) \
			log_write((lvl), __FILE__, __LINE__, __func__, (err), \
				  __VA_ARGS__); \
	} while (0)

#define log_debug(...) log_at_(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_at_(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_warn(...) log_at_(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_error(...) log_at_(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warn_r(r, ...) log_at_(LOG_LEVEL_WARN, (r), __VA_ARGS__)
#define log_error_r(r, ...) log_at_(LOG_LEVEL_ERROR, (r), __VA_ARGS__)

/*
 * Lines held back instead of written: work off the loop thread (offload.h)
 * must not write them itself (the observer counts on the loop thread), so
 * it captures what it logs and the loop writes it afterwards.
 *
 *   struct log_capture cap = LOG_CAPTURE_INIT;
 *   log_capture_begin(&cap);   on the worker thread: its log_*() calls
 *   ...                        land in cap, other threads' do not
 *   log_capture_end();
 *   log_capture_replay(&cap);  on the loop thread: written as they came
 *   log_capture_release(&cap);
 */
struct log_captured {
	enum log_level level;
	const char *file, *func;	/* string literals of the call site */
	int line;
	char *msg;
};

struct log_capture {
	struct log_captured *v;
	size_t nr, alloc;
};

#define LOG_CAPTURE_INIT { NULL, 0, 0 }

void log_capture_begin(struct log_capture *cap);
void log_capture_end(void);
void log_capture_replay(const struct log_capture *cap);
void log_capture_release(struct log_capture *cap);

#endif
