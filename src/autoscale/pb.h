/*
 * Protocol Buffers wire format, by hand: just what the fleeting and
 * go-plugin messages need (varints, length-delimited fields, skipping).
 *
 * Encoding appends to a struct buf.  Decoding walks a byte range field by
 * field with pb_next(); nested messages are decoded by starting a new
 * reader on a field's bytes.  Nothing here knows any message: field
 * numbers live in the schema (fleeting_schema.c).
 */
#ifndef CR_AUTOSCALE_PB_H
#define CR_AUTOSCALE_PB_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum pb_wire {
	PB_VARINT = 0,
	PB_I64 = 1,
	PB_LEN = 2,
	PB_I32 = 5,
};

/*
 * Each returns 0 or CR_ERR_TOO_LARGE (from struct buf).  The field
 * writers write nothing for field number 0 (a field the peer's schema
 * does not have).
 */
int pb_put_varint(struct buf *b, uint64_t v);
int pb_put_tag(struct buf *b, uint32_t field, enum pb_wire wire);
/* A varint field; proto3 leaves zero out, so does this. */
int pb_put_uint(struct buf *b, uint32_t field, uint64_t v);
int pb_put_int(struct buf *b, uint32_t field, int64_t v);
int pb_put_bool(struct buf *b, uint32_t field, int v);
/* A length-delimited field; NULL or empty is left out (proto3). */
int pb_put_bytes(struct buf *b, uint32_t field, const void *data, size_t len);
int pb_put_str(struct buf *b, uint32_t field, const char *s);
/* A nested message, always written (even when empty). */
int pb_put_msg(struct buf *b, uint32_t field, const struct buf *msg);

struct pb_reader {
	const uint8_t *p, *end;
};

struct pb_field {
	uint32_t number;
	enum pb_wire wire;
	uint64_t varint;		/* PB_VARINT, PB_I64, PB_I32 */
	const uint8_t *data;		/* PB_LEN */
	size_t len;			/* PB_LEN */
};

void pb_reader_init(struct pb_reader *r, const void *data, size_t len);
/*
 * The next field: 1 with f filled, 0 at the end, CR_ERR_PROTOCOL on
 * malformed input (truncated varint or length, field 0, groups).
 */
int pb_next(struct pb_reader *r, struct pb_field *f);
/* A PB_LEN field as a fresh NUL-terminated string (caller frees). */
char *pb_field_strdup(const struct pb_field *f);

#endif
