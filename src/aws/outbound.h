/*
 * outbound.h - non-blocking HTTP client on the daemon's loop (libcurl multi).
 *
 * One outbound_t drives any number of transfers from the loop: curl tells
 * it which sockets to watch (CURLMOPT_SOCKETFUNCTION -> loop_add_fd) and
 * when to wake it (CURLMOPT_TIMERFUNCTION -> loop_timer), and it reports
 * each finished transfer to its callback. Nothing blocks; a transfer never
 * completes inside outbound_request(). Connections to a host are reused and
 * limited (OUTBOUND_MAX_HOST_CONNS); transfers beyond that wait in curl.
 * Every response body is read into a buffer with a cap; every transfer has
 * a connect and a total timeout.
 */
#ifndef LD_OUTBOUND_H
#define LD_OUTBOUND_H

#include "loop.h"

#include <stddef.h>

#define OUTBOUND_MAX_HOST_CONNS 16
#define OUTBOUND_MAX_PENDING 10000 /* transfers in flight, beyond: LD_ETOOBIG */

typedef struct outbound outbound_t;

/* One request. Strings are borrowed for the duration of outbound_request()
 * only: it copies everything it keeps (the body too). */
typedef struct outbound_req {
	const char *method;            /* "GET", "POST", "PUT" */
	const char *url;               /* http(s) only */
	const char *const *headers;    /* "Name: value" lines */
	size_t nheaders;
	const void *body;              /* may be NULL when len is 0 */
	size_t len;
	size_t max_response;           /* response body cap (0: 64 KB) */
	long connect_timeout_ms;       /* 0: 5000 */
	long timeout_ms;               /* 0: 30000 */
	int netns_fd;                  /* > 0: connect from inside this network namespace
	                                  (an isolated environment's, exec/netns.h; needs
	                                  CAP_SYS_ADMIN), never reusing a connection; 0: the
	                                  daemon's. Duplicated: the caller keeps its fd */
} outbound_req_t;

/* How a transfer ended. Valid during the callback only. */
typedef struct outbound_result {
	int rc;             /* 0: a response arrived (any status); LD_EREMOTE: the
	                     * transfer failed (no connection, reset, timeout,
	                     * aborted); LD_ETOOBIG: the response body passed the
	                     * cap; LD_ENOMEM */
	int timed_out;      /* rc is LD_EREMOTE because a timeout passed */
	long status;        /* HTTP status, 0 when none arrived */
	const char *body;   /* the response body, NUL-terminated ("" when none) */
	size_t len;
	const char *error;  /* the transport's error text when rc != 0, else "" */
} outbound_result_t;

typedef void (*outbound_cb)(void *ud, const outbound_result_t *res);

/* Creates a client on loop. LD_ENOMEM. */
int outbound_new(loop_t *loop, outbound_t **out);

/* Raises (or lowers) ob's limit of connections per host from
 * OUTBOUND_MAX_HOST_CONNS to n (1 or more): for a client whose calls wait
 * long on purpose, such as the event source pollers' long polls. */
void outbound_set_host_conns(outbound_t *ob, long n);

/* Aborts the transfers in flight (each callback runs, on this stack, with
 * rc LD_EREMOTE and error "aborted"), closes the connections, frees ob.
 * Not to be called from inside an outbound callback. NULL is a no-op. */
void outbound_free(outbound_t *ob);

/* Starts req; cb(ud, result) runs exactly once, later, from the loop.
 * Returns 0, or LD_EINVAL (no method or url), LD_ETOOBIG (too many in
 * flight), LD_ENOMEM; on failure cb is never called. */
int outbound_request(outbound_t *ob, const outbound_req_t *req, outbound_cb cb, void *ud);

/* Transfers started and not yet reported. */
size_t outbound_pending(const outbound_t *ob);

#endif
