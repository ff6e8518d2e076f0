/*
 * pollers.c - which mappings have a poller (pollers.h).
 */
#include "pollers/pollers.h"
#include "pollers/sqs.h"
#include "pollers/stream.h"
#include "aws/outbound.h"
#include "records/records.h"
#include "util/err.h"
#include "util/strmap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pollers {
	outbound_t *ob;
	strmap_t *running;      /* "scope\x1fuuid" -> struct running */
};

struct running {
	struct sqs_poller *sqs;         /* one of the two */
	struct stream_poller *stream;
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
		srv->pollers = ps;
	}
	return srv->pollers;
}

/* the source of a mapping lambdad polls: "sqs", "kinesis", "dynamodb"; NULL for others */
static const char *polled(json_t *doc)
{
	const char *arn = json_string_value(json_object_get(doc, "EventSourceArn"));
	if (!arn || strncmp(arn, "arn:", 4))
		return NULL;
	static const char *const services[] = { "sqs", "kinesis", "dynamodb" };
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
	free(r);
}

void pollers_sync(server_t *srv, const char *scope, const char *uuid)
{
	struct pollers *ps = state(srv);
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
		else
			r->stream = stream_poller_start(srv, ps->ob, scope, uuid, doc);
		if ((r->sqs || r->stream) && strmap_put(ps->running, key, r) == 0)
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
	*out = r->sqs ? *sqs_poller_stats(r->sqs) : *stream_poller_stats(r->stream);
	return 0;
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
