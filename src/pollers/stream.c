/*
 * stream.c - polling a Kinesis or DynamoDB stream for one event source
 * mapping (stream.h). The two sources' differences are streamsrc.c's.
 *
 * Shape: a poller has a list of shards; each shard runs one step at a
 * time (a GetShardIterator or GetRecords call, or a batch whose lanes
 * invoke in parallel), decided by shard_step(). Every callback in flight
 * holds the poller (inflight); a stopped poller is freed when the last one
 * ends, and nothing is checkpointed after the stop.
 */
#include "pollers/stream.h"
#include "aws/awscall.h"
#include "exec/destinations.h"
#include "exec/door.h"
#include "loop.h"
#include "pollers/streamsrc.h"
#include "quotas.h"
#include "metrics/metrics.h"
#include "records/records.h"
#include "util/arn.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_RELIST_MS 10000              /* shards are listed again (splits, merges) */
#define STREAM_RETRY_MS 1000                /* after a failed call, a throttle */
#define STREAM_RETRY_BATCH_MS 500           /* before a failed batch runs again */
#define STREAM_MAX_RESPONSE (12u << 20)     /* GetRecords answers up to 10 MB */
#define STREAM_CALL_MS 30000
#define STREAM_MAX_LANES 10                 /* ParallelizationFactor's range: 1-10 */

enum shard_state { SH_WAITING, SH_READING, SH_ENDED };

struct shard;

/* records of one partition-key lane of a batch, processed in order */
struct lane {
	struct shard *s;
	json_t *queue;          /* arrays of raw records; the head runs */
	int attempts;           /* invocations of the head */
	int busy;
	int64_t timer;
	char request_id[37];
	char version[24];       /* the last attempt's ExecutedVersion */
	int function_error;     /* the last attempt ended in a function error */
};

struct shard {
	struct stream_poller *p;
	struct shard *next;
	char id[130], parent[130], adjacent[130];
	enum shard_state state;
	int seen_open;          /* listed without an end: it was split or merged while read here */
	char *iterator;
	int end_read;           /* GetRecords read the closed shard to its end */
	int calling;
	int64_t timer;
	json_t *pending;        /* records read, not yet in a batch */
	size_t pending_bytes;
	uint64_t gather_ms;     /* when the first of them was read (monotonic) */
	int more;               /* the last read says there is more now */
	char ck_seq[130];       /* the checkpoint: "" none, else resume AT or AFTER it */
	int ck_after;
	/* the batch in process */
	json_t *batch;          /* its raw records in order */
	struct lane lanes[STREAM_MAX_LANES];
	int nlanes;
	int failed;             /* a lane failed in this batch */
	int finalizing;         /* a tumbling window's final invoke is in flight */
	/* tumbling window */
	int64_t wstart_ms;      /* 0: none open */
	json_t *wstate;
};

struct stream_poller {
	server_t *srv;
	outbound_t *ob;
	const struct stream_source *src;
	char scope[96], uuid[40];
	char arn[300], name[260], region[40];
	char fn_name[160], qualifier[140], fn_arn[400];
	aws_config_t cfg;
	int batch_size, window_s, lanes, max_retries, max_age_s, bisect, report_failures, tumbling_s;
	char position[16];
	double position_ts;
	char on_failure[300];
	json_t *filters;
	int stopped;
	int inflight;
	int64_t list_timer;
	json_t *listing;        /* shards of the listing in progress */
	struct shard *shards;
	char last_result[POLLER_RESULT_MAX];
	struct poller_stats stats;
};

static void shard_step(struct shard *s);
static void lane_run(struct lane *l);
static void list_shards(struct stream_poller *p, const char *token);

/* ---- lifetime ---- */

static void shard_free(struct shard *s)
{
	for (int i = 0; i < STREAM_MAX_LANES; i++)
		json_decref(s->lanes[i].queue);
	json_decref(s->pending);
	json_decref(s->batch);
	json_decref(s->wstate);
	free(s->iterator);
	free(s);
}

static void poller_free(struct stream_poller *p)
{
	while (p->shards) {
		struct shard *s = p->shards;
		p->shards = s->next;
		shard_free(s);
	}
	json_decref(p->listing);
	json_decref(p->filters);
	free(p);
}

/* a callback in flight ended: 1 when the poller is stopped (and then
 * freed with the last one), so the caller returns at once */
static int settle(struct stream_poller *p)
{
	p->inflight--;
	if (!p->stopped)
		return 0;
	if (!p->inflight)
		poller_free(p);
	return 1;
}

static int64_t timer_at(struct stream_poller *p, uint64_t ms, loop_cb cb, void *ud)
{
	int64_t t = loop_timer(p->srv->loop, ms, cb, ud);
	return t > 0 ? t : 0;
}

/* ---- calls ---- */

static int call(struct stream_poller *p, const char *op, json_t *doc, outbound_cb cb, void *ud)
{
	char target[80];
	snprintf(target, sizeof(target), "%s%s", p->src->target, op);
	char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!body)
		return LD_ENOMEM;
	aws_call_t c = { &p->cfg, p->src->service, "POST", "/", p->src->content_type, target, body, strlen(body),
			 STREAM_MAX_RESPONSE, STREAM_CALL_MS };
	int rc = aws_call_send(p->ob, &c, cb, ud);
	free(body);
	if (rc == 0)
		p->inflight++;
	return rc;
}

static void log_failure(struct stream_poller *p, const char *op, const outbound_result_t *r)
{
	char code[128], msg[256];
	aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
	fprintf(stderr, "lambdad: %s %s on %s failed: %s %s (HTTP %ld)\n", p->src->name, op, p->arn,
		r->rc ? r->error : code, msg, r->status);
}

/* LastProcessingResult, stored when it changes */
static void result(struct stream_poller *p, const char *what)
{
	poller_result(p->srv, p->scope, p->uuid, p->last_result, what);
}

/* ---- checkpoints ---- */

static void ck_key(struct shard *s, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", s->p->uuid, s->id);
}

static void ck_store(struct shard *s, int ended)
{
	char key[200];
	ck_key(s, key, sizeof(key));
	json_t *doc = json_pack("{s:s,s:b,s:b,s:b}", "SequenceNumber", s->ck_seq, "After", s->ck_after, "Ended", ended,
				"SeenOpen", s->seen_open);
	if (doc && rec_put(s->p->srv->store, REC_ESM_CHECKPOINT, s->p->scope, key, doc))
		fprintf(stderr, "lambdad: the checkpoint of %s %s could not be stored\n", s->p->uuid, s->id);
	json_decref(doc);
}

static void ck_set(struct shard *s, const char *seq, int after)
{
	snprintf(s->ck_seq, sizeof(s->ck_seq), "%s", seq ? seq : "");
	s->ck_after = after;
	ck_store(s, 0);
}

/* the stored checkpoint of a shard new to this poller */
static void ck_load(struct shard *s)
{
	char key[200];
	ck_key(s, key, sizeof(key));
	json_t *doc = NULL;
	if (rec_get(s->p->srv->store, REC_ESM_CHECKPOINT, s->p->scope, key, &doc))
		return;
	snprintf(s->ck_seq, sizeof(s->ck_seq), "%s", json_string_value(json_object_get(doc, "SequenceNumber")) ?: "");
	s->ck_after = json_is_true(json_object_get(doc, "After"));
	s->seen_open |= json_is_true(json_object_get(doc, "SeenOpen"));
	if (json_is_true(json_object_get(doc, "Ended")))
		s->state = SH_ENDED;
	json_decref(doc);
}

/* ---- shards ---- */

static struct shard *shard_find(struct stream_poller *p, const char *id)
{
	for (struct shard *s = p->shards; s; s = s->next)
		if (!strcmp(s->id, id))
			return s;
	return NULL;
}

/* a shard's parents are read to their end (or gone from the stream) */
static int parents_done(struct shard *s)
{
	const char *ids[2] = { s->parent, s->adjacent };
	for (int i = 0; i < 2; i++) {
		struct shard *par = ids[i][0] ? shard_find(s->p, ids[i]) : NULL;
		if (par && par->state != SH_ENDED)
			return 0;
	}
	return 1;
}

/* a parent of s was read here while open: s starts at its beginning */
static int parent_read_here(struct shard *s)
{
	const char *ids[2] = { s->parent, s->adjacent };
	for (int i = 0; i < 2; i++) {
		struct shard *par = ids[i][0] ? shard_find(s->p, ids[i]) : NULL;
		if (par && (par->seen_open || par->ck_seq[0]))
			return 1;
	}
	return 0;
}

static void shard_ended(struct shard *s)
{
	s->state = SH_ENDED;
	ck_store(s, 1);
	for (struct shard *c = s->p->shards; c; c = c->next)
		if (c->state == SH_WAITING)
			shard_step(c);
}

static void on_shard_timer(void *ud)
{
	struct shard *s = ud;
	s->timer = 0;
	shard_step(s);
}

static void shard_later(struct shard *s, uint64_t ms)
{
	s->timer = timer_at(s->p, ms, on_shard_timer, s);
}

/* ---- reading ---- */

static void drop_pending(struct shard *s)
{
	json_array_clear(s->pending);
	s->pending_bytes = 0;
	free(s->iterator);
	s->iterator = NULL;
	s->end_read = 0;
}

static size_t record_bytes(struct stream_poller *p, json_t *rec)
{
	if (p->src->kinesis)
		return strlen(json_string_value(json_object_get(rec, "Data")) ?: "") +
		       strlen(json_string_value(json_object_get(rec, "PartitionKey")) ?: "") + 2 * strlen(p->arn) + 400;
	json_int_t n = json_integer_value(json_object_get(json_object_get(rec, "dynamodb"), "SizeBytes"));
	return (size_t)(n > 0 ? n : 0) * 3 + strlen(p->arn) + 400;
}

static void on_records(void *ud, const outbound_result_t *r)
{
	struct shard *s = ud;
	struct stream_poller *p = s->p;
	s->calling = 0;
	if (settle(p))
		return;
	json_t *doc = aws_call_json(r);
	json_t *recs = json_object_get(doc, "Records");
	if (!json_is_array(recs)) { /* an expired iterator or a failure: read again from the checkpoint */
		log_failure(p, "GetRecords", r);
		json_decref(doc);
		drop_pending(s);
		shard_later(s, STREAM_RETRY_MS);
		return;
	}
	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) {
		if (!streamsrc_seq(p->src, rec))
			continue;
		if (!s->ck_seq[0]) /* the shard's first records: a restart resumes here */
			ck_set(s, streamsrc_seq(p->src, rec), 0);
		if (!json_array_size(s->pending))
			s->gather_ms = loop_now_ms();
		json_array_append(s->pending, rec);
		s->pending_bytes += record_bytes(p, rec);
		p->stats.polled++;
	}
	json_t *behind = json_object_get(doc, "MillisBehindLatest");
	if (json_is_integer(behind))
		p->stats.lag_ms = json_integer_value(behind);
	else if (json_array_size(recs))
		p->stats.lag_ms = loop_wall_ms() - streamsrc_arrival_ms(p->src, json_array_get(recs, json_array_size(recs) - 1));
	s->more = json_array_size(recs) > 0 || json_integer_value(behind) > 0;
	const char *next = json_string_value(json_object_get(doc, "NextShardIterator"));
	free(s->iterator);
	s->iterator = next ? strdup(next) : NULL;
	if (!next)
		s->end_read = 1;
	json_decref(doc);
	shard_step(s);
}

static void read_records(struct shard *s)
{
	struct stream_poller *p = s->p;
	size_t have = json_array_size(s->pending);
	int want = p->batch_size - (int)have;
	if (want > p->src->max_limit)
		want = p->src->max_limit;
	if (want < 1)
		want = 1;
	s->calling = 1;
	if (call(p, "GetRecords", json_pack("{s:s,s:i}", "ShardIterator", s->iterator, "Limit", want), on_records, s)) {
		s->calling = 0;
		shard_later(s, STREAM_RETRY_MS);
	}
}

static void on_iterator(void *ud, const outbound_result_t *r)
{
	struct shard *s = ud;
	struct stream_poller *p = s->p;
	s->calling = 0;
	if (settle(p))
		return;
	json_t *doc = aws_call_json(r);
	const char *it = json_string_value(json_object_get(doc, "ShardIterator"));
	if (!it) {
		char code[128], msg[256];
		aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
		json_decref(doc);
		if (r->rc == 0 && !strcmp(code, "ResourceNotFoundException")) { /* trimmed: nothing left to read */
			shard_ended(s);
			return;
		}
		log_failure(p, "GetShardIterator", r);
		shard_later(s, STREAM_RETRY_MS);
		return;
	}
	free(s->iterator);
	s->iterator = strdup(it);
	json_decref(doc);
	s->more = 1;
	shard_step(s);
}

static void get_iterator(struct shard *s)
{
	struct stream_poller *p = s->p;
	const char *type = p->position, *seq = NULL;
	if (s->ck_seq[0]) {
		type = s->ck_after ? "AFTER_SEQUENCE_NUMBER" : "AT_SEQUENCE_NUMBER";
		seq = s->ck_seq;
	} else if (parent_read_here(s)) {
		type = "TRIM_HORIZON";
	}
	s->calling = 1;
	if (call(p, "GetShardIterator",
		 streamsrc_iterator_request(p->src, p->arn, p->name, s->id, type, seq, p->position_ts), on_iterator,
		 s)) {
		s->calling = 0;
		shard_later(s, STREAM_RETRY_MS);
	}
}

/* ---- the failure record (OnFailure destinations) ---- */

static void iso(int64_t ms, int millis, char out[25])
{
	ids_time_iso(ms, out);
	if (!millis)
		strcpy(out + 19, "Z");
}

static json_t *event_of(struct stream_poller *p, struct shard *s, json_t *recs, int final);

static void on_delivered(void *ud, int rc)
{
	struct lane *l = ud;
	struct stream_poller *p = l->s->p;
	l->busy = 0;
	if (settle(p))
		return;
	if (rc)
		fprintf(stderr, "lambdad: the failure record of %s could not go to %s (%s)\n", p->uuid, p->on_failure,
			ld_strerror(rc));
	lane_run(l);
}

/* recs (raw, the lane's head or a part of it) are given up: the failure
 * record goes to OnFailure, and the lane goes on (1: the delivery is in
 * flight, on_delivered goes on) */
static int give_up(struct lane *l, json_t *recs, const char *condition)
{
	struct shard *s = l->s;
	struct stream_poller *p = s->p;
	size_t n = json_array_size(recs);
	fprintf(stderr, "lambdad: mapping %s gives up %zu record(s) of %s (%s)\n", p->uuid, n, s->id, condition);
	metrics_on_mapping(p->srv->metrics, M_DROPPED_EVENT_COUNT, p->scope, p->uuid, (double)n);
	if (!p->on_failure[0] || !n)
		return 0;
	char now[25], first[25], last[25];
	ids_time_iso(loop_wall_ms(), now);
	iso(streamsrc_arrival_ms(p->src, json_array_get(recs, 0)), p->src->info_millis, first);
	iso(streamsrc_arrival_ms(p->src, json_array_get(recs, n - 1)), p->src->info_millis, last);
	json_t *info = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:s}", "shardId", s->id, "startSequenceNumber",
				 streamsrc_seq(p->src, json_array_get(recs, 0)), "endSequenceNumber",
				 streamsrc_seq(p->src, json_array_get(recs, n - 1)), "approximateArrivalOfFirstRecord",
				 first, "approximateArrivalOfLastRecord", last, "batchSize", (int)n, "streamArn", p->arn);
	json_t *doc = json_pack("{s:{s:s,s:s,s:s,s:i}}", "requestContext", "requestId",
				l->request_id[0] ? l->request_id : "", "functionArn", p->fn_arn, "condition", condition,
				"approximateInvokeCount", l->attempts);
	if (!doc || !info) {
		json_decref(doc);
		json_decref(info);
		return 0;
	}
	if (!strcmp(condition, "RetryAttemptsExhausted"))
		json_object_set_new(doc, "responseContext",
				    json_pack("{s:i,s:s,s:o}", "statusCode", 200, "executedVersion",
					      l->version[0] ? l->version : "$LATEST", "functionError",
					      l->function_error ? json_string("Unhandled") : json_null()));
	json_object_set_new(doc, "version", json_string("1.0"));
	json_object_set_new(doc, "timestamp", json_string(now));
	json_object_set_new(doc, p->src->batch_info, info);
	char prefix[300];
	snprintf(prefix, sizeof(prefix), "aws/lambda/%s/%s", p->uuid, s->id);
	if (dest_kind(p->on_failure) == DEST_S3) /* S3 keeps the event too */
		json_object_set_new(doc, "payload", event_of(p, s, recs, 0));
	char *body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!body)
		return 0;
	struct dest_attrs at = { .function_arn = p->fn_arn, .success = 0, .s3_prefix = prefix };
	int rc = dest_send(p->srv, p->on_failure, body, strlen(body), &at, on_delivered, l);
	free(body);
	if (rc) {
		fprintf(stderr, "lambdad: the failure record of %s could not go to %s (%s)\n", p->uuid, p->on_failure,
			ld_strerror(rc));
		return 0;
	}
	p->inflight++;
	l->busy = 1;
	return 1;
}

/* ---- invoking ---- */

static void window_iso(int64_t ms, char out[25])
{
	ids_time_iso(ms, out);
	strcpy(out + 19, "Z"); /* "2020-07-30T17:00:00Z" */
}

/* the event of raw records recs (final: a tumbling window's last invoke) */
static json_t *event_of(struct stream_poller *p, struct shard *s, json_t *recs, int final)
{
	json_t *cfg = NULL;
	rec_version_get(p->srv->store, p->scope, p->fn_name, NULL, REC_PEEK, &cfg);
	const char *role = json_string_value(json_object_get(cfg, "Role"));
	json_t *out = json_array();
	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) json_array_append_new(out, streamsrc_event_record(p->src, rec, p->arn, s->id, p->region, role));
	json_decref(cfg);
	json_t *ev = json_pack("{s:o}", "Records", out);
	if (ev && p->tumbling_s) {
		char start[25], end[25];
		window_iso(s->wstart_ms, start);
		window_iso(s->wstart_ms + p->tumbling_s * 1000LL, end);
		json_object_set_new(ev, "shardId", json_string(s->id));
		json_object_set_new(ev, "eventSourceARN", json_string(p->arn));
		json_object_set_new(ev, "window", json_pack("{s:s,s:s}", "start", start, "end", end));
		json_object_set_new(ev, "state", s->wstate ? json_incref(s->wstate) : json_object());
		json_object_set_new(ev, "isFinalInvokeForWindow", json_boolean(final));
		json_object_set_new(ev, "isWindowTerminatedEarly", json_false());
	}
	return ev;
}

/* the sequence numbers a ReportBatchItemFailures answer names: index of the
 * first failed record of recs (n: none failed), or -1 when the answer is not
 * such a document (the whole batch failed). Facts from the recordings:
 * null, "", {}, [] and an empty or null list succeed; an empty, null or
 * missing itemIdentifier or one not in the batch fails the batch. */
static long first_failure(struct stream_poller *p, json_t *recs, const char *payload, size_t len)
{
	size_t n = json_array_size(recs);
	json_t *doc = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
	long first = (long)n;
	if (!doc || json_is_null(doc) || (json_is_string(doc) && !*json_string_value(doc)))
		goto out;
	if (json_is_array(doc) && !json_array_size(doc))
		goto out;
	if (!json_is_object(doc)) {
		first = -1;
		goto out;
	}
	json_t *list = json_object_get(doc, "batchItemFailures");
	if (!list || json_is_null(list))
		goto out;
	if (!json_is_array(list)) {
		first = -1;
		goto out;
	}
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		const char *id = json_string_value(json_object_get(f, "itemIdentifier"));
		long at = -1;
		for (size_t k = 0; id && *id && k < n; k++)
			if (!strcmp(id, streamsrc_seq(p->src, json_array_get(recs, k)) ?: ""))
				at = (long)k;
		if (at < 0) {
			first = -1;
			goto out;
		}
		if (at < first)
			first = at;
	}
out:
	json_decref(doc);
	return first;
}

static void on_lane_timer(void *ud)
{
	struct lane *l = ud;
	l->timer = 0;
	lane_run(l);
}

static void lane_retry(struct lane *l, uint64_t ms)
{
	l->timer = timer_at(l->s->p, ms, on_lane_timer, l);
}

/* the lane's head ends (done or given up) */
static void lane_pop(struct lane *l)
{
	json_array_remove(l->queue, 0);
	l->attempts = 0;
	l->request_id[0] = 0;
	l->function_error = 0;
}

/* a failed head: bisected, retried or given up */
static void lane_failed(struct lane *l, json_t *head)
{
	struct stream_poller *p = l->s->p;
	l->s->failed = 1;
	size_t n = json_array_size(head);
	if (p->bisect && n > 1) { /* halves, in order; a split is not a retry */
		json_t *a = json_array(), *b = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append(i < n / 2 ? a : b, json_array_get(head, i));
		json_array_remove(l->queue, 0);
		json_array_insert_new(l->queue, 0, b);
		json_array_insert_new(l->queue, 0, a);
		l->attempts = 0;
		lane_retry(l, STREAM_RETRY_BATCH_MS);
		return;
	}
	if (p->max_retries >= 0 && l->attempts > p->max_retries) {
		json_incref(head);
		int pending = give_up(l, head, "RetryAttemptsExhausted");
		json_decref(head);
		lane_pop(l);
		if (!pending)
			lane_run(l);
		return;
	}
	lane_retry(l, STREAM_RETRY_BATCH_MS);
}

static void tumbling_state(struct shard *s, const char *payload, size_t len)
{
	json_t *doc = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
	json_t *st = json_object_get(doc, "state");
	if (json_is_object(st)) {
		json_decref(s->wstate);
		s->wstate = json_incref(st);
	}
	json_decref(doc);
}

static void on_invoked(void *ud, struct exec_result *res)
{
	struct lane *l = ud;
	struct shard *s = l->s;
	struct stream_poller *p = s->p;
	l->busy = 0;
	if (settle(p))
		return;
	json_t *head = json_array_get(l->queue, 0);
	l->function_error = res->ok && res->function_error;
	if (!res->ok || res->function_error) {
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		lane_failed(l, head);
		return;
	}
	if (p->tumbling_s)
		tumbling_state(s, res->payload, res->payload_len);
	long first = p->report_failures ? first_failure(p, head, res->payload, res->payload_len)
					: (long)json_array_size(head);
	if (first < 0) {
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		lane_failed(l, head);
		return;
	}
	if ((size_t)first < json_array_size(head)) { /* retried from the first reported record */
		json_t *rest = json_array();
		for (size_t i = (size_t)first; i < json_array_size(head); i++)
			json_array_append(rest, json_array_get(head, i));
		json_array_set_new(l->queue, 0, rest);
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		lane_failed(l, rest);
		return;
	}
	result(p, "OK");
	lane_pop(l);
	lane_run(l);
}

/* records at the head older than MaximumRecordAgeInSeconds */
static size_t expired(struct stream_poller *p, json_t *head)
{
	if (p->max_age_s < 0)
		return 0;
	int64_t oldest = loop_wall_ms() - (int64_t)p->max_age_s * 1000;
	size_t k = 0;
	while (k < json_array_size(head) && streamsrc_arrival_ms(p->src, json_array_get(head, k)) < oldest)
		k++;
	return k;
}

static void batch_done(struct shard *s);

static void lane_run(struct lane *l)
{
	struct shard *s = l->s;
	struct stream_poller *p = s->p;
	if (l->busy || l->timer)
		return;
	json_t *head = json_array_get(l->queue, 0);
	if (!head) {
		batch_done(s);
		return;
	}
	size_t old = expired(p, head);
	if (old) {
		json_t *gone = json_array(), *rest = json_array();
		for (size_t i = 0; i < json_array_size(head); i++)
			json_array_append(i < old ? gone : rest, json_array_get(head, i));
		int all = !json_array_size(rest);
		if (all) {
			json_decref(rest);
			json_array_remove(l->queue, 0);
		} else {
			json_array_set_new(l->queue, 0, rest);
		}
		int pending = give_up(l, gone, "RecordAgeExceeded");
		json_decref(gone);
		if (all) /* the next head starts its own count */
			l->attempts = 0;
		if (!pending)
			lane_run(l);
		return;
	}
	json_t *ev = event_of(p, s, head, 0);
	char *text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ev);
	if (!text) {
		lane_retry(l, STREAM_RETRY_MS);
		return;
	}
	ids_uuid4(l->request_id);
	struct door_call c = { .scope = p->scope, .name = p->fn_name, .qualifier = p->qualifier, .payload = text,
			       .payload_len = strlen(text), .request_id = l->request_id };
	ld_error_t err = { 0 };
	int rc = door_invoke(p->srv, &c, on_invoked, l, &err);
	snprintf(l->version, sizeof(l->version), "%s", c.version);
	json_decref(c.config);
	free(text);
	if (rc == 0) {
		p->inflight++;
		l->busy = 1;
		l->attempts++;
		p->stats.invoked++;
		metrics_on_mapping(p->srv->metrics, M_INVOKED_EVENT_COUNT, p->scope, p->uuid, (double)json_array_size(head));
		metrics_on_function(p->srv->metrics, M_ITERATOR_AGE, p->scope, p->fn_name, p->qualifier, (double)p->stats.lag_ms);
		return;
	}
	if (rc == LD_ETHROTTLED) { /* no room now: not an attempt */
		p->stats.throttled++;
	} else {
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
	}
	ld_error_clear(&err);
	lane_retry(l, STREAM_RETRY_MS);
}

static void batch_done(struct shard *s)
{
	if (!s->batch)
		return;
	for (int i = 0; i < s->nlanes; i++)
		if (s->lanes[i].busy || s->lanes[i].timer || json_array_size(s->lanes[i].queue))
			return;
	json_t *last = json_array_get(s->batch, json_array_size(s->batch) - 1);
	ck_set(s, streamsrc_seq(s->p->src, last), 1);
	json_decref(s->batch);
	s->batch = NULL;
	s->nlanes = 0;
	shard_later(s, 0); /* on the loop: a run of batches given up at once does not recurse */
}

/* FNV-1a of a record's key: its lane */
static int lane_of(struct stream_poller *p, json_t *rec)
{
	char buf[2048];
	const char *k = streamsrc_key(p->src, rec, buf, sizeof(buf));
	uint32_t h = 2166136261u;
	for (; *k; k++)
		h = (h ^ (unsigned char)*k) * 16777619u;
	return (int)(h % (uint32_t)p->lanes);
}

/* a record FilterCriteria keep */
static int kept(struct stream_poller *p, struct shard *s, json_t *rec)
{
	if (!p->filters)
		return 1;
	json_t *ev = streamsrc_event_record(p->src, rec, p->arn, s->id, p->region, NULL);
	json_t *view = ev ? streamsrc_filter_view(p->src, ev) : NULL;
	int keep = view && pattern_filters_match(p->filters, view);
	json_decref(view);
	json_decref(ev);
	return keep;
}

static int64_t window_of(struct stream_poller *p, json_t *rec)
{
	int64_t t = streamsrc_arrival_ms(p->src, rec), w = p->tumbling_s * 1000LL;
	return t - t % w;
}

/* the next batch leaves pending for its lanes */
static void take_batch(struct shard *s)
{
	struct stream_poller *p = s->p;
	json_t *batch = json_array();
	size_t bytes = 0, n = json_array_size(s->pending), k = 0;
	int64_t win = p->tumbling_s ? window_of(p, json_array_get(s->pending, 0)) : 0;
	while (k < n && (int)k < p->batch_size) {
		json_t *rec = json_array_get(s->pending, k);
		size_t b = record_bytes(p, rec);
		if (k && (bytes + b > POLLER_BATCH_BYTES || (p->tumbling_s && window_of(p, rec) != win)))
			break;
		bytes += b;
		json_array_append(batch, rec);
		k++;
	}
	for (size_t i = 0; i < k; i++)
		json_array_remove(s->pending, 0);
	s->pending_bytes = s->pending_bytes > bytes ? s->pending_bytes - bytes : 0;
	if (json_array_size(s->pending))
		s->gather_ms = loop_now_ms();
	if (p->tumbling_s && !s->wstart_ms)
		s->wstart_ms = win;
	s->batch = batch;
	s->failed = 0;
	s->nlanes = p->tumbling_s ? 1 : p->lanes;
	for (int i = 0; i < s->nlanes; i++) {
		json_decref(s->lanes[i].queue);
		s->lanes[i] = (struct lane){ .s = s, .queue = json_array() };
	}
	json_t *per[STREAM_MAX_LANES] = { 0 };
	size_t i;
	json_t *rec;
	json_array_foreach(batch, i, rec) {
		if (!kept(p, s, rec)) {
			p->stats.filtered++;
			continue;
		}
		int li = s->nlanes > 1 ? lane_of(p, rec) : 0;
		if (!per[li])
			per[li] = json_array();
		json_array_append(per[li], rec);
	}
	int any = 0;
	for (int l = 0; l < s->nlanes; l++)
		if (per[l]) {
			json_array_append_new(s->lanes[l].queue, per[l]);
			any = 1;
		}
	if (!any) { /* all filtered out: checkpointed past them */
		batch_done(s);
		return;
	}
	/* the batch can only end in the last lane's run (batch_done waits for
	 * every lane), and then the loop is at its end */
	int lanes = s->nlanes;
	for (int l = 0; l < lanes && s->batch == batch; l++)
		if (json_array_size(s->lanes[l].queue))
			lane_run(&s->lanes[l]);
}

/* ---- tumbling windows ---- */

static void on_final(void *ud, struct exec_result *res)
{
	struct shard *s = ud;
	s->finalizing = 0;
	if (settle(s->p))
		return;
	if (!res->ok || res->function_error)
		fprintf(stderr, "lambdad: mapping %s: the final invoke of a window of %s failed\n", s->p->uuid, s->id);
	s->wstart_ms = 0;
	json_decref(s->wstate);
	s->wstate = NULL;
	shard_step(s);
}

/* the window ends: one more invoke, with its state and no records */
static void final_invoke(struct shard *s)
{
	struct stream_poller *p = s->p;
	json_t *none = json_array();
	json_t *ev = event_of(p, s, none, 1);
	json_decref(none);
	char *text = ev ? json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ev);
	struct door_call c = { .scope = p->scope, .name = p->fn_name, .qualifier = p->qualifier, .payload = text,
			       .payload_len = text ? strlen(text) : 0 };
	ld_error_t err = { 0 };
	int rc = text ? door_invoke(p->srv, &c, on_final, s, &err) : LD_ENOMEM;
	json_decref(c.config);
	free(text);
	if (rc == 0) {
		p->inflight++;
		p->stats.invoked++;
		s->finalizing = 1;
		return;
	}
	ld_error_clear(&err);
	shard_later(s, STREAM_RETRY_MS);
}

/* ---- the step ---- */

/* pending records make a batch now */
static int batch_ready(struct shard *s)
{
	struct stream_poller *p = s->p;
	size_t n = json_array_size(s->pending);
	if (!n)
		return 0;
	if ((int)n >= p->batch_size || s->pending_bytes >= POLLER_BATCH_BYTES || s->end_read || !p->window_s)
		return 1;
	if (p->tumbling_s && window_of(p, json_array_get(s->pending, n - 1)) != window_of(p, json_array_get(s->pending, 0)))
		return 1;
	return loop_now_ms() - s->gather_ms >= (uint64_t)p->window_s * 1000;
}

static void shard_step(struct shard *s)
{
	struct stream_poller *p = s->p;
	if (p->stopped || s->state == SH_ENDED || s->batch || s->calling || s->timer || s->finalizing)
		return;
	if (s->state == SH_WAITING) {
		if (!parents_done(s))
			return;
		s->state = SH_READING;
	}
	if (p->tumbling_s && s->wstart_ms) { /* the open window ends: its final invoke first */
		json_t *first = json_array_get(s->pending, 0);
		int64_t end = s->wstart_ms + p->tumbling_s * 1000LL;
		if ((first && window_of(p, first) != s->wstart_ms) || (!first && loop_wall_ms() >= end)) {
			final_invoke(s);
			return;
		}
	}
	if (batch_ready(s)) {
		take_batch(s);
		return;
	}
	if (s->end_read) {
		if (!json_array_size(s->pending) && !s->wstart_ms)
			shard_ended(s);
		else
			shard_later(s, STREAM_RETRY_MS);
		return;
	}
	if (!s->iterator) {
		get_iterator(s);
		return;
	}
	if (s->more) {
		read_records(s);
		return;
	}
	uint64_t wait = (uint64_t)p->src->poll_ms;
	if (json_array_size(s->pending)) {
		uint64_t due = s->gather_ms + (uint64_t)p->window_s * 1000, now = loop_now_ms();
		if (due > now && due - now < wait)
			wait = due - now;
	}
	s->more = 1; /* the timer reads */
	shard_later(s, wait ? wait : 1);
}

/* ---- discovery ---- */

static void on_list_timer(void *ud)
{
	struct stream_poller *p = ud;
	p->list_timer = 0;
	list_shards(p, NULL);
}

/* the listing is complete: new shards join, ended shards that left go */
static void listed(struct stream_poller *p)
{
	size_t i;
	json_t *sh;
	json_array_foreach(p->listing, i, sh) {
		const char *id = json_string_value(json_object_get(sh, "ShardId"));
		if (!id || strlen(id) >= sizeof(((struct shard *)0)->id))
			continue;
		int open = !json_object_get(json_object_get(sh, "SequenceNumberRange"), "EndingSequenceNumber");
		struct shard *s = shard_find(p, id);
		if (s) {
			s->seen_open |= open;
			continue;
		}
		if (!(s = calloc(1, sizeof(*s))) || !(s->pending = json_array())) {
			free(s);
			continue;
		}
		s->p = p;
		snprintf(s->id, sizeof(s->id), "%s", id);
		snprintf(s->parent, sizeof(s->parent), "%s", json_string_value(json_object_get(sh, "ParentShardId")) ?: "");
		snprintf(s->adjacent, sizeof(s->adjacent), "%s",
			 json_string_value(json_object_get(sh, "AdjacentParentShardId")) ?: "");
		s->seen_open = open;
		s->state = SH_WAITING;
		ck_load(s);
		s->next = p->shards;
		p->shards = s;
	}
	/* ended shards the stream no longer lists are done with */
	for (struct shard **pp = &p->shards; *pp;) {
		struct shard *s = *pp;
		int still = 0;
		json_array_foreach(p->listing, i, sh) still |= !strcmp(s->id, json_string_value(json_object_get(sh, "ShardId")) ?: "");
		if (!still && s->state == SH_ENDED && !s->calling && !s->timer && !s->batch) {
			*pp = s->next;
			shard_free(s);
		} else {
			pp = &s->next;
		}
	}
	json_decref(p->listing);
	p->listing = NULL;
	for (struct shard *s = p->shards; s; s = s->next)
		shard_step(s);
	p->list_timer = timer_at(p, STREAM_RELIST_MS, on_list_timer, p);
}

static void on_listed(void *ud, const outbound_result_t *r)
{
	struct stream_poller *p = ud;
	if (settle(p))
		return;
	json_t *doc = aws_call_json(r);
	const char *token = NULL;
	json_t *shards = doc ? streamsrc_list_answer(p->src, doc, &token) : NULL;
	if (!json_is_array(shards)) {
		log_failure(p, p->src->kinesis ? "ListShards" : "DescribeStream", r);
		json_decref(doc);
		json_decref(p->listing);
		p->listing = NULL;
		p->list_timer = timer_at(p, STREAM_RETRY_MS * 5, on_list_timer, p);
		return;
	}
	if (!p->listing)
		p->listing = json_array();
	json_array_extend(p->listing, shards);
	if (token && *token) {
		char *t = strdup(token);
		json_decref(doc);
		if (t)
			list_shards(p, t);
		free(t);
		return;
	}
	json_decref(doc);
	listed(p);
}

static void list_shards(struct stream_poller *p, const char *token)
{
	if (call(p, p->src->kinesis ? "ListShards" : "DescribeStream",
		 streamsrc_list_request(p->src, p->arn, p->name, token), on_listed, p))
		p->list_timer = timer_at(p, STREAM_RETRY_MS, on_list_timer, p);
}

/* ---- start, stop ---- */

struct stream_poller *stream_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid,
					  json_t *doc)
{
	const char *sarn = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	struct arn sa, fa;
	if (!sarn || !fn || arn_parse(sarn, &sa) || arn_parse(fn, &fa) || strncmp(fa.resource, "function:", 9))
		return NULL;
	const struct stream_source *src = streamsrc_of(sa.service);
	if (!src)
		return NULL;
	struct stream_poller *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->srv = srv;
	p->ob = ob;
	p->src = src;
	snprintf(p->scope, sizeof(p->scope), "%s", scope);
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	snprintf(p->arn, sizeof(p->arn), "%s", sarn);
	snprintf(p->region, sizeof(p->region), "%s", sa.region);
	snprintf(p->fn_arn, sizeof(p->fn_arn), "%s", fn);
	/* Kinesis: stream/NAME */
	const char *slash = strchr(sa.resource, '/');
	snprintf(p->name, sizeof(p->name), "%s", slash ? slash + 1 : sa.resource);
	poller_function(fa.resource + 9, p->fn_name, sizeof(p->fn_name), p->qualifier, sizeof(p->qualifier));
	p->batch_size = poller_int(doc, "BatchSize", 100);
	if (p->batch_size < 1)
		p->batch_size = 1;
	p->window_s = poller_int(doc, "MaximumBatchingWindowInSeconds", 0);
	p->lanes = poller_int(doc, "ParallelizationFactor", 1);
	if (p->lanes < 1 || p->lanes > STREAM_MAX_LANES)
		p->lanes = 1;
	p->max_retries = poller_int(doc, "MaximumRetryAttempts", -1);
	p->max_age_s = poller_int(doc, "MaximumRecordAgeInSeconds", -1);
	p->bisect = json_is_true(json_object_get(doc, "BisectBatchOnFunctionError"));
	p->tumbling_s = poller_int(doc, "TumblingWindowInSeconds", 0);
	p->report_failures = poller_reports_failures(doc);
	snprintf(p->position, sizeof(p->position), "%s",
		 json_string_value(json_object_get(doc, "StartingPosition")) ?: "TRIM_HORIZON");
	p->position_ts = json_number_value(json_object_get(doc, "StartingPositionTimestamp"));
	snprintf(p->on_failure, sizeof(p->on_failure), "%s",
		 json_string_value(json_object_get(
			 json_object_get(json_object_get(doc, "DestinationConfig"), "OnFailure"), "Destination")) ?: "");
	snprintf(p->last_result, sizeof(p->last_result), "%s",
		 json_string_value(json_object_get(doc, "LastProcessingResult")) ?: "");
	p->filters = poller_filters(doc);
	if (aws_config_from_env(&p->cfg, src->env, src->host, srv->aws_endpoint, sa.region)) {
		poller_free(p);
		return NULL;
	}
	list_shards(p, NULL);
	return p;
}

const struct poller_stats *stream_poller_stats(const struct stream_poller *p)
{
	return &p->stats;
}

void stream_poller_stop(struct stream_poller *p)
{
	if (!p)
		return;
	p->stopped = 1;
	loop_t *loop = p->srv->loop;
	if (p->list_timer)
		loop_cancel(loop, p->list_timer);
	for (struct shard *s = p->shards; s; s = s->next) {
		if (s->timer)
			loop_cancel(loop, s->timer);
		s->timer = 0;
		for (int i = 0; i < STREAM_MAX_LANES; i++) {
			if (s->lanes[i].timer)
				loop_cancel(loop, s->lanes[i].timer);
			s->lanes[i].timer = 0;
		}
	}
	if (!p->inflight)
		poller_free(p);
}
