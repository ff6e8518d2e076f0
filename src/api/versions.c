/*
 * versions.c - PublishVersion and ListVersionsByFunction, and the version
 * bookkeeping behind Publish=true (see versions.h).
 *
 * A published version is an immutable copy of $LATEST's record under its own
 * key. Publishing is idempotent as on AWS: PublishVersion called again with
 * no update in between returns the last published version. Every successful
 * UpdateFunctionCode / UpdateFunctionConfiguration marks $LATEST as changed
 * (versions_mark_changed), and a changed $LATEST is published as a new
 * version even when its content equals the last version's, as AWS does. A
 * fingerprint of $LATEST's record without the fields that change on their
 * own (RevisionId, LastModified, states), kept in the function record, also
 * catches any other change.
 */
#include "api/versions.h"
#include "api/api.h"
#include "api/fnconfig.h"
#include "api/settle.h"
#include "api/paging.h"
#include "blobs/blobs.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the internal mark of an update since the last publish (a '_' field: never shown) */
#define CHANGED_MARK "_ChangedSincePublish"

static const char *const volatile_fields[] = {
	"RevisionId", "LastModified", "State", "StateReason", "StateReasonCode", "LastUpdateStatus",
	"LastUpdateStatusReason", "LastUpdateStatusReasonCode", CHANGED_MARK, NULL,
};

void versions_mark_changed(json_t *latest)
{
	json_object_set_new(latest, CHANGED_MARK, json_true());
}

static void fingerprint(json_t *cfg, char hex[65])
{
	json_t *c = json_copy(cfg);
	for (const char *const *k = volatile_fields; *k; k++)
		json_object_del(c, *k);
	char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	blobs_digest(text ? text : "", text ? strlen(text) : 0, hex, NULL);
	free(text);
	json_decref(c);
}

int versions_publish(req_t *r, const struct fnref *ref, json_t *meta, json_t *latest, const char *description,
		     json_t **published)
{
	char num[24], key[400], arn[400], fp[65];
	json_int_t n = json_integer_value(json_object_get(meta, "LastVersion")) + 1;
	snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, n);
	json_t *v = json_deep_copy(latest);
	if (!v)
		return LD_ENOMEM;
	fingerprint(latest, fp);
	lookup_arn(ref, num, arn, sizeof(arn));
	json_object_del(v, CHANGED_MARK);
	json_object_del(latest, CHANGED_MARK); /* published: no longer changed */
	json_object_set_new(v, "Version", json_string(num));
	json_object_set_new(v, "FunctionArn", json_string(arn));
	if (description)
		json_object_set_new(v, "Description", json_string(description));
	const char *state = json_string_value(json_object_get(latest, "State"));
	const char *upd = json_string_value(json_object_get(latest, "LastUpdateStatus"));
	int settling = (state && !strcmp(state, "Pending")) || (upd && !strcmp(upd, "InProgress"));
	if (!settling && state && !strcmp(state, "Failed")) {
		/* a copy of what cannot run (its runtime is missing here) cannot
		 * run either: it keeps $LATEST's Failed state and reasons */
	} else if (settling) {
		json_object_del(v, "LastUpdateStatusReason");
		json_object_del(v, "LastUpdateStatusReasonCode");
		/* the new version is being created, as $LATEST's change is applied */
		json_object_del(v, "LastUpdateStatus");
		json_object_set_new(v, "State", json_string("Pending"));
		json_object_set_new(v, "StateReason", json_string("The function is being created."));
		json_object_set_new(v, "StateReasonCode", json_string("Creating"));
	} else {
		json_object_del(v, "LastUpdateStatusReason");
		json_object_del(v, "LastUpdateStatusReasonCode");
		json_object_set_new(v, "State", json_string("Active"));
		json_object_set_new(v, "LastUpdateStatus", json_string("Successful"));
	}
	fnconfig_touch(v);
	rec_version_key(ref->name, num, key, sizeof(key));
	int rc = rec_put(r->srv->store, REC_VERSION, ref->scope, key, v);
	if (rc) {
		json_decref(v);
		return rc;
	}
	json_object_set_new(meta, "LastVersion", json_integer(n));
	json_object_set_new(meta, "LastPublished", json_pack("{s:s,s:s}", "Version", num, "Fingerprint", fp));
	if (settling)
		settle_schedule(r->srv, REC_VERSION, ref->scope, key);
	*published = v;
	return 0;
}

int versions_delete(req_t *r, const struct fnref *ref, const char *version)
{
	char key[400];
	int rc;
	rec_version_key(ref->name, version, key, sizeof(key));
	if ((rc = store_begin(r->srv->store)))
		return rc;
	rc = rec_del(r->srv->store, REC_VERSION, ref->scope, key);
	if (rc == LD_ENOTFOUND)
		rc = 0;
	if (!rc)
		rc = rec_delete_qualifier(r->srv->store, ref->scope, ref->name, version);
	if (!rc)
		rc = store_commit(r->srv->store);
	else
		store_rollback(r->srv->store);
	return rc;
}

int api_publish_version(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL, *latest = NULL, *v = NULL;
	char key[400], fp[65];
	int rc, in_tx = 0;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_function(r, &ref, &meta)))
		goto out;
	rec_version_key(ref.name, "$LATEST", key, sizeof(key));
	if ((rc = rec_get(r->srv->store, REC_VERSION, ref.scope, key, &latest)))
		goto out;
	const char *sha = json_string_value(json_object_get(r->in, "CodeSha256"));
	const char *have_sha = json_string_value(json_object_get(latest, "CodeSha256"));
	if (sha && strcmp(sha, have_sha) != 0) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try "
				"again with the CodeSHA256 in $LATEST.",
				sha, have_sha);
		goto out;
	}
	if ((rc = lookup_check_revision(r, json_string_value(json_object_get(latest, "RevisionId")),
					"GetFunction/GetAlias")))
		goto out;
	const char *upd = json_string_value(json_object_get(latest, "LastUpdateStatus"));
	const char *state = json_string_value(json_object_get(latest, "State"));
	if ((upd && !strcmp(upd, "InProgress")) || (state && !strcmp(state, "Pending"))) {
		char arn[400];
		lookup_arn(&ref, NULL, arn, sizeof(arn));
		rc = apierr_set(r, "ResourceConflictException",
				"The operation cannot be performed at this time. An update is in progress for "
				"resource: %s",
				arn);
		goto out;
	}
	/* no update since the last published version: return it */
	json_t *lp = json_object_get(meta, "LastPublished");
	fingerprint(latest, fp);
	if (lp && !json_is_true(json_object_get(latest, CHANGED_MARK)) &&
	    !strcmp(json_string_value(json_object_get(lp, "Fingerprint")), fp)) {
		char vkey[400];
		rec_version_key(ref.name, json_string_value(json_object_get(lp, "Version")), vkey, sizeof(vkey));
		if (rec_get(r->srv->store, REC_VERSION, ref.scope, vkey, &v) == 0) {
			r->out = lookup_public(v);
			goto out;
		}
	}
	if ((rc = store_begin(r->srv->store)))
		goto out;
	in_tx = 1;
	if ((rc = versions_publish(r, &ref, meta, latest, json_string_value(json_object_get(r->in, "Description")),
				   &v)))
		goto out;
	fnconfig_touch(latest); /* $LATEST gets a new RevisionId */
	json_object_set(latest, "LastModified", json_object_get(v, "LastModified"));
	if ((rc = rec_put(r->srv->store, REC_VERSION, ref.scope, key, latest)) ||
	    (rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)) ||
	    (rc = store_commit(r->srv->store)))
		goto out;
	in_tx = 0;
	r->out = lookup_public(v);
out:
	if (in_tx)
		store_rollback(r->srv->store);
	json_decref(meta);
	json_decref(latest);
	json_decref(v);
	return rc;
}

/* fields that list items (ListFunctions, ListVersionsByFunction) leave out */
static const char *const list_omit[] = {
	"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
	"LastUpdateStatusReasonCode", "RuntimeVersionConfig", NULL,
};

json_t *versions_list_item(json_t *cfg)
{
	json_t *o = lookup_public(cfg);
	for (const char *const *k = list_omit; *k; k++)
		json_object_del(o, *k);
	return o;
}

json_t *versions_list_entry(void *ud, const char *key, json_t *cfg)
{
	if (!strcmp(json_string_value(json_object_get(cfg, "Version")), "$LATEST")) {
		char arn[400];
		snprintf(arn, sizeof(arn), "%s:$LATEST", json_string_value(json_object_get(cfg, "FunctionArn")));
		json_object_set_new(cfg, "FunctionArn", json_string(arn));
	}
	return versions_list_item(cfg);
}

int api_list_versions_by_function(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	char prefix[200];
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_function(r, &ref, &meta)))
		goto out;
	struct page p;
	page_init(&p, r, 50);
	snprintf(prefix, sizeof(prefix), "%s/", ref.name);
	rc = page_list(&p, r, REC_VERSION, ref.scope, prefix, versions_list_entry, NULL);
	if (!rc)
		rc = page_answer(&p, r, "Versions");
	page_free(&p);
out:
	json_decref(meta);
	return rc;
}
