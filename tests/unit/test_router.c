/*
 * test_router.c - unit tests of the router's match (router_route): every
 * HTTP binding of the API model routes to its own operation when a request
 * is built from it, constant queries make a binding more specific, one
 * trailing slash is tolerated, wrong methods and shapes match nothing, and
 * function URLs are recognised by host and by path.
 */
#include "model/model.h"
#include "quotas.h"
#include "router.h"
#include "t.h"

#include <stdlib.h>

/* a request path for a binding: each {label} becomes "x1", "x2"... */
static void path_of(const struct model_op *op, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < op->nsegs; i++) {
		const char *s = op->segs[i];
		if (s[0] == '{')
			n += (size_t)snprintf(out + n, cap - n, "/x%zu", i);
		else
			n += (size_t)snprintf(out + n, cap - n, "/%s", s);
	}
}

static json_t *query_of(const struct model_op *op)
{
	json_t *q = json_object();
	if (op->query_key)
		json_object_set_new(q, op->query_key, json_pack("[s]", op->query_val));
	return q;
}

static void test_every_binding_routes_to_itself(void)
{
	size_t n;
	const struct model_op *ops = model_ops(&n);
	CHECK(n > 60);
	for (size_t i = 0; i < n; i++) {
		char path[512];
		path_of(&ops[i], path, sizeof(path));
		json_t *q = query_of(&ops[i]);
		const struct route *rt = router_route(ops[i].method, "127.0.0.1", path, q);
		if (!rt || rt->mop != &ops[i]) {
			fprintf(stderr, "  %s %s routed to %s\n", ops[i].method, path,
				rt && rt->mop ? rt->mop->name : "(none)");
			CHECK(0);
		}
		json_decref(q);
	}
}

static void test_specific_routes(void)
{
	json_t *q = json_object();
	const struct route *rt = router_route("POST", NULL, "/2015-03-31/functions/f/invocations", q);
	CHECK(rt && rt->fn && !strcmp(rt->op, "Invoke"));
	rt = router_route("POST", NULL, "/2015-03-31/functions/f/invocations/", q);
	CHECK(rt && !strcmp(rt->op, "Invoke")); /* one trailing slash */
	CHECK(router_route("POST", NULL, "/2015-03-31/functions/f/invocations//", q) == NULL);
	CHECK(router_route("POST", NULL, "/2015-03-31/functions//invocations", q) == NULL);
	CHECK(router_route("PATCH", NULL, "/2015-03-31/functions/f/invocations", q) == NULL);
	CHECK(router_route("OPTIONS", NULL, "/2015-03-31/functions/f", q) == NULL);
	CHECK(router_route("GET", NULL, "/2015-03-31/nothing/here", q) == NULL);
	CHECK(router_route("GET", NULL, "/a/b/c/d/e/f/g/h/i/j", q) == NULL);
	rt = router_route("GET", NULL, "/2015-03-31/functions/f", q);
	CHECK(rt && !strcmp(rt->op, "GetFunction"));
	rt = router_route("GET", NULL, "/2015-03-31/functions/f/configuration", q);
	CHECK(rt && !strcmp(rt->op, "GetFunctionConfiguration"));
	rt = router_route("GET", NULL, "/2015-03-31/functions/", q);
	CHECK(rt && !strcmp(rt->op, "ListFunctions"));
	/* the constant query picks GetLayerVersionByArn over ListLayers */
	rt = router_route("GET", NULL, "/2018-10-31/layers", q);
	CHECK(rt && !strcmp(rt->op, "ListLayers"));
	json_object_set_new(q, "find", json_pack("[s]", "LayerVersion"));
	rt = router_route("GET", NULL, "/2018-10-31/layers", q);
	CHECK(rt && !strcmp(rt->op, "GetLayerVersionByArn"));
	json_object_set_new(q, "find", json_pack("[s]", "Other"));
	rt = router_route("GET", NULL, "/2018-10-31/layers", q);
	CHECK(rt && !strcmp(rt->op, "ListLayers"));
	/* lambdad's own paths */
	rt = router_route("GET", NULL, "/_lambdad/code/abc", q);
	CHECK(rt && !rt->op && rt->fn);
	CHECK(router_route("POST", NULL, "/_lambdad/code/abc", q) == NULL);
	json_decref(q);
}

static void test_function_urls(void)
{
	json_t *q = json_object();
	const struct route *url = router_route("GET", "abc.lambda-url.us-east-1.localhost:9001", "/anything", q);
	CHECK(url && !url->op && url->fn);
	CHECK(router_route("DELETE", NULL, "/_lambdad/url/abc/x", q) == url);
	CHECK(router_route("GET", "lambda-url.localhost", "/2015-03-31/functions/f", q) != url);
	CHECK(router_body_limit(url) == QUOTA_SYNC_PAYLOAD);
	CHECK(router_body_limit(NULL) == QUOTA_API_REQUEST);
	json_decref(q);
}

int main(void)
{
	if (model_load() || router_init() || router_init()) {
		fprintf(stderr, "model or router init failed\n");
		return 1;
	}
	T_RUN(test_every_binding_routes_to_itself);
	T_RUN(test_specific_routes);
	T_RUN(test_function_urls);
	model_unload();
	return t_done("test_router");
}
