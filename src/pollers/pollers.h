/*
 * pollers.h - event source mappings that run (pollers/ room; docs/pollers.md).
 *
 * One poller per Enabled mapping, on the daemon's loop: it reads its
 * source with SigV4-signed calls through the loop's outbound client
 * (aws/awscall.h; --aws-endpoint-url / AWS_ENDPOINT_URL_<SERVICE> point it
 * at moto, LocalStack or real AWS), turns what it read into AWS's event,
 * and invokes the mapping's function through the one door (exec/door.h).
 * Pollers start at boot for every Enabled mapping and follow each mapping's
 * settle (api/esm.c): Enabled starts one, Disabled or gone stops it.
 *
 * Sources: SQS standard and FIFO queues (sqs.c), Kinesis and DynamoDB
 * Streams (stream.c, streamsrc.c), self-managed Kafka (kafka.c: a
 * librdkafka consumer, not an AWS call; MSK not yet), Amazon MQ (mqbroker.c
 * finds the broker once and starts one poller: RabbitMQ's rabbitmq.c,
 * rmqevent.c, or ActiveMQ's activemq.c, amqevent.c). The state hangs off server_t
 * (srv->pollers).
 */
#ifndef LD_POLLERS_H
#define LD_POLLERS_H

#include "pollers/poller.h"
#include "server.h"

/* Starts a poller for every Enabled mapping of a source lambdad polls. 0, or
 * the store's error. */
int pollers_start(server_t *srv);

/* The mapping (scope, uuid) settled: a poller runs while it is Enabled,
 * with its current settings (a changed mapping's poller starts over).
 * Nothing before pollers_start (a process that does not poll). */
void pollers_sync(server_t *srv, const char *scope, const char *uuid);

/* The counters of mapping (scope, uuid)'s poller: 0, or LD_ENOTFOUND when
 * none runs. */
int pollers_stats(server_t *srv, const char *scope, const char *uuid, struct poller_stats *out);

/* Whether the source a mapping would poll exists, asked of its service as
 * AWS does at CreateEventSourceMapping: SQS GetQueueUrl, Kinesis
 * DescribeStreamSummary, DynamoDB Streams DescribeStream. Only where an
 * endpoint is configured for that service (--aws-endpoint-url,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL): lambdad does not call AWS
 * itself while a mapping is created. done(ud, found) runs later, once:
 * found 1 (it exists), 0 (the service says it does not), -1 (no answer).
 * Returns 0 then; LD_ENOTFOUND when nothing is asked (no endpoint, another
 * source), another LD_E* on failure (done never runs). */
int pollers_check_source(server_t *srv, const char *arn, void (*done)(void *ud, int found), void *ud);

/* Pollers running. */
int pollers_count(server_t *srv);

/* The daemon stops: every poller ends (calls in flight are aborted, nothing
 * is deleted that was not processed). */
void pollers_stop(server_t *srv);

#endif
