/*
 * cgroup.c - the cgroups of execution environments (cgroup.h).
 */
#include "exec/cgroup.h"
#include "quotas.h"
#include "util/err.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024LL * 1024LL)

/* Value of "key N" in a flat-keyed cgroup file, or -1. */
static long long keyed(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return atoll(p + kl + 1);
	return -1;
}

void cgroup_remove(char *dir)
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

int cgroup_open_procs(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/cgroup.procs", dir);
	return open(path, O_WRONLY | O_CLOEXEC);
}

int cgroup_create(const struct cgroup_base *k, unsigned long seq, int memory_mb, int pids_max,
		  char *dirs[CG_NDIRS], const char **step, int *err)
{
	char name[64], val[64];
	snprintf(name, sizeof name, "env-%ld-%lu", (long)getpid(), seq);
	for (int i = 0; i < CG_NDIRS; i++)
		dirs[i] = NULL;
	const char *bases[CG_NDIRS] = {k->memory, k->version == 1 ? k->pids : "",
				       k->version == 1 ? k->freezer : "", k->version == 1 ? k->cpu : ""};
	for (int i = 0; i < CG_NDIRS; i++) {
		const char *base = bases[i];
		if (!base[0])
			continue;
		size_t len = strlen(base) + strlen(name) + 2;
		dirs[i] = malloc(len);
		if (!dirs[i])
			return LD_ENOMEM;
		snprintf(dirs[i], len, "%s/%s", base, name);
		if (mkdir(dirs[i], 0755) != 0) {
			int e = errno;
			free(dirs[i]);
			dirs[i] = NULL;
			*step = "mkdir cgroup";
			*err = e;
			return LD_EIO;
		}
	}
	int r = 0;
	long long mem = (long long)memory_mb * MIB;
	if (k->version == 1) {
		if (memory_mb > 0) {
			snprintf(val, sizeof val, "%lld", mem);
			if ((r = file_put(dirs[0], "memory.limit_in_bytes", val)) != 0)
				goto fail_limit;
			/* memsw exists only with swap accounting; without it,
			 * swappiness 0 is the best there is */
			if (file_put(dirs[0], "memory.memsw.limit_in_bytes", val) != 0)
				file_put(dirs[0], "memory.swappiness", "0");
		}
		if (pids_max > 0) {
			snprintf(val, sizeof val, "%d", pids_max);
			if ((r = file_put(dirs[1], "pids.max", val)) != 0)
				goto fail_limit;
		}
	} else {
		if (memory_mb > 0) {
			snprintf(val, sizeof val, "%lld", mem);
			if ((r = file_put(dirs[0], "memory.max", val)) != 0)
				goto fail_limit;
			file_put(dirs[0], "memory.swap.max", "0"); /* absent without swap */
		}
		if (pids_max > 0) {
			snprintf(val, sizeof val, "%d", pids_max);
			if ((r = file_put(dirs[0], "pids.max", val)) != 0)
				goto fail_limit;
		}
	}
	return 0;
fail_limit:
	*step = "set cgroup limit";
	*err = -r;
	return LD_EIO;
}

int cgroup_freeze(int version, char *const dirs[CG_NDIRS], int on)
{
	int r;
	if (version == 1 && dirs[CG_FREEZER])
		r = file_put(dirs[CG_FREEZER], "freezer.state", on ? "FROZEN" : "THAWED");
	else if (version == 2 && dirs[CG_MEMORY])
		r = file_put(dirs[CG_MEMORY], "cgroup.freeze", on ? "1" : "0");
	else
		return LD_ENOTFOUND;
	return r ? LD_EIO : 0;
}

int cgroup_frozen(int version, char *const dirs[CG_NDIRS])
{
	char buf[256];
	if (version == 1 && dirs[CG_FREEZER]) {
		if (file_get(dirs[CG_FREEZER], "freezer.state", buf, sizeof buf) < 0)
			return LD_EIO;
		return strncmp(buf, "FROZEN", 6) == 0;
	}
	if (version == 2 && dirs[CG_MEMORY]) {
		if (file_get(dirs[CG_MEMORY], "cgroup.events", buf, sizeof buf) < 0)
			return LD_EIO;
		return keyed(buf, "frozen") == 1;
	}
	return LD_ENOTFOUND;
}

long long cgroup_cpu_quota_us(int memory_mb)
{
	long long q = (long long)CGROUP_CPU_PERIOD_US * (memory_mb > 0 ? memory_mb : 0) / QUOTA_MB_PER_VCPU;
	return q < CGROUP_CPU_QUOTA_MIN_US ? CGROUP_CPU_QUOTA_MIN_US : q;
}

int cgroup_cpu_limit(int version, int v2_cpu, char *const dirs[CG_NDIRS], int memory_mb)
{
	char val[64];
	long long q = cgroup_cpu_quota_us(memory_mb);
	if (version == 1 && dirs[CG_CPU]) {
		snprintf(val, sizeof val, "%d", CGROUP_CPU_PERIOD_US);
		if (file_put(dirs[CG_CPU], "cpu.cfs_period_us", val) != 0)
			return LD_EIO;
		snprintf(val, sizeof val, "%lld", q);
		return file_put(dirs[CG_CPU], "cpu.cfs_quota_us", val) ? LD_EIO : 0;
	}
	if (version == 2 && v2_cpu && dirs[CG_MEMORY]) {
		snprintf(val, sizeof val, "%lld %d", q, CGROUP_CPU_PERIOD_US);
		return file_put(dirs[CG_MEMORY], "cpu.max", val) ? LD_EIO : 0;
	}
	return LD_ENOTFOUND;
}

/* SIGKILL every process listed in a cgroup's cgroup.procs. */
void cgroup_kill_members(const char *dir)
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

void cgroup_kill(int version, char *const dirs[CG_NDIRS])
{
	if (version == 2) {
		if (file_put(dirs[0], "cgroup.kill", "1") != 0)
			cgroup_kill_members(dirs[0]);
	} else if (version == 1) {
		cgroup_kill_members(dirs[1]);
	}
}

/* 1 while the cgroup has members (or cannot be read: then 0) */
int cgroup_busy(const char *dir)
{
	char buf[64];
	return file_get(dir, "cgroup.procs", buf, sizeof buf) > 0;
}

int cgroup_peak_open(int version, const char *dir)
{
	char path[PATH_MAX];
	if (!version)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, version == 1 ? "memory.max_usage_in_bytes" : "memory.peak");
	return open(path, O_RDONLY | O_CLOEXEC);
}

int cgroup_peak_mb(int fd)
{
	char buf[64];
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n <= 0)
		return LD_ENOTFOUND;
	buf[n] = '\0';
	long long b = atoll(buf);
	return (int)((b + MIB - 1) / MIB);
}

long long cgroup_oom_kills(int version, const char *dir)
{
	char buf[1024];
	if (!version || file_get(dir, version == 2 ? "memory.events" : "memory.oom_control", buf, sizeof buf) < 0)
		return LD_ENOTFOUND;
	return keyed(buf, "oom_kill");
}

long long cgroup_failcnt(const char *dir)
{
	char buf[64];
	return file_get(dir, "memory.failcnt", buf, sizeof buf) < 0 ? LD_ENOTFOUND : atoll(buf);
}

/* The cgroup path of this process for a v1 controller ("memory") or, with
 * ctrl NULL, v2 ("0::"). */
static int own_cgroup(const char *ctrl, char *out, size_t cap)
{
	char buf[4096];
	if (file_get("/proc/self", "cgroup", buf, sizeof buf) < 0)
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

void cgroup_probe(struct cgroup_base *k, const char *parent, char *why, size_t wcap)
{
	char own[256], own2[256], f[PATH_MAX + 32];
	struct stat st;
	int r;
	/* v1: memory and pids hierarchies at their usual mount points */
	if (own_cgroup("memory", own, sizeof own) == 0 && own_cgroup("pids", own2, sizeof own2) == 0 &&
	    stat("/sys/fs/cgroup/memory/memory.limit_in_bytes", &st) == 0) {
		if ((r = cg_base("/sys/fs/cgroup/memory", own, parent, k->memory, sizeof k->memory)) != 0 ||
		    (r = cg_base("/sys/fs/cgroup/pids", own2, parent, k->pids, sizeof k->pids)) != 0) {
			snprintf(why, wcap, "cgroup v1 not writable (%s)", strerror(-r));
			k->memory[0] = k->pids[0] = 0;
			return;
		}
		k->version = 1;
		/* freezer and cpu: optional (without them, SIGSTOP and no CPU limit) */
		k->freezer[0] = k->cpu[0] = 0;
		if (own_cgroup("freezer", own, sizeof own) == 0 &&
		    stat("/sys/fs/cgroup/freezer/cgroup.procs", &st) == 0 &&
		    cg_base("/sys/fs/cgroup/freezer", own, parent, k->freezer, sizeof k->freezer) != 0)
			k->freezer[0] = 0;
		if (own_cgroup("cpu", own, sizeof own) == 0 && stat("/sys/fs/cgroup/cpu/cpu.cfs_period_us", &st) == 0 &&
		    cg_base("/sys/fs/cgroup/cpu", own, parent, k->cpu, sizeof k->cpu) != 0)
			k->cpu[0] = 0;
		return;
	}
	/* v2: unified at /sys/fs/cgroup with memory and pids available */
	if (own_cgroup(NULL, own, sizeof own) == 0 && file_get("/sys/fs/cgroup", "cgroup.controllers", f, sizeof f) > 0 &&
	    strstr(f, "memory") && strstr(f, "pids")) {
		char owndir[PATH_MAX];
		snprintf(owndir, sizeof owndir, "/sys/fs/cgroup%s", strcmp(own, "/") == 0 ? "" : own);
		if ((r = cg_base("/sys/fs/cgroup", own, parent, k->memory, sizeof k->memory)) != 0) {
			snprintf(why, wcap, "cgroup v2 not writable (%s)", strerror(-r));
			k->memory[0] = 0;
			return;
		}
		/* the controllers must be enabled down to our base; this fails
		 * with EBUSY where processes sit in an inner cgroup (v2's rule):
		 * run the daemon in a delegated cgroup, in a leaf of its own */
		file_put(owndir, "cgroup.subtree_control", "+memory +pids");
		if ((r = file_put(k->memory, "cgroup.subtree_control", "+memory +pids")) != 0) {
			snprintf(why, wcap, "cgroup v2: cannot enable memory+pids below %.120s (%s)",
				 k->memory, strerror(-r));
			k->memory[0] = 0;
			return;
		}
		/* cpu is optional: without it, no CPU limit */
		if (strstr(f, "cpu")) {
			file_put(owndir, "cgroup.subtree_control", "+cpu");
			k->v2_cpu = file_put(k->memory, "cgroup.subtree_control", "+cpu") == 0;
		}
		k->version = 2;
		return;
	}
	snprintf(why, wcap, "no cgroup v1 memory+pids nor cgroup v2 with memory+pids");
}
