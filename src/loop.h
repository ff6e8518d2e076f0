/*
 * loop.h - the daemon's single event loop (epoll), its timers and deferred work.
 *
 * One thread owns all state. Everything that waits (the HTTP front's sockets,
 * signals, child processes later) registers a file descriptor here; timers
 * and deferred callbacks run between epoll waits, so a callback can safely
 * schedule the destruction of an object that is still on the stack above it.
 */
#ifndef LD_LOOP_H
#define LD_LOOP_H

#include <stdint.h>

typedef struct loop loop_t;
typedef void (*loop_fd_cb)(void *ud, uint32_t events);
typedef void (*loop_cb)(void *ud);

/* Creates a loop. *out is owned by the caller (loop_free). LD_ENOMEM/LD_EIO. */
int loop_new(loop_t **out);
void loop_free(loop_t *l);

/* Watches fd for epoll events; cb runs with ud. The fd stays owned by the
 * caller, who must loop_del_fd() before closing it. LD_EIO on failure. */
int loop_add_fd(loop_t *l, int fd, uint32_t events, loop_fd_cb cb, void *ud);
int loop_mod_fd(loop_t *l, int fd, uint32_t events);
void loop_del_fd(loop_t *l, int fd);

/* Runs cb(ud) once, no earlier than ms milliseconds from now. Returns a timer
 * id > 0 for loop_cancel(), or a negative LD_E* code. */
int64_t loop_timer(loop_t *l, uint64_t ms, loop_cb cb, void *ud);
void loop_cancel(loop_t *l, int64_t id);
/* Runs cb(ud) at the end of the current iteration (a zero-delay timer). */
int loop_defer(loop_t *l, loop_cb cb, void *ud);

/* Hooks around each epoll wait: prepare runs before it and may bound the
 * wait (ms, -1 for none); check runs right after it, before fd callbacks.
 * The HTTP servers use them to drive libmicrohttpd's own timeouts and the
 * work it has buffered. Either may be NULL; ud identifies the pair for
 * loop_del_hooks. At most LOOP_MAX_HOOKS pairs (LD_ETOOBIG beyond). */
#define LOOP_MAX_HOOKS 8
int loop_add_hooks(loop_t *l, int64_t (*prepare)(void *ud), void (*check)(void *ud), void *ud);
void loop_del_hooks(loop_t *l, void *ud);

/* Runs until loop_stop(). Returns 0 or LD_EIO. */
int loop_run(loop_t *l);
void loop_stop(loop_t *l);

/* One iteration of loop_run(): waits at most timeout_ms (0 polls) for fd
 * events, dispatches them, then runs the timers that are due. For tests and
 * fuzzers that drive the loop by hand. 0 or LD_EIO. */
int loop_run_once(loop_t *l, int timeout_ms);

/* Monotonic milliseconds and wall-clock milliseconds since the epoch. */
uint64_t loop_now_ms(void);
int64_t loop_wall_ms(void);

#endif
