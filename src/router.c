/*
 * router.c - the route table and the gate (see router.h).
 *
 * The table names, for each implemented operation of the API model, its
 * handler and body limit; the HTTP binding (method, dated path, constant
 * query) comes from the model itself, so paths cannot drift from what the
 * SDKs send. Operations of the model that have no handler yet answer as AWS
 * answers an unknown operation. lambdad's own paths (code downloads, the
 * web console's files, api/console.h) sit in
 * the same table with a path prefix instead of an operation.
 */
#include "router.h"
#include "auth/auth.h"
#include "api/api.h"
#include "api/console.h"
#include "api/cwlogs.h"
#include "model/apierr.h"
#include "quotas.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "util/jsonread.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct route routes[] = {
	{ "CreateFunction", api_create_function, QUOTA_CODE_REQUEST },
	{ "GetFunction", api_get_function },
	{ "GetFunctionConfiguration", api_get_function_configuration },
	{ "UpdateFunctionCode", api_update_function_code, QUOTA_CODE_REQUEST },
	{ "UpdateFunctionConfiguration", api_update_function_configuration },
	{ "DeleteFunction", api_delete_function },
	{ "ListFunctions", api_list_functions },
	{ "PublishVersion", api_publish_version },
	{ "ListVersionsByFunction", api_list_versions_by_function },
	{ "CreateAlias", api_create_alias },
	{ "GetAlias", api_get_alias },
	{ "UpdateAlias", api_update_alias },
	{ "DeleteAlias", api_delete_alias },
	{ "ListAliases", api_list_aliases },
	{ "TagResource", api_tag_resource },
	{ "UntagResource", api_untag_resource },
	{ "ListTags", api_list_tags },
	{ "GetAccountSettings", api_get_account_settings },
	{ "GetRuntimeManagementConfig", api_get_runtime_management_config },
	{ "PutRuntimeManagementConfig", api_put_runtime_management_config },
	{ "GetFunctionRecursionConfig", api_get_function_recursion_config },
	{ "PutFunctionRecursionConfig", api_put_function_recursion_config },
	{ "PublishLayerVersion", api_publish_layer_version, QUOTA_CODE_REQUEST },
	{ "GetLayerVersion", api_get_layer_version },
	{ "GetLayerVersionByArn", api_get_layer_version_by_arn },
	{ "DeleteLayerVersion", api_delete_layer_version },
	{ "ListLayers", api_list_layers },
	{ "ListLayerVersions", api_list_layer_versions },
	{ "AddLayerVersionPermission", api_add_layer_version_permission },
	{ "RemoveLayerVersionPermission", api_remove_layer_version_permission },
	{ "GetLayerVersionPolicy", api_get_layer_version_policy },
	{ "AddPermission", api_add_permission },
	{ "RemovePermission", api_remove_permission },
	{ "GetPolicy", api_get_policy },
	{ "CreateCodeSigningConfig", api_create_code_signing_config },
	{ "GetCodeSigningConfig", api_get_code_signing_config },
	{ "UpdateCodeSigningConfig", api_update_code_signing_config },
	{ "DeleteCodeSigningConfig", api_delete_code_signing_config },
	{ "ListCodeSigningConfigs", api_list_code_signing_configs },
	{ "PutFunctionCodeSigningConfig", api_put_function_code_signing_config },
	{ "GetFunctionCodeSigningConfig", api_get_function_code_signing_config },
	{ "DeleteFunctionCodeSigningConfig", api_delete_function_code_signing_config },
	{ "ListFunctionsByCodeSigningConfig", api_list_functions_by_code_signing_config },
	{ "PutFunctionConcurrency", api_put_function_concurrency },
	{ "GetFunctionConcurrency", api_get_function_concurrency },
	{ "DeleteFunctionConcurrency", api_delete_function_concurrency },
	{ "PutProvisionedConcurrencyConfig", api_put_provisioned_concurrency_config },
	{ "GetProvisionedConcurrencyConfig", api_get_provisioned_concurrency_config },
	{ "DeleteProvisionedConcurrencyConfig", api_delete_provisioned_concurrency_config },
	{ "ListProvisionedConcurrencyConfigs", api_list_provisioned_concurrency_configs },
	{ "PutFunctionEventInvokeConfig", api_put_function_event_invoke_config },
	{ "UpdateFunctionEventInvokeConfig", api_update_function_event_invoke_config },
	{ "GetFunctionEventInvokeConfig", api_get_function_event_invoke_config },
	{ "DeleteFunctionEventInvokeConfig", api_delete_function_event_invoke_config },
	{ "ListFunctionEventInvokeConfigs", api_list_function_event_invoke_configs },
	{ "CreateFunctionUrlConfig", api_create_function_url_config },
	{ "GetFunctionUrlConfig", api_get_function_url_config },
	{ "UpdateFunctionUrlConfig", api_update_function_url_config },
	{ "DeleteFunctionUrlConfig", api_delete_function_url_config },
	{ "ListFunctionUrlConfigs", api_list_function_url_configs },
	{ "CreateEventSourceMapping", api_create_event_source_mapping },
	{ "GetEventSourceMapping", api_get_event_source_mapping },
	{ "UpdateEventSourceMapping", api_update_event_source_mapping },
	{ "DeleteEventSourceMapping", api_delete_event_source_mapping },
	{ "ListEventSourceMappings", api_list_event_source_mappings },
	{ "Invoke", api_invoke, QUOTA_SYNC_PAYLOAD },
	{ "InvokeWithResponseStream", api_invoke_with_response_stream, QUOTA_SYNC_PAYLOAD },
	{ "InvokeAsync", api_invoke_async, QUOTA_SYNC_PAYLOAD },
	/* lambdad's own paths */
	{ NULL, api_download_code, 0, "GET", "/_lambdad/code/" },
	{ NULL, api_console, 0, "GET", CONSOLE_PREFIX },
	{ NULL, api_console, 0, "HEAD", CONSOLE_PREFIX },
	/* CloudWatch's rpc-v2-cbor protocol (api/cloudwatch.c) */
	{ NULL, api_cloudwatch, 0, "POST", "/service/GraniteServiceVersion20100801/operation/" },
};

/* paths matched whole: CloudWatch's query protocol (POST / without an
 * X-Amz-Target: the targets below come first), and the Prometheus text
 * (docs/metrics.md) */
static struct route exact_routes[] = {
	{ NULL, api_cloudwatch, 0, "POST", "/" },
	{ NULL, api_metrics, 0, "GET", "/metrics" },
};
/* GET /metrics on --metrics-listen: not authenticated */
static struct route metrics_open_route = { NULL, api_metrics_open, 0, "GET", "/metrics" };

const struct route *router_route_metrics(const char *method, const char *path)
{
	return !strcmp(method, "GET") && !strcmp(path, "/metrics") ? &metrics_open_route : NULL;
}

/* function URLs (any method, any path; matched by router_match_url) */
static struct route url_route = { NULL, api_function_url, QUOTA_SYNC_PAYLOAD, NULL, "/_lambdad/url/" };

static const struct route *match_url(const char *host, const char *path)
{
	if (path && !strncmp(path, url_route.prefix, strlen(url_route.prefix)))
		return &url_route;
	if (host) {
		const char *dot = strchr(host, '.');
		if (dot && !strncmp(dot, ".lambda-url.", 12))
			return &url_route;
	}
	return NULL;
}

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* CloudWatch reads its operation from the target, path or form itself, and
 * renders its errors in the protocol the request came in (api/cloudwatch.c) */
static int cloudwatch_target(req_t *r, const char *op)
{
	(void)op;
	return api_cloudwatch(r);
}

/* The JSON services on the same port: POST / whose X-Amz-Target starts with
 * prefix goes to fn with the operation (what follows the prefix), signed for
 * service under --auth enforce (NULL: fn authenticates the request itself).
 * Another service is one more row. They come before the routes: a POST /
 * without a target is CloudWatch's query protocol (exact_routes). */
static const struct target {
	const char *prefix;
	const char *service;
	int json11; /* errors in JSON 1.1's envelope (model/apierr.c) */
	int (*fn)(req_t *r, const char *op);
} targets[] = {
	{ "Logs_20140328.", "logs", 1, cwlogs_dispatch },
	{ "GraniteServiceVersion20100801.", NULL, 0, cloudwatch_target },
};

/* r's row of the target table (*op: the operation), or NULL */
static const struct target *target_of(req_t *r, const char **op)
{
	const char *t = !r->header || strcmp(r->method, "POST") || strcmp(r->path, "/") ? NULL : r->header(r, "X-Amz-Target");
	for (size_t i = 0; t && i < sizeof(targets) / sizeof(targets[0]); i++) {
		size_t n = strlen(targets[i].prefix);
		if (!strncmp(t, targets[i].prefix, n)) {
			*op = t + n;
			return &targets[i];
		}
	}
	return NULL;
}

/* 0 handled (rc in *rc), LD_ENOTFOUND when r is no target request */
static int target_dispatch(req_t *r, int *rc)
{
	const char *op;
	const struct target *t = target_of(r, &op);
	if (!t)
		return LD_ENOTFOUND;
	r->err_json11 = t->json11;
	if (!t->service || !(*rc = auth_identify_service(r, t->service)))
		*rc = t->fn(r, op);
	return 0;
}

/* routes for model operations without a handler: answered as unknown */
static struct route *unimplemented;
static size_t nunimplemented;

/* The index the match walks: the operation routes (implemented and not) by
 * method and number of path segments, so that a request is scored against
 * the handful of bindings of its shape instead of all of the model's. */
#define IDX_METHODS 5 /* GET POST PUT DELETE PATCH */
#define IDX_SEGS 8
static const struct route **idx[IDX_METHODS][IDX_SEGS];
static size_t nidx[IDX_METHODS][IDX_SEGS];

static int method_index(const char *m)
{
	switch (m[0]) {
	case 'G': return strcmp(m, "GET") ? -1 : 0;
	case 'P': return !strcmp(m, "POST") ? 1 : !strcmp(m, "PUT") ? 2 : !strcmp(m, "PATCH") ? 4 : -1;
	case 'D': return strcmp(m, "DELETE") ? -1 : 3;
	default: return -1;
	}
}

static int index_add(const struct route *rt)
{
	int m = method_index(rt->mop->method);
	size_t s = rt->mop->nsegs;
	if (m < 0 || s >= IDX_SEGS) {
		fprintf(stderr, "lambdad: operation %s has a binding the router cannot index\n", rt->mop->name);
		return LD_ECORRUPT;
	}
	const struct route **v = realloc(idx[m][s], (nidx[m][s] + 1) * sizeof(*v));
	if (!v)
		return LD_ENOMEM;
	v[nidx[m][s]++] = rt;
	idx[m][s] = v;
	return 0;
}

int router_init(void)
{
	int rc;
	size_t nops;
	const struct model_op *ops = model_ops(&nops);
	if (unimplemented)
		return 0;
	for (size_t i = 0; i < NROUTES; i++) {
		if (!routes[i].op)
			continue;
		routes[i].mop = model_op_find(routes[i].op);
		if (!routes[i].mop) {
			fprintf(stderr, "lambdad: route %s is not in the API model\n", routes[i].op);
			return LD_ECORRUPT;
		}
		if ((rc = index_add(&routes[i])) != 0)
			return rc;
	}
	unimplemented = calloc(nops, sizeof(*unimplemented));
	if (!unimplemented)
		return LD_ENOMEM;
	for (size_t i = 0; i < nops; i++) {
		size_t j;
		for (j = 0; j < NROUTES; j++)
			if (routes[j].mop == &ops[i])
				break;
		if (j < NROUTES)
			continue;
		unimplemented[nunimplemented] = (struct route){ .op = ops[i].name, .mop = &ops[i] };
		if ((rc = index_add(&unimplemented[nunimplemented++])) != 0)
			return rc;
	}
	return 0;
}

static const char *qfirst(json_t *qargs, const char *name)
{
	return json_string_value(json_array_get(json_object_get(qargs, name), 0));
}

/* 0 no match, else a score: literal segments count more than labels, and a
 * binding's constant query makes it more specific than the same path without */
static int op_match(const struct model_op *op, const char *path, json_t *qargs)
{
	if (op->query_key) {
		const char *v = qfirst(qargs, op->query_key);
		if (!v || strcmp(v, op->query_val) != 0)
			return 0;
	}
	int score = 1 + (op->query_key ? 100 : 0);
	const char *p = path;
	for (size_t i = 0; i < op->nsegs; i++) {
		if (*p != '/')
			return 0;
		p++;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 0)
			return 0;
		const char *seg = op->segs[i];
		if (seg[0] == '{') {
			score += 1;
		} else {
			if (strlen(seg) != len || strncmp(seg, p, len) != 0)
				return 0;
			score += 2;
		}
		p += len;
	}
	if (*p == '/' && p[1] == '\0')
		p++; /* tolerate one trailing slash */
	return *p == '\0' ? score : 0;
}

static size_t count_segments(const char *path)
{
	size_t n = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] != '\0')
			n++;
	return n;
}

static const struct route *match(const char *method, const char *path, json_t *qargs)
{
	for (size_t i = 0; i < sizeof(exact_routes) / sizeof(exact_routes[0]); i++)
		if (!strcmp(exact_routes[i].method, method) && !strcmp(exact_routes[i].prefix, path))
			return &exact_routes[i];
	for (size_t i = 0; i < NROUTES; i++)
		if (!routes[i].op && !strcmp(routes[i].method, method) &&
		    !strncmp(path, routes[i].prefix, strlen(routes[i].prefix)))
			return &routes[i];
	int m = method_index(method);
	size_t nsegs = count_segments(path);
	if (m < 0 || nsegs >= IDX_SEGS)
		return NULL;
	const struct route *best = NULL;
	int best_score = 0;
	for (size_t i = 0; i < nidx[m][nsegs]; i++) {
		int s = op_match(idx[m][nsegs][i]->mop, path, qargs);
		if (s > best_score) {
			best_score = s;
			best = idx[m][nsegs][i];
		}
	}
	return best;
}

const struct route *router_route(const char *method, const char *host, const char *path, json_t *qargs)
{
	const struct route *rt = match_url(host, path);
	return rt ? rt : match(method, path, qargs);
}

size_t router_body_limit(const struct route *rt)
{
	return rt && rt->body_limit ? rt->body_limit : QUOTA_API_REQUEST;
}

/* converts a path/query/header string into the member's JSON type */
static json_t *typed_param(const struct member *m, const char *s)
{
	if (!m->shape)
		return json_string(s);
	switch (m->shape->type) {
	case SHAPE_INTEGER:
	case SHAPE_LONG: {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || end == s || *end)
			return NULL;
		return json_integer(v);
	}
	case SHAPE_BOOLEAN:
		if (!strcasecmp(s, "true"))
			return json_true();
		if (!strcasecmp(s, "false"))
			return json_false();
		return NULL;
	default:
		return json_string(s);
	}
}

/* path labels, query and header members into r->in */
static int merge_params(req_t *r)
{
	const struct model_op *op = r->op;
	const struct shape *in = op->input;
	if (!in)
		return 0;
	/* path labels, in order */
	const char *p = r->path;
	for (size_t i = 0; i < op->nsegs; i++) {
		p++;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *seg = op->segs[i];
		if (seg[0] == '{') {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(strlen(seg) - 2), seg + 1);
			for (size_t j = 0; j < in->nmembers; j++) {
				const struct member *m = &in->members[j];
				if (m->loc != LOC_URI || strcmp(m->loc_name, name) != 0)
					continue;
				char *val = strndup(p, len);
				json_t *v = val ? typed_param(m, val) : NULL;
				free(val);
				if (!v)
					return apierr_set(r, "ValidationException", "Invalid value for %s", name);
				json_object_set_new(r->in, m->name, v);
			}
		}
		p += len;
	}
	for (size_t j = 0; j < in->nmembers; j++) {
		const struct member *m = &in->members[j];
		if (m->loc == LOC_QUERY) {
			json_t *vals = json_object_get(r->qargs, m->loc_name);
			if (!json_array_size(vals))
				continue;
			json_t *v;
			if (m->shape && m->shape->type == SHAPE_LIST) {
				v = json_deep_copy(vals);
			} else {
				v = typed_param(m, json_string_value(json_array_get(vals, 0)));
				if (!v)
					return apierr_set(r, "InvalidParameterValueException",
							  "Invalid value for query parameter %s", m->loc_name);
			}
			json_object_set_new(r->in, m->name, v);
		} else if (m->loc == LOC_HEADER) {
			const char *h = r->header(r, m->loc_name);
			if (!h)
				continue;
			json_object_set_new(r->in, m->name, json_string(h));
		}
	}
	return 0;
}

static int parse_body(req_t *r)
{
	const struct shape *in = r->op->input;
	if (in && in->payload) {
		/* raw payload (Invoke, InvokeAsync): the handler reads r->body;
		 * the member is present for the model's required check */
		if (r->body_len)
			json_object_set_new(r->in, in->payload, json_string(""));
		return 0;
	}
	if (r->body_len == 0)
		return 0;
	json_error_t jerr;
	/* yajl's reader when it is sure to agree with jansson, else jansson's */
	json_t *doc = jsonread_object(r->body, r->body_len);
	if (!doc)
		doc = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc)) {
		/* jansson quotes the text near the error ("... near '<text>'"),
		 * which may be a sensitive value (an environment variable) */
		char *near = strstr(jerr.text, " near ");
		if (near)
			*near = '\0';
		const char *why = doc ? "the request body must be a JSON object" : jerr.text;
		int rc = apierr_set(r, "InvalidRequestContentException",
				    "Could not parse request body into json: Could not parse payload into json: %s", why);
		json_decref(doc);
		return rc;
	}
	/* body members only: location-bound names in the body are ignored */
	const char *k;
	json_t *v;
	json_object_foreach(doc, k, v) {
		const struct member *m = model_member(in, k);
		if (m && m->loc == LOC_BODY)
			json_object_set(r->in, k, v);
	}
	json_decref(doc);
	char where[128];
	if (model_typecheck(in, r->in, where, sizeof(where)))
		return apierr_set(r, "SerializationException", "Unable to deserialize value of type %s", where);
	return 0;
}

/* moves header/status members of the output into the response; r->out may
 * share documents with the store's cache, so it is copied (shallowly)
 * before any member is removed */
static void serialize(req_t *r)
{
	const struct shape *out = r->op ? r->op->output : NULL;
	if (!r->status)
		r->status = r->op ? r->op->status : 200;
	if (!r->out)
		return;
	for (size_t i = 0; out && i < out->nmembers; i++) {
		const struct member *m = &out->members[i];
		json_t *v = json_object_get(r->out, m->name);
		if (!v || (m->loc != LOC_HEADER && m->loc != LOC_STATUS))
			continue;
		if (m->loc == LOC_HEADER) {
			char num[32];
			const char *s = json_string_value(v);
			if (!s && json_is_integer(v)) {
				snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
				s = num;
			}
			if (s)
				req_add_header(r, m->loc_name, s);
		} else {
			r->status = (int)json_integer_value(v);
		}
		json_t *copy = json_copy(r->out);
		json_decref(r->out);
		r->out = copy;
		json_object_del(r->out, m->name);
	}
	if (out && out->payload) {
		json_t *v = json_object_get(r->out, out->payload);
		if (json_is_string(v))
			buf_append(&r->raw, json_string_value(v), json_string_length(v));
		return;
	}
	jsonw_dump(r->out, &r->raw);
	r->content_type = "application/json";
}

/* the response of a handler's result rc */
static void finish(req_t *r, int rc)
{
	if (rc < 0)
		apierr_render(r, rc);
	else if (r->op)
		serialize(r);
	else if (!r->status)
		r->status = 200;
	req_add_header(r, "x-amzn-RequestId", r->request_id);
}

/* r->finish of a pending request (req_finish) */
static void finish_pending(req_t *r, int rc)
{
	finish(r, rc);
	if (r->complete)
		r->complete(r);
}

int router_precheck(req_t *r)
{
	const char *op;
	const struct target *t = target_of(r, &op);
	/* the gate's order: a target request, else no route (answered before
	 * authentication), else a model operation (own paths, function URLs
	 * and CloudWatch authenticate themselves, after their body) */
	const char *service = t ? t->service : r->route && r->route->mop ? "lambda" : NULL;
	int unknown = !t && !r->route;
	if ((!service && !unknown) || r->srv->auth_mode != AUTH_ENFORCE)
		return 0;
	ids_uuid4(r->request_id);
	buf_init(&r->raw, 0);
	r->err_json11 = t ? t->json11 : 0;
	/* no route: the gate's answer does not depend on the body either */
	int rc = unknown ? apierr_set(r, "UnknownOperationException", "Unknown operation") : auth_precheck(r, service);
	if (!rc)
		return 0;
	finish(r, rc);
	return 1;
}

int router_dispatch(req_t *r)
{
	int rc;
	char *msg = NULL;
	ids_uuid4(r->request_id);
	buf_init(&r->raw, 0);
	r->finish = finish_pending;
	if (target_dispatch(r, &rc) == 0)
		goto out;
	if (!r->route) {
		rc = apierr_set(r, "UnknownOperationException", "Unknown operation");
		goto out;
	}
	r->op = r->route->mop;
	if ((rc = auth_identify(r)))
		goto out;
	if (!r->route->fn) {
		rc = apierr_set(r, "UnknownOperationException", "Unknown operation %s", r->op->name);
		goto out;
	}
	if (!r->op) { /* own path */
		rc = r->route->fn(r);
		goto out;
	}
	r->in = json_object();
	if (!r->in) {
		rc = LD_ENOMEM;
		goto out;
	}
	if ((rc = parse_body(r)) || (rc = merge_params(r)))
		goto out;
	rc = model_validate(r->op->input, r->in, &msg);
	if (rc > 0) {
		rc = apierr_set(r, "ValidationException", "%s", msg);
		goto out;
	}
	if (rc < 0)
		goto out;
	rc = r->route->fn(r);
out:
	free(msg);
	if (rc == LD_EPENDING)
		return 1;
	finish(r, rc);
	return 0;
}
