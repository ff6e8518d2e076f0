/*
 * records.c - the record layer (records.h): kinds, keys, and the cascades
 * that delete what belongs to a function or a qualifier.
 */
#include "records/records.h"
#include "util/err.h"
#include "util/ids.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kinds[REC_NKINDS] = {
	[REC_FUNCTION] = "fn",       [REC_VERSION] = "ver",          [REC_ALIAS] = "alias",
	[REC_POLICY] = "policy",     [REC_INVOKE_CONFIG] = "eic",    [REC_URL] = "url",
	[REC_URL_INDEX] = "urlid",   [REC_PROVISIONED] = "pcc",      [REC_ESM] = "esm",
	[REC_LAYER] = "layer",       [REC_LAYER_VERSION] = "layerver", [REC_CODE_SIGNING] = "csc",
	[REC_ASYNC_EVENT] = "async", [REC_ESM_CHECKPOINT] = "esmck",
};

/* the kinds keyed NAME/QUALIFIER that go with their version or alias */
static const enum rec_kind qualifier_kinds[] = { REC_POLICY, REC_INVOKE_CONFIG, REC_URL, REC_PROVISIONED };
#define NQUALIFIER_KINDS (sizeof(qualifier_kinds) / sizeof(qualifier_kinds[0]))

int rec_is_version(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int is_latest(const char *q)
{
	return !q || !*q || !strcmp(q, "$LATEST");
}

void rec_version_key(const char *name, const char *version, char *out, size_t n)
{
	if (rec_is_version(version))
		snprintf(out, n, "%s/%010lu", name, strtoul(version, NULL, 10));
	else
		snprintf(out, n, "%s/%s", name, is_latest(version) ? "$LATEST" : version);
}

void rec_policy_key(const char *name, const char *qualifier, char *out, size_t n)
{
	if (is_latest(qualifier))
		snprintf(out, n, "%s/", name);
	else if (rec_is_version(qualifier))
		snprintf(out, n, "%s/%lu", name, strtoul(qualifier, NULL, 10));
	else
		snprintf(out, n, "%s/%s", name, qualifier);
}

void rec_qualifier_key(const char *name, const char *qualifier, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", name, is_latest(qualifier) ? "$LATEST" : qualifier);
}

/* ---- any kind ---- */

static int get(store_t *s, enum rec_kind k, const char *scope, const char *key, int flags, json_t **doc)
{
	*doc = NULL;
	return (flags & REC_PEEK ? store_peek_json : store_get_json)(s, kinds[k], scope, key, doc);
}

int rec_get(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t **doc)
{
	return get(s, k, scope, key, 0, doc);
}

int rec_peek(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t **doc)
{
	return get(s, k, scope, key, REC_PEEK, doc);
}

int rec_put(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t *doc)
{
	return store_put_json(s, kinds[k], scope, key, doc);
}

int rec_del(store_t *s, enum rec_kind k, const char *scope, const char *key)
{
	return store_del(s, kinds[k], scope, key);
}

int rec_del_prefix(store_t *s, enum rec_kind k, const char *scope, const char *prefix)
{
	return store_del_prefix(s, kinds[k], scope, prefix);
}

int rec_get_text(store_t *s, enum rec_kind k, const char *scope, const char *key, char **text, size_t *len)
{
	return store_get(s, kinds[k], scope, key, text, len);
}

int rec_list(store_t *s, enum rec_kind k, const char *scope, const char *prefix, const char *after, int limit,
	     store_iter_fn fn, void *ud)
{
	return store_list(s, kinds[k], scope, prefix, after, limit, fn, ud);
}

int rec_list_json(store_t *s, enum rec_kind k, const char *scope, const char *prefix, const char *after,
		  int limit, store_iter_json_fn fn, void *ud)
{
	return store_list_json(s, kinds[k], scope, prefix, after, limit, fn, ud);
}

json_t *rec_derived(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t *doc, const char *tag,
		    json_t *(*make)(json_t *doc))
{
	return store_derived(s, kinds[k], scope, key, doc, tag, make);
}

int rec_scopes(store_t *s, enum rec_kind k, store_iter_fn fn, void *ud)
{
	return store_scopes(s, kinds[k], fn, ud);
}

/* ---- functions, versions, aliases ---- */

int rec_function_get(store_t *s, const char *scope, const char *name, int flags, json_t **meta)
{
	return get(s, REC_FUNCTION, scope, name, flags, meta);
}

int rec_function_put(store_t *s, const char *scope, const char *name, json_t *meta)
{
	return rec_put(s, REC_FUNCTION, scope, name, meta);
}

int rec_version_get(store_t *s, const char *scope, const char *name, const char *version, int flags, json_t **cfg)
{
	char key[400];
	rec_version_key(name, version, key, sizeof(key));
	return get(s, REC_VERSION, scope, key, flags, cfg);
}

int rec_version_put(store_t *s, const char *scope, const char *name, const char *version, json_t *cfg)
{
	char key[400];
	rec_version_key(name, version, key, sizeof(key));
	return rec_put(s, REC_VERSION, scope, key, cfg);
}

int rec_version_del(store_t *s, const char *scope, const char *name, const char *version)
{
	char key[400];
	rec_version_key(name, version, key, sizeof(key));
	return rec_del(s, REC_VERSION, scope, key);
}

int rec_alias_get(store_t *s, const char *scope, const char *name, const char *alias, int flags, json_t **doc)
{
	char key[400];
	rec_qualifier_key(name, alias, key, sizeof(key));
	return get(s, REC_ALIAS, scope, key, flags, doc);
}

int rec_alias_put(store_t *s, const char *scope, const char *name, const char *alias, json_t *doc)
{
	char key[400];
	rec_qualifier_key(name, alias, key, sizeof(key));
	return rec_put(s, REC_ALIAS, scope, key, doc);
}

int rec_alias_del(store_t *s, const char *scope, const char *name, const char *alias)
{
	char key[400];
	rec_qualifier_key(name, alias, key, sizeof(key));
	return rec_del(s, REC_ALIAS, scope, key);
}

int rec_config(store_t *s, const char *scope, const char *name, const char *qualifier, int flags, json_t **cfg,
	       json_t **alias)
{
	const char *version = qualifier;
	json_t *al = NULL;
	int rc;
	*cfg = NULL;
	if (alias)
		*alias = NULL;
	if (!is_latest(qualifier) && !rec_is_version(qualifier)) {
		if ((rc = rec_alias_get(s, scope, name, qualifier, 0, &al)))
			return rc;
		version = json_string_value(json_object_get(al, "FunctionVersion"));
	}
	rc = rec_version_get(s, scope, name, version, flags, cfg);
	if (rc || !alias)
		json_decref(al);
	else
		*alias = al;
	return rc;
}

const char *rec_alias_route(json_t *alias)
{
	const char *primary = json_string_value(json_object_get(alias, "FunctionVersion"));
	json_t *w = json_object_get(json_object_get(alias, "RoutingConfig"), "AdditionalVersionWeights");
	const char *k;
	json_t *v;
	json_object_foreach(w, k, v) {
		unsigned char b[4];
		ids_random(b, sizeof(b));
		double r = (double)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) /
			   4294967296.0;
		if (r < json_number_value(v))
			return k;
	}
	return primary ? primary : "$LATEST";
}

/* ---- policies and invoke configs ---- */

int rec_policy_get(store_t *s, const char *scope, const char *name, const char *qualifier, int flags, json_t **doc)
{
	char key[400];
	rec_policy_key(name, qualifier, key, sizeof(key));
	return get(s, REC_POLICY, scope, key, flags, doc);
}

int rec_policy_statements(store_t *s, const char *scope, const char *name, const char *qualifier,
			  json_t **statements)
{
	json_t *doc = NULL;
	*statements = NULL;
	int rc = rec_policy_get(s, scope, name, qualifier, REC_PEEK, &doc);
	if (rc)
		return rc;
	json_t *st = json_object_get(doc, "Statement");
	if (json_is_array(st))
		*statements = json_incref(st);
	json_decref(doc);
	return *statements ? 0 : LD_ECORRUPT;
}

int rec_policy_put(store_t *s, const char *scope, const char *name, const char *qualifier, json_t *doc)
{
	char key[400];
	rec_policy_key(name, qualifier, key, sizeof(key));
	return rec_put(s, REC_POLICY, scope, key, doc);
}

int rec_policy_del(store_t *s, const char *scope, const char *name, const char *qualifier)
{
	char key[400];
	rec_policy_key(name, qualifier, key, sizeof(key));
	return rec_del(s, REC_POLICY, scope, key);
}

int rec_invoke_config_get(store_t *s, const char *scope, const char *name, const char *qualifier, int flags,
			  json_t **doc)
{
	char key[400];
	rec_qualifier_key(name, qualifier, key, sizeof(key));
	return get(s, REC_INVOKE_CONFIG, scope, key, flags, doc);
}

/* ---- cascades ---- */

/* a URL config also has an entry in the url index (url id -> function),
 * keyed differently: removed record by record */
static void drop_url_index(store_t *s, const char *text, size_t len)
{
	json_t *d = json_loadb(text, len, 0, NULL);
	const char *id = json_string_value(json_object_get(d, "_UrlId"));
	if (id)
		rec_del(s, REC_URL_INDEX, "", id);
	json_decref(d);
}

static int drop_url_index_cb(void *ud, const char *key, const char *text, size_t len)
{
	drop_url_index(ud, text, len);
	return 0;
}

int rec_delete_qualifier(store_t *s, const char *scope, const char *name, const char *qualifier)
{
	char key[400];
	int rc;
	for (size_t i = 0; i < NQUALIFIER_KINDS; i++) {
		enum rec_kind k = qualifier_kinds[i];
		if (k == REC_POLICY) {
			rc = rec_policy_del(s, scope, name, qualifier);
		} else {
			rec_qualifier_key(name, qualifier, key, sizeof(key));
			if (k == REC_URL) {
				/* exactly this key: a prefix listing would find NAME/ALIAS2 */
				char *text = NULL;
				size_t len = 0;
				if (rec_get_text(s, REC_URL, scope, key, &text, &len) == 0)
					drop_url_index(s, text, len);
				free(text);
			}
			rc = rec_del(s, k, scope, key);
		}
		if (rc && rc != LD_ENOTFOUND)
			return rc;
	}
	return 0;
}

int rec_delete_function(store_t *s, const char *scope, const char *name)
{
	static const enum rec_kind own[] = { REC_VERSION, REC_ALIAS };
	char prefix[200];
	int rc;
	snprintf(prefix, sizeof(prefix), "%s/", name);
	if ((rc = rec_list(s, REC_URL, scope, prefix, NULL, 0, drop_url_index_cb, s)))
		return rc;
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if ((rc = rec_del_prefix(s, own[i], scope, prefix)))
			return rc;
	for (size_t i = 0; i < NQUALIFIER_KINDS; i++)
		if ((rc = rec_del_prefix(s, qualifier_kinds[i], scope, prefix)))
			return rc;
	rc = rec_del(s, REC_FUNCTION, scope, name);
	return rc == LD_ENOTFOUND ? 0 : rc;
}
