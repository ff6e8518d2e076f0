/*
 * tags.c - TagResource, UntagResource, ListTags.
 *
 * Tags belong to the unqualified function: they live in its "fn" record, and
 * every change gives $LATEST a new RevisionId, as AWS does. Other taggable
 * resource types (layers, code signing configs, event source mappings) come
 * with their own resource families.
 */
#include "api/api.h"
#include "api/fnconfig.h"
#include "api/lookup.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

#define TAG_LIMIT 50

/* resolves Resource to a function record; AWS's errors for the rest */
static int load_tagged(req_t *r, struct fnref *ref, json_t **meta)
{
	const char *arn = json_string_value(json_object_get(r->in, "Resource"));
	int rc;
	if (!strstr(arn, ":function:"))
		return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
	if ((rc = lookup_ref(r, arn, NULL, ref)))
		return rc;
	if (ref->qualifier[0])
		return apierr_set(r, "InvalidParameterValueException",
				  "Tags on function aliases and versions are not supported. Please specify a function ARN.");
	return lookup_function(r, ref, meta);
}

/* stores meta and gives $LATEST a new RevisionId, in one transaction */
static int save_tags(req_t *r, const struct fnref *ref, json_t *meta)
{
	char key[400];
	json_t *latest = NULL;
	int rc;
	lookup_version_key(ref->name, "$LATEST", key, sizeof(key));
	if ((rc = store_get_json(r->srv->store, "ver", ref->scope, key, &latest)))
		return rc;
	fnconfig_touch(latest);
	json_object_set(latest, "LastModified", json_object_get(latest, "LastModified"));
	if ((rc = store_begin(r->srv->store)))
		goto out;
	if ((rc = store_put_json(r->srv->store, "fn", ref->scope, ref->name, meta)) ||
	    (rc = store_put_json(r->srv->store, "ver", ref->scope, key, latest)) ||
	    (rc = store_commit(r->srv->store)))
		store_rollback(r->srv->store);
out:
	json_decref(latest);
	return rc;
}

int api_tag_resource(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc;
	json_t *tags = json_object_get(r->in, "Tags");
	if ((rc = load_tagged(r, &ref, &meta)))
		goto out;
	if (json_object_size(tags) == 0) {
		rc = apierr_set(r, "InvalidParameterValueException", "An error occurred and the request cannot be processed.");
		goto out;
	}
	json_t *have = json_object_get(meta, "Tags");
	if (!have) {
		have = json_object();
		json_object_set_new(meta, "Tags", have);
	}
	json_t *merged = json_copy(have);
	json_object_update(merged, tags);
	if (json_object_size(merged) > TAG_LIMIT) {
		json_decref(merged);
		rc = apierr_set(r, "InvalidParameterValueException", "Number of tags exceeds resource tag limit.");
		goto out;
	}
	json_object_set_new(meta, "Tags", merged);
	if ((rc = save_tags(r, &ref, meta)))
		goto out;
	r->status = 204;
out:
	json_decref(meta);
	return rc;
}

int api_untag_resource(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc;
	if ((rc = load_tagged(r, &ref, &meta)))
		goto out;
	json_t *have = json_object_get(meta, "Tags");
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(r->in, "TagKeys"), i, k)
		json_object_del(have, json_string_value(k));
	if ((rc = save_tags(r, &ref, meta)))
		goto out;
	r->status = 204;
out:
	json_decref(meta);
	return rc;
}

int api_list_tags(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc;
	if ((rc = load_tagged(r, &ref, &meta)))
		goto out;
	json_t *tags = json_object_get(meta, "Tags");
	r->out = json_pack("{s:O}", "Tags", tags ? tags : json_object());
out:
	json_decref(meta);
	return rc;
}
