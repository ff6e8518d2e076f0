/*
 * test_sigv4.c - SigV4 against AWS's published examples, and the parsing of
 * Authorization headers.
 */
#include "t.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/sigv4.h"

#define EMPTY SIGV4_EMPTY_SHA256
#define S3_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
/* The General Reference examples and the test suite use '+' where S3 uses '/'. */
#define GR_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static void test_sha256(void)
{
	char hex[SIGV4_HEX_LEN + 1];
	CHECK(sigv4_sha256_hex("", 0, hex) == 0);
	CHECK_STR(hex, EMPTY);
	CHECK(sigv4_sha256_hex("abc", 3, hex) == 0);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_uri_encode(void)
{
	buf_t b;
	buf_init(&b, 0);
	const char *s = "a b/c~-._+=&\xc3\xa9";
	CHECK(sigv4_uri_encode(&b, s, strlen(s), 1) == 0);
	CHECK_STR(b.data, "a%20b/c~-._%2B%3D%26%C3%A9");
	buf_reset(&b);
	CHECK(sigv4_uri_encode(&b, s, strlen(s), 0) == 0);
	CHECK_STR(b.data, "a%20b%2Fc~-._%2B%3D%26%C3%A9");
	buf_free(&b);

	buf_init(&b, 4);
	CHECK(sigv4_uri_encode(&b, " ", 1, 0) == 0);
	CHECK(sigv4_uri_encode(&b, " ", 1, 0) == LD_ETOOBIG);
	buf_free(&b);
}

static void test_canonical_query(void)
{
	/* sorted by encoded name first: "a-b" < "a" would be wrong */
	sigv4_kv_t q[] = {
		{ "prefix", "J/x y" }, { "a", "2" }, { "a", "1" }, { "a-b", NULL }, { "max-keys", "2" },
	};
	buf_t b;
	buf_init(&b, 0);
	CHECK(sigv4_canonical_query(q, 5, &b) == 0);
	CHECK_STR(b.data, "a=1&a=2&a-b=&max-keys=2&prefix=J%2Fx%20y");
	buf_reset(&b);
	CHECK(sigv4_canonical_query(NULL, 0, &b) == 0);
	CHECK(b.len == 0);
	buf_free(&b);
}

static void test_canonical_headers(void)
{
	/* AWS test suite "get-header-value-trim" and repeated names */
	sigv4_kv_t h[] = {
		{ "My-Header1", "  value1  " }, { "X-Amz-Date", "20150830T123600Z" },
		{ "my-header2", "\"a   b \t c\"" }, { "Host", "example.amazonaws.com" },
		{ "MY-HEADER1", "second" },
	};
	sigv4_request_t req = { "GET", "/", "", h, 5, EMPTY };
	buf_t canon, names;
	buf_init(&canon, 0);
	buf_init(&names, 0);
	CHECK(sigv4_canonical_request(&req, &canon, &names) == 0);
	CHECK_STR(canon.data, "GET\n/\n\n"
			      "host:example.amazonaws.com\n"
			      "my-header1:value1,second\n"
			      "my-header2:\"a b c\"\n"
			      "x-amz-date:20150830T123600Z\n\n"
			      "host;my-header1;my-header2;x-amz-date\n" EMPTY);
	CHECK_STR(names.data, "host;my-header1;my-header2;x-amz-date");

	req.nheaders = 0;
	CHECK(sigv4_canonical_request(&req, &canon, &names) == LD_EINVAL);
	buf_free(&canon);
	buf_free(&names);
}

/* Signs req and checks the canonical request's hash (when given), the
 * signature and the Authorization header. */
static void check_vector(const sigv4_request_t *req, const sigv4_scope_t *scope,
			 const char *akid, const char *secret, const char *canon_hash,
			 const char *sig_want, const char *auth_want)
{
	char hash[SIGV4_HEX_LEN + 1], sig[SIGV4_HEX_LEN + 1];
	buf_t canon, names, auth;
	buf_init(&canon, 0);
	buf_init(&names, 0);
	buf_init(&auth, 0);
	CHECK(sigv4_canonical_request(req, &canon, &names) == 0);
	CHECK(sigv4_sha256_hex(canon.data, canon.len, hash) == 0);
	if (canon_hash)
		CHECK_STR(hash, canon_hash);
	CHECK(sigv4_signature(scope, secret, canon.data, canon.len, sig) == 0);
	CHECK_STR(sig, sig_want);
	CHECK(sigv4_signature_equal(sig, sig_want));
	CHECK(sigv4_sign_request(req, scope, akid, secret, &auth) == 0);
	CHECK_STR(auth.data, auth_want);
	buf_free(&canon);
	buf_free(&names);
	buf_free(&auth);
}

/* S3 API reference, "Signature Calculations for the Authorization Header:
 * Transferring Payload in a Single Chunk", example GET Object. */
static void test_s3_get_object(void)
{
	sigv4_kv_t h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" }, { "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", EMPTY }, { "x-amz-date", "20130524T000000Z" },
	};
	sigv4_request_t req = { "GET", "/test.txt", "", h, 4, EMPTY };
	sigv4_scope_t scope = { "20130524T000000Z", "us-east-1", "s3" };
	check_vector(&req, &scope, "AKIAIOSFODNN7EXAMPLE", S3_SECRET,
		     "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
		     "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		     "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
		     "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* Same page, example GET Bucket (List Objects): a query string. */
static void test_s3_list_objects(void)
{
	sigv4_kv_t q[] = { { "prefix", "J" }, { "max-keys", "2" } };
	sigv4_kv_t h[] = {
		{ "host", "examplebucket.s3.amazonaws.com" },
		{ "x-amz-content-sha256", EMPTY }, { "x-amz-date", "20130524T000000Z" },
	};
	buf_t query;
	buf_init(&query, 0);
	CHECK(sigv4_canonical_query(q, 2, &query) == 0);
	sigv4_request_t req = { "GET", "/", query.data, h, 3, EMPTY };
	sigv4_scope_t scope = { "20130524T000000Z", "us-east-1", "s3" };
	check_vector(&req, &scope, "AKIAIOSFODNN7EXAMPLE", S3_SECRET, NULL,
		     "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		     "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
		     "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
		     "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
	buf_free(&query);
}

/* General Reference, "Create a signed AWS API request": IAM ListUsers. */
static void test_iam_list_users(void)
{
	sigv4_kv_t q[] = { { "Version", "2010-05-08" }, { "Action", "ListUsers" } };
	sigv4_kv_t h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", "iam.amazonaws.com" }, { "X-Amz-Date", "20150830T123600Z" },
	};
	buf_t query;
	buf_init(&query, 0);
	CHECK(sigv4_canonical_query(q, 2, &query) == 0);
	CHECK_STR(query.data, "Action=ListUsers&Version=2010-05-08");
	sigv4_request_t req = { "GET", "/", query.data, h, 3, EMPTY };
	sigv4_scope_t scope = { "20150830T123600Z", "us-east-1", "iam" };
	check_vector(&req, &scope, "AKIDEXAMPLE", GR_SECRET,
		     "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
		     "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
		     "SignedHeaders=content-type;host;x-amz-date, "
		     "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	buf_free(&query);
}

/* aws-sig-v4-test-suite, get-vanilla. */
static void test_suite_get_vanilla(void)
{
	sigv4_kv_t h[] = { { "Host", "example.amazonaws.com" }, { "X-Amz-Date", "20150830T123600Z" } };
	sigv4_request_t req = { "GET", "/", NULL, h, 2, EMPTY };
	sigv4_scope_t scope = { "20150830T123600Z", "us-east-1", "service" };
	check_vector(&req, &scope, "AKIDEXAMPLE", GR_SECRET, NULL,
		     "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		     "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
		     "SignedHeaders=host;x-amz-date, "
		     "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

static void test_bad_scope(void)
{
	char sig[SIGV4_HEX_LEN + 1];
	sigv4_scope_t bad[] = {
		{ "20130524T000000", "us-east-1", "s3" }, { "20130524X000000Z", "us-east-1", "s3" },
		{ "2013052AT000000Z", "us-east-1", "s3" }, { "20130524T000000Z", "", "s3" },
		{ "20130524T000000Z", "us/east", "s3" }, { "20130524T000000Z", "us-east-1", NULL },
		{ NULL, "us-east-1", "s3" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(sigv4_signature(&bad[i], "k", "x", 1, sig) == LD_EINVAL);
}

static void test_parse(void)
{
	sigv4_auth_t a;
	/* the S3 documentation writes no spaces after the commas */
	CHECK(sigv4_parse_authorization(
		      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
		      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
		      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		      &a) == 0);
	CHECK_STR(a.access_key_id, "AKIAIOSFODNN7EXAMPLE");
	CHECK_STR(a.date, "20130524");
	CHECK_STR(a.region, "us-east-1");
	CHECK_STR(a.service, "s3");
	CHECK_STR(a.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
	CHECK_STR(a.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

	/* what boto3 sends for Lambda, parts in another order */
	CHECK(sigv4_parse_authorization(
		      "AWS4-HMAC-SHA256 "
		      "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7 ,  "
		      "Credential=test/20240101/eu-west-2/lambda/aws4_request, SignedHeaders=host",
		      &a) == 0);
	CHECK_STR(a.access_key_id, "test");
	CHECK_STR(a.region, "eu-west-2");
	CHECK_STR(a.service, "lambda");
	CHECK_STR(a.signed_headers, "host");
}

static void test_parse_roundtrip(void)
{
	sigv4_scope_t scope = { "20240229T235959Z", "ap-south-1", "lambda" };
	const char *sig = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	sigv4_auth_t a;
	buf_t b;
	buf_init(&b, 0);
	CHECK(sigv4_authorization(&b, "AKID", &scope, "host;x-amz-date", sig) == 0);
	CHECK(sigv4_parse_authorization(b.data, &a) == 0);
	CHECK_STR(a.access_key_id, "AKID");
	CHECK_STR(a.date, "20240229");
	CHECK_STR(a.region, "ap-south-1");
	CHECK_STR(a.service, "lambda");
	CHECK_STR(a.signed_headers, "host;x-amz-date");
	CHECK_STR(a.signature, sig);
	buf_free(&b);
}

static void test_parse_malformed(void)
{
#define CRED "Credential=AKID/20130524/us-east-1/s3/aws4_request"
#define SH "SignedHeaders=host;x-amz-date"
#define SIG "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	const char *bad[] = {
		"",
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA1 " CRED ", " SH ", " SIG,
		"AWS4-HMAC-SHA256" CRED ", " SH ", " SIG,
		"AWS4-HMAC-SHA256 " CRED ", " SH,                          /* no signature */
		"AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG ", " SIG,        /* repeated */
		"AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG ",",             /* trailing comma */
		"AWS4-HMAC-SHA256 " CRED " " SH " " SIG,                   /* no commas */
		"AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG ", Extra=1",     /* unknown part */
		"AWS4-HMAC-SHA256 " CRED ",, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_requesx, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/x/aws4_request, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=/20130524/us-east-1/s3/aws4_request, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=AKID/2013052/us-east-1/s3/aws4_request, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=AKID/2013052x/us-east-1/s3/aws4_request, " SH ", " SIG,
		"AWS4-HMAC-SHA256 Credential=AKID/20130524//s3/aws4_request, " SH ", " SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=, " SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;;x-amz-date, " SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;, " SIG,
		"AWS4-HMAC-SHA256 " CRED ", SignedHeaders=Host, " SIG,
		"AWS4-HMAC-SHA256 " CRED ", " SH ", Signature=f0e8",
		"AWS4-HMAC-SHA256 " CRED ", " SH
		", Signature=F0E8BDB87C964420E857BD35B5D6ED310BD44F0170ABA48DD91039C6036BDB41",
		"AWS4-HMAC-SHA256 " CRED ", " SH ", " SIG "00",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sigv4_auth_t a;
		int rc = sigv4_parse_authorization(bad[i], &a);
		if (rc != LD_EINVAL)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		CHECK(rc == LD_EINVAL);
		CHECK(a.access_key_id[0] == '\0' && a.signature[0] == '\0');
	}
	sigv4_auth_t a;
	CHECK(sigv4_parse_authorization(NULL, &a) == LD_EINVAL);

	/* a field longer than its array */
	char big[600];
	memset(big, 'a', sizeof big);
	big[sizeof big - 1] = '\0';
	buf_t b;
	buf_init(&b, 0);
	CHECK(buf_printf(&b, "AWS4-HMAC-SHA256 Credential=AKID/20130524/%s/s3/aws4_request, " SH ", " SIG,
			 big) == 0);
	CHECK(sigv4_parse_authorization(b.data, &a) == LD_EINVAL);
	buf_free(&b);
#undef CRED
#undef SH
#undef SIG
}

static void test_signature_equal(void)
{
	CHECK(sigv4_signature_equal("abc", "abc"));
	CHECK(!sigv4_signature_equal("abc", "abd"));
	CHECK(!sigv4_signature_equal("abc", "ab"));
	CHECK(!sigv4_signature_equal("", "a"));
}

int main(void)
{
	T_RUN(test_sha256);
	T_RUN(test_uri_encode);
	T_RUN(test_canonical_query);
	T_RUN(test_canonical_headers);
	T_RUN(test_s3_get_object);
	T_RUN(test_s3_list_objects);
	T_RUN(test_iam_list_users);
	T_RUN(test_suite_get_vanilla);
	T_RUN(test_bad_scope);
	T_RUN(test_parse);
	T_RUN(test_parse_roundtrip);
	T_RUN(test_parse_malformed);
	T_RUN(test_signature_equal);
	return t_done("sigv4");
}
