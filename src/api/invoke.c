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
 * left (exec.h); Event (and the deprecated InvokeAsync) commits the event to
 * the durable async queue (exec/async.h: retries, destinations) and answers
 * 202; DryRun checks and answers 204.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "exec/async.h"
#include "exec/exec.h"
#include "model/apierr.h"
#include "quotas.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/eventstream.h"
#include "util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* AWS refuses to invoke a version that is not Active (Pending, Inactive, Failed) */
static int check_active(req_t *r, json_t *cfg)
{
	const char *state = json_string_value(json_object_get(cfg, "State"));
	if (state && strcmp(state, "Active") != 0)
		return apierr_set(r, "ResourceConflictException",
				  "The operation cannot be performed at this time. The function is currently in the "
				  "following state: %s",
				  state);
	return 0;
}

/* base64 X-Amz-Client-Context -> the JSON text runtimes receive */
static char *decode_client_context(const char *b64)
{
	unsigned char *out = NULL;
	size_t n;
	if (!*b64 || b64_decode(b64, strlen(b64), &out, &n))
		return NULL;
	return (char *)out;
}

static void on_done(void *ud, const struct exec_result *res)
{
	req_t *r = ud;
	int rc = 0;
	if (!res->ok) {
		rc = apierr_set(r, res->api_error_type ? res->api_error_type : "ServiceException", "%s",
				res->api_error_message ? res->api_error_message : "An internal error occurred.");
		req_finish(r, rc);
		return;
	}
	if (res->function_error)
		json_object_set_new(r->out, "FunctionError", json_string(res->function_error));
	if (res->log_tail)
		json_object_set_new(r->out, "LogResult", json_string(res->log_tail));
	if (res->payload_len > QUOTA_SYNC_RESPONSE) {
		json_object_set_new(r->out, "FunctionError", json_string("Unhandled"));
		rc = buf_printf(&r->raw,
				"{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (%u "
				"bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
				QUOTA_SYNC_RESPONSE);
	} else {
		rc = buf_append(&r->raw, res->payload ? res->payload : "", res->payload_len);
	}
	r->content_type = "application/json";
	req_finish(r, rc);
}

/* The qualifier an invocation names: an unqualified one invokes $LATEST,
 * and AWS's not-found message names it ("...:function:NAME:$LATEST") */
static const char *invoked_qualifier(const struct fnref *ref)
{
	return ref->qualifier[0] ? ref->qualifier : "$LATEST";
}

/* The function version an invocation runs (alias weights applied), its
 * configuration (*cfg, the caller's), the decoded client context (*context,
 * the caller's) and the payload checked as JSON. 0 or an AWS error. */
static int resolve(req_t *r, struct fnref *ref, json_t **cfgp, char **contextp, const char **payload, size_t *len)
{
	json_t *cfg = NULL, *alias = NULL;
	int rc;
	const char *cc = json_string_value(json_object_get(r->in, "ClientContext"));
	*cfgp = NULL;
	*contextp = NULL;
	if ((rc = lookup_ref_in(r, ref)) || (rc = lookup_config(r, ref, invoked_qualifier(ref), &cfg, &alias)))
		goto out;
	const char *version = json_string_value(json_object_get(cfg, "Version"));
	if (alias) {
		const char *target = rec_alias_route(alias);
		if (strcmp(target, version) != 0) {
			json_decref(cfg);
			cfg = NULL;
			if ((rc = lookup_config(r, ref, target, &cfg, NULL)))
				goto out;
		}
	}
	if ((rc = check_active(r, cfg)))
		goto out;
	if (cc && !(*contextp = decode_client_context(cc))) {
		rc = apierr_set(r, "InvalidRequestContentException", "Client context must be a valid Base64-encoded JSON object.");
		goto out;
	}
	*payload = r->body_len ? r->body : "{}";
	*len = r->body_len ? r->body_len : 2;
	*cfgp = cfg;
	json_decref(alias);
	return 0;
out:
	json_decref(cfg);
	json_decref(alias);
	return rc;
}

/* The payload is sensitive (the model marks it so): AWS's parse error
 * names the problem and its position but shows none of the payload
 * ("[Source: REDACTED ...]"), so jansson's " near '<text>'" is cut off. */
static int check_json(req_t *r, const char *payload, size_t len)
{
	json_error_t jerr;
	json_t *check = json_loadb(payload, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!check) {
		char *near = strstr(jerr.text, " near ");
		if (near)
			*near = '\0';
		return apierr_set(r, "InvalidRequestContentException",
				  "Could not parse request body into json: Could not parse payload into json: %s\n at "
				  "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: %d, "
				  "column: %d]",
				  jerr.text, jerr.line > 0 ? jerr.line : 1, jerr.column > 0 ? jerr.column : 1);
	}
	json_decref(check);
	return 0;
}

/* exec_invoke(), a throttle answered as AWS does: 429 TooManyRequestsException
 * with its Reason (apierr takes it from r->out) */
static int start(req_t *r, struct exec_request *in, exec_done_fn done, void *ud)
{
	const char *throttle = NULL;
	in->throttle_reason = &throttle;
	int rc = exec_invoke(r->srv, in, done, ud);
	if (rc != LD_ETHROTTLED)
		return rc;
	json_decref(r->out);
	r->out = json_pack("{s:s}", "Reason", throttle ? throttle : EXEC_THROTTLE_ACCOUNT);
	return apierr_set(r, "TooManyRequestsException", "Rate Exceeded.");
}

int api_invoke(req_t *r)
{
	struct fnref ref;
	json_t *cfg = NULL;
	char *context = NULL;
	const char *payload;
	size_t len;
	int rc;
	const char *type = json_string_value(json_object_get(r->in, "InvocationType"));
	const char *log_type = json_string_value(json_object_get(r->in, "LogType"));
	if (!type)
		type = "RequestResponse";
	if ((rc = resolve(r, &ref, &cfg, &context, &payload, &len)))
		goto out;
	const char *version = json_string_value(json_object_get(cfg, "Version"));
	if (!strcmp(type, "Event") && len > QUOTA_ASYNC_PAYLOAD) {
		rc = apierr_set(r, "RequestEntityTooLargeException",
				"%zu byte payload is too large for the Event invocation type (limit %u bytes)", len,
				QUOTA_ASYNC_PAYLOAD);
		goto out;
	}
	if ((rc = check_json(r, payload, len)))
		goto out;
	if (!strcmp(type, "DryRun")) {
		r->status = 204;
		goto out;
	}
	char arn[400];
	lookup_arn(&ref, ref.qualifier, arn, sizeof(arn));
	struct exec_request in = { ref.scope, ref.name, version, cfg, arn, payload, len, context,
				   log_type && !strcmp(log_type, "Tail"), r->request_id };
	if (!strcmp(type, "Event")) {
		/* the qualifier as invoked: the queue resolves it when the event runs */
		struct async_event ev = { ref.scope, ref.name, ref.qualifier, payload, len, context, r->request_id };
		if ((rc = async_enqueue(r->srv, &ev)))
			goto out;
		r->status = 202;
		goto out;
	}
	r->out = json_pack("{s:i,s:s}", "StatusCode", 200, "ExecutedVersion", version);
	if ((rc = start(r, &in, on_done, r)))
		goto out;
	rc = LD_EPENDING;
out:
	free(context);
	json_decref(cfg);
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

static void stream_done(void *ud, const struct exec_result *res)
{
	struct streamreq *s = ud;
	req_t *r = s->r;
	if (!r) {
		free(s);
		return;
	}
	if (!res->ok && !s->started) {
		/* nothing was sent: an API error, as Invoke answers it */
		int rc = apierr_set(r, res->api_error_type ? res->api_error_type : "ServiceException", "%s",
				    res->api_error_message ? res->api_error_message : "An internal error occurred.");
		free(s);
		req_finish(r, rc);
		return;
	}
	stream_begin(s);
	buf_t m;
	buf_init(&m, 0);
	json_t *done = json_object();
	if (!res->ok) {
		json_object_set_new(done, "ErrorCode", json_string(res->api_error_type ? res->api_error_type : "ServiceException"));
		json_object_set_new(done, "ErrorDetails", json_string(res->api_error_message ? res->api_error_message : ""));
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
	struct fnref ref;
	json_t *cfg = NULL;
	char *context = NULL;
	const char *payload;
	size_t len;
	int rc;
	const char *type = json_string_value(json_object_get(r->in, "InvocationType"));
	const char *log_type = json_string_value(json_object_get(r->in, "LogType"));
	if ((rc = resolve(r, &ref, &cfg, &context, &payload, &len)) || (rc = check_json(r, payload, len)))
		goto out;
	const char *version = json_string_value(json_object_get(cfg, "Version"));
	if (type && !strcmp(type, "DryRun")) {
		r->status = 204;
		goto out;
	}
	char arn[400];
	lookup_arn(&ref, ref.qualifier, arn, sizeof(arn));
	struct exec_request in = { ref.scope, ref.name, version, cfg, arn, payload, len, context,
				   log_type && !strcmp(log_type, "Tail"), r->request_id };
	struct streamreq *s = calloc(1, sizeof(*s));
	if (!s) {
		rc = LD_ENOMEM;
		goto out;
	}
	s->r = r;
	snprintf(s->version, sizeof(s->version), "%s", version);
	in.on_chunk = stream_chunk;
	if ((rc = start(r, &in, stream_done, s))) {
		free(s);
		goto out;
	}
	rc = LD_EPENDING;
out:
	free(context);
	json_decref(cfg);
	return rc;
}

/* InvokeAsync (deprecated): an Event invoke of the unqualified or qualified
 * function name, 256 KB at most, answered 202 {"Status": 202} */
int api_invoke_async(req_t *r)
{
	struct fnref ref;
	json_t *cfg = NULL;
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_config_peek(r, &ref, invoked_qualifier(&ref), &cfg)))
		goto out;
	if ((rc = check_active(r, cfg)))
		goto out;
	const char *payload = r->body_len ? r->body : "{}";
	size_t len = r->body_len ? r->body_len : 2;
	if (len > QUOTA_INVOKEASYNC_PAYLOAD) {
		rc = apierr_set(r, "RequestEntityTooLargeException",
				"%zu byte payload is too large for the Event invocation type (limit %u bytes)", len,
				QUOTA_INVOKEASYNC_PAYLOAD);
		goto out;
	}
	if ((rc = check_json(r, payload, len)))
		goto out;
	struct async_event ev = { ref.scope, ref.name, ref.qualifier, payload, len, NULL, r->request_id };
	if ((rc = async_enqueue(r->srv, &ev)))
		goto out;
	r->status = 202;
	r->content_type = "application/json";
	rc = buf_puts(&r->raw, "{\"Status\":202}");
out:
	json_decref(cfg);
	return rc;
}
