/*
 * lookup.c - function names, ARNs and qualifiers, and loading functions
 * from the store with AWS's errors (see lookup.h).
 */
#include "api/lookup.h"
#include "auth/access.h"
#include "model/apierr.h"
#include "records/records.h"
#include "util/err.h"
#include "util/arn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lookup_arn(const struct fnref *ref, const char *qualifier, char *out, size_t n)
{
	char scope[96];
	snprintf(scope, sizeof(scope), "%s:%s", ref->account, ref->region); /* ref->scope may not be set yet */
	arn_function(out, n, scope, ref->name, qualifier);
}

static int is_account(const char *s, size_t n)
{
	if (n != 12)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int lookup_ref(req_t *r, const char *fname, const char *qualifier, struct fnref *ref)
{
	char buf[512];
	char *parts[8] = { 0 };
	int n = 0;
	memset(ref, 0, sizeof(*ref));
	snprintf(ref->account, sizeof(ref->account), "%s", r->account);
	snprintf(ref->region, sizeof(ref->region), "%s", r->region);
	snprintf(buf, sizeof(buf), "%s", fname ? fname : "");
	/* split on ':' */
	char *cur = buf;
	while (cur && n < 8) {
		parts[n++] = cur;
		char *c = strchr(cur, ':');
		if (c)
			*c++ = '\0';
		cur = c;
	}
	const char *name = NULL, *qual = NULL;
	if (n >= 6 && !strcmp(parts[0], "arn")) {
		/* arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUAL]; the model's
		 * pattern makes "function:" optional, and AWS reads
		 * arn:...:ACCOUNT:function as the function named "function" */
		if (strcmp(parts[3], r->region) != 0)
			return apierr_set(r, "ResourceNotFoundException",
					  "Functions from '%s' are not reachable in this region ('%s')", parts[3],
					  r->region);
		snprintf(ref->account, sizeof(ref->account), "%s", parts[4]);
		int at = n >= 7 && !strcmp(parts[5], "function") ? 6 : 5;
		name = parts[at];
		qual = n > at + 1 ? parts[at + 1] : NULL;
	} else if (n >= 3 && is_account(parts[0], strlen(parts[0])) && !strcmp(parts[1], "function")) {
		snprintf(ref->account, sizeof(ref->account), "%s", parts[0]);
		name = parts[2];
		qual = n > 3 ? parts[3] : NULL;
	} else {
		name = parts[0];
		qual = n > 1 ? parts[1] : NULL;
	}
	snprintf(ref->name, sizeof(ref->name), "%s", name ? name : "");
	if (qual && qualifier && *qualifier && strcmp(qual, qualifier) != 0)
		return apierr_set(r, "InvalidParameterValueException",
				  "The derived qualifier from the function name does not match the specified qualifier.");
	snprintf(ref->qualifier, sizeof(ref->qualifier), "%s", qual ? qual : (qualifier ? qualifier : ""));
	snprintf(ref->scope, sizeof(ref->scope), "%s:%s", ref->account, ref->region);
	if (strcmp(ref->account, r->account) != 0)
		return lookup_check_access(r, ref);
	return 0;
}

void lookup_iam_action(const char *op, char *out, size_t n)
{
	if (!op || !strcmp(op, "Invoke") || !strcmp(op, "InvokeWithResponseStream") || !strcmp(op, "InvokeAsync"))
		op = "InvokeFunction";
	snprintf(out, n, "lambda:%s", op);
}

int lookup_check_access(req_t *r, const struct fnref *ref)
{
	char action[96], arn[400];
	json_t *st = NULL;
	if (!strcmp(ref->account, r->account))
		return 0;
	lookup_iam_action(r->op ? r->op->name : NULL, action, sizeof(action));
	const char *q = ref->qualifier;
	lookup_arn(ref, q[0] && strcmp(q, "$LATEST") ? q : NULL, arn, sizeof(arn));
	struct access_request ask = { action, arn, r->account, r->principal, NULL };
	int rc = rec_policy_statements(r->srv->store, ref->scope, ref->name, q, &st);
	int ok = rc == 0 && access_allows(st, &ask);
	json_decref(st);
	if (ok)
		return 0;
	if (rc && rc != LD_ENOTFOUND)
		return rc;
	lookup_arn(ref, ref->qualifier, arn, sizeof(arn));
	return lookup_access_denied(r, action, arn);
}

int lookup_access_denied(req_t *r, const char *action, const char *resource)
{
	return apierr_set(r, "AccessDeniedException",
			  "User: %s is not authorized to perform: %s on resource: %s because no resource-based policy "
			  "allows the %s action",
			  r->principal, action, resource, action);
}

int lookup_ref_in(req_t *r, struct fnref *ref)
{
	return lookup_ref(r, json_string_value(json_object_get(r->in, "FunctionName")),
			  json_string_value(json_object_get(r->in, "Qualifier")), ref);
}

static int load_function(req_t *r, const struct fnref *ref, json_t **meta, int peek)
{
	int rc = rec_function_get(r->srv->store, ref->scope, ref->name, peek ? REC_PEEK : 0, meta);
	if (rc == LD_ENOTFOUND) {
		char arn[400];
		lookup_arn(ref, NULL, arn, sizeof(arn));
		return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
	}
	return rc;
}

int lookup_function(req_t *r, const struct fnref *ref, json_t **meta)
{
	return load_function(r, ref, meta, 0);
}

int lookup_function_peek(req_t *r, const struct fnref *ref, json_t **meta)
{
	return load_function(r, ref, meta, 1);
}

int lookup_function_exists(req_t *r, const struct fnref *ref, const char *message)
{
	json_t *meta = NULL;
	int rc = message ? rec_function_get(r->srv->store, ref->scope, ref->name, REC_PEEK, &meta)
			 : lookup_function_peek(r, ref, &meta);
	json_decref(meta);
	if (rc == LD_ENOTFOUND)
		return apierr_set(r, "ResourceNotFoundException", "%s", message);
	return rc;
}

int lookup_check_revision(req_t *r, const char *have, const char *get_api)
{
	const char *want = json_string_value(json_object_get(r->in, "RevisionId"));
	if (!want || (have && !strcmp(want, have)))
		return 0;
	return apierr_set(r, "PreconditionFailedException",
			  "The Revision Id provided does not match the latest Revision Id. Call the %s API to "
			  "retrieve the latest Revision Id",
			  get_api);
}

static int load_config(req_t *r, const struct fnref *ref, const char *qualifier, json_t **cfg, json_t **alias,
		       int peek)
{
	char arn[400];
	int rc = rec_config(r->srv->store, ref->scope, ref->name, qualifier, peek ? REC_PEEK : 0, cfg, alias);
	if (rc != LD_ENOTFOUND)
		return rc;
	lookup_arn(ref, qualifier && *qualifier ? qualifier : NULL, arn, sizeof(arn));
	return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
}

int lookup_config(req_t *r, const struct fnref *ref, const char *qualifier, json_t **cfg, json_t **alias)
{
	return load_config(r, ref, qualifier, cfg, alias, 0);
}

int lookup_config_peek(req_t *r, const struct fnref *ref, const char *qualifier, json_t **cfg)
{
	return load_config(r, ref, qualifier, cfg, NULL, 1);
}

json_t *lookup_public(json_t *cfg)
{
	json_t *out = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(cfg, k, v)
		if (k[0] != '_')
			json_object_set(out, k, v);
	return out;
}

