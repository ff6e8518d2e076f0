/*
 * test_kafkasrc.c - unit tests of pollers/kafkasrc.c: the Kafka event
 * record (members in AWS's order, base64 key and value, a record without
 * key, headers as Java's signed bytes), the filter view, the event and
 * the failure record's KafkaBatchInfo, ReportBatchItemFailures' answers.
 */
#include "t.h"
#include "pollers/kafkasrc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void check_dump(json_t *j, const char *want)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(s, want);
	free(s);
	json_decref(j);
}

static void test_record(void)
{
	struct kafkasrc_header hs[] = { { "h", "\xc3\xa9", 2 }, { "none", NULL, 0 }, { "bad\xff", "x", 1 } };
	struct kafkasrc_msg m = { .topic = "orders", .partition = 3, .offset = 15, .timestamp = 1545084650987,
				  .ts_type = KAFKASRC_TS_CREATE, .key = "recordKey", .key_len = 9,
				  .value = "{\"key\":\"value\"}", .value_len = 15, .headers = hs, .nheaders = 3 };
	size_t bytes = 0;
	check_dump(kafkasrc_record(&m, &bytes),
		   "{\"topic\":\"orders\",\"partition\":3,\"offset\":15,\"timestamp\":1545084650987,"
		   "\"timestampType\":\"CREATE_TIME\",\"key\":\"cmVjb3JkS2V5\",\"value\":\"eyJrZXkiOiJ2YWx1ZSJ9\","
		   "\"headers\":[{\"h\":[-61,-87]},{\"none\":[]}]}");
	CHECK(bytes > 60 && bytes < 600);
	/* no key, no value, log-append time, no headers */
	struct kafkasrc_msg bare = { .topic = "t", .partition = 0, .offset = 0, .timestamp = 7,
				     .ts_type = KAFKASRC_TS_LOG_APPEND };
	check_dump(kafkasrc_record(&bare, &bytes),
		   "{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"timestamp\":7,\"timestampType\":\"LOG_APPEND_TIME\","
		   "\"value\":\"\",\"headers\":[]}");
	/* an empty key is a key */
	bare.key = "";
	bare.ts_type = KAFKASRC_TS_NONE;
	check_dump(kafkasrc_record(&bare, &bytes),
		   "{\"topic\":\"t\",\"partition\":0,\"offset\":0,\"timestamp\":7,\"timestampType\":\"NO_TIMESTAMP_TYPE\","
		   "\"key\":\"\",\"value\":\"\",\"headers\":[]}");
	char key[300];
	kafkasrc_key("orders", 12, key, sizeof(key));
	CHECK_STR(key, "orders-12");
}

static void test_filter_view(void)
{
	check_dump(kafkasrc_filter_view("{\"a\":[1,2]}", 11), "{\"value\":{\"a\":[1,2]}}");
	check_dump(kafkasrc_filter_view("42", 2), "{\"value\":42}");
	check_dump(kafkasrc_filter_view("plain text", 10), "{\"value\":\"plain text\"}");
	check_dump(kafkasrc_filter_view(NULL, 5), "{\"value\":\"\"}");
	CHECK(kafkasrc_filter_view("\xff\xfe", 2) == NULL);
	/* only the given bytes count */
	check_dump(kafkasrc_filter_view("{}trailing", 2), "{\"value\":{}}");
}

static void test_event(void)
{
	json_t *recs = json_pack("{s:[{s:i}]}", "t-0", "offset", 1);
	check_dump(kafkasrc_event(NULL, "a:1,b:2", json_incref(recs)),
		   "{\"eventSource\":\"SelfManagedKafka\",\"bootstrapServers\":\"a:1,b:2\","
		   "\"records\":{\"t-0\":[{\"offset\":1}]}}");
	/* Amazon MSK: AWS's aws:kafka event names the cluster */
	check_dump(kafkasrc_event("arn:aws:kafka:us-east-1:1:cluster/c/u", "a:1", recs),
		   "{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":\"arn:aws:kafka:us-east-1:1:cluster/c/u\","
		   "\"bootstrapServers\":\"a:1\",\"records\":{\"t-0\":[{\"offset\":1}]}}");
}

static void test_batch_info(void)
{
	json_t *recs = json_pack("{s:[{s:i,s:I},{s:i,s:I}],s:[{s:i,s:I}],s:[]}", "t-0", "offset", 4, "timestamp",
				 (json_int_t)1573691884835, "offset", 9, "timestamp", (json_int_t)1573691885580, "t-1",
				 "offset", 0, "timestamp", (json_int_t)1573691884000, "t-2");
	check_dump(kafkasrc_batch_info(NULL, "h:1,h:2", recs, 1234),
		   "{\"batchSize\":3,\"bootstrapServers\":\"h:1,h:2\",\"payloadSize\":1234,\"recordsInfo\":{"
		   "\"t-0\":{\"firstRecordOffset\":\"4\",\"lastRecordOffset\":\"9\",\"firstRecordTimestamp\":"
		   "\"2019-11-14T00:38:04.835Z\",\"lastRecordTimestamp\":\"2019-11-14T00:38:05.580Z\"},"
		   "\"t-1\":{\"firstRecordOffset\":\"0\",\"lastRecordOffset\":\"0\",\"firstRecordTimestamp\":"
		   "\"2019-11-14T00:38:04.000Z\",\"lastRecordTimestamp\":\"2019-11-14T00:38:04.000Z\"}}}");
	/* an Amazon MSK cluster's has its ARN after batchSize */
	check_dump(kafkasrc_batch_info("arn:aws:kafka:us-east-1:1:cluster/c/x", "h:1", recs, 5),
		   "{\"batchSize\":3,\"eventSourceArn\":\"arn:aws:kafka:us-east-1:1:cluster/c/x\","
		   "\"bootstrapServers\":\"h:1\",\"payloadSize\":5,\"recordsInfo\":{"
		   "\"t-0\":{\"firstRecordOffset\":\"4\",\"lastRecordOffset\":\"9\",\"firstRecordTimestamp\":"
		   "\"2019-11-14T00:38:04.835Z\",\"lastRecordTimestamp\":\"2019-11-14T00:38:05.580Z\"},"
		   "\"t-1\":{\"firstRecordOffset\":\"0\",\"lastRecordOffset\":\"0\",\"firstRecordTimestamp\":"
		   "\"2019-11-14T00:38:04.000Z\",\"lastRecordTimestamp\":\"2019-11-14T00:38:04.000Z\"}}}");
	json_decref(recs);
}

static json_t *failures(const char *text, json_t *recs)
{
	return kafkasrc_failures(text, text ? strlen(text) : 0, recs);
}

static void test_failures(void)
{
	json_t *recs = json_pack("{s:[{s:i},{s:i},{s:i}],s:[{s:i}]}", "t-0", "offset", 4, "offset", 5, "offset", 9,
				 "t-1", "offset", 0);
	/* success: nothing, null, an empty list */
	const char *ok[] = { NULL, "", "null", "\"\"", "[]", "{}", "{\"batchItemFailures\":null}",
			     "{\"batchItemFailures\":[]}" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		json_t *f = failures(ok[i], recs);
		CHECK(f && json_object_size(f) == 0);
		json_decref(f);
	}
	/* the lowest offset of each partition named */
	json_t *f = failures("{\"batchItemFailures\":[{\"itemIdentifier\":{\"topic-partition\":\"t-0\",\"offset\":9}},"
			     "{\"itemIdentifier\":{\"topic-partition\":\"t-0\",\"offset\":5}},"
			     "{\"itemIdentifier\":{\"topic-partition\":\"t-1\",\"offset\":0}}]}",
			     recs);
	check_dump(f, "{\"t-0\":5,\"t-1\":0}");
	/* the whole batch again: not JSON, not an object, not a list, a partition or offset not in the event */
	const char *bad[] = { "not json", "[1]", "7", "{\"batchItemFailures\":{}}",
			      "{\"batchItemFailures\":[{\"itemIdentifier\":{\"topic-partition\":\"t-2\",\"offset\":0}}]}",
			      "{\"batchItemFailures\":[{\"itemIdentifier\":{\"topic-partition\":\"t-0\",\"offset\":6}}]}",
			      "{\"batchItemFailures\":[{\"itemIdentifier\":{\"topic-partition\":\"t-0\",\"offset\":\"5\"}}]}",
			      "{\"batchItemFailures\":[{\"itemIdentifier\":\"t-0\"}]}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!failures(bad[i], recs));
	json_decref(recs);
}

int main(void)
{
	T_RUN(test_record);
	T_RUN(test_filter_view);
	T_RUN(test_event);
	T_RUN(test_batch_info);
	T_RUN(test_failures);
	return t_done("test_kafkasrc");
}
