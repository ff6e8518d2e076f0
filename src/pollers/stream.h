/*
 * stream.h - the poller of one Kinesis or DynamoDB Streams event source
 * mapping (pollers/ room; docs/pollers.md).
 *
 * As AWS: the stream's shards are listed at start and every
 * STREAM_RELIST_MS (splits and merges: a child shard is read once its
 * parents are read to their end); each shard is read in order with an
 * iterator from its checkpoint, else from StartingPosition (TRIM_HORIZON,
 * LATEST, AT_TIMESTAMP; a child of a shard read here from TRIM_HORIZON);
 * records are batched by BatchSize, MaximumBatchingWindowInSeconds and 6 MB
 * of payload; a batch runs in ParallelizationFactor lanes by partition key
 * (each key's records in order), synchronously through the one door.
 *
 * Checkpoints are records of the store (REC_ESM_CHECKPOINT, key
 * UUID/SHARD): written before a shard's first batch runs and after each
 * batch, so a kill -9 resumes at the last finished batch: at least once,
 * in order per shard.
 *
 * A failed batch (a function error, a malformed ReportBatchItemFailures
 * answer) is retried until MaximumRetryAttempts; BisectBatchOnFunctionError
 * splits it first; records older than MaximumRecordAgeInSeconds are given
 * up; ReportBatchItemFailures retries from the lowest reported sequence
 * number. What is given up goes to DestinationConfig.OnFailure (SQS, SNS,
 * S3) as AWS's record (requestContext, responseContext, version,
 * timestamp, KinesisBatchInfo / DDBStreamBatchInfo; S3 adds the payload),
 * and the shard goes on. TumblingWindowInSeconds adds AWS's window, state,
 * shardId, isFinalInvokeForWindow and isWindowTerminatedEarly to the event;
 * the state a function returns comes back in the next invoke of the window,
 * and the window's end brings a final invoke.
 */
#ifndef LD_POLLERS_STREAM_H
#define LD_POLLERS_STREAM_H

#include <jansson.h>

#include "aws/outbound.h"
#include "pollers/poller.h"
#include "server.h"

struct stream_poller;

/* Starts polling for mapping uuid of scope (doc: its record). NULL when out
 * of memory or the ARN is not a Kinesis or DynamoDB stream's. */
struct stream_poller *stream_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid,
					  json_t *doc);

/* Its counters (poller.h). */
const struct poller_stats *stream_poller_stats(const struct stream_poller *p);

/* Stops it: freed now, or when the last call, invocation or delivery in
 * flight ends (nothing is checkpointed after this). */
void stream_poller_stop(struct stream_poller *p);

#endif
