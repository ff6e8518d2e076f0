/*
 * test_outbound.c - the loop-driven HTTP client (util/outbound.c), the shared
 * endpoint convention (util/awsconf.c) and destination ARNs
 * (exec/destinations.c), without any outside service: a tiny HTTP server
 * on the same loop answers with a canned response, a large one, or never.
 */
#include "t.h"

#include "exec/destinations.h"
#include "loop.h"
#include "aws/awsconf.h"
#include "util/err.h"
#include "aws/outbound.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- a one-connection-at-a-time server on the loop ---- */

enum mode { ANSWER_SMALL, ANSWER_BIG, ANSWER_NEVER };

struct srv {
	loop_t *loop;
	int lfd, cfd;
	int port;
	enum mode mode;
	char req[8192];
	size_t reqlen;
};

static void srv_conn(void *ud, uint32_t events)
{
	struct srv *s = ud;
	ssize_t n = read(s->cfd, s->req + s->reqlen, sizeof s->req - 1 - s->reqlen);
	if (n <= 0) {
		loop_del_fd(s->loop, s->cfd);
		close(s->cfd);
		s->cfd = -1;
		return;
	}
	s->reqlen += (size_t)n;
	s->req[s->reqlen] = '\0';
	char *end = strstr(s->req, "\r\n\r\n");
	if (!end || s->mode == ANSWER_NEVER)
		return;
	const char *cl = strcasestr(s->req, "Content-Length:");
	size_t want = (size_t)(end + 4 - s->req) + (cl ? (size_t)atoi(cl + 15) : 0);
	if (s->reqlen < want)
		return;
	static char big[100 * 1024];
	const char *body = "{\"ok\":true}";
	size_t blen = strlen(body);
	if (s->mode == ANSWER_BIG) {
		memset(big, 'x', sizeof big);
		body = big;
		blen = sizeof big;
	}
	char head[256];
	int hl = snprintf(head, sizeof head, "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\n\r\n", blen);
	if (write(s->cfd, head, (size_t)hl) != hl) {
		/* the client gave up */
	}
	size_t off = 0;
	while (off < blen) {
		ssize_t w = write(s->cfd, body + off, blen - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	s->reqlen = 0;
}

static void srv_accept(void *ud, uint32_t events)
{
	struct srv *s = ud;
	int fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return;
	if (s->cfd >= 0) {
		loop_del_fd(s->loop, s->cfd);
		close(s->cfd);
	}
	s->cfd = fd;
	s->reqlen = 0;
	loop_add_fd(s->loop, fd, EPOLLIN, srv_conn, s);
}

static int srv_start(struct srv *s, loop_t *loop)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	memset(s, 0, sizeof *s);
	s->loop = loop;
	s->cfd = -1;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) || listen(s->lfd, 8) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al))
		return -1;
	s->port = ntohs(a.sin_port);
	return loop_add_fd(loop, s->lfd, EPOLLIN, srv_accept, s);
}

static void srv_stop(struct srv *s)
{
	if (s->cfd >= 0) {
		loop_del_fd(s->loop, s->cfd);
		close(s->cfd);
	}
	loop_del_fd(s->loop, s->lfd);
	close(s->lfd);
}

/* ---- the client ---- */

struct got {
	int calls, rc, timed_out;
	long status;
	size_t len;
	char body[64];
	char error[128];
};

static void on_result(void *ud, const outbound_result_t *r)
{
	struct got *g = ud;
	g->calls++;
	g->rc = r->rc;
	g->timed_out = r->timed_out;
	g->status = r->status;
	g->len = r->len;
	snprintf(g->body, sizeof g->body, "%s", r->body);
	snprintf(g->error, sizeof g->error, "%s", r->error);
}

static void run_until(loop_t *l, const struct got *g, int ms)
{
	uint64_t end = loop_now_ms() + (uint64_t)ms;
	while (!g->calls && loop_now_ms() < end)
		loop_run_once(l, 20);
}

static void test_request_and_response(void)
{
	loop_t *l;
	outbound_t *ob;
	struct srv s;
	struct got g = { 0 };
	char url[64];
	CHECK(loop_new(&l) == 0);
	CHECK(outbound_new(l, &ob) == 0);
	CHECK(srv_start(&s, l) == 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/p/q", s.port);
	const char *hdrs[] = { "X-Test: yes", "Content-Type: text/plain" };
	outbound_req_t req = { .method = "PUT", .url = url, .headers = hdrs, .nheaders = 2, .body = "hello",
			       .len = 5 };
	CHECK(outbound_request(ob, &req, on_result, &g) == 0);
	CHECK(g.calls == 0); /* never synchronously */
	CHECK(outbound_pending(ob) == 1);
	run_until(l, &g, 5000);
	CHECK(g.calls == 1);
	CHECK(g.rc == 0);
	CHECK(g.status == 201);
	CHECK_STR(g.body, "{\"ok\":true}");
	CHECK(strncmp(s.req, "PUT /p/q HTTP/1.1\r\n", 19) == 0);
	CHECK(strstr(s.req, "\r\nX-Test: yes\r\n") != NULL);
	CHECK(strstr(s.req, "\r\n\r\nhello") != NULL);
	CHECK(strstr(s.req, "Expect:") == NULL);
	CHECK(outbound_pending(ob) == 0);

	/* the response cap */
	struct got g2 = { 0 };
	s.mode = ANSWER_BIG;
	outbound_req_t small = { .method = "GET", .url = url, .max_response = 1024 };
	CHECK(outbound_request(ob, &small, on_result, &g2) == 0);
	run_until(l, &g2, 5000);
	CHECK(g2.calls == 1);
	CHECK(g2.rc == LD_ETOOBIG);
	CHECK(g2.len == 0);

	outbound_free(ob);
	srv_stop(&s);
	loop_free(l);
}

static void test_failures(void)
{
	loop_t *l;
	outbound_t *ob;
	struct srv s;
	char url[64];
	CHECK(loop_new(&l) == 0);
	CHECK(outbound_new(l, &ob) == 0);
	CHECK(srv_start(&s, l) == 0);

	/* refused: a port nobody listens on (ours, closed) */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
	struct got g = { 0 };
	outbound_req_t req = { .method = "POST", .url = url, .body = "x", .len = 1 };
	CHECK(outbound_request(ob, &req, on_result, &g) == 0);
	CHECK(g.calls == 0);
	run_until(l, &g, 5000);
	CHECK(g.calls == 1 && g.rc == LD_EREMOTE && !g.timed_out && g.status == 0 && g.error[0]);

	/* a server that never answers: the total timeout */
	s.mode = ANSWER_NEVER;
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);
	struct got g2 = { 0 };
	outbound_req_t slow = { .method = "POST", .url = url, .body = "x", .len = 1, .timeout_ms = 200 };
	uint64_t t0 = loop_now_ms();
	CHECK(outbound_request(ob, &slow, on_result, &g2) == 0);
	run_until(l, &g2, 5000);
	CHECK(g2.calls == 1 && g2.rc == LD_EREMOTE && g2.timed_out);
	CHECK(loop_now_ms() - t0 < 2000);

	/* bad requests never call back */
	struct got g3 = { 0 };
	outbound_req_t bad = { .method = "GET", .url = NULL };
	CHECK(outbound_request(ob, &bad, on_result, &g3) == LD_EINVAL);
	outbound_req_t ftp = { .method = "GET", .url = "ftp://127.0.0.1/" };
	CHECK(outbound_request(ob, &ftp, on_result, &g3) == 0); /* refused by curl, reported later */
	run_until(l, &g3, 5000);
	CHECK(g3.calls == 1 && g3.rc == LD_EREMOTE);

	/* freeing the client aborts what is in flight, calling back once */
	struct got g4 = { 0 };
	CHECK(outbound_request(ob, &slow, on_result, &g4) == 0);
	for (int i = 0; i < 5; i++)
		loop_run_once(l, 10);
	CHECK(g4.calls == 0);
	outbound_free(ob);
	CHECK(g4.calls == 1 && g4.rc == LD_EREMOTE);
	CHECK_STR(g4.error, "aborted");

	srv_stop(&s);
	loop_free(l);
}

static void test_awsconf(void)
{
	aws_config_t c;
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_SQS");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	CHECK(aws_config_from_env(&c, "SQS", "sqs", NULL, "eu-west-3") == 0);
	CHECK_STR(c.endpoint, "https://sqs.eu-west-3.amazonaws.com");
	CHECK_STR(c.region, "eu-west-3");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);
	CHECK(aws_config_from_env(&c, "EVENTBRIDGE", "events", NULL, NULL) == 0);
	CHECK_STR(c.endpoint, "http://127.0.0.1:1");
	CHECK_STR(c.region, "us-east-1");
	setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:2", 1);
	CHECK(aws_config_from_env(&c, "SQS", "sqs", NULL, NULL) == 0);
	CHECK_STR(c.endpoint, "http://127.0.0.1:2");
	CHECK(aws_config_from_env(&c, "SQS", "sqs", "http://127.0.0.1:3", NULL) == 0);
	CHECK_STR(c.endpoint, "http://127.0.0.1:3");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_SQS");

	size_t o, hl, pl;
	const char *h;
	CHECK(aws_endpoint_split("http://h:9/pre/", &o, &h, &hl, &pl) == 0);
	CHECK(o == 10 && hl == 3 && !strncmp(h, "h:9", 3) && pl == 4);
	CHECK(aws_endpoint_split("ftp://h/", &o, &h, &hl, &pl) == LD_EINVAL);
	CHECK(aws_endpoint_split("http://u@h/", &o, &h, &hl, &pl) == LD_EINVAL);
	CHECK(aws_endpoint_split("http://h/?q", &o, &h, &hl, &pl) == LD_EINVAL);
}

static void count_call(void *ud, int rc)
{
	(void)rc;
	++*(int *)ud;
}

static void test_dest_kind(void)
{
	CHECK(dest_kind("arn:aws:sqs:us-east-1:123456789012:q-1") == DEST_SQS);
	CHECK(dest_kind("arn:aws:sns:us-east-1:123456789012:t_1") == DEST_SNS);
	CHECK(dest_kind("arn:aws:events:us-east-1:123456789012:event-bus/b") == DEST_EVENTBRIDGE);
	CHECK(dest_kind("arn:aws:s3:::my.bucket") == DEST_S3);
	CHECK(dest_kind("arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST") == DEST_LAMBDA);
	CHECK(dest_kind("arn:aws:sqs:us-east-1:123456789012:q/../x") == DEST_INVALID);
	CHECK(dest_kind("arn:aws:events:us-east-1:123456789012:rule/r") == DEST_INVALID);
	CHECK(dest_kind("arn:aws:s3:us-east-1::b") == DEST_INVALID);
	CHECK(dest_kind("arn:aws:sqs::123456789012:q") == DEST_INVALID);
	CHECK(dest_kind("not-an-arn") == DEST_INVALID);
	CHECK(dest_kind(NULL) == DEST_INVALID);

	/* dest_send refuses what it does not deliver, without calling back */
	loop_t *l;
	CHECK(loop_new(&l) == 0);
	server_t srv = { .region = "us-east-1", .loop = l };
	int calls = 0;
	size_t big = 7u * 1024 * 1024;
	char *body = calloc(1, big);
	CHECK(body != NULL);
	CHECK(dest_send(&srv, "arn:aws:lambda:us-east-1:1:function:f", "{}", 2, NULL, count_call, &calls) ==
	      LD_EINVAL);
	CHECK(dest_send(&srv, "arn:aws:s3:::b", "{}", 2, NULL, count_call, &calls) == LD_EINVAL); /* no function */
	CHECK(dest_send(&srv, "arn:aws:sqs:us-east-1:1:q", body, big, NULL, count_call, &calls) == LD_ETOOBIG);
	for (int i = 0; i < 3; i++)
		loop_run_once(l, 0);
	CHECK(calls == 0);
	CHECK(dest_pending(&srv) == 0);
	free(body);
	dest_shutdown(&srv);
	loop_free(l);
}

int main(void)
{
	T_RUN(test_request_and_response);
	T_RUN(test_failures);
	T_RUN(test_awsconf);
	T_RUN(test_dest_kind);
	return t_done("test_outbound");
}
