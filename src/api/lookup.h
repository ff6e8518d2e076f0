/*
 * lookup.h - naming and finding functions, shared by the handlers.
 *
 * Everywhere a function is named, AWS accepts a name, NAME:QUALIFIER, a
 * partial ARN (ACCOUNT:function:NAME[:QUALIFIER]) or a full ARN, plus an
 * optional Qualifier parameter. lookup_ref() turns those into a fnref with
 * AWS's errors when they disagree (region, account, qualifier); the other
 * calls load a function's records from the store with AWS's not-found errors.
 *
 * Store layout (docs/store.md): kind "fn" key NAME holds the function's own
 * record (tags, version counter, settings); kind "ver" key NAME/$LATEST or
 * NAME/0000000007 holds a version's configuration in AWS's
 * FunctionConfiguration shape (internal fields start with '_'); kind "alias"
 * key NAME/ALIAS holds an alias. Every other record that belongs to one
 * function or qualifier is keyed NAME/QUALIFIER ("NAME/" when unqualified)
 * in a kind listed in lookup_qualifier_kinds, so that deleting a function,
 * a version or an alias deletes them too.
 */
#ifndef LD_LOOKUP_H
#define LD_LOOKUP_H

#include <jansson.h>

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

/* Store key of a version: NAME/$LATEST or NAME/%010u. */
void lookup_version_key(const char *name, const char *version, char *out, size_t n);

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

/* Kinds keyed NAME/QUALIFIER that belong to a function's qualifier:
 * "policy" (resource policy), "eic" (event invoke config), "url" (function
 * URL config), "pcc" (provisioned concurrency config). NULL-terminated. */
extern const char *const lookup_qualifier_kinds[];

/* Deletes the function's records in every kind (fn, ver, alias and the
 * qualifier kinds) inside the caller's transaction. */
int lookup_delete_function_records(req_t *r, const struct fnref *ref);

/* Deletes the records of one qualifier (version or alias) in the qualifier
 * kinds, inside the caller's transaction. */
int lookup_delete_qualifier_records(req_t *r, const struct fnref *ref, const char *qualifier);

/* The version an alias sends one invocation to: its FunctionVersion
 * (`primary`), or the version of its RoutingConfig with that version's
 * weight (AWS's weighted routing). The result points into alias or primary. */
const char *lookup_route_alias(json_t *alias, const char *primary);

/* 1 if s is all digits (a version number), else 0. */
int lookup_is_version(const char *s);

/* Copies cfg without the internal '_' fields (new reference). */
json_t *lookup_public(json_t *cfg);

#endif
