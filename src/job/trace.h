/*
 * The trace sink: the single path of a job's output.
 *
 * Bytes written to the sink go through a chain of small stages, in this
 * order (as gitlab-runner's log pipeline, spec section 7.1 and 4.4):
 *   1. masking of masked variable values, token prefixes and URL secret
 *      parameters ("[MASKED]"), across write boundaries;
 *   2. the timestamp prefix (FF_TIMESTAMPS), when enabled;
 *   3. UTF-8 repair (invalid sequences become U+FFFD);
 *   4. the output limit (output_limit KiB, then one notice, then nothing);
 *   5. the running CRC-32 and byte count, and the consumer.
 *
 * The caller does:
 *  1. trace_sink_new(&opts, consumer) with a consumer that stores or prints
 *     the final bytes;
 *  2. trace_sink_add_mask() for every masked value (before any output);
 *  3. trace_sink_write() for job output, the trace_sink_*line helpers and
 *     the section helpers for the runner's own lines;
 *  4. trace_sink_finish() once, which flushes held-back bytes;
 *  5. trace_sink_checksum()/trace_sink_bytesize() for the final update;
 *  6. trace_sink_free().
 *
 * Memory stays bounded whatever the log size: only a mask's worth of bytes
 * is held back, everything else goes straight to the consumer.
 */
#ifndef CR_TRACE_H
#define CR_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct trace_sink;

enum trace_stream {
	TRACE_STREAM_RUNNER = 0x00,	/* the runner's own messages */
	TRACE_STREAM_JOB = 0x01,	/* job script output */
};

enum trace_fd {
	TRACE_STDOUT,
	TRACE_STDERR,
};

/* Receives the final bytes, exactly as counted in bytesize/checksum. */
struct trace_consumer {
	int (*write)(void *ctx, const char *data, size_t len);
	void *ctx;
};

struct trace_options {
	size_t output_limit;	/* bytes; 0 = no limit */
	int timestamps;		/* FF_TIMESTAMPS */
	int trace_sections;	/* features.trace_sections */
	/* Extra token prefixes to mask (features.token_mask_prefixes). */
	const char *const *token_prefixes;
	size_t nr_token_prefixes;
	/*
	 * FF_MASK_ALL_DEFAULT_TOKENS=false: of the built-in token prefixes
	 * only glpat- is masked.  0 (the default) masks them all.
	 */
	int no_default_token_masks;
	/*
	 * The clock for timestamp prefixes and section markers; NULL means
	 * clock_gettime(CLOCK_REALTIME).  Tests set a fixed one.
	 */
	void (*clock)(struct timespec *now);
};

struct trace_sink *trace_sink_new(const struct trace_options *opts,
				  struct trace_consumer consumer);
void trace_sink_free(struct trace_sink *sink);

/* Masks every occurrence of value (trimmed; empty values are ignored). */
void trace_sink_add_mask(struct trace_sink *sink, const char *value);

/* Job or runner output; returns a consumer error, if any. */
int trace_sink_write(struct trace_sink *sink, enum trace_stream stream,
		     enum trace_fd fd, const char *data, size_t len);

/* Runner lines as gitlab-runner prints them (spec section 7.4). */
void trace_sink_line(struct trace_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void trace_sink_info(struct trace_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void trace_sink_warning(struct trace_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void trace_sink_error(struct trace_sink *sink, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Section markers (spec section 7.3); the markers are no-ops without
 * trace_sections.  section_start's header line (ESC[36;1m header, as a
 * plain runner line; header may be NULL for none) is written either way,
 * as gitlab-runner prints a stage's description with or without sections.
 */
void trace_sink_section_start(struct trace_sink *sink, const char *name,
			      const char *header);
void trace_sink_section_end(struct trace_sink *sink, const char *name);

/* Flushes held-back bytes; later writes are dropped. */
int trace_sink_finish(struct trace_sink *sink);

/* "crc32:" + 8 lowercase hex digits over every byte given to the consumer. */
void trace_sink_checksum(const struct trace_sink *sink, char out[16]);
size_t trace_sink_bytesize(const struct trace_sink *sink);

#endif
