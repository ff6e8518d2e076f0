/*
 * amqevent.h - what an ActiveMQ message looks like to a function (pollers/
 * room; docs/pollers.md): AWS's event of an Amazon MQ for ActiveMQ event
 * source mapping, built from an AMQP 1.0 message qpid-proton decoded.
 *
 * The event is {"eventSource":"aws:mq","eventSourceArn":ARN,
 * "messages":[message...]} and a message has AWS's members, in the order
 * of the events AWS delivers: messageID, messageType ("jms/text-message" or
 * "jms/bytes-message"), timestamp, deliveryMode, correlationID, replyTo,
 * destination {"physicalName"}, redelivered, type, expiration, priority,
 * data (base64), brokerInTime, brokerOutTime, properties (string values,
 * null when none). "aws:mq" is what Lambda's guide and its recorded events
 * name (EventBridge Pipes' examples say "aws:amq" and carry connectionId
 * and persistent, which Lambda's events do not).
 *
 * AWS's consumer is a JMS client; lambdad reads the broker's AMQP 1.0
 * transport, whose messages map onto JMS as ActiveMQ maps them:
 *  - messageType: the x-opt-jms-msg-type annotation when the broker sets it
 *    (5 text, 3 bytes); else an amqp-value string body is text and a data
 *    section (or binary value) bytes. A body of another AMQP type (map,
 *    list, number: JMS map, stream and object messages, which AWS does not
 *    deliver as such) is given as bytes of its AMQP encoding.
 *  - messageID, correlationID: the AMQP ids as text (strings as they are,
 *    numbers in decimal, UUIDs in their usual form, binary in hex), "" when
 *    absent (as AWS shows an absent correlation id).
 *  - timestamp: creation-time (ms), 0 when absent; deliveryMode: 2
 *    (PERSISTENT) for a durable header, else 1; priority: the header's (4,
 *    AMQP's and JMS's default); type: subject ("" when absent, JMSType is
 *    carried in it); replyTo: reply-to, else "null" as AWS's JMS consumer
 *    writes an absent one; expiration: absolute-expiry-time, else
 *    creation-time (or now) plus ttl, else 0.
 *  - redelivered: the header's delivery-count above 0 (ActiveMQ sets it
 *    from the message's redelivery counter); from a broker that does not
 *    count (RabbitMQ), a header whose first-acquirer is false.
 *  - brokerInTime: AMQP has no such field: the x-opt-ingress-time
 *    annotation when the broker sets one, else the creation-time (or, with
 *    neither, brokerOutTime). brokerOutTime: when lambdad received it.
 *  - properties: the application-properties, values as strings (AWS's are:
 *    "index":"1", "doAlarm":"false"); JMSX and vendor headers AMQP carries
 *    elsewhere are not included.
 *
 * Pure functions, no I/O: tests/unit/test_amqevent.c checks them.
 */
#ifndef LD_POLLERS_AMQEVENT_H
#define LD_POLLERS_AMQEVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include <proton/message.h>

/* Decodes a delivery's bytes into msg: 0, or negative when they are not a
 * message (an empty delivery among them: qpid-proton asserts on that). */
int amqevent_decode(pn_message_t *msg, const char *bytes, size_t n);

/* One message of the event (a new object; NULL when out of memory or the
 * body cannot be encoded). queue: the mapping's; redelivered:
 * amqevent_redelivered's; received_ms: wall-clock milliseconds of the
 * delivery. */
json_t *amqevent_message(pn_message_t *msg, const char *queue, int redelivered, int64_t received_ms);

/* Whether msg, decoded from encoded[0..n), was delivered before: its
 * delivery-count; with by_acquirer (a broker that does not count), also the
 * first-acquirer of a header the bytes carry (a decoded message cannot tell
 * an absent header, whose first-acquirer reads false, from a present one). */
int amqevent_redelivered(pn_message_t *msg, const char *encoded, size_t n, int by_acquirer);

/* The event for messages (borrowed: an array of amqevent_message
 * documents): a new compact JSON text (caller frees), NULL when out of
 * memory. */
char *amqevent_event(const char *source_arn, json_t *messages);

/* What FilterCriteria see of a message (an amqevent_message document):
 * {"data": the body as a JSON document when it is an object or array, else
 * its base64 text}. New reference, NULL when out of memory. */
json_t *amqevent_filter_view(json_t *message);

#endif
