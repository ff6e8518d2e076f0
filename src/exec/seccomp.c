/*
 * seccomp.c - the system call filter of every execution environment
 * (seccomp.h): a deny-list in classic BPF, written by hand.
 */
#include "exec/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

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

const struct sock_fprog *seccomp_filter(void)
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
