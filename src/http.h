/*
 * http.h - the HTTP/1.1 front: libmicrohttpd driven by the daemon's loop.
 *
 * libmicrohttpd does the protocol work (parsing, keep-alive, chunked bodies,
 * header limits, idle timeouts) in external-epoll mode, so every request is
 * handled on the loop's thread. The front checks what it can of a request
 * from its headers (router_precheck), collects its body up to the route's
 * limit (in memory or a file: util/spool.h, docs/http.md), hands a req_t to
 * router_dispatch(), and sends the result.
 */
#ifndef LD_HTTP_H
#define LD_HTTP_H

#include "server.h"

typedef struct http http_t;

/* Connection slots (docs/architecture.md, HTTP front), the defaults of
 * serve's flags; not AWS quotas (its front end's are not published). */
#define HTTP_DEFAULT_MAX_CONNECTIONS 4000   /* --max-connections */
#define HTTP_DEFAULT_MAX_PER_ADDRESS 256    /* --max-connections-per-address */
#define HTTP_DEFAULT_HEADER_TIMEOUT_S 10    /* --header-timeout: request line to end of headers */
#define HTTP_DEFAULT_MIN_BODY_RATE 500      /* --min-body-rate: bytes/s ... */
#define HTTP_BODY_WINDOW_S 5                /* ... averaged over windows of this many seconds */

/* Raises RLIMIT_NOFILE's soft limit to what srv->max_connections (0: the
 * default) needs plus a reserve for everything else. When the hard limit is
 * lower, says so on stderr and lowers srv->max_connections to fit; sets
 * srv->max_connections to the number in force. */
int http_raise_nofile(server_t *srv);

/* Opens the listening socket on srv->listen_host:listen_port (an IPv4
 * address; port 0 picks a free one, written back to srv->listen_port) into
 * *fd (the caller's until it passes it to http_start). LD_EINVAL when the
 * host is not an IPv4 address; LD_EIO when the socket cannot be opened,
 * bound or listened on, with the system's reason in *os_err (an errno value:
 * EADDRINUSE for a port another process listens on, EACCES, EADDRNOTAVAIL...). */
int http_listen(server_t *srv, int *fd, int *os_err);

/* Serves HTTP on fd (from http_listen, which belongs to the front from this
 * call on, whether it succeeds or not) on srv->loop. *out is owned by the
 * caller: release it with http_stop, which closes the socket. */
int http_start(server_t *srv, int fd, http_t **out);

/* --metrics-listen: a socket on host:*port (0 picks one, written back) as
 * http_listen does, and a front on it that serves GET /metrics only,
 * unauthenticated (router_route_metrics). Same returns as above. */
int http_listen_addr(const char *host, int *port, int *fd, int *os_err);
int http_start_metrics(server_t *srv, int fd, http_t **out);
void http_stop(http_t *h);

/* Serves a connection accepted elsewhere (an isolated function's, on the
 * API socket inside its network namespace: exec/netns.h) on srv->http, as
 * if it came through the listening socket. Takes fd (closed on failure).
 * Through srv->api_adopt for the rooms below. 0 or LD_EIO. */
int http_adopt(server_t *srv, int fd);

#endif
