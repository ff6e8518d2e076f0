/*
 * http.h - the HTTP/1.1 front: libmicrohttpd driven by the daemon's loop.
 *
 * libmicrohttpd does the protocol work (parsing, keep-alive, chunked bodies,
 * header limits, idle timeouts) in external-epoll mode, so every request is
 * handled on the loop's thread. The front collects a request body up to the
 * route's limit, hands a req_t to router_dispatch(), and sends the result.
 */
#ifndef LD_HTTP_H
#define LD_HTTP_H

#include "server.h"

typedef struct http http_t;

/* Listens on srv->listen_host:listen_port (port 0 picks a free one; the
 * chosen port is written back to srv->listen_port). *out is owned by the
 * caller. LD_EIO when the address cannot be bound. */
int http_start(server_t *srv, http_t **out);
void http_stop(http_t *h);

#endif
