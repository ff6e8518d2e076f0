/*
 * envlog.h - an execution environment's log stream (exec/ room, env.h).
 *
 * Every environment has a log stream named YYYY/MM/DD/[VERSION]<32 hex>,
 * as AWS names them; its lines (the runtime's output, and Lambda's
 * INIT_START / START / END / REPORT lines, or the platform.* records of
 * LoggingConfig.LogFormat JSON) go to the log store (logs/logstore.h) as
 * events of that stream in /aws/lambda/NAME (or LoggingConfig.LogGroup),
 * each with its own timestamp, and the lines of the current invocation are
 * also kept (capped) for LogType Tail. An invocation's lines reach the store
 * in one append when its REPORT is written, and output the runtime prints
 * meanwhile within 200 ms; output over the environment's rate cap
 * (srv->logs_env_rate) is dropped and counted (docs/logs.md).
 */
#ifndef LD_ENVLOG_H
#define LD_ENVLOG_H

#include <stddef.h>

#include "exec/env.h"
#include "exec/runtimes.h"

/* Names e's stream and its group (e->stream, e->log_group, e->json_logs).
 * Without a log store (srv->logs NULL) lines reach the tail only. */
void envlog_open(struct env *e);

/* Stores what waits and releases the stream's buffers. */
void envlog_close(struct env *e);

/* One line (with its newline) or formatted text, to the store and to the
 * current invocation's capture. */
void envlog_line(struct env *e, const char *text, size_t n);
void envlog_printf(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Output of the runtime, as read from its pipe: whole lines are logged, a
 * partial line waits for its end (a line of 256 KB is logged as it is). */
void envlog_output(struct env *e, const char *data, size_t n);

/* INIT_START (platform.initStart): the runtime version, before init. */
void envlog_init_start(struct env *e, const struct runtime_info *rt);

/* INIT_REPORT of an init error reported by the runtime (POST /init/error). */
void envlog_init_error(struct env *e, double ms, const char *error_type);

/* The init phase ended well (platform.initRuntimeDone, .initReport for
 * telemetry subscribers). */
void envlog_init_done(struct env *e, double ms);

/* TELEMETRY (or LOGS) Name: ... State: Subscribed Types: [...] */
void envlog_subscribed(struct env *e, int logs_api, const char *name, int types);

/* START (platform.start) of e->cur, which starts capturing its lines. */
void envlog_start(struct env *e);

/* END and REPORT (platform.report) of e->cur: duration, memory, Init
 * Duration on an environment's first invocation; status ("timeout",
 * "error") and error_type for platform failures; fn_error: the runtime
 * posted a function error (only the JSON record names it). Flushes. */
void envlog_report(struct env *e, const char *status, const char *error_type, const char *fn_error, int defer);

/* With defer (extensions still work on the invocation after the runtime's
 * answer, a function error or success), envlog_report() sends
 * platform.runtimeDone and keeps END and REPORT pending (e->report) until
 * they are done: this writes them, with status ("timeout") when they did not
 * finish in time. */
void envlog_report_pending(struct env *e, const char *status);

/* Base64 of the last ENV_TAIL_BYTES of inv's lines (malloc'd), or NULL. */
char *envlog_tail(const struct invocation *inv);

#endif
