/*
 * streamsrc.h - what differs between Kinesis and DynamoDB Streams for the
 * stream poller (pollers/ room; stream.c is the machine they share).
 *
 * Both are read the same way: list the shards, get an iterator per shard,
 * GetRecords with it. They differ in the calls' names and members, in
 * what a record looks like and in the event AWS makes of it. Facts from
 * AWS's recordings (test_lambda_integration_kinesis / _dynamodbstreams):
 *
 *   Kinesis   ListShards (StreamName, NextToken), GetShardIterator
 *             (StreamName), JSON 1.1; a record {SequenceNumber,
 *             ApproximateArrivalTimestamp, Data, PartitionKey} becomes
 *             {"kinesis":{kinesisSchemaVersion, partitionKey,
 *             sequenceNumber, data, approximateArrivalTimestamp},
 *             eventSource "aws:kinesis", eventVersion "1.0", eventID
 *             "SHARD:SEQ", eventName "aws:kinesis:record",
 *             invokeIdentityArn (the function's role), awsRegion,
 *             eventSourceARN}
 *   DynamoDB  DescribeStream (StreamArn, ExclusiveStartShardId),
 *   Streams   GetShardIterator (StreamArn), JSON 1.0, signed as
 *             "dynamodb"; the record as the stream gives it (eventID,
 *             eventName, eventVersion, eventSource, awsRegion, dynamodb)
 *             with eventSourceARN added
 */
#ifndef LD_POLLERS_STREAMSRC_H
#define LD_POLLERS_STREAMSRC_H

#include <jansson.h>
#include <stdint.h>

struct stream_source {
	const char *name;         /* for lambdad's log: "Kinesis" */
	const char *service;      /* SigV4's signing name */
	const char *env;          /* AWS_ENDPOINT_URL_<env> */
	const char *host;         /* the first label of AWS's own endpoint */
	const char *target;       /* X-Amz-Target's prefix */
	const char *content_type;
	const char *batch_info;   /* the failure record's member: KinesisBatchInfo */
	int info_millis;          /* its timestamps carry milliseconds */
	int max_limit;            /* GetRecords' Limit at most */
	int poll_ms;              /* a shard that gave nothing is read again after this */
	int kinesis;              /* 1: Kinesis, 0: DynamoDB Streams */
};

/* The source of an ARN's service ("kinesis", "dynamodb"), or NULL. */
const struct stream_source *streamsrc_of(const char *service);

/* The request that lists a stream's shards, from token (NULL: the first
 * page); name is the stream's name (Kinesis) and arn its ARN. */
json_t *streamsrc_list_request(const struct stream_source *s, const char *arn, const char *name,
			       const char *token);
/* The answer's shards (borrowed), and in *token the next page's token
 * (borrowed; NULL on the last page). */
json_t *streamsrc_list_answer(const struct stream_source *s, json_t *answer, const char **token);

/* GetShardIterator's request: type TRIM_HORIZON, LATEST, AT_TIMESTAMP
 * (ts, epoch seconds), AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER (seq). */
json_t *streamsrc_iterator_request(const struct stream_source *s, const char *arn, const char *name,
				   const char *shard, const char *type, const char *seq, double ts);

/* A record's sequence number, its arrival (ms since the epoch) and the key
 * that orders it (Kinesis' partition key, DynamoDB's Keys as compact JSON
 * into buf of cap bytes). */
const char *streamsrc_seq(const struct stream_source *s, json_t *rec);
int64_t streamsrc_arrival_ms(const struct stream_source *s, json_t *rec);
const char *streamsrc_key(const struct stream_source *s, json_t *rec, char *buf, size_t cap);

/* The record as AWS's event carries it (a new reference); role is the
 * function's (Kinesis' invokeIdentityArn). */
json_t *streamsrc_event_record(const struct stream_source *s, json_t *rec, const char *arn, const char *shard,
			       const char *region, const char *role);

/* What FilterCriteria see of an event record (a new reference): for
 * Kinesis only {"data": ...}, the data decoded when it is a JSON document
 * (AWS filters Kinesis records on data alone); DynamoDB's whole record. */
json_t *streamsrc_filter_view(const struct stream_source *s, json_t *event_record);

#endif
