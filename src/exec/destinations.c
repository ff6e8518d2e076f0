/*
 * destinations.c - SigV4-signed deliveries to SQS, SNS, EventBridge and S3
 * (see destinations.h).
 *
 * dest_send() parses the ARN, builds the service's request (SQS: JSON 1.0
 * SendMessage; SNS: query Publish; EventBridge: JSON 1.1 PutEvents; S3:
 * PutObject), signs it for the ARN's region and the service's signing name
 * (sqs, sns, events, s3) and hands it to the module's outbound client (one
 * per process, created on first use on srv->loop). The completion sorts the
 * answer into the codes of destinations.h and logs why a delivery failed.
 */
#include "exec/destinations.h"
#include "aws/awscall.h"
#include "aws/awsconf.h"
#include "util/arn.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/jsonw.h"
#include "aws/outbound.h"
#include "util/sigv4.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEST_MAX_BODY (6 * 1024 * 1024)
#define DEST_MAX_RESPONSE (64 * 1024)
#define DEST_TIMEOUT_MS 30000L
#define DEST_ERRMSG_MAX 1024 /* AWS sends the first 1 KB of the error message */

/* One delivery in flight. */
struct dctx {
	dest_done_cb done;
	void *ud;
	enum dest_kind kind;
	char arn[256];
};

static int name_ok(const char *s, const char *extra)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return 0;
	return 1;
}

static enum dest_kind kind_of(const struct arn *a)
{
	if (!strcmp(a->service, "sqs"))
		return *a->region && *a->account && name_ok(a->resource, "-_.") ? DEST_SQS : DEST_INVALID;
	if (!strcmp(a->service, "sns"))
		return *a->region && *a->account && name_ok(a->resource, "-_.") ? DEST_SNS : DEST_INVALID;
	if (!strcmp(a->service, "events"))
		return *a->region && *a->account && !strncmp(a->resource, "event-bus/", 10) &&
				       name_ok(a->resource + 10, "-_./")
			       ? DEST_EVENTBRIDGE
			       : DEST_INVALID;
	if (!strcmp(a->service, "s3"))
		return !*a->region && !*a->account && name_ok(a->resource, "-.") ? DEST_S3 : DEST_INVALID;
	if (!strcmp(a->service, "lambda"))
		return *a->region && *a->account && !strncmp(a->resource, "function:", 9) ? DEST_LAMBDA
											   : DEST_INVALID;
	return DEST_INVALID;
}

enum dest_kind dest_kind(const char *arn)
{
	struct arn a;
	if (!arn || arn_parse(arn, &a))
		return DEST_INVALID;
	return kind_of(&a);
}

static const char *kind_name(enum dest_kind k)
{
	switch (k) {
	case DEST_SQS: return "SQS";
	case DEST_SNS: return "SNS";
	case DEST_EVENTBRIDGE: return "EventBridge";
	case DEST_S3: return "S3";
	default: return "?";
	}
}

/* the deliveries' client, made with the first one (srv->dest_ob) */
static outbound_t *client(server_t *srv)
{
	if (!srv->dest_ob && outbound_new(srv->loop, &srv->dest_ob))
		return NULL;
	return srv->dest_ob;
}

size_t dest_pending(server_t *srv)
{
	return outbound_pending(srv->dest_ob);
}

void dest_shutdown(server_t *srv)
{
	outbound_t *ob = srv->dest_ob;
	srv->dest_ob = NULL;
	outbound_free(ob);
}

/* ---- answers ---- */

static int classify(long status, const char *code)
{
	if (status == 429 || strcasestr(code, "Throttl") || strcasestr(code, "SlowDown") ||
	    strcasestr(code, "RequestLimitExceeded") || strcasestr(code, "ServiceUnavailable") ||
	    strcasestr(code, "InternalError") || strcasestr(code, "InternalFailure"))
		return LD_EREMOTE;
	if (status >= 500)
		return LD_EREMOTE;
	if (status == 404 || strcasestr(code, "NotFound") || strcasestr(code, "NonExistent") ||
	    strcasestr(code, "DoesNotExist") || strcasestr(code, "NoSuchBucket"))
		return LD_ENOTFOUND;
	return LD_EINVAL;
}

/* EventBridge answers 200 with per-entry failures. */
static int putevents_outcome(const outbound_result_t *r, char *code, size_t ccap, char *msg, size_t mcap)
{
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	int rc = 0;
	if (!j)
		return 0; /* accepted; the body is not ours to judge */
	json_t *n = json_object_get(j, "FailedEntryCount");
	if (json_is_integer(n) && json_integer_value(n) > 0) {
		json_t *e = json_array_get(json_object_get(j, "Entries"), 0);
		const char *c = json_string_value(json_object_get(e, "ErrorCode"));
		const char *m = json_string_value(json_object_get(e, "ErrorMessage"));
		snprintf(code, ccap, "%s", c ? c : "FailedEntry");
		snprintf(msg, mcap, "%s", m ? m : "PutEvents failed the entry");
		rc = classify(200, code);
	}
	json_decref(j);
	return rc;
}

static void on_answer(void *ud, const outbound_result_t *r)
{
	struct dctx *d = ud;
	char code[128] = "", msg[512] = "";
	int rc;

	if (r->rc) {
		rc = r->rc == LD_ENOMEM ? LD_ENOMEM : LD_EREMOTE;
		snprintf(code, sizeof code, "%s", r->timed_out ? "Timeout" : "ConnectionError");
		snprintf(msg, sizeof msg, "%s", r->error);
	} else if (r->status >= 200 && r->status < 300) {
		rc = d->kind == DEST_EVENTBRIDGE
			     ? putevents_outcome(r, code, sizeof code, msg, sizeof msg)
			     : 0;
	} else {
		aws_call_error(r->body, r->len, code, sizeof code, msg, sizeof msg);
		if (!code[0])
			snprintf(code, sizeof code, "HTTP%ld", r->status);
		rc = classify(r->status, code);
	}
	if (rc)
		fprintf(stderr, "lambdad: %s delivery to %s failed: %s%s%s (HTTP %ld)\n", kind_name(d->kind),
			d->arn, code, msg[0] ? ": " : "", msg, r->status);
	dest_done_cb done = d->done;
	void *dud = d->ud;
	free(d);
	done(dud, rc);
}

/* ---- requests ---- */

/* Signs c and starts it; on 0 the answer goes to on_answer(d). */
static int send_signed(server_t *srv, const aws_call_t *c, struct dctx *d)
{
	aws_call_t call = *c;
	call.max_response = DEST_MAX_RESPONSE;
	call.timeout_ms = DEST_TIMEOUT_MS;
	return aws_call_send(client(srv), &call, on_answer, d);
}

/* The first 1 KB of s, cut on a UTF-8 character boundary, as a new string. */
static json_t *first_kb(const char *s)
{
	size_t n = strlen(s);
	if (n > DEST_ERRMSG_MAX) {
		n = DEST_ERRMSG_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return json_stringn(s, n);
}

static int dlq_attrs_json(json_t *obj, const struct dest_attrs *at)
{
	json_t *m = json_object();
	if (!m || json_object_set_new(obj, "MessageAttributes", m))
		return LD_ENOMEM;
	struct {
		const char *name, *type;
		json_t *value;
	} v[3] = {
		{ "RequestID", "String", json_string(at->request_id) },
		{ "ErrorCode", "Number",
		  at->error_code && *at->error_code ? json_string(at->error_code) : NULL },
		{ "ErrorMessage", "String",
		  at->error_message && *at->error_message ? first_kb(at->error_message) : NULL },
	};
	int rc = 0;
	for (int i = 0; i < 3; i++) {
		if (!v[i].value)
			continue;
		json_t *a = json_pack("{s:s,s:o}", "DataType", v[i].type, "StringValue", v[i].value);
		if (!a || json_object_set_new(m, v[i].name, a))
			rc = LD_ENOMEM;
	}
	return rc;
}

static int send_sqs(server_t *srv, const struct arn *a, const aws_config_t *cfg, const char *body,
		    size_t len, const struct dest_attrs *at, struct dctx *d)
{
	int rc = LD_ENOMEM;
	buf_t qurl, out;
	json_t *req = NULL;
	buf_init(&qurl, 0);
	buf_init(&out, 0);
	size_t origin_len, host_len, prefix_len;
	const char *h;
	if (aws_endpoint_split(cfg->endpoint, &origin_len, &h, &host_len, &prefix_len)) {
		rc = LD_EINVAL;
		goto out;
	}
	if ((rc = buf_printf(&qurl, "%.*s/%s/%s", (int)(origin_len + prefix_len), cfg->endpoint, a->account,
			     a->resource)))
		goto out;
	rc = LD_EINVAL; /* a body that is not UTF-8 */
	json_t *msg = json_stringn(body, len);
	if (!msg)
		goto out;
	rc = LD_ENOMEM;
	if (!(req = json_pack("{s:s,s:o}", "QueueUrl", qurl.data, "MessageBody", msg)))
		goto out;
	if (at && at->request_id && (rc = dlq_attrs_json(req, at)))
		goto out;
	if ((rc = jsonw_dump(req, &out)))
		goto out;
	aws_call_t c = { cfg, "sqs", "POST", "/", "application/x-amz-json-1.0", "AmazonSQS.SendMessage",
			  out.data, out.len };
	rc = send_signed(srv, &c, d);
out:
	json_decref(req);
	buf_free(&qurl);
	buf_free(&out);
	return rc;
}

static int send_sns(server_t *srv, const struct arn *a, const char *arn, const aws_config_t *cfg,
		    const char *body, size_t len, const struct dest_attrs *at, struct dctx *d)
{
	int rc;
	buf_t form, msg, errmsg;
	sigv4_kv_t p[14];
	size_t n = 0;
	char names[3][64], types[3][64], values[3][64];
	(void)a;

	buf_init(&form, 0);
	buf_init(&msg, 0);
	buf_init(&errmsg, 0);
	if ((rc = buf_append(&msg, body, len)))
		goto out;
	rc = LD_EINVAL;
	if (memchr(body, '\0', len))
		goto out;
	p[n++] = (sigv4_kv_t){ "Action", "Publish" };
	p[n++] = (sigv4_kv_t){ "Version", "2010-03-31" };
	p[n++] = (sigv4_kv_t){ "TopicArn", arn };
	p[n++] = (sigv4_kv_t){ "Message", msg.data ? msg.data : "" };
	if (at && at->request_id) {
		const char *em = at->error_message;
		if (em && strlen(em) > DEST_ERRMSG_MAX) {
			json_t *s = first_kb(em);
			if (!s || (rc = buf_puts(&errmsg, json_string_value(s)))) {
				json_decref(s);
				rc = LD_ENOMEM;
				goto out;
			}
			json_decref(s);
			em = errmsg.data;
		}
		const char *an[3] = { "RequestID", "ErrorCode", "ErrorMessage" };
		const char *at_type[3] = { "String", "Number", "String" };
		const char *av[3] = { at->request_id, at->error_code, em };
		int k = 0;
		for (int i = 0; i < 3; i++) {
			if (!av[i] || !*av[i])
				continue;
			k++;
			snprintf(names[i], sizeof names[i], "MessageAttributes.entry.%d.Name", k);
			snprintf(types[i], sizeof types[i], "MessageAttributes.entry.%d.Value.DataType", k);
			snprintf(values[i], sizeof values[i], "MessageAttributes.entry.%d.Value.StringValue", k);
			p[n++] = (sigv4_kv_t){ names[i], an[i] };
			p[n++] = (sigv4_kv_t){ types[i], at_type[i] };
			p[n++] = (sigv4_kv_t){ values[i], av[i] };
		}
	}
	if ((rc = sigv4_canonical_query(p, n, &form)))
		goto out;
	aws_call_t c = { cfg, "sns", "POST", "/", "application/x-www-form-urlencoded; charset=utf-8", NULL,
			  form.data, form.len };
	rc = send_signed(srv, &c, d);
out:
	buf_free(&form);
	buf_free(&msg);
	buf_free(&errmsg);
	return rc;
}

static int send_events(server_t *srv, const char *arn, const aws_config_t *cfg, const char *body,
		       size_t len, const struct dest_attrs *at, struct dctx *d)
{
	int rc = LD_EINVAL;
	buf_t out;
	json_t *req = NULL;
	buf_init(&out, 0);
	json_t *detail = json_stringn(body, len);
	if (!detail)
		goto out;
	json_t *res = json_array();
	json_array_append_new(res, json_string(arn));
	if (at && at->function_arn)
		json_array_append_new(res, json_string(at->function_arn));
	rc = LD_ENOMEM;
	req = json_pack("{s:[{s:s,s:s,s:o,s:o,s:s}]}", "Entries", "Source", "lambda", "DetailType",
			at && at->success ? "Lambda Function Invocation Result - Success"
					  : "Lambda Function Invocation Result - Failure",
			"Detail", detail, "Resources", res, "EventBusName", arn);
	if (!req || (rc = jsonw_dump(req, &out)))
		goto out;
	aws_call_t c = { cfg, "events", "POST", "/", "application/x-amz-json-1.1", "AWSEvents.PutEvents",
			  out.data, out.len };
	rc = send_signed(srv, &c, d);
out:
	json_decref(req);
	buf_free(&out);
	return rc;
}

static int send_s3(server_t *srv, const struct arn *a, const aws_config_t *cfg, const char *body,
		   size_t len, const struct dest_attrs *at, struct dctx *d)
{
	int rc = LD_EINVAL;
	struct arn fa;
	buf_t key, path;
	char uuid[37], stamp[64];
	buf_init(&key, 0);
	buf_init(&path, 0);

	/* the function's name, from its (qualified) ARN */
	if (!at || !at->function_arn || arn_parse(at->function_arn, &fa) ||
	    strncmp(fa.resource, "function:", 9))
		goto out;
	const char *fname = fa.resource + 9;
	size_t fnlen = strcspn(fname, ":");
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y/%m/%d/%Y-%m-%dT%H.%M.%S", &tm);
	ids_uuid4(uuid);
	if (at->s3_prefix)
		rc = buf_printf(&key, "%s/%s-%s", at->s3_prefix, stamp, uuid);
	else
		rc = buf_printf(&key, "aws/lambda/async/%.*s/%s-%s", (int)fnlen, fname, stamp, uuid);
	if (rc ||
	    (rc = buf_puts(&path, "/")) || (rc = sigv4_uri_encode(&path, a->resource, strlen(a->resource), 0)) ||
	    (rc = buf_puts(&path, "/")) || (rc = sigv4_uri_encode(&path, key.data, key.len, 1)))
		goto out;
	aws_call_t c = { cfg, "s3", "PUT", path.data, "application/json", NULL, body, len };
	rc = send_signed(srv, &c, d);
out:
	buf_free(&key);
	buf_free(&path);
	return rc;
}

int dest_send(server_t *srv, const char *arn, const char *body, size_t len,
	      const struct dest_attrs *attrs, dest_done_cb done, void *ud)
{
	struct arn a;
	aws_config_t cfg;
	int rc;

	if (!arn || !done || (!body && len) || arn_parse(arn, &a))
		return LD_EINVAL;
	if (len > DEST_MAX_BODY)
		return LD_ETOOBIG;
	if (!body)
		body = "";
	enum dest_kind kind = kind_of(&a);
	static const char *const env_names[] = { [DEST_SQS] = "SQS", [DEST_SNS] = "SNS",
						 [DEST_EVENTBRIDGE] = "EVENTBRIDGE", [DEST_S3] = "S3" };
	static const char *const hosts[] = { [DEST_SQS] = "sqs", [DEST_SNS] = "sns",
					     [DEST_EVENTBRIDGE] = "events", [DEST_S3] = "s3" };
	if (kind != DEST_SQS && kind != DEST_SNS && kind != DEST_EVENTBRIDGE && kind != DEST_S3)
		return LD_EINVAL;
	if ((rc = aws_config_from_env(&cfg, env_names[kind], hosts[kind], srv->aws_endpoint,
				      *a.region ? a.region : srv->region)))
		return rc;

	struct dctx *d = calloc(1, sizeof *d);
	if (!d)
		return LD_ENOMEM;
	d->done = done;
	d->ud = ud;
	d->kind = kind;
	snprintf(d->arn, sizeof d->arn, "%s", arn);
	switch (kind) {
	case DEST_SQS: rc = send_sqs(srv, &a, &cfg, body, len, attrs, d); break;
	case DEST_SNS: rc = send_sns(srv, &a, arn, &cfg, body, len, attrs, d); break;
	case DEST_EVENTBRIDGE: rc = send_events(srv, arn, &cfg, body, len, attrs, d); break;
	default: rc = send_s3(srv, &a, &cfg, body, len, attrs, d); break;
	}
	if (rc)
		free(d);
	return rc;
}
