/*
 * test_cborjson.c - unit tests of util/cborjson: CBOR documents as botocore
 * sends them (timestamps as tag 1), the round trip of an answer with its
 * timestamps, and what is refused (trailing bytes, non-text keys, deep
 * nesting, invalid UTF-8, NaN).
 */
#include "t.h"
#include "util/cborjson.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static void test_decode(void)
{
	/* {"Period": 60, "StartTime": 1(1700000000.5), "Statistics": ["Sum"], "Neg": -2, "B": true, "N": null} */
	static const unsigned char doc[] = {
		0xa6, 0x66, 'P', 'e', 'r', 'i', 'o', 'd', 0x18, 60,
		0x69, 'S', 't', 'a', 'r', 't', 'T', 'i', 'm', 'e', 0xc1, 0xfb, 0x41, 0xd9, 0x54, 0xfc, 0x40, 0x20, 0x00, 0x00,
		0x6a, 'S', 't', 'a', 't', 'i', 's', 't', 'i', 'c', 's', 0x81, 0x63, 'S', 'u', 'm',
		0x63, 'N', 'e', 'g', 0x21,
		0x61, 'B', 0xf5,
		0x61, 'N', 0xf6,
	};
	json_t *v = NULL;
	CHECK(cborjson_decode(doc, sizeof(doc), &v) == 0);
	CHECK(json_integer_value(json_object_get(v, "Period")) == 60);
	CHECK(json_real_value(json_object_get(v, "StartTime")) == 1700000000.5);
	CHECK_STR(json_string_value(json_array_get(json_object_get(v, "Statistics"), 0)), "Sum");
	CHECK(json_integer_value(json_object_get(v, "Neg")) == -2);
	CHECK(json_is_true(json_object_get(v, "B")));
	CHECK(json_is_null(json_object_get(v, "N")));
	json_decref(v);
	/* indefinite-length map and text */
	static const unsigned char indef[] = { 0xbf, 0x61, 'a', 0x7f, 0x62, 'h', 'e', 0x62, 'l', 'o', 0xff, 0xff };
	CHECK(cborjson_decode(indef, sizeof(indef), &v) == 0);
	CHECK_STR(json_string_value(json_object_get(v, "a")), "helo");
	json_decref(v);
}

static void test_refused(void)
{
	json_t *v = NULL;
	static const unsigned char trailing[] = { 0xa0, 0x00 };
	static const unsigned char intkey[] = { 0xa1, 0x01, 0x02 };
	static const unsigned char badutf8[] = { 0x62, 0xc3, 0x28 };
	static const unsigned char nan[] = { 0xf9, 0x7e, 0x00 };
	static const unsigned char truncated[] = { 0x82, 0x01 };
	static const unsigned char brk[] = { 0xff };
	CHECK(cborjson_decode(trailing, sizeof(trailing), &v) == LD_EINVAL && !v);
	CHECK(cborjson_decode(intkey, sizeof(intkey), &v) == LD_EINVAL);
	CHECK(cborjson_decode(badutf8, sizeof(badutf8), &v) == LD_EINVAL);
	CHECK(cborjson_decode(nan, sizeof(nan), &v) == LD_EINVAL);
	CHECK(cborjson_decode(truncated, sizeof(truncated), &v) == LD_EINVAL);
	CHECK(cborjson_decode(brk, sizeof(brk), &v) == LD_EINVAL);
	CHECK(cborjson_decode("", 0, &v) == LD_EINVAL);
	/* a million nested arrays: refused before anything is built */
	size_t n = 1000000;
	unsigned char *deep = malloc(n + 1);
	memset(deep, 0x81, n);
	deep[n] = 0x01;
	CHECK(cborjson_decode(deep, n + 1, &v) == LD_EINVAL);
	/* at the limit it decodes */
	memset(deep, 0x81, CBORJSON_MAX_DEPTH);
	deep[CBORJSON_MAX_DEPTH] = 0x01;
	CHECK(cborjson_decode(deep, CBORJSON_MAX_DEPTH + 1, &v) == 0);
	json_decref(v);
	free(deep);
}

static void test_round_trip(void)
{
	static const char *const ts[] = { "Timestamp", "Timestamps", NULL };
	json_t *in = json_pack("{s[{sIsfs{sf}}]s[II]s[ff]}", "Datapoints", "Timestamp", (json_int_t)1700000000, "Sum", 3.0,
			       "ExtendedStatistics", "p99", 2.5, "Timestamps", (json_int_t)60, (json_int_t)120, "Values",
			       1.0, 2.0);
	unsigned char *cb = NULL;
	size_t len = 0;
	CHECK(cborjson_encode(in, ts, &cb, &len) == 0 && len > 0);
	/* the timestamps carry tag 1 (0xc1) */
	CHECK(memchr(cb, 0xc1, len) != NULL);
	json_t *back = NULL;
	CHECK(cborjson_decode(cb, len, &back) == 0);
	json_t *dp = json_array_get(json_object_get(back, "Datapoints"), 0);
	CHECK(json_number_value(json_object_get(dp, "Timestamp")) == 1700000000);
	CHECK(json_real_value(json_object_get(json_object_get(dp, "ExtendedStatistics"), "p99")) == 2.5);
	CHECK(json_number_value(json_array_get(json_object_get(back, "Timestamps"), 1)) == 120);
	free(cb);
	json_decref(back);
	json_decref(in);
}

int main(void)
{
	T_RUN(test_decode);
	T_RUN(test_refused);
	T_RUN(test_round_trip);
	return t_done("test_cborjson");
}
