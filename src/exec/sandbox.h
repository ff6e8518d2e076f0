/*
 * sandbox.h - start one execution environment's process tree, the careful
 * way, and control it: kill it, reap it, watch it from epoll, read its
 * memory peak and whether the OOM killer struck.
 *
 * Two levels (docs/sandbox.md says what each protects and what it does not):
 *
 *   SANDBOX_FULL     new mount, pid, ipc and uts namespaces; a fresh read-only
 *                    root built from bind mounts (the host's /usr, /lib*, /bin,
 *                    /sbin, a few files of /etc; code at /var/task, layers at
 *                    /opt, runtime at /var/runtime, a sized tmpfs at /tmp, a
 *                    private /proc, /dev with null, zero, random, urandom);
 *                    pivot_root into it; a per-environment cgroup (v1 memory +
 *                    pids, or one v2 directory) with memory (no swap) and pids
 *                    limits; rlimits; no_new_privs; an unprivileged uid/gid
 *                    with no capabilities; a seccomp deny-list (mount,
 *                    unshare, ptrace, bpf, ...), loaded last, before execve.
 *                    Needs root (CAP_SYS_ADMIN) on the host.
 *   SANDBOX_PROCESS  plain fork/exec in a new session with rlimits,
 *                    no_new_privs and the same seccomp filter. When the daemon
 *                    is root it also drops to the unprivileged uid/gid (and
 *                    every capability) and, where mount namespaces work, gives
 *                    the process a private mount namespace in which /tmp is
 *                    its own sized tmpfs and `hide_dir` (the data directory)
 *                    is covered, except the code and layers. As another user
 *                    it protects the daemon from nothing a process of the same
 *                    user could do.
 *
 * At both levels, when the daemon is root, the child drops every capability
 * (bounding set, inheritable, ambient; permitted and effective go with the
 * uid change) before it execs.
 *
 * The network namespace is the host's unless spec->netns_fd names one made
 * ahead (netns.h, --function-network isolated): a new network namespace at
 * spawn would cost more than the rest of the spawn together.
 *
 * The pid namespace's init (pid 1) is argv[0]: the runtime process itself
 * for most environments (those with extensions start lambdad's init,
 * runtimes/rapid/init.c, which reaps), so usually no reaper:
 * killing it makes the kernel SIGKILL everything else in the namespace, and
 * its exit is reported only once the whole tree is gone. The cost: orphaned
 * grandchildren become its zombies (they count against pids_max until the
 * environment ends), and signals it has no handler for are ignored when sent
 * from inside the namespace (abort() ends in SIGSEGV rather than SIGABRT).
 *
 * Threading: call from the daemon's one thread. sandbox_spawn() blocks until
 * the child has exec'd or failed (a few hundred microseconds: the child builds
 * its root before exec); the child allocates nothing after the clone.
 * Every descriptor this module creates is O_CLOEXEC.
 */
#ifndef LD_SANDBOX_H
#define LD_SANDBOX_H

#include "exec/cgroup.h"

#include <sys/types.h>

enum sandbox_level {
	SANDBOX_PROCESS = 0,
	SANDBOX_FULL = 1,
};

/* What the host allows, found once at start-up by sandbox_probe(). Plain
 * data (fixed buffers): copy it, keep it for the daemon's lifetime, pass it
 * to every spawn. */
struct sandbox_caps {
	int root;            /* euid 0 with CAP_SYS_ADMIN */
	int userns;          /* an unprivileged user namespace can be created */
	int namespaces;      /* clone3 into new mount+pid+ipc+uts namespaces works */
	int pidfd;           /* CLONE_PIDFD: sandbox_fd() can be watched by epoll */
	struct cgroup_base cg; /* where environments' cgroups go (cgroup.h); cg.version 0: none */
	enum sandbox_level level; /* the best level this host supports */
	char why[256];       /* what is missing for more, "" when nothing is */
};

/* A host directory that appears read-only at `target` inside the sandbox,
 * e.g. an interpreter tree outside /usr bound at /var/lang. */
struct sandbox_bind {
	const char *source;  /* host path (absolute) */
	const char *target;  /* path inside the sandbox (absolute) */
};

struct sandbox_spec {
	enum sandbox_level level;
	const struct sandbox_caps *caps; /* from sandbox_probe(); required */

	char *const *argv;   /* argv[0] is an absolute path as seen inside */
	int exec_as_shell;   /* an argv[0] that is missing or not executable makes
	                        the runtime exit 127 / 126, as a shell's command
	                        would (AWS_LAMBDA_EXEC_WRAPPER), instead of failing
	                        the spawn */
	char *const *envp;   /* complete environment; nothing is added */
	const char *cwd;     /* "/var/task" when NULL */

	/* FULL: shown inside at the paths below. PROCESS as root: the host's
	 * view in a private mount namespace, where code, layers and runtime
	 * dirs stay visible read-only at their host paths (also when they are
	 * below the data directory's cover or the host's /tmp). */
	const char *code_dir;    /* host dir shown read-only at /var/task; required */
	const char *layers_dir;  /* host dir shown read-only at /opt, or NULL */
	const char *runtime_dir; /* host dir shown read-only at /var/runtime, or NULL */
	const struct sandbox_bind *binds; /* extra read-only binds, or NULL */
	/* FULL only: a container image's root instead of the host's tree. The
	 * layers are directories of image_dir (names, top first), stacked as a
	 * read-only overlayfs (whiteouts in overlayfs's form: blobs/layer.h);
	 * the first must hold the mount points the sandbox needs (proc, dev,
	 * tmp, oldroot, and the binds' targets). /dev, /proc and /tmp are the
	 * sandbox's; nothing else of the host shows, code_dir and layers_dir
	 * are not used (NULL). */
	const char *image_dir;
	const char *const *image_layers;
	int nimage_layers;
	int nbinds;
	const char *hostname;    /* uts name; "localhost" when NULL */
	int tmp_mb;              /* size of the private /tmp tmpfs (>= 1) */

	/* limits (0 means "do not set") */
	int memory_mb;       /* cgroup memory limit, swap disallowed (FULL + cgroups) */
	int pids_max;        /* cgroup pids.max (FULL + cgroups) */
	int nofile;          /* RLIMIT_NOFILE; Lambda uses 1024 */
	int nproc;           /* RLIMIT_NPROC backstop: it counts every process of
	                        the uid host-wide, so only for a uid of its own */
	/* RLIMIT_FSIZE is (tmp_mb + 1) MiB when tmp_mb > 0; RLIMIT_CORE is 0. */

	uid_t uid;           /* run as uid/gid (groups cleared) when the daemon is */
	gid_t gid;           /* root; ignored otherwise. Must not be 0 at FULL.
	                        Give each environment ids of its own
	                        (uidpool_take, uidpool.h) so that no two share a uid. */

	/* PROCESS only, when the daemon is root and namespaces work: a host
	 * directory (the daemon's data directory) covered by an empty read-only
	 * tmpfs in the child's private mount namespace; code_dir and layers_dir,
	 * when below it, stay visible read-only at their own paths. NULL: none. */
	const char *hide_dir;

	/* A network namespace (an fd of nsfs, netns.h) the child joins before
	 * anything else, when the daemon is root: --function-network isolated.
	 * 0 or less: the daemon's (the host's) network. */
	int netns_fd;

	int stdin_fd;        /* dup'ed onto 0 in the child when > 2 (init's control
	                        socket); otherwise stdin is /dev/null */
	int stdout_fd;       /* dup'ed onto 1 in the child; -1: /dev/null */
	int stderr_fd;       /* dup'ed onto 2 in the child; -1: /dev/null. Both may
	                        be the same fd. The caller keeps ownership of both
	                        (and closes its copies after the spawn). */
};

/* Why a spawn failed, when the child reported it through the error pipe or
 * the parent failed first. `step` is a static string ("execve", "pivot_root",
 * "mount /var/task", "cgroup", ...); `err` an errno value. */
struct sandbox_failure {
	const char *step;
	int err;
};

/* A running (or exited, not yet freed) environment. Opaque. */
struct sandbox_proc;

/* Find what the host allows. `cgroup_parent` names the cgroup (relative to
 * each hierarchy's mount, e.g. "lambdad") under which environments' cgroups
 * are made; NULL means "lambdad" below the daemon's own cgroup, so the
 * daemon's own limits still cover its environments. Creates that directory
 * when missing. Forks short-lived children to test namespaces. Never fails:
 * caps->level and caps->why say what was found. Returns 0. */
int sandbox_probe(struct sandbox_caps *caps, const char *cgroup_parent);

/* What differs between the levels for whoever starts an environment, so
 * that it never branches on the level: where the runtime finds its
 * directories. FULL mounts code at /var/task, layers at /opt, the runtime
 * client at /var/runtime and an interpreter's tree at /var/lang; PROCESS
 * leaves them at their host paths. */
struct sandbox_ops {
	enum sandbox_level level;
	const char *name;      /* "full", "process" */
	/* the path the runtime uses for something FULL shows at `inside`
	 * and the host has at `host` */
	const char *(*view)(const char *inside, const char *host);
	/* a path the function names (/var/task/..., /opt/...) as its runtime
	 * can open it, given the host's code and layers directories (opt ""
	 * when there are no layers) */
	void (*resolve)(const char *path, const char *code, const char *opt, char *out, size_t n);
};

/* The operations of a level (static storage). */
const struct sandbox_ops *sandbox_ops_of(enum sandbox_level level);

/* One line for the start-up log, e.g. "sandbox: full (namespaces, cgroup v1
 * memory+pids, uid drop)". Static storage, overwritten by the next call. */
const char *sandbox_describe(const struct sandbox_caps *caps);

/* Start argv in a new environment. On success *out owns the process, its
 * cgroups and its pidfd; release with sandbox_free(). Fails with
 * LD_EINVAL (bad spec, or a level the host does not allow), LD_ENOTFOUND
 * (argv[0] or a bind source does not exist), LD_ENOMEM, or LD_EIO (any other
 * step); `why` (may be NULL) then says which step and errno. On failure
 * nothing is left behind (the child is reaped, cgroups removed). */
int sandbox_spawn(const struct sandbox_spec *spec, struct sandbox_proc **out,
		  struct sandbox_failure *why);

/* The runtime's pid as the host sees it. */
pid_t sandbox_pid(const struct sandbox_proc *p);

/* A pidfd that becomes readable (EPOLLIN) when the runtime has exited (and,
 * at FULL, with it the whole tree), or -1 where the kernel has no pidfds
 * (then watch SIGCHLD). Owned by p: do not close it. */
int sandbox_fd(const struct sandbox_proc *p);

/* SIGKILL the whole tree: pid namespace init (FULL), every process of the
 * cgroups, or the process group (PROCESS). Safe to call repeatedly and after
 * exit. Returns 0, or LD_EIO when no signal could be sent to a live tree. */
int sandbox_kill(struct sandbox_proc *p);

/* Freeze: every process of the environment stops running until
 * sandbox_thaw() (Lambda freezes an environment between invocations). With
 * a freezer cgroup (FULL with cgroups) through it, else SIGSTOP to the
 * runtime's process group (PROCESS level; a process that left the group
 * keeps running). The freeze completes asynchronously in the kernel; the
 * thaw takes effect at once. sandbox_kill() thaws first. 0 or LD_EIO;
 * repeated calls are no-ops. sandbox_frozen(): 1 once frozen, 0 not (yet). */
int sandbox_freeze(struct sandbox_proc *p);
int sandbox_thaw(struct sandbox_proc *p);
int sandbox_frozen(struct sandbox_proc *p);

/* CPU in proportion to memory (cgroup.h cgroup_cpu_limit): 0, or
 * LD_ENOTFOUND without a cpu controller. */
int sandbox_cpu_limit(struct sandbox_proc *p, int memory_mb);

/* Non-blocking reap. Returns 1 and sets *status (waitpid format, may be NULL)
 * once the runtime has exited, 0 while it runs, LD_EIO on error. After 1,
 * later calls return 1 again with the same status. */
int sandbox_reap(struct sandbox_proc *p, int *status);

/* Peak memory of the environment in MiB, rounded up (v1 max_usage_in_bytes,
 * v2 memory.peak), or LD_ENOTFOUND without a memory cgroup. */
int sandbox_memory_peak_mb(struct sandbox_proc *p);

/* 1 if the OOM killer killed a process of the environment, 0 if not,
 * LD_ENOTFOUND without a memory cgroup. */
int sandbox_oom_killed(struct sandbox_proc *p);

/* Kill (if still running), reap (blocking, briefly: the tree is SIGKILLed),
 * close the pidfd and remove the cgroup directories. At PROCESS level with a
 * dropped uid, also SIGKILL every process left running as that uid (a
 * runtime's children that left its session). After it returns no process of
 * the environment runs, so its uid may be handed out again. NULL is fine. */
void sandbox_free(struct sandbox_proc *p);

/* Traces, so that a daemon killed with kill -9 leaves nothing running: a
 * one-line description of an environment (its runtime's pid and start time,
 * level, uid, cgroup directories; no newline), which the daemon keeps in its
 * data directory while the environment lives. A later daemon of the same
 * data directory hands each trace it finds to sandbox_reap_trace(), which
 * kills whatever of it still runs (the pid only if its start time matches,
 * its session at PROCESS level, every process of its uid when it had one of
 * its own, every member of its cgroups) and removes its cgroups, waiting at
 * most SANDBOX_REAP_WAIT_MS for them to empty. 0 or LD_EINVAL (not a
 * trace) / LD_EIO (something survived). */
#define SANDBOX_TRACE_MAX (4 * 4096 + 128)
#define SANDBOX_REAP_WAIT_MS 3000
int sandbox_trace(const struct sandbox_proc *p, char *out, size_t n);
int sandbox_reap_trace(const char *trace);

#endif
