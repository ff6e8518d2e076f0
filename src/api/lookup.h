/*
 * lookup.h - naming and finding functions, shared by the handlers.
 *
 * Everywhere a function is named, AWS accepts a name, NAME:QUALIFIER, a
 * partial ARN (ACCOUNT:function:NAME[:QUALIFIER]) or a full ARN, plus an
 * optional Qualifier parameter. lookup_ref() turns those into a fnref with
 * AWS's errors when they disagree (region, account, qualifier); the other
 * calls load a function's records from the store with AWS's not-found errors.
 *
 * The records themselves, their layout and the delete cascades are the
 * record layer's (records/records.h); this module adds AWS's naming rules
 * and AWS's wording when something is missing or not the caller's.
 */
#ifndef LD_LOOKUP_H
#define LD_LOOKUP_H

#include <jansson.h>

#include "records/records.h"
#include "req.h"

struct fnref {
	char name[160];
	char qualifier[160];  /* "" when none was given */
	char scope[96];       /* "ACCOUNT:REGION" for the store */
	char account[16];
	char region[64];
};

/* Parses a FunctionName member and an optional Qualifier member (either may
 * carry the qualifier; both must agree). Records AWS's error and returns
 * LD_EAPI when the name points at another region/account or the qualifiers
 * differ. */
int lookup_ref(req_t *r, const char *function_name, const char *qualifier, struct fnref *ref);

/* Another account's function (ref->account is not the caller's): 0 when
 * the policy of ref's qualifier allows the caller the request's action
 * (auth/access.h), else AccessDeniedException recorded (LD_EAPI) with AWS's
 * message. 0 at once for the caller's own functions. lookup_ref() calls it. */
int lookup_check_access(req_t *r, const struct fnref *ref);

/* "lambda:GetFunction" for an operation name (Invoke and its streaming and
 * async forms are lambda:InvokeFunction). */
void lookup_iam_action(const char *op, char *out, size_t n);

/* Records AccessDeniedException "User: <caller> is not authorized to
 * perform: <action> on resource: <resource> because no resource-based
 * policy allows the <action> action". Returns LD_EAPI. */
int lookup_access_denied(req_t *r, const char *action, const char *resource);

/* Same, reading FunctionName and Qualifier from r->in. */
int lookup_ref_in(req_t *r, struct fnref *ref);

/* "arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUAL]" into out. */
void lookup_arn(const struct fnref *ref, const char *qualifier, char *out, size_t n);

/* Loads the function record (kind "fn"); ResourceNotFoundException
 * "Function not found: ARN" when missing. *meta owned by the caller. */
int lookup_function(req_t *r, const struct fnref *ref, json_t **meta);

/*
 * Loads the configuration that a qualifier names: "" or "$LATEST" is
 * $LATEST, digits a published version, anything else an alias (resolved to
 * its version; *alias gets the alias record when non-NULL). Errors are AWS's
 * ResourceNotFoundException with the qualified ARN. *cfg owned by caller.
 */
int lookup_config(req_t *r, const struct fnref *ref, const char *qualifier, json_t **cfg, json_t **alias);

/* Read-only variants for handlers that never modify what they load: the
 * documents are shared with the store's cache (json_decref, never modify). */
int lookup_function_peek(req_t *r, const struct fnref *ref, json_t **meta);
int lookup_config_peek(req_t *r, const struct fnref *ref, const char *qualifier, json_t **cfg);

/* 0 when the function exists (its qualifier is not looked at). Otherwise
 * ResourceNotFoundException recorded (LD_EAPI) with `message` (the wording
 * of the caller's family), or with lookup_function's "Function not found:
 * ARN" when message is NULL; or a store error. */
int lookup_function_exists(req_t *r, const struct fnref *ref, const char *message);

/* The RevisionId precondition: 0 when the request has no RevisionId or it
 * equals `have`; else AWS's PreconditionFailedException recorded (LD_EAPI),
 * which names `get_api` ("GetFunction/GetAlias", "GetPolicy",
 * "GetLayerPolicy") as the way to the latest Revision Id. */
int lookup_check_revision(req_t *r, const char *have, const char *get_api);

/* Copies cfg without the internal '_' fields (new reference). */
json_t *lookup_public(json_t *cfg);

#endif
