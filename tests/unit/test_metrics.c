/*
 * test_metrics.c - unit tests of metrics/metrics: series and their
 * dimensions as AWS records them, 1-minute points and periods, percentiles
 * from the histogram, the series cap, the file (saved and loaded again,
 * malformed files refused), and the Prometheus text.
 */
#include "t.h"
#include "metrics/metrics.h"
#include "util/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1796511600000LL /* a whole minute */
#define SCOPE "000000000000:us-east-1"

struct collect {
	struct metrics_agg a[64];
	double p50[64], p99[64];
	int n;
};

static void collect_cb(void *ud, const struct metrics_agg *a)
{
	struct collect *c = ud;
	if (c->n >= 64)
		return;
	c->a[c->n] = *a;
	c->a[c->n].bins = NULL;
	c->p50[c->n] = metrics_percentile(a, 50);
	c->p99[c->n] = metrics_percentile(a, 99);
	c->n++;
}

static const char *fn_names[] = { "FunctionName", "Resource", "ExecutedVersion" };

static int query(metrics_t *m, int id, int nd, const char *const *values, int64_t start, int64_t end, int period,
		 struct collect *c)
{
	memset(c, 0, sizeof(*c));
	return metrics_query(m, SCOPE, id, nd, fn_names, values, start, end, period, collect_cb, c);
}

static void test_names(void)
{
	CHECK_STR(metrics_name(M_INVOCATIONS), "Invocations");
	CHECK_STR(metrics_unit(M_DURATION), "Milliseconds");
	CHECK(metrics_id("IteratorAge") == M_ITERATOR_AGE);
	CHECK(metrics_id("OnFailureDestinationDeliveredEventCount") == M_ON_FAILURE_DESTINATION_DELIVERED_EVENT_COUNT);
	CHECK(metrics_id("CPUUtilization") == -1);
	CHECK(metrics_id(NULL) == -1);
}

static void test_dimensions(void)
{
	metrics_t *m;
	struct collect c;
	CHECK(metrics_open(NULL, 0, &m) == 0);
	metrics_fn_put(m, T0, M_INVOCATIONS, SCOPE, "f", NULL, "$LATEST", 1, 1);
	metrics_fn_put(m, T0 + 1000, M_INVOCATIONS, SCOPE, "f", "live", "3", 1, 1);
	metrics_fn_put(m, T0 + 2000, M_INVOCATIONS, SCOPE, "f", "3", "3", 1, 1);
	/* {}, {F}, {F,R=f}, {F,R=f:live}, {F,R=f:live,EV=3}, {F,R=f:3}: versions have no ExecutedVersion */
	CHECK(metrics_series_count(m) == 6);
	const char *v1[] = { "f" }, *v2[] = { "f", "f:live" }, *v3[] = { "f", "f:live", "3" }, *v4[] = { "f", "f" };
	CHECK(query(m, M_INVOCATIONS, 1, v1, T0, T0 + 60000, 60, &c) == 0 && c.n == 1 && c.a[0].sum == 3);
	CHECK(query(m, M_INVOCATIONS, 2, v2, T0, T0 + 60000, 60, &c) == 0 && c.n == 1 && c.a[0].sum == 1);
	CHECK(query(m, M_INVOCATIONS, 3, v3, T0, T0 + 60000, 60, &c) == 0 && c.n == 1 && c.a[0].sum == 1);
	CHECK(query(m, M_INVOCATIONS, 2, v4, T0, T0 + 60000, 60, &c) == 0 && c.n == 1 && c.a[0].sum == 1);
	CHECK(metrics_query(m, SCOPE, M_INVOCATIONS, 0, NULL, NULL, T0, T0 + 60000, 60, collect_cb, &c) == 0);
	/* dimensions are a set: any order finds the same series */
	const char *rev_names[] = { "Resource", "FunctionName" }, *rev_values[] = { "f:live", "f" };
	memset(&c, 0, sizeof(c));
	CHECK(metrics_query(m, SCOPE, M_INVOCATIONS, 2, rev_names, rev_values, T0, T0 + 60000, 60, collect_cb, &c) == 0);
	CHECK(c.n == 1 && c.a[0].sum == 1);
	/* another account sees nothing */
	memset(&c, 0, sizeof(c));
	CHECK(metrics_query(m, "111111111111:us-east-1", M_INVOCATIONS, 1, fn_names, v1, T0, T0 + 60000, 60,
			    collect_cb, &c) == 0 && c.n == 0);
	CHECK(query(m, M_INVOCATIONS, 1, v1, T0, T0 + 60000, 90, &c) == LD_EINVAL);
	metrics_close(m);
}

static void test_periods_and_stats(void)
{
	metrics_t *m;
	struct collect c;
	const char *v[] = { "f" };
	CHECK(metrics_open(NULL, 0, &m) == 0);
	/* 100 durations of 1..100 ms in minute 0, one of 500 ms in minute 3 */
	for (int i = 1; i <= 100; i++)
		metrics_fn_put(m, T0 + i * 100, M_DURATION, SCOPE, "f", NULL, NULL, i, 0);
	metrics_fn_put(m, T0 + 3 * 60000 + 5, M_DURATION, SCOPE, "f", NULL, NULL, 500, 0);
	CHECK(query(m, M_DURATION, 1, v, T0, T0 + 600000, 60, &c) == 0);
	CHECK(c.n == 2);
	CHECK(c.a[0].start_ms == T0 && c.a[0].count == 100 && c.a[0].sum == 5050 && c.a[0].min == 1 && c.a[0].max == 100);
	CHECK(fabs(c.p50[0] - 50) <= 50 * 0.05);
	CHECK(fabs(c.p99[0] - 99) <= 99 * 0.05);
	CHECK(c.a[1].start_ms == T0 + 180000 && c.a[1].count == 1 && c.p50[1] == 500);
	/* one 5-minute period holds both */
	CHECK(query(m, M_DURATION, 1, v, T0, T0 + 600000, 300, &c) == 0 && c.n == 1 && c.a[0].count == 101 &&
	      c.a[0].max == 500);
	/* the range: start inclusive (rounded down to the minute), end exclusive */
	CHECK(query(m, M_DURATION, 1, v, T0 + 30000, T0 + 180000, 60, &c) == 0 && c.n == 1 && c.a[0].count == 100);
	CHECK(query(m, M_DURATION, 1, v, T0 + 60000, T0 + 180001, 60, &c) == 0 && c.n == 1 && c.a[0].count == 1);
	/* counters have no histogram: percentiles are min or max */
	metrics_fn_put(m, T0, M_INVOCATIONS, SCOPE, "f", NULL, NULL, 1, 0);
	CHECK(query(m, M_INVOCATIONS, 1, v, T0, T0 + 60000, 60, &c) == 0 && c.n == 1 && c.p99[0] == 1);
	struct metrics_agg empty = { 0 };
	CHECK(isnan(metrics_percentile(&empty, 50)));
	metrics_close(m);
}

static void test_series_cap(void)
{
	metrics_t *m;
	CHECK(metrics_open(NULL, 5, &m) == 0);
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof(name), "f%d", i);
		const char *v[] = { name };
		int rc = metrics_put(m, T0, M_THROTTLES, SCOPE, 1, fn_names, v, 1, 1);
		CHECK(i < 5 ? rc == 0 : rc == LD_ETOOBIG);
	}
	CHECK(metrics_series_count(m) == 5);
	/* existing series still count */
	const char *v[] = { "f0" };
	CHECK(metrics_put(m, T0, M_THROTTLES, SCOPE, 1, fn_names, v, 1, 1) == 0);
	metrics_close(m);
}

struct counter {
	long periods;
	int64_t first;
};
static void count_periods(void *ud, const struct metrics_agg *a)
{
	struct counter *c = ud;
	if (!c->periods++)
		c->first = a->start_ms;
}

static void test_points_cap(void)
{
	metrics_t *m;
	const char *v[] = { "p" };
	CHECK(metrics_open(NULL, 0, &m) == 0);
	long n = METRICS_MAX_POINTS + 50;
	for (long i = 0; i < n; i++)
		metrics_put(m, T0 + i * 60000, M_INVOCATIONS, SCOPE, 1, fn_names, v, 1, 0);
	struct counter c = { 0 };
	CHECK(metrics_query(m, SCOPE, M_INVOCATIONS, 1, fn_names, v, 0, INT64_MAX / 2, 60, count_periods, &c) == 0);
	/* the oldest minutes went */
	CHECK(c.periods == METRICS_MAX_POINTS);
	CHECK(c.first == T0 + 50 * 60000LL);
	metrics_close(m);
}

static int nseries;
static void count_cb(void *ud, const struct metrics_series_info *s)
{
	nseries++;
	if (s->id == M_DURATION && s->ndims == 1)
		CHECK_STR(s->values[0], "g");
}

static void test_file(void)
{
	char dir[] = "/tmp/lambdad-metrics-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	metrics_t *m;
	struct collect c;
	const char *v[] = { "g" };
	CHECK(metrics_open(dir, 0, &m) == 0);
	for (int i = 1; i <= 10; i++)
		metrics_fn_put(m, T0 + i, M_DURATION, SCOPE, "g", NULL, NULL, i * 10, 1);
	metrics_fn_put(m, T0 + 60000, M_ERRORS, SCOPE, "g", NULL, NULL, 1, 1);
	size_t n = metrics_series_count(m);
	CHECK(metrics_flush(m) == 0);
	metrics_close(m);
	CHECK(metrics_open(dir, 0, &m) == 0);
	CHECK(metrics_series_count(m) == n);
	CHECK(query(m, M_DURATION, 1, v, T0, T0 + 120000, 60, &c) == 0 && c.n == 1 && c.a[0].count == 10 &&
	      c.a[0].sum == 550 && c.a[0].min == 10 && c.a[0].max == 100);
	CHECK(fabs(c.p50[0] - 50) <= 50 * 0.05);
	nseries = 0;
	metrics_each(m, SCOPE, count_cb, NULL);
	CHECK(nseries == (int)n);
	metrics_close(m);
	/* a malformed file is set aside */
	char path[256], bad[256];
	snprintf(path, sizeof(path), "%s/metrics.json", dir);
	snprintf(bad, sizeof(bad), "%s/metrics.json.bad", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("{\"version\":1,\"series\":[{\"scope\":\"a:b\",\"metric\":\"Errors\",\"dims\":[],\"totals\":{},"
		      "\"points\":[[60000,1,1,1,1,[]],[60000,1,1,1,1,[]]]}]}",
		      f);
		fclose(f);
	}
	CHECK(metrics_open(dir, 0, &m) == 0);
	CHECK(metrics_series_count(m) == 0);
	CHECK(access(bad, F_OK) == 0);
	metrics_close(m);
	unlink(bad);
	unlink(path);
	rmdir(dir);
}

static void test_prometheus(void)
{
	metrics_t *m;
	buf_t out;
	CHECK(metrics_open(NULL, 0, &m) == 0);
	metrics_fn_put(m, T0, M_INVOCATIONS, SCOPE, "a\"b", NULL, NULL, 1, 1);
	metrics_fn_put(m, T0, M_INVOCATIONS, SCOPE, "a\"b", NULL, NULL, 1, 1);
	metrics_fn_put(m, T0, M_DURATION, SCOPE, "h", "prod", "2", 3, 1);
	metrics_on_mapping(m, M_POLLED_EVENT_COUNT, SCOPE, "uuid-1", 10);
	buf_init(&out, 0);
	CHECK(metrics_prometheus(m, &out) == 0);
	CHECK(buf_append(&out, "", 1) == 0);
	const char *t = out.data;
	CHECK(strstr(t, "# TYPE lambda_invocations_total counter\n") != NULL);
	CHECK(strstr(t, "lambda_invocations_total{account=\"000000000000\",region=\"us-east-1\",function=\"a\\\"b\","
			"resource=\"a\\\"b\"} 2\n") != NULL);
	/* the account's aggregate and {FunctionName} alone are CloudWatch's, not exposed (no double counting) */
	CHECK(strstr(t, "lambda_invocations_total{account=\"000000000000\",region=\"us-east-1\"}") == NULL);
	CHECK(strstr(t, "lambda_duration_milliseconds_bucket{account=\"000000000000\",region=\"us-east-1\","
			"function=\"h\",resource=\"h:prod\",version=\"2\",le=\"5\"} 1\n") != NULL);
	CHECK(strstr(t, "le=\"2.5\"} 0\n") != NULL);
	CHECK(strstr(t, "lambda_esm_polled_events_total{account=\"000000000000\",region=\"us-east-1\","
			"event_source_mapping=\"uuid-1\"} 10\n") != NULL);
	buf_free(&out);
	metrics_close(m);
}

int main(void)
{
	T_RUN(test_names);
	T_RUN(test_dimensions);
	T_RUN(test_periods_and_stats);
	T_RUN(test_series_cap);
	T_RUN(test_points_cap);
	T_RUN(test_file);
	T_RUN(test_prometheus);
	return t_done("test_metrics");
}
