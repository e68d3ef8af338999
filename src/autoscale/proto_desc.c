#include <stdlib.h>
#include <string.h>

#include "autoscale/pb.h"
#include "autoscale/proto_desc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* descriptor.proto field numbers [pinned: google/protobuf/descriptor.proto]. */
enum { FILE_PACKAGE = 2, FILE_MESSAGE = 4, FILE_SERVICE = 6 };
enum { MSG_NAME = 1, MSG_FIELD = 2, MSG_NESTED = 3 };
enum { FIELD_NAME = 1, FIELD_NUMBER = 3, FIELD_LABEL = 4, FIELD_TYPE = 5,
       FIELD_TYPE_NAME = 6 };
enum { LABEL_REPEATED = 3 };
enum { SVC_NAME = 1, SVC_METHOD = 2 };
enum { METHOD_NAME = 1, METHOD_INPUT = 2, METHOD_OUTPUT = 3,
       METHOD_CLIENT_STREAMING = 5, METHOD_SERVER_STREAMING = 6 };

static char *join(const char *scope, const char *name)
{
	struct buf b = BUF_INIT;

	if (scope && *scope)
		buf_addf(&b, "%s.%s", scope, name);
	else
		buf_addstr(&b, name);
	return buf_detach(&b, NULL);
}

static int parse_field(struct pd_message *m, const struct pb_field *outer)
{
	struct pb_reader r;
	struct pb_field f;
	struct pd_field *d;
	int rc;

	m->fields = xreallocarray(m->fields, m->nfields + 1, sizeof(*m->fields));
	d = &m->fields[m->nfields++];
	memset(d, 0, sizeof(*d));
	pb_reader_init(&r, outer->data, outer->len);
	while ((rc = pb_next(&r, &f)) == 1) {
		switch (f.number) {
		case FIELD_NAME: free(d->name); d->name = pb_field_strdup(&f); break;
		case FIELD_NUMBER: d->number = (uint32_t)f.varint; break;
		case FIELD_LABEL: d->repeated = f.varint == LABEL_REPEATED; break;
		case FIELD_TYPE: d->type = (int)f.varint; break;
		case FIELD_TYPE_NAME:
			free(d->type_name);
			d->type_name = pb_field_strdup(&f);
			break;
		default: break;
		}
	}
	if (!d->name)
		d->name = xstrdup("");
	return rc;
}

static int parse_message(struct pd_pool *pool, const char *scope,
			 const struct pb_field *outer)
{
	struct pb_reader r;
	struct pb_field f;
	struct pd_message m = { 0 };
	char *name = NULL;
	size_t idx;
	int rc;

	/* The name first: nested types need the full name as their scope. */
	pb_reader_init(&r, outer->data, outer->len);
	while ((rc = pb_next(&r, &f)) == 1)
		if (f.number == MSG_NAME && f.wire == PB_LEN) {
			free(name);
			name = pb_field_strdup(&f);
		}
	if (rc < 0 || !name) {
		free(name);
		return CR_ERR_PROTOCOL;
	}
	m.full_name = join(scope, name);
	free(name);
	idx = pool->nmessages;
	pool->messages = xreallocarray(pool->messages, idx + 1,
				       sizeof(*pool->messages));
	pool->messages[pool->nmessages++] = m;
	pb_reader_init(&r, outer->data, outer->len);
	while ((rc = pb_next(&r, &f)) == 1) {
		if (f.wire != PB_LEN)
			continue;
		if (f.number == MSG_FIELD)
			rc = parse_field(&pool->messages[idx], &f);
		else if (f.number == MSG_NESTED)
			rc = parse_message(pool, pool->messages[idx].full_name, &f);
		if (rc < 0)
			return rc;
	}
	return rc < 0 ? rc : 0;
}

static int parse_method(struct pd_service *s, const struct pb_field *outer)
{
	struct pb_reader r;
	struct pb_field f;
	struct pd_method *m;
	int rc;

	s->methods = xreallocarray(s->methods, s->nmethods + 1,
				   sizeof(*s->methods));
	m = &s->methods[s->nmethods++];
	memset(m, 0, sizeof(*m));
	pb_reader_init(&r, outer->data, outer->len);
	while ((rc = pb_next(&r, &f)) == 1) {
		switch (f.number) {
		case METHOD_NAME:
			free(m->name);
			m->name = pb_field_strdup(&f);
			break;
		case METHOD_INPUT:
			free(m->input);
			m->input = pb_field_strdup(&f);
			break;
		case METHOD_OUTPUT:
			free(m->output);
			m->output = pb_field_strdup(&f);
			break;
		case METHOD_CLIENT_STREAMING:
			m->client_streaming = !!f.varint;
			break;
		case METHOD_SERVER_STREAMING:
			m->server_streaming = !!f.varint;
			break;
		default: break;
		}
	}
	if (!m->name || !m->input || !m->output)
		return CR_ERR_PROTOCOL;
	return rc;
}

static int parse_service(struct pd_pool *pool, const char *pkg,
			 const struct pb_field *outer)
{
	struct pb_reader r;
	struct pb_field f;
	struct pd_service *s;
	int rc;

	pool->services = xreallocarray(pool->services, pool->nservices + 1,
				       sizeof(*pool->services));
	s = &pool->services[pool->nservices++];
	memset(s, 0, sizeof(*s));
	pb_reader_init(&r, outer->data, outer->len);
	while ((rc = pb_next(&r, &f)) == 1) {
		if (f.number == SVC_NAME && f.wire == PB_LEN && !s->full_name) {
			char *name = pb_field_strdup(&f);

			s->full_name = join(pkg, name);
			free(name);
		} else if (f.number == SVC_METHOD && f.wire == PB_LEN) {
			if ((rc = parse_method(s, &f)) < 0)
				return rc;
		}
	}
	if (!s->full_name)
		return CR_ERR_PROTOCOL;
	return rc;
}

int pd_pool_add_file(struct pd_pool *pool, const void *data, size_t len,
		     struct buf *err)
{
	struct pb_reader r;
	struct pb_field f;
	char *pkg = NULL;
	int rc;

	pb_reader_init(&r, data, len);
	while ((rc = pb_next(&r, &f)) == 1)
		if (f.number == FILE_PACKAGE && f.wire == PB_LEN) {
			free(pkg);
			pkg = pb_field_strdup(&f);
		}
	if (rc == 0) {
		pb_reader_init(&r, data, len);
		while ((rc = pb_next(&r, &f)) == 1) {
			if (f.wire != PB_LEN)
				continue;
			if (f.number == FILE_MESSAGE)
				rc = parse_message(pool, pkg, &f);
			else if (f.number == FILE_SERVICE)
				rc = parse_service(pool, pkg, &f);
			if (rc < 0)
				break;
		}
	}
	free(pkg);
	if (rc < 0) {
		buf_seterr(err, "malformed FileDescriptorProto from reflection");
		return CR_ERR_PROTOCOL;
	}
	return 0;
}

const struct pd_message *pd_find_message(const struct pd_pool *pool,
					 const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	if (*name == '.')
		name++;
	for (i = 0; i < pool->nmessages; i++)
		if (!strcmp(pool->messages[i].full_name, name))
			return &pool->messages[i];
	return NULL;
}

const struct pd_field *pd_find_field(const struct pd_message *m,
				     const char *name)
{
	size_t i;

	for (i = 0; m && i < m->nfields; i++)
		if (!strcmp(m->fields[i].name, name))
			return &m->fields[i];
	return NULL;
}

const struct pd_method *pd_find_method(const struct pd_service *s,
				       const char *name)
{
	size_t i;

	for (i = 0; s && i < s->nmethods; i++)
		if (!strcmp(s->methods[i].name, name))
			return &s->methods[i];
	return NULL;
}

void pd_pool_release(struct pd_pool *pool)
{
	size_t i, j;

	for (i = 0; i < pool->nmessages; i++) {
		struct pd_message *m = &pool->messages[i];

		for (j = 0; j < m->nfields; j++) {
			free(m->fields[j].name);
			free(m->fields[j].type_name);
		}
		free(m->fields);
		free(m->full_name);
	}
	for (i = 0; i < pool->nservices; i++) {
		struct pd_service *s = &pool->services[i];

		for (j = 0; j < s->nmethods; j++) {
			free(s->methods[j].name);
			free(s->methods[j].input);
			free(s->methods[j].output);
		}
		free(s->methods);
		free(s->full_name);
	}
	free(pool->messages);
	free(pool->services);
	memset(pool, 0, sizeof(*pool));
}
