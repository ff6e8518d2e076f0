/*
 * destinations.h - delivery of asynchronous-invocation records and dead
 * letters to SQS, SNS, EventBridge and S3.
 *
 * The async queue calls dest_send() with a destination ARN (an OnSuccess or
 * OnFailure destination, or a DeadLetterConfig TargetArn) and the message:
 * the invocation record for destinations, the original event for a DLQ.
 * The call is non-blocking: the request is SigV4-signed and sent through
 * libcurl's multi interface on the daemon's loop, to the AWS-compatible
 * endpoint of that service (--aws-endpoint-url, else AWS_ENDPOINT_URL_SQS /
 * _SNS / _EVENTBRIDGE / _S3, else AWS_ENDPOINT_URL, else AWS's regional
 * endpoint), as whom the environment says (AWS_ACCESS_KEY_ID, ...).
 *
 *   SQS          SendMessage (query protocol) to the queue URL of
 *                arn:aws:sqs:REGION:ACCOUNT:NAME on the endpoint
 *   SNS          Publish (query protocol) with TopicArn
 *   EventBridge  PutEvents (JSON 1.1) on the bus of arn:aws:events:...:event-bus/NAME,
 *                Source "lambda", DetailType "Lambda Function Invocation
 *                Result - Success" / "- Failure", Detail the record,
 *                Resources [function ARN, destination ARN]
 *   S3           PutObject of the record at
 *                aws/lambda/async/FUNCTION/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-UUID
 *                in the bucket of arn:aws:s3:::BUCKET
 *
 * Lambda destinations (arn:aws:lambda:...) are not delivered here: the async
 * queue enqueues the record as an event for that function itself.
 * Retries are the caller's: dest_send makes one attempt and reports it.
 */
#ifndef LD_DESTINATIONS_H
#define LD_DESTINATIONS_H

#include "server.h"

#include <stddef.h>

/* What an ARN designates as a destination. */
enum dest_kind {
	DEST_INVALID = 0, /* not an ARN any destination accepts */
	DEST_SQS,
	DEST_SNS,
	DEST_EVENTBRIDGE,
	DEST_S3,
	DEST_LAMBDA,      /* delivered by the caller, never by dest_send */
};

/* The kind of destination arn names (DEST_INVALID when it is none). */
enum dest_kind dest_kind(const char *arn);

/* What goes with the message besides its body. Borrowed strings; any may
 * be NULL. dest_send copies what it needs before returning. */
struct dest_attrs {
	/* destinations: the qualified ARN of the function the record is about
	 * (EventBridge Resources; its name is part of S3 keys), and whether the
	 * record is a success (EventBridge DetailType) */
	const char *function_arn;
	int success;
	/* S3 keys start with this instead of aws/lambda/async/FUNCTION (an event
	 * source mapping's failures: aws/lambda/UUID/SHARD); NULL: the async one */
	const char *s3_prefix;
	/* dead letters: when request_id is set, SQS and SNS messages carry AWS's
	 * DLQ message attributes RequestID (String), ErrorCode (Number, the
	 * HTTP status, e.g. "200") and ErrorMessage (String, its first 1 KB is
	 * sent; omitted when NULL or empty) */
	const char *request_id;
	const char *error_code;
	const char *error_message;
};

/* Completion of one dest_send: rc is 0 when the service accepted the
 * message, else
 *   LD_EREMOTE    transient: no connection, timeout, throttling, a 5xx (retry)
 *   LD_ENOTFOUND  the queue, topic, bus or bucket does not exist
 *   LD_EINVAL     the service refused the request (4xx other than throttling),
 *                 e.g. access denied or a message over its size limit
 *   LD_ENOMEM
 * Details of a failure go to lambdad's log (stderr). */
typedef void (*dest_done_cb)(void *ud, int rc);

/* Sends body (len bytes, a JSON document) to the destination arn.
 * Non-blocking: on 0, done(ud, rc) runs exactly once later, on the loop
 * (never from inside dest_send). On a negative return (LD_EINVAL: an ARN
 * dest_send does not deliver, including Lambda ARNs; LD_ETOOBIG: body over
 * 6 MB or a name too long; LD_ENOMEM) done is never called.
 * attrs may be NULL. Each delivery has a 5 s connect and a 30 s total
 * timeout; responses are read up to 64 KB. */
int dest_send(server_t *srv, const char *arn, const char *body, size_t len,
	      const struct dest_attrs *attrs, dest_done_cb done, void *ud);

/* Number of deliveries in flight (for tests and shutdown). */
size_t dest_pending(server_t *srv);

/* Aborts every delivery in flight (their done runs with LD_EREMOTE, on this
 * call's stack) and releases the client (srv->dest_ob). For shutdown, before
 * the loop is freed; dest_send may be used again afterwards. */
void dest_shutdown(server_t *srv);

#endif
