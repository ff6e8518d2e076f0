/*
 * mqbroker.c - an Amazon MQ mapping's broker, found once per attempt, and
 * its one poller (mqbroker.h).
 *
 * An attempt: GetSecretValue, then DescribeBroker (one outbound call at a
 * time), then the poller of the broker's engine is started (the first
 * time) and told where to connect with what. The poller reports back
 * through struct mq_hooks: its connection closed (the next attempt after
 * the backoff), a consumer runs (the backoff starts over), a
 * LastProcessingResult. Failures before a connection show in
 * LastProcessingResult only once DescribeBroker has said ACTIVEMQ (as the
 * ActiveMQ poller always did; the RabbitMQ poller's mapping keeps
 * the result of its last batch).
 */
#include "pollers/mqbroker.h"
#include "aws/awscall.h"
#include "loop.h"
#include "pollers/activemq.h"
#include "pollers/rabbitmq.h"
#include "util/arn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MQ_BACKOFF_MIN_MS 1000  /* before the next attempt, doubling ... */
#define MQ_BACKOFF_MAX_MS 30000 /* ... up to this */
#define MQ_CALL_MS 10000        /* DescribeBroker, GetSecretValue */
#define MQ_MAX_RESPONSE (256u << 10)
#define MQ_CRED_MAX 256         /* a username or password with its NUL (an AMQP short string) */
#define MQ_QUEUE_MAX 255        /* Queues[0]: an AMQP 0-9-1 short string, for either engine */

#define RESULT_CONN "PROBLEM: Connection error."
#define RESULT_AUTH "PROBLEM: Authentication error."

enum engine { ENGINE_UNKNOWN, ENGINE_RABBITMQ, ENGINE_ACTIVEMQ };

struct mq_source {
	server_t *srv;
	outbound_t *ob;
	char scope[96], uuid[40];
	char arn[300], broker_id[128], secret_arn[1024];
	json_t *doc;            /* the mapping's record, for the poller's start */
	aws_config_t mq_cfg, sm_cfg;
	char user[MQ_CRED_MAX], pass[MQ_CRED_MAX];
	enum engine engine;     /* what DescribeBroker said last */
	struct rmq_poller *rmq; /* at most one of these */
	struct amq_poller *amq;
	int stopped;
	int calling;            /* an outbound call is in flight: its callback comes */
	int64_t timer;          /* the backoff */
	uint64_t backoff_ms;
	char last_result[POLLER_RESULT_MAX];
	struct poller_stats none;
};

static void attempt(struct mq_source *b);

static void source_free(struct mq_source *b)
{
	if (b->timer > 0)
		loop_cancel(b->srv->loop, b->timer);
	rmq_poller_stop(b->rmq);
	amq_poller_stop(b->amq);
	json_decref(b->doc);
	free(b);
}

static int gone_if_stopped(struct mq_source *b)
{
	if (!b->stopped)
		return 0;
	if (!b->calling)
		source_free(b);
	return 1;
}

/* ---- what the poller reports ---- */

static void hook_result(void *ud, const char *what)
{
	struct mq_source *b = ud;
	poller_result(b->srv, b->scope, b->uuid, b->last_result, what);
}

static void hook_opened(void *ud)
{
	struct mq_source *b = ud;
	b->backoff_ms = 0;
	if (!strcmp(b->last_result, RESULT_CONN) || !strcmp(b->last_result, RESULT_AUTH))
		hook_result(b, "OK");
}

static void on_backoff(void *ud)
{
	struct mq_source *b = ud;
	b->timer = 0;
	attempt(b);
}

/* the next attempt, after the backoff */
static void later(struct mq_source *b)
{
	if (b->timer > 0)
		loop_cancel(b->srv->loop, b->timer);
	uint64_t ms = b->backoff_ms ? b->backoff_ms : MQ_BACKOFF_MIN_MS;
	b->backoff_ms = ms * 2 > MQ_BACKOFF_MAX_MS ? MQ_BACKOFF_MAX_MS : ms * 2;
	int64_t t = loop_timer(b->srv->loop, ms, on_backoff, b);
	b->timer = t > 0 ? t : 0;
}

static void hook_closed(void *ud)
{
	later(ud);
}

/* a failure before the poller could connect: logged, shown where the
 * engine is ActiveMQ, and tried again after the backoff */
static void failed(struct mq_source *b, const char *result, const char *why)
{
	fprintf(stderr, "lambdad: Amazon MQ broker of %s: %s\n", b->arn, why);
	if (b->engine == ENGINE_ACTIVEMQ)
		hook_result(b, result);
	later(b);
}

static void call_failed(struct mq_source *b, const char *op, const outbound_result_t *r)
{
	char code[128], msg[256], why[600];
	aws_call_error(r->body, r->len, code, sizeof(code), msg, sizeof(msg));
	snprintf(why, sizeof(why), "%s failed: %s %s (HTTP %ld)", op, r->rc ? r->error : code, msg, r->status);
	failed(b, RESULT_CONN, why);
}

/* ---- the poller ---- */

/* the host of an endpoint URL (scheme://[USERINFO@]HOST:PORT...) into out */
static void endpoint_host(const char *url, char *out, size_t n)
{
	const char *s = strstr(url, "://");
	s = s ? s + 3 : url;
	const char *at = strchr(s, '@');
	if (at && at < s + strcspn(s, "/"))
		s = at + 1;
	size_t len = strcspn(s, ":/");
	snprintf(out, n, "%.*s", (int)len, s);
}

/* the poller of engine e runs (started the first time, or when the engine
 * changed) and connects to url: 0, or -1 when it cannot start */
static int consume(struct mq_source *b, enum engine e, const char *url)
{
	struct mq_hooks h = { b, hook_result, hook_opened, hook_closed };
	if (e == ENGINE_RABBITMQ && b->amq) {
		amq_poller_stop(b->amq);
		b->amq = NULL;
	} else if (e == ENGINE_ACTIVEMQ && b->rmq) {
		rmq_poller_stop(b->rmq);
		b->rmq = NULL;
	}
	if (e == ENGINE_RABBITMQ) {
		if (!b->rmq && !(b->rmq = rmq_poller_start(b->srv, b->scope, b->uuid, b->doc, &h)))
			return -1;
		rmq_poller_connect(b->rmq, url, b->user, b->pass);
	} else {
		if (!b->amq && !(b->amq = amq_poller_start(b->srv, b->scope, b->uuid, b->doc, &h)))
			return -1;
		amq_poller_connect(b->amq, url, b->user, b->pass);
	}
	return 0;
}

/* ---- the attempt ---- */

static void on_broker(void *ud, const outbound_result_t *r)
{
	struct mq_source *b = ud;
	b->calling = 0;
	if (gone_if_stopped(b))
		return;
	if (r->rc || r->status != 200) {
		call_failed(b, "DescribeBroker", r);
		return;
	}
	json_t *doc = aws_call_json(r);
	const char *engine = json_string_value(json_object_get(doc, "engineType"));
	if (engine && strcasecmp(engine, "RABBITMQ") && strcasecmp(engine, "ACTIVEMQ")) {
		fprintf(stderr, "lambdad: the broker of %s runs %s, which lambdad does not poll\n", b->arn, engine);
		json_decref(doc); /* nothing more is asked: the mapping reads nothing */
		return;
	}
	b->engine = engine && !strcasecmp(engine, "ACTIVEMQ") ? ENGINE_ACTIVEMQ : ENGINE_RABBITMQ;
	const char *endpoint = NULL;
	size_t i, j;
	json_t *inst, *e;
	json_array_foreach(json_object_get(doc, "brokerInstances"), i, inst) {
		json_array_foreach(json_object_get(inst, "endpoints"), j, e) {
			const char *s = json_string_value(e);
			if (!endpoint && s && !strncmp(s, "amqp", 4))
				endpoint = s;
		}
	}
	char host[256] = "", target[512];
	if (endpoint)
		endpoint_host(endpoint, host, sizeof(host));
	const char *url = poller_mq_broker(b->srv, b->broker_id, host[0] ? host : NULL);
	snprintf(target, sizeof(target), "%s", url ? url : endpoint ? endpoint : "");
	json_decref(doc);
	if (!target[0])
		failed(b, RESULT_CONN, "DescribeBroker names no AMQP endpoint");
	else if (consume(b, b->engine, target))
		failed(b, RESULT_CONN, "its poller could not start (out of memory)");
}

static int call(struct mq_source *b, const aws_call_t *c, outbound_cb cb)
{
	int rc = aws_call_send(b->ob, c, cb, b);
	if (rc == 0)
		b->calling = 1;
	return rc;
}

static void on_secret(void *ud, const outbound_result_t *r)
{
	struct mq_source *b = ud;
	b->calling = 0;
	if (gone_if_stopped(b))
		return;
	if (r->rc || r->status != 200) {
		call_failed(b, "GetSecretValue", r);
		return;
	}
	json_t *doc = aws_call_json(r);
	const char *s = json_string_value(json_object_get(doc, "SecretString"));
	json_t *secret = s ? json_loads(s, 0, NULL) : NULL;
	const char *user = json_string_value(json_object_get(secret, "username"));
	const char *pass = json_string_value(json_object_get(secret, "password"));
	int ok = user && pass && strlen(user) < sizeof(b->user) && strlen(pass) < sizeof(b->pass);
	if (ok) {
		snprintf(b->user, sizeof(b->user), "%s", user);
		snprintf(b->pass, sizeof(b->pass), "%s", pass);
	}
	json_decref(secret);
	json_decref(doc);
	if (!ok) {
		char why[1200];
		snprintf(why, sizeof(why), "the secret %s is not {\"username\",\"password\"}", b->secret_arn);
		failed(b, RESULT_AUTH, why);
		return;
	}
	char path[200];
	snprintf(path, sizeof(path), "/v1/brokers/%s", b->broker_id);
	aws_call_t c = { &b->mq_cfg, "mq", "GET", path, "application/json", NULL, "", 0, MQ_MAX_RESPONSE, MQ_CALL_MS };
	if (call(b, &c, on_broker))
		later(b);
}

/* the BASIC_AUTH secret (read anew every attempt), then the broker */
static void attempt(struct mq_source *b)
{
	json_t *req = json_pack("{s:s}", "SecretId", b->secret_arn);
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	aws_call_t c = { &b->sm_cfg, "secretsmanager", "POST", "/", "application/x-amz-json-1.1",
			 "secretsmanager.GetSecretValue", body, body ? strlen(body) : 0, MQ_MAX_RESPONSE, MQ_CALL_MS };
	if (!body || call(b, &c, on_secret))
		later(b);
	free(body);
}

/* ---- start and stop ---- */

struct mq_source *mqbroker_start(server_t *srv, outbound_t *ob, const char *scope, const char *uuid, json_t *doc)
{
	const char *src = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	const char *queue = json_string_value(json_array_get(json_object_get(doc, "Queues"), 0));
	struct arn ba, fa;
	if (!src || !fn || !queue || !*queue || strlen(queue) > MQ_QUEUE_MAX || arn_parse(src, &ba) ||
	    arn_parse(fn, &fa) || strcmp(ba.service, "mq") || strncmp(ba.resource, "broker:", 7) ||
	    strncmp(fa.resource, "function:", 9) || strlen(src) >= sizeof(((struct mq_source *)0)->arn))
		return NULL;
	/* broker:NAME:ID (or broker:ID): the id is the last part */
	const char *id = strrchr(ba.resource, ':') + 1;
	if (!*id || strlen(id) >= sizeof(((struct mq_source *)0)->broker_id) ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(id))
		return NULL;
	struct mq_source *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->srv = srv;
	b->ob = ob;
	b->doc = json_incref(doc);
	snprintf(b->scope, sizeof(b->scope), "%s", scope);
	snprintf(b->uuid, sizeof(b->uuid), "%s", uuid);
	snprintf(b->arn, sizeof(b->arn), "%s", src);
	snprintf(b->broker_id, sizeof(b->broker_id), "%s", id);
	size_t i;
	json_t *sac;
	json_array_foreach(json_object_get(doc, "SourceAccessConfigurations"), i, sac) {
		const char *type = json_string_value(json_object_get(sac, "Type"));
		const char *uri = json_string_value(json_object_get(sac, "URI"));
		if (type && uri && !strcmp(type, "BASIC_AUTH"))
			snprintf(b->secret_arn, sizeof(b->secret_arn), "%s", uri);
	}
	snprintf(b->last_result, sizeof(b->last_result), "%s",
		 json_string_value(json_object_get(doc, "LastProcessingResult")) ?: "");
	struct arn sa;
	const char *sm_region = b->secret_arn[0] && arn_parse(b->secret_arn, &sa) == 0 ? sa.region : ba.region;
	if (aws_config_from_env(&b->mq_cfg, "MQ", "mq", srv->aws_endpoint, ba.region) ||
	    aws_config_from_env(&b->sm_cfg, "SECRETS_MANAGER", "secretsmanager", srv->aws_endpoint, sm_region)) {
		source_free(b);
		return NULL;
	}
	if (!b->secret_arn[0]) {
		fprintf(stderr, "lambdad: the mapping %s of %s has no BASIC_AUTH secret: it reads nothing\n", uuid, src);
		return b;
	}
	attempt(b);
	return b;
}

const struct poller_stats *mqbroker_stats(const struct mq_source *b)
{
	return b->rmq ? rmq_poller_stats(b->rmq) : b->amq ? amq_poller_stats(b->amq) : &b->none;
}

void mqbroker_stop(struct mq_source *b)
{
	if (!b)
		return;
	b->stopped = 1;
	if (b->timer > 0)
		loop_cancel(b->srv->loop, b->timer);
	b->timer = 0;
	rmq_poller_stop(b->rmq); /* it reports nothing after this */
	amq_poller_stop(b->amq);
	b->rmq = NULL;
	b->amq = NULL;
	gone_if_stopped(b);
}
