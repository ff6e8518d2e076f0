/*
 * functions.c - CreateFunction, GetFunction, GetFunctionConfiguration,
 * UpdateFunctionCode, UpdateFunctionConfiguration, DeleteFunction and
 * ListFunctions.
 *
 * A function is a "fn" record (tags, version counter, settings) plus one
 * "ver" record per version, $LATEST first; see lookup.h for the layout and
 * fnconfig.h for the configuration rules and the Pending/InProgress state
 * machine. Writes that touch several records run in one store transaction.
 */
#include "api/api.h"
#include "api/code.h"
#include "api/fnconfig.h"
#include "api/settle.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "api/versions.h"
#include "blobs/blobs.h"
#include "exec/exec.h"
#include "loop.h"
#include "model/apierr.h"
#include "quotas.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* the configuration as returned for a request that named it with `qualifier` */
/* the configuration as returned for a request that named it with
 * `qualifier`: the stored document itself (new reference; internal '_'
 * fields are never serialised) when its FunctionArn is already the one to
 * show, else a copy with that ARN. Treat the result as read-only. */
static json_t *public_config(const struct fnref *ref, json_t *cfg, const char *qualifier)
{
	char arn[400];
	lookup_arn(ref, qualifier, arn, sizeof(arn));
	const char *have = json_string_value(json_object_get(cfg, "FunctionArn"));
	if (have && !strcmp(have, arn))
		return json_incref(cfg);
	json_t *o = lookup_public(cfg);
	json_object_set_new(o, "FunctionArn", json_string(arn));
	return o;
}

static int check_name_length(req_t *r, const struct fnref *ref)
{
	if (strlen(ref->name) > 64)
		return apierr_set(r, "InvalidParameterValueException",
				  "1 validation error detected: Value '%s' at 'functionName' failed to satisfy "
				  "constraint: Member must have length less than or equal to 64",
				  ref->name);
	return 0;
}

/* AWS lets a function assume only a role of the caller's own account
 * (iam:PassRole never crosses accounts); the model's pattern has already
 * made Role "arn:PARTITION:iam::ACCOUNT:role/..." */
static int check_role_account(req_t *r)
{
	const char *role = json_string_value(json_object_get(r->in, "Role"));
	const char *acct = role ? strstr(role, ":iam::") : NULL;
	if (!acct)
		return 0;
	acct += 6;
	size_t n = strcspn(acct, ":");
	if (n != strlen(r->account) || strncmp(acct, r->account, n) != 0)
		return apierr_set(r, "AccessDeniedException", "Cross-account pass role is not allowed.");
	return 0;
}

static int check_tags(req_t *r, json_t *tags)
{
	if (json_object_size(tags) > QUOTA_TAGS)
		return apierr_set(r, "InvalidParameterValueException", "Number of tags exceeds resource tag limit.");
	return 0;
}

int api_create_function(req_t *r)
{
	struct fnref ref;
	json_t *cfg = NULL, *meta = NULL, *existing = NULL, *answer = NULL;
	int rc, in_tx = 0;
	const char *fname = json_string_value(json_object_get(r->in, "FunctionName"));
	if ((rc = lookup_ref(r, fname, NULL, &ref)))
		goto out;
	if ((rc = check_name_length(r, &ref)) || (rc = check_role_account(r)))
		goto out;
	json_t *tags = json_object_get(r->in, "Tags");
	if ((rc = check_tags(r, tags)))
		goto out;
	const char *ptype = json_string_value(json_object_get(r->in, "PackageType"));
	int is_image = ptype && !strcmp(ptype, "Image");
	if (!is_image && (!json_object_get(r->in, "Runtime") || !json_object_get(r->in, "Handler"))) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"Runtime and Handler are mandatory parameters for functions created with "
				"deployment packages.");
		goto out;
	}
	cfg = json_object();
	if ((rc = fnconfig_apply(r, &ref, cfg, 1)))
		goto out;
	if (is_image) {
		json_object_del(cfg, "Runtime");
		json_object_del(cfg, "Handler");
		json_object_del(cfg, "RuntimeVersionConfig");
	}
	if ((rc = code_take(r, json_object_get(r->in, "Code"), cfg)) || (rc = fnconfig_check_unzipped(r, cfg)))
		goto out;
	if (rec_function_get(r->srv->store, ref.scope, ref.name, 0, &existing) == 0) {
		rc = apierr_set(r, "ResourceConflictException", "Function already exist: %s", ref.name);
		goto out;
	}
	json_object_set_new(cfg, "State", json_string("Pending"));
	json_object_set_new(cfg, "StateReason", json_string("The function is being created."));
	json_object_set_new(cfg, "StateReasonCode", json_string("Creating"));
	fnconfig_touch(cfg);

	meta = json_object();
	json_object_set_new(meta, "Tags", tags ? json_deep_copy(tags) : json_object());
	json_object_set_new(meta, "LastVersion", json_integer(0));
	json_object_set_new(meta, "CreatedMs", json_integer(loop_wall_ms()));
	const char *csc = json_string_value(json_object_get(r->in, "CodeSigningConfigArn"));
	if (csc && (rc = codesigning_check_arn(r, csc)))
		goto out;
	if (csc)
		json_object_set_new(meta, "CodeSigningConfigArn", json_string(csc));

	char key[400];
	rec_version_key(ref.name, "$LATEST", key, sizeof(key));
	/* without Publish, the answer (Pending) is made now and $LATEST is
	 * stored once, already settled; a published version settles later
	 * from what was stored */
	int publish = json_is_true(json_object_get(r->in, "Publish")), settled = 0;
	if (!publish) {
		/* a shallow copy: settling replaces members of cfg, never a value */
		json_t *pending = json_copy(cfg);
		answer = pending ? public_config(&ref, pending, NULL) : NULL;
		json_decref(pending);
		if (!answer) {
			rc = LD_ENOMEM;
			goto out;
		}
		settled = fnconfig_settle_now(r->srv, cfg);
	}
	if ((rc = store_begin(r->srv->store)))
		goto out;
	in_tx = 1;
	if ((rc = rec_put(r->srv->store, REC_VERSION, ref.scope, key, cfg)))
		goto out;
	json_t *published = NULL;
	if (publish) {
		if ((rc = versions_publish(r, &ref, meta, cfg, NULL, &published)))
			goto out;
	}
	if ((rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
		goto out;
	if ((rc = store_commit(r->srv->store)))
		goto out;
	in_tx = 0;
	if (!settled)
		settle_schedule(r->srv, REC_VERSION, ref.scope, key);
	if (publish) {
		r->out = public_config(&ref, cfg, NULL);
		/* AWS answers with the new version's number but the unqualified ARN */
		json_object_set(r->out, "Version", json_object_get(published, "Version"));
		json_decref(published);
	} else {
		r->out = answer;
		answer = NULL;
	}
out:
	if (in_tx)
		store_rollback(r->srv->store);
	json_decref(answer);
	json_decref(cfg);
	json_decref(meta);
	json_decref(existing);
	return rc;
}

int api_get_function(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL, *cfg = NULL;
	int rc;
	/* the configuration first: a missing function named with a qualifier is
	 * reported with the qualified ARN, as AWS does */
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_config_peek(r, &ref, ref.qualifier, &cfg)) ||
	    (rc = lookup_function_peek(r, &ref, &meta)))
		goto out;
	json_t *code = json_object();
	const char *image = json_string_value(json_object_get(cfg, "_ImageUri"));
	if (image) {
		json_object_set_new(code, "ImageUri", json_string(image));
		json_object_set_new(code, "RepositoryType", json_string("ECR"));
		/* AWS's REPOSITORY@sha256:DIGEST: the digest the pull resolved, or
		 * the one the URI names (left out before either is known) */
		const char *digest = json_string_value(json_object_get(cfg, "_ImageDigest"));
		if (!digest)
			digest = code_image_digest(image);
		if (digest) {
			const char *at = strchr(image, '@');
			const char *end = at ? at : image + strlen(image);
			const char *slash = memrchr(image, '/', (size_t)(end - image));
			const char *colon = memchr(slash ? slash : image, ':', (size_t)(end - (slash ? slash : image)));
			int repo_len = (int)((colon ? colon : end) - image);
			json_object_set_new(code, "ResolvedImageUri",
					    json_sprintf("%.*s@sha256:%s", repo_len, image, digest));
		}
	} else {
		char url[1024];
		code_location(r, json_string_value(json_object_get(cfg, "_CodeHex")), url, sizeof(url));
		json_object_set_new(code, "Location", json_string(url));
		json_object_set_new(code, "RepositoryType", json_string("S3"));
	}
	r->out = json_object();
	json_object_set_new(r->out, "Configuration", public_config(&ref, cfg, ref.qualifier));
	json_object_set_new(r->out, "Code", code);
	json_t *tags = json_object_get(meta, "Tags");
	if (json_object_size(tags))
		json_object_set(r->out, "Tags", tags);
	json_t *conc = json_object_get(meta, "ReservedConcurrentExecutions");
	if (conc)
		json_object_set_new(r->out, "Concurrency", json_pack("{s:O}", "ReservedConcurrentExecutions", conc));
out:
	json_decref(meta);
	json_decref(cfg);
	return rc;
}

int api_get_function_configuration(req_t *r)
{
	struct fnref ref;
	json_t *cfg = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_config_peek(r, &ref, ref.qualifier, &cfg)))
		goto out;
	r->out = public_config(&ref, cfg, ref.qualifier);
out:
	json_decref(cfg);
	return rc;
}

/* loads $LATEST for an update, with AWS's precondition and conflict checks */
static int load_latest_for_update(req_t *r, struct fnref *ref, json_t **cfg, char *key, size_t keylen)
{
	json_t *meta = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, ref)) || (rc = lookup_function(r, ref, &meta)))
		goto out;
	rec_version_key(ref->name, "$LATEST", key, keylen);
	if ((rc = rec_get(r->srv->store, REC_VERSION, ref->scope, key, cfg)))
		goto out;
	if ((rc = lookup_check_revision(r, json_string_value(json_object_get(*cfg, "RevisionId")),
					"GetFunction/GetAlias")))
		goto out;
	const char *upd = json_string_value(json_object_get(*cfg, "LastUpdateStatus"));
	const char *state = json_string_value(json_object_get(*cfg, "State"));
	if ((upd && !strcmp(upd, "InProgress")) || (state && !strcmp(state, "Pending"))) {
		char arn[400];
		lookup_arn(ref, NULL, arn, sizeof(arn));
		rc = apierr_set(r, "ResourceConflictException",
				"The operation cannot be performed at this time. An update is in progress for "
				"resource: %s",
				arn);
		goto out;
	}
out:
	json_decref(meta);
	return rc;
}

/* a successful update of $LATEST: InProgress, and changed for PublishVersion */
static void mark_in_progress(json_t *cfg)
{
	versions_mark_changed(cfg);
	json_object_set_new(cfg, "LastUpdateStatus", json_string("InProgress"));
	json_object_set_new(cfg, "LastUpdateStatusReason", json_string("The function is being created."));
	json_object_set_new(cfg, "LastUpdateStatusReasonCode", json_string("Creating"));
	fnconfig_touch(cfg);
}

int api_update_function_configuration(req_t *r)
{
	struct fnref ref;
	json_t *cfg = NULL;
	char key[400];
	int rc;
	if ((rc = load_latest_for_update(r, &ref, &cfg, key, sizeof(key))) || (rc = check_role_account(r)))
		goto out;
	if ((rc = fnconfig_apply(r, &ref, cfg, 0)))
		goto out;
	json_t *ic = json_object_get(r->in, "ImageConfig");
	if (ic && json_object_size(ic) == 0)
		json_object_del(cfg, "ImageConfigResponse");
	mark_in_progress(cfg);
	if ((rc = rec_put(r->srv->store, REC_VERSION, ref.scope, key, cfg)))
		goto out;
	settle_schedule(r->srv, REC_VERSION, ref.scope, key);
	exec_forget(r->srv, ref.scope, ref.name); /* environments restart with the change */
	r->out = public_config(&ref, cfg, NULL);
out:
	json_decref(cfg);
	return rc;
}

int api_update_function_code(req_t *r)
{
	struct fnref ref;
	json_t *cfg = NULL, *meta = NULL, *published = NULL;
	char key[400];
	int rc, in_tx = 0;
	if ((rc = load_latest_for_update(r, &ref, &cfg, key, sizeof(key))))
		goto out;
	const char *ptype = json_string_value(json_object_get(cfg, "PackageType"));
	int is_image = ptype && !strcmp(ptype, "Image");
	int has_image = json_object_get(r->in, "ImageUri") != NULL;
	if (is_image && !has_image) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"Please provide ImageUri when updating a function with packageType Image.");
		goto out;
	}
	if (!is_image && has_image) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"Please don't provide ImageUri when updating a function with packageType Zip.");
		goto out;
	}
	json_t *arch = json_object_get(r->in, "Architectures");
	if (arch) {
		json_object_set(cfg, "Architectures", arch);
		const char *rt = json_string_value(json_object_get(cfg, "Runtime"));
		if (rt) {
			char arn[200];
			fnconfig_runtime_arn(ref.region, rt, json_string_value(json_array_get(arch, 0)), arn,
					     sizeof(arn));
			json_object_set_new(cfg, "RuntimeVersionConfig", json_pack("{s:s}", "RuntimeVersionArn", arn));
		}
	}
	if ((rc = code_take(r, r->in, cfg)) || (rc = fnconfig_check_unzipped(r, cfg)))
		goto out;
	mark_in_progress(cfg);
	if ((rc = lookup_function(r, &ref, &meta)) || (rc = store_begin(r->srv->store)))
		goto out;
	in_tx = 1;
	if (json_is_true(json_object_get(r->in, "Publish"))) {
		if ((rc = versions_publish(r, &ref, meta, cfg, NULL, &published)) ||
		    (rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
			goto out;
	}
	/* after publishing, which clears the changed mark */
	if ((rc = rec_put(r->srv->store, REC_VERSION, ref.scope, key, cfg)))
		goto out;
	if ((rc = store_commit(r->srv->store)))
		goto out;
	in_tx = 0;
	settle_schedule(r->srv, REC_VERSION, ref.scope, key);
	exec_forget(r->srv, ref.scope, ref.name); /* environments restart with the change */
	if (published) {
		/* AWS answers with the new version, still being created */
		r->out = public_config(&ref, published, json_string_value(json_object_get(published, "Version")));
	} else {
		r->out = public_config(&ref, cfg, NULL);
	}
out:
	if (in_tx)
		store_rollback(r->srv->store);
	json_decref(cfg);
	json_decref(meta);
	json_decref(published);
	return rc;
}

/* 1 if q has the form of an alias name ([a-zA-Z0-9-_]+, not all digits) */
static int is_alias_name(const char *q)
{
	for (const char *p = q; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return 0;
	return *q && !rec_is_version(q);
}

int api_delete_function(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc, in_tx = 0;
	if ((rc = lookup_ref_in(r, &ref)))
		goto out;
	const char *q = ref.qualifier;
	if (!strcmp(q, "$LATEST")) {
		rc = apierr_set(r, "InvalidParameterValueException",
				"$LATEST version cannot be deleted without deleting the function.");
		goto out;
	}
	if (is_alias_name(q)) {
		rc = apierr_set(r, "InvalidParameterValueException", "Deletion of aliases is not currently supported.");
		goto out;
	}
	struct fnref unq = ref;
	unq.qualifier[0] = '\0';
	if ((rc = lookup_function(r, &unq, &meta)))
		goto out;
	if (*q) {
		if ((rc = versions_delete(r, &ref, q)))
			goto out;
	} else {
		if ((rc = store_begin(r->srv->store)))
			goto out;
		in_tx = 1;
		if ((rc = rec_delete_function(r->srv->store, ref.scope, ref.name)) || (rc = store_commit(r->srv->store)))
			goto out;
		in_tx = 0;
	}
	exec_forget(r->srv, ref.scope, ref.name); /* its environments go */
	concurrency_sync(r->srv, ref.scope, ref.name); /* with its reservation and provisioned ones */
	r->status = 204;
out:
	if (in_tx)
		store_rollback(r->srv->store);
	json_decref(meta);
	return rc;
}

/* ---- ListFunctions ---- */

struct list_ctx {
	req_t *r;
	const char *scope;
	struct page *page;
};

/* default: one item per function ("fn" record, not parsed), its $LATEST */
static int list_fn_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct list_ctx *c = ud;
	if (page_full(c->page))
		return 1;
	char vkey[400];
	json_t *cfg = NULL;
	rec_version_key(key, "$LATEST", vkey, sizeof(vkey));
	if (rec_peek(c->r->srv->store, REC_VERSION, c->scope, vkey, &cfg) == 0) /* read-only */
		page_add(c->page, versions_list_item(cfg), key);
	json_decref(cfg);
	return 0;
}

int api_list_functions(req_t *r)
{
	char scope[96];
	struct page p;
	struct list_ctx c = { r, scope, &p };
	int rc;
	snprintf(scope, sizeof(scope), "%s:%s", r->account, r->region);
	page_init(&p, r, 50);
	if (json_object_get(r->in, "FunctionVersion")) /* the model allows only ALL: every "ver" record */
		rc = page_list(&p, r, REC_VERSION, scope, NULL, versions_list_entry, NULL);
	else
		rc = p.items ? rec_list(r->srv->store, REC_FUNCTION, scope, NULL, p.marker, p.limit + 1, list_fn_cb, &c)
			     : LD_ENOMEM;
	if (!rc)
		rc = page_answer(&p, r, "Functions");
	page_free(&p);
	return rc;
}
