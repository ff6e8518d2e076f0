/*
 * bootstrap: a minimal provided.al2023 runtime in C for the invoke benchmark.
 *
 * Speaks the Lambda Runtime API over one keep-alive TCP connection with plain
 * sockets: GET /2018-06-01/runtime/invocation/next, then POST
 * /2018-06-01/runtime/invocation/<request id>/response echoing the event
 * body, forever. Reads responses by Content-Length (the Runtime API never
 * sends chunked bodies to a runtime). If the server closes the kept-alive
 * connection, it reconnects once and resends.
 *
 * With BENCH_UDP_PORT set (a function environment variable) it also sends
 * each event body (its first 1400 bytes) as one UDP datagram to
 * 127.0.0.1:BENCH_UDP_PORT before answering: bench.py counts the events
 * processed and, for a destination function, reads the record's
 * requestPayload to time each event end to end.
 *
 * With BENCH_UDP_RECORDS=1 as well, the datagram is instead "records=N", N
 * the number of "messageId" members in the event: bench.py counts the SQS
 * messages an event source mapping delivered, whatever the batch's size.
 *
 * Without AWS_LAMBDA_RUNTIME_API it exits 0 at once: bench.py times that as
 * the bare fork+exec floor of this binary.
 *
 * Built by bench.py with gcc -O2 -static (dynamic if static linking fails).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static char host[256];
static int port;
static int fd = -1;
static char *buf;          /* response buffer: headers + body */
static size_t cap = 1 << 16, len;

static int dial(void)
{
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* "localhost" or a name: loopback */
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		fd = -1;
		return -1;
	}
	return 0;
}

static int write_all(const struct iovec *iov0, int n)
{
	struct iovec iov[4];
	memcpy(iov, iov0, n * sizeof *iov);
	struct iovec *v = iov;
	while (n > 0) {
		ssize_t w = writev(fd, v, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)w >= v->iov_len) {
			w -= v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= w;
		}
	}
	return 0;
}

/* Case-insensitive header lookup in buf[0..hlen). */
static const char *header(size_t hlen, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = memchr(buf, '\n', hlen), *end = buf + hlen;
	while (p && ++p < end) {
		const char *eol = memchr(p, '\n', end - p);
		if (!eol)
			break;
		if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *e = eol;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			*vlen = e - v;
			return v;
		}
		p = eol;
	}
	return NULL;
}

/* Reads one response into buf; returns header length (body at buf+hlen+... ), body via out args. */
static int read_response(size_t *body_off, size_t *body_len, size_t *hlen_out)
{
	len = 0;
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				return -1;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		len += r;
		char *he = memmem(buf, len, "\r\n\r\n", 4);
		if (!he)
			continue;
		size_t hlen = he - buf + 2, boff = hlen + 2, vl = 0;
		const char *cl = header(hlen, "Content-Length", &vl);
		size_t n = cl ? strtoul(cl, NULL, 10) : 0;
		while (len < boff + n) {
			if (cap < boff + n + 1) {
				cap = boff + n + 1;
				buf = realloc(buf, cap);
				if (!buf)
					return -1;
			}
			r = read(fd, buf + len, cap - len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			len += r;
		}
		*body_off = boff;
		*body_len = n;
		*hlen_out = hlen;
		return 0;
	}
}

static int request(const struct iovec *iov, int n, size_t *boff, size_t *blen, size_t *hlen)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (fd < 0 && dial() < 0)
			return -1;
		if (write_all(iov, n) == 0 && read_response(boff, blen, hlen) == 0)
			return 0;
		close(fd);
		fd = -1;
	}
	return -1;
}

int main(void)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	if (!api)
		return 0;
	const char *colon = strrchr(api, ':');
	if (!colon || (size_t)(colon - api) >= sizeof host)
		return 1;
	memcpy(host, api, colon - api);
	host[colon - api] = 0;
	port = atoi(colon + 1);
	buf = malloc(cap);
	int ufd = -1;
	struct sockaddr_in ua = { .sin_family = AF_INET };
	const char *up = getenv("BENCH_UDP_PORT");
	if (up && atoi(up) > 0) {
		ua.sin_port = htons(atoi(up));
		ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	const char *rv = getenv("BENCH_UDP_RECORDS");
	int records = rv && !strcmp(rv, "1");

	static const char next_req[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: rapi\r\n\r\n";
	char *event = NULL;
	size_t ecap = 0;
	for (;;) {
		size_t boff, blen, hlen, vl = 0;
		struct iovec g = { (void *)next_req, sizeof next_req - 1 };
		if (request(&g, 1, &boff, &blen, &hlen) < 0)
			return 1;
		const char *id = header(hlen, "Lambda-Runtime-Aws-Request-Id", &vl);
		if (!id || vl > 64)
			return 1;
		char rid[65];
		memcpy(rid, id, vl);
		rid[vl] = 0;
		if (ecap < blen + 1) {
			ecap = blen + 1;
			event = realloc(event, ecap);
		}
		memcpy(event, buf + boff, blen);
		if (ufd >= 0 && records) {
			static const char key[] = "\"messageId\":";
			unsigned n = 0;
			for (const char *q = event, *end = event + blen;
			     (q = memmem(q, end - q, key, sizeof key - 1)); q += sizeof key - 1)
				n++;
			char d[32];
			int dl = snprintf(d, sizeof d, "records=%u", n);
			sendto(ufd, d, dl, 0, (struct sockaddr *)&ua, sizeof ua);
		} else if (ufd >= 0) {
			sendto(ufd, event, blen < 1400 ? blen : 1400, 0, (struct sockaddr *)&ua, sizeof ua);
		}
		char head[256];
		int hl = snprintf(head, sizeof head,
		                  "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: rapi\r\n"
		                  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", rid, blen);
		struct iovec p[2] = { { head, hl }, { event, blen } };
		if (request(p, 2, &boff, &blen, &hlen) < 0)
			return 1;
	}
}
