/*
 * rmqevent.c - RabbitMQ messages as AWS's "aws:rmq" event (rmqevent.h).
 *
 * librabbitmq decodes a message's content header into amqp_basic_properties_t
 * (a flag per property that is present) and its headers into an amqp_table_t;
 * this module turns both into the JSON AWS hands a function, and the body
 * into base64. Facts from AWS's example RabbitMQ event (the member names and
 * order, null for what is absent, long-string headers as {"bytes":[...]},
 * the timestamp's wording).
 */
#include "pollers/rmqevent.h"
#include "util/base64.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* a short or long string as a JSON string, null when it is not UTF-8 */
static json_t *text(amqp_bytes_t b)
{
	json_t *s = json_stringn(b.bytes ? (const char *)b.bytes : "", b.len);
	return s ? s : json_null();
}

/* bytes as AWS's Java consumer serializes them: signed numbers */
static json_t *byte_list(amqp_bytes_t b)
{
	json_t *a = json_array();
	const unsigned char *p = b.bytes;
	for (size_t i = 0; a && i < b.len; i++)
		if (json_array_append_new(a, json_integer((int8_t)p[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *table(const amqp_table_t *t, int depth);

static json_t *field(const amqp_field_value_t *v, int depth)
{
	char when[48];
	if (depth > RMQEVENT_MAX_DEPTH)
		return json_null();
	switch (v->kind) {
	case AMQP_FIELD_KIND_BOOLEAN: return json_boolean(v->value.boolean);
	case AMQP_FIELD_KIND_I8: return json_integer(v->value.i8);
	case AMQP_FIELD_KIND_U8: return json_integer(v->value.u8);
	case AMQP_FIELD_KIND_I16: return json_integer(v->value.i16);
	case AMQP_FIELD_KIND_U16: return json_integer(v->value.u16);
	case AMQP_FIELD_KIND_I32: return json_integer(v->value.i32);
	case AMQP_FIELD_KIND_U32: return json_integer(v->value.u32);
	case AMQP_FIELD_KIND_I64: return json_integer(v->value.i64);
	case AMQP_FIELD_KIND_U64:
		return v->value.u64 <= INT64_MAX ? json_integer((json_int_t)v->value.u64) : json_real((double)v->value.u64);
	case AMQP_FIELD_KIND_F32: return isfinite(v->value.f32) ? json_real(v->value.f32) : json_null();
	case AMQP_FIELD_KIND_F64: return isfinite(v->value.f64) ? json_real(v->value.f64) : json_null();
	case AMQP_FIELD_KIND_DECIMAL:
		return json_real((double)v->value.decimal.value / pow(10.0, v->value.decimal.decimals));
	case AMQP_FIELD_KIND_UTF8: { /* a long string: {"bytes":[...]} */
		json_t *b = byte_list(v->value.bytes);
		return b ? json_pack("{s:o}", "bytes", b) : NULL;
	}
	case AMQP_FIELD_KIND_BYTES: return byte_list(v->value.bytes);
	case AMQP_FIELD_KIND_TIMESTAMP:
		rmqevent_timestamp(v->value.u64, when, sizeof(when));
		return json_string(when);
	case AMQP_FIELD_KIND_TABLE: return table(&v->value.table, depth + 1);
	case AMQP_FIELD_KIND_ARRAY: {
		json_t *a = json_array();
		for (int i = 0; a && i < v->value.array.num_entries; i++) {
			json_t *e = field(&v->value.array.entries[i], depth + 1);
			if (!e || json_array_append_new(a, e)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	default: return json_null(); /* void, or a kind this library version adds */
	}
}

static json_t *table(const amqp_table_t *t, int depth)
{
	if (depth > RMQEVENT_MAX_DEPTH)
		return json_null();
	json_t *o = json_object();
	for (int i = 0; o && i < t->num_entries; i++) {
		const amqp_table_entry_t *e = &t->entries[i];
		char key[256]; /* a field name is a short string: at most 255 bytes */
		size_t n = e->key.len < sizeof(key) ? e->key.len : sizeof(key) - 1;
		memcpy(key, e->key.bytes ? (const char *)e->key.bytes : "", n);
		key[n] = '\0';
		json_t *v = field(&e->value, depth);
		if (!v) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, key, v); /* a name that is not UTF-8 is left out */
	}
	return o;
}

void rmqevent_timestamp(uint64_t seconds, char *out, size_t n)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = seconds > (uint64_t)INT32_MAX * 64 ? (time_t)INT32_MAX * 64 : (time_t)seconds;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, n, "%" PRIu64, seconds);
		return;
	}
	int h12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
	snprintf(out, n, "%s %d, %d, %d:%02d:%02d %s", months[tm.tm_mon % 12], tm.tm_mday, tm.tm_year + 1900, h12,
		 tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

/* the property when its flag is set, else null */
#define PROP(flag, make) (props && (props->_flags & (flag)) ? (make) : json_null())

json_t *rmqevent_properties(const amqp_basic_properties_t *props, uint64_t body_size)
{
	char when[48] = "";
	if (props && (props->_flags & AMQP_BASIC_TIMESTAMP_FLAG))
		rmqevent_timestamp(props->timestamp, when, sizeof(when));
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(o, "contentType", PROP(AMQP_BASIC_CONTENT_TYPE_FLAG, text(props->content_type)));
	bad |= json_object_set_new(o, "contentEncoding",
				   PROP(AMQP_BASIC_CONTENT_ENCODING_FLAG, text(props->content_encoding)));
	bad |= json_object_set_new(o, "headers", PROP(AMQP_BASIC_HEADERS_FLAG, table(&props->headers, 0)));
	bad |= json_object_set_new(o, "deliveryMode",
				   PROP(AMQP_BASIC_DELIVERY_MODE_FLAG, json_integer(props->delivery_mode)));
	bad |= json_object_set_new(o, "priority", PROP(AMQP_BASIC_PRIORITY_FLAG, json_integer(props->priority)));
	bad |= json_object_set_new(o, "correlationId",
				   PROP(AMQP_BASIC_CORRELATION_ID_FLAG, text(props->correlation_id)));
	bad |= json_object_set_new(o, "replyTo", PROP(AMQP_BASIC_REPLY_TO_FLAG, text(props->reply_to)));
	bad |= json_object_set_new(o, "expiration", PROP(AMQP_BASIC_EXPIRATION_FLAG, text(props->expiration)));
	bad |= json_object_set_new(o, "messageId", PROP(AMQP_BASIC_MESSAGE_ID_FLAG, text(props->message_id)));
	bad |= json_object_set_new(o, "timestamp", PROP(AMQP_BASIC_TIMESTAMP_FLAG, json_string(when)));
	bad |= json_object_set_new(o, "type", PROP(AMQP_BASIC_TYPE_FLAG, text(props->type)));
	bad |= json_object_set_new(o, "userId", PROP(AMQP_BASIC_USER_ID_FLAG, text(props->user_id)));
	bad |= json_object_set_new(o, "appId", PROP(AMQP_BASIC_APP_ID_FLAG, text(props->app_id)));
	bad |= json_object_set_new(o, "clusterId", PROP(AMQP_BASIC_CLUSTER_ID_FLAG, text(props->cluster_id)));
	bad |= json_object_set_new(o, "bodySize",
				   body_size <= INT64_MAX ? json_integer((json_int_t)body_size) : json_null());
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *rmqevent_message(json_t *props, int redelivered, const void *body, size_t len)
{
	char *data = b64_encode(body, len);
	json_t *m = props && data ? json_pack("{s:o,s:b,s:s}", "basicProperties", props, "redelivered", redelivered,
					      "data", data)
				  : (json_decref(props), NULL);
	free(data);
	return m;
}

char *rmqevent_event(const char *source_arn, const char *queue, const char *vhost, json_t *messages)
{
	size_t n = strlen(queue) + strlen(vhost) + 3;
	char *key = malloc(n);
	if (!key)
		return NULL;
	snprintf(key, n, "%s::%s", queue, vhost);
	json_t *by_queue = json_object();
	json_t *event = NULL;
	char *text_out = NULL;
	if (!by_queue || json_object_set(by_queue, key, messages))
		goto out;
	event = json_pack("{s:s,s:s,s:O}", "eventSource", "aws:rmq", "eventSourceArn", source_arn,
			  "rmqMessagesByQueue", by_queue);
	if (event)
		text_out = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(event);
	json_decref(by_queue);
	free(key);
	return text_out;
}

json_t *rmqevent_filter_view(const void *body, size_t len)
{
	json_t *doc = json_loadb(body ? (const char *)body : "", len, 0, NULL);
	if (json_is_object(doc) || json_is_array(doc))
		return json_pack("{s:o}", "data", doc);
	json_decref(doc);
	char *data = b64_encode(body, len);
	json_t *view = data ? json_pack("{s:s}", "data", data) : NULL;
	free(data);
	return view;
}
