/*
 * env.h - the types execution's rooms share: an invocation, an execution
 * environment, the pool of one function version's environments, a
 * provisioned configuration, and the execution state the server owns.
 *
 * exec/ is split along its seams, each room a module:
 *   quota.c   concurrency accounting (running totals per account)
 *   envlog.c  an environment's log stream: lines, START/END/REPORT, tails
 *   launch.c  starting an environment: code and layer directories, the
 *             variables and credentials Lambda gives it, the sandbox spec,
 *             the trace a killed daemon's successor reaps
 *   pool.c    environments by function version: finding one to take, idle
 *             reaping, retiring on change, provisioned configurations
 *   exec.c    the invocation: delivery through the Runtime API, results,
 *             timeouts, exits; the public API of exec.h
 * This header is theirs alone: nothing outside exec/ includes it.
 */
#ifndef LD_EXEC_ENV_H
#define LD_EXEC_ENV_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "exec/request.h"
#include "exec/quota.h"
#include "exec/netns.h"
#include "exec/rapi.h"
#include "exec/sandbox.h"
#include "exec/uidpool.h"
#include "server.h"
#include "util/buf.h"
#include "util/strmap.h"

#define ENV_NPROC 1024          /* pids.max and RLIMIT_NPROC of an environment */
#define ENV_MAX 1024            /* environments at once, beyond: Rate Exceeded */
#define ENV_RESERVE_MS 50       /* an invocation waits this long for an environment finishing its last one */
#define ENV_INVOCATION_LOG_CAP (256 * 1024) /* an invocation's lines kept for LogType Tail */
#define ENV_TAIL_BYTES 4096     /* LogType Tail: the last 4 KB */
#define ENV_XRAY_HOST "127.0.0.1" /* AWS_XRAY_DAEMON_ADDRESS: AWS's is 169.254.100.1:2000 */
#define ENV_XRAY_PORT "2000"
#define ENV_CREDENTIALS_TTL_S 43200 /* minted role credentials: 12 hours, AWS's longest role session */

struct exec;
struct pool;
struct prov;
struct extset;  /* an environment's extensions (extensions.c) */
struct tele;    /* its telemetry subscriptions (telemetry.c) */
struct outbound;

struct invocation {
	struct exec *x;
	char request_id[37];
	buf_t payload;           /* the event, until delivered (then the Runtime API owns it) */
	char invoked_arn[400];
	char *client_context;
	int want_tail;
	exec_done_fn done;
	void *ud;
	uint64_t start_us;       /* delivered to the runtime (monotonic) */
	buf_t log;               /* this invocation's log lines */
	struct env *env;
	int delivered;           /* the runtime received it (GET /next answered) */
	int finished;
	quota_fn_t *counted;     /* the function whose on-demand concurrency it occupies */
	exec_chunk_fn on_chunk;  /* the caller streams (exec_request.on_chunk) */
	buf_t resp;              /* a streamed response collected for a caller that does not stream */
	size_t stream_bytes;     /* bytes handed to on_chunk */
	int streamed;            /* some went through on_chunk */
	char error_type[128];    /* exec_result.error_type */
};

enum env_state { ENV_INIT, ENV_IDLE, ENV_BUSY, ENV_DEAD };

struct env {
	struct env *next;        /* in its pool */
	struct pool *pool;
	uint64_t id;
	enum env_state state;
	char cred_id[24];        /* access key id of its minted credentials, or "" */
	struct sandbox_proc *proc;
	int listen_fd, port;     /* its Runtime API */
	struct netns_slot net;   /* its network namespace (isolated), or ns_fd -1: the host's */
	int out_fd, pid_fd;      /* its output pipe; its exit */
	buf_t line;              /* partial output line */
	struct rapi_next *waiting;
	struct invocation *cur;
	int64_t timer;           /* init, invocation, reserve or idle timer */
	uint64_t spawn_us;
	double init_ms;          /* reported on the first invocation's REPORT */
	int init_reported;
	char *init_error;        /* POST /init/error body, if any */
	char init_error_type[64];
	char stream[128];        /* its log stream's name */
	char *log_group;         /* its log group (malloc'd; envlog.c), NULL: lines reach the tail only */
	buf_t log_pend;          /* lines on their way to the log store: (i64 ms, u32 length, bytes) each */
	int64_t flush_timer;     /* log_pend goes to the store when this fires */
	double log_tokens;       /* the output rate cap's bucket, bytes (envlog.c) */
	uint64_t log_tokens_us;  /* when it was last filled */
	uint64_t log_dropped, log_dropped_lines; /* output dropped by the cap, not yet said in the stream */
	uint64_t log_notice_us;  /* when lambdad's own log last said so */
	int json_logs;           /* LoggingConfig.LogFormat JSON */
	int freeing;
	int retired;             /* its function changed: kill instead of idling */
	struct prov *prov;       /* the provisioned configuration it belongs to, or NULL (on-demand) */
	uid_t uid;               /* its processes' uid (and gid) */
	int own_uid;             /* uid was taken from the pool of ids: give it back when freed */
	struct extset *ext;      /* its extensions, NULL when none were started or registered */
	struct tele *tele;       /* its telemetry, NULL when nothing subscribes or may */
	int via_init;            /* started through init (it has external extensions) */
	int runtime_gone;        /* its runtime's exit was handled */
	const char *image_handler; /* a container image's CMD[0] (_HANDLER), in its pool's cfg, or NULL */
	const char *reset;       /* why it is being killed: "spindown" (NULL), "timeout", "failure" */
	uint64_t deadline_us;    /* the current invocation's deadline (monotonic) */
	struct {                 /* the REPORT of an invocation whose extensions still run */
		int pending;
		char request_id[37];
		uint64_t start_us, runtime_us;
		char fn_error[128];
	} report;
};

struct pool {
	struct exec *x;
	char key[300];           /* scope \x1f name \x1f version */
	char scope[96], name[160], version[24];
	char revision[40];       /* code and settings the environments were started with */
	json_t *cfg;             /* that configuration (owned) */
	struct env *envs;
	quota_fn_t *fn;
};

/* a provisioned concurrency configuration: want environments in pool */
struct prov {
	struct prov *next;
	char scope[96], name[160], key[400], version[24];
	struct pool *pool;
	quota_fn_t *fn;
	int want;
	int64_t token;
	exec_provision_fn report;
	int reported;            /* READY or FAILED reported for this token */
	int failed;              /* an environment failed to initialise: none are kept */
};

/* what the rooms call back into the invocation lifecycle (exec.c) */
struct env_events {
	void (*exited)(struct env *e);        /* its runtime exited (its pidfd fired) */
	void (*init_timeout)(struct env *e);  /* no GET /next within the init limit */
	void (*runtime_exited)(struct env *e, int status); /* init reported the runtime's exit */
	void (*ext_changed)(struct env *e);   /* an extension registered, waits, or failed */
	void (*shutdown_done)(struct env *e); /* its extensions' shutdown phase is over */
};

struct exec {
	server_t *srv;
	rapi_t *rapi;
	struct sandbox_caps caps;
	const struct sandbox_ops *sandbox; /* the level's operations */
	int idle_timeout_s;
	int cpu_proportional;    /* exec_options' */
	strmap_t *pools;         /* pool key -> struct pool */
	strmap_t *envs;          /* decimal id -> struct env */
	uint64_t next_env_id;
	int nenvs;
	quota_t *quota;
	struct prov *provs;
	int stopping;
	int freeze_failed;       /* a freeze failed: said once in the server's log (pool.c) */
	exec_free_fn on_free;    /* exec_on_free's listener */
	void *on_free_ud;
	uidpool_t *ids;          /* per-environment uids; NULL when not root */
	strmap_t *compiled;      /* interpreters whose runtime client is byte-compiled */
	struct runtimes *runtimes; /* what this host can run (runtimes.h) */
	struct outbound *ob;     /* telemetry deliveries (telemetry.c), made when first needed */
	netns_pool_t *netns;     /* --function-network isolated: namespaces made ahead; NULL: host */
	struct env_events events;
};

/* monotonic microseconds */
uint64_t env_now_us(void);

#endif
