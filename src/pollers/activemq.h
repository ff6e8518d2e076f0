/*
 * activemq.h - the poller of one Amazon MQ for ActiveMQ event source
 * mapping (pollers/ room; docs/pollers.md).
 *
 * Where the broker is and with which credentials is mqbroker.h's to find
 * (DescribeBroker, the BASIC_AUTH secret, --mq-broker); it starts this
 * poller when the broker's engineType is ACTIVEMQ and hands it an
 * amqp://HOST:PORT endpoint to connect to. When the connection closes, for
 * whatever reason, the poller tells mqbroker.h (struct mq_hooks), which
 * finds the broker again and has it connect anew.
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
 * broker show in LastProcessingResult (through mqbroker.h, which stores it).
 */
#ifndef LD_POLLERS_ACTIVEMQ_H
#define LD_POLLERS_ACTIVEMQ_H

#include <jansson.h>

#include "pollers/poller.h"
#include "server.h"

struct amq_poller;

/* The poller of mapping uuid of scope (doc: its record, borrowed),
 * reporting through hooks (copied), not connected yet. NULL when out of
 * memory or the mapping has no usable queue or function. */
struct amq_poller *amq_poller_start(server_t *srv, const char *scope, const char *uuid, json_t *doc,
				    const struct mq_hooks *hooks);

/* Connects it to url (amqp://HOST:PORT, HOST an IP address or localhost)
 * as user with pass (copied), from a closed connection; otherwise a no-op.
 * Failing ends in hooks->closed, as a lost connection does. */
void amq_poller_connect(struct amq_poller *p, const char *url, const char *user, const char *pass);

/* Its counters (poller.h). */
const struct poller_stats *amq_poller_stats(const struct amq_poller *p);

/* Stops it: the connection is closed now (what it held and did not settle
 * goes back to the queue); it is freed now, or when the call or invocation
 * in flight ends (nothing is settled after this). NULL: no-op. */
void amq_poller_stop(struct amq_poller *p);

#endif
