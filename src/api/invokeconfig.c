/*
 * invokeconfig.c - PutFunctionEventInvokeConfig, UpdateFunctionEventInvokeConfig,
 * GetFunctionEventInvokeConfig, DeleteFunctionEventInvokeConfig,
 * ListFunctionEventInvokeConfigs: the settings of asynchronous invocation.
 *
 * One "eic" record per qualifier, keyed NAME/QUALIFIER (NAME/$LATEST when
 * unqualified, a version as its plain number), in AWS's
 * FunctionEventInvokeConfig shape: LastModified (epoch seconds, a JSON
 * number as AWS sends it), FunctionArn (always qualified, ":$LATEST" for the
 * unqualified function), the optional MaximumRetryAttempts and
 * MaximumEventAgeInSeconds (the gate checks their ranges), and
 * DestinationConfig with both OnSuccess and OnFailure present (empty objects
 * when unset). Put replaces the whole record, Update merges into it.
 * lookup.c deletes the records with their function, version or alias; the
 * async queue of a later issue reads them to retry and route results.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "loop.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ref_qualifier(const struct fnref *ref)
{
	return ref->qualifier[0] ? ref->qualifier : "$LATEST";
}

static void eic_key(const struct fnref *ref, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", ref->name, ref_qualifier(ref));
}

static int no_config(req_t *r, const struct fnref *ref)
{
	char arn[400];
	lookup_arn(ref, ref_qualifier(ref), arn, sizeof(arn));
	return apierr_set(r, "ResourceNotFoundException", "The function %s doesn't have an EventInvokeConfig", arn);
}

/* the function (and the version or alias the qualifier names) must exist;
 * AWS words this error without an ARN for these actions */
static int check_function(req_t *r, const struct fnref *ref)
{
	json_t *cfg = NULL;
	int rc = lookup_config_peek(r, ref, ref->qualifier, &cfg);
	json_decref(cfg);
	if (rc == LD_EAPI && r->err.type && !strcmp(r->err.type, "ResourceNotFoundException"))
		rc = apierr_set(r, "ResourceNotFoundException", "The function doesn't exist.");
	return rc;
}

static const char *dest_of(json_t *dc, const char *which)
{
	const char *d = json_string_value(json_object_get(json_object_get(dc, which), "Destination"));
	return d && *d ? d : NULL;
}

/* AWS's Java rendering of the request's DestinationConfig in its message */
static int invalid_config(req_t *r, json_t *dc)
{
	char s[420], f[420];
	const char *ds = dest_of(dc, "OnSuccess"), *df = dest_of(dc, "OnFailure");
	if (json_object_get(dc, "OnSuccess"))
		snprintf(s, sizeof(s), "OnSuccess(destination=%s)", ds ? ds : "null");
	else
		snprintf(s, sizeof(s), "null");
	if (json_object_get(dc, "OnFailure"))
		snprintf(f, sizeof(f), "OnFailure(destination=%s)", df ? df : "null");
	else
		snprintf(f, sizeof(f), "null");
	return apierr_set(r, "InvalidParameterValueException",
			  "The provided destination config DestinationConfig(onSuccess=%s, onFailure=%s) is invalid.", s,
			  f);
}

/* a Lambda destination: not the function itself, and it must exist */
static int check_lambda_dest(req_t *r, const struct fnref *self, const char *arn, const char *region,
			     const char *account, const char *resource)
{
	char name[160] = "", qual[160] = "", key[400];
	const char *p = resource + strlen("function:");
	const char *colon = strchr(p, ':');
	size_t nl = colon ? (size_t)(colon - p) : strlen(p);
	if (nl == 0 || nl >= sizeof(name) || (colon && strlen(colon + 1) >= sizeof(qual)))
		goto invalid;
	memcpy(name, p, nl);
	if (colon)
		snprintf(qual, sizeof(qual), "%s", colon + 1);
	if (!strcmp(account, self->account) && !strcmp(region, self->region) && !strcmp(name, self->name))
		return apierr_set(r, "InvalidParameterValueException",
				  "You can't specify the function as a destination for itself.");
	char scope[96];
	json_t *doc = NULL;
	enum rec_kind kind = REC_FUNCTION;
	snprintf(scope, sizeof(scope), "%s:%s", account, region);
	if (!*qual || !strcmp(qual, "$LATEST")) {
		snprintf(key, sizeof(key), "%s", name);
	} else if (rec_is_version(qual)) {
		kind = REC_VERSION;
		rec_version_key(name, qual, key, sizeof(key));
	} else {
		kind = REC_ALIAS;
		snprintf(key, sizeof(key), "%s/%s", name, qual);
	}
	int rc = rec_peek(r->srv->store, kind, scope, key, &doc);
	json_decref(doc);
	if (rc != LD_ENOTFOUND)
		return rc;
invalid:
	return apierr_set(r, "InvalidParameterValueException", "The destination ARN %s is invalid.", arn);
}

/*
 * One destination ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE, for
 * Lambda (function:NAME), SQS, SNS, EventBridge (event-bus/NAME) and, for
 * failures only, S3. Anything else is AWS's "provided destination config".
 */
static int check_dest(req_t *r, const struct fnref *self, json_t *dc, const char *which)
{
	const char *arn = dest_of(dc, which);
	char buf[400];
	char *f[6];
	int n = 0;
	if (!arn)
		return 0;
	snprintf(buf, sizeof(buf), "%s", arn);
	for (char *p = buf; n < 6;) {
		f[n++] = p;
		if (n == 6)
			break;
		char *c = strchr(p, ':');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (n < 6 || strcmp(f[0], "arn") != 0)
		return invalid_config(r, dc);
	const char *svc = f[2], *region = f[3], *account = f[4], *res = f[5];
	if (!strcmp(svc, "lambda")) {
		if (strncmp(res, "function:", 9) != 0 || !*region || !*account)
			return invalid_config(r, dc);
		return check_lambda_dest(r, self, arn, region, account, res);
	}
	if ((!strcmp(svc, "sqs") || !strcmp(svc, "sns")) && *region && *account && *res)
		return 0;
	if (!strcmp(svc, "events") && *region && *account && !strncmp(res, "event-bus/", 10) && res[10])
		return 0;
	if (!strcmp(svc, "s3") && !strcmp(which, "OnFailure") && *res)
		return 0;
	return invalid_config(r, dc);
}

static int check_destinations(req_t *r, const struct fnref *ref, json_t *dc)
{
	int rc;
	if (!dc)
		return 0;
	if ((rc = check_dest(r, ref, dc, "OnSuccess")))
		return rc;
	return check_dest(r, ref, dc, "OnFailure");
}

static json_t *dest_obj(const char *arn)
{
	return arn ? json_pack("{s:s}", "Destination", arn) : json_object();
}

/* the stored/answered document in AWS's member order */
static json_t *make_config(const struct fnref *ref, json_t *retries, json_t *age, const char *on_success,
			   const char *on_failure)
{
	char arn[400];
	lookup_arn(ref, ref_qualifier(ref), arn, sizeof(arn));
	json_t *c = json_object();
	json_object_set_new(c, "LastModified", json_real((double)loop_wall_ms() / 1000.0));
	json_object_set_new(c, "FunctionArn", json_string(arn));
	if (retries)
		json_object_set(c, "MaximumRetryAttempts", retries);
	if (age)
		json_object_set(c, "MaximumEventAgeInSeconds", age);
	json_object_set_new(c, "DestinationConfig", json_pack("{s:o,s:o}", "OnSuccess", dest_obj(on_success),
							      "OnFailure", dest_obj(on_failure)));
	return c;
}

static int check_some_setting(req_t *r)
{
	if (!json_object_get(r->in, "MaximumRetryAttempts") && !json_object_get(r->in, "MaximumEventAgeInSeconds") &&
	    !json_object_get(r->in, "DestinationConfig"))
		return apierr_set(r, "InvalidParameterValueException",
				  "You must specify at least one of error handling or destination setting.");
	return 0;
}

int api_put_function_event_invoke_config(req_t *r)
{
	struct fnref ref;
	char key[400];
	json_t *dc = json_object_get(r->in, "DestinationConfig");
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = check_some_setting(r)) || (rc = check_function(r, &ref)) ||
	    (rc = check_destinations(r, &ref, dc)))
		return rc;
	json_t *c = make_config(&ref, json_object_get(r->in, "MaximumRetryAttempts"),
				json_object_get(r->in, "MaximumEventAgeInSeconds"), dest_of(dc, "OnSuccess"),
				dest_of(dc, "OnFailure"));
	eic_key(&ref, key, sizeof(key));
	if ((rc = rec_put(r->srv->store, REC_INVOKE_CONFIG, ref.scope, key, c))) {
		json_decref(c);
		return rc;
	}
	r->out = c;
	return 0;
}

int api_update_function_event_invoke_config(req_t *r)
{
	struct fnref ref;
	char key[400];
	json_t *old = NULL, *c = NULL;
	json_t *dc = json_object_get(r->in, "DestinationConfig");
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = check_some_setting(r)) || (rc = check_function(r, &ref)))
		return rc;
	eic_key(&ref, key, sizeof(key));
	rc = rec_peek(r->srv->store, REC_INVOKE_CONFIG, ref.scope, key, &old);
	if (rc == LD_ENOTFOUND)
		return no_config(r, &ref);
	if (rc || (rc = check_destinations(r, &ref, dc)))
		goto out;
	/* members given replace the stored ones; the others stay */
	json_t *retries = json_object_get(r->in, "MaximumRetryAttempts");
	json_t *age = json_object_get(r->in, "MaximumEventAgeInSeconds");
	json_t *odc = json_object_get(old, "DestinationConfig");
	const char *ok = json_object_get(dc, "OnSuccess") ? dest_of(dc, "OnSuccess") : dest_of(odc, "OnSuccess");
	const char *ko = json_object_get(dc, "OnFailure") ? dest_of(dc, "OnFailure") : dest_of(odc, "OnFailure");
	c = make_config(&ref, retries ? retries : json_object_get(old, "MaximumRetryAttempts"),
			age ? age : json_object_get(old, "MaximumEventAgeInSeconds"), ok, ko);
	if ((rc = rec_put(r->srv->store, REC_INVOKE_CONFIG, ref.scope, key, c)))
		goto out;
	r->out = c;
	c = NULL;
out:
	json_decref(c);
	json_decref(old);
	return rc;
}

int api_get_function_event_invoke_config(req_t *r)
{
	struct fnref ref;
	char key[400];
	json_t *c = NULL;
	int rc = lookup_ref_in(r, &ref);
	if (rc)
		return rc;
	eic_key(&ref, key, sizeof(key));
	rc = rec_peek(r->srv->store, REC_INVOKE_CONFIG, ref.scope, key, &c);
	if (rc == LD_ENOTFOUND)
		return no_config(r, &ref);
	if (rc)
		return rc;
	r->out = c;
	return 0;
}

int api_delete_function_event_invoke_config(req_t *r)
{
	struct fnref ref;
	char key[400];
	int rc = lookup_ref_in(r, &ref);
	if (rc)
		return rc;
	eic_key(&ref, key, sizeof(key));
	rc = rec_del(r->srv->store, REC_INVOKE_CONFIG, ref.scope, key);
	if (rc == LD_ENOTFOUND)
		return no_config(r, &ref);
	if (rc)
		return rc;
	r->status = 204;
	return 0;
}

int api_list_function_event_invoke_configs(req_t *r)
{
	struct fnref ref;
	struct page p;
	char prefix[200];
	int rc = lookup_ref_in(r, &ref);
	if (rc || (rc = lookup_function_exists(r, &ref, "The function doesn't exist.")))
		return rc;
	page_init(&p, r, 50);
	snprintf(prefix, sizeof(prefix), "%s/", ref.name);
	rc = page_list(&p, r, REC_INVOKE_CONFIG, ref.scope, prefix, NULL, NULL);
	if (!rc)
		rc = page_answer(&p, r, "FunctionEventInvokeConfigs");
	page_free(&p);
	return rc;
}
