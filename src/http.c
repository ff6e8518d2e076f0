/*
 * http.c - libmicrohttpd in external-epoll mode on the daemon's loop.
 *
 * MHD's epoll descriptor is watched by loop.c; when it is readable, or when
 * MHD's own timeout is due (the loop's prepare hook asks MHD_get_timeout),
 * MHD_run() processes every ready connection and calls on_request(). A
 * request's first call routes it (to learn the body limit, refusing a
 * declared Content-Length above it at once), the middle calls append body
 * data to a capped buffer, and the last call dispatches and queues the
 * response. Per-request state is freed in MHD's completion callback.
 *
 * Streaming responses (req_stream_*: function URLs in RESPONSE_STREAM mode,
 * InvokeWithResponseStream): the pending connection is resumed with a
 * response of unknown length (MHD_create_response_from_callback with
 * MHD_SIZE_UNKNOWN, sent chunked); its reader copies out what the handler
 * wrote, and when nothing is waiting it suspends the connection (returning
 * 0 without suspending would make libmicrohttpd spin) until the next write
 * or the end resumes it, with the same deferred MHD_run kick.
 *
 * Connection slots (issue 19): libmicrohttpd's idle timeout restarts on
 * every byte, so a client trickling bytes would hold its slot for ever. The
 * front tracks each connection itself (notify-connection callback) in one
 * of four phases, and a sweep timer closes (shutdown(2), which libmicrohttpd
 * then sees as the client's end) a connection that waits for a request line
 * longer than the idle timeout, that has not completed its header block
 * --header-timeout seconds after its request line, or whose body arrives
 * slower than --min-body-rate bytes/s over a window. A connection whose
 * request is being handled or answered is never cut. libmicrohttpd itself
 * caps connections in total (--max-connections) and per client address
 * (--max-connections-per-address).
 *
 * Bodies before authentication (issue 19): once a request's headers are
 * in, and before a byte of its body is read, router_precheck() runs what
 * the gate can check without the body (under --auth enforce: the
 * authentication present and well formed, scope, time, known key); a
 * request that fails is answered at once with the gate's error and its
 * body is never read (libmicrohttpd closes the connection after the
 * answer). A body is then collected in a spool (util/spool.h): in memory
 * up to QUOTA_BODY_SPILL bytes while all the bodies held in memory stay
 * within --max-body-memory (one budget per front), else in an unlinked
 * file of the data directory, hashed as it comes so that the signature is
 * checked without reading it again; the handler sees it mapped read-only.
 */
#include "http.h"
#include "loop.h"
#include "model/apierr.h"
#include "quotas.h"
#include "router.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/spool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Per-connection memory of libmicrohttpd: it bounds the request line and
 * header block (its buffer and the parsed headers share it: one header of
 * about 32,000 bytes after a short request line), so a 13 KB User-Agent
 * passes. libmicrohttpd 0.9.75 zeroes the whole pool on every request
 * (MHD_pool_reset), so a larger pool costs time on each one: GetFunction
 * over keep-alive, CPU per request against 12 KB, three interleaved runs on
 * a loaded 2-core machine: 32 KB +0.5, +1.0 and -0.1 us, 64 KB +1.6, +2.3
 * and -0.9 us (of 24-31 us). Limit in README.md's Limits. */
#define HTTP_CONN_MEMORY (32 * 1024)

/* libmicrohttpd's idle timeout, and the longest a connection may wait for
 * its next request line even when bytes trickle in */
#define HTTP_IDLE_S 30
#define HTTP_SWEEP_MS 500
/* descriptors kept for everything but client connections (store, logs,
 * sandboxes' pipes, outbound clients) when RLIMIT_NOFILE is sized */
#define HTTP_FD_RESERVE 1024

enum conn_phase {
	CONN_WAIT,    /* waiting for a request line (connected, or between requests) */
	CONN_HEADERS, /* request line in, header block not complete */
	CONN_BODY,    /* headers in, reading the body */
	CONN_BUSY,    /* being handled or answered: never cut */
};

struct conn {
	struct conn *prev, *next;
	struct MHD_Connection *c;
	int fd;
	int phase;
	int cut;            /* shut down by the sweep */
	uint64_t since;     /* the phase's start (monotonic ms) */
	uint64_t win_start; /* CONN_BODY: the rate window's start */
	uint64_t win_bytes; /* and the body bytes since */
};

struct http {
	server_t *srv;
	struct MHD_Daemon *d;
	int epfd;
	int metrics_only; /* the --metrics-listen front: GET /metrics only */
	uint64_t due; /* when MHD's own timeout expires (monotonic ms), 0: none */
	struct conn conns; /* list head of the open connections */
	int64_t sweep;     /* the sweep timer */
	unsigned header_ms, body_rate;
	unsigned nconns, maxconn; /* tracked connections, --max-connections */
	int stopping;             /* http_stop: no more deferred runs */
	spool_budget_t bodies;    /* request bodies held in memory (--max-body-memory) */
};

struct hreq {
	req_t r;
	struct http *http;
	struct MHD_Connection *c;
	struct conn *conn; /* the connection's slot tracking, or NULL */
	const struct route *rt;
	spool_t body;
	int spooling;  /* body is initialised */
	int body_err;  /* the spool failed (LD_EIO, LD_ENOMEM; LD_ETHROTTLED: out of
			* descriptors): the rest is discarded, answered at the end */
	size_t limit;
	int too_big;
	int rejected;  /* the 413 is queued */
	int started;   /* on_request has seen this request */
	char *raw_uri; /* from the URI log callback */
	int pending;   /* waiting for req_finish() */
	int answered;  /* req_finish() done: queue the response */
	/* streaming */
	int streaming;       /* req_stream_start() called */
	int stream_ended;    /* req_stream_end() called */
	int reader_waiting;  /* the reader suspended the connection for data */
	buf_t sbuf;          /* written, not yet sent: sbuf.data + soff .. len */
	size_t soff;
};

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void conn_phase(struct conn *k, int phase)
{
	if (!k)
		return;
	k->phase = phase;
	k->since = k->win_start = loop_now_ms();
	k->win_bytes = 0;
}

static const char *hdr_lookup(req_t *r, const char *name)
{
	struct hreq *h = (struct hreq *)r;
	return MHD_lookup_connection_value(h->c, MHD_HEADER_KIND, name);
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	json_t *q = cls;
	json_t *arr = json_object_get(q, key);
	if (!arr) {
		arr = json_array();
		if (!arr || json_object_set_new(q, key, arr))
			return MHD_YES;
	}
	if (json_array_size(arr) < 256) /* bounded: a query cannot grow memory without limit */
		json_array_append_new(arr, json_string(value ? value : ""));
	return MHD_YES;
}

/* queues resp for h's request with its status, Content-Type and headers */
static void queue(struct hreq *h, struct MHD_Response *resp)
{
	req_t *r = &h->r;
	if (r->content_type)
		MHD_add_response_header(resp, "Content-Type", r->content_type);
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	MHD_queue_response(h->c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
}

static void send_response(struct hreq *h)
{
	req_t *r = &h->r;
	size_t len = 0;
	char *data = buf_steal(&r->raw, &len);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return;
	}
	queue(h, resp);
}

/* a pending request is answered: wake the connection; libmicrohttpd then
 * calls on_request again, which queues the response */
static void kick(void *ud)
{
	struct http *hp = ud;
	MHD_run(hp->d);
}

static void complete(req_t *r)
{
	struct hreq *h = (struct hreq *)r;
	h->answered = 1;
	MHD_resume_connection(h->c);
	/* libmicrohttpd only notices a resume in MHD_run: run it once this loop
	 * iteration's callbacks are done */
	loop_defer(r->srv->loop, kick, h->http);
}

/* ---- streaming responses ---- */

static void stream_wake(struct hreq *h)
{
	if (!h->reader_waiting)
		return;
	h->reader_waiting = 0;
	MHD_resume_connection(h->c);
	loop_defer(h->r.srv->loop, kick, h->http);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct hreq *h = cls;
	size_t have = h->sbuf.len - h->soff;
	if (have) {
		size_t n = have < max ? have : max;
		memcpy(out, h->sbuf.data + h->soff, n);
		h->soff += n;
		if (h->soff == h->sbuf.len) {
			buf_reset(&h->sbuf);
			h->soff = 0;
		} else if (h->soff >= 256 * 1024) {
			memmove(h->sbuf.data, h->sbuf.data + h->soff, h->sbuf.len - h->soff);
			h->sbuf.len -= h->soff;
			h->soff = 0;
		}
		return (ssize_t)n;
	}
	if (h->stream_ended)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* nothing to send yet: wait, suspended, for the next write */
	h->reader_waiting = 1;
	MHD_suspend_connection(h->c);
	return 0;
}

static int stream_begin(req_t *r)
{
	struct hreq *h = (struct hreq *)r;
	if (!h->pending || h->answered)
		return LD_EINVAL;
	buf_init(&h->sbuf, REQ_STREAM_BUFFER_CAP);
	h->streaming = 1;
	complete(r);
	return 0;
}

static int stream_write(req_t *r, const void *data, size_t len)
{
	struct hreq *h = (struct hreq *)r;
	if (!len)
		return 0;
	int rc = buf_append(&h->sbuf, data, len);
	if (rc)
		return rc;
	stream_wake(h);
	return 0;
}

static void stream_end(req_t *r)
{
	struct hreq *h = (struct hreq *)r;
	h->stream_ended = 1;
	stream_wake(h);
}

static void send_stream(struct hreq *h)
{
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_reader, h, NULL);
	if (!resp)
		return;
	queue(h, resp);
}

static void reject_too_big(struct hreq *h)
{
	req_t *r = &h->r;
	const char *op = r->op ? r->op->name : "";
	if (!strcmp(op, "Invoke"))
		op = "InvokeFunction"; /* AWS's name in this message */
	buf_init(&r->raw, 0);
	ids_uuid4(r->request_id);
	apierr_set(r, "RequestEntityTooLargeException", "Request must be smaller than %zu bytes for the %s operation",
		   h->limit, op);
	apierr_render(r, LD_EAPI);
	req_add_header(r, "x-amzn-RequestId", r->request_id);
	send_response(h);
	h->rejected = 1;
}

/* RFC 9112's framing rules, which a proxy in front of lambdad may read
 * differently from libmicrohttpd (request smuggling): several
 * Content-Length headers that disagree, a Transfer-Encoding beside a
 * Content-Length, and a transfer coding other than chunked are refused
 * before any byte of the body is read, and the connection is closed after
 * the answer. (libmicrohttpd itself refuses a Content-Length that is not a
 * number, and, strict, a header name followed by a space.) */
struct framing {
	int lengths, bad_length, encodings, chunked_only;
	const char *first_length;
};

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct framing *f = cls;
	value = value ? value : "";
	if (!strcasecmp(key, "Content-Length")) {
		if (!*value || value[strspn(value, "0123456789")] || (f->first_length && strcmp(f->first_length, value)))
			f->bad_length = 1;
		f->first_length = value;
		f->lengths++;
	} else if (!strcasecmp(key, "Transfer-Encoding")) {
		f->encodings++;
		f->chunked_only = f->encodings == 1 && !strcasecmp(value, "chunked");
	}
	return MHD_YES;
}

/* 0, or the error answer is queued and the request is over */
static int refuse_framing(struct hreq *h)
{
	struct framing f = { 0 };
	MHD_get_connection_values(h->c, MHD_HEADER_KIND, framing_header, &f);
	const char *type = "BadRequestException", *msg = NULL;
	if (f.bad_length)
		msg = "The request's Content-Length headers are invalid or disagree.";
	else if (f.encodings && f.lengths)
		msg = "A request may not carry both Transfer-Encoding and Content-Length.";
	else if (f.encodings && !f.chunked_only) {
		type = "NotImplementedException";
		msg = "The only transfer coding accepted is chunked.";
	}
	if (!msg)
		return 0;
	req_t *r = &h->r;
	buf_init(&r->raw, 0);
	ids_uuid4(r->request_id);
	apierr_set(r, type, "%s", msg);
	apierr_render(r, LD_EAPI);
	req_add_header(r, "x-amzn-RequestId", r->request_id);
	req_add_header(r, "Connection", "close");
	send_response(h);
	h->too_big = h->rejected = 1; /* whatever body follows is discarded */
	return 1;
}

struct header_walk {
	req_t *r;
	void (*fn)(void *ud, const char *name, const char *value);
	void *ud;
};

static enum MHD_Result walk_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_walk *w = cls;
	w->fn(w->ud, key, value ? value : "");
	return MHD_YES;
}

static void each_header(req_t *r, void (*fn)(void *ud, const char *name, const char *value), void *ud)
{
	struct hreq *h = (struct hreq *)r;
	struct header_walk w = { r, fn, ud };
	MHD_get_connection_values(h->c, MHD_HEADER_KIND, walk_header, &w);
}

/* libmicrohttpd calls this first, with the request target exactly as sent:
 * the per-request state starts here (function URLs need the raw path and
 * query) */
static void *uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct hreq *h = calloc(1, sizeof(*h));
	if (h && !(h->raw_uri = strndup(uri, 16 * 1024))) {
		free(h);
		h = NULL;
	}
	if (h) {
		h->conn = conn_of(c);
		conn_phase(h->conn, CONN_HEADERS);
	}
	return h;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http *hp = cls;
	struct hreq *h = *con_cls;
	if (!h)
		return MHD_NO; /* the URI log callback could not allocate */
	if (!h->started) {
		h->started = 1;
		h->c = c;
		h->http = hp;
		h->r.srv = hp->srv;
		h->r.method = method;
		h->r.path = url;
		h->r.header = hdr_lookup;
		h->r.each_header = each_header;
		h->r.raw_uri = h->raw_uri;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, h->r.client_ip,
				  sizeof(h->r.client_ip));
		h->r.conn = c;
		h->r.qargs = json_object();
		if (!h->r.qargs)
			return MHD_NO;
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, h->r.qargs);
		h->r.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
		h->rt = hp->metrics_only ? router_route_metrics(method, url)
					 : router_route(method, h->r.host, url, h->r.qargs);
		h->r.route = h->rt;
		h->r.op = h->rt ? h->rt->mop : NULL;
		conn_phase(h->conn, CONN_BODY);
		h->limit = router_body_limit(h->rt);
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
		spool_init(&h->body, &hp->bodies, hp->srv->data_dir, QUOTA_BODY_SPILL, h->limit, declared);
		h->spooling = 1;
		if (refuse_framing(h))
			return MHD_YES;
		if (declared > h->limit) {
			/* answer at once: the body is never read, MHD closes the connection */
			h->too_big = 1;
			reject_too_big(h);
		} else if ((declared || MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding")) &&
			   router_precheck(&h->r)) {
			/* not authenticated, as far as the headers tell: answered
			 * before the body, which is never read or kept */
			req_add_header(&h->r, "Connection", "close");
			send_response(h);
			h->too_big = h->rejected = 1;
		}
		return MHD_YES;
	}
	if (h->pending) {
		if (!h->answered)
			return MHD_YES; /* a spurious call while suspended */
		h->pending = 0;
		if (h->streaming)
			send_stream(h);
		else
			send_response(h);
		return MHD_YES;
	}
	if (*upload_size) {
		if (h->conn)
			h->conn->win_bytes += *upload_size;
		if (!h->too_big && !h->body_err) {
			int rc = spool_append(&h->body, upload, *upload_size);
			if (rc == LD_ETOOBIG) {
				h->too_big = 1;
			} else if (rc) {
				int e = errno;
				/* out of descriptors: a throttle the client retries */
				h->body_err = rc == LD_EIO && (e == EMFILE || e == ENFILE) ? LD_ETHROTTLED : rc;
				fprintf(stderr, "lambdad: http: cannot keep a request body in %s: %s (%s)\n",
					hp->srv->data_dir, ld_strerror(rc), rc == LD_EIO ? strerror(e) : "out of memory");
			}
			if (rc) /* nothing more is kept: the request is refused */
				spool_free(&h->body);
		}
		*upload_size = 0; /* consumed (or discarded when too big) */
		return MHD_YES;
	}
	if (h->too_big) {
		if (!h->rejected)
			reject_too_big(h);
		conn_phase(h->conn, CONN_BUSY);
		return MHD_YES;
	}
	conn_phase(h->conn, CONN_BUSY);
	int brc = h->body_err;
	if (!brc && (brc = spool_finish(&h->body, &h->r.body, &h->r.body_len, &h->r.body_sha256)) != 0)
		fprintf(stderr, "lambdad: http: cannot map a request body: %s (%s)\n", ld_strerror(brc), strerror(errno));
	if (brc) {
		buf_init(&h->r.raw, 0);
		ids_uuid4(h->r.request_id);
		if (brc == LD_ETHROTTLED) {
			brc = apierr_set(&h->r, "TooManyRequestsException", "Rate Exceeded.");
			h->r.err.reason = "CallerRateLimitExceeded";
		}
		apierr_render(&h->r, brc);
		req_add_header(&h->r, "x-amzn-RequestId", h->r.request_id);
		req_add_header(&h->r, "Connection", "close");
		send_response(h);
		return MHD_YES;
	}
	/* a handler may take the bytes on (req_take_body): the buffer of a
	 * body in memory, a copy of a mapped one */
	h->r.body_owner = spool_buffer(&h->body);
	h->r.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	h->r.complete = complete;
	h->r.stream_begin = stream_begin;
	h->r.stream_write = stream_write;
	h->r.stream_end = stream_end;
	if (router_dispatch(&h->r)) {
		h->pending = 1;
		MHD_suspend_connection(c); /* complete() resumes it */
		return MHD_YES;
	}
	send_response(h);
	return MHD_YES;
}

/* Percent-decoding of the path and query, as libmicrohttpd's default does,
 * except that "%00" stays as it is: a decoded NUL would silently cut the
 * string short (and, say, turn /functions/%00 into /functions). Left
 * encoded, it fails routing or validation like any other bad character. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	for (const char *p = s; *p; p++) {
		int hi, lo;
		if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0 && (hi | lo)) {
			*w++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct hreq *h = *con_cls;
	if (!h)
		return;
	conn_phase(h->conn, CONN_WAIT); /* the next request's wait starts */
	if (h->streaming && h->r.stream_gone) {
		/* the client went away mid-stream: the handler lets go of r */
		void (*gone)(void *) = h->r.stream_gone;
		h->r.stream_gone = NULL;
		gone(h->r.stream_ud);
	}
	buf_free(&h->sbuf);
	req_cleanup(&h->r);
	json_decref(h->r.qargs);
	if (h->spooling)
		spool_free(&h->body);
	free(h->raw_uri);
	free(h);
	*con_cls = NULL;
}

/* ---- connection slots ---- */

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http *hp = cls;
	struct conn *k = *socket_context;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k) {
			k->prev->next = k->next;
			k->next->prev = k->prev;
			free(k);
			*socket_context = NULL;
			/* at the limit, libmicrohttpd took its listening socket out of
			 * its epoll set and only puts it back in a later MHD_run:
			 * without one, waiting clients would never be accepted */
			if (hp->nconns-- >= hp->maxconn && !hp->stopping)
				loop_defer(hp->srv->loop, kick, hp);
		}
		return;
	}
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci || !(k = calloc(1, sizeof(*k))))
		return; /* untracked: libmicrohttpd's idle timeout still applies */
	k->fd = ci->connect_fd;
	k->c = c;
	hp->nconns++;
	conn_phase(k, CONN_WAIT);
	k->next = &hp->conns;
	k->prev = hp->conns.prev;
	k->prev->next = k;
	hp->conns.prev = k;
	*socket_context = k;
}

/* the connection is over: shutting the socket down makes libmicrohttpd
 * read the end of the stream and close it as it would any other */
static void conn_cut(struct conn *k)
{
	k->cut = 1;
	shutdown(k->fd, SHUT_RDWR);
}

static void sweep(void *ud)
{
	struct http *hp = ud;
	uint64_t now = loop_now_ms();
	unsigned slow_headers = 0, slow_bodies = 0;
	hp->sweep = -1;
	for (struct conn *k = hp->conns.next; k != &hp->conns; k = k->next) {
		if (k->cut || k->phase == CONN_BUSY)
			continue;
		/* suspended by us (waiting for something of ours, not the
		 * client's bytes): its clocks restart when it is resumed */
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(k->c, MHD_CONNECTION_INFO_CONNECTION_SUSPENDED);
		if (ci && ci->suspended == MHD_YES) {
			k->since = k->win_start = now;
			k->win_bytes = 0;
			continue;
		}
		if (k->phase == CONN_WAIT && now - k->since > HTTP_IDLE_S * 1000u) {
			conn_cut(k);
			slow_headers++;
		} else if (k->phase == CONN_HEADERS && hp->header_ms && now - k->since > hp->header_ms) {
			conn_cut(k);
			slow_headers++;
		} else if (k->phase == CONN_BODY && hp->body_rate && now - k->win_start >= HTTP_BODY_WINDOW_S * 1000u) {
			if (k->win_bytes < (uint64_t)hp->body_rate * HTTP_BODY_WINDOW_S) {
				conn_cut(k);
				slow_bodies++;
			} else {
				k->win_start = now;
				k->win_bytes = 0;
			}
		}
	}
	if (slow_headers || slow_bodies)
		fprintf(stderr, "lambdad: http: closed %u connections past the header deadline, %u below the minimum body rate\n",
			slow_headers, slow_bodies);
	hp->sweep = loop_timer(hp->srv->loop, HTTP_SWEEP_MS, sweep, hp);
	/* and a run of libmicrohttpd, which also accepts again after the
	 * connection limit was reached for another reason (EMFILE) */
	MHD_run(hp->d);
}

int http_raise_nofile(server_t *srv)
{
	int want = srv->max_connections > 0 ? srv->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
	rlim_t need = (rlim_t)want + HTTP_FD_RESERVE;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return LD_EIO;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rlim_t to = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
		if (to > rl.rlim_cur) {
			rl.rlim_cur = to;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		int fit = rl.rlim_cur > 2 * HTTP_FD_RESERVE ? (int)(rl.rlim_cur - HTTP_FD_RESERVE) : (int)(rl.rlim_cur / 2);
		fprintf(stderr,
			"lambdad: warning: the open-file limit is %llu (hard %llu), below the %llu that --max-connections %d "
			"needs: serving at most %d connections (raise `ulimit -Hn`)\n",
			(unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max, (unsigned long long)need, want, fit);
		srv->max_connections = fit;
		return 0;
	}
	srv->max_connections = want;
	return 0;
}

static void on_epoll(void *ud, uint32_t events)
{
	struct http *h = ud;
	MHD_run(h->d);
}

/* MHD needs MHD_run() again when its timeout says so, even without a new
 * event on its epoll descriptor: a timeout of 0 means it has buffered work
 * (edge-triggered sockets with data already read), later ones are idle
 * connection timeouts. prepare runs the immediate work and arms `due`;
 * check runs MHD once `due` has passed. */
static int64_t prepare(void *ud)
{
	struct http *h = ud;
	MHD_UNSIGNED_LONG_LONG t = 0;
	for (int i = 0; i < 16; i++) {
		if (MHD_get_timeout(h->d, &t) != MHD_YES) {
			h->due = 0;
			return -1;
		}
		if (t > 0)
			break;
		MHD_run(h->d);
	}
	h->due = loop_now_ms() + t;
	return (int64_t)t;
}

static void check(void *ud)
{
	struct http *h = ud;
	if (h->due && loop_now_ms() >= h->due) {
		h->due = 0;
		MHD_run(h->d);
	}
}

/* The listening socket is opened here rather than by libmicrohttpd so that a
 * failure can say why (MHD_start_daemon only returns NULL), and so that the
 * daemon can claim its port before it touches its data directory.
 * SO_REUSEADDR as libmicrohttpd would set it: a restart binds again at once,
 * while a port another process listens on still fails with EADDRINUSE. */
static int listen_on(const char *host, int *port, int *fd_out, int *os_err)
{
	int one = 1, fd;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)*port) };
	socklen_t len = sizeof(sa);
	*os_err = 0;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return LD_EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*os_err = errno;
		return LD_EIO;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		*os_err = errno;
		close(fd);
		return LD_EIO;
	}
	*port = ntohs(sa.sin_port);
	*fd_out = fd;
	return 0;
}

int http_listen(server_t *srv, int *fd_out, int *os_err)
{
	return listen_on(srv->listen_host, &srv->listen_port, fd_out, os_err);
}

int http_listen_addr(const char *host, int *port, int *fd_out, int *os_err)
{
	return listen_on(host, port, fd_out, os_err);
}

static int start(server_t *srv, int fd, int metrics_only, http_t **out)
{
	int rc;
	struct http *h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		return LD_ENOMEM;
	}
	h->srv = srv;
	h->metrics_only = metrics_only;
	h->conns.next = h->conns.prev = &h->conns;
	h->sweep = -1;
	h->bodies.limit = srv->max_body_memory ? (size_t)srv->max_body_memory : QUOTA_BODY_MEMORY;
	h->header_ms = srv->header_timeout_s < 0 ? 0 : (unsigned)(srv->header_timeout_s ? srv->header_timeout_s : HTTP_DEFAULT_HEADER_TIMEOUT_S) * 1000u;
	h->body_rate = srv->min_body_rate < 0 ? 0 : (unsigned)(srv->min_body_rate ? srv->min_body_rate : HTTP_DEFAULT_MIN_BODY_RATE);
	unsigned maxconn = h->maxconn = srv->max_connections > 0 ? (unsigned)srv->max_connections : HTTP_DEFAULT_MAX_CONNECTIONS;
	unsigned perip = srv->max_connections_per_address < 0 ? 0 : srv->max_connections_per_address ? (unsigned)srv->max_connections_per_address : HTTP_DEFAULT_MAX_PER_ADDRESS;
	/* from here the socket is libmicrohttpd's: MHD_stop_daemon closes it */
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_SUSPEND_RESUME,
				(uint16_t)srv->listen_port, NULL, NULL, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_S,
				MHD_OPTION_CONNECTION_LIMIT, maxconn,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, perip,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_STRICT_FOR_CLIENT, (int)1, /* no space before a header's colon */
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
				MHD_OPTION_URI_LOG_CALLBACK, uri_log, h,
				MHD_OPTION_END);
	if (!h->d) {
		/* some of libmicrohttpd's failure paths close the socket and
		 * others do not: leave it (the daemon is about to exit) rather
		 * than risk closing a descriptor that is no longer ours */
		rc = LD_EIO;
		goto fail;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		rc = LD_EIO;
		goto fail;
	}
	h->epfd = di->epoll_fd;
	if ((rc = loop_add_fd(srv->loop, h->epfd, EPOLLIN, on_epoll, h)) != 0)
		goto fail;
	loop_add_hooks(srv->loop, prepare, check, h);
	h->sweep = loop_timer(srv->loop, HTTP_SWEEP_MS, sweep, h);
	*out = h;
	return 0;
fail:
	if (h->d)
		MHD_stop_daemon(h->d);
	free(h);
	return rc;
}

int http_start(server_t *srv, int fd, http_t **out)
{
	return start(srv, fd, 0, out);
}

int http_start_metrics(server_t *srv, int fd, http_t **out)
{
	return start(srv, fd, 1, out);
}

int http_adopt(server_t *srv, int fd)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	http_t *h = srv->http;
	if (!h || h->stopping || getpeername(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return LD_EIO;
	}
	/* libmicrohttpd closes the socket when it cannot take it */
	if (MHD_add_connection(h->d, fd, (struct sockaddr *)&sa, len) != MHD_YES)
		return LD_EIO;
	/* it is on libmicrohttpd's ready list only: serve it this iteration */
	loop_defer(srv->loop, kick, h);
	return 0;
}

void http_stop(http_t *h)
{
	if (!h)
		return;
	loop_del_fd(h->srv->loop, h->epfd);
	loop_del_hooks(h->srv->loop, h);
	if (h->sweep >= 0)
		loop_cancel(h->srv->loop, h->sweep);
	h->stopping = 1;
	/* requests answered during shutdown were resumed: let libmicrohttpd
	 * send them (it refuses to stop with suspended connections) */
	for (int i = 0; i < 4; i++)
		MHD_run(h->d);
	MHD_stop_daemon(h->d);
	free(h);
}
