/*
 * netns.h - network namespaces for isolated environments (exec/ room;
 * --function-network isolated, docs/sandbox.md "Network").
 *
 * An isolated environment runs in a network namespace of its own: its own
 * loopback (up), a listening socket on 127.0.0.1 inside it that lambdad
 * accepts the environment's Runtime API connections on (the socket stays in
 * the namespace it was made in; rapi_adopt_env takes it), another on
 * 127.0.0.1:<lambdad's API port> whose connections lambdad serves as API
 * requests (AWS_ENDPOINT_URL_LAMBDA: the function's SDK calls with its own
 * credentials), and, when
 * slirp4netns is installed, egress through it (a user-mode NAT process per
 * namespace: tap0 10.0.2.100/24, default route 10.0.2.2, with
 * --disable-host-loopback so 10.0.2.2 does not lead to the host's
 * loopback). Nothing inside routes to the host's 127.0.0.0/8.
 *
 * Namespaces are made ahead, a few at a time from a loop timer, so a cold
 * start takes a ready one (netns_take); an environment's namespace is never
 * reused: netns_release() drops it (the kernel frees it once its last
 * process has exited) and stops its slirp4netns.
 *
 * Making one needs CAP_SYS_ADMIN (unshare/setns of the daemon's thread for
 * a moment: the thread always comes back to the daemon's own namespace).
 * Owns: the pool's slots (namespace fds, listening sockets, slirp4netns
 * processes); a taken slot belongs to its environment.
 */
#ifndef LD_NETNS_H
#define LD_NETNS_H

#include "loop.h"

#include <sys/types.h>

/* namespaces kept ready (not an AWS quota: how many cold starts in a burst
 * find one made); past it a cold start makes its own */
#define NETNS_POOL_SIZE 4
/* how long after a take the pool starts making its replacement */
#define NETNS_REFILL_DELAY_MS 100
/* how long a cold start waits for a slirp4netns to say it is ready */
#define NETNS_READY_WAIT_MS 2000

struct netns_slot {
	int ns_fd;        /* the namespace (/proc/thread-self/ns/net); -1: none */
	int rapi_fd;      /* listening on 127.0.0.1:rapi_port inside; -1 once handed on */
	int rapi_port;
	int api_fd;       /* listening on 127.0.0.1:api_port inside (lambdad's API, whose
	                     connections launch.c hands to the HTTP front), or -1 */
	pid_t slirp_pid;  /* its slirp4netns, -1 without egress */
	int slirp_exit;   /* closing it makes slirp4netns exit (--exit-fd) */
	int slirp_ready;  /* readable once slirp4netns has configured tap0 (--ready-fd) */
	uint64_t made_us; /* what making it cost, microseconds */
};

typedef struct netns_pool netns_pool_t;

/* Makes the pool: checks that a namespace can be made (making the first),
 * finds slirp4netns on PATH (egress) and starts keeping NETNS_POOL_SIZE
 * ready on loop. Each namespace gets an API socket on api_port (0: none).
 * 0; LD_EINVAL when namespaces cannot be made here, with the reason in
 * why; LD_ENOMEM. *egress says whether there is slirp4netns. */
int netns_pool_new(loop_t *loop, int api_port, netns_pool_t **out, int *egress, char *why, size_t whyn);
void netns_pool_free(netns_pool_t *np);

/* A namespace for a new environment: a ready one, else one made now.
 * 0 or LD_EIO. */
int netns_take(netns_pool_t *np, struct netns_slot *out);

/* Drops what the slot still holds (slirp4netns killed and reaped, fds
 * closed). Safe on an empty slot ({.ns_fd = -1, ...}) and repeatedly. */
void netns_release(struct netns_slot *s);

/* A socket made inside the namespace ns_fd (> 0; else in the daemon's):
 * lambdad's telemetry connections to an isolated environment's listeners.
 * The fd, or -1 with errno set. */
int netns_socket(int ns_fd, int domain, int type, int protocol);

/* An empty slot. */
void netns_slot_init(struct netns_slot *s);

#endif
