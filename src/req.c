/*
 * req.c - the request's helpers (req.h): query parameters, response
 * headers, handing the body over, the streaming shims and clean-up.
 */
#include "req.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

void req_finish(req_t *r, int rc)
{
	r->finish(r, rc);
}

const char *req_query(req_t *r, const char *name)
{
	return json_string_value(json_array_get(json_object_get(r->qargs, name), 0));
}

int req_add_header(req_t *r, const char *name, const char *value)
{
	if (r->nheaders == REQ_MAX_HEADERS)
		return LD_ETOOBIG;
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return LD_ENOMEM;
	}
	r->headers[r->nheaders++] = (struct hdr){ n, v };
	return 0;
}

int req_take_body(req_t *r, buf_t *out)
{
	if (r->body_owner) {
		*out = *r->body_owner;
		buf_init(r->body_owner, 0);
		r->body_owner = NULL;
		if (!out->data) /* an empty body: nothing was allocated */
			r->body = "";
		return 0;
	}
	buf_init(out, 0);
	return r->body_len ? buf_append(out, r->body, r->body_len) : 0;
}

int req_stream_start(req_t *r)
{
	if (!r->stream_begin)
		return LD_EIO;
	if (!r->status)
		r->status = 200;
	req_add_header(r, "x-amzn-RequestId", r->request_id);
	return r->stream_begin(r);
}

int req_stream_write(req_t *r, const void *data, size_t len)
{
	return r->stream_write(r, data, len);
}

void req_stream_end(req_t *r)
{
	r->stream_gone = NULL;
	r->stream_end(r);
}

void req_cleanup(req_t *r)
{
	json_decref(r->in);
	json_decref(r->out);
	r->in = r->out = NULL;
	buf_free(&r->raw);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	r->nheaders = 0;
	ld_error_clear(&r->err);
}
