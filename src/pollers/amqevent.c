/*
 * amqevent.c - AMQP 1.0 messages as AWS's Amazon MQ for ActiveMQ event
 * (amqevent.h).
 *
 * qpid-proton decodes a delivery into a pn_message_t: the header and
 * properties sections as accessors, the message annotations, the
 * application properties and the body as pn_data_t trees. This module reads
 * them into AWS's members (the mapping onto JMS is amqevent.h's) and the
 * body into base64.
 */
#include "pollers/amqevent.h"
#include "util/base64.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proton/codec.h>

#define AMQ_JMS_BYTES 3 /* x-opt-jms-msg-type values (ActiveMQ's AMQP mapping) */
#define AMQ_JMS_TEXT 5

/* an AMQP id (message-id, correlation-id) as text; "" when absent */
static void id_text(pn_atom_t id, char *out, size_t n)
{
	out[0] = '\0';
	switch (id.type) {
	case PN_STRING:
	case PN_SYMBOL:
		snprintf(out, n, "%.*s", (int)id.u.as_bytes.size, id.u.as_bytes.start ? id.u.as_bytes.start : "");
		break;
	case PN_ULONG: snprintf(out, n, "%" PRIu64, id.u.as_ulong); break;
	case PN_UUID: {
		const unsigned char *u = (const unsigned char *)id.u.as_uuid.bytes;
		snprintf(out, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
			 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
		break;
	}
	case PN_BINARY:
		for (size_t i = 0; i < id.u.as_bytes.size && 2 * i + 3 <= n; i++)
			snprintf(out + 2 * i, 3, "%02x", (unsigned char)id.u.as_bytes.start[i]);
		break;
	default: break;
	}
}

/* a string member: the JSON string, or fallback when it is absent or not
 * UTF-8 */
static json_t *str_or(const char *s, const char *fallback)
{
	json_t *j = s ? json_string(s) : NULL;
	return j ? j : json_string(fallback);
}

/* the scalar under the cursor as AWS's property text; NULL for what has
 * none (described types, collections) */
static json_t *scalar_text(pn_data_t *d)
{
	char buf[64];
	pn_bytes_t b;
	switch (pn_data_type(d)) {
	case PN_NULL: return json_null();
	case PN_BOOL: return json_string(pn_data_get_bool(d) ? "true" : "false");
	case PN_UBYTE: snprintf(buf, sizeof(buf), "%u", (unsigned)pn_data_get_ubyte(d)); break;
	case PN_BYTE: snprintf(buf, sizeof(buf), "%d", (int)pn_data_get_byte(d)); break;
	case PN_USHORT: snprintf(buf, sizeof(buf), "%u", (unsigned)pn_data_get_ushort(d)); break;
	case PN_SHORT: snprintf(buf, sizeof(buf), "%d", (int)pn_data_get_short(d)); break;
	case PN_UINT: snprintf(buf, sizeof(buf), "%" PRIu32, pn_data_get_uint(d)); break;
	case PN_INT: snprintf(buf, sizeof(buf), "%" PRId32, pn_data_get_int(d)); break;
	case PN_CHAR: snprintf(buf, sizeof(buf), "%" PRIu32, (uint32_t)pn_data_get_char(d)); break;
	case PN_ULONG: snprintf(buf, sizeof(buf), "%" PRIu64, pn_data_get_ulong(d)); break;
	case PN_LONG: snprintf(buf, sizeof(buf), "%" PRId64, pn_data_get_long(d)); break;
	case PN_TIMESTAMP: snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)pn_data_get_timestamp(d)); break;
	case PN_FLOAT: snprintf(buf, sizeof(buf), "%.9g", (double)pn_data_get_float(d)); break;
	case PN_DOUBLE: snprintf(buf, sizeof(buf), "%.17g", pn_data_get_double(d)); break;
	case PN_UUID: {
		pn_atom_t a = { .type = PN_UUID };
		a.u.as_uuid = pn_data_get_uuid(d);
		id_text(a, buf, sizeof(buf));
		break;
	}
	case PN_STRING:
	case PN_SYMBOL:
		b = pn_data_type(d) == PN_STRING ? pn_data_get_string(d) : pn_data_get_symbol(d);
		return json_stringn(b.start ? b.start : "", b.size) ?: json_null();
	default: return NULL;
	}
	return json_string(buf);
}

/* application-properties as {"name":"text"}; null when there are none */
static json_t *properties(pn_message_t *msg)
{
	pn_data_t *d = pn_message_properties(msg);
	pn_data_rewind(d);
	if (!pn_data_next(d) || pn_data_type(d) != PN_MAP)
		return json_null();
	size_t n = pn_data_get_map(d);
	json_t *o = json_object();
	pn_data_enter(d);
	for (size_t i = 0; o && i + 1 < n; i += 2) {
		if (!pn_data_next(d))
			break;
		pn_bytes_t key = pn_data_type(d) == PN_STRING ? pn_data_get_string(d) : (pn_bytes_t){ 0, NULL };
		if (!pn_data_next(d))
			break;
		json_t *v = key.start ? scalar_text(d) : NULL;
		if (v) {
			char *k = strndup(key.start, key.size);
			if (!k) {
				json_decref(v);
				json_decref(o);
				o = NULL;
				break;
			}
			json_object_set_new(o, k, v); /* a name that is not UTF-8 is left out */
			free(k);
		}
	}
	pn_data_exit(d);
	return o;
}

/* the symbol-keyed message annotation name, as a signed integer or a
 * timestamp; dflt when absent */
static int64_t annotation(pn_message_t *msg, const char *name, int64_t dflt)
{
	pn_data_t *d = pn_message_annotations(msg);
	int64_t v = dflt;
	pn_data_rewind(d);
	if (!pn_data_next(d) || pn_data_type(d) != PN_MAP)
		return dflt;
	size_t n = pn_data_get_map(d);
	pn_data_enter(d);
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (!pn_data_next(d))
			break;
		pn_bytes_t key = pn_data_type(d) == PN_SYMBOL ? pn_data_get_symbol(d) : (pn_bytes_t){ 0, NULL };
		int match = key.start && key.size == strlen(name) && !memcmp(key.start, name, key.size);
		if (!pn_data_next(d))
			break;
		if (!match)
			continue;
		switch (pn_data_type(d)) {
		case PN_BYTE: v = pn_data_get_byte(d); break;
		case PN_UBYTE: v = pn_data_get_ubyte(d); break;
		case PN_INT: v = pn_data_get_int(d); break;
		case PN_LONG: v = pn_data_get_long(d); break;
		case PN_TIMESTAMP: v = pn_data_get_timestamp(d); break;
		default: break;
		}
		break;
	}
	pn_data_exit(d);
	return v;
}

/* the body's bytes (a new buffer, caller frees; *len set) and whether it is
 * text; NULL when out of memory */
static char *body_bytes(pn_message_t *msg, size_t *len, int *text)
{
	pn_data_t *d = pn_message_body(msg);
	pn_data_rewind(d);
	*len = 0;
	*text = 0;
	if (!pn_data_next(d) || pn_data_type(d) == PN_NULL)
		return strdup("");
	if (pn_data_type(d) == PN_STRING || pn_data_type(d) == PN_BINARY) {
		pn_bytes_t b = pn_data_type(d) == PN_STRING ? pn_data_get_string(d) : pn_data_get_binary(d);
		char *out = malloc(b.size ? b.size : 1);
		if (out && b.size)
			memcpy(out, b.start, b.size);
		*len = b.size;
		*text = pn_data_type(d) == PN_STRING;
		return out;
	}
	/* another type: its AMQP encoding */
	pn_data_rewind(d);
	ssize_t n = pn_data_encoded_size(d);
	char *out = n >= 0 ? malloc(n ? (size_t)n : 1) : NULL;
	if (out && (n = pn_data_encode(d, out, (size_t)n)) < 0) {
		free(out);
		return NULL;
	}
	*len = out ? (size_t)n : 0;
	return out;
}

int amqevent_decode(pn_message_t *msg, const char *bytes, size_t n)
{
	return bytes && n ? pn_message_decode(msg, bytes, n) : -1;
}

int amqevent_redelivered(pn_message_t *msg, const char *encoded, size_t n, int by_acquirer)
{
	static const unsigned char small[] = { 0x00, 0x53, 0x70 }; /* descriptor: smallulong 0x70 (header) */
	static const unsigned char wide[] = { 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x70 };
	int header = (n >= sizeof(small) && !memcmp(encoded, small, sizeof(small))) ||
		     (n >= sizeof(wide) && !memcmp(encoded, wide, sizeof(wide)));
	return pn_message_get_delivery_count(msg) > 0 || (by_acquirer && header && !pn_message_is_first_acquirer(msg));
}

json_t *amqevent_message(pn_message_t *msg, const char *queue, int redelivered, int64_t received_ms)
{
	char id[160], cid[160];
	size_t len;
	int text;
	char *body = body_bytes(msg, &len, &text);
	char *data = body ? b64_encode(body, len) : NULL;
	free(body);
	if (!data)
		return NULL;
	int64_t jms_type = annotation(msg, "x-opt-jms-msg-type", -1);
	if (jms_type == AMQ_JMS_TEXT)
		text = 1;
	else if (jms_type == AMQ_JMS_BYTES)
		text = 0;
	id_text(pn_message_get_id(msg), id, sizeof(id));
	id_text(pn_message_get_correlation_id(msg), cid, sizeof(cid));
	int64_t created = (int64_t)pn_message_get_creation_time(msg);
	int64_t expiry = (int64_t)pn_message_get_expiry_time(msg);
	pn_millis_t ttl = pn_message_get_ttl(msg);
	if (!expiry && ttl)
		expiry = (created ? created : received_ms) + (int64_t)ttl;
	int64_t in = annotation(msg, "x-opt-ingress-time", created ? created : received_ms);
	json_t *m = json_pack("{s:o,s:s,s:I,s:i,s:o,s:o,s:{s:s},s:b,s:o,s:I,s:i,s:s,s:I,s:I,s:o}",
			      "messageID", str_or(id, ""),
			      "messageType", text ? "jms/text-message" : "jms/bytes-message",
			      "timestamp", (json_int_t)created,
			      "deliveryMode", pn_message_is_durable(msg) ? 2 : 1,
			      "correlationID", str_or(cid, ""),
			      "replyTo", str_or(pn_message_get_reply_to(msg), "null"),
			      "destination", "physicalName", queue,
			      "redelivered", redelivered,
			      "type", str_or(pn_message_get_subject(msg), ""),
			      "expiration", (json_int_t)expiry,
			      "priority", (int)pn_message_get_priority(msg),
			      "data", data,
			      "brokerInTime", (json_int_t)in,
			      "brokerOutTime", (json_int_t)received_ms,
			      "properties", properties(msg));
	free(data);
	return m;
}

char *amqevent_event(const char *source_arn, json_t *messages)
{
	json_t *event = json_pack("{s:s,s:s,s:O}", "eventSource", "aws:mq", "eventSourceArn", source_arn, "messages",
				  messages);
	char *out = event ? json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(event);
	return out;
}

json_t *amqevent_filter_view(json_t *message)
{
	const char *data = json_string_value(json_object_get(message, "data"));
	unsigned char *raw = NULL;
	size_t n = 0;
	if (!data)
		return NULL;
	json_t *doc = b64_decode(data, strlen(data), &raw, &n) == 0 ? json_loadb((const char *)raw, n, 0, NULL) : NULL;
	free(raw);
	if (json_is_object(doc) || json_is_array(doc))
		return json_pack("{s:o}", "data", doc);
	json_decref(doc);
	return json_pack("{s:s}", "data", data);
}
