/*
 * codesigning.c - code signing configs and the functions that use them:
 * CreateCodeSigningConfig, GetCodeSigningConfig, UpdateCodeSigningConfig,
 * DeleteCodeSigningConfig, ListCodeSigningConfigs,
 * PutFunctionCodeSigningConfig, GetFunctionCodeSigningConfig,
 * DeleteFunctionCodeSigningConfig, ListFunctionsByCodeSigningConfig, and the
 * existence check behind CreateFunction's CodeSigningConfigArn.
 *
 * A config is a "csc" record keyed by its id ("csc-" and 17 characters of
 * [a-z0-9]) in AWS's CodeSigningConfig shape; CreateCodeSigningConfig's Tags
 * live in its internal field _Tags, which tags.c reads and every update here
 * keeps. The association with a function is the CodeSigningConfigArn field
 * of the function's "fn" record, so it goes away with the function, and
 * ListFunctionsByCodeSigningConfig and the "still in use" check of
 * DeleteCodeSigningConfig scan the account's functions for it. Signatures
 * are not verified (lambdad has no signer): the config is stored, validated,
 * returned and listed as AWS does.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "loop.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/arn.h"

#include <stdio.h>
#include <string.h>

#define CSC_LIST_MAX 10000 /* AWS returns up to 10,000 items per call */

/* a code signing config named by ARN */
struct cscref {
	char arn[256];
	char id[64];
	char scope[96];
	int local; /* the ARN's account and region are the caller's */
};

/* Splits arn:PARTITION:lambda:REGION:ACCOUNT:code-signing-config:ID (the
 * model's pattern already held). */
static void csc_parse(req_t *r, const char *arn, struct cscref *c)
{
	char region[64] = "", account[16] = "";
	memset(c, 0, sizeof(*c));
	snprintf(c->arn, sizeof(c->arn), "%s", arn ? arn : "");
	if (sscanf(c->arn, "arn:%*[^:]:lambda:%63[^:]:%15[^:]:code-signing-config:%63s", region, account, c->id) != 3)
		return;
	snprintf(c->scope, sizeof(c->scope), "%s:%s", account, region);
	c->local = !strcmp(region, r->region) && !strcmp(account, r->account);
}

static void csc_arn(req_t *r, const char *id, char *out, size_t n)
{
	snprintf(out, n, "arn:%s:lambda:%s:%s:code-signing-config:%s", arn_partition(r->region), r->region,
		 r->account, id);
}

/* Loads the config; not found is LD_ENOTFOUND without an error recorded. */
static int csc_load(req_t *r, const struct cscref *c, json_t **doc, int peek)
{
	*doc = NULL;
	if (!c->local || !c->id[0])
		return LD_ENOTFOUND;
	return (peek ? rec_peek : rec_get)(r->srv->store, REC_CODE_SIGNING, c->scope, c->id, doc);
}

/* the management actions' not-found error (AWS sends it without Type) */
static int csc_missing(req_t *r, const struct cscref *c)
{
	return apierr_untyped(r, apierr_set(r, "ResourceNotFoundException",
					    "The Lambda code signing configuration %s can not be found.", c->arn));
}

/* the function actions' not-found error */
static int csc_missing_for_function(req_t *r, const char *arn)
{
	return apierr_set(r, "CodeSigningConfigNotFoundException",
			  "The code signing configuration cannot be found. Check that the provided configuration is "
			  "not deleted: %s.",
			  arn);
}

int codesigning_check_arn(req_t *r, const char *arn)
{
	struct cscref c;
	json_t *doc = NULL;
	csc_parse(r, arn, &c);
	int rc = csc_load(r, &c, &doc, 1);
	json_decref(doc);
	if (rc == LD_ENOTFOUND)
		return csc_missing_for_function(r, arn);
	return rc;
}

/* applies Description / AllowedPublishers / CodeSigningPolicies of r->in */
static void csc_apply(req_t *r, json_t *doc)
{
	json_t *v;
	if ((v = json_object_get(r->in, "Description")))
		json_object_set(doc, "Description", v);
	if ((v = json_object_get(r->in, "AllowedPublishers")))
		json_object_set_new(doc, "AllowedPublishers",
				    json_pack("{s:O}", "SigningProfileVersionArns",
					      json_object_get(v, "SigningProfileVersionArns")));
	if ((v = json_object_get(r->in, "CodeSigningPolicies"))) {
		const char *p = json_string_value(json_object_get(v, "UntrustedArtifactOnDeployment"));
		json_object_set_new(doc, "CodeSigningPolicies",
				    json_pack("{s:s}", "UntrustedArtifactOnDeployment", p ? p : "Warn"));
	}
	char t[29];
	ids_time_lambda(loop_wall_ms(), t);
	json_object_set_new(doc, "LastModified", json_string(t));
}

int api_create_code_signing_config(req_t *r)
{
	char hex[19], id[32], arn[256], scope[96];
	json_t *doc = NULL, *tags = json_object_get(r->in, "Tags");
	int rc;
	if (json_object_size(tags) > 50)
		return apierr_set(r, "InvalidParameterValueException", "Number of tags exceeds resource tag limit.");
	ids_hex(hex, 9);
	snprintf(id, sizeof(id), "csc-%.17s", hex);
	csc_arn(r, id, arn, sizeof(arn));
	snprintf(scope, sizeof(scope), "%s:%s", r->account, r->region);
	doc = json_pack("{s:s,s:s,s:s,s:{s:[]},s:{s:s}}", "CodeSigningConfigId", id, "CodeSigningConfigArn", arn,
			"Description", "", "AllowedPublishers", "SigningProfileVersionArns", "CodeSigningPolicies",
			"UntrustedArtifactOnDeployment", "Warn");
	if (!doc)
		return LD_ENOMEM;
	csc_apply(r, doc);
	json_object_set_new(doc, "_Tags", tags ? json_deep_copy(tags) : json_object());
	if ((rc = rec_put(r->srv->store, REC_CODE_SIGNING, scope, id, doc)))
		goto out;
	r->out = json_pack("{s:O}", "CodeSigningConfig", doc);
out:
	json_decref(doc);
	return rc;
}

int api_get_code_signing_config(req_t *r)
{
	struct cscref c;
	json_t *doc = NULL;
	csc_parse(r, json_string_value(json_object_get(r->in, "CodeSigningConfigArn")), &c);
	int rc = csc_load(r, &c, &doc, 1);
	if (rc == LD_ENOTFOUND)
		return csc_missing(r, &c);
	if (rc)
		return rc;
	r->out = json_pack("{s:o}", "CodeSigningConfig", doc);
	return 0;
}

int api_update_code_signing_config(req_t *r)
{
	struct cscref c;
	json_t *doc = NULL;
	csc_parse(r, json_string_value(json_object_get(r->in, "CodeSigningConfigArn")), &c);
	int rc = csc_load(r, &c, &doc, 0);
	if (rc == LD_ENOTFOUND)
		return csc_missing(r, &c);
	if (rc)
		return rc;
	/* an update without changes answers the config as it is (AWS) */
	if (json_object_get(r->in, "Description") || json_object_get(r->in, "AllowedPublishers") ||
	    json_object_get(r->in, "CodeSigningPolicies")) {
		csc_apply(r, doc); /* _Tags stays in doc */
		if ((rc = rec_put(r->srv->store, REC_CODE_SIGNING, c.scope, c.id, doc)))
			goto out;
	}
	r->out = json_pack("{s:O}", "CodeSigningConfig", doc);
out:
	json_decref(doc);
	return rc;
}

/* ---- functions that use a config ---- */

struct fnscan {
	const char *arn;   /* the config's ARN */
	struct fnref ref;  /* for function ARNs */
	struct page *page; /* collects function ARNs (NULL: only count) */
	int found;
};

static int fnscan_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct fnscan *s = ud;
	json_error_t err;
	/* cheap filter before parsing: the ARN must appear in the document */
	if (!memmem(doc, len, s->arn, strlen(s->arn)))
		return 0;
	json_t *m = json_loadb(doc, len, 0, &err);
	const char *have = json_string_value(json_object_get(m, "CodeSigningConfigArn"));
	int match = have && !strcmp(have, s->arn);
	json_decref(m);
	if (!match)
		return 0;
	if (!s->page) {
		s->found++;
		return 1;
	}
	if (page_full(s->page))
		return 1;
	char arn[400];
	snprintf(s->ref.name, sizeof(s->ref.name), "%s", key);
	lookup_arn(&s->ref, NULL, arn, sizeof(arn));
	return page_add(s->page, json_string(arn), key);
}

int api_delete_code_signing_config(req_t *r)
{
	struct cscref c;
	json_t *doc = NULL;
	csc_parse(r, json_string_value(json_object_get(r->in, "CodeSigningConfigArn")), &c);
	int rc = csc_load(r, &c, &doc, 1);
	json_decref(doc);
	if (rc == LD_ENOTFOUND)
		return csc_missing(r, &c);
	if (rc)
		return rc;
	struct fnscan s = { .arn = c.arn };
	if ((rc = rec_list(r->srv->store, REC_FUNCTION, c.scope, NULL, NULL, 0, fnscan_cb, &s)))
		return rc;
	if (s.found)
		return apierr_set(r, "ResourceConflictException",
				  "The code signing configuration cannot be deleted because it is used by one or more "
				  "functions.");
	rc = rec_del(r->srv->store, REC_CODE_SIGNING, c.scope, c.id);
	if (rc && rc != LD_ENOTFOUND)
		return rc;
	r->status = 204;
	return 0;
}

int api_list_code_signing_configs(req_t *r)
{
	char scope[96];
	struct page p;
	page_init(&p, r, CSC_LIST_MAX);
	snprintf(scope, sizeof(scope), "%s:%s", r->account, r->region);
	int rc = page_list(&p, r, REC_CODE_SIGNING, scope, NULL, NULL, NULL); /* internal fields are never serialised */
	if (!rc)
		rc = page_answer(&p, r, "CodeSigningConfigs");
	page_free(&p);
	return rc;
}

int api_list_functions_by_code_signing_config(req_t *r)
{
	struct cscref c;
	struct page p;
	json_t *doc = NULL;
	csc_parse(r, json_string_value(json_object_get(r->in, "CodeSigningConfigArn")), &c);
	int rc = csc_load(r, &c, &doc, 1);
	json_decref(doc);
	if (rc == LD_ENOTFOUND)
		return csc_missing(r, &c);
	if (rc)
		return rc;
	page_init(&p, r, CSC_LIST_MAX);
	struct fnscan s = { .arn = c.arn, .page = &p };
	snprintf(s.ref.account, sizeof(s.ref.account), "%s", r->account);
	snprintf(s.ref.region, sizeof(s.ref.region), "%s", r->region);
	rc = p.items ? rec_list(r->srv->store, REC_FUNCTION, c.scope, NULL, p.marker, 0, fnscan_cb, &s) : LD_ENOMEM;
	if (!rc)
		rc = page_answer(&p, r, "FunctionArns");
	page_free(&p);
	return rc;
}

/* Resolves FunctionName to an existing function (unqualified, as AWS names
 * it in these errors) and loads its record; code signing applies to zip
 * packages only. */
static int load_function(req_t *r, struct fnref *ref, json_t **meta, int peek)
{
	json_t *cfg = NULL;
	int rc = lookup_ref_in(r, ref);
	if (rc)
		return rc;
	rc = peek ? lookup_function_peek(r, ref, meta) : lookup_function(r, ref, meta);
	if (rc)
		return rc;
	if ((rc = lookup_config_peek(r, ref, "$LATEST", &cfg)))
		return rc;
	const char *ptype = json_string_value(json_object_get(cfg, "PackageType"));
	if (ptype && !strcmp(ptype, "Image"))
		rc = apierr_set(r, "InvalidParameterValueException",
				"Code signing is not supported for functions created with container images.");
	json_decref(cfg);
	return rc;
}

int api_put_function_code_signing_config(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	const char *arn = json_string_value(json_object_get(r->in, "CodeSigningConfigArn"));
	/* the config is checked first: AWS reports a missing config even when
	 * the function is missing too */
	int rc = codesigning_check_arn(r, arn);
	if (rc || (rc = load_function(r, &ref, &meta, 0)))
		goto out;
	json_object_set_new(meta, "CodeSigningConfigArn", json_string(arn));
	if ((rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
		goto out;
	r->out = json_pack("{s:s,s:s}", "CodeSigningConfigArn", arn, "FunctionName", ref.name);
out:
	json_decref(meta);
	return rc;
}

int api_get_function_code_signing_config(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc = load_function(r, &ref, &meta, 1);
	if (rc)
		goto out;
	const char *arn = json_string_value(json_object_get(meta, "CodeSigningConfigArn"));
	/* a function without a config answers an empty object (AWS) */
	r->out = arn ? json_pack("{s:s,s:s}", "CodeSigningConfigArn", arn, "FunctionName", ref.name) : json_object();
out:
	json_decref(meta);
	return rc;
}

int api_delete_function_code_signing_config(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc = load_function(r, &ref, &meta, 0);
	if (rc)
		goto out;
	if (json_object_get(meta, "CodeSigningConfigArn")) {
		json_object_del(meta, "CodeSigningConfigArn");
		if ((rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
			goto out;
	}
	r->status = 204;
out:
	json_decref(meta);
	return rc;
}
