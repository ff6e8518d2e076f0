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
#include "exec/cgroup.h"
#include "exec/seccomp.h"
#include "exec/uidpool.h"
#include "util/err.h"
#include "util/file.h"

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
	int cgfd[CG_NDIRS]; /* cgroup.procs to write "0" into, or -1 */
	uint64_t fsize;
	const struct sock_fprog *seccomp; /* loaded right before execve */
	/* PROCESS as root: a private mount namespace (child_process_mounts) */
	int private_mounts;
	char tmp_opts[64];        /* the /tmp tmpfs */
	const char *hide;         /* realpath of spec->hide_dir, or NULL */
	int nreveal;
	const char *reveal[NREVEAL];     /* realpaths bound back read-only */
	/* FULL with an image: the overlayfs mount of its layers */
	const char *image_dir;
	char *overlay_opts;       /* "lowerdir=top:...:bottom" (relative to image_dir), NULL: one layer, bound */
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
	char *cg[CG_NDIRS]; /* v1: memory, pids, freezer, cpu (NULL: none); v2: [0] only */
	int v2_cpu;  /* v2: cpu.max can be set */
	int frozen;  /* 1: cgroup freezer, 2: SIGSTOP of the process group */
	int sweep;   /* PROCESS with a dropped uid: kill what runs as uid at the end */
	int peak_fd; /* the memory high-water mark's file, opened on first read, or -1 */
	uid_t uid;
	gid_t gid;
};

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
	"/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/gai.conf", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/alternatives", "/etc/ssl", "/etc/ca-certificates", "/etc/pki",
	"/etc/localtime", "/etc/mime.types", "/etc/protocols", "/etc/services",
	"/etc/os-release", "/etc/debian_version",
	/* Debian's OpenJDK reads its configuration (java.security ...) here */
	"/etc/java-11-openjdk", "/etc/java-17-openjdk", "/etc/java-21-openjdk",
};

static const char *const dev_nodes[] = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"};

#define TRY(x) do { if ((rc = (x)) != 0) return rc; } while (0)

/* /dev's contents: the device nodes bound from the host, and the fd links
 * (the caller makes /dev) */
static int plan_dev(struct plan *pl)
{
	char buf[64];
	int rc;
	for (size_t i = 0; i < sizeof dev_nodes / sizeof *dev_nodes; i++) {
		snprintf(buf, sizeof buf, "/oldroot%s", dev_nodes[i]);
		TRY(plan_add(pl, OP_BIND_DEV, buf, dev_nodes[i], 0));
	}
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd", "/dev/fd", 0));
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd/0", "/dev/stdin", 0));
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd/1", "/dev/stdout", 0));
	TRY(plan_add(pl, OP_SYMLINK, "/proc/self/fd/2", "/dev/stderr", 0));
	return 0;
}

/* the spec's extra read-only binds */
static int plan_binds(struct plan *pl, const struct sandbox_spec *s)
{
	int rc;
	for (int i = 0; i < s->nbinds; i++) {
		const char *t = s->binds[i].target;
		if (!t || t[0] != '/' || strstr(t, "..") || !s->binds[i].source)
			return LD_EINVAL;
		TRY(plan_bind(pl, s->binds[i].source, t, 1));
	}
	return 0;
}

/* An image's root: its own tree, with the sandbox's /dev, /proc and /tmp */
static int plan_build_image(struct plan *pl, const struct sandbox_spec *s)
{
	char buf[512];
	int rc;
	TRY(plan_add(pl, OP_TMPFS, "size=64k,mode=0755", "/dev", 1));
	TRY(plan_dev(pl));
	TRY(plan_add(pl, OP_PROC, NULL, "/proc", 1));
	snprintf(buf, sizeof buf, "size=%dm,mode=1777", s->tmp_mb);
	TRY(plan_add(pl, OP_TMPFS, buf, "/tmp", 1));
	TRY(plan_binds(pl, s));
	return 0;
}

static int plan_build(struct plan *pl, const struct sandbox_spec *s)
{
	char buf[512], lnk[PATH_MAX];
	struct stat st;
	int rc;
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
	/* the environment's own names, as on Lambda: extensions' telemetry
	 * listeners bind sandbox.localdomain */
	TRY(plan_add(pl, OP_WRITE,
		     "127.0.0.1\tlocalhost\n127.0.0.1\tsandbox.localdomain sandbox\n"
		     "::1\tlocalhost ip6-localhost ip6-loopback\n",
		     "/etc/hosts", 0));

	TRY(plan_add(pl, OP_MKDIR, NULL, "/dev", 1));
	TRY(plan_dev(pl));

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
	TRY(plan_binds(pl, s));
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
	return file_mkdir_p(tmp, 0755);
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
		return file_mkdir_p(o->dst, 0755);
	case OP_SYMLINK:
		if ((r = make_parent(o->dst)) != 0)
			return r;
		return symlink(o->src, o->dst) == 0 ? 0 : -errno;
	case OP_BIND_RO:
	case OP_BIND_DEV:
		if ((r = make_parent(o->dst)) != 0)
			return r;
		r = o->is_dir ? file_mkdir_p(o->dst, 0755) : touch(o->dst);
		if (r != 0)
			return r;
		if (mount(o->src, o->dst, NULL, MS_BIND | MS_REC, NULL) != 0)
			return -errno;
		unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID;
		fl |= o->kind == OP_BIND_RO ? MS_RDONLY | MS_NODEV : MS_NOEXEC;
		return mount(NULL, o->dst, NULL, fl, NULL) == 0 ? 0 : -errno;
	case OP_TMPFS:
		if ((r = file_mkdir_p(o->dst, 0755)) != 0)
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
	 * with the host's tree left at /oldroot until the plan has run; or an
	 * image's layers, stacked there (their top layer has the mount points:
	 * an overlay without an upper layer is read-only). */
	/* (into the layers first: the data directory may be below /tmp) */
	if (c->image_dir && chdir(c->image_dir) != 0)
		child_fail(c, -1, "chdir image layers", errno);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") != 0)
		child_fail(c, -1, "mount root tmpfs", errno);
	if (c->image_dir) {
		if (c->overlay_opts ? mount("overlay", "/tmp", "overlay", MS_NOSUID | MS_NODEV | MS_RDONLY, c->overlay_opts)
				    : mount(s->image_layers[0], "/tmp", NULL, MS_BIND | MS_REC, NULL))
			child_fail(c, -1, "mount image layers", errno);
	} else if (mkdir("/tmp/oldroot", 0700) != 0) {
		child_fail(c, -1, "mkdir /oldroot", errno);
	}
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
	if (!c->image_dir && rmdir("/oldroot") != 0) /* (an image's root is read-only: its stays, empty) */
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
		if ((r = file_mkdir_p(c->hide, 0755)) != 0)
			child_fail(c, -1, "mkdir data directory cover", -r);
		if (mount("tmpfs", c->hide, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755") != 0)
			child_fail(c, -1, "cover data directory", errno);
	}
	for (int i = 0; i < c->nreveal; i++) {
		if ((r = file_mkdir_p(c->reveal[i], 0755)) != 0)
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

	for (int i = 0; i < CG_NDIRS; i++)
		if (c->cgfd[i] >= 0 && write(c->cgfd[i], "0\n", 2) != 2)
			child_fail(c, -1, "join cgroup", errno);
	/* before the uid drop: it needs CAP_SYS_ADMIN */
	if (s->netns_fd > 0 && setns(s->netns_fd, CLONE_NEWNET) != 0)
		child_fail(c, -1, "join network namespace", errno);

	if (c->full)
		child_root(c);
	else if (c->private_mounts)
		child_process_mounts(c);

	/* stdio: copy above 2 first so that any of 0..2 as a source survives */
	int in = s->stdin_fd > 2 ? s->stdin_fd : c->nullfd;
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
	int errp[2] = {-1, -1}, nullfd = -1, cgfd[CG_NDIRS] = {-1, -1, -1, -1}, cgdir = -1, pidfd = -1;
	char *hide = NULL, *reveal[NREVEAL] = {NULL, NULL, NULL}, *overlay = NULL;
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
	int image = s->image_dir && s->nimage_layers > 0;
	if (full && (!s->caps->namespaces || (!s->code_dir && !image) || s->tmp_mb < 1 || s->uid == 0 || s->gid == 0 ||
		     !root))
		return LD_EINVAL;
	if (image && !full)
		return LD_EINVAL;

	int drop_uid = root && s->uid != 0;
	int private_mounts = !full && drop_uid && s->caps->namespaces;

	p = calloc(1, sizeof *p);
	if (!p)
		return LD_ENOMEM;
	p->pidfd = -1;
	p->peak_fd = -1;
	p->level = s->level;
	p->sweep = !full && drop_uid;
	p->uid = s->uid;
	p->gid = s->gid;

	if (full && s->caps->cg.version && (s->memory_mb > 0 || s->pids_max > 0)) {
		p->cgv = s->caps->cg.version;
		p->v2_cpu = s->caps->cg.v2_cpu;
		if ((rc = cgroup_create(&s->caps->cg, ++g_seq, s->memory_mb, s->pids_max, p->cg, &why->step, &why->err)) != 0)
			goto out;
		if (p->cgv == 1) {
			for (int i = 0; i < CG_NDIRS; i++)
				if (p->cg[i] && (cgfd[i] = cgroup_open_procs(p->cg[i])) < 0) {
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
		if ((rc = image ? plan_build_image(&pl, s) : plan_build(&pl, s)) != 0)
			goto out;
	}
	if (image && s->nimage_layers > 1) {
		/* lowerdir=top:...:bottom, names relative to image_dir (the child
		 * mounts from there): the option must fit one page */
		size_t len = strlen("lowerdir=") + 1;
		for (int i = 0; i < s->nimage_layers; i++)
			len += strlen(s->image_layers[i]) + 1;
		why->step = "image layers";
		if (len > 4000 || !(overlay = malloc(len))) {
			rc = len > 4000 ? LD_ETOOBIG : LD_ENOMEM;
			goto out;
		}
		strcpy(overlay, "lowerdir=");
		for (int i = 0; i < s->nimage_layers; i++) {
			if (strchr(s->image_layers[i], ':') || strchr(s->image_layers[i], ',') || strchr(s->image_layers[i], '/')) {
				rc = LD_EINVAL;
				goto out;
			}
			strcat(overlay, s->image_layers[i]);
			if (i + 1 < s->nimage_layers)
				strcat(overlay, ":");
		}
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
		.errfd = errp[1], .nullfd = nullfd, .cgfd = {cgfd[0], cgfd[1], cgfd[2], cgfd[3]},
		.fsize = s->tmp_mb > 0 ? (uint64_t)(s->tmp_mb + 1) * MIB : 0,
		.seccomp = seccomp_filter(),
		.private_mounts = private_mounts, .hide = hide, .nreveal = nreveal,
		.image_dir = image ? s->image_dir : NULL, .overlay_opts = overlay,
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
	for (int i = 0; i < 2; i++)
		if (errp[i] >= 0)
			close(errp[i]);
	for (int i = 0; i < CG_NDIRS; i++)
		if (cgfd[i] >= 0)
			close(cgfd[i]);
	if (nullfd >= 0)
		close(nullfd);
	if (cgdir >= 0)
		close(cgdir);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < NREVEAL; i++)
		free(reveal[i]);
	free(hide);
	free(overlay);
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
	sandbox_thaw(p); /* a frozen process dies only once thawed (v1 freezer) */
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
	cgroup_kill(p->cgv, p->cg);
	if (!sent && e != ESRCH)
		return LD_EIO;
	return 0;
}

int sandbox_freeze(struct sandbox_proc *p)
{
	if (!p || p->reaped || p->frozen)
		return 0;
	if (cgroup_freeze(p->cgv, p->cg, 1) == 0) {
		p->frozen = 1;
		return 0;
	}
	/* no freezer: stop the process group (the runtime's session; at FULL
	 * its pid namespace's processes, unless one made a group of its own) */
	if (kill(-p->pid, SIGSTOP) != 0)
		return LD_EIO;
	p->frozen = 2;
	return 0;
}

int sandbox_thaw(struct sandbox_proc *p)
{
	if (!p)
		return 0;
	int how = p->frozen;
	p->frozen = 0;
	if (how == 1)
		return cgroup_freeze(p->cgv, p->cg, 0) == 0 ? 0 : LD_EIO;
	if (how == 2 && !p->reaped)
		return kill(-p->pid, SIGCONT) == 0 || errno == ESRCH ? 0 : LD_EIO;
	return 0;
}

int sandbox_frozen(struct sandbox_proc *p)
{
	if (!p)
		return 0;
	if (p->frozen == 1)
		return cgroup_frozen(p->cgv, p->cg);
	return p->frozen == 2;
}

int sandbox_cpu_limit(struct sandbox_proc *p, int memory_mb)
{
	if (!p)
		return LD_ENOTFOUND;
	return cgroup_cpu_limit(p->cgv, p->v2_cpu, p->cg, memory_mb);
}

int sandbox_memory_peak_mb(struct sandbox_proc *p)
{
	if (!p->cgv)
		return LD_ENOTFOUND;
	if (p->peak_fd < 0)
		p->peak_fd = cgroup_peak_open(p->cgv, p->cg[0]);
	return cgroup_peak_mb(p->peak_fd);
}

int sandbox_oom_killed(struct sandbox_proc *p)
{
	long long k = cgroup_oom_kills(p->cgv, p->cg[0]);
	if (k == LD_ENOTFOUND)
		return LD_ENOTFOUND;
	if (k >= 0)
		return k > 0;
	/* kernels before 4.13 have no counter: the limit having been hit and
	 * the runtime killed is the best evidence there is */
	long long fails = cgroup_failcnt(p->cg[0]);
	if (fails < 0)
		return LD_ENOTFOUND;
	return fails > 0 && p->reaped && WIFSIGNALED(p->status) && WTERMSIG(p->status) == SIGKILL;
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
	if (p->peak_fd >= 0)
		close(p->peak_fd);
	for (int i = 0; i < CG_NDIRS; i++)
		cgroup_remove(p->cg[i]);
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
	/* v1's freezer and cpu directories follow (a trace without them, from
	 * an older daemon, is read too) */
	int len = snprintf(out, n, "lambdad-env 1 %ld %lld %d %d %d %lu %lu %s %s %s %s", (long)p->pid,
			   proc_start(p->pid), p->level, p->cgv, p->sweep, (unsigned long)p->uid, (unsigned long)p->gid,
			   p->cg[0] ? p->cg[0] : "-", p->cg[1] ? p->cg[1] : "-", p->cg[2] ? p->cg[2] : "-",
			   p->cg[3] ? p->cg[3] : "-");
	return len > 0 && (size_t)len < n ? 0 : LD_ETOOBIG;
}

int sandbox_reap_trace(const char *trace)
{
	long pid;
	long long start;
	int level, cgv, sweep;
	unsigned long uid, gid;
	char cg[CG_NDIRS][PATH_MAX] = {"-", "-", "-", "-"};
	int got = sscanf(trace, "lambdad-env 1 %ld %lld %d %d %d %lu %lu %4095s %4095s %4095s %4095s", &pid, &start,
			 &level, &cgv, &sweep, &uid, &gid, cg[0], cg[1], cg[2], cg[3]);
	if ((got != 9 && got != 11) || pid <= 1)
		return LD_EINVAL;
	/* cgroups must be ours: below a "lambdad" base, named env-... */
	for (int i = 0; i < CG_NDIRS; i++)
		if (strcmp(cg[i], "-") != 0 && (!strstr(cg[i], "/lambdad/env-") || strstr(cg[i], "..")))
			return LD_EINVAL;
	int alive = start >= 0 && proc_start((pid_t)pid) == start;
	/* a frozen environment dies only once thawed */
	if (cgv == 1 && strcmp(cg[CG_FREEZER], "-") != 0)
		file_put(cg[CG_FREEZER], "freezer.state", "THAWED");
	else if (cgv == 2 && strcmp(cg[0], "-") != 0)
		file_put(cg[0], "cgroup.freeze", "0");
	if (alive) {
		if (level == SANDBOX_PROCESS)
			kill((pid_t)-pid, SIGCONT);
		kill((pid_t)pid, SIGKILL);
		if (level == SANDBOX_PROCESS)
			kill((pid_t)-pid, SIGKILL);
	}
	if (sweep && uid >= UIDPOOL_BASE && uid < UIDPOOL_BASE + UIDPOOL_COUNT)
		sweep_uid((uid_t)uid, (gid_t)gid);
	for (int i = 0; i < 2; i++) {
		if (!strcmp(cg[i], "-"))
			continue;
		if (cgv != 2 || file_put(cg[i], "cgroup.kill", "1") != 0)
			cgroup_kill_members(cg[i]);
	}
	/* wait (bounded) until it is all gone: the runtime, then the cgroups */
	int left = 0;
	for (int ms = 0; ms <= SANDBOX_REAP_WAIT_MS; ms += 2) {
		left = alive && proc_start((pid_t)pid) == start;
		for (int i = 0; i < CG_NDIRS; i++) {
			if (!strcmp(cg[i], "-"))
				continue;
			if (cgroup_busy(cg[i]))
				cgroup_kill_members(cg[i]), left = 1;
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

/* ---------------------------------------------------------------- levels */

static const char *full_view(const char *inside, const char *host)
{
	return inside;
}

static void full_resolve(const char *path, const char *code, const char *opt, char *out, size_t n)
{
	snprintf(out, n, "%s", path);
}

static const char *process_view(const char *inside, const char *host)
{
	return host;
}

static void process_resolve(const char *path, const char *code, const char *opt, char *out, size_t n)
{
	if (!strncmp(path, "/var/task/", 10))
		snprintf(out, n, "%s/%s", code, path + 10);
	else if (opt[0] && !strncmp(path, "/opt/", 5))
		snprintf(out, n, "%s/%s", opt, path + 5);
	else
		snprintf(out, n, "%s", path);
}

static const struct sandbox_ops levels[] = {
	[SANDBOX_PROCESS] = { SANDBOX_PROCESS, "process", process_view, process_resolve },
	[SANDBOX_FULL] = { SANDBOX_FULL, "full", full_view, full_resolve },
};

const struct sandbox_ops *sandbox_ops_of(enum sandbox_level level)
{
	return &levels[level == SANDBOX_FULL ? SANDBOX_FULL : SANDBOX_PROCESS];
}

/* ---------------------------------------------------------------- probe */

static int has_cap_sys_admin(void)
{
	char buf[4096];
	if (file_get("/proc/self", "status", buf, sizeof buf) < 0)
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
		cgroup_probe(&k->cg, cgroup_parent, cgwhy, sizeof cgwhy);
	if (k->root && k->namespaces) {
		k->level = SANDBOX_FULL;
		if (!k->cg.version)
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
		snprintf(buf, sizeof buf, "sandbox: full (mount+pid+ipc+uts namespaces, %s%s%s, rlimits, no_new_privs, seccomp, uid drop, no capabilities)%s%s",
			 k->cg.version == 1 ? "cgroup v1 memory+pids" : k->cg.version == 2 ? "cgroup v2 memory+pids" : "no cgroups",
			 (k->cg.version == 1 && k->cg.freezer[0]) || k->cg.version == 2 ? "+freezer" : "",
			 (k->cg.version == 1 && k->cg.cpu[0]) || (k->cg.version == 2 && k->cg.v2_cpu) ? "+cpu" : "",
			 k->why[0] ? "; " : "", k->why);
	else
		snprintf(buf, sizeof buf, "sandbox: process only (fork/exec, setsid, rlimits, no_new_privs, seccomp); %s", k->why);
	return buf;
}
