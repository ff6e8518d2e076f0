/*
 * req.h - one API request and its answer: the type every layer shares.
 *
 * The HTTP front (http.c) fills the request side of a req_t and hands it to
 * the router; the gate (router.c) fills in who is calling and the validated
 * input; a handler (api/) fills the answer, or records an AWS error in
 * r->err with apierr_set() (model/apierr.h), which is rendered in one place.
 * It sits at the bottom of the tree, above util/ and model/ only, so that
 * everything that answers requests can include it without including the
 * router (h2o keeps its h2o_req_t the same way).
 *
 * Memory: the request side (method, path, headers, body, qargs) belongs to
 * the front and lives as long as the connection's request; what the gate and
 * handler attach (in, out, raw, headers, err) is released by req_cleanup().
 */
#ifndef LD_REQ_H
#define LD_REQ_H

#include <jansson.h>
#include <stddef.h>

#include "model/model.h"
#include "server.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct req req_t;
struct route;

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
	void (*finish)(req_t *r, int rc); /* the gate's: renders the answer, then complete (req_finish) */
	const char *body;
	size_t body_len;
	/* the front may hand the body over: when body_owner is set, it holds
	 * body (a buf_t the front gives up with the request, body points into
	 * it), and req_take_body() moves it to whoever keeps the bytes longer */
	buf_t *body_owner;
	/* the body's SHA-256 in hex when the front computed it as the body came
	 * (a large body, kept in a file: util/spool.h), else NULL */
	const char *body_sha256;
	/* matched by the front (router_match), once per request */
	const struct route *route;
	const struct model_op *op;
	/* filled by the gate */
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
	ld_error_t err;            /* the AWS error recorded by apierr_set() */
	int err_url;               /* render err as a function URL answers errors (apierr.h) */
	int err_json11;            /* render err as JSON 1.1 services do: {"__type","message"} (apierr.h) */
	/* streaming responses (req_stream_* below): the front's side */
	int (*stream_begin)(req_t *r);
	int (*stream_write)(req_t *r, const void *data, size_t len);
	void (*stream_end)(req_t *r);
	/* the handler's side: called by the front when the client goes away
	 * during a stream; r is freed right after, and must not be used again */
	void (*stream_gone)(void *ud);
	void *stream_ud;
};

/* Completes a request whose handler returned LD_EPENDING, with the result
 * rc (0 with r->out / r->raw set, or an error): the gate renders the answer
 * and hands it back to the front. r must not be touched afterwards. */
void req_finish(req_t *r, int rc);

/* First value of a query parameter, or NULL. */
const char *req_query(req_t *r, const char *name);

/* Adds a response header (copied). 0, LD_ETOOBIG past REQ_MAX_HEADERS, LD_ENOMEM. */
int req_add_header(req_t *r, const char *name, const char *value);

/* Takes the request body: *out gets the front's buffer (the caller owns it,
 * buf_free) when the front handed it over, else a copy. r->body points into
 * *out afterwards (or stays the front's when copied): it is valid while the
 * taker keeps *out. 0 or LD_ENOMEM. */
int req_take_body(req_t *r, buf_t *out);

/* Streaming responses of unknown length (chunked), for a pending request
 * instead of req_finish(): req_stream_start() sends r->status (200 when
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

/* Releases everything the gate and handler attached to r. */
void req_cleanup(req_t *r);

#endif
