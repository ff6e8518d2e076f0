/*
 * sandbox.c - one execution environment's process tree, started the careful
 * way (libuv's process.c is the model) and controlled afterwards.
 *
 * sandbox_spawn() does all of its allocating and path resolution in the
 * parent: it makes the environment's cgroups, resolves every bind source
 * with realpath() and writes a flat list of steps (a "plan"). Then clone3()
 * without a stack (fork semantics, so ASan's shadow memory is simply copied)
 * starts the child in new mount, pid, ipc and uts namespaces. The child only
 * makes system calls: it joins the cgroups, mounts a small tmpfs over /tmp of
 * its private mount namespace and pivot_roots into it (the host's tree is then
 * at /oldroot, which is how bubblewrap reaches sources that the new mount
 * would hide), replays the plan (directories, symlinks, read-only binds,
 * /dev nodes, synthetic /etc/passwd and /etc/group, the sized /tmp, /proc),
 * detaches /oldroot, makes / read-only, then sets up stdio, descriptors,
 * signals, rlimits, no_new_privs, drops the capability bounding set, changes
 * the uid, clears the inheritable and ambient capabilities, loads the seccomp
 * filter the parent built (last: the setup needs mount and pivot_root), and
 * execs. Any failure is
 * written to an O_CLOEXEC error pipe as (step, errno) and the child exits
 * 127; the parent reads the pipe until EOF (exec happened) or a report.
 *
 * PROCESS level keeps the host's file system view. When the daemon is root
 * (and namespaces work) the child still gets a private mount namespace: a
 * sized tmpfs at /tmp, and the data directory covered by an empty read-only
 * tmpfs on which the environment's code and layers are bound back at their
 * own paths (from O_PATH descriptors the parent opened, through
 * /proc/self/fd, since the cover hides their host paths).
 *
 * The runtime is pid 1 of its namespace (see sandbox.h for why). Cgroups:
 * v1 uses the memory and pids hierarchies (two directories per environment),
 * v2 one directory; both are made below caps->cg_* and removed by
 * sandbox_free(). The child joins them by writing "0" to cgroup.procs files
 * the parent opened (v1), or is cloned straight into it (v2,
 * CLONE_INTO_CGROUP).
 */
#include "exec/sandbox.h"
#include "util/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* struct clone_args of linux/sched.h, v2 (with cgroup); defined here so
 * that header need not be mixed with glibc's <sched.h>. */
struct sbx_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls, set_tid, set_tid_size, cgroup;
};

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
#define MIB (1024LL * 1024LL)

/* ---------------------------------------------------------------- plan */

enum op_kind {
	OP_MKDIR,   /* mkdir -p dst */
	OP_SYMLINK, /* symlink(src, dst) */
	OP_BIND_RO, /* bind src (dir or file) read-only, nosuid, nodev */
	OP_BIND_DEV,/* bind a device node: nosuid, noexec */
	OP_TMPFS,   /* tmpfs at dst with options src */
	OP_WRITE,   /* write file dst with content src (mode 0644) */
	OP_PROC,    /* proc at dst */
};

struct op {
	enum op_kind kind;
	int is_dir;  /* bind: mount point is a directory (else a file) */
	char *src;
	char *dst;
};

struct plan {
	struct op *ops;
	int nops, aops;
};

#define NREVEAL 3

struct child_ctx {
	const struct sandbox_spec *spec;
	const struct plan *plan;
	int full;
	int drop_uid;
	int errfd;
	int nullfd;
	int cgfd[2];    /* cgroup.procs to write "0" into, or -1 */
	uint64_t fsize;
	const struct sock_fprog *seccomp; /* loaded right before execve */
	/* PROCESS as root: a private mount namespace (child_process_mounts) */
	int private_mounts;
	char tmp_opts[64];        /* the /tmp tmpfs */
	const char *hide;         /* realpath of spec->hide_dir, or NULL */
	int nreveal;
	const char *reveal[NREVEAL];     /* realpaths bound back read-only */
};

struct report {
	int op;      /* index into the plan, or -1 with step set */
	const char *step;
	int err;
};

struct sandbox_proc {
	pid_t pid;
	int pidfd;
	int level;
	int reaped;
	int status;
	int cgv;
	char *cg[2]; /* v1: memory, pids; v2: [0] only */
	int sweep;   /* PROCESS with a dropped uid: kill what runs as uid at the end */
	uid_t uid;
	gid_t gid;
};

/* ---------------------------------------------------------------- seccomp */

/* The syscalls a function has no business making, denied with EPERM at FULL
 * (docs/sandbox.md says why each). Classic BPF written by hand: the filter is
 * a few dozen instructions, built once in the parent; the child only calls
 * prctl(PR_SET_SECCOMP). Numbers come from <sys/syscall.h>, so a name the
 * architecture lacks is simply left out. */
static const int deny_nrs[] = {
#define D(n) __NR_##n,
#ifdef __NR_mount
	D(mount)
#endif
#ifdef __NR_umount2
	D(umount2)
#endif
#ifdef __NR_umount
	D(umount)
#endif
	D(pivot_root) D(chroot)
#ifdef __NR_fsopen /* the new mount API */
	D(fsopen) D(fsconfig) D(fsmount) D(fspick) D(move_mount) D(open_tree)
#endif
#ifdef __NR_mount_setattr
	D(mount_setattr)
#endif
	D(swapon) D(swapoff) D(reboot) D(kexec_load)
#ifdef __NR_kexec_file_load
	D(kexec_file_load)
#endif
#ifdef __NR_init_module
	D(init_module)
#endif
	D(finit_module) D(delete_module)
	D(bpf) D(perf_event_open)
	D(keyctl) D(add_key) D(request_key)
	D(ptrace) D(process_vm_readv) D(process_vm_writev)
	D(userfaultfd) D(open_by_handle_at) D(name_to_handle_at)
#ifdef __NR_open_tree_attr
	D(open_tree_attr)
#endif
	D(setns) D(unshare)
	D(kcmp)
#ifdef __NR_pidfd_getfd
	D(pidfd_getfd)
#endif
#ifdef __NR_process_madvise
	D(process_madvise)
#endif
	D(fanotify_init) D(vhangup) D(sethostname) D(setdomainname)
#ifdef __NR_uselib
	D(uselib)
#endif
	D(acct) D(quotactl)
#ifdef __NR_quotactl_fd
	D(quotactl_fd)
#endif
	D(settimeofday) D(clock_settime) D(adjtimex) D(clock_adjtime)
	D(syslog)
#ifdef __NR_iopl
	D(iopl)
#endif
#ifdef __NR_ioperm
	D(ioperm)
#endif
#ifdef __NR_lookup_dcookie
	D(lookup_dcookie)
#endif
#undef D
};

/* Denied with ENOSYS, "not supported", which their users take as a cue to
 * fall back: io_uring (a large, often-exploited kernel surface that no
 * runtime needs; libuv and others then use plain system calls). clone3 joins
 * them in the filter (below). */
static const int nosys_nrs[] = {
#ifdef __NR_io_uring_setup
	__NR_io_uring_setup, __NR_io_uring_enter, __NR_io_uring_register,
#endif
	-1,
};

#if defined(__x86_64__)
#define SBX_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SBX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

/* clone's namespace flags (CLONE_NEWTIME, 0x80, is part of clone's exit
 * signal byte and valid only for clone3 and unshare, both handled apart) */
#define SBX_CLONE_NS (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
		      CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

#define SBX_MAXF 128
_Static_assert(sizeof deny_nrs / sizeof *deny_nrs + sizeof nosys_nrs / sizeof *nosys_nrs + 24 < SBX_MAXF,
	       "the seccomp filter outgrows its buffer");
static struct sock_filter g_filter[SBX_MAXF];
static struct sock_fprog g_fprog;

/* Build the filter once (parent, before any clone). NULL where the
 * architecture is not one this file knows. */
static const struct sock_fprog *seccomp_prog(void)
{
#ifdef SBX_AUDIT_ARCH
	if (g_fprog.len)
		return &g_fprog;
	enum { L_DENY = 1, L_NOSYS, L_ALLOW, L_CLONE, L_PERS }; /* jump targets (forward only) */
	struct sock_filter f[SBX_MAXF];
	unsigned char jt_lab[SBX_MAXF] = {0}, jf_lab[SBX_MAXF] = {0};
	int at[8] = {0};
	int n = 0;
#define I(code, k, t, e) (jt_lab[n] = (t), jf_lab[n] = (e), f[n++] = (struct sock_filter)BPF_JUMP((code), (k), 0, 0))
#define LABEL(l) (at[l] = n)
	/* another architecture's numbers mean other syscalls: kill */
	I(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	I(BPF_JMP | BPF_JEQ | BPF_K, SBX_AUDIT_ARCH, 0, 0);
	f[n - 1].jt = 1;
	I(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	I(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
#ifdef __x86_64__
	I(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, L_DENY, 0); /* the x32 ABI */
#endif
	for (size_t i = 0; i < sizeof deny_nrs / sizeof *deny_nrs; i++)
		I(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)deny_nrs[i], L_DENY, 0);
	for (size_t i = 0; nosys_nrs[i] >= 0; i++)
		I(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nosys_nrs[i], L_NOSYS, 0);
	/* clone3's flags sit in memory a filter cannot read: ENOSYS makes
	 * glibc (threads, posix_spawn) fall back to clone, checked below */
	I(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, L_NOSYS, 0);
	I(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, L_CLONE, 0);
	I(BPF_JMP | BPF_JEQ | BPF_K, __NR_personality, L_PERS, 0);
	I(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
	/* clone(flags, ...): flags is the first argument on x86_64 and arm64;
	 * the namespace bits are in its low word (little endian) */
	LABEL(L_CLONE);
	I(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]), 0, 0);
	I(BPF_JMP | BPF_JSET | BPF_K, SBX_CLONE_NS, L_DENY, L_ALLOW);
	/* personality(2): only PER_LINUX and the query 0xffffffff */
	LABEL(L_PERS);
	I(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]), 0, 0);
	I(BPF_JMP | BPF_JEQ | BPF_K, 0, L_ALLOW, 0);
	I(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, L_ALLOW, 0);
	LABEL(L_DENY);
	I(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM, 0, 0);
	LABEL(L_NOSYS);
	I(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
	LABEL(L_ALLOW);
	I(BPF_RET | BPF_K, SECCOMP_RET_ALLOW, 0, 0);
#undef I
#undef LABEL
	for (int i = 0; i < n; i++) {
		if (jt_lab[i])
			f[i].jt = (unsigned char)(at[jt_lab[i]] - i - 1);
		if (jf_lab[i])
			f[i].jf = (unsigned char)(at[jf_lab[i]] - i - 1);
	}
	memcpy(g_filter, f, (size_t)n * sizeof *f);
	g_fprog.filter = g_filter;
	g_fprog.len = (unsigned short)n;
	return &g_fprog;
#else
	return NULL;
#endif
}

static unsigned long g_seq;

static int plan_add(struct plan *pl, enum op_kind k, const char *src, const char *dst, int is_dir)
{
	if (pl->nops == pl->aops) {
		int n = pl->aops ? pl->aops * 2 : 64;
		struct op *o = realloc(pl->ops, (size_t)n * sizeof(*o));
		if (!o)
			return LD_ENOMEM;
		pl->ops = o;
		pl->aops = n;
	}
	struct op *o = &pl->ops[pl->nops];
	o->kind = k;
	o->is_dir = is_dir;
	o->src = src ? strdup(src) : NULL;
	o->dst = strdup(dst);
	if ((src && !o->src) || !o->dst) {
		free(o->src);
		free(o->dst);
		return LD_ENOMEM;
	}
	pl->nops++;
	return 0;
}

static void plan_free(struct plan *pl)
{
	for (int i = 0; i < pl->nops; i++) {
		free(pl->ops[i].src);
		free(pl->ops[i].dst);
	}
	free(pl->ops);
	pl->ops = NULL;
	pl->nops = pl->aops = 0;
}

/* Bind the host path `host` read-only at `target`: sources are resolved now,
 * in the parent, and read by the child below /oldroot. Missing optional
 * sources are skipped. */
static int plan_bind(struct plan *pl, const char *host, const char *target, int required)
{
	char real[PATH_MAX], src[PATH_MAX + 16];
	struct stat st;
	if (!realpath(host, real) || stat(real, &st) != 0)
		return required ? LD_ENOTFOUND : 0;
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return required ? LD_EINVAL : 0;
	snprintf(src, sizeof src, "/oldroot%s", real);
	return plan_add(pl, OP_BIND_RO, src, target, S_ISDIR(st.st_mode));
}

static const char *const top_dirs[] = {"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"};

/* What of /etc a runtime needs: name resolution, the dynamic linker's cache,
 * TLS roots, /usr/bin's alternatives symlinks, time zones. Not shadow, not
 * ssh keys, not the host's users (passwd/group are written fresh). */
static const char *const etc_files[] = {
	"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/gai.conf", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/pki",
	"/etc/localtime", "/etc/mime.types", "/etc/protocols", "/etc/services",
	"/etc/os-release", "/etc/debian_version",
};

static const char *const dev_nodes[] = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"};

static int plan_build(struct plan *pl, const struct sandbox_spec *s)
{
	char buf[512], lnk[PATH_MAX];
	struct stat st;
	int rc;
#define TRY(x) do { if ((rc = (x)) != 0) return rc; } while (0)
	for (size_t i = 0; i < sizeof top_dirs / sizeof *top_dirs; i++) {
		const char *d = top_dirs[i];
		if (lstat(d, &st) != 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(d, lnk, sizeof lnk - 1);
			if (n <= 0)
				continue;
			lnk[n] = 0;
			TRY(plan_add(pl, OP_SYMLINK, lnk, d, 0));
		} else if (S_ISDIR(st.st_mode)) {
			TRY(plan_bind(pl, d, d, 0));
		}
	}
	TRY(plan_add(pl, OP_MKDIR, NULL, "/etc", 1));
	for (size_t i = 0; i < sizeof etc_files / sizeof *etc_files; i++)
		TRY(plan_bind(pl, etc_files[i], etc_files[i], 0));
	snprintf(buf, sizeof buf,
		 "root:x:0:0:root:/root:/sbin/nologin\n"
		 "sbx_user1051:x:%u:%u::/tmp:/sbin/nologin\n"
		 "nobody:x:65534:65534:nobody:/:/sbin/nologin\n",
		 (unsigned)s->uid, (unsigned)s->gid);
	TRY(plan_add(pl, OP_WRITE, buf, "/etc/passwd", 0));
	snprintf(buf, sizeof buf, "root:x:0:\nsbx_user1051:x:%u:\nnogroup:x:65534:\n",
		 (unsigned)s->gid);
	TRY(plan_add(pl, OP_WRITE, buf, "/etc/group", 0));

	TRY(plan_add(pl, OP_MKDIR, NULL, "/dev", 1));
	for (size_t i = 0; i < sizeof dev_nodes / sizeof *dev_nodes; i++) {
		snprintf(buf, sizeof buf, "/oldroot%s", dev_nodes[i]);
		TRY(plan_add(pl, OP_BIND_DEV, buf, dev_nodes[i], 0));
	}
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd", "/dev/fd", 0));
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd/0", "/dev/stdin", 0));
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd/1", "/dev/stdout", 0));
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd/2", "/dev/stderr", 0));

	TRY(plan_add(pl, OP_MKDIR, NULL, "/proc", 1));
	TRY(plan_add(pl, OP_PROC, NULL, "/proc", 1));
	snprintf(buf, sizeof buf, "size=%dm,mode=1777", s->tmp_mb);
	TRY(plan_add(pl, OP_TMPFS, buf, "/tmp", 1));

	TRY(plan_bind(pl, s->code_dir, "/var/task", 1));
	if (s->layers_dir)
		TRY(plan_bind(pl, s->layers_dir, "/opt", 1));
	else
		TRY(plan_add(pl, OP_MKDIR, NULL, "/opt", 1));
	if (s->runtime_dir)
		TRY(plan_bind(pl, s->runtime_dir, "/var/runtime", 1));
	for (int i = 0; i < s->nbinds; i++) {
		const char *t = s->binds[i].target;
		if (!t || t[0] != '/' || strstr(t, "..") || !s->binds[i].source)
			return LD_EINVAL;
		TRY(plan_bind(pl, s->binds[i].source, t, 1));
	}
#undef TRY
	return 0;
}

/* --------------------------------------------------------------- child */

static void child_fail(const struct child_ctx *c, int op, const char *step, int err)
{
	struct report r = {op, step, err};
	ssize_t n;
	do
		n = write(c->errfd, &r, sizeof r);
	while (n < 0 && errno == EINTR);
	_exit(127);
}

/* mkdir -p without allocating; `path` is absolute. */
static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int make_parent(const char *path)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof tmp)
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	char *slash = strrchr(tmp, '/');
	if (!slash || slash == tmp)
		return 0;
	*slash = 0;
	return mkdir_p(tmp, 0755);
}

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return errno == EEXIST ? 0 : -errno;
	close(fd);
	return 0;
}

static int run_op(const struct op *o)
{
	int r;
	switch (o->kind) {
	case OP_MKDIR:
		return mkdir_p(o->dst, 0755);
	case OP_SYMLINK:
		if ((r = make_parent(o->dst)) != 0)
			return r;
		return symlink(o->src, o->dst) == 0 ? 0 : -errno;
	case OP_BIND_RO:
	case OP_BIND_DEV:
		if ((r = make_parent(o->dst)) != 0)
			return r;
		r = o->is_dir ? mkdir_p(o->dst, 0755) : touch(o->dst);
		if (r != 0)
			return r;
		if (mount(o->src, o->dst, NULL, MS_BIND | MS_REC, NULL) != 0)
			return -errno;
		unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID;
		fl |= o->kind == OP_BIND_RO ? MS_RDONLY | MS_NODEV : MS_NOEXEC;
		return mount(NULL, o->dst, NULL, fl, NULL) == 0 ? 0 : -errno;
	case OP_TMPFS:
		if ((r = mkdir_p(o->dst, 0755)) != 0)
			return r;
		return mount("tmpfs", o->dst, "tmpfs", MS_NOSUID | MS_NODEV, o->src) == 0 ? 0 : -errno;
	case OP_WRITE: {
		if ((r = make_parent(o->dst)) != 0)
			return r;
		int fd = open(o->dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		size_t len = strlen(o->src), off = 0;
		while (off < len) {
			ssize_t n = write(fd, o->src + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : -EIO;
				close(fd);
				return r;
			}
			off += (size_t)n;
		}
		close(fd);
		return 0;
	}
	case OP_PROC:
		return mount("proc", o->dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0 ? 0 : -errno;
	}
	return -EINVAL;
}

static void child_root(const struct child_ctx *c)
{
	const struct sandbox_spec *s = c->spec;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		child_fail(c, -1, "make / private", errno);
	/* The new root: a small tmpfs over this namespace's /tmp, pivoted into,
	 * with the host's tree left at /oldroot until the plan has run. */
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") != 0)
		child_fail(c, -1, "mount root tmpfs", errno);
	if (mkdir("/tmp/oldroot", 0700) != 0)
		child_fail(c, -1, "mkdir /oldroot", errno);
	if (syscall(SYS_pivot_root, "/tmp", "/tmp/oldroot") != 0)
		child_fail(c, -1, "pivot_root", errno);
	if (chdir("/") != 0)
		child_fail(c, -1, "chdir /", errno);
	for (int i = 0; i < c->plan->nops; i++) {
		int r = run_op(&c->plan->ops[i]);
		if (r != 0)
			child_fail(c, i, NULL, -r);
	}
	if (umount2("/oldroot", MNT_DETACH) != 0)
		child_fail(c, -1, "umount /oldroot", errno);
	if (rmdir("/oldroot") != 0)
		child_fail(c, -1, "rmdir /oldroot", errno);
	if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
		child_fail(c, -1, "remount / read-only", errno);
	const char *h = s->hostname ? s->hostname : "localhost";
	if (sethostname(h, strlen(h)) != 0)
		child_fail(c, -1, "sethostname", errno);
}

/* PROCESS level as root: a private mount namespace (the clone made it) in
 * which /tmp is the environment's own and the data directory shows only the
 * environment's code and layers. Everything else is the host's view. */
static void child_process_mounts(const struct child_ctx *c)
{
	int r;
	int fd[NREVEAL];
	char src[NREVEAL][40];
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		child_fail(c, -1, "make / private", errno);
	/* the sources, before they are hidden; opened here since a bind
	 * source must belong to this mount namespace */
	for (int i = 0; i < c->nreveal; i++) {
		if ((fd[i] = open(c->reveal[i], O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			child_fail(c, -1, "open code directory", errno);
		snprintf(src[i], sizeof src[i], "/proc/self/fd/%d", fd[i]);
	}
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, c->tmp_opts) != 0)
		child_fail(c, -1, "mount /tmp", errno);
	if (c->hide) {
		/* (when the directory was below /tmp it is made in the new one) */
		if ((r = mkdir_p(c->hide, 0755)) != 0)
			child_fail(c, -1, "mkdir data directory cover", -r);
		if (mount("tmpfs", c->hide, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") != 0)
			child_fail(c, -1, "cover data directory", errno);
	}
	for (int i = 0; i < c->nreveal; i++) {
		if ((r = mkdir_p(c->reveal[i], 0755)) != 0)
			child_fail(c, -1, "mkdir code mount point", -r);
		if (mount(src[i], c->reveal[i], NULL, MS_BIND | MS_REC, NULL) != 0 ||
		    mount(NULL, c->reveal[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
			child_fail(c, -1, "bind code", errno);
		close(fd[i]);
	}
	if (c->hide && mount(NULL, c->hide, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			     "size=64k,mode=0755") != 0)
		child_fail(c, -1, "remount data directory cover", errno);
}

static void set_limit(const struct child_ctx *c, int res, rlim_t v, const char *step)
{
	struct rlimit cur, rl = {v, v};
	if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && v > cur.rlim_max)
		rl.rlim_cur = rl.rlim_max = cur.rlim_max;
	if (setrlimit(res, &rl) != 0)
		child_fail(c, -1, step, errno);
}

static void child_main(const struct child_ctx *c) __attribute__((noreturn));
static void child_main(const struct child_ctx *c)
{
	const struct sandbox_spec *s = c->spec;

	/* signals: unblock everything, every disposition back to default (an
	 * ignored signal would stay ignored across exec) */
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL); /* glibc's reserved ones fail: fine */

	for (int i = 0; i < 2; i++)
		if (c->cgfd[i] >= 0 && write(c->cgfd[i], "0\n", 2) != 2)
			child_fail(c, -1, "join cgroup", errno);

	if (c->full)
		child_root(c);
	else if (c->private_mounts)
		child_process_mounts(c);

	/* stdio: copy above 2 first so that any of 0..2 as a source survives */
	int in = c->nullfd;
	int out = s->stdout_fd >= 0 ? s->stdout_fd : c->nullfd;
	int err = s->stderr_fd >= 0 ? s->stderr_fd : c->nullfd;
	int o2 = fcntl(out, F_DUPFD_CLOEXEC, 3), e2 = fcntl(err, F_DUPFD_CLOEXEC, 3);
	int i2 = fcntl(in, F_DUPFD_CLOEXEC, 3);
	if (o2 < 0 || e2 < 0 || i2 < 0)
		child_fail(c, -1, "dup stdio", errno);
	if (dup2(i2, 0) < 0 || dup2(o2, 1) < 0 || dup2(e2, 2) < 0)
		child_fail(c, -1, "dup2 stdio", errno);

	/* every other descriptor closes at exec (the error pipe must live
	 * until then) */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
		struct rlimit rl;
		int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
		for (int fd = 3; fd < max; fd++)
			if (fd != c->errfd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}

	if (setsid() < 0)
		child_fail(c, -1, "setsid", errno);

	set_limit(c, RLIMIT_CORE, 0, "setrlimit CORE");
	if (s->nofile > 0)
		set_limit(c, RLIMIT_NOFILE, (rlim_t)s->nofile, "setrlimit NOFILE");
	if (s->nproc > 0)
		set_limit(c, RLIMIT_NPROC, (rlim_t)s->nproc, "setrlimit NPROC");
	if (c->fsize)
		set_limit(c, RLIMIT_FSIZE, (rlim_t)c->fsize, "setrlimit FSIZE");

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		child_fail(c, -1, "no_new_privs", errno);

	if (c->drop_uid) {
		/* the bounding set needs CAP_SETPCAP, so before the uid change;
		 * numbers past the kernel's last capability fail with EINVAL */
		for (int cap = 0; cap < 64; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
				child_fail(c, -1, "drop capability bounding set", errno);
		if (setgroups(0, NULL) != 0)
			child_fail(c, -1, "setgroups", errno);
		if (setresgid(s->gid, s->gid, s->gid) != 0)
			child_fail(c, -1, "setgid", errno);
		/* from root to non-root with every id: the kernel clears the
		 * permitted, effective and ambient sets */
		if (setresuid(s->uid, s->uid, s->uid) != 0)
			child_fail(c, -1, "setuid", errno);
	}
	/* inheritable and ambient survive a uid change (and a non-root daemon
	 * may hold capabilities of its own): none of any kind reach the exec */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); /* EINVAL before 4.3: none then */
	struct __user_cap_header_struct caph = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct capd[_LINUX_CAPABILITY_U32S_3];
	memset(capd, 0, sizeof capd);
	if (syscall(SYS_capset, &caph, capd) != 0)
		child_fail(c, -1, "capset", errno);
	/* after the uid change, which clears it; kills the tree if the daemon
	 * dies (at FULL, killing pid 1 takes the whole namespace) */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

	const char *cwd = s->cwd ? s->cwd : (c->full ? "/var/task" : NULL);
	if (cwd && chdir(cwd) != 0)
		child_fail(c, -1, "chdir", errno);

	/* last: the setup above mounts and pivots; from here on nothing may */
	if (c->seccomp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->seccomp, 0, 0) != 0)
		child_fail(c, -1, "seccomp", errno);

	execve(s->argv[0], s->argv, s->envp);
	if (s->exec_as_shell && (errno == ENOENT || errno == ENOTDIR))
		_exit(127);
	if (s->exec_as_shell && (errno == EACCES || errno == ENOEXEC))
		_exit(126);
	child_fail(c, -1, "execve", errno);
	_exit(127);
}

/* -------------------------------------------------------------- cgroups */

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = n < 0 ? errno : 0;
	close(fd);
	return n < 0 ? -e : 0;
}

static int read_file(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = 0;
	return (int)n;
}

/* Value of "key N" in a flat-keyed cgroup file, or -1. */
static long long keyed_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return atoll(p + kl + 1);
	return -1;
}

static void cg_remove(char *dir)
{
	if (!dir)
		return;
	for (int i = 0; i < 50; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			break;
		if (errno != EBUSY)
			break;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	free(dir);
}

static int cg_open_procs(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	return open(path, O_WRONLY | O_CLOEXEC);
}

/* Make the environment's cgroup directories and set their limits. */
static int cg_create(struct sandbox_proc *p, const struct sandbox_spec *s, struct sandbox_failure *why)
{
	const struct sandbox_caps *k = s->caps;
	char name[64], val[64];
	snprintf(name, sizeof name, "env-%ld-%lu", (long)getpid(), ++g_seq);
	int n = k->cgroup_version == 1 ? 2 : 1;
	for (int i = 0; i < n; i++) {
		const char *base = i == 0 ? k->cg_memory : k->cg_pids;
		size_t len = strlen(base) + strlen(name) + 2;
		p->cg[i] = malloc(len);
		if (!p->cg[i])
			return LD_ENOMEM;
		snprintf(p->cg[i], len, "%s/%s", base, name);
		if (mkdir(p->cg[i], 0755) != 0) {
			int e = errno;
			free(p->cg[i]);
			p->cg[i] = NULL;
			why->step = "mkdir cgroup";
			why->err = e;
			return LD_EIO;
		}
	}
	int r = 0;
	long long mem = (long long)s->memory_mb * MIB;
	if (k->cgroup_version == 1) {
		if (s->memory_mb > 0) {
			snprintf(val, sizeof val, "%lld", mem);
			if ((r = write_file(p->cg[0], "memory.limit_in_bytes", val)) != 0)
				goto fail_limit;
			/* memsw exists only with swap accounting; without it,
			 * swappiness 0 is the best there is */
			if (write_file(p->cg[0], "memory.memsw.limit_in_bytes", val) != 0)
				write_file(p->cg[0], "memory.swappiness", "0");
		}
		if (s->pids_max > 0) {
			snprintf(val, sizeof val, "%d", s->pids_max);
			if ((r = write_file(p->cg[1], "pids.max", val)) != 0)
				goto fail_limit;
		}
	} else {
		if (s->memory_mb > 0) {
			snprintf(val, sizeof val, "%lld", mem);
			if ((r = write_file(p->cg[0], "memory.max", val)) != 0)
				goto fail_limit;
			write_file(p->cg[0], "memory.swap.max", "0"); /* absent without swap */
		}
		if (s->pids_max > 0) {
			snprintf(val, sizeof val, "%d", s->pids_max);
			if ((r = write_file(p->cg[0], "pids.max", val)) != 0)
				goto fail_limit;
		}
	}
	return 0;
fail_limit:
	why->step = "set cgroup limit";
	why->err = -r;
	return LD_EIO;
}

/* ---------------------------------------------------------------- spawn */

static long clone3_raw(struct sbx_clone_args *a)
{
	return syscall(SYS_clone3, a, sizeof *a);
}

static int map_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return LD_ENOTFOUND;
	case ENOMEM:
		return LD_ENOMEM;
	case EINVAL:
		return LD_EINVAL;
	default:
		return LD_EIO;
	}
}

int sandbox_spawn(const struct sandbox_spec *s, struct sandbox_proc **out, struct sandbox_failure *why)
{
	struct sandbox_failure dummy;
	struct plan pl = {0};
	struct sandbox_proc *p = NULL;
	int errp[2] = {-1, -1}, nullfd = -1, cgfd[2] = {-1, -1}, cgdir = -1, pidfd = -1;
	char *hide = NULL, *reveal[NREVEAL] = {NULL, NULL, NULL};
	int rc = 0;
	pid_t pid = -1;

	if (!why)
		why = &dummy;
	why->step = "spec";
	why->err = 0;
	*out = NULL;
	if (!s || !s->caps || !s->argv || !s->argv[0] || s->argv[0][0] != '/' || !s->envp)
		return LD_EINVAL;
	int full = s->level == SANDBOX_FULL;
	int root = geteuid() == 0;
	if (full && (!s->caps->namespaces || !s->code_dir || s->tmp_mb < 1 || s->uid == 0 || s->gid == 0 || !root))
		return LD_EINVAL;

	int drop_uid = root && s->uid != 0;
	int private_mounts = !full && drop_uid && s->caps->namespaces;

	p = calloc(1, sizeof *p);
	if (!p)
		return LD_ENOMEM;
	p->pidfd = -1;
	p->level = s->level;
	p->sweep = !full && drop_uid;
	p->uid = s->uid;
	p->gid = s->gid;

	if (full && s->caps->cgroup_version && (s->memory_mb > 0 || s->pids_max > 0)) {
		p->cgv = s->caps->cgroup_version;
		if ((rc = cg_create(p, s, why)) != 0)
			goto out;
		if (p->cgv == 1) {
			for (int i = 0; i < 2; i++)
				if ((cgfd[i] = cg_open_procs(p->cg[i])) < 0) {
					why->step = "open cgroup.procs";
					why->err = errno;
					rc = LD_EIO;
					goto out;
				}
		} else if ((cgdir = open(p->cg[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
			why->step = "open cgroup";
			why->err = errno;
			rc = LD_EIO;
			goto out;
		}
	}
	if (full) {
		why->step = "prepare root";
		if ((rc = plan_build(&pl, s)) != 0)
			goto out;
	}
	int nreveal = 0;
	if (private_mounts) {
		/* resolved and opened here: the cover hides these paths from
		 * the child, which binds them through /proc/self/fd */
		why->step = "prepare mounts";
		if (s->hide_dir && !(hide = realpath(s->hide_dir, NULL))) {
			rc = map_errno(errno);
			goto out;
		}
		const char *rv[NREVEAL] = {s->code_dir, s->layers_dir, s->runtime_dir};
		for (int i = 0; i < NREVEAL; i++) {
			if (!rv[i])
				continue;
			if (!(reveal[nreveal] = realpath(rv[i], NULL))) {
				why->err = errno;
				rc = map_errno(errno);
				goto out;
			}
			nreveal++;
		}
	}
	if (pipe2(errp, O_CLOEXEC) != 0 || (nullfd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
		why->step = "pipe";
		why->err = errno;
		rc = LD_EIO;
		goto out;
	}

	struct child_ctx c = {
		.spec = s, .plan = &pl, .full = full,
		.drop_uid = drop_uid,
		.errfd = errp[1], .nullfd = nullfd, .cgfd = {cgfd[0], cgfd[1]},
		.fsize = s->tmp_mb > 0 ? (uint64_t)(s->tmp_mb + 1) * MIB : 0,
		.seccomp = seccomp_prog(),
		.private_mounts = private_mounts, .hide = hide, .nreveal = nreveal,
	};
	snprintf(c.tmp_opts, sizeof c.tmp_opts, "size=%dm,mode=1777", s->tmp_mb > 0 ? s->tmp_mb : 512);
	for (int i = 0; i < nreveal; i++)
		c.reveal[i] = reveal[i];
	struct sbx_clone_args ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = (full ? NS_FLAGS : private_mounts ? CLONE_NEWNS : 0) | (s->caps->pidfd ? CLONE_PIDFD : 0);
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	if (cgdir >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)cgdir;
	}
	long r = clone3_raw(&ca);
	if (r < 0 && errno == ENOSYS && !full && !private_mounts)
		r = fork();
	if (r < 0) {
		why->step = "clone3";
		why->err = errno;
		rc = map_errno(errno);
		goto out;
	}
	if (r == 0)
		child_main(&c); /* never returns */
	pid = (pid_t)r;
	p->pid = pid;
	p->pidfd = pidfd;
	pidfd = -1;
	close(errp[1]);
	errp[1] = -1;

	struct report rep;
	ssize_t n;
	do
		n = read(errp[0], &rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	if (n == 0) { /* EOF: exec'd */
		*out = p;
		p = NULL;
		goto out;
	}
	if (n == (ssize_t)sizeof rep) {
		why->step = rep.op >= 0 && rep.op < pl.nops ? pl.ops[rep.op].dst : rep.step;
		why->err = rep.err;
		rc = map_errno(rep.err);
	} else {
		why->step = "read error pipe";
		why->err = n < 0 ? errno : EPROTO;
		rc = LD_EIO;
	}
	/* the child has exited or is about to: reap it (it started nothing) */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	p->reaped = 1;
	p->sweep = 0;
out:
	/* why->step may point into the plan: copy it to static storage */
	if (rc != 0 && why->step) {
		static char stepbuf[PATH_MAX + 32];
		if (why->step != stepbuf) {
			snprintf(stepbuf, sizeof stepbuf, "%s", why->step);
			why->step = stepbuf;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (errp[i] >= 0)
			close(errp[i]);
		if (cgfd[i] >= 0)
			close(cgfd[i]);
	}
	if (nullfd >= 0)
		close(nullfd);
	if (cgdir >= 0)
		close(cgdir);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < NREVEAL; i++)
		free(reveal[i]);
	free(hide);
	plan_free(&pl);
	if (p)
		sandbox_free(p);
	return rc;
}

/* -------------------------------------------------------------- control */

pid_t sandbox_pid(const struct sandbox_proc *p)
{
	return p->pid;
}

int sandbox_fd(const struct sandbox_proc *p)
{
	return p->pidfd;
}

int sandbox_reap(struct sandbox_proc *p, int *status)
{
	if (!p->reaped) {
		int st;
		pid_t r;
		do
			r = waitpid(p->pid, &st, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return 0;
		if (r < 0)
			return LD_EIO;
		p->reaped = 1;
		p->status = st;
	}
	if (status)
		*status = p->status;
	return 1;
}

/* SIGKILL every process listed in a cgroup's cgroup.procs. */
static void cg_kill_all(const char *dir)
{
	char path[PATH_MAX], buf[4096];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n;
	char carry[32];
	size_t nc = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				carry[nc] = 0;
				long pid = atol(carry);
				if (pid > 0)
					kill((pid_t)pid, SIGKILL);
				nc = 0;
			} else if (nc < sizeof carry - 1) {
				carry[nc++] = buf[i];
			}
		}
	}
	close(fd);
}

/* SIGKILL every process running as uid (PROCESS level, where a runtime's
 * children can leave its session and process group): a short-lived helper
 * takes the uid and signals -1, which reaches exactly the processes that uid
 * may signal, i.e. its own, never the helper itself. Repeated while some were
 * found (a process forking between rounds), at most 10 rounds. */
static void sweep_uid(uid_t uid, gid_t gid)
{
	pid_t h = fork();
	if (h < 0)
		return;
	if (h == 0) {
		if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
			_exit(1);
		for (int i = 0; i < 10 && kill(-1, SIGKILL) == 0; i++) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		_exit(0);
	}
	while (waitpid(h, NULL, 0) < 0 && errno == EINTR)
		;
}

int sandbox_kill(struct sandbox_proc *p)
{
	if (p->reaped)
		return 0;
	int sent = 0, e = 0;
	if (p->pidfd >= 0 && syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0) == 0)
		sent = 1;
	else if (kill(p->pid, SIGKILL) == 0) /* not reaped: the pid is still ours */
		sent = 1;
	else
		e = errno;
	if (p->level == SANDBOX_PROCESS)
		kill(-p->pid, SIGKILL); /* its session / process group */
	if (p->sweep) {
		/* and whatever left them; every process of the uid now has
		 * SIGKILL pending and cannot fork: no second sweep is needed */
		sweep_uid(p->uid, p->gid);
		p->sweep = 0;
	}
	/* anything that left the pid namespace's reach (cannot happen at FULL,
	 * but cheap): every member of the cgroup */
	if (p->cgv == 2) {
		if (write_file(p->cg[0], "cgroup.kill", "1") != 0)
			cg_kill_all(p->cg[0]);
	} else if (p->cgv == 1) {
		cg_kill_all(p->cg[1]);
	}
	if (!sent && e != ESRCH)
		return LD_EIO;
	return 0;
}

int sandbox_memory_peak_mb(struct sandbox_proc *p)
{
	char buf[64];
	if (!p->cgv)
		return LD_ENOTFOUND;
	const char *f = p->cgv == 1 ? "memory.max_usage_in_bytes" : "memory.peak";
	if (read_file(p->cg[0], f, buf, sizeof buf) < 0)
		return LD_ENOTFOUND;
	long long b = atoll(buf);
	return (int)((b + MIB - 1) / MIB);
}

int sandbox_oom_killed(struct sandbox_proc *p)
{
	char buf[1024];
	if (!p->cgv)
		return LD_ENOTFOUND;
	if (p->cgv == 2) {
		if (read_file(p->cg[0], "memory.events", buf, sizeof buf) < 0)
			return LD_ENOTFOUND;
		return keyed_value(buf, "oom_kill") > 0;
	}
	if (read_file(p->cg[0], "memory.oom_control", buf, sizeof buf) < 0)
		return LD_ENOTFOUND;
	long long k = keyed_value(buf, "oom_kill");
	if (k >= 0)
		return k > 0;
	/* kernels before 4.13 have no counter: the limit having been hit and
	 * the runtime killed is the best evidence there is */
	if (read_file(p->cg[0], "memory.failcnt", buf, sizeof buf) < 0)
		return LD_ENOTFOUND;
	return atoll(buf) > 0 && p->reaped && WIFSIGNALED(p->status) && WTERMSIG(p->status) == SIGKILL;
}

void sandbox_free(struct sandbox_proc *p)
{
	if (!p)
		return;
	if (!p->reaped && p->pid > 0) {
		sandbox_kill(p);
		int st;
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		p->reaped = 1;
		p->status = st;
	}
	/* a runtime that exited by itself may have left children behind */
	if (p->sweep && p->pid > 0)
		sweep_uid(p->uid, p->gid);
	if (p->pidfd >= 0)
		close(p->pidfd);
	cg_remove(p->cg[0]);
	cg_remove(p->cg[1]);
	free(p);
}

/* ---------------------------------------------------------------- traces */

/* start time of pid in clock ticks since boot (field 22 of /proc/PID/stat),
 * or -1 when it is gone (a zombie counts as gone: it runs nothing) */
static long long proc_start(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return -1;
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	return p ? atoll(p + 1) : -1;
}

int sandbox_trace(const struct sandbox_proc *p, char *out, size_t n)
{
	int len = snprintf(out, n, "lambdad-env 1 %ld %lld %d %d %d %lu %lu %s %s", (long)p->pid, proc_start(p->pid),
			   p->level, p->cgv, p->sweep, (unsigned long)p->uid, (unsigned long)p->gid,
			   p->cg[0] ? p->cg[0] : "-", p->cg[1] ? p->cg[1] : "-");
	return len > 0 && (size_t)len < n ? 0 : LD_ETOOBIG;
}

/* 1 while the cgroup has members (or cannot be read: then 0) */
static int cg_busy(const char *dir)
{
	char buf[64];
	return read_file(dir, "cgroup.procs", buf, sizeof buf) > 0;
}

int sandbox_reap_trace(const char *trace)
{
	long pid;
	long long start;
	int level, cgv, sweep;
	unsigned long uid, gid;
	char cg[2][PATH_MAX];
	if (sscanf(trace, "lambdad-env 1 %ld %lld %d %d %d %lu %lu %4095s %4095s", &pid, &start, &level, &cgv, &sweep,
		   &uid, &gid, cg[0], cg[1]) != 9 || pid <= 1)
		return LD_EINVAL;
	/* cgroups must be ours: below a "lambdad" base, named env-... */
	for (int i = 0; i < 2; i++)
		if (strcmp(cg[i], "-") != 0 && (!strstr(cg[i], "/lambdad/env-") || strstr(cg[i], "..")))
			return LD_EINVAL;
	int alive = start >= 0 && proc_start((pid_t)pid) == start;
	if (alive) {
		kill((pid_t)pid, SIGKILL);
		if (level == SANDBOX_PROCESS)
			kill((pid_t)-pid, SIGKILL);
	}
	if (sweep && uid >= SANDBOX_IDS_BASE && uid < SANDBOX_IDS_BASE + SANDBOX_IDS_COUNT)
		sweep_uid((uid_t)uid, (gid_t)gid);
	for (int i = 0; i < 2; i++) {
		if (!strcmp(cg[i], "-"))
			continue;
		if (cgv != 2 || write_file(cg[i], "cgroup.kill", "1") != 0)
			cg_kill_all(cg[i]);
	}
	/* wait (bounded) until it is all gone: the runtime, then the cgroups */
	int left = 0;
	for (int ms = 0; ms <= SANDBOX_REAP_WAIT_MS; ms += 2) {
		left = alive && proc_start((pid_t)pid) == start;
		for (int i = 0; i < 2; i++) {
			if (!strcmp(cg[i], "-"))
				continue;
			if (cg_busy(cg[i]))
				cg_kill_all(cg[i]), left = 1;
			else if (rmdir(cg[i]) == 0 || errno == ENOENT)
				strcpy(cg[i], "-");
			else
				left = 1;
		}
		if (!left)
			break;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	return left ? LD_EIO : 0;
}

/* ---------------------------------------------------------------- probe */

static int has_cap_sys_admin(void)
{
	char buf[4096];
	if (read_file("/proc/self", "status", buf, sizeof buf) < 0)
		return 0;
	const char *c = strstr(buf, "CapEff:");
	if (!c)
		return 0;
	unsigned long long v = strtoull(c + 7, NULL, 16);
	return (v >> 21) & 1; /* CAP_SYS_ADMIN */
}

/* fork a child that runs fn; 1 when it exits 0 */
static int try_in_child(int (*fn)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0)
		_exit(fn() == 0 ? 0 : 1);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int probe_userns(void)
{
	return unshare(CLONE_NEWUSER);
}

/* What sandbox_spawn's child does first: new namespaces, a private tree,
 * a tmpfs. Returns 1 (and *pidfd_ok) when it all works. */
static int probe_namespaces(int *pidfd_ok)
{
	struct sbx_clone_args ca;
	int pidfd = -1;
	*pidfd_ok = 0;
	memset(&ca, 0, sizeof ca);
	ca.flags = NS_FLAGS | CLONE_PIDFD;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	long r = clone3_raw(&ca);
	if (r < 0 && errno == EINVAL) { /* an old kernel without CLONE_PIDFD */
		ca.flags = NS_FLAGS;
		r = clone3_raw(&ca);
	}
	if (r < 0)
		return 0;
	if (r == 0) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("tmpfs", "/tmp", "tmpfs", 0, "size=64k") != 0 ||
		    mount("proc", "/proc", "proc", 0, NULL) != 0)
			_exit(1);
		_exit(0);
	}
	if (pidfd >= 0) {
		*pidfd_ok = 1;
		close(pidfd);
	}
	int st;
	while (waitpid((pid_t)r, &st, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The cgroup path of this process for a v1 controller ("memory") or, with
 * ctrl NULL, v2 ("0::"). */
static int own_cgroup(const char *ctrl, char *out, size_t cap)
{
	char buf[4096];
	if (read_file("/proc/self", "cgroup", buf, sizeof buf) < 0)
		return -1;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		const char *ctrls = c1 + 1;
		int match = 0;
		if (!ctrl) {
			match = strcmp(line, "0:") == 0 || (line[0] == '0' && line + 1 == c1 && *ctrls == 0);
		} else {
			char list[256];
			snprintf(list, sizeof list, ",%s,", ctrls);
			char want[64];
			snprintf(want, sizeof want, ",%s,", ctrl);
			match = strstr(list, want) != NULL;
		}
		if (match) {
			snprintf(out, cap, "%s", c2 + 1);
			return 0;
		}
	}
	return -1;
}

/* base = mount + (parent absolute ? parent : own + "/" + parent); made if
 * missing; 0 when it exists and is writable. */
static int cg_base(const char *mnt, const char *own, const char *parent, char *out, size_t cap)
{
	if (parent && parent[0] == '/')
		snprintf(out, cap, "%s%s", mnt, parent);
	else
		snprintf(out, cap, "%s%s/%s", mnt, strcmp(own, "/") == 0 ? "" : own,
			 parent ? parent : "lambdad");
	if (mkdir(out, 0755) != 0 && errno != EEXIST)
		return -errno;
	return access(out, W_OK) == 0 ? 0 : -errno;
}

static void probe_cgroups(struct sandbox_caps *k, const char *parent, char *why, size_t wcap)
{
	char own[256], own2[256], f[PATH_MAX + 32];
	struct stat st;
	int r;
	/* v1: memory and pids hierarchies at their usual mount points */
	if (own_cgroup("memory", own, sizeof own) == 0 && own_cgroup("pids", own2, sizeof own2) == 0 &&
	    stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0) {
		if ((r = cg_base("/sys/fs/cgroup/memory", own, parent, k->cg_memory, sizeof k->cg_memory)) != 0 ||
		    (r = cg_base("/sys/fs/cgroup/pids", own2, parent, k->cg_pids, sizeof k->cg_pids)) != 0) {
			snprintf(why, wcap, "cgroup v1 not writable (%s)", strerror(-r));
			k->cg_memory[0] = k->cg_pids[0] = 0;
			return;
		}
		k->cgroup_version = 1;
		return;
	}
	/* v2: unified at /sys/fs/cgroup with memory and pids available */
	if (own_cgroup(NULL, own, sizeof own) == 0 && read_file("/sys/fs/cgroup", "cgroup.controllers", f, sizeof f) > 0 &&
	    strstr(f, "memory") && strstr(f, "pids")) {
		char owndir[PATH_MAX];
		snprintf(owndir, sizeof owndir, "/sys/fs/cgroup%s", strcmp(own, "/") == 0 ? "" : own);
		if ((r = cg_base("/sys/fs/cgroup", own, parent, k->cg_memory, sizeof k->cg_memory)) != 0) {
			snprintf(why, wcap, "cgroup v2 not writable (%s)", strerror(-r));
			k->cg_memory[0] = 0;
			return;
		}
		/* the controllers must be enabled down to our base; this fails
		 * with EBUSY where processes sit in an inner cgroup (v2's rule):
		 * run the daemon in a delegated cgroup, in a leaf of its own */
		write_file(owndir, "cgroup.subtree_control", "+memory +pids");
		if ((r = write_file(k->cg_memory, "cgroup.subtree_control", "+memory +pids")) != 0) {
			snprintf(why, wcap, "cgroup v2: cannot enable memory+pids below %.120s (%s)",
				 k->cg_memory, strerror(-r));
			k->cg_memory[0] = 0;
			return;
		}
		k->cgroup_version = 2;
		return;
	}
	snprintf(why, wcap, "no cgroup v1 memory+pids nor cgroup v2 with memory+pids");
}

int sandbox_probe(struct sandbox_caps *k, const char *cgroup_parent)
{
	char cgwhy[200] = "";
	memset(k, 0, sizeof *k);
	k->root = geteuid() == 0 && has_cap_sys_admin();
	k->userns = try_in_child(probe_userns);
	if (k->root)
		k->namespaces = probe_namespaces(&k->pidfd);
	if (!k->pidfd) { /* pidfds without namespaces: clone3 in PROCESS mode */
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0) {
			int fd = (int)syscall(SYS_pidfd_open, pid, 0);
			k->pidfd = fd >= 0;
			if (fd >= 0)
				close(fd);
			waitpid(pid, NULL, 0);
		}
	}
	if (k->root)
		probe_cgroups(k, cgroup_parent, cgwhy, sizeof cgwhy);
	if (k->root && k->namespaces) {
		k->level = SANDBOX_FULL;
		if (!k->cgroup_version)
			snprintf(k->why, sizeof k->why, "%s: memory and pids unlimited", cgwhy);
	} else {
		k->level = SANDBOX_PROCESS;
		snprintf(k->why, sizeof k->why, "%s",
			 !k->root ? "not root (CAP_SYS_ADMIN needed for namespaces, mounts, cgroups, uid drop)"
				  : "cannot create mount/pid/ipc/uts namespaces");
	}
	return 0;
}

const char *sandbox_describe(const struct sandbox_caps *k)
{
	static char buf[512];
	if (k->level == SANDBOX_FULL)
		snprintf(buf, sizeof buf, "sandbox: full (mount+pid+ipc+uts namespaces, %s, rlimits, no_new_privs, seccomp, uid drop, no capabilities)%s%s",
			 k->cgroup_version == 1 ? "cgroup v1 memory+pids" : k->cgroup_version == 2 ? "cgroup v2 memory+pids" : "no cgroups",
			 k->why[0] ? "; " : "", k->why);
	else
		snprintf(buf, sizeof buf, "sandbox: process only (fork/exec, setsid, rlimits, no_new_privs, seccomp); %s", k->why);
	return buf;
}

/* ------------------------------------------------------------------ ids */

struct sandbox_ids {
	uid_t base;
	unsigned count;
	unsigned next;   /* where the next search starts (round robin) */
	unsigned in_use;
	int lockfd;      /* the shared lock file, or -1 */
	unsigned char *used; /* one bit per id */
};

int sandbox_ids_new(uid_t base, unsigned count, const char *lock_path, struct sandbox_ids **out)
{
	*out = NULL;
	if (base == 0 || count == 0 || (uint64_t)base + count > 0x80000000ULL)
		return LD_EINVAL;
	struct sandbox_ids *ids = calloc(1, sizeof *ids);
	if (!ids || !(ids->used = calloc((count + 7) / 8, 1))) {
		free(ids);
		return LD_ENOMEM;
	}
	ids->base = base;
	ids->count = count;
	ids->lockfd = lock_path ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
	*out = ids;
	return 0;
}

/* One byte of the lock file per id, at offset = the id itself, so that
 * daemons with different ranges still exclude each other where they meet.
 * Returns 0 when the id is ours to use. */
static int ids_lock(const struct sandbox_ids *ids, uid_t id, int type)
{
	if (ids->lockfd < 0)
		return 0;
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = (short)type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)id;
	fl.l_len = 1;
	if (fcntl(ids->lockfd, F_OFD_SETLK, &fl) == 0)
		return 0;
	/* held by another daemon; any other failure (no lock support on that
	 * file system) leaves the id usable, as without a lock file */
	return errno == EAGAIN || errno == EACCES ? -1 : 0;
}

int sandbox_ids_take(struct sandbox_ids *ids, uid_t *id)
{
	for (unsigned i = 0; i < ids->count; i++) {
		unsigned k = (ids->next + i) % ids->count;
		if (ids->used[k / 8] & (1u << (k % 8)))
			continue;
		if (ids_lock(ids, ids->base + k, F_WRLCK) != 0)
			continue;
		ids->used[k / 8] |= (unsigned char)(1u << (k % 8));
		ids->in_use++;
		ids->next = (k + 1) % ids->count;
		*id = ids->base + k;
		return 0;
	}
	return LD_ETHROTTLED;
}

void sandbox_ids_give(struct sandbox_ids *ids, uid_t id)
{
	if (!ids || id < ids->base || id - ids->base >= ids->count)
		return;
	unsigned k = id - ids->base;
	if (!(ids->used[k / 8] & (1u << (k % 8))))
		return;
	ids->used[k / 8] &= (unsigned char)~(1u << (k % 8));
	ids->in_use--;
	ids_lock(ids, id, F_UNLCK);
}

unsigned sandbox_ids_in_use(const struct sandbox_ids *ids)
{
	return ids->in_use;
}

void sandbox_ids_free(struct sandbox_ids *ids)
{
	if (!ids)
		return;
	if (ids->lockfd >= 0)
		close(ids->lockfd); /* releases every lock of this description */
	free(ids->used);
	free(ids);
}
