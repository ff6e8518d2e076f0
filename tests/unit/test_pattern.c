/*
 * test_pattern.c - unit tests of util/pattern.c against the examples of
 * AWS's "Lambda event filtering" page (comparison operators table) and
 * EventBridge's content filtering: every operator matching and not.
 */
#include "t.h"
#include "util/pattern.h"

#include <jansson.h>

static int m(const char *pattern, const char *event)
{
	json_t *p = json_loads(pattern, 0, NULL), *e = json_loads(event, 0, NULL);
	int r = p && e ? pattern_match(p, e) : -1;
	json_decref(p);
	json_decref(e);
	return r;
}

static void test_operators(void)
{
	/* null, empty, equals, equals-ignore-case */
	CHECK(m("{\"UserID\":[null]}", "{\"UserID\":null}") == 1);
	CHECK(m("{\"UserID\":[null]}", "{\"UserID\":\"x\"}") == 0);
	CHECK(m("{\"LastName\":[\"\"]}", "{\"LastName\":\"\"}") == 1);
	CHECK(m("{\"Name\":[\"Alice\"]}", "{\"Name\":\"Alice\"}") == 1);
	CHECK(m("{\"Name\":[\"Alice\"]}", "{\"Name\":\"alice\"}") == 0);
	CHECK(m("{\"Name\":[{\"equals-ignore-case\":\"alice\"}]}", "{\"Name\":\"ALICE\"}") == 1);
	/* and, or */
	CHECK(m("{\"Location\":[\"New York\"],\"Day\":[\"Monday\"]}", "{\"Location\":\"New York\",\"Day\":\"Monday\"}") == 1);
	CHECK(m("{\"Location\":[\"New York\"],\"Day\":[\"Monday\"]}", "{\"Location\":\"New York\",\"Day\":\"Friday\"}") == 0);
	CHECK(m("{\"PaymentType\":[\"Credit\",\"Debit\"]}", "{\"PaymentType\":\"Debit\"}") == 1);
	CHECK(m("{\"$or\":[{\"A\":[1]},{\"B\":[2]}]}", "{\"B\":2}") == 1);
	CHECK(m("{\"$or\":[{\"A\":[1]},{\"B\":[2]}]}", "{\"B\":3}") == 0);
	/* not, numeric */
	CHECK(m("{\"Weather\":[{\"anything-but\":[\"Raining\"]}]}", "{\"Weather\":\"Sunny\"}") == 1);
	CHECK(m("{\"Weather\":[{\"anything-but\":[\"Raining\"]}]}", "{\"Weather\":\"Raining\"}") == 0);
	CHECK(m("{\"Weather\":[{\"anything-but\":[\"Raining\"]}]}", "{}") == 0);
	CHECK(m("{\"Price\":[{\"numeric\":[\"=\",100]}]}", "{\"Price\":100.0}") == 1);
	CHECK(m("{\"Price\":[{\"numeric\":[\">\",10,\"<=\",20]}]}", "{\"Price\":20}") == 1);
	CHECK(m("{\"Price\":[{\"numeric\":[\">\",10,\"<=\",20]}]}", "{\"Price\":10}") == 0);
	CHECK(m("{\"Price\":[{\"numeric\":[\">\",10]}]}", "{\"Price\":\"11\"}") == 0);
	/* exists */
	CHECK(m("{\"ProductName\":[{\"exists\":true}]}", "{\"ProductName\":\"x\"}") == 1);
	CHECK(m("{\"ProductName\":[{\"exists\":true}]}", "{}") == 0);
	CHECK(m("{\"ProductName\":[{\"exists\":false}]}", "{}") == 1);
	CHECK(m("{\"ProductName\":[{\"exists\":false}]}", "{\"ProductName\":1}") == 0);
	/* prefix, suffix, wildcard, anything-but prefix */
	CHECK(m("{\"Region\":[{\"prefix\":\"us-\"}]}", "{\"Region\":\"us-east-1\"}") == 1);
	CHECK(m("{\"Region\":[{\"prefix\":\"us-\"}]}", "{\"Region\":\"eu-west-1\"}") == 0);
	CHECK(m("{\"File\":[{\"suffix\":\".png\"}]}", "{\"File\":\"a.png\"}") == 1);
	CHECK(m("{\"File\":[{\"suffix\":{\"equals-ignore-case\":\".PNG\"}}]}", "{\"File\":\"a.png\"}") == 1);
	CHECK(m("{\"File\":[{\"wildcard\":\"img/*.png\"}]}", "{\"File\":\"img/a.png\"}") == 1);
	CHECK(m("{\"Region\":[{\"anything-but\":{\"prefix\":\"us-\"}}]}", "{\"Region\":\"eu-west-1\"}") == 1);
	CHECK(m("{\"Region\":[{\"anything-but\":{\"prefix\":\"us-\"}}]}", "{\"Region\":\"us-west-1\"}") == 0);
}

static void test_nesting_and_arrays(void)
{
	/* an SQS body that is JSON: the pattern reaches into it */
	CHECK(m("{\"body\":{\"RequestCode\":[{\"prefix\":\"BBB\"}]}}", "{\"body\":{\"RequestCode\":\"BBB-1\"}}") == 1);
	CHECK(m("{\"body\":{\"RequestCode\":[{\"prefix\":\"BBB\"}]}}", "{\"body\":\"BBB-1\"}") == 0);
	/* an array field matches when any element does */
	CHECK(m("{\"tags\":[\"b\"]}", "{\"tags\":[\"a\",\"b\"]}") == 1);
	CHECK(m("{\"tags\":[\"c\"]}", "{\"tags\":[\"a\",\"b\"]}") == 0);
	CHECK(m("{\"items\":{\"id\":[2]}}", "{\"items\":[{\"id\":1},{\"id\":2}]}") == 1);
	/* FilterCriteria: any filter */
	json_t *fc = json_loads("{\"Filters\":[{\"Pattern\":\"{\\\"a\\\":[1]}\"},{\"Pattern\":\"{\\\"b\\\":[2]}\"}]}", 0, NULL);
	json_t *e1 = json_loads("{\"b\":2}", 0, NULL), *e2 = json_loads("{\"b\":3}", 0, NULL), *none = json_object();
	CHECK(pattern_filters_match(fc, e1) == 1);
	CHECK(pattern_filters_match(fc, e2) == 0);
	CHECK(pattern_filters_match(none, e2) == 1);
	json_decref(fc);
	json_decref(e1);
	json_decref(e2);
	json_decref(none);
	/* malformed patterns match nothing */
	CHECK(m("{\"a\":\"not an array\"}", "{\"a\":\"not an array\"}") == 0);
	CHECK(m("{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}", "{\"a\":\"xy\"}") == 0);
}

int main(void)
{
	T_RUN(test_operators);
	T_RUN(test_nesting_and_arrays);
	return t_done("test_pattern");
}
