/*
 * exec.c - invocations: delivery through the Runtime API, results,
 * timeouts and exits; the public API of exec.h.
 *
 * Life of an environment (env.h; started by launch.c, pooled by pool.c):
 *   init    spawned, until its first GET /next (at most QUOTA_INIT_MS).
 *   idle    parked in GET /next; reaped after the idle timeout.
 *   busy    an invocation was delivered; it ends with POST .../response or
 *           .../error, the function's Timeout, or the runtime's exit.
 *   dead    killed or exited; freed at a safe point (a deferred callback),
 *           never from inside its own callbacks.
 * An invocation goes to an idle environment of its pool, or to one
 * finishing its previous invocation, or to a new one started for it (one
 * environment runs one invocation at a time).
 *
 * Concurrency (exec.h): provisioned environments of the pool are taken
 * first; otherwise the invocation must fit the function's reservation or
 * the account's unreserved pool (quota.c), else LD_ETHROTTLED.
 *
 * The payload is handed over, not copied: the caller's buffer (or one copy
 * of borrowed bytes) becomes the invocation's, and goes on to the Runtime
 * API's response, which frees it once sent; the runtime's answer comes the
 * same way the other direction, as rapi's buffer taken into the result.
 */
#include "exec/exec.h"
#include "exec/env.h"
#include "exec/envlog.h"
#include "exec/extensions.h"
#include "exec/launch.h"
#include "exec/pool.h"
#include "exec/runtimes.h"
#include "exec/telemetry.h"
#include "exec/uidpool.h"
#include "loop.h"
#include "quotas.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/ids.h"
#include "util/str.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t env_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void start_fresh(struct pool *p, struct invocation *inv);

/* ---- ending an invocation ---- */

static void invocation_free(struct invocation *inv)
{
	buf_free(&inv->payload);
	free(inv->client_context);
	buf_free(&inv->log);
	buf_free(&inv->resp);
	free(inv);
}

struct completion {
	struct invocation *inv;
	struct exec_result res;
	char *tail;
};

static void complete_cb(void *ud)
{
	struct completion *c = ud;
	c->inv->done(c->inv->ud, &c->res);
	invocation_free(c->inv);
	buf_free(&c->res.body);
	ld_error_clear(&c->res.err);
	free(c->tail);
	free(c);
}

/* Ends an invocation; the caller's callback runs at the end of this loop
 * iteration. The result's bytes: body (taken, left empty) when given, else
 * a copy of payload[0..len). */
static void finish(struct invocation *inv, int ok, const char *fn_error, buf_t *body, const char *payload, size_t len,
		   const char *ctype, const ld_error_t *err)
{
	struct exec *x = inv->x;
	if (inv->finished)
		return;
	inv->finished = 1;
	if (inv->counted) {
		quota_release(x->quota, inv->counted);
		pool_notify_free(x, quota_fn_scope(inv->counted), quota_fn_name(inv->counted));
		inv->counted = NULL;
	} else if (inv->env) {
		pool_notify_free(x, inv->env->pool->scope, inv->env->pool->name); /* a provisioned environment */
	}
	struct completion *c = calloc(1, sizeof(*c));
	if (!c)
		return; /* out of memory: the caller's request stays unanswered */
	c->inv = inv;
	c->res.ok = ok;
	c->res.function_error = fn_error;
	buf_init(&c->res.body, 0);
	if (body) {
		c->res.body = *body;
		buf_init(body, 0);
	} else if (payload) {
		buf_append(&c->res.body, payload, len);
	}
	if (body || payload) {
		c->res.payload = c->res.body.data ? c->res.body.data : "";
		c->res.payload_len = c->res.body.len;
	}
	c->res.content_type = ctype ? ctype : "application/json";
	c->res.streamed = inv->streamed;
	c->res.error_type = inv->error_type[0] ? inv->error_type : NULL;
	c->res.log_tail = c->tail = envlog_tail(inv);
	c->res.duration_ms = inv->delivered && inv->start_us ? (double)(env_now_us() - inv->start_us) / 1000.0 : -1;
	if (err)
		ld_error_copy(&c->res.err, err);
	loop_defer(x->srv->loop, complete_cb, c);
}

/* a platform failure of the invocation, as the runtime's error document */
static void fail_with(struct invocation *inv, const char *etype, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail_with(struct invocation *inv, const char *etype, const char *fmt, ...)
{
	char why[512], body[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(body, sizeof(body), "{\"errorType\":\"%s\",\"errorMessage\":\"%s\"}", etype, why);
	finish(inv, 1, "Unhandled", NULL, body, strlen(body), NULL, NULL);
}

/* END and REPORT, or only platform.runtimeDone while extensions still
 * work on the invocation (its end waits for them) */
static void report(struct env *e, const char *status, const char *error_type, const char *fn_error)
{
	envlog_report(e, status, error_type, fn_error, !status && e->ext && !ext_ready(e));
}

/* ---- timeouts and exits ---- */

static void on_timeout(void *ud)
{
	struct env *e = ud;
	struct invocation *inv = e->cur;
	e->timer = 0;
	if (!inv || inv->finished)
		return;
	launch_drain(e);
	int timeout = (int)json_integer_value(json_object_get(e->pool->cfg, "Timeout"));
	envlog_printf(e, "%s Task timed out after %d.00 seconds\n", inv->request_id, timeout);
	report(e, "timeout", NULL, NULL);
	snprintf(inv->error_type, sizeof(inv->error_type), "Sandbox.Timedout");
	fail_with(inv, "Sandbox.Timedout", "RequestId: %s Error: Task timed out after %d.00 seconds", inv->request_id,
		  timeout);
	e->cur = NULL;
	e->reset = "timeout";
	pool_kill(e);
}

/* the runtime answered, but extensions did not call next before the
 * invocation's deadline: the invocation ends as timed out and the
 * environment is reset */
static void on_post_timeout(void *ud)
{
	struct env *e = ud;
	e->timer = 0;
	int timeout = (int)json_integer_value(json_object_get(e->pool->cfg, "Timeout"));
	envlog_printf(e, "%s Task timed out after %d.00 seconds\n", e->report.request_id, timeout);
	envlog_report_pending(e, "timeout");
	e->reset = "timeout";
	pool_kill(e);
}

/* after the runtime's answer: extensions still at work get what is left
 * of the invocation's time */
static void await_extensions(struct env *e)
{
	if (!e->report.pending)
		return;
	uint64_t now = env_now_us();
	uint64_t left_ms = e->deadline_us > now ? (e->deadline_us - now + 999) / 1000 : 0;
	if (e->timer)
		loop_cancel(e->pool->x->srv->loop, e->timer);
	e->timer = loop_timer(e->pool->x->srv->loop, left_ms, on_post_timeout, e);
}

static void deliver(struct env *e, struct invocation *inv)
{
	struct exec *x = e->pool->x;
	int timeout = (int)json_integer_value(json_object_get(e->pool->cfg, "Timeout"));
	inv->env = e;
	inv->delivered = 1;
	e->cur = inv;
	e->state = ENV_BUSY;
	sandbox_thaw(e->proc); /* frozen while it was idle (pool_idle) */
	tele_thawed(e);
	if (e->timer)
		loop_cancel(x->srv->loop, e->timer);
	inv->start_us = env_now_us();
	envlog_start(e);
	/* Root=1-<epoch seconds, 8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0 */
	char trace[80], hex[25], when[9], parent[17];
	static const char digits[] = "0123456789abcdef";
	unsigned long now = (unsigned long)time(NULL);
	for (int i = 7; i >= 0; i--, now >>= 4)
		when[i] = digits[now & 15];
	when[8] = '\0';
	ids_unique_hex(hex, 12);
	memcpy(parent, hex, 16);
	parent[16] = '\0';
	str_join(trace, sizeof(trace), "Root=1-", when, "-", hex, ";Parent=", parent, ";Sampled=0", NULL);
	int64_t deadline_ms = loop_wall_ms() + (int64_t)timeout * 1000;
	e->deadline_us = inv->start_us + (uint64_t)timeout * 1000000u;
	struct rapi_event ev = { inv->request_id, deadline_ms, inv->invoked_arn, trace, inv->client_context,
				 &inv->payload };
	rapi_deliver(e->waiting, &ev);
	e->waiting = NULL;
	if (e->ext)
		ext_invoke(e, inv->request_id, deadline_ms, inv->invoked_arn, trace);
	e->timer = loop_timer(x->srv->loop, (uint64_t)timeout * 1000, on_timeout, e);
}

static void on_init_timeout(struct env *e)
{
	if (e->state != ENV_INIT)
		return;
	struct invocation *inv = e->cur;
	if (inv) {
		fail_with(inv, "Sandbox.Timedout", "RequestId: %s Error: Task timed out after %.2f seconds",
			  inv->request_id, QUOTA_INIT_MS / 1000.0);
		e->cur = NULL;
	}
	if (e->prov)
		pool_prov_failed(e->prov); /* kills e with the others */
	pool_kill(e);
}

/* a signal as AWS (Go's os/exec) names it in "signal: ..." */
static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGHUP: return "hangup";
	case SIGINT: return "interrupt";
	case SIGQUIT: return "quit";
	case SIGILL: return "illegal instruction";
	case SIGTRAP: return "trace/breakpoint trap";
	case SIGABRT: return "aborted";
	case SIGBUS: return "bus error";
	case SIGFPE: return "floating point exception";
	case SIGKILL: return "killed";
	case SIGUSR1: return "user defined signal 1";
	case SIGSEGV: return "segmentation fault";
	case SIGUSR2: return "user defined signal 2";
	case SIGPIPE: return "broken pipe";
	case SIGALRM: return "alarm clock";
	case SIGTERM: return "terminated";
	case SIGXCPU: return "CPU time limit exceeded";
	case SIGXFSZ: return "file size limit exceeded";
	case SIGSYS: return "bad system call";
	default: return strsignal(sig);
	}
}

/* the runtime exited with status (waitpid's) */
static void runtime_exited(struct env *e, int status)
{
	struct exec *x = e->pool->x;
	e->runtime_gone = 1;
	if (e->freeing)
		return; /* it was being killed */
	launch_drain(e);
	if (e->prov && e->state == ENV_INIT)
		pool_prov_failed(e->prov); /* it exited before initialising */
	struct invocation *inv = e->cur;
	if (inv && !inv->finished && e->state == ENV_BUSY && !inv->delivered) {
		/* it had posted its last response: the invocation that reserved it
		 * gets a new environment */
		if (e->timer)
			loop_cancel(x->srv->loop, e->timer);
		e->timer = 0;
		e->cur = NULL;
		inv->env = NULL;
		pool_kill(e);
		start_fresh(e->pool, inv);
		return;
	}
	if (inv && !inv->finished) {
		char why[96];
		const char *etype = "Runtime.ExitError";
		if (inv->start_us == 0)
			inv->start_us = e->spawn_us;
		if (e->init_error) {
			/* the runtime reported an init error, then exited */
			finish(inv, 1, "Unhandled", NULL, e->init_error, strlen(e->init_error), NULL, NULL);
			e->cur = NULL;
			e->reset = "failure";
			pool_kill(e);
			return;
		}
		if (sandbox_oom_killed(e->proc) == 1) {
			etype = "Runtime.OutOfMemory";
			snprintf(why, sizeof(why), "Runtime exited with error: signal: killed");
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			snprintf(why, sizeof(why), "Runtime exited without providing a reason");
		} else if (WIFEXITED(status)) {
			snprintf(why, sizeof(why), "Runtime exited with error: exit status %d", WEXITSTATUS(status));
		} else {
			snprintf(why, sizeof(why), "Runtime exited with error: signal: %s", signal_name(WTERMSIG(status)));
		}
		envlog_printf(e, "RequestId: %s Error: %s\n%s\n", inv->request_id, why, etype);
		report(e, "error", etype, NULL);
		snprintf(inv->error_type, sizeof(inv->error_type), "%s", etype);
		fail_with(inv, etype, "RequestId: %s Error: %s", inv->request_id, why);
		e->cur = NULL;
	}
	e->reset = "failure";
	pool_kill(e);
}

/* the environment's first process exited (its pidfd fired): the runtime,
 * or init, and with it everything else */
static void on_exited(struct env *e)
{
	struct exec *x = e->pool->x;
	int status = 0;
	if (sandbox_reap(e->proc, &status) != 1)
		return;
	loop_del_fd(x->srv->loop, e->pid_fd);
	e->pid_fd = -1;
	if (e->runtime_gone) {
		pool_kill(e); /* init followed its runtime */
		return;
	}
	runtime_exited(e, status);
}

/* init reported the runtime's exit; init and the extensions live on */
static void on_runtime_exited(struct env *e, int status)
{
	runtime_exited(e, status);
}

/* ---- the Runtime API's hooks ---- */

/* an extension failed (crashed, could not start, reported an error): the
 * environment fails with AWS's error type for it, and is reset */
static void extension_failed(struct env *e, const char *etype, const char *msg)
{
	struct invocation *inv = e->cur;
	if (e->state == ENV_INIT) {
		double ms = (double)(env_now_us() - e->spawn_us) / 1000.0;
		envlog_init_error(e, ms, etype);
		if (inv && !inv->finished) {
			inv->start_us = e->spawn_us;
			snprintf(inv->error_type, sizeof(inv->error_type), "%s", etype);
			fail_with(inv, etype, "RequestId: %s Error: %s", inv->request_id, msg);
		}
		e->cur = NULL;
		if (e->prov)
			pool_prov_failed(e->prov);
	} else if (inv && !inv->finished && inv->delivered) {
		envlog_printf(e, "RequestId: %s Error: %s\n%s\n", inv->request_id, msg, etype);
		report(e, "error", etype, NULL);
		snprintf(inv->error_type, sizeof(inv->error_type), "%s", etype);
		fail_with(inv, etype, "RequestId: %s Error: %s", inv->request_id, msg);
		e->cur = NULL;
	} else if (e->report.pending) {
		envlog_report_pending(e, "error");
	}
	e->reset = "failure";
	pool_kill(e);
}

/* The runtime waits in GET /next: once every extension waits in its own
 * next call as well, the phase (init, or the invocation) is over, and the
 * environment takes the invocation reserved for it, or goes idle. */
static void advance(struct env *e)
{
	struct exec *x = e->pool->x;
	if (!e->waiting || e->state == ENV_DEAD || e->freeing)
		return;
	if (e->ext) {
		const char *msg, *etype = ext_failure(e, &msg);
		if (etype) {
			extension_failed(e, etype, msg);
			return;
		}
		if (!ext_ready(e))
			return;
	}
	if (e->report.pending) {
		if (e->timer)
			loop_cancel(x->srv->loop, e->timer);
		e->timer = 0;
		envlog_report_pending(e, NULL);
	}
	if (e->state == ENV_BUSY && e->cur && !e->cur->finished) {
		/* an invocation reserved it while it finished the previous one */
		if (!e->retired) {
			deliver(e, e->cur);
			return;
		}
		struct invocation *inv = e->cur;
		e->cur = NULL;
		inv->env = NULL;
		start_fresh(e->pool, inv);
	}
	if (e->state == ENV_INIT) {
		e->init_ms = (double)(env_now_us() - e->spawn_us) / 1000.0;
		if (e->timer)
			loop_cancel(x->srv->loop, e->timer);
		e->timer = 0;
		if (e->ext)
			ext_init_done(e);
		/* init ran at full speed (as Lambda's init); from now on the
		 * environment gets CPU in proportion to its memory */
		if (x->cpu_proportional)
			sandbox_cpu_limit(e->proc,
					  (int)json_integer_value(json_object_get(e->pool->cfg, "MemorySize")));
		envlog_init_done(e, e->init_ms);
		tele_close(e);
		if (e->cur) { /* the invocation it was started for */
			deliver(e, e->cur);
			return;
		}
	}
	pool_idle(e);
}

/* an extension registered, called next, or failed */
static void on_ext_changed(struct env *e)
{
	if (e->freeing)
		return;
	const char *msg, *etype = ext_failure(e, &msg);
	if (etype) {
		extension_failed(e, etype, msg);
		return;
	}
	advance(e);
}

static int rapi_on_next(void *ud, uint64_t env_id, struct rapi_next *n)
{
	struct exec *x = ud;
	struct env *e = pool_env(x, env_id);
	if (!e || e->state == ENV_DEAD || e->waiting)
		return LD_EINVAL;
	if (e->state == ENV_BUSY && e->cur && !e->cur->finished && e->cur->delivered)
		return LD_EINVAL; /* /next before answering the current invocation */
	e->waiting = n;
	if (e->state == ENV_INIT && e->ext)
		ext_close_registration(e);
	advance(e);
	return 0;
}

static int rapi_on_ext(void *ud, uint64_t env_id, const struct rapi_ext_call *call, struct rapi_next *n,
		       struct rapi_answer *out)
{
	struct exec *x = ud;
	return ext_call(x, pool_env(x, env_id), call, n, out);
}

/* the invocation that env_id is running, if it is request_id */
static struct invocation *current(struct exec *x, uint64_t env_id, const char *request_id, struct env **ep)
{
	struct env *e = pool_env(x, env_id);
	if (!e || !e->cur || e->state != ENV_BUSY || strcmp(e->cur->request_id, request_id) != 0 || e->cur->finished)
		return NULL;
	*ep = e;
	return e->cur;
}

/* the invocation a final result is for: its environment's timer stops, and
 * what the runtime wrote before posting is drained into the invocation's log
 * first (epoll may report the post before the pipe) */
static struct invocation *result_for(struct exec *x, uint64_t env_id, const char *request_id, struct env **ep)
{
	struct invocation *inv = current(x, env_id, request_id, ep);
	if (!inv)
		return NULL;
	struct env *e = *ep;
	if (e->timer)
		loop_cancel(x->srv->loop, e->timer);
	e->timer = 0;
	launch_drain(e);
	return inv;
}

/* the response passed `limit`: the runtime got 413, the caller gets AWS's error */
static void fail_too_large(struct env *e, struct invocation *inv, unsigned limit)
{
	report(e, "error", "Function.ResponseSizeTooLarge", NULL);
	snprintf(inv->error_type, sizeof(inv->error_type), "Function.ResponseSizeTooLarge");
	char big[200];
	snprintf(big, sizeof(big),
		 "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (%u "
		 "bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
		 limit);
	finish(inv, 1, "Unhandled", NULL, big, strlen(big), "application/json", NULL);
}

static int rapi_on_chunk(void *ud, uint64_t env_id, const char *request_id, const char *data, size_t len,
			 const char *content_type)
{
	struct env *e;
	struct invocation *inv = current(ud, env_id, request_id, &e);
	if (!inv)
		return LD_ENOTFOUND;
	if (!inv->on_chunk)
		return buf_append(&inv->resp, data, len); /* capped at 6 MB + 100 */
	if (inv->stream_bytes + len > QUOTA_STREAM_RESPONSE)
		return LD_ETOOBIG;
	inv->stream_bytes += len;
	inv->streamed = 1;
	inv->on_chunk(inv->ud, data, len, content_type);
	return 0;
}

static int rapi_on_stream_end(void *ud, uint64_t env_id, const char *request_id, const char *content_type,
			      int oversized, const char *error_type, const char *error_body)
{
	struct env *e;
	struct invocation *inv = result_for(ud, env_id, request_id, &e);
	if (!inv)
		return LD_ENOTFOUND;
	if (oversized) {
		fail_too_large(e, inv, inv->on_chunk ? QUOTA_STREAM_RESPONSE : QUOTA_SYNC_RESPONSE);
	} else if (error_type && *error_type) {
		/* a mid-stream error, from the trailers */
		unsigned char *doc = NULL;
		size_t n = 0;
		report(e, NULL, NULL, error_type);
		snprintf(inv->error_type, sizeof(inv->error_type), "%s", error_type);
		if (error_body && !b64_decode(error_body, strlen(error_body), &doc, &n)) {
			finish(inv, 1, "Unhandled", NULL, (char *)doc, strlen((char *)doc), "application/json", NULL);
		} else {
			char fallback[300];
			snprintf(fallback, sizeof(fallback), "{\"errorType\":\"%.100s\",\"errorMessage\":\"\"}", error_type);
			finish(inv, 1, "Unhandled", NULL, fallback, strlen(fallback), "application/json", NULL);
		}
		free(doc);
	} else {
		report(e, NULL, NULL, NULL);
		finish(inv, 1, NULL, &inv->resp, NULL, 0, content_type, NULL);
	}
	e->cur = NULL;
	await_extensions(e);
	return 0;
}

static int rapi_on_result(void *ud, uint64_t env_id, const char *request_id, int is_error, const char *error_type,
			  buf_t *body, const char *content_type)
{
	struct env *e;
	struct invocation *inv = result_for(ud, env_id, request_id, &e);
	if (!inv)
		return LD_ENOTFOUND;
	if (is_error == 2) {
		fail_too_large(e, inv, QUOTA_SYNC_RESPONSE);
	} else if (is_error) {
		/* a function error: AWS's REPORT has no Status for it (only for
		 * platform failures: timeouts, exits, oversized responses) */
		const char *type = error_type && *error_type ? error_type : "Runtime.Unknown";
		report(e, NULL, NULL, type);
		snprintf(inv->error_type, sizeof(inv->error_type), "%s", type);
		finish(inv, 1, "Unhandled", body, NULL, 0, "application/json", NULL);
	} else {
		report(e, NULL, NULL, NULL);
		finish(inv, 1, NULL, body, NULL, 0, content_type, NULL);
	}
	/* the runtime calls /next next; until then the environment is busy */
	e->cur = NULL;
	await_extensions(e);
	return 0;
}

static void rapi_on_init_error(void *ud, uint64_t env_id, const char *error_type, const char *body, size_t len)
{
	struct env *e = pool_env(ud, env_id);
	if (!e)
		return;
	free(e->init_error);
	e->init_error = strndup(body, len);
	snprintf(e->init_error_type, sizeof(e->init_error_type), "%s", error_type ? error_type : "Runtime.Unknown");
	envlog_init_error(e, (double)(env_now_us() - e->spawn_us) / 1000.0, e->init_error_type);
	if (e->prov && e->state == ENV_INIT)
		pool_prov_failed(e->prov);
}

static const struct rapi_hooks hooks = {
	.on_next = rapi_on_next,
	.on_result = rapi_on_result,
	.on_chunk = rapi_on_chunk,
	.on_stream_end = rapi_on_stream_end,
	.on_init_error = rapi_on_init_error,
	.on_ext = rapi_on_ext,
};

/* ---- invoking ---- */

/* the environment reserved for an invocation did not call GET /next in time
 * (or exited): the invocation gets a new environment */
static void on_reserve_timeout(void *ud)
{
	struct env *e = ud;
	struct invocation *inv = e->cur;
	e->timer = 0;
	if (!inv || inv->delivered || inv->finished)
		return;
	e->cur = NULL;
	inv->env = NULL;
	start_fresh(e->pool, inv);
}

/* inv goes to e: at once when e waits in GET /next, else when e (finishing
 * its previous invocation) calls it, within ENV_RESERVE_MS */
static int take(struct env *e, struct invocation *inv)
{
	if (e->state == ENV_IDLE) {
		deliver(e, inv);
		return 0;
	}
	e->cur = inv;
	inv->env = e;
	e->timer = loop_timer(e->pool->x->srv->loop, ENV_RESERVE_MS, on_reserve_timeout, e);
	return 0;
}

/* starts a new environment for inv, or finishes inv with the reason it could not */
static void start_fresh(struct pool *p, struct invocation *inv)
{
	struct env *e = NULL;
	ld_error_t err = { 0 };
	if (!inv->counted && p->fn) {
		/* it was meant for a provisioned environment that went away */
		inv->counted = p->fn;
		quota_take(p->x->quota, p->fn);
	}
	int rc = launch_env(p, inv, NULL, &e, &err);
	if (rc == LD_ENOTFOUND && err.type) {
		fail_with(inv, "Runtime.InvalidEntrypoint",
			  "RequestId: %s Error: Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
			  inv->request_id);
	} else if (rc == LD_EAPI && err.type && !strcmp(err.type, "Extension.LaunchError")) {
		fail_with(inv, err.type, "RequestId: %s Error: %s", inv->request_id, err.message ? err.message : "");
	} else if (rc == LD_EAPI) {
		finish(inv, 0, NULL, NULL, NULL, 0, NULL, &err);
	} else if (rc == LD_ENOSPC) {
		/* extracting its code would pass the data directory's reserve (util/disk.h) */
		ld_error_set(&err, "ServiceException",
			     "An error occurred starting the function: the service's data directory is out of space.");
		finish(inv, 0, NULL, NULL, NULL, 0, NULL, &err);
	} else if (rc) {
		ld_error_set(&err, "ServiceException", "An error occurred starting the function.");
		finish(inv, 0, NULL, NULL, NULL, 0, NULL, &err);
	}
	ld_error_clear(&err);
}

int exec_invoke(server_t *srv, const struct exec_request *in, exec_done_fn done, void *ud)
{
	struct exec *x = srv->exec;
	if (!x)
		return LD_EIO; /* execution was not started (tools that only need the control plane) */
	struct pool *p = pool_for(x, in);
	if (!p)
		return LD_ENOMEM;
	/* provisioned environments first: idle, then finishing an invocation;
	 * their concurrency is already counted */
	struct env *e = pool_pick(p, 1);
	const char *why = e ? NULL : quota_check(x->quota, p->fn);
	if (why) {
		if (in->throttle_reason)
			*in->throttle_reason = why;
		return LD_ETHROTTLED;
	}
	struct invocation *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return LD_ENOMEM;
	inv->x = x;
	if (in->request_id && strlen(in->request_id) == 36)
		memcpy(inv->request_id, in->request_id, 37);
	else
		ids_uuid4(inv->request_id);
	/* the payload: the caller's buffer taken over, or one copy */
	buf_init(&inv->payload, 0);
	if (in->payload_buf && in->payload_buf->data == in->payload && in->payload_buf->len == in->payload_len) {
		inv->payload = *in->payload_buf;
		buf_init(in->payload_buf, 0);
	} else if (buf_append(&inv->payload, in->payload_len ? in->payload : "", in->payload_len)) {
		free(inv);
		return LD_ENOMEM;
	}
	str_join(inv->invoked_arn, sizeof(inv->invoked_arn), in->invoked_arn, NULL);
	inv->client_context = in->client_context ? strdup(in->client_context) : NULL;
	inv->want_tail = in->want_tail;
	inv->on_chunk = in->on_chunk;
	buf_init(&inv->resp, QUOTA_SYNC_RESPONSE);
	inv->done = done;
	inv->ud = ud;
	buf_init(&inv->log, ENV_INVOCATION_LOG_CAP);
	if (e)
		return take(e, inv);
	inv->counted = p->fn;
	quota_take(x->quota, p->fn);
	if ((e = pool_pick(p, 0)))
		return take(e, inv);
	start_fresh(p, inv);
	return 0;
}

void exec_forget(server_t *srv, const char *scope, const char *name)
{
	if (srv->exec)
		pool_retire(srv->exec, scope, name);
}

/* ---- start and stop ---- */

static void free_state(struct exec *x)
{
	strmap_free(x->pools, NULL);
	strmap_free(x->envs, NULL);
	strmap_free(x->compiled, NULL);
	quota_free(x->quota);
	runtimes_free(x->runtimes);
	uidpool_free(x->ids);
	free(x);
}

/* --function-network: isolated environments get namespaces made ahead */
static int start_network(struct exec *x, int mode)
{
	char why[256] = "";
	int egress = 0;
	if (mode != EXEC_NET_ISOLATED && mode != EXEC_NET_ISOLATED_OR_HOST) {
		fprintf(stderr, "lambdad: function network: host (functions reach every service of the host's "
				"loopback, as the daemon does)\n");
		return 0;
	}
	if (netns_pool_new(x->srv->loop, x->srv->listen_port, &x->netns, &egress, why, sizeof(why)) == 0) {
		fprintf(stderr, "lambdad: function network: isolated (a network namespace each; %s)\n",
			egress ? "egress through slirp4netns, no route to the host's loopback"
			       : "no egress: slirp4netns is not installed");
		return 0;
	}
	if (mode == EXEC_NET_ISOLATED) {
		fprintf(stderr, "lambdad: --function-network isolated: %s\n", why);
		return LD_EINVAL;
	}
	fprintf(stderr, "lambdad: function network: host, not isolated: %s\n", why);
	return 0;
}

int exec_start(server_t *srv, const struct exec_options *opt)
{
	struct exec *x = calloc(1, sizeof(*x));
	if (!x || strmap_new(&x->pools) || strmap_new(&x->envs) || strmap_new(&x->compiled) ||
	    quota_new(srv->account_concurrency, &x->quota)) {
		if (x)
			free_state(x);
		return LD_ENOMEM;
	}
	x->srv = srv;
	x->idle_timeout_s = opt->idle_timeout_s > 0 ? opt->idle_timeout_s : 300;
	x->cpu_proportional = opt->cpu_proportional;
	x->events.exited = on_exited;
	x->events.init_timeout = on_init_timeout;
	x->events.runtime_exited = on_runtime_exited;
	x->events.ext_changed = on_ext_changed;
	x->events.shutdown_done = pool_release;
	sandbox_probe(&x->caps, NULL);
	int level = opt->sandbox_level >= 0 && opt->sandbox_level <= (int)x->caps.level ? opt->sandbox_level
										     : (int)x->caps.level;
	x->sandbox = sandbox_ops_of((enum sandbox_level)level);
	if (geteuid() == 0) {
		/* functions run as other uids: the data directory (store, keys,
		 * blobs, logs) is the daemon's alone. Code and layers reach an
		 * environment through bind mounts, which need no access to it. */
		struct stat st;
		if (stat(srv->data_dir, &st) == 0 && (st.st_mode & 077)) {
			if (chmod(srv->data_dir, st.st_mode & 07700) == 0)
				fprintf(stderr, "lambdad: %s was accessible to other users: now mode 0700\n", srv->data_dir);
			else
				fprintf(stderr, "lambdad: cannot make %s mode 0700: %s\n", srv->data_dir, strerror(errno));
		}
		if (uidpool_new(UIDPOOL_BASE, UIDPOOL_COUNT, UIDPOOL_LOCK, &x->ids) != 0) {
			free_state(x);
			return LD_ENOMEM;
		}
	}
	launch_reap_leftovers(srv); /* before anything runs: nothing of a killed daemon may run beside it */
	char installed[PATH_MAX];
	str_join(installed, sizeof(installed), srv->data_dir, "/runtimes", NULL);
	if (runtimes_init(opt->runtimes_dir, installed, opt->runtime_overrides, &x->runtimes)) {
		free_state(x);
		return LD_ENOMEM;
	}
	fprintf(stderr, "lambdad: %s%s\n", sandbox_describe(&x->caps),
		x->sandbox->level != x->caps.level ? " (process level chosen)" : "");
	if (x->caps.why[0])
		fprintf(stderr, "lambdad: sandbox limits: %s\n", x->caps.why);
	fprintf(stderr, "lambdad: function CPU: %s\n",
		x->cpu_proportional ? "in proportion to memory after init, 1769 MB = one CPU (--function-cpu "
				      "proportional; where the sandbox has the cpu controller)"
				    : "unlimited (--function-cpu unlimited)");
	fprintf(stderr, "lambdad: runtimes: %s\n", runtimes_describe(x->runtimes));
	if (opt->python_sdk && runtimes_set_python_sdk(x->runtimes, opt->python_sdk))
		fprintf(stderr, "lambdad: --python-sdk %s: no boto3 with its dependencies there; keeping the one found\n",
			opt->python_sdk);
	const char *sdk_version, *sdk = runtimes_python_sdk(x->runtimes, &sdk_version);
	if (sdk)
		fprintf(stderr, "lambdad: python runtimes get boto3 %s from %s\n", sdk_version, sdk);
	else
		fprintf(stderr, "lambdad: python runtimes get no boto3: the host has none (Debian's python3-boto3 or "
				"pip install boto3 provide it)\n");
	if ((sdk = runtimes_node_sdk(x->runtimes, &sdk_version)))
		fprintf(stderr, "lambdad: nodejs runtimes get the AWS SDK for JavaScript %s from %s\n", sdk_version, sdk);
	else
		fprintf(stderr, "lambdad: nodejs runtimes get no AWS SDK: tools/sdk.sh (make run) installs it\n");
	int rc = rapi_start(srv->loop, &hooks, x, &x->rapi);
	if (rc) {
		free_state(x);
		return rc;
	}
	if ((rc = start_network(x, opt->function_network))) {
		rapi_stop(x->rapi);
		free_state(x);
		return rc;
	}
	srv->exec = x;
	return 0;
}

/* answers an invocation still waiting: the loop will not run again */
static void answer_shutdown(void *ud, const char *key, void *val)
{
	struct pool *p = val;
	for (struct env *e = p->envs; e; e = e->next) {
		struct invocation *inv = e->cur;
		if (!inv || inv->finished)
			continue;
		struct exec_result res = { .ok = 0 };
		ld_error_set(&res.err, "ServiceException", "lambdad is shutting down.");
		inv->finished = 1;
		inv->done(inv->ud, &res);
		ld_error_clear(&res.err);
		buf_free(&res.body);
		invocation_free(inv);
		e->cur = NULL;
	}
}

static void kill_env(void *ud, const char *key, void *val)
{
	struct env *e = val;
	if (e->ext)
		pool_kill(e);
}

void exec_stop(server_t *srv)
{
	struct exec *x = srv->exec;
	if (!x)
		return;
	x->stopping = 1;
	strmap_each(x->pools, answer_shutdown, NULL);
	/* extensions subscribed to SHUTDOWN get their phase (at most
	 * QUOTA_SHUTDOWN_MS), as when an environment is reaped */
	strmap_each(x->envs, kill_env, NULL);
	uint64_t until = env_now_us() + (QUOTA_SHUTDOWN_MS + 200) * 1000u;
	while (ext_shutting_down(x) && env_now_us() < until)
		loop_run_once(x->srv->loop, 50);
	pool_free_all(x);
	tele_stop(x);
	rapi_stop(x->rapi);
	netns_pool_free(x->netns);
	free_state(x);
	srv->exec = NULL;
}

/* ---- concurrency ---- */

int exec_runs_images(server_t *srv, const char **why)
{
	struct exec *x = srv->exec;
	if (x && x->sandbox->level == SANDBOX_FULL)
		return 0;
	*why = "lambdad runs container image functions only in its full sandbox (as root, with namespaces): this "
	       "server runs functions at the process level.";
	return LD_EINVAL;
}

int exec_can_run(server_t *srv, const struct exec_request *in, const char **reason)
{
	struct exec *x = srv->exec;
	*reason = NULL;
	if (!x)
		return LD_EIO;
	struct pool *p = pool_for(x, in);
	if (!p)
		return LD_ENOMEM;
	if (pool_pick(p, 1))
		return 0;
	*reason = quota_check(x->quota, p->fn);
	return *reason ? LD_ETHROTTLED : 0;
}

void exec_set_reserved(server_t *srv, const char *scope, const char *name, int reserved)
{
	struct exec *x = srv->exec;
	quota_fn_t *f = x ? quota_fn(x->quota, scope, name) : NULL;
	if (f && quota_set_reserved(x->quota, f, reserved))
		pool_notify_free(x, scope, NULL); /* the pool of every other function changed too */
}

const struct runtimes *exec_runtimes(server_t *srv)
{
	return srv->exec ? srv->exec->runtimes : NULL;
}

void exec_on_free(server_t *srv, exec_free_fn fn, void *ud)
{
	struct exec *x = srv->exec;
	if (!x)
		return;
	x->on_free = fn;
	x->on_free_ud = ud;
}

/* ---- provisioned concurrency (pool.c) ---- */

int exec_provision(server_t *srv, const struct exec_request *in, const char *key, int n, int64_t token,
		   exec_provision_fn on_report)
{
	return srv->exec ? pool_provision(srv->exec, in, key, n, token, on_report) : LD_EIO;
}

void exec_unprovision(server_t *srv, const char *scope, const char *key)
{
	if (srv->exec)
		pool_unprovision(srv->exec, scope, key);
}

void exec_provisioned_keys(server_t *srv, const char *scope, const char *name, void (*fn)(void *ud, const char *key),
			   void *ud)
{
	if (srv->exec)
		pool_provisioned_keys(srv->exec, scope, name, fn, ud);
}
