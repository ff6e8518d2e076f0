/*
 * settings.c - per-function settings without a resource of their own:
 * runtime management (Get/PutRuntimeManagementConfig, per version) and
 * recursive loop detection (Get/PutFunctionRecursionConfig, per function).
 *
 * Runtime management is kept in the version's record (internal field
 * _RuntimeManagement); the recursion setting in the function record.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

static int runtime_config(req_t *r, int put)
{
	struct fnref ref;
	json_t *meta = NULL, *cfg = NULL;
	char key[400], arn[400];
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_function(r, &ref, &meta)))
		goto out;
	const char *q = ref.qualifier[0] ? ref.qualifier : "$LATEST";
	if (!rec_is_version(q) && strcmp(q, "$LATEST") != 0) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"The function resource provided must be $LATEST or a published version.");
		goto out;
	}
	if ((rc = lookup_config(r, &ref, q, &cfg, NULL)))
		goto out;
	json_t *rm = json_object_get(cfg, "_RuntimeManagement");
	if (put) {
		const char *mode = json_string_value(json_object_get(r->in, "UpdateRuntimeOn"));
		json_t *ver = json_object_get(r->in, "RuntimeVersionArn");
		if (!strcmp(mode, "Manual") && !ver) {
			rc = apierr_set(r, "InvalidParameterValueException",
					"RuntimeVersionArn must be specified when UpdateRuntimeOn is Manual.");
			goto out;
		}
		if (strcmp(mode, "Manual") != 0 && ver) {
			rc = apierr_set(r, "InvalidParameterValueException",
					"RuntimeVersionArn can only be specified when UpdateRuntimeOn is Manual.");
			goto out;
		}
		rm = json_pack("{s:s}", "UpdateRuntimeOn", mode);
		if (ver)
			json_object_set(rm, "RuntimeVersionArn", ver);
		json_object_set_new(cfg, "_RuntimeManagement", rm);
		rec_version_key(ref.name, q, key, sizeof(key));
		if ((rc = rec_put(r->srv->store, REC_VERSION, ref.scope, key, cfg)))
			goto out;
	}
	lookup_arn(&ref, ref.qualifier[0] ? ref.qualifier : NULL, arn, sizeof(arn));
	r->out = json_object();
	json_object_set_new(r->out, "UpdateRuntimeOn",
			    json_string(rm ? json_string_value(json_object_get(rm, "UpdateRuntimeOn")) : "Auto"));
	if (rm && json_object_get(rm, "RuntimeVersionArn"))
		json_object_set(r->out, "RuntimeVersionArn", json_object_get(rm, "RuntimeVersionArn"));
	json_object_set_new(r->out, "FunctionArn", json_string(arn));
out:
	json_decref(meta);
	json_decref(cfg);
	return rc;
}

int api_get_runtime_management_config(req_t *r)
{
	return runtime_config(r, 0);
}

int api_put_runtime_management_config(req_t *r)
{
	return runtime_config(r, 1);
}

static int recursion_config(req_t *r, int put)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_function(r, &ref, &meta)))
		goto out;
	if (put) {
		json_object_set(meta, "RecursiveLoop", json_object_get(r->in, "RecursiveLoop"));
		if ((rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
			goto out;
	}
	const char *loop = json_string_value(json_object_get(meta, "RecursiveLoop"));
	r->out = json_pack("{s:s}", "RecursiveLoop", loop ? loop : "Terminate");
out:
	json_decref(meta);
	return rc;
}

int api_get_function_recursion_config(req_t *r)
{
	return recursion_config(r, 0);
}

int api_put_function_recursion_config(req_t *r)
{
	return recursion_config(r, 1);
}
