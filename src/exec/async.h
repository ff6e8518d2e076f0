/*
 * async.h - asynchronous invocation: the durable event queue, its workers,
 * retries, maximum event age, destinations and dead-letter queues.
 *
 * Invoke with InvocationType Event (and the deprecated InvokeAsync) hands the
 * event to async_submit(), which commits it to the store (kind "async"),
 * together with the other events that arrived in the same loop iteration
 * (group commit: one transaction for all), before the caller answers 202:
 * a kill -9 after the answer loses nothing, and async_start() reloads and
 * resumes whatever the queue holds. Workers on
 * the loop take events in enqueue order and run them through exec_invoke(),
 * resolving the qualifier when the event runs (as AWS does: events queued
 * before an update run the new code). Throttles and system errors are
 * retried with exponential backoff until MaximumEventAgeInSeconds; function
 * errors (handler errors, timeouts, crashes) are retried up to
 * MaximumRetryAttempts times, 1 then 2 retry bases later (a minute on AWS,
 * --async-retry-base-ms here; every async duration scales with it: throttle
 * backoff from base/60 to 5 bases, and MaximumEventAgeInSeconds counts
 * seconds of base/60 ms, so 60 s of age is one base). The outcome goes to the OnSuccess or
 * OnFailure destination of the function's event invoke config as AWS's
 * invocation record, and a failure to the version's DeadLetterConfig. A
 * Lambda destination is itself an Event invoke of that function, staged in
 * the group commit here (in the same transaction as the delete of the event
 * it is the record of, or an earlier one); other kinds go through
 * exec/destinations.h. An event leaves the
 * queue (durably) only after it finished and its records were handed on:
 * delivery is at least once.
 */
#ifndef LD_ASYNC_H
#define LD_ASYNC_H

#include <stddef.h>

#include "server.h"

struct async_options {
	int retry_base_ms; /* AWS's one minute between function-error retries (60000) */
};

/* Starts the workers and resumes the queue found in the store. 0, or
 * LD_ENOMEM / LD_ESTORE. */
int async_start(server_t *srv, const struct async_options *opt);

/* Stops the workers (call before exec_stop): queued events stay in the
 * store for the next start; events in flight are forgotten when exec or
 * destinations answer them. */
void async_stop(server_t *srv);

/* Frees the queue's state, once nothing can call back into it any more
 * (after exec_stop and dest_shutdown). */
void async_free(server_t *srv);

/* One event to queue. Borrowed strings, copied before async_enqueue returns. */
struct async_event {
	const char *scope;          /* "ACCOUNT:REGION" */
	const char *name;           /* function name */
	const char *qualifier;      /* as invoked: "" (unqualified), a version or an alias */
	const char *payload;        /* the event: JSON text (already checked) */
	size_t payload_len;
	const char *client_context; /* decoded client context JSON, or NULL */
	const char *request_id;     /* the invocation's id (kept across retries) */
};

/* Commits the event to the queue and schedules it. 0 once it is durable,
 * else LD_ESTORE / LD_ENOMEM (nothing was queued). Events staged by
 * async_submit go into the same transaction, before it. */
int async_enqueue(server_t *srv, const struct async_event *ev);

/* Group commit (the Event invokes' path): async_submit stages the event
 * (copied) in the batch being formed and returns 0; the batch is written
 * in one transaction, with the finished events' deletes waiting, at the
 * end of the loop iteration (once the iteration's ready requests have
 * been read) or, before staging, when it already holds ASYNC_GROUP_MAX
 * events or ASYNC_GROUP_BYTES of payload, or when async_enqueue or
 * async_stop commits. Then accepted(ud, rc) runs once, from the loop and
 * never from inside async_submit: rc 0 once the event is durable (the
 * 202 may go out), else LD_ESTORE / LD_ENOMEM (nothing was queued). A
 * negative return (LD_EIO: the queue is stopped, LD_ENOMEM) means nothing
 * was staged and accepted is never called. */
#define ASYNC_GROUP_MAX 256
#define ASYNC_GROUP_BYTES (8u << 20)
typedef void (*async_accepted_fn)(void *ud, int rc);
int async_submit(server_t *srv, const struct async_event *ev, async_accepted_fn accepted, void *ud);

#endif
