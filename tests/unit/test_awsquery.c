/*
 * test_awsquery.c - unit tests of util/awsquery: the query protocol's form
 * bodies as the AWS CLI v2 sends them (member.N lists, nested structures,
 * percent-encoding), what is refused, and the XML answers and errors.
 */
#include "t.h"
#include "util/awsquery.h"
#include "util/err.h"

#include <string.h>

static void test_decode(void)
{
	const char *body = "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FLambda"
			   "&Dimensions.member.2.Name=Resource&Dimensions.member.2.Value=f%3Alive"
			   "&Dimensions.member.1.Name=FunctionName&Dimensions.member.1.Value=f"
			   "&Statistics.member.1=Sum&Statistics.member.2=Maximum&StartTime=2026-12-05T22%3A00%3A00Z"
			   "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=Errors&Label=a+b";
	json_t *v = NULL;
	CHECK(awsquery_decode(body, strlen(body), &v) == 0);
	CHECK_STR(json_string_value(json_object_get(v, "Namespace")), "AWS/Lambda");
	json_t *dims = json_object_get(v, "Dimensions");
	CHECK(json_array_size(dims) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(dims, 0), "Name")), "FunctionName");
	CHECK_STR(json_string_value(json_object_get(json_array_get(dims, 1), "Value")), "f:live");
	CHECK_STR(json_string_value(json_array_get(json_object_get(v, "Statistics"), 1)), "Maximum");
	CHECK_STR(json_string_value(json_object_get(v, "StartTime")), "2026-12-05T22:00:00Z");
	CHECK_STR(json_string_value(json_object_get(v, "Label")), "a b");
	json_t *q = json_array_get(json_object_get(v, "MetricDataQueries"), 0);
	CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(q, "MetricStat"), "Metric"),
						    "MetricName")),
		  "Errors");
	json_decref(v);
	CHECK(awsquery_decode("", 0, &v) == 0 && json_object_size(v) == 0);
	json_decref(v);
}

static void test_refused(void)
{
	json_t *v = NULL;
	const char *cases[] = { "A=1&A=2", "A=1&A.B=2", "A.B=2&A=1", "L.member.0=x", "L.member.1001=x",
				"L.member.x=x", "A..B=1", "A=%00", "%C3%28=1", "A.B.C.D.E.F.G.H.I.J.K.L.M=1" };
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = awsquery_decode(cases[i], strlen(cases[i]), &v);
		if (rc != LD_EINVAL)
			fprintf(stderr, "  case %s: %d\n", cases[i], rc);
		CHECK(rc == LD_EINVAL);
		json_decref(v);
		v = NULL;
	}
}

static void test_xml(void)
{
	static const char *const ts[] = { "Timestamp", NULL }, *const maps[] = { "ExtendedStatistics", NULL };
	json_t *r = json_pack("{sss[{sIsfs{sf}}]}", "Label", "a<b", "Datapoints", "Timestamp", (json_int_t)1796511600,
			      "Sum", 5.0, "ExtendedStatistics", "p99", 1.5);
	buf_t out;
	buf_init(&out, 0);
	CHECK(awsquery_xml(&out, "urn:x", "GetMetricStatistics", r, "rid", ts, maps) == 0);
	buf_append(&out, "", 1);
	CHECK(strstr(out.data, "<GetMetricStatisticsResponse xmlns=\"urn:x\">") != NULL);
	CHECK(strstr(out.data, "<Label>a&lt;b</Label>") != NULL);
	CHECK(strstr(out.data, "<Datapoints><member><Timestamp>2026-12-05T23:00:00Z</Timestamp><Sum>5</Sum>"
			       "<ExtendedStatistics><entry><key>p99</key><value>1.5</value></entry></ExtendedStatistics>"
			       "</member></Datapoints>") != NULL);
	CHECK(strstr(out.data, "<RequestId>rid</RequestId>") != NULL);
	buf_reset(&out);
	CHECK(awsquery_error_xml(&out, "urn:x", "Sender", "InvalidParameterValue", "x & y", "rid") == 0);
	buf_append(&out, "", 1);
	CHECK(strstr(out.data, "<Code>InvalidParameterValue</Code>") && strstr(out.data, "<Message>x &amp; y</Message>"));
	buf_free(&out);
	json_decref(r);
}

int main(void)
{
	T_RUN(test_decode);
	T_RUN(test_refused);
	T_RUN(test_xml);
	return t_done("test_awsquery");
}
