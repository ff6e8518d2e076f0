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

#include <jansson.h>
#include <stddef.h>

/* The mapping's LastProcessingResult becomes what ("OK", "PROBLEM:
 * Function call failed"), stored only when it differs from *last (the
 * poller's own copy of it, POLLER_RESULT_MAX bytes), which is updated. */
#define POLLER_RESULT_MAX 64
void poller_result(server_t *srv, const char *scope, const char *uuid, char *last, const char *what);

/* What every poller reads of its mapping's record: the function of a
 * FunctionArn's resource after "function:" (NAME[:QUALIFIER], split into
 * name and qualifier, "" when none), an integer member (dflt when absent),
 * a copy of FilterCriteria when it holds filters (NULL otherwise), and
 * whether FunctionResponseTypes asks for ReportBatchItemFailures. */
void poller_function(const char *name_qualifier, char *name, size_t ncap, char *qualifier, size_t qcap);
int poller_int(json_t *doc, const char *key, int dflt);
json_t *poller_filters(json_t *doc);
int poller_reports_failures(json_t *doc);

/* Where `--mq-broker KEY=URL` says an Amazon MQ broker is: the URL whose
 * KEY is broker_id or endpoint_host (NULL: none), else NULL. */
const char *poller_mq_broker(server_t *srv, const char *broker_id, const char *endpoint_host);

/* What an Amazon MQ poller (rabbitmq.h, activemq.h) tells the step that
 * found its broker and owns it (mqbroker.h). Never called once the poller
 * is stopped. */
struct mq_hooks {
	void *ud;
	void (*result)(void *ud, const char *what); /* LastProcessingResult becomes what */
	void (*opened)(void *ud);                   /* a consumer runs: the backoff starts over */
	void (*closed)(void *ud);                   /* the connection is gone: find the broker again */
};

#endif
