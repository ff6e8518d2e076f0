/*
 * test_streamsrc.c - unit tests of pollers/streamsrc.c: the two stream
 * sources' requests, answers and event records, against the shapes of
 * AWS's recordings (test_lambda_integration_kinesis / _dynamodbstreams).
 */
#include "t.h"
#include "pollers/streamsrc.h"

#include <jansson.h>
#include <stdlib.h>

static char *dump(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return s;
}

static void check_dump(json_t *j, const char *want)
{
	char *s = dump(j);
	CHECK_STR(s, want);
	free(s);
}

static void test_sources(void)
{
	const struct stream_source *k = streamsrc_of("kinesis"), *d = streamsrc_of("dynamodb");
	CHECK(k && k->kinesis && !strcmp(k->service, "kinesis") && !strcmp(k->batch_info, "KinesisBatchInfo"));
	CHECK(d && !d->kinesis && !strcmp(d->service, "dynamodb") && !strcmp(d->batch_info, "DDBStreamBatchInfo"));
	CHECK(streamsrc_of("sqs") == NULL && streamsrc_of(NULL) == NULL);
}

static void test_requests(void)
{
	const struct stream_source *k = streamsrc_of("kinesis"), *d = streamsrc_of("dynamodb");
	const char *sarn = "arn:aws:kinesis:us-east-1:1:stream/s";
	check_dump(streamsrc_list_request(k, sarn, "s", NULL), "{\"StreamName\":\"s\"}");
	check_dump(streamsrc_list_request(k, sarn, "s", "tok"), "{\"NextToken\":\"tok\"}");
	check_dump(streamsrc_list_request(d, "A", "", "sh-1"), "{\"StreamArn\":\"A\",\"ExclusiveStartShardId\":\"sh-1\"}");
	check_dump(streamsrc_iterator_request(k, sarn, "s", "sh", "AFTER_SEQUENCE_NUMBER", "42", 0),
		   "{\"StreamName\":\"s\",\"ShardId\":\"sh\",\"ShardIteratorType\":\"AFTER_SEQUENCE_NUMBER\","
		   "\"StartingSequenceNumber\":\"42\"}");
	check_dump(streamsrc_iterator_request(d, "A", "", "sh", "AT_SEQUENCE_NUMBER", "7", 0),
		   "{\"StreamArn\":\"A\",\"ShardId\":\"sh\",\"ShardIteratorType\":\"AT_SEQUENCE_NUMBER\","
		   "\"SequenceNumber\":\"7\"}");
	check_dump(streamsrc_iterator_request(k, sarn, "s", "sh", "AT_TIMESTAMP", NULL, 1700000000.5),
		   "{\"StreamName\":\"s\",\"ShardId\":\"sh\",\"ShardIteratorType\":\"AT_TIMESTAMP\","
		   "\"Timestamp\":1700000000.5}");

	const char *tok = "x";
	json_t *a = json_loads("{\"Shards\":[{\"ShardId\":\"a\"}],\"NextToken\":\"n\"}", 0, NULL);
	CHECK(json_array_size(streamsrc_list_answer(k, a, &tok)) == 1 && tok && !strcmp(tok, "n"));
	json_decref(a);
	a = json_loads("{\"StreamDescription\":{\"Shards\":[{\"ShardId\":\"a\"},{\"ShardId\":\"b\"}]}}", 0, NULL);
	CHECK(json_array_size(streamsrc_list_answer(d, a, &tok)) == 2 && tok == NULL);
	json_decref(a);
}

static void test_kinesis_record(void)
{
	const struct stream_source *k = streamsrc_of("kinesis");
	json_t *rec = json_loads("{\"SequenceNumber\":\"495\",\"ApproximateArrivalTimestamp\":1545084650.987,"
				 "\"Data\":\"eyJhIjogMX0=\",\"PartitionKey\":\"pk\"}", 0, NULL);
	CHECK_STR(streamsrc_seq(k, rec), "495");
	CHECK(streamsrc_arrival_ms(k, rec) == 1545084650987LL);
	char buf[64];
	CHECK_STR(streamsrc_key(k, rec, buf, sizeof(buf)), "pk");
	json_t *ev = streamsrc_event_record(k, rec, "arn:aws:kinesis:us-east-2:1:stream/s", "shardId-000000000006",
					    "us-east-2", "arn:aws:iam::1:role/r");
	char *s = dump(json_incref(ev));
	CHECK_STR(s, "{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"pk\",\"sequenceNumber\":\"495\","
		     "\"data\":\"eyJhIjogMX0=\",\"approximateArrivalTimestamp\":1545084650.987},"
		     "\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"shardId-000000000006:495\","
		     "\"eventName\":\"aws:kinesis:record\",\"invokeIdentityArn\":\"arn:aws:iam::1:role/r\","
		     "\"awsRegion\":\"us-east-2\",\"eventSourceARN\":\"arn:aws:kinesis:us-east-2:1:stream/s\"}");
	free(s);
	/* filters see {"data": the decoded JSON document} only */
	check_dump(streamsrc_filter_view(k, ev), "{\"data\":{\"a\":1}}");
	json_decref(ev);
	json_object_set_new(rec, "Data", json_string("aGVsbG8=")); /* "hello": not JSON, stays as sent */
	ev = streamsrc_event_record(k, rec, "A", "S", "R", NULL);
	check_dump(streamsrc_filter_view(k, ev), "{\"data\":\"aGVsbG8=\"}");
	json_decref(ev);
	json_decref(rec);
}

static void test_dynamodb_record(void)
{
	const struct stream_source *d = streamsrc_of("dynamodb");
	json_t *rec = json_loads("{\"eventID\":\"e\",\"eventName\":\"INSERT\",\"eventVersion\":\"1.1\",\"eventSource\":"
				 "\"aws:dynamodb\",\"awsRegion\":\"us-east-1\",\"dynamodb\":{\"ApproximateCreationDateTime\":"
				 "1700000000,\"Keys\":{\"k\":{\"S\":\"a\"},\"j\":{\"N\":\"1\"}},\"SequenceNumber\":\"11\","
				 "\"SizeBytes\":20,\"StreamViewType\":\"KEYS_ONLY\"}}", 0, NULL);
	CHECK_STR(streamsrc_seq(d, rec), "11");
	CHECK(streamsrc_arrival_ms(d, rec) == 1700000000000LL);
	char buf[64];
	CHECK_STR(streamsrc_key(d, rec, buf, sizeof(buf)), "{\"j\":{\"N\":\"1\"},\"k\":{\"S\":\"a\"}}");
	json_t *ev = streamsrc_event_record(d, rec, "arn:t", "sh", "us-east-1", NULL);
	const char *last = NULL;
	const char *key;
	json_t *v;
	json_object_foreach(ev, key, v) last = key;
	CHECK_STR(last, "eventSourceARN"); /* as AWS's event: the stream's record, then the ARN */
	CHECK_STR(json_string_value(json_object_get(ev, "eventName")), "INSERT");
	/* filters see the whole record */
	json_t *view = streamsrc_filter_view(d, ev);
	CHECK(view && json_equal(view, ev));
	json_decref(view);
	json_decref(ev);
	json_decref(rec);
}

int main(void)
{
	T_RUN(test_sources);
	T_RUN(test_requests);
	T_RUN(test_kinesis_record);
	T_RUN(test_dynamodb_record);
	return t_done("test_streamsrc");
}
