/*
 * urlserve.c - serving function URLs (buffered and RESPONSE_STREAM modes).
 *
 * A request for http://<url-id>.lambda-url.<region>.localhost:<port>/... or
 * http://127.0.0.1:<port>/_lambdad/url/<url-id>/... (docs/urls.md) becomes a
 * payload format 2.0 event for the URL's function (its alias when the URL is
 * an alias's), and the function's result is mapped back to HTTP as AWS does:
 * an object with statusCode gives the status, headers, cookies and body
 * (base64-decoded when isBase64Encoded); any other JSON is a 200
 * application/json body. Function errors and timeouts are 502, throttles
 * 429, unknown URLs and missing permissions 403 with AWS's bodies. The URL's
 * Cors settings are added to every response, and answer preflight requests.
 *
 * In RESPONSE_STREAM mode a function that streams is answered as it
 * streams (router.h req_stream_*: HTTP chunks as the runtime's chunks
 * arrive): a body of type application/vnd.awslambda.http-integration-
 * response starts with the HTTP metadata prelude (JSON statusCode, headers,
 * cookies, then 8 NUL bytes), which gives the status and headers; any other
 * is a 200 with the runtime's Content-Type. A function that does not stream
 * is mapped as in buffered mode.
 *
 * AuthType NONE needs a resource policy statement that allows
 * lambda:InvokeFunctionUrl to "*" with lambda:FunctionUrlAuthType NONE, as on
 * AWS. AuthType AWS_IAM needs a request signed for service lambda (verified
 * in enforce mode, auth/auth.h) by the function's account, or by another
 * account that a statement allows lambda:InvokeFunctionUrl.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "api/urls.h"
#include "auth/access.h"
#include "auth/auth.h"
#include "model/apierr.h"
#include "exec/door.h"
#include "exec/exec.h"
#include "loop.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/jsonw.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FORBIDDEN_MESSAGE                                                                                   \
	"Forbidden. For troubleshooting Function URL authorization issues, see: "                               \
	"https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"

/* the per-request state while the function runs */
struct urlreq {
	req_t *r;        /* NULL once the client went away mid-stream */
	json_t *cors;
	/* RESPONSE_STREAM */
	int started;     /* the status and headers went out */
	int prelude;     /* the body starts with the HTTP metadata prelude */
	int failed;      /* the client cannot keep up: the rest is dropped */
	buf_t head;      /* the prelude until its 8 NUL bytes */
};

#define PRELUDE_TYPE "application/vnd.awslambda.http-integration-response"
#define PRELUDE_CAP (64 * 1024)

static void answer(req_t *r, int status, const char *ctype, const char *body, size_t len)
{
	r->status = status;
	r->content_type = ctype;
	buf_reset(&r->raw);
	buf_append(&r->raw, body, len);
}

static void add_cors(req_t *r, json_t *cors, int preflight)
{
	if (!json_object_size(cors))
		return;
	const char *origin = r->header(r, "Origin");
	json_t *origins = json_object_get(cors, "AllowOrigins");
	size_t i;
	json_t *v;
	int allowed = 0;
	json_array_foreach(origins, i, v) {
		const char *o = json_string_value(v);
		if (!strcmp(o, "*") || (origin && !strcasecmp(o, origin)))
			allowed = 1;
	}
	if (!allowed || !origin)
		return;
	req_add_header(r, "Access-Control-Allow-Origin", origin);
	if (json_is_true(json_object_get(cors, "AllowCredentials")))
		req_add_header(r, "Access-Control-Allow-Credentials", "true");
	buf_t b;
	const char *lists[][2] = { { "ExposeHeaders", "Access-Control-Expose-Headers" },
				   { "AllowMethods", "Access-Control-Allow-Methods" },
				   { "AllowHeaders", "Access-Control-Allow-Headers" } };
	for (size_t l = 0; l < 3; l++) {
		if (l > 0 && !preflight)
			break; /* methods and headers answer preflights only */
		json_t *arr = json_object_get(cors, lists[l][0]);
		if (!json_array_size(arr))
			continue;
		buf_init(&b, 8192);
		json_array_foreach(arr, i, v)
			buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
		req_add_header(r, lists[l][1], b.data);
		buf_free(&b);
	}
	json_t *age = json_object_get(cors, "MaxAge");
	if (preflight && json_is_integer(age)) {
		char n[24];
		snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT, json_integer_value(age));
		req_add_header(r, "Access-Control-Max-Age", n);
	}
}

/* may the caller invoke this URL? NONE: a statement must allow anyone
 * (lambda:FunctionUrlAuthType NONE); AWS_IAM: the function's own account
 * may (lambdad's keys carry their account's full permissions), another
 * account needs a statement that allows it */
static int url_allowed(req_t *r, const struct fnref *ref, const char *qualifier, int iam)
{
	char arn[400];
	json_t *st = NULL;
	if (iam && !strcmp(r->account, ref->account))
		return 1;
	if (rec_policy_statements(r->srv->store, ref->scope, ref->name, qualifier, &st))
		return 0;
	lookup_arn(ref, qualifier && *qualifier && strcmp(qualifier, "$LATEST") ? qualifier : NULL, arn, sizeof(arn));
	struct access_request ask = { "lambda:InvokeFunctionUrl", arn, iam ? r->account : "",
				      iam ? r->principal : NULL, iam ? "AWS_IAM" : "NONE" };
	int ok = access_allows(st, &ask);
	json_decref(st);
	return ok;
}

/* ---- the event ---- */

struct hdrs {
	json_t *headers;
	json_t *cookies;
};

static void collect_header(void *ud, const char *name, const char *value)
{
	struct hdrs *h = ud;
	char lower[256];
	size_t n = strlen(name);
	if (n >= sizeof(lower))
		return;
	for (size_t i = 0; i <= n; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	if (!strcmp(lower, "cookie")) {
		/* "a=1; b=2" -> ["a=1", "b=2"] */
		char *copy = strdup(value), *save = NULL;
		for (char *c = copy ? strtok_r(copy, ";", &save) : NULL; c; c = strtok_r(NULL, ";", &save)) {
			while (*c == ' ')
				c++;
			if (*c)
				json_array_append_new(h->cookies, json_string(c));
		}
		free(copy);
		return;
	}
	json_t *have = json_object_get(h->headers, lower);
	if (have) {
		char *joined = NULL;
		if (asprintf(&joined, "%s,%s", json_string_value(have), value) >= 0)
			json_object_set_new(h->headers, lower, json_string(joined));
		free(joined);
	} else {
		json_object_set_new(h->headers, lower, json_string(value));
	}
}

static int is_text(const char *ctype)
{
	if (!ctype || !*ctype)
		return 1;
	return !strncasecmp(ctype, "text/", 5) || strcasestr(ctype, "json") || strcasestr(ctype, "xml") ||
	       strcasestr(ctype, "javascript") || strcasestr(ctype, "x-www-form-urlencoded");
}

/* AIDA + 16 base32 characters derived from the caller's ARN: a stable
 * stand-in for IAM's unique user id, which lambdad's keys do not have */
static void caller_id(const char *principal, char out[21])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char d[32];
	unsigned int n = 0;
	EVP_Digest(principal, strlen(principal), d, &n, EVP_sha256(), NULL);
	memcpy(out, "AIDA", 4);
	for (int i = 0; i < 16; i++)
		out[4 + i] = b32[d[i] & 31];
	out[20] = 0;
}

/* requestContext.authorizer of an AWS_IAM URL: the verified caller */
static json_t *iam_authorizer(req_t *r)
{
	char akid[129], region[64], cid[21];
	auth_credential(r, akid, region);
	caller_id(r->principal, cid);
	return json_pack("{s:{s:s,s:s,s:s,s:n,s:n,s:s,s:s}}", "iam", "accessKey", akid, "accountId", r->account,
			 "callerId", cid, "cognitoIdentity", "principalOrgId", "userArn", r->principal, "userId", cid);
}

static json_t *build_event(req_t *r, const char *url_id, const char *raw_path, const char *raw_query,
			   const char *region, const char *owner, int iam)
{
	struct hdrs h = { json_object(), json_array() };
	r->each_header(r, collect_header, &h);
	json_t *qs = json_object();
	const char *k;
	json_t *vals;
	json_object_foreach(r->qargs, k, vals) {
		buf_t b;
		size_t i;
		json_t *v;
		buf_init(&b, 64 * 1024);
		json_array_foreach(vals, i, v)
			buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
		json_object_set_new(qs, k, json_string(b.data ? b.data : ""));
		buf_free(&b);
	}
	char domain[300], when[64];
	snprintf(domain, sizeof(domain), "%s.lambda-url.%s.localhost", url_id, region);
	int64_t now = loop_wall_ms();
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	const char *ua = r->header(r, "User-Agent");
	json_t *http = json_pack("{s:s,s:s,s:s,s:s,s:s}", "method", r->method, "path", raw_path, "protocol", "HTTP/1.1",
				 "sourceIp", r->client_ip[0] ? r->client_ip : "127.0.0.1", "userAgent", ua ? ua : "");
	json_t *ctx = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:s,s:I}", "accountId", iam ? owner : "anonymous",
				"apiId", url_id, "domainName", domain, "domainPrefix", url_id, "http", http, "requestId",
				r->request_id, "routeKey", "$default", "stage", "$default", "time", when, "timeEpoch",
				(json_int_t)now);
	if (iam && ctx)
		json_object_set_new(ctx, "authorizer", iam_authorizer(r));
	json_t *ev = json_pack("{s:s,s:s,s:s,s:s}", "version", "2.0", "routeKey", "$default", "rawPath", raw_path,
			       "rawQueryString", raw_query);
	if (json_array_size(h.cookies))
		json_object_set(ev, "cookies", h.cookies);
	json_object_set(ev, "headers", h.headers);
	if (json_object_size(qs))
		json_object_set(ev, "queryStringParameters", qs);
	json_object_set_new(ev, "requestContext", ctx);
	if (r->body_len) {
		const char *ctype = json_string_value(json_object_get(h.headers, "content-type"));
		if (is_text(ctype)) {
			json_object_set_new(ev, "body", json_stringn(r->body, r->body_len));
			json_object_set_new(ev, "isBase64Encoded", json_false());
			if (!json_object_get(ev, "body")) { /* not UTF-8: send it as base64 after all */
				char *enc = b64_encode(r->body, r->body_len);
				json_object_set_new(ev, "body", json_string(enc ? enc : ""));
				json_object_set_new(ev, "isBase64Encoded", json_true());
				free(enc);
			}
		} else {
			char *enc = b64_encode(r->body, r->body_len);
			json_object_set_new(ev, "body", json_string(enc ? enc : ""));
			json_object_set_new(ev, "isBase64Encoded", json_true());
			free(enc);
		}
	} else {
		json_object_set_new(ev, "isBase64Encoded", json_false());
	}
	json_decref(h.headers);
	json_decref(h.cookies);
	json_decref(qs);
	return ev;
}

/* ---- the result ---- */

/* the headers (Content-Type among them, `default_type` when absent) and
 * cookies of a function's HTTP answer (a result object or a streaming
 * prelude) into r's response headers */
static void apply_http_meta(req_t *r, json_t *meta, const char *default_type)
{
	const char *k, *ctype = NULL;
	json_t *v;
	json_object_foreach(json_object_get(meta, "headers"), k, v) {
		char num[32];
		const char *s = json_string_value(v);
		if (!s && json_is_number(v)) {
			snprintf(num, sizeof(num), "%g", json_number_value(v));
			s = num;
		}
		if (!s)
			continue;
		if (!strcasecmp(k, "content-type"))
			ctype = s;
		else
			req_add_header(r, k, s);
	}
	size_t i;
	json_array_foreach(json_object_get(meta, "cookies"), i, v)
		if (json_is_string(v))
			req_add_header(r, "Set-Cookie", json_string_value(v));
	r->content_type = NULL; /* a header of the response's own, copied */
	req_add_header(r, "Content-Type", ctype ? ctype : default_type);
}

static void map_result(req_t *r, const char *payload, size_t len)
{
	json_error_t err;
	json_t *res = json_loadb(payload, len, JSON_DECODE_ANY, &err);
	json_t *status = json_object_get(res, "statusCode");
	if (!json_is_object(res) || !json_is_integer(status)) {
		/* any other JSON: 200, the output as a JSON body; a bare string is the body itself */
		if (json_is_string(res))
			answer(r, 200, "application/json", json_string_value(res), json_string_length(res));
		else
			answer(r, 200, "application/json", payload, len);
		json_decref(res);
		return;
	}
	r->status = (int)json_integer_value(status);
	apply_http_meta(r, res, "application/json");
	json_t *body = json_object_get(res, "body");
	buf_reset(&r->raw);
	if (json_is_string(body)) {
		if (json_is_true(json_object_get(res, "isBase64Encoded"))) {
			unsigned char *dec = NULL;
			size_t dl = 0;
			if (!b64_decode(json_string_value(body), json_string_length(body), &dec, &dl))
				buf_append(&r->raw, dec, dl);
			free(dec);
		} else {
			buf_append(&r->raw, json_string_value(body), json_string_length(body));
		}
	} else if (body && !json_is_null(body)) {
		jsonw_dump(body, &r->raw);
	}
	json_decref(res);
}

/* ---- RESPONSE_STREAM ---- */

static void url_gone(void *ud)
{
	struct urlreq *u = ud;
	u->r = NULL;
}

/* the prelude's statusCode, headers and cookies (NULL: none) into r */
static void apply_prelude(req_t *r, const char *text, size_t len)
{
	json_t *p = text ? json_loadb(text, len, 0, NULL) : NULL;
	json_t *status = json_object_get(p, "statusCode");
	r->status = json_is_integer(status) ? (int)json_integer_value(status) : 200;
	apply_http_meta(r, p, "application/octet-stream");
	json_decref(p);
}

static void url_start(struct urlreq *u)
{
	if (u->started)
		return;
	u->started = 1;
	req_t *r = u->r;
	add_cors(r, u->cors, 0);
	r->stream_gone = url_gone;
	r->stream_ud = u;
	if (req_stream_start(r))
		u->failed = 1;
}

static void url_write(struct urlreq *u, const char *data, size_t len)
{
	if (!u->failed && req_stream_write(u->r, data, len))
		u->failed = 1;
}

static void url_chunk(void *ud, const char *data, size_t len, const char *content_type)
{
	struct urlreq *u = ud;
	if (!u->r || u->failed)
		return;
	if (!u->started && !u->prelude) {
		if (content_type && !strcasecmp(content_type, PRELUDE_TYPE)) {
			u->prelude = 1;
			buf_init(&u->head, PRELUDE_CAP);
		} else {
			u->r->status = 200;
			u->r->content_type = NULL;
			req_add_header(u->r, "Content-Type", content_type ? content_type : "application/octet-stream");
			url_start(u);
		}
	}
	if (u->started) {
		url_write(u, data, len);
		return;
	}
	/* collecting the prelude: JSON, then 8 NUL bytes, then the body */
	size_t had = u->head.len;
	if (buf_append(&u->head, data, len)) {
		/* no delimiter within the cap: not a prelude after all */
		apply_prelude(u->r, NULL, 0);
		url_start(u);
		url_write(u, u->head.data, u->head.len);
		url_write(u, data, len);
		buf_free(&u->head);
		return;
	}
	size_t from = had >= 7 ? had - 7 : 0;
	static const char zeros[8];
	for (size_t i = from; i + 8 <= u->head.len; i++) {
		if (!memcmp(u->head.data + i, zeros, 8)) {
			apply_prelude(u->r, u->head.data, i);
			url_start(u);
			url_write(u, u->head.data + i + 8, u->head.len - i - 8);
			buf_free(&u->head);
			return;
		}
	}
}

static void url_free(struct urlreq *u)
{
	json_decref(u->cors);
	buf_free(&u->head);
	free(u);
}

static void on_done(void *ud, struct exec_result *res)
{
	struct urlreq *u = ud;
	req_t *r = u->r;
	if (!r) {
		url_free(u);
		return;
	}
	if (u->prelude && !u->started && res->ok && !res->function_error) {
		/* the stream ended inside the prelude: what came is the prelude */
		apply_prelude(r, u->head.data, u->head.len);
		url_start(u);
	}
	if (u->started) {
		/* a mid-stream error cannot change the status any more: the body
		 * ends where the function stopped */
		url_free(u);
		req_stream_end(r);
		return;
	}
	if (!res->ok) {
		if (res->err.type && !strcmp(res->err.type, "TooManyRequestsException"))
			answer(r, 429, "application/json", "{\"Message\":\"Rate Exceeded.\"}", 28);
		else
			answer(r, 502, "application/json", "{\"Message\":\"Internal Server Error\"}", 35);
	} else if (res->function_error) {
		answer(r, 502, "application/json", "{\"Message\":\"Internal Server Error\"}", 35);
	} else {
		map_result(r, res->payload ? res->payload : "", res->payload_len);
	}
	add_cors(r, u->cors, 0);
	url_free(u);
	req_finish(r, 0);
}

/* url id, raw path and raw query of the request, in its host or path form */
static int split_target(req_t *r, char *id, size_t idlen, char *path, size_t pathlen, char *query, size_t qlen)
{
	const char *target = r->raw_uri ? r->raw_uri : r->path;
	const char *q = strchr(target, '?');
	size_t tlen = q ? (size_t)(q - target) : strlen(target);
	snprintf(query, qlen, "%s", q ? q + 1 : "");
	if (!strncmp(target, "/_lambdad/url/", 14)) {
		const char *p = target + 14, *slash = memchr(p, '/', tlen - 14);
		size_t n = slash ? (size_t)(slash - p) : tlen - 14;
		if (n == 0 || n >= idlen)
			return LD_ENOTFOUND;
		memcpy(id, p, n);
		id[n] = '\0';
		snprintf(path, pathlen, "%.*s", slash ? (int)(tlen - (size_t)(slash - target)) : 1,
			 slash ? slash : "/");
		return 0;
	}
	const char *dot = r->host ? strchr(r->host, '.') : NULL;
	if (!dot || (size_t)(dot - r->host) >= idlen)
		return LD_ENOTFOUND;
	memcpy(id, r->host, (size_t)(dot - r->host));
	id[dot - r->host] = '\0';
	snprintf(path, pathlen, "%.*s", (int)tlen, target);
	return 0;
}

int api_function_url(req_t *r)
{
	char id[64], path[8192], query[8192];
	json_t *url = NULL;
	int rc = 0;
	r->content_type = "application/json";
	r->err_url = 1; /* errors in the function URL's envelope (apierr.h) */
	if (split_target(r, id, sizeof(id), path, sizeof(path), query, sizeof(query)) ||
	    urls_find(r->srv, id, &url)) {
		rc = apierr_set_null(r, "AccessDeniedException");
		goto out;
	}
	struct fnref ref;
	memset(&ref, 0, sizeof(ref));
	const char *scope = json_string_value(json_object_get(url, "_Scope"));
	const char *colon = strchr(scope, ':');
	snprintf(ref.account, sizeof(ref.account), "%.*s", (int)(colon - scope), scope);
	snprintf(ref.region, sizeof(ref.region), "%s", colon + 1);
	snprintf(ref.scope, sizeof(ref.scope), "%s", scope);
	snprintf(ref.name, sizeof(ref.name), "%s", json_string_value(json_object_get(url, "_Name")));
	const char *qualifier = json_string_value(json_object_get(url, "_Qualifier"));
	snprintf(ref.qualifier, sizeof(ref.qualifier), "%s", qualifier ? qualifier : "");
	json_t *cors = json_object_get(url, "Cors");
	/* preflight: answered from the Cors settings, without the function */
	if (!strcmp(r->method, "OPTIONS") && r->header(r, "Origin") && r->header(r, "Access-Control-Request-Method") &&
	    json_object_size(cors)) {
		answer(r, 200, "text/plain", "", 0);
		add_cors(r, cors, 1);
		goto out;
	}
	const char *auth = json_string_value(json_object_get(url, "AuthType"));
	int iam = auth && !strcmp(auth, "AWS_IAM");
	if (iam) {
		/* the signer is the caller: verified in enforce mode; in permissive
		 * mode a signature must be there, and the gate (auth_identify) has
		 * already taken the account from its key id */
		int arc = r->srv->auth_mode == AUTH_ENFORCE ? auth_verify_signature(r) : 0;
		if (arc == 0 && r->srv->auth_mode != AUTH_ENFORCE && !r->header(r, "Authorization") &&
		    !req_query(r, "X-Amz-Signature"))
			arc = apierr_set(r, "MissingAuthenticationTokenException", "Missing Authentication Token");
		if (arc) {
			add_cors(r, cors, 0);
			rc = arc;
			goto out;
		}
	} else {
		snprintf(r->account, sizeof(r->account), "%s", ref.account);
	}
	if (!url_allowed(r, &ref, ref.qualifier, iam)) {
		add_cors(r, cors, 0);
		rc = apierr_set(r, "AccessDeniedException", FORBIDDEN_MESSAGE);
		goto out;
	}
	json_t *ev = build_event(r, id, path, query, ref.region, ref.account, iam);
	buf_t text;
	buf_init(&text, 0);
	jsonw_dump(ev, &text);
	json_decref(ev);
	struct urlreq *u = calloc(1, sizeof(*u));
	if (!u) {
		buf_free(&text);
		rc = LD_ENOMEM;
		goto out;
	}
	u->r = r;
	u->cors = json_incref(cors);
	/* the one door: the URL's qualifier resolved as Invoke resolves it
	 * (an alias's weights, the Active check) */
	struct door_call c = { .scope = ref.scope, .name = ref.name, .qualifier = ref.qualifier,
			       .payload = text.data ? text.data : "{}", .payload_len = text.data ? text.len : 2,
			       .request_id = r->request_id };
	const char *mode = json_string_value(json_object_get(url, "InvokeMode"));
	if (mode && !strcmp(mode, "RESPONSE_STREAM"))
		c.on_chunk = url_chunk;
	rc = door_invoke(r->srv, &c, on_done, u, &r->err);
	buf_free(&text);
	json_decref(c.config);
	if (rc) {
		url_free(u);
		add_cors(r, cors, 0);
		if (rc == LD_ETHROTTLED) {
			answer(r, 429, "application/json", "{\"Message\":\"Rate Exceeded.\"}", 28);
			rc = 0;
		} else if (rc == LD_EAPI && r->err.type && !strcmp(r->err.type, "ResourceNotFoundException")) {
			rc = apierr_set_null(r, "AccessDeniedException"); /* the URL's function went away */
		}
		goto out;
	}
	rc = LD_EPENDING;
out:
	json_decref(url);
	return rc;
}
