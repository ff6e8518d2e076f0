/*
 * test_access.c - resource-based policy evaluation: principals, actions,
 * resources, conditions (present, absent, negated, unknown), Deny.
 */
#include "t.h"
#include "auth/access.h"

static json_t *pol(const char *text)
{
	json_error_t e;
	json_t *p = json_loads(text, 0, &e);
	if (!p)
		fprintf(stderr, "  bad fixture: %s\n", e.text);
	return p;
}

#define FN "arn:aws:lambda:us-east-1:111111111111:function:f"

static int allows(const char *policy, const char *action, const char *resource, const char *account,
		  const char *principal, const char *url_auth)
{
	json_t *p = pol(policy);
	struct access_request q = { action, resource, account, principal, url_auth };
	int ok = access_allows(p, &q);
	json_decref(p);
	return ok;
}

static void test_glob(void)
{
	CHECK(access_glob("lambda:*", "lambda:InvokeFunction", 1));
	CHECK(access_glob("LAMBDA:invoke*", "lambda:InvokeFunction", 1));
	CHECK(!access_glob("lambda:Get*", "lambda:InvokeFunction", 1));
	CHECK(access_glob("arn:aws:s3:::b?cket/*", "arn:aws:s3:::bucket/a/b", 0));
	CHECK(!access_glob("arn:aws:s3:::bucket", "arn:aws:s3:::bucket2", 0));
	CHECK(access_glob("*", "", 0));
}

static void test_principals(void)
{
	const char *acct = "[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::222222222222:root\"},"
			   "\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"" FN "\"}]";
	CHECK(allows(acct, "lambda:InvokeFunction", FN, "222222222222", "arn:aws:iam::222222222222:user/x", NULL));
	CHECK(!allows(acct, "lambda:InvokeFunction", FN, "333333333333", NULL, NULL));
	CHECK(!allows(acct, "lambda:GetFunction", FN, "222222222222", NULL, NULL));
	CHECK(!allows(acct, "lambda:InvokeFunction", FN ":live", "222222222222", NULL, NULL));
	/* a prefix of an account id is not the account */
	CHECK(!allows(acct, "lambda:InvokeFunction", FN, "22222222222", NULL, NULL));
	const char *user = "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"arn:aws:iam::2:user/bob\","
			   "\"444444444444\"]},\"Action\":[\"lambda:Get*\",\"lambda:InvokeFunction\"]}]}";
	json_t *p = pol(user);
	json_t *st = json_object_get(p, "Statement");
	struct access_request q = { "lambda:GetFunction", FN, "2", "arn:aws:iam::2:user/bob", NULL };
	CHECK(access_allows(st, &q));
	q.principal = "arn:aws:iam::2:user/alice";
	CHECK(!access_allows(st, &q));
	q.account = "444444444444";
	CHECK(access_allows(st, &q));
	json_decref(p);
	const char *svc = "[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"},"
			  "\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"" FN "\"}]";
	CHECK(!allows(svc, "lambda:InvokeFunction", FN, "222222222222", NULL, NULL));
	const char *star = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:*\",\"Resource\":\"" FN "\"}]";
	CHECK(allows(star, "lambda:GetFunction", FN, "999999999999", NULL, NULL));
}

static void test_conditions(void)
{
	const char *src = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\","
			  "\"Resource\":\"" FN "\",\"Condition\":{\"ArnLike\":{\"AWS:SourceArn\":\"arn:aws:s3:::b\"}}}]";
	CHECK(!allows(src, "lambda:InvokeFunction", FN, "222222222222", NULL, NULL));
	const char *url = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunctionUrl\","
			  "\"Resource\":\"" FN "\",\"Condition\":{\"StringEquals\":{\"lambda:FunctionUrlAuthType\":\"NONE\"}}}]";
	CHECK(allows(url, "lambda:InvokeFunctionUrl", FN, "", NULL, "NONE"));
	CHECK(!allows(url, "lambda:InvokeFunctionUrl", FN, "", NULL, "AWS_IAM"));
	CHECK(!allows(url, "lambda:InvokeFunctionUrl", FN, "", NULL, NULL));
	const char *neg = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:GetFunction\","
			  "\"Condition\":{\"StringNotEquals\":{\"aws:PrincipalAccount\":\"666666666666\","
			  "\"aws:SourceVpc\":\"vpc-1\"}}}]";
	CHECK(allows(neg, "lambda:GetFunction", FN, "555555555555", NULL, NULL));
	CHECK(!allows(neg, "lambda:GetFunction", FN, "666666666666", NULL, NULL));
	const char *unknown = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:GetFunction\","
			      "\"Condition\":{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}}]";
	CHECK(!allows(unknown, "lambda:GetFunction", FN, "555555555555", NULL, NULL));
	const char *like = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:GetFunction\","
			   "\"Condition\":{\"StringLike\":{\"aws:PrincipalArn\":[\"arn:aws:iam::*:user/ci-*\"]}}}]";
	CHECK(allows(like, "lambda:GetFunction", FN, "7", "arn:aws:iam::7:user/ci-bot", NULL));
	CHECK(!allows(like, "lambda:GetFunction", FN, "7", "arn:aws:iam::7:user/dev", NULL));
}

static void test_deny_wins(void)
{
	const char *p = "[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:*\"},"
			"{\"Effect\":\"Deny\",\"Principal\":{\"AWS\":\"888888888888\"},\"Action\":\"lambda:InvokeFunction\"}]";
	CHECK(allows(p, "lambda:InvokeFunction", FN, "777777777777", NULL, NULL));
	CHECK(!allows(p, "lambda:InvokeFunction", FN, "888888888888", NULL, NULL));
	CHECK(allows(p, "lambda:GetFunction", FN, "888888888888", NULL, NULL));
	CHECK(!allows("[]", "lambda:GetFunction", FN, "1", NULL, NULL));
	CHECK(!allows("[{\"Principal\":\"*\",\"Action\":\"*\"}]", "lambda:GetFunction", FN, "1", NULL, NULL));
}

int main(void)
{
	T_RUN(test_glob);
	T_RUN(test_principals);
	T_RUN(test_conditions);
	T_RUN(test_deny_wins);
	return t_done("test_access");
}
