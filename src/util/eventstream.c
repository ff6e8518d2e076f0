/*
 * eventstream.c - AWS event-stream framing (see eventstream.h).
 *
 * The CRC32 is computed here with a table built on first use: zlib is not
 * otherwise linked, and OpenSSL's libcrypto does not export its CRC32.
 */
#include "util/eventstream.h"
#include "util/err.h"

#include <string.h>

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	crc_ready = 1;
}

uint32_t es_crc32(uint32_t crc, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (!crc_ready)
		crc_init();
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

int es_message(buf_t *out, const struct es_header *h, size_t nh, const void *payload, size_t len)
{
	size_t hlen = 0;
	for (size_t i = 0; i < nh; i++) {
		size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
		if (nl == 0 || nl > 255 || vl > 65535)
			return LD_EINVAL;
		hlen += 1 + nl + 1 + 2 + vl;
	}
	size_t total = 12 + hlen + len + 4;
	if (total > UINT32_MAX)
		return LD_EINVAL;
	int rc = buf_reserve(out, total);
	if (rc)
		return rc;
	unsigned char *start = (unsigned char *)out->data + out->len, *p = start;
	put32(p, (uint32_t)total);
	put32(p + 4, (uint32_t)hlen);
	put32(p + 8, es_crc32(0, p, 8));
	p += 12;
	for (size_t i = 0; i < nh; i++) {
		size_t nl = strlen(h[i].name), vl = strlen(h[i].value);
		*p++ = (unsigned char)nl;
		memcpy(p, h[i].name, nl);
		p += nl;
		*p++ = 7; /* string */
		*p++ = (unsigned char)(vl >> 8);
		*p++ = (unsigned char)vl;
		memcpy(p, h[i].value, vl);
		p += vl;
	}
	if (len)
		memcpy(p, payload, len);
	p += len;
	put32(p, es_crc32(0, start, (size_t)(p - start)));
	out->len += total;
	out->data[out->len] = '\0';
	return 0;
}

int es_payload_chunk(buf_t *out, const void *data, size_t len)
{
	static const struct es_header h[] = { { ":event-type", "PayloadChunk" },
					      { ":content-type", "application/octet-stream" },
					      { ":message-type", "event" } };
	return es_message(out, h, 3, data, len);
}

int es_invoke_complete(buf_t *out, const char *json)
{
	static const struct es_header h[] = { { ":event-type", "InvokeComplete" },
					      { ":content-type", "application/json" },
					      { ":message-type", "event" } };
	return es_message(out, h, 3, json, strlen(json));
}
