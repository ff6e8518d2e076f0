/*
 * sqs.h - the poller of one SQS event source mapping (pollers/ room).
 *
 * As AWS: long-polling ReceiveMessage (20 s) of up to 10 messages, with
 * every attribute and message attribute; the batch invoked synchronously
 * as {"Records":[...]} in AWS's shape (messageId, receiptHandle, body,
 * attributes, messageAttributes, md5OfBody, eventSource "aws:sqs",
 * eventSourceARN, awsRegion); a success deletes the batch
 * (DeleteMessageBatch), a function error or a failed invoke leaves it to
 * the queue's visibility timeout and redrive policy; with
 * FunctionResponseTypes ReportBatchItemFailures, the ids in
 * batchItemFailures[].itemIdentifier stay and the rest is deleted (a
 * response that is not such a document, or names an id not in the batch,
 * counts as the whole batch failing). A throttled invoke leaves the batch
 * too. LastProcessingResult follows ("OK", "PROBLEM: Function call failed").
 * FIFO queues keep each message group in order: one batch is in flight at a
 * time, and SQS itself holds back a group's later messages while earlier
 * ones are in flight (so a failed batch blocks its group until it is
 * deleted or redriven, as on AWS); the records carry the group's
 * attributes (MessageGroupId, SequenceNumber, MessageDeduplicationId).
 */
#ifndef LD_POLLERS_SQS_H
#define LD_POLLERS_SQS_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct sqs_poller;

/* Starts polling for mapping uuid of scope (doc: its record). NULL when out
 * of memory or the queue ARN is not one. */
struct sqs_poller *sqs_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc);

/* Its counters (pollers.h). */
const struct poller_stats *sqs_poller_stats(const struct sqs_poller *p);

/* Stops it: freed now, or when its call in flight ends. */
void sqs_poller_stop(struct sqs_poller *p);

#endif
