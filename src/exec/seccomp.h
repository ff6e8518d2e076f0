/*
 * seccomp.h - the seccomp filter an environment's runtime gets right before
 * execve (sandbox.c loads it in the child, at both levels).
 *
 * The system calls a function has no business making (mount, ptrace of
 * others, kernel modules, keyrings, namespaces through clone/unshare/setns,
 * io_uring, kcmp, pidfd_getfd, ...; docs/sandbox.md says why each) fail with
 * EPERM, a few with ENOSYS so that libraries fall back; another
 * architecture's system call numbers kill the process. The filter is built
 * once, in the parent, into constant storage, and shared by every child.
 */
#ifndef LD_SECCOMP_H
#define LD_SECCOMP_H

#include <linux/filter.h>

/* The filter, built on first use; NULL where this file does not know the
 * architecture (then no filter is loaded). Not thread-safe on first use:
 * call it from the loop's thread. */
const struct sock_fprog *seccomp_filter(void);

#endif
