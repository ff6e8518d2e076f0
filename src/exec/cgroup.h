/*
 * cgroup.h - the cgroups of execution environments, v1 or v2.
 *
 * v1 uses the memory and pids hierarchies (two directories per
 * environment), v2 one directory with both controllers. Every environment's
 * directories are made below a base of the daemon's ("lambdad" below the
 * daemon's own cgroup, or an absolute parent), named env-<daemon pid>-<n>,
 * with its memory limit (swap disallowed) and pids.max; they are removed
 * when the environment is freed, or by the next daemon when this one was
 * killed (sandbox_reap_trace). The sandbox (sandbox.c) is the only user.
 */
#ifndef LD_CGROUP_H
#define LD_CGROUP_H

#include <stddef.h>

/* Where environments' cgroups go. */
struct cgroup_base {
	int version;        /* 0 none usable, 1 (memory + pids), 2 (unified) */
	char memory[256];   /* v1: the parent of the memory cgroups; v2: the parent */
	char pids[256];     /* v1 only: the parent of the pids cgroups */
};

/* Finds the hierarchy and makes the base below the daemon's own cgroup
 * ("lambdad", or parent when absolute): fills k (version 0 when unusable,
 * with why). */
void cgroup_probe(struct cgroup_base *k, const char *parent, char *why, size_t wcap);

/* Makes the environment's directories (dirs[0]: memory, or the one v2
 * directory; dirs[1]: pids on v1, else NULL; malloc'd, freed by
 * cgroup_remove) named by seq, with the limits (0: not set). 0, or
 * LD_EIO / LD_ENOMEM with the failing step and errno in *step / *err. */
int cgroup_create(const struct cgroup_base *k, unsigned long seq, int memory_mb, int pids_max, char *dirs[2],
		  const char **step, int *err);

/* The cgroup.procs of dir opened for writing (the child writes "0" into it
 * to join), or -1. */
int cgroup_open_procs(const char *dir);

/* SIGKILL every member: v2 through cgroup.kill (falling back to the list),
 * v1 through the pids hierarchy's list. */
void cgroup_kill(int version, char *const dirs[2]);
void cgroup_kill_members(const char *dir);

/* 1 while dir has members. */
int cgroup_busy(const char *dir);

/* Removes dir once it is empty (waiting up to 100 ms) and frees it; NULL
 * is fine. */
void cgroup_remove(char *dir);

/* The memory high-water mark: cgroup_peak_open() opens its file once (-1
 * when there is none), cgroup_peak_mb() reads it (one pread) in MiB,
 * rounded up, or LD_ENOTFOUND. Every REPORT line reads it. */
int cgroup_peak_open(int version, const char *dir);
int cgroup_peak_mb(int fd);

/* The oom_kill counter of the memory controller (-1 where the kernel has
 * none), or LD_ENOTFOUND. */
long long cgroup_oom_kills(int version, const char *dir);

/* v1's memory.failcnt, or LD_ENOTFOUND. */
long long cgroup_failcnt(const char *dir);

#endif
