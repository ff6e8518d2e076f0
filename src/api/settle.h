/*
 * settle.h - the one settle service: records that a change leaves in a
 * transitional state, and their completion.
 *
 * AWS answers a change at once with a transitional state and applies it a
 * moment later: a function version is Pending until Active (or Failed), an
 * update InProgress until Successful (or Failed), an event source mapping
 * Creating / Enabling / Updating / Disabling / Deleting until Enabled,
 * Disabled or gone. lambdad does the same: a handler stores the record in
 * its transitional state, answers, and calls settle_schedule(); the
 * transition runs at the end of the loop iteration, after the answer is
 * queued. One table (settle.c) names, per record kind, the transitional
 * state values and the function that completes one record. A crash between
 * the answer and the transition leaves the record transitional:
 * settle_recover() completes every such record at start-up, before the
 * first request. (Provisioned concurrency's IN_PROGRESS -> READY / FAILED
 * is not scheduled here: exec reports it when the environments have really
 * initialised, and concurrency_restore() starts them again at start-up.)
 */
#ifndef LD_API_SETTLE_H
#define LD_API_SETTLE_H

#include "records/records.h"
#include "server.h"

/* Completes the transition of the record (kind, scope, key) at the end of
 * this loop iteration. The kind must be in the table. Out of memory: the
 * record stays transitional until the next start (settle_recover). */
void settle_schedule(server_t *srv, enum rec_kind kind, const char *scope, const char *key);

/* Start-up: completes every record of every kind in the table that is in a
 * transitional state. Call once the execution service is up (a version's
 * settle asks it whether the runtime can run). 0 or the store's error. */
int settle_recover(server_t *srv);

#endif
