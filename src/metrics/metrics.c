/*
 * metrics.c - series of 1-minute points, their queries, their file and
 * their Prometheus text (metrics.h).
 *
 * Series live in a hash map by key ("SCOPE\x1fMETRIC\x1fNAME=VALUE..."; the
 * dimensions sorted by name) and in an array in creation order. A point is
 * one minute of one series: sum, min, max, count and, for timings, the
 * non-empty bins of a log-scale histogram (8 bins per doubling, so a
 * percentile is off by at most ~4.5%) kept as a small sparse array. Points
 * are appended in time order (the loop's wall clock); a value for a minute
 * older than the newest point of its series (a clock step back) is added
 * to the newest one. An invocation touches a dozen series: each function
 * (with qualifier and executed version) keeps pointers to its series in a
 * cache (fncache), so the hooks cost one lookup per event, not one per series
 * (~1.3 us per invocation measured on a loaded 2-core machine).
 *
 * The file (DATA/metrics.json) is written whole, to a temporary name and
 * renamed, with jansson: {"version":1,"series":[{"scope","metric","dims":
 * [[name,value]...],"prom","totals":{"sum","count","last","le":[...]},
 * "points":[[minute_ms,sum,min,max,count,[[bin,count]...]]...]}]}.
 */
#include "metrics/metrics.h"

#include "loop.h"
#include "util/err.h"
#include "util/strmap.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum kind { K_COUNTER, K_TIMING, K_GAUGE };

static const struct metric_def {
	const char *name;
	const char *unit;
	enum kind kind;
	const char *prom; /* Prometheus name (counters get _total) */
	const char *help;
} defs[M_COUNT] = {
	[M_INVOCATIONS] = { "Invocations", "Count", K_COUNTER, "lambda_invocations", "Invocations that ran (successes and function errors)" },
	[M_ERRORS] = { "Errors", "Count", K_COUNTER, "lambda_errors", "Invocations that ended in a function error" },
	[M_THROTTLES] = { "Throttles", "Count", K_COUNTER, "lambda_throttles", "Invocations refused for concurrency" },
	[M_DURATION] = { "Duration", "Milliseconds", K_TIMING, "lambda_duration_milliseconds", "Time the function code ran" },
	[M_CONCURRENT_EXECUTIONS] = { "ConcurrentExecutions", "Count", K_GAUGE, "lambda_concurrent_executions", "Invocations running" },
	[M_UNRESERVED_CONCURRENT_EXECUTIONS] = { "UnreservedConcurrentExecutions", "Count", K_GAUGE, "lambda_unreserved_concurrent_executions", "Invocations running on the unreserved pool" },
	[M_DEAD_LETTER_ERRORS] = { "DeadLetterErrors", "Count", K_COUNTER, "lambda_dead_letter_errors", "Events the dead-letter queue did not take" },
	[M_DESTINATION_DELIVERY_FAILURES] = { "DestinationDeliveryFailures", "Count", K_COUNTER, "lambda_destination_delivery_failures", "Records a destination did not take" },
	[M_ASYNC_EVENTS_RECEIVED] = { "AsyncEventsReceived", "Count", K_COUNTER, "lambda_async_events_received", "Events queued for asynchronous invocation" },
	[M_ASYNC_EVENT_AGE] = { "AsyncEventAge", "Milliseconds", K_TIMING, "lambda_async_event_age_milliseconds", "Time from queueing an event to invoking it" },
	[M_ASYNC_EVENTS_DROPPED] = { "AsyncEventsDropped", "Count", K_COUNTER, "lambda_async_events_dropped", "Events dropped without running successfully" },
	[M_ITERATOR_AGE] = { "IteratorAge", "Milliseconds", K_TIMING, "lambda_iterator_age_milliseconds", "Age of the last record of a stream batch when invoked" },
	[M_POLLED_EVENT_COUNT] = { "PolledEventCount", "Count", K_COUNTER, "lambda_esm_polled_events", "Events an event source mapping read" },
	[M_INVOKED_EVENT_COUNT] = { "InvokedEventCount", "Count", K_COUNTER, "lambda_esm_invoked_events", "Events that invoked the function" },
	[M_FILTERED_OUT_EVENT_COUNT] = { "FilteredOutEventCount", "Count", K_COUNTER, "lambda_esm_filtered_out_events", "Events FilterCriteria kept out" },
	[M_FAILED_INVOKE_EVENT_COUNT] = { "FailedInvokeEventCount", "Count", K_COUNTER, "lambda_esm_failed_invoke_events", "Events whose invocation failed" },
	[M_DROPPED_EVENT_COUNT] = { "DroppedEventCount", "Count", K_COUNTER, "lambda_esm_dropped_events", "Events dropped after retries or age" },
	[M_ON_FAILURE_DESTINATION_DELIVERED_EVENT_COUNT] = { "OnFailureDestinationDeliveredEventCount", "Count", K_COUNTER, "lambda_esm_on_failure_destination_delivered_events", "Events sent to the OnFailure destination" },
};

/* Prometheus histogram bounds of timings, milliseconds */
static const double le_bounds[] = { 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000 };
#define NLE (sizeof(le_bounds) / sizeof(le_bounds[0]))

struct bin {
	uint16_t idx;
	uint32_t count;
};

struct point {
	int64_t minute; /* ms, a multiple of 60,000 */
	double sum, min, max;
	uint64_t count;
	struct bin *bins;
	uint32_t nbins;
};

#define METRICS_MAX_KEY 4096 /* a series' key: scope, metric and dimensions (names and values are short) */

struct series {
	char *key;
	int id;
	char scope[80];
	int ndims;
	char *names[METRICS_MAX_DIMS];
	char *values[METRICS_MAX_DIMS];
	int prom;
	struct point *pts;
	size_t npts, cap;
	/* since the series began */
	double total_sum, last;
	uint64_t total_count;
	uint64_t le[NLE];
};

struct inflight {
	long n;
	struct series *conc;       /* ConcurrentExecutions of the function, or of the account */
	struct series *unreserved; /* the account's UnreservedConcurrentExecutions */
};

/* the series one function's events go to (metrics_fn_put), found once:
 * an invocation touches a dozen series, a lookup each would cost more
 * than the rest of the bookkeeping */
struct fncache {
	struct series *s[M_COUNT][4]; /* account, F, F+R, F+R+EV; NULL: not made yet */
};
#define METRICS_MAX_FNCACHE METRICS_MAX_SERIES

struct metrics {
	char *path;
	size_t max_series;
	strmap_t *by_key;
	struct series **all;
	size_t nall, capall;
	size_t npoints;
	strmap_t *inflight; /* "SCOPE\x1fNAME" and "SCOPE" -> struct inflight */
	strmap_t *fncache;  /* "SCOPE\x1fNAME\x1fQUALIFIER\x1fVERSION" -> struct fncache */
	struct loop *loop;
	int64_t timer;
	int dirty;
	int warned_cap;
};

const char *metrics_name(int id)
{
	return id >= 0 && id < M_COUNT ? defs[id].name : NULL;
}

const char *metrics_unit(int id)
{
	return id >= 0 && id < M_COUNT ? defs[id].unit : NULL;
}

int metrics_id(const char *name)
{
	for (int i = 0; name && i < M_COUNT; i++)
		if (!strcmp(defs[i].name, name))
			return i;
	return -1;
}

/* ---- histogram bins ---- */

static int bin_of(double v)
{
	if (!(v > 0.00390625)) /* 2^-8 ms and below, NaN */
		return 0;
	double b = floor((log2(v) + 8.0) * 8.0) + 1;
	return b >= METRICS_NBINS - 1 ? METRICS_NBINS - 1 : (int)b;
}

/* a bin's representative value: its geometric middle */
static double bin_value(int i)
{
	if (i <= 0)
		return 0;
	return exp2(((double)i - 0.5) / 8.0 - 8.0);
}

double metrics_percentile(const struct metrics_agg *a, double p)
{
	if (!a->count || !(p >= 0) || p > 100)
		return NAN;
	if (p <= 0)
		return a->min;
	if (p >= 100)
		return a->max;
	if (!a->bins) /* no histogram: the nearest of min and max */
		return p >= 50 ? a->max : a->min;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)a->count), seen = 0;
	if (rank < 1)
		rank = 1;
	for (int i = 0; i < METRICS_NBINS; i++) {
		seen += a->bins[i];
		if (seen >= rank) {
			double v = bin_value(i);
			return v < a->min ? a->min : v > a->max ? a->max : v;
		}
	}
	return a->max;
}

/* ---- series ---- */

static void point_free(struct point *p)
{
	free(p->bins);
	p->bins = NULL;
	p->nbins = 0;
}

static void series_free(struct series *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npts; i++)
		point_free(&s->pts[i]);
	free(s->pts);
	for (int i = 0; i < s->ndims; i++) {
		free(s->names[i]);
		free(s->values[i]);
	}
	free(s->key);
	free(s);
}

/* the key of (scope, id, dims) with dims sorted by name into order[] */
static int make_key(buf_t *k, const char *scope, int id, int ndims, const char *const *names,
		    const char *const *values, int order[METRICS_MAX_DIMS])
{
	for (int i = 0; i < ndims; i++)
		order[i] = i;
	for (int i = 1; i < ndims; i++)
		for (int j = i; j > 0 && strcmp(names[order[j - 1]], names[order[j]]) > 0; j--) {
			int t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	int rc = buf_printf(k, "%s\x1f%s", scope, defs[id].name);
	for (int i = 0; !rc && i < ndims; i++)
		rc = buf_printf(k, "\x1f%s=%s", names[order[i]], values[order[i]]);
	return rc ? rc : buf_append(k, "", 1);
}

static struct series *find(metrics_t *m, const char *scope, int id, int ndims, const char *const *names,
			   const char *const *values, int create, int *rc_out)
{
	buf_t k;
	int order[METRICS_MAX_DIMS];
	struct series *s = NULL;
	*rc_out = 0;
	buf_init(&k, METRICS_MAX_KEY);
	if (id < 0 || id >= M_COUNT || ndims < 0 || ndims > METRICS_MAX_DIMS || strlen(scope) >= sizeof(s->scope)) {
		*rc_out = LD_EINVAL;
		goto out;
	}
	if ((*rc_out = make_key(&k, scope, id, ndims, names, values, order)))
		goto out;
	s = strmap_get(m->by_key, k.data);
	if (s || !create)
		goto out;
	if (m->nall >= m->max_series) {
		if (!m->warned_cap) {
			fprintf(stderr, "lambdad: metrics: %zu series kept, the cap: new series are not recorded\n",
				m->nall);
			m->warned_cap = 1;
		}
		*rc_out = LD_ETOOBIG;
		goto out;
	}
	if (m->nall == m->capall) {
		size_t ncap = m->capall ? m->capall * 2 : 64;
		struct series **v = realloc(m->all, ncap * sizeof(*v));
		if (!v) {
			*rc_out = LD_ENOMEM;
			goto out;
		}
		m->all = v;
		m->capall = ncap;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->key = strdup(k.data))) {
		*rc_out = LD_ENOMEM;
		goto fail;
	}
	s->id = id;
	snprintf(s->scope, sizeof(s->scope), "%s", scope);
	for (int i = 0; i < ndims; i++) {
		s->names[i] = strdup(names[order[i]]);
		s->values[i] = strdup(values[order[i]]);
		s->ndims = i + 1;
		if (!s->names[i] || !s->values[i]) {
			*rc_out = LD_ENOMEM;
			goto fail;
		}
	}
	if (strmap_put(m->by_key, s->key, s)) {
		*rc_out = LD_ENOMEM;
		goto fail;
	}
	m->all[m->nall++] = s;
	goto out;
fail:
	series_free(s);
	s = NULL;
out:
	buf_free(&k);
	return s;
}

static int bins_add(struct point *p, int idx, uint32_t n)
{
	for (uint32_t i = 0; i < p->nbins; i++)
		if (p->bins[i].idx == idx) {
			p->bins[i].count += n;
			return 0;
		}
	struct bin *b = realloc(p->bins, (p->nbins + 1) * sizeof(*b));
	if (!b)
		return LD_ENOMEM;
	p->bins = b;
	p->bins[p->nbins++] = (struct bin){ (uint16_t)idx, n };
	return 0;
}

/* drops the oldest minute of every series: the points cap */
static void drop_oldest(metrics_t *m)
{
	int64_t oldest = INT64_MAX;
	for (size_t i = 0; i < m->nall; i++)
		if (m->all[i]->npts && m->all[i]->pts[0].minute < oldest)
			oldest = m->all[i]->pts[0].minute;
	for (size_t i = 0; i < m->nall; i++) {
		struct series *s = m->all[i];
		if (s->npts && s->pts[0].minute == oldest) {
			point_free(&s->pts[0]);
			memmove(s->pts, s->pts + 1, (s->npts - 1) * sizeof(*s->pts));
			s->npts--;
			m->npoints--;
		}
	}
}

/* A zeroed point for minute at the end of s (recorded or loaded), room
 * made first by dropping the oldest points past METRICS_MAX_POINTS; NULL
 * when memory runs out. */
static struct point *point_append(metrics_t *m, struct series *s, int64_t minute)
{
	while (m->npoints >= METRICS_MAX_POINTS && m->npoints)
		drop_oldest(m);
	if (s->npts == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4;
		struct point *np = realloc(s->pts, ncap * sizeof(*np));
		if (!np)
			return NULL;
		s->pts = np;
		s->cap = ncap;
	}
	struct point *p = &s->pts[s->npts++];
	memset(p, 0, sizeof(*p));
	p->minute = minute;
	m->npoints++;
	return p;
}

static int series_add(metrics_t *m, struct series *s, int64_t now_ms, double v)
{
	int64_t minute = now_ms - (now_ms % 60000);
	struct point *p = s->npts ? &s->pts[s->npts - 1] : NULL;
	if (!p || p->minute < minute) {
		if (!(p = point_append(m, s, minute)))
			return LD_ENOMEM;
		p->min = v;
		p->max = v;
	}
	p->sum += v;
	p->count++;
	if (v < p->min)
		p->min = v;
	if (v > p->max)
		p->max = v;
	s->total_sum += v;
	s->total_count++;
	s->last = v;
	if (defs[s->id].kind == K_TIMING) {
		for (size_t i = 0; i < NLE; i++)
			if (v <= le_bounds[i])
				s->le[i]++;
		if (bins_add(p, bin_of(v), 1))
			return LD_ENOMEM;
	}
	m->dirty = 1;
	return 0;
}

int metrics_put(metrics_t *m, int64_t now_ms, int id, const char *scope, int ndims, const char *const *names,
		const char *const *values, double value, int prom)
{
	int rc;
	if (!m)
		return 0;
	struct series *s = find(m, scope, id, ndims, names, values, 1, &rc);
	if (!s)
		return rc;
	if (prom)
		s->prom = 1;
	return series_add(m, s, now_ms, value);
}

static int is_alias(const char *q)
{
	if (!q || !*q || !strcmp(q, "$LATEST"))
		return 0;
	for (const char *p = q; *p; p++)
		if (*p < '0' || *p > '9')
			return 1;
	return 0;
}

/* a function's event: who it is, for the series it goes to */
struct fn_id {
	const char *scope, *name, *qualifier, *version;
	int alias; /* the qualifier is an alias and the version is known: + ExecutedVersion */
};

/* the series of slot (0 account, 1 F, 2 F+R, 3 F+R+EV) of id, from fc or made */
static struct series *fn_series(metrics_t *m, struct fncache *fc, int id, int slot, const struct fn_id *f)
{
	struct series *s = fc ? fc->s[id][slot] : NULL;
	if (s)
		return s;
	char resource[256];
	const char *names[3] = { "FunctionName", "Resource", "ExecutedVersion" };
	const char *values[3] = { f->name, resource, f->version ? f->version : "$LATEST" };
	int rc;
	if (f->qualifier && *f->qualifier)
		snprintf(resource, sizeof(resource), "%s:%s", f->name, f->qualifier);
	else
		snprintf(resource, sizeof(resource), "%s", f->name);
	s = find(m, f->scope, id, slot, names, values, 1, &rc);
	if (s && fc)
		fc->s[id][slot] = s;
	/* Prometheus shows each event once, in its finest series */
	if (s && (slot == 3 || (slot == 2 && !f->alias)))
		s->prom = 1;
	return s;
}

static struct fncache *fncache_of(metrics_t *m, const struct fn_id *f)
{
	char key[600];
	size_t n = 0;
	const char *parts[4] = { f->scope, f->name, f->qualifier ? f->qualifier : "", f->version ? f->version : "\x1e" };
	for (int i = 0; i < 4; i++) {
		size_t l = strlen(parts[i]);
		if (n + l + 2 > sizeof(key))
			return NULL;
		memcpy(key + n, parts[i], l);
		n += l;
		key[n++] = '\x1f';
	}
	key[n] = 0;
	struct fncache *fc = strmap_get(m->fncache, key);
	if (fc || strmap_size(m->fncache) >= METRICS_MAX_FNCACHE)
		return fc;
	if (!(fc = calloc(1, sizeof(*fc))))
		return NULL;
	if (strmap_put(m->fncache, key, fc)) {
		free(fc);
		return NULL;
	}
	return fc;
}

static void fn_put(metrics_t *m, struct fncache *fc, int64_t now_ms, int id, const struct fn_id *f, double value,
		   int account)
{
	for (int slot = account ? 0 : 1; slot <= (f->alias ? 3 : 2); slot++) {
		struct series *s = fn_series(m, fc, id, slot, f);
		if (s)
			series_add(m, s, now_ms, value);
	}
}

static int fn_ident(struct fn_id *f, const char *scope, const char *name, const char *qualifier, const char *version)
{
	*f = (struct fn_id){ scope, name, qualifier, version, is_alias(qualifier) && version };
	return scope && name;
}

void metrics_fn_put(metrics_t *m, int64_t now_ms, int id, const char *scope, const char *name, const char *qualifier,
		    const char *version, double value, int account)
{
	struct fn_id f;
	if (!m || id < 0 || id >= M_COUNT || !fn_ident(&f, scope, name, qualifier, version))
		return;
	fn_put(m, fncache_of(m, &f), now_ms, id, &f, value, account);
}

void metrics_on_invoked(metrics_t *m, const char *scope, const char *name, const char *qualifier, const char *version,
			int error, double duration_ms)
{
	struct fn_id f;
	if (!m || !fn_ident(&f, scope, name, qualifier, version))
		return;
	int64_t now = loop_wall_ms();
	struct fncache *fc = fncache_of(m, &f);
	fn_put(m, fc, now, M_INVOCATIONS, &f, 1, 1);
	/* AWS sends Errors with 0 too: Errors / Invocations is the error rate */
	fn_put(m, fc, now, M_ERRORS, &f, error ? 1 : 0, 1);
	if (duration_ms >= 0)
		fn_put(m, fc, now, M_DURATION, &f, duration_ms, 1);
}

void metrics_on_throttled(metrics_t *m, const char *scope, const char *name, const char *qualifier)
{
	if (!m)
		return;
	metrics_fn_put(m, loop_wall_ms(), M_THROTTLES, scope, name, qualifier, NULL, 1, 1);
}

static struct inflight *inflight_of(metrics_t *m, const char *key)
{
	struct inflight *f = strmap_get(m->inflight, key);
	if (!f) {
		if (strmap_size(m->inflight) >= METRICS_MAX_FNCACHE || !(f = calloc(1, sizeof(*f))))
			return NULL;
		if (strmap_put(m->inflight, key, f)) {
			free(f);
			return NULL;
		}
	}
	return f;
}

static void gauge_put(metrics_t *m, struct series **cache, int64_t now, int id, const char *scope, int nd,
		      const char *const *names, const char *const *values, double v, int prom)
{
	int rc;
	if (!*cache)
		*cache = find(m, scope, id, nd, names, values, 1, &rc);
	if (*cache) {
		if (prom)
			(*cache)->prom = 1;
		series_add(m, *cache, now, v);
	}
}

void metrics_on_concurrency(metrics_t *m, const char *scope, const char *name, int delta, long unreserved_in_use)
{
	if (!m)
		return;
	char key[400];
	size_t ls = strlen(scope), ln = strlen(name);
	if (ls + ln + 2 > sizeof(key))
		return;
	memcpy(key, scope, ls);
	key[ls] = '\x1f';
	memcpy(key + ls + 1, name, ln + 1);
	struct inflight *fn = inflight_of(m, key), *acct = inflight_of(m, scope);
	if (!fn || !acct)
		return;
	fn->n += delta;
	acct->n += delta;
	if (fn->n < 0)
		fn->n = 0;
	if (acct->n < 0)
		acct->n = 0;
	if (delta <= 0)
		return; /* the maximum of a minute is what a start reaches */
	int64_t now = loop_wall_ms();
	const char *names[1] = { "FunctionName" };
	const char *values[1] = { name };
	/* the account's ConcurrentExecutions is CloudWatch's; Prometheus has the functions' */
	gauge_put(m, &acct->conc, now, M_CONCURRENT_EXECUTIONS, scope, 0, NULL, NULL, (double)acct->n, 0);
	gauge_put(m, &fn->conc, now, M_CONCURRENT_EXECUTIONS, scope, 1, names, values, (double)fn->n, 1);
	if (unreserved_in_use >= 0)
		gauge_put(m, &acct->unreserved, now, M_UNRESERVED_CONCURRENT_EXECUTIONS, scope, 0, NULL, NULL,
			  (double)unreserved_in_use, 1);
}

void metrics_on_function(metrics_t *m, int id, const char *scope, const char *name, const char *qualifier,
			 double value)
{
	if (!m)
		return;
	metrics_fn_put(m, loop_wall_ms(), id, scope, name, qualifier, NULL, value, 1);
}

void metrics_on_mapping(metrics_t *m, int id, const char *scope, const char *uuid, double value)
{
	if (!m)
		return;
	const char *names[1] = { "EventSourceMappingUUID" };
	const char *values[1] = { uuid };
	metrics_put(m, loop_wall_ms(), id, scope, 1, names, values, value, 1);
}

/* ---- reading ---- */

int metrics_query(metrics_t *m, const char *scope, int id, int ndims, const char *const *names,
		  const char *const *values, int64_t start_ms, int64_t end_ms, int period_s,
		  void (*fn)(void *ud, const struct metrics_agg *a), void *ud)
{
	int rc = 0;
	if (period_s <= 0 || period_s % 60)
		return LD_EINVAL;
	struct series *s = m ? find(m, scope, id, ndims, names, values, 0, &rc) : NULL;
	if (!s)
		return rc == LD_EINVAL ? 0 : rc;
	int64_t base = start_ms - (start_ms % 60000), plen = (int64_t)period_s * 1000;
	struct metrics_agg a = { 0 };
	int open = 0;
	if (defs[id].kind == K_TIMING && !(a.bins = calloc(METRICS_NBINS, sizeof(*a.bins))))
		return LD_ENOMEM;
	for (size_t i = 0; i < s->npts; i++) {
		const struct point *p = &s->pts[i];
		if (p->minute < base || p->minute >= end_ms)
			continue;
		int64_t pstart = base + ((p->minute - base) / plen) * plen;
		if (open && pstart != a.start_ms) {
			fn(ud, &a);
			open = 0;
		}
		if (!open) {
			a.start_ms = pstart;
			a.sum = 0;
			a.count = 0;
			a.min = p->min;
			a.max = p->max;
			if (a.bins)
				memset(a.bins, 0, METRICS_NBINS * sizeof(*a.bins));
			open = 1;
		}
		a.sum += p->sum;
		a.count += p->count;
		if (p->min < a.min)
			a.min = p->min;
		if (p->max > a.max)
			a.max = p->max;
		for (uint32_t j = 0; a.bins && j < p->nbins; j++)
			if (p->bins[j].idx < METRICS_NBINS)
				a.bins[p->bins[j].idx] += p->bins[j].count;
	}
	if (open)
		fn(ud, &a);
	free(a.bins);
	return 0;
}

static int cmp_series(const void *x, const void *y)
{
	const struct series *a = *(struct series *const *)x, *b = *(struct series *const *)y;
	int c = strcmp(defs[a->id].name, defs[b->id].name);
	return c ? c : strcmp(a->key, b->key);
}

void metrics_each(metrics_t *m, const char *scope, void (*fn)(void *ud, const struct metrics_series_info *s),
		  void *ud)
{
	if (!m || !m->nall)
		return;
	struct series **v = malloc(m->nall * sizeof(*v));
	size_t n = 0;
	if (!v)
		return;
	for (size_t i = 0; i < m->nall; i++)
		if (!scope || !strcmp(m->all[i]->scope, scope))
			v[n++] = m->all[i];
	qsort(v, n, sizeof(*v), cmp_series);
	for (size_t i = 0; i < n; i++) {
		struct metrics_series_info info = { .id = v[i]->id, .ndims = v[i]->ndims };
		for (int j = 0; j < v[i]->ndims; j++) {
			info.names[j] = v[i]->names[j];
			info.values[j] = v[i]->values[j];
		}
		info.last_ms = v[i]->npts ? v[i]->pts[v[i]->npts - 1].minute : 0;
		fn(ud, &info);
	}
	free(v);
}

size_t metrics_series_count(const metrics_t *m)
{
	return m ? m->nall : 0;
}

/* ---- Prometheus ---- */

/* a label value, escaped as the text format asks (\\, \", \n) */
static int put_label(buf_t *out, const char *name, const char *v, int *first)
{
	int rc = buf_printf(out, "%s%s=\"", *first ? "" : ",", name);
	*first = 0;
	for (const char *p = v; !rc && *p; p++) {
		if (*p == '\\' || *p == '"')
			rc = buf_printf(out, "\\%c", *p);
		else if (*p == '\n')
			rc = buf_puts(out, "\\n");
		else
			rc = buf_append(out, p, 1);
	}
	return rc ? rc : buf_puts(out, "\"");
}

static int put_labels(buf_t *out, const struct series *s, const char *extra_name, const char *extra_val)
{
	static const struct {
		const char *dim, *label;
	} map[] = { { "FunctionName", "function" }, { "Resource", "resource" }, { "ExecutedVersion", "version" },
		    { "EventSourceMappingUUID", "event_source_mapping" } };
	char account[32], region[48];
	const char *colon = strchr(s->scope, ':');
	snprintf(account, sizeof(account), "%.*s", colon ? (int)(colon - s->scope) : (int)strlen(s->scope), s->scope);
	snprintf(region, sizeof(region), "%s", colon ? colon + 1 : "");
	int first = 1, rc = buf_puts(out, "{");
	if (!rc)
		rc = put_label(out, "account", account, &first);
	if (!rc)
		rc = put_label(out, "region", region, &first);
	for (size_t j = 0; !rc && j < sizeof(map) / sizeof(map[0]); j++)
		for (int i = 0; !rc && i < s->ndims; i++)
			if (!strcmp(map[j].dim, s->names[i]))
				rc = put_label(out, map[j].label, s->values[i], &first);
	if (!rc && extra_name)
		rc = put_label(out, extra_name, extra_val, &first);
	return rc ? rc : buf_puts(out, "}");
}

int metrics_prometheus(metrics_t *m, buf_t *out)
{
	int rc = 0;
	for (int id = 0; !rc && id < M_COUNT; id++) {
		const struct metric_def *d = &defs[id];
		int header = 0;
		for (size_t i = 0; !rc && m && i < m->nall; i++) {
			const struct series *s = m->all[i];
			if (s->id != id || !s->prom)
				continue;
			if (!header) {
				const char *type = d->kind == K_COUNTER ? "counter" : d->kind == K_TIMING ? "histogram" : "gauge";
				const char *suffix = d->kind == K_COUNTER ? "_total" : "";
				rc = buf_printf(out, "# HELP %s%s %s (AWS/Lambda %s).\n# TYPE %s%s %s\n", d->prom, suffix,
						d->help, d->name, d->prom, suffix, type);
				header = 1;
			}
			if (rc)
				break;
			if (d->kind == K_COUNTER) {
				rc = buf_printf(out, "%s_total", d->prom);
				if (!rc)
					rc = put_labels(out, s, NULL, NULL);
				if (!rc)
					rc = buf_printf(out, " %.17g\n", s->total_sum);
			} else if (d->kind == K_GAUGE) {
				rc = buf_puts(out, d->prom);
				if (!rc)
					rc = put_labels(out, s, NULL, NULL);
				if (!rc)
					rc = buf_printf(out, " %.17g\n", s->last);
			} else {
				char le[32];
				for (size_t j = 0; !rc && j <= NLE; j++) {
					if (j < NLE)
						snprintf(le, sizeof(le), "%g", le_bounds[j]);
					else
						snprintf(le, sizeof(le), "+Inf");
					rc = buf_printf(out, "%s_bucket", d->prom);
					if (!rc)
						rc = put_labels(out, s, "le", le);
					if (!rc)
						rc = buf_printf(out, " %llu\n",
								(unsigned long long)(j < NLE ? s->le[j] : s->total_count));
				}
				if (!rc)
					rc = buf_printf(out, "%s_sum", d->prom);
				if (!rc)
					rc = put_labels(out, s, NULL, NULL);
				if (!rc)
					rc = buf_printf(out, " %.17g\n%s_count", s->total_sum, d->prom);
				if (!rc)
					rc = put_labels(out, s, NULL, NULL);
				if (!rc)
					rc = buf_printf(out, " %llu\n", (unsigned long long)s->total_count);
			}
		}
	}
	if (!rc)
		rc = buf_printf(out, "# HELP lambdad_metrics_series Series of AWS/Lambda metrics kept (cap %zu).\n"
				     "# TYPE lambdad_metrics_series gauge\nlambdad_metrics_series %zu\n",
				m ? m->max_series : (size_t)METRICS_MAX_SERIES, metrics_series_count(m));
	return rc;
}

/* ---- the file ---- */

static json_t *series_json(const struct series *s)
{
	json_t *dims = json_array(), *pts = json_array(), *le = json_array();
	for (int i = 0; i < s->ndims; i++)
		json_array_append_new(dims, json_pack("[ss]", s->names[i], s->values[i]));
	for (size_t i = 0; i < NLE; i++)
		json_array_append_new(le, json_integer((json_int_t)s->le[i]));
	for (size_t i = 0; i < s->npts; i++) {
		const struct point *p = &s->pts[i];
		json_t *bins = json_array();
		for (uint32_t j = 0; j < p->nbins; j++)
			json_array_append_new(bins, json_pack("[iI]", p->bins[j].idx, (json_int_t)p->bins[j].count));
		json_array_append_new(pts, json_pack("[IfffIo]", (json_int_t)p->minute, p->sum, p->min, p->max,
						     (json_int_t)p->count, bins));
	}
	return json_pack("{sssssosbs{sfsIsfso}so}", "scope", s->scope, "metric", defs[s->id].name, "dims", dims, "prom",
			 s->prom, "totals", "sum", s->total_sum, "count", (json_int_t)s->total_count, "last", s->last,
			 "le", le, "points", pts);
}

int metrics_flush(metrics_t *m)
{
	int rc = 0;
	if (!m || !m->path)
		return 0;
	/* retention: points older than METRICS_RETENTION_MINUTES go */
	int64_t horizon = loop_wall_ms() - (int64_t)METRICS_RETENTION_MINUTES * 60000;
	for (size_t i = 0; i < m->nall; i++) {
		struct series *s = m->all[i];
		size_t k = 0;
		while (k < s->npts && s->pts[k].minute < horizon)
			point_free(&s->pts[k++]);
		if (k) {
			memmove(s->pts, s->pts + k, (s->npts - k) * sizeof(*s->pts));
			s->npts -= k;
			m->npoints -= k;
		}
	}
	json_t *all = json_array();
	for (size_t i = 0; all && i < m->nall; i++)
		if (json_array_append_new(all, series_json(m->all[i])))
			rc = LD_ENOMEM;
	json_t *doc = all ? json_pack("{sisO}", "version", 1, "series", all) : NULL;
	json_decref(all);
	if (!doc || rc) {
		json_decref(doc);
		return LD_ENOMEM;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", m->path);
	if (json_dump_file(doc, tmp, JSON_COMPACT) || rename(tmp, m->path)) {
		fprintf(stderr, "lambdad: metrics: cannot save %s: %s\n", m->path, strerror(errno));
		unlink(tmp);
		rc = LD_EIO;
	} else {
		m->dirty = 0;
	}
	json_decref(doc);
	return rc;
}

/* one series of the file; 0, or LD_ECORRUPT for a malformed entry */
static int load_series(metrics_t *m, json_t *js)
{
	const char *scope = json_string_value(json_object_get(js, "scope"));
	int id = metrics_id(json_string_value(json_object_get(js, "metric")));
	json_t *dims = json_object_get(js, "dims"), *pts = json_object_get(js, "points");
	json_t *tot = json_object_get(js, "totals"), *le = json_object_get(tot, "le");
	const char *names[METRICS_MAX_DIMS], *values[METRICS_MAX_DIMS];
	int rc;
	if (!scope || id < 0 || !json_is_array(dims) || json_array_size(dims) > METRICS_MAX_DIMS || !json_is_array(pts) ||
	    !json_is_object(tot))
		return LD_ECORRUPT;
	for (size_t i = 0; i < json_array_size(dims); i++) {
		names[i] = json_string_value(json_array_get(json_array_get(dims, i), 0));
		values[i] = json_string_value(json_array_get(json_array_get(dims, i), 1));
		if (!names[i] || !values[i])
			return LD_ECORRUPT;
	}
	struct series *s = find(m, scope, id, (int)json_array_size(dims), names, values, 1, &rc);
	if (!s)
		return rc == LD_ETOOBIG ? 0 : rc == LD_EINVAL ? LD_ECORRUPT : rc;
	if (s->npts)
		return LD_ECORRUPT; /* the same series twice */
	s->prom = json_is_true(json_object_get(js, "prom"));
	s->total_sum = json_number_value(json_object_get(tot, "sum"));
	s->total_count = (uint64_t)json_integer_value(json_object_get(tot, "count"));
	s->last = json_number_value(json_object_get(tot, "last"));
	for (size_t i = 0; i < NLE && i < json_array_size(le); i++)
		s->le[i] = (uint64_t)json_integer_value(json_array_get(le, i));
	size_t n = json_array_size(pts);
	int64_t prev = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(pts, i), *bins = json_array_get(p, 5);
		json_int_t minute = json_integer_value(json_array_get(p, 0));
		json_int_t count = json_integer_value(json_array_get(p, 4));
		if (!json_is_array(p) || !json_is_integer(json_array_get(p, 0)) || minute % 60000 || minute <= prev ||
		    count < 0 || !json_is_array(bins) || json_array_size(bins) > METRICS_NBINS)
			return LD_ECORRUPT;
		prev = minute;
		struct point *pt = point_append(m, s, minute);
		if (!pt)
			return LD_ENOMEM;
		pt->sum = json_number_value(json_array_get(p, 1));
		pt->min = json_number_value(json_array_get(p, 2));
		pt->max = json_number_value(json_array_get(p, 3));
		pt->count = (uint64_t)count;
		for (size_t j = 0; j < json_array_size(bins); j++) {
			json_int_t bi = json_integer_value(json_array_get(json_array_get(bins, j), 0));
			json_int_t bc = json_integer_value(json_array_get(json_array_get(bins, j), 1));
			if (bi < 0 || bi >= METRICS_NBINS || bc < 0 || bc > UINT32_MAX)
				return LD_ECORRUPT;
			if (bins_add(pt, (int)bi, (uint32_t)bc))
				return LD_ENOMEM;
		}
	}
	return 0;
}

int metrics_load_doc(metrics_t *m, json_t *doc)
{
	json_t *all = json_object_get(doc, "series");
	if (json_integer_value(json_object_get(doc, "version")) != 1 || !json_is_array(all))
		return LD_ECORRUPT;
	for (size_t i = 0; i < json_array_size(all); i++) {
		int rc = load_series(m, json_array_get(all, i));
		if (rc)
			return rc;
	}
	return 0;
}

static void free_all(metrics_t *m)
{
	for (size_t i = 0; i < m->nall; i++)
		series_free(m->all[i]);
	free(m->all);
	m->all = NULL;
	m->nall = m->capall = 0;
	m->npoints = 0;
	strmap_free(m->by_key, NULL);
	m->by_key = NULL;
}

int metrics_open(const char *data_dir, size_t max_series, metrics_t **out)
{
	metrics_t *m = calloc(1, sizeof(*m));
	*out = NULL;
	if (!m)
		return LD_ENOMEM;
	m->max_series = max_series ? max_series : METRICS_MAX_SERIES;
	m->timer = -1;
	if (strmap_new(&m->by_key) || strmap_new(&m->inflight) || strmap_new(&m->fncache))
		goto nomem;
	if (data_dir) {
		size_t n = strlen(data_dir) + sizeof("/metrics.json");
		if (!(m->path = malloc(n)))
			goto nomem;
		snprintf(m->path, n, "%s/metrics.json", data_dir);
		json_error_t jerr;
		json_t *doc = json_load_file(m->path, 0, &jerr);
		int rc = doc ? metrics_load_doc(m, doc) : access(m->path, F_OK) == 0 ? LD_ECORRUPT : 0;
		json_decref(doc);
		if (rc == LD_ENOMEM)
			goto nomem;
		if (rc) {
			char bad[4096];
			snprintf(bad, sizeof(bad), "%s.bad", m->path);
			fprintf(stderr, "lambdad: metrics: %s cannot be read; set aside as %s, starting empty\n", m->path,
				bad);
			rename(m->path, bad);
			free_all(m);
			if (strmap_new(&m->by_key))
				goto nomem;
		}
	}
	*out = m;
	return 0;
nomem:
	metrics_close(m);
	return LD_ENOMEM;
}

static void on_flush_timer(void *ud)
{
	metrics_t *m = ud;
	m->timer = -1;
	if (m->dirty)
		metrics_flush(m);
	m->timer = loop_timer(m->loop, METRICS_FLUSH_MS, on_flush_timer, m);
}

int metrics_start(metrics_t *m, struct loop *loop)
{
	m->loop = loop;
	m->timer = loop_timer(loop, METRICS_FLUSH_MS, on_flush_timer, m);
	return m->timer < 0 ? LD_ENOMEM : 0;
}

void metrics_close(metrics_t *m)
{
	if (!m)
		return;
	if (m->loop && m->timer >= 0)
		loop_cancel(m->loop, m->timer);
	if (m->dirty)
		metrics_flush(m);
	free_all(m);
	strmap_free(m->inflight, free);
	strmap_free(m->fncache, free);
	free(m->path);
	free(m);
}
