/*
 * cloudwatch.c - the CloudWatch metrics API subset that reads AWS/Lambda
 * (GetMetricStatistics, GetMetricData, ListMetrics) and GET /metrics in
 * Prometheus text (docs/metrics.md).
 *
 * One handler serves CloudWatch's three protocols, told apart by the
 * request: Smithy rpc-v2-cbor (POST /service/GraniteServiceVersion20100801/
 * operation/OP, CBOR bodies), awsJson1_0 (POST / with X-Amz-Target:
 * GraniteServiceVersion20100801.OP: botocore 1.43, boto3 and the AWS CLI v1)
 * and query (POST / with a form body, Action=OP, XML answers: the AWS CLI v2
 * 2.9 of Debian). Each request is decoded into one JSON document of the
 * model's member names, an operation turns it into a result document or an
 * error code of the query protocol (InvalidParameterValue, MissingParameter,
 * ...), and the answer is encoded in the request's protocol. Under --auth
 * enforce the request must be signed for the service `monitoring`.
 *
 * The data are the server's metrics (metrics/metrics.h), per account and
 * region of the caller. Only the AWS/Lambda namespace has metrics; others
 * are empty, as an account without them would be.
 */
#include "api/api.h"

#include "auth/auth.h"
#include "metrics/metrics.h"
#include "model/apierr.h"
#include "util/awsquery.h"
#include "util/cborjson.h"
#include "util/err.h"
#include "util/jsonw.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CW_XMLNS "http://monitoring.amazonaws.com/doc/2010-08-01/"
#define CW_TARGET "GraniteServiceVersion20100801."
#define CW_CBOR_PATH "/service/GraniteServiceVersion20100801/operation/"
#define CW_MAX_DATAPOINTS 1440      /* GetMetricStatistics: datapoints of one answer */
#define CW_MAX_QUERIES 500          /* GetMetricData: queries of one request */
#define CW_MAX_DIMENSIONS 30        /* dimensions of one metric */
#define CW_MAX_EXTENDED 10          /* ExtendedStatistics of one request */
#define CW_LIST_PAGE 500            /* ListMetrics: metrics per page */
#define CW_GMD_MAX_POINTS 100800    /* GetMetricData: datapoints of one answer */

enum proto { P_QUERY, P_JSON, P_CBOR };

static const char *const ts_keys[] = { "Timestamp", "Timestamps", NULL };
static const char *const map_keys[] = { "ExtendedStatistics", NULL };

/* an error of an operation, in the query protocol's terms */
struct cw_err {
	const char *code;
	char message[1024];
	const char *shape; /* JSON and CBOR's __type when not the table's (auth errors) */
	int status;        /* when not the table's */
};

static int fail(struct cw_err *e, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct cw_err *e, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	e->code = code;
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return LD_EAPI;
}

/* the error shape of a query code (JSON and CBOR's __type) and its status */
static const struct {
	const char *code, *shape;
	int status;
} errors[] = {
	{ "InvalidParameterValue", "InvalidParameterValueException", 400 },
	{ "MissingParameter", "MissingRequiredParameterException", 400 },
	{ "InvalidParameterCombination", "InvalidParameterCombinationException", 400 },
	{ "InvalidNextToken", "InvalidNextToken", 400 },
	{ "InvalidAction", "UnknownOperationException", 400 },
	{ "InternalServiceError", "InternalServiceFault", 500 },
};

/* ---- reading the input: members as the protocols carry them ---- */

/* a number: JSON's and CBOR's, or the query protocol's string */
static int get_number(json_t *in, const char *key, double *out)
{
	json_t *v = json_object_get(in, key);
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 1;
	}
	const char *s = json_string_value(v);
	char *end;
	if (!s || !*s)
		return v ? -1 : 0;
	*out = strtod(s, &end);
	return *end || !isfinite(*out) ? -1 : 1;
}

/* a timestamp in ms: epoch seconds (a number, or digits), or ISO 8601
 * (YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM]); 0 absent, 1 read, -1 malformed */
static int get_time(json_t *in, const char *key, int64_t *ms)
{
	json_t *v = json_object_get(in, key);
	const char *s = json_string_value(v);
	double d;
	if (!v)
		return 0;
	if (json_is_number(v) || (s && s[0] && strspn(s, "0123456789.") == strlen(s))) {
		if (get_number(in, key, &d) != 1 || d < 0 || d > 32503680000.0)
			return -1;
		*ms = (int64_t)llround(d * 1000);
		return 1;
	}
	if (!s)
		return -1;
	struct tm tm = { 0 };
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	if (tm.tm_year < 1970 || tm.tm_year > 2999 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t frac = 0;
	const char *p = s + 19;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		for (; digits < 3; digits++)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6)
			return -1;
		off = (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
		p += 6;
	}
	if (*p)
		return -1;
	*ms = ((int64_t)timegm(&tm) - off) * 1000 + frac;
	return 1;
}

static const char *get_str(json_t *in, const char *key)
{
	return json_string_value(json_object_get(in, key));
}

/* a list member: the array itself (JSON, CBOR, query's member.N) */
static json_t *get_list(json_t *in, const char *key)
{
	json_t *v = json_object_get(in, key);
	return json_is_array(v) ? v : NULL;
}

/* Dimensions [{Name, Value}] into names/values; filter: Value may be absent */
static int get_dims(json_t *list, int filter, const char **names, const char **values, int *n, struct cw_err *e)
{
	size_t i;
	json_t *d;
	*n = 0;
	if (json_array_size(list) > CW_MAX_DIMENSIONS)
		return fail(e, "InvalidParameterValue", "The collection Dimensions must not have a size greater than %d.",
			    CW_MAX_DIMENSIONS);
	json_array_foreach(list, i, d) {
		const char *name = get_str(d, "Name"), *value = get_str(d, "Value");
		if (!name || !*name)
			return fail(e, "MissingParameter", "The parameter Dimensions.member.%zu.Name is required.", i + 1);
		if (!filter && !value)
			return fail(e, "MissingParameter", "The parameter Dimensions.member.%zu.Value is required.", i + 1);
		for (int j = 0; j < *n; j++)
			if (!strcmp(names[j], name))
				return fail(e, "InvalidParameterValue",
					    "No Metric may specify the same dimension name twice.");
		names[*n] = name;
		values[*n] = value;
		(*n)++;
	}
	return 0;
}

/* a percentile statistic "pNN" or "pNN.NN" (0 < NN <= 100): its value */
static int percentile_of(const char *s, double *p)
{
	char *end;
	if (!s || s[0] != 'p' || !isdigit((unsigned char)s[1]))
		return 0;
	*p = strtod(s + 1, &end);
	return !*end && *p >= 0 && *p <= 100 && strlen(s) <= 7;
}

static const char *const basic_stats[] = { "SampleCount", "Average", "Sum", "Minimum", "Maximum" };

static double stat_value(const struct metrics_agg *a, const char *stat)
{
	double p;
	if (!strcmp(stat, "SampleCount"))
		return (double)a->count;
	if (!strcmp(stat, "Average"))
		return a->count ? a->sum / (double)a->count : 0;
	if (!strcmp(stat, "Sum"))
		return a->sum;
	if (!strcmp(stat, "Minimum"))
		return a->min;
	if (!strcmp(stat, "Maximum"))
		return a->max;
	if (percentile_of(stat, &p))
		return metrics_percentile(a, p);
	return NAN;
}

static int valid_stat(const char *s)
{
	double p;
	for (size_t i = 0; i < sizeof(basic_stats) / sizeof(basic_stats[0]); i++)
		if (s && !strcmp(s, basic_stats[i]))
			return 1;
	return percentile_of(s, &p);
}

static json_t *number(double v)
{
	return json_real(isfinite(v) ? v : 0);
}

/* ---- GetMetricStatistics ---- */

struct gms {
	json_t *points;
	json_t *stats, *ext;
	const char *unit;
};

static void gms_point(void *ud, const struct metrics_agg *a)
{
	struct gms *g = ud;
	json_t *dp = json_object();
	size_t i;
	json_t *s;
	json_object_set_new(dp, "Timestamp", json_integer(a->start_ms / 1000));
	json_array_foreach(g->stats, i, s) json_object_set_new(dp, json_string_value(s),
							       number(stat_value(a, json_string_value(s))));
	if (json_array_size(g->ext)) {
		json_t *m = json_object();
		json_array_foreach(g->ext, i, s) json_object_set_new(m, json_string_value(s),
								     number(stat_value(a, json_string_value(s))));
		json_object_set_new(dp, "ExtendedStatistics", m);
	}
	json_object_set_new(dp, "Unit", json_string(g->unit));
	json_array_append_new(g->points, dp);
}

static int time_range(json_t *in, int64_t *start, int64_t *end, struct cw_err *e)
{
	int rs = get_time(in, "StartTime", start), re = get_time(in, "EndTime", end);
	if (rs == 0)
		return fail(e, "MissingParameter", "The parameter StartTime is required.");
	if (re == 0)
		return fail(e, "MissingParameter", "The parameter EndTime is required.");
	if (rs < 0)
		return fail(e, "InvalidParameterValue", "The parameter StartTime must be a timestamp.");
	if (re < 0)
		return fail(e, "InvalidParameterValue", "The parameter EndTime must be a timestamp.");
	if (*start >= *end)
		return fail(e, "InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.");
	return 0;
}

static int period_of(json_t *in, const char *key, int required, int *period, struct cw_err *e)
{
	double p = 0;
	int g = get_number(in, key, &p);
	if (g == 0 && required)
		return fail(e, "MissingParameter", "The parameter %s is required.", key);
	if (g == 0) {
		*period = 0;
		return 0;
	}
	if (g < 0 || p < 1 || p != floor(p) || p > 31536000)
		return fail(e, "InvalidParameterValue", "The parameter %s must be greater than 0.", key);
	if ((long)p % 60)
		return fail(e, "InvalidParameterValue",
			    "The parameter %s must be a multiple of 60 for metrics kept at 1-minute resolution.", key);
	*period = (int)p;
	return 0;
}

static int op_get_metric_statistics(metrics_t *m, const char *scope, json_t *in, json_t **out, struct cw_err *e)
{
	const char *ns = get_str(in, "Namespace"), *name = get_str(in, "MetricName"), *unit = get_str(in, "Unit");
	const char *names[CW_MAX_DIMENSIONS], *values[CW_MAX_DIMENSIONS];
	int nd, period, rc;
	int64_t start, end;
	if (!ns)
		return fail(e, "MissingParameter", "The parameter Namespace is required.");
	if (!name)
		return fail(e, "MissingParameter", "The parameter MetricName is required.");
	if ((rc = time_range(in, &start, &end, e)) || (rc = period_of(in, "Period", 1, &period, e)))
		return rc;
	json_t *stats = get_list(in, "Statistics"), *ext = get_list(in, "ExtendedStatistics");
	if (!json_array_size(stats) && !json_array_size(ext))
		return fail(e, "MissingParameter", "Must specify either Statistics or ExtendedStatistics.");
	size_t i;
	json_t *s;
	json_array_foreach(stats, i, s) {
		double p;
		if (!valid_stat(json_string_value(s)) || percentile_of(json_string_value(s), &p))
			return fail(e, "InvalidParameterValue",
				    "The parameter Statistics.member.%zu must be one of SampleCount, Average, Sum, Minimum, "
				    "Maximum.", i + 1);
	}
	if (json_array_size(ext) > CW_MAX_EXTENDED)
		return fail(e, "InvalidParameterValue", "The collection ExtendedStatistics must not have a size greater "
			    "than %d.", CW_MAX_EXTENDED);
	json_array_foreach(ext, i, s) {
		double p;
		if (!percentile_of(json_string_value(s), &p))
			return fail(e, "InvalidParameterValue",
				    "The parameter ExtendedStatistics.member.%zu must be a percentile such as p99.", i + 1);
	}
	if ((rc = get_dims(get_list(in, "Dimensions"), 0, names, values, &nd, e)))
		return rc;
	int64_t periods = ((end - start) / 1000 + period - 1) / period;
	if (periods > CW_MAX_DATAPOINTS)
		return fail(e, "InvalidParameterCombination",
			    "You have requested up to %lld datapoints, which exceeds the limit of %d. You may reduce the "
			    "datapoints requested by increasing Period, or decreasing the time range.",
			    (long long)periods, CW_MAX_DATAPOINTS);
	int id = metrics_id(name);
	struct gms g = { .points = json_array(), .stats = stats, .ext = ext, .unit = id >= 0 ? metrics_unit(id) : "None" };
	if (!g.points)
		return LD_ENOMEM;
	if (id >= 0 && !strcmp(ns, "AWS/Lambda") && nd <= METRICS_MAX_DIMS && (!unit || !strcmp(unit, g.unit)) &&
	    (rc = metrics_query(m, scope, id, nd, names, values, start, end, period, gms_point, &g))) {
		json_decref(g.points);
		return rc;
	}
	*out = json_pack("{ssso}", "Label", name, "Datapoints", g.points);
	return *out ? 0 : LD_ENOMEM;
}

/* ---- GetMetricData ---- */

struct gmd {
	json_t *ts, *vals;
	const char *stat;
	size_t *budget;
};

static void gmd_point(void *ud, const struct metrics_agg *a)
{
	struct gmd *g = ud;
	if (!*g->budget)
		return;
	(*g->budget)--;
	json_array_append_new(g->ts, json_integer(a->start_ms / 1000));
	json_array_append_new(g->vals, number(stat_value(a, g->stat)));
}

static void reverse(json_t *a)
{
	size_t n = json_array_size(a);
	for (size_t i = 0; i < n / 2; i++) {
		json_t *x = json_incref(json_array_get(a, i)), *y = json_incref(json_array_get(a, n - 1 - i));
		json_array_set_new(a, i, y);
		json_array_set_new(a, n - 1 - i, x);
	}
}

static int valid_id(const char *id)
{
	if (!id || !islower((unsigned char)id[0]) || strlen(id) > 255)
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}

static int op_get_metric_data(metrics_t *m, const char *scope, json_t *in, json_t **out, struct cw_err *e)
{
	json_t *queries = get_list(in, "MetricDataQueries");
	int64_t start, end;
	int rc;
	double maxdp = CW_GMD_MAX_POINTS;
	if (!json_array_size(queries))
		return fail(e, "MissingParameter", "The parameter MetricDataQueries is required.");
	if (json_array_size(queries) > CW_MAX_QUERIES)
		return fail(e, "InvalidParameterValue", "The collection MetricDataQueries must not have a size greater "
			    "than %d.", CW_MAX_QUERIES);
	if ((rc = time_range(in, &start, &end, e)))
		return rc;
	const char *scan = get_str(in, "ScanBy");
	if (scan && strcmp(scan, "TimestampDescending") && strcmp(scan, "TimestampAscending"))
		return fail(e, "InvalidParameterValue", "The parameter ScanBy must be one of TimestampDescending, "
			    "TimestampAscending.");
	if (get_number(in, "MaxDatapoints", &maxdp) < 0 || maxdp < 1)
		return fail(e, "InvalidParameterValue", "The parameter MaxDatapoints must be greater than 0.");
	size_t budget = maxdp < CW_GMD_MAX_POINTS ? (size_t)maxdp : CW_GMD_MAX_POINTS;
	size_t i;
	json_t *q;
	json_array_foreach(queries, i, q) {
		const char *qid = get_str(q, "Id");
		if (!qid)
			return fail(e, "MissingParameter", "The parameter MetricDataQueries.member.%zu.Id is required.", i + 1);
		if (!valid_id(qid))
			return fail(e, "InvalidParameterValue",
				    "The value %s for parameter MetricDataQueries.member.%zu.Id is not valid: it must start "
				    "with a lowercase letter and hold only letters, numbers and underscores.", qid, i + 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(qid, get_str(json_array_get(queries, j), "Id")))
				return fail(e, "InvalidParameterValue", "The values for parameter Id in MetricDataQueries "
					    "must be unique. Duplicate: %s.", qid);
		if (json_object_get(q, "Expression"))
			return fail(e, "InvalidParameterValue", "Metric math expressions are not supported by lambdad: "
				    "MetricDataQueries.member.%zu must have a MetricStat.", i + 1);
		json_t *ms = json_object_get(q, "MetricStat");
		if (!json_is_object(ms))
			return fail(e, "InvalidParameterValue",
				    "Exactly one element of the MetricDataQueries.member.%zu must have MetricStat or "
				    "Expression.", i + 1);
		const char *stat = get_str(ms, "Stat");
		int period;
		if (!json_is_object(json_object_get(ms, "Metric")) || !get_str(json_object_get(ms, "Metric"), "MetricName"))
			return fail(e, "MissingParameter",
				    "The parameter MetricDataQueries.member.%zu.MetricStat.Metric.MetricName is required.", i + 1);
		if (!stat)
			return fail(e, "MissingParameter", "The parameter MetricDataQueries.member.%zu.MetricStat.Stat is "
				    "required.", i + 1);
		if (!valid_stat(stat))
			return fail(e, "InvalidParameterValue", "The value %s for parameter MetricDataQueries.member.%zu."
				    "MetricStat.Stat is not a valid statistic.", stat, i + 1);
		if ((rc = period_of(ms, "Period", 1, &period, e)))
			return rc;
	}
	json_t *results = json_array();
	if (!results)
		return LD_ENOMEM;
	json_array_foreach(queries, i, q) {
		json_t *ms = json_object_get(q, "MetricStat"), *metric = json_object_get(ms, "Metric");
		json_t *rd = json_object_get(q, "ReturnData");
		if (json_is_false(rd) || (json_is_string(rd) && !strcmp(json_string_value(rd), "false")))
			continue;
		const char *ns = get_str(metric, "Namespace"), *name = get_str(metric, "MetricName");
		const char *unit = get_str(ms, "Unit"), *label = get_str(q, "Label");
		const char *names[CW_MAX_DIMENSIONS], *values[CW_MAX_DIMENSIONS];
		int nd, period = 60;
		if ((rc = get_dims(get_list(metric, "Dimensions"), 0, names, values, &nd, e)) ||
		    (rc = period_of(ms, "Period", 1, &period, e))) {
			json_decref(results);
			return rc;
		}
		struct gmd g = { json_array(), json_array(), get_str(ms, "Stat"), &budget };
		int id = metrics_id(name);
		if (id >= 0 && ns && !strcmp(ns, "AWS/Lambda") && nd <= METRICS_MAX_DIMS &&
		    (!unit || !strcmp(unit, metrics_unit(id))))
			rc = metrics_query(m, scope, id, nd, names, values, start, end, period, gmd_point, &g);
		if (!scan || !strcmp(scan, "TimestampDescending")) {
			reverse(g.ts);
			reverse(g.vals);
		}
		json_array_append_new(results, json_pack("{sssssososs}", "Id", get_str(q, "Id"), "Label",
							 label ? label : name, "Timestamps", g.ts, "Values", g.vals,
							 "StatusCode", "Complete"));
		if (rc) {
			json_decref(results);
			return rc;
		}
	}
	*out = json_pack("{sos[]}", "MetricDataResults", results, "Messages");
	return *out ? 0 : LD_ENOMEM;
}

/* ---- ListMetrics ---- */

struct lm {
	const char *ns, *name;
	const char **fnames, **fvalues;
	int nf;
	int64_t active_since;
	size_t skip, seen;
	json_t *metrics;
	int more;
};

static void lm_series(void *ud, const struct metrics_series_info *s)
{
	struct lm *l = ud;
	if (!s->last_ms || s->last_ms < l->active_since)
		return;
	if (l->ns && strcmp(l->ns, "AWS/Lambda"))
		return;
	if (l->name && strcmp(l->name, metrics_name(s->id)))
		return;
	for (int i = 0; i < l->nf; i++) {
		int found = 0;
		for (int j = 0; j < s->ndims && !found; j++)
			found = !strcmp(l->fnames[i], s->names[j]) && (!l->fvalues[i] || !strcmp(l->fvalues[i], s->values[j]));
		if (!found)
			return;
	}
	if (l->seen++ < l->skip)
		return;
	if (json_array_size(l->metrics) >= CW_LIST_PAGE) {
		l->more = 1;
		return;
	}
	json_t *dims = json_array();
	for (int j = 0; j < s->ndims; j++)
		json_array_append_new(dims, json_pack("{ssss}", "Name", s->names[j], "Value", s->values[j]));
	json_array_append_new(l->metrics, json_pack("{ssssso}", "Namespace", "AWS/Lambda", "MetricName",
						    metrics_name(s->id), "Dimensions", dims));
}

static int op_list_metrics(metrics_t *m, const char *scope, json_t *in, json_t **out, struct cw_err *e)
{
	const char *names[CW_MAX_DIMENSIONS], *values[CW_MAX_DIMENSIONS];
	struct lm l = { .ns = get_str(in, "Namespace"), .name = get_str(in, "MetricName"), .fnames = names,
			.fvalues = values };
	int rc = get_dims(get_list(in, "Dimensions"), 1, names, values, &l.nf, e);
	if (rc)
		return rc;
	const char *ra = get_str(in, "RecentlyActive"), *token = get_str(in, "NextToken");
	if (ra && strcmp(ra, "PT3H"))
		return fail(e, "InvalidParameterValue", "The parameter RecentlyActive must be PT3H.");
	if (ra) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		l.active_since = ((int64_t)now.tv_sec - 3 * 3600) * 1000;
	}
	if (token) {
		char *end;
		unsigned long long v = strtoull(token, &end, 10);
		if (!*token || *end || v > 100000000ull)
			return fail(e, "InvalidNextToken", "The service couldn't process your request because the NextToken "
				    "is invalid.");
		l.skip = (size_t)v;
	}
	if (!(l.metrics = json_array()))
		return LD_ENOMEM;
	metrics_each(m, scope, lm_series, &l);
	*out = json_pack("{so}", "Metrics", l.metrics);
	if (*out && l.more) {
		char next[32];
		snprintf(next, sizeof(next), "%zu", l.skip + CW_LIST_PAGE);
		json_object_set_new(*out, "NextToken", json_string(next));
	}
	return *out ? 0 : LD_ENOMEM;
}

static const struct {
	const char *name;
	int (*fn)(metrics_t *m, const char *scope, json_t *in, json_t **out, struct cw_err *e);
} ops[] = {
	{ "GetMetricStatistics", op_get_metric_statistics },
	{ "GetMetricData", op_get_metric_data },
	{ "ListMetrics", op_list_metrics },
};

/* ---- the protocols ---- */

static int answer_error(req_t *r, enum proto p, const struct cw_err *e)
{
	const char *shape = e->shape ? e->shape : e->code;
	int status = e->status ? e->status : 400;
	char qe[160];
	for (size_t i = 0; !e->shape && i < sizeof(errors) / sizeof(errors[0]); i++)
		if (!strcmp(errors[i].code, e->code)) {
			shape = errors[i].shape;
			status = errors[i].status;
		}
	r->status = status;
	snprintf(qe, sizeof(qe), "%s;%s", e->code, status >= 500 ? "Receiver" : "Sender");
	if (p == P_QUERY) {
		r->content_type = "text/xml";
		return awsquery_error_xml(&r->raw, CW_XMLNS, status >= 500 ? "Receiver" : "Sender", e->code, e->message,
					  r->request_id);
	}
	char type[160];
	snprintf(type, sizeof(type), "com.amazonaws.cloudwatch#%s", shape);
	json_t *doc = json_pack("{ssss}", "__type", type, "message", e->message);
	int rc = doc ? 0 : LD_ENOMEM;
	if (!e->shape) /* modelled errors: the query code for the SDKs (awsQueryCompatible) */
		req_add_header(r, "x-amzn-query-error", qe);
	if (!rc && p == P_JSON) {
		/* jansson's writer: jsonw leaves out members named with '_' */
		char *text = json_dumps(doc, JSON_COMPACT);
		r->content_type = "application/x-amz-json-1.0";
		rc = text ? buf_puts(&r->raw, text) : LD_ENOMEM;
		free(text);
	} else if (!rc) {
		unsigned char *cb;
		size_t len;
		r->content_type = "application/cbor";
		req_add_header(r, "smithy-protocol", "rpc-v2-cbor");
		if (!(rc = cborjson_encode(doc, NULL, &cb, &len)))
			rc = buf_append(&r->raw, cb, len);
		free(cb);
	}
	json_decref(doc);
	return rc;
}

static int answer(req_t *r, enum proto p, const char *op, json_t *out)
{
	r->status = 200;
	if (p == P_QUERY) {
		r->content_type = "text/xml";
		return awsquery_xml(&r->raw, CW_XMLNS, op, out, r->request_id, ts_keys, map_keys);
	}
	if (p == P_JSON) {
		r->content_type = "application/x-amz-json-1.0";
		return jsonw_dump(out, &r->raw);
	}
	unsigned char *cb;
	size_t len;
	r->content_type = "application/cbor";
	req_add_header(r, "smithy-protocol", "rpc-v2-cbor");
	int rc = cborjson_encode(out, ts_keys, &cb, &len);
	if (!rc)
		rc = buf_append(&r->raw, cb, len);
	free(cb);
	return rc;
}

/* the auth error recorded in r->err, as the protocol's error */
static int auth_failed(req_t *r, enum proto p)
{
	struct cw_err e = { .status = 403 };
	char code[128], shape[128];
	const char *t = r->err.type ? r->err.type : "AccessDeniedException";
	size_t n = strlen(t);
	/* the query protocol's codes: its own names for two, else without the Exception suffix */
	if (!strcmp(t, "UnrecognizedClientException"))
		snprintf(code, sizeof(code), "InvalidClientTokenId");
	else if (!strcmp(t, "InvalidSignatureException"))
		snprintf(code, sizeof(code), "SignatureDoesNotMatch");
	else
		snprintf(code, sizeof(code), "%.*s", (int)(n > 9 && !strcmp(t + n - 9, "Exception") ? n - 9 : n), t);
	snprintf(shape, sizeof(shape), "%s", t);
	e.code = code;
	e.shape = shape;
	snprintf(e.message, sizeof(e.message), "%s", r->err.message ? r->err.message : "");
	ld_error_clear(&r->err);
	return answer_error(r, p, &e);
}

int api_cloudwatch(req_t *r)
{
	enum proto p;
	char op[64] = "";
	json_t *in = NULL, *out = NULL;
	struct cw_err e = { 0 };
	int rc;
	const char *target = r->header(r, "X-Amz-Target");
	if (!strncmp(r->path, CW_CBOR_PATH, strlen(CW_CBOR_PATH))) {
		p = P_CBOR;
		snprintf(op, sizeof(op), "%s", r->path + strlen(CW_CBOR_PATH));
	} else if (target) {
		p = P_JSON;
		if (!strncmp(target, CW_TARGET, strlen(CW_TARGET)))
			snprintf(op, sizeof(op), "%s", target + strlen(CW_TARGET));
	} else {
		p = P_QUERY;
	}
	if ((rc = auth_identify_service(r, "monitoring")) == LD_EAPI)
		return auth_failed(r, p);
	if (rc)
		return rc;
	char scope[96];
	snprintf(scope, sizeof(scope), "%s:%s", r->account, r->region);
	if (p == P_CBOR) {
		rc = r->body_len ? cborjson_decode(r->body, r->body_len, &in) : ((in = json_object()) ? 0 : LD_ENOMEM);
		if (rc == LD_EINVAL) {
			fail(&e, "SerializationException", "The request body is not valid CBOR.");
			goto error;
		}
	} else if (p == P_JSON) {
		in = r->body_len ? json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL) : json_object();
		if (!in) {
			fail(&e, "SerializationException", "The request body is not valid JSON.");
			goto error;
		}
	} else {
		rc = awsquery_decode(r->body, r->body_len, &in);
		if (rc == LD_EINVAL) {
			fail(&e, "MalformedQueryString", "The request's form body is malformed.");
			goto error;
		}
		const char *action = in ? get_str(in, "Action") : NULL;
		snprintf(op, sizeof(op), "%s", action ? action : "");
	}
	if (rc)
		goto out;
	if (!json_is_object(in)) {
		fail(&e, "SerializationException", "The request body must be a structure.");
		goto error;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, op)) {
			rc = ops[i].fn(r->srv->metrics, scope, in, &out, &e);
			if (rc == LD_EAPI)
				goto error;
			if (!rc)
				rc = answer(r, p, op, out);
			goto out;
		}
	if (p == P_QUERY)
		fail(&e, "InvalidAction", "Could not find operation %s for version 2010-08-01", op);
	else
		fail(&e, "UnknownOperationException", "Unknown operation %s", op);
error:
	rc = answer_error(r, p, &e);
out:
	json_decref(in);
	json_decref(out);
	return rc;
}

/* GET /metrics: Prometheus text; signed (service monitoring) under --auth enforce */
int api_metrics(req_t *r)
{
	int rc;
	if ((rc = auth_identify_service(r, "monitoring")))
		return rc;
	return api_metrics_open(r);
}

/* the same on --metrics-listen, which is not authenticated */
int api_metrics_open(req_t *r)
{
	int rc = metrics_prometheus(r->srv->metrics, &r->raw);
	if (rc)
		return rc;
	r->status = 200;
	r->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
