/*
 * streamsrc.c - Kinesis and DynamoDB Streams, as the stream poller reads
 * them (streamsrc.h).
 */
#include "pollers/streamsrc.h"
#include "util/base64.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct stream_source kinesis = {
	.name = "Kinesis", .service = "kinesis", .env = "KINESIS", .host = "kinesis",
	.target = "Kinesis_20131202.", .content_type = "application/x-amz-json-1.1",
	.batch_info = "KinesisBatchInfo", .info_millis = 1, .max_limit = 10000, .poll_ms = 1000, .kinesis = 1,
};

/* DynamoDB Streams allow four reads a second per shard */
static const struct stream_source dynamodb = {
	.name = "DynamoDB Streams", .service = "dynamodb", .env = "DYNAMODB_STREAMS", .host = "streams.dynamodb",
	.target = "DynamoDBStreams_20120810.", .content_type = "application/x-amz-json-1.0",
	.batch_info = "DDBStreamBatchInfo", .info_millis = 0, .max_limit = 1000, .poll_ms = 250, .kinesis = 0,
};

const struct stream_source *streamsrc_of(const char *service)
{
	if (service && !strcmp(service, "kinesis"))
		return &kinesis;
	if (service && !strcmp(service, "dynamodb"))
		return &dynamodb;
	return NULL;
}

json_t *streamsrc_list_request(const struct stream_source *s, const char *arn, const char *name, const char *token)
{
	if (s->kinesis) /* NextToken stands alone: the stream is named on the first page only */
		return token ? json_pack("{s:s}", "NextToken", token) : json_pack("{s:s}", "StreamName", name);
	json_t *req = json_pack("{s:s}", "StreamArn", arn);
	if (req && token)
		json_object_set_new(req, "ExclusiveStartShardId", json_string(token));
	return req;
}

json_t *streamsrc_list_answer(const struct stream_source *s, json_t *answer, const char **token)
{
	if (s->kinesis) {
		*token = json_string_value(json_object_get(answer, "NextToken"));
		return json_object_get(answer, "Shards");
	}
	json_t *desc = json_object_get(answer, "StreamDescription");
	*token = json_string_value(json_object_get(desc, "LastEvaluatedShardId"));
	return json_object_get(desc, "Shards");
}

json_t *streamsrc_iterator_request(const struct stream_source *s, const char *arn, const char *name,
				   const char *shard, const char *type, const char *seq, double ts)
{
	json_t *req = s->kinesis ? json_pack("{s:s}", "StreamName", name) : json_pack("{s:s}", "StreamArn", arn);
	if (!req)
		return NULL;
	json_object_set_new(req, "ShardId", json_string(shard));
	json_object_set_new(req, "ShardIteratorType", json_string(type));
	if (seq)
		json_object_set_new(req, s->kinesis ? "StartingSequenceNumber" : "SequenceNumber", json_string(seq));
	if (!strcmp(type, "AT_TIMESTAMP"))
		json_object_set_new(req, "Timestamp", json_real(ts));
	return req;
}

const char *streamsrc_seq(const struct stream_source *s, json_t *rec)
{
	if (s->kinesis)
		return json_string_value(json_object_get(rec, "SequenceNumber"));
	return json_string_value(json_object_get(json_object_get(rec, "dynamodb"), "SequenceNumber"));
}

int64_t streamsrc_arrival_ms(const struct stream_source *s, json_t *rec)
{
	json_t *t = s->kinesis ? json_object_get(rec, "ApproximateArrivalTimestamp")
			       : json_object_get(json_object_get(rec, "dynamodb"), "ApproximateCreationDateTime");
	return json_is_number(t) ? (int64_t)llround(json_number_value(t) * 1000.0) : 0;
}

const char *streamsrc_key(const struct stream_source *s, json_t *rec, char *buf, size_t cap)
{
	if (s->kinesis)
		return json_string_value(json_object_get(rec, "PartitionKey")) ?: "";
	char *text = json_dumps(json_object_get(json_object_get(rec, "dynamodb"), "Keys"), JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(buf, cap, "%s", text ? text : "");
	free(text);
	return buf;
}

json_t *streamsrc_event_record(const struct stream_source *s, json_t *rec, const char *arn, const char *shard,
			       const char *region, const char *role)
{
	if (!s->kinesis) {
		json_t *out = json_deep_copy(rec);
		if (out)
			json_object_set_new(out, "eventSourceARN", json_string(arn));
		return out;
	}
	const char *seq = streamsrc_seq(s, rec) ?: "";
	char id[400];
	snprintf(id, sizeof(id), "%s:%s", shard, seq);
	json_t *k = json_pack("{s:s,s:O,s:s,s:O,s:O}", "kinesisSchemaVersion", "1.0", "partitionKey",
			      json_object_get(rec, "PartitionKey"), "sequenceNumber", seq, "data",
			      json_object_get(rec, "Data"), "approximateArrivalTimestamp",
			      json_object_get(rec, "ApproximateArrivalTimestamp"));
	if (!k)
		return NULL;
	return json_pack("{s:o,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kinesis", k, "eventSource", "aws:kinesis",
			 "eventVersion", "1.0", "eventID", id, "eventName", "aws:kinesis:record", "invokeIdentityArn",
			 role ? role : "", "awsRegion", region, "eventSourceARN", arn);
}

json_t *streamsrc_filter_view(const struct stream_source *s, json_t *event_record)
{
	if (!s->kinesis)
		return json_incref(event_record);
	json_t *k = json_object_get(event_record, "kinesis");
	const char *data = json_string_value(json_object_get(k, "data"));
	json_t *view = json_pack("{s:O}", "data", json_object_get(k, "data"));
	unsigned char *raw = NULL;
	size_t n = 0;
	if (view && data && b64_decode(data, strlen(data), &raw, &n) == 0) {
		json_t *doc = json_loadb((const char *)raw, n, 0, NULL);
		if (json_is_object(doc) || json_is_array(doc))
			json_object_set(view, "data", doc);
		json_decref(doc);
	}
	free(raw);
	return view;
}
