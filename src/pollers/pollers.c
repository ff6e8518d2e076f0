/*
 * pollers.c - which mappings have a poller (pollers.h).
 */
#include "pollers/pollers.h"
#include "pollers/kafka.h"
#include "pollers/mqbroker.h"
#include "pollers/sqs.h"
#include "pollers/stream.h"
#include "aws/awscall.h"
#include "aws/outbound.h"
#include "pollers/streamsrc.h"
#include "util/arn.h"
#include "loop.h"
#include "metrics/metrics.h"
#include "records/records.h"
#include "util/err.h"
#include "util/strmap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLLERS_HOST_CONNS 1024 /* connections per AWS endpoint, for every poller together */

struct pollers {
	outbound_t *ob;
	strmap_t *running;      /* "scope\x1fuuid" -> struct running */
	server_t *srv;
	int64_t metrics_timer;  /* the mappings' counts into metrics, every POLLERS_METRICS_MS */
};

#define POLLERS_METRICS_MS 5000

struct running {
	struct sqs_poller *sqs;         /* one of these */
	struct stream_poller *stream;
	struct kafka_poller *kafka;
	struct mq_source *mq;           /* Amazon MQ: its broker's engine says which poller */
	char revision[64];      /* the mapping's LastModified when it started */
	struct poller_stats reported; /* what the metrics have of its counts */
};

/* the counts each poller keeps (poller.h) as AWS's event source mapping
 * metrics (EventSourceMappingUUID): what grew since the last time */
static void report_cb(void *ud, const char *key, void *val)
{
	server_t *srv = ud;
	struct running *r = val;
	const char *sep = strchr(key, '\x1f');
	struct poller_stats now = r->sqs     ? *sqs_poller_stats(r->sqs)
				  : r->kafka ? *kafka_poller_stats(r->kafka)
				  : r->mq    ? *mqbroker_stats(r->mq)
					     : *stream_poller_stats(r->stream);
	char scope[128];
	if (!sep || (size_t)(sep - key) >= sizeof(scope))
		return;
	snprintf(scope, sizeof(scope), "%.*s", (int)(sep - key), key);
	if (now.polled > r->reported.polled)
		metrics_on_mapping(srv->metrics, M_POLLED_EVENT_COUNT, scope, sep + 1,
				   (double)(now.polled - r->reported.polled));
	if (now.filtered > r->reported.filtered)
		metrics_on_mapping(srv->metrics, M_FILTERED_OUT_EVENT_COUNT, scope, sep + 1,
				   (double)(now.filtered - r->reported.filtered));
	r->reported = now;
}

static void report_metrics(void *ud)
{
	struct pollers *ps = ud;
	strmap_each(ps->running, report_cb, ps->srv);
	ps->metrics_timer = loop_timer(ps->srv->loop, POLLERS_METRICS_MS, report_metrics, ps);
}

static struct pollers *state(server_t *srv)
{
	if (!srv->pollers) {
		struct pollers *ps = calloc(1, sizeof(*ps));
		if (!ps || strmap_new(&ps->running) || outbound_new(srv->loop, &ps->ob)) {
			if (ps)
				strmap_free(ps->running, NULL);
			free(ps);
			return NULL;
		}
		/* SQS workers hold a connection for each 20 s long poll: the
		 * streams' and the deletes' calls must not wait behind them */
		outbound_set_host_conns(ps->ob, POLLERS_HOST_CONNS);
		ps->srv = srv;
		ps->metrics_timer = srv->metrics ? loop_timer(srv->loop, POLLERS_METRICS_MS, report_metrics, ps) : 0;
		srv->pollers = ps;
	}
	return srv->pollers;
}

/* the source of a mapping lambdad polls: "sqs", "kinesis", "dynamodb",
 * "kafka" (self-managed and MSK), "mq" (Amazon MQ brokers: mqbroker.c finds
 * the broker and starts rabbitmq.c's or activemq.c's poller); NULL for others */
static const char *polled(json_t *doc)
{
	const char *arn = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *type = json_string_value(json_object_get(doc, "_Source"));
	if (type && !strcmp(type, "self-managed-kafka"))
		return "kafka";
	if (!arn || strncmp(arn, "arn:", 4))
		return NULL;
	static const char *const services[] = { "sqs", "kinesis", "dynamodb", "mq", "kafka" /* Amazon MSK */ };
	for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		char part[24];
		snprintf(part, sizeof(part), ":%s:", services[i]);
		if (strstr(arn, part))
			return services[i];
	}
	return NULL;
}

static void running_free(struct running *r)
{
	sqs_poller_stop(r->sqs);
	stream_poller_stop(r->stream);
	kafka_poller_stop(r->kafka);
	mqbroker_stop(r->mq);
	free(r);
}

void pollers_sync(server_t *srv, const char *scope, const char *uuid)
{
	struct pollers *ps = srv->pollers; /* none before pollers_start (tools, fuzzers) */
	if (!ps)
		return;
	char key[200];
	snprintf(key, sizeof(key), "%s\x1f%s", scope, uuid);
	json_t *doc = NULL;
	int found = rec_get(srv->store, REC_ESM, scope, uuid, &doc) == 0;
	const char *st = json_string_value(json_object_get(doc, "State"));
	const char *mod = json_string_value(json_object_get(doc, "LastModified"));
	const char *source = found && st && !strcmp(st, "Enabled") ? polled(doc) : NULL;
	struct running *r = strmap_get(ps->running, key);
	if (r && (!source || strcmp(r->revision, mod ? mod : ""))) {
		strmap_del(ps->running, key);
		running_free(r);
		r = NULL;
	}
	if (source && !r && (r = calloc(1, sizeof(*r)))) {
		snprintf(r->revision, sizeof(r->revision), "%s", mod ? mod : "");
		if (!strcmp(source, "sqs"))
			r->sqs = sqs_poller_start(srv, ps->ob, scope, uuid, doc);
		else if (!strcmp(source, "kafka"))
			r->kafka = kafka_poller_start(srv, ps->ob, scope, uuid, doc);
		else if (!strcmp(source, "mq"))
			r->mq = mqbroker_start(srv, ps->ob, scope, uuid, doc);
		else
			r->stream = stream_poller_start(srv, ps->ob, scope, uuid, doc);
		if ((r->sqs || r->stream || r->kafka || r->mq) && strmap_put(ps->running, key, r) == 0)
			r = NULL;
		if (r)
			running_free(r);
	}
	json_decref(doc);
}

struct boot {
	server_t *srv;
	const char *scope;
	json_t *uuids;
};

static int uuid_cb(void *ud, const char *key, const char *text, size_t len)
{
	struct boot *b = ud;
	json_array_append_new(b->uuids, json_pack("[s,s]", b->scope, key));
	return 0;
}

static int scope_cb(void *ud, const char *scope, const char *text, size_t len)
{
	struct boot *b = ud;
	b->scope = scope;
	return rec_list(b->srv->store, REC_ESM, scope, NULL, NULL, 0, uuid_cb, b);
}

int pollers_start(server_t *srv)
{
	if (!state(srv))
		return LD_ENOMEM;
	struct boot b = { srv, NULL, json_array() };
	if (!b.uuids)
		return LD_ENOMEM;
	int rc = rec_scopes(srv->store, REC_ESM, scope_cb, &b);
	size_t i;
	json_t *e;
	json_array_foreach(b.uuids, i, e)
		pollers_sync(srv, json_string_value(json_array_get(e, 0)), json_string_value(json_array_get(e, 1)));
	json_decref(b.uuids);
	return rc;
}

int pollers_stats(server_t *srv, const char *scope, const char *uuid, struct poller_stats *out)
{
	struct pollers *ps = srv->pollers;
	char key[200];
	snprintf(key, sizeof(key), "%s\x1f%s", scope, uuid);
	struct running *r = ps ? strmap_get(ps->running, key) : NULL;
	if (!r)
		return LD_ENOTFOUND;
	*out = r->sqs	 ? *sqs_poller_stats(r->sqs)
	       : r->kafka ? *kafka_poller_stats(r->kafka)
	       : r->mq	  ? *mqbroker_stats(r->mq)
			  : *stream_poller_stats(r->stream);
	return 0;
}

#define CHECK_TIMEOUT_MS 5000 /* a source's existence, asked at creation */

struct source_check {
	void (*done)(void *ud, int found);
	void *ud;
};

static void on_checked(void *ud, const outbound_result_t *r)
{
	struct source_check *c = ud;
	int found = -1;
	if (r->rc == 0 && r->status == 200) {
		found = 1;
	} else if (r->rc == 0 && r->status >= 400 && r->status < 500) {
		char code[128], msg[256];
		aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
		if (!strcmp(code, "ResourceNotFoundException") || !strcmp(code, "QueueDoesNotExist") ||
		    !strcmp(code, "AWS.SimpleQueueService.NonExistentQueue"))
			found = 0;
	}
	c->done(c->ud, found);
	free(c);
}

int pollers_check_source(server_t *srv, const char *arn, void (*done)(void *ud, int found), void *ud)
{
	struct arn a;
	if (!arn || arn_parse(arn, &a))
		return LD_ENOTFOUND;
	const struct stream_source *ss = streamsrc_of(a.service);
	int sqs = !strcmp(a.service, "sqs");
	if (!sqs && !ss)
		return LD_ENOTFOUND;
	const char *env = sqs ? "SQS" : ss->env;
	char var[64];
	snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", env);
	if (!(srv->aws_endpoint && *srv->aws_endpoint) && !(getenv(var) && *getenv(var)) &&
	    !(getenv("AWS_ENDPOINT_URL") && *getenv("AWS_ENDPOINT_URL")))
		return LD_ENOTFOUND;
	struct pollers *ps = srv->pollers;
	aws_config_t cfg;
	if (!ps)
		return LD_ENOTFOUND;
	int rc = aws_config_from_env(&cfg, env, sqs ? "sqs" : ss->host, srv->aws_endpoint, a.region);
	if (rc)
		return rc;
	json_t *req;
	char target[80];
	if (sqs) {
		snprintf(target, sizeof(target), "AmazonSQS.GetQueueUrl");
		req = json_pack("{s:s,s:s}", "QueueName", a.resource, "QueueOwnerAWSAccountId", a.account);
	} else if (ss->kinesis) {
		const char *slash = strchr(a.resource, '/');
		snprintf(target, sizeof(target), "%sDescribeStreamSummary", ss->target);
		req = json_pack("{s:s}", "StreamName", slash ? slash + 1 : a.resource);
	} else {
		snprintf(target, sizeof(target), "%sDescribeStream", ss->target);
		req = json_pack("{s:s,s:i}", "StreamArn", arn, "Limit", 1);
	}
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	struct source_check *c = body ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		free(body);
		return LD_ENOMEM;
	}
	c->done = done;
	c->ud = ud;
	aws_call_t call = { &cfg, sqs ? "sqs" : ss->service, "POST", "/",
			    sqs ? "application/x-amz-json-1.0" : ss->content_type, target, body, strlen(body), 0,
			    CHECK_TIMEOUT_MS };
	rc = aws_call_send(ps->ob, &call, on_checked, c);
	free(body);
	if (rc)
		free(c);
	return rc;
}

static void count_cb(void *ud, const char *key, void *val)
{
	(*(int *)ud)++;
}

int pollers_count(server_t *srv)
{
	int n = 0;
	if (srv->pollers)
		strmap_each(((struct pollers *)srv->pollers)->running, count_cb, &n);
	return n;
}

static void stop_cb(void *ud, const char *key, void *val)
{
	running_free(val);
}

void pollers_stop(server_t *srv)
{
	struct pollers *ps = srv->pollers;
	if (!ps)
		return;
	if (ps->metrics_timer > 0)
		loop_cancel(srv->loop, ps->metrics_timer);
	strmap_each(ps->running, report_cb, srv); /* the last counts */
	strmap_each(ps->running, stop_cb, NULL);
	strmap_free(ps->running, NULL);
	outbound_free(ps->ob); /* calls in flight end now; their stopped pollers go with them */
	free(ps);
	srv->pollers = NULL;
}
