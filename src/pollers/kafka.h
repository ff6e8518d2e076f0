/*
 * kafka.h - the poller of one Apache Kafka event source mapping: a
 * self-managed cluster, or an Amazon MSK cluster whose bootstrap servers
 * --msk-cluster names (srv->msk_clusters; then the group is
 * AmazonManagedKafkaEventSourceConfig's and the event AWS's "aws:kafka"
 * one, with eventSourceArn) (pollers/ room; docs/pollers.md, "Kafka").
 *
 * As AWS: a consumer of the mapping's consumer group
 * (SelfManagedKafkaEventSourceConfig.ConsumerGroupId, the mapping's UUID by
 * default) subscribes to its Topics at its bootstrap servers
 * (SelfManagedEventSource.Endpoints.KAFKA_BOOTSTRAP_SERVERS) and starts
 * where the group committed, else at StartingPosition (TRIM_HORIZON: the
 * earliest record, LATEST: the next one). Records are gathered into a batch
 * of up to BatchSize records (and at most ~6 MB of event) for up to
 * MaximumBatchingWindowInSeconds (500 ms when it is not set, AWS's default
 * for Kafka), and the function is invoked synchronously, through the one
 * door, with AWS's event: {"eventSource":"SelfManagedKafka",
 * "bootstrapServers":"h:p,...","records":{"TOPIC-PARTITION":[{topic,
 * partition, offset, timestamp, timestampType, key (base64; absent when the
 * record has none), value (base64), headers [{NAME: [byte, ...]}]}]}}.
 *
 * One batch at a time per mapping, so each partition's records reach the
 * function in order. The group's offsets are committed (asynchronously, one
 * past each partition's last record of the batch) only after the function
 * succeeded; a function error or a failed invoke retries the same batch
 * with a growing pause (0.5 s, doubling, at most 30 s), as long as it takes
 * unless MaximumRetryAttempts says otherwise (then, and for records older
 * than MaximumRecordAgeInSeconds, the records are given up: AWS's failure
 * record goes to DestinationConfig.OnFailure and their offsets are
 * committed; kafkasrc.h has its shape); a throttle retries
 * after a second without counting. FilterCriteria are matched against
 * {"value": the value as JSON, else as a string}; what no filter keeps is
 * committed past without an invoke. LastProcessingResult follows ("OK",
 * "PROBLEM: Function call failed").
 *
 * SourceAccessConfigurations (SASL/PLAIN, SCRAM, mutual TLS, a root CA)
 * become librdkafka settings through kafkaauth.h, with the secrets read
 * from Secrets Manager before the consumer is made.
 *
 * librdkafka runs its own threads; lambdad's state is touched on the loop
 * only: the consumer queue (every callback is served from it) signals an
 * eventfd the loop watches, and the poller takes what is there with
 * rd_kafka_consumer_poll(rk, 0).
 */
#ifndef LD_POLLERS_KAFKA_H
#define LD_POLLERS_KAFKA_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct kafka_poller;

/* Starts consuming for mapping uuid of scope (doc: its record; borrowed):
 * first the secrets its SourceAccessConfigurations name are read through ob
 * (Secrets Manager), then the consumer is made (both tried again every 10 s
 * while they fail, with LastProcessingResult saying why). NULL when out of
 * memory, or when the record names no bootstrap server, topic or function,
 * or SourceAccessConfigurations that cannot work (logged). */
struct kafka_poller *kafka_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid,
					json_t *doc);

/* Its counters (poller.h). */
const struct poller_stats *kafka_poller_stats(const struct kafka_poller *p);

/* Stops it: the consumer leaves its group and is closed (waiting at most
 * KAFKA_CLOSE_MS for that) without committing anything it did not process;
 * records polled and not processed come again to the group's next consumer.
 * Freed now, or when the invocation in flight ends. */
void kafka_poller_stop(struct kafka_poller *p);

#endif
