/*
 * Protobuf descriptors, as gRPC server reflection returns them
 * (serialized google.protobuf.FileDescriptorProto): just the names and
 * numbers needed to map a service's messages by field name.
 */
#ifndef CR_AUTOSCALE_PROTO_DESC_H
#define CR_AUTOSCALE_PROTO_DESC_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct pd_field {
	char *name;
	uint32_t number;
	int type;		/* FieldDescriptorProto.Type: 9 string, 11 message... */
	int repeated;
	char *type_name;	/* ".pkg.Msg" for messages and enums, else NULL */
};

struct pd_message {
	char *full_name;	/* "pkg.Msg" or "pkg.Outer.Inner" */
	struct pd_field *fields;
	size_t nfields;
};

struct pd_method {
	char *name, *input, *output;	/* types as ".pkg.Msg" */
	int client_streaming, server_streaming;
};

struct pd_service {
	char *full_name;	/* "pkg.Service" */
	struct pd_method *methods;
	size_t nmethods;
};

struct pd_pool {
	struct pd_message *messages;
	size_t nmessages;
	struct pd_service *services;
	size_t nservices;
};

/* Adds one serialized FileDescriptorProto; CR_ERR_PROTOCOL when malformed. */
int pd_pool_add_file(struct pd_pool *pool, const void *data, size_t len,
		     struct buf *err);
/* By full name, with or without the leading '.'. */
const struct pd_message *pd_find_message(const struct pd_pool *pool,
					 const char *name);
const struct pd_field *pd_find_field(const struct pd_message *m,
				     const char *name);
const struct pd_method *pd_find_method(const struct pd_service *s,
				       const char *name);
void pd_pool_release(struct pd_pool *pool);

#endif
