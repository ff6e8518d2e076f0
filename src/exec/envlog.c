/*
 * envlog.c - an environment's log stream (envlog.h).
 *
 * Lines wait in e->log_pend, each with the time it was written, and go to
 * the log store (logs/logstore.h) in one append when the invocation
 * reports or within FLUSH_MS of the first waiting line. The runtime's
 * output passes a rate cap first (a bucket of srv->logs_env_rate bytes a
 * second, QUOTA_LOGS_ENV_BURST_S seconds deep): what overflows is dropped
 * and counted, the stream gets one line saying how much at the next flush,
 * and lambdad's own log says it at most every NOTICE_US per environment.
 */
#include "exec/envlog.h"
#include "exec/telemetry.h"
#include "logs/logstore.h"
#include "loop.h"
#include "quotas.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/ids.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FLUSH_MS 200          /* runtime output reaches the store within this */
#define LINE_CAP (256 * 1024) /* a partial line is logged as it is past this */
#define PEND_FLUSH (1024 * 1024) /* lines waiting past this are stored at once */
#define PEND_BATCH 512        /* events per append */
#define NOTICE_US 10000000ull /* lambdad's own log mentions drops this often per environment */
#define REC 12                /* a waiting line's header: i64 ms, u32 length */

void envlog_open(struct env *e)
{
	char hex[33], date[16];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y/%m/%d", &tm);
	ids_unique_hex(hex, 16);
	snprintf(e->stream, sizeof(e->stream), "%s/[%s]%s", date, e->pool->version, hex);
	json_t *lc = json_object_get(e->pool->cfg, "LoggingConfig");
	const char *fmt = json_string_value(json_object_get(lc, "LogFormat"));
	const char *group = json_string_value(json_object_get(lc, "LogGroup"));
	e->json_logs = fmt && !strcmp(fmt, "JSON");
	/* /aws/lambda/NAME, or LoggingConfig.LogGroup */
	char name[LOGSTORE_NAME_MAX + 1];
	if (group && *group)
		snprintf(name, sizeof(name), "%s", group);
	else
		snprintf(name, sizeof(name), "/aws/lambda/%s", e->pool->name);
	e->log_group = e->pool->x->srv->logs ? strdup(name) : NULL;
	buf_init(&e->log_pend, PEND_FLUSH + LINE_CAP * 2 + 4096);
	buf_init(&e->line, LINE_CAP * 2);
	e->log_tokens = -1; /* full at the first line */
}

/* the env's stream in the store, created when missing (a deleted group or
 * stream comes back, as on AWS) */
static ls_stream_t *stream_of(struct env *e)
{
	logstore_t *ls = e->pool->x->srv->logs;
	ls_group_t *g = logstore_group(ls, e->pool->scope, e->log_group);
	ls_stream_t *s = NULL;
	if (!g && logstore_group_create(ls, e->pool->scope, e->log_group, &g))
		return NULL;
	s = logstore_stream(g, e->stream);
	if (!s && logstore_stream_create(ls, g, e->stream, &s))
		return NULL;
	return s;
}

static void pend(struct env *e, int64_t ms, const char *text, size_t n)
{
	uint32_t len = (uint32_t)n;
	if (!e->log_group || buf_reserve(&e->log_pend, REC + n))
		return;
	buf_append(&e->log_pend, &ms, 8);
	buf_append(&e->log_pend, &len, 4);
	buf_append(&e->log_pend, text, n);
}

/* the waiting lines into the store */
static void store(struct env *e)
{
	if (!e->log_group || (!e->log_pend.len && !e->log_dropped))
		return;
	if (e->log_dropped) {
		char note[256];
		unsigned long long rate = e->pool->x->srv->logs_env_rate ? e->pool->x->srv->logs_env_rate
									 : QUOTA_LOGS_ENV_RATE;
		int k = snprintf(note, sizeof(note),
				 "lambdad: %llu bytes of output (%llu lines) dropped: this environment logged more than "
				 "%llu bytes a second (--logs-env-rate)\n",
				 (unsigned long long)e->log_dropped, (unsigned long long)e->log_dropped_lines, rate);
		pend(e, logstore_now_ms(), note, (size_t)k);
		e->log_dropped = e->log_dropped_lines = 0;
	}
	ls_stream_t *s = stream_of(e);
	struct logstore_event ev[PEND_BATCH];
	size_t n = 0, off = 0;
	while (s && off + REC <= e->log_pend.len) {
		uint32_t len;
		memcpy(&ev[n].ts, e->log_pend.data + off, 8);
		memcpy(&len, e->log_pend.data + off + 8, 4);
		ev[n].ingest = 0;
		ev[n].msg = e->log_pend.data + off + REC;
		ev[n].len = len;
		off += REC + len;
		if (++n == PEND_BATCH || off + REC > e->log_pend.len) {
			int rc = logstore_append(e->pool->x->srv->logs, s, ev, n);
			/* out of space: the store reported it (once per burst) and
			 * counts the lines for the stream's next append */
			if (rc && rc != LD_ENOSPC)
				fprintf(stderr, "lambdad: logs: cannot store %zu lines of %s\n", n, e->stream);
			n = 0; /* the cap drops segments, never streams: s stays */
		}
	}
	buf_reset(&e->log_pend);
}

static void flush(struct env *e)
{
	if (e->flush_timer) {
		loop_cancel(e->pool->x->srv->loop, e->flush_timer);
		e->flush_timer = 0;
	}
	store(e);
}

static void on_flush(void *ud)
{
	struct env *e = ud;
	e->flush_timer = 0;
	store(e);
}

void envlog_close(struct env *e)
{
	flush(e);
	free(e->log_group);
	e->log_group = NULL;
	buf_free(&e->log_pend);
	buf_free(&e->line);
}

void envlog_line(struct env *e, const char *text, size_t n)
{
	if (e->log_group) {
		pend(e, logstore_now_ms(), text, n);
		if (e->log_pend.len >= PEND_FLUSH)
			flush(e);
	}
	if (e->cur && !e->cur->finished && e->cur->log.len + n <= ENV_INVOCATION_LOG_CAP)
		buf_append(&e->cur->log, text, n);
}

void envlog_printf(struct env *e, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		envlog_line(e, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* the rate cap: 1 when n more bytes of output may be logged now */
static int within_rate(struct env *e, size_t n)
{
	server_t *srv = e->pool->x->srv;
	double rate = (double)(srv->logs_env_rate ? srv->logs_env_rate : QUOTA_LOGS_ENV_RATE);
	double burst = rate * QUOTA_LOGS_ENV_BURST_S;
	uint64_t now = env_now_us();
	if (e->log_tokens < 0)
		e->log_tokens = burst;
	else
		e->log_tokens += rate * (double)(now - e->log_tokens_us) / 1e6;
	if (e->log_tokens > burst)
		e->log_tokens = burst;
	e->log_tokens_us = now;
	if (e->log_tokens >= (double)n) {
		e->log_tokens -= (double)n;
		return 1;
	}
	if (!e->log_dropped && (!e->log_notice_us || now - e->log_notice_us >= NOTICE_US)) {
		fprintf(stderr,
			"lambdad: logs: function %s (stream %s) logs more than %.0f bytes a second: its output over "
			"that is dropped (--logs-env-rate)\n",
			e->pool->name, e->stream, rate);
		e->log_notice_us = now;
	}
	e->log_dropped += n;
	e->log_dropped_lines++;
	return 0;
}

static void output_line(struct env *e, const char *text, size_t n)
{
	if (!within_rate(e, n))
		return;
	envlog_line(e, text, n);
	if (tele_on(e))
		tele_line(e, TELE_FUNCTION, text, n && text[n - 1] == '\n' ? n - 1 : n);
}

void envlog_output(struct env *e, const char *data, size_t n)
{
	buf_append(&e->line, data, n);
	char *start = e->line.data, *nl;
	while ((nl = memchr(start, '\n', e->line.len - (size_t)(start - e->line.data)))) {
		output_line(e, start, (size_t)(nl - start) + 1);
		start = nl + 1;
	}
	size_t rest = e->line.len - (size_t)(start - e->line.data);
	if (rest >= LINE_CAP) {
		output_line(e, start, rest);
		rest = 0;
	}
	memmove(e->line.data, start, rest);
	e->line.len = rest;
	/* what the runtime printed reaches the store soon, even mid-invocation */
	if (e->log_group && !e->flush_timer && (e->log_pend.len || e->log_dropped)) {
		int64_t t = loop_timer(e->pool->x->srv->loop, FLUSH_MS, on_flush, e);
		e->flush_timer = t > 0 ? t : 0;
	}
}

/* {"time":"2024-01-01T00:00:00.000Z","type":"platform.X","record":{...}}\n;
 * takes the record */
static void record(struct env *e, const char *type, json_t *rec)
{
	struct timespec ts;
	struct tm tm;
	char when[64], date[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03ldZ", date, ts.tv_nsec / 1000000);
	json_t *line = json_pack("{s:s,s:s,s:o}", "time", when, "type", type, "record", rec);
	char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
	if (text) {
		envlog_line(e, text, strlen(text));
		envlog_line(e, "\n", 1);
	}
	free(text);
	json_decref(line);
}

/* "INIT_START Runtime Version: python:3.12.v1\tRuntime Version ARN: ...":
 * the stream only (the invocation's tail starts at START, as on AWS) */
void envlog_init_start(struct env *e, const struct runtime_info *rt)
{
	char ver[48];
	const char *arn = json_string_value(
		json_object_get(json_object_get(e->pool->cfg, "RuntimeVersionConfig"), "RuntimeVersionArn"));
	if (rt->kind == RUNTIME_PYTHON)
		snprintf(ver, sizeof(ver), "python:%s.v1", rt->id + strlen("python"));
	else if (rt->kind == RUNTIME_NODEJS)
		snprintf(ver, sizeof(ver), "nodejs:%d.v1", atoi(rt->id + strlen("nodejs")));
	else if (rt->kind == RUNTIME_JAVA)
		snprintf(ver, sizeof(ver), "java:%d.v1", atoi(rt->id + strlen("java")));
	else
		snprintf(ver, sizeof(ver), "provided:%s.v1", rt->id[8] == '.' ? rt->id + 9 : "al1");
	if (tele_on(e))
		tele_emit(e, TELE_PLATFORM, "platform.initStart",
			  json_pack("{s:s,s:s,s:s,s:s}", "initializationType", e->prov ? "provisioned-concurrency" : "on-demand",
				    "phase", "init", "runtimeVersion", ver, "runtimeVersionArn", arn ? arn : ""));
	if (e->json_logs)
		record(e, "platform.initStart",
		       json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "initializationType",
				 e->prov ? "provisioned-concurrency" : "on-demand", "phase", "init", "runtimeVersion", ver,
				 "runtimeVersionArn", arn ? arn : "", "functionName", e->pool->name, "functionVersion",
				 e->pool->version));
	else
		envlog_printf(e, "INIT_START Runtime Version: %s\tRuntime Version ARN: %s\n", ver, arn ? arn : "");
}

static void init_records(struct env *e, double ms, const char *status, const char *error_type)
{
	const char *type = e->prov ? "provisioned-concurrency" : "on-demand";
	json_t *done = json_pack("{s:s,s:s,s:s}", "initializationType", type, "phase", "init", "status", status);
	json_t *report = json_pack("{s:s,s:s,s:s,s:{s:f}}", "initializationType", type, "phase", "init", "status", status,
				   "metrics", "durationMs", round(ms * 100) / 100);
	if (error_type) {
		json_object_set_new(done, "errorType", json_string(error_type));
		json_object_set_new(report, "errorType", json_string(error_type));
	}
	tele_emit(e, TELE_PLATFORM, "platform.initRuntimeDone", done);
	tele_emit(e, TELE_PLATFORM, "platform.initReport", report);
}

void envlog_init_error(struct env *e, double ms, const char *error_type)
{
	envlog_printf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n", ms,
		      error_type);
	if (tele_on(e))
		init_records(e, ms, "error", error_type);
	flush(e);
}

void envlog_init_done(struct env *e, double ms)
{
	if (tele_on(e))
		init_records(e, ms, "success", NULL);
}

void envlog_subscribed(struct env *e, int logs_api, const char *name, int types)
{
	if (logs_api)
		envlog_printf(e, "LOGS\tName: %s\tState: Subscribed\tTypes: [%s%s%s%s%s]\n", name,
			      types & TELE_PLATFORM ? "platform" : "", types & TELE_PLATFORM && types > 1 ? "," : "",
			      types & TELE_FUNCTION ? "function" : "",
			      types & TELE_FUNCTION && types & TELE_EXTENSION ? "," : "",
			      types & TELE_EXTENSION ? "extension" : "");
	else
		envlog_printf(e, "TELEMETRY\tName: %s\tState: Subscribed\tTypes: [%s%s%s%s%s]\n", name,
			      types & TELE_PLATFORM ? "Platform" : "", types & TELE_PLATFORM && types > 1 ? ", " : "",
			      types & TELE_FUNCTION ? "Function" : "",
			      types & TELE_FUNCTION && types & TELE_EXTENSION ? ", " : "",
			      types & TELE_EXTENSION ? "Extension" : "");
}

/* Text lines are put together by hand: on the warm path they are written
 * on every invoke, and printf's machinery was a tenth of lambdad's own CPU
 * per invoke. */
struct line {
	char text[512];
	size_t n;
};

static void put(struct line *l, const char *s)
{
	size_t k = strlen(s);
	if (l->n + k < sizeof(l->text)) {
		memcpy(l->text + l->n, s, k);
		l->n += k;
	}
}

static void put_uint(struct line *l, unsigned long long v)
{
	char d[24];
	int i = sizeof(d);
	d[--i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) && i > 0);
	put(l, d + i);
}

/* microseconds as milliseconds with two decimals ("12.34"), as %.2f would */
static void put_ms2(struct line *l, uint64_t us)
{
	uint64_t hundredths = (us + 5) / 10;
	char frac[4] = { '.', (char)('0' + hundredths / 10 % 10), (char)('0' + hundredths % 10), '\0' };
	put_uint(l, hundredths / 100);
	put(l, frac);
}

void envlog_start(struct env *e)
{
	struct invocation *inv = e->cur;
	if (tele_on(e))
		tele_emit(e, TELE_PLATFORM, "platform.start",
			  json_pack("{s:s,s:s}", "requestId", inv->request_id, "version", e->pool->version));
	if (e->json_logs) {
		record(e, "platform.start", json_pack("{s:s,s:s}", "requestId", inv->request_id, "version", e->pool->version));
		return;
	}
	struct line l = { .n = 0 };
	put(&l, "START RequestId: ");
	put(&l, inv->request_id);
	put(&l, " Version: ");
	put(&l, e->pool->version);
	put(&l, "\n");
	envlog_line(e, l.text, l.n);
}

/* END and REPORT of the invocation e->report describes */
static void write_report(struct env *e, const char *status, const char *error_type, const char *fn_error)
{
	int mem = e->proc ? sandbox_memory_peak_mb(e->proc) : -1;
	json_int_t size = json_integer_value(json_object_get(e->pool->cfg, "MemorySize"));
	const char *request_id = e->report.request_id;
	uint64_t us = env_now_us() - e->report.start_us;
	double ms = (double)us / 1000.0;
	e->report.pending = 0;
	if (tele_on(e) || e->json_logs) {
		json_t *metrics = json_pack("{s:f,s:I,s:I,s:I}", "durationMs", round(ms * 100) / 100, "billedDurationMs",
					    (json_int_t)ceil(ms), "memorySizeMB", size, "maxMemoryUsedMB",
					    (json_int_t)(mem > 0 ? mem : 1));
		if (!e->init_reported)
			json_object_set_new(metrics, "initDurationMs", json_real(round(e->init_ms * 100) / 100));
		json_t *rec = json_pack("{s:s,s:o,s:s}", "requestId", request_id, "metrics", metrics, "status",
					status ? status : fn_error ? "error" : "success");
		if (error_type || fn_error)
			json_object_set_new(rec, "errorType", json_string(error_type ? error_type : fn_error));
		if (tele_on(e)) {
			tele_emit(e, TELE_PLATFORM, "platform.end", json_pack("{s:s}", "requestId", request_id));
			tele_emit(e, TELE_PLATFORM, "platform.report", json_incref(rec));
		}
		if (e->json_logs) {
			e->init_reported = 1;
			record(e, "platform.report", rec);
			flush(e);
			return;
		}
		json_decref(rec);
	}
	struct line l = { .n = 0 };
	put(&l, "END RequestId: ");
	put(&l, request_id);
	put(&l, "\nREPORT RequestId: ");
	put(&l, request_id);
	put(&l, "\tDuration: ");
	put_ms2(&l, us);
	put(&l, " ms\tBilled Duration: ");
	put_uint(&l, (us + 999) / 1000);
	put(&l, " ms\tMemory Size: ");
	put_uint(&l, (unsigned long long)size);
	put(&l, " MB\tMax Memory Used: ");
	put_uint(&l, (unsigned long long)(mem > 0 ? mem : 1));
	put(&l, " MB\t");
	if (!e->init_reported) {
		put(&l, "Init Duration: ");
		put_ms2(&l, (uint64_t)(e->init_ms * 1000.0));
		put(&l, " ms\t");
		e->init_reported = 1;
	}
	if (status) {
		put(&l, "Status: ");
		put(&l, status);
		put(&l, "\t");
		if (error_type) {
			put(&l, "Error Type: ");
			put(&l, error_type);
			put(&l, "\t");
		}
	}
	put(&l, "\n");
	envlog_line(e, l.text, l.n);
	flush(e);
}

void envlog_report(struct env *e, const char *status, const char *error_type, const char *fn_error, int defer)
{
	struct invocation *inv = e->cur;
	memcpy(e->report.request_id, inv->request_id, sizeof(e->report.request_id));
	e->report.start_us = inv->start_us;
	e->report.runtime_us = env_now_us() - inv->start_us;
	if (tele_on(e)) {
		json_t *rec = json_pack("{s:s,s:s,s:{s:f}}", "requestId", inv->request_id, "status",
					status ? status : fn_error ? "error" : "success", "metrics", "durationMs",
					round((double)e->report.runtime_us / 10.0) / 100);
		if (error_type || fn_error)
			json_object_set_new(rec, "errorType", json_string(error_type ? error_type : fn_error));
		tele_emit(e, TELE_PLATFORM, "platform.runtimeDone", rec);
	}
	if (defer && !status) {
		/* extensions still work on it: the invocation ends when they call next */
		e->report.pending = 1;
		snprintf(e->report.fn_error, sizeof(e->report.fn_error), "%s", fn_error ? fn_error : "");
		return;
	}
	write_report(e, status, error_type, fn_error);
}

void envlog_report_pending(struct env *e, const char *status)
{
	if (!e->report.pending)
		return;
	write_report(e, status, NULL, e->report.fn_error[0] ? e->report.fn_error : NULL);
}

char *envlog_tail(const struct invocation *inv)
{
	if (!inv->want_tail || !inv->log.len)
		return NULL;
	size_t n = inv->log.len > ENV_TAIL_BYTES ? ENV_TAIL_BYTES : inv->log.len;
	return b64_encode(inv->log.data + inv->log.len - n, n);
}
