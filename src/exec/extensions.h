/*
 * extensions.h - an environment's extensions: the Extensions API
 * (/2020-01-01/extension/...) and their part in its lifecycle (exec/ room,
 * env.h; docs/extensions.md).
 *
 * External extensions are the executables of /opt/extensions in the
 * function's layers: launch.c starts the environment through init
 * (runtimes/rapid/init.c), which starts them at once and the runtime when
 * told. Internal extensions are whatever else registers through the
 * environment's AWS_LAMBDA_RUNTIME_API (a thread of the runtime, started
 * through AWS_LAMBDA_EXEC_WRAPPER or JAVA_TOOL_OPTIONS): they may not
 * subscribe to SHUTDOWN and must register before the runtime's first
 * GET /next. Each extension moves through AWS's states (Started,
 * Registered, Ready, Running, InitError, ExitError, Exited, LaunchError);
 * the API's errors are AWS's (403 {"errorType","errorMessage"}).
 *
 * What the lifecycle needs from here:
 *   - the runtime starts once every external extension has registered
 *     (this module tells init);
 *   - a phase (init, or an invocation) ends when the runtime and every
 *     registered extension wait in their next call: ext_ready();
 *   - an extension that crashes, cannot be started, or reports
 *     init/error or exit/error makes the environment fail with AWS's
 *     error type (Extension.Crash, Extension.LaunchError,
 *     Extension.InitError, Extension.ExitError): ext_failure();
 *   - SHUTDOWN: the runtime gets SIGTERM and QUOTA_SHUTDOWN_RUNTIME_MS,
 *     then every extension subscribed to SHUTDOWN gets the event; the
 *     environment is freed when they have exited, at the latest
 *     QUOTA_SHUTDOWN_MS after the start.
 * Whenever any of this changes, the module calls x->events.ext_changed(e).
 */
#ifndef LD_EXEC_EXTENSIONS_H
#define LD_EXEC_EXTENSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "exec/env.h"
#include "exec/rapi.h"

/* The external extensions of a layers directory (host path; "" none):
 * the executable regular files of opt/extensions, by name, into names
 * (n entries of 256). Returns how many there are (possibly more than n). */
int ext_list(const char *opt, char (*names)[256], int n);

/* e starts through init with these external extensions (file names, in
 * init's order); ctl is init's control socket (e takes it). 0 or LD_ENOMEM. */
int ext_attach(struct env *e, char (*names)[256], int n, int ctl);

/* A call of the Extensions API (the Telemetry and Logs APIs go on to
 * telemetry.c): rapi's on_ext hook for environment e (NULL: gone). */
int ext_call(struct exec *x, struct env *e, const struct rapi_ext_call *call, struct rapi_next *n,
	     struct rapi_answer *out);

/* The runtime called GET /next for the first time: registration closes. */
void ext_close_registration(struct env *e);

/* 1 when no extension keeps the current phase open: every registered one
 * waits in its next call (or none is registered), and every external one
 * has registered. */
int ext_ready(const struct env *e);

/* The error type of a failed extension (Extension.Crash, ...) and its
 * message ("exit status 1"), or NULL. */
const char *ext_failure(const struct env *e, const char **message);

/* Init ended: an EXTENSION line (and platform.extension record) per
 * extension. */
void ext_init_done(struct env *e);

/* An invocation was delivered to the runtime: the INVOKE event for every
 * extension subscribed to it. */
void ext_invoke(struct env *e, const char *request_id, int64_t deadline_ms, const char *arn, const char *trace);

/* e is going away (state DEAD): 1 when it has extensions that get a
 * shutdown phase, 0 when it may
 * be killed now. reason: "spindown", "timeout" or "failure". When
 * the phase ends, x->events.shutdown_done(e) is called. */
int ext_shutdown(struct env *e, const char *reason);

/* Extensions in their shutdown phase, across environments (the daemon's
 * stop waits for them). */
int ext_shutting_down(const struct exec *x);

/* Frees e's extension state (its descriptors, timers, kept calls). */
void ext_free(struct env *e);

#endif
