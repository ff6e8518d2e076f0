/*
 * test_logfilter.c - unit tests of util/logfilter.c against the examples of
 * AWS's "Filter pattern syntax for metric filters, subscription filters,
 * filter log events, and Live Tail" pages: terms, JSON and space-delimited
 * patterns, matching and not, and the patterns AWS refuses.
 */
#include "t.h"
#include "util/err.h"
#include "util/logfilter.h"

#include <string.h>

/* 1 match, 0 no match, -1 the pattern does not compile */
static int m(const char *pattern, const char *msg)
{
	logfilter_t *f = NULL;
	if (logfilter_compile(pattern, &f))
		return -1;
	int r = logfilter_match(f, msg, strlen(msg));
	logfilter_free(f);
	return r;
}

static void test_terms(void)
{
	CHECK(m("", "anything") == 1);
	CHECK(m("  ", "anything") == 1);
	CHECK(m("ERROR", "[ERROR] Failed to connect") == 1);
	CHECK(m("ERROR", "[INFO] all good") == 0);
	CHECK(m("ERROR", "[error] lower case") == 0); /* case-sensitive */
	CHECK(m("ERROR Exception", "ERROR: NullPointerException") == 1);
	CHECK(m("ERROR Exception", "ERROR: timeout") == 0);
	CHECK(m("?ERROR ?WARN", "WARN: disk") == 1);
	CHECK(m("?ERROR ?WARN", "INFO: disk") == 0);
	CHECK(m("ERROR -Retry", "ERROR: gave up") == 1);
	CHECK(m("ERROR -Retry", "ERROR: Retry 3") == 0);
	CHECK(m("\"Failed to process\"", "1 Failed to process request") == 1);
	CHECK(m("\"Failed to process\"", "Failed, to process") == 0);
	CHECK(m("%[hc]at%", "the cat sat") == 1);
	CHECK(m("%^[hc]at%", "the cat sat") == 0);
	CHECK(m("%colou?r%", "colour") == 1);
	CHECK(m("\"unterminated", "x") == -1);
	CHECK(m("%%", "x") == -1);
	CHECK(m("%something!%", "x") == -1); /* AWS's own example of a refused character */
	CHECK(m("%(ab)+%", "x") == -1);      /* no groups */
	CHECK(m("%a++%", "x") == -1);
	CHECK(m("%a{1000}%", "x") == -1);
	CHECK(m("%a{3,5}%", "caaaat") == 1);
	CHECK(m("%a% %b% %c%", "abc") == -1); /* two per pattern */
	CHECK(m("? ERROR", "x") == -1);
}

static void test_json(void)
{
	const char *ev = "{\"eventType\":\"UpdateTrail\",\"sourceIPAddress\":\"123.123.1.2\",\"arrayKey\":[\"value\",\"v2\"],"
			 "\"objectList\":[{\"id\":1},{\"id\":2}],\"user\":{\"id\":1},\"users\":[{\"email\":\"John.Doe@example.com\"}],"
			 "\"latency\":150,\"code\":\"503\",\"error\":true,\"nothing\":null,\"msg\":\"abbbc\"}";
	CHECK(m("{ $.eventType = \"UpdateTrail\" }", ev) == 1);
	CHECK(m("{ $.eventType = \"CreateTrail\" }", ev) == 0);
	CHECK(m("{ $.eventType = Update* }", ev) == 1);
	CHECK(m("{ $.sourceIPAddress != 123.123.* }", ev) == 0);
	CHECK(m("{ $.sourceIPAddress != 10.0.* }", ev) == 1);
	CHECK(m("{ $.arrayKey[0] = \"value\" }", ev) == 1);
	CHECK(m("{ $.arrayKey[1] = \"value\" }", ev) == 0);
	CHECK(m("{ $.objectList[1].id = 2 }", ev) == 1);
	CHECK(m("{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", ev) == 1);
	CHECK(m("{ ($.user.id = 2) && ($.users[0].email = \"John.Doe@example.com\") }", ev) == 0);
	CHECK(m("{ $.latency > 1000 || $.code = 5* }", ev) == 1);
	CHECK(m("{ $.latency > 1000 || $.code = 4* }", ev) == 0);
	CHECK(m("{ $.latency >= 150 && $.latency <= 150 && $.latency < 151 }", ev) == 1);
	CHECK(m("{ $.code = 503 }", ev) == 1); /* a numeric string equals the number */
	CHECK(m("{ $.error IS TRUE }", ev) == 1);
	CHECK(m("{ $.error IS FALSE }", ev) == 0);
	CHECK(m("{ $.nothing IS NULL }", ev) == 1);
	CHECK(m("{ $.missing NOT EXISTS }", ev) == 1);
	CHECK(m("{ $.latency NOT EXISTS }", ev) == 0);
	CHECK(m("{ $.msg = %ab+c% }", ev) == 1);
	CHECK(m("{ $.missing = \"x\" }", ev) == 0);
	CHECK(m("{ $.latency > 100 }", "not json at all") == 0);
	CHECK(m("{ $.a = }", ev) == -1);
	CHECK(m("{ $.a = 1", ev) == -1);
	CHECK(m("{ $.a < abc }", ev) == -1);
	CHECK(m("{ a = 1 }", ev) == -1);
	CHECK(m("{ ($.a = 1 }", ev) == -1);
	CHECK(m("{ $.a IS MAYBE }", ev) == -1);
}

static void test_fields(void)
{
	const char *ev = "127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 1534";
	CHECK(m("[ip, user, username, timestamp, request, status_code, bytes]", ev) == 1);
	CHECK(m("[ip, user, username, timestamp, request, status_code]", ev) == 0);
	CHECK(m("[ip, user, ..., status_code = 200, bytes > 1000]", ev) == 1);
	CHECK(m("[ip, user, ..., status_code = 200, bytes > 2000]", ev) == 0);
	CHECK(m("[..., status_code = 4* || status_code = 5*, bytes]", ev) == 0);
	CHECK(m("[..., status_code = 2* || status_code = 3*, bytes]", ev) == 1);
	CHECK(m("[ip = 127.0.0.*, ...]", ev) == 1);
	CHECK(m("[ip != 127.0.0.*, ...]", ev) == 0);
	CHECK(m("[ip, user, username = frank, timestamp, request = \"GET *\", status_code, bytes]", ev) == 1);
	CHECK(m("[ip, user, username, timestamp = *Oct*, ...]", ev) == 1);
	CHECK(m("[ip, user", ev) == -1);
	CHECK(m("[, a]", ev) == -1);
	CHECK(m("[a] extra", ev) == -1);
	CHECK(m("[..., a, ...]", ev) == -1);
}

static void test_limits(void)
{
	char big[LOGFILTER_MAX_PATTERN + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	logfilter_t *f = NULL;
	CHECK(logfilter_compile(big, &f) == LD_ETOOBIG && f == NULL);
	char many[LOGFILTER_MAX_PATTERN];
	size_t k = 0;
	while (k + 2 < sizeof(many)) { /* 500 one-letter terms: past the node limit */
		many[k++] = 'a';
		many[k++] = ' ';
	}
	many[k] = 0;
	CHECK(logfilter_compile(many, &f) == LD_ETOOBIG && f == NULL);
	char deep[200];
	k = 0;
	deep[k++] = '{';
	for (int i = 0; i < 40; i++)
		deep[k++] = '(';
	memcpy(deep + k, "$.a=1", 5);
	k += 5;
	for (int i = 0; i < 40; i++)
		deep[k++] = ')';
	deep[k++] = '}';
	deep[k] = 0;
	CHECK(logfilter_compile(deep, &f) == LD_ETOOBIG && f == NULL);
}

int main(void)
{
	T_RUN(test_terms);
	T_RUN(test_json);
	T_RUN(test_fields);
	T_RUN(test_limits);
	return t_done("test_logfilter");
}
