/*
 * telemetry.h - the Telemetry API (PUT /2022-07-01/telemetry) and the
 * older Logs API (PUT /2020-08-15/logs) of an environment (exec/ room,
 * env.h; docs/extensions.md).
 *
 * An extension subscribes, during init, to the platform, function and
 * extension streams, with a destination inside the environment (HTTP: a
 * POST of a JSON array of {"time","type","record"} to
 * http://sandbox.localdomain:PORT/PATH; TCP: newline-delimited JSON to a
 * port) and a buffering configuration (maxItems, maxBytes, timeoutMs,
 * within AWS's bounds). Events are batched per subscription and sent when
 * a batch is full or its timeout passes; one delivery is in flight per
 * subscription, a failed one is retried with backoff, and what overflows
 * the buffer is dropped and reported with platform.logsDropped. An idle
 * environment sends what is waiting at once and is then frozen; events
 * are held while it is frozen and go out when it is thawed. Events of
 * the init phase that happened before a subscription (platform.initStart)
 * are delivered to it too. Subscriptions close when init ends
 * (Telemetry.SubscriptionClosed).
 *
 * The platform's events come from envlog.c (platform.initStart, .start,
 * .runtimeDone, .report, ...) and extensions.c (platform.extension); the
 * function's and extensions' lines from their output pipes.
 */
#ifndef LD_EXEC_TELEMETRY_H
#define LD_EXEC_TELEMETRY_H

#include <jansson.h>
#include <stddef.h>

#include "exec/env.h"
#include "exec/rapi.h"

enum { TELE_PLATFORM = 1, TELE_FUNCTION = 2, TELE_EXTENSION = 4 };

/* e keeps its init phase's events for subscriptions to come (an
 * environment with external extensions). 0 or LD_ENOMEM. */
int tele_start(struct env *e);

/* 1 when e has subscriptions or keeps events: callers build records only then. */
static inline int tele_on(const struct env *e)
{
	return e->tele != NULL;
}

/* A subscription by extension `name` (logs_api: through the Logs API):
 * the answer into *out, and the streams subscribed to (TELE_* bits) into
 * *subscribed (0 when refused). 0 or LD_ENOMEM. */
int tele_subscribe(struct env *e, const char *name, int logs_api, const char *body, size_t len,
		   struct rapi_answer *out, int *subscribed);

/* An event of stream (TELE_*) with its record (taken). */
void tele_emit(struct env *e, int stream, const char *type, json_t *record);

/* A log line (its newline, if any, is dropped) of the function
 * (TELE_FUNCTION) or of an extension (TELE_EXTENSION). */
void tele_line(struct env *e, int stream, const char *line, size_t n);

/* e has answered and waits: Lambda freezes it once "there are no pending
 * events". 1 when nothing is waiting for delivery (the caller freezes e
 * now); else the batches go out at once and drained(e) follows when the
 * last delivery has ended. Either way, from then on events are held
 * (not sent to a frozen listener) until tele_thawed(). */
int tele_quiesce(struct env *e, void (*drained)(struct env *e));

/* e was thawed (an invocation, SHUTDOWN): what was held goes out. */
void tele_thawed(struct env *e);

/* Init ended: no more subscriptions, the init's events are let go. */
void tele_close(struct env *e);

/* Sends what every subscription has buffered now (before SHUTDOWN). */
void tele_flush(struct env *e);

/* The environment goes: buffered events are sent (deliveries in flight
 * finish on their own), then its subscriptions go. */
void tele_free(struct env *e);

/* Aborts every delivery in flight (the daemon stops). */
void tele_stop(struct exec *x);

#endif
