#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale/gp_handshake.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GP_MAX_FIELDS 7

static int parse_version(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 1000000)
		return -1;
	*out = (int)v;
	return 0;
}

/* Splits line on '|' into at most GP_MAX_FIELDS pieces; returns the count. */
static size_t split_fields(char *line, char **fields)
{
	size_t n = 0;
	char *p = line;

	while (n < GP_MAX_FIELDS) {
		char *bar = strchr(p, '|');

		fields[n++] = p;
		if (!bar)
			break;
		*bar = '\0';
		p = bar + 1;
	}
	return n;
}

int gp_handshake_parse(const char *line, struct gp_handshake *h,
		       struct buf *err)
{
	char *copy = xstrdup(line);
	char *fields[GP_MAX_FIELDS];
	size_t n, len = strlen(copy);
	int core, r = CR_ERR_PROTOCOL;

	memset(h, 0, sizeof(*h));
	while (len && (copy[len - 1] == '\n' || copy[len - 1] == '\r'))
		copy[--len] = '\0';
	n = split_fields(copy, fields);
	if (n < 4) {
		buf_seterr(err, "plugin handshake line has %zu fields, want at "
			   "least 4 (CORE|APP|NETWORK|ADDRESS|PROTOCOL): '%s'",
			   n, line);
		goto out;
	}
	if (parse_version(fields[0], &core) || core != GP_CORE_PROTOCOL_VERSION) {
		buf_seterr(err, "plugin speaks go-plugin core protocol '%s', "
			   "crunner speaks %d: '%s'", fields[0],
			   GP_CORE_PROTOCOL_VERSION, line);
		goto out;
	}
	if (parse_version(fields[1], &h->app_version)) {
		buf_seterr(err, "plugin handshake has a bad application "
			   "protocol version '%s'", fields[1]);
		goto out;
	}
	if (!strcmp(fields[2], "unix")) {
		h->network_unix = 1;
	} else if (strcmp(fields[2], "tcp")) {
		buf_seterr(err, "plugin handshake names network '%s'; only unix "
			   "and tcp are supported", fields[2]);
		goto out;
	}
	if (!*fields[3]) {
		buf_seterr(err, "plugin handshake has an empty address");
		goto out;
	}
	if (n < 5 || strcmp(fields[4], "grpc")) {
		buf_seterr(err, "plugin speaks go-plugin protocol '%s'; only "
			   "grpc is supported", n < 5 ? "netrpc" : fields[4]);
		goto out;
	}
	if (n >= 6 && strlen(fields[5]) > 50) {
		buf_seterr(err, "plugin serves TLS (AutoMTLS), which crunner "
			   "does not request");
		goto out;
	}
	if (n >= 7) {
		buf_seterr(err, "plugin multiplexes gRPC connections, which "
			   "crunner does not request");
		goto out;
	}
	h->address = xstrdup(fields[3]);
	r = 0;
out:
	free(copy);
	return r;
}

void gp_handshake_release(struct gp_handshake *h)
{
	free(h->address);
	h->address = NULL;
}
