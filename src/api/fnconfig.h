/*
 * fnconfig.h - building and checking a function's configuration document.
 *
 * Create and UpdateFunctionConfiguration share the rules for every
 * configuration field (runtime checks, environment limits, defaults); the
 * code itself is taken in by code.h. The state machine lives
 * here too: a change leaves the configuration Pending or InProgress and
 * fnconfig_settle() later makes it Active / Successful with a new RevisionId,
 * as AWS does once the change is applied.
 */
#ifndef LD_FNCONFIG_H
#define LD_FNCONFIG_H

#include <jansson.h>

#include "api/lookup.h"
#include "req.h"

/* Applies the configuration members of r->in onto cfg (create: is_create=1
 * also fills AWS's defaults). Records AWS's error and returns LD_EAPI when a
 * value is refused. */
int fnconfig_apply(req_t *r, const struct fnref *ref, json_t *cfg, int is_create);

/* The code of cfg (_UnzippedSize) and its layers (_LayersUnzipped) stay
 * within AWS's 250 MB unzipped; else AWS's error recorded (LD_EAPI). */
int fnconfig_check_unzipped(req_t *r, json_t *cfg);

/* Sets a fresh RevisionId and LastModified (now). */
void fnconfig_touch(json_t *cfg);

/* Completes the transition of the version stored under (scope, key):
 * Pending -> Active and InProgress -> Successful with a new RevisionId, or
 * Failed with InvalidRuntime when this host cannot run it (the settle
 * service's entry for versions, settle.h). 0 or the store's error. */
int fnconfig_settle(server_t *srv, const char *scope, const char *key);

/* The same transition applied in place to a new version's configuration
 * that is not stored yet (its answer already made), so that CreateFunction
 * stores it once, settled, instead of storing it Pending and settling it at
 * the end of the loop iteration (the same states and RevisionIds, one write
 * fewer). 1 when applied; 0 when the version must settle later
 * (settle_schedule): an image package settles when its pull ends. */
int fnconfig_settle_now(server_t *srv, json_t *cfg);

/* The runtime version ARN AWS reports for a runtime and architecture
 * (NULL: x86_64) in a region. */
void fnconfig_runtime_arn(const char *region, const char *runtime, const char *arch, char *out, size_t n);

#endif
