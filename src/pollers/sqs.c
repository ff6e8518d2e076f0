/*
 * sqs.c - polling an SQS queue for one event source mapping (sqs.h).
 *
 * One step at a time: receive (a long poll), invoke, delete, receive again.
 * The step in flight owns the poller; a stopped poller is freed when it
 * ends. Facts from AWS's recordings (test_lambda_integration_sqs): the
 * record's members and their order, the attributes' names.
 */
#include "pollers/sqs.h"
#include "aws/awscall.h"
#include "exec/door.h"
#include "loop.h"
#include "records/records.h"
#include "util/arn.h"
#include "util/err.h"
#include "util/pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQS_WAIT_S 20               /* ReceiveMessage's long poll */
#define SQS_MAX_RESPONSE (4u << 20) /* 10 messages of 256 KB and their attributes */
#define SQS_RETRY_MS 1000           /* after a failed call or a throttle */

struct sqs_poller {
	server_t *srv;
	outbound_t *ob;
	char scope[96], uuid[40];
	char queue_arn[300], queue_url[600], region[40];
	char fn_name[160], qualifier[140];
	int max_messages;
	int report_failures;
	aws_config_t cfg;
	int stopped, busy;
	int64_t timer;
	json_t *batch;          /* the messages being processed */
	json_t *filters;        /* FilterCriteria, or NULL */
	char last_result[64];
	struct poller_stats stats;
};

static void receive(struct sqs_poller *p);

static void release(struct sqs_poller *p)
{
	p->busy = 0;
	if (!p->stopped)
		return;
	json_decref(p->batch);
	json_decref(p->filters);
	free(p);
}

static void on_retry(void *ud)
{
	struct sqs_poller *p = ud;
	p->timer = 0;
	receive(p);
}

static void later(struct sqs_poller *p)
{
	p->busy = 0;
	if (p->stopped) {
		release(p);
		return;
	}
	p->timer = loop_timer(p->srv->loop, SQS_RETRY_MS, on_retry, p);
}

static int call(struct sqs_poller *p, const char *op, json_t *doc, outbound_cb cb)
{
	char target[64];
	snprintf(target, sizeof(target), "AmazonSQS.%s", op);
	char *body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!body)
		return LD_ENOMEM;
	aws_call_t c = { &p->cfg, "sqs", "POST", "/", "application/x-amz-json-1.0", target, body, strlen(body),
			 SQS_MAX_RESPONSE, (SQS_WAIT_S + 10) * 1000L };
	int rc = aws_call_send(p->ob, &c, cb, p);
	free(body);
	return rc;
}

/* LastProcessingResult, stored when it changes */
static void result(struct sqs_poller *p, const char *what)
{
	if (!strcmp(p->last_result, what))
		return;
	snprintf(p->last_result, sizeof(p->last_result), "%s", what);
	json_t *doc = NULL;
	if (rec_get(p->srv->store, REC_ESM, p->scope, p->uuid, &doc) == 0) {
		json_object_set_new(doc, "LastProcessingResult", json_string(what));
		rec_put(p->srv->store, REC_ESM, p->scope, p->uuid, doc);
	}
	json_decref(doc);
}

/* ---- delete ---- */

static void on_deleted(void *ud, const outbound_result_t *r)
{
	struct sqs_poller *p = ud;
	if (r->rc || r->status != 200)
		fprintf(stderr, "lambdad: SQS DeleteMessageBatch on %s failed (HTTP %ld)\n", p->queue_arn, r->status);
	json_decref(p->batch);
	p->batch = NULL;
	if (p->stopped) {
		release(p);
		return;
	}
	receive(p);
}

/* a batch call's {"QueueUrl","Entries":[{"Id","ReceiptHandle"(,"VisibilityTimeout")}]}
 * for msgs (visibility < 0: none) */
static json_t *batch_request(struct sqs_poller *p, json_t *msgs, int visibility)
{
	json_t *entries = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(msgs, i, m) {
		char eid[24];
		snprintf(eid, sizeof(eid), "%zu", i);
		json_t *e = json_pack("{s:s,s:O}", "Id", eid, "ReceiptHandle", json_object_get(m, "ReceiptHandle"));
		if (e && visibility >= 0)
			json_object_set_new(e, "VisibilityTimeout", json_integer(visibility));
		json_array_append_new(entries, e);
	}
	return json_pack("{s:s,s:o}", "QueueUrl", p->queue_url, "Entries", entries);
}

/* DeleteMessageBatch of msgs (non-empty); cb gets the answer */
static int delete_msgs(struct sqs_poller *p, json_t *msgs, outbound_cb cb)
{
	return call(p, "DeleteMessageBatch", batch_request(p, msgs, -1), cb);
}

/* deletes the batch's messages except the ids in keep (NULL: none kept) */
static void delete_batch(struct sqs_poller *p, json_t *keep)
{
	json_t *gone = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(p->batch, i, m) {
		const char *id = json_string_value(json_object_get(m, "MessageId"));
		int kept = 0;
		size_t k;
		json_t *v;
		json_array_foreach(keep, k, v) kept |= id && json_string_value(v) && !strcmp(id, json_string_value(v));
		if (!kept)
			json_array_append(gone, m);
	}
	if (!json_array_size(gone)) {
		json_decref(gone);
		json_decref(p->batch);
		p->batch = NULL;
		if (p->stopped)
			release(p);
		else
			receive(p);
		return;
	}
	if (delete_msgs(p, gone, on_deleted))
		later(p);
	json_decref(gone);
}

/* ---- invoke ---- */

/* the ids a ReportBatchItemFailures response keeps, or NULL when the
 * response is not such a document (then the whole batch failed) */
static json_t *reported_failures(struct sqs_poller *p, const char *payload, size_t len)
{
	json_t *doc = json_loadb(payload, len, JSON_DECODE_ANY, NULL);
	json_t *ids = json_array();
	if (!doc || json_is_null(doc) || (json_is_object(doc) && !json_object_get(doc, "batchItemFailures")))
		goto out; /* no failures reported: all succeeded */
	json_t *list = json_object_get(doc, "batchItemFailures");
	if (!json_is_object(doc) || !(json_is_array(list) || json_is_null(list)))
		goto bad;
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		const char *id = json_string_value(json_object_get(f, "itemIdentifier"));
		int known = 0;
		size_t k;
		json_t *m;
		json_array_foreach(p->batch, k, m) known |= id && !strcmp(id, json_string_value(json_object_get(m, "MessageId")));
		if (!known)
			goto bad;
		json_array_append_new(ids, json_string(id));
	}
out:
	json_decref(doc);
	return ids;
bad:
	json_decref(doc);
	json_decref(ids);
	return NULL;
}

static void on_invoked(void *ud, struct exec_result *res)
{
	struct sqs_poller *p = ud;
	if (p->stopped) { /* the messages come back after their visibility timeout */
		release(p);
		return;
	}
	if (!res->ok || res->function_error) {
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		later(p);
		return;
	}
	json_t *keep = NULL;
	if (p->report_failures && !(keep = reported_failures(p, res->payload, res->payload_len))) {
		p->stats.failed++;
		result(p, "PROBLEM: Function call failed");
		later(p);
		return;
	}
	result(p, "OK");
	delete_batch(p, keep);
	json_decref(keep);
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

static void invoke(struct sqs_poller *p)
{
	json_t *records = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(p->batch, i, m) {
		json_t *rec = record_of(p, m);
		if (rec)
			json_array_append_new(records, rec);
	}
	json_t *event = json_pack("{s:o}", "Records", records);
	char *text = event ? json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(event);
	if (!text) {
		later(p);
		return;
	}
	struct door_call c = { .scope = p->scope, .name = p->fn_name, .qualifier = p->qualifier, .payload = text,
			       .payload_len = strlen(text) };
	ld_error_t err = { 0 };
	int rc = door_invoke(p->srv, &c, on_invoked, p, &err);
	json_decref(c.config);
	free(text);
	if (rc == 0)
		p->stats.invoked++;
	if (rc) { /* throttled, or the function is not there or not Active: the messages stay */
		if (rc == LD_ETHROTTLED)
			p->stats.throttled++;
		else {
			p->stats.failed++;
			result(p, "PROBLEM: Function call failed");
		}
		ld_error_clear(&err);
		later(p);
	}
}

/* ---- receive ---- */

static void on_filtered(void *ud, const outbound_result_t *r)
{
	struct sqs_poller *p = ud;
	if (p->stopped) {
		release(p);
		return;
	}
	if (json_array_size(p->batch))
		invoke(p);
	else
		receive(p);
}

/* FilterCriteria against each message's record (a JSON body as a
 * document): the batch keeps what passes; what does not is deleted, as on
 * AWS. 1 when that delete is in flight (on_filtered goes on). */
static int filter(struct sqs_poller *p)
{
	json_t *pass = json_array(), *drop = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(p->batch, i, m) {
		json_t *rec = record_of(p, m);
		json_t *body = rec ? json_loads(json_string_value(json_object_get(rec, "body")) ?: "", 0, NULL) : NULL;
		if (json_is_object(body) || json_is_array(body))
			json_object_set(rec, "body", body);
		json_array_append(rec && pattern_filters_match(p->filters, rec) ? pass : drop, m);
		json_decref(body);
		json_decref(rec);
	}
	json_decref(p->batch);
	p->stats.filtered += json_array_size(drop);
	p->batch = pass;
	int deleting = json_array_size(drop) && delete_msgs(p, drop, on_filtered) == 0;
	json_decref(drop);
	return deleting;
}

static void on_returned(void *ud, const outbound_result_t *r)
{
	release(ud);
}

/* a stopped poller's last long poll brought messages: they go back to the
 * queue at once, for whoever polls next */
static int give_back(struct sqs_poller *p, json_t *msgs)
{
	return call(p, "ChangeMessageVisibilityBatch", batch_request(p, msgs, 0), on_returned);
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

static void on_received(void *ud, const outbound_result_t *r)
{
	struct sqs_poller *p = ud;
	if (p->stopped) {
		json_t *doc = r->rc == 0 && r->status == 200 ? json_loadb(r->body, r->len, 0, NULL) : NULL;
		json_t *msgs = json_object_get(doc, "Messages");
		int pending = json_array_size(msgs) && give_back(p, msgs) == 0;
		json_decref(doc);
		if (!pending)
			release(p);
		return;
	}
	if (r->rc || r->status != 200) {
		char code[128], msg[256];
		aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
		fprintf(stderr, "lambdad: SQS ReceiveMessage on %s failed: %s %s (HTTP %ld)\n", p->queue_arn,
			r->rc ? r->error : code, msg, r->status);
		later(p);
		return;
	}
	json_t *doc = json_loadb(r->body, r->len, 0, NULL);
	json_t *msgs = json_object_get(doc, "Messages");
	if (!json_is_array(msgs) || !json_array_size(msgs)) {
		json_decref(doc);
		receive(p); /* the long poll ended empty: poll again */
		return;
	}
	json_decref(p->batch);
	p->batch = json_incref(msgs);
	json_decref(doc);
	p->stats.polled += json_array_size(msgs);
	p->stats.lag_ms = oldest_age_ms(msgs);
	if (p->filters && filter(p))
		return; /* the filtered-out messages are being deleted; on_filtered goes on */
	if (!json_array_size(p->batch)) {
		receive(p);
		return;
	}
	invoke(p);
}

static void receive(struct sqs_poller *p)
{
	if (p->stopped) {
		release(p);
		return;
	}
	p->busy = 1;
	json_t *req = json_pack("{s:s,s:i,s:i,s:[s],s:[s],s:[s]}", "QueueUrl", p->queue_url, "MaxNumberOfMessages",
				p->max_messages, "WaitTimeSeconds", SQS_WAIT_S, "AttributeNames", "All",
				"MessageSystemAttributeNames", "All", "MessageAttributeNames", "All");
	if (!req || call(p, "ReceiveMessage", req, on_received))
		later(p);
}

struct sqs_poller *sqs_poller_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc)
{
	const char *queue = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	struct arn qa, fa;
	if (!queue || !fn || arn_parse(queue, &qa) || arn_parse(fn, &fa) || strcmp(qa.service, "sqs"))
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
	/* function:NAME[:QUALIFIER] */
	const char *res = fa.resource;
	if (strncmp(res, "function:", 9)) {
		free(p);
		return NULL;
	}
	res += 9;
	const char *colon = strchr(res, ':');
	snprintf(p->fn_name, sizeof(p->fn_name), "%.*s", (int)(colon ? (size_t)(colon - res) : strlen(res)), res);
	snprintf(p->qualifier, sizeof(p->qualifier), "%s", colon ? colon + 1 : "");
	json_int_t batch = json_integer_value(json_object_get(doc, "BatchSize"));
	p->max_messages = batch > 0 && batch < 10 ? (int)batch : 10;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(doc, "FunctionResponseTypes"), i, t)
		p->report_failures |= json_string_value(t) && !strcmp(json_string_value(t), "ReportBatchItemFailures");
	snprintf(p->last_result, sizeof(p->last_result), "%s",
		 json_string_value(json_object_get(doc, "LastProcessingResult")) ?: "");
	if (aws_config_from_env(&p->cfg, "SQS", "sqs", srv->aws_endpoint, qa.region)) {
		free(p);
		return NULL;
	}
	json_t *fc = json_object_get(doc, "FilterCriteria");
	if (json_array_size(json_object_get(fc, "Filters")))
		p->filters = json_deep_copy(fc);
	/* the queue's URL: ENDPOINT/ACCOUNT/NAME, as SQS names them */
	snprintf(p->queue_url, sizeof(p->queue_url), "%s/%s/%s", p->cfg.endpoint, qa.account, qa.resource);
	receive(p);
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
	if (p->timer) {
		loop_cancel(p->srv->loop, p->timer);
		p->timer = 0;
	}
	if (!p->busy) {
		json_decref(p->batch);
		json_decref(p->filters);
		free(p);
	}
}
