/*
 * gRPC server reflection, client side: lists a server's services and
 * fetches the descriptors of those that are not gRPC's or go-plugin's
 * own.  Tries grpc.reflection.v1, then v1alpha (older go-plugin builds).
 */
#ifndef CR_AUTOSCALE_GRPC_REFLECT_H
#define CR_AUTOSCALE_GRPC_REFLECT_H

#include "autoscale/proto_desc.h"

struct buf;
struct grpc_conn;

/*
 * Fills pool.  CR_ERR_UNSUPPORTED when the server has no reflection
 * service; other errors with a sentence in err.
 */
int grpc_reflect_fetch(struct grpc_conn *c, int timeout_ms,
		       struct pd_pool *pool, struct buf *err);

#endif
