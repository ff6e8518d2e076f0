/*
 * test_verify.c - SigV4 verification: boto3-signed fixtures, AWS's test
 * vectors, requests signed with util/sigv4, each part tampered with, clock
 * skew, presigned URLs and their expiry, and AWS's error messages.
 */
#include "t.h"
#include "auth/verify.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/sigv4.h"

#include <strings.h>

#define GR_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BAD_SIG_MSG                                                                        \
	"The request signature we calculated does not match the signature you provided. " \
	"Check your AWS Secret Access Key and signing method. Consult the service "        \
	"documentation for details."

/* a header set: up to 16 (name, value) pairs */
typedef struct hs {
	sigv4_kv_t h[16];
	size_t n;
} hs_t;

static const char *hs_get(void *ctx, const char *name)
{
	hs_t *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->h[i].name, name))
			return s->h[i].value;
	return NULL;
}

static void hs_each(void *ctx, void (*fn)(void *, const char *, const char *), void *arg)
{
	hs_t *s = ctx;
	for (size_t i = 0; i < s->n; i++)
		fn(arg, s->h[i].name, s->h[i].value);
}

static void hs_set(hs_t *s, const char *name, const char *value)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->h[i].name, name)) {
			s->h[i].value = value;
			return;
		}
	s->h[s->n].name = name;
	s->h[s->n].value = value;
	s->n++;
}

static void hs_del(hs_t *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->h[i].name, name)) {
			s->h[i] = s->h[--s->n];
			return;
		}
}

static const char *last_token;
static int lookups;

static int lookup(void *ctx, const char *akid, const char *token, verify_key_t *key)
{
	lookups++;
	last_token = token;
	if (!strcmp(akid, "AKIDEXAMPLE")) {
		strcpy(key->secret, GR_SECRET);
		strcpy(key->account_id, "123456789012");
		return 0;
	}
	if (!strcmp(akid, "ASIATEMP") && token && !strcmp(token, "FQoGZXIvYXdzEXAMPLETOKEN+/=")) {
		strcpy(key->secret, "secret2");
		strcpy(key->account_id, "210987654321");
		strcpy(key->principal_arn, "arn:aws:iam::210987654321:user/temp");
		return 0;
	}
	if (!strcmp(akid, "AKIDBROKEN"))
		return LD_EIO;
	return LD_ENOTFOUND;
}

static time_t at(const char *iso)
{
	time_t t = 0;
	CHECK(verify_parse_time(iso, &t) == 0);
	return t;
}

static verify_opts_t opts_default(void)
{
	verify_opts_t o = { NULL, NULL, 0, lookup, NULL };
	return o;
}

static int run(const char *method, const char *path, const char *query, hs_t *hs,
	       const char *body, time_t now, const verify_opts_t *o, verify_result_t *res)
{
	verify_request_t r = { method, path, query, hs_get, hs_each, hs,
			       body, body ? strlen(body) : 0, NULL, now };
	return verify_request(&r, o, res);
}

#define EXPECT(rc_, res_, err_, msg_)                     \
	do {                                              \
		CHECK((rc_) == LD_EINVAL);                \
		CHECK_STR((res_).error, err_);            \
		CHECK((res_).status == 403);              \
		if (msg_)                                 \
			CHECK_STR((res_).message, msg_);  \
	} while (0)

/* boto3 1.x: lambda.invoke() of an ARN with a Qualifier, signed by botocore
 * (SigV4Auth, us-east-1) at 2024-03-01T12:00:00Z. */
#define INVOKE_PATH \
	"/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Amy-fn/invocations"
#define INVOKE_BODY "{\"k\": \"v w\"}"
#define INVOKE_AUTH                                                                       \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, " \
	"SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "               \
	"Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11"

static void invoke_headers(hs_t *hs)
{
	hs->n = 0;
	hs_set(hs, "Host", "127.0.0.1:9001");
	hs_set(hs, "X-Amz-Invocation-Type", "RequestResponse");
	hs_set(hs, "Content-Type", "application/json");
	hs_set(hs, "X-Amz-Date", "20240301T120000Z");
	hs_set(hs, "User-Agent", "Boto3/1.34 unsigned");
	hs_set(hs, "Authorization", INVOKE_AUTH);
}

static void test_boto3_invoke(void)
{
	hs_t hs;
	verify_result_t res;
	verify_opts_t o = opts_default();
	time_t now = at("20240301T120000Z");
	invoke_headers(&hs);
	CHECK(run("POST", INVOKE_PATH, "Qualifier=%24LATEST", &hs, INVOKE_BODY, now, &o, &res) == 0);
	CHECK(res.error == NULL);
	CHECK_STR(res.access_key_id, "AKIDEXAMPLE");
	CHECK_STR(res.account_id, "123456789012");
	CHECK_STR(res.region, "us-east-1");
	CHECK(!res.presigned);
	CHECK(last_token == NULL);

	/* an unsigned header may change; the body may be given as its hash */
	hs_set(&hs, "User-Agent", "other");
	char hash[SIGV4_HEX_LEN + 1];
	CHECK(sigv4_sha256_hex(INVOKE_BODY, strlen(INVOKE_BODY), hash) == 0);
	verify_request_t r = { "POST", INVOKE_PATH, "Qualifier=%24LATEST", hs_get, hs_each, &hs,
			       NULL, 0, hash, now };
	CHECK(verify_request(&r, &o, &res) == 0);

	/* region pinned by the server */
	o.region = "us-east-1";
	CHECK(run("POST", INVOKE_PATH, "Qualifier=%24LATEST", &hs, INVOKE_BODY, now, &o, &res) == 0);
}

static void test_tamper(void)
{
	hs_t hs;
	verify_result_t res;
	verify_opts_t o = opts_default();
	time_t now = at("20240301T120000Z");
	const char *q = "Qualifier=%24LATEST";
	int rc;

	invoke_headers(&hs);
	rc = run("PUT", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH "x", q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	/* the same path, decoded: the canonical URI is encoded twice */
	rc = run("POST", "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:my-fn/invocations",
		 q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH, "Qualifier=1", &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH, "", &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH, "Qualifier=%24LATEST&x=1", &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH, "Qualifier=%24LATEST%00", &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH, q, &hs, "{\"k\": \"v x\"}", now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("POST", INVOKE_PATH, q, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);

	hs_set(&hs, "X-Amz-Invocation-Type", "Event");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	invoke_headers(&hs);
	hs_del(&hs, "Content-Type");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	invoke_headers(&hs);
	hs_set(&hs, "Host", "evil:9001");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	/* a second occurrence of a signed header changes its canonical value */
	invoke_headers(&hs);
	hs.h[hs.n].name = "x-amz-invocation-type";
	hs.h[hs.n++].value = "Event";
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);

	/* date: another second of the same day */
	invoke_headers(&hs);
	hs_set(&hs, "X-Amz-Date", "20240301T120001Z");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	/* date: another day than the credential's */
	hs_set(&hs, "X-Amz-Date", "20240302T000500Z");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20240302T000000Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
	       "from HTTP: '20240301' != '20240302', from '20240302T000500Z'.");

	/* region and service in the credential */
	invoke_headers(&hs);
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/eu-west-1/lambda/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
	       "Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	o.region = "us-east-1";
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Credential should be scoped to a valid region, not 'eu-west-1'. ");
	o.region = NULL;
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/s3/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
	       "Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Credential should be scoped to correct service: 'lambda'. ");

	/* signed headers list, signature */
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=host;x-amz-date;x-amz-invocation-type, "
	       "Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
	       "Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c12");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);

	/* key: unknown, or the lookup failing */
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDOTHER/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
	       "Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "UnrecognizedClientException",
	       "The security token included in the request is invalid.");
	CHECK_STR(res.access_key_id, "AKIDOTHER");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDBROKEN/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, "
	       "Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	CHECK(run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res) == LD_EIO);
	CHECK(res.error == NULL);
}

static void test_skew(void)
{
	hs_t hs;
	verify_result_t res;
	verify_opts_t o = opts_default();
	const char *q = "Qualifier=%24LATEST";
	int rc;
	invoke_headers(&hs);
	CHECK(run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20240301T121500Z"), &o, &res) == 0);
	CHECK(run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20240301T114500Z"), &o, &res) == 0);
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20240301T121501Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Signature expired: 20240301T120000Z is now earlier than 20240301T120001Z "
	       "(20240301T121501Z - 15 min.)");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20240301T114459Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Signature not yet current: 20240301T120000Z is still later than 20240301T115959Z "
	       "(20240301T114459Z + 15 min.)");
	o.skew_seconds = 300;
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20240301T120600Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Signature expired: 20240301T120000Z is now earlier than 20240301T120100Z "
	       "(20240301T120600Z - 5 min.)");
	/* a signature too old is refused before the key is looked up */
	lookups = 0;
	run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, at("20250101T000000Z"), &o, &res);
	CHECK(lookups == 0);
}

/* boto3: generate_presigned_url-style SigV4QueryAuth (eu-west-1, 300 s). */
#define PRESIGN_PATH "/2015-03-31/functions/"
#define PRESIGN_QUERY                                                                  \
	"MaxItems=10&Marker=a%20b%2Fc&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" \
	"AKIDEXAMPLE%2F20240301%2Feu-west-1%2Flambda%2Faws4_request&X-Amz-Date="          \
	"20240301T120000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature="    \
	"f7582e6476626e397bd11466fc3806178427ed02eaa6006ce6f3c44e1bd2278a"

static void test_presigned(void)
{
	hs_t hs = { 0 };
	verify_result_t res;
	verify_opts_t o = opts_default();
	int rc;
	hs_set(&hs, "Host", "localhost:9001");
	CHECK(run("GET", PRESIGN_PATH, PRESIGN_QUERY, &hs, NULL, at("20240301T120100Z"), &o, &res) == 0);
	CHECK(res.presigned);
	CHECK_STR(res.region, "eu-west-1");
	CHECK_STR(res.account_id, "123456789012");
	/* parameters in another order, an empty segment */
	CHECK(run("GET", PRESIGN_PATH, "Marker=a%20b%2Fc&&" PRESIGN_QUERY, &hs, NULL,
		  at("20240301T120100Z"), &o, &res) == LD_EINVAL); /* Marker twice */
	CHECK(run("GET", PRESIGN_PATH, PRESIGN_QUERY "&", &hs, NULL, at("20240301T120100Z"), &o,
		  &res) == 0);

	rc = run("GET", PRESIGN_PATH, PRESIGN_QUERY, &hs, NULL, at("20240301T120501Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException",
	       "Signature expired: 20240301T120000Z is now earlier than 20240301T120001Z "
	       "(20240301T120501Z - 5 min.)");
	CHECK(run("GET", PRESIGN_PATH, PRESIGN_QUERY, &hs, NULL, at("20240301T120500Z"), &o, &res) == 0);
	rc = run("GET", PRESIGN_PATH, PRESIGN_QUERY, &hs, NULL, at("20240301T113000Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", NULL);
	CHECK(!strncmp(res.message, "Signature not yet current", 25));

	char tampered[sizeof PRESIGN_QUERY];
	strcpy(tampered, PRESIGN_QUERY);
	tampered[10] = '1'; /* MaxItems=11 */
	rc = run("GET", PRESIGN_PATH, tampered, &hs, NULL, at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	rc = run("GET", "/2015-03-31/functions", PRESIGN_QUERY, &hs, NULL, at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	hs_set(&hs, "Host", "localhost:9002");
	rc = run("GET", PRESIGN_PATH, PRESIGN_QUERY, &hs, NULL, at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	hs_set(&hs, "Host", "localhost:9001");

	rc = run("GET", PRESIGN_PATH, "X-Amz-Algorithm=AWS4-HMAC-SHA256", &hs, NULL,
		 at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "AWS query-string parameters must include 'X-Amz-Credential'. Re-examine the "
	       "query-string parameters.");
	rc = run("GET", PRESIGN_PATH,
		 "X-Amz-Algorithm=AWS4-HMAC-SHA1&X-Amz-Credential=a%2F20240301%2Fus-east-1%2Flambda"
		 "%2Faws4_request&X-Amz-Date=20240301T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
		 &hs, NULL, at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
	rc = run("GET", PRESIGN_PATH, "X-Amz-Expires=0&" PRESIGN_QUERY, &hs, NULL,
		 at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException", NULL);

	/* both forms at once */
	hs_set(&hs, "Authorization", INVOKE_AUTH);
	rc = run("GET", PRESIGN_PATH, PRESIGN_QUERY, &hs, NULL, at("20240301T120100Z"), &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException", NULL);
}

/* botocore with a session token (x-amz-security-token signed). */
static void test_session_token(void)
{
	hs_t hs = { 0 };
	verify_result_t res;
	verify_opts_t o = opts_default();
	hs_set(&hs, "Host", "127.0.0.1:9001");
	hs_set(&hs, "X-Amz-Date", "20240301T120000Z");
	hs_set(&hs, "X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN+/=");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=ASIATEMP/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=host;x-amz-date;x-amz-security-token, "
	       "Signature=3086505b2b5fcf245d3da4d1d2b5781b9e9fa2a92038c2ad73f2dfbe5146f38c");
	CHECK(run("GET", "/2015-03-31/functions/f", NULL, &hs, NULL, at("20240301T120000Z"), &o, &res) == 0);
	CHECK_STR(last_token, "FQoGZXIvYXdzEXAMPLETOKEN+/=");
	CHECK_STR(res.account_id, "210987654321");
	CHECK_STR(res.principal_arn, "arn:aws:iam::210987654321:user/temp");
	hs_set(&hs, "X-Amz-Security-Token", "other");
	int rc = run("GET", "/2015-03-31/functions/f", NULL, &hs, NULL, at("20240301T120000Z"), &o, &res);
	EXPECT(rc, res, "UnrecognizedClientException", NULL);
}

/* aws-sig-v4-test-suite get-vanilla, post-x-www-form-urlencoded style, and
 * get-header-value-trim shapes: AWS's own vectors verify. */
static void test_aws_vectors(void)
{
	hs_t hs = { 0 };
	verify_result_t res;
	verify_opts_t o = opts_default();
	o.service = "service";
	hs_set(&hs, "Host", "example.amazonaws.com");
	hs_set(&hs, "X-Amz-Date", "20150830T123600Z");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	       "SignedHeaders=host;x-amz-date, "
	       "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
	CHECK(run("GET", "/", NULL, &hs, NULL, at("20150830T123600Z"), &o, &res) == 0);
	/* get-relative-relative and get-slashes normalize to the same "/" */
	CHECK(run("GET", "/example1/example2/../..", NULL, &hs, NULL, at("20150830T123600Z"), &o, &res) == 0);
	CHECK(run("GET", "//", NULL, &hs, NULL, at("20150830T123600Z"), &o, &res) == 0);
	CHECK(run("GET", "/./", NULL, &hs, NULL, at("20150830T123600Z"), &o, &res) == 0);
	CHECK(run("GET", "", NULL, &hs, NULL, at("20150830T123600Z"), &o, &res) == 0);
	/* get-vanilla-query-order-key-case: Param2=value2&Param1=value1 */
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
	       "SignedHeaders=host;x-amz-date, "
	       "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	CHECK(run("GET", "/", "Param2=value2&Param1=value1", &hs, NULL, at("20150830T123600Z"), &o, &res) == 0);
	/* the IAM ListUsers example of the General Reference, Date header absent */
	verify_opts_t iam = opts_default();
	iam.service = "iam";
	hs_t h2 = { 0 };
	hs_set(&h2, "Host", "iam.amazonaws.com");
	hs_set(&h2, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
	hs_set(&h2, "X-Amz-Date", "20150830T123600Z");
	hs_set(&h2, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
	       "SignedHeaders=content-type;host;x-amz-date, "
	       "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	CHECK(run("GET", "/", "Version=2010-05-08&Action=ListUsers", &h2, NULL, at("20150830T123600Z"),
		  &iam, &res) == 0);
}

/* Signs with util/sigv4 and verifies: UNSIGNED-PAYLOAD, the Date header,
 * repeated and untrimmed header values, a path that needs normalizing. */
static void test_self_signed(void)
{
	sigv4_kv_t sh[] = {
		{ "host", "lambda.local" }, { "x-amz-content-sha256", "UNSIGNED-PAYLOAD" },
		{ "x-amz-date", "20240301T120000Z" }, { "x-custom", "a" }, { "x-custom", "  b   c " },
	};
	sigv4_request_t sr = { "POST", "/a/c%2520d/", "x=%20y", sh, 5, "UNSIGNED-PAYLOAD" };
	sigv4_scope_t scope = { "20240301T120000Z", "us-west-2", "lambda" };
	buf_t auth;
	buf_init(&auth, 0);
	CHECK(sigv4_sign_request(&sr, &scope, "AKIDEXAMPLE", GR_SECRET, &auth) == 0);

	hs_t hs = { 0 };
	for (size_t i = 0; i < 5; i++) {
		hs.h[hs.n].name = sh[i].name;
		hs.h[hs.n++].value = sh[i].value;
	}
	hs_set(&hs, "Authorization", auth.data);
	verify_result_t res;
	verify_opts_t o = opts_default();
	time_t now = at("20240301T120000Z");
	/* the raw path "/a/./b/../c%20d//" normalizes to "/a/c%20d/", encoded again */
	CHECK(run("POST", "/a/./b/../c%20d//", "x=+y", &hs, "any body", now, &o, &res) == LD_EINVAL);
	CHECK(run("POST", "/a/./b/../c%20d//", "x=%20y", &hs, "any body", now, &o, &res) == 0);
	CHECK(run("POST", "/a/c%20d/", "x=%20y", &hs, "another body", now, &o, &res) == 0);
	hs.h[4].value = "b c";
	CHECK(run("POST", "/a/c%20d/", "x=%20y", &hs, "", now, &o, &res) == 0);
	hs.h[3].value = "b";
	CHECK(run("POST", "/a/c%20d/", "x=%20y", &hs, "", now, &o, &res) == LD_EINVAL);
	buf_free(&auth);

	/* the Date header instead of x-amz-date; the body signed */
	sigv4_kv_t dh[] = { { "host", "lambda.local" }, { "date", "Fri, 01 Mar 2024 12:00:00 GMT" } };
	sigv4_request_t dr = { "GET", "/", "", dh, 2, SIGV4_EMPTY_SHA256 };
	buf_init(&auth, 0);
	CHECK(sigv4_sign_request(&dr, &scope, "AKIDEXAMPLE", GR_SECRET, &auth) == 0);
	hs_t h2 = { 0 };
	hs_set(&h2, "Host", "lambda.local");
	hs_set(&h2, "Date", "Fri, 01 Mar 2024 12:00:00 GMT");
	hs_set(&h2, "Authorization", auth.data);
	CHECK(run("GET", "/", NULL, &h2, NULL, now, &o, &res) == 0);
	CHECK(run("GET", "/", NULL, &h2, "x", now, &o, &res) == LD_EINVAL);
	hs_set(&h2, "Date", "Fri, 01 Mar 2024 12:00:01 GMT");
	CHECK(run("GET", "/", NULL, &h2, NULL, now, &o, &res) == LD_EINVAL);
	buf_free(&auth);
}

static void test_malformed(void)
{
	hs_t hs = { 0 };
	verify_result_t res;
	verify_opts_t o = opts_default();
	time_t now = at("20240301T120000Z");
	int rc;
	hs_set(&hs, "Host", "h");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "MissingAuthenticationTokenException", "Missing Authentication Token");
	rc = run("GET", "/", "X-Amz-Date=1", &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "MissingAuthenticationTokenException", "Missing Authentication Token");

	hs_set(&hs, "Authorization", "Bearer x");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "Authorization header requires 'Credential' parameter. Authorization header requires "
	       "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
	       "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
	       "Authorization=Bearer x");
	hs_set(&hs, "X-Amz-Date", "20240301T120000Z");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=host");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "Authorization header requires 'Signature' parameter. Authorization="
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=host");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/lambda/aws4_request, "
	       "SignedHeaders=host, Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "Credential must have exactly 5 slash-delimited elements, e.g. "
	       "keyid/date/region/service/term, got 'AKIDEXAMPLE/20240301/lambda/aws4_request'");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws5_request, "
	       "SignedHeaders=host, Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=x-amz-date, Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
	hs_set(&hs, "X-Amz-Date", "2024-03-01T12:00:00Z");
	hs_set(&hs, "Authorization",
	       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
	       "SignedHeaders=host, Signature=0d69e0055682906b1fdb3016b788224249b21194375bab380fcdee1292673c11");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException",
	       "Date must be in ISO-8601 'basic format'. Got '2024-03-01T12:00:00Z'. See "
	       "http://en.wikipedia.org/wiki/ISO_8601");
	hs_del(&hs, "X-Amz-Date");
	rc = run("GET", "/", NULL, &hs, NULL, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException", NULL);
	CHECK(strstr(res.message, "'X-Amz-Date' or a 'Date' header") != NULL);
}

static void test_time(void)
{
	time_t t;
	char s[17];
	CHECK(verify_parse_time("20240229T235959Z", &t) == 0);
	verify_format_time(t, s);
	CHECK_STR(s, "20240229T235959Z");
	CHECK(verify_parse_time("20230229T000000Z", &t) == LD_EINVAL);
	CHECK(verify_parse_time("20240301T240000Z", &t) == LD_EINVAL);
	CHECK(verify_parse_time("20240301T120000", &t) == LD_EINVAL);
	CHECK(verify_parse_time("2024030xT120000Z", &t) == LD_EINVAL);
	CHECK(verify_parse_time(NULL, &t) == LD_EINVAL);
}

/* headers_only: the checks before the body (issue 19) give the full
 * check's errors for what the headers hold, and pass a request whose
 * signature (or body) is wrong, which only the full check can tell */
static void test_headers_only(void)
{
	hs_t hs;
	verify_result_t res;
	verify_opts_t o = opts_default();
	time_t now = at("20240301T120000Z");
	const char *q = "Qualifier=%24LATEST";
	int rc;
	o.headers_only = 1;
	invoke_headers(&hs);
	/* the right body, a tampered one, none: the body is not read */
	CHECK(run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res) == 0 && res.error == NULL);
	CHECK(run("POST", INVOKE_PATH, q, &hs, "{\"k\": \"v x\"}", now, &o, &res) == 0);
	CHECK(run("POST", INVOKE_PATH, q, &hs, NULL, now, &o, &res) == 0);
	/* a forged signature of a known key passes here, fails in full */
	hs_set(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda/aws4_request, "
				     "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, Signature="
				     "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK(run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res) == 0);
	o.headers_only = 0;
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", BAD_SIG_MSG);
	o.headers_only = 1;
	/* what the headers tell fails as in full */
	invoke_headers(&hs);
	hs_del(&hs, "Authorization");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "MissingAuthenticationTokenException", "Missing Authentication Token");
	invoke_headers(&hs);
	hs_set(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20240301/us-east-1/lambda/aws4_request, "
				     "SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, Signature="
				     "0000000000000000000000000000000000000000000000000000000000000000");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "UnrecognizedClientException", "The security token included in the request is invalid.");
	invoke_headers(&hs);
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now + 3600, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", NULL);
	CHECK(!strncmp(res.message, "Signature expired: ", 19));
	o.service = "logs";
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "InvalidSignatureException", "Credential should be scoped to correct service: 'logs'. ");
	o.service = NULL;
	hs_set(&hs, "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/lambda");
	rc = run("POST", INVOKE_PATH, q, &hs, INVOKE_BODY, now, &o, &res);
	EXPECT(rc, res, "IncompleteSignatureException", NULL);
}

int main(void)
{
	T_RUN(test_boto3_invoke);
	T_RUN(test_tamper);
	T_RUN(test_skew);
	T_RUN(test_presigned);
	T_RUN(test_session_token);
	T_RUN(test_aws_vectors);
	T_RUN(test_self_signed);
	T_RUN(test_malformed);
	T_RUN(test_time);
	T_RUN(test_headers_only);
	return t_done("verify");
}
