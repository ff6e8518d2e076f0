/*
 * aliases.c - CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.
 *
 * An alias is an "alias" record NAME/ALIAS in AWS's AliasConfiguration shape.
 * It points at one version, optionally with a RoutingConfig that sends a
 * weighted share of invocations to one other version.
 */
#include "api/api.h"
#include "api/fnconfig.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void alias_arn(const struct fnref *ref, const char *name, char *out, size_t n)
{
	lookup_arn(ref, name, out, n);
}

/* a version that an alias may point at must exist */
static int check_version(req_t *r, const struct fnref *ref, const char *version)
{
	if (!strcmp(version, "$LATEST"))
		return 0;
	char key[400];
	json_t *v = NULL;
	rec_version_key(ref->name, version, key, sizeof(key));
	int rc = rec_get(r->srv->store, REC_VERSION, ref->scope, key, &v);
	json_decref(v);
	if (rc == LD_ENOTFOUND) {
		char arn[400];
		lookup_arn(ref, version, arn, sizeof(arn));
		return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
	}
	return rc;
}

static int check_routing(req_t *r, const struct fnref *ref, const char *version, json_t *routing)
{
	json_t *w = json_object_get(routing, "AdditionalVersionWeights");
	if (json_object_size(w) > 1)
		return apierr_set(r, "InvalidParameterValueException",
				  "Number of items in AdditionalVersionWeights cannot be greater than 1");
	if (json_object_size(w) && !strcmp(version, "$LATEST"))
		return apierr_untyped(r, apierr_set(r, "InvalidParameterValueException",
						    "$LATEST is not supported for an alias pointing to more than 1 version"));
	const char *k;
	json_t *v;
	json_object_foreach(w, k, v) {
		if (!strcmp(k, version))
			return apierr_set(r, "InvalidParameterValueException",
					  "Invalid function version %s. Function version %s is already included in "
					  "routing configuration.",
					  version, version);
		int rc = check_version(r, ref, k);
		if (rc)
			return rc;
	}
	return 0;
}

static void set_routing(json_t *alias, json_t *routing)
{
	json_t *w = json_object_get(routing, "AdditionalVersionWeights");
	if (json_object_size(w))
		json_object_set_new(alias, "RoutingConfig", json_pack("{s:O}", "AdditionalVersionWeights", w));
	else
		json_object_del(alias, "RoutingConfig");
}

static int load_fn(req_t *r, struct fnref *ref, const char *qualified_by)
{
	json_t *meta = NULL;
	int rc = lookup_ref_in(r, ref);
	if (rc)
		return rc;
	rc = rec_function_get(r->srv->store, ref->scope, ref->name, 0, &meta);
	json_decref(meta);
	if (rc == LD_ENOTFOUND) {
		char arn[400];
		lookup_arn(ref, qualified_by, arn, sizeof(arn));
		return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
	}
	return rc;
}

int api_create_alias(req_t *r)
{
	struct fnref ref;
	json_t *alias = NULL, *existing = NULL;
	char key[400], arn[400];
	const char *name = json_string_value(json_object_get(r->in, "Name"));
	const char *version = json_string_value(json_object_get(r->in, "FunctionVersion"));
	json_t *routing = json_object_get(r->in, "RoutingConfig");
	int rc;
	if ((rc = load_fn(r, &ref, version)) || (rc = check_version(r, &ref, version)) ||
	    (rc = check_routing(r, &ref, version, routing)))
		goto out;
	snprintf(key, sizeof(key), "%s/%s", ref.name, name);
	alias_arn(&ref, name, arn, sizeof(arn));
	if (rec_get(r->srv->store, REC_ALIAS, ref.scope, key, &existing) == 0) {
		rc = apierr_set(r, "ResourceConflictException", "Alias already exists: %s", arn);
		goto out;
	}
	char rev[37];
	ids_uuid4(rev);
	const char *desc = json_string_value(json_object_get(r->in, "Description"));
	alias = json_pack("{s:s,s:s,s:s,s:s,s:s}", "AliasArn", arn, "Name", name, "FunctionVersion", version,
			  "Description", desc ? desc : "", "RevisionId", rev);
	set_routing(alias, routing);
	if ((rc = rec_put(r->srv->store, REC_ALIAS, ref.scope, key, alias)))
		goto out;
	r->out = json_incref(alias);
out:
	json_decref(alias);
	json_decref(existing);
	return rc;
}

static int load_alias(req_t *r, struct fnref *ref, json_t **alias, char *key, size_t keylen, const char *missing_fmt)
{
	const char *name = json_string_value(json_object_get(r->in, "Name"));
	int rc = load_fn(r, ref, NULL);
	if (rc)
		return rc;
	snprintf(key, keylen, "%s/%s", ref->name, name);
	rc = rec_get(r->srv->store, REC_ALIAS, ref->scope, key, alias);
	if (rc == LD_ENOTFOUND) {
		char arn[400];
		alias_arn(ref, name, arn, sizeof(arn));
		return apierr_set(r, "ResourceNotFoundException", missing_fmt, arn);
	}
	return rc;
}

int api_get_alias(req_t *r)
{
	struct fnref ref;
	json_t *alias = NULL;
	char key[400];
	int rc = load_alias(r, &ref, &alias, key, sizeof(key), "Cannot find alias arn: %s");
	if (!rc)
		r->out = alias;
	return rc;
}

int api_update_alias(req_t *r)
{
	struct fnref ref;
	json_t *alias = NULL;
	char key[400];
	int rc = load_alias(r, &ref, &alias, key, sizeof(key), "Alias not found: %s");
	if (rc)
		goto out;
	if ((rc = lookup_check_revision(r, json_string_value(json_object_get(alias, "RevisionId")),
					"GetFunction/GetAlias")))
		goto out;
	const char *version = json_string_value(json_object_get(r->in, "FunctionVersion"));
	if (!version)
		version = json_string_value(json_object_get(alias, "FunctionVersion"));
	json_t *routing = json_object_get(r->in, "RoutingConfig");
	json_t *eff = routing ? routing : json_object_get(alias, "RoutingConfig");
	if ((rc = check_version(r, &ref, version)) || (rc = check_routing(r, &ref, version, eff)))
		goto out;
	json_object_set_new(alias, "FunctionVersion", json_string(version));
	json_t *desc = json_object_get(r->in, "Description");
	if (desc)
		json_object_set(alias, "Description", desc);
	if (routing)
		set_routing(alias, routing);
	char id[37];
	ids_uuid4(id);
	json_object_set_new(alias, "RevisionId", json_string(id));
	if ((rc = rec_put(r->srv->store, REC_ALIAS, ref.scope, key, alias)))
		goto out;
	r->out = json_incref(alias);
	concurrency_sync(r->srv, ref.scope, ref.name); /* provisioned concurrency moves with the alias */
out:
	json_decref(alias);
	return rc;
}

int api_delete_alias(req_t *r)
{
	struct fnref ref;
	char key[400];
	int rc = load_fn(r, &ref, NULL);
	if (rc)
		return rc;
	const char *name = json_string_value(json_object_get(r->in, "Name"));
	snprintf(key, sizeof(key), "%s/%s", ref.name, name);
	if ((rc = store_begin(r->srv->store)))
		return rc;
	rc = rec_del(r->srv->store, REC_ALIAS, ref.scope, key);
	if (rc == LD_ENOTFOUND)
		rc = 0;
	if (!rc)
		rc = rec_delete_qualifier(r->srv->store, ref.scope, ref.name, name);
	if (!rc)
		rc = store_commit(r->srv->store);
	else
		store_rollback(r->srv->store);
	if (rc)
		return rc;
	concurrency_sync(r->srv, ref.scope, ref.name); /* its provisioned environments go */
	r->status = 204;
	return 0;
}

/* ListAliases' FunctionVersion filter */
static json_t *alias_item(void *ud, const char *key, json_t *a)
{
	const char *version = ud;
	if (version && strcmp(version, json_string_value(json_object_get(a, "FunctionVersion"))) != 0)
		return NULL;
	return json_incref(a);
}

int api_list_aliases(req_t *r)
{
	struct fnref ref;
	struct page p;
	char prefix[200];
	int rc = load_fn(r, &ref, NULL);
	if (rc)
		return rc;
	page_init(&p, r, 50);
	snprintf(prefix, sizeof(prefix), "%s/", ref.name);
	rc = page_list(&p, r, REC_ALIAS, ref.scope, prefix, alias_item,
		       (void *)json_string_value(json_object_get(r->in, "FunctionVersion")));
	if (!rc)
		rc = page_answer(&p, r, "Aliases");
	page_free(&p);
	return rc;
}
