/*
 * awscall.c - signed requests to AWS services (awscall.h).
 */
#include "aws/awscall.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/sigv4.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int aws_call_send(outbound_t *ob, const aws_call_t *c, outbound_cb cb, void *ud)
{
	int rc;
	size_t origin_len, host_len, prefix_len;
	const char *host_start;
	char date[17], hash[SIGV4_HEX_LEN + 1];
	buf_t host, uri, url, auth, lines[8];
	size_t nlines = 0;
	const char *hdrs[8];

	buf_init(&host, 0);
	buf_init(&uri, 0);
	buf_init(&url, 0);
	buf_init(&auth, 0);
	for (size_t i = 0; i < 8; i++)
		buf_init(&lines[i], 0);

	rc = LD_EINVAL;
	if (!ob) {
		rc = LD_ENOMEM;
		goto out;
	}
	if (!aws_header_safe(c->cfg->region) || !aws_header_safe(c->cfg->access_key_id) ||
	    !aws_header_safe(c->cfg->session_token) ||
	    aws_endpoint_split(c->cfg->endpoint, &origin_len, &host_start, &host_len, &prefix_len))
		goto out;
	if ((rc = buf_append(&host, host_start, host_len)) ||
	    (rc = buf_append(&uri, host_start + host_len, prefix_len)) || (rc = buf_puts(&uri, c->path)) ||
	    (rc = buf_printf(&url, "%.*s%s", (int)origin_len, c->cfg->endpoint, uri.data)) ||
	    (rc = sigv4_sha256_hex(c->body, c->len, hash)))
		goto out;

	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);

	sigv4_kv_t sh[6];
	size_t n = 0;
	sh[n++] = (sigv4_kv_t){ "host", host.data };
	sh[n++] = (sigv4_kv_t){ "x-amz-content-sha256", hash };
	sh[n++] = (sigv4_kv_t){ "x-amz-date", date };
	if (c->cfg->session_token[0])
		sh[n++] = (sigv4_kv_t){ "x-amz-security-token", c->cfg->session_token };
	if (c->target)
		sh[n++] = (sigv4_kv_t){ "x-amz-target", c->target };
	sigv4_request_t req = {
		.method = c->method, .uri = uri.data, .query = "", .headers = sh, .nheaders = n,
		.payload_hash = hash,
	};
	sigv4_scope_t scope = { date, c->cfg->region, c->service };
	if ((rc = sigv4_sign_request(&req, &scope, c->cfg->access_key_id, c->cfg->secret_access_key, &auth)))
		goto out;
	/* host: curl sends it from the URL, the same authority */
	for (size_t i = 1; i < n; i++)
		if ((rc = buf_printf(&lines[nlines++], "%s: %s", sh[i].name, sh[i].value)))
			goto out;
	if ((rc = buf_printf(&lines[nlines++], "Authorization: %s", auth.data)) ||
	    (rc = buf_printf(&lines[nlines++], "Content-Type: %s", c->content_type)))
		goto out;
	for (size_t i = 0; i < nlines; i++)
		hdrs[i] = lines[i].data;

	outbound_req_t oreq = {
		.method = c->method, .url = url.data, .headers = hdrs, .nheaders = nlines,
		.body = c->body, .len = c->len, .max_response = c->max_response ? c->max_response : 64 * 1024,
		.connect_timeout_ms = 5000, .timeout_ms = c->timeout_ms ? c->timeout_ms : 30000,
	};
	rc = outbound_request(ob, &oreq, cb, ud);
out:
	buf_free(&host);
	buf_free(&uri);
	buf_free(&url);
	buf_free(&auth);
	for (size_t i = 0; i < 8; i++)
		buf_free(&lines[i]);
	return rc;
}


void aws_call_error(const char *body, size_t len, char *code, size_t ccap, char *msg, size_t mcap)
{
	code[0] = msg[0] = '\0';
	if (aws_xml_text(body, len, "Code", code, ccap)) {
		aws_xml_text(body, len, "Message", msg, mcap);
		return;
	}
	json_t *j = json_loadb(body, len, 0, NULL);
	if (!j)
		return;
	const char *t = json_string_value(json_object_get(j, "__type"));
	if (!t)
		t = json_string_value(json_object_get(j, "code"));
	const char *m = json_string_value(json_object_get(j, "message"));
	if (!m)
		m = json_string_value(json_object_get(j, "Message"));
	if (t) {
		const char *hash = strrchr(t, '#'); /* "com.amazonaws.sqs#QueueDoesNotExist" */
		snprintf(code, ccap, "%s", hash ? hash + 1 : t);
	}
	if (m)
		snprintf(msg, mcap, "%s", m);
	json_decref(j);
}


json_t *aws_call_json(const outbound_result_t *r)
{
	if (r->rc || r->status != 200)
		return NULL;
	return json_loadb(r->body, r->len, 0, NULL);
}
