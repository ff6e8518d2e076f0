/*
 * poller.h - what the pollers of every source share (pollers/ room): the
 * counters a poller keeps for the metrics of the observability work, and
 * the mapping's LastProcessingResult. sqs.c and stream.c are pollers;
 * pollers.c, above them, decides which run.
 */
#ifndef LD_POLLERS_POLLER_H
#define LD_POLLERS_POLLER_H

#include <stdint.h>

#include "quotas.h"
#include "server.h"

/* A batch's records stop short of the invoke payload limit by this much,
 * the room the event's envelope needs (every source that batches by size) */
#define POLLER_BATCH_BYTES (QUOTA_SYNC_PAYLOAD - 262144u)

/* What one mapping's poller counted since it started, for the metrics of
 * the observability work (AWS/Lambda's per-mapping figures). */
struct poller_stats {
	uint64_t polled;    /* records read from the source */
	uint64_t filtered;  /* records FilterCriteria kept out */
	uint64_t invoked;   /* invocations started */
	uint64_t failed;    /* batches that failed: function error, invoke refused */
	uint64_t throttled; /* invocations refused for concurrency */
	int64_t lag_ms;     /* SQS: age of the oldest message of the last batch;
			     * streams: the iterator age (MillisBehindLatest) */
};

/* The mapping's LastProcessingResult becomes what ("OK", "PROBLEM:
 * Function call failed"); pollers call it when theirs changes. */
void poller_result(server_t *srv, const char *scope, const char *uuid, const char *what);

#endif
