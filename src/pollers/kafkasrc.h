/*
 * kafkasrc.h - what Lambda makes of a Kafka record (pollers/ room): the
 * event record, the view FilterCriteria see, and the event. kafka.c takes
 * the records from librdkafka; this module knows nothing of librdkafka, so
 * that its shapes are checked without a broker (tests/unit/test_kafkasrc.c).
 *
 * Facts (AWS's self-managed Kafka event, and the AWS clients' event types):
 * {"eventSource":"SelfManagedKafka","bootstrapServers":"h1:p1,h2:p2",
 * "records":{"TOPIC-PARTITION":[record, ...]}}, a record being
 * {"topic","partition","offset","timestamp","timestampType" (CREATE_TIME,
 * LOG_APPEND_TIME),"key" (base64),"value" (base64),"headers":[{"NAME":
 * [bytes]}]} with each header's bytes as Java's signed bytes (-128..127).
 * A record without a key has no "key" member; one without a value has
 * "value":"". Lambda filters Kafka records on their value: the pattern
 * sees {"value": the value as a JSON document, else as a string}.
 *
 * A batch given up (retries exhausted, records too old) is described to an
 * OnFailure destination by AWS's failure record, whose KafkaBatchInfo is
 * {"batchSize","eventSourceArn" (MSK only),"bootstrapServers","payloadSize",
 * "recordsInfo":{"TOPIC-PARTITION":{"firstRecordOffset","lastRecordOffset",
 * "firstRecordTimestamp","lastRecordTimestamp"}}}, offsets as strings.
 *
 * A function of a mapping with FunctionResponseTypes ReportBatchItemFailures
 * answers {"batchItemFailures":[{"itemIdentifier":{"topic-partition":
 * "TOPIC-PARTITION","offset":N}}]}: each partition named is retried from
 * its lowest offset named, the rest is done.
 */
#ifndef LD_POLLERS_KAFKASRC_H
#define LD_POLLERS_KAFKASRC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum kafkasrc_ts { KAFKASRC_TS_NONE, KAFKASRC_TS_CREATE, KAFKASRC_TS_LOG_APPEND };

struct kafkasrc_header {
	const char *name;
	const void *value;      /* NULL: none (an empty list) */
	size_t len;
};

/* one record, as read (everything borrowed) */
struct kafkasrc_msg {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int64_t timestamp;      /* ms since the epoch */
	enum kafkasrc_ts ts_type;
	const void *key;        /* NULL: the record has none */
	size_t key_len;
	const void *value;      /* NULL: none */
	size_t value_len;
	const struct kafkasrc_header *headers;
	size_t nheaders;
};

/* The event record of m (a new reference; caller json_decref()s), with
 * *bytes set to about what it adds to an event; NULL when out of memory.
 * Headers whose name is not UTF-8 are left out. */
json_t *kafkasrc_record(const struct kafkasrc_msg *m, size_t *bytes);

/* "TOPIC-PARTITION", the event's key of a partition's records, into out
 * (n bytes). */
void kafkasrc_key(const char *topic, int32_t partition, char *out, size_t n);

/* {"value": ...}, what FilterCriteria are matched against (a new
 * reference); NULL when out of memory or the value is neither JSON nor
 * UTF-8 text (no filter keeps it). */
json_t *kafkasrc_filter_view(const void *value, size_t len);

/* The event of records (an object "TOPIC-PARTITION" -> array of records;
 * the reference is taken, also on failure) read from servers: a new
 * reference, or NULL when out of memory. msk_arn: the Amazon MSK cluster's
 * ARN ({"eventSource":"aws:kafka","eventSourceArn":...}), or NULL for a
 * self-managed cluster ("SelfManagedKafka"). */
json_t *kafkasrc_event(const char *msk_arn, const char *servers, json_t *records);

/* The KafkaBatchInfo of a failure record (OnFailure destinations) about
 * records (an event's "records" object, borrowed) whose event was
 * payload_size bytes: {"batchSize", "eventSourceArn" (msk_arn; left out
 * when NULL), "bootstrapServers", "payloadSize", "recordsInfo":
 * {"TOPIC-PARTITION": {"firstRecordOffset", "lastRecordOffset" (strings),
 * "firstRecordTimestamp", "lastRecordTimestamp" (ISO 8601 with
 * milliseconds)}}}. A new reference, or NULL when out of memory. */
json_t *kafkasrc_batch_info(const char *msk_arn, const char *servers, json_t *records, size_t payload_size);

/* ReportBatchItemFailures: what the function's response (payload, len
 * bytes) says failed of the event whose "records" object is records
 * (borrowed): a new object {"TOPIC-PARTITION": the lowest offset reported
 * in it}, empty when everything succeeded (an empty or null response, no
 * or null batchItemFailures, an empty list). NULL when the whole batch is
 * to be retried: a response that is not such a document, an
 * itemIdentifier {"topic-partition","offset"} naming a partition or an
 * offset not in the event (or out of memory). */
json_t *kafkasrc_failures(const char *payload, size_t len, json_t *records);

#endif
