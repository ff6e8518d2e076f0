/*
 * layers.c - layer versions, their permissions, and listing:
 * PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn,
 * DeleteLayerVersion, ListLayers, ListLayerVersions,
 * AddLayerVersionPermission, RemoveLayerVersionPermission,
 * GetLayerVersionPolicy, and the checks a function's Layers go through
 * (layers.h).
 *
 * Store: kind "layer" key NAME holds the layer's version counter
 * (LastVersion: numbers are never reused, even after deletes); kind
 * "layerver" key NAME/%010u holds one version in AWS's GetLayerVersion shape
 * without Content.Location (signed per response, as GetFunction does), with
 * the blob in _CodeHex, the unzipped size in _UnzippedSize and the
 * permission policy in _Policy {RevisionId, Statement:[...]}. The archive is
 * taken exactly as function code is (code_take: ZipFile or S3,
 * scanned, content-addressed in blobs).
 *
 * Another account's layer version can be read (GetLayerVersion, and used by
 * a function) only when its policy has a statement for that account or for
 * "*". lambdad knows no AWS Organizations, so a statement restricted by an
 * OrganizationId never matches (docs/store.md).
 */
#include "api/api.h"
#include "api/code.h"
#include "api/layers.h"
#include "api/lookup.h"
#include "auth/access.h"
#include "api/paging.h"
#include "loop.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/arn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_MAX 50
#define MAX_FUNCTION_LAYERS 5

/* The runtimes AWS lists when ListLayers / ListLayerVersions get an unknown
 * CompatibleRuntime: its own internal set, in its order (recorded). */
static const char *const filter_runtimes[] = {
	"ruby3.5", "ruby2.6", "dotnetcore1.0", "python3.7", "nodejs8.10", "nasa", "ruby2.7",
	"python2.7-greengrass", "dotnetcore2.0", "python3.8", "java21", "dotnet6", "dotnetcore2.1",
	"python3.9", "java11", "nodejs6.10", "provided", "dotnetcore3.1", "dotnet8", "java25", "java17",
	"nodejs", "nodejs4.3", "java8.al2", "go1.x", "dotnet10", "nodejs20.x", "go1.9", "byol",
	"nodejs10.x", "provided.al2023", "nodejs22.x", "python3.10", "java8", "nodejs12.x", "python3.11",
	"nodejs24.x", "nodejs8.x", "python3.12", "nodejs14.x", "nodejs8.9", "nodejs26.x", "python3.13",
	"python3.14", "nodejs16.x", "python3.15", "provided.al2", "nodejs4.3-edge", "nodejs18.x",
	"ruby3.2", "python3.4", "ruby3.3", "ruby3.4", "ruby2.5", "python3.6", "python2.7", NULL,
};

/* a layer named by a LayerName member (name or layer ARN) */
struct layref {
	char name[160];
	char account[16];
	char region[64];
	char scope[96];
	int other_region; /* the ARN names another region */
};

static void layer_arn(const struct layref *l, char *out, size_t n)
{
	snprintf(out, n, "arn:%s:lambda:%s:%s:layer:%s", arn_partition(l->region), l->region, l->account,
		 l->name);
}

static void layer_version_arn(const struct layref *l, json_int_t v, char *out, size_t n)
{
	snprintf(out, n, "arn:%s:lambda:%s:%s:layer:%s:%" JSON_INTEGER_FORMAT, arn_partition(l->region),
		 l->region, l->account, l->name, v);
}

static void version_key(const char *name, json_int_t v, char *out, size_t n)
{
	snprintf(out, n, "%s/%010" JSON_INTEGER_FORMAT, name, v);
}

/* splits "arn:P:lambda:REGION:ACCOUNT:layer:NAME[:VERSION]" (the model's
 * pattern has already been checked) into l and *version (0 when absent);
 * LD_EINVAL for anything else (AWS-managed "awslayer" ARNs) */
static int parse_arn(req_t *r, const char *arn, struct layref *l, json_int_t *version)
{
	char buf[512];
	char *parts[9] = { 0 };
	int n = 0;
	memset(l, 0, sizeof(*l));
	if (version)
		*version = 0;
	snprintf(buf, sizeof(buf), "%s", arn);
	for (char *cur = buf; cur && n < 9;) {
		parts[n++] = cur;
		char *c = strchr(cur, ':');
		if (c)
			*c++ = '\0';
		cur = c;
	}
	if (n < 7 || strcmp(parts[0], "arn") != 0 || strcmp(parts[5], "layer") != 0 || !parts[3][0])
		return LD_EINVAL;
	snprintf(l->region, sizeof(l->region), "%s", parts[3]);
	snprintf(l->account, sizeof(l->account), "%s", parts[4]);
	snprintf(l->name, sizeof(l->name), "%s", parts[6]);
	if (version && n > 7)
		*version = strtoll(parts[7], NULL, 10);
	l->other_region = strcmp(l->region, r->region) != 0;
	snprintf(l->scope, sizeof(l->scope), "%s:%s", l->account, l->region);
	return 0;
}

/* the LayerName member: a name, or a layer ARN */
static void layer_ref(req_t *r, struct layref *l)
{
	const char *name = json_string_value(json_object_get(r->in, "LayerName"));
	if (name && !strncmp(name, "arn:", 4) && parse_arn(r, name, l, NULL) == 0)
		return;
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name ? name : "");
	snprintf(l->account, sizeof(l->account), "%s", r->account);
	snprintf(l->region, sizeof(l->region), "%s", r->region);
	snprintf(l->scope, sizeof(l->scope), "%s:%s", r->account, r->region);
}

static int access_denied(req_t *r, const char *op, const char *resource)
{
	char action[96];
	lookup_iam_action(op, action, sizeof(action));
	return lookup_access_denied(r, action, resource);
}

/* refuses an action on another account's layer (only GetLayerVersion can be
 * granted, and it is checked against the version's policy instead) */
static int own_layer_only(req_t *r, const struct layref *l, json_int_t version)
{
	char arn[400];
	if (!strcmp(l->account, r->account))
		return 0;
	if (version)
		layer_version_arn(l, version, arn, sizeof(arn));
	else
		layer_arn(l, arn, sizeof(arn));
	return access_denied(r, r->op->name, arn);
}

static int check_version_number(req_t *r, json_int_t v)
{
	if (v < 1)
		return apierr_set(r, "InvalidParameterValueException", "Layer Version Cannot be less than 1");
	return 0;
}

/* does the version's policy let the caller (of `account`, which is the
 * function's owner when a function is being configured) use it? */
static int policy_allows(req_t *r, json_t *ver, const struct layref *l, json_int_t v, const char *account)
{
	char arn[400];
	layer_version_arn(l, v, arn, sizeof(arn));
	struct access_request ask = { "lambda:GetLayerVersion", arn, account,
				      !strcmp(account, r->account) ? r->principal : NULL, NULL };
	return access_allows(json_object_get(json_object_get(ver, "_Policy"), "Statement"), &ask);
}

/* loads a version (shared read-only when peek) */
static int load_version(req_t *r, const struct layref *l, json_int_t v, json_t **ver, int peek)
{
	char key[400];
	*ver = NULL;
	if (l->other_region)
		return LD_ENOTFOUND;
	version_key(l->name, v, key, sizeof(key));
	return (peek ? rec_peek : rec_get)(r->srv->store, REC_LAYER_VERSION, l->scope, key, ver);
}

/* the version document as AWS answers it: public fields, Content.Location */
static json_t *version_out(req_t *r, json_t *ver)
{
	char loc[700];
	json_t *out = lookup_public(ver);
	json_t *content = json_deep_copy(json_object_get(ver, "Content"));
	const char *hex = json_string_value(json_object_get(ver, "_CodeHex"));
	if (!out || !content) {
		json_decref(out);
		json_decref(content);
		return NULL;
	}
	if (hex) {
		code_location(r, hex, loc, sizeof(loc));
		json_object_set_new(content, "Location", json_string(loc));
	}
	json_object_set_new(out, "Content", content);
	return out;
}

/* the LayerVersionsListItem of a version (ListLayerVersions, ListLayers):
 * AWS leaves an empty Description out of list items, where
 * PublishLayerVersion and GetLayerVersion show "" */
static json_t *list_item(json_t *ver)
{
	static const char *const keys[] = { "LayerVersionArn", "Version", "Description", "CreatedDate",
					    "CompatibleRuntimes", "LicenseInfo", "CompatibleArchitectures", NULL };
	json_t *o = json_object();
	for (const char *const *k = keys; o && *k; k++) {
		json_t *v = json_object_get(ver, *k);
		if (v && !(!strcmp(*k, "Description") && json_string_length(v) == 0))
			json_object_set(o, *k, v);
	}
	return o;
}

static int list_has(json_t *list, const char *s)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
		if (!strcmp(json_string_value(e) ? json_string_value(e) : "", s))
			return 1;
	return 0;
}

/* ---- PublishLayerVersion ---- */

static json_t *copy_list(json_t *in, const char *name)
{
	json_t *v = json_object_get(in, name);
	return json_is_array(v) ? json_deep_copy(v) : NULL;
}

int api_publish_layer_version(req_t *r)
{
	struct layref l;
	json_t *ver = NULL, *layer = NULL, *content = NULL;
	char key[400], arn[400], varn[400], created[29];
	int rc, in_tx = 0;
	layer_ref(r, &l);
	if ((rc = own_layer_only(r, &l, 0)))
		goto out;
	if (l.other_region) {
		rc = apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
		goto out;
	}
	/* only the members of LayerVersionContentInput reach the code intake */
	json_t *given = json_object_get(r->in, "Content");
	content = json_object();
	static const char *const content_members[] = { "ZipFile", "S3Bucket", "S3Key", "S3ObjectVersion", NULL };
	for (const char *const *m = content_members; *m; m++)
		if (json_object_get(given, *m) && !json_is_null(json_object_get(given, *m)))
			json_object_set(content, *m, json_object_get(given, *m));
	ver = json_object();
	if ((rc = code_take(r, content, ver)))
		goto out;

	if ((rc = store_begin(r->srv->store)))
		goto out;
	in_tx = 1;
	rc = rec_get(r->srv->store, REC_LAYER, l.scope, l.name, &layer);
	if (rc == LD_ENOTFOUND) {
		layer_arn(&l, arn, sizeof(arn));
		layer = json_pack("{s:s,s:s,s:I}", "LayerName", l.name, "LayerArn", arn, "LastVersion", (json_int_t)0);
		rc = layer ? 0 : LD_ENOMEM;
	}
	if (rc)
		goto out;
	json_int_t n = json_integer_value(json_object_get(layer, "LastVersion")) + 1;
	json_object_set_new(layer, "LastVersion", json_integer(n));

	layer_arn(&l, arn, sizeof(arn));
	layer_version_arn(&l, n, varn, sizeof(varn));
	ids_time_lambda(loop_wall_ms(), created);
	const char *desc = json_string_value(json_object_get(r->in, "Description"));
	json_t *code = json_pack("{s:O,s:O}", "CodeSha256", json_object_get(ver, "CodeSha256"), "CodeSize",
				 json_object_get(ver, "CodeSize"));
	json_object_del(ver, "CodeSha256");
	json_object_del(ver, "CodeSize");
	json_object_set_new(ver, "Content", code);
	json_object_set_new(ver, "LayerArn", json_string(arn));
	json_object_set_new(ver, "LayerVersionArn", json_string(varn));
	json_object_set_new(ver, "Description", json_string(desc ? desc : ""));
	json_object_set_new(ver, "CreatedDate", json_string(created));
	json_object_set_new(ver, "Version", json_integer(n));
	json_t *v;
	if ((v = copy_list(r->in, "CompatibleRuntimes")))
		json_object_set_new(ver, "CompatibleRuntimes", v);
	if ((v = json_object_get(r->in, "LicenseInfo")) && json_is_string(v))
		json_object_set(ver, "LicenseInfo", v);
	if ((v = copy_list(r->in, "CompatibleArchitectures")))
		json_object_set_new(ver, "CompatibleArchitectures", v);

	version_key(l.name, n, key, sizeof(key));
	if ((rc = rec_put(r->srv->store, REC_LAYER, l.scope, l.name, layer)) ||
	    (rc = rec_put(r->srv->store, REC_LAYER_VERSION, l.scope, key, ver)) ||
	    (rc = store_commit(r->srv->store)))
		goto out;
	in_tx = 0;
	r->out = version_out(r, ver);
	rc = r->out ? 0 : LD_ENOMEM;
out:
	if (in_tx)
		store_rollback(r->srv->store);
	json_decref(ver);
	json_decref(layer);
	json_decref(content);
	return rc;
}

/* ---- GetLayerVersion, GetLayerVersionByArn ---- */

/* answers a version that `r->account` may read; the same errors for
 * missing and forbidden versions of another account (AWS reveals neither) */
static int get_version(req_t *r, const struct layref *l, json_int_t v)
{
	json_t *ver = NULL;
	int rc = check_version_number(r, v);
	if (rc)
		return rc;
	rc = load_version(r, l, v, &ver, 1);
	if (strcmp(l->account, r->account) != 0 && (rc == LD_ENOTFOUND || (!rc && !policy_allows(r, ver, l, v, r->account)))) {
		char arn[400];
		json_decref(ver);
		layer_version_arn(l, v, arn, sizeof(arn));
		return access_denied(r, "GetLayerVersion", arn);
	}
	if (rc == LD_ENOTFOUND)
		return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
	if (rc)
		return rc;
	r->out = version_out(r, ver);
	json_decref(ver);
	return r->out ? 0 : LD_ENOMEM;
}

int api_get_layer_version(req_t *r)
{
	struct layref l;
	layer_ref(r, &l);
	return get_version(r, &l, json_integer_value(json_object_get(r->in, "VersionNumber")));
}

int api_get_layer_version_by_arn(req_t *r)
{
	struct layref l;
	json_int_t v = 0;
	if (parse_arn(r, json_string_value(json_object_get(r->in, "Arn")), &l, &v))
		return apierr_set(r, "ResourceNotFoundException", "The resource you requested does not exist.");
	return get_version(r, &l, v);
}

/* ---- DeleteLayerVersion ---- */

int api_delete_layer_version(req_t *r)
{
	struct layref l;
	char key[400];
	json_int_t v = json_integer_value(json_object_get(r->in, "VersionNumber"));
	int rc;
	layer_ref(r, &l);
	if ((rc = check_version_number(r, v)) || (rc = own_layer_only(r, &l, v)))
		return rc;
	r->status = 204;
	if (l.other_region)
		return 0;
	/* deleting what does not exist succeeds (AWS); the layer record keeps
	 * the counter, and functions keep the ARN and the blob stays */
	version_key(l.name, v, key, sizeof(key));
	rc = rec_del(r->srv->store, REC_LAYER_VERSION, l.scope, key);
	return rc == LD_ENOTFOUND ? 0 : rc;
}

/* ---- ListLayerVersions, ListLayers ---- */

struct filter {
	const char *runtime;
	const char *arch;
};

/* the query's CompatibleRuntime, checked as AWS checks it (the model leaves
 * Runtime enums to handlers) */
static int read_filter(req_t *r, struct filter *f)
{
	f->runtime = json_string_value(json_object_get(r->in, "CompatibleRuntime"));
	f->arch = json_string_value(json_object_get(r->in, "CompatibleArchitecture"));
	if (!f->runtime)
		return 0;
	for (const char *const *p = filter_runtimes; *p; p++)
		if (!strcmp(*p, f->runtime))
			return 0;
	const struct shape *s = model_shape("Runtime");
	for (size_t i = 0; s && i < s->nenums; i++)
		if (!strcmp(s->enums[i], f->runtime))
			return 0;
	buf_t list;
	buf_init(&list, 0);
	for (const char *const *p = filter_runtimes; *p; p++)
		buf_printf(&list, "%s%s", p == filter_runtimes ? "" : ", ", *p);
	int rc = apierr_set(r, "ValidationException",
			    "1 validation error detected: Value '%s' at 'compatibleRuntime' failed to satisfy "
			    "constraint: Member must satisfy enum value set: [%s]",
			    f->runtime, list.data ? list.data : "");
	buf_free(&list);
	return rc;
}

static int matches(const struct filter *f, json_t *ver)
{
	if (f->runtime && !list_has(json_object_get(ver, "CompatibleRuntimes"), f->runtime))
		return 0;
	if (f->arch && !list_has(json_object_get(ver, "CompatibleArchitectures"), f->arch))
		return 0;
	return 1;
}

struct vcollect {
	store_t *store;
	const char *scope;
	const struct filter *f;
	json_t *items; /* matching versions, ascending (the store's shared documents) */
	json_t *list;  /* their LayerVersionsListItems, made once per version (store_derived) */
};

static int collect_version(void *ud, const char *key, json_t *ver)
{
	struct vcollect *c = ud;
	if (!matches(c->f, ver))
		return 0;
	json_t *item = rec_derived(c->store, REC_LAYER_VERSION, c->scope, key, ver, "list_item", list_item);
	if (!item)
		return 1;
	json_array_append(c->items, ver);
	json_array_append_new(c->list, item);
	return 0;
}

/* the matching versions of one layer, ascending, and their list items
 * (new references, read-only: shared with the store's cache) */
static int versions_of(req_t *r, const char *scope, const char *name, const struct filter *f, json_t **items,
		       json_t **list)
{
	char prefix[200];
	struct vcollect c = { r->srv->store, scope, f, json_array(), json_array() };
	snprintf(prefix, sizeof(prefix), "%s/", name);
	int rc = c.items && c.list ? rec_list_json(r->srv->store, REC_LAYER_VERSION, scope, prefix, NULL, 0,
						   collect_version, &c)
				   : LD_ENOMEM;
	if (!rc && json_array_size(c.items) != json_array_size(c.list))
		rc = LD_ENOMEM; /* a list item could not be made */
	if (rc) {
		json_decref(c.items);
		json_decref(c.list);
		return rc;
	}
	*items = c.items;
	*list = c.list;
	return 0;
}

int api_list_layer_versions(req_t *r)
{
	struct layref l;
	struct filter f;
	struct page p;
	json_t *all = NULL, *items = NULL;
	int rc;
	layer_ref(r, &l);
	if ((rc = own_layer_only(r, &l, 0)) || (rc = read_filter(r, &f)))
		return rc;
	page_init(&p, r, LIST_MAX);
	json_int_t below = p.marker ? strtoll(p.marker, NULL, 10) : 0;
	if (!p.items)
		return LD_ENOMEM;
	if (!l.other_region && (rc = versions_of(r, l.scope, l.name, &f, &all, &items)))
		goto out;
	/* newest first; the marker is the last version number answered */
	for (size_t i = json_array_size(all); i-- > 0;) {
		json_t *ver = json_array_get(all, i);
		json_int_t v = json_integer_value(json_object_get(ver, "Version"));
		char m[32];
		if (below && v >= below)
			continue;
		snprintf(m, sizeof(m), "%" JSON_INTEGER_FORMAT, v);
		if (page_full(&p) || page_add(&p, json_incref(json_array_get(items, i)), m))
			break;
	}
	rc = page_answer(&p, r, "LayerVersions");
out:
	json_decref(all);
	json_decref(items);
	page_free(&p);
	return rc;
}

struct lcollect {
	json_t *names;
};

static int collect_layer(void *ud, const char *key, const char *doc, size_t len)
{
	struct lcollect *c = ud;
	json_array_append_new(c->names, json_string(key));
	return 0;
}

int api_list_layers(req_t *r)
{
	struct filter f;
	struct page p;
	char scope[96];
	int rc;
	if ((rc = read_filter(r, &f)))
		return rc;
	snprintf(scope, sizeof(scope), "%s:%s", r->account, r->region);
	page_init(&p, r, LIST_MAX);
	struct lcollect c = { json_array() };
	if (!c.names || !p.items) {
		rc = LD_ENOMEM;
		goto out;
	}
	/* the names first: listing a layer's versions inside this walk would
	 * reuse the store's listing statement */
	if ((rc = rec_list(r->srv->store, REC_LAYER, scope, NULL, p.marker, 0, collect_layer, &c)))
		goto out;
	size_t i;
	json_t *n;
	json_array_foreach(c.names, i, n) {
		json_t *vers = NULL, *items = NULL;
		const char *name = json_string_value(n);
		if ((rc = versions_of(r, scope, name, &f, &vers, &items)))
			goto out;
		json_t *latest = json_array_get(vers, json_array_size(vers) - 1);
		int stop = latest && page_add(&p, json_pack("{s:s,s:O,s:o}", "LayerName", name, "LayerArn",
							      json_object_get(latest, "LayerArn"),
							      "LatestMatchingVersion",
							      json_incref(json_array_get(items, json_array_size(items) - 1))),
					      name);
		json_decref(vers);
		json_decref(items);
		if (stop)
			break;
	}
	rc = page_answer(&p, r, "Layers");
out:
	page_free(&p);
	json_decref(c.names);
	return rc;
}

/* ---- layer version permissions ---- */

/* loads a version for the policy actions, with their not-found error */
static int load_for_policy(req_t *r, struct layref *l, json_int_t *v, char *key, size_t keylen, json_t **ver,
			   int peek)
{
	char arn[400];
	*v = json_integer_value(json_object_get(r->in, "VersionNumber"));
	layer_ref(r, l);
	int rc = check_version_number(r, *v);
	if (rc || (rc = own_layer_only(r, l, *v)))
		return rc;
	version_key(l->name, *v, key, keylen);
	rc = load_version(r, l, *v, ver, peek);
	if (rc == LD_ENOTFOUND) {
		layer_version_arn(l, *v, arn, sizeof(arn));
		return apierr_set(r, "ResourceNotFoundException", "Layer version %s does not exist.", arn);
	}
	return rc;
}

static int check_revision(req_t *r, json_t *policy)
{
	return lookup_check_revision(r, json_string_value(json_object_get(policy, "RevisionId")), "GetLayerPolicy");
}

/* the statement as AWS writes it: Sid, Effect, Principal, Action, Resource
 * and, for an organization, its Condition */
static json_t *make_statement(req_t *r, const char *sid, const char *varn)
{
	const char *principal = json_string_value(json_object_get(r->in, "Principal"));
	const char *org = json_string_value(json_object_get(r->in, "OrganizationId"));
	json_t *p;
	if (!strcmp(principal, "*")) {
		p = json_string("*");
	} else if (!strncmp(principal, "arn:", 4)) {
		p = json_pack("{s:s}", "AWS", principal);
	} else {
		char arn[100];
		snprintf(arn, sizeof(arn), "arn:%s:iam::%s:root", arn_partition(r->region), principal);
		p = json_pack("{s:s}", "AWS", arn);
	}
	json_t *s = json_pack("{s:s,s:s,s:o,s:s,s:s}", "Sid", sid, "Effect", "Allow", "Principal", p, "Action",
			      json_string_value(json_object_get(r->in, "Action")), "Resource", varn);
	if (s && org && *org)
		json_object_set_new(s, "Condition",
				    json_pack("{s:{s:s}}", "StringEquals", "aws:PrincipalOrgID", org));
	return s;
}

int api_add_layer_version_permission(req_t *r)
{
	struct layref l;
	json_t *ver = NULL;
	char key[400], varn[400], rev[37];
	json_int_t v;
	int rc = load_for_policy(r, &l, &v, key, sizeof(key), &ver, 0);
	if (rc)
		goto out;
	json_t *policy = json_object_get(ver, "_Policy");
	const char *sid = json_string_value(json_object_get(r->in, "StatementId"));
	if ((rc = check_revision(r, policy)))
		goto out;
	if (access_find_statement(policy, sid, NULL)) {
		rc = apierr_set(r, "ResourceConflictException",
				"The statement id (%s) provided already exists. Please provide a new statement id, "
				"or remove the existing statement.",
				sid);
		goto out;
	}
	if (!policy) {
		policy = json_pack("{s:[]}", "Statement");
		json_object_set_new(ver, "_Policy", policy);
	}
	layer_version_arn(&l, v, varn, sizeof(varn));
	json_t *st = make_statement(r, sid, varn);
	if (!st) {
		rc = LD_ENOMEM;
		goto out;
	}
	json_array_append_new(json_object_get(policy, "Statement"), st);
	ids_uuid4(rev);
	json_object_set_new(policy, "RevisionId", json_string(rev));
	if ((rc = rec_put(r->srv->store, REC_LAYER_VERSION, l.scope, key, ver)))
		goto out;
	char *text = json_dumps(st, JSON_COMPACT | JSON_PRESERVE_ORDER);
	r->out = text ? json_pack("{s:s,s:s}", "Statement", text, "RevisionId", rev) : NULL;
	free(text);
	rc = r->out ? 0 : LD_ENOMEM;
out:
	json_decref(ver);
	return rc;
}

int api_remove_layer_version_permission(req_t *r)
{
	struct layref l;
	json_t *ver = NULL;
	char key[400], rev[37];
	json_int_t v;
	size_t index = 0;
	int rc = load_for_policy(r, &l, &v, key, sizeof(key), &ver, 0);
	if (rc)
		goto out;
	json_t *policy = json_object_get(ver, "_Policy");
	const char *sid = json_string_value(json_object_get(r->in, "StatementId"));
	if (!policy) {
		rc = apierr_set(r, "ResourceNotFoundException", "No policy is associated with the given resource.");
		goto out;
	}
	if ((rc = check_revision(r, policy)))
		goto out;
	if (!access_find_statement(policy, sid, &index)) {
		rc = apierr_set(r, "ResourceNotFoundException", "Statement %s is not found in resource policy.", sid);
		goto out;
	}
	json_array_remove(json_object_get(policy, "Statement"), index);
	if (json_array_size(json_object_get(policy, "Statement"))) {
		ids_uuid4(rev);
		json_object_set_new(policy, "RevisionId", json_string(rev));
	} else {
		json_object_del(ver, "_Policy");
	}
	if ((rc = rec_put(r->srv->store, REC_LAYER_VERSION, l.scope, key, ver)))
		goto out;
	r->status = 204;
out:
	json_decref(ver);
	return rc;
}

int api_get_layer_version_policy(req_t *r)
{
	struct layref l;
	json_t *ver = NULL;
	char key[400];
	json_int_t v;
	int rc = load_for_policy(r, &l, &v, key, sizeof(key), &ver, 1);
	if (rc)
		goto out;
	json_t *policy = json_object_get(ver, "_Policy");
	if (!policy) {
		rc = apierr_set(r, "ResourceNotFoundException", "No policy is associated with the given resource.");
		goto out;
	}
	json_t *doc = json_pack("{s:s,s:s,s:O}", "Version", "2012-10-17", "Id", "default", "Statement",
				json_object_get(policy, "Statement"));
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	r->out = text ? json_pack("{s:s,s:O}", "Policy", text, "RevisionId", json_object_get(policy, "RevisionId"))
		      : NULL;
	free(text);
	rc = r->out ? 0 : LD_ENOMEM;
out:
	json_decref(ver);
	return rc;
}

/* ---- a function's Layers ---- */

int layers_for_function(req_t *r, const struct fnref *ref, json_t *arns, json_t **out, json_int_t *unzipped)
{
	size_t n = json_array_size(arns), i, j;
	struct layref li, lj;
	json_int_t vi, vj;
	json_t *layers = NULL;
	int rc = 0;
	*out = NULL;
	*unzipped = 0;
	if (n > MAX_FUNCTION_LAYERS)
		return apierr_set(r, "InvalidParameterValueException", "Cannot reference more than 5 layers.");
	for (i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(arns, i));
		if (a && parse_arn(r, a, &li, &vi) == 0 && strcmp(li.region, ref->region) != 0)
			return apierr_set(r, "InvalidParameterValueException",
					  "Layers are not in the same region as the function. Layers are expected to "
					  "be in region %s.",
					  ref->region);
	}
	for (i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(arns, i));
		if (!a || parse_arn(r, a, &li, &vi))
			continue;
		for (j = i + 1; j < n; j++) {
			const char *b = json_string_value(json_array_get(arns, j));
			if (!b || parse_arn(r, b, &lj, &vj))
				continue;
			if (!strcmp(li.account, lj.account) && !strcmp(li.name, lj.name))
				return apierr_set(r, "InvalidParameterValueException",
						  "Two different versions of the same layer are not allowed to be "
						  "referenced in the same function. %s and %s are versions of the same "
						  "layer.",
						  a, b);
		}
	}
	layers = json_array();
	if (!layers)
		return LD_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *a = json_string_value(json_array_get(arns, i));
		json_t *ver = NULL;
		if (!a || parse_arn(r, a, &li, &vi)) {
			rc = apierr_set(r, "InvalidParameterValueException", "Layer version %s does not exist.",
					a ? a : "");
			goto out;
		}
		rc = load_version(r, &li, vi, &ver, 1);
		if (strcmp(li.account, ref->account) != 0 &&
		    (rc == LD_ENOTFOUND || (!rc && !policy_allows(r, ver, &li, vi, ref->account)))) {
			json_decref(ver);
			rc = access_denied(r, "GetLayerVersion", a);
			goto out;
		}
		if (rc == LD_ENOTFOUND) {
			rc = apierr_set(r, "InvalidParameterValueException", "Layer version %s does not exist.", a);
			goto out;
		}
		if (rc)
			goto out;
		json_t *content = json_object_get(ver, "Content");
		/* _CodeHex (never serialised) lets execution extract the layer
		 * even after the layer version is deleted, as AWS keeps it */
		json_array_append_new(layers, json_pack("{s:s,s:O,s:O}", "Arn", a, "CodeSize",
							json_object_get(content, "CodeSize"), "_CodeHex",
							json_object_get(ver, "_CodeHex")));
		*unzipped += json_integer_value(json_object_get(ver, "_UnzippedSize"));
		json_decref(ver);
	}
	*out = layers;
	layers = NULL;
out:
	json_decref(layers);
	return rc;
}

/* ---- account usage ---- */

static int add_code_size(void *ud, const char *key, const char *doc, size_t len)
{
	json_int_t *total = ud;
	json_error_t err;
	json_t *ver = json_loadb(doc, len, 0, &err);
	*total += json_integer_value(json_object_get(json_object_get(ver, "Content"), "CodeSize"));
	json_decref(ver);
	return 0;
}

int layers_code_size(req_t *r, const char *scope, json_int_t *total)
{
	*total = 0;
	return rec_list(r->srv->store, REC_LAYER_VERSION, scope, NULL, NULL, 0, add_code_size, total);
}
