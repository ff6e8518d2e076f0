/*
 * postload: a bounded HTTP/1.1 POST load client for the lambdad benchmark
 * (CreateFunction, AddPermission, PublishLayerVersion and Invoke rows).
 *
 * Opens C keep-alive connections to 127.0.0.1:PORT from one thread (epoll) and
 * sends TOTAL CreateFunction requests (POST /2015-03-31/functions, JSON body with
 * a base64 zip), each with a unique FunctionName PREFIX-<n>. It stops issuing new
 * requests after TOTAL requests or LIMIT seconds, whichever comes first, and
 * abandons anything still in flight at LIMIT + 2 s. When the server answers
 * "Connection: close" (moto's werkzeug does) it reconnects for the next request.
 *
 * ZIP_B64_FILE holds the base64 of a zip whose last 12 bytes are its archive
 * comment (no CRC covers it) and whose length is a multiple of 3, so the last
 * 16 base64 chars encode exactly the comment: postload rewrites them per
 * request with "%06lu%06ld" (a hash of PREFIX, the request number), giving
 * every created function distinct code at no cost.
 *
 * Latency is measured like wrk: from the first byte written to the last byte of
 * the response read (connect time is not included). Prints one JSON line:
 *   {"ok":N,"errors":N,"status_errors":N,"elapsed_s":F,"rps":F,"p50_ms":F,"p99_ms":F,...}
 * rps counts only 2xx responses.
 *
 * MODE (default create) picks the request:
 *   create          POST /2015-03-31/functions, FunctionName PREFIX-<n>, FILE = zip base64
 *   perm:N:TAG      AddPermission: POST /2015-03-31/functions/PREFIX-<n % N, 4 digits>/policy,
 *                   StatementId TAG-<n> (unique per request; FILE unused). Spread over N
 *                   functions because AWS caps one function's policy at 20 KB.
 *   layer           PublishLayerVersion: POST /2018-10-31/layers/PREFIX/versions, FILE = zip
 *                   base64, a distinct zip per request (same comment trick)
 *   invoke          POST /2015-03-31/functions/PREFIX/invocations with FILE's content as the event
 *   event           the same with X-Amz-Invocation-Type: Event (asynchronous: 202 once queued)
 *   invokeasync     InvokeAsync: POST /2014-11-13/functions/PREFIX/invoke-async/ with FILE's content
 *
 * usage: postload PORT CONNS TOTAL LIMIT_S PREFIX FILE [AUTH_HEADER_VALUE] [MODE]
 * Only loopback is ever targeted: the address is hard-wired to 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ST_IDLE, ST_CONNECTING, ST_WRITING, ST_READING };

struct conn {
	int fd;
	int state;
	char *out;
	size_t out_len, out_off, out_cap;
	char *in;
	size_t in_len, in_cap;
	double t0;
	int req_sent; /* a request is in flight on this connection */
};

static int port;
static unsigned long prefix_hash;
static char *b64;
static const char *prefix;
static const char *auth;
static long total, issued, done_ok, errors, status_errors, reconnects;
static double *lat;
static size_t nlat;
static int ep;
enum { M_CREATE, M_PERM, M_LAYER, M_INVOKE, M_EVENT, M_INVOKEASYNC };
static int mode = M_CREATE;
static long perm_funcs = 1;
static const char *perm_tag = "s";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *m)
{
	perror(m);
	exit(2);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die(path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc(n + 1);
	if (!s || fread(s, 1, n, f) != (size_t)n)
		die("read");
	fclose(f);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	s[n] = 0;
	return s;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = ST_IDLE;
	c->in_len = 0;
	c->req_sent = 0;
}

static void conn_open(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket");
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(c->fd, (struct sockaddr *)&a, sizeof a);
	if (r < 0 && errno != EINPROGRESS)
		die("connect");
	c->state = ST_CONNECTING;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void set_events(struct conn *c, unsigned ev_mask)
{
	struct epoll_event ev = { .events = ev_mask, .data.ptr = c };
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void b64_12(const unsigned char *in, char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int i = 0; i < 12; i += 3) {
		unsigned v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
		*out++ = tbl[(v >> 18) & 63];
		*out++ = tbl[(v >> 12) & 63];
		*out++ = tbl[(v >> 6) & 63];
		*out++ = tbl[v & 63];
	}
}

/* Builds the next request into c->out; returns 0 when nothing is left to issue. */
static int next_request(struct conn *c)
{
	if (issued >= total)
		return 0;
	long id = issued++;
	char path[512], body_head[512];
	const char *body_tail = "";
	size_t b64len = strlen(b64);
	int with_b64 = 1, unique_zip = 1;
	int bh;
	switch (mode) {
	case M_PERM: /* AddPermission: unique statement id, functions PREFIX-%04d cycled */
		snprintf(path, sizeof path, "/2015-03-31/functions/%s-%04ld/policy", prefix, id % perm_funcs);
		bh = snprintf(body_head, sizeof body_head,
		              "{\"StatementId\":\"%s-%ld\",\"Action\":\"lambda:InvokeFunction\","
		              "\"Principal\":\"s3.amazonaws.com\","
		              "\"SourceArn\":\"arn:aws:s3:::bench-bucket-%ld\"}",
		              perm_tag, id, id);
		with_b64 = 0;
		break;
	case M_LAYER: /* PublishLayerVersion of layer PREFIX, a distinct zip per request */
		snprintf(path, sizeof path, "/2018-10-31/layers/%s/versions", prefix);
		bh = snprintf(body_head, sizeof body_head,
		              "{\"Description\":\"bench\",\"CompatibleRuntimes\":[\"python3.12\"],"
		              "\"Content\":{\"ZipFile\":\"");
		body_tail = "\"}}";
		break;
	case M_INVOKE: /* Invoke function PREFIX with the file's content as the event, as is */
	case M_EVENT:
		snprintf(path, sizeof path, "/2015-03-31/functions/%s/invocations", prefix);
		bh = 0;
		unique_zip = 0;
		break;
	case M_INVOKEASYNC:
		snprintf(path, sizeof path, "/2014-11-13/functions/%s/invoke-async/", prefix);
		bh = 0;
		unique_zip = 0;
		break;
	default: /* CreateFunction PREFIX-<n> */
		snprintf(path, sizeof path, "/2015-03-31/functions");
		bh = snprintf(body_head, sizeof body_head,
		              "{\"FunctionName\":\"%s-%ld\",\"Runtime\":\"python3.12\","
		              "\"Role\":\"arn:aws:iam::123456789012:role/bench\","
		              "\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"",
		              prefix, id);
		body_tail = "\"}}";
		break;
	}
	if (!with_b64)
		b64len = 0;
	size_t blen = bh + b64len + strlen(body_tail);
	size_t cap = blen + 1024 + strlen(path) + (auth ? strlen(auth) : 0);
	if (c->out_cap < cap) {
		free(c->out);
		c->out = malloc(cap);
		c->out_cap = cap;
	}
	int hl = snprintf(c->out, cap,
	                  "POST %s HTTP/1.1\r\n"
	                  "Host: 127.0.0.1:%d\r\n"
	                  "Content-Type: application/json\r\n"
	                  "%s%s%s%s"
	                  "Content-Length: %zu\r\n\r\n",
	                  path, port, auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
	                  mode == M_EVENT ? "X-Amz-Invocation-Type: Event\r\n" : "", blen);
	size_t off = hl;
	memcpy(c->out + off, body_head, bh);
	off += bh;
	memcpy(c->out + off, b64, b64len);
	off += b64len;
	if (unique_zip && b64len >= 16) { /* the zip comment: unique per request */
		char tag[16];
		snprintf(tag, sizeof tag, "%06lu%06lu", prefix_hash % 1000000, (unsigned long)id % 1000000);
		b64_12((const unsigned char *)tag, c->out + off - 16);
	}
	memcpy(c->out + off, body_tail, strlen(body_tail));
	off += strlen(body_tail);
	c->out_len = off;
	c->out_off = 0;
	c->req_sent = 1;
	c->t0 = 0;
	return 1;
}

/* Case-insensitive search for a header; returns pointer to its value or NULL. */
static const char *find_header(const char *hdrs, size_t hlen, const char *name)
{
	size_t nl = strlen(name);
	const char *p = hdrs, *end = hdrs + hlen;
	while (p < end) {
		const char *eol = memmem(p, end - p, "\r\n", 2);
		if (!eol)
			break;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/*
 * Checks whether c->in holds a complete response. Returns 1 when complete
 * (sets *status and *keep), 0 when more is needed; eof means the peer closed.
 */
static int response_complete(struct conn *c, int eof, int *status, int *keep)
{
	char *he = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	if (!he)
		return 0;
	size_t hlen = he - c->in + 2; /* include last header's CRLF */
	size_t body_off = hlen + 2;
	int minor = 1;
	if (sscanf(c->in, "HTTP/1.%d %d", &minor, status) != 2)
		*status = 0;
	*keep = (minor >= 1);
	const char *cn = find_header(c->in, hlen, "Connection");
	if (cn) {
		if (strncasecmp(cn, "close", 5) == 0)
			*keep = 0;
		else if (strncasecmp(cn, "keep-alive", 10) == 0)
			*keep = 1;
	}
	const char *cl = find_header(c->in, hlen, "Content-Length");
	const char *te = find_header(c->in, hlen, "Transfer-Encoding");
	if (cl) {
		size_t n = strtoul(cl, NULL, 10);
		return c->in_len >= body_off + n;
	}
	if (te && strncasecmp(te, "chunked", 7) == 0) {
		size_t p = body_off;
		for (;;) {
			char *crlf = memmem(c->in + p, c->in_len - p, "\r\n", 2);
			if (!crlf)
				return 0;
			size_t sz = strtoul(c->in + p, NULL, 16);
			p = (crlf - c->in) + 2;
			if (sz == 0) /* no trailers expected: final CRLF */
				return c->in_len >= p + 2;
			if (c->in_len < p + sz + 2)
				return 0;
			p += sz + 2;
		}
	}
	if (*status == 204 || *status == 304 || (*status >= 100 && *status < 200))
		return 1;
	*keep = 0;
	return eof; /* body delimited by close */
}

static void finish(struct conn *c, int status, int keep)
{
	double dt = now() - c->t0;
	if (status >= 200 && status < 300) {
		done_ok++;
		lat[nlat++] = dt;
	} else {
		status_errors++;
		if (status_errors <= 3) {
			size_t shown = c->in_len > 400 ? 400 : c->in_len;
			fprintf(stderr, "postload: status %d: %.*s\n", status, (int)shown, c->in);
		}
	}
	c->req_sent = 0;
	c->in_len = 0;
	if (!keep) {
		conn_close(c);
		reconnects++;
	} else {
		c->state = ST_IDLE;
	}
}

static void start_next(struct conn *c, int issuing)
{
	if (!issuing || !next_request(c)) {
		if (c->fd >= 0)
			conn_close(c);
		return;
	}
	if (c->fd < 0) {
		conn_open(c); /* writes start once connected */
		return;
	}
	c->state = ST_WRITING;
	set_events(c, EPOLLOUT);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	if (!nlat)
		return 0;
	size_t i = (size_t)(p * nlat + 0.999999);
	if (i < 1)
		i = 1;
	if (i > nlat)
		i = nlat;
	return lat[i - 1] * 1000.0;
}

int main(int argc, char **argv)
{
	if (argc < 7) {
		fprintf(stderr, "usage: %s PORT CONNS TOTAL LIMIT_S PREFIX FILE [AUTH] [MODE]\n", argv[0]);
		return 2;
	}
	port = atoi(argv[1]);
	int nconn = atoi(argv[2]);
	total = atol(argv[3]);
	double limit = atof(argv[4]);
	prefix = argv[5];
	b64 = slurp(argv[6]);
	prefix_hash = 5381;
	for (const char *p = prefix; *p; p++)
		prefix_hash = prefix_hash * 33 + (unsigned char)*p;
	auth = argc > 7 && argv[7][0] ? argv[7] : NULL;
	if (argc > 8) {
		char *m = strdup(argv[8]);
		char *arg1 = strchr(m, ':'), *arg2 = NULL;
		if (arg1) {
			*arg1++ = 0;
			arg2 = strchr(arg1, ':');
			if (arg2)
				*arg2++ = 0;
		}
		if (strcmp(m, "create") == 0) {
			mode = M_CREATE;
		} else if (strcmp(m, "perm") == 0) {
			mode = M_PERM;
			perm_funcs = arg1 ? atol(arg1) : 1;
			perm_tag = arg2 ? arg2 : "s";
			if (perm_funcs < 1)
				perm_funcs = 1;
		} else if (strcmp(m, "layer") == 0) {
			mode = M_LAYER;
		} else if (strcmp(m, "invoke") == 0) {
			mode = M_INVOKE;
		} else if (strcmp(m, "event") == 0) {
			mode = M_EVENT;
		} else if (strcmp(m, "invokeasync") == 0) {
			mode = M_INVOKEASYNC;
		} else {
			fprintf(stderr, "postload: unknown mode %s\n", m);
			return 2;
		}
	}
	if (nconn < 1 || total < 1 || limit <= 0) {
		fprintf(stderr, "postload: bad arguments\n");
		return 2;
	}
	lat = malloc(sizeof(double) * total);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct conn *cs = calloc(nconn, sizeof *cs);
	double start = now(), stop_issue = start + limit, hard_stop = stop_issue + 2.0;
	for (int i = 0; i < nconn; i++) {
		cs[i].fd = -1;
		start_next(&cs[i], 1);
	}
	int timed_out = 0;
	struct epoll_event evs[256];
	for (;;) {
		double t = now();
		int issuing = t < stop_issue;
		if (!issuing)
			timed_out |= issued < total;
		int active = 0;
		for (int i = 0; i < nconn; i++)
			active += cs[i].fd >= 0;
		if (!active)
			break;
		if (t >= hard_stop)
			break;
		int n = epoll_wait(ep, evs, 256, 100);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			if (c->fd < 0)
				continue;
			if (c->state == ST_CONNECTING) {
				int err = 0;
				socklen_t el = sizeof err;
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
				if (err) {
					errors++;
					conn_close(c);
					start_next(c, now() < stop_issue);
					continue;
				}
				c->state = ST_WRITING;
			}
			if (c->state == ST_WRITING) {
				if (c->t0 == 0)
					c->t0 = now();
				ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
				if (w < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				if (w < 0) {
					errors++;
					conn_close(c);
					start_next(c, now() < stop_issue);
					continue;
				}
				c->out_off += w;
				if (c->out_off == c->out_len) {
					c->state = ST_READING;
					set_events(c, EPOLLIN);
				}
				continue;
			}
			if (c->state == ST_READING) {
				if (c->in_cap - c->in_len < 65536) {
					c->in_cap = c->in_cap ? c->in_cap * 2 : 131072;
					c->in = realloc(c->in, c->in_cap);
				}
				ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				int status = 0, keep = 1;
				if (r <= 0) {
					if (r == 0 && response_complete(c, 1, &status, &keep)) {
						finish(c, status, 0);
					} else {
						errors++;
						conn_close(c);
					}
					start_next(c, now() < stop_issue);
					continue;
				}
				c->in_len += r;
				if (response_complete(c, 0, &status, &keep)) {
					finish(c, status, keep);
					start_next(c, now() < stop_issue);
				}
			}
		}
	}
	double elapsed = now() - start;
	long in_flight = 0;
	for (int i = 0; i < nconn; i++) {
		if (cs[i].fd >= 0 && cs[i].req_sent)
			in_flight++;
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	}
	qsort(lat, nlat, sizeof(double), cmp_d);
	printf("{\"ok\":%ld,\"errors\":%ld,\"status_errors\":%ld,\"abandoned\":%ld,\"issued\":%ld,"
	       "\"reconnects\":%ld,\"timed_out\":%s,\"elapsed_s\":%.3f,\"rps\":%.1f,"
	       "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n",
	       done_ok, errors, status_errors, in_flight, issued, reconnects,
	       timed_out ? "true" : "false", elapsed, done_ok / elapsed, pct(0.50), pct(0.99),
	       nlat ? lat[nlat - 1] * 1000.0 : 0.0);
	return 0;
}
