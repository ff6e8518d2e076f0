/*
 * pollers.c - which mappings have a poller (pollers.h).
 */
#include "pollers/pollers.h"
#include "pollers/activemq.h"
#include "pollers/kafka.h"
#include "pollers/rabbitmq.h"
#include "pollers/sqs.h"
#include "pollers/stream.h"
#include "aws/awscall.h"
#include "aws/outbound.h"
#include "pollers/streamsrc.h"
#include "util/arn.h"
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
};

struct running {
	struct sqs_poller *sqs;         /* one of these */
	struct stream_poller *stream;
	struct kafka_poller *kafka;
	struct rmq_poller *rmq;         /* an Amazon MQ mapping has both: the */
	struct amq_poller *amq;         /* broker's engine says which consumes */
	char revision[64];      /* the mapping's LastModified when it started */
};

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
		srv->pollers = ps;
	}
	return srv->pollers;
}

/* the source of a mapping lambdad polls: "sqs", "kinesis", "dynamodb",
 * "kafka" (self-managed and MSK), "mq" (Amazon MQ brokers: rabbitmq.c reads
 * RabbitMQ's, activemq.c ActiveMQ's); NULL for others */
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
	rmq_poller_stop(r->rmq);
	amq_poller_stop(r->amq);
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
		else if (!strcmp(source, "mq")) {
			r->rmq = rmq_poller_start(srv, ps->ob, scope, uuid, doc);
			r->amq = r->rmq ? amq_poller_start(srv, ps->ob, scope, uuid, doc) : NULL;
			if (r->rmq && !r->amq) { /* both or neither */
				rmq_poller_stop(r->rmq);
				r->rmq = NULL;
			}
		} else
			r->stream = stream_poller_start(srv, ps->ob, scope, uuid, doc);
		if ((r->sqs || r->stream || r->kafka || r->rmq) && strmap_put(ps->running, key, r) == 0)
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
	       : amq_poller_engaged(r->amq) ? *amq_poller_stats(r->amq)
	       : r->rmq	  ? *rmq_poller_stats(r->rmq)
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
	strmap_each(ps->running, stop_cb, NULL);
	strmap_free(ps->running, NULL);
	outbound_free(ps->ob); /* calls in flight end now; their stopped pollers go with them */
	free(ps);
	srv->pollers = NULL;
}
