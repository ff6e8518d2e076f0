/*
 * tags.c - TagResource, UntagResource, ListTags.
 *
 * A function's tags belong to the unqualified function: they live in its
 * "fn" record as Tags, and every change gives $LATEST a new RevisionId, as
 * AWS does. Code signing configs ("csc" records keyed by id) and event source
 * mappings ("esm" records keyed by UUID) keep their tags in their own record
 * as the internal field _Tags, which their handlers preserve on update.
 */
#include "api/api.h"
#include "api/fnconfig.h"
#include "api/lookup.h"
#include "model/apierr.h"
#include "quotas.h"
#include "store/store.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>


/* a taggable resource, loaded */
struct tagged {
	int is_function;
	struct fnref ref;     /* functions */
	int kind;             /* others: their record kind (enum rec_kind; -1: lambdad has none) and key */
	char scope[96];
	char key[128];
	json_t *doc;          /* the record holding the tags (owned) */
	const char *field;    /* "Tags" or "_Tags" */
};

/* the record kinds other than functions that can carry tags */
static const struct {
	const char *type;     /* resource type in the ARN */
	int kind;             /* enum rec_kind, or -1: no such records in lambdad (never found) */
	const char *missing;  /* AWS's not-found message, %s = the ARN */
} others[] = {
	{ "code-signing-config", REC_CODE_SIGNING, "The Lambda code signing configuration %s can not be found." },
	{ "event-source-mapping", REC_ESM, "Event source mapping not found: %s" },
	{ "capacity-provider", -1, "Capacity provider not found: %s" },
	{ "layer", REC_LAYER, "The resource you requested does not exist." },
};

/* resolves Resource to the record that holds its tags; AWS's errors */
static int load_tagged(req_t *r, struct tagged *t)
{
	const char *arn = json_string_value(json_object_get(r->in, "Resource"));
	int rc;
	memset(t, 0, sizeof(*t));
	if (strstr(arn, ":function:")) {
		t->is_function = 1;
		t->field = "Tags";
		if ((rc = lookup_ref(r, arn, NULL, &t->ref)))
			return rc;
		if (t->ref.qualifier[0])
			return apierr_set(r, "InvalidParameterValueException",
					  "Tags on function aliases and versions are not supported. Please specify a "
					  "function ARN.");
		return lookup_function(r, &t->ref, &t->doc);
	}
	/* arn:PARTITION:lambda:REGION:ACCOUNT:TYPE:ID (the model's pattern held) */
	char region[64] = "", account[16] = "", type[32] = "", id[128] = "";
	if (sscanf(arn, "arn:%*[^:]:lambda:%63[^:]:%15[^:]:%31[^:]:%127s", region, account, type, id) != 4)
		return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (strcmp(others[i].type, type) != 0)
			continue;
		t->kind = others[i].kind;
		t->field = "_Tags";
		snprintf(t->scope, sizeof(t->scope), "%s:%s", account, region);
		snprintf(t->key, sizeof(t->key), "%s", id);
		if (t->kind < 0 || strcmp(account, r->account) != 0 || strcmp(region, r->region) != 0)
			rc = LD_ENOTFOUND;
		else
			rc = rec_get(r->srv->store, (enum rec_kind)t->kind, t->scope, t->key, &t->doc);
		if (rc == LD_ENOTFOUND)
			return apierr_set(r, "ResourceNotFoundException", others[i].missing, arn);
		return rc;
	}
	return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
}

/* stores the record; a function's $LATEST gets a new RevisionId with it */
static int save_tagged(req_t *r, struct tagged *t)
{
	char key[400];
	json_t *latest = NULL;
	int rc;
	if (!t->is_function)
		return rec_put(r->srv->store, (enum rec_kind)t->kind, t->scope, t->key, t->doc);
	rec_version_key(t->ref.name, "$LATEST", key, sizeof(key));
	if ((rc = rec_get(r->srv->store, REC_VERSION, t->ref.scope, key, &latest)))
		return rc;
	fnconfig_touch(latest);
	if ((rc = store_begin(r->srv->store)))
		goto out;
	if ((rc = rec_function_put(r->srv->store, t->ref.scope, t->ref.name, t->doc)) ||
	    (rc = rec_put(r->srv->store, REC_VERSION, t->ref.scope, key, latest)) ||
	    (rc = store_commit(r->srv->store)))
		store_rollback(r->srv->store);
out:
	json_decref(latest);
	return rc;
}

int api_tag_resource(req_t *r)
{
	struct tagged t;
	int rc;
	json_t *tags = json_object_get(r->in, "Tags");
	if ((rc = load_tagged(r, &t)))
		goto out;
	if (json_object_size(tags) == 0) {
		rc = apierr_set(r, "InvalidParameterValueException", "An error occurred and the request cannot be processed.");
		goto out;
	}
	json_t *have = json_object_get(t.doc, t.field);
	json_t *merged = have ? json_copy(have) : json_object();
	json_object_update(merged, tags);
	if (json_object_size(merged) > QUOTA_TAGS) {
		json_decref(merged);
		rc = apierr_set(r, "InvalidParameterValueException", "Number of tags exceeds resource tag limit.");
		goto out;
	}
	json_object_set_new(t.doc, t.field, merged);
	if ((rc = save_tagged(r, &t)))
		goto out;
	r->status = 204;
out:
	json_decref(t.doc);
	return rc;
}

int api_untag_resource(req_t *r)
{
	struct tagged t;
	int rc;
	if ((rc = load_tagged(r, &t)))
		goto out;
	json_t *have = json_object_get(t.doc, t.field);
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(r->in, "TagKeys"), i, k)
		json_object_del(have, json_string_value(k));
	if ((rc = save_tagged(r, &t)))
		goto out;
	r->status = 204;
out:
	json_decref(t.doc);
	return rc;
}

int api_list_tags(req_t *r)
{
	struct tagged t;
	int rc;
	if ((rc = load_tagged(r, &t)))
		goto out;
	json_t *tags = json_object_get(t.doc, t.field);
	r->out = json_pack("{s:o}", "Tags", tags ? json_incref(tags) : json_object());
out:
	json_decref(t.doc);
	return rc;
}
