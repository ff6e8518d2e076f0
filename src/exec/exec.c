/*
 * exec.c - execution environments, their pools and invocations (exec.h).
 *
 * Life of an environment:
 *   spawn   code extracted once per CodeSha256 under DATA/code/<sha>/, a
 *           Runtime API port opened (rapi.c), the runtime started in the
 *           sandbox with Lambda's environment variables, its stdout/stderr
 *           on one pipe watched by the loop, its exit on a pidfd.
 *   init    until its first GET /next (at most 10 s: Lambda's init limit).
 *   idle    parked in GET /next; reaped after the idle timeout.
 *   busy    an invocation was delivered; it ends with POST .../response or
 *           .../error, the function's Timeout, or the runtime's exit.
 *   dead    killed or exited; freed at a safe point (a deferred callback),
 *           never from inside its own callbacks.
 * An invocation goes to an idle environment of its pool, or to a new one
 * spawned for it (one environment runs one invocation at a time).
 *
 * Concurrency (exec.h): provisioned environments of the pool are taken
 * first; otherwise the invocation must fit its function's reservation or
 * the account's unreserved pool (limits_check), else LD_ETHROTTLED. A
 * provisioned environment (struct prov) starts without an invocation, is
 * never idle-reaped, is replaced when it dies (env_free_cb -> prov_fill),
 * and reports READY / FAILED to the control plane through a deferred call.
 *
 * Logs: every environment has a log stream YYYY/MM/DD/[VERSION]<32 hex>;
 * its lines (runtime output and Lambda's START/END/REPORT) are appended to
 * DATA/logs/ACCOUNT/REGION/NAME/<stream with / as _>.log, and the lines of
 * one invocation are kept (capped) for LogType Tail.
 */
#include "exec/exec.h"
#include "auth/auth.h"
#include "auth/keys.h"
#include "blobs/blobs.h"
#include "blobs/zip.h"
#include "exec/rapi.h"
#include "exec/runtimes.h"
#include "exec/sandbox.h"
#include "exec/uidpool.h"
#include "loop.h"
#include "quotas.h"
#include "util/arn.h"
#include "util/base64.h"
#include "util/err.h"
#include "util/ids.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CREDENTIALS_TTL_S 43200 /* minted role credentials: 12 hours, AWS's longest role session */
#define INVOCATION_LOG_CAP (256 * 1024)
#define TAIL_BYTES 4096
/* Every environment runs as a uid/gid of its own from a pool (sandbox.h's
 * UIDPOOL_*), taken at spawn and given back once its processes are gone,
 * so no two live environments, hence no two functions, share a uid: the
 * Runtime API checks a connection's uid against its environment's
 * (rapi_open_env), and RLIMIT_NPROC counts one environment's processes. The
 * name inside stays AWS's sbx_user1051. Without root there is no pool: the
 * runtime runs as the daemon's user. */
#define ENV_NPROC 1024 /* pids.max and RLIMIT_NPROC of an environment */
#define MAX_ENVS 1024
/* An invocation that finds no idle environment waits this long for one that
 * is finishing its previous invocation (response posted, GET /next not yet
 * arrived: a millisecond or two) before a new environment is spawned. */
#define RESERVE_MS 50

struct pool;
struct prov;

/* a function's concurrency, as exec counts it (exec.h) */
struct fnstate {
	struct fnstate *next;
	char scope[96], name[160];
	int reserved;          /* -1: no reservation */
	int inflight;          /* on-demand invocations accepted and not ended */
};

struct invocation {
	char request_id[37];
	char *payload;
	size_t payload_len;
	char invoked_arn[400];
	char *client_context;
	int want_tail;
	exec_done_fn done;
	void *ud;
	int64_t timer;
	uint64_t start_us;    /* delivered to the runtime (monotonic) */
	buf_t log;            /* this invocation's log lines */
	struct env *env;
	int delivered;        /* the runtime received it (GET /next answered) */
	int finished;
	struct fnstate *counted; /* the function whose concurrency it occupies (on-demand) */
	exec_chunk_fn on_chunk;  /* the caller streams (exec_request.on_chunk) */
	buf_t resp;              /* a streamed response collected for a caller that does not stream */
	size_t stream_bytes;     /* bytes handed to on_chunk */
	int streamed;            /* some went through on_chunk */
	char error_type[128];    /* exec_result.error_type */
};

enum env_state { ENV_INIT, ENV_IDLE, ENV_BUSY, ENV_DEAD };

struct env {
	struct env *next;      /* in its pool */
	char cred_id[24];      /* access key id of its minted credentials, or "" */
	struct pool *pool;
	uint64_t id;
	enum env_state state;
	struct sandbox_proc *proc;
	int listen_fd, port;
	int out_fd, pid_fd;
	buf_t line;            /* partial output line */
	struct rapi_next *waiting;
	struct invocation *cur;
	int64_t timer;         /* init or idle timer */
	uint64_t spawn_us;
	double init_ms;        /* reported on the first invocation's REPORT */
	int init_reported;
	char *init_error;      /* POST /init/error body, if any */
	char init_error_type[64];
	char stream[128];
	FILE *log;
	int freeing;
	int retired;           /* its function changed: kill instead of idling */
	struct prov *prov;     /* the provisioned configuration it belongs to, or NULL (on-demand) */
	uid_t uid;             /* its processes' uid (and gid) */
	int own_uid;           /* uid was taken from X->ids: give it back when freed */
};

struct pool {
	struct pool *next;
	char scope[96], name[160], version[24];
	char revision[40];
	json_t *cfg;
	struct env *envs;
	struct fnstate *fn;
};

/* a provisioned concurrency configuration: want environments in pool */
struct prov {
	struct prov *next;
	char scope[96], name[160], key[400], version[24];
	struct pool *pool;
	struct fnstate *fn;
	int want;
	int64_t token;
	exec_provision_fn report;
	int reported;          /* READY or FAILED reported for this token */
	int failed;            /* an environment failed to initialise: none are kept */
};

struct exec {
	server_t *srv;
	rapi_t *rapi;
	struct sandbox_caps caps;
	int level;
	int idle_timeout_s;
	struct pool *pools;
	uint64_t next_env_id;
	int nenvs;
	struct fnstate *fns;
	struct prov *provs;
	int stopping;
	exec_free_fn on_free;    /* exec_on_free's listener */
	void *on_free_ud;
	uidpool_t *ids; /* per-environment uids; NULL when not root */
};

static struct exec *X; /* one per process, like the server */

static void report_text(struct env *e, const char *status, const char *error_type);

static void start_fresh(struct pool *p, struct invocation *inv);
static void prov_fill(struct prov *pv);
static void prov_check(struct prov *pv);
static void prov_failed(struct prov *pv);

static void notify_free(const char *scope, const char *name)
{
	if (X->on_free && !X->stopping)
		X->on_free(X->on_free_ud, scope, name);
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- logs ---- */

static void log_line(struct env *e, const char *text, size_t n)
{
	if (e->log) {
		fwrite(text, 1, n, e->log);
		fflush(e->log);
	}
	if (e->cur && !e->cur->finished && e->cur->log.len + n <= INVOCATION_LOG_CAP)
		buf_append(&e->cur->log, text, n);
}

static void log_printf(struct env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_printf(struct env *e, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		log_line(e, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void open_log(struct env *e)
{
	char dir[PATH_MAX], path[PATH_MAX + 200], hex[33], date[16];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y/%m/%d", &tm);
	ids_hex(hex, 16);
	snprintf(e->stream, sizeof(e->stream), "%s/[%s]%s", date, e->pool->version, hex);
	/* DATA/logs/ACCOUNT:REGION/NAME/ */
	snprintf(dir, sizeof(dir), "%s/logs", X->srv->data_dir);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/logs/%s", X->srv->data_dir, e->pool->scope);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/logs/%s/%s", X->srv->data_dir, e->pool->scope, e->pool->name);
	mkdir(dir, 0700);
	char file[160];
	snprintf(file, sizeof(file), "%s", e->stream);
	for (char *p = file; *p; p++)
		if (*p == '/')
			*p = '_';
	snprintf(path, sizeof(path), "%s/%s.log", dir, file);
	e->log = fopen(path, "ae");
}

static void on_output(void *ud, uint32_t events)
{
	struct env *e = ud;
	char buf[8192];
	for (;;) {
		ssize_t n = read(e->out_fd, buf, sizeof(buf));
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				loop_del_fd(X->srv->loop, e->out_fd);
				close(e->out_fd);
				e->out_fd = -1;
			}
			break;
		}
		/* whole lines go to the log; a partial line waits (capped at 256 KB) */
		buf_append(&e->line, buf, (size_t)n);
		char *start = e->line.data, *nl;
		while ((nl = memchr(start, '\n', e->line.len - (size_t)(start - e->line.data)))) {
			log_line(e, start, (size_t)(nl - start) + 1);
			start = nl + 1;
		}
		size_t rest = e->line.len - (size_t)(start - e->line.data);
		if (rest >= 256 * 1024) {
			log_line(e, start, rest);
			rest = 0;
		}
		memmove(e->line.data, start, rest);
		e->line.len = rest;
	}
}

/* ---- traces: what a killed daemon leaves is found by the next ----
 *
 * While an environment lives, DATA/run/env-<id> holds its sandbox trace
 * (sandbox.h): its runtime's pid, uid and cgroups. The file goes with the
 * environment. A daemon killed with kill -9 cannot clean up: its runtimes
 * die with it (PDEATHSIG), but only once the kernel has torn the dead
 * daemon down, and their cgroups stay. The next daemon of the data
 * directory (the store's lock makes it the only one) reaps every trace it
 * finds before anything runs: nothing of the old daemon runs a resumed
 * event a second time, and no cgroup leaks. */

static void trace_path(uint64_t id, char *out, size_t n)
{
	snprintf(out, n, "%s/run/env-%llu", X->srv->data_dir, (unsigned long long)id);
}

static void trace_write(struct env *e)
{
	char path[PATH_MAX], line[SANDBOX_TRACE_MAX + 1];
	if (sandbox_trace(e->proc, line, sizeof(line) - 1))
		return;
	strcat(line, "\n");
	trace_path(e->id, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		fprintf(stderr, "lambdad: cannot record environment %s: %s\n", path, strerror(errno));
	close(fd);
}

static void trace_drop(struct env *e)
{
	char path[PATH_MAX];
	trace_path(e->id, path, sizeof(path));
	unlink(path);
}

/* kills and removes what the traces in DATA/run describe */
static void reap_leftovers(server_t *srv)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/run", srv->data_dir);
	mkdir(dir, 0700);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, left = 0;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "env-", 4) != 0)
			continue;
		char path[PATH_MAX + 300], line[SANDBOX_TRACE_MAX + 2];
		snprintf(path, sizeof(path), "%s/%.255s", dir, de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t len = fd >= 0 ? read(fd, line, sizeof(line) - 1) : -1;
		if (fd >= 0)
			close(fd);
		line[len > 0 ? len : 0] = '\0';
		if (len > 0 && sandbox_reap_trace(line) == LD_EIO)
			left++;
		unlink(path);
		n++;
	}
	if (d)
		closedir(d);
	if (n)
		fprintf(stderr, "lambdad: reaped %d environments of a previous run%s\n", n,
			left ? " (some processes or cgroups would not go)" : "");
}

/* ---- environments ---- */

static struct env *env_by_id(uint64_t id)
{
	for (struct pool *p = X->pools; p; p = p->next)
		for (struct env *e = p->envs; e; e = e->next)
			if (e->id == id)
				return e;
	return NULL;
}

static void env_free_cb(void *ud)
{
	struct env *e = ud;
	struct pool *p = e->pool;
	for (struct env **pp = &p->envs; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	if (e->out_fd >= 0) {
		on_output(e, 0); /* what the runtime still wrote */
		if (e->out_fd >= 0) {
			loop_del_fd(X->srv->loop, e->out_fd);
			close(e->out_fd);
		}
	}
	if (e->pid_fd >= 0)
		loop_del_fd(X->srv->loop, e->pid_fd);
	rapi_close_env(X->rapi, e->listen_fd);
	sandbox_free(e->proc); /* no process of the environment is left */
	trace_drop(e);
	if (e->cred_id[0])
		keys_revoke(X->srv->keys, e->cred_id);
	if (e->own_uid)
		uidpool_give(X->ids, e->uid);
	if (e->log)
		fclose(e->log);
	buf_free(&e->line);
	free(e->init_error);
	struct prov *pv = e->prov;
	free(e);
	X->nenvs--;
	/* a provisioned environment that died is replaced */
	if (pv && !X->stopping)
		prov_fill(pv);
}

/* kills the environment; it is freed at the end of this loop iteration */
static void env_kill(struct env *e)
{
	if (e->freeing)
		return;
	e->freeing = 1;
	e->state = ENV_DEAD;
	if (e->timer)
		loop_cancel(X->srv->loop, e->timer);
	e->timer = 0;
	if (e->waiting) {
		rapi_abandon(e->waiting);
		e->waiting = NULL;
	}
	sandbox_kill(e->proc);
	loop_defer(X->srv->loop, env_free_cb, e);
}

/* ---- invocations ---- */

static void invocation_free(struct invocation *inv)
{
	free(inv->payload);
	free(inv->client_context);
	buf_free(&inv->log);
	buf_free(&inv->resp);
	free(inv);
}

struct completion {
	struct invocation *inv;
	struct exec_result res;
	char *payload;
	char *tail;
	char *message;
};

static void complete_cb(void *ud)
{
	struct completion *c = ud;
	c->inv->done(c->inv->ud, &c->res);
	invocation_free(c->inv);
	free(c->payload);
	free(c->tail);
	free(c->message);
	free(c);
}

/* ends an invocation (the callback runs at the end of this iteration) */
static void finish(struct invocation *inv, int ok, const char *fn_error, const char *payload, size_t len,
		   const char *ctype, const char *api_type, const char *api_msg)
{
	if (inv->finished)
		return;
	inv->finished = 1;
	if (inv->counted) {
		inv->counted->inflight--;
		notify_free(inv->counted->scope, inv->counted->name);
		inv->counted = NULL;
	} else if (inv->env) {
		notify_free(inv->env->pool->scope, inv->env->pool->name); /* a provisioned environment */
	}
	if (inv->timer)
		loop_cancel(X->srv->loop, inv->timer);
	inv->timer = 0;
	struct completion *c = calloc(1, sizeof(*c));
	if (!c)
		return; /* out of memory: the caller's request stays unanswered */
	c->inv = inv;
	c->res.ok = ok;
	c->res.function_error = fn_error;
	if (payload) {
		c->payload = malloc(len + 1);
		if (c->payload) {
			memcpy(c->payload, payload, len);
			c->payload[len] = '\0';
			c->res.payload = c->payload;
			c->res.payload_len = len;
		}
	}
	c->res.content_type = ctype ? ctype : "application/json";
	c->res.streamed = inv->streamed;
	c->res.error_type = inv->error_type[0] ? inv->error_type : NULL;
	if (inv->want_tail && inv->log.len) {
		size_t n = inv->log.len > TAIL_BYTES ? TAIL_BYTES : inv->log.len;
		c->tail = b64_encode(inv->log.data + inv->log.len - n, n);
		c->res.log_tail = c->tail;
	}
	c->res.api_error_type = api_type;
	if (api_msg) {
		c->message = strdup(api_msg);
		c->res.api_error_message = c->message;
	}
	loop_defer(X->srv->loop, complete_cb, c);
}

/* LoggingConfig.LogFormat JSON: platform lines are telemetry records */
static int json_logs(const struct env *e)
{
	const char *fmt = json_string_value(json_object_get(json_object_get(e->pool->cfg, "LoggingConfig"), "LogFormat"));
	return fmt && !strcmp(fmt, "JSON");
}

/* {"time":"2024-01-01T00:00:00.000Z","type":"platform.X","record":{...}}\n;
 * takes the record */
static void log_record(struct env *e, const char *type, json_t *record)
{
	struct timespec ts;
	struct tm tm;
	char when[64], date[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03ldZ", date, ts.tv_nsec / 1000000);
	json_t *line = json_pack("{s:s,s:s,s:o}", "time", when, "type", type, "record", record);
	char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
	if (text) {
		log_line(e, text, strlen(text));
		log_line(e, "\n", 1);
	}
	free(text);
	json_decref(line);
}

/* END and REPORT lines of the current invocation (platform.report in JSON;
 * fn_error: the runtime posted a function error, reported there only) */
static void report_ex(struct env *e, const char *status, const char *error_type, const char *fn_error)
{
	if (json_logs(e)) {
		struct invocation *inv = e->cur;
		double ms = (double)(now_us() - inv->start_us) / 1000.0;
		int mem = e->proc ? sandbox_memory_peak_mb(e->proc) : -1;
		json_t *metrics = json_pack("{s:f,s:I,s:I,s:I}", "durationMs", round(ms * 100) / 100,
					    "billedDurationMs", (json_int_t)ceil(ms), "memorySizeMB",
					    json_integer_value(json_object_get(e->pool->cfg, "MemorySize")),
					    "maxMemoryUsedMB", (json_int_t)(mem > 0 ? mem : 1));
		if (!e->init_reported) {
			json_object_set_new(metrics, "initDurationMs", json_real(round(e->init_ms * 100) / 100));
			e->init_reported = 1;
		}
		json_t *rec = json_pack("{s:s,s:o,s:s}", "requestId", inv->request_id, "metrics", metrics, "status",
					status ? status : fn_error ? "error" : "success");
		if (error_type || fn_error)
			json_object_set_new(rec, "errorType", json_string(error_type ? error_type : fn_error));
		log_record(e, "platform.report", rec);
		return;
	}
	report_text(e, status, error_type);
}

static void report(struct env *e, const char *status, const char *error_type)
{
	report_ex(e, status, error_type, NULL);
}

static void report_text(struct env *e, const char *status, const char *error_type)
{
	struct invocation *inv = e->cur;
	double ms = (double)(now_us() - inv->start_us) / 1000.0;
	int mem = e->proc ? sandbox_memory_peak_mb(e->proc) : -1;
	char init[64] = "", extra[128] = "";
	if (!e->init_reported) {
		snprintf(init, sizeof(init), "Init Duration: %.2f ms\t", e->init_ms);
		e->init_reported = 1;
	}
	if (status)
		snprintf(extra, sizeof(extra), "Status: %s\t%s%s%s", status, error_type ? "Error Type: " : "",
			 error_type ? error_type : "", error_type ? "\t" : "");
	log_printf(e, "END RequestId: %s\n", inv->request_id);
	log_printf(e,
		   "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %.0f ms\tMemory Size: %d MB\t"
		   "Max Memory Used: %d MB\t%s%s\n",
		   inv->request_id, ms, ceil(ms), (int)json_integer_value(json_object_get(e->pool->cfg, "MemorySize")),
		   mem > 0 ? mem : 1, init, extra);
}

static void on_timeout(void *ud)
{
	struct env *e = ud;
	struct invocation *inv = e->cur;
	e->timer = 0;
	if (!inv || inv->finished)
		return;
	inv->timer = 0;
	if (e->out_fd >= 0)
		on_output(e, 0);
	int timeout = (int)json_integer_value(json_object_get(e->pool->cfg, "Timeout"));
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: %s Error: Task timed out after %d.00 "
		 "seconds\"}",
		 inv->request_id, timeout);
	log_printf(e, "%s Task timed out after %d.00 seconds\n", inv->request_id, timeout);
	report(e, "timeout", NULL);
	snprintf(inv->error_type, sizeof(inv->error_type), "Sandbox.Timedout");
	finish(inv, 1, "Unhandled", body, strlen(body), NULL, NULL, NULL);
	e->cur = NULL;
	env_kill(e);
}

static void deliver(struct env *e, struct invocation *inv)
{
	int timeout = (int)json_integer_value(json_object_get(e->pool->cfg, "Timeout"));
	inv->env = e;
	inv->delivered = 1;
	e->cur = inv;
	e->state = ENV_BUSY;
	if (e->timer)
		loop_cancel(X->srv->loop, e->timer);
	inv->start_us = now_us();
	if (json_logs(e))
		log_record(e, "platform.start",
			   json_pack("{s:s,s:s}", "requestId", inv->request_id, "version", e->pool->version));
	else
		log_printf(e, "START RequestId: %s Version: %s\n", inv->request_id, e->pool->version);
	char trace[80], hex[25];
	ids_hex(hex, 12);
	snprintf(trace, sizeof(trace), "Root=1-%08lx-%s;Parent=%.16s;Sampled=0", (unsigned long)time(NULL), hex, hex);
	struct rapi_event ev = { inv->request_id, loop_wall_ms() + (int64_t)timeout * 1000, inv->invoked_arn, trace,
				 inv->client_context, inv->payload, inv->payload_len };
	rapi_deliver(e->waiting, &ev);
	e->waiting = NULL;
	e->timer = loop_timer(X->srv->loop, (uint64_t)timeout * 1000, on_timeout, e);
	inv->timer = 0;
}

static void on_idle_timeout(void *ud)
{
	struct env *e = ud;
	e->timer = 0;
	if (e->state == ENV_IDLE)
		env_kill(e);
}

static void on_init_timeout(void *ud)
{
	struct env *e = ud;
	e->timer = 0;
	if (e->state != ENV_INIT)
		return;
	struct invocation *inv = e->cur;
	if (inv) {
		char body[256];
		snprintf(body, sizeof(body),
			 "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: %s Error: Task timed out "
			 "after %.2f seconds\"}",
			 inv->request_id, QUOTA_INIT_MS / 1000.0);
		finish(inv, 1, "Unhandled", body, strlen(body), NULL, NULL, NULL);
		e->cur = NULL;
	}
	if (e->prov)
		prov_failed(e->prov); /* kills e with the others */
	env_kill(e);
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

/* the runtime exited (pidfd readable) */
static void on_exit_event(void *ud, uint32_t events)
{
	struct env *e = ud;
	int status = 0;
	if (sandbox_reap(e->proc, &status) != 1)
		return;
	loop_del_fd(X->srv->loop, e->pid_fd);
	e->pid_fd = -1;
	on_output(e, 0);
	if (e->prov && e->state == ENV_INIT)
		prov_failed(e->prov); /* it exited before initialising */
	struct invocation *inv = e->cur;
	if (inv && !inv->finished && e->state == ENV_BUSY && !inv->delivered) {
		/* it had posted its last response: the invocation that reserved it
		 * gets a new environment */
		if (e->timer)
			loop_cancel(X->srv->loop, e->timer);
		e->timer = 0;
		e->cur = NULL;
		inv->env = NULL;
		env_kill(e);
		start_fresh(e->pool, inv);
		return;
	}
	if (inv && !inv->finished) {
		char body[1024], why[96];
		const char *etype = "Runtime.ExitError";
		if (e->init_error) {
			/* the runtime reported an init error, then exited */
			if (inv->start_us == 0)
				inv->start_us = e->spawn_us;
			finish(inv, 1, "Unhandled", e->init_error, strlen(e->init_error), NULL, NULL, NULL);
			e->cur = NULL;
			env_kill(e);
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
		snprintf(body, sizeof(body), "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: %s\"}", etype,
			 inv->request_id, why);
		log_printf(e, "RequestId: %s Error: %s\n%s\n", inv->request_id, why, etype);
		if (inv->start_us == 0)
			inv->start_us = e->spawn_us;
		report(e, "error", etype);
		snprintf(inv->error_type, sizeof(inv->error_type), "%s", etype);
		finish(inv, 1, "Unhandled", body, strlen(body), NULL, NULL, NULL);
		e->cur = NULL;
	}
	env_kill(e);
}

static int rapi_on_next(uint64_t env_id, struct rapi_next *n)
{
	struct env *e = env_by_id(env_id);
	if (!e || e->state == ENV_DEAD || e->waiting)
		return LD_EINVAL;
	if (e->state == ENV_BUSY && e->cur && !e->cur->finished) {
		if (e->cur->delivered)
			return LD_EINVAL; /* /next before answering the current invocation */
		/* an invocation reserved it while it finished the previous one */
		if (!e->retired) {
			e->waiting = n;
			deliver(e, e->cur);
			return 0;
		}
		struct invocation *inv = e->cur;
		e->cur = NULL;
		inv->env = NULL;
		start_fresh(e->pool, inv);
	}
	e->waiting = n;
	if (e->state == ENV_INIT) {
		e->init_ms = (double)(now_us() - e->spawn_us) / 1000.0;
		if (e->timer)
			loop_cancel(X->srv->loop, e->timer);
		e->timer = 0;
		if (e->cur) { /* the invocation it was started for */
			deliver(e, e->cur);
			return 0;
		}
	}
	e->cur = NULL;
	e->state = ENV_IDLE;
	if (e->retired) {
		env_kill(e); /* abandons the waiting GET /next */
		return 0;
	}
	if (e->prov) {
		/* provisioned: kept initialised, never reaped by the idle timer */
		prov_check(e->prov);
		return 0;
	}
	e->timer = loop_timer(X->srv->loop, (uint64_t)X->idle_timeout_s * 1000, on_idle_timeout, e);
	return 0;
}

/* the invocation that env_id is running, if it is request_id */
static struct invocation *current(uint64_t env_id, const char *request_id, struct env **ep)
{
	struct env *e = env_by_id(env_id);
	if (!e || !e->cur || e->state != ENV_BUSY || strcmp(e->cur->request_id, request_id) != 0 ||
	    e->cur->finished)
		return NULL;
	*ep = e;
	return e->cur;
}

/* the invocation a final result is for: its environment's timer stops, and
 * what the runtime wrote before posting is drained into the invocation's log
 * first (epoll may report the post before the pipe) */
static struct invocation *result_for(uint64_t env_id, const char *request_id, struct env **ep)
{
	struct invocation *inv = current(env_id, request_id, ep);
	if (!inv)
		return NULL;
	struct env *e = *ep;
	if (e->timer)
		loop_cancel(X->srv->loop, e->timer);
	e->timer = 0;
	if (e->out_fd >= 0)
		on_output(e, 0);
	return inv;
}

/* the response passed `limit`: the runtime got 413, the caller gets AWS's error */
static void fail_too_large(struct env *e, struct invocation *inv, unsigned limit)
{
	char big[200];
	snprintf(big, sizeof(big),
		 "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size (%u "
		 "bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}",
		 limit);
	report(e, "error", "Function.ResponseSizeTooLarge");
	snprintf(inv->error_type, sizeof(inv->error_type), "Function.ResponseSizeTooLarge");
	finish(inv, 1, "Unhandled", big, strlen(big), "application/json", NULL, NULL);
}

static int rapi_on_chunk(uint64_t env_id, const char *request_id, const char *data, size_t len, const char *content_type)
{
	struct env *e;
	struct invocation *inv = current(env_id, request_id, &e);
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

/* base64 text -> bytes (NUL-terminated), or NULL */
static char *unbase64(const char *s)
{
	unsigned char *out = NULL;
	size_t n;
	return b64_decode(s, strlen(s), &out, &n) ? NULL : (char *)out;
}

static int rapi_on_stream_end(uint64_t env_id, const char *request_id, const char *content_type, int oversized,
		       const char *error_type, const char *error_body)
{
	struct env *e;
	struct invocation *inv = result_for(env_id, request_id, &e);
	if (!inv)
		return LD_ENOTFOUND;
	if (oversized) {
		fail_too_large(e, inv, inv->on_chunk ? QUOTA_STREAM_RESPONSE : QUOTA_SYNC_RESPONSE);
	} else if (error_type && *error_type) {
		/* a mid-stream error, from the trailers */
		char *doc = error_body ? unbase64(error_body) : NULL;
		char fallback[300];
		if (!doc) {
			snprintf(fallback, sizeof(fallback), "{\"errorType\":\"%.100s\",\"errorMessage\":\"\"}", error_type);
		}
		report_ex(e, NULL, NULL, error_type);
		snprintf(inv->error_type, sizeof(inv->error_type), "%s", error_type);
		finish(inv, 1, "Unhandled", doc ? doc : fallback, strlen(doc ? doc : fallback), "application/json", NULL,
		       NULL);
		free(doc);
	} else {
		report(e, NULL, NULL);
		finish(inv, 1, NULL, inv->resp.data ? inv->resp.data : "", inv->resp.len, content_type, NULL, NULL);
	}
	e->cur = NULL;
	return 0;
}

static int rapi_on_result(uint64_t env_id, const char *request_id, int is_error, const char *error_type,
		   const char *body, size_t len, const char *content_type)
{
	struct env *e;
	struct invocation *inv = result_for(env_id, request_id, &e);
	if (!inv)
		return LD_ENOTFOUND;
	if (is_error == 2) {
		fail_too_large(e, inv, QUOTA_SYNC_RESPONSE);
	} else if (is_error) {
		/* a function error: AWS's REPORT has no Status for it (only for
		 * platform failures: timeouts, exits, oversized responses) */
		report_ex(e, NULL, NULL, error_type && *error_type ? error_type : "Runtime.Unknown");
		snprintf(inv->error_type, sizeof(inv->error_type), "%s",
			 error_type && *error_type ? error_type : "Runtime.Unknown");
		finish(inv, 1, "Unhandled", body, len, "application/json", NULL, NULL);
	} else {
		report(e, NULL, NULL);
		finish(inv, 1, NULL, body, len, content_type, NULL, NULL);
	}
	/* the runtime calls /next next; until then the environment is busy */
	e->cur = NULL;
	return 0;
}

static void rapi_on_init_error(uint64_t env_id, const char *error_type, const char *body, size_t len)
{
	struct env *e = env_by_id(env_id);
	if (!e)
		return;
	free(e->init_error);
	e->init_error = strndup(body, len);
	snprintf(e->init_error_type, sizeof(e->init_error_type), "%s", error_type ? error_type : "Runtime.Unknown");
	double ms = (double)(now_us() - e->spawn_us) / 1000.0;
	log_printf(e, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s\n", ms,
		   e->init_error_type);
	if (e->prov && e->state == ENV_INIT)
		prov_failed(e->prov);
}

/* ---- spawning ---- */

/* "INIT_START Runtime Version: python:3.12.v1\tRuntime Version ARN: ...":
 * the stream only (the invocation's tail starts at START, as on AWS) */
static void init_start_line(struct env *e, const struct runtime_info *rt)
{
	char ver[48];
	const char *arn = json_string_value(
		json_object_get(json_object_get(e->pool->cfg, "RuntimeVersionConfig"), "RuntimeVersionArn"));
	if (rt->kind == RUNTIME_PYTHON)
		snprintf(ver, sizeof(ver), "python:%s.v1", rt->id + strlen("python"));
	else if (rt->kind == RUNTIME_NODEJS)
		snprintf(ver, sizeof(ver), "nodejs:%d.v1", atoi(rt->id + strlen("nodejs")));
	else
		snprintf(ver, sizeof(ver), "provided:%s.v1", rt->id[8] == '.' ? rt->id + 9 : "al1");
	if (json_logs(e))
		log_record(e, "platform.initStart",
			   json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "initializationType",
				     e->prov ? "provisioned-concurrency" : "on-demand", "phase", "init",
				     "runtimeVersion", ver, "runtimeVersionArn", arn ? arn : "", "functionName",
				     e->pool->name, "functionVersion", e->pool->version));
	else
		log_printf(e, "INIT_START Runtime Version: %s\tRuntime Version ARN: %s\n", ver, arn ? arn : "");
}

/* DATA/<sub>/<name>/: the archives `hexes` extracted in order into one
 * directory (later ones overwrite earlier files), once: built under a
 * temporary name and renamed into place, so a half-extracted tree is never
 * seen; a concurrent builder's rename wins and ours is dropped. */
static int extract_once(const char *sub, const char *name, const char *const *hexes, size_t n, char *out,
			size_t outn)
{
	char tmp[PATH_MAX], rnd[17];
	snprintf(out, outn, "%s/%s/%s", X->srv->data_dir, sub, name);
	if (access(out, F_OK) == 0)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/%s", X->srv->data_dir, sub);
	mkdir(tmp, 0755);
	ids_hex(rnd, 8);
	snprintf(tmp, sizeof(tmp), "%s/%s/.%s-%s", X->srv->data_dir, sub, name, rnd);
	/* readable by the environments' uids whatever the umask (zip_extract
	 * sets its entries' modes itself) */
	if (mkdir(tmp, 0755) < 0 || chmod(tmp, 0755) < 0)
		return LD_EIO;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		void *zip = NULL;
		size_t len = 0;
		if (!hexes[i])
			break; /* as before: the archives up to a record without one */
		if (!(rc = blobs_read(X->srv->blobs, hexes[i], &zip, &len)))
			rc = zip_extract(zip, len, tmp, QUOTA_UNZIPPED);
		free(zip);
	}
	if (!rc && rename(tmp, out) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		rc = LD_EIO;
	if (rc) {
		char cmd[PATH_MAX + 16];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "lambdad: could not remove %s\n", tmp);
	}
	return rc;
}

/* DATA/code/<hex>/: the function's code */
static int code_dir(const char *hex, char *out, size_t n)
{
	const char *one[1] = { hex };
	return extract_once("code", hex, one, 1, out, n);
}

/* DATA/opt/<digest of the layer list>/: the function's layers extracted in
 * order (later ones overwrite earlier files, as on AWS), once per list.
 * *out is "" when the function has no layers. */
static int layers_dir(json_t *cfg, char *out, size_t n)
{
	json_t *layers = json_object_get(cfg, "Layers");
	const char *hexes[QUOTA_LAYERS];
	char digest[65];
	size_t i, nl = json_array_size(layers);
	json_t *l;
	out[0] = '\0';
	if (!nl)
		return 0;
	if (nl > QUOTA_LAYERS)
		return LD_ECORRUPT;
	buf_t ids;
	buf_init(&ids, 0);
	json_array_foreach(layers, i, l) {
		hexes[i] = json_string_value(json_object_get(l, "_CodeHex"));
		buf_printf(&ids, "%s;", hexes[i]);
	}
	blobs_digest(ids.data, ids.len, digest, NULL);
	buf_free(&ids);
	int rc = extract_once("opt", digest, hexes, nl, out, n);
	if (rc)
		out[0] = '\0';
	return rc;
}

/* Python runtime clients run from a read-only /var/runtime, where python
 * cannot write its bytecode cache: compile it once per interpreter, on the
 * host, before the first environment of that interpreter starts. */
static void compile_python_client(const struct runtime_info *rt)
{
	static char done[16][sizeof(rt->interp)];
	static int ndone;
	for (int i = 0; i < ndone; i++)
		if (!strcmp(done[i], rt->interp))
			return;
	char cmd[2 * PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "'%s' -m compileall -q '%s' >/dev/null 2>&1", rt->interp,
		 runtimes_client_dir(RUNTIME_PYTHON));
	if (system(cmd) != 0)
		fprintf(stderr, "lambdad: could not precompile the python runtime client for %s\n", rt->id);
	if (ndone < 16)
		snprintf(done[ndone++], sizeof(done[0]), "%s", rt->interp);
}

struct envp {
	char *v[64];
	int n;
};

static void env_add(struct envp *ev, const char *k, const char *v)
{
	if (ev->n >= 63 || !v)
		return;
	for (int i = 0; i < ev->n; i++) {
		size_t kl = strlen(k);
		if (!strncmp(ev->v[i], k, kl) && ev->v[i][kl] == '=') {
			free(ev->v[i]);
			ev->v[i] = NULL;
			if (asprintf(&ev->v[i], "%s=%s", k, v) < 0)
				ev->v[i] = NULL;
			return;
		}
	}
	if (asprintf(&ev->v[ev->n], "%s=%s", k, v) >= 0)
		ev->n++;
}

/* an unreserved variable Lambda presets: the function's own value wins */
static void env_preset(struct envp *ev, const char *k, const char *v)
{
	size_t kl = strlen(k);
	for (int i = 0; i < ev->n; i++)
		if (ev->v[i] && !strncmp(ev->v[i], k, kl) && ev->v[i][kl] == '=')
			return;
	env_add(ev, k, v);
}

static void env_free(struct envp *ev)
{
	for (int i = 0; i < ev->n; i++)
		free(ev->v[i]);
}

/* A path as the function sees it (/var/task/..., /opt/...) as the runtime
 * process can open it: the same at FULL, where code and layers are mounted
 * there; the host directories at PROCESS, where they stay at their own
 * paths. */
static void inside_path(const char *path, int full, const char *code, const char *opt, char *out, size_t n)
{
	if (!full && !strncmp(path, "/var/task/", 10))
		snprintf(out, n, "%s/%s", code, path + 10);
	else if (!full && opt[0] && !strncmp(path, "/opt/", 5))
		snprintf(out, n, "%s/%s", opt, path + 5);
	else
		snprintf(out, n, "%s", path);
}

static int spawn(struct pool *p, struct invocation *inv, struct prov *prov, struct env **out, const char **api_type,
		 char *api_msg, size_t api_len)
{
	json_t *cfg = p->cfg;
	const char *runtime = json_string_value(json_object_get(cfg, "Runtime"));
	const struct runtime_info *rt = runtimes_get(runtime);
	char code[PATH_MAX], mem[16];
	struct envp ev = { .n = 0 };
	struct env *e = NULL;
	int rc, full = X->level == SANDBOX_FULL;
	if (!rt) {
		*api_type = "InvalidRuntimeException";
		snprintf(api_msg, api_len, "The runtime parameter of %s is not supported by this lambdad host.",
			 runtime ? runtime : "(none)");
		return LD_EAPI;
	}
	if (X->nenvs >= MAX_ENVS) {
		*api_type = "TooManyRequestsException";
		snprintf(api_msg, api_len, "Rate Exceeded.");
		return LD_EAPI;
	}
	char opt[PATH_MAX];
	if ((rc = code_dir(json_string_value(json_object_get(cfg, "_CodeHex")), code, sizeof(code))) ||
	    (rc = layers_dir(cfg, opt, sizeof(opt))))
		return rc;
	if (rt->kind == RUNTIME_PYTHON)
		compile_python_client(rt);
	e = calloc(1, sizeof(*e));
	if (!e)
		return LD_ENOMEM;
	e->pool = p;
	e->prov = prov;
	e->init_reported = prov != NULL; /* its first invocation is warm: no Init Duration */
	e->id = ++X->next_env_id;
	e->out_fd = e->pid_fd = e->listen_fd = -1;
	buf_init(&e->line, 512 * 1024);
	open_log(e);
	init_start_line(e, rt);
	e->uid = geteuid();
	if (X->ids) {
		if (uidpool_take(X->ids, &e->uid) != 0) {
			*api_type = "TooManyRequestsException";
			snprintf(api_msg, api_len, "Rate Exceeded.");
			rc = LD_EAPI;
			goto fail;
		}
		e->own_uid = 1;
	}
	e->listen_fd = rapi_open_env(X->rapi, e->id, e->uid, &e->port);
	if (e->listen_fd < 0) {
		rc = e->listen_fd;
		goto fail;
	}
	const char *task = full ? "/var/task" : code;
	const char *rtdir = full ? "/var/runtime" : runtimes_client_dir(rt->kind);
	char runapi[32], bootstrap[PATH_MAX + 32], client[PATH_MAX + 32];
	snprintf(runapi, sizeof(runapi), "127.0.0.1:%d", e->port);
	snprintf(mem, sizeof(mem), "%d", (int)json_integer_value(json_object_get(cfg, "MemorySize")));
	/* customer variables first: Lambda's own override them */
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(cfg, "Environment"), "Variables"), k, v)
		env_add(&ev, k, json_string_value(v));
	env_preset(&ev, "PATH", "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin");
	env_preset(&ev, "LANG", "en_US.UTF-8");
	env_preset(&ev, "LD_LIBRARY_PATH",
		   "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib");
	env_preset(&ev, "AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR");
	env_add(&ev, "_HANDLER", json_string_value(json_object_get(cfg, "Handler")));
	env_add(&ev, "AWS_REGION", strchr(p->scope, ':') + 1);
	env_add(&ev, "AWS_DEFAULT_REGION", strchr(p->scope, ':') + 1);
	env_add(&ev, "AWS_LAMBDA_FUNCTION_NAME", p->name);
	env_add(&ev, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", mem);
	env_add(&ev, "AWS_LAMBDA_FUNCTION_VERSION", p->version);
	env_add(&ev, "AWS_LAMBDA_INITIALIZATION_TYPE", prov ? "provisioned-concurrency" : "on-demand");
	env_add(&ev, "AWS_LAMBDA_LOG_GROUP_NAME",
		json_string_value(json_object_get(json_object_get(cfg, "LoggingConfig"), "LogGroup")));
	env_add(&ev, "AWS_LAMBDA_LOG_STREAM_NAME", e->stream);
	env_add(&ev, "AWS_LAMBDA_RUNTIME_API", runapi);
	env_add(&ev, "LAMBDA_TASK_ROOT", task);
	env_add(&ev, "LAMBDA_RUNTIME_DIR", rtdir ? rtdir : "/var/runtime");
	env_add(&ev, "TZ", ":UTC");
	/* The execution role's credentials. With --auth enforce (a shared
	 * server), temporary credentials minted for this environment, in memory
	 * only, acting as the function's account and role session
	 * (arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION): a function's SDK
	 * calls to lambdad are signed and isolated like anyone's, and lambdad's
	 * own credentials never reach functions. In permissive mode (local
	 * development) functions get the credentials lambdad was started with,
	 * when it has any, so that their SDK calls reach the same endpoints. */
	if (X->srv->auth_mode == AUTH_ENFORCE) {
		struct keys_minted m;
		char account[32], principal[400];
		const char *role = json_string_value(json_object_get(cfg, "Role"));
		const char *slash = role ? strrchr(role, '/') : NULL;
		const char *region = strchr(p->scope, ':');
		region = region ? region + 1 : "";
		snprintf(account, sizeof(account), "%.*s", (int)strcspn(p->scope, ":"), p->scope);
		snprintf(principal, sizeof(principal), "arn:%s:sts::%s:assumed-role/%s/%s",
			 arn_partition(region),
			 account, slash ? slash + 1 : "lambda", p->name);
		if (keys_mint(X->srv->keys, account, principal, CREDENTIALS_TTL_S, &m) == 0) {
			snprintf(e->cred_id, sizeof(e->cred_id), "%s", m.access_key_id);
			env_add(&ev, "AWS_ACCESS_KEY_ID", m.access_key_id);
			env_add(&ev, "AWS_SECRET_ACCESS_KEY", m.secret);
			env_add(&ev, "AWS_SESSION_TOKEN", m.session_token);
		}
		OPENSSL_cleanse(&m, sizeof(m));
	} else {
		static const char *const creds[] = { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" };
		for (size_t c = 0; c < sizeof(creds) / sizeof(creds[0]); c++)
			if (getenv(creds[c]))
				env_add(&ev, creds[c], getenv(creds[c]));
	}
	const char *fmt = json_string_value(json_object_get(json_object_get(cfg, "LoggingConfig"), "LogFormat"));
	if (fmt && !strcmp(fmt, "JSON"))
		env_add(&ev, "AWS_LAMBDA_LOG_FORMAT", "JSON");
	char *argv[4] = { NULL, NULL, NULL, NULL };
	char wrapper[PATH_MAX + 32];
	int as_shell = 0;
	if (rt->kind == RUNTIME_PROVIDED) {
		/* /var/task/bootstrap, else /opt/bootstrap */
		snprintf(bootstrap, sizeof(bootstrap), "%s/bootstrap", code);
		if (access(bootstrap, X_OK) == 0) {
			snprintf(bootstrap, sizeof(bootstrap), "%s/bootstrap", task);
		} else {
			snprintf(bootstrap, sizeof(bootstrap), "%s/bootstrap", opt);
			if (!opt[0] || access(bootstrap, X_OK) != 0) {
				/* answered like AWS: the invocation fails with Runtime.InvalidEntrypoint */
				*api_type = "Runtime.InvalidEntrypoint";
				rc = LD_ENOTFOUND;
				goto fail;
			}
			if (full)
				snprintf(bootstrap, sizeof(bootstrap), "/opt/bootstrap");
		}
		argv[0] = bootstrap;
	} else {
		char execenv[48];
		snprintf(execenv, sizeof(execenv), "AWS_Lambda_%s", rt->id);
		env_add(&ev, "AWS_EXECUTION_ENV", execenv);
		if (rt->kind == RUNTIME_PYTHON) {
			env_preset(&ev, "PYTHONPATH", rtdir);
			env_add(&ev, "LC_CTYPE", "C.UTF-8");
			snprintf(client, sizeof(client), "%s/bootstrap.py", rtdir);
		} else {
			char node_path[160];
			snprintf(node_path, sizeof(node_path),
				 "/opt/nodejs/node%d/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:"
				 "/var/runtime:/var/task",
				 atoi(rt->id + strlen("nodejs")));
			env_preset(&ev, "NODE_PATH", node_path);
			snprintf(client, sizeof(client), "%s/bootstrap.js", rtdir);
		}
		argv[0] = (char *)(full ? rt->inside : rt->interp);
		argv[1] = client;
		/* AWS_LAMBDA_EXEC_WRAPPER: the managed runtime's command line runs
		 * as the arguments of the function's wrapper script (AWS; custom
		 * runtimes ignore it). A wrapper that cannot be run ends the
		 * runtime as a shell's missing command would (exit status 127). */
		const char *w = json_string_value(json_object_get(
			json_object_get(json_object_get(cfg, "Environment"), "Variables"), "AWS_LAMBDA_EXEC_WRAPPER"));
		if (w && *w) {
			inside_path(w, full, code, opt, wrapper, sizeof(wrapper));
			argv[2] = argv[1];
			argv[1] = argv[0];
			argv[0] = wrapper;
			as_shell = 1;
		}
	}
	ev.v[ev.n] = NULL;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = LD_EIO;
		goto fail;
	}
	struct sandbox_bind binds[1];
	int nbinds = 0;
	if (rt->prefix[0])
		binds[nbinds++] = (struct sandbox_bind){ rt->prefix, "/var/lang" };
	int tmp_mb = (int)json_integer_value(json_object_get(json_object_get(cfg, "EphemeralStorage"), "Size"));
	struct sandbox_spec spec = {
		.level = X->level, .caps = &X->caps, .argv = argv, .exec_as_shell = as_shell, .envp = ev.v, .cwd = task,
		.code_dir = code, .layers_dir = opt[0] ? opt : NULL, .runtime_dir = runtimes_client_dir(rt->kind),
		.binds = binds, .nbinds = nbinds, .hostname = NULL, .tmp_mb = tmp_mb > 0 ? tmp_mb : 512,
		.memory_mb = (int)json_integer_value(json_object_get(cfg, "MemorySize")), .pids_max = ENV_NPROC,
		.nofile = 1024, .nproc = e->own_uid ? ENV_NPROC : 0, .uid = e->uid, .gid = (gid_t)e->uid,
		.hide_dir = X->srv->data_dir, .stdout_fd = pipefd[1], .stderr_fd = pipefd[1],
	};
	struct sandbox_failure why = { 0 };
	e->spawn_us = now_us();
	rc = sandbox_spawn(&spec, &e->proc, &why);
	close(pipefd[1]);
	e->out_fd = pipefd[0];
	if (rc) {
		fprintf(stderr, "lambdad: spawning %s failed at %s: %s\n", p->name, why.step ? why.step : "?",
			strerror(why.err));
		goto fail;
	}
	trace_write(e);
	fcntl(e->out_fd, F_SETFL, O_NONBLOCK);
	loop_add_fd(X->srv->loop, e->out_fd, EPOLLIN, on_output, e);
	e->pid_fd = sandbox_fd(e->proc);
	if (e->pid_fd >= 0)
		loop_add_fd(X->srv->loop, e->pid_fd, EPOLLIN, on_exit_event, e);
	e->state = ENV_INIT;
	e->cur = inv;
	e->timer = loop_timer(X->srv->loop, QUOTA_INIT_MS, on_init_timeout, e);
	e->next = p->envs;
	p->envs = e;
	X->nenvs++;
	env_free(&ev);
	*out = e;
	return 0;
fail:
	env_free(&ev);
	if (e->out_fd >= 0)
		close(e->out_fd);
	rapi_close_env(X->rapi, e->listen_fd);
	if (e->own_uid)
		uidpool_give(X->ids, e->uid);
	if (e->log)
		fclose(e->log);
	buf_free(&e->line);
	free(e);
	return rc;
}

static struct fnstate *fnstate_get(const char *scope, const char *name)
{
	struct fnstate *f;
	for (f = X->fns; f; f = f->next)
		if (!strcmp(f->name, name) && !strcmp(f->scope, scope))
			return f;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	snprintf(f->scope, sizeof(f->scope), "%s", scope);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->reserved = -1;
	f->next = X->fns;
	X->fns = f;
	return f;
}

static struct pool *pool_for(const struct exec_request *in)
{
	const char *rev = json_string_value(json_object_get(in->cfg, "RevisionId"));
	const char *sha = json_string_value(json_object_get(in->cfg, "CodeSha256"));
	const char *mod = json_string_value(json_object_get(in->cfg, "LastModified"));
	char revision[40];
	/* the configuration that environments were started with: code and
	 * settings (LastModified changes with both), not tags or settle steps */
	snprintf(revision, sizeof(revision), "%.8s%.31s", sha ? sha : "", mod ? mod : (rev ? rev : ""));
	struct pool *p;
	for (p = X->pools; p; p = p->next) {
		if (strcmp(p->scope, in->scope) || strcmp(p->name, in->name) || strcmp(p->version, in->version))
			continue;
		if (strcmp(p->revision, revision) != 0) {
			/* the function changed: retire its environments (provisioned
			 * ones are replaced with the new configuration) */
			for (struct env *e = p->envs; e; e = e->next)
				if (e->state == ENV_IDLE || e->state == ENV_INIT)
					env_kill(e);
				else
					e->retired = 1;
			snprintf(p->revision, sizeof(p->revision), "%s", revision);
			json_decref(p->cfg);
			p->cfg = json_deep_copy(in->cfg);
		}
		return p;
	}
	struct fnstate *fn = fnstate_get(in->scope, in->name);
	p = fn ? calloc(1, sizeof(*p)) : NULL;
	if (!p)
		return NULL;
	p->fn = fn;
	snprintf(p->scope, sizeof(p->scope), "%s", in->scope);
	snprintf(p->name, sizeof(p->name), "%s", in->name);
	snprintf(p->version, sizeof(p->version), "%s", in->version);
	snprintf(p->revision, sizeof(p->revision), "%s", revision);
	p->cfg = json_deep_copy(in->cfg);
	p->next = X->pools;
	X->pools = p;
	return p;
}

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

/* what the function's provisioned configurations hold */
static int prov_sum(const struct fnstate *fn)
{
	int n = 0;
	for (struct prov *pv = X->provs; pv; pv = pv->next)
		if (pv->fn == fn)
			n += pv->want;
	return n;
}

/* NULL when one more on-demand invocation of fn fits, else AWS's Reason */
static const char *limits_check(const struct fnstate *fn)
{
	if (fn->reserved >= 0)
		return fn->inflight + prov_sum(fn) + 1 > fn->reserved ? EXEC_THROTTLE_RESERVED : NULL;
	/* the unreserved pool: the account limit less reservations and the
	 * provisioned concurrency of functions without one */
	long pool = X->srv->account_concurrency, used = 0;
	for (struct fnstate *f = X->fns; f; f = f->next) {
		if (strcmp(f->scope, fn->scope) != 0)
			continue;
		if (f->reserved >= 0)
			pool -= f->reserved;
		else
			used += f->inflight;
	}
	for (struct prov *pv = X->provs; pv; pv = pv->next)
		if (pv->fn->reserved < 0 && !strcmp(pv->fn->scope, fn->scope))
			pool -= pv->want;
	return used + 1 > pool ? EXEC_THROTTLE_ACCOUNT : NULL;
}

/* an environment of p that can take an invocation now: idle, else finishing
 * its previous one (about to call GET /next); provisioned ones or on-demand */
static struct env *pick(struct pool *p, int provisioned)
{
	struct env *finishing = NULL;
	for (struct env *e = p->envs; e; e = e->next) {
		if (!e->prov != !provisioned || e->retired || e->freeing)
			continue;
		if (e->state == ENV_IDLE && e->waiting)
			return e;
		if (e->state == ENV_BUSY && !e->cur && !finishing)
			finishing = e;
	}
	return finishing;
}

static int take(struct env *e, struct invocation *inv)
{
	if (e->state == ENV_IDLE) {
		deliver(e, inv);
		return 0;
	}
	e->cur = inv;
	inv->env = e;
	e->timer = loop_timer(X->srv->loop, RESERVE_MS, on_reserve_timeout, e);
	return 0;
}

int exec_invoke(server_t *srv, const struct exec_request *in, exec_done_fn done, void *ud)
{
	if (!X)
		return LD_EIO; /* execution was not started (tools that only need the control plane) */
	struct invocation *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return LD_ENOMEM;
	if (in->request_id && strlen(in->request_id) == 36)
		memcpy(inv->request_id, in->request_id, 37);
	else
		ids_uuid4(inv->request_id);
	inv->payload = malloc(in->payload_len + 1);
	if (!inv->payload) {
		free(inv);
		return LD_ENOMEM;
	}
	memcpy(inv->payload, in->payload, in->payload_len);
	inv->payload_len = in->payload_len;
	snprintf(inv->invoked_arn, sizeof(inv->invoked_arn), "%s", in->invoked_arn);
	inv->client_context = in->client_context ? strdup(in->client_context) : NULL;
	inv->want_tail = in->want_tail;
	inv->on_chunk = in->on_chunk;
	buf_init(&inv->resp, QUOTA_SYNC_RESPONSE);
	inv->done = done;
	inv->ud = ud;
	buf_init(&inv->log, INVOCATION_LOG_CAP);
	struct pool *p = pool_for(in);
	if (!p) {
		invocation_free(inv);
		return LD_ENOMEM;
	}
	/* provisioned environments first: idle, then finishing an invocation;
	 * their concurrency is already counted */
	struct env *e = pick(p, 1);
	if (e)
		return take(e, inv);
	const char *why = limits_check(p->fn);
	if (why) {
		if (in->throttle_reason)
			*in->throttle_reason = why;
		invocation_free(inv);
		return LD_ETHROTTLED;
	}
	inv->counted = p->fn;
	p->fn->inflight++;
	if ((e = pick(p, 0)))
		return take(e, inv);
	start_fresh(p, inv);
	return 0;
}

/* starts a new environment for inv, or finishes inv with the reason it could not */
static void start_fresh(struct pool *p, struct invocation *inv)
{
	struct env *e = NULL;
	const char *api_type = NULL;
	char api_msg[256] = "";
	if (!inv->counted && p->fn) {
		/* it was meant for a provisioned environment that went away */
		inv->counted = p->fn;
		p->fn->inflight++;
	}
	int rc = spawn(p, inv, NULL, &e, &api_type, api_msg, sizeof(api_msg));
	if (rc == LD_ENOTFOUND && api_type) {
		char body[512];
		snprintf(body, sizeof(body),
			 "{\"errorType\":\"Runtime.InvalidEntrypoint\",\"errorMessage\":\"RequestId: %s Error: Couldn't "
			 "find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]\"}",
			 inv->request_id);
		finish(inv, 1, "Unhandled", body, strlen(body), NULL, NULL, NULL);
		return;
	}
	if (rc == LD_EAPI)
		finish(inv, 0, NULL, NULL, 0, NULL, api_type, api_msg);
	else if (rc)
		finish(inv, 0, NULL, NULL, 0, NULL, "ServiceException", "An error occurred starting the function.");
}

void exec_forget(server_t *srv, const char *scope, const char *name)
{
	if (!X)
		return;
	for (struct pool *p = X->pools; p; p = p->next) {
		if (strcmp(p->scope, scope) != 0 || strcmp(p->name, name) != 0)
			continue;
		/* published versions do not change: only $LATEST's pool starts
		 * over (a deleted and re-created function is told apart by its
		 * revision in pool_for); provisioned environments stay until their
		 * configuration is released (exec_unprovision) */
		if (!strcmp(p->version, "$LATEST"))
			p->revision[0] = '\0';
		for (struct env *e = p->envs; e; e = e->next) {
			if (e->prov)
				continue;
			if (e->state == ENV_IDLE || e->state == ENV_INIT)
				env_kill(e);
			else
				e->retired = 1;
		}
	}
}

int exec_start(server_t *srv, const struct exec_options *opt)
{
	X = calloc(1, sizeof(*X));
	if (!X)
		return LD_ENOMEM;
	X->srv = srv;
	X->idle_timeout_s = opt->idle_timeout_s > 0 ? opt->idle_timeout_s : 300;
	sandbox_probe(&X->caps, NULL);
	X->level = opt->sandbox_level >= 0 && opt->sandbox_level <= (int)X->caps.level ? opt->sandbox_level
										     : (int)X->caps.level;
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
		if (uidpool_new(UIDPOOL_BASE, UIDPOOL_COUNT, UIDPOOL_LOCK, &X->ids) != 0) {
			free(X);
			X = NULL;
			return LD_ENOMEM;
		}
	}
	reap_leftovers(srv); /* before anything runs: nothing of a killed daemon may run beside it */
	runtimes_init(opt->runtimes_dir, opt->runtime_overrides);
	fprintf(stderr, "lambdad: %s%s%s\n", sandbox_describe(&X->caps),
		X->level != (int)X->caps.level ? " (process level chosen)" : "",
		X->caps.why[0] ? "" : "");
	if (X->caps.why[0])
		fprintf(stderr, "lambdad: sandbox limits: %s\n", X->caps.why);
	fprintf(stderr, "lambdad: runtimes: %s\n", runtimes_describe());
	static const struct rapi_hooks hooks = {
		.on_next = rapi_on_next,
		.on_result = rapi_on_result,
		.on_chunk = rapi_on_chunk,
		.on_stream_end = rapi_on_stream_end,
		.on_init_error = rapi_on_init_error,
	};
	int rc = rapi_start(srv->loop, &hooks, &X->rapi);
	if (rc) {
		uidpool_free(X->ids);
		free(X);
		X = NULL;
	}
	return rc;
}

void exec_stop(server_t *srv)
{
	if (!X)
		return;
	X->stopping = 1;
	for (struct pool *p = X->pools; p; p = p->next) {
		while (p->envs) {
			struct env *e = p->envs;
			if (e->cur && !e->cur->finished) {
				/* answer the caller now: the loop will not run again */
				struct exec_result res = { .ok = 0, .api_error_type = "ServiceException",
							   .api_error_message = "lambdad is shutting down." };
				e->cur->finished = 1;
				e->cur->done(e->cur->ud, &res);
				invocation_free(e->cur);
			}
			e->cur = NULL;
			if (e->waiting) {
				rapi_abandon(e->waiting);
				e->waiting = NULL;
			}
			sandbox_kill(e->proc);
			env_free_cb(e);
		}
	}
	while (X->pools) {
		struct pool *p = X->pools;
		X->pools = p->next;
		json_decref(p->cfg);
		free(p);
	}
	while (X->provs) {
		struct prov *pv = X->provs;
		X->provs = pv->next;
		free(pv);
	}
	while (X->fns) {
		struct fnstate *f = X->fns;
		X->fns = f->next;
		free(f);
	}
	rapi_stop(X->rapi);
	uidpool_free(X->ids);
	free(X);
	X = NULL;
}

/* ---- concurrency and provisioned environments ---- */

int exec_can_run(server_t *srv, const struct exec_request *in, const char **reason)
{
	*reason = NULL;
	if (!X)
		return LD_EIO;
	struct pool *p = pool_for(in);
	if (!p)
		return LD_ENOMEM;
	if (pick(p, 1))
		return 0;
	*reason = limits_check(p->fn);
	return *reason ? LD_ETHROTTLED : 0;
}

void exec_set_reserved(server_t *srv, const char *scope, const char *name, int reserved)
{
	struct fnstate *f = X ? fnstate_get(scope, name) : NULL;
	if (!f)
		return;
	int was = f->reserved;
	f->reserved = reserved < 0 ? -1 : reserved;
	if (f->reserved != was)
		notify_free(scope, NULL); /* the pool of every other function changed too */
}

void exec_on_free(server_t *srv, exec_free_fn fn, void *ud)
{
	if (!X)
		return;
	X->on_free = fn;
	X->on_free_ud = ud;
}

struct prov_report {
	server_t *srv;
	exec_provision_fn fn;
	char scope[96], key[400];
	int64_t token;
	int ready;
	const char *failure;
};

static void prov_report_cb(void *ud)
{
	struct prov_report *r = ud;
	r->fn(r->srv, r->scope, r->key, r->token, r->ready, r->failure);
	free(r);
}

static void prov_report(struct prov *pv, int ready, const char *failure)
{
	struct prov_report *r = calloc(1, sizeof(*r));
	pv->reported = 1;
	if (!r || !pv->report) {
		free(r);
		return;
	}
	r->srv = X->srv;
	r->fn = pv->report;
	snprintf(r->scope, sizeof(r->scope), "%s", pv->scope);
	snprintf(r->key, sizeof(r->key), "%s", pv->key);
	r->token = pv->token;
	r->ready = ready;
	r->failure = failure;
	if (loop_defer(X->srv->loop, prov_report_cb, r))
		free(r);
}

/* lets go of pv's environments: idle and initialising ones now, busy ones
 * after their invocation */
static void prov_detach(struct prov *pv)
{
	for (struct env *e = pv->pool->envs; e; e = e->next) {
		if (e->prov != pv)
			continue;
		e->prov = NULL;
		if (e->state == ENV_IDLE || e->state == ENV_INIT)
			env_kill(e);
		else
			e->retired = 1;
	}
}

/* starts or stops environments until pv has what it wants */
static void prov_fill(struct prov *pv)
{
	int live = 0;
	if (pv->failed)
		return;
	for (struct env *e = pv->pool->envs; e; e = e->next)
		if (e->prov == pv && !e->freeing && !e->retired)
			live++;
	/* fewer wanted: idle and initialising ones go first, then busy ones
	 * after their invocation */
	for (int pass = 0; pass < 2 && live > pv->want; pass++) {
		for (struct env *e = pv->pool->envs; e && live > pv->want; e = e->next) {
			if (e->prov != pv || e->freeing || e->retired)
				continue;
			if (e->state == ENV_IDLE || e->state == ENV_INIT) {
				e->prov = NULL;
				env_kill(e);
				live--;
			} else if (pass == 1) {
				e->prov = NULL;
				e->retired = 1;
				live--;
			}
		}
	}
	while (live < pv->want) {
		struct env *e = NULL;
		const char *api_type = NULL;
		char api_msg[256];
		if (spawn(pv->pool, NULL, pv, &e, &api_type, api_msg, sizeof(api_msg))) {
			prov_failed(pv);
			return;
		}
		live++;
	}
}

/* READY once every wanted environment has initialised */
static void prov_check(struct prov *pv)
{
	int ready = 0;
	if (pv->failed || pv->reported)
		return;
	for (struct env *e = pv->pool->envs; e; e = e->next)
		if (e->prov == pv && !e->freeing && !e->retired && (e->state == ENV_IDLE || e->state == ENV_BUSY))
			ready++;
	if (ready >= pv->want) {
		prov_report(pv, pv->want, NULL);
		notify_free(pv->scope, pv->name);
	}
}

/* an environment failed to initialise: FAILED, and none is kept (invocations
 * spill over to on-demand environments) until the configuration is put again */
static void prov_failed(struct prov *pv)
{
	if (pv->failed)
		return;
	pv->failed = 1;
	prov_detach(pv);
	prov_report(pv, 0, "FUNCTION_ERROR_INIT_FAILURE");
}

static struct prov *prov_find(const char *scope, const char *key)
{
	for (struct prov *pv = X->provs; pv; pv = pv->next)
		if (!strcmp(pv->key, key) && !strcmp(pv->scope, scope))
			return pv;
	return NULL;
}

void exec_unprovision(server_t *srv, const char *scope, const char *key)
{
	struct prov *pv = X ? prov_find(scope, key) : NULL;
	if (!pv)
		return;
	for (struct prov **pp = &X->provs; *pp; pp = &(*pp)->next) {
		if (*pp == pv) {
			*pp = pv->next;
			break;
		}
	}
	prov_detach(pv);
	notify_free(pv->scope, NULL); /* the unreserved pool gets its share back */
	free(pv);
}

int exec_provision(server_t *srv, const struct exec_request *in, const char *key, int n, int64_t token,
		   exec_provision_fn on_report)
{
	if (!X)
		return LD_EIO;
	struct prov *pv = prov_find(in->scope, key);
	if (pv && strcmp(pv->version, in->version) != 0) {
		exec_unprovision(srv, in->scope, key); /* an alias moved: its old version's go */
		pv = NULL;
	}
	if (n <= 0) {
		exec_unprovision(srv, in->scope, key);
		return 0;
	}
	struct pool *p = pool_for(in);
	if (!p)
		return LD_ENOMEM;
	if (pv && pv->want == n && pv->token == token && !pv->failed)
		return 0; /* nothing changed */
	if (!pv) {
		if (!(pv = calloc(1, sizeof(*pv))))
			return LD_ENOMEM;
		snprintf(pv->scope, sizeof(pv->scope), "%s", in->scope);
		snprintf(pv->name, sizeof(pv->name), "%s", in->name);
		snprintf(pv->key, sizeof(pv->key), "%s", key);
		snprintf(pv->version, sizeof(pv->version), "%s", in->version);
		pv->fn = p->fn;
		pv->next = X->provs;
		X->provs = pv;
	}
	pv->pool = p;
	pv->want = n;
	pv->token = token;
	pv->report = on_report;
	pv->reported = 0;
	pv->failed = 0;
	prov_fill(pv);
	prov_check(pv);
	return 0;
}

void exec_provisioned_keys(server_t *srv, const char *scope, const char *name, void (*fn)(void *ud, const char *key),
			   void *ud)
{
	if (!X)
		return;
	/* fn may unprovision the key it is given */
	struct prov *next;
	for (struct prov *pv = X->provs; pv; pv = next) {
		next = pv->next;
		if (!strcmp(pv->name, name) && !strcmp(pv->scope, scope))
			fn(ud, pv->key);
	}
}
