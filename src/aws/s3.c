/*
 * s3.c - S3 GetObject over libcurl, signed with SigV4 (see s3.h).
 *
 * A call builds the path-style URL and its canonical URI from the endpoint,
 * the bucket and the key, signs host, x-amz-content-sha256 (of the empty
 * body), x-amz-date and the session token, and lets curl send them. The
 * response is sorted as it arrives: the body of a 200 goes to the caller's
 * buffer under max_bytes; any other body goes to a 64 KB buffer whose
 * <Code> and <Message> become the s3_error_t.
 */
#include "aws/s3.h"
#include "util/err.h"
#include "util/sigv4.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define S3_ERROR_BODY_MAX (64 * 1024)
#define S3_CONNECT_TIMEOUT 5L
#define S3_TOTAL_TIMEOUT 60L

int s3_config_from_env(s3_config_t *cfg, const char *endpoint_override, const char *region)
{
	return aws_config_from_env(cfg, "S3", "s3", endpoint_override, region);
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	buf_t line;
	buf_init(&line, 0);
	int rc = buf_printf(&line, "%s: %s", name, value);
	if (!rc) {
		struct curl_slist *l = curl_slist_append(*list, line.data);
		if (l)
			*list = l;
		else
			rc = LD_ENOMEM;
	}
	buf_free(&line);
	return rc;
}

/* The state of one transfer, shared with the write callback. */
struct xfer {
	CURL *curl;
	buf_t *out;       /* the object, on 200 */
	size_t max_bytes;
	buf_t errbody;    /* the error document, on anything else */
	int rc;           /* LD_ETOOBIG / LD_ENOMEM: why the body was refused */
	int stopped;      /* the callback ended the transfer on purpose */
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * nmemb; /* size is always 1 */
	long status = 0;

	curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		/* keep the first 64 KB of an error document, then stop reading */
		size_t room = x->errbody.cap - x->errbody.len;
		if (buf_append(&x->errbody, data, len < room ? len : room) || len > room) {
			x->stopped = 1;
			return 0;
		}
		return len;
	}
	if (len > x->max_bytes - x->out->len)
		x->rc = LD_ETOOBIG;
	else
		x->rc = buf_append(x->out, data, len);
	if (x->rc) {
		x->stopped = 1;
		return 0;
	}
	return len;
}

static void set_error(s3_error_t *err, long status, const char *code, const char *message)
{
	if (!err)
		return;
	err->http_status = status;
	snprintf(err->code, sizeof err->code, "%s", code);
	snprintf(err->message, sizeof err->message, "%s", message);
}

/* Fills err from an S3 error document, or from the status alone. */
static void parse_error(s3_error_t *err, long status, const buf_t *body)
{
	if (!err)
		return;
	err->http_status = status;
	const char *p = body->data ? body->data : "";
	if (!aws_xml_text(p, body->len, "Code", err->code, sizeof err->code) || !err->code[0]) {
		snprintf(err->code, sizeof err->code, "%ld", status);
		snprintf(err->message, sizeof err->message, "HTTP %ld without an S3 error document",
			 status);
		return;
	}
	aws_xml_text(p, body->len, "Message", err->message, sizeof err->message);
}

int s3_get_object(const s3_config_t *cfg, const char *bucket, const char *key,
		  const char *version_id, size_t max_bytes, buf_t *out, s3_error_t *err)
{
	int rc;
	CURL *curl = NULL;
	struct curl_slist *headers = NULL;
	char curl_msg[CURL_ERROR_SIZE] = "";
	char date[17], payload_hash[] = SIGV4_EMPTY_SHA256;
	size_t origin_len, host_len, prefix_len;
	const char *host_start;
	buf_t host, uri, query, url, auth;
	struct xfer x = { .out = out, .max_bytes = max_bytes };

	buf_init(&host, 0);
	buf_init(&uri, 0);
	buf_init(&query, 0);
	buf_init(&url, 0);
	buf_init(&auth, 0);
	buf_init(&x.errbody, S3_ERROR_BODY_MAX);
	buf_reset(out);
	if (err)
		memset(err, 0, sizeof *err);

	rc = LD_EINVAL;
	if (!bucket || !*bucket || !key || !*key || !aws_header_safe(cfg->region) ||
	    !aws_header_safe(cfg->access_key_id) || !aws_header_safe(cfg->session_token) ||
	    aws_endpoint_split(cfg->endpoint, &origin_len, &host_start, &host_len, &prefix_len))
		goto out;

	/* ENDPOINT/bucket/key, the key encoded per segment */
	if ((rc = buf_append(&host, host_start, host_len)) ||
	    (rc = buf_append(&uri, host_start + host_len, prefix_len)) ||
	    (rc = buf_puts(&uri, "/")) ||
	    (rc = sigv4_uri_encode(&uri, bucket, strlen(bucket), 0)) ||
	    (rc = buf_puts(&uri, "/")) ||
	    (rc = sigv4_uri_encode(&uri, key, strlen(key), 1)))
		goto out;
	if (version_id && *version_id) {
		sigv4_kv_t q = { "versionId", version_id };
		if ((rc = sigv4_canonical_query(&q, 1, &query)))
			goto out;
	}
	if ((rc = buf_printf(&url, "%.*s%s%s%s", (int)origin_len, cfg->endpoint, uri.data,
			     query.len ? "?" : "", query.len ? query.data : "")))
		goto out;

	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%Y%m%dT%H%M%SZ", &tm);

	sigv4_kv_t signed_headers[] = {
		{ "host", host.data },
		{ "x-amz-content-sha256", payload_hash },
		{ "x-amz-date", date },
		{ "x-amz-security-token", cfg->session_token },
	};
	sigv4_request_t req = {
		.method = "GET",
		.uri = uri.data,
		.query = query.len ? query.data : "",
		.headers = signed_headers,
		.nheaders = cfg->session_token[0] ? 4 : 3,
		.payload_hash = payload_hash,
	};
	sigv4_scope_t scope = { date, cfg->region, "s3" };
	if ((rc = sigv4_sign_request(&req, &scope, cfg->access_key_id, cfg->secret_access_key,
				     &auth)))
		goto out;
	for (size_t i = 0; i < req.nheaders; i++)
		if ((rc = add_header(&headers, signed_headers[i].name, signed_headers[i].value)))
			goto out;
	if ((rc = add_header(&headers, "Authorization", auth.data)))
		goto out;

	rc = LD_ENOMEM;
	if (!(curl = curl_easy_init()) ||
	    curl_easy_setopt(curl, CURLOPT_URL, url.data) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		goto out;
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L); /* keys may contain "." segments */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, S3_CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, S3_TOTAL_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
	x.curl = curl;

	CURLcode res = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (x.rc) {
		rc = x.rc;
	} else if (res != CURLE_OK && !x.stopped) {
		rc = LD_EREMOTE;
		set_error(err, status, res == CURLE_OPERATION_TIMEDOUT ? "Timeout" : "ConnectionError",
			  curl_msg[0] ? curl_msg : curl_easy_strerror(res));
	} else if (status != 200) {
		rc = LD_EREMOTE;
		parse_error(err, status, &x.errbody);
	} else {
		rc = 0;
	}
out:
	if (rc)
		buf_reset(out);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	buf_free(&host);
	buf_free(&uri);
	buf_free(&query);
	buf_free(&url);
	buf_free(&auth);
	buf_free(&x.errbody);
	return rc;
}
