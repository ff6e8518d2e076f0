/*
 * async.c - the durable queue of asynchronous invocations (see async.h).
 *
 * Each event is one store record of kind "async" in the scope "queue",
 * keyed by a 20-digit sequence (microseconds since the epoch, kept strictly
 * increasing), so the store lists the queue in enqueue order. The record
 * holds the event and its progress: {"s": scope, "n": name, "q": qualifier,
 * "p": payload text, "id": request id, "t": enqueue time (ms), "cc": client
 * context, "a": function errors so far, "i": invocations so far, "due": not
 * before (ms), "lr": the last response {"fe", "p", "v"}}. Progress is written
 * back after a function error (so retry counts survive a crash), never
 * after a throttle.
 *
 * In memory a window of at most WINDOW events is kept (key and state only;
 * the record is read back when an event runs); when the window is full new
 * events stay in the store and are paged in, in key order, as the window
 * drains: a backlog of any length costs no memory. Every new key is greater
 * than every key paged in so far, so "keys after the last one loaded" finds
 * exactly the events not yet in memory.
 *
 * States: READY (in the FIFO), WAIT (a retry timer), HELD (its function
 * has no concurrency free), RUN (exec_invoke in flight), DELIVER (records
 * handed to destinations in flight). At most MAX_INFLIGHT events run at
 * once, within exec's own concurrency limits.
 *
 * lambdad knows its own concurrency, so the dispatcher never throttles
 * itself: an event whose function has no room (door_invoke answers a
 * throttle, which exec foresees from its own accounting) is held,
 * without a backoff and without blocking other functions' events, in a FIFO
 * of its function, and goes back to READY when exec says room was freed for
 * that function (an invocation ended, a limit changed: exec_on_free). Only a
 * throttle it could not foresee (one that comes back from the run itself,
 * such as exec's cap on environments) takes
 * AWS's throttle retry, with backoff, until MaximumEventAgeInSeconds.
 */
#include "exec/async.h"
#include "exec/destinations.h"
#include "exec/door.h"
#include "exec/exec.h"
#include "loop.h"
#include "metrics/metrics.h"
#include "records/records.h"
#include "util/arn.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QSCOPE "queue"
#define WINDOW 20000
#define MAX_INFLIGHT 64
#define DEFAULT_RETRIES 2
#define DEFAULT_AGE_S 21600
#define DELIVERY_TRIES 5
#define ERRMSG_MAX 1024
#define HELD_CAP (32u << 20)   /* bytes of new events' documents kept in memory */
#define HELD_OVERHEAD 256u     /* a held document's cost beyond its payload */
#define DEL_BATCH_MAX 4096     /* deletes waiting for one commit */

enum { EV_READY, EV_WAIT, EV_HELD, EV_RUN, EV_DELIVER };

struct aev {
	struct async *a;
	struct aev *prev, *next; /* every event in memory */
	struct aev *rnext;       /* the READY FIFO, or its hold's FIFO while HELD */
	struct hold *hold;       /* while HELD */
	char key[24];
	int state;
	int orphan;              /* async_stop ran while it was in flight */
	int64_t timer;
	json_t *held;            /* the record as enqueued (not read back), or NULL */
	size_t held_size;
	int backoff_ms;          /* throttles and system errors */
	int last_status;         /* 429 throttled, 500 system error, 200 ran */
	/* while RUN or DELIVER */
	json_t *doc;
	int max_retry, max_age_s;
	char *on_success, *on_failure, *dlq;
	char arn[400];           /* the qualified ARN of the record */
	int pending;             /* deliveries in flight or waiting to retry */
};

/* the events held for one function, oldest first */
struct hold {
	struct async *a;
	struct hold *next;
	char scope[96], name[160];
	struct aev *head, *tail;
	size_t n;
};

struct delivery {
	struct delivery *prev, *next;
	struct aev *ev;
	char *arn;
	buf_t body;
	int success;
	char *request_id, *error_message;
	char error_code[8];
	int tries;
	int64_t timer;
	int in_flight;
};

struct async {
	server_t *srv;
	int base_ms;
	int running, stopping;
	struct aev *all;
	struct aev *rhead, *rtail;
	size_t mem;              /* events in memory */
	int more;                /* the store holds events not in memory */
	char last_key[24];       /* the greatest key loaded */
	uint64_t seq;
	int inflight;
	int pump_scheduled;
	int64_t pump_timer;      /* the scheduled pump (a 0 ms timer), 0 when none */
	struct delivery *deliveries;
	struct hold *holds;      /* functions with HELD events */
	size_t held_bytes;       /* sum of held_size */
	char (*dels)[24];        /* keys of finished events, deleted at the next commit */
	int ndels, cdels;
	int64_t flush_timer;     /* the scheduled group commit (a 0 ms timer), 0 when none */
	struct staged *shead, *stail; /* new events waiting for the group commit, in key order */
	int nstaged;
	size_t staged_bytes;     /* their payloads */
};

/* a new event staged for the group commit */
struct staged {
	struct staged *next;
	char key[24];
	json_t *doc;             /* the record */
	size_t payload_len;
	async_accepted_fn accepted; /* NULL: async_enqueue's own event */
	void *ud;
};

static void schedule_pump(struct async *a);
static void hold_remove(struct aev *ev);

/* ---- events in memory ---- */

static struct aev *ev_new(struct async *a, const char *key)
{
	struct aev *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->a = a;
	snprintf(ev->key, sizeof(ev->key), "%s", key);
	ev->next = a->all;
	if (a->all)
		a->all->prev = ev;
	a->all = ev;
	a->mem++;
	if (strcmp(key, a->last_key) > 0)
		snprintf(a->last_key, sizeof(a->last_key), "%s", key);
	return ev;
}

static void ev_clear_run(struct aev *ev)
{
	json_decref(ev->doc);
	ev->doc = NULL;
	free(ev->on_success);
	free(ev->on_failure);
	free(ev->dlq);
	ev->on_success = ev->on_failure = ev->dlq = NULL;
}

static void ev_unhold(struct aev *ev)
{
	struct async *a = ev->a;
	if (!ev->held)
		return;
	json_decref(ev->held);
	ev->held = NULL;
	a->held_bytes -= ev->held_size;
	ev->held_size = 0;
}

static void ev_free(struct aev *ev)
{
	struct async *a = ev->a;
	if (ev->hold)
		hold_remove(ev);
	if (ev->timer)
		loop_cancel(a->srv->loop, ev->timer);
	ev_unhold(ev);
	if (ev->prev)
		ev->prev->next = ev->next;
	else if (a->all == ev)
		a->all = ev->next;
	if (ev->next)
		ev->next->prev = ev->prev;
	a->mem--;
	ev_clear_run(ev);
	free(ev);
}

static void ready_push(struct aev *ev)
{
	struct async *a = ev->a;
	ev->state = EV_READY;
	ev->rnext = NULL;
	if (a->rtail)
		a->rtail->rnext = ev;
	else
		a->rhead = ev;
	a->rtail = ev;
	schedule_pump(a);
}

static struct aev *ready_pop(struct async *a)
{
	struct aev *ev = a->rhead;
	if (ev) {
		a->rhead = ev->rnext;
		if (!a->rhead)
			a->rtail = NULL;
		ev->rnext = NULL;
	}
	return ev;
}

/* ---- holding events for a function's concurrency ---- */

static struct hold *hold_find(struct async *a, const char *scope, const char *name, int create)
{
	for (struct hold *h = a->holds; h; h = h->next)
		if (!strcmp(h->name, name) && !strcmp(h->scope, scope))
			return h;
	struct hold *h = create ? calloc(1, sizeof(*h)) : NULL;
	if (h) {
		h->a = a;
		snprintf(h->scope, sizeof(h->scope), "%s", scope);
		snprintf(h->name, sizeof(h->name), "%s", name);
		h->next = a->holds;
		a->holds = h;
	}
	return h;
}

static void hold_drop_if_empty(struct hold *h)
{
	struct async *a = h->a;
	if (h->n)
		return;
	for (struct hold **pp = &a->holds; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	free(h);
}

static void backoff(struct aev *ev, int status);

/* parks ev until its function has room (exec_on_free wakes it) */
static void hold(struct aev *ev, const char *scope, const char *name)
{
	struct async *a = ev->a;
	struct hold *h = hold_find(a, scope, name, 1);
	if (!h) {
		backoff(ev, 429); /* out of memory: the old way still gets there */
		return;
	}
	ev_clear_run(ev);
	ev->state = EV_HELD;
	ev->hold = h;
	ev->rnext = NULL;
	if (h->tail)
		h->tail->rnext = ev;
	else
		h->head = ev;
	h->tail = ev;
	h->n++;
}

/* moves at most n events of h back to READY, oldest first */
static void hold_release(struct hold *h, size_t n)
{
	while (n-- && h->head) {
		struct aev *ev = h->head;
		h->head = ev->rnext;
		if (!h->head)
			h->tail = NULL;
		h->n--;
		ev->hold = NULL;
		ready_push(ev);
	}
	hold_drop_if_empty(h);
}

/* a held event that leaves otherwise (async_stop) */
static void hold_remove(struct aev *ev)
{
	struct hold *h = ev->hold;
	struct aev *prev = NULL;
	for (struct aev *e = h->head; e; prev = e, e = e->rnext) {
		if (e != ev)
			continue;
		if (prev)
			prev->rnext = e->rnext;
		else
			h->head = e->rnext;
		if (h->tail == e)
			h->tail = prev;
		h->n--;
		break;
	}
	ev->hold = NULL;
	hold_drop_if_empty(h);
}

/* exec_on_free: room may be free for (scope, name), or, with name NULL, for
 * any function of scope (a limit changed). The event of that function goes
 * first; one of another function of the scope follows, since an ended
 * invocation also frees the account's unreserved pool. Over-waking costs a
 * re-check, never a backoff. */
static void on_free(void *ud, const char *scope, const char *name)
{
	struct async *a = ud;
	if (!a->running || a->stopping)
		return;
	struct hold *mine = name ? hold_find(a, scope, name, 0) : NULL;
	struct hold *other = NULL;
	for (struct hold *h = a->holds, *next; h; h = next) {
		next = h->next;
		if (strcmp(h->scope, scope) != 0 || h == mine)
			continue;
		if (!name) {
			hold_release(h, h->n);
			continue;
		}
		if (!other)
			other = h;
	}
	if (mine)
		hold_release(mine, 1);
	if (other)
		hold_release(other, 1);
}

static void on_due(void *ud)
{
	struct aev *ev = ud;
	ev->timer = 0;
	ready_push(ev);
}

/* parks ev until due_ms (wall clock) */
static void ev_wait(struct aev *ev, int64_t due_ms)
{
	struct async *a = ev->a;
	int64_t now = loop_wall_ms();
	ev_clear_run(ev);
	ev->state = EV_WAIT;
	int64_t t = loop_timer(a->srv->loop, due_ms > now ? (uint64_t)(due_ms - now) : 0, on_due, ev);
	if (t > 0)
		ev->timer = t;
	else
		ready_push(ev); /* no timer: try again at once rather than lose it */
}

/* ---- the store record ---- */

static int doc_load(struct async *a, const char *key, json_t **out)
{
	char *text = NULL;
	size_t len = 0;
	*out = NULL;
	int rc = rec_get_text(a->srv->store, REC_ASYNC_EVENT, QSCOPE, key, &text, &len);
	if (rc)
		return rc;
	json_error_t jerr;
	*out = json_loadb(text, len, 0, &jerr);
	free(text);
	return *out ? 0 : LD_ECORRUPT;
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int jint(json_t *o, const char *k)
{
	return (int)json_integer_value(json_object_get(o, k));
}

/* ---- batched deletes ----
 *
 * A finished event's record is deleted with the next commit: the next group
 * commit's transaction carries every delete waiting (one commit for both),
 * or the end of the loop iteration commits them on their own. A delete lost
 * to a crash only means the event runs again (delivery is at least once). */

static int dels_apply(struct async *a)
{
	for (int i = 0; i < a->ndels; i++) {
		int rc = rec_del(a->srv->store, REC_ASYNC_EVENT, QSCOPE, a->dels[i]);
		if (rc && rc != LD_ENOTFOUND)
			return rc;
	}
	return 0;
}

static int group_commit(struct async *a);

static void dels_flush(struct async *a)
{
	if (!a->ndels)
		return;
	if (a->shead) {
		/* a staged destination record goes no later than the delete of
		 * the event it is the record of */
		group_commit(a);
		return;
	}
	int rc = store_begin(a->srv->store);
	if (rc == 0) {
		rc = dels_apply(a);
		if (rc)
			store_rollback(a->srv->store);
		else
			rc = store_commit(a->srv->store);
	}
	if (rc)
		fprintf(stderr, "lambdad: async: cannot remove %d events from the queue: %s (they will run again)\n",
			a->ndels, ld_strerror(rc));
	a->ndels = 0;
}

static void flush_cb(void *ud)
{
	struct async *a = ud;
	a->flush_timer = 0;
	group_commit(a);
}

/* the group commit at the end of this loop iteration (a 0 ms timer, which
 * async_stop can take back); 0 or LD_ENOMEM */
static int schedule_flush(struct async *a)
{
	if (a->flush_timer)
		return 0;
	int64_t id = loop_timer(a->srv->loop, 0, flush_cb, a);
	if (id <= 0)
		return LD_ENOMEM;
	a->flush_timer = id;
	return 0;
}

/* the event leaves the queue: it finished and its records were handed on */
static void ev_done(struct aev *ev)
{
	struct async *a = ev->a;
	if (a->ndels == a->cdels && a->cdels < DEL_BATCH_MAX) {
		int n = a->cdels ? a->cdels * 2 : 64;
		void *p = realloc(a->dels, (size_t)n * sizeof(*a->dels));
		if (p) {
			a->dels = p;
			a->cdels = n;
		}
	}
	if (a->ndels == a->cdels)
		dels_flush(a);
	if (a->ndels < a->cdels) {
		memcpy(a->dels[a->ndels++], ev->key, sizeof(ev->key));
		if (schedule_flush(a))
			dels_flush(a);
	} else {
		if (a->shead)
			group_commit(a); /* the staged records first (dels_flush) */
		int rc = rec_del(a->srv->store, REC_ASYNC_EVENT, QSCOPE, ev->key);
		if (rc && rc != LD_ENOTFOUND)
			fprintf(stderr, "lambdad: async: cannot remove event %s from the queue: %s (it will run again)\n",
				ev->key, ld_strerror(rc));
	}
	ev_free(ev);
	schedule_pump(a);
}

static void backoff(struct aev *ev, int status)
{
	struct async *a = ev->a;
	int first = a->base_ms / 60 > 0 ? a->base_ms / 60 : 1; /* 1 s on AWS */
	int cap = a->base_ms * 5;                               /* 5 min on AWS */
	ev->backoff_ms = ev->backoff_ms ? ev->backoff_ms * 2 : first;
	if (ev->backoff_ms > cap)
		ev->backoff_ms = cap > first ? cap : first;
	ev->last_status = status;
	ev_wait(ev, loop_wall_ms() + ev->backoff_ms);
}

/* ---- records ---- */

static int put_jstr(buf_t *b, const char *s)
{
	json_t *v = json_string(s ? s : "");
	int rc = v ? jsonw_dump(v, b) : LD_ENOMEM;
	json_decref(v);
	return rc;
}

/* text as a JSON value: itself when it is JSON, else a string, else null */
static int put_value(buf_t *b, const char *text, size_t len)
{
	if (!text || !len)
		return buf_puts(b, "null");
	json_error_t jerr;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (v) {
		json_decref(v);
		return buf_append(b, text, len);
	}
	v = json_stringn(text, len);
	int rc = v ? jsonw_dump(v, b) : buf_puts(b, "null");
	json_decref(v);
	return rc;
}

/* AWS's invocation record (version 1.0) for ev's outcome */
static int build_record(buf_t *b, struct aev *ev, const char *condition)
{
	json_t *d = ev->doc, *lr = json_object_get(d, "lr");
	char ts[25];
	int rc = 0;
	ids_time_iso(loop_wall_ms(), ts);
	rc |= buf_printf(b, "{\"version\":\"1.0\",\"timestamp\":\"%s\",\"requestContext\":{\"requestId\":", ts);
	rc |= put_jstr(b, jstr(d, "id"));
	rc |= buf_puts(b, ",\"functionArn\":");
	rc |= put_jstr(b, ev->arn);
	rc |= buf_printf(b, ",\"condition\":\"%s\",\"approximateInvokeCount\":%d},\"requestPayload\":", condition,
			 jint(d, "i"));
	json_t *p = json_object_get(d, "p");
	rc |= put_value(b, json_string_value(p), json_string_length(p));
	if (lr) {
		rc |= buf_puts(b, ",\"responseContext\":{\"statusCode\":200,\"executedVersion\":");
		rc |= put_jstr(b, jstr(lr, "v"));
		if (jstr(lr, "fe")) {
			rc |= buf_puts(b, ",\"functionError\":");
			rc |= put_jstr(b, jstr(lr, "fe"));
		}
		rc |= buf_puts(b, "},\"responsePayload\":");
		json_t *rp = json_object_get(lr, "p");
		rc |= put_value(b, json_string_value(rp), json_string_length(rp));
	}
	rc |= buf_puts(b, "}");
	return rc ? LD_ENOMEM : 0;
}

/* ---- deliveries ---- */

static void delivery_free(struct delivery *dl)
{
	struct async *a = dl->ev->a;
	if (dl->timer)
		loop_cancel(a->srv->loop, dl->timer);
	if (dl->prev)
		dl->prev->next = dl->next;
	else if (a->deliveries == dl)
		a->deliveries = dl->next;
	if (dl->next)
		dl->next->prev = dl->prev;
	buf_free(&dl->body);
	free(dl->arn);
	free(dl->request_id);
	free(dl->error_message);
	free(dl);
}

/* one delivery of ev ended (sent or given up) */
static void delivery_end(struct delivery *dl)
{
	struct aev *ev = dl->ev;
	delivery_free(dl);
	if (--ev->pending > 0)
		return;
	if (ev->orphan)
		ev_free(ev);
	else
		ev_done(ev);
}

/* a metric of ev's function (metrics/metrics.h) */
static void ev_metric(struct aev *ev, int id, double v)
{
	if (ev->doc)
		metrics_on_function(ev->a->srv->metrics, id, jstr(ev->doc, "s"), jstr(ev->doc, "n"), jstr(ev->doc, "q"), v);
}

static void delivery_send(struct delivery *dl);

static void delivery_retry(void *ud)
{
	struct delivery *dl = ud;
	dl->timer = 0;
	delivery_send(dl);
}

static void delivery_sent(void *ud, int rc)
{
	struct async *a = ((struct delivery *)ud)->ev->a;
	struct delivery *dl = ud;
	dl->in_flight = 0;
	if (rc == LD_EREMOTE && !dl->ev->orphan && !a->stopping && ++dl->tries < DELIVERY_TRIES) {
		int64_t t = loop_timer(a->srv->loop, (uint64_t)(a->base_ms / 60 + 1) << dl->tries, delivery_retry, dl);
		if (t > 0) {
			dl->timer = t;
			return;
		}
	}
	if (rc)
		fprintf(stderr, "lambdad: async: delivery to %s failed: %s (record dropped)\n", dl->arn, ld_strerror(rc));
	if (rc) /* a DLQ delivery carries the request id */
		ev_metric(dl->ev, dl->request_id ? M_DEAD_LETTER_ERRORS : M_DESTINATION_DELIVERY_FAILURES, 1);
	delivery_end(dl);
}

static void delivery_send(struct delivery *dl)
{
	struct async *a = dl->ev->a;
	struct dest_attrs at = { .function_arn = dl->ev->arn, .success = dl->success, .request_id = dl->request_id,
				 .error_code = dl->request_id ? dl->error_code : NULL,
				 .error_message = dl->error_message };
	int rc = dest_send(a->srv, dl->arn, dl->body.data, dl->body.len, &at, delivery_sent, dl);
	if (rc == 0) {
		dl->in_flight = 1;
		return;
	}
	fprintf(stderr, "lambdad: async: cannot deliver to %s: %s (record dropped)\n", dl->arn, ld_strerror(rc));
	ev_metric(dl->ev, dl->request_id ? M_DEAD_LETTER_ERRORS : M_DESTINATION_DELIVERY_FAILURES, 1);
	/* never inside the caller's own loop over targets: end at the iteration's end */
	delivery_end(dl);
}

/* arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] */
static int is_lambda_arn(const char *arn)
{
	const char *p = strchr(arn, ':');
	return p && !strncmp(p, ":aws", 4) && strstr(arn, ":lambda:") && strstr(arn, ":function:");
}

/* a Lambda destination's record that could not be queued (its group
 * commit failed): what to say and count */
struct dest_lost {
	metrics_t *metrics;
	int metric;
	char scope[96], name[160], qual[160];
	char arn[400];
};

static void dest_accepted(void *ud, int rc)
{
	struct dest_lost *d = ud;
	if (rc) {
		fprintf(stderr, "lambdad: async: cannot queue the record for %s: %s (dropped)\n", d->arn, ld_strerror(rc));
		metrics_on_function(d->metrics, d->metric, d->scope, d->name, d->qual, 1);
	}
	free(d);
}

/* a Lambda destination: an Event invoke of that function with the record,
 * staged in the group commit; the event it is the record of leaves the
 * queue in the same transaction or a later one (dels_flush) */
static int enqueue_lambda(struct aev *ev, const char *arn, const char *body, size_t len, int metric)
{
	struct async *a = ev->a;
	char part[32], region[64], account[16], name[160], qual[160] = "";
	int n = sscanf(arn, "arn:%31[^:]:lambda:%63[^:]:%15[^:]:function:%159[^:]:%159s", part, region, account,
		       name, qual);
	if (n < 4)
		return LD_EINVAL;
	struct dest_lost *d = calloc(1, sizeof(*d));
	if (!d)
		return LD_ENOMEM;
	char id[37];
	d->metrics = a->srv->metrics;
	d->metric = metric;
	snprintf(d->scope, sizeof(d->scope), "%s", jstr(ev->doc, "s") ? jstr(ev->doc, "s") : "");
	snprintf(d->name, sizeof(d->name), "%s", jstr(ev->doc, "n") ? jstr(ev->doc, "n") : "");
	snprintf(d->qual, sizeof(d->qual), "%s", jstr(ev->doc, "q") ? jstr(ev->doc, "q") : "");
	snprintf(d->arn, sizeof(d->arn), "%s", arn);
	char scope[96];
	snprintf(scope, sizeof(scope), "%s:%s", account, region);
	ids_uuid4(id);
	struct async_event e = { scope, name, qual, body, len, NULL, id };
	int rc = async_submit(a->srv, &e, dest_accepted, d);
	if (rc)
		free(d);
	return rc;
}

/* hands body to one target; ev->pending counts what is still to finish */
static void deliver(struct aev *ev, const char *arn, const buf_t *body, int success, const char *err_code,
		    const char *err_msg)
{
	struct async *a = ev->a;
	if (is_lambda_arn(arn)) {
		int metric = err_code ? M_DEAD_LETTER_ERRORS : M_DESTINATION_DELIVERY_FAILURES;
		int rc = enqueue_lambda(ev, arn, body->data, body->len, metric);
		if (rc) {
			fprintf(stderr, "lambdad: async: cannot queue the record for %s: %s (dropped)\n", arn,
				ld_strerror(rc));
			ev_metric(ev, metric, 1);
		}
		return;
	}
	struct delivery *dl = calloc(1, sizeof(*dl));
	if (!dl)
		return;
	buf_init(&dl->body, 0);
	dl->ev = ev;
	dl->success = success;
	dl->arn = strdup(arn);
	if (err_code) {
		dl->request_id = strdup(jstr(ev->doc, "id") ? jstr(ev->doc, "id") : "");
		snprintf(dl->error_code, sizeof(dl->error_code), "%s", err_code);
		dl->error_message = err_msg ? strdup(err_msg) : NULL;
	}
	if (!dl->arn || buf_append(&dl->body, body->data, body->len)) {
		buf_free(&dl->body);
		free(dl->arn);
		free(dl->request_id);
		free(dl->error_message);
		free(dl);
		return;
	}
	dl->next = a->deliveries;
	if (a->deliveries)
		a->deliveries->prev = dl;
	a->deliveries = dl;
	ev->pending++;
	delivery_send(dl);
}

/* the records are out (or being sent): the event leaves when they are */
static void deliveries_started(struct aev *ev)
{
	if (ev->pending > 0) {
		ev->state = EV_DELIVER;
		return;
	}
	ev_done(ev);
}

static void succeed(struct aev *ev)
{
	ev->pending = 1; /* held until every target is handed its record */
	if (ev->on_success) {
		buf_t rec;
		buf_init(&rec, 0);
		if (build_record(&rec, ev, "Success") == 0)
			deliver(ev, ev->on_success, &rec, 1, NULL, NULL);
		buf_free(&rec);
	}
	ev->pending--;
	deliveries_started(ev);
}

static void fail(struct aev *ev, const char *condition)
{
	ev_metric(ev, M_ASYNC_EVENTS_DROPPED, 1);
	ev->pending = 1;
	if (ev->on_failure) {
		buf_t rec;
		buf_init(&rec, 0);
		if (build_record(&rec, ev, condition) == 0)
			deliver(ev, ev->on_failure, &rec, 0, NULL, NULL);
		buf_free(&rec);
	}
	if (ev->dlq) {
		/* the original event, with AWS's RequestID, ErrorCode, ErrorMessage */
		json_t *p = json_object_get(ev->doc, "p"), *lr = json_object_get(ev->doc, "lr");
		buf_t body;
		buf_init(&body, 0);
		char code[8];
		snprintf(code, sizeof(code), "%d", ev->last_status ? ev->last_status : 200);
		const char *msg = NULL;
		json_t *resp = NULL;
		if (lr) {
			json_error_t jerr;
			resp = json_loads(jstr(lr, "p") ? jstr(lr, "p") : "", JSON_DECODE_ANY, &jerr);
			msg = jstr(resp, "errorMessage");
		}
		char m[ERRMSG_MAX + 1];
		snprintf(m, sizeof(m), "%s", msg ? msg : "");
		if (buf_append(&body, json_string_value(p), json_string_length(p)) == 0)
			deliver(ev, ev->dlq, &body, 0, code, m);
		json_decref(resp);
		buf_free(&body);
	}
	ev->pending--;
	deliveries_started(ev);
}

/* ---- running events ---- */

static int persist(struct aev *ev)
{
	struct async *a = ev->a;
	int rc = rec_put(a->srv->store, REC_ASYNC_EVENT, QSCOPE, ev->key, ev->doc);
	if (rc)
		fprintf(stderr, "lambdad: async: cannot save event %s: %s\n", ev->key, ld_strerror(rc));
	return rc;
}

static void on_exec_done(void *ud, struct exec_result *res)
{
	struct async *a = ((struct aev *)ud)->a;
	struct aev *ev = ud;
	a->inflight--;
	schedule_pump(a);
	if (ev->orphan || a->stopping) {
		ev_free(ev);
		return;
	}
	if (!res->ok) {
		const char *t = res->err.type;
		backoff(ev, t && !strcmp(t, "TooManyRequestsException") ? 429 : 500);
		return;
	}
	ev->backoff_ms = 0;
	ev->last_status = 200;
	json_t *d = ev->doc;
	json_object_set_new(d, "i", json_integer(jint(d, "i") + 1));
	json_t *lr = json_object();
	json_object_set(lr, "v", json_object_get(d, "v"));
	if (res->function_error)
		json_object_set_new(lr, "fe", json_string(res->function_error));
	json_t *p = res->payload_len ? json_stringn(res->payload, res->payload_len) : NULL;
	if (p)
		json_object_set_new(lr, "p", p);
	json_object_set_new(d, "lr", lr);
	if (!res->function_error) {
		succeed(ev);
		return;
	}
	int attempts = jint(d, "a") + 1;
	json_object_set_new(d, "a", json_integer(attempts));
	if (attempts > ev->max_retry) {
		fail(ev, "RetriesExhausted");
		return;
	}
	/* AWS: one minute, then two more */
	int64_t due = loop_wall_ms() + (int64_t)a->base_ms * attempts;
	json_object_set_new(d, "due", json_integer(due));
	json_object_del(d, "v");
	persist(ev);
	ev_wait(ev, due);
}

/* the function's event invoke config for the qualifier it was invoked with */
static void load_eic(struct aev *ev, const char *scope, const char *name, const char *qual)
{
	struct async *a = ev->a;
	char key[400];
	json_t *c = NULL;
	snprintf(key, sizeof(key), "%s/%s", name, qual && *qual ? qual : "$LATEST");
	ev->max_retry = DEFAULT_RETRIES;
	ev->max_age_s = DEFAULT_AGE_S;
	if (rec_peek(a->srv->store, REC_INVOKE_CONFIG, scope, key, &c))
		return;
	json_t *v;
	if ((v = json_object_get(c, "MaximumRetryAttempts")))
		ev->max_retry = (int)json_integer_value(v);
	if ((v = json_object_get(c, "MaximumEventAgeInSeconds")))
		ev->max_age_s = (int)json_integer_value(v);
	json_t *dc = json_object_get(c, "DestinationConfig");
	const char *s = jstr(json_object_get(dc, "OnSuccess"), "Destination");
	const char *f = jstr(json_object_get(dc, "OnFailure"), "Destination");
	if (s && *s)
		ev->on_success = strdup(s);
	if (f && *f)
		ev->on_failure = strdup(f);
	json_decref(c);
}

static int reserved_zero(struct async *a, const char *scope, const char *name)
{
	json_t *meta = NULL;
	if (rec_function_get(a->srv->store, scope, name, REC_PEEK, &meta))
		return 0;
	json_t *r = json_object_get(meta, "ReservedConcurrentExecutions");
	int zero = json_is_integer(r) && json_integer_value(r) == 0;
	json_decref(meta);
	return zero;
}

/* the DLQ of the configuration that runs (or would have run) */
static void take_dlq(struct aev *ev, json_t *cfg)
{
	const char *dlq = jstr(json_object_get(cfg, "DeadLetterConfig"), "TargetArn");
	free(ev->dlq);
	ev->dlq = dlq && *dlq ? strdup(dlq) : NULL;
}

static void dispatch(struct aev *ev)
{
	struct async *a = ev->a;
	json_t *doc = NULL;
	int rc = 0;
	if (ev->held) {
		doc = json_incref(ev->held);
		ev_unhold(ev);
	} else {
		rc = doc_load(a, ev->key, &doc);
	}
	if (rc == LD_ENOTFOUND || rc == LD_ECORRUPT) {
		if (rc == LD_ECORRUPT)
			fprintf(stderr, "lambdad: async: event %s is unreadable (dropped)\n", ev->key);
		ev_done(ev);
		return;
	}
	if (rc) {
		backoff(ev, 500);
		return;
	}
	ev->doc = doc;
	const char *scope = jstr(doc, "s"), *name = jstr(doc, "n"), *qual = jstr(doc, "q");
	json_t *p = json_object_get(doc, "p");
	if (!scope || !name || !strchr(scope, ':') || !json_is_string(p)) {
		ev_done(ev);
		return;
	}
	arn_function(ev->arn, sizeof(ev->arn), scope, name, qual && *qual ? qual : "$LATEST");
	load_eic(ev, scope, name, qual);
	/* ages count in retry minutes: a second is base_ms / 60 (1000 on AWS) */
	if (loop_wall_ms() - json_integer_value(json_object_get(doc, "t")) > (int64_t)ev->max_age_s * a->base_ms / 60) {
		json_t *cfg = NULL;
		rc = rec_config(a->srv->store, scope, name, qual, REC_PEEK, &cfg, NULL);
		if (rc == LD_ENOTFOUND) {
			fprintf(stderr, "lambdad: async: %s no longer exists; event %s dropped\n", ev->arn, ev->key);
			ev_done(ev);
		} else {
			take_dlq(ev, cfg);
			fail(ev, "EventAgeExceeded");
		}
		json_decref(cfg);
		return;
	}
	/* the one door: the qualifier resolved now, as AWS does (events queued
	 * before an update run the new code) */
	struct door_call c = { .scope = scope, .name = name, .qualifier = qual, .payload = json_string_value(p),
			       .payload_len = json_string_length(p), .client_context = jstr(doc, "cc"),
			       .request_id = jstr(doc, "id") };
	ld_error_t err = { 0 };
	rc = door_invoke(a->srv, &c, on_exec_done, ev, &err);
	take_dlq(ev, c.config);
	json_decref(c.config);
	if (rc == 0) {
		ev_metric(ev, M_ASYNC_EVENT_AGE, (double)(loop_wall_ms() - json_integer_value(json_object_get(doc, "t"))));
		json_object_set_new(doc, "v", json_string(c.version));
		ev->state = EV_RUN;
		a->inflight++;
	} else if (rc == LD_EAPI && err.type && !strcmp(err.type, "ResourceNotFoundException")) {
		/* the function, version or alias is gone: so are its events */
		fprintf(stderr, "lambdad: async: %s no longer exists; event %s dropped\n", ev->arn, ev->key);
		ev_done(ev);
	} else if (rc == LD_ETHROTTLED) {
		if (err.reason && !strcmp(err.reason, EXEC_THROTTLE_RESERVED) && reserved_zero(a, scope, name)) {
			/* AWS: reserved concurrency 0 sends events to the failure
			 * destination or DLQ at once, without retries */
			ev->last_status = 429;
			fail(ev, "RetriesExhausted");
		} else {
			hold(ev, scope, name); /* until exec says room was freed for it */
		}
	} else {
		backoff(ev, 500); /* not Active yet (Pending), or a store error */
	}
	ld_error_clear(&err);
}

/* ---- paging and the pump ---- */

struct page {
	struct async *a;
	int n;
	int64_t now;
};

static int page_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct async *a = ((struct page *)ud)->a;
	struct page *pg = ud;
	pg->n++;
	struct aev *ev = ev_new(a, key);
	if (!ev)
		return 1;
	/* only "due" matters here; it is near the end of the record */
	int64_t due = 0;
	const char *d = len > 8 ? memmem(doc, len, "\"due\":", 6) : NULL;
	if (d)
		due = strtoll(d + 6, NULL, 10);
	if (due > pg->now)
		ev_wait(ev, due);
	else
		ready_push(ev);
	return 0;
}

static void page_in(struct async *a)
{
	if (!a->more || a->mem >= WINDOW / 2)
		return;
	int limit = (int)(WINDOW - a->mem);
	struct page pg = { a, 0, loop_wall_ms() };
	int rc = rec_list(a->srv->store, REC_ASYNC_EVENT, QSCOPE, NULL, a->last_key[0] ? a->last_key : NULL, limit, page_cb, &pg);
	if (rc)
		fprintf(stderr, "lambdad: async: cannot read the queue: %s\n", ld_strerror(rc));
	else if (pg.n < limit)
		a->more = 0;
}

static void pump_cb(void *ud)
{
	struct async *a = ud;
	a->pump_scheduled = 0;
	a->pump_timer = 0;
	if (a->stopping || !a->running)
		return;
	page_in(a);
	while (a->inflight < MAX_INFLIGHT && a->rhead)
		dispatch(ready_pop(a));
}

static void schedule_pump(struct async *a)
{
	if (a->pump_scheduled || a->stopping || !a->running)
		return;
	/* at the end of this loop iteration (a 0 ms timer, so that
	 * async_stop can take it back) */
	int64_t id = loop_timer(a->srv->loop, 0, pump_cb, a);
	if (id > 0) {
		a->pump_timer = id;
		a->pump_scheduled = 1;
	}
}

/* ---- API ---- */

struct count {
	struct async *a;
	size_t n;
};

static int max_key_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct count *c = ud;
	c->n++;
	uint64_t k = strtoull(key, NULL, 10);
	if (k > c->a->seq)
		c->a->seq = k;
	return 0;
}

int async_start(server_t *srv, const struct async_options *opt)
{
	struct async *a = calloc(1, sizeof(*a));
	if (!a)
		return LD_ENOMEM;
	a->srv = srv;
	a->base_ms = opt && opt->retry_base_ms > 0 ? opt->retry_base_ms : 60000;
	struct count c = { a, 0 };
	int rc = rec_list(srv->store, REC_ASYNC_EVENT, QSCOPE, NULL, NULL, 0, max_key_cb, &c);
	if (rc) {
		free(a);
		return rc;
	}
	size_t n = c.n;
	srv->async = a;
	a->running = 1;
	a->more = n > 0;
	exec_on_free(srv, on_free, a);
	if (n)
		fprintf(stderr, "lambdad: async: resuming %zu queued event%s\n", n, n == 1 ? "" : "s");
	schedule_pump(a);
	return 0;
}

void async_stop(server_t *srv)
{
	struct async *a = srv->async;
	if (!a)
		return;
	if (!a->running)
		return;
	group_commit(a); /* the staged events are answered; they stay in the store */
	a->stopping = 1;
	for (struct delivery *dl = a->deliveries, *next; dl; dl = next) {
		next = dl->next;
		dl->ev->orphan = 1;
		if (!dl->in_flight)
			delivery_end(dl); /* a retry timer: nothing else refers to it */
	}
	for (struct aev *ev = a->all, *next; ev; ev = next) {
		next = ev->next;
		if (ev->state == EV_RUN || ev->pending > 0)
			ev->orphan = 1; /* exec or a delivery still holds it */
		else
			ev_free(ev);
	}
	a->rhead = a->rtail = NULL;
	a->running = 0;
	loop_cancel(srv->loop, a->pump_timer); /* a pump scheduled for later must not run after async_free */
	a->pump_timer = 0;
	a->pump_scheduled = 0;
	exec_on_free(srv, NULL, NULL);
	loop_cancel(srv->loop, a->flush_timer);
	a->flush_timer = 0;
	dels_flush(a);
	free(a->dels);
	a->dels = NULL;
	a->cdels = 0;
}

/* ---- the group commit ----
 *
 * New events are staged (key, record) and written in one transaction
 * together with the deletes waiting; then each is taken into memory, in key
 * order, and its caller told. Keys are given when staged, and every commit
 * takes every staged event, so the store receives keys in increasing order
 * (what paging relies on). */

/* the staged events (and the deletes waiting, with_dels) in one transaction */
static int write_group(struct async *a, struct staged *list, int with_dels)
{
	store_t *st = a->srv->store;
	int rc = store_begin(st);
	if (rc)
		return rc;
	if (with_dels)
		rc = dels_apply(a);
	for (struct staged *g = list; g && !rc; g = g->next)
		rc = rec_put(st, REC_ASYNC_EVENT, QSCOPE, g->key, g->doc);
	if (rc) {
		store_rollback(st);
		return rc;
	}
	return store_commit(st); /* a failed commit rolled back */
}

/* a committed event joins the queue in memory (or stays in the store for
 * paging when the window is full) */
static void take_in(struct async *a, struct staged *g)
{
	metrics_on_function(a->srv->metrics, M_ASYNC_EVENTS_RECEIVED, jstr(g->doc, "s"), jstr(g->doc, "n"),
			    jstr(g->doc, "q"), 1);
	struct aev *ev = NULL;
	if (a->more || a->mem >= WINDOW || !(ev = ev_new(a, g->key))) {
		a->more = 1; /* paged in when the window drains */
		return;
	}
	/* kept so the event need not be read back and parsed when it runs */
	size_t sz = g->payload_len + HELD_OVERHEAD;
	if (sz <= HELD_CAP - a->held_bytes) {
		ev->held = json_incref(g->doc);
		ev->held_size = sz;
		a->held_bytes += sz;
	}
	ready_push(ev);
}

/* Commits the staged events and the deletes waiting; returns the commit's
 * result, which every staged event's caller is also told. */
static int group_commit(struct async *a)
{
	struct staged *list = a->shead;
	int n = a->nstaged;
	a->shead = a->stail = NULL;
	a->nstaged = 0;
	a->staged_bytes = 0;
	if (!list) {
		dels_flush(a);
		return 0;
	}
	int rc = write_group(a, list, a->ndels > 0);
	if (rc == 0)
		a->ndels = 0;
	else if (a->ndels && (rc = write_group(a, list, 0)) == 0)
		schedule_flush(a); /* the deletes stay waiting, for the next commit */
	if (rc)
		fprintf(stderr, "lambdad: async: cannot queue %d event%s: %s\n", n, n == 1 ? "" : "s", ld_strerror(rc));
	/* the list is this commit's alone: a caller may stage new events. The
	 * callers first, so that the 202s' sends are scheduled before the
	 * events' runs */
	for (struct staged *g = list; g; g = g->next)
		if (g->accepted)
			g->accepted(g->ud, rc);
	for (struct staged *g = list, *next; g; g = next) {
		next = g->next;
		if (rc == 0)
			take_in(a, g);
		json_decref(g->doc);
		free(g);
	}
	return rc;
}

/* stages e under the next key; 0, LD_EIO (stopped) or LD_ENOMEM */
static int stage(struct async *a, const struct async_event *e, async_accepted_fn accepted, void *ud)
{
	if (!a || !a->running || a->stopping)
		return LD_EIO;
	struct staged *g = calloc(1, sizeof(*g));
	json_t *doc = json_object();
	json_t *p = json_stringn(e->payload, e->payload_len);
	if (!g || !doc || !p) {
		free(g);
		json_decref(doc);
		json_decref(p);
		return LD_ENOMEM;
	}
	json_object_set_new(doc, "s", json_string(e->scope));
	json_object_set_new(doc, "n", json_string(e->name));
	json_object_set_new(doc, "q", json_string(e->qualifier ? e->qualifier : ""));
	json_object_set_new(doc, "p", p);
	json_object_set_new(doc, "id", json_string(e->request_id));
	json_object_set_new(doc, "t", json_integer(loop_wall_ms()));
	if (e->client_context)
		json_object_set_new(doc, "cc", json_string(e->client_context));
	uint64_t now_us = (uint64_t)loop_wall_ms() * 1000;
	a->seq = a->seq + 1 > now_us ? a->seq + 1 : now_us;
	snprintf(g->key, sizeof(g->key), "%020" PRIu64, a->seq);
	g->doc = doc;
	g->payload_len = e->payload_len;
	g->accepted = accepted;
	g->ud = ud;
	if (a->stail)
		a->stail->next = g;
	else
		a->shead = g;
	a->stail = g;
	a->nstaged++;
	a->staged_bytes += e->payload_len;
	return 0;
}

int async_submit(server_t *srv, const struct async_event *e, async_accepted_fn accepted, void *ud)
{
	struct async *a = srv->async;
	if (!a || !a->running || a->stopping)
		return LD_EIO;
	/* a full group goes first: its callers are all waiting already */
	if (a->nstaged >= ASYNC_GROUP_MAX || (a->nstaged && a->staged_bytes + e->payload_len > ASYNC_GROUP_BYTES))
		group_commit(a);
	int rc = schedule_flush(a);
	if (rc == 0)
		rc = stage(a, e, accepted, ud);
	return rc;
}

int async_enqueue(server_t *srv, const struct async_event *e)
{
	struct async *a = srv->async;
	int rc = stage(a, e, NULL, NULL);
	return rc ? rc : group_commit(a);
}

void async_free(server_t *srv)
{
	free(srv->async);
	srv->async = NULL;
}
