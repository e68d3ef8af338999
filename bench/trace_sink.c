/*
 * bench_trace_sink: the trace sink's own throughput, without processes or
 * HTTP: MiB of job output (80-byte lines in 64 KiB reads, as a pipe gives
 * them) through the default chain with 100 masked values, timestamps on
 * (FF_TIMESTAMPS, gitlab-runner's default) and off.  Prints MiB/s of input
 * and of CPU time.
 *
 *   bench_trace_sink [MiB]      (default 256)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job/trace.h"

static int count_bytes(void *ctx, const char *data, size_t len)
{
	(void)data;
	*(size_t *)ctx += len;
	return 0;
}

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(size_t mib, int timestamps)
{
	struct trace_options opts = { .timestamps = timestamps };
	size_t out = 0, total = mib << 20, done, i;
	struct trace_consumer consumer = { count_bytes, &out };
	struct trace_sink *sink = trace_sink_new(&opts, consumer);
	const size_t piece = 65536;
	char *block = malloc(piece), mask[32];
	double start;

	if (!block || !sink)
		return 1;
	for (i = 0; i < 100; i++) {
		snprintf(mask, sizeof(mask), "secret-value-%03zu-xyz", i);
		trace_sink_add_mask(sink, mask);
	}
	for (i = 0; i < piece; i++)
		block[i] = i % 80 == 79 ? '\n' : (char)('a' + i % 26);
	start = cpu_seconds();
	for (done = 0; done < total; done += piece)
		if (trace_sink_write(sink, TRACE_STREAM_JOB, TRACE_STDOUT,
				     block, piece))
			return 1;
	if (trace_sink_finish(sink))
		return 1;
	printf("timestamps %-3s  %zu MiB in %.3f CPU-s: %.0f MiB/s (log %.1f%% larger)\n",
	       timestamps ? "on" : "off", mib, cpu_seconds() - start,
	       (double)mib / (cpu_seconds() - start),
	       100.0 * ((double)out - (double)total) / (double)total);
	trace_sink_free(sink);
	free(block);
	return 0;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;

	return run(mib, 1) || run(mib, 0);
}
