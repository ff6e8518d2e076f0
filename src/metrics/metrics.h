/*
 * metrics.h - the AWS/Lambda metrics of a server, as CloudWatch keeps them.
 *
 * A series is one metric (Invocations, Duration, ...) of one account and
 * region (scope "ACCOUNT:REGION") under one set of AWS's dimensions:
 * none (the account's aggregate), FunctionName, FunctionName + Resource
 * (NAME or NAME:QUALIFIER), FunctionName + Resource + ExecutedVersion (alias
 * invocations), or EventSourceMappingUUID. Each series keeps 1-minute points
 * (sum, minimum, maximum, sample count and, for timings, a log-scale
 * histogram that answers percentiles) for METRICS_RETENTION_MINUTES, and
 * running totals since it began (Prometheus's counters and histograms).
 *
 * Bounds: at most METRICS_MAX_SERIES series (past it new series are not
 * made, and the start-up log says so once) and METRICS_MAX_POINTS points in
 * all (past it the oldest minute of every series goes first). State is
 * saved to DATA/metrics.json every METRICS_FLUSH_MS when it changed, and at
 * shutdown (metrics_close): a kill -9 loses at most that much.
 *
 * Who calls: the hooks of execution (exec/door.c, exec/async.c) and the
 * pollers record through the metrics_on_* calls, which take the server's
 * metrics_t and do nothing when it is NULL; api/cloudwatch.c reads with
 * metrics_query / metrics_each and renders Prometheus text with
 * metrics_prometheus. Everything runs on the loop's thread.
 */
#ifndef LD_METRICS_H
#define LD_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct loop;
typedef struct metrics metrics_t;

#define METRICS_MAX_SERIES 10000        /* series of all accounts together */
#define METRICS_MAX_POINTS 100000       /* 1-minute points of all series together: the file's
						 * save (on the loop) takes ~0.7 s at the cap on a loaded 2-core machine */
#define METRICS_RETENTION_MINUTES 21600 /* 15 days, as CloudWatch keeps 1-minute data */
#define METRICS_FLUSH_MS 60000          /* save at most this often, when something changed */
#define METRICS_MAX_DIMS 3

enum metric_id {
	M_INVOCATIONS,
	M_ERRORS,
	M_THROTTLES,
	M_DURATION,
	M_CONCURRENT_EXECUTIONS,
	M_UNRESERVED_CONCURRENT_EXECUTIONS,
	M_DEAD_LETTER_ERRORS,
	M_DESTINATION_DELIVERY_FAILURES,
	M_ASYNC_EVENTS_RECEIVED,
	M_ASYNC_EVENT_AGE,
	M_ASYNC_EVENTS_DROPPED,
	M_ITERATOR_AGE,
	M_POLLED_EVENT_COUNT,
	M_INVOKED_EVENT_COUNT,
	M_FILTERED_OUT_EVENT_COUNT,
	M_FAILED_INVOKE_EVENT_COUNT,
	M_DROPPED_EVENT_COUNT,
	M_ON_FAILURE_DESTINATION_DELIVERED_EVENT_COUNT,
	M_COUNT
};

/* AWS's name of a metric ("Invocations"), its unit ("Count",
 * "Milliseconds"), and the metric of a name (-1 when not AWS/Lambda's). */
const char *metrics_name(int id);
const char *metrics_unit(int id);
int metrics_id(const char *name);

/* Opens the metrics of data_dir (loads DATA/metrics.json when there; a file
 * that cannot be read is set aside as metrics.json.bad and logged). max_series
 * 0 means METRICS_MAX_SERIES. *out the caller's (metrics_close). 0 or LD_ENOMEM. */
int metrics_open(const char *data_dir, size_t max_series, metrics_t **out);

/* Takes the series of doc (the file's document) into m: 0, LD_ECORRUPT for
 * a malformed document (m may hold part of it), LD_ENOMEM. */
int metrics_load_doc(metrics_t *m, json_t *doc);

/* Saves every METRICS_FLUSH_MS on loop (when changed). 0 or LD_ENOMEM. */
int metrics_start(metrics_t *m, struct loop *loop);

/* Saves now: 0 or LD_EIO / LD_ENOMEM. */
int metrics_flush(metrics_t *m);

/* Saves, stops the timer and frees. NULL is fine. */
void metrics_close(metrics_t *m);

/* ---- recording ---- */

/* One value of metric id at now_ms (wall clock) under exactly the given
 * dimensions (names[i] = values[i], any order). prom marks the series
 * Prometheus exposes (the finest of an event's series). 0, or LD_ETOOBIG
 * when the series cap keeps a new series out, LD_ENOMEM. */
int metrics_put(metrics_t *m, int64_t now_ms, int id, const char *scope, int ndims, const char *const *names,
		const char *const *values, double value, int prom);

/* A function's value, recorded as AWS records it: the account's aggregate
 * (when account is set), FunctionName, FunctionName + Resource (NAME when
 * qualifier is "" or NULL, else NAME:QUALIFIER) and, when the qualifier is
 * an alias and version is given, + ExecutedVersion (version). */
void metrics_fn_put(metrics_t *m, int64_t now_ms, int id, const char *scope, const char *name, const char *qualifier,
		    const char *version, double value, int account);

/* The hooks (wall clock now; m may be NULL) */
/* an invocation ran: error when it ended in a function error; duration_ms < 0 when unknown */
void metrics_on_invoked(metrics_t *m, const char *scope, const char *name, const char *qualifier, const char *version,
			int error, double duration_ms);
/* an invocation was refused for concurrency */
void metrics_on_throttled(metrics_t *m, const char *scope, const char *name, const char *qualifier);
/* an invocation starts (delta 1) or ends (-1); unreserved_in_use < 0 when unknown */
void metrics_on_concurrency(metrics_t *m, const char *scope, const char *name, int delta, long unreserved_in_use);
/* one value of a function-level metric (async queue, destinations, stream iterator age) */
void metrics_on_function(metrics_t *m, int id, const char *scope, const char *name, const char *qualifier,
			 double value);
/* one value of an event source mapping's metric (EventSourceMappingUUID) */
void metrics_on_mapping(metrics_t *m, int id, const char *scope, const char *uuid, double value);

/* ---- reading ---- */

/* The statistics of one period (metrics_query). */
struct metrics_agg {
	int64_t start_ms;  /* the period's start */
	double sum, min, max;
	uint64_t count;
	/* histogram (timings): counts per log-scale bin, for metrics_percentile */
	uint32_t *bins;    /* METRICS_NBINS entries or NULL */
};
#define METRICS_NBINS 288

/* The value below which p percent (0..100) of the period's samples fall,
 * estimated from its histogram (within ~5%), or from min/max for metrics
 * without one; NAN when the period has no samples. */
double metrics_percentile(const struct metrics_agg *a, double p);

/* Calls fn for every period of length period_s (a multiple of 60) that has
 * data between start_ms (inclusive) and end_ms (exclusive), oldest first,
 * of the series of metric id in scope with exactly the given dimensions.
 * Periods start at start_ms rounded down to the minute. 0 (also when there
 * is no such series), LD_EINVAL for a bad period, LD_ENOMEM. */
int metrics_query(metrics_t *m, const char *scope, int id, int ndims, const char *const *names,
		  const char *const *values, int64_t start_ms, int64_t end_ms, int period_s,
		  void (*fn)(void *ud, const struct metrics_agg *a), void *ud);

/* A series as metrics_each shows it: dimensions sorted by name. */
struct metrics_series_info {
	int id;
	int ndims;
	const char *names[METRICS_MAX_DIMS];
	const char *values[METRICS_MAX_DIMS];
	int64_t last_ms; /* the newest point's minute, 0 when none is kept */
};

/* Calls fn for every series of scope, ordered by metric name then
 * dimensions (stable across calls, for paging). */
void metrics_each(metrics_t *m, const char *scope, void (*fn)(void *ud, const struct metrics_series_info *s),
		  void *ud);

/* Series kept now. */
size_t metrics_series_count(const metrics_t *m);

/* Prometheus text exposition format 0.0.4 of every account's series into
 * out (docs/metrics.md has the names). 0 or LD_ENOMEM / LD_ETOOBIG. */
int metrics_prometheus(metrics_t *m, buf_t *out);

#endif
