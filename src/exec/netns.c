/*
 * netns.c - network namespaces of isolated environments (netns.h): made on
 * the daemon's thread (unshare, set up, setns back), with slirp4netns for
 * egress, a few kept ready.
 */
#include "exec/netns.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct netns_pool {
	loop_t *loop;
	int host_fd;             /* the daemon's own network namespace */
	char slirp[PATH_MAX];    /* slirp4netns, "" when the host has none */
	int api_port;            /* lambdad's API port, bound inside too; 0: none */
	struct netns_slot ready[NETNS_POOL_SIZE];
	int nready;
	int64_t timer;
	int failing;             /* the last refill failed: said once, retried slowly */
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void netns_slot_init(struct netns_slot *s)
{
	*s = (struct netns_slot){ .ns_fd = -1, .rapi_fd = -1, .api_fd = -1, .slirp_pid = -1, .slirp_exit = -1, .slirp_ready = -1 };
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void netns_release(struct netns_slot *s)
{
	if (!s)
		return;
	close_fd(&s->slirp_exit); /* slirp4netns exits on its own too, when it notices */
	if (s->slirp_pid > 0) {
		kill(s->slirp_pid, SIGKILL);
		while (waitpid(s->slirp_pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	s->slirp_pid = -1;
	close_fd(&s->slirp_ready);
	close_fd(&s->rapi_fd);
	close_fd(&s->api_fd);
	close_fd(&s->ns_fd);
}

/* in the new namespace: lo up */
static int lo_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return LD_EIO;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc == 0 ? 0 : LD_EIO;
}

/* in the new namespace: a listening socket on 127.0.0.1:*port (0: any,
 * written back) */
static int listen_loopback(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return LD_EIO;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)*port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		close(fd);
		return LD_EIO;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* slirp4netns --exit-fd/--ready-fd for the slot's namespace. The three
 * descriptors it gets are copied above the targets (3, 4, 5) first, so no
 * dup2 of the spawn overwrites another's source. */
static int start_slirp(netns_pool_t *np, struct netns_slot *s)
{
	int rp[2] = { -1, -1 }, xp[2] = { -1, -1 }, hi[3] = { -1, -1, -1 }, rc = LD_EIO;
	posix_spawn_file_actions_t fa;
	if (pipe2(rp, O_CLOEXEC) < 0 || pipe2(xp, O_CLOEXEC) < 0)
		goto out;
	hi[0] = fcntl(s->ns_fd, F_DUPFD_CLOEXEC, 10);
	hi[1] = fcntl(rp[1], F_DUPFD_CLOEXEC, 10);
	hi[2] = fcntl(xp[0], F_DUPFD_CLOEXEC, 10);
	if (hi[0] < 0 || hi[1] < 0 || hi[2] < 0 || posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	/* it chats on stderr (each start, "seccomp is experimental"); a failure
	 * shows as no readiness, which netns_take says */
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, hi[0], 3);
	posix_spawn_file_actions_adddup2(&fa, hi[1], 4);
	posix_spawn_file_actions_adddup2(&fa, hi[2], 5);
	/* lambdad's isolation: no way back to the host's loopback through the
	 * gateway (10.0.2.2); slirp4netns itself in a mount namespace of its
	 * own without capabilities, and its seccomp filter */
	char *argv[] = { np->slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--enable-sandbox",
			 "--enable-seccomp", "--netns-type=path", "--ready-fd=4", "--exit-fd=5",
			 "/proc/self/fd/3", "tap0", NULL };
	pid_t pid;
	int err = posix_spawn(&pid, np->slirp, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0)
		goto out;
	s->slirp_pid = pid;
	s->slirp_ready = rp[0];
	s->slirp_exit = xp[1];
	rp[0] = xp[1] = -1;
	rc = 0;
out:
	for (int i = 0; i < 3; i++)
		close_fd(&hi[i]);
	close_fd(&rp[0]);
	close_fd(&rp[1]);
	close_fd(&xp[0]);
	close_fd(&xp[1]);
	return rc;
}

/* A new namespace into s. The thread's way back is checked: a daemon thread
 * left in a function's namespace would be far worse than a failed start. */
static int make_slot(netns_pool_t *np, struct netns_slot *s)
{
	uint64_t t0 = now_us();
	netns_slot_init(s);
	if (unshare(CLONE_NEWNET) != 0)
		return LD_EIO;
	int rc = 0;
	s->ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int api_port = np->api_port;
	if (s->ns_fd < 0 || lo_up() || (s->rapi_fd = listen_loopback(&s->rapi_port)) < 0 ||
	    (api_port > 0 && (s->api_fd = listen_loopback(&api_port)) < 0))
		rc = LD_EIO;
	if (setns(np->host_fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "lambdad: cannot return to the daemon's network namespace: %s\n", strerror(errno));
		abort();
	}
	if (!rc && np->slirp[0])
		rc = start_slirp(np, s);
	if (rc) {
		netns_release(s);
		return rc;
	}
	s->made_us = now_us() - t0;
	return 0;
}

int netns_socket(int ns_fd, int domain, int type, int protocol)
{
	if (ns_fd <= 0)
		return socket(domain, type, protocol);
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return -1;
	if (setns(ns_fd, CLONE_NEWNET) != 0) {
		close(home);
		return -1;
	}
	int fd = socket(domain, type, protocol), err = errno;
	if (setns(home, CLONE_NEWNET) != 0) {
		fprintf(stderr, "lambdad: cannot return to the daemon's network namespace: %s\n", strerror(errno));
		abort();
	}
	close(home);
	errno = err;
	return fd;
}

static void refill(void *ud);

static void arm(netns_pool_t *np, uint64_t ms)
{
	if (!np->timer) {
		int64_t t = loop_timer(np->loop, ms, refill, np);
		np->timer = t > 0 ? t : 0;
	}
}

/* one namespace per run, so a burst of cold starts is not held up by
 * several makings in a row */
static void refill(void *ud)
{
	netns_pool_t *np = ud;
	np->timer = 0;
	if (np->nready >= NETNS_POOL_SIZE)
		return;
	int rc = make_slot(np, &np->ready[np->nready]);
	if (rc) {
		if (!np->failing)
			fprintf(stderr, "lambdad: cannot make a network namespace ahead: %s\n", strerror(errno));
		np->failing = 1;
		arm(np, 1000);
		return;
	}
	np->failing = 0;
	np->nready++;
	if (np->nready < NETNS_POOL_SIZE)
		arm(np, 1);
}

/* slirp4netns on PATH (or Debian's place) */
static void find_slirp(char *out, size_t n)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	out[0] = '\0';
	snprintf(dirs, sizeof(dirs), "%s:/usr/bin:/usr/sbin", path ? path : "");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, n, "%s/slirp4netns", d);
		if (d[0] == '/' && access(out, X_OK) == 0)
			return;
	}
	out[0] = '\0';
}

int netns_pool_new(loop_t *loop, int api_port, netns_pool_t **out, int *egress, char *why, size_t whyn)
{
	*out = NULL;
	netns_pool_t *np = calloc(1, sizeof(*np));
	if (!np)
		return LD_ENOMEM;
	np->loop = loop;
	np->api_port = api_port;
	np->host_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (np->host_fd < 0) {
		snprintf(why, whyn, "cannot open /proc/thread-self/ns/net: %s", strerror(errno));
		free(np);
		return LD_EINVAL;
	}
	find_slirp(np->slirp, sizeof(np->slirp));
	*egress = np->slirp[0] != '\0';
	/* the first one says whether this host lets us */
	if (make_slot(np, &np->ready[0]) != 0) {
		snprintf(why, whyn, "cannot make a network namespace (%s; it needs root with CAP_SYS_ADMIN)",
			 strerror(errno));
		close(np->host_fd);
		free(np);
		return LD_EINVAL;
	}
	np->nready = 1;
	arm(np, 1);
	*out = np;
	return 0;
}

void netns_pool_free(netns_pool_t *np)
{
	if (!np)
		return;
	if (np->timer)
		loop_cancel(np->loop, np->timer);
	for (int i = 0; i < np->nready; i++)
		netns_release(&np->ready[i]);
	close(np->host_fd);
	free(np);
}

/* waits (bounded) for slirp4netns to have configured tap0; without it the
 * environment still runs, with no way out */
static void wait_ready(struct netns_slot *s)
{
	if (s->slirp_ready < 0)
		return;
	struct pollfd pfd = { .fd = s->slirp_ready, .events = POLLIN };
	uint64_t deadline = now_us() + NETNS_READY_WAIT_MS * 1000u;
	int r;
	do {
		uint64_t now = now_us();
		r = poll(&pfd, 1, now < deadline ? (int)((deadline - now) / 1000u) + 1 : 0);
	} while (r < 0 && errno == EINTR && now_us() < deadline);
	char c = 0;
	if (r != 1 || read(s->slirp_ready, &c, 1) != 1 || c != '1')
		fprintf(stderr, "lambdad: slirp4netns (pid %d) is not ready: the environment has no egress\n",
			(int)s->slirp_pid);
	close_fd(&s->slirp_ready);
}

int netns_take(netns_pool_t *np, struct netns_slot *out)
{
	int rc = 0;
	if (np->nready > 0) {
		*out = np->ready[0];
		memmove(&np->ready[0], &np->ready[1], (size_t)(np->nready - 1) * sizeof(np->ready[0]));
		np->nready--;
	} else if ((rc = make_slot(np, out))) {
		return rc;
	}
	wait_ready(out);
	/* not on the cold start's path: making one blocks the loop for a few
	 * milliseconds, while this environment's runtime starts */
	arm(np, NETNS_REFILL_DELAY_MS);
	return 0;
}
