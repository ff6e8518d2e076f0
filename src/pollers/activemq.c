/*
 * activemq.c - consuming an Amazon MQ for ActiveMQ queue for one event
 * source mapping (activemq.h), with qpid-proton's AMQP 1.0 engine on the
 * daemon's loop.
 *
 * Why the engine and not proton's proactor: the proactor runs its own
 * threads and epoll, and would hand every event across to the loop. The
 * engine (pn_connection_driver: a connection, its transport and its event
 * collector) does no I/O of its own: lambdad owns the socket, watches it on
 * the loop, feeds what it reads into the driver's read buffer, writes what
 * the driver's write buffer holds, and handles the driver's events right
 * there, on the loop thread that also invokes and settles. Nothing blocks:
 * the TCP connect, SASL, open, attach and every delivery are events; the
 * transport's idle-timeout duty (empty frames) is kept by a timer at the
 * deadline pn_transport_tick() names.
 *
 * A poller goes through: connecting (to where mqbroker.c found the broker,
 * with the secret's credentials; a non-blocking TCP connect) ->
 * opening (SASL PLAIN, open, begin, attach of the receiver with the queue
 * as its source; credit given) -> consuming (the broker's attach came
 * back). Anything that breaks the connection (a refused login, a closed
 * link, the socket) is noted while events are handled and torn down from a
 * timer afterwards, and mqbroker.c is told: it finds the broker again
 * after a backoff (the secret read anew) and has the poller connect.
 *
 * Deliveries stay unsettled until their batch's outcome: the receiver runs
 * in AMQP's "first" settle mode, so a settled disposition ends a delivery.
 * Credit is given so that unsettled deliveries plus credit never exceed
 * BatchSize (AWS's prefetch for MQ); none is given while an invoke's payload
 * of messages already waits. Messages are kept in delivery order in `held`
 * and taken from its head into a batch; the deliveries of the batch with
 * the function are in `inv`, valid only for the connection they came on
 * (gen).
 */
#include "pollers/activemq.h"
#include "exec/door.h"
#include "loop.h"
#include "pollers/amqevent.h"
#include "quotas.h"
#include "util/arn.h"
#include "util/err.h"
#include "util/pattern.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <proton/codec.h>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/connection_driver.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/message.h>
#include <proton/sasl.h>
#include <proton/session.h>
#include <proton/terminus.h>
#include <proton/transport.h>

#define AMQ_CONNECT_MS 3000        /* the TCP connect, watched on the loop */
#define AMQ_OPEN_MS 5000           /* SASL, open and attach, until the broker's attach */
#define AMQ_RETRY_MS 500           /* after a failed batch, before the next invoke */
#define AMQ_THROTTLE_MS 1000       /* after a throttled invoke, before trying again */
#define AMQ_DEFAULT_WINDOW_MS 500  /* MaximumBatchingWindowInSeconds not set: AWS's 500 ms for MQ */
#define AMQ_KEEPALIVE_S 30         /* TCP keepalive beside AMQP's idle timeout */
#define AMQ_IDLE_TIMEOUT_MS 60000  /* asked of the broker: it sends something at least every 30 s */
#define AMQ_READS_PER_WAKE 64      /* socket reads before the loop gets a turn */
#define AMQ_MAX_BATCH 10000        /* BatchSize's maximum for Amazon MQ */
#define AMQ_DEFAULT_BATCH 100
#define AMQ_CHUNK 65536            /* a delivery's bytes are read this much at a time */
/* a delivery whose bytes (base64 of its body and AWS's members) cannot fit an invoke is dropped, as on AWS */
#define AMQ_MAX_ENCODED ((POLLER_BATCH_BYTES - 65536) / 4 * 3)

#define RESULT_CONN "PROBLEM: Connection error."
#define RESULT_AUTH "PROBLEM: Authentication error."
#define RESULT_FAILED "PROBLEM: Function call failed"

enum amq_state { ST_WAIT, ST_CONNECTING, ST_OPENING, ST_OPEN };

struct held {
	pn_delivery_t *d;
	size_t bytes;  /* its share of the event */
	json_t *msg;   /* an amqevent_message */
};

struct amq_poller {
	server_t *srv;
	struct mq_hooks hooks;  /* mqbroker.c's */
	char scope[96], uuid[40];
	char arn[300];
	char fn_name[160], qualifier[140];
	char queue[512];
	char host[256];
	int batch_size;
	uint64_t window_ms;
	json_t *filters;
	char user[256], pass[256];
	enum amq_state st;
	int stopped;
	int invoking;           /* a batch is with the function: its callback comes */
	int fd;                 /* the socket, or -1 */
	int fd_watched;
	uint32_t fd_events;
	int driver_on;          /* drv is initialized */
	pn_connection_driver_t drv;
	pn_link_t *link;
	int released_only;      /* the broker takes released, not modified (RabbitMQ) */
	int handling;           /* in pump(): no teardown here */
	char broken[300];       /* why the connection must go, noted while handling */
	int auth_failed;
	uint64_t gen;           /* connections made: a batch is settled on its own */
	int64_t timer;          /* connect/open timeout, teardown */
	int64_t batch_timer;    /* batching window, or the hold after a failure */
	int64_t tick_timer;     /* the transport's idle-timeout duty */
	uint64_t not_before_ms; /* no invoke before this (after a failure or throttle) */
	/* the delivery being read */
	char *rx;
	size_t rx_len, rx_cap;
	int rx_too_big;
	/* complete messages, in delivery order */
	struct held *held;
	size_t nheld, held_bytes;
	uint64_t first_ms;
	/* the batch with the function */
	pn_delivery_t **inv;
	size_t ninv;
	uint64_t inv_gen;
	struct poller_stats stats;
};

static void pump(struct amq_poller *p);
static void maybe_invoke(struct amq_poller *p);

/* ---- lifetime ---- */

static void cancel(struct amq_poller *p, int64_t *t)
{
	if (*t > 0)
		loop_cancel(p->srv->loop, *t);
	*t = 0;
}

static void held_clear(struct amq_poller *p)
{
	for (size_t i = 0; i < p->nheld; i++)
		json_decref(p->held[i].msg);
	p->nheld = p->held_bytes = 0;
	p->rx_len = 0;
	p->rx_too_big = 0;
}

/* writes what the transport has to send, without waiting; watches for
 * writability when some is left */
static void flush(struct amq_poller *p)
{
	if (!p->driver_on || p->fd < 0)
		return;
	for (int i = 0; i < AMQ_READS_PER_WAKE; i++) {
		pn_bytes_t out = pn_connection_driver_write_buffer(&p->drv);
		if (!out.size)
			break;
		ssize_t n = send(p->fd, out.start, out.size, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			pn_connection_driver_write_close(&p->drv);
			break;
		}
		pn_connection_driver_write_done(&p->drv, (size_t)n);
	}
	if (!p->fd_watched)
		return;
	uint32_t want = (pn_connection_driver_read_closed(&p->drv) ? 0 : EPOLLIN) |
			(pn_connection_driver_write_buffer(&p->drv).size ? EPOLLOUT : 0);
	if (want != p->fd_events && loop_mod_fd(p->srv->loop, p->fd, want) == 0)
		p->fd_events = want;
}

/* closes the connection (gracefully: close frames written if the socket
 * takes them now) and forgets what it held: the broker has it back */
static void close_conn(struct amq_poller *p, int graceful)
{
	if (p->driver_on && graceful && p->fd >= 0) {
		pn_connection_close(p->drv.connection);
		flush(p);
	}
	if (p->fd_watched) {
		loop_del_fd(p->srv->loop, p->fd);
		p->fd_watched = 0;
	}
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->fd_events = 0;
	if (p->driver_on)
		pn_connection_driver_destroy(&p->drv); /* its deliveries go with it */
	p->driver_on = 0;
	p->link = NULL;
	cancel(p, &p->tick_timer);
	held_clear(p);
}

static void poller_free(struct amq_poller *p)
{
	close_conn(p, 0);
	cancel(p, &p->timer);
	cancel(p, &p->batch_timer);
	free(p->held);
	free(p->inv);
	free(p->rx);
	json_decref(p->filters);
	free(p);
}

static int gone_if_stopped(struct amq_poller *p)
{
	if (!p->stopped)
		return 0;
	if (!p->invoking)
		poller_free(p);
	return 1;
}

/* LastProcessingResult, stored (by mqbroker.c) when it changes */
static void result(struct amq_poller *p, const char *what)
{
	p->hooks.result(p->hooks.ud, what);
}

/* ---- connection state ---- */

/* the connection is closed: mqbroker.c finds the broker again (after its
 * backoff) and calls amq_poller_connect */
static void later(struct amq_poller *p)
{
	cancel(p, &p->timer);
	p->st = ST_WAIT;
	p->hooks.closed(p->hooks.ud);
}

static void on_teardown(void *ud)
{
	struct amq_poller *p = ud;
	p->timer = 0;
	close_conn(p, 0);
	later(p);
}

/* the connection is unusable: it stops being read now and is closed from a
 * timer, outside whatever callback noticed */
static void lost(struct amq_poller *p, const char *why)
{
	fprintf(stderr, "lambdad: ActiveMQ consumer of %s (queue %s): %s; connecting again\n", p->arn, p->queue, why);
	result(p, p->auth_failed ? RESULT_AUTH : RESULT_CONN);
	if (p->fd_watched) {
		loop_del_fd(p->srv->loop, p->fd);
		p->fd_watched = 0;
	}
	p->st = ST_WAIT;
	cancel(p, &p->batch_timer);
	cancel(p, &p->tick_timer);
	cancel(p, &p->timer);
	int64_t t = loop_timer(p->srv->loop, 0, on_teardown, p);
	p->timer = t > 0 ? t : 0;
	if (!p->timer) {
		close_conn(p, 0);
		later(p);
	}
}

/* notes why the connection must go (the first reason wins) */
static void breaks(struct amq_poller *p, const char *what, pn_condition_t *c)
{
	if (p->broken[0])
		return;
	const char *name = c && pn_condition_is_set(c) ? pn_condition_get_name(c) : NULL;
	const char *desc = c && pn_condition_is_set(c) ? pn_condition_get_description(c) : NULL;
	if (name && !strcmp(name, "amqp:unauthorized-access"))
		p->auth_failed = 1;
	snprintf(p->broken, sizeof(p->broken), "%s%s%.100s%s%.120s", what, name ? ": " : "", name ? name : "",
		 desc ? " " : "", desc ? desc : "");
}

/* ---- credit and settling ---- */

/* credit up to BatchSize unsettled, none while a payload's worth waits */
static void topup(struct amq_poller *p)
{
	if (!p->link || p->st != ST_OPEN || p->held_bytes >= POLLER_BATCH_BYTES)
		return;
	int want = p->batch_size - pn_link_unsettled(p->link) - pn_link_credit(p->link);
	if (want > 0)
		pn_link_flow(p->link, want);
}

/* ends a delivery: accepted (ok), given back (failed: modified,
 * delivery-failed, or released), or rejected (dropped) */
enum outcome { ACCEPT, GIVE_BACK, DROP };

static void settle_one(struct amq_poller *p, pn_delivery_t *d, enum outcome o)
{
	if (o == ACCEPT) {
		pn_delivery_update(d, PN_ACCEPTED);
	} else if (o == DROP) {
		pn_delivery_update(d, PN_REJECTED);
	} else if (p->released_only) {
		pn_delivery_update(d, PN_RELEASED);
	} else {
		pn_disposition_set_failed(pn_delivery_local(d), true);
		pn_delivery_update(d, PN_MODIFIED);
	}
	pn_delivery_settle(d);
}

/* ---- receiving ---- */

static void drop_too_big(struct amq_poller *p, pn_delivery_t *d, size_t size)
{
	fprintf(stderr, "lambdad: ActiveMQ consumer of %s: a message of %zu bytes or more does not fit an invoke's "
		"payload; dropped\n", p->arn, size);
	settle_one(p, d, DROP);
}

/* a whole delivery arrived: dropped, accepted (filtered out) or held */
static void complete(struct amq_poller *p, pn_delivery_t *d)
{
	p->stats.polled++;
	size_t size = p->rx_len;
	if (p->rx_too_big) {
		p->rx_len = 0;
		p->rx_too_big = 0;
		drop_too_big(p, d, AMQ_MAX_ENCODED);
		return;
	}
	pn_message_t *m = pn_message();
	json_t *msg = NULL;
	if (m && amqevent_decode(m, p->rx, size) == 0)
		msg = amqevent_message(m, p->queue, amqevent_redelivered(m, p->rx, size, p->released_only), loop_wall_ms());
	pn_message_free(m);
	p->rx_len = 0;
	if (!msg) {
		fprintf(stderr, "lambdad: ActiveMQ consumer of %s: a message could not be decoded; rejected\n", p->arn);
		settle_one(p, d, DROP);
		return;
	}
	if (p->filters) {
		json_t *view = amqevent_filter_view(msg);
		int keep = view && pattern_filters_match(p->filters, view);
		json_decref(view);
		if (!keep) {
			p->stats.filtered++;
			json_decref(msg);
			settle_one(p, d, ACCEPT);
			return;
		}
	}
	size_t bytes = json_dumpb(msg, NULL, 0, JSON_COMPACT) + 1;
	if (bytes > POLLER_BATCH_BYTES || p->nheld == (size_t)p->batch_size) {
		json_decref(msg);
		if (bytes > POLLER_BATCH_BYTES) {
			drop_too_big(p, d, size);
		} else { /* more than the credit given: the broker broke its word */
			settle_one(p, d, GIVE_BACK);
		}
		return;
	}
	p->held[p->nheld++] = (struct held){ d, bytes, msg };
	if (p->nheld == 1)
		p->first_ms = loop_now_ms();
	p->held_bytes += bytes;
}

/* reads what arrived of delivery d; complete() when it is whole */
static void on_delivery(struct amq_poller *p, pn_delivery_t *d)
{
	pn_link_t *l = pn_delivery_link(d);
	if (l != p->link || !pn_delivery_readable(d))
		return;
	if (pn_delivery_aborted(d)) { /* the sender gave up on it */
		p->rx_len = 0;
		p->rx_too_big = 0;
		pn_delivery_settle(d);
		pn_link_advance(l);
		return;
	}
	for (;;) {
		if (p->rx_len + AMQ_CHUNK > p->rx_cap && !p->rx_too_big) {
			size_t cap = p->rx_cap ? p->rx_cap * 2 : AMQ_CHUNK * 2;
			char *n = cap <= AMQ_MAX_ENCODED + AMQ_CHUNK ? realloc(p->rx, cap) : NULL;
			if (!n) {
				p->rx_too_big = 1; /* read on, and drop it */
			} else {
				p->rx = n;
				p->rx_cap = cap;
			}
		}
		char scratch[4096];
		char *to = p->rx_too_big ? scratch : p->rx + p->rx_len;
		size_t room = p->rx_too_big ? sizeof(scratch) : p->rx_cap - p->rx_len;
		ssize_t n = pn_link_recv(l, to, room);
		if (n <= 0)
			break; /* PN_EOS: all of it; 0: the rest has not arrived */
		if (!p->rx_too_big)
			p->rx_len += (size_t)n;
	}
	if (pn_delivery_partial(d))
		return;
	pn_link_advance(l);
	complete(p, d);
}

/* the broker's product, from its open's properties */
static void remote_product(struct amq_poller *p)
{
	pn_data_t *props = pn_connection_remote_properties(p->drv.connection);
	pn_data_rewind(props);
	if (!pn_data_next(props) || pn_data_type(props) != PN_MAP)
		return;
	size_t n = pn_data_get_map(props);
	pn_data_enter(props);
	for (size_t i = 0; i + 1 < n && pn_data_next(props); i += 2) {
		pn_bytes_t k = pn_data_type(props) == PN_SYMBOL ? pn_data_get_symbol(props) : (pn_bytes_t){ 0, NULL };
		if (!pn_data_next(props))
			break;
		if (k.start && k.size == 7 && !memcmp(k.start, "product", 7) &&
		    (pn_data_type(props) == PN_STRING || pn_data_type(props) == PN_SYMBOL)) {
			pn_bytes_t v = pn_data_type(props) == PN_STRING ? pn_data_get_string(props)
									: pn_data_get_symbol(props);
			p->released_only = v.size == 8 && !strncasecmp(v.start, "RabbitMQ", 8);
		}
	}
	pn_data_exit(props);
}

static void handle(struct amq_poller *p, pn_event_t *e)
{
	switch (pn_event_type(e)) {
	case PN_CONNECTION_INIT: {
		char name[80];
		pn_connection_t *c = pn_event_connection(e);
		snprintf(name, sizeof(name), "lambdad event source mapping %s", p->uuid);
		pn_connection_set_container(c, name);
		pn_connection_set_hostname(c, p->host);
		pn_connection_open(c);
		pn_session_t *s = pn_session(c);
		pn_session_open(s);
		snprintf(name, sizeof(name), "lambdad-%s", p->uuid);
		p->link = pn_receiver(s, name);
		pn_terminus_set_address(pn_link_source(p->link), p->queue);
		pn_link_set_snd_settle_mode(p->link, PN_SND_UNSETTLED);
		pn_link_set_rcv_settle_mode(p->link, PN_RCV_FIRST);
		pn_link_open(p->link);
		break;
	}
	case PN_CONNECTION_REMOTE_OPEN: remote_product(p); break;
	case PN_LINK_REMOTE_OPEN:
		if (pn_event_link(e) != p->link || p->st != ST_OPENING)
			break;
		if (!pn_terminus_get_address(pn_link_remote_source(p->link)))
			break; /* refused: its detach follows */
		cancel(p, &p->timer);
		p->st = ST_OPEN;
		p->gen++;
		p->hooks.opened(p->hooks.ud); /* a connection or authentication error is over */
		fprintf(stderr, "lambdad: ActiveMQ consumer of %s: consuming queue %s\n", p->arn, p->queue);
		topup(p);
		break;
	case PN_DELIVERY: on_delivery(p, pn_event_delivery(e)); break;
	case PN_TRANSPORT_ERROR: breaks(p, "the connection failed", pn_transport_condition(pn_event_transport(e))); break;
	case PN_CONNECTION_REMOTE_CLOSE:
		breaks(p, "the broker closed the connection", pn_connection_remote_condition(pn_event_connection(e)));
		break;
	case PN_SESSION_REMOTE_CLOSE:
		breaks(p, "the broker closed the session", pn_session_remote_condition(pn_event_session(e)));
		break;
	case PN_LINK_REMOTE_CLOSE:
	case PN_LINK_REMOTE_DETACH:
		breaks(p, "the broker detached the consumer", pn_link_remote_condition(pn_event_link(e)));
		break;
	case PN_TRANSPORT_CLOSED: breaks(p, "the connection closed", NULL); break;
	default: break;
	}
}

static void on_tick(void *ud)
{
	struct amq_poller *p = ud;
	p->tick_timer = 0;
	pump(p);
}

/* handles the driver's events, writes what they produced, keeps the
 * transport's timer; a broken connection is torn down after */
static void pump(struct amq_poller *p)
{
	if (!p->driver_on || p->handling || p->st == ST_WAIT)
		return;
	p->handling = 1;
	pn_event_t *e;
	while ((e = pn_connection_driver_next_event(&p->drv)))
		handle(p, e);
	topup(p);
	flush(p);
	/* the credit or dispositions flush produced may have made events */
	while ((e = pn_connection_driver_next_event(&p->drv)))
		handle(p, e);
	p->handling = 0;
	if (!p->broken[0] && pn_connection_driver_finished(&p->drv))
		breaks(p, "the connection closed", pn_transport_condition(p->drv.transport));
	if (p->broken[0]) {
		lost(p, p->broken);
		return;
	}
	uint64_t now = loop_now_ms();
	int64_t next = pn_transport_tick(p->drv.transport, (int64_t)now);
	flush(p);
	cancel(p, &p->tick_timer);
	if (next > 0) {
		int64_t t = loop_timer(p->srv->loop, (uint64_t)next > now ? (uint64_t)next - now : 0, on_tick, p);
		p->tick_timer = t > 0 ? t : 0;
	}
	maybe_invoke(p);
}

/* ---- batches ---- */

static void on_batch_timer(void *ud)
{
	struct amq_poller *p = ud;
	p->batch_timer = 0;
	maybe_invoke(p);
}

static void failed(struct amq_poller *p)
{
	p->stats.failed++;
	result(p, RESULT_FAILED);
	p->not_before_ms = loop_now_ms() + AMQ_RETRY_MS;
}

/* settles the batch with the function, if its connection is still this one */
static void settle_batch(struct amq_poller *p, enum outcome o)
{
	if (p->inv_gen == p->gen && p->driver_on && p->st == ST_OPEN)
		for (size_t i = 0; i < p->ninv; i++)
			settle_one(p, p->inv[i], o);
	p->ninv = 0;
}

static void on_invoked(void *ud, struct exec_result *res)
{
	struct amq_poller *p = ud;
	p->invoking = 0;
	if (gone_if_stopped(p)) /* the connection closed with it: the broker has the batch back */
		return;
	int ok = res->ok && !res->function_error;
	if (ok)
		result(p, "OK");
	else
		failed(p);
	settle_batch(p, ok ? ACCEPT : GIVE_BACK);
	pump(p); /* writes the dispositions, gives credit, invokes what waits */
	maybe_invoke(p);
}

static void held_drop(struct amq_poller *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		p->held_bytes -= p->held[i].bytes;
		json_decref(p->held[i].msg);
	}
	memmove(p->held, p->held + n, (p->nheld - n) * sizeof(*p->held));
	p->nheld -= n;
	if (p->nheld)
		p->first_ms = loop_now_ms();
}

static void invoke(struct amq_poller *p)
{
	size_t n = 0, bytes = 0;
	while (n < p->nheld && n < (size_t)p->batch_size && (!n || bytes + p->held[n].bytes <= POLLER_BATCH_BYTES))
		bytes += p->held[n++].bytes;
	json_t *msgs = json_array();
	for (size_t i = 0; msgs && i < n; i++)
		json_array_append(msgs, p->held[i].msg);
	char *text = msgs ? amqevent_event(p->arn, msgs) : NULL;
	json_decref(msgs);
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
	if (rc == LD_ETHROTTLED) { /* the batch stays; it runs when there is room */
		p->stats.throttled++;
		p->not_before_ms = loop_now_ms() + AMQ_THROTTLE_MS;
		maybe_invoke(p);
		return;
	}
	for (size_t i = 0; i < n; i++)
		p->inv[i] = p->held[i].d;
	p->ninv = n;
	p->inv_gen = p->gen;
	held_drop(p, n);
	if (rc == 0) {
		p->invoking = 1;
		p->stats.invoked++;
		return;
	}
	/* the function is not there or not Active: the batch goes back */
	failed(p);
	settle_batch(p, GIVE_BACK);
	pump(p);
}

static void maybe_invoke(struct amq_poller *p)
{
	if (p->stopped || p->invoking || !p->nheld || p->st != ST_OPEN || p->handling)
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

static void on_open_timeout(void *ud)
{
	struct amq_poller *p = ud;
	p->timer = 0;
	lost(p, p->st == ST_CONNECTING ? "cannot connect: timed out" : "the broker did not open the consumer in time");
}

/* reads what the socket has into the transport */
static void read_socket(struct amq_poller *p)
{
	for (int i = 0; i < AMQ_READS_PER_WAKE && !pn_connection_driver_read_closed(&p->drv); i++) {
		pn_rwbytes_t in = pn_connection_driver_read_buffer(&p->drv);
		if (!in.size)
			break;
		ssize_t n = recv(p->fd, in.start, in.size, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			pn_connection_driver_read_close(&p->drv);
			break;
		}
		pn_connection_driver_read_done(&p->drv, (size_t)n);
	}
}

/* the AMQP connection on the connected socket: SASL PLAIN with the
 * secret's user and password, then open, begin, attach (handle()) */
static void start_amqp(struct amq_poller *p)
{
	if (pn_connection_driver_init(&p->drv, NULL, NULL)) {
		lost(p, "out of memory");
		return;
	}
	p->driver_on = 1;
	p->broken[0] = '\0';
	p->auth_failed = 0;
	p->released_only = 0;
	pn_sasl_t *sasl = pn_sasl(p->drv.transport);
	pn_sasl_allowed_mechs(sasl, "PLAIN");
	pn_sasl_set_allow_insecure_mechs(sasl, true); /* no TLS: see docs/pollers.md */
	pn_connection_set_user(p->drv.connection, p->user);
	pn_connection_set_password(p->drv.connection, p->pass);
	pn_transport_set_idle_timeout(p->drv.transport, AMQ_IDLE_TIMEOUT_MS);
	p->st = ST_OPENING;
	cancel(p, &p->timer);
	int64_t t = loop_timer(p->srv->loop, AMQ_OPEN_MS, on_open_timeout, p);
	p->timer = t > 0 ? t : 0;
	pump(p);
}

static void on_io(void *ud, uint32_t events)
{
	struct amq_poller *p = ud;
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
		start_amqp(p);
		return;
	}
	if (!p->driver_on || (p->st != ST_OPENING && p->st != ST_OPEN))
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_socket(p);
	pump(p);
}

/* a non-blocking connect to url (amqp://HOST:PORT; HOST an IP address or
 * localhost: a name would need a blocking lookup) */
static void connect_to(struct amq_poller *p, const char *url)
{
	char why[600];
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	memset(&ss, 0, sizeof(ss));
	const char *rest = !strncmp(url, "amqp://", 7) ? url + 7 : NULL;
	const char *colon = rest ? strrchr(rest, ':') : NULL;
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!rest || !colon || !end || (*end && *end != '/') || port <= 0 || port > 65535 ||
	    (size_t)(colon - rest) >= sizeof(p->host)) {
		snprintf(why, sizeof(why), "the broker's endpoint %.300s is not amqp://HOST:PORT (lambdad speaks AMQP "
			 "without TLS: map the broker with --mq-broker)", url);
		goto fail;
	}
	snprintf(p->host, sizeof(p->host), "%.*s", (int)(colon - rest), rest);
	char addr[256];
	snprintf(addr, sizeof(addr), "%s", p->host);
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') { /* [v6] */
		memmove(addr, addr + 1, strlen(addr));
		addr[strlen(addr) - 1] = '\0';
	}
	const char *host = !strcmp(addr, "localhost") ? "127.0.0.1" : addr;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		sl = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*v6);
	} else {
		snprintf(why, sizeof(why), "the broker's host %.200s is not an IP address (give --mq-broker one)", p->host);
		goto fail;
	}
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		goto fail;
	}
	int one = 1, idle = AMQ_KEEPALIVE_S, intvl = AMQ_KEEPALIVE_S / 3, cnt = 3;
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
	p->fd_events = EPOLLOUT;
	p->st = ST_CONNECTING;
	cancel(p, &p->timer);
	int64_t t = loop_timer(p->srv->loop, AMQ_CONNECT_MS, on_open_timeout, p);
	p->timer = t > 0 ? t : 0;
	return;
fail:
	lost(p, why);
}

/* ---- start and stop ---- */

struct amq_poller *amq_poller_start(server_t *srv, const char *scope, const char *uuid, json_t *doc,
				    const struct mq_hooks *hooks)
{
	const char *src = json_string_value(json_object_get(doc, "EventSourceArn"));
	const char *fn = json_string_value(json_object_get(doc, "FunctionArn"));
	const char *queue = json_string_value(json_array_get(json_object_get(doc, "Queues"), 0));
	struct arn fa;
	if (!src || !fn || !queue || !*queue || arn_parse(fn, &fa) || strncmp(fa.resource, "function:", 9) ||
	    strlen(queue) >= sizeof(((struct amq_poller *)0)->queue) ||
	    strlen(src) >= sizeof(((struct amq_poller *)0)->arn))
		return NULL;
	struct amq_poller *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->srv = srv;
	p->hooks = *hooks;
	p->fd = -1;
	snprintf(p->scope, sizeof(p->scope), "%s", scope);
	snprintf(p->uuid, sizeof(p->uuid), "%s", uuid);
	snprintf(p->arn, sizeof(p->arn), "%s", src);
	snprintf(p->queue, sizeof(p->queue), "%s", queue);
	poller_function(fa.resource + 9, p->fn_name, sizeof(p->fn_name), p->qualifier, sizeof(p->qualifier));
	int batch = poller_int(doc, "BatchSize", AMQ_DEFAULT_BATCH);
	p->batch_size = batch > 0 && batch <= AMQ_MAX_BATCH ? batch : AMQ_DEFAULT_BATCH;
	json_t *window = json_object_get(doc, "MaximumBatchingWindowInSeconds");
	json_int_t window_s = json_integer_value(window);
	p->window_ms = !json_is_integer(window) ? AMQ_DEFAULT_WINDOW_MS : window_s > 0 ? (uint64_t)window_s * 1000 : 0;
	p->filters = poller_filters(doc);
	if (!(p->held = calloc((size_t)p->batch_size, sizeof(*p->held))) ||
	    !(p->inv = calloc((size_t)p->batch_size, sizeof(*p->inv)))) {
		poller_free(p);
		return NULL;
	}
	return p;
}

void amq_poller_connect(struct amq_poller *p, const char *url, const char *user, const char *pass)
{
	if (p->stopped || p->st != ST_WAIT)
		return;
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->pass, sizeof(p->pass), "%s", pass);
	connect_to(p, url);
}

const struct poller_stats *amq_poller_stats(const struct amq_poller *p)
{
	return &p->stats;
}

void amq_poller_stop(struct amq_poller *p)
{
	if (!p)
		return;
	p->stopped = 1;
	cancel(p, &p->timer);
	cancel(p, &p->batch_timer);
	close_conn(p, p->st == ST_OPEN);
	gone_if_stopped(p);
}
