#include <stdlib.h>
#include <string.h>

#include "autoscale/grpc_client.h"
#include "autoscale/grpc_frame.h"
#include "autoscale/grpc_reflect.h"
#include "autoscale/pb.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

/*
 * grpc/reflection/v1/reflection.proto (v1alpha has the same numbers)
 * [pinned: the published reflection.proto, as generated code shows it].
 */
enum { REQ_FILE_CONTAINING_SYMBOL = 4, REQ_LIST_SERVICES = 7 };
enum { RESP_FILE_DESCRIPTORS = 4, RESP_LIST_SERVICES = 6, RESP_ERROR = 7 };
enum { FDR_FILE = 1, LSR_SERVICE = 1, SR_NAME = 1, ERR_MESSAGE = 2 };

static const char *const paths[] = {
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
};

/* Services every go-plugin server has; not the plugin's own. */
static int is_infrastructure(const char *name)
{
	return !strncmp(name, "grpc.", 5) || !strncmp(name, "plugin.GRPC", 11);
}

/* One request, one response (the stream is closed after the request). */
static int ask(struct grpc_conn *c, const char *path, const struct buf *req,
	       struct buf *resp, int timeout_ms, struct buf *err)
{
	int status, r;

	r = grpc_call(c, path, req->data, req->len, resp, &status, timeout_ms,
		      err);
	if (r)
		return r;
	if (status == GRPC_UNIMPLEMENTED)
		return CR_ERR_UNSUPPORTED;
	return status ? CR_ERR_PROTOCOL : 0;
}

/* The response's payload field (4, 6 or 7); error text for 7. */
static int payload(const struct buf *resp, uint32_t want, struct pb_field *out,
		   struct buf *err)
{
	struct pb_reader r;
	struct pb_field f;
	int rc;

	pb_reader_init(&r, resp->data, resp->len);
	while ((rc = pb_next(&r, &f)) == 1) {
		if (f.number == want && f.wire == PB_LEN) {
			*out = f;
			return 0;
		}
		if (f.number == RESP_ERROR && f.wire == PB_LEN) {
			struct pb_reader er;
			struct pb_field ef;

			pb_reader_init(&er, f.data, f.len);
			while (pb_next(&er, &ef) == 1)
				if (ef.number == ERR_MESSAGE && ef.wire == PB_LEN)
					buf_seterr(err, "reflection: %.*s",
						   (int)ef.len, ef.data);
			buf_seterr(err, "reflection error");
			return CR_ERR_NOT_FOUND;
		}
	}
	buf_seterr(err, "reflection: unexpected response");
	return CR_ERR_PROTOCOL;
}

static int list_services(struct grpc_conn *c, const char *path, int timeout_ms,
			 struct strvec *names, struct buf *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct pb_field f, s, n;
	struct pb_reader r, sr;
	int rc;

	pb_put_str(&req, REQ_LIST_SERVICES, "*");
	rc = ask(c, path, &req, &resp, timeout_ms, err);
	if (!rc)
		rc = payload(&resp, RESP_LIST_SERVICES, &f, err);
	if (!rc) {
		pb_reader_init(&r, f.data, f.len);
		while (pb_next(&r, &s) == 1) {
			if (s.number != LSR_SERVICE || s.wire != PB_LEN)
				continue;
			pb_reader_init(&sr, s.data, s.len);
			while (pb_next(&sr, &n) == 1)
				if (n.number == SR_NAME && n.wire == PB_LEN)
					strvec_push_nodup(names, pb_field_strdup(&n));
		}
	}
	buf_release(&req);
	buf_release(&resp);
	return rc;
}

static int fetch_symbol(struct grpc_conn *c, const char *path, int timeout_ms,
			const char *symbol, struct pd_pool *pool,
			struct buf *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	struct pb_field f, file;
	struct pb_reader r;
	int rc;

	pb_put_str(&req, REQ_FILE_CONTAINING_SYMBOL, symbol);
	rc = ask(c, path, &req, &resp, timeout_ms, err);
	if (!rc)
		rc = payload(&resp, RESP_FILE_DESCRIPTORS, &f, err);
	if (!rc) {
		pb_reader_init(&r, f.data, f.len);
		while (!rc && pb_next(&r, &file) == 1)
			if (file.number == FDR_FILE && file.wire == PB_LEN)
				rc = pd_pool_add_file(pool, file.data, file.len, err);
	}
	buf_release(&req);
	buf_release(&resp);
	return rc;
}

int grpc_reflect_fetch(struct grpc_conn *c, int timeout_ms,
		       struct pd_pool *pool, struct buf *err)
{
	struct strvec names = STRVEC_INIT;
	size_t v, i;
	int rc = CR_ERR_UNSUPPORTED;

	for (v = 0; v < sizeof(paths) / sizeof(paths[0]); v++) {
		rc = list_services(c, paths[v], timeout_ms, &names, err);
		if (rc != CR_ERR_UNSUPPORTED)
			break;
	}
	for (i = 0; !rc && i < names.nr; i++)
		if (!is_infrastructure(names.v[i]))
			rc = fetch_symbol(c, paths[v], timeout_ms, names.v[i],
					  pool, err);
	strvec_clear(&names);
	return rc;
}
