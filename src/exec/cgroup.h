/*
 * cgroup.h - the cgroups of execution environments, v1 or v2.
 *
 * v1 uses the memory and pids hierarchies (two directories per
 * environment), v2 one directory with both controllers. Every environment's
 * directories are made below a base of the daemon's ("lambdad" below the
 * daemon's own cgroup, or an absolute parent), named env-<daemon pid>-<n>,
 * with its memory limit (swap disallowed) and pids.max; on v1 also one in
 * the freezer and cpu hierarchies when they are mounted (v2 has both in its
 * one directory: cgroup.freeze, cpu.max). They are removed
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
	char freezer[256];  /* v1 only: the parent of the freezer cgroups, "" without one */
	char cpu[256];      /* v1 only: the parent of the cpu cgroups, "" without one */
	int v2_cpu;         /* v2: the cpu controller is enabled below the base */
};

/* Directory slots of one environment (dirs[] of cgroup_create). */
enum { CG_MEMORY = 0, CG_PIDS = 1, CG_FREEZER = 2, CG_CPU = 3, CG_NDIRS = 4 };

/* Finds the hierarchy and makes the base below the daemon's own cgroup
 * ("lambdad", or parent when absolute): fills k (version 0 when unusable,
 * with why). */
void cgroup_probe(struct cgroup_base *k, const char *parent, char *why, size_t wcap);

/* Makes the environment's directories (dirs[CG_MEMORY]: memory, or the one
 * v2 directory; on v1 dirs[CG_PIDS], and dirs[CG_FREEZER] / dirs[CG_CPU]
 * when those hierarchies are there, else NULL; malloc'd, freed by
 * cgroup_remove) named by seq, with the limits (0: not set). 0, or
 * LD_EIO / LD_ENOMEM with the failing step and errno in *step / *err. */
int cgroup_create(const struct cgroup_base *k, unsigned long seq, int memory_mb, int pids_max,
		  char *dirs[CG_NDIRS], const char **step, int *err);

/* Freezes (on 1) or thaws (on 0) every process of the environment: v1's
 * freezer.state FROZEN / THAWED, v2's cgroup.freeze. The write starts the
 * change and returns; freezing completes in the kernel on its own (a thaw
 * overrides a freeze still in progress). 0, LD_ENOTFOUND without a freezer
 * directory, or LD_EIO. */
int cgroup_freeze(int version, char *const dirs[CG_NDIRS], int on);

/* 1 once the freeze has completed (v1 freezer.state FROZEN, v2
 * cgroup.events frozen 1), 0 while in progress, or a negative LD_E*. */
int cgroup_frozen(int version, char *const dirs[CG_NDIRS]);

/* CPU in proportion to memory, as Lambda: memory_mb / QUOTA_MB_PER_VCPU (quotas.h) of
 * one CPU (cpu.cfs_quota_us over cpu.cfs_period_us on v1, cpu.max on v2),
 * at least CGROUP_CPU_QUOTA_MIN_US per period. 0, LD_ENOTFOUND without a
 * cpu controller, LD_EIO. */
#define CGROUP_CPU_PERIOD_US 100000
#define CGROUP_CPU_QUOTA_MIN_US 1000
long long cgroup_cpu_quota_us(int memory_mb);
int cgroup_cpu_limit(int version, int v2_cpu, char *const dirs[CG_NDIRS], int memory_mb);

/* The cgroup.procs of dir opened for writing (the child writes "0" into it
 * to join), or -1. */
int cgroup_open_procs(const char *dir);

/* SIGKILL every member: v2 through cgroup.kill (falling back to the list),
 * v1 through the pids hierarchy's list. */
void cgroup_kill(int version, char *const dirs[CG_NDIRS]);
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
