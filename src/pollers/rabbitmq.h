/*
 * rabbitmq.h - the poller of one Amazon MQ for RabbitMQ event source
 * mapping (pollers/ room; docs/pollers.md).
 *
 * Where the broker is, as AWS finds it: the mapping's EventSourceArn
 * (arn:aws:mq:REGION:ACCOUNT:broker:NAME:ID) is described with Amazon MQ's
 * DescribeBroker (GET /v1/brokers/ID) and its BASIC_AUTH secret read with
 * Secrets Manager's GetSecretValue ({"username","password"}), both SigV4
 * calls to the AWS endpoint (--aws-endpoint-url, AWS_ENDPOINT_URL_MQ /
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL). The broker's AMQP
 * endpoint is the first amqp(s):// one of its instances, unless
 * `--mq-broker KEY=amqp://HOST:PORT` (KEY: the broker id or the endpoint's
 * host) points it elsewhere, e.g. at a local RabbitMQ.
 *
 * As AWS: one consumer of Queues[0] in the VIRTUAL_HOST ("/" by default),
 * prefetch (basic.qos) BatchSize; messages gathered until BatchSize, the
 * batching window (MaximumBatchingWindowInSeconds, 0.5 s when not set) or
 * the 6 MB invoke payload; one synchronous invoke at a time through the one
 * door with the "aws:rmq" event (rmqevent.h); a success acks the batch
 * (basic.ack, multiple), a function error or a failed invoke gives it back
 * (basic.nack, requeue: the broker redelivers it, redelivered true). A
 * message FilterCriteria keep out is acked without invoking; a message too
 * big for an invoke is rejected without requeue (dropped, or dead-lettered
 * by the queue's own policy). The connection is lambdad's own, on the loop:
 * a non-blocking TCP connect, then the AMQP handshake with short bounded
 * timeouts, then frames read as the socket becomes readable. A lost
 * connection is made again with a backoff (1 s doubling to 30 s); what was
 * not acked went back to the queue by AMQP's rules.
 */
#ifndef LD_POLLERS_RABBITMQ_H
#define LD_POLLERS_RABBITMQ_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct rmq_poller;

/* Starts the poller of mapping uuid of scope (doc: its record, borrowed)
 * with ob (borrowed; it must outlive the poller's calls). NULL when out of
 * memory or the mapping is not an Amazon MQ one with a queue. */
struct rmq_poller *rmq_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc);

/* Its counters (poller.h). */
const struct poller_stats *rmq_poller_stats(const struct rmq_poller *p);

/* Stops it: its channel and connection are closed now (what it held and did
 * not ack goes back to the queue); it is freed now, or when the call or
 * invocation in flight ends (nothing is acked after this). NULL: no-op. */
void rmq_poller_stop(struct rmq_poller *p);

#endif
