/*
 * test_rapi.c - unit tests of the Runtime API server's owner check.
 *
 * A loop and rapi_start() with this file's hooks (GET /next is answered at
 * once with an event "r1", results and init errors are counted); clients run
 * in forked children, each creating its socket after setresuid() to the uid
 * under test (we run as root), while the parent drives the loop. A
 * connection from the environment's owner is served; one from any other uid
 * (root included), or whose client end closed before it was accepted, is
 * reset before any hook runs; (uid_t)-1 serves everyone. The last test prints
 * the cost of the check per connection. Without root the uid tests skip.
 */
#include "exec/rapi.h"
#include "loop.h"
#include "t.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OWNER ((uid_t)64242)
#define OTHER ((uid_t)64243)
#define ANYONE ((uid_t)-1)

static loop_t *L;
static rapi_t *R;
static int nexts, results, init_errors;

static int on_next(void *ud, uint64_t env_id, struct rapi_next *n)
{
	buf_t payload;
	buf_init(&payload, 0);
	buf_puts(&payload, "{\"k\":1}");
	struct rapi_event ev = { "r1", 4102444800000LL, "arn:aws:lambda:us-east-1:000000000000:function:f", "", NULL,
				 &payload };
	nexts++;
	rapi_deliver(n, &ev);
	buf_free(&payload); /* taken: nothing is left to free */
	return 0;
}

static int on_result(void *ud, uint64_t env_id, const char *request_id, int is_error, const char *error_type,
		     buf_t *body, const char *content_type)
{
	results++;
	return strcmp(request_id, "r1") ? LD_ENOTFOUND : 0;
}

static int on_chunk(void *ud, uint64_t env_id, const char *request_id, const char *data, size_t len, const char *content_type)
{
	return 0;
}

static int on_stream_end(void *ud, uint64_t env_id, const char *request_id, const char *content_type, int oversized,
			 const char *error_type, const char *error_body)
{
	return 0;
}

static void on_init_error(void *ud, uint64_t env_id, const char *error_type, const char *body, size_t len)
{
	init_errors++;
}

static const struct rapi_hooks hooks = { on_next, on_result, on_chunk, on_stream_end, on_init_error };

static void reset_counts(void)
{
	nexts = results = init_errors = 0;
}

/* In a child: the socket is created as uid (unless ANYONE), connects to
 * port, sends req, reads to EOF; writes what it read, or "ERR <errno>", to
 * out. With close_early, closes right after sending without reading. */
static void client_child(uid_t uid, int port, const char *req, int close_early, int out)
{
	if (uid != ANYONE && setresuid(uid, uid, uid) < 0)
		_exit(3);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		dprintf(out, "ERR %d", errno);
		_exit(0);
	}
	if (close_early) {
		close(fd);
		_exit(0);
	}
	char buf[4096];
	ssize_t n;
	size_t got = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n)
			_exit(4);
		got += (size_t)n;
	}
	if (n < 0 && !got)
		dprintf(out, "ERR %d", errno);
	_exit(0);
}

/* Runs one client; the loop turns until it exits (at most 10 s), except with
 * close_early, where the loop runs only after the client is gone. The reply
 * (or "ERR <errno>", or "" for a plain close) into out. */
static void exchange(uid_t uid, int port, const char *req, int close_early, char *out, size_t outsz)
{
	int p[2];
	out[0] = '\0';
	if (pipe(p) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		client_child(uid, port, req, close_early, p[1]);
	}
	close(p[1]);
	int status = 0;
	uint64_t end = loop_now_ms() + 10000;
	if (close_early && waitpid(pid, &status, 0) == pid)
		pid = 0;
	while (pid > 0 && loop_now_ms() < end) {
		loop_run_once(L, 5);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (pid > 0 && loop_now_ms() >= end) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	for (int i = 0; i < 20; i++) /* whatever the server still has to finish */
		loop_run_once(L, 0);
	size_t got = 0;
	ssize_t n;
	while (got + 1 < outsz && (n = read(p[0], out + got, outsz - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char GET_NEXT[] = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
static const char POST_RESULT[] = "POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\nHost: x\r\n"
				  "Connection: close\r\nContent-Length: 2\r\n\r\n{}";
static const char POST_INIT_ERROR[] = "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
				      "Connection: close\r\nContent-Length: 2\r\n\r\n{}";

static int is_root(void)
{
	if (geteuid() == 0)
		return 1;
	printf("  (skipped: needs root for setresuid)\n");
	return 0;
}

/* refused: a reset or a close with nothing read */
static int refused(const char *reply)
{
	return !strcmp(reply, "") || !strcmp(reply, "ERR 104");
}

static void test_owner_served(void)
{
	if (!is_root())
		return;
	int port = 0;
	int fd = rapi_open_env(R, 1, OWNER, &port);
	CHECK(fd >= 0 && port > 0);
	char reply[8192];
	reset_counts();
	exchange(OWNER, port, GET_NEXT, 0, reply, sizeof(reply));
	CHECK(!strncmp(reply, "HTTP/1.1 200", 12));
	CHECK(strstr(reply, "Lambda-Runtime-Aws-Request-Id: r1\r\n") != NULL);
	CHECK(strstr(reply, "\r\n\r\n{\"k\":1}") != NULL);
	exchange(OWNER, port, POST_RESULT, 0, reply, sizeof(reply));
	CHECK(!strncmp(reply, "HTTP/1.1 202", 12));
	CHECK(strstr(reply, "{\"status\":\"OK\"}\n") != NULL);
	CHECK(nexts == 1 && results == 1);
	rapi_close_env(R, fd);
}

static void test_other_uid_refused(void)
{
	if (!is_root())
		return;
	int port = 0;
	int fd = rapi_open_env(R, 2, OWNER, &port);
	CHECK(fd >= 0);
	char reply[8192];
	reset_counts();
	exchange(OTHER, port, GET_NEXT, 0, reply, sizeof(reply));
	CHECK(refused(reply));
	exchange(OTHER, port, POST_RESULT, 0, reply, sizeof(reply));
	CHECK(refused(reply));
	exchange(OTHER, port, POST_INIT_ERROR, 0, reply, sizeof(reply));
	CHECK(refused(reply));
	exchange(ANYONE, port, GET_NEXT, 0, reply, sizeof(reply)); /* root is not the owner either */
	CHECK(refused(reply));
	CHECK(nexts == 0 && results == 0 && init_errors == 0);
	/* and the owner is still served afterwards */
	exchange(OWNER, port, POST_INIT_ERROR, 0, reply, sizeof(reply));
	CHECK(!strncmp(reply, "HTTP/1.1 202", 12));
	CHECK(init_errors == 1);
	rapi_close_env(R, fd);
}

static void test_closed_client_refused(void)
{
	if (!is_root())
		return;
	int port = 0;
	int fd = rapi_open_env(R, 3, OWNER, &port);
	CHECK(fd >= 0);
	char reply[64];
	reset_counts();
	/* the owner's client sends and closes before lambdad accepts: no file
	 * owns that socket any more, so it is not served */
	exchange(OWNER, port, POST_INIT_ERROR, 1, reply, sizeof(reply));
	CHECK(init_errors == 0);
	rapi_close_env(R, fd);
}

static void test_no_owner_serves_anyone(void)
{
	if (!is_root())
		return;
	int port = 0;
	int fd = rapi_open_env(R, 4, ANYONE, &port);
	CHECK(fd >= 0);
	char reply[8192];
	reset_counts();
	exchange(OTHER, port, GET_NEXT, 0, reply, sizeof(reply));
	CHECK(!strncmp(reply, "HTTP/1.1 200", 12));
	exchange(OWNER, port, POST_INIT_ERROR, 0, reply, sizeof(reply));
	CHECK(!strncmp(reply, "HTTP/1.1 202", 12));
	CHECK(nexts == 1 && init_errors == 1);
	rapi_close_env(R, fd);
}

/* One child makes `rounds` connections (one GET /next each, Connection:
 * close) to each of two environments, one checked (owner: our own uid) and
 * one not, alternating, and reports the median microseconds per connection
 * of each. */
static void test_cost(void)
{
	enum { ROUNDS = 301 };
	int pc = 0, pn = 0;
	int fc = rapi_open_env(R, 5, geteuid(), &pc);
	int fn = rapi_open_env(R, 6, ANYONE, &pn);
	CHECK(fc >= 0 && fn >= 0);
	int p[2];
	if (pipe(p) < 0)
		return;
	reset_counts();
	pid_t pid = fork();
	if (pid == 0) {
		static double t[2][ROUNDS];
		close(p[0]);
		for (int i = 0; i < ROUNDS; i++)
			for (int k = 0; k < 2; k++) {
				struct timespec a, b;
				char buf[2048];
				clock_gettime(CLOCK_MONOTONIC, &a);
				int fd = socket(AF_INET, SOCK_STREAM, 0);
				struct sockaddr_in sa = { .sin_family = AF_INET,
							  .sin_port = htons((uint16_t)(k ? pc : pn)),
							  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
				if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
				    write(fd, GET_NEXT, strlen(GET_NEXT)) < 0)
					_exit(2);
				size_t got = 0;
				ssize_t n;
				while ((n = read(fd, buf, sizeof(buf))) > 0)
					got += (size_t)n;
				close(fd);
				clock_gettime(CLOCK_MONOTONIC, &b);
				if (got < 12)
					_exit(3);
				t[k][i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
			}
		double med[2];
		for (int k = 0; k < 2; k++) { /* insertion sort, then the middle */
			for (int i = 1; i < ROUNDS; i++)
				for (int j = i; j > 0 && t[k][j - 1] > t[k][j]; j--) {
					double x = t[k][j];
					t[k][j] = t[k][j - 1];
					t[k][j - 1] = x;
				}
			med[k] = t[k][ROUNDS / 2];
		}
		dprintf(p[1], "%.1f %.1f", med[0], med[1]);
		_exit(0);
	}
	close(p[1]);
	int status = -1;
	uint64_t end = loop_now_ms() + 30000;
	while (loop_now_ms() < end) {
		loop_run_once(L, 1);
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	if (loop_now_ms() >= end) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	char buf[64] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	double plain = 0, checked = 0;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(sscanf(buf, "%lf %lf", &plain, &checked) == 2);
	CHECK(nexts == 2 * ROUNDS);
	printf("  connect + GET /next + close, median of %d: %.1f us unchecked, %.1f us with the owner check "
	       "(%+.1f us per accept)\n",
	       ROUNDS, plain, checked, checked - plain);
	/* generous: a lookup is a few microseconds; a regression to something
	 * like a /proc/net/tcp scan would show as hundreds */
	CHECK(checked - plain < 200.0);
	rapi_close_env(R, fc);
	rapi_close_env(R, fn);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (loop_new(&L) || rapi_start(L, &hooks, NULL, &R)) {
		printf("FAIL - setup\n");
		return 1;
	}
	T_RUN(test_owner_served);
	T_RUN(test_other_uid_refused);
	T_RUN(test_closed_client_refused);
	T_RUN(test_no_owner_serves_anyone);
	T_RUN(test_cost);
	rapi_stop(R);
	loop_free(L);
	return t_done("test_rapi");
}
