/*
 * policy.h - reading function resource policies (written by policy.c).
 *
 * A function, a published version and an alias each may have one resource
 * policy: a "policy" record keyed NAME/ for the unqualified function (which
 * is also $LATEST's), NAME/N for version N and NAME/ALIAS for an alias, in
 * the document form AWS returns from GetPolicy:
 *
 *   {"Version":"2012-10-17","Id":"default","Statement":[
 *     {"Sid":..,"Effect":"Allow","Principal":"*" | {"Service":..} | {"AWS":..},
 *      "Action":"lambda:InvokeFunction","Resource":"<function ARN[:QUALIFIER]>",
 *      "Condition":{"StringEquals":{..},"ArnLike":{..},"Bool":{..}}}, ...],
 *   "_RevisionId":"<uuid>"}
 *
 * The record is deleted with its function, version or alias (lookup.c), and
 * when its last statement is removed. Principals are normalised when they are
 * added (an account id becomes {"AWS":"arn:PARTITION:iam::ACCOUNT:root"}), so
 * an evaluator only compares strings; the condition keys are AWS's
 * (AWS:SourceAccount, lambda:EventSourceToken, lambda:FunctionUrlAuthType,
 * aws:PrincipalOrgID under StringEquals; AWS:SourceArn under ArnLike, a glob;
 * lambda:InvokedViaFunctionUrl "true" under Bool).
 */
#ifndef LD_POLICY_H
#define LD_POLICY_H

#include <jansson.h>

#include "api/lookup.h"
#include "req.h"

/* Store key of the policy of (function, qualifier) into out: qualifier NULL,
 * "" or "$LATEST" names the function's own policy, digits a version
 * (canonical decimal), anything else an alias. */
void policy_key(const struct fnref *ref, const char *qualifier, char *out, size_t n);

/* Loads the statements of the policy of (ref, qualifier) (see policy_key).
 * *statements is a new reference to a read-only array shared with the
 * store's cache: json_decref it, never modify it. Returns 0, LD_ENOTFOUND
 * when there is no policy (no AWS error is recorded), or a store error. */
int policy_load(req_t *r, const struct fnref *ref, const char *qualifier, json_t **statements);

#endif
