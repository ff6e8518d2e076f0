/*
 * policy.c - AddPermission, RemovePermission, GetPolicy: function resource
 * policies, per function, published version or alias.
 *
 * A function, a published version and an alias each may have one resource
 * policy (records.h: rec_policy_*), in the document form AWS returns from
 * GetPolicy:
 *
 *   {"Version":"2012-10-17","Id":"default","Statement":[
 *     {"Sid":..,"Effect":"Allow","Principal":"*" | {"Service":..} | {"AWS":..},
 *      "Action":"lambda:InvokeFunction","Resource":"<function ARN[:QUALIFIER]>",
 *      "Condition":{"StringEquals":{..},"ArnLike":{..},"Bool":{..}}}, ...],
 *   "_RevisionId":"<uuid>"}
 *
 * The record is deleted with its function, version or alias (the record
 * layer's cascades), and when its last statement is removed. Principals are
 * normalised when they are added (an account id becomes
 * {"AWS":"arn:PARTITION:iam::ACCOUNT:root"}), so an evaluator
 * (auth/access.h) only compares strings; the condition keys are AWS's
 * (AWS:SourceAccount, lambda:EventSourceToken, lambda:FunctionUrlAuthType,
 * aws:PrincipalOrgID under StringEquals; AWS:SourceArn under ArnLike, a
 * glob; lambda:InvokedViaFunctionUrl "true" under Bool).
 *
 * AWS writes the policy itself: AddPermission turns its members into one
 * statement (Principal normalised, Resource the function's ARN qualified
 * like the policy, a Condition block per optional member) and answers with
 * that statement as a JSON string; GetPolicy answers the whole document as a
 * JSON string, compact and in AWS's key order. Every change gives the record
 * the policy belongs to ($LATEST's or the version's configuration, or the
 * alias) a new RevisionId and stores that RevisionId with the policy, in one
 * transaction: GetPolicy's RevisionId is the function's as of the last
 * policy change (publishing a version later moves $LATEST's, not the
 * policy's), and it is what a RevisionId precondition is checked against.
 * $LATEST has no policy of its own: the unqualified function's is used.
 */
#include "auth/access.h"
#include "api/api.h"
#include "api/fnconfig.h"
#include "api/lookup.h"
#include "model/apierr.h"
#include "quotas.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/arn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define NO_RESOURCE "The resource you requested does not exist."

static int is_latest(const char *q)
{
	return !q || !*q || !strcmp(q, "$LATEST");
}

/* an alias name as the model's alias pattern has it (not all digits) */
static int is_alias_name(const char *s)
{
	if (!*s || rec_is_version(s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

/* the policy being changed and the record whose RevisionId moves with it */
struct target {
	struct fnref ref;
	const char *qual;     /* "" for the unqualified function */
	char key[400];        /* policy key */
	enum rec_kind rec_kind; /* REC_VERSION or REC_ALIAS */
	char rec_key[400];
	json_t *rec;          /* owned */
	json_t *policy;       /* owned; NULL when there is none */
};

static void target_free(struct target *t)
{
	json_decref(t->rec);
	json_decref(t->policy);
	t->rec = t->policy = NULL;
}

/* Loads the record of t->ref's qualifier and its policy, with AWS's errors;
 * the function itself must exist (the caller checked, with its wording). */
static int target_load(req_t *r, struct target *t)
{
	char arn[400];
	int rc;
	t->qual = is_latest(t->ref.qualifier) ? "" : t->ref.qualifier;
	lookup_arn(&t->ref, t->qual, arn, sizeof(arn));
	if (!*t->qual || rec_is_version(t->qual)) {
		t->rec_kind = REC_VERSION;
		rec_version_key(t->ref.name, *t->qual ? t->qual : "$LATEST", t->rec_key, sizeof(t->rec_key));
	} else if (is_alias_name(t->qual)) {
		t->rec_kind = REC_ALIAS;
		snprintf(t->rec_key, sizeof(t->rec_key), "%s/%s", t->ref.name, t->qual);
	} else {
		/* fits the qualifier pattern ('$', '.') yet names nothing */
		return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
	}
	rc = rec_get(r->srv->store, t->rec_kind, t->ref.scope, t->rec_key, &t->rec);
	if (rc == LD_ENOTFOUND)
		return t->rec_kind == REC_ALIAS
			       ? apierr_set(r, "ResourceNotFoundException", "Cannot find alias arn: %s", arn)
			       : apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
	if (rc)
		return rc;
	rec_policy_key(t->ref.name, t->qual, t->key, sizeof(t->key));
	rc = rec_get(r->srv->store, REC_POLICY, t->ref.scope, t->key, &t->policy);
	return rc == LD_ENOTFOUND ? 0 : rc;
}

/* RevisionId precondition: against the policy's when there is one, else
 * against the record's own (a first statement) */
static int check_revision(req_t *r, const struct target *t)
{
	const char *have = json_string_value(json_object_get(t->policy ? t->policy : t->rec,
							     t->policy ? "_RevisionId" : "RevisionId"));
	return lookup_check_revision(r, have, "GetPolicy");
}

/* Gives the record a new RevisionId and stores it with the policy (deleted
 * when it has no statement left) in one transaction. */
static int target_save(req_t *r, struct target *t)
{
	store_t *s = r->srv->store;
	int rc;
	if (t->rec_kind == REC_VERSION) {
		fnconfig_touch(t->rec);
	} else {
		char id[37];
		ids_uuid4(id);
		json_object_set_new(t->rec, "RevisionId", json_string(id));
	}
	json_object_set(t->policy, "_RevisionId", json_object_get(t->rec, "RevisionId"));
	if ((rc = store_begin(s)))
		return rc;
	if (json_array_size(json_object_get(t->policy, "Statement")))
		rc = rec_put(s, REC_POLICY, t->ref.scope, t->key, t->policy);
	else
		rc = rec_del(s, REC_POLICY, t->ref.scope, t->key);
	if (!rc)
		rc = rec_put(s, t->rec_kind, t->ref.scope, t->rec_key, t->rec);
	if (!rc)
		rc = store_commit(s);
	if (rc)
		store_rollback(s);
	return rc;
}

/* "arn:aws:iam::123456789012:user/x", "arn:aws-cn:sts::123456789012:..." */
static int is_principal_arn(const char *p)
{
	char part[32], svc[8], acct[16];
	int n = 0;
	if (sscanf(p, "arn:%31[^:]:%7[^:]::%15[^:]:%n", part, svc, acct, &n) != 3 || !n || !p[n])
		return 0;
	if (strncmp(part, "aws", 3) != 0 || (strcmp(svc, "iam") != 0 && strcmp(svc, "sts") != 0))
		return 0;
	if (strlen(acct) != 12 || !rec_is_version(acct))
		return 0;
	return 1;
}

/* a service principal: a DNS name under amazonaws.com (or .com.cn) or
 * amazon.com (Alexa's "alexa-appkit.amazon.com") */
static int is_service(const char *p)
{
	static const char *const suffixes[] = { ".amazonaws.com", ".amazonaws.com.cn", ".amazon.com", NULL };
	size_t n = strlen(p);
	for (const char *const *s = suffixes; *s; s++) {
		size_t k = strlen(*s);
		if (n <= k || strcmp(p + n - k, *s) != 0)
			continue;
		for (size_t i = 0; i < n - k; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '.')
				return 0;
		return p[0] != '.' && p[0] != '-';
	}
	return 0;
}

/* AWS's Principal element for the Principal member; NULL when invalid */
static json_t *principal_of(req_t *r, const char *p)
{
	if (!p)
		return NULL;
	if (!strcmp(p, "*"))
		return json_string("*");
	if (strlen(p) == 12 && rec_is_version(p)) {
		char arn[64];
		snprintf(arn, sizeof(arn), "arn:%s:iam::%s:root", arn_partition(r->region), p);
		return json_pack("{s:s}", "AWS", arn);
	}
	if (is_principal_arn(p))
		return json_pack("{s:s}", "AWS", p);
	if (is_service(p))
		return json_pack("{s:s}", "Service", p);
	return NULL;
}

/* sets block[key] = the request member `member` when present */
static void cond(json_t *c, const char *op, const char *key, json_t *value)
{
	if (!value)
		return;
	json_t *block = json_object_get(c, op);
	if (!block) {
		block = json_object();
		json_object_set_new(c, op, block);
	}
	json_object_set(block, key, value);
}

/* the statement AWS writes for an AddPermission request (NULL: bad principal) */
static json_t *build_statement(req_t *r, const struct target *t)
{
	json_t *in = r->in;
	json_t *principal = principal_of(r, json_string_value(json_object_get(in, "Principal")));
	if (!principal)
		return NULL;
	char arn[400];
	lookup_arn(&t->ref, t->qual, arn, sizeof(arn));
	json_t *st = json_pack("{s:O,s:s,s:o,s:O,s:s}", "Sid", json_object_get(in, "StatementId"), "Effect", "Allow",
			       "Principal", principal, "Action", json_object_get(in, "Action"), "Resource", arn);
	json_t *c = json_object();
	/* AWS's order: StringEquals (SourceAccount, FunctionUrlAuthType,
	 * PrincipalOrgID as recorded), then ArnLike */
	cond(c, "StringEquals", "AWS:SourceAccount", json_object_get(in, "SourceAccount"));
	cond(c, "StringEquals", "lambda:EventSourceToken", json_object_get(in, "EventSourceToken"));
	cond(c, "StringEquals", "lambda:FunctionUrlAuthType", json_object_get(in, "FunctionUrlAuthType"));
	cond(c, "StringEquals", "aws:PrincipalOrgID", json_object_get(in, "PrincipalOrgID"));
	cond(c, "ArnLike", "AWS:SourceArn", json_object_get(in, "SourceArn"));
	if (json_is_true(json_object_get(in, "InvokedViaFunctionUrl"))) {
		json_t *v = json_string("true");
		cond(c, "Bool", "lambda:InvokedViaFunctionUrl", v);
		json_decref(v);
	}
	if (json_object_size(c))
		json_object_set(st, "Condition", c);
	json_decref(c);
	return st;
}

/* the public document (no '_' fields) as compact JSON; malloc'd */
static char *policy_text(json_t *policy)
{
	json_t *pub = lookup_public(policy);
	char *s = json_dumps(pub, JSON_COMPACT);
	json_decref(pub);
	return s;
}

int api_add_permission(req_t *r)
{
	struct target t = { 0 };
	json_t *meta = NULL, *st = NULL;
	char *text = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &t.ref)))
		goto out;
	if (!strcmp(t.ref.qualifier, "$LATEST")) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"We currently do not support adding policies for $LATEST.");
		goto out;
	}
	if ((rc = lookup_function_peek(r, &t.ref, &meta)) || (rc = target_load(r, &t)) ||
	    (rc = check_revision(r, &t)))
		goto out;
	const char *sid = json_string_value(json_object_get(r->in, "StatementId"));
	if (t.policy && access_find_statement(t.policy, sid, NULL)) {
		rc = apierr_set(r, "ResourceConflictException",
				"The statement id (%s) provided already exists. Please provide a new statement id, or "
				"remove the existing statement.",
				sid);
		goto out;
	}
	if (!(st = build_statement(r, &t))) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"The provided principal was invalid. Please check the principal and try again.");
		goto out;
	}
	if (!t.policy)
		t.policy = json_pack("{s:s,s:s,s:[]}", "Version", "2012-10-17", "Id", "default", "Statement");
	json_array_append(json_object_get(t.policy, "Statement"), st);
	if (!(text = policy_text(t.policy))) {
		rc = LD_ENOMEM;
		goto out;
	}
	size_t size = strlen(text);
	if (size > QUOTA_POLICY) {
		rc = apierr_set(r, "PolicyLengthExceededException",
				"The final policy size (%zu) is bigger than the limit (%d).", size, QUOTA_POLICY);
		goto out;
	}
	if ((rc = target_save(r, &t)))
		goto out;
	char *stext = json_dumps(st, JSON_COMPACT);
	if (!stext) {
		rc = LD_ENOMEM;
		goto out;
	}
	r->out = json_pack("{s:s}", "Statement", stext);
	free(stext);
out:
	free(text);
	json_decref(st);
	json_decref(meta);
	target_free(&t);
	return rc;
}

int api_remove_permission(req_t *r)
{
	struct target t = { 0 };
	json_t *meta = NULL;
	char arn[400];
	size_t index = 0;
	int rc;
	if ((rc = lookup_ref_in(r, &t.ref)))
		goto out;
	rc = rec_function_get(r->srv->store, t.ref.scope, t.ref.name, REC_PEEK, &meta);
	if (rc == LD_ENOTFOUND) {
		lookup_arn(&t.ref, NULL, arn, sizeof(arn));
		rc = apierr_set(r, "ResourceNotFoundException", "No policy found for: %s", arn);
	}
	if (rc || (rc = target_load(r, &t)))
		goto out;
	if (!t.policy) {
		rc = apierr_set(r, "ResourceNotFoundException", "No policy is associated with the given resource.");
		goto out;
	}
	const char *sid = json_string_value(json_object_get(r->in, "StatementId"));
	if (!access_find_statement(t.policy, sid, &index)) {
		rc = apierr_set(r, "ResourceNotFoundException", "Statement %s is not found in resource policy.", sid);
		goto out;
	}
	if ((rc = check_revision(r, &t)))
		goto out;
	json_array_remove(json_object_get(t.policy, "Statement"), index);
	if ((rc = target_save(r, &t)))
		goto out;
	r->status = 204;
out:
	json_decref(meta);
	target_free(&t);
	return rc;
}

int api_get_policy(req_t *r)
{
	struct fnref ref;
	json_t *policy = NULL;
	char key[400], *text = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)))
		return rc;
	/* a missing function, version, alias or policy: all the same to AWS */
	rec_policy_key(ref.name, ref.qualifier, key, sizeof(key));
	rc = rec_peek(r->srv->store, REC_POLICY, ref.scope, key, &policy);
	if (rc == LD_ENOTFOUND)
		return apierr_set(r, "ResourceNotFoundException", NO_RESOURCE);
	if (rc)
		return rc;
	if (!(text = policy_text(policy))) {
		rc = LD_ENOMEM;
		goto out;
	}
	r->out = json_pack("{s:s,s:O}", "Policy", text, "RevisionId", json_object_get(policy, "_RevisionId"));
	if (!r->out)
		rc = LD_ENOMEM;
out:
	free(text);
	json_decref(policy);
	return rc;
}
