/*
 * bench_trace_sink: the trace sink's own throughput, without processes or
 * HTTP: MiB of job output in 64 KiB reads, as a pipe gives them, through
 * the default chain with 100 masked values, timestamps on (FF_TIMESTAMPS,
 * gitlab-runner's default) and off.  Two logs: 80-byte lines of letters,
 * and the build-log lines of bench.py's trace bench (paths, flags, a URL
 * with '?' and '&', the masks' first bytes all over it).  Prints MiB of
 * input per CPU-second.
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

/* bench.py's trace line: a build log's (see bench_trace there). */
static void fill_build_log(char *block, size_t size)
{
	size_t off = 0, i = 0;
	int n;

	while (off < size) {
		char line[256];

		n = snprintf(line, sizeof(line),
			     "[%3zu%%] Building C object src/job/stage_%05zu.c.o: gcc -O2 -g -Wall -c src/job/stage_%05zu.c (see https://docs.example.com/build?id=%zu&step=compile)\n",
			     i % 100, i, i, i);
		if (n <= 0)
			return;
		if ((size_t)n > size - off)
			n = (int)(size - off);
		memcpy(block + off, line, (size_t)n);
		off += (size_t)n;
		i++;
	}
}

static int run(size_t mib, int timestamps, int build_log)
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
		snprintf(mask, sizeof(mask), build_log ? "s3cr3t-value-%03zu-xyz" :
			 "secret-value-%03zu-xyz", i);
		trace_sink_add_mask(sink, mask);
	}
	if (build_log)
		fill_build_log(block, piece);
	else
		for (i = 0; i < piece; i++)
			block[i] = i % 80 == 79 ? '\n' : (char)('a' + i % 26);
	start = cpu_seconds();
	for (done = 0; done < total; done += piece)
		if (trace_sink_write(sink, TRACE_STREAM_JOB, TRACE_STDOUT,
				     block, piece))
			return 1;
	if (trace_sink_finish(sink))
		return 1;
	printf("%-9s timestamps %-3s  %zu MiB in %.3f CPU-s: %.0f MiB/s (log %.1f%% larger)\n",
	       build_log ? "build-log" : "letters",
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

	return run(mib, 1, 1) || run(mib, 0, 1) || run(mib, 1, 0) ||
	       run(mib, 0, 0);
}
