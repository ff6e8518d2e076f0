/*
 * sqs.c - polling an SQS queue for one event source mapping (sqs.h).
 *
 * A mapping is a set of workers. Each worker runs one step at a time:
 * gather a batch (receive, receive again while the batching window lasts),
 * invoke, delete, start over. The step in flight owns its worker; the
 * mapping (struct sqs_poller) owns the list, the counters and the settings,
 * and scales the set: a worker whose batch came back full may add one, a
 * worker whose long poll came back empty, or whose invoke was throttled,
 * retires while another runs. A stopped mapping is freed with its last
 * worker. Facts from AWS's recordings (test_lambda_integration_sqs): the
 * record's members and their order, the attributes' names.
 *
 * Calls after a stop: a worker makes one only from sqs_poller_stop itself or
 * from the callback of a call that completed (rc 0), never from an invoke's
 * callback or an aborted call's, so that nothing reaches the outbound client
 * once pollers_stop frees it.
 */
#include "pollers/sqs.h"
#include "aws/awscall.h"
#include "exec/door.h"
#include "loop.h"
#include "metrics/metrics.h"
#include "quotas.h"
#include "records/records.h"
#include "util/arn.h"
#include "util/err.h"
#include "util/pattern.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQS_WAIT_S 20               /* ReceiveMessage's long poll */
#define SQS_MAX_MESSAGES 10         /* per ReceiveMessage, per batch call's entries */
#define SQS_MAX_RESPONSE (4u << 20) /* 10 messages of 256 KB and their attributes */
#define SQS_RETRY_MS 1000           /* after a failed call or a throttle */
#define SQS_SCALE_MS (60000 / QUOTA_SQS_POLLERS_PER_MINUTE) /* the pace of new workers above the start */
#define SQS_THROTTLE_HOLD_MS 5000   /* no new worker this long after a throttle */
#define SQS_EVENT_OVERHEAD 14       /* {"Records":[ and ]} around the records */

/* what a worker does when its batch call is through */
enum then { THEN_GATHER, THEN_CYCLE, THEN_THROTTLED, THEN_LATER, THEN_FREE };

struct sqs_worker {
	struct sqs_poller *p;
	struct sqs_worker *next;
	int busy;            /* a call or an invocation is in flight: its callback comes */
	int retired;         /* no longer counted; freed when its last step ends */
	int64_t timer;       /* the retry or batching window timer, or 0 */
	int waited_s;        /* the WaitTimeSeconds of the receive in flight */
	json_t *batch;       /* the batch's messages, in the order received (or NULL) */
	json_t *records;     /* their records, while gathering */
	size_t bytes;        /* the event's size so far */
	int invoked;         /* the batch went to the function */
	uint64_t first_ms;   /* when the batch's first message arrived (loop_now_ms) */
	json_t *carry;       /* received after the batch reached 6 MB: they start the next one */
	json_t *todo;        /* the messages of the batch call in flight */
	size_t todo_at;      /* the next chunk's first index in todo */
	const char *todo_op; /* "DeleteMessageBatch", "ChangeMessageVisibilityBatch" */
	enum then then;
};

struct sqs_poller {
	server_t *srv;
	outbound_t *ob;
	char scope[96], uuid[40];
	char queue_arn[300], queue_url[600], region[40];
	char fn_name[160], qualifier[140];
	int batch_size;         /* BatchSize */
	uint64_t window_ms;     /* MaximumBatchingWindowInSeconds */
	int max_concurrency;    /* ScalingConfig.MaximumConcurrency, 0: none */
	int report_failures;
	int fifo;
	aws_config_t cfg;
	int stopped, stopping;
	struct sqs_worker *workers;
	int nworkers;           /* workers not retired */
	uint64_t last_spawn_ms, hold_until_ms;
	json_t *filters;        /* FilterCriteria, or NULL */
	char last_result[POLLER_RESULT_MAX];
	struct poller_stats stats;
};

static void receive(struct sqs_worker *w);
static void gather(struct sqs_worker *w);
static void cycle(struct sqs_worker *w);
static void finish(struct sqs_worker *w, int calls_ok);
static void batch_call(struct sqs_worker *w, const char *op, json_t *msgs, enum then next);
static int spawn(struct sqs_poller *p);

/* ---- the worker set ---- */

static void poller_free(struct sqs_poller *p)
{
	json_decref(p->filters);
	free(p);
}

static void worker_free(struct sqs_worker *w)
{
	struct sqs_poller *p = w->p;
	for (struct sqs_worker **pp = &p->workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (!w->retired)
		p->nworkers--;
	if (w->timer)
		loop_cancel(p->srv->loop, w->timer);
	json_decref(w->batch);
	json_decref(w->records);
	json_decref(w->carry);
	json_decref(w->todo);
	free(w);
	if (p->stopped && !p->workers && !p->stopping)
		poller_free(p);
}

static void retire(struct sqs_worker *w)
{
	if (!w->retired) {
		w->retired = 1;
		w->p->nworkers--;
	}
	finish(w, 1);
}

/* how many workers the mapping may run: ScalingConfig.MaximumConcurrency
 * and the function's concurrency (its reservation, else the account's) */
static int bound(struct sqs_poller *p)
{
	int b = p->max_concurrency > 0 ? p->max_concurrency : INT_MAX;
	int fn = p->srv->account_concurrency;
	json_t *meta = NULL;
	if (rec_function_get(p->srv->store, p->scope, p->fn_name, REC_PEEK, &meta) == 0) {
		json_t *v = json_object_get(meta, "ReservedConcurrentExecutions");
		if (json_is_integer(v))
			fn = (int)json_integer_value(v);
	}
	json_decref(meta);
	return fn < b ? fn : b;
}

/* a batch came back full: one more worker, within the bound and the pace */
static void grow(struct sqs_poller *p)
{
	uint64_t now = loop_now_ms();
	if (p->stopped || now < p->hold_until_ms)
		return;
	if (p->nworkers >= QUOTA_SQS_POLLERS_START && now - p->last_spawn_ms < SQS_SCALE_MS)
		return;
	if (p->nworkers >= bound(p))
		return;
	if (spawn(p) == 0)
		p->last_spawn_ms = now;
}

/* ---- calls ---- */

static int call(struct sqs_worker *w, const char *op, json_t *doc, outbound_cb cb)
{
	struct sqs_poller *p = w->p;
	char target[64];
	snprintf(target, sizeof(target), "AmazonSQS.%s", op);
	char *body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!body)
		return LD_ENOMEM;
	aws_call_t c = { &p->cfg, "sqs", "POST", "/", "application/x-amz-json-1.0", target, body, strlen(body),
			 SQS_MAX_RESPONSE, (SQS_WAIT_S + 10) * 1000L };
	int rc = aws_call_send(p->ob, &c, cb, w);
	free(body);
	if (rc == 0)
		w->busy = 1;
	return rc;
}

/* LastProcessingResult, stored when it changes */
static void result(struct sqs_poller *p, const char *what)
{
	poller_result(p->srv, p->scope, p->uuid, p->last_result, what);
}

static void on_retry(void *ud)
{
	struct sqs_worker *w = ud;
	w->timer = 0;
	cycle(w);
}

/* the next batch after SQS_RETRY_MS */
static void later(struct sqs_worker *w)
{
	int64_t t = loop_timer(w->p->srv->loop, SQS_RETRY_MS, on_retry, w);
	w->timer = t > 0 ? t : 0;
	if (!w->timer)
		retire(w);
}

/* ---- batch calls: DeleteMessageBatch and ChangeMessageVisibilityBatch,
 * 10 entries a call, one call after the other ---- */

/* a batch call's {"QueueUrl","Entries":[{"Id","ReceiptHandle"(,"VisibilityTimeout")}]}
 * for msgs[from, from + n) (visibility < 0: none) */
static json_t *batch_request(struct sqs_poller *p, json_t *msgs, size_t from, size_t n, int visibility)
{
	json_t *entries = json_array();
	for (size_t i = 0; i < n; i++) {
		char eid[24];
		snprintf(eid, sizeof(eid), "%zu", i);
		json_t *m = json_array_get(msgs, from + i);
		json_t *e = json_pack("{s:s,s:O}", "Id", eid, "ReceiptHandle", json_object_get(m, "ReceiptHandle"));
		if (e && visibility >= 0)
			json_object_set_new(e, "VisibilityTimeout", json_integer(visibility));
		json_array_append_new(entries, e);
	}
	return json_pack("{s:s,s:o}", "QueueUrl", p->queue_url, "Entries", entries);
}

/* the batch call is through (or cannot go on): the worker's next step */
static void go_on(struct sqs_worker *w, int calls_ok)
{
	struct sqs_poller *p = w->p;
	json_decref(w->todo);
	w->todo = NULL;
	if (w->then == THEN_FREE) {
		worker_free(w);
		return;
	}
	if (p->stopped || w->retired) {
		finish(w, calls_ok);
		return;
	}
	switch (w->then) {
	case THEN_GATHER: gather(w); break;
	case THEN_CYCLE: cycle(w); break;
	case THEN_THROTTLED:
		if (p->nworkers > 1)
			retire(w);
		else
			later(w);
		break;
	default: later(w); break;
	}
}

static void chunk(struct sqs_worker *w);

static void on_chunk(void *ud, const outbound_result_t *r)
{
	struct sqs_worker *w = ud;
	w->busy = 0;
	if (r->rc || r->status != 200)
		fprintf(stderr, "lambdad: SQS %s on %s failed (HTTP %ld)\n", w->todo_op, w->p->queue_arn, r->status);
	if (r->rc) { /* the transport failed or was aborted: no further call */
		go_on(w, 0);
		return;
	}
	chunk(w);
}

static void chunk(struct sqs_worker *w)
{
	size_t total = json_array_size(w->todo);
	if (w->todo_at >= total) {
		go_on(w, 1);
		return;
	}
	size_t n = total - w->todo_at < SQS_MAX_MESSAGES ? total - w->todo_at : SQS_MAX_MESSAGES;
	int visibility = strcmp(w->todo_op, "DeleteMessageBatch") ? 0 : -1;
	json_t *req = batch_request(w->p, w->todo, w->todo_at, n, visibility);
	w->todo_at += n;
	if (!req || call(w, w->todo_op, req, on_chunk)) /* the rest comes back after the visibility timeout */
		go_on(w, 1);
}

/* works through msgs (taken over) with op, then goes on with next */
static void batch_call(struct sqs_worker *w, const char *op, json_t *msgs, enum then next)
{
	json_decref(w->todo);
	w->todo = msgs;
	w->todo_at = 0;
	w->todo_op = op;
	w->then = next;
	chunk(w);
}

/* a new array of a's items followed by b's (either may be NULL) */
static json_t *joined(json_t *a, json_t *b)
{
	json_t *all = json_array();
	json_array_extend(all, a);
	json_array_extend(all, b);
	return all;
}

/* The worker ends: what it received and did not hand to the function goes
 * back to the queue at once (ChangeMessageVisibilityBatch to 0, for whoever
 * polls next) when calls_ok, else after its visibility timeout; then it is
 * freed. */
static void finish(struct sqs_worker *w, int calls_ok)
{
	json_t *back = joined(w->invoked ? NULL : w->batch, w->carry);
	json_decref(w->batch);
	json_decref(w->records);
	json_decref(w->carry);
	w->batch = w->records = w->carry = NULL;
	if (calls_ok && json_array_size(back)) {
		batch_call(w, "ChangeMessageVisibilityBatch", back, THEN_FREE);
		return;
	}
	json_decref(back);
	worker_free(w);
}

/* ---- invoke ---- */

/* a new object whose keys are the batch's message ids */
static json_t *batch_ids(json_t *batch)
{
	json_t *ids = json_object();
	size_t i;
	json_t *m;
	json_array_foreach(batch, i, m) {
		const char *id = json_string_value(json_object_get(m, "MessageId"));
		if (id)
			json_object_set_new(ids, id, json_true());
	}
	return ids;
}

/* the ids a ReportBatchItemFailures response keeps (an object whose keys
 * are the ids), or NULL when the response is not such a document (then the
 * whole batch failed) */
static json_t *reported_failures(struct sqs_worker *w, const char *payload, size_t len)
{
	json_t *doc = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
	json_t *keep = json_object(), *known = NULL;
	if (!doc || json_is_null(doc) || (json_is_object(doc) && !json_object_get(doc, "batchItemFailures")))
		goto out; /* no failures reported: all succeeded */
	json_t *list = json_object_get(doc, "batchItemFailures");
	if (!json_is_object(doc) || !(json_is_array(list) || json_is_null(list)))
		goto bad;
	known = batch_ids(w->batch);
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		const char *id = json_string_value(json_object_get(f, "itemIdentifier"));
		if (!id || !json_object_get(known, id))
			goto bad;
		json_object_set_new(keep, id, json_true());
	}
out:
	json_decref(doc);
	json_decref(known);
	return keep;
bad:
	json_decref(doc);
	json_decref(known);
	json_decref(keep);
	return NULL;
}

/* the batch failed: it stays for the queue's visibility timeout. On a FIFO
 * queue what was carried over is later in its groups than the batch: it goes
 * back too rather than pass the failed messages. */
static void failed(struct sqs_worker *w)
{
	struct sqs_poller *p = w->p;
	p->stats.failed++;
	metrics_on_mapping(p->srv->metrics, M_FAILED_INVOKE_EVENT_COUNT, p->scope, p->uuid, (double)json_array_size(w->batch));
	result(p, "PROBLEM: Function call failed");
	json_decref(w->batch);
	w->batch = NULL;
	if (p->fifo && json_array_size(w->carry)) {
		json_t *back = w->carry;
		w->carry = NULL;
		batch_call(w, "ChangeMessageVisibilityBatch", back, THEN_LATER);
		return;
	}
	later(w);
}

static void on_invoked(void *ud, struct exec_result *res)
{
	struct sqs_worker *w = ud;
	struct sqs_poller *p = w->p;
	w->busy = 0;
	if (p->stopped) { /* the messages come back after their visibility timeout */
		finish(w, 0);
		return;
	}
	json_t *keep = NULL;
	if (!res->ok || res->function_error ||
	    (p->report_failures && !(keep = reported_failures(w, res->payload, res->payload_len)))) {
		failed(w);
		return;
	}
	result(p, "OK");
	json_t *gone = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(w->batch, i, m) {
		const char *id = json_string_value(json_object_get(m, "MessageId"));
		if (!id || !json_object_get(keep, id))
			json_array_append(gone, m);
	}
	json_decref(keep);
	json_decref(w->batch);
	w->batch = NULL;
	batch_call(w, "DeleteMessageBatch", gone, THEN_CYCLE);
}

/* a message as AWS's record */
static json_t *record_of(struct sqs_poller *p, json_t *m)
{
	json_t *attrs = json_object_get(m, "Attributes");
	json_t *mattrs = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(m, "MessageAttributes"), k, v) {
		json_t *a = json_object();
		if (json_object_get(v, "StringValue"))
			json_object_set(a, "stringValue", json_object_get(v, "StringValue"));
		if (json_object_get(v, "BinaryValue"))
			json_object_set(a, "binaryValue", json_object_get(v, "BinaryValue"));
		json_object_set_new(a, "stringListValues", json_array());
		json_object_set_new(a, "binaryListValues", json_array());
		json_object_set(a, "dataType", json_object_get(v, "DataType"));
		json_object_set_new(mattrs, k, a);
	}
	json_t *rec = json_pack("{s:O,s:O,s:O,s:o,s:o}", "messageId", json_object_get(m, "MessageId"), "receiptHandle",
				json_object_get(m, "ReceiptHandle"), "body", json_object_get(m, "Body"), "attributes",
				attrs ? json_incref(attrs) : json_object(), "messageAttributes", mattrs);
	if (!rec)
		return NULL;
	if (json_object_get(m, "MD5OfMessageAttributes"))
		json_object_set(rec, "md5OfMessageAttributes", json_object_get(m, "MD5OfMessageAttributes"));
	json_object_set(rec, "md5OfBody", json_object_get(m, "MD5OfBody"));
	json_object_set_new(rec, "eventSource", json_string("aws:sqs"));
	json_object_set_new(rec, "eventSourceARN", json_string(p->queue_arn));
	json_object_set_new(rec, "awsRegion", json_string(p->region));
	return rec;
}

/* the age of the oldest of msgs (SentTimestamp, ms since the epoch) */
static int64_t oldest_age_ms(json_t *msgs)
{
	int64_t now = loop_wall_ms(), age = 0;
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		const char *sent = json_string_value(json_object_get(json_object_get(m, "Attributes"), "SentTimestamp"));
		int64_t a = sent ? now - strtoll(sent, NULL, 10) : 0;
		if (a > age)
			age = a;
	}
	return age;
}

static void invoke(struct sqs_worker *w)
{
	struct sqs_poller *p = w->p;
	size_t nrec = json_array_size(w->records);
	json_t *event = json_pack("{s:O}", "Records", w->records);
	char *text = event ? json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(event);
	json_decref(w->records);
	w->records = NULL;
	w->invoked = 1;
	p->stats.lag_ms = oldest_age_ms(w->batch);
	if (!text) {
		failed(w);
		return;
	}
	struct door_call c = { .scope = p->scope, .name = p->fn_name, .qualifier = p->qualifier, .payload = text,
			       .payload_len = strlen(text) };
	ld_error_t err = { 0 };
	int rc = door_invoke(p->srv, &c, on_invoked, w, &err);
	json_decref(c.config);
	free(text);
	ld_error_clear(&err);
	if (rc == 0) {
		w->busy = 1;
		p->stats.invoked++;
		metrics_on_mapping(p->srv->metrics, M_INVOKED_EVENT_COUNT, p->scope, p->uuid, (double)nrec);
		return;
	}
	if (rc != LD_ETHROTTLED) { /* the function is not there or not Active: the messages stay */
		failed(w);
		return;
	}
	/* throttled: the batch and what was carried go back to the queue at
	 * once, in order, and this worker retires while another runs */
	p->stats.throttled++;
	p->hold_until_ms = loop_now_ms() + SQS_THROTTLE_HOLD_MS;
	w->invoked = 0;
	json_t *back = joined(w->batch, w->carry);
	json_decref(w->batch);
	json_decref(w->carry);
	w->batch = w->carry = NULL;
	batch_call(w, "ChangeMessageVisibilityBatch", back, THEN_THROTTLED);
}

/* ---- gather ---- */

/* adds msgs (in order) to the batch while the event stays within the
 * invoke payload limit; the rest is carried over to the next batch */
static void add(struct sqs_worker *w, json_t *msgs)
{
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		json_t *rec = json_array_size(w->carry) ? NULL : record_of(w->p, m);
		size_t len = rec ? json_dumpb(rec, NULL, 0, JSON_COMPACT) + 1 : 0;
		if (!rec || (json_array_size(w->batch) && w->bytes + len > QUOTA_SYNC_PAYLOAD)) {
			if (!w->carry)
				w->carry = json_array();
			json_array_append(w->carry, m);
			json_decref(rec);
			continue;
		}
		json_array_append(w->batch, m);
		json_array_append_new(w->records, rec);
		w->bytes += len;
	}
	if (json_array_size(w->batch) && !w->first_ms)
		w->first_ms = loop_now_ms();
}

/* the batch is full: BatchSize messages, or the payload limit reached */
static int full(struct sqs_worker *w)
{
	return json_array_size(w->batch) >= (size_t)w->p->batch_size || json_array_size(w->carry);
}

/* the batching window's milliseconds left (0: over) */
static uint64_t window_left(struct sqs_worker *w)
{
	uint64_t age = loop_now_ms() - w->first_ms;
	return age < w->p->window_ms ? w->p->window_ms - age : 0;
}

static void on_window(void *ud)
{
	struct sqs_worker *w = ud;
	w->timer = 0;
	invoke(w);
}

/* after a receive: invoke the batch when it is full or its window is over,
 * else receive more */
static void gather(struct sqs_worker *w)
{
	if (!json_array_size(w->batch)) {
		receive(w);
		return;
	}
	if (full(w) || !window_left(w)) {
		invoke(w);
		return;
	}
	receive(w);
}

/* starts a batch with what was carried over */
static void cycle(struct sqs_worker *w)
{
	struct sqs_poller *p = w->p;
	json_t *carry = w->carry;
	json_decref(w->batch);
	json_decref(w->records);
	w->batch = json_array();
	w->records = json_array();
	w->carry = NULL;
	w->bytes = SQS_EVENT_OVERHEAD;
	w->invoked = 0;
	w->first_ms = 0;
	if (!w->batch || !w->records) {
		json_decref(carry);
		later(w);
		return;
	}
	add(w, carry);
	json_decref(carry);
	if (!json_array_size(w->batch) && bound(p) <= 0) { /* reserved concurrency 0: nothing can run */
		later(w);
		return;
	}
	gather(w);
}

/* FilterCriteria against each message's record (a JSON body as a
 * document): a new array of what passes; what does not goes to *drop. */
static json_t *filter(struct sqs_poller *p, json_t *msgs, json_t *drop)
{
	json_t *pass = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		json_t *rec = record_of(p, m);
		json_t *body = rec ? json_loads(json_string_value(json_object_get(rec, "body")) ?: "", 0, NULL) : NULL;
		if (json_is_object(body) || json_is_array(body))
			json_object_set(rec, "body", body);
		json_array_append(rec && pattern_filters_match(p->filters, rec) ? pass : drop, m);
		json_decref(body);
		json_decref(rec);
	}
	return pass;
}

static void on_received(void *ud, const outbound_result_t *r)
{
	struct sqs_worker *w = ud;
	struct sqs_poller *p = w->p;
	w->busy = 0;
	json_t *doc = aws_call_json(r);
	json_t *msgs = json_object_get(doc, "Messages");
	if (p->stopped) { /* what the poll brought goes back with the rest */
		if (json_array_size(msgs)) {
			if (!w->carry)
				w->carry = json_array();
			json_array_extend(w->carry, msgs);
		}
		json_decref(doc);
		finish(w, r->rc == 0);
		return;
	}
	if (r->rc || r->status != 200) {
		char code[128], msg[256];
		aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
		fprintf(stderr, "lambdad: SQS ReceiveMessage on %s failed: %s %s (HTTP %ld)\n", p->queue_arn,
			r->rc ? r->error : code, msg, r->status);
		json_decref(doc);
		if (json_array_size(w->batch))
			invoke(w); /* what was gathered goes now */
		else
			later(w);
		return;
	}
	size_t n = json_array_size(msgs);
	if (!n) {
		json_decref(doc);
		if (json_array_size(w->batch)) { /* gathering: the window decides */
			uint64_t left = window_left(w);
			int64_t t = left && w->waited_s == 0 ? loop_timer(p->srv->loop, left, on_window, w) : 0;
			if (t > 0)
				w->timer = t;
			else
				gather(w);
		} else if (w->waited_s == SQS_WAIT_S && p->nworkers > 1)
			retire(w); /* the long poll ended empty: fewer workers do */
		else
			receive(w);
		return;
	}
	p->stats.polled += n;
	json_t *drop = json_array();
	json_t *pass = p->filters ? filter(p, msgs, drop) : json_incref(msgs);
	json_decref(doc);
	add(w, pass);
	json_decref(pass);
	if (full(w))
		grow(p);
	if (json_array_size(drop)) { /* deleted without invoking, as on AWS */
		p->stats.filtered += json_array_size(drop);
		batch_call(w, "DeleteMessageBatch", drop, THEN_GATHER);
		return;
	}
	json_decref(drop);
	gather(w);
}

/* ReceiveMessage of what the batch still takes: a long poll for its first
 * message, then as long as its window has whole seconds left */
static void receive(struct sqs_worker *w)
{
	struct sqs_poller *p = w->p;
	size_t have = json_array_size(w->batch);
	size_t want = (size_t)p->batch_size - have;
	int max = want < SQS_MAX_MESSAGES ? (int)want : SQS_MAX_MESSAGES;
	uint64_t left = have ? window_left(w) / 1000 : SQS_WAIT_S;
	w->waited_s = left < SQS_WAIT_S ? (int)left : SQS_WAIT_S;
	json_t *req = json_pack("{s:s,s:i,s:i,s:[s],s:[s],s:[s]}", "QueueUrl", p->queue_url, "MaxNumberOfMessages", max,
				"WaitTimeSeconds", w->waited_s, "AttributeNames", "All", "MessageSystemAttributeNames",
				"All", "MessageAttributeNames", "All");
	if (!req || call(w, "ReceiveMessage", req, on_received)) {
		if (have)
			invoke(w);
		else
			later(w);
	}
}

/* a new worker, started on its first batch: 0 or LD_ENOMEM */
static int spawn(struct sqs_poller *p)
{
	struct sqs_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return LD_ENOMEM;
	w->p = p;
	w->next = p->workers;
	p->workers = w;
	p->nworkers++;
	cycle(w); /* (may already have ended it) */
	return 0;
}

struct sqs_poller *sqs_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc)
{
	const char *queue = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	struct arn qa, fa;
	if (!queue || !fn || arn_parse(queue, &qa) || arn_parse(fn, &fa) || strcmp(qa.service, "sqs"))
		return NULL;
	/* function:NAME[:QUALIFIER] */
	const char *res = fa.resource;
	if (strncmp(res, "function:", 9))
		return NULL;
	struct sqs_poller *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->srv = srv;
	p->ob = ob;
	snprintf(p->scope, sizeof(p->scope), "%s", scope);
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	snprintf(p->queue_arn, sizeof(p->queue_arn), "%s", queue);
	snprintf(p->region, sizeof(p->region), "%s", qa.region);
	poller_function(res + 9, p->fn_name, sizeof(p->fn_name), p->qualifier, sizeof(p->qualifier));
	json_int_t batch = json_integer_value(json_object_get(doc, "BatchSize"));
	p->batch_size = batch > 0 && batch <= INT_MAX ? (int)batch : 10;
	json_int_t window = json_integer_value(json_object_get(doc, "MaximumBatchingWindowInSeconds"));
	p->window_ms = window > 0 ? (uint64_t)window * 1000 : 0;
	json_int_t conc = json_integer_value(json_object_get(json_object_get(doc, "ScalingConfig"), "MaximumConcurrency"));
	p->max_concurrency = conc > 0 && conc <= INT_MAX ? (int)conc : 0;
	size_t n = strlen(queue);
	p->fifo = n > 5 && !strcmp(queue + n - 5, ".fifo");
	p->report_failures = poller_reports_failures(doc);
	snprintf(p->last_result, sizeof(p->last_result), "%s",
		 json_string_value(json_object_get(doc, "LastProcessingResult")) ?: "");
	if (aws_config_from_env(&p->cfg, "SQS", "sqs", srv->aws_endpoint, qa.region)) {
		free(p);
		return NULL;
	}
	p->filters = poller_filters(doc);
	/* the queue's URL: ENDPOINT/ACCOUNT/NAME, as SQS names them */
	snprintf(p->queue_url, sizeof(p->queue_url), "%s/%s/%s", p->cfg.endpoint, qa.account, qa.resource);
	p->last_spawn_ms = loop_now_ms();
	if (spawn(p)) {
		poller_free(p);
		return NULL;
	}
	return p;
}

const struct poller_stats *sqs_poller_stats(const struct sqs_poller *p)
{
	return &p->stats;
}

void sqs_poller_stop(struct sqs_poller *p)
{
	if (!p)
		return;
	p->stopped = 1;
	p->stopping = 1; /* the workers' ends do not free p under this loop */
	struct sqs_worker *w = p->workers, *next;
	for (; w; w = next) {
		next = w->next;
		if (w->busy)
			continue; /* its callback ends it */
		if (w->timer) {
			loop_cancel(p->srv->loop, w->timer);
			w->timer = 0;
		}
		finish(w, 1);
	}
	p->stopping = 0;
	if (!p->workers)
		poller_free(p);
}
