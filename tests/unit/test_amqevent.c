/*
 * test_amqevent.c - unit tests of pollers/amqevent.c: AMQP 1.0 messages
 * (built and encoded with qpid-proton, then decoded as the poller decodes
 * them) as AWS's Amazon MQ for ActiveMQ event: the members and their order,
 * text and bytes messages, ActiveMQ's message-type annotation, ids of every
 * AMQP type, what stands in for what AMQP lacks, redelivery, properties as
 * strings, and what FilterCriteria see.
 */
#include "t.h"
#include "pollers/amqevent.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include <proton/codec.h>
#include <proton/message.h>

/* msg encoded and decoded again, as it arrives: the message the poller sees
 * (caller frees) and its bytes in *out (caller frees) */
static pn_message_t *roundtrip(pn_message_t *msg, char **out, size_t *n)
{
	size_t cap = 1 << 16;
	char *buf = malloc(cap);
	CHECK(buf && pn_message_encode(msg, buf, &cap) == 0);
	pn_message_t *back = pn_message();
	CHECK(pn_message_decode(back, buf, cap) == 0);
	*out = buf;
	*n = cap;
	return back;
}

static json_t *event_of_from(pn_message_t *msg, int64_t now, int by_acquirer)
{
	char *raw;
	size_t n;
	pn_message_t *m = roundtrip(msg, &raw, &n);
	json_t *j = amqevent_message(m, "orders", amqevent_redelivered(m, raw, n, by_acquirer), now);
	pn_message_free(m);
	free(raw);
	return j;
}

static json_t *event_of(pn_message_t *msg, int64_t now)
{
	return event_of_from(msg, now, 0);
}

static void test_text_message_with_everything(void)
{
	pn_message_t *m = pn_message();
	pn_atom_t id = { .type = PN_STRING };
	id.u.as_bytes = pn_bytes(strlen("ID:b-1-1:1:1:1:1"), "ID:b-1-1:1:1:1:1");
	pn_message_set_id(m, id);
	pn_atom_t cid = { .type = PN_STRING };
	cid.u.as_bytes = pn_bytes(9, "myJMSCoID");
	pn_message_set_correlation_id(m, cid);
	pn_message_set_durable(m, true);
	pn_message_set_priority(m, 7);
	pn_message_set_subject(m, "order");
	pn_message_set_reply_to(m, "queue://replies");
	pn_message_set_creation_time(m, 1598827811958);
	pn_message_set_expiry_time(m, 1598827871958);
	pn_data_t *props = pn_message_properties(m);
	pn_data_put_map(props);
	pn_data_enter(props);
	pn_data_put_string(props, pn_bytes(5, "index"));
	pn_data_put_int(props, 1);
	pn_data_put_string(props, pn_bytes(7, "doAlarm"));
	pn_data_put_bool(props, false);
	pn_data_put_string(props, pn_bytes(16, "myCustomProperty"));
	pn_data_put_string(props, pn_bytes(5, "value"));
	pn_data_put_string(props, pn_bytes(4, "half"));
	pn_data_put_double(props, 0.5);
	pn_data_exit(props);
	pn_data_t *body = pn_message_body(m);
	pn_data_put_string(body, pn_bytes(8, "ABC:AAAA"));
	json_t *j = event_of(m, 1598827811959);
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(s, "{\"messageID\":\"ID:b-1-1:1:1:1:1\",\"messageType\":\"jms/text-message\",\"timestamp\":1598827811958,"
		     "\"deliveryMode\":2,\"correlationID\":\"myJMSCoID\",\"replyTo\":\"queue://replies\","
		     "\"destination\":{\"physicalName\":\"orders\"},\"redelivered\":false,\"type\":\"order\","
		     "\"expiration\":1598827871958,\"priority\":7,\"data\":\"QUJDOkFBQUE=\","
		     "\"brokerInTime\":1598827811958,\"brokerOutTime\":1598827811959,\"properties\":{\"index\":\"1\","
		     "\"doAlarm\":\"false\",\"myCustomProperty\":\"value\",\"half\":\"0.5\"}}");
	free(s);
	json_decref(j);
	pn_message_free(m);
}

static void test_bare_bytes_message(void)
{
	/* a data section, nothing else: AWS's stand-ins for what is absent */
	pn_message_t *m = pn_message();
	pn_message_set_inferred(m, true);
	pn_data_put_binary(pn_message_body(m), pn_bytes(3, "\x00\x01\xff"));
	json_t *j = event_of(m, 5000);
	CHECK_STR(json_string_value(json_object_get(j, "messageType")), "jms/bytes-message");
	CHECK_STR(json_string_value(json_object_get(j, "data")), "AAH/");
	CHECK_STR(json_string_value(json_object_get(j, "messageID")), "");
	CHECK_STR(json_string_value(json_object_get(j, "correlationID")), "");
	CHECK_STR(json_string_value(json_object_get(j, "replyTo")), "null");
	CHECK_STR(json_string_value(json_object_get(j, "type")), "");
	CHECK(json_integer_value(json_object_get(j, "timestamp")) == 0);
	CHECK(json_integer_value(json_object_get(j, "expiration")) == 0);
	CHECK(json_integer_value(json_object_get(j, "deliveryMode")) == 1);
	CHECK(json_integer_value(json_object_get(j, "priority")) == 4);
	CHECK(json_integer_value(json_object_get(j, "brokerInTime")) == 5000);
	CHECK(json_is_null(json_object_get(j, "properties")));
	CHECK(json_is_false(json_object_get(j, "redelivered")));
	json_decref(j);
	pn_message_free(m);
}

static void test_annotation_type_ids_ttl_and_ingress(void)
{
	pn_message_t *m = pn_message();
	/* ActiveMQ's annotation says bytes although the body is a string */
	pn_data_t *ann = pn_message_annotations(m);
	pn_data_put_map(ann);
	pn_data_enter(ann);
	pn_data_put_symbol(ann, pn_bytes(18, "x-opt-jms-msg-type"));
	pn_data_put_byte(ann, 3);
	pn_data_put_symbol(ann, pn_bytes(18, "x-opt-ingress-time"));
	pn_data_put_timestamp(ann, 1000);
	pn_data_exit(ann);
	pn_atom_t id = { .type = PN_ULONG };
	id.u.as_ulong = 42;
	pn_message_set_id(m, id);
	pn_atom_t cid = { .type = PN_UUID };
	for (int i = 0; i < 16; i++)
		cid.u.as_uuid.bytes[i] = (char)i;
	pn_message_set_correlation_id(m, cid);
	pn_message_set_creation_time(m, 2000);
	pn_message_set_ttl(m, 500);
	pn_data_put_string(pn_message_body(m), pn_bytes(2, "hi"));
	json_t *j = event_of(m, 9999);
	CHECK_STR(json_string_value(json_object_get(j, "messageType")), "jms/bytes-message");
	CHECK_STR(json_string_value(json_object_get(j, "messageID")), "42");
	CHECK_STR(json_string_value(json_object_get(j, "correlationID")), "00010203-0405-0607-0809-0a0b0c0d0e0f");
	CHECK(json_integer_value(json_object_get(j, "expiration")) == 2500);
	CHECK(json_integer_value(json_object_get(j, "brokerInTime")) == 1000);
	json_decref(j);
	/* and text although the body is binary */
	pn_data_clear(ann);
	pn_data_put_map(ann);
	pn_data_enter(ann);
	pn_data_put_symbol(ann, pn_bytes(18, "x-opt-jms-msg-type"));
	pn_data_put_byte(ann, 5);
	pn_data_exit(ann);
	pn_data_clear(pn_message_body(m));
	pn_data_put_binary(pn_message_body(m), pn_bytes(2, "hi"));
	j = event_of(m, 9999);
	CHECK_STR(json_string_value(json_object_get(j, "messageType")), "jms/text-message");
	json_decref(j);
	pn_message_free(m);
}

static void test_other_bodies_are_their_encoding(void)
{
	pn_message_t *m = pn_message();
	pn_data_t *body = pn_message_body(m);
	pn_data_put_list(body);
	pn_data_enter(body);
	pn_data_put_int(body, 1);
	pn_data_exit(body);
	json_t *j = event_of(m, 1);
	CHECK_STR(json_string_value(json_object_get(j, "messageType")), "jms/bytes-message");
	/* as proton encodes it: list32 (0xd0), size 6, count 1, smallint (0x54) 1 */
	CHECK_STR(json_string_value(json_object_get(j, "data")), "0AAAAAYAAAABVAE=");
	json_decref(j);
	pn_message_free(m);
}

static void test_redelivered(void)
{
	pn_message_t *m = pn_message();
	pn_data_put_string(pn_message_body(m), pn_bytes(1, "x"));
	pn_message_set_delivery_count(m, 2); /* ActiveMQ's redelivery counter */
	json_t *j = event_of(m, 1);
	CHECK(json_is_true(json_object_get(j, "redelivered")));
	json_decref(j);
	pn_message_set_delivery_count(m, 0);
	pn_message_set_durable(m, true);	 /* a header that is there ... */
	pn_message_set_first_acquirer(m, false); /* ... and says another had it */
	j = event_of(m, 1); /* from a broker that counts: not redelivered */
	CHECK(json_is_false(json_object_get(j, "redelivered")));
	json_decref(j);
	j = event_of_from(m, 1, 1); /* from one that does not (RabbitMQ): redelivered */
	CHECK(json_is_true(json_object_get(j, "redelivered")));
	json_decref(j);
	pn_message_set_first_acquirer(m, true);
	j = event_of_from(m, 1, 1);
	CHECK(json_is_false(json_object_get(j, "redelivered")));
	json_decref(j);
	/* bytes without a header section: first-acquirer reads false, but says nothing */
	pn_message_t *bare = pn_message();
	CHECK(amqevent_redelivered(bare, "\x00\x53\x77\xa1\x01x", 6, 1) == 0);
	CHECK(amqevent_redelivered(bare, "\x00\x53\x70\x45", 4, 1) == 1); /* a header, empty: first-acquirer false */
	CHECK(amqevent_decode(bare, "", 0) < 0); /* an empty delivery is not a message (and proton would assert) */
	pn_message_free(bare);
	pn_message_free(m);
}

static void test_event_and_filter_view(void)
{
	json_t *msgs = json_array();
	json_array_append_new(msgs, json_pack("{s:s}", "data", "eyJraW5kIjoia2VlcCJ9")); /* {"kind":"keep"} */
	char *text = amqevent_event("arn:aws:mq:us-east-1:1:broker:b:b-1", msgs);
	CHECK_STR(text, "{\"eventSource\":\"aws:mq\",\"eventSourceArn\":\"arn:aws:mq:us-east-1:1:broker:b:b-1\","
			"\"messages\":[{\"data\":\"eyJraW5kIjoia2VlcCJ9\"}]}");
	free(text);
	json_t *v = amqevent_filter_view(json_array_get(msgs, 0));
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	CHECK_STR(s, "{\"data\":{\"kind\":\"keep\"}}");
	free(s);
	json_decref(v);
	json_t *plain = json_pack("{s:s}", "data", "cGxhaW4="); /* plain */
	v = amqevent_filter_view(plain);
	s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	CHECK_STR(s, "{\"data\":\"cGxhaW4=\"}");
	free(s);
	json_decref(v);
	json_decref(plain);
	json_decref(msgs);
}

int main(void)
{
	T_RUN(test_text_message_with_everything);
	T_RUN(test_bare_bytes_message);
	T_RUN(test_annotation_type_ids_ttl_and_ingress);
	T_RUN(test_other_bodies_are_their_encoding);
	T_RUN(test_redelivered);
	T_RUN(test_event_and_filter_view);
	return t_done("test_amqevent");
}
