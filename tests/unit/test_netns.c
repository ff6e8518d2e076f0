/*
 * test_netns.c - network namespaces of isolated environments (exec/netns.c):
 * a slot's namespace is not the host's, its listening sockets are inside it,
 * the host's loopback is not, the daemon's thread comes back, slirp4netns
 * goes with the slot; and what a cold start pays with and without a ready
 * namespace. Needs root (CAP_SYS_ADMIN): skipped with the reason otherwise.
 */
#include "exec/netns.h"
#include "loop.h"
#include "t.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define API_PORT 9001

static ino_t ns_ino(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* connect from inside ns_fd (0: the host) to 127.0.0.1:port: 0 or errno */
static int try_connect(int ns_fd, int port)
{
	int fd = netns_socket(ns_fd, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
	close(fd);
	return rc;
}

static int local_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	return getsockname(fd, (struct sockaddr *)&sa, &len) == 0 ? ntohs(sa.sin_port) : -1;
}

static void test_slot(void)
{
	loop_t *l = NULL;
	netns_pool_t *np = NULL;
	char why[256] = "";
	int egress = -1;
	ino_t host = ns_ino("/proc/thread-self/ns/net");
	CHECK(loop_new(&l) == 0);
	CHECK(netns_pool_new(l, API_PORT, &np, &egress, why, sizeof(why)) == 0);
	if (!np) {
		fprintf(stderr, "  %s\n", why);
		loop_free(l);
		return;
	}
	CHECK(ns_ino("/proc/thread-self/ns/net") == host);
	struct netns_slot s;
	CHECK(netns_take(np, &s) == 0);
	CHECK(ns_ino("/proc/thread-self/ns/net") == host); /* back home */
	struct stat st;
	CHECK(s.ns_fd >= 0 && fstat(s.ns_fd, &st) == 0 && st.st_ino != host);
	CHECK(s.rapi_fd >= 0 && s.rapi_port > 0 && local_port(s.rapi_fd) == s.rapi_port);
	CHECK(s.api_fd >= 0 && local_port(s.api_fd) == API_PORT);
	/* inside: its own loopback is up and both sockets are on it */
	CHECK(try_connect(s.ns_fd, s.rapi_port) == 0);
	CHECK(try_connect(s.ns_fd, API_PORT) == 0);
	/* a port the host listens on is not reachable from inside */
	int hl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	CHECK(hl >= 0 && bind(hl, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(hl, 4) == 0);
	int hport = local_port(hl);
	CHECK(try_connect(0, hport) == 0);             /* the host reaches it */
	CHECK(try_connect(s.ns_fd, hport) == ECONNREFUSED); /* the namespace does not */
	close(hl);
	pid_t slirp = s.slirp_pid;
	if (egress)
		CHECK(slirp > 0 && kill(slirp, 0) == 0);
	else
		printf("  (slirp4netns is not installed: no egress checked)\n");
	netns_release(&s);
	CHECK(s.ns_fd == -1 && s.rapi_fd == -1 && s.api_fd == -1 && s.slirp_pid == -1);
	if (egress)
		CHECK(kill(slirp, 0) != 0 && errno == ESRCH); /* killed and reaped */
	netns_release(&s); /* twice is fine */
	netns_pool_free(np);
	loop_free(l);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* what netns_take costs a cold start: a namespace made ahead (the pool's
 * timer ran) against one made on the spot (and waited for) */
static void test_cost(void)
{
	enum { N = 12 };
	loop_t *l = NULL;
	netns_pool_t *np = NULL;
	char why[256] = "";
	int egress = 0;
	uint64_t fresh[N], pooled[N], made[N];
	CHECK(loop_new(&l) == 0);
	if (netns_pool_new(l, API_PORT, &np, &egress, why, sizeof(why)) != 0) {
		fprintf(stderr, "  %s\n", why);
		loop_free(l);
		t_failed_checks++;
		return;
	}
	for (int i = 0; i < N; i++) {
		struct netns_slot s;
		/* pooled: let the timer fill the pool (bounded), then take */
		for (int k = 0; k < 200; k++)
			loop_run_once(l, 5);
		uint64_t t0 = now_us();
		CHECK(netns_take(np, &s) == 0);
		pooled[i] = now_us() - t0;
		netns_release(&s);
	}
	for (int i = 0; i < N; i++) {
		/* fresh: empty the pool first (no loop runs: no refill) */
		struct netns_slot drain[NETNS_POOL_SIZE + 1], s;
		for (int k = 0; k < NETNS_POOL_SIZE; k++)
			CHECK(netns_take(np, &drain[k]) == 0);
		uint64_t t0 = now_us();
		CHECK(netns_take(np, &s) == 0);
		fresh[i] = now_us() - t0;
		made[i] = s.made_us;
		netns_release(&s);
		for (int k = 0; k < NETNS_POOL_SIZE; k++)
			netns_release(&drain[k]);
	}
	qsort(fresh, N, sizeof(fresh[0]), cmp_u64);
	qsort(pooled, N, sizeof(pooled[0]), cmp_u64);
	qsort(made, N, sizeof(made[0]), cmp_u64);
	printf("  making one (unshare, lo up, two sockets, setns back%s): median %.2f ms\n",
	       egress ? ", slirp4netns spawned" : "", made[N / 2] / 1000.0);
	printf("  netns_take median of %d: %.2f ms made on the spot%s, %.3f ms from the pool (max %.2f / %.3f ms)\n",
	       N, fresh[N / 2] / 1000.0, egress ? " with slirp4netns ready" : "", pooled[N / 2] / 1000.0,
	       fresh[N - 1] / 1000.0, pooled[N - 1] / 1000.0);
	netns_pool_free(np);
	loop_free(l);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("  skipped: making network namespaces needs root (CAP_SYS_ADMIN)\n");
		return t_done("test_netns");
	}
	T_RUN(test_slot);
	T_RUN(test_cost);
	return t_done("test_netns");
}
