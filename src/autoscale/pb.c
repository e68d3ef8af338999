#include <string.h>

#include "autoscale/pb.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

int pb_put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		tmp[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	return buf_add(b, tmp, n);
}

int pb_put_tag(struct buf *b, uint32_t field, enum pb_wire wire)
{
	return pb_put_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

int pb_put_uint(struct buf *b, uint32_t field, uint64_t v)
{
	int r;

	if (!v || !field)
		return 0;
	r = pb_put_tag(b, field, PB_VARINT);
	return r ? r : pb_put_varint(b, v);
}

int pb_put_int(struct buf *b, uint32_t field, int64_t v)
{
	/* int32/int64: negative values are ten-byte two's complement. */
	return pb_put_uint(b, field, (uint64_t)v);
}

int pb_put_bool(struct buf *b, uint32_t field, int v)
{
	return pb_put_uint(b, field, v ? 1 : 0);
}

static int put_len(struct buf *b, uint32_t field, const void *data, size_t len)
{
	int r = pb_put_tag(b, field, PB_LEN);

	if (!r)
		r = pb_put_varint(b, len);
	if (!r && len)
		r = buf_add(b, data, len);
	return r;
}

int pb_put_bytes(struct buf *b, uint32_t field, const void *data, size_t len)
{
	if (!data || !len || !field)
		return 0;
	return put_len(b, field, data, len);
}

int pb_put_str(struct buf *b, uint32_t field, const char *s)
{
	return s ? pb_put_bytes(b, field, s, strlen(s)) : 0;
}

int pb_put_msg(struct buf *b, uint32_t field, const struct buf *msg)
{
	if (!field)
		return 0;
	return put_len(b, field, msg->data, msg->len);
}

void pb_reader_init(struct pb_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->end = r->p + len;
}

static int get_varint(struct pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 7) {
		uint8_t byte;

		if (r->p >= r->end)
			return CR_ERR_PROTOCOL;
		byte = *r->p++;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return CR_ERR_PROTOCOL;
}

static int get_fixed(struct pb_reader *r, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if ((size_t)(r->end - r->p) < n)
		return CR_ERR_PROTOCOL;
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	*out = v;
	return 0;
}

int pb_next(struct pb_reader *r, struct pb_field *f)
{
	uint64_t key, len;
	int rc;

	if (r->p >= r->end)
		return 0;
	memset(f, 0, sizeof(*f));
	if ((rc = get_varint(r, &key)))
		return rc;
	if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return CR_ERR_PROTOCOL;
	f->number = (uint32_t)(key >> 3);
	f->wire = (enum pb_wire)(key & 7);
	switch (f->wire) {
	case PB_VARINT:
		rc = get_varint(r, &f->varint);
		break;
	case PB_I64:
		rc = get_fixed(r, 8, &f->varint);
		break;
	case PB_I32:
		rc = get_fixed(r, 4, &f->varint);
		break;
	case PB_LEN:
		if ((rc = get_varint(r, &len)))
			break;
		if (len > (uint64_t)(r->end - r->p))
			return CR_ERR_PROTOCOL;
		f->data = r->p;
		f->len = (size_t)len;
		r->p += len;
		break;
	default:
		return CR_ERR_PROTOCOL;	/* groups (3, 4) and 6, 7 */
	}
	return rc ? rc : 1;
}

char *pb_field_strdup(const struct pb_field *f)
{
	if (f->wire != PB_LEN)
		return xstrdup("");
	return xstrndup((const char *)f->data, f->len);
}
