/*
 * RFC 6455 framing, the handshake's accept key (SHA-1, written here: the
 * only use of it) and the exit status of Kubernetes' channel protocol.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "executor/kubernetes/k8s_ws.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define WS_MAX_PAYLOAD ((uint64_t)64 << 20)
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void ws_frame_encode(struct buf *out, enum ws_opcode op, const void *data,
		     size_t len, const uint8_t mask[4])
{
	const uint8_t *p = data;
	char *masked;
	size_t i;

	(void)buf_addch(out, (char)(0x80 | (op & 0x0F)));
	if (len < 126) {
		(void)buf_addch(out, (char)(0x80 | len));
	} else if (len <= 0xFFFF) {
		(void)buf_addch(out, (char)(0x80 | 126));
		(void)buf_addch(out, (char)(len >> 8));
		(void)buf_addch(out, (char)(len & 0xFF));
	} else {
		(void)buf_addch(out, (char)(0x80 | 127));
		for (i = 0; i < 8; i++)
			(void)buf_addch(out, (char)(((uint64_t)len >>
						     (56 - 8 * i)) & 0xFF));
	}
	(void)buf_add(out, mask, 4);
	if (!len)
		return;
	masked = xmalloc(len);
	for (i = 0; i < len; i++)
		masked[i] = (char)(p[i] ^ mask[i & 3]);
	(void)buf_add(out, masked, len);
	freezero(masked, len);
}

int ws_frame_decode(char *in, size_t len, size_t *used, struct ws_frame *f)
{
	const uint8_t *p = (const uint8_t *)in;
	size_t need = 2, i;
	uint64_t plen;
	int masked;
	uint8_t mask[4] = { 0 };

	if (len < 2)
		return 0;
	if (p[0] & 0x70)
		return CR_ERR_PROTOCOL;	/* no extension was agreed */
	masked = (p[1] & 0x80) != 0;
	plen = p[1] & 0x7F;
	if (plen == 126) {
		need += 2;
		if (len < need)
			return 0;
		plen = ((uint64_t)p[2] << 8) | p[3];
	} else if (plen == 127) {
		need += 8;
		if (len < need)
			return 0;
		plen = 0;
		for (i = 0; i < 8; i++)
			plen = (plen << 8) | p[2 + i];
	}
	if (plen > WS_MAX_PAYLOAD)
		return CR_ERR_PROTOCOL;
	f->fin = (p[0] & 0x80) != 0;
	f->op = (enum ws_opcode)(p[0] & 0x0F);
	if ((f->op & 0x8) && (!f->fin || plen > 125))
		return CR_ERR_PROTOCOL;
	if (masked) {
		if (len < need + 4)
			return 0;
		memcpy(mask, p + need, 4);
		need += 4;
	}
	if (len - need < plen)
		return 0;
	f->payload = in + need;
	f->len = (size_t)plen;
	if (masked)
		for (i = 0; i < f->len; i++)
			f->payload[i] = (char)((uint8_t)f->payload[i] ^
					       mask[i & 3]);
	*used = need + f->len;
	return 1;
}

/* ---- SHA-1 (FIPS 180-4), for the accept key only ---- */

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *blk)
{
	uint32_t w[80], a, b, c, d, e, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 |
			(uint32_t)blk[4 * i + 1] << 16 |
			(uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
	for (i = 0; i < 80; i++) {
		uint32_t f, k;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d; d = c; c = rol(b, 30); b = a; a = t;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

void ws_sha1(const void *data, size_t len, uint8_t out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
			  0xC3D2E1F0 };
	const uint8_t *p = data;
	uint8_t tail[128] = { 0 };
	uint64_t bits = (uint64_t)len * 8;
	size_t full = len / 64 * 64, rest = len - full, tlen, i;

	for (i = 0; i < full; i += 64)
		sha1_block(h, p + i);
	memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha1_block(h, tail);
	if (tlen == 128)
		sha1_block(h, tail + 64);
	for (i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

void ws_accept_key(const char *key, char out[29])
{
	struct buf in = BUF_INIT, b64 = BUF_INIT;
	uint8_t digest[20];

	(void)buf_addf(&in, "%s" WS_GUID, key);
	ws_sha1(in.data, in.len, digest);
	base64_encode(&b64, digest, sizeof(digest));
	memset(out, 0, 29);
	memcpy(out, b64.data, b64.len < 28 ? b64.len : 28);
	buf_release(&in);
	buf_release(&b64);
}

int k8s_exec_status(const char *json, size_t len, struct buf *err)
{
	json_t *j = json_loadb(json, len, 0, NULL), *causes, *c;
	const char *status = json_string_value(json_object_get(j, "status"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	const char *msg = json_string_value(json_object_get(j, "message"));
	size_t i;
	int code = -1;

	if (status && !strcmp(status, "Success")) {
		code = 0;
		goto out;
	}
	if (reason && !strcmp(reason, "NonZeroExitCode")) {
		causes = json_object_get(json_object_get(j, "details"),
					 "causes");
		json_array_foreach(causes, i, c) {
			const char *r = json_string_value(
				json_object_get(c, "reason"));
			const char *m = json_string_value(
				json_object_get(c, "message"));
			char *end;
			long v;

			if (!r || strcmp(r, "ExitCode") || !m)
				continue;
			v = strtol(m, &end, 10);
			if (end != m && !*end && v >= 0 && v < 256) {
				code = (int)v;
				goto out;
			}
		}
	}
	buf_seterr(err, "exec failed: %s", msg && *msg ? msg :
		   j ? "the API server sent a failure without a message" :
		   "the status is not JSON");
out:
	json_decref(j);
	return code;
}
