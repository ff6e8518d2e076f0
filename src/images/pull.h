/*
 * pull.h - image pulls seen from the daemon: each runs in a child process
 * (`lambdad image-pull`, registry.h), so that the loop never blocks on a
 * registry or a 10 GB download; its one line of JSON comes back through a
 * pipe watched by the loop (images/ room; docs/images.md).
 *
 * Pulls of the same URI and architecture in flight at once are one pull
 * with several waiters. The state hangs off server_t (srv->pulls).
 */
#ifndef LD_PULL_H
#define LD_PULL_H

#include <jansson.h>

#include "server.h"

/* result: registry_pull's document (borrowed for the call), or NULL when
 * the daemon stops with the pull in flight (the waiter only lets ud go) */
typedef void (*pull_done_fn)(server_t *srv, void *ud, json_t *result);

/* Starts (or joins) the pull of uri for arch ("x86_64", "arm64"); done
 * runs from the loop once it ended, with ud. 0, LD_ENOMEM, or LD_EIO (the
 * child could not be started). */
int pull_start(server_t *srv, const char *uri, const char *arch, pull_done_fn done, void *ud);

/* The daemon stops: pulls in flight are killed, their waiters called with
 * a NULL result. */
void pull_stop(server_t *srv);

/* `lambdad image-pull --data-dir DIR [--arch A] [--image-registry HOST=URL]... URI`:
 * the child's main; prints the result's JSON on one line. Exit 0 (both
 * outcomes), 2 for bad usage. */
int pull_main(int argc, char **argv);

#endif
