/*
 * router.h - requests, the one route table, and the gate every request passes.
 *
 * The HTTP front (http.c) turns each HTTP request into a req_t and calls
 * router_dispatch(). The router matches method and path against the route
 * table (the API model's HTTP bindings plus lambdad's own paths), then the
 * gate does the common work once: region and account from the signature,
 * body limit, JSON parsing, the model's type checks and validation, and the
 * merge of path, query and header parameters into one input document. A
 * handler receives a validated req->in and fills req->out (or records an AWS
 * error and returns LD_EAPI); the gate serialises the result.
 */
#ifndef LD_ROUTER_H
#define LD_ROUTER_H

#include <jansson.h>
#include <stddef.h>

#include "model/model.h"
#include "server.h"
#include "util/buf.h"

typedef struct req req_t;
typedef int (*handler_fn)(req_t *r);

/* response headers a request may carry (a function URL answers with the
 * function's own headers, cookies and CORS) */
#define REQ_MAX_HEADERS 64

struct hdr {
	char *name;
	char *value;
};

struct req {
	server_t *srv;
	/* request, owned by the HTTP front */
	const char *method;
	const char *path;          /* decoded path, no query */
	const char *host;          /* Host header or NULL */
	const char *raw_uri;       /* the request target as sent (path and query, not decoded) */
	char client_ip[64];        /* the peer's address */
	const char *(*header)(req_t *r, const char *name); /* case-insensitive lookup */
	/* calls fn for every request header, in arrival order */
	void (*each_header)(req_t *r, void (*fn)(void *ud, const char *name, const char *value), void *ud);
	json_t *qargs;             /* query: name -> [values], owned by the front */
	void *conn;                /* the front's connection */
	void (*complete)(req_t *r); /* the front's continuation for pending requests */
	const char *body;
	size_t body_len;
	/* filled by the gate */
	const struct route *route;
	const struct model_op *op;
	json_t *in;                /* validated input, members by model name */
	char account[16];          /* the caller's account (auth/auth.h) */
	char region[64];
	char principal[256];       /* the caller: arn:aws:iam::ACCOUNT:root or the key's principal */
	char request_id[37];
	/* response, filled by the handler or apierr */
	int status;
	json_t *out;               /* output members; header members become headers */
	buf_t raw;                 /* raw body (payload blobs, downloads) */
	const char *content_type;  /* for raw bodies */
	struct hdr headers[REQ_MAX_HEADERS];
	size_t nheaders;
	/* error recorded by apierr_set() */
	const char *err_type;
	char *err_msg;
	int err_untyped;           /* AWS sends this error without "Type" */
	/* streaming responses (req_stream_* below): the front's side */
	int (*stream_begin)(req_t *r);
	int (*stream_write)(req_t *r, const void *data, size_t len);
	void (*stream_end)(req_t *r);
	/* the handler's side: called by the front when the client goes away
	 * during a stream; r is freed right after, and must not be used again */
	void (*stream_gone)(void *ud);
	void *stream_ud;
};

struct route {
	const char *op;            /* model operation name, or NULL for own paths */
	handler_fn fn;
	size_t body_limit;         /* bytes; 0 means the default (1 MB) */
	/* own paths (op == NULL) */
	const char *method;
	const char *prefix;
	/* resolved at start-up */
	const struct model_op *mop;
};

/* Resolves the route table against the model. Call after model_load(). */
int router_init(void);

/* Finds the route for a request line; NULL if none. */
const struct route *router_match(const char *method, const char *path, json_t *qargs);

/* The function URL route when the request is for a function URL: a Host of
 * the form <url-id>.lambda-url.<region>.localhost[:port], or a path under
 * /_lambdad/url/ (docs/urls.md); else NULL. */
const struct route *router_match_url(const char *host, const char *path);

/* Body limit for a matched route (or the default for NULL). */
size_t router_body_limit(const struct route *rt);

/* Runs the gate and the handler. Returns 0 with a complete response in r
 * (status, out/raw, headers), including for errors; or 1 when the handler
 * returned LD_EPENDING: it keeps r and calls router_finish() later (an
 * Invoke waiting for its function), and the front must keep the connection
 * waiting meanwhile. */
int router_dispatch(req_t *r);

/* Completes a pending request with the handler's result rc (0 with r->out /
 * r->raw set, or an error) and hands it back to the front through
 * r->complete. r must not be touched afterwards. */
void router_finish(req_t *r, int rc);

/* Streaming responses of unknown length (chunked), for a pending request
 * instead of router_finish(): req_stream_start() sends r->status (200 when
 * 0), r->content_type and r->headers; req_stream_write() hands bytes to the
 * client as soon as it can take them (copied; they wait in a buffer capped
 * at REQ_STREAM_BUFFER_CAP: 0 or LD_ETOOBIG / LD_ENOMEM); req_stream_end()
 * ends the response, after which r must not be touched. Until then the front
 * calls r->stream_gone(r->stream_ud), if set, when the client disconnects
 * (r is freed just after). start and write return 0 or a negative LD_E*. */
#define REQ_STREAM_BUFFER_CAP (32u * 1024 * 1024)
int req_stream_start(req_t *r);
int req_stream_write(req_t *r, const void *data, size_t len);
void req_stream_end(req_t *r);

/* First value of a query parameter, or NULL. */
const char *req_query(req_t *r, const char *name);

/* Adds a response header (copied). */
int req_add_header(req_t *r, const char *name, const char *value);

/* Releases everything the gate and handler attached to r. */
void req_cleanup(req_t *r);

#endif
