/*
 * rmqevent.h - what a RabbitMQ message looks like to a function (pollers/
 * room; docs/pollers.md): AWS's "aws:rmq" event of an Amazon MQ for
 * RabbitMQ event source mapping, built from what librabbitmq decoded.
 *
 * The event is {"eventSource":"aws:rmq","eventSourceArn":ARN,
 * "rmqMessagesByQueue":{"QUEUE::VHOST":[message...]}}, and a message is
 * {"basicProperties":{...},"redelivered":bool,"data":BASE64}. The members of
 * basicProperties are AWS's (contentType, contentEncoding, headers,
 * deliveryMode, priority, correlationId, replyTo, expiration, messageId,
 * timestamp, type, userId, appId, clusterId, bodySize), null when the
 * message does not carry them; header values keep their AMQP types (numbers,
 * booleans, tables, arrays), and long strings become {"bytes":[...]} as
 * AWS's Java consumer gives them; the timestamp is written the way AWS's
 * events show it, "Jan 1, 1970, 12:33:41 AM" (UTC).
 *
 * Pure functions, no I/O: tests/unit/test_rmqevent.c checks them.
 */
#ifndef LD_POLLERS_RMQEVENT_H
#define LD_POLLERS_RMQEVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <amqp.h>

#define RMQEVENT_MAX_DEPTH 16 /* nested header tables and arrays beyond this become null */

/* A message's basicProperties (a new object, NULL when out of memory);
 * props may be NULL (no properties at all). body_size is the message's. */
json_t *rmqevent_properties(const amqp_basic_properties_t *props, uint64_t body_size);

/* One message of the event (a new object; NULL when out of memory). props
 * is taken over (a basicProperties document). */
json_t *rmqevent_message(json_t *props, int redelivered, const void *body, size_t len);

/* The event for messages (borrowed: an array of rmqevent_message
 * documents) read from queue in vhost: a new compact JSON text (caller
 * frees), NULL when out of memory. */
char *rmqevent_event(const char *source_arn, const char *queue, const char *vhost, json_t *messages);

/* What FilterCriteria see of a message: {"data": the body as a JSON
 * document when it is an object or array, else the base64 text}. New
 * reference, NULL when out of memory. */
json_t *rmqevent_filter_view(const void *body, size_t len);

/* AMQP's timestamp (seconds since the epoch) as AWS writes it:
 * "Jan 1, 1970, 12:33:41 AM", UTC. out has room for n bytes (48 do). */
void rmqevent_timestamp(uint64_t seconds, char *out, size_t n);

#endif
