/*
 * mqbroker.h - an Amazon MQ event source mapping: where its broker is, and
 * the one poller that consumes it (pollers/ room; docs/pollers.md).
 *
 * An Amazon MQ ARN (arn:aws:mq:REGION:ACCOUNT:broker:NAME:ID) does not say
 * the broker's engine. This step finds the broker as AWS does, once per
 * attempt for the mapping: the BASIC_AUTH secret with Secrets Manager's
 * GetSecretValue ({"username","password"}), then Amazon MQ's DescribeBroker
 * (GET /v1/brokers/ID: engineType, the endpoints of brokerInstances), both
 * SigV4 calls to the AWS endpoint (--aws-endpoint-url, AWS_ENDPOINT_URL_MQ /
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL). The broker's endpoint
 * is the first amqp... one of its instances, unless `--mq-broker KEY=URL`
 * (poller_mq_broker: KEY the broker id or the endpoint's host) points it
 * elsewhere. engineType then starts exactly one poller, RabbitMQ's
 * (rabbitmq.h; also when engineType is missing) or ActiveMQ's (activemq.h),
 * which it hands the endpoint and the credentials to connect with.
 *
 * This step owns what outlives a connection: the backoff (1 s doubling to
 * 30 s, reset once a consumer runs), the mapping's LastProcessingResult
 * (its poller reports through struct mq_hooks, poller.h) and the poller
 * itself. A failed call is logged and tried again after the backoff; when
 * the poller's connection closes (a refused login, a lost broker) the whole
 * attempt runs again after the backoff, so a password changed in Secrets
 * Manager is read before the next connection. The state hangs off the
 * mapping's entry in pollers.c.
 */
#ifndef LD_POLLERS_MQBROKER_H
#define LD_POLLERS_MQBROKER_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct mq_source;

/* Starts finding the broker of mapping uuid of scope (doc: its record,
 * borrowed) with ob (borrowed; it must outlive the calls). NULL when out of
 * memory or the mapping is not an Amazon MQ one with a queue. A mapping
 * without a BASIC_AUTH secret is logged and reads nothing. */
struct mq_source *mqbroker_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc);

/* The counters of its poller (poller.h), zeros before one runs. */
const struct poller_stats *mqbroker_stats(const struct mq_source *b);

/* Stops it and its poller (rabbitmq.h, activemq.h say what that closes);
 * freed now, or when the call in flight ends. NULL: no-op. */
void mqbroker_stop(struct mq_source *b);

#endif
