/*
 * test_rmqevent.c - unit tests of pollers/rmqevent.c: RabbitMQ properties,
 * headers and bodies as AWS's "aws:rmq" event (the members and order of
 * AWS's example event, null for what is absent, long strings as bytes, the
 * timestamp's wording), and what FilterCriteria see.
 */
#include "t.h"
#include "pollers/rmqevent.h"

#include <jansson.h>
#include <stdlib.h>

static void check_dump(json_t *j, const char *want)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(s, want);
	free(s);
	json_decref(j);
}

static void test_timestamp(void)
{
	char out[48];
	rmqevent_timestamp(2021, out, sizeof(out)); /* AWS's example: 00:33:41 */
	CHECK_STR(out, "Jan 1, 1970, 12:33:41 AM");
	rmqevent_timestamp(1700000000, out, sizeof(out)); /* 2023-11-14 22:13:20 UTC */
	CHECK_STR(out, "Nov 14, 2023, 10:13:20 PM");
	rmqevent_timestamp(43200, out, sizeof(out)); /* noon */
	CHECK_STR(out, "Jan 1, 1970, 12:00:00 PM");
}

static void test_no_properties(void)
{
	check_dump(rmqevent_properties(NULL, 7),
		   "{\"contentType\":null,\"contentEncoding\":null,\"headers\":null,\"deliveryMode\":null,"
		   "\"priority\":null,\"correlationId\":null,\"replyTo\":null,\"expiration\":null,\"messageId\":null,"
		   "\"timestamp\":null,\"type\":null,\"userId\":null,\"appId\":null,\"clusterId\":null,\"bodySize\":7}");
	amqp_basic_properties_t none = { 0 };
	check_dump(rmqevent_properties(&none, 0),
		   "{\"contentType\":null,\"contentEncoding\":null,\"headers\":null,\"deliveryMode\":null,"
		   "\"priority\":null,\"correlationId\":null,\"replyTo\":null,\"expiration\":null,\"messageId\":null,"
		   "\"timestamp\":null,\"type\":null,\"userId\":null,\"appId\":null,\"clusterId\":null,\"bodySize\":0}");
}

static void test_all_properties(void)
{
	amqp_table_entry_t inner[1], entries[7];
	amqp_field_value_t list[2];
	inner[0].key = amqp_cstring_bytes("a");
	inner[0].value.kind = AMQP_FIELD_KIND_I32;
	inner[0].value.value.i32 = -1;
	list[0].kind = AMQP_FIELD_KIND_BOOLEAN;
	list[0].value.boolean = 1;
	list[1].kind = AMQP_FIELD_KIND_VOID;
	entries[0].key = amqp_cstring_bytes("header1");
	entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
	entries[0].value.value.bytes = amqp_cstring_bytes("val\xc3\xa9");
	entries[1].key = amqp_cstring_bytes("numberInHeader");
	entries[1].value.kind = AMQP_FIELD_KIND_I64;
	entries[1].value.value.i64 = 10;
	entries[2].key = amqp_cstring_bytes("nested");
	entries[2].value.kind = AMQP_FIELD_KIND_TABLE;
	entries[2].value.value.table = (amqp_table_t){ 1, inner };
	entries[3].key = amqp_cstring_bytes("list");
	entries[3].value.kind = AMQP_FIELD_KIND_ARRAY;
	entries[3].value.value.array = (amqp_array_t){ 2, list };
	entries[4].key = amqp_cstring_bytes("half");
	entries[4].value.kind = AMQP_FIELD_KIND_F64;
	entries[4].value.value.f64 = 0.5;
	entries[5].key = amqp_cstring_bytes("price");
	entries[5].value.kind = AMQP_FIELD_KIND_DECIMAL;
	entries[5].value.value.decimal = (amqp_decimal_t){ 2, 1250 };
	entries[6].key = amqp_cstring_bytes("when");
	entries[6].value.kind = AMQP_FIELD_KIND_TIMESTAMP;
	entries[6].value.value.u64 = 2021;
	amqp_basic_properties_t p = { 0 };
	p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG |
		   AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG |
		   AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
		   AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_USER_ID_FLAG | AMQP_BASIC_APP_ID_FLAG |
		   AMQP_BASIC_CLUSTER_ID_FLAG;
	p.content_type = amqp_cstring_bytes("text/plain");
	p.content_encoding = amqp_cstring_bytes("gzip");
	p.headers = (amqp_table_t){ 7, entries };
	p.delivery_mode = 1;
	p.priority = 34;
	p.correlation_id = amqp_cstring_bytes("c");
	p.reply_to = amqp_cstring_bytes("r");
	p.expiration = amqp_cstring_bytes("60000");
	p.message_id = amqp_cstring_bytes("m");
	p.timestamp = 2021;
	p.type = amqp_cstring_bytes("t");
	p.user_id = amqp_cstring_bytes("AIDACKCEVSQ6C2EXAMPLE");
	p.app_id = amqp_cstring_bytes("app");
	p.cluster_id = amqp_cstring_bytes("cl");
	check_dump(rmqevent_properties(&p, 80),
		   "{\"contentType\":\"text/plain\",\"contentEncoding\":\"gzip\",\"headers\":{"
		   "\"header1\":{\"bytes\":[118,97,108,-61,-87]},\"numberInHeader\":10,\"nested\":{\"a\":-1},"
		   "\"list\":[true,null],\"half\":0.5,\"price\":12.5,\"when\":\"Jan 1, 1970, 12:33:41 AM\"},"
		   "\"deliveryMode\":1,\"priority\":34,\"correlationId\":\"c\",\"replyTo\":\"r\",\"expiration\":\"60000\","
		   "\"messageId\":\"m\",\"timestamp\":\"Jan 1, 1970, 12:33:41 AM\",\"type\":\"t\","
		   "\"userId\":\"AIDACKCEVSQ6C2EXAMPLE\",\"appId\":\"app\",\"clusterId\":\"cl\",\"bodySize\":80}");
	/* a short string that is not UTF-8 is null, not a failure */
	amqp_basic_properties_t bad = { 0 };
	bad._flags = AMQP_BASIC_MESSAGE_ID_FLAG;
	bad.message_id = amqp_cstring_bytes("\xff\xfe");
	json_t *j = rmqevent_properties(&bad, 1);
	CHECK(j && json_is_null(json_object_get(j, "messageId")));
	json_decref(j);
}

static void test_deep_headers_stop(void)
{
	/* a table nested deeper than RMQEVENT_MAX_DEPTH ends in null rather than recursing on */
	amqp_table_entry_t e[RMQEVENT_MAX_DEPTH + 4];
	for (int i = 0; i < RMQEVENT_MAX_DEPTH + 4; i++) {
		e[i].key = amqp_cstring_bytes("d");
		if (i == RMQEVENT_MAX_DEPTH + 3) {
			e[i].value.kind = AMQP_FIELD_KIND_U8;
			e[i].value.value.u8 = 1;
		} else {
			e[i].value.kind = AMQP_FIELD_KIND_TABLE;
			e[i].value.value.table = (amqp_table_t){ 1, &e[i + 1] };
		}
	}
	amqp_basic_properties_t p = { 0 };
	p._flags = AMQP_BASIC_HEADERS_FLAG;
	p.headers = (amqp_table_t){ 1, e };
	json_t *j = rmqevent_properties(&p, 0), *h = json_object_get(j, "headers");
	int depth = 0;
	while (json_is_object(h)) {
		h = json_object_get(h, "d");
		depth++;
	}
	CHECK(j && json_is_null(h) && depth == RMQEVENT_MAX_DEPTH + 1);
	json_decref(j);
}

static void test_event(void)
{
	json_t *msgs = json_array();
	json_array_append_new(msgs, rmqevent_message(rmqevent_properties(NULL, 2), 0, "hi", 2));
	json_array_append_new(msgs, rmqevent_message(rmqevent_properties(NULL, 0), 1, NULL, 0));
	char *text = rmqevent_event("arn:aws:mq:us-east-1:1:broker:b:b-1", "orders", "/", msgs);
	json_t *ev = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(ev != NULL);
	const char *first = json_object_iter_key(json_object_iter(ev));
	CHECK_STR(first, "eventSource");
	CHECK_STR(json_string_value(json_object_get(ev, "eventSource")), "aws:rmq");
	CHECK_STR(json_string_value(json_object_get(ev, "eventSourceArn")), "arn:aws:mq:us-east-1:1:broker:b:b-1");
	json_t *list = json_object_get(json_object_get(ev, "rmqMessagesByQueue"), "orders::/");
	CHECK(json_array_size(list) == 2);
	json_t *m = json_array_get(list, 0);
	CHECK_STR(json_object_iter_key(json_object_iter(m)), "basicProperties");
	CHECK_STR(json_string_value(json_object_get(m, "data")), "aGk=");
	CHECK(json_is_false(json_object_get(m, "redelivered")));
	m = json_array_get(list, 1);
	CHECK_STR(json_string_value(json_object_get(m, "data")), "");
	CHECK(json_is_true(json_object_get(m, "redelivered")));
	json_decref(ev);
	free(text);
	json_decref(msgs);
}

static void test_filter_view(void)
{
	check_dump(rmqevent_filter_view("{\"kind\":\"keep\"}", 15), "{\"data\":{\"kind\":\"keep\"}}");
	check_dump(rmqevent_filter_view("[1]", 3), "{\"data\":[1]}");
	check_dump(rmqevent_filter_view("plain", 5), "{\"data\":\"cGxhaW4=\"}");
	check_dump(rmqevent_filter_view("42", 2), "{\"data\":\"NDI=\"}");
}

int main(void)
{
	T_RUN(test_timestamp);
	T_RUN(test_no_properties);
	T_RUN(test_all_properties);
	T_RUN(test_deep_headers_stop);
	T_RUN(test_event);
	T_RUN(test_filter_view);
	return t_done("test_rmqevent");
}
