/*
 * eventstream.h - AWS event-stream message framing (application/vnd.amazon.eventstream).
 *
 * InvokeWithResponseStream answers with a sequence of these messages
 * (docs/streaming.md, spec §7):
 *   [total_len u32][headers_len u32][prelude_crc u32][headers][payload][message_crc u32]
 * all big-endian, CRC32 the IEEE/zlib one, prelude_crc over the first 8
 * bytes and message_crc over everything before it. Only string headers
 * (type 7) are written: that is all Lambda's events use.
 */
#ifndef LD_EVENTSTREAM_H
#define LD_EVENTSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* CRC32 (IEEE 802.3, as zlib's crc32()), continuing from crc (0 to start). */
uint32_t es_crc32(uint32_t crc, const void *data, size_t n);

struct es_header {
	const char *name;  /* < 256 bytes */
	const char *value; /* < 65536 bytes */
};

/* Appends one message with nh string headers and the payload to out.
 * 0, or LD_EINVAL (a name or value too long), LD_ETOOBIG / LD_ENOMEM from
 * out (then out may hold part of the message: reset it). */
int es_message(buf_t *out, const struct es_header *h, size_t nh, const void *payload, size_t len);

/* Lambda's events: a PayloadChunk carrying bytes, and the final
 * InvokeComplete carrying its JSON document (e.g. "{}"). */
int es_payload_chunk(buf_t *out, const void *data, size_t len);
int es_invoke_complete(buf_t *out, const char *json);

#endif
