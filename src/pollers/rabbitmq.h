/*
 * rabbitmq.h - the poller of one Amazon MQ for RabbitMQ event source
 * mapping (pollers/ room; docs/pollers.md).
 *
 * Where the broker is and with which credentials is mqbroker.h's to find
 * (DescribeBroker, the BASIC_AUTH secret, --mq-broker); it starts this
 * poller when the broker's engine is RabbitMQ and hands it an
 * amqp://HOST:PORT endpoint to connect to. When the connection closes, for
 * whatever reason, the poller tells mqbroker.h (struct mq_hooks), which
 * finds the broker again and has it connect anew.
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
 * connection is made again by mqbroker.h after its backoff; what was not
 * acked went back to the queue by AMQP's rules.
 */
#ifndef LD_POLLERS_RABBITMQ_H
#define LD_POLLERS_RABBITMQ_H

#include <jansson.h>

#include "pollers/poller.h"
#include "server.h"

struct rmq_poller;

/* The poller of mapping uuid of scope (doc: its record, borrowed),
 * reporting through hooks (copied), not connected yet. NULL when out of
 * memory or the mapping has no usable queue or function. */
struct rmq_poller *rmq_poller_start(server_t *srv, const char *scope, const char *uuid, json_t *doc,
				    const struct mq_hooks *hooks);

/* Connects it to url (amqp://HOST:PORT, HOST an IP address or localhost)
 * as user with pass (copied), from a closed connection; otherwise a no-op.
 * Failing ends in hooks->closed, as a lost connection does. */
void rmq_poller_connect(struct rmq_poller *p, const char *url, const char *user, const char *pass);

/* Its counters (poller.h). */
const struct poller_stats *rmq_poller_stats(const struct rmq_poller *p);

/* Stops it: its channel and connection are closed now (what it held and did
 * not ack goes back to the queue); it is freed now, or when the call or
 * invocation in flight ends (nothing is acked after this). NULL: no-op. */
void rmq_poller_stop(struct rmq_poller *p);

#endif
