/*
 * sqs.h - the poller of one SQS event source mapping (pollers/ room).
 *
 * As AWS: ReceiveMessage (up to 10 messages a call, every attribute and
 * message attribute) gathers a batch until it holds BatchSize messages
 * (up to 10,000 on standard queues), MaximumBatchingWindowInSeconds has
 * passed since its first message arrived, or one more record would take
 * the event past the 6 MB invoke payload (QUOTA_SYNC_PAYLOAD; the rest
 * starts the next batch). Without a window one receive is one batch. The
 * batch is invoked synchronously as {"Records":[...]} in AWS's shape
 * (messageId, receiptHandle, body, attributes, messageAttributes,
 * md5OfBody, eventSource "aws:sqs", eventSourceARN, awsRegion); a success
 * deletes it (DeleteMessageBatch, 10 entries a call), a function error or a
 * failed invoke leaves it to the queue's visibility timeout and redrive
 * policy; with FunctionResponseTypes ReportBatchItemFailures, the ids in
 * batchItemFailures[].itemIdentifier stay and the rest is deleted (a
 * response that is not such a document, or names an id not in the batch,
 * counts as the whole batch failing). A throttled invoke gives the batch
 * back at once (ChangeMessageVisibilityBatch to 0). LastProcessingResult
 * follows ("OK", "PROBLEM: Function call failed").
 *
 * Scaling: a mapping runs workers, each its own receive -> invoke -> delete
 * cycle. It starts with one; a worker whose batch came back full adds one
 * more (at once up to QUOTA_SQS_POLLERS_START, then at most
 * QUOTA_SQS_POLLERS_PER_MINUTE a minute), within ScalingConfig's
 * MaximumConcurrency and the function's concurrency (its reservation, else
 * the account's); a worker whose long poll came back empty, or whose invoke
 * was throttled, retires while another runs (no new one for 5 s after a
 * throttle). The counters (poller.h) are the mapping's, over all workers.
 * FIFO queues keep each message group in order: SQS gives a group to one
 * receiver at a time and holds back its later messages while earlier ones
 * are in flight, a batch keeps the order received, and a failed batch is not
 * deleted (it blocks its group until it is deleted or redriven, as on
 * AWS); the records carry the group's attributes (MessageGroupId,
 * SequenceNumber, MessageDeduplicationId).
 */
#ifndef LD_POLLERS_SQS_H
#define LD_POLLERS_SQS_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct sqs_poller;

/* Starts polling for mapping uuid of scope (doc: its record; borrowed) with
 * ob (borrowed; it must outlive the poller's calls). NULL when out of memory
 * or the queue ARN is not one. */
struct sqs_poller *sqs_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc);

/* Its counters (poller.h). */
const struct poller_stats *sqs_poller_stats(const struct sqs_poller *p);

/* Stops it: what its workers received and did not invoke goes back to the
 * queue; it is freed now, or when the last call or invocation in flight ends
 * (pollers_stop's outbound_free aborts the calls). */
void sqs_poller_stop(struct sqs_poller *p);

#endif
