/*
 * invoke.c - Invoke: runs a function version through exec.h and answers as
 * AWS does.
 *
 * The qualifier picks the version ($LATEST, a number, or an alias, whose
 * RoutingConfig sends a weighted share to its second version). RequestResponse
 * waits for the function (the request is pending until exec's callback) and
 * answers 200 with the payload, X-Amz-Executed-Version, X-Amz-Function-Error
 * for function errors and X-Amz-Log-Result for LogType Tail, or 429
 * TooManyRequestsException with AWS's Reason when exec finds no concurrency
 * left (exec.h); Event (and the deprecated InvokeAsync) hands the event to
 * the durable async queue (exec/async.h: retries, destinations) and answers
 * 202 once the group commit holding it is done (the request is pending until
 * then); DryRun checks and answers 204.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "exec/async.h"
#include "exec/door.h"
#include "exec/exec.h"
#include "model/apierr.h"
#include "quotas.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/jsoncheck.h"
#include "util/eventstream.h"
#include "util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* base64 X-Amz-Client-Context -> the JSON text runtimes receive */
static char *decode_client_context(const char *b64)
{
	unsigned char *out = NULL;
	size_t n;
	if (!*b64 || b64_decode(b64, strlen(b64), &out, &n))
		return NULL;
	return (char *)out;
}

/* a RequestResponse invocation in flight: the request and the version it runs */
struct invocation_req {
	req_t *r;
	char version[24];
};

/* an invocation that did not run: exec's error becomes the request's */
static int failed(req_t *r, struct exec_result *res)
{
	if (!res->err.type)
		return apierr_set(r, "ServiceException", "An internal error occurred.");
	ld_error_clear(&r->err);
	r->err = res->err; /* moved */
	memset(&res->err, 0, sizeof(res->err));
	return LD_EAPI;
}

/* Invoke's answer: the function's bytes as they came (taken, not copied),
 * and its headers set directly (X-Amz-Executed-Version, -Function-Error,
 * -Log-Result) */
static void on_done(void *ud, struct exec_result *res)
{
	struct invocation_req *ir = ud;
	req_t *r = ir->r;
	int rc = 0;
	if (!res->ok) {
		free(ir);
		req_finish(r, failed(r, res));
		return;
	}
	r->status = 200;
	req_add_header(r, "X-Amz-Executed-Version", ir->version);
	if (res->log_tail)
		req_add_header(r, "X-Amz-Log-Result", res->log_tail);
	if (res->payload_len > QUOTA_SYNC_RESPONSE) {
		req_add_header(r, "X-Amz-Function-Error", "Unhandled");
		rc = buf_printf(&r->raw,
				"{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (%u "
				"bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
				QUOTA_SYNC_RESPONSE);
	} else {
		if (res->function_error)
			req_add_header(r, "X-Amz-Function-Error", res->function_error);
		if (res->body.data && res->payload == res->body.data) {
			buf_free(&r->raw);
			r->raw = res->body; /* moved */
			buf_init(&res->body, 0);
		} else {
			rc = buf_append(&r->raw, res->payload ? res->payload : "", res->payload_len);
		}
	}
	r->content_type = "application/json";
	free(ir);
	req_finish(r, rc);
}

/* an Event invoke's group commit is done: 202 once its event is durable */
static void event_accepted(void *ud, int rc)
{
	req_t *r = ud;
	if (rc == 0)
		r->status = 202;
	req_finish(r, rc);
}

/* InvokeAsync's: 202 {"Status": 202} */
static void invoke_async_accepted(void *ud, int rc)
{
	req_t *r = ud;
	if (rc == 0) {
		r->status = 202;
		r->content_type = "application/json";
		rc = buf_puts(&r->raw, "{\"Status\":202}");
	}
	req_finish(r, rc);
}

/* The payload is JSON (checked without building it: util/jsoncheck.h). It
 * is sensitive (the model marks it so): AWS's parse error names the
 * problem and its position but shows none of the payload ("[Source:
 * REDACTED ...]"). */
static int check_json(req_t *r, const char *payload, size_t len)
{
	struct jsoncheck_error e;
	int rc = jsoncheck(payload, len, &e);
	if (rc == LD_EINVAL)
		return apierr_set(r, "InvalidRequestContentException",
				  "Could not parse request body into json: Could not parse payload into json: %s\n at "
				  "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: %d, "
				  "column: %d]",
				  e.what, e.line, e.column);
	return rc;
}

/* What Invoke, InvokeWithResponseStream and InvokeAsync check of the request
 * itself, once the door has found the target (AWS's order of errors: the
 * function first), kept for the run: the payload ({} when empty), checked
 * as JSON, within its limit; the decoded client context. */
struct invoke {
	req_t *r;
	struct fnref ref;       /* the door_call's names point into it */
	const char *payload;
	size_t len;
	size_t limit;           /* 0: the gate's body limit is the payload's */
	char *context;          /* decoded ClientContext (owned) */
	buf_t body;             /* the request's body, taken from the front (exec may take it on) */
};

static int admit(void *ud, struct door_call *c)
{
	struct invoke *v = ud;
	req_t *r = v->r;
	const char *cc = json_string_value(json_object_get(r->in, "ClientContext"));
	if (cc && !(v->context = decode_client_context(cc)))
		return apierr_set(r, "InvalidRequestContentException",
				  "Client context must be a valid Base64-encoded JSON object.");
	if (v->limit && v->len > v->limit)
		return apierr_set(r, "RequestEntityTooLargeException",
				  "%zu byte payload is too large for the Event invocation type (limit %zu bytes)", v->len,
				  v->limit);
	int rc = check_json(r, v->payload, v->len);
	c->client_context = v->context;
	c->payload = v->payload;
	c->payload_len = v->len;
	return rc;
}

/* The door for r (its FunctionName and Qualifier): target resolved, request
 * checked, and started unless c->resolve_only; AWS's errors on r (a throttle
 * is 429 TooManyRequestsException with its Reason). */
static int enter(req_t *r, struct invoke *v, struct door_call *c, exec_done_fn done, void *ud)
{
	int rc = lookup_ref_in(r, &v->ref);
	if (rc)
		return rc;
	v->r = r;
	buf_init(&v->body, 0);
	if (r->body_len && !c->resolve_only && (rc = req_take_body(r, &v->body)) == 0) {
		/* the bytes go on to the runtime without a copy */
		v->payload = v->body.data;
		v->len = v->body.len;
		c->payload_buf = &v->body;
	} else if (rc) {
		return rc;
	} else {
		v->payload = r->body_len ? r->body : "{}";
		v->len = r->body_len ? r->body_len : 2;
	}
	c->scope = v->ref.scope;
	c->name = v->ref.name;
	c->qualifier = v->ref.qualifier;
	c->request_id = r->request_id;
	c->check = admit;
	c->check_ud = v;
	rc = door_invoke(r->srv, c, done, ud, &r->err);
	return rc == LD_ETHROTTLED ? LD_EAPI : rc;
}

int api_invoke(req_t *r)
{
	struct invoke v = { 0 };
	struct door_call c = { 0 };
	const char *type = json_string_value(json_object_get(r->in, "InvocationType"));
	const char *log_type = json_string_value(json_object_get(r->in, "LogType"));
	int event = type && !strcmp(type, "Event"), dry = type && !strcmp(type, "DryRun");
	if (event)
		v.limit = QUOTA_ASYNC_PAYLOAD;
	c.resolve_only = event || dry;
	c.want_tail = log_type && !strcmp(log_type, "Tail");
	struct invocation_req *ir = c.resolve_only ? NULL : calloc(1, sizeof(*ir));
	if (!c.resolve_only && !ir)
		return LD_ENOMEM;
	if (ir)
		ir->r = r;
	int rc = enter(r, &v, &c, on_done, ir);
	if (rc) {
		free(ir);
		goto out;
	}
	if (dry) {
		r->status = 204;
	} else if (event) {
		/* the qualifier as invoked: the queue resolves it again when the event runs */
		struct async_event ev = { c.scope, c.name, c.qualifier, v.payload, v.len, v.context, r->request_id };
		if ((rc = async_submit(r->srv, &ev, event_accepted, r)) == 0)
			rc = LD_EPENDING;
	} else {
		snprintf(ir->version, sizeof(ir->version), "%s", c.version);
		rc = LD_EPENDING;
	}
out:
	free(v.context);
	buf_free(&v.body);
	json_decref(c.config);
	return rc;
}

/* ---- InvokeWithResponseStream ---- */

/* one streamed invocation: the request (NULL once the client went away) */
struct streamreq {
	req_t *r;
	char version[24];
	int started;  /* the 200 and its headers went out */
	int failed;   /* the client cannot keep up (its buffer is full): the rest is dropped */
};

static void stream_gone(void *ud)
{
	struct streamreq *s = ud;
	s->r = NULL;
}

static void stream_begin(struct streamreq *s)
{
	if (s->started)
		return;
	s->started = 1;
	req_t *r = s->r;
	r->status = 200;
	r->content_type = "application/vnd.amazon.eventstream";
	req_add_header(r, "X-Amz-Executed-Version", s->version);
	r->stream_gone = stream_gone;
	r->stream_ud = s;
	if (req_stream_start(r))
		s->failed = 1;
}

static void stream_chunk(void *ud, const char *data, size_t len, const char *content_type)
{
	struct streamreq *s = ud;
	if (!s->r)
		return;
	stream_begin(s);
	if (s->failed)
		return;
	buf_t m;
	buf_init(&m, 0);
	if (es_payload_chunk(&m, data, len) || req_stream_write(s->r, m.data, m.len))
		s->failed = 1;
	buf_free(&m);
}

static void stream_done(void *ud, struct exec_result *res)
{
	struct streamreq *s = ud;
	req_t *r = s->r;
	if (!r) {
		free(s);
		return;
	}
	if (!res->ok && !s->started) {
		/* nothing was sent: an API error, as Invoke answers it */
		free(s);
		req_finish(r, failed(r, res));
		return;
	}
	stream_begin(s);
	buf_t m;
	buf_init(&m, 0);
	json_t *done = json_object();
	if (!res->ok) {
		json_object_set_new(done, "ErrorCode", json_string(res->err.type ? res->err.type : "ServiceException"));
		json_object_set_new(done, "ErrorDetails", json_string(res->err.message ? res->err.message : ""));
	} else if (res->function_error) {
		const char *code = res->error_type;
		json_t *doc = json_loadb(res->payload ? res->payload : "", res->payload_len, JSON_DECODE_ANY, NULL);
		if (!code)
			code = json_string_value(json_object_get(doc, "errorType"));
		json_object_set_new(done, "ErrorCode", json_string(code ? code : "Unhandled"));
		json_object_set_new(done, "ErrorDetails", json_stringn(res->payload ? res->payload : "", res->payload_len));
		json_decref(doc);
	} else if (!res->streamed && res->payload_len && !s->failed) {
		/* a buffered function: its whole response in one chunk */
		if (es_payload_chunk(&m, res->payload, res->payload_len))
			s->failed = 1;
	}
	if (res->log_tail)
		json_object_set_new(done, "LogResult", json_string(res->log_tail));
	char *text = json_dumps(done, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s->failed && text && !es_invoke_complete(&m, text))
		req_stream_write(r, m.data, m.len);
	free(text);
	json_decref(done);
	buf_free(&m);
	free(s);
	req_stream_end(r);
}

int api_invoke_with_response_stream(req_t *r)
{
	struct invoke v = { 0 };
	struct door_call c = { 0 };
	const char *type = json_string_value(json_object_get(r->in, "InvocationType"));
	const char *log_type = json_string_value(json_object_get(r->in, "LogType"));
	struct streamreq *s = calloc(1, sizeof(*s));
	if (!s)
		return LD_ENOMEM;
	s->r = r;
	c.resolve_only = type && !strcmp(type, "DryRun");
	c.want_tail = log_type && !strcmp(log_type, "Tail");
	c.on_chunk = stream_chunk;
	int rc = enter(r, &v, &c, stream_done, s);
	snprintf(s->version, sizeof(s->version), "%s", c.version);
	if (rc || c.resolve_only) {
		free(s); /* nothing started: nothing refers to it */
		if (!rc)
			r->status = 204;
	} else {
		rc = LD_EPENDING;
	}
	free(v.context);
	json_decref(c.config);
	return rc;
}

/* InvokeAsync (deprecated): an Event invoke of the unqualified or qualified
 * function name, 256 KB at most, answered 202 {"Status": 202} */
int api_invoke_async(req_t *r)
{
	struct invoke v = { .limit = QUOTA_INVOKEASYNC_PAYLOAD };
	struct door_call c = { .resolve_only = 1 };
	int rc = enter(r, &v, &c, NULL, NULL);
	if (rc)
		goto out;
	struct async_event ev = { c.scope, c.name, c.qualifier, v.payload, v.len, NULL, r->request_id };
	if ((rc = async_submit(r->srv, &ev, invoke_async_accepted, r)) == 0)
		rc = LD_EPENDING;
out:
	free(v.context);
	json_decref(c.config);
	return rc;
}
