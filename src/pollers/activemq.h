/*
 * activemq.h - the poller of one Amazon MQ for ActiveMQ event source
 * mapping (pollers/ room; docs/pollers.md).
 *
 * Where the broker is, as for RabbitMQ (rabbitmq.h): the mapping's
 * EventSourceArn is described with Amazon MQ's DescribeBroker and its
 * BASIC_AUTH secret read with Secrets Manager, both at the AWS endpoint;
 * the broker's AMQP endpoint is the first amqp(+ssl):// one of its
 * instances, unless `--mq-broker KEY=amqp://HOST:PORT` (KEY: the broker id
 * or the endpoint's host) points it elsewhere. Both pollers start for an
 * Amazon MQ mapping (its ARN does not say the engine); DescribeBroker's
 * engineType decides which one consumes, the other stays idle.
 *
 * As AWS: one consumer of Queues[0], with AMQP 1.0 (ActiveMQ's amqp
 * transport) through qpid-proton's engine on the daemon's loop; link credit
 * keeps at most BatchSize messages unsettled; messages gathered until
 * BatchSize, the batching window (MaximumBatchingWindowInSeconds, 0.5 s
 * when not set) or the 6 MB invoke payload; one synchronous invoke at a
 * time with AWS's event (amqevent.h); a success accepts (settles) the batch,
 * a function error or a failed invoke gives it back to the broker
 * (modified, delivery-failed: redelivered, its delivery count raised;
 * released where the broker is RabbitMQ, whose 3.x AMQP 1.0 plugin does not
 * take modified). A message FilterCriteria keep out is accepted without
 * invoking; one too big for an invoke is rejected (dropped, or
 * dead-lettered by the broker). Refused credentials and an unreachable
 * broker show in LastProcessingResult.
 */
#ifndef LD_POLLERS_ACTIVEMQ_H
#define LD_POLLERS_ACTIVEMQ_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct amq_poller;

/* Starts the poller of mapping uuid of scope (doc: its record, borrowed)
 * with ob (borrowed; it must outlive the poller's calls). NULL when out of
 * memory or the mapping is not an Amazon MQ one with a queue. */
struct amq_poller *amq_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc);

/* Whether DescribeBroker said the broker runs ActiveMQ (this poller, not
 * the RabbitMQ one, consumes it). */
int amq_poller_engaged(const struct amq_poller *p);

/* Its counters (poller.h). */
const struct poller_stats *amq_poller_stats(const struct amq_poller *p);

/* Stops it: the connection is closed now (what it held and did not settle
 * goes back to the queue); it is freed now, or when the call or invocation
 * in flight ends (nothing is settled after this). NULL: no-op. */
void amq_poller_stop(struct amq_poller *p);

#endif
