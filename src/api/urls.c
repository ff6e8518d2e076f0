/*
 * urls.c - CreateFunctionUrlConfig, GetFunctionUrlConfig,
 * UpdateFunctionUrlConfig, DeleteFunctionUrlConfig, ListFunctionUrlConfigs,
 * and urls_find() for the server that answers function URLs (urls.h).
 *
 * A URL config belongs to the unqualified function or to one alias (the
 * model's FunctionUrlQualifier pattern already refuses versions and $LATEST
 * as a Qualifier; a version named inside FunctionName is answered as a
 * missing function). It is a "url" record keyed NAME/ALIAS ("NAME/" when
 * unqualified) in AWS's FunctionUrlConfig shape without FunctionUrl (made
 * when answering, from the url id and the port the server listens on), with
 * the internal fields _UrlId, _Scope, _Name and _Qualifier; the global
 * "urlid" index (scope "", key URL_ID) points back at it. Both are written and deleted in one
 * transaction here; lookup.c removes them with their function or alias.
 *
 * FunctionUrl is http://<url-id>.lambda-url.<region>.localhost:<port>/ on
 * this server; docs/urls.md describes it and the path form for clients that
 * cannot set a Host header. Like AWS, Create and Update answer InvokeMode
 * only once it was set, while Get and List answer its default, BUFFERED.
 */
#include "api/urls.h"
#include "api/api.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define URL_ID_LEN 32

/* AWS's ISO-8601 form with microseconds: 2024-05-01T12:34:56.123456Z */
static void now_iso_us(char out[64])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000) % 1000000);
}

static void url_key(const struct fnref *ref, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", ref->name, ref->qualifier);
}

/* a qualifier that names a version or $LATEST cannot have a URL config */
static int qualifier_allowed(const struct fnref *ref)
{
	return !rec_is_version(ref->qualifier) && strcmp(ref->qualifier, "$LATEST") != 0;
}

static int missing_resource(req_t *r)
{
	return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
}

/* Create and Update: the function, and the alias when qualified, must exist */
static int check_function(req_t *r, const struct fnref *ref)
{
	char key[400];
	json_t *doc = NULL;
	int rc = LD_ENOTFOUND;
	if (qualifier_allowed(ref)) {
		rc = rec_function_get(r->srv->store, ref->scope, ref->name, REC_PEEK, &doc);
		json_decref(doc);
		doc = NULL;
		if (!rc && ref->qualifier[0]) {
			snprintf(key, sizeof(key), "%s/%s", ref->name, ref->qualifier);
			rc = rec_peek(r->srv->store, REC_ALIAS, ref->scope, key, &doc);
			json_decref(doc);
		}
	}
	if (rc == LD_ENOTFOUND)
		return apierr_set(r, "ResourceNotFoundException", "Function does not exist");
	return rc;
}

/* the stored config of ref, or AWS's "resource does not exist" */
static int load_url(req_t *r, const struct fnref *ref, int peek, json_t **doc)
{
	char key[400];
	*doc = NULL;
	if (!qualifier_allowed(ref))
		return missing_resource(r);
	url_key(ref, key, sizeof(key));
	int rc = (peek ? rec_peek : rec_get)(r->srv->store, REC_URL, ref->scope, key, doc);
	if (rc == LD_ENOTFOUND)
		return missing_resource(r);
	return rc;
}

/*
 * The answer for one config: Create has no LastModifiedTime; Create and
 * Update show InvokeMode only when it was set; Get and List default it.
 */
enum view { VIEW_CREATE, VIEW_UPDATE, VIEW_GET };

/* FunctionUrl is made when answering, so that it names the port the server
 * listens on now (stored configs outlive a restart on another port) */
static json_t *function_url(const server_t *srv, json_t *doc)
{
	char url[300];
	const char *id = json_string_value(json_object_get(doc, "_UrlId"));
	const char *scope = json_string_value(json_object_get(doc, "_Scope"));
	const char *region = scope ? strchr(scope, ':') : NULL;
	if (!id || !region)
		return NULL;
	snprintf(url, sizeof(url), "http://%s.lambda-url.%s.localhost:%d/", id, region + 1, srv->listen_port);
	return json_string(url);
}

static json_t *view(const server_t *srv, json_t *doc, enum view v)
{
	static const char *const members[] = { "FunctionUrl",	   "FunctionArn", "AuthType", "Cors", "CreationTime",
					       "LastModifiedTime", "InvokeMode",  NULL };
	json_t *out = json_object();
	for (const char *const *m = members; *m; m++) {
		json_t *val = json_object_get(doc, *m);
		if (v == VIEW_CREATE && !strcmp(*m, "LastModifiedTime"))
			continue;
		if (!strcmp(*m, "FunctionUrl")) {
			json_t *url = function_url(srv, doc);
			if (url)
				json_object_set_new(out, *m, url);
			continue;
		}
		if (!val && v == VIEW_GET && !strcmp(*m, "InvokeMode"))
			json_object_set_new(out, *m, json_string("BUFFERED"));
		else if (val)
			json_object_set(out, *m, val);
	}
	return out;
}

/* 32 lowercase letters and digits, unused so far */
static int new_url_id(req_t *r, char out[URL_ID_LEN + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char b[URL_ID_LEN];
	for (int attempt = 0; attempt < 8; attempt++) {
		int rc = ids_random(b, sizeof(b));
		if (rc)
			return rc;
		for (int i = 0; i < URL_ID_LEN; i++)
			out[i] = alphabet[b[i] % 36];
		out[URL_ID_LEN] = '\0';
		json_t *doc = NULL;
		rc = rec_peek(r->srv->store, REC_URL_INDEX, "", out, &doc);
		json_decref(doc);
		if (rc == LD_ENOTFOUND)
			return 0;
		if (rc)
			return rc;
	}
	return LD_EIO;
}

int api_create_function_url_config(req_t *r)
{
	struct fnref ref;
	char key[400], arn[400], id[URL_ID_LEN + 1], now[64];
	json_t *doc = NULL, *idx = NULL, *existing = NULL;
	int rc, in_tx = 0;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = check_function(r, &ref)))
		return rc;
	url_key(&ref, key, sizeof(key));
	lookup_arn(&ref, ref.qualifier, arn, sizeof(arn));
	rc = rec_peek(r->srv->store, REC_URL, ref.scope, key, &existing);
	json_decref(existing);
	if (rc == 0)
		return apierr_set(r, "ResourceConflictException",
				  "Failed to create function url config for [functionArn = %s]. Error message:  "
				  "FunctionUrlConfig exists for this Lambda function",
				  arn);
	if (rc != LD_ENOTFOUND || (rc = new_url_id(r, id)))
		return rc;
	now_iso_us(now);
	doc = json_pack("{s:s,s:O}", "FunctionArn", arn, "AuthType", json_object_get(r->in, "AuthType"));
	json_t *cors = json_object_get(r->in, "Cors");
	if (cors)
		json_object_set(doc, "Cors", cors);
	json_object_set_new(doc, "CreationTime", json_string(now));
	json_object_set_new(doc, "LastModifiedTime", json_string(now));
	json_t *mode = json_object_get(r->in, "InvokeMode");
	if (mode)
		json_object_set(doc, "InvokeMode", mode);
	json_object_set_new(doc, "_UrlId", json_string(id));
	json_object_set_new(doc, "_Scope", json_string(ref.scope));
	json_object_set_new(doc, "_Name", json_string(ref.name));
	json_object_set_new(doc, "_Qualifier", json_string(ref.qualifier));
	idx = json_pack("{s:s,s:s,s:s}", "scope", ref.scope, "name", ref.name, "qualifier", ref.qualifier);
	if ((rc = store_begin(r->srv->store)))
		goto out;
	in_tx = 1;
	if ((rc = rec_put(r->srv->store, REC_URL, ref.scope, key, doc)) ||
	    (rc = rec_put(r->srv->store, REC_URL_INDEX, "", id, idx)) || (rc = store_commit(r->srv->store)))
		goto out;
	in_tx = 0;
	r->status = 201;
	r->out = view(r->srv, doc, VIEW_CREATE);
out:
	if (in_tx)
		store_rollback(r->srv->store);
	json_decref(doc);
	json_decref(idx);
	return rc;
}

int api_get_function_url_config(req_t *r)
{
	struct fnref ref;
	json_t *doc = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = load_url(r, &ref, 1, &doc)))
		return rc;
	r->out = view(r->srv, doc, VIEW_GET);
	json_decref(doc);
	return 0;
}

int api_update_function_url_config(req_t *r)
{
	struct fnref ref;
	char key[400], now[64];
	json_t *doc = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = check_function(r, &ref)) || (rc = load_url(r, &ref, 0, &doc)))
		return rc;
	static const char *const settable[] = { "AuthType", "Cors", "InvokeMode", NULL };
	for (const char *const *m = settable; *m; m++) {
		json_t *val = json_object_get(r->in, *m);
		if (val)
			json_object_set(doc, *m, val);
	}
	now_iso_us(now);
	json_object_set_new(doc, "LastModifiedTime", json_string(now));
	/* keep AWS's member order for members set for the first time */
	json_t *ordered = view(r->srv, doc, VIEW_UPDATE);
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v)
		if (k[0] == '_')
			json_object_set(ordered, k, v);
	json_object_del(ordered, "FunctionUrl");
	json_decref(doc);
	doc = ordered;
	url_key(&ref, key, sizeof(key));
	if ((rc = rec_put(r->srv->store, REC_URL, ref.scope, key, doc)))
		goto out;
	r->out = view(r->srv, doc, VIEW_UPDATE);
out:
	json_decref(doc);
	return rc;
}

int api_delete_function_url_config(req_t *r)
{
	struct fnref ref;
	char key[400];
	json_t *doc = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = load_url(r, &ref, 0, &doc)))
		return rc;
	const char *id = json_string_value(json_object_get(doc, "_UrlId"));
	url_key(&ref, key, sizeof(key));
	if ((rc = store_begin(r->srv->store)))
		goto out;
	rc = rec_del(r->srv->store, REC_URL, ref.scope, key);
	if (!rc && id) {
		rc = rec_del(r->srv->store, REC_URL_INDEX, "", id);
		if (rc == LD_ENOTFOUND)
			rc = 0;
	}
	if (!rc)
		rc = store_commit(r->srv->store);
	else
		store_rollback(r->srv->store);
	if (!rc)
		r->status = 204;
out:
	json_decref(doc);
	return rc;
}

static json_t *url_item(void *ud, const char *key, json_t *d)
{
	return view(ud, d, VIEW_GET);
}

int api_list_function_url_configs(req_t *r)
{
	struct fnref ref;
	struct page p;
	char prefix[200];
	int rc = lookup_ref_in(r, &ref);
	if (rc || (rc = lookup_function_exists(r, &ref, "Function does not exist")))
		return rc;
	page_init(&p, r, 50);
	snprintf(prefix, sizeof(prefix), "%s/", ref.name);
	rc = page_list(&p, r, REC_URL, ref.scope, prefix, url_item, (void *)r->srv);
	if (!rc)
		rc = page_answer(&p, r, "FunctionUrlConfigs");
	page_free(&p);
	return rc;
}

int urls_find(server_t *srv, const char *url_id, json_t **config)
{
	json_t *idx = NULL;
	char key[400];
	*config = NULL;
	int rc = rec_peek(srv->store, REC_URL_INDEX, "", url_id, &idx);
	if (rc)
		return rc;
	const char *scope = json_string_value(json_object_get(idx, "scope"));
	const char *name = json_string_value(json_object_get(idx, "name"));
	const char *qual = json_string_value(json_object_get(idx, "qualifier"));
	if (!scope || !name || !qual) {
		json_decref(idx);
		return LD_ECORRUPT;
	}
	snprintf(key, sizeof(key), "%s/%s", name, qual);
	rc = rec_get(srv->store, REC_URL, scope, key, config);
	json_decref(idx);
	return rc;
}
