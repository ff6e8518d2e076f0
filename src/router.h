/*
 * router.h - the one route table, and the gate every request passes.
 *
 * The HTTP front (http.c) turns each HTTP request into a req_t (req.h),
 * matches it once against the route table (router_route: the API model's
 * HTTP bindings plus lambdad's own paths and function URLs) to learn its
 * body limit, and calls router_dispatch(). The gate does the common work
 * once: region and account from the signature, JSON parsing, the model's
 * type checks and validation, and the merge of path, query and header
 * parameters into one input document. A
 * handler receives a validated req->in and fills req->out (or records an AWS
 * error and returns LD_EAPI); the gate serialises the result.
 */
#ifndef LD_ROUTER_H
#define LD_ROUTER_H

#include <jansson.h>
#include <stddef.h>

#include "model/model.h"
#include "req.h"

typedef int (*handler_fn)(req_t *r);

struct route {
	const char *op;            /* model operation name, or NULL for own paths */
	handler_fn fn;
	size_t body_limit;         /* bytes; 0 means the default (QUOTA_API_REQUEST) */
	/* own paths (op == NULL) */
	const char *method;
	const char *prefix;
	/* resolved at start-up */
	const struct model_op *mop;
};

/* Resolves the route table against the model. Call after model_load(). */
int router_init(void);

/* The route of a request: the function URL route when it is for a function
 * URL (a Host of the form <url-id>.lambda-url.<region>.localhost[:port], or
 * a path under /_lambdad/url/, docs/urls.md), else the route table's match
 * for method, path and query; NULL if none. */
const struct route *router_route(const char *method, const char *host, const char *path, json_t *qargs);

/* The route of a request to the --metrics-listen port: GET /metrics
 * without authentication, NULL for anything else. */
const struct route *router_route_metrics(const char *method, const char *path);

/* Body limit for a matched route (or QUOTA_API_REQUEST for NULL). */
size_t router_body_limit(const struct route *rt);

/* The gate's checks that need no body, run by the front when a request's
 * headers are in and before it reads a byte of its body (auth_precheck:
 * under --auth enforce, the authentication present and well formed, its
 * scope, time and key, for Lambda operations and the X-Amz-Target services
 * the gate authenticates; and a request without a route, whose
 * UnknownOperationException needs no body either). 0 when the request may
 * go on; 1 when r holds
 * the complete error answer (AWS's, as router_dispatch would give it after
 * the body), which the front sends without reading the body. */
int router_precheck(req_t *r);

/* Runs the gate and the handler for r, whose r->route the front has set
 * with router_route() (NULL: no route, answered as AWS answers an unknown
 * operation). Returns 0 with a complete response in r (status, out/raw,
 * headers), including for errors; or 1 when the handler returned
 * LD_EPENDING: it keeps r and calls req_finish() later (an Invoke waiting
 * for its function), which renders the answer and hands it to the front
 * through r->complete; the front keeps the connection waiting meanwhile. */
int router_dispatch(req_t *r);

#endif
