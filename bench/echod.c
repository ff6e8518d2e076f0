/*
 * echod: the "bare loopback HTTP round trip" floor of the invoke benchmark.
 *
 * A single-threaded epoll HTTP/1.1 keep-alive server on 127.0.0.1 that
 * answers every request (any method, any path, body by Content-Length) with
 * 200 and the request body echoed back, which is what a warm invoke of an
 * echo function returns, minus lambdad and the runtime. bench.py drives it
 * with the same postload client as the invoke rows.
 *
 * usage: echod LIMIT_S   -- binds 127.0.0.1:0, prints the port on stdout,
 * exits by itself after LIMIT_S seconds (bench.py also kills it).
 */
#define _GNU_SOURCE
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
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct c {
	int fd;
	char *in;
	size_t len, cap;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drop(int ep, struct c *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c);
}

/* Answers every complete request in c->in; returns -1 on a write error. */
static int serve(struct c *c)
{
	for (;;) {
		char *he = memmem(c->in, c->len, "\r\n\r\n", 4);
		if (!he)
			return 0;
		size_t hlen = he - c->in + 4, n = 0;
		for (char *p = c->in; p < he; p++) {
			if ((p == c->in || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0) {
				n = strtoul(p + 15, NULL, 10);
				break;
			}
		}
		if (c->len < hlen + n)
			return 0;
		char head[128];
		int hl = snprintf(head, sizeof head,
		                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", n);
		struct iovec v[2] = { { head, hl }, { c->in + hlen, n } };
		size_t want = hl + n;
		ssize_t w = writev(c->fd, v, 2);
		if (w < 0 || (size_t)w != want) /* small answers on loopback: all or nothing in practice */
			return -1;
		memmove(c->in, c->in + hlen + n, c->len - hlen - n);
		c->len -= hlen + n;
	}
}

int main(int argc, char **argv)
{
	double limit = argc > 1 ? atof(argv[1]) : 60;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof a;
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 512) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
		perror("echod");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	double end = now() + limit;
	struct epoll_event evs[64];
	while (now() < end) {
		int n = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < n; i++) {
			struct c *c = evs[i].data.ptr;
			if (!c) {
				int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
				c = calloc(1, sizeof *c);
				c->fd = fd;
				c->cap = 65536;
				c->in = malloc(c->cap);
				struct epoll_event e2 = { .events = EPOLLIN, .data.ptr = c };
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2);
				continue;
			}
			if (c->cap - c->len < 4096) {
				c->cap *= 2;
				c->in = realloc(c->in, c->cap);
			}
			ssize_t r = read(c->fd, c->in + c->len, c->cap - c->len);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				drop(ep, c);
				continue;
			}
			c->len += r;
			if (serve(c) < 0)
				drop(ep, c);
		}
	}
	return 0;
}
