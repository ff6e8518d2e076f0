/*
 * fuzz_rapi.c - libFuzzer harness for the Runtime API server (exec/rapi.c),
 * driven for real: a loop, rapi_start() with this harness's hooks, one
 * environment's loopback listening socket, and client sockets that write the
 * input's bytes while the loop turns.
 *
 * An input is up to 4 connections' byte streams separated by a line "~~~"
 * ("\n~~~\n"), each written as is (HTTP/1.1 requests: pipelined, chunked,
 * with trailers, or garbage). "{{fill N}}" in a stream stands for N KiB of
 * 'x' (8 MiB at most per input), so that a small seed can carry an oversize
 * body or header. The connections are opened together, written as fast as
 * rapi reads, and the loop runs until nothing moves for a few iterations
 * (at most MAX_ITERS); a GET /next still waiting then is abandoned (500), the
 * clients close, and the loop runs until rapi has let go of them.
 *
 * The hooks play a small environment: the 1st, 4th, ... GET /next get event
 * "inv-1", "inv-4", ... at once (inside the handler), the 2nd, 5th, ... one
 * delivered from a deferred callback (suspend and resume), the 3rd, 6th, ...
 * are abandoned from a deferred callback; a /next while another waits or
 * while an invocation is unanswered is refused. A result for the invocation
 * in flight is accepted once; one for an earlier invocation is a state error,
 * any other id unknown. A streamed response may carry 256 KiB; past that
 * on_chunk says LD_ETOOBIG. The hooks check their arguments (environment id,
 * request id shape, body and length, NUL termination, no chunk after the
 * end). Every reply read back must be well-formed HTTP/1.x (status line,
 * headers, a body of the stated length); one with Content-Type
 * application/json must be a JSON object: {"status":"OK"} for 202, the event
 * for 200, {"errorMessage","errorType"} strings for 4xx/5xx. One quirk of
 * libmicrohttpd itself is let through: for some malformed requests (a
 * Content-Length that is not a number) 0.9.75 sends the header block of its
 * own 400 twice, the second time with the body (a plain libmicrohttpd daemon
 * does the same); an error header block without Content-Type repeated byte
 * for byte right after itself is skipped once. Any other violation aborts. FUZZ_RAPI_TRACE=1 prints each connection's replies (2: their raw bytes too). Run by
 * libFuzzer (make build/fuzz/fuzz_rapi) or replayed over
 * tests/fuzz/corpus/rapi by tests/fuzz/replay_main.c.
 */
#include "exec/rapi.h"
#include "loop.h"
#include "quotas.h"
#include "util/buf.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENV_ID 7
#define MAX_CONNS 4
#define SEP "\n~~~\n"
#define FILL_MAX (8u << 20)
#define MAX_ITERS 20000
#define IDLE_ITERS 4
#define REPLY_CAP (1u << 20)
#define STREAM_LIMIT (256u * 1024)
#define PAYLOAD_LIMIT QUOTA_SYNC_RESPONSE

static loop_t *L;
static rapi_t *R;
static int listen_fd = -1, port;
static int trace;

/* ---- the environment the hooks play ---- */
static struct {
	unsigned nexts;             /* GET /next seen (refused ones included) */
	struct rapi_next *waiting;  /* a /next held for a deferred answer */
	int waiting_abandon;        /* that answer is an abandon */
	unsigned waiting_k;         /* else the number of the event it gets */
	char inflight[32];          /* the invocation delivered and not answered, or "" */
	unsigned last_done;         /* the number of the last answered invocation */
	char streaming[128];        /* the request id of a stream being received, or "" */
	size_t streamed;
	unsigned long activity;     /* bumped by every hook and deferred answer */
} env;

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_rapi: %s\n", what);
	abort();
}

static void check_id(const char *id)
{
	if (!id || !*id || strlen(id) >= 128 || strchr(id, '/'))
		fail("a malformed request id reached a hook");
}

static void deliver(struct rapi_next *n, unsigned k)
{
	char id[32], payload[64];
	snprintf(id, sizeof(id), "inv-%u", k);
	int len = snprintf(payload, sizeof(payload), "{\"n\":%u,\"s\":\"\\u00e9\"}", k);
	buf_t b;
	buf_init(&b, 0);
	buf_append(&b, payload, (size_t)len);
	struct rapi_event ev = { id, 4102444800000LL, "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
				 k % 2 ? "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1" : NULL,
				 k % 4 == 1 ? "{\"custom\":{\"a\":\"b\"}}" : NULL, &b };
	snprintf(env.inflight, sizeof(env.inflight), "%s", id);
	rapi_deliver(n, &ev);
	buf_free(&b); /* taken: nothing is left */
}

static void deferred_answer(void *ud)
{
	struct rapi_next *n = env.waiting;
	if (!n)
		return;
	env.waiting = NULL;
	env.activity++;
	if (env.waiting_abandon)
		rapi_abandon(n);
	else
		deliver(n, env.waiting_k);
}

static int h_next(void *ud, uint64_t env_id, struct rapi_next *n)
{
	if (env_id != ENV_ID || !n)
		fail("on_next: wrong environment");
	env.activity++;
	env.nexts++;
	if (env.waiting || env.inflight[0])
		return LD_EINVAL;
	switch (env.nexts % 3) {
	case 1:
		deliver(n, env.nexts);
		break;
	default:
		env.waiting = n;
		env.waiting_abandon = env.nexts % 3 == 0;
		env.waiting_k = env.nexts;
		if (loop_defer(L, deferred_answer, NULL) < 0)
			fail("loop_defer");
	}
	return 0;
}

/* what an answer to request id means now: 0 accepted (and the invocation
 * ends), LD_EINVAL an earlier one, LD_ENOTFOUND unknown */
static int answer(const char *id)
{
	unsigned k = 0;
	char extra;
	if (env.inflight[0] && !strcmp(id, env.inflight)) {
		sscanf(id, "inv-%u", &env.last_done);
		env.inflight[0] = '\0';
		return 0;
	}
	if (sscanf(id, "inv-%u%c", &k, &extra) == 1 && k >= 1 && k <= env.last_done)
		return LD_EINVAL;
	return LD_ENOTFOUND;
}

static int h_result(void *ud, uint64_t env_id, const char *request_id, int is_error, const char *error_type, buf_t *b,
		    const char *content_type)
{
	const char *body = b ? (b->data ? b->data : "") : NULL;
	size_t len = b ? b->len : 0;
	if (env_id != ENV_ID)
		fail("on_result: wrong environment");
	check_id(request_id);
	env.activity++;
	if (is_error == 2) {
		if (body || len)
			fail("on_result: an oversized response came with a body");
		answer(request_id);
		return 0;
	}
	if ((is_error != 0 && is_error != 1) || !body || len > PAYLOAD_LIMIT || body[len] != '\0')
		fail("on_result: bad arguments");
	return answer(request_id);
}

static int h_chunk(void *ud, uint64_t env_id, const char *request_id, const char *data, size_t len, const char *content_type)
{
	if (env_id != ENV_ID)
		fail("on_chunk: wrong environment");
	check_id(request_id);
	if (!data || !len)
		fail("on_chunk: empty chunk");
	env.activity++;
	if (!env.inflight[0] || strcmp(request_id, env.inflight))
		return answer(request_id) == LD_EINVAL ? LD_EINVAL : LD_ENOTFOUND;
	if (!env.streaming[0])
		snprintf(env.streaming, sizeof(env.streaming), "%s", request_id);
	else if (strcmp(env.streaming, request_id))
		fail("on_chunk: a second stream for one invocation");
	env.streamed += len;
	return env.streamed > STREAM_LIMIT ? LD_ETOOBIG : 0;
}

static int h_stream_end(void *ud, uint64_t env_id, const char *request_id, const char *content_type, int oversized,
			const char *error_type, const char *error_body)
{
	if (env_id != ENV_ID)
		fail("on_stream_end: wrong environment");
	check_id(request_id);
	env.activity++;
	if (oversized && env.streamed <= STREAM_LIMIT)
		fail("on_stream_end: oversized without passing the limit");
	env.streaming[0] = '\0';
	env.streamed = 0;
	return answer(request_id);
}

static void h_init_error(void *ud, uint64_t env_id, const char *error_type, const char *body, size_t len)
{
	if (env_id != ENV_ID || !body || len > PAYLOAD_LIMIT || body[len] != '\0')
		fail("on_init_error: bad arguments");
	env.activity++;
}

static const struct rapi_hooks hooks = { h_next, h_result, h_chunk, h_stream_end, h_init_error };

/* ---- checking what comes back ---- */

static const char *find_header(const char *h, const char *end, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = h; p < end;) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			break;
		if ((size_t)(eol - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			return p;
		}
		p = eol + 2;
	}
	return NULL;
}

static void check_json(unsigned status, const char *body, size_t len)
{
	json_error_t err;
	json_t *doc = json_loadb(body, len, 0, &err);
	if (!doc || !json_is_object(doc)) {
		fprintf(stderr, "fuzz_rapi: %u body is not a JSON object (%s): %.*s\n", status, err.text, (int)len, body);
		abort();
	}
	if (status == 202 && (!json_is_string(json_object_get(doc, "status")) ||
				  strcmp(json_string_value(json_object_get(doc, "status")), "OK")))
		fail("202 without {\"status\":\"OK\"}");
	if (status == 200 && !json_is_integer(json_object_get(doc, "n")))
		fail("200 that is not the event");
	if (status >= 400 &&
	    (!json_is_string(json_object_get(doc, "errorMessage")) || !json_is_string(json_object_get(doc, "errorType"))))
		fail("an error without errorMessage and errorType");
	if (status != 200 && (len == 0 || body[len - 1] != '\n'))
		fail("a JSON reply not ending in a newline");
	json_decref(doc);
}

/* the replies of one connection, in order; head: the connection's input had
 * HEAD requests (their replies carry headers only) */
static void check_replies(const char *p, size_t len, int head)
{
	const char *end = p + len;
	while (p < end) {
		const char *hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		unsigned status = 0;
		char sp = 0;
		if (!hend)
			fail("a reply cut inside its headers");
		if ((strncmp(p, "HTTP/1.1 ", 9) && strncmp(p, "HTTP/1.0 ", 9)) || sscanf(p + 9, "%3u%c", &status, &sp) != 2 ||
		    sp != ' ' || status < 100 || status > 599)
			fail("a malformed status line");
		const char *hdrs = (const char *)memmem(p, (size_t)(hend + 2 - p), "\r\n", 2) + 2;
		for (const char *h = hdrs; h < hend + 2;) { /* every header line has a name */
			const char *eol = memmem(h, (size_t)(hend + 2 - h), "\r\n", 2);
			if (!memchr(h, ':', (size_t)(eol - h)))
				fail("a header line without a colon");
			h = eol + 2;
		}
		const char *body = hend + 4;
		size_t hlen = (size_t)(body - p);
		if (status >= 400 && (size_t)(end - body) >= hlen && !memcmp(body, p, hlen) &&
		    !find_header(hdrs, hend + 2, "Content-Type")) {
			p = body; /* libmicrohttpd's own error header block, sent twice: see above */
			continue;
		}
		const char *cl = find_header(hdrs, hend + 2, "Content-Length");
		const char *ct = find_header(hdrs, hend + 2, "Content-Type");
		size_t blen = 0;
		if (status < 200 || status == 204 || status == 304) {
			blen = 0;
		} else if (cl) {
			char *e;
			blen = strtoul(cl, &e, 10);
			if (e == cl || (*e != '\r' && *e != ' '))
				fail("a malformed Content-Length");
			if (head && blen &&
			    (body == end || ((size_t)(end - body) >= 7 && !strncmp(body, "HTTP/1.", 7))))
				blen = 0; /* the reply to a HEAD */
		} else if (find_header(hdrs, hend + 2, "Transfer-Encoding")) {
			fail("a chunked reply (rapi sends none)");
		} else {
			blen = (size_t)(end - body); /* until the close */
		}
		if ((size_t)(end - body) < blen)
			fail("a reply cut inside its body");
		if (trace)
			fprintf(stderr, "  <- %u %.*s\n", status, (int)(blen > 200 ? 200 : blen), body);
		int json = ct && !strncasecmp(ct, "application/json", 16);
		if (json && (blen || !head))
			check_json(status, body, blen);
		else if (!json && status >= 400 && status != 400 && status != 413 && status != 414 && status != 431 &&
			 status != 500 && status != 501 && status != 505)
			fail("an error reply without AWS's JSON that libmicrohttpd does not send");
		p = body + blen;
	}
}

/* ---- driving ---- */

struct conn {
	int fd;
	buf_t in;      /* what to write */
	size_t off;
	int wdone;     /* all written, or the server stopped reading */
	int eof;       /* the server closed */
	buf_t out;     /* what came back */
	int head;
	struct sockaddr_in self; /* the client end's address */
	int server_fd;           /* rapi's end of the connection (in this process), -1 unknown */
};

static int same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
}

/* whether rapi's end of connection c has bytes it has not read yet: rapi
 * reads a large body in many small steps with no hook call and no reply in
 * between, so "nothing moved" alone does not mean done. rapi's end is a
 * descriptor of this very process: found by its addresses. */
static int server_unread(struct conn *c)
{
	struct sockaddr_in a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);
	if (!c->self.sin_port) {
		la = sizeof(c->self);
		if (getsockname(c->fd, (struct sockaddr *)&c->self, &la) < 0)
			return 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		int fd = c->server_fd;
		la = sizeof(a), lb = sizeof(b);
		if (fd >= 0 && getpeername(fd, (struct sockaddr *)&a, &la) == 0 && a.sin_family == AF_INET &&
		    same_addr(&a, &c->self) && getsockname(fd, (struct sockaddr *)&b, &lb) == 0 &&
		    ntohs(b.sin_port) == port) {
			int unread = 0;
			return ioctl(fd, FIONREAD, &unread) == 0 && unread > 0;
		}
		c->server_fd = -1;
		if (pass)
			break;
		for (fd = 3; fd < 1024; fd++) { /* not (or no longer) known: look for it */
			la = sizeof(a);
			if (fd != c->fd && getpeername(fd, (struct sockaddr *)&a, &la) == 0 && a.sin_family == AF_INET &&
			    same_addr(&a, &c->self)) {
				c->server_fd = fd;
				break;
			}
		}
		if (c->server_fd < 0)
			return 0; /* not accepted yet (a later iteration sees it) or gone */
	}
	return 0;
}

static void teardown(void)
{
	if (R) {
		rapi_close_env(R, listen_fd);
		rapi_stop(R);
	}
	if (L)
		loop_free(L);
	R = NULL;
	L = NULL;
}

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	trace = getenv("FUZZ_RAPI_TRACE") ? atoi(getenv("FUZZ_RAPI_TRACE")) : 0;
	if (loop_new(&L) || rapi_start(L, &hooks, NULL, &R) || (listen_fd = rapi_open_env(R, ENV_ID, (uid_t)-1, &port)) < 0)
		fail("setup failed");
	atexit(teardown);
}

/* copies src[0..len) into b with "{{fill N}}" expanded; *budget: fill left */
static void expand(buf_t *b, const char *src, size_t len, size_t *budget)
{
	static char x[1024];
	if (!x[0])
		memset(x, 'x', sizeof(x));
	const char *end = src + len;
	while (src < end) {
		const char *f = memmem(src, (size_t)(end - src), "{{fill ", 7);
		if (!f) {
			buf_append(b, src, (size_t)(end - src));
			break;
		}
		buf_append(b, src, (size_t)(f - src));
		char *e = NULL;
		unsigned long kib = 0;
		const char *num = f + 7;
		if (num < end && *num >= '0' && *num <= '9')
			kib = strtoul(num, &e, 10); /* stops at the first non-digit, within the NUL-terminated copy */
		if (!e || e + 2 > end || strncmp(e, "}}", 2)) {
			buf_append(b, f, 7);
			src = f + 7;
			continue;
		}
		for (unsigned long i = 0; i < kib && *budget >= sizeof(x); i++, *budget -= sizeof(x))
			buf_append(b, x, sizeof(x));
		src = e + 2;
	}
}

/* one pass over the connections: write what they can take, read what came
 * back; returns whether any byte moved */
static int pump(struct conn *c, int n)
{
	int moved = 0;
	for (int i = 0; i < n; i++) {
		while (!c[i].wdone && c[i].off < c[i].in.len) {
			size_t want = c[i].in.len - c[i].off;
			ssize_t w = send(c[i].fd, c[i].in.data + c[i].off, want > 65536 ? 65536 : want,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				c[i].off += (size_t)w;
				moved = 1;
				continue;
			}
			if (w < 0 && (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN))
				break;
			c[i].wdone = 1; /* reset or closed: the rest is not for the server */
		}
		if (c[i].off == c[i].in.len)
			c[i].wdone = 1;
		while (!c[i].eof) {
			char tmp[65536];
			ssize_t r = recv(c[i].fd, tmp, sizeof(tmp), MSG_DONTWAIT);
			if (r > 0) {
				moved = 1;
				if (buf_append(&c[i].out, tmp, (size_t)r))
					fail("more than 1 MiB of replies on one connection");
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				c[i].eof = 1;
			break;
		}
	}
	return moved;
}

/* turns the loop until nothing moves for IDLE_ITERS iterations */
static void settle(struct conn *c, int n)
{
	int idle = 0;
	for (int it = 0; it < MAX_ITERS && idle < IDLE_ITERS; it++) {
		unsigned long before = env.activity;
		int moved = pump(c, n);
		loop_run_once(L, 0);
		moved |= pump(c, n);
		if (moved || env.activity != before || env.waiting) {
			idle = 0;
			continue;
		}
		int unread = 0;
		for (int i = 0; i < n && !unread; i++)
			unread = !c[i].eof && server_unread(&c[i]);
		idle = unread ? 0 : idle + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!L)
		setup();
	memset(&env, 0, sizeof(env));
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';

	struct conn c[MAX_CONNS];
	int n = 0;
	size_t budget = FILL_MAX;
	for (char *p = copy, *end = copy + size; n < MAX_CONNS && p <= end;) {
		char *sep = memmem(p, (size_t)(end - p), SEP, strlen(SEP));
		char *stop = sep ? sep : end;
		memset(&c[n], 0, sizeof(c[n]));
		c[n].server_fd = -1;
		buf_init(&c[n].in, 0);
		buf_init(&c[n].out, REPLY_CAP);
		expand(&c[n].in, p, (size_t)(stop - p), &budget);
		c[n].head = memmem(p, (size_t)(stop - p), "HEAD", 4) != NULL;
		c[n].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		if (c[n].fd < 0 ||
		    (connect(c[n].fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS))
			fail("connect");
		n++;
		if (!sep)
			break;
		p = sep + strlen(SEP);
	}
	free(copy);

	settle(c, n);
	/* a /next still held: the environment goes away */
	for (int i = 0; i < 4 && env.waiting; i++) {
		struct rapi_next *w = env.waiting;
		env.waiting = NULL;
		rapi_abandon(w);
		settle(c, n);
	}
	if (env.waiting)
		fail("a GET /next still waits after the end");
	for (int i = 0; i < n; i++) {
		if (trace)
			fprintf(stderr, "connection %d: %zu of %zu bytes written, %zu read\n", i, c[i].off, c[i].in.len,
				c[i].out.len);
		if (trace > 1)
			fprintf(stderr, "%.*s\n", (int)c[i].out.len, c[i].out.data ? c[i].out.data : "");
		check_replies(c[i].out.data ? c[i].out.data : "", c[i].out.len, c[i].head);
		close(c[i].fd);
		c[i].fd = -1;
	}
	/* rapi sees the closes and frees the connections */
	settle(c, 0);
	for (int i = 0; i < 8; i++)
		loop_run_once(L, 0);
	for (int i = 0; i < n; i++) {
		buf_free(&c[i].in);
		buf_free(&c[i].out);
	}
	return 0;
}
