/*
 * telemetry.c - the Telemetry and Logs APIs of an environment
 * (telemetry.h).
 *
 * Facts from AWS's developer guide (telemetry-api, telemetry-api-reference,
 * runtimes-logs-api): the subscribe body, the buffering bounds (maxItems
 * 1,000-10,000, default 10,000; maxBytes 262,144-1,048,576, default
 * 262,144; timeoutMs 25-30,000, default 1,000), 200 "OK", 400
 * {"errorType":"ValidationError"} (Logs.ValidationError for the Logs API),
 * 403 Telemetry.SubscriptionClosed "Telemetry API subscription is closed"
 * after init, and the event shapes.
 */
#include "exec/telemetry.h"
#include "aws/outbound.h"
#include "loop.h"
#include "quotas.h"
#include "util/err.h"
#include "util/ids.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG_ITEMS 1000          /* init-phase events kept for subscriptions to come */
#define RETRY_MAX_MS 1000           /* a failed delivery is retried after 100, 200, ... ms */
#define DELIVERY_TIMEOUT_MS 5000    /* one POST to a listener */
#define QUIESCE_FAILURES 3          /* failed deliveries before an idle environment is frozen anyway */

struct tsub {
	struct tsub *next;
	struct tele *t;          /* NULL once the environment is gone */
	struct exec *x;
	char name[256];
	int types;
	int logs_api;
	int runtime_done;        /* Logs API schema 2021-03-18: platform.runtimeDone too */
	int max_items, timeout_ms;
	size_t max_bytes;
	char url[600];           /* HTTP: the listener, host mapped to the loopback */
	int tcp_port;            /* TCP: the port, else 0 */
	int tcp_fd;
	json_t *batch;           /* events waiting */
	size_t bytes;
	int64_t timer;
	int inflight;
	int failures;
	unsigned long dropped_records, dropped_bytes;
};

struct tele {
	struct env *env;
	struct tsub *subs;
	json_t *backlog;         /* the init phase's events, NULL once closed */
	int closed;
	int used_logs, used_telemetry;
	int quiescing;           /* idle: freeze once the last delivery ends (tele_quiesce) */
	void (*drained)(struct env *e); /* tele_quiesce's: called then */
	int held;                /* idle, frozen or about to be: nothing is sent */
};

static struct loop *loop_of(struct tsub *s)
{
	return s->x->srv->loop;
}

static outbound_t *client(struct exec *x)
{
	if (!x->ob && outbound_new(x->srv->loop, &x->ob))
		return NULL;
	return x->ob;
}

int tele_start(struct env *e)
{
	if (e->tele)
		return 0;
	struct tele *t = calloc(1, sizeof(*t));
	if (!t || !(t->backlog = json_array())) {
		free(t);
		return LD_ENOMEM;
	}
	t->env = e;
	e->tele = t;
	return 0;
}

static json_t *event(const char *type, json_t *record)
{
	char when[25];
	ids_time_iso(loop_wall_ms(), when);
	return json_pack("{s:s,s:s,s:o}", "time", when, "type", type, "record", record);
}

static int stream_of(const char *type)
{
	if (!strcmp(type, "function"))
		return TELE_FUNCTION;
	if (!strcmp(type, "extension"))
		return TELE_EXTENSION;
	return TELE_PLATFORM;
}

/* what the Logs API delivers of the platform's events */
static int logs_api_wants(const struct tsub *s, const char *type)
{
	if (strncmp(type, "platform.", 9))
		return 1;
	const char *t = type + 9;
	return !strcmp(t, "start") || !strcmp(t, "end") || !strcmp(t, "report") || !strcmp(t, "fault") ||
	       !strcmp(t, "extension") || !strcmp(t, "logsSubscription") || !strcmp(t, "logsDropped") ||
	       (!strcmp(t, "runtimeDone") && s->runtime_done);
}

static int wants(const struct tsub *s, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	if (!type || !(s->types & stream_of(type)))
		return 0;
	if (s->logs_api)
		return logs_api_wants(s, type);
	return strcmp(type, "platform.end") && strcmp(type, "platform.fault") && strcmp(type, "platform.logsSubscription");
}

/* ---- delivery ---- */

static void send_batch(struct tsub *s);

static void on_timer(void *ud)
{
	struct tsub *s = ud;
	s->timer = 0;
	send_batch(s);
}

static void sub_free(struct tsub *s)
{
	if (s->timer)
		loop_cancel(loop_of(s), s->timer);
	if (s->tcp_fd >= 0)
		close(s->tcp_fd);
	json_decref(s->batch);
	free(s);
}

static void drop_oldest(struct tsub *s)
{
	/* over the buffer: drop from the front until it fits */
	while (json_array_size(s->batch) &&
	       (json_array_size(s->batch) > (size_t)s->max_items || s->bytes > 2 * s->max_bytes)) {
		char *text = json_dumps(json_array_get(s->batch, 0), JSON_COMPACT);
		size_t n = text ? strlen(text) : 0;
		free(text);
		s->bytes = s->bytes > n ? s->bytes - n : 0;
		s->dropped_records++;
		s->dropped_bytes += n;
		json_array_remove(s->batch, 0);
	}
}

static void arm(struct tsub *s, uint64_t ms)
{
	if (!s->timer)
		s->timer = loop_timer(loop_of(s), ms, on_timer, s);
}

static int pending(const struct tele *t)
{
	for (const struct tsub *s = t->subs; s; s = s->next)
		if (s->inflight || (!s->tcp_port && json_array_size(s->batch)))
			return 1;
	return 0;
}

/* quiescing and nothing left to deliver: held from now on, and the pool freezes e */
static void check_drained(struct tele *t)
{
	if (!t->quiescing || pending(t))
		return;
	t->quiescing = 0;
	t->held = 1;
	t->drained(t->env);
}

static void on_delivered(void *ud, const outbound_result_t *r)
{
	struct tsub *s = ud;
	s->inflight = 0;
	if (!s->t) { /* the environment went while this was in flight */
		sub_free(s);
		return;
	}
	if (r->rc == 0 && r->status >= 200 && r->status < 300) {
		s->failures = 0;
		if (s->t->quiescing) {
			send_batch(s); /* what came meanwhile, at once */
			check_drained(s->t);
		} else if (json_array_size(s->batch)) {
			arm(s, (uint64_t)s->timeout_ms);
		}
		return;
	}
	s->failures++;
	if (s->t->quiescing && s->failures >= QUIESCE_FAILURES) {
		/* a listener that does not take its events does not keep e
		 * running: they wait for the next thaw */
		s->t->quiescing = 0;
		s->t->held = 1;
		s->t->drained(s->t->env);
	}
	uint64_t backoff = 100u << (s->failures < 4 ? s->failures - 1 : 3);
	arm(s, backoff < RETRY_MAX_MS ? backoff : RETRY_MAX_MS);
}

/* the subscriber's environment's network namespace, 0: the daemon's */
static int netns_of(const struct tsub *s)
{
	return s->t && s->t->env && s->t->env->net.ns_fd > 0 ? s->t->env->net.ns_fd : 0;
}

/* newline-delimited JSON to a TCP port: best effort, what does not go
 * through at once is dropped */
static void send_tcp(struct tsub *s, const char *text)
{
	if (s->tcp_fd < 0) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->tcp_port) };
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		/* an isolated environment's listener is on its own loopback */
		s->tcp_fd = netns_socket(netns_of(s), AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s->tcp_fd < 0 || connect(s->tcp_fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			if (s->tcp_fd >= 0)
				close(s->tcp_fd);
			s->tcp_fd = -1;
			s->dropped_bytes += strlen(text);
			return;
		}
	}
	size_t len = strlen(text), off = 0;
	while (off < len) {
		ssize_t k = send(s->tcp_fd, text + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			s->dropped_bytes += len - off;
			close(s->tcp_fd);
			s->tcp_fd = -1;
			return;
		}
		off += (size_t)k;
	}
}

static void send_batch(struct tsub *s)
{
	if (s->inflight || !json_array_size(s->batch) || (s->t && s->t->held))
		return;
	if (s->dropped_records) {
		char reason[] = "Consumer seems to have fallen behind as it has not acknowledged receipt of logs.";
		json_t *ev = event("platform.logsDropped", json_pack("{s:I,s:I,s:s}", "droppedBytes",
								   (json_int_t)s->dropped_bytes, "droppedRecords",
								   (json_int_t)s->dropped_records, "reason", reason));
		if (ev && (s->types & TELE_PLATFORM))
			json_array_insert_new(s->batch, 0, ev);
		else
			json_decref(ev);
		s->dropped_records = s->dropped_bytes = 0;
	}
	json_t *batch = s->batch;
	s->batch = json_array();
	s->bytes = 0;
	if (s->tcp_port) {
		size_t i;
		json_t *ev;
		json_array_foreach(batch, i, ev) {
			char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
			if (text) {
				size_t n = strlen(text);
				char *line = realloc(text, n + 2);
				if (line) {
					line[n] = '\n';
					line[n + 1] = '\0';
					send_tcp(s, line);
					text = line;
				}
			}
			free(text);
		}
		json_decref(batch);
		return;
	}
	char *body = json_dumps(batch, JSON_COMPACT | JSON_PRESERVE_ORDER);
	outbound_t *ob = client(s->x);
	static const char *const headers[] = { "Content-Type: application/json" };
	outbound_req_t req = { .method = "POST", .url = s->url, .headers = headers, .nheaders = 1,
			       .body = body, .len = body ? strlen(body) : 0, .connect_timeout_ms = 1000,
			       .timeout_ms = DELIVERY_TIMEOUT_MS, .netns_fd = netns_of(s) };
	if (body && ob && outbound_request(ob, &req, on_delivered, s) == 0) {
		s->inflight = 1;
		json_decref(batch);
	} else {
		/* not sent: back in front of what came since, and retried */
		json_array_extend(batch, s->batch);
		json_decref(s->batch);
		s->batch = batch;
		s->bytes = body ? strlen(body) : 0;
		drop_oldest(s);
		arm(s, RETRY_MAX_MS);
	}
	free(body);
}

static void add(struct tsub *s, json_t *ev, size_t n)
{
	json_array_append(s->batch, ev);
	s->bytes += n;
	drop_oldest(s);
	if (json_array_size(s->batch) >= (size_t)s->max_items || s->bytes >= s->max_bytes) {
		if (s->timer)
			loop_cancel(loop_of(s), s->timer);
		s->timer = 0;
		send_batch(s);
	} else {
		arm(s, (uint64_t)s->timeout_ms);
	}
}

void tele_emit(struct env *e, int stream, const char *type, json_t *record)
{
	struct tele *t = e->tele;
	if (!t || !record) {
		json_decref(record);
		return;
	}
	json_t *ev = event(type, record);
	if (!ev)
		return;
	size_t n = 0;
	for (struct tsub *s = t->subs; s; s = s->next)
		if (wants(s, ev)) {
			if (!n) {
				char *text = json_dumps(ev, JSON_COMPACT);
				n = text ? strlen(text) : 64;
				free(text);
			}
			add(s, ev, n);
		}
	if (t->backlog && json_array_size(t->backlog) < BACKLOG_ITEMS)
		json_array_append(t->backlog, ev);
	json_decref(ev);
}

void tele_line(struct env *e, int stream, const char *line, size_t n)
{
	if (!e->tele)
		return;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	json_t *rec = NULL;
	if (e->json_logs && n && line[0] == '{')
		rec = json_loadb(line, n, 0, NULL);
	if (!rec)
		rec = json_stringn(line, n);
	tele_emit(e, stream, stream == TELE_FUNCTION ? "function" : "extension", rec);
}

/* ---- subscribing ---- */

static int bounded(json_t *buffering, const char *key, long lo, long hi, long dflt, long *v, char *why, size_t n)
{
	json_t *j = json_object_get(buffering, key);
	*v = dflt;
	if (!j)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi) {
		snprintf(why, n, "buffering.%s must be an integer between %ld and %ld", key, lo, hi);
		return -1;
	}
	*v = (long)json_integer_value(j);
	return 0;
}

/* http://sandbox.localdomain:PORT/PATH (or sandbox, localhost, 127.0.0.1):
 * the listener is in the environment, which shares the loopback */
static int destination_url(const char *uri, char *out, size_t n, char *why, size_t wn)
{
	if (strncmp(uri, "http://", 7)) {
		snprintf(why, wn, "URI scheme must be http");
		return -1;
	}
	const char *host = uri + 7, *colon = strchr(host, ':'), *slash = strchr(host, '/');
	if (!colon || (slash && colon > slash)) {
		snprintf(why, wn, "URI port is not provided");
		return -1;
	}
	size_t hl = (size_t)(colon - host);
	static const char *const inside[] = { "sandbox.localdomain", "sandbox", "localhost", "127.0.0.1" };
	int ok = 0;
	for (size_t i = 0; i < sizeof(inside) / sizeof(*inside); i++)
		if (hl == strlen(inside[i]) && !strncmp(host, inside[i], hl))
			ok = 1;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/')) {
		snprintf(why, wn, "URI port is not valid");
		return -1;
	}
	if (!ok) {
		snprintf(why, wn, "URI host must be sandbox.localdomain: telemetry goes only to the execution environment");
		return -1;
	}
	snprintf(out, n, "http://127.0.0.1:%ld%s", port, *end ? end : "/");
	return 0;
}

int tele_subscribe(struct env *e, const char *name, int logs_api, const char *body, size_t len,
		   struct rapi_answer *out, int *subscribed)
{
	*subscribed = 0;
	const char *vtype = logs_api ? "Logs.ValidationError" : "ValidationError";
	if (!e->tele && tele_start(e))
		return LD_ENOMEM;
	struct tele *t = e->tele;
	if (t->closed || e->state != ENV_INIT)
		return logs_api ? rapi_error_answer(out, 403, "Logs.SubscriptionClosed", "Logs API subscription is closed")
				: rapi_error_answer(out, 403, "Telemetry.SubscriptionClosed", "Telemetry API subscription is closed");
	if (logs_api ? t->used_telemetry : t->used_logs)
		return rapi_error_answer(out, 400, vtype,
			      logs_api ? "Logs API subscription is not allowed: the Telemetry API is in use"
				       : "Telemetry API subscription is not allowed: the Logs API is in use");
	json_error_t jerr;
	json_t *doc = json_loadb(body, len, 0, &jerr);
	char why[256] = "", url[600] = "";
	long items, bytes, timeout;
	int types = 0, tcp_port = 0, runtime_done = 0;
	if (!json_is_object(doc)) {
		snprintf(why, sizeof(why), "failed to parse JSON: %s", doc ? "not an object" : jerr.text);
		goto bad;
	}
	const char *schema = json_string_value(json_object_get(doc, "schemaVersion"));
	if (logs_api) {
		if (schema && strcmp(schema, "2020-08-15") && strcmp(schema, "2021-03-18")) {
			snprintf(why, sizeof(why), "schemaVersion must be 2020-08-15 or 2021-03-18");
			goto bad;
		}
		runtime_done = schema && !strcmp(schema, "2021-03-18");
	} else if (!schema || (strcmp(schema, "2022-07-01") && strcmp(schema, "2022-12-13") && strcmp(schema, "2025-01-29"))) {
		snprintf(why, sizeof(why), "schemaVersion must be 2022-07-01, 2022-12-13 or 2025-01-29");
		goto bad;
	}
	json_t *tl = json_object_get(doc, "types");
	size_t i;
	json_t *v;
	if (!json_is_array(tl) || !json_array_size(tl)) {
		snprintf(why, sizeof(why), "types should not be empty");
		goto bad;
	}
	json_array_foreach(tl, i, v) {
		const char *s = json_string_value(v);
		int bit = !s ? 0 : !strcmp(s, "platform") ? TELE_PLATFORM : !strcmp(s, "function") ? TELE_FUNCTION
						 : !strcmp(s, "extension") ? TELE_EXTENSION : 0;
		if (!bit) {
			snprintf(why, sizeof(why), "types: %s is not one of platform, function, extension", s ? s : "(not a string)");
			goto bad;
		}
		types |= bit;
	}
	json_t *dest = json_object_get(doc, "destination");
	const char *proto = json_string_value(json_object_get(dest, "protocol"));
	if (!proto || (strcmp(proto, "HTTP") && strcmp(proto, "TCP"))) {
		snprintf(why, sizeof(why), "destination.protocol must be HTTP or TCP");
		goto bad;
	}
	if (!strcmp(proto, "HTTP")) {
		const char *uri = json_string_value(json_object_get(dest, "URI"));
		if (!uri || !*uri) {
			snprintf(why, sizeof(why), "destination.URI is required");
			goto bad;
		}
		if (destination_url(uri, url, sizeof(url), why, sizeof(why)))
			goto bad;
	} else {
		json_t *port = json_object_get(dest, "port");
		if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535) {
			snprintf(why, sizeof(why), "destination.port must be an integer between 1 and 65535");
			goto bad;
		}
		tcp_port = (int)json_integer_value(port);
	}
	json_t *buffering = json_object_get(doc, "buffering");
	if (bounded(buffering, "maxItems", 1000, QUOTA_TELEMETRY_ITEMS, 10000, &items, why, sizeof(why)) ||
	    bounded(buffering, "maxBytes", 262144, QUOTA_TELEMETRY_BYTES, 262144, &bytes, why, sizeof(why)) ||
	    bounded(buffering, "timeoutMs", 25, 30000, 1000, &timeout, why, sizeof(why)))
		goto bad;
	/* idempotent: an extension's new subscription replaces its old one */
	struct tsub *s = NULL;
	for (struct tsub *it = t->subs; it; it = it->next)
		if (!strcmp(it->name, name))
			s = it;
	if (!s) {
		if (!(s = calloc(1, sizeof(*s))) || !(s->batch = json_array())) {
			free(s);
			json_decref(doc);
			return LD_ENOMEM;
		}
		s->t = t;
		s->x = e->pool->x;
		s->tcp_fd = -1;
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->next = t->subs;
		t->subs = s;
	}
	s->types = types;
	s->logs_api = logs_api;
	s->runtime_done = runtime_done;
	s->max_items = (int)items;
	s->max_bytes = (size_t)bytes;
	s->timeout_ms = (int)timeout;
	s->tcp_port = tcp_port;
	snprintf(s->url, sizeof(s->url), "%s", url);
	if (logs_api)
		t->used_logs = 1;
	else
		t->used_telemetry = 1;
	json_decref(doc);
	/* what the init phase emitted so far, then the subscription's own event */
	if (t->backlog) {
		json_array_foreach(t->backlog, i, v) {
			if (wants(s, v)) {
				char *text = json_dumps(v, JSON_COMPACT);
				add(s, v, text ? strlen(text) : 64);
				free(text);
			}
		}
	}
	json_t *list = json_array();
	if (types & TELE_PLATFORM)
		json_array_append_new(list, json_string("platform"));
	if (types & TELE_FUNCTION)
		json_array_append_new(list, json_string("function"));
	if (types & TELE_EXTENSION)
		json_array_append_new(list, json_string("extension"));
	*subscribed = types;
	tele_emit(e, TELE_PLATFORM, logs_api ? "platform.logsSubscription" : "platform.telemetrySubscription",
		  json_pack("{s:s,s:s,s:o}", "name", name, "state", "Subscribed", "types", list));
	out->status = 200;
	out->body = strdup("\"OK\"");
	return 0;
bad:
	json_decref(doc);
	return rapi_error_answer(out, 400, vtype, why);
}

/* ---- the environment's end ---- */

int tele_quiesce(struct env *e, void (*drained)(struct env *e))
{
	struct tele *t = e->tele;
	if (!t || !t->subs)
		return 1;
	t->held = 0;
	tele_flush(e);
	if (!pending(t)) {
		t->held = 1;
		return 1;
	}
	t->drained = drained;
	t->quiescing = 1; /* a failed delivery is retried as usual: e stays thawed until it ends */
	return 0;
}

void tele_thawed(struct env *e)
{
	struct tele *t = e->tele;
	if (!t)
		return;
	t->quiescing = 0;
	if (t->held) {
		t->held = 0;
		tele_flush(e);
	}
}

void tele_close(struct env *e)
{
	struct tele *t = e->tele;
	if (!t)
		return;
	t->closed = 1;
	json_decref(t->backlog);
	t->backlog = NULL;
	if (!t->subs) { /* nobody subscribed: nothing more to keep */
		free(t);
		e->tele = NULL;
	}
}

void tele_flush(struct env *e)
{
	for (struct tsub *s = e->tele ? e->tele->subs : NULL; s; s = s->next) {
		if (s->timer)
			loop_cancel(loop_of(s), s->timer);
		s->timer = 0;
		send_batch(s);
	}
}

void tele_free(struct env *e)
{
	struct tele *t = e->tele;
	if (!t)
		return;
	tele_flush(e);
	for (struct tsub *s = t->subs, *next; s; s = next) {
		next = s->next;
		s->t = NULL;
		if (!s->inflight)
			sub_free(s); /* else on_delivered frees it */
	}
	json_decref(t->backlog);
	free(t);
	e->tele = NULL;
}

void tele_stop(struct exec *x)
{
	outbound_free(x->ob); /* in-flight deliveries end; their callbacks free detached subscriptions */
	x->ob = NULL;
}
