/*
 * cwlogs.c - the CloudWatch Logs API (cwlogs.h) over the log store.
 *
 * One table maps the operation of X-Amz-Target to its handler. A handler
 * reads the JSON body (c->in), checks its members against the constraints
 * of botocore's logs model (the bounds and patterns are written next to
 * each check; violations are gathered into AWS's "N validation errors
 * detected: ..." text, answered as InvalidParameterException as AWS does),
 * then works on srv->logs in the caller's ACCOUNT:REGION scope and writes
 * the answer as JSON 1.1.
 *
 * Reading: GetLogEvents walks one stream from a position (tokens
 * "f/..." and "b/..." name positions, logstore.h); FilterLogEvents merges
 * the chosen streams by timestamp with one cursor per stream, its nextToken
 * the timestamp to resume at and how many events of that timestamp were
 * already returned. Both hide events older than the group's retention
 * (the sweep drops whole segments; readers drop what is left in kept ones).
 */
#include "api/cwlogs.h"
#include "logs/logstore.h"
#include "loop.h"
#include "model/apierr.h"
#include "quotas.h"
#include "util/err.h"
#include "util/jsonw.h"
#include "util/eventstream.h"
#include "util/ids.h"
#include "util/logfilter.h"
#include "util/strmap.h"

#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	req_t *r;
	logstore_t *ls;
	json_t *in;
	json_t *out;
	char scope[96];
	buf_t verr;  /* validation violations, "; "-joined */
	int nerr;
	int serr;    /* a member of the wrong JSON type */
};

/* ---- validation from the model's constraints ---- */

enum pat { P_NONE, P_GROUP, P_STREAM, P_IDENT };

static const char *pat_text(enum pat p)
{
	switch (p) {
	case P_GROUP: return "[\\.\\-_/#A-Za-z0-9]+";
	case P_STREAM: return "[^:*]*";
	case P_IDENT: return "[\\w#+=/:,.@-]*";
	default: return "";
	}
}

static int pat_ok(enum pat p, const char *s)
{
	if (p == P_GROUP && !*s)
		return 0;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		int alnum = (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9');
		if (p == P_GROUP && !alnum && !strchr(".-_/#", *q))
			return 0;
		if (p == P_STREAM && (*q == ':' || *q == '*'))
			return 0;
		if (p == P_IDENT && !alnum && !strchr("_#+=/:,.@-", *q))
			return 0;
	}
	return 1;
}

static void violation(struct ctx *c, const char *value, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void violation(struct ctx *c, const char *value, const char *path, const char *fmt, ...)
{
	va_list ap;
	if (c->nerr++)
		buf_puts(&c->verr, "; ");
	if (value)
		buf_printf(&c->verr, "Value '%s' at '%s' failed to satisfy constraint: ", value, path);
	else
		buf_printf(&c->verr, "Value null at '%s' failed to satisfy constraint: ", path);
	va_start(ap, fmt);
	buf_vprintf(&c->verr, fmt, ap);
	va_end(ap);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* a string member: NULL when absent (or invalid, recorded) */
static const char *str_at(struct ctx *c, json_t *obj, const char *name, const char *path, int required, size_t min,
			  size_t max, enum pat p)
{
	json_t *v = json_object_get(obj, name);
	if (!v || json_is_null(v)) {
		if (required)
			violation(c, NULL, path, "Member must not be null");
		return NULL;
	}
	if (!json_is_string(v)) {
		c->serr = 1;
		return NULL;
	}
	const char *s = json_string_value(v);
	size_t n = utf8_chars(s);
	int bad = 0;
	if (p != P_NONE && !pat_ok(p, s)) {
		violation(c, s, path, "Member must satisfy regular expression pattern: %s", pat_text(p));
		bad = 1;
	}
	if (n < min) {
		violation(c, s, path, "Member must have length greater than or equal to %zu", min);
		bad = 1;
	}
	if (max && n > max) {
		violation(c, s, path, "Member must have length less than or equal to %zu", max);
		bad = 1;
	}
	return bad ? NULL : s;
}

static const char *str(struct ctx *c, const char *name, int required, size_t min, size_t max, enum pat p)
{
	return str_at(c, c->in, name, name, required, min, max, p);
}

/* an integer member: 1 present (in *out), 0 absent or invalid */
static int num(struct ctx *c, const char *name, long long min, long long max, long long *out)
{
	json_t *v = json_object_get(c->in, name);
	char text[32];
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v)) {
		c->serr = 1;
		return 0;
	}
	long long n = json_integer_value(v);
	snprintf(text, sizeof(text), "%lld", n);
	if (n < min) {
		violation(c, text, name, "Member must have value greater than or equal to %lld", min);
		return 0;
	}
	if (max && n > max) {
		violation(c, text, name, "Member must have value less than or equal to %lld", max);
		return 0;
	}
	*out = n;
	return 1;
}

static int flag(struct ctx *c, const char *name, int dflt)
{
	json_t *v = json_object_get(c->in, name);
	if (!v || json_is_null(v))
		return dflt;
	if (!json_is_boolean(v)) {
		c->serr = 1;
		return dflt;
	}
	return json_is_true(v);
}

/* after an operation's checks: the error to answer, or 0 */
static int checked(struct ctx *c)
{
	if (c->serr)
		return apierr_set(c->r, "SerializationException", "Unexpected value type in the request");
	if (c->nerr)
		return apierr_set(c->r, "InvalidParameterException", "%d validation error%s detected: %.*s", c->nerr,
				  c->nerr > 1 ? "s" : "", (int)c->verr.len, c->verr.data);
	return 0;
}

/* ---- lookups ---- */

static int no_group(struct ctx *c)
{
	return apierr_set(c->r, "ResourceNotFoundException", "The specified log group does not exist.");
}

static int no_stream(struct ctx *c)
{
	return apierr_set(c->r, "ResourceNotFoundException", "The specified log stream does not exist.");
}

/* logGroupName or logGroupIdentifier (a name or the group's ARN) */
static const char *group_name_or_id(struct ctx *c, char *buf, size_t cap)
{
	const char *name = str(c, "logGroupName", 0, 1, 512, P_GROUP);
	const char *id = str(c, "logGroupIdentifier", 0, 1, 2048, P_IDENT);
	if (name || !id)
		return name;
	const char *g = strstr(id, ":log-group:");
	if (strncmp(id, "arn:", 4) || !g)
		return id;
	snprintf(buf, cap, "%s", g + strlen(":log-group:"));
	size_t n = strlen(buf);
	if (n >= 2 && !strcmp(buf + n - 2, ":*"))
		buf[n - 2] = '\0';
	return buf;
}

static void group_arn(struct ctx *c, const char *name, int star, char *out, size_t cap)
{
	snprintf(out, cap, "arn:aws:logs:%s:%s:log-group:%s%s", c->r->region, c->r->account, name, star ? ":*" : "");
}

/* events older than the group's retention are not shown */
static int64_t visible_from(ls_group_t *g, int64_t start)
{
	struct logstore_group_info gi;
	logstore_group_info(g, &gi);
	if (gi.retention_days) {
		int64_t cut = logstore_now_ms() - (int64_t)gi.retention_days * 86400000;
		if (cut > start)
			return cut;
	}
	return start;
}

/* ---- tokens ---- */

int cwlogs_parse_describe_token(const char *tok, size_t *offset)
{
	char *end;
	if (!tok || strncmp(tok, "d/", 2) || tok[2] < '0' || tok[2] > '9' || strlen(tok) > 12)
		return LD_EINVAL;
	unsigned long long v = strtoull(tok + 2, &end, 10);
	if (*end)
		return LD_EINVAL;
	*offset = (size_t)v;
	return 0;
}

/* the Describe* page's nextToken (what cwlogs_parse_describe_token reads)
 * when items remain past next of n */
static void describe_token(json_t *out, size_t next, size_t n)
{
	char tok[32];
	if (next >= n)
		return;
	snprintf(tok, sizeof(tok), "d/%zu", next);
	json_object_set_new(out, "nextToken", json_string(tok));
}

int cwlogs_parse_filter_token(const char *tok, long long *ts, unsigned long long *skip)
{
	char *end;
	if (!tok || strncmp(tok, "e/", 2) || tok[2] < '0' || tok[2] > '9' || strlen(tok) > 48)
		return LD_EINVAL;
	unsigned long long t = strtoull(tok + 2, &end, 10);
	if (*end != '/' || t > (unsigned long long)INT64_MAX || end[1] < '0' || end[1] > '9')
		return LD_EINVAL;
	const char *s = end + 1;
	unsigned long long k = strtoull(s, &end, 10);
	if (*end || k > 1000000000ull)
		return LD_EINVAL;
	*ts = (long long)t;
	*skip = k;
	return 0;
}

static int bad_token(struct ctx *c)
{
	return apierr_set(c->r, "InvalidParameterException", "The specified nextToken is invalid.");
}

/* ---- groups ---- */

static int create_log_group(struct ctx *c)
{
	static const char *const classes[] = { "STANDARD", "INFREQUENT_ACCESS", "DELIVERY", NULL };
	const char *name = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	const char *cls = str(c, "logGroupClass", 0, 0, 0, P_NONE);
	str(c, "kmsKeyId", 0, 0, 256, P_NONE);
	int known = !cls;
	for (size_t i = 0; cls && classes[i]; i++)
		known |= !strcmp(cls, classes[i]);
	if (!known)
		violation(c, cls, "logGroupClass",
			  "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]");
	int rc = checked(c);
	if (rc)
		return rc;
	ls_group_t *g;
	rc = logstore_group_create(c->ls, c->scope, name, &g);
	if (rc == LD_EEXIST)
		return apierr_set(c->r, "ResourceAlreadyExistsException", "The specified log group already exists");
	return rc;
}

static int delete_log_group(struct ctx *c)
{
	const char *name = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	int rc = checked(c);
	if (rc)
		return rc;
	ls_group_t *g = logstore_group(c->ls, c->scope, name);
	return g ? logstore_group_delete(c->ls, g) : no_group(c);
}

static int describe_log_groups(struct ctx *c)
{
	long long limit = QUOTA_LOGS_DESCRIBE_LIMIT;
	size_t from = 0;
	const char *prefix = str(c, "logGroupNamePrefix", 0, 1, 512, P_GROUP);
	const char *tok = str(c, "nextToken", 0, 1, 0, P_NONE);
	num(c, "limit", 1, QUOTA_LOGS_DESCRIBE_LIMIT, &limit);
	int rc = checked(c);
	if (rc)
		return rc;
	if (tok && cwlogs_parse_describe_token(tok, &from))
		return bad_token(c);
	ls_group_t **v;
	size_t n = logstore_groups(c->ls, c->scope, prefix, &v);
	json_t *list = json_array();
	for (size_t i = from; i < n && i < from + (size_t)limit; i++) {
		struct logstore_group_info gi;
		char arn[700], garn[700];
		logstore_group_info(v[i], &gi);
		group_arn(c, gi.name, 1, arn, sizeof(arn));
		group_arn(c, gi.name, 0, garn, sizeof(garn));
		json_t *o = json_pack("{s:s,s:I}", "logGroupName", gi.name, "creationTime", (json_int_t)gi.created);
		if (gi.retention_days)
			json_object_set_new(o, "retentionInDays", json_integer(gi.retention_days));
		json_object_set_new(o, "metricFilterCount", json_integer(0));
		json_object_set_new(o, "arn", json_string(arn));
		json_object_set_new(o, "storedBytes", json_integer((json_int_t)gi.bytes));
		json_object_set_new(o, "logGroupClass", json_string("STANDARD"));
		json_object_set_new(o, "logGroupArn", json_string(garn));
		json_array_append_new(list, o);
	}
	c->out = json_pack("{s:o}", "logGroups", list);
	describe_token(c->out, from + (size_t)limit, n);
	free(v);
	return 0;
}

static const int retention_days[] = { 1,   3,   5,   7,    14,   30,   60,   90,   120,  150,  180,
				      365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 };

static int put_retention_policy(struct ctx *c)
{
	const char *name = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	long long days = 0;
	json_t *d = json_object_get(c->in, "retentionInDays");
	if (!d || json_is_null(d))
		violation(c, NULL, "retentionInDays", "Member must not be null");
	else if (num(c, "retentionInDays", LLONG_MIN, 0, &days)) {
		int ok = 0;
		for (size_t i = 0; i < sizeof(retention_days) / sizeof(*retention_days); i++)
			ok |= days == retention_days[i];
		if (!ok) {
			char text[32];
			snprintf(text, sizeof(text), "%lld", days);
			violation(c, text, "retentionInDays",
				  "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, "
				  "400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]");
		}
	}
	int rc = checked(c);
	if (rc)
		return rc;
	ls_group_t *g = logstore_group(c->ls, c->scope, name);
	return g ? logstore_group_set_retention(c->ls, g, (int)days) : no_group(c);
}

static int delete_retention_policy(struct ctx *c)
{
	const char *name = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	int rc = checked(c);
	if (rc)
		return rc;
	ls_group_t *g = logstore_group(c->ls, c->scope, name);
	return g ? logstore_group_set_retention(c->ls, g, 0) : no_group(c);
}

/* ---- streams ---- */

static int create_log_stream(struct ctx *c)
{
	const char *gname = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	const char *sname = str(c, "logStreamName", 1, 1, 512, P_STREAM);
	int rc = checked(c);
	if (rc)
		return rc;
	ls_group_t *g = logstore_group(c->ls, c->scope, gname);
	if (!g)
		return no_group(c);
	ls_stream_t *s;
	rc = logstore_stream_create(c->ls, g, sname, &s);
	if (rc == LD_EEXIST)
		return apierr_set(c->r, "ResourceAlreadyExistsException", "The specified log stream already exists");
	return rc;
}

static int delete_log_stream(struct ctx *c)
{
	const char *gname = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	const char *sname = str(c, "logStreamName", 1, 1, 512, P_STREAM);
	int rc = checked(c);
	if (rc)
		return rc;
	ls_group_t *g = logstore_group(c->ls, c->scope, gname);
	if (!g)
		return no_group(c);
	ls_stream_t *s = logstore_stream(g, sname);
	return s ? logstore_stream_delete(c->ls, s) : no_stream(c);
}

static int by_last_event(const void *a, const void *b)
{
	struct logstore_stream_info x, y;
	logstore_stream_info(*(ls_stream_t *const *)a, &x);
	logstore_stream_info(*(ls_stream_t *const *)b, &y);
	if (x.last_ts != y.last_ts)
		return x.last_ts < y.last_ts ? -1 : 1;
	return strcmp(x.name, y.name);
}

static int describe_log_streams(struct ctx *c)
{
	char buf[600];
	long long limit = QUOTA_LOGS_DESCRIBE_LIMIT;
	size_t from = 0;
	const char *gname = group_name_or_id(c, buf, sizeof(buf));
	const char *prefix = str(c, "logStreamNamePrefix", 0, 1, 512, P_STREAM);
	const char *order = str(c, "orderBy", 0, 0, 0, P_NONE);
	int desc = flag(c, "descending", 0);
	const char *tok = str(c, "nextToken", 0, 1, 0, P_NONE);
	num(c, "limit", 1, QUOTA_LOGS_DESCRIBE_LIMIT, &limit);
	if (order && strcmp(order, "LogStreamName") && strcmp(order, "LastEventTime"))
		violation(c, order, "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]");
	int rc = checked(c);
	if (rc)
		return rc;
	if (!gname && !json_object_get(c->in, "logGroupName") && !json_object_get(c->in, "logGroupIdentifier"))
		return apierr_set(c->r, "InvalidParameterException",
				  "Should provide either logGroupName or logGroupIdentifier.");
	int by_time = order && !strcmp(order, "LastEventTime");
	if (by_time && prefix)
		return apierr_set(c->r, "InvalidParameterException",
				  "Cannot order by LastEventTime with a logStreamNamePrefix.");
	if (tok && cwlogs_parse_describe_token(tok, &from))
		return bad_token(c);
	ls_group_t *g = logstore_group(c->ls, c->scope, gname);
	if (!g)
		return no_group(c);
	ls_stream_t **all;
	size_t n = logstore_streams(g, &all), m = 0;
	for (size_t i = 0; i < n; i++) {
		struct logstore_stream_info si;
		logstore_stream_info(all[i], &si);
		if (!prefix || !strncmp(si.name, prefix, strlen(prefix)))
			all[m++] = all[i];
	}
	if (by_time && m)
		qsort(all, m, sizeof(*all), by_last_event);
	json_t *list = json_array();
	for (size_t k = from; k < m && k < from + (size_t)limit; k++) {
		struct logstore_stream_info si;
		char arn[4096];
		logstore_stream_info(all[desc ? m - 1 - k : k], &si);
		snprintf(arn, sizeof(arn), "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", c->r->region, c->r->account,
			 gname, si.name);
		json_t *o = json_pack("{s:s,s:I}", "logStreamName", si.name, "creationTime", (json_int_t)si.created);
		if (si.events) {
			json_object_set_new(o, "firstEventTimestamp", json_integer(si.first_ts));
			json_object_set_new(o, "lastEventTimestamp", json_integer(si.last_ts));
			json_object_set_new(o, "lastIngestionTime", json_integer(si.last_ingest));
		}
		json_object_set_new(o, "arn", json_string(arn));
		json_object_set_new(o, "storedBytes", json_integer((json_int_t)si.bytes));
		json_array_append_new(list, o);
	}
	c->out = json_pack("{s:o}", "logStreams", list);
	describe_token(c->out, from + (size_t)limit, m);
	free(all);
	return 0;
}

/* ---- events ---- */

static json_t *event_json(const struct logstore_event *ev)
{
	return json_pack("{s:I,s:s%,s:I}", "timestamp", (json_int_t)ev->ts, "message", ev->msg, ev->len,
			 "ingestionTime", (json_int_t)ev->ingest);
}

struct back_out {
	json_t *events;
	size_t bytes;
	struct logstore_pos last_next;
	int any;
};

static void on_back(void *ud, const struct logstore_event *ev, struct logstore_pos at, struct logstore_pos next)
{
	struct back_out *b = ud;
	json_t *e = event_json(ev);
	if (e)
		json_array_append_new(b->events, e);
	b->last_next = next;
	b->any = 1;
}

static int get_log_events(struct ctx *c)
{
	char buf[600];
	long long start = 0, end = -1, limit = QUOTA_LOGS_GET_LIMIT;
	const char *gname = group_name_or_id(c, buf, sizeof(buf));
	const char *sname = str(c, "logStreamName", 1, 1, 512, P_STREAM);
	const char *tok = str(c, "nextToken", 0, 1, 0, P_NONE);
	num(c, "startTime", 0, 0, &start);
	num(c, "endTime", 0, 0, &end);
	num(c, "limit", 1, QUOTA_LOGS_GET_LIMIT, &limit);
	int head = flag(c, "startFromHead", 0);
	flag(c, "unmask", 0);
	int rc = checked(c);
	if (rc)
		return rc;
	if (!gname)
		return apierr_set(c->r, "InvalidParameterException",
				  "Should provide either logGroupName or logGroupIdentifier.");
	char dir = head ? 'f' : 'b';
	struct logstore_pos pos = head ? (struct logstore_pos){ 0, 0 } : LOGSTORE_POS_END;
	if (tok && logstore_token_parse(tok, &dir, &pos))
		return bad_token(c);
	ls_group_t *g = logstore_group(c->ls, c->scope, gname);
	if (!g)
		return no_group(c);
	ls_stream_t *s = logstore_stream(g, sname);
	if (!s)
		return no_stream(c);
	struct logstore_stream_info si;
	logstore_stream_info(s, &si);
	start = visible_from(g, start);
	if (end >= 0 && end > 0)
		end = end - 1; /* endTime is exclusive */
	else
		end = -1;
	json_t *events = json_array();
	struct logstore_pos first = pos, after = pos;
	if (dir == 'f') {
		logstore_cursor_t *cur;
		if ((rc = logstore_cursor_open(c->ls, s, pos, start, end, &cur))) {
			json_decref(events);
			return rc;
		}
		struct logstore_event ev;
		struct logstore_pos at, next;
		size_t bytes = 0, n = 0;
		while (n < (size_t)limit && bytes < QUOTA_LOGS_GET_BYTES && logstore_cursor_next(cur, &ev, &at, &next) == 1) {
			if (!n)
				first = at;
			after = next;
			json_array_append_new(events, event_json(&ev));
			bytes += ev.len + QUOTA_LOGS_EVENT_OVERHEAD;
			n++;
		}
		logstore_cursor_close(cur);
		if (!n && pos.seg == UINT32_MAX)
			first = after = si.end;
	} else {
		struct back_out b = { .events = events };
		if ((rc = logstore_read_back(c->ls, s, pos, start, end, (size_t)limit, QUOTA_LOGS_GET_BYTES,
						 QUOTA_LOGS_EVENT_OVERHEAD, on_back, &b, &first))) {
			json_decref(events);
			return rc;
		}
		after = b.any ? b.last_next : pos;
		if (pos.seg == UINT32_MAX) {
			if (!b.any)
				first = si.end;
			if (!b.any)
				after = si.end;
		}
	}
	char ftok[40], btok[40];
	logstore_token_format('f', after, ftok);
	logstore_token_format('b', first, btok);
	c->out = json_pack("{s:o,s:s,s:s}", "events", events, "nextForwardToken", ftok, "nextBackwardToken", btok);
	return 0;
}

/* FilterLogEvents: one cursor per stream, merged by timestamp */
struct head {
	ls_stream_t *s;
	struct logstore_stream_info si;
	logstore_cursor_t *cur;
	struct logstore_event ev;
	struct logstore_pos at;
	int has;
};

static int advance(struct head *h, const logfilter_t *f)
{
	h->has = 0;
	while (logstore_cursor_next(h->cur, &h->ev, &h->at, NULL) == 1)
		if (!f || logfilter_match(f, h->ev.msg, h->ev.len))
			return h->has = 1;
	return 0;
}

static int filter_log_events(struct ctx *c)
{
	char buf[600];
	long long start = 0, end = -1, limit = QUOTA_LOGS_GET_LIMIT, tts = 0;
	unsigned long long skip = 0;
	const char *gname = group_name_or_id(c, buf, sizeof(buf));
	const char *prefix = str(c, "logStreamNamePrefix", 0, 1, 512, P_STREAM);
	const char *pattern = str(c, "filterPattern", 0, 0, LOGFILTER_MAX_PATTERN, P_NONE);
	const char *tok = str(c, "nextToken", 0, 1, 0, P_NONE);
	json_t *names = json_object_get(c->in, "logStreamNames");
	num(c, "startTime", 0, 0, &start);
	num(c, "endTime", 0, 0, &end);
	num(c, "limit", 1, QUOTA_LOGS_GET_LIMIT, &limit);
	flag(c, "interleaved", 1);
	flag(c, "unmask", 0);
	if (names && !json_is_array(names))
		c->serr = 1;
	else if (names && (json_array_size(names) < 1 || json_array_size(names) > 100))
		violation(c, "[...]", "logStreamNames",
			  json_array_size(names) < 1 ? "Member must have length greater than or equal to 1"
						     : "Member must have length less than or equal to 100");
	for (size_t i = 0; names && json_is_array(names) && i < json_array_size(names); i++) {
		char path[64];
		snprintf(path, sizeof(path), "logStreamNames.%zu.member", i + 1);
		json_t *wrap = json_pack("{s:O}", "n", json_array_get(names, i));
		str_at(c, wrap, "n", path, 1, 1, 512, P_STREAM);
		json_decref(wrap);
	}
	int rc = checked(c);
	if (rc)
		return rc;
	if (!gname)
		return apierr_set(c->r, "InvalidParameterException",
				  "Should provide either logGroupName or logGroupIdentifier.");
	if (names && prefix)
		return apierr_set(c->r, "InvalidParameterException",
				  "You cannot specify both logStreamNames and logStreamNamePrefix.");
	if (tok && cwlogs_parse_filter_token(tok, &tts, &skip))
		return bad_token(c);
	ls_group_t *g = logstore_group(c->ls, c->scope, gname);
	if (!g)
		return no_group(c);
	logfilter_t *f = NULL;
	if (pattern && *pattern) {
		rc = logfilter_compile(pattern, &f);
		if (rc == LD_EINVAL || rc == LD_ETOOBIG)
			return apierr_set(c->r, "InvalidParameterException", "Invalid filter pattern");
		if (rc)
			return rc;
	}
	if (tok && tts > start)
		start = tts;
	start = visible_from(g, start);
	end = end > 0 ? end - 1 : -1; /* endTime is exclusive */
	ls_stream_t **all;
	size_t n = logstore_streams(g, &all), m = 0;
	struct head *h = calloc(n ? n : 1, sizeof(*h));
	json_t *events = json_array(), *searched = json_array();
	if (!h) {
		rc = LD_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct logstore_stream_info si;
		logstore_stream_info(all[i], &si);
		int want = !names && (!prefix || !strncmp(si.name, prefix, strlen(prefix)));
		for (size_t k = 0; names && k < json_array_size(names) && !want; k++)
			want = !strcmp(si.name, json_string_value(json_array_get(names, k)));
		if (!want)
			continue;
		json_array_append_new(searched,
				      json_pack("{s:s,s:b}", "logStreamName", si.name, "searchedCompletely", 1));
		if (!si.events || si.last_ts < start || (end >= 0 && si.first_ts > end))
			continue;
		h[m].s = all[i];
		h[m].si = si;
		if ((rc = logstore_cursor_open(c->ls, all[i], (struct logstore_pos){ 0, 0 }, start, end, &h[m].cur)))
			goto out;
		advance(&h[m], f);
		m++;
	}
	size_t got = 0, bytes = 0;
	/* events returned at timestamp `last`, on this page and the ones before */
	unsigned long long same = tok ? skip : 0, toskip = tok ? skip : 0;
	int64_t last = tok ? tts : -1;
	int more = 0;
	for (;;) {
		struct head *best = NULL;
		for (size_t i = 0; i < m; i++)
			if (h[i].has && (!best || h[i].ev.ts < best->ev.ts))
				best = &h[i];
		if (!best)
			break;
		if (tok && best->ev.ts == tts && toskip) {
			toskip--;
			advance(best, f);
			continue;
		}
		if (got >= (size_t)limit || bytes >= QUOTA_LOGS_GET_BYTES) {
			more = 1;
			break;
		}
		char id[64];
		snprintf(id, sizeof(id), "%010u%010u%020llu", best->si.id, best->at.seg, (unsigned long long)best->at.off);
		json_t *e = json_pack("{s:s,s:I,s:s%,s:I,s:s}", "logStreamName", best->si.name, "timestamp",
				      (json_int_t)best->ev.ts, "message", best->ev.msg, best->ev.len, "ingestionTime",
				      (json_int_t)best->ev.ingest, "eventId", id);
		json_array_append_new(events, e);
		if (best->ev.ts == last) {
			same++;
		} else {
			same = 1;
			last = best->ev.ts;
		}
		got++;
		bytes += best->ev.len + QUOTA_LOGS_EVENT_OVERHEAD;
		advance(best, f);
	}
	c->out = json_pack("{s:o,s:o}", "events", events, "searchedLogStreams", searched);
	events = searched = NULL;
	if (more) {
		char next[64];
		snprintf(next, sizeof(next), "e/%lld/%llu", (long long)last, same);
		json_object_set_new(c->out, "nextToken", json_string(next));
	}
out:
	for (size_t i = 0; h && i < m; i++)
		logstore_cursor_close(h[i].cur);
	free(h);
	free(all);
	json_decref(events);
	json_decref(searched);
	logfilter_free(f);
	return rc;
}

static int put_log_events(struct ctx *c)
{
	const char *gname = str(c, "logGroupName", 1, 1, 512, P_GROUP);
	const char *sname = str(c, "logStreamName", 1, 1, 512, P_STREAM);
	str(c, "sequenceToken", 0, 1, 0, P_NONE);
	json_t *list = json_object_get(c->in, "logEvents");
	size_t n = json_array_size(list);
	if (!list || json_is_null(list))
		violation(c, NULL, "logEvents", "Member must not be null");
	else if (!json_is_array(list))
		c->serr = 1;
	else if (n < 1 || n > QUOTA_LOGS_EVENTS)
		violation(c, "[...]", "logEvents",
			  n < 1 ? "Member must have length greater than or equal to 1"
				: "Member must have length less than or equal to 10000");
	for (size_t i = 0; json_is_array(list) && i < n && c->nerr < 10; i++) {
		json_t *e = json_array_get(list, i);
		char path[64];
		if (!json_is_object(e)) {
			c->serr = 1;
			break;
		}
		json_t *ts = json_object_get(e, "timestamp");
		snprintf(path, sizeof(path), "logEvents.%zu.member.timestamp", i + 1);
		if (!ts || json_is_null(ts))
			violation(c, NULL, path, "Member must not be null");
		else if (!json_is_integer(ts))
			c->serr = 1;
		else if (json_integer_value(ts) < 0) {
			char text[32];
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(ts));
			violation(c, text, path, "Member must have value greater than or equal to 0");
		}
		snprintf(path, sizeof(path), "logEvents.%zu.member.message", i + 1);
		str_at(c, e, "message", path, 1, 1, 0, P_NONE);
	}
	int rc = checked(c);
	if (rc)
		return rc;
	/* the batch's size and its events' */
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = json_string_length(json_object_get(json_array_get(list, i), "message"));
		if (len + QUOTA_LOGS_EVENT_OVERHEAD > QUOTA_LOGS_EVENT)
			return apierr_set(c->r, "InvalidParameterException",
					  "Log event too large: %zu bytes exceeds limit of %u", len + QUOTA_LOGS_EVENT_OVERHEAD,
					  QUOTA_LOGS_EVENT);
		total += len + QUOTA_LOGS_EVENT_OVERHEAD;
	}
	if (total > QUOTA_LOGS_BATCH)
		return apierr_set(c->r, "InvalidParameterException", "Upload too large: %zu bytes exceeds limit of %u",
				  total, QUOTA_LOGS_BATCH);
	for (size_t i = 1; i < n; i++)
		if (json_integer_value(json_object_get(json_array_get(list, i), "timestamp")) <
		    json_integer_value(json_object_get(json_array_get(list, i - 1), "timestamp")))
			return apierr_set(c->r, "InvalidParameterException",
					  "Log events in a single PutLogEvents request must be in chronological order.");
	ls_group_t *g = logstore_group(c->ls, c->scope, gname);
	if (!g)
		return no_group(c);
	ls_stream_t *s = logstore_stream(g, sname);
	if (!s)
		return no_stream(c);
	/* too old, expired (the group's retention), too new: indexes as AWS counts them */
	int64_t now = logstore_now_ms();
	struct logstore_group_info gi;
	logstore_group_info(g, &gi);
	int64_t old_cut = now - QUOTA_LOGS_PAST_MS, new_cut = now + QUOTA_LOGS_FUTURE_MS;
	int64_t exp_cut = gi.retention_days ? now - (int64_t)gi.retention_days * 86400000 : INT64_MIN;
	size_t too_old = 0, expired = 0, too_new = n;
	for (size_t i = 0; i < n; i++) {
		int64_t ts = json_integer_value(json_object_get(json_array_get(list, i), "timestamp"));
		if (ts < old_cut)
			too_old = i + 1;
		if (ts < exp_cut)
			expired = i + 1;
		if (ts > new_cut && too_new == n)
			too_new = i;
	}
	size_t lo = too_old > expired ? too_old : expired;
	if (lo < too_new) {
		int64_t a = json_integer_value(json_object_get(json_array_get(list, lo), "timestamp"));
		int64_t b = json_integer_value(json_object_get(json_array_get(list, too_new - 1), "timestamp"));
		if (b - a > QUOTA_LOGS_SPAN_MS)
			return apierr_set(c->r, "InvalidParameterException",
					  "Log events in a single PutLogEvents request cannot span more than 24 hours.");
	}
	if (lo < too_new) {
		struct logstore_event *ev = calloc(too_new - lo, sizeof(*ev));
		if (!ev)
			return LD_ENOMEM;
		for (size_t i = lo; i < too_new; i++) {
			json_t *e = json_array_get(list, i);
			ev[i - lo].ts = json_integer_value(json_object_get(e, "timestamp"));
			ev[i - lo].msg = json_string_value(json_object_get(e, "message"));
			ev[i - lo].len = json_string_length(json_object_get(e, "message"));
		}
		rc = logstore_append(c->ls, s, ev, too_new - lo);
		free(ev);
		if (rc)
			return rc;
	}
	char seq[64];
	struct logstore_stream_info si;
	logstore_stream_info(s, &si);
	snprintf(seq, sizeof(seq), "%030llu%026llu", (unsigned long long)si.end.seg, (unsigned long long)si.end.off);
	c->out = json_pack("{s:s}", "nextSequenceToken", seq);
	if (too_old || expired || too_new < n) {
		json_t *rej = json_object();
		if (too_new < n)
			json_object_set_new(rej, "tooNewLogEventStartIndex", json_integer((json_int_t)too_new));
		if (too_old)
			json_object_set_new(rej, "tooOldLogEventEndIndex", json_integer((json_int_t)too_old));
		if (expired)
			json_object_set_new(rej, "expiredLogEventEndIndex", json_integer((json_int_t)expired));
		json_object_set_new(c->out, "rejectedLogEventsInfo", rej);
	}
	return 0;
}

/* ---- dispatch ---- */

static int start_live_tail(struct ctx *c);

static const struct op {
	const char *name;
	int (*fn)(struct ctx *c);
} ops[] = {
	{ "CreateLogGroup", create_log_group },
	{ "DeleteLogGroup", delete_log_group },
	{ "DescribeLogGroups", describe_log_groups },
	{ "CreateLogStream", create_log_stream },
	{ "DeleteLogStream", delete_log_stream },
	{ "DescribeLogStreams", describe_log_streams },
	{ "GetLogEvents", get_log_events },
	{ "FilterLogEvents", filter_log_events },
	{ "PutLogEvents", put_log_events },
	{ "PutRetentionPolicy", put_retention_policy },
	{ "DeleteRetentionPolicy", delete_retention_policy },
	{ "StartLiveTail", start_live_tail },
};

int cwlogs_dispatch(req_t *r, const char *name)
{
	struct ctx c = { .r = r, .ls = r->srv->logs };
	const struct op *op = NULL;
	int rc;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, name))
			op = &ops[i];
	if (!op)
		return apierr_set_null(r, "UnknownOperationException");
	if (!c.ls || !r->srv->cwlogs)
		return apierr_set(r, "ServiceUnavailableException", "The log store is not open.");
	snprintf(c.scope, sizeof(c.scope), "%s:%s", r->account, r->region);
	json_error_t jerr;
	c.in = r->body_len ? json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : json_object();
	if (!json_is_object(c.in)) {
		json_decref(c.in);
		return apierr_set(r, "SerializationException", "Start of structure or map found where not expected.");
	}
	buf_init(&c.verr, 16384);
	rc = op->fn(&c);
	if (rc == 0) {
		buf_reset(&r->raw);
		if (c.out && (rc = jsonw_dump(c.out, &r->raw)) == 0)
			;
		else if (!c.out)
			buf_puts(&r->raw, "{}");
		r->content_type = "application/x-amz-json-1.1";
		r->status = 200;
	}
	json_decref(c.out);
	json_decref(c.in);
	buf_free(&c.verr);
	return rc;
}

/* ---- StartLiveTail ---- */

/* One session: the answer is an event stream (initial-response,
 * sessionStart, then a sessionUpdate every second with what arrived in the
 * chosen groups and streams) until the client goes, QUOTA_LOGS_LIVETAIL_MS
 * passes (SessionTimeoutException) or the server stops. Each stream is read
 * from where the session last saw it: its end when the session started, the
 * head for streams created later. */
struct tail {
	struct tail *next;
	server_t *srv;
	req_t *r;
	json_t *groups;      /* names */
	json_t *names, *prefixes;
	logfilter_t *f;
	strmap_t *pos;       /* "GROUP\nSTREAM" -> struct logstore_pos */
	json_t *start;       /* the sessionStart event, until the stream starts */
	int64_t timer;
	uint64_t deadline;
};

struct cwlogs {
	int64_t sweep_timer;
	struct tail *tails;
};

static void tail_free(struct tail *t)
{
	server_t *srv = t->srv;
	for (struct tail **p = &srv->cwlogs->tails; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	if (t->timer)
		loop_cancel(srv->loop, t->timer);
	json_decref(t->groups);
	json_decref(t->start);
	json_decref(t->names);
	json_decref(t->prefixes);
	logfilter_free(t->f);
	strmap_free(t->pos, free);
	free(t);
}

static void tail_gone(void *ud)
{
	tail_free(ud); /* the client went: r is the front's again */
}

/* sends one event (or exception) of the stream; 0 or LD_E* */
static int tail_send(struct tail *t, const char *kind, const char *type, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return LD_ENOMEM;
	struct es_header h[3] = {
		{ ":message-type", kind },
		{ !strcmp(kind, "exception") ? ":exception-type" : ":event-type", type },
		{ ":content-type", "application/json" },
	};
	buf_t m;
	buf_init(&m, 0);
	int rc = es_message(&m, h, 3, text, strlen(text));
	free(text);
	if (!rc)
		rc = req_stream_write(t->r, m.data, m.len);
	buf_free(&m);
	return rc;
}

static int tail_wants(struct tail *t, const char *stream)
{
	if (json_array_size(t->names)) {
		for (size_t i = 0; i < json_array_size(t->names); i++)
			if (!strcmp(stream, json_string_value(json_array_get(t->names, i))))
				return 1;
		return 0;
	}
	if (json_array_size(t->prefixes)) {
		for (size_t i = 0; i < json_array_size(t->prefixes); i++) {
			const char *p = json_string_value(json_array_get(t->prefixes, i));
			if (!strncmp(stream, p, strlen(p)))
				return 1;
		}
		return 0;
	}
	return 1;
}

/* what arrived since the last pass, as sessionResults (at most
 * QUOTA_LOGS_LIVETAIL_EVENTS a pass; sampled says some were left out);
 * with init only the streams' ends are noted */
static json_t *tail_collect(struct tail *t, int init, int *sampled)
{
	logstore_t *ls = t->srv->logs;
	json_t *results = json_array();
	char scope[96];
	snprintf(scope, sizeof(scope), "%s:%s", t->r->account, t->r->region);
	for (size_t i = 0; i < json_array_size(t->groups); i++) {
		const char *gname = json_string_value(json_array_get(t->groups, i));
		ls_group_t *g = logstore_group(ls, scope, gname);
		if (!g)
			continue;
		char garn[700];
		snprintf(garn, sizeof(garn), "arn:aws:logs:%s:%s:log-group:%s", t->r->region, t->r->account, gname);
		ls_stream_t **v;
		size_t n = logstore_streams(g, &v);
		for (size_t k = 0; k < n; k++) {
			struct logstore_stream_info si;
			logstore_stream_info(v[k], &si);
			if (!tail_wants(t, si.name))
				continue;
			char key[2304];
			snprintf(key, sizeof(key), "%s\n%s", gname, si.name);
			struct logstore_pos *p = strmap_get(t->pos, key);
			if (!p) {
				p = malloc(sizeof(*p));
				if (!p || strmap_put(t->pos, key, p)) {
					free(p);
					continue;
				}
				*p = init ? si.end : (struct logstore_pos){ 0, 0 };
			}
			if (init)
				continue;
			logstore_cursor_t *c;
			if (logstore_cursor_open(ls, v[k], *p, 0, -1, &c))
				continue;
			struct logstore_event ev;
			struct logstore_pos next;
			while (logstore_cursor_next(c, &ev, NULL, &next) == 1) {
				*p = next;
				if (t->f && !logfilter_match(t->f, ev.msg, ev.len))
					continue;
				if (json_array_size(results) >= QUOTA_LOGS_LIVETAIL_EVENTS) {
					*sampled = 1;
					continue;
				}
				json_array_append_new(results,
						      json_pack("{s:s,s:s,s:s%,s:I,s:I}", "logStreamName", si.name,
								"logGroupIdentifier", garn, "message", ev.msg, ev.len,
								"timestamp", (json_int_t)ev.ts, "ingestionTime",
								(json_int_t)ev.ingest));
			}
			logstore_cursor_close(c);
		}
		free(v);
	}
	return results;
}

/* ends t's stream (after which r is the front's) */
static void tail_end(struct tail *t)
{
	req_t *r = t->r;
	r->stream_gone = NULL;
	tail_free(t);
	req_stream_end(r);
}

static void tail_tick(void *ud)
{
	struct tail *t = ud;
	t->timer = 0;
	if (t->start) {
		/* the first tick, once the front holds the request as pending:
		 * the answer's head, initial-response and sessionStart */
		json_t *start = t->start;
		t->start = NULL;
		req_t *r = t->r;
		if (req_stream_start(r)) {
			json_decref(start);
			tail_free(t);
			req_finish(r, LD_EIO);
			return;
		}
		if (tail_send(t, "event", "initial-response", json_object()) ||
		    tail_send(t, "event", "sessionStart", start)) {
			tail_end(t);
			return;
		}
		int64_t id = loop_timer(t->srv->loop, 1000, tail_tick, t);
		t->timer = id > 0 ? id : 0;
		return;
	}
	if (loop_now_ms() >= t->deadline) {
		tail_send(t, "exception", "SessionTimeoutException",
			  json_pack("{s:s}", "message", "Session timed out after 3 hours"));
		tail_end(t);
		return;
	}
	int sampled = 0;
	json_t *results = tail_collect(t, 0, &sampled);
	if (tail_send(t, "event", "sessionUpdate",
		      json_pack("{s:{s:b},s:o}", "sessionMetadata", "sampled", sampled, "sessionResults", results))) {
		/* the client does not keep up: end it */
		tail_end(t);
		return;
	}
	int64_t id = loop_timer(t->srv->loop, 1000, tail_tick, t);
	t->timer = id > 0 ? id : 0;
}

static int start_live_tail(struct ctx *c)
{
	json_t *groups = json_object_get(c->in, "logGroupIdentifiers");
	json_t *names = json_object_get(c->in, "logStreamNames");
	json_t *prefixes = json_object_get(c->in, "logStreamNamePrefixes");
	const char *pattern = str(c, "logEventFilterPattern", 0, 0, LOGFILTER_MAX_PATTERN, P_NONE);
	struct {
		json_t *v;
		const char *name;
		size_t max, len;
		enum pat p;
		int required;
	} lists[] = {
		{ groups, "logGroupIdentifiers", 10, 2048, P_IDENT, 1 },
		{ names, "logStreamNames", 100, 512, P_STREAM, 0 },
		{ prefixes, "logStreamNamePrefixes", 100, 512, P_STREAM, 0 },
	};
	for (size_t i = 0; i < 3; i++) {
		json_t *v = lists[i].v;
		if (!v || json_is_null(v)) {
			if (lists[i].required)
				violation(c, NULL, lists[i].name, "Member must not be null");
			continue;
		}
		if (!json_is_array(v)) {
			c->serr = 1;
			continue;
		}
		if (json_array_size(v) < 1 || json_array_size(v) > lists[i].max) {
			char msg[80];
			snprintf(msg, sizeof(msg), json_array_size(v) < 1 ? "greater than or equal to 1"
									  : "less than or equal to %zu",
				 lists[i].max);
			violation(c, "[...]", lists[i].name, "Member must have length %s", msg);
		}
		for (size_t k = 0; k < json_array_size(v); k++) {
			char path[64];
			snprintf(path, sizeof(path), "%s.%zu.member", lists[i].name, k + 1);
			json_t *wrap = json_pack("{s:O}", "n", json_array_get(v, k));
			str_at(c, wrap, "n", path, 1, 1, lists[i].len, lists[i].p);
			json_decref(wrap);
		}
	}
	int rc = checked(c);
	if (rc)
		return rc;
	if (json_array_size(names) && json_array_size(prefixes))
		return apierr_set(c->r, "InvalidParameterException",
				  "You cannot specify both logStreamNames and logStreamNamePrefixes.");
	logfilter_t *f = NULL;
	if (pattern && *pattern) {
		rc = logfilter_compile(pattern, &f);
		if (rc == LD_EINVAL || rc == LD_ETOOBIG)
			return apierr_set(c->r, "InvalidParameterException", "Invalid filter pattern");
		if (rc)
			return rc;
	}
	/* the groups by name (an ARN's name part); every one must exist */
	json_t *gnames = json_array();
	for (size_t i = 0; i < json_array_size(groups); i++) {
		const char *id = json_string_value(json_array_get(groups, i));
		char name[2100];
		const char *lg = strstr(id, ":log-group:");
		snprintf(name, sizeof(name), "%s", !strncmp(id, "arn:", 4) && lg ? lg + strlen(":log-group:") : id);
		size_t n = strlen(name);
		if (n >= 2 && !strcmp(name + n - 2, ":*"))
			name[n - 2] = '\0';
		if (!logstore_group(c->ls, c->scope, name)) {
			json_decref(gnames);
			logfilter_free(f);
			return no_group(c);
		}
		json_array_append_new(gnames, json_string(name));
	}
	struct tail *t = calloc(1, sizeof(*t));
	if (!t || strmap_new(&t->pos)) {
		free(t);
		json_decref(gnames);
		logfilter_free(f);
		return LD_ENOMEM;
	}
	t->srv = c->r->srv;
	t->r = c->r;
	t->groups = gnames;
	t->names = json_incref(names);
	t->prefixes = json_incref(prefixes);
	t->f = f;
	t->deadline = loop_now_ms() + QUOTA_LOGS_LIVETAIL_MS;
	t->next = t->srv->cwlogs->tails;
	t->srv->cwlogs->tails = t;
	int sampled = 0;
	json_decref(tail_collect(t, 1, &sampled)); /* where each stream ends now */
	req_t *r = c->r;
	r->status = 200;
	r->content_type = "application/vnd.amazon.eventstream";
	r->stream_gone = tail_gone;
	r->stream_ud = t;
	char sid[37];
	ids_uuid4(sid);
	json_t *start = json_pack("{s:s,s:s,s:O}", "requestId", r->request_id, "sessionId", sid, "logGroupIdentifiers",
				  groups);
	if (json_array_size(names))
		json_object_set(start, "logStreamNames", names);
	if (json_array_size(prefixes))
		json_object_set(start, "logStreamNamePrefixes", prefixes);
	json_object_set_new(start, "logEventFilterPattern", json_string(pattern ? pattern : ""));
	t->start = start;
	/* the stream starts on the next tick: the front holds r as pending only
	 * once this returns */
	int64_t id = loop_timer(t->srv->loop, 0, tail_tick, t);
	if (id <= 0) {
		t->r = NULL;
		r->stream_gone = NULL;
		tail_free(t);
		return LD_ENOMEM;
	}
	t->timer = id;
	return LD_EPENDING;
}

/* ---- retention ---- */

static void arm_sweep(server_t *srv);

static void sweep(void *ud)
{
	server_t *srv = ud;
	srv->cwlogs->sweep_timer = 0;
	if (srv->logs)
		logstore_expire(srv->logs, logstore_now_ms());
	arm_sweep(srv);
}

static void arm_sweep(server_t *srv)
{
	int ms = srv->logs_sweep_ms > 0 ? srv->logs_sweep_ms : QUOTA_LOGS_SWEEP_MS;
	int64_t t = loop_timer(srv->loop, (uint64_t)ms, sweep, srv);
	srv->cwlogs->sweep_timer = t > 0 ? t : 0;
}

void cwlogs_start(server_t *srv)
{
	if (srv->cwlogs || !srv->logs)
		return;
	srv->cwlogs = calloc(1, sizeof(*srv->cwlogs));
	if (srv->cwlogs)
		arm_sweep(srv);
}

void cwlogs_stop(server_t *srv)
{
	if (!srv->cwlogs)
		return;
	/* live tails end: their streams close, the front lets the clients go */
	while (srv->cwlogs->tails) {
		struct tail *t = srv->cwlogs->tails;
		if (t->start) {
			req_t *r = t->r;
			tail_free(t);
			req_finish(r, apierr_set(r, "ServiceUnavailableException", "The server is stopping."));
		} else {
			tail_end(t);
		}
	}
	if (srv->cwlogs->sweep_timer)
		loop_cancel(srv->loop, srv->cwlogs->sweep_timer);
	free(srv->cwlogs);
	srv->cwlogs = NULL;
}
