/*
 * test_lookup.c - unit tests of AWS's naming rules (api/lookup.h): a
 * FunctionName as a name, NAME:QUALIFIER, a partial ARN or a full ARN, with
 * an optional Qualifier that must agree; another region's ARN; another
 * account's function, refused unless its resource policy allows the caller
 * (on a real SQLite store in a temporary directory); and the not-found
 * wording of lookup_function / lookup_config.
 */
#include "api/lookup.h"
#include "records/records.h"
#include "server.h"
#include "store/store.h"
#include "t.h"
#include "util/err.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ME "123456789012"
#define OTHER "210987654321"

static char dir[256];
static server_t srv;

static void new_req(req_t *r)
{
	memset(r, 0, sizeof(*r));
	r->srv = &srv;
	snprintf(r->account, sizeof(r->account), ME);
	snprintf(r->region, sizeof(r->region), "us-east-1");
	snprintf(r->principal, sizeof(r->principal), "arn:aws:iam::" ME ":root");
}

/* lookup_ref's answer: rc, and the ref or the error */
static int ref_of(const char *name, const char *qual, struct fnref *ref, req_t *r)
{
	new_req(r);
	return lookup_ref(r, name, qual, ref);
}

static void test_names(void)
{
	struct fnref f;
	req_t r;
	CHECK(ref_of("my-fn", NULL, &f, &r) == 0);
	CHECK_STR(f.name, "my-fn");
	CHECK_STR(f.qualifier, "");
	CHECK_STR(f.scope, ME ":us-east-1");
	CHECK(ref_of("my-fn:PROD", NULL, &f, &r) == 0);
	CHECK_STR(f.name, "my-fn");
	CHECK_STR(f.qualifier, "PROD");
	CHECK(ref_of("my-fn", "7", &f, &r) == 0);
	CHECK_STR(f.qualifier, "7");
	CHECK(ref_of("my-fn:7", "7", &f, &r) == 0);
	CHECK_STR(f.qualifier, "7");
	CHECK(ref_of(ME ":function:my-fn", NULL, &f, &r) == 0);
	CHECK_STR(f.name, "my-fn");
	CHECK(ref_of(ME ":function:my-fn:$LATEST", NULL, &f, &r) == 0);
	CHECK_STR(f.qualifier, "$LATEST");
	CHECK(ref_of("arn:aws:lambda:us-east-1:" ME ":function:my-fn:3", NULL, &f, &r) == 0);
	CHECK_STR(f.name, "my-fn");
	CHECK_STR(f.qualifier, "3");
	CHECK_STR(f.account, ME);
	/* AWS reads arn:...:ACCOUNT:function as the function named "function" */
	CHECK(ref_of("arn:aws:lambda:us-east-1:" ME ":function", NULL, &f, &r) == 0);
	CHECK_STR(f.name, "function");
}

static void test_disagreements(void)
{
	struct fnref f;
	req_t r;
	CHECK(ref_of("my-fn:1", "2", &f, &r) == LD_EAPI);
	CHECK_STR(r.err.type, "InvalidParameterValueException");
	CHECK_STR(r.err.message, "The derived qualifier from the function name does not match the specified qualifier.");
	req_cleanup(&r);
	CHECK(ref_of("arn:aws:lambda:eu-west-1:" ME ":function:my-fn", NULL, &f, &r) == LD_EAPI);
	CHECK_STR(r.err.type, "ResourceNotFoundException");
	CHECK_STR(r.err.message, "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')");
	req_cleanup(&r);
}

static void test_other_account(void)
{
	struct fnref f;
	req_t r;
	const char *arn = "arn:aws:lambda:us-east-1:" OTHER ":function:theirs";
	CHECK(ref_of(arn, NULL, &f, &r) == LD_EAPI);
	CHECK_STR(r.err.type, "AccessDeniedException");
	CHECK_STR(r.err.message, "User: arn:aws:iam::" ME ":root is not authorized to perform: lambda:InvokeFunction "
				 "on resource: arn:aws:lambda:us-east-1:" OTHER ":function:theirs because no "
				 "resource-based policy allows the lambda:InvokeFunction action");
	req_cleanup(&r);

	/* their policy lets this account invoke: the ref is theirs */
	json_t *pol = json_pack("{s:s,s:[{s:s,s:s,s:{s:s},s:s,s:s}]}", "Version", "2012-10-17", "Statement", "Sid",
				"s1", "Effect", "Allow", "Principal", "AWS", "arn:aws:iam::" ME ":root", "Action",
				"lambda:InvokeFunction", "Resource", arn);
	CHECK(rec_policy_put(srv.store, OTHER ":us-east-1", "theirs", NULL, pol) == 0);
	json_decref(pol);
	CHECK(ref_of(arn, NULL, &f, &r) == 0);
	CHECK_STR(f.account, OTHER);
	CHECK_STR(f.scope, OTHER ":us-east-1");
	req_cleanup(&r);
	/* ... but not to invoke another of their functions */
	CHECK(ref_of("arn:aws:lambda:us-east-1:" OTHER ":function:other", NULL, &f, &r) == LD_EAPI);
	CHECK_STR(r.err.type, "AccessDeniedException");
	req_cleanup(&r);
}

static void test_not_found_wording(void)
{
	struct fnref f;
	req_t r;
	json_t *meta = NULL, *cfg = NULL, *alias = NULL;
	CHECK(ref_of("absent", NULL, &f, &r) == 0);
	CHECK(lookup_function(&r, &f, &meta) == LD_EAPI);
	CHECK_STR(r.err.type, "ResourceNotFoundException");
	CHECK_STR(r.err.message, "Function not found: arn:aws:lambda:us-east-1:" ME ":function:absent");
	req_cleanup(&r);

	json_t *v = json_pack("{s:s,s:s}", "FunctionName", "here", "Version", "$LATEST");
	CHECK(rec_version_put(srv.store, ME ":us-east-1", "here", NULL, v) == 0);
	json_decref(v);
	CHECK(ref_of("here", NULL, &f, &r) == 0);
	CHECK(lookup_config(&r, &f, NULL, &cfg, &alias) == 0);
	CHECK_STR(json_string_value(json_object_get(cfg, "Version")), "$LATEST");
	json_decref(cfg);
	json_decref(alias);
	req_cleanup(&r);
	CHECK(ref_of("here", NULL, &f, &r) == 0);
	cfg = alias = NULL;
	CHECK(lookup_config(&r, &f, "5", &cfg, &alias) == LD_EAPI);
	CHECK_STR(r.err.type, "ResourceNotFoundException");
	CHECK(strstr(r.err.message, "function:here:5") != NULL);
	req_cleanup(&r);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ld-test-lookup-XXXXXX");
	if (!mkdtemp(dir) || store_open("sqlite", dir, &srv.store))
		return 1;
	T_RUN(test_names);
	T_RUN(test_disagreements);
	T_RUN(test_other_account);
	T_RUN(test_not_found_wording);
	store_close(srv.store);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return t_done("test_lookup");
}
