/*
 * rabbitmq.c - consuming an Amazon MQ for RabbitMQ queue for one event
 * source mapping (rabbitmq.h), with librabbitmq on the daemon's loop.
 *
 * A poller goes through: connect (to where mqbroker.c found the broker,
 * with the secret's credentials: a non-blocking TCP connect watched on the
 * loop) -> open (the AMQP handshake, channel.open, basic.qos
 * and basic.consume, each bounded by RMQ_HANDSHAKE_MS: the only moments
 * the loop waits on the broker) -> consuming (frames read with a zero
 * timeout while the socket is readable). Anything that breaks the
 * connection tears it down from a timer (never inside the socket's own
 * callback) and tells mqbroker.c, which finds the broker again after a
 * backoff and has it connect anew.
 *
 * Messages are assembled from their frames (basic.deliver, the content
 * header, body frames, each copied out before librabbitmq's buffers are
 * released), kept in delivery order in `held`, and taken from its head
 * into a batch. One batch is with the function at a time (AWS runs one
 * invocation per RabbitMQ mapping); deliveries go on meanwhile, up to the
 * prefetch. Delivery tags grow on a channel, so a batch is acked (or given
 * back) with one multiple ack up to its last tag; what FilterCriteria keep
 * out is acked on its own first, so that a multiple nack never requeues it.
 * When more than an invoke's payload waits (a batch runs, or is throttled),
 * the poller stops reading the socket (TCP holds the broker back) until a
 * batch takes it.
 */
#include "pollers/rabbitmq.h"
#include "exec/door.h"
#include "loop.h"
#include "pollers/rmqevent.h"
#include "quotas.h"
#include "util/arn.h"
#include "util/err.h"
#include "util/pattern.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define RMQ_CHANNEL 1
#define RMQ_CONNECT_MS 3000        /* the TCP connect, watched on the loop */
#define RMQ_HANDSHAKE_MS 2000      /* each synchronous AMQP step (login, open, qos, consume, close) */
#define RMQ_RETRY_MS 500           /* after a failed batch, before the next invoke */
#define RMQ_THROTTLE_MS 1000       /* after a throttled invoke, before trying again */
#define RMQ_DEFAULT_WINDOW_MS 500  /* MaximumBatchingWindowInSeconds not set: AWS's 500 ms for MQ */
#define RMQ_KEEPALIVE_S 30         /* an idle connection is probed after this; gone after 3 more thirds */
#define RMQ_FRAME_MAX 131072       /* asked of the broker: what one frame (and a header) may hold */
#define RMQ_FRAMES_PER_WAKE 1024   /* frames handled before the loop gets a turn */
#define RMQ_SHORTSTR 256           /* AMQP short strings (queue, vhost): 255 bytes */
/* a body whose base64 (and properties, up to a frame) cannot fit an invoke is dropped, as on AWS */
#define RMQ_MAX_BODY ((POLLER_BATCH_BYTES - RMQ_FRAME_MAX) / 4 * 3)

enum rmq_state { ST_WAIT, ST_CONNECTING, ST_OPEN };

struct held {
	uint64_t tag;
	size_t bytes;  /* its share of the event */
	json_t *msg;   /* an rmqevent_message */
};

struct rmq_poller {
	server_t *srv;
	struct mq_hooks hooks;  /* mqbroker.c's */
	char scope[96], uuid[40];
	char arn[300];
	char fn_name[160], qualifier[140];
	char queue[RMQ_SHORTSTR], vhost[RMQ_SHORTSTR];
	int batch_size;
	uint64_t window_ms;
	json_t *filters;
	char user[RMQ_SHORTSTR], pass[RMQ_SHORTSTR];
	enum rmq_state st;
	int stopped;
	int invoking;           /* a batch is with the function: its callback comes */
	int fd;                 /* the socket (librabbitmq's once conn exists), or -1 */
	int fd_watched;         /* fd is on the loop */
	amqp_connection_state_t conn;
	uint64_t gen;           /* connections opened: a batch is acked on its own */
	int paused;             /* not reading: held passed an invoke's payload */
	int64_t timer;          /* connect timeout, teardown */
	int64_t batch_timer;    /* batching window, or the hold after a failure */
	int64_t drain_timer;    /* frames left in librabbitmq's buffer */
	uint64_t not_before_ms; /* no invoke before this (after a failure or throttle) */
	/* the message being assembled */
	int receiving;
	uint64_t cur_tag;
	int cur_redelivered;
	json_t *cur_props;
	uint64_t cur_size, cur_got;
	unsigned char *cur_body; /* NULL when it is dropped (too big) */
	/* complete messages, in delivery order */
	struct held *held;
	size_t nheld, capheld, held_bytes;
	uint64_t first_ms;
	/* the batch with the function */
	uint64_t inv_tag, inv_gen;
	struct poller_stats stats;
};

static void drain(struct rmq_poller *p);
static void maybe_invoke(struct rmq_poller *p);

/* ---- lifetime ---- */

static void cur_clear(struct rmq_poller *p)
{
	p->receiving = 0;
	json_decref(p->cur_props);
	p->cur_props = NULL;
	free(p->cur_body);
	p->cur_body = NULL;
	p->cur_size = p->cur_got = 0;
}

/* forgets what was received and not acked: the broker has it back once the
 * connection is gone */
static void held_clear(struct rmq_poller *p)
{
	for (size_t i = 0; i < p->nheld; i++)
		json_decref(p->held[i].msg);
	p->nheld = p->held_bytes = 0;
	cur_clear(p);
}

static void cancel(struct rmq_poller *p, int64_t *t)
{
	if (*t > 0)
		loop_cancel(p->srv->loop, *t);
	*t = 0;
}

/* closes the connection (gracefully: channel.close and connection.close,
 * bounded; else the socket is just closed) */
static void close_conn(struct rmq_poller *p, int graceful)
{
	if (p->fd_watched) {
		loop_del_fd(p->srv->loop, p->fd);
		p->fd_watched = 0;
	}
	if (p->conn) {
		if (graceful) {
			amqp_channel_close(p->conn, RMQ_CHANNEL, AMQP_REPLY_SUCCESS);
			amqp_connection_close(p->conn, AMQP_REPLY_SUCCESS);
		}
		amqp_destroy_connection(p->conn); /* closes the socket */
		p->conn = NULL;
	} else if (p->fd >= 0) {
		close(p->fd);
	}
	p->fd = -1;
	p->paused = 0;
	cancel(p, &p->drain_timer);
	held_clear(p);
}

static void poller_free(struct rmq_poller *p)
{
	close_conn(p, 0);
	cancel(p, &p->timer);
	cancel(p, &p->batch_timer);
	free(p->held);
	json_decref(p->filters);
	free(p);
}

/* a stopped poller goes when nothing of it is in flight */
static int gone_if_stopped(struct rmq_poller *p)
{
	if (!p->stopped)
		return 0;
	if (!p->invoking)
		poller_free(p);
	return 1;
}

/* LastProcessingResult, stored (by mqbroker.c) when it changes */
static void result(struct rmq_poller *p, const char *what)
{
	p->hooks.result(p->hooks.ud, what);
}

/* ---- connection state ---- */

/* the connection is closed: mqbroker.c finds the broker again (after its
 * backoff) and calls rmq_poller_connect */
static void later(struct rmq_poller *p)
{
	cancel(p, &p->timer);
	p->st = ST_WAIT;
	p->hooks.closed(p->hooks.ud);
}

static void on_teardown(void *ud)
{
	struct rmq_poller *p = ud;
	p->timer = 0;
	close_conn(p, 0);
	later(p);
}

/* the connection is unusable: it stops being read now, and is closed from
 * a timer, outside whatever callback noticed */
static void lost(struct rmq_poller *p, const char *why)
{
	fprintf(stderr, "lambdad: RabbitMQ consumer of %s (queue %s): %s; connecting again\n", p->arn, p->queue, why);
	if (p->fd_watched) {
		loop_del_fd(p->srv->loop, p->fd);
		p->fd_watched = 0;
	}
	p->st = ST_WAIT;
	cancel(p, &p->drain_timer);
	cancel(p, &p->batch_timer);
	cancel(p, &p->timer);
	int64_t t = loop_timer(p->srv->loop, 0, on_teardown, p);
	p->timer = t > 0 ? t : 0;
	if (!p->timer) { /* no timer to be had: close it here */
		close_conn(p, 0);
		later(p);
	}
}

/* the words of a failed synchronous AMQP call */
static void reply_text(amqp_rpc_reply_t r, char *out, size_t n)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL: snprintf(out, n, "ok"); return;
	case AMQP_RESPONSE_NONE: snprintf(out, n, "no reply"); return;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION: snprintf(out, n, "%s", amqp_error_string2(r.library_error)); return;
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD || r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			/* connection.close and channel.close share their first members */
			const amqp_channel_close_t *c = r.reply.decoded;
			snprintf(out, n, "the broker refused: %u %.*s", (unsigned)c->reply_code, (int)c->reply_text.len,
				 (const char *)c->reply_text.bytes);
			return;
		}
		snprintf(out, n, "the broker answered method 0x%08x", (unsigned)r.reply.id);
		return;
	}
	snprintf(out, n, "unknown reply");
}

/* ---- consuming ---- */

static void on_drain(void *ud)
{
	struct rmq_poller *p = ud;
	p->drain_timer = 0;
	drain(p);
}

static void schedule_drain(struct rmq_poller *p)
{
	if (p->drain_timer)
		return;
	int64_t t = loop_timer(p->srv->loop, 0, on_drain, p);
	p->drain_timer = t > 0 ? t : 0;
}

static void pause_reading(struct rmq_poller *p)
{
	if (p->paused || !p->fd_watched)
		return;
	p->paused = 1;
	loop_mod_fd(p->srv->loop, p->fd, 0);
}

static void resume_reading(struct rmq_poller *p)
{
	if (!p->paused || p->st != ST_OPEN)
		return;
	p->paused = 0;
	loop_mod_fd(p->srv->loop, p->fd, EPOLLIN);
	schedule_drain(p);
}

/* reads while less than an invoke's payload waits */
static void flow(struct rmq_poller *p)
{
	if (p->held_bytes >= POLLER_BATCH_BYTES)
		pause_reading(p);
	else
		resume_reading(p);
}

/* a message that cannot fit an invoke is dropped as AWS drops it: rejected
 * without requeue (the queue's dead-letter exchange, if any, gets it) */
static int drop_too_big(struct rmq_poller *p, uint64_t tag, uint64_t size)
{
	fprintf(stderr, "lambdad: RabbitMQ consumer of %s: a message of %llu bytes does not fit an invoke's "
		"payload; dropped\n", p->arn, (unsigned long long)size);
	return amqp_basic_reject(p->conn, RMQ_CHANNEL, tag, 0) ? LD_EREMOTE : 0;
}

/* a whole message arrived: dropped (too big), acked (filtered out) or held.
 * 0, or LD_EREMOTE / LD_ENOMEM when the connection must go */
static int complete(struct rmq_poller *p)
{
	uint64_t tag = p->cur_tag;
	p->stats.polled++;
	if (!p->cur_body && p->cur_size) {
		uint64_t size = p->cur_size;
		cur_clear(p);
		return drop_too_big(p, tag, size);
	}
	if (p->filters) {
		json_t *view = rmqevent_filter_view(p->cur_body, (size_t)p->cur_size);
		int keep = view && pattern_filters_match(p->filters, view);
		json_decref(view);
		if (!keep) {
			p->stats.filtered++;
			cur_clear(p);
			return amqp_basic_ack(p->conn, RMQ_CHANNEL, tag, 0) ? LD_EREMOTE : 0;
		}
	}
	uint64_t size = p->cur_size;
	json_t *msg = rmqevent_message(p->cur_props, p->cur_redelivered, p->cur_body, (size_t)size);
	p->cur_props = NULL;
	cur_clear(p);
	if (!msg)
		return LD_ENOMEM; /* the connection goes, the broker keeps the message */
	if (p->nheld == p->capheld) { /* more than the prefetch: the broker broke its word */
		json_decref(msg);
		return LD_EREMOTE;
	}
	size_t bytes = json_dumpb(msg, NULL, 0, JSON_COMPACT) + 1;
	if (bytes > POLLER_BATCH_BYTES) { /* headers that grew past the room left beside the body */
		json_decref(msg);
		return drop_too_big(p, tag, size);
	}
	p->held[p->nheld++] = (struct held){ tag, bytes, msg };
	if (p->nheld == 1)
		p->first_ms = loop_now_ms();
	p->held_bytes += bytes;
	flow(p);
	return 0;
}

/* one frame of the connection: 0, or LD_EREMOTE (LD_ENOMEM) when the
 * connection must go, with why set */
static int on_frame(struct rmq_poller *p, const amqp_frame_t *f, char *why, size_t n)
{
	if (f->frame_type == AMQP_FRAME_HEARTBEAT)
		return 0;
	if (f->frame_type == AMQP_FRAME_METHOD) {
		switch (f->payload.method.id) {
		case AMQP_BASIC_DELIVER_METHOD: {
			const amqp_basic_deliver_t *d = f->payload.method.decoded;
			if (p->receiving)
				break;
			p->receiving = 1;
			p->cur_tag = d->delivery_tag;
			p->cur_redelivered = d->redelivered != 0;
			return 0;
		}
		case AMQP_BASIC_CANCEL_METHOD:
			snprintf(why, n, "the broker cancelled the consumer (was the queue deleted?)");
			return LD_EREMOTE;
		case AMQP_CHANNEL_CLOSE_METHOD:
		case AMQP_CONNECTION_CLOSE_METHOD: {
			const amqp_channel_close_t *c = f->payload.method.decoded;
			snprintf(why, n, "the broker closed the %s: %u %.*s",
				 f->payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ? "channel" : "connection",
				 (unsigned)c->reply_code, (int)c->reply_text.len, (const char *)c->reply_text.bytes);
			return LD_EREMOTE;
		}
		default:
			return 0; /* nothing else is expected; nothing else matters */
		}
		snprintf(why, n, "a delivery began before the last one ended");
		return LD_EREMOTE;
	}
	if (f->frame_type == AMQP_FRAME_HEADER) {
		if (!p->receiving || p->cur_props)
			goto unexpected;
		uint64_t size = f->payload.properties.body_size;
		p->cur_props = rmqevent_properties(f->payload.properties.decoded, size);
		p->cur_size = size;
		p->cur_got = 0;
		if (!p->cur_props)
			goto unexpected;
		if (size <= RMQ_MAX_BODY && !(p->cur_body = malloc(size ? (size_t)size : 1)))
			goto unexpected;
		return size ? 0 : complete(p);
	}
	if (f->frame_type == AMQP_FRAME_BODY) {
		amqp_bytes_t b = f->payload.body_fragment;
		if (!p->receiving || !p->cur_props || b.len > p->cur_size - p->cur_got)
			goto unexpected;
		if (p->cur_body)
			memcpy(p->cur_body + p->cur_got, b.bytes, b.len);
		p->cur_got += b.len;
		return p->cur_got == p->cur_size ? complete(p) : 0;
	}
unexpected:
	snprintf(why, n, "a frame out of place (type %u)", (unsigned)f->frame_type);
	return LD_EREMOTE;
}

/* reads what the broker sent, without waiting */
static void drain(struct rmq_poller *p)
{
	char why[300] = "";
	if (p->st != ST_OPEN || p->paused)
		return;
	for (int i = 0; i < RMQ_FRAMES_PER_WAKE; i++) {
		struct timeval zero = { 0, 0 };
		amqp_frame_t f;
		int rc = amqp_simple_wait_frame_noblock(p->conn, &f, &zero);
		if (rc == AMQP_STATUS_TIMEOUT) {
			maybe_invoke(p);
			return;
		}
		if (rc != AMQP_STATUS_OK)
			snprintf(why, sizeof(why), "%s", amqp_error_string2(rc));
		int bad = rc != AMQP_STATUS_OK || (f.channel != 0 && f.channel != RMQ_CHANNEL) ||
			  on_frame(p, &f, why, sizeof(why));
		amqp_maybe_release_buffers(p->conn); /* what the frame decoded into is copied out */
		if (bad) {
			lost(p, why[0] ? why : "a frame on another channel");
			return;
		}
		if (p->paused)
			break;
	}
	if (!p->paused)
		schedule_drain(p); /* librabbitmq may hold more than the socket shows */
	maybe_invoke(p);
}

/* ---- batches ---- */

static void on_batch_timer(void *ud)
{
	struct rmq_poller *p = ud;
	p->batch_timer = 0;
	maybe_invoke(p);
}

/* acks (ok) or gives back to the queue (requeue) every delivery up to tag
 * not settled yet: 0, or LD_EREMOTE when the connection was lost doing it */
static int settle(struct rmq_poller *p, uint64_t tag, int ok)
{
	if (p->st != ST_OPEN || !p->conn)
		return 0; /* the connection went: the broker has them back already */
	int rc = ok ? amqp_basic_ack(p->conn, RMQ_CHANNEL, tag, 1) : amqp_basic_nack(p->conn, RMQ_CHANNEL, tag, 1, 1);
	if (rc) {
		lost(p, amqp_error_string2(rc));
		return LD_EREMOTE;
	}
	return 0;
}

static void failed(struct rmq_poller *p)
{
	p->stats.failed++;
	result(p, "PROBLEM: Function call failed");
	p->not_before_ms = loop_now_ms() + RMQ_RETRY_MS;
}

static void on_invoked(void *ud, struct exec_result *res)
{
	struct rmq_poller *p = ud;
	p->invoking = 0;
	if (gone_if_stopped(p))
		return;
	int ok = res->ok && !res->function_error;
	if (ok)
		result(p, "OK");
	else
		failed(p);
	if (p->inv_gen == p->gen && settle(p, p->inv_tag, ok))
		return;
	maybe_invoke(p);
}

/* removes the first n held messages */
static void held_drop(struct rmq_poller *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p->held_bytes -= p->held[i].bytes;
		json_decref(p->held[i].msg);
	}
	memmove(p->held, p->held + n, (p->nheld - n) * sizeof(*p->held));
	p->nheld -= n;
	if (p->nheld)
		p->first_ms = loop_now_ms();
	flow(p);
}

static void invoke(struct rmq_poller *p)
{
	size_t n = 0, bytes = 0;
	while (n < p->nheld && n < (size_t)p->batch_size && (!n || bytes + p->held[n].bytes <= POLLER_BATCH_BYTES))
		bytes += p->held[n++].bytes;
	json_t *msgs = json_array();
	for (size_t i = 0; msgs && i < n; i++)
		json_array_append(msgs, p->held[i].msg);
	char *text = msgs ? rmqevent_event(p->arn, p->queue, p->vhost, msgs) : NULL;
	json_decref(msgs);
	uint64_t last = p->held[n - 1].tag;
	int rc = LD_ENOMEM;
	if (text) {
		struct door_call c = { .scope = p->scope, .name = p->fn_name, .qualifier = p->qualifier,
				       .payload = text, .payload_len = strlen(text) };
		ld_error_t err = { 0 };
		rc = door_invoke(p->srv, &c, on_invoked, p, &err);
		json_decref(c.config);
		ld_error_clear(&err);
		free(text);
	}
	if (rc == 0) {
		p->invoking = 1;
		p->stats.invoked++;
		p->inv_tag = last;
		p->inv_gen = p->gen;
		held_drop(p, n);
		return;
	}
	if (rc == LD_ETHROTTLED) { /* the batch stays; it runs when there is room */
		p->stats.throttled++;
		p->not_before_ms = loop_now_ms() + RMQ_THROTTLE_MS;
		maybe_invoke(p);
		return;
	}
	/* the function is not there or not Active: the batch goes back to the queue */
	failed(p);
	held_drop(p, n);
	if (settle(p, last, 0) == 0)
		maybe_invoke(p);
}

/* invokes the held messages when a batch is due: BatchSize of them, an
 * invoke's payload, or the window since the first is over */
static void maybe_invoke(struct rmq_poller *p)
{
	if (p->stopped || p->invoking || !p->nheld || p->st != ST_OPEN)
		return;
	uint64_t now = loop_now_ms(), due;
	if (now < p->not_before_ms)
		due = p->not_before_ms;
	else if (p->nheld >= (size_t)p->batch_size || p->held_bytes >= POLLER_BATCH_BYTES ||
		 now - p->first_ms >= p->window_ms) {
		cancel(p, &p->batch_timer);
		invoke(p);
		return;
	} else
		due = p->first_ms + p->window_ms;
	cancel(p, &p->batch_timer);
	int64_t t = loop_timer(p->srv->loop, due - now, on_batch_timer, p);
	p->batch_timer = t > 0 ? t : 0;
}

/* ---- the connection ---- */

/* the AMQP handshake on the connected socket, then the consumer */
static void open_consumer(struct rmq_poller *p)
{
	char why[300];
	amqp_rpc_reply_t r;
	struct timeval tv = { RMQ_HANDSHAKE_MS / 1000, (RMQ_HANDSHAKE_MS % 1000) * 1000 };
	amqp_socket_t *sock = NULL;
	if (!(p->conn = amqp_new_connection()) || !(sock = amqp_tcp_socket_new(p->conn))) {
		if (p->conn)
			amqp_destroy_connection(p->conn); /* the socket is still p->fd's */
		p->conn = NULL;
		lost(p, "out of memory");
		return;
	}
	amqp_tcp_socket_set_sockfd(sock, p->fd); /* the connection owns the socket now */
	amqp_set_handshake_timeout(p->conn, &tv);
	amqp_set_rpc_timeout(p->conn, &tv);
	/* consumer_cancel_notify: a deleted queue cancels the consumer aloud
	 * (basic.cancel) rather than leave it waiting on nothing; the
	 * connection's name shows the mapping in the broker's tools */
	char cname[80];
	snprintf(cname, sizeof(cname), "lambdad event source mapping %s", p->uuid);
	amqp_table_entry_t caps[1] = { { amqp_cstring_bytes("consumer_cancel_notify"),
					 { AMQP_FIELD_KIND_BOOLEAN, { .boolean = 1 } } } };
	amqp_table_entry_t props[2] = {
		{ amqp_cstring_bytes("capabilities"), { AMQP_FIELD_KIND_TABLE, { .table = { 1, caps } } } },
		{ amqp_cstring_bytes("connection_name"), { AMQP_FIELD_KIND_UTF8, { .bytes = amqp_cstring_bytes(cname) } } },
	};
	amqp_table_t client = { 2, props };
	r = amqp_login_with_properties(p->conn, p->vhost, 1, RMQ_FRAME_MAX, 0, &client, AMQP_SASL_METHOD_PLAIN,
				       p->user, p->pass);
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		goto fail;
	amqp_channel_open(p->conn, RMQ_CHANNEL);
	if ((r = amqp_get_rpc_reply(p->conn)).reply_type != AMQP_RESPONSE_NORMAL)
		goto fail;
	amqp_basic_qos(p->conn, RMQ_CHANNEL, 0, (uint16_t)p->batch_size, 0);
	if ((r = amqp_get_rpc_reply(p->conn)).reply_type != AMQP_RESPONSE_NORMAL)
		goto fail;
	amqp_basic_consume(p->conn, RMQ_CHANNEL, amqp_cstring_bytes(p->queue), amqp_empty_bytes, 0, 0, 0,
			   amqp_empty_table);
	if ((r = amqp_get_rpc_reply(p->conn)).reply_type != AMQP_RESPONSE_NORMAL)
		goto fail;
	p->st = ST_OPEN;
	p->gen++;
	p->paused = 0;
	p->hooks.opened(p->hooks.ud);
	loop_mod_fd(p->srv->loop, p->fd, EPOLLIN);
	fprintf(stderr, "lambdad: RabbitMQ consumer of %s: consuming queue %s in vhost %s\n", p->arn, p->queue,
		p->vhost);
	schedule_drain(p); /* deliveries may have come with consume-ok */
	return;
fail:
	reply_text(r, why, sizeof(why));
	lost(p, why);
}

static void on_io(void *ud, uint32_t events)
{
	struct rmq_poller *p = ud;
	if (p->st == ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (!err && !(events & EPOLLOUT))
			return;
		cancel(p, &p->timer);
		if (err) {
			char why[200];
			snprintf(why, sizeof(why), "cannot connect: %s", strerror(err));
			lost(p, why);
			return;
		}
		open_consumer(p);
		return;
	}
	if (p->st != ST_OPEN)
		return;
	if (p->paused) {
		if (events & (EPOLLERR | EPOLLHUP))
			lost(p, "the connection closed");
		return;
	}
	drain(p);
}

static void on_connect_timeout(void *ud)
{
	struct rmq_poller *p = ud;
	p->timer = 0;
	lost(p, "cannot connect: timed out");
}

/* a non-blocking connect to url (amqp://HOST:PORT; HOST an IP address or
 * localhost: a name would need a blocking lookup) */
static void connect_to(struct rmq_poller *p, const char *url)
{
	char copy[512], why[600];
	struct amqp_connection_info ci;
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	memset(&ss, 0, sizeof(ss));
	snprintf(copy, sizeof(copy), "%s", url);
	if (amqp_parse_url(copy, &ci) != AMQP_STATUS_OK || ci.ssl) {
		snprintf(why, sizeof(why), "the broker's endpoint %.300s is not amqp://HOST:PORT (lambdad speaks AMQP "
			 "without TLS: map the broker with --mq-broker)", url);
		goto fail;
	}
	const char *host = !strcmp(ci.host, "localhost") ? "127.0.0.1" : ci.host;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)ci.port);
		sl = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)ci.port);
		sl = sizeof(*v6);
	} else {
		snprintf(why, sizeof(why), "the broker's host %.200s is not an IP address (give --mq-broker one)", ci.host);
		goto fail;
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		goto fail;
	}
	/* no AMQP heartbeats (librabbitmq sends them only inside its own calls):
	 * TCP keepalives find a broker that vanished without closing */
	int one = 1, idle = RMQ_KEEPALIVE_S, intvl = RMQ_KEEPALIVE_S / 3, cnt = 3;
	setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(p->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(p->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(p->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(p->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "cannot connect to %.300s: %s", url, strerror(errno));
		goto fail;
	}
	if (loop_add_fd(p->srv->loop, p->fd, EPOLLOUT, on_io, p)) {
		snprintf(why, sizeof(why), "the loop does not take the socket");
		goto fail;
	}
	p->fd_watched = 1;
	p->st = ST_CONNECTING;
	cancel(p, &p->timer);
	int64_t t = loop_timer(p->srv->loop, RMQ_CONNECT_MS, on_connect_timeout, p);
	p->timer = t > 0 ? t : 0;
	return;
fail:
	lost(p, why);
}

/* ---- start and stop ---- */

struct rmq_poller *rmq_poller_start(server_t *srv, const char *scope, const char *uuid, json_t *doc,
				    const struct mq_hooks *hooks)
{
	const char *src = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	const char *queue = json_string_value(json_array_get(json_object_get(doc, "Queues"), 0));
	struct arn fa;
	if (!src || !fn || !queue || arn_parse(fn, &fa) || strncmp(fa.resource, "function:", 9) ||
	    strlen(queue) >= RMQ_SHORTSTR || strlen(src) >= sizeof(((struct rmq_poller *)0)->arn))
		return NULL;
	struct rmq_poller *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->srv = srv;
	p->hooks = *hooks;
	p->fd = -1;
	snprintf(p->scope, sizeof(p->scope), "%s", scope);
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	snprintf(p->arn, sizeof(p->arn), "%s", src);
	snprintf(p->queue, sizeof(p->queue), "%s", queue);
	snprintf(p->vhost, sizeof(p->vhost), "/");
	poller_function(fa.resource + 9, p->fn_name, sizeof(p->fn_name), p->qualifier, sizeof(p->qualifier));
	size_t i;
	json_t *sac;
	json_array_foreach(json_object_get(doc, "SourceAccessConfigurations"), i, sac) {
		const char *type = json_string_value(json_object_get(sac, "Type"));
		const char *uri = json_string_value(json_object_get(sac, "URI"));
		if (type && uri && !strcmp(type, "VIRTUAL_HOST") && strlen(uri) < sizeof(p->vhost))
			snprintf(p->vhost, sizeof(p->vhost), "%s", uri);
	}
	json_int_t batch = json_integer_value(json_object_get(doc, "BatchSize"));
	p->batch_size = batch > 0 && batch <= 10000 ? (int)batch : 100;
	json_t *window = json_object_get(doc, "MaximumBatchingWindowInSeconds");
	json_int_t window_s = json_integer_value(window);
	p->window_ms = !json_is_integer(window) ? RMQ_DEFAULT_WINDOW_MS : window_s > 0 ? (uint64_t)window_s * 1000 : 0;
	p->filters = poller_filters(doc);
	p->capheld = (size_t)p->batch_size;
	if (!(p->held = calloc(p->capheld, sizeof(*p->held)))) {
		poller_free(p);
		return NULL;
	}
	return p;
}

void rmq_poller_connect(struct rmq_poller *p, const char *url, const char *user, const char *pass)
{
	if (p->stopped || p->st != ST_WAIT)
		return;
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->pass, sizeof(p->pass), "%s", pass);
	connect_to(p, url);
}

const struct poller_stats *rmq_poller_stats(const struct rmq_poller *p)
{
	return &p->stats;
}

void rmq_poller_stop(struct rmq_poller *p)
{
	if (!p)
		return;
	p->stopped = 1;
	cancel(p, &p->timer);
	cancel(p, &p->batch_timer);
	close_conn(p, p->st == ST_OPEN);
	gone_if_stopped(p);
}
