/*
 * auth.c - the gate's authentication (see auth.h): verify_request() over a
 * req_t in enforce mode, a parse of the credential in permissive mode.
 */
#include "auth/auth.h"

#include "auth/keys.h"
#include "model/apierr.h"
#include "util/err.h"
#include "util/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *auth_mode_name(int mode)
{
	return mode == AUTH_ENFORCE ? "enforce" : "permissive";
}

static const char *get_header(void *ctx, const char *name)
{
	req_t *r = ctx;
	return r->header(r, name);
}

static void each_header(void *ctx, void (*fn)(void *arg, const char *name, const char *value), void *arg)
{
	req_t *r = ctx;
	r->each_header(r, fn, arg);
}

static void set_caller(req_t *r, const char *account, const char *principal)
{
	snprintf(r->account, sizeof r->account, "%.15s", account);
	if (principal && *principal)
		snprintf(r->principal, sizeof r->principal, "%s", principal);
	else
		snprintf(r->principal, sizeof r->principal, "arn:aws:iam::%s:root", account);
}

static int verify_for(req_t *r, const char *service, int headers_only)
{
	char path[8192];
	const char *raw = r->raw_uri ? r->raw_uri : r->path;
	const char *q = strchr(raw, '?');
	size_t plen = q ? (size_t)(q - raw) : strlen(raw);
	if (plen >= sizeof path)
		return apierr_set(r, "InvalidSignatureException", "The request signature we calculated does not match "
				  "the signature you provided. Check your AWS Secret Access Key and signing method. "
				  "Consult the service documentation for details.");
	memcpy(path, raw, plen);
	path[plen] = 0;
	verify_request_t vr = {
		.method = r->method,
		.path = path,
		.query = q ? q + 1 : NULL,
		.header = get_header,
		.each_header = each_header,
		.header_ctx = r,
		.payload = r->body,
		.payload_len = r->body_len,
		.payload_hash = r->body_sha256,
		.now = time(NULL),
	};
	verify_opts_t vo = { .service = service, .lookup = keys_lookup, .lookup_ctx = r->srv->keys,
			     .headers_only = headers_only };
	verify_result_t res;
	int rc = verify_request(&vr, &vo, &res);
	if (rc == LD_EINVAL && res.error)
		return apierr_set(r, res.error, "%s", res.message);
	if (rc || headers_only)
		return rc;
	set_caller(r, res.account_id, res.principal_arn);
	snprintf(r->region, sizeof r->region, "%s", res.region);
	return 0;
}

int auth_verify_signature(req_t *r)
{
	return verify_for(r, "lambda", 0);
}

int auth_precheck(req_t *r, const char *service)
{
	if (r->srv->auth_mode != AUTH_ENFORCE)
		return 0;
	return verify_for(r, service, 1);
}

int auth_credential(req_t *r, char akid[129], char region[64])
{
	const char *h = r->header(r, "Authorization");
	sigv4_auth_t a;
	akid[0] = region[0] = '\0';
	if (h && sigv4_parse_authorization(h, &a) == 0) {
		snprintf(akid, 129, "%s", a.access_key_id);
		snprintf(region, 64, "%s", a.region);
		return 0;
	}
	/* presigned: X-Amz-Credential=AKID/DATE/REGION/SERVICE/aws4_request */
	const char *cred = req_query(r, "X-Amz-Credential");
	const char *s1 = cred ? strchr(cred, '/') : NULL;
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	const char *s3 = s2 ? strchr(s2 + 1, '/') : NULL;
	if (!s3 || (size_t)(s1 - cred) >= 129 || (size_t)(s3 - s2 - 1) >= 64 || s3 == s2 + 1)
		return LD_ENOTFOUND;
	snprintf(akid, 129, "%.*s", (int)(s1 - cred), cred);
	snprintf(region, 64, "%.*s", (int)(s3 - s2 - 1), s2 + 1);
	return 0;
}

/* permissive: the access key id and region of the credential, unverified */
static void parse_credential(req_t *r)
{
	char akid[129], region[64], account[32];
	if (auth_credential(r, akid, region))
		return;
	if (region[0])
		snprintf(r->region, sizeof r->region, "%s", region);
	if (akid[0] && r->srv->keys && keys_account_of(r->srv->keys, akid, account) == 0)
		set_caller(r, account, NULL);
}

int auth_identify(req_t *r)
{
	snprintf(r->region, sizeof r->region, "%s", r->srv->region);
	set_caller(r, r->srv->account_id, NULL);
	if (r->srv->auth_mode == AUTH_ENFORCE && r->op)
		return auth_verify_signature(r);
	parse_credential(r);
	return 0;
}

int auth_identify_service(req_t *r, const char *service)
{
	snprintf(r->region, sizeof r->region, "%s", r->srv->region);
	set_caller(r, r->srv->account_id, NULL);
	if (r->srv->auth_mode == AUTH_ENFORCE)
		return verify_for(r, service, 0);
	parse_credential(r);
	return 0;
}
