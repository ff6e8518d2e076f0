/*
 * test_sandbox.c - sandbox_spawn() and friends on the real host: /bin/sh
 * scripts run inside an environment and report what they see (exit codes,
 * stdout, the file system view, pid 1, the uid, the /tmp size, the memory and
 * pids limits). Checks that need what the host lacks (root, namespaces,
 * cgroups) are skipped with a printed reason, never passed silently. Also
 * the capabilities left to a function (none), PROCESS level as root (private
 * /tmp, the data directory covered, escaped processes swept) and the pool of
 * per-environment ids. Ends with the spawn time per level (median of 100
 * runs of /bin/true).
 */
#include "t.h"
#include "exec/sandbox.h"
#include "exec/uidpool.h"
#include "exec/uidpool.h"
#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#define TUID 61051
#define TGID 61051

static struct sandbox_caps caps;
static char code_dir[64], layer_dir[64];
static char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", NULL};

static int full_ok(const char *test)
{
	if (caps.level != SANDBOX_FULL) {
		printf("SKIP %s: host allows no FULL sandbox (%s)\n", test, caps.why);
		return 0;
	}
	return 1;
}

static int cgroups_ok(const char *test)
{
	if (!full_ok(test))
		return 0;
	if (!caps.cg.version) {
		printf("SKIP %s: no usable cgroups (%s)\n", test, caps.why);
		return 0;
	}
	return 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void base_spec(struct sandbox_spec *s, enum sandbox_level lvl)
{
	memset(s, 0, sizeof *s);
	s->level = lvl;
	s->caps = &caps;
	s->envp = env;
	s->code_dir = code_dir;
	s->tmp_mb = 8;
	s->memory_mb = 64;
	s->pids_max = 64;
	s->nofile = 1024;
	s->uid = TUID;
	s->gid = TGID;
	s->stdout_fd = s->stderr_fd = -1;
}

struct result {
	int rc;          /* sandbox_spawn's */
	int status;      /* waitpid status, -1 when not reaped */
	int killed;      /* the test killed it at its deadline */
	int oom;         /* sandbox_oom_killed() */
	int peak;        /* sandbox_memory_peak_mb() */
	char out[8192];
	struct sandbox_failure why;
};

/* Run `sh -c script` with spec s; collect stdout+stderr until exit or
 * `deadline_ms` (then kill). */
static void run(struct sandbox_spec *s, const char *script, double deadline_ms, struct result *r)
{
	char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
	int pfd[2];
	struct sandbox_proc *p = NULL;
	memset(r, 0, sizeof *r);
	r->status = -1;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		r->rc = LD_EIO;
		return;
	}
	s->argv = argv;
	s->stdout_fd = s->stderr_fd = pfd[1];
	r->rc = sandbox_spawn(s, &p, &r->why);
	close(pfd[1]);
	if (r->rc != 0) {
		close(pfd[0]);
		return;
	}
	double end = now_ms() + deadline_ms;
	size_t n = 0;
	int open_ = 1;
	for (;;) {
		int left = (int)(end - now_ms());
		if (left <= 0) {
			if (!r->killed) {
				sandbox_kill(p);
				r->killed = 1;
				end = now_ms() + 2000; /* the kill must finish quickly */
				continue;
			}
			break;
		}
		struct pollfd fds[2] = {{open_ ? pfd[0] : -1, POLLIN, 0}, {sandbox_fd(p), POLLIN, 0}};
		poll(fds, 2, left < 20 ? left : 20);
		if (open_ && (fds[0].revents & (POLLIN | POLLHUP))) {
			ssize_t k = read(pfd[0], r->out + n, sizeof r->out - 1 - n);
			if (k > 0)
				n += (size_t)k;
			else
				open_ = 0;
		}
		int st;
		if (sandbox_reap(p, &st) == 1) {
			r->status = st;
			/* drain what is left */
			ssize_t k;
			while (open_ && (k = read(pfd[0], r->out + n, sizeof r->out - 1 - n)) > 0)
				n += (size_t)k;
			break;
		}
	}
	r->out[n] = 0;
	close(pfd[0]);
	r->oom = sandbox_oom_killed(p);
	r->peak = sandbox_memory_peak_mb(p);
	sandbox_free(p);
}

static int exited(const struct result *r, int code)
{
	return r->status != -1 && WIFEXITED(r->status) && WEXITSTATUS(r->status) == code;
}

/* ------------------------------------------------------------------ tests */

static void test_probe(void)
{
	printf("  %s\n", sandbox_describe(&caps));
	CHECK(caps.level == SANDBOX_FULL || caps.level == SANDBOX_PROCESS);
	if (caps.root && caps.level != SANDBOX_FULL)
		printf("  note: root but no FULL level: %s\n", caps.why);
}

static void test_exit_and_stdout(void)
{
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_PROCESS);
	run(&s, "echo hello; echo err >&2; exit 3", 1500, &r);
	CHECK(r.rc == 0);
	CHECK(exited(&r, 3));
	CHECK_STR(r.out, "hello\nerr\n");
	if (!full_ok(__func__))
		return;
	base_spec(&s, SANDBOX_FULL);
	run(&s, "echo hello; echo err >&2; exit 3", 1500, &r);
	CHECK(r.rc == 0);
	CHECK(exited(&r, 3));
	CHECK_STR(r.out, "hello\nerr\n");
	run(&s, "pwd; echo $HOME; cat /etc/hostname 2>/dev/null; hostname 2>/dev/null || cat /proc/sys/kernel/hostname", 1500, &r);
	CHECK(exited(&r, 0));
	CHECK(strncmp(r.out, "/var/task\n", 10) == 0);
	CHECK(strstr(r.out, "localhost") != NULL);
}

static void test_exec_missing(void)
{
	struct sandbox_spec s;
	struct sandbox_proc *p = NULL;
	struct sandbox_failure why;
	char *argv[] = {"/no/such/binary", NULL};
	base_spec(&s, SANDBOX_PROCESS);
	s.argv = argv;
	CHECK(sandbox_spawn(&s, &p, &why) == LD_ENOTFOUND);
	CHECK(p == NULL);
	CHECK_STR(why.step, "execve");
	CHECK(why.err == ENOENT);
	if (!full_ok(__func__))
		return;
	base_spec(&s, SANDBOX_FULL);
	s.argv = argv;
	CHECK(sandbox_spawn(&s, &p, &why) == LD_ENOTFOUND);
	CHECK(p == NULL);
	CHECK_STR(why.step, "execve");
	CHECK(why.err == ENOENT);
	/* a missing code directory fails in the parent, before any clone */
	s.code_dir = "/no/such/dir";
	CHECK(sandbox_spawn(&s, &p, &why) == LD_ENOTFOUND);
	/* uid 0 is refused at FULL */
	base_spec(&s, SANDBOX_FULL);
	s.argv = argv;
	s.uid = 0;
	CHECK(sandbox_spawn(&s, &p, &why) == LD_EINVAL);
}

static void test_filesystem_view(void)
{
	if (!full_ok(__func__))
		return;
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_FULL);
	s.layers_dir = layer_dir;
	/* code readable, not writable; /opt has the layer; / read-only */
	run(&s,
	    "cat /var/task/hello.txt; cat /opt/layer.txt;"
	    "touch /var/task/new 2>/dev/null && echo TASK_WRITABLE;"
	    "touch /opt/new 2>/dev/null && echo OPT_WRITABLE;"
	    "touch /newfile 2>/dev/null && echo ROOT_WRITABLE;"
	    "touch /etc/passwd 2>/dev/null && echo ETC_WRITABLE;"
	    "echo ok", 1500, &r);
	CHECK(r.rc == 0);
	CHECK(exited(&r, 0));
	CHECK_STR(r.out, "hello from code\nlayer\nok\n");
	struct stat st;
	char path[128];
	snprintf(path, sizeof path, "%s/new", code_dir);
	CHECK(stat(path, &st) != 0);

	/* the host's secrets and the daemon's files are not there */
	char script[1024];
	snprintf(script, sizeof script,
		 "for f in /work /root /home /etc/shadow /etc/ssh /sys /run /var/lib %s /tmp/%s; do"
		 "  test -e $f && echo SEE $f; done;"
		 "ls /; ls /dev; cat /etc/passwd | grep -c sbx_user1051", code_dir, strrchr(layer_dir, '/') + 1);
	run(&s, script, 1500, &r);
	CHECK(exited(&r, 0));
	CHECK(strstr(r.out, "SEE") == NULL);
	CHECK(strstr(r.out, "\nnull\n") != NULL && strstr(r.out, "urandom") != NULL);
	CHECK(strstr(r.out, "sda") == NULL && strstr(r.out, "vda") == NULL && strstr(r.out, "mem\n") == NULL);
	if (strstr(r.out, "SEE"))
		printf("  %s", r.out);
}

static void test_tmp(void)
{
	if (!full_ok(__func__))
		return;
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_FULL);
	s.tmp_mb = 4;
	run(&s,
	    "echo data > /tmp/f && cat /tmp/f;"
	    "dd if=/dev/zero of=/tmp/big bs=1M count=8 2>&1 | grep -o 'No space left on device';"
	    "df -k /tmp | tail -1 | awk '{print $2}'", 1500, &r);
	CHECK(r.rc == 0);
	CHECK(exited(&r, 0));
	CHECK_STR(r.out, "data\nNo space left on device\n4096\n");
	/* /tmp is private to the environment: a new one starts empty */
	run(&s, "ls /tmp | wc -l", 1500, &r);
	CHECK_STR(r.out, "0\n");
}

static void test_pid1_uid(void)
{
	if (!full_ok(__func__))
		return;
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_FULL);
	run(&s,
	    "echo $$; id -u; id -g; id -G; id -un;"
	    "ls /proc | grep -c '^[0-9]';"
	    "grep NoNewPrivs /proc/self/status | tr -d '\\t ';"
	    "grep CapEff /proc/self/status | tr -d '\\t '",
	    1500, &r);
	CHECK(exited(&r, 0));
	/* pid 1 is the shell; /proc has it and the grep pipeline (<= 3) */
	const char *want = "1\n61051\n61051\n61051\nsbx_user1051\n";
	CHECK(strncmp(r.out, want, strlen(want)) == 0);
	const char *n = r.out + strlen(want);
	CHECK(atoi(n) >= 1 && atoi(n) <= 3);
	CHECK(strstr(r.out, "NoNewPrivs:1\n") != NULL);
	CHECK(strstr(r.out, "CapEff:0000000000000000\n") != NULL);
	if (t_failed_checks)
		printf("  got: %s\n", r.out);
}

/* Killing the runtime kills every process it started, even one that left its
 * process group: host /proc is searched for a marked sleep. */
static int marked_alive(const char *mark)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		char path[300], buf[256];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t k = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (k <= 0)
			continue;
		for (ssize_t i = 0; i < k; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k] = 0;
		if (strstr(buf, mark))
			found = 1;
	}
	if (d)
		closedir(d);
	return found;
}

static void test_kill_tree(void)
{
	if (!full_ok(__func__))
		return;
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_FULL);
	double t0 = now_ms();
	run(&s, "setsid sleep 1234.5 & sleep 1234.5 & echo started; wait", 300, &r);
	CHECK(r.killed);
	CHECK(r.status != -1 && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	CHECK_STR(r.out, "started\n");
	CHECK(!marked_alive("sleep 1234.5"));
	CHECK(now_ms() - t0 < 1500);
}

static void test_pidfd_and_reap(void)
{
	struct sandbox_spec s;
	struct sandbox_proc *p = NULL;
	char *argv[] = {"/bin/sh", "-c", "sleep 0.1; exit 7", NULL};
	base_spec(&s, caps.level);
	s.argv = argv;
	CHECK(sandbox_spawn(&s, &p, NULL) == 0);
	if (!p)
		return;
	int st = -1;
	CHECK(sandbox_reap(p, &st) == 0);
	if (caps.pidfd) {
		CHECK(sandbox_fd(p) >= 0);
		struct pollfd pf = {sandbox_fd(p), POLLIN, 0};
		CHECK(poll(&pf, 1, 1500) == 1);
	} else {
		printf("SKIP pidfd: kernel has no pidfds\n");
	}
	double end = now_ms() + 1500;
	while (sandbox_reap(p, &st) == 0 && now_ms() < end)
		usleep(1000);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	CHECK(sandbox_reap(p, &st) == 1 && WEXITSTATUS(st) == 7);
	CHECK(sandbox_kill(p) == 0); /* after exit: harmless */
	sandbox_free(p);
}

static void test_memory_limit(void)
{
	if (!cgroups_ok(__func__))
		return;
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_FULL);
	s.memory_mb = 32;
	/* one big allocation touched at once (a shell growing a string slowly
	 * makes the kernel thrash on reclaim for seconds before the OOM kill) */
	if (access("/usr/bin/python3", X_OK) != 0) {
		printf("SKIP %s: no /usr/bin/python3 to allocate with\n", __func__);
		return;
	}
	run(&s, "/usr/bin/python3 -c 'x = b\"a\" * (200 << 20); print(\"survived\")'", 1800, &r);
	CHECK(r.rc == 0);
	CHECK(!r.killed);
	CHECK(strstr(r.out, "survived") == NULL);
	/* python (or the shell, pid 1, whichever the OOM killer picked) got SIGKILL */
	CHECK((r.status != -1 && WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL) || exited(&r, 137));
	CHECK(r.oom == 1);
	CHECK(r.peak >= 31 && r.peak <= 33);
	printf("  OOM run: peak %d MB, oom_killed %d\n", r.peak, r.oom);
	/* a run within the limit: no OOM, a small peak */
	run(&s, "x=$(head -c 4000000 /dev/zero | tr '\\0' a); echo ${#x}", 1800, &r);
	CHECK(exited(&r, 0));
	CHECK_STR(r.out, "4000000\n");
	CHECK(r.oom == 0);
	CHECK(r.peak >= 4 && r.peak < 32);
	printf("  normal run: peak %d MB, oom_killed %d\n", r.peak, r.oom);
}

static void test_pids_limit(void)
{
	if (!cgroups_ok(__func__))
		return;
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_FULL);
	s.pids_max = 16;
	/* a counted loop: the 16th process cannot be made */
	run(&s, "i=1; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; echo all", 1500, &r);
	CHECK(r.rc == 0);
	CHECK(strstr(r.out, "all") == NULL);
	CHECK(strstr(r.out, "fork") != NULL);
	/* a fork bomb: contained, killed at 0.5 s, all gone well within 2 s */
	double t0 = now_ms();
	run(&s, "b() { b | b & }; b; sleep 10", 500, &r);
	CHECK(r.rc == 0);
	CHECK(r.status != -1);
	CHECK(now_ms() - t0 < 2000);
	/* and the host is fine */
	pid_t c = fork();
	if (c == 0)
		_exit(0);
	CHECK(c > 0);
	if (c > 0)
		waitpid(c, NULL, 0);
}

static void test_process_level(void)
{
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_PROCESS);
	s.cwd = "/";
	run(&s, "pwd; ulimit -n; ulimit -c; ulimit -f; grep NoNewPrivs /proc/self/status | tr -d '\\t '", 1500, &r);
	CHECK(exited(&r, 0));
	/* FSIZE: (tmp_mb + 1) MiB */
	CHECK_STR(r.out, "/\n1024\n0\n18432\nNoNewPrivs:1\n"); /* dash: 512-byte blocks */
	if (geteuid() == 0) {
		run(&s, "id -u", 1500, &r);
		CHECK_STR(r.out, "61051\n");
	} else {
		printf("SKIP uid drop at PROCESS level: not root\n");
	}
	/* kill reaches the process group */
	run(&s, "sleep 1234.6 & sleep 1234.6", 200, &r);
	CHECK(r.killed);
	usleep(20000);
	CHECK(!marked_alive("sleep 1234.6"));
}

/* CPU ticks (utime + stime) of pid, or -1 */
static long long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (long long)(ut + st);
}

/* A busy loop frozen (cgroup freezer at FULL, SIGSTOP at PROCESS) gets no
 * CPU until thawed, is killed and freed while frozen, and at FULL with a
 * cpu controller gets memory_mb / 1769 of a CPU. */
static void freeze_at(enum sandbox_level lvl)
{
	struct sandbox_spec s;
	struct sandbox_proc *p = NULL;
	char *argv[] = {"/bin/sh", "-c", "while :; do :; done", NULL};
	base_spec(&s, lvl);
	s.memory_mb = 128;
	s.argv = argv;
	CHECK(sandbox_spawn(&s, &p, NULL) == 0);
	if (!p)
		return;
	pid_t pid = sandbox_pid(p);
	usleep(100000);
	CHECK(sandbox_freeze(p) == 0);
	double end = now_ms() + 2000;
	while (sandbox_frozen(p) != 1 && now_ms() < end)
		usleep(2000);
	CHECK(sandbox_frozen(p) == 1);
	long long a = cpu_ticks(pid);
	usleep(300000);
	long long b = cpu_ticks(pid);
	CHECK(a >= 0 && b == a);
	CHECK(sandbox_thaw(p) == 0);
	usleep(300000);
	long long c = cpu_ticks(pid);
	CHECK(c > b);
	printf("  %s: frozen %lld ticks in 0.3 s, thawed %lld\n", lvl == SANDBOX_FULL ? "full" : "process", b - a, c - b);
	if (lvl == SANDBOX_FULL && caps.cg.cpu[0]) {
		CHECK(sandbox_cpu_limit(p, 128) == 0);
		long long t0 = cpu_ticks(pid);
		double w0 = now_ms();
		usleep(1000000);
		double cpu = (double)(cpu_ticks(pid) - t0) / (double)sysconf(_SC_CLK_TCK);
		double share = cpu / ((now_ms() - w0) / 1000.0);
		printf("  128 MB: %.3f CPU\n", share);
		CHECK(share < 0.15);
	}
	/* killed while frozen: sandbox_free thaws, kills, reaps */
	CHECK(sandbox_freeze(p) == 0);
	double t0 = now_ms();
	sandbox_free(p);
	CHECK(now_ms() - t0 < 2000);
	CHECK(kill(pid, 0) != 0);
}

static void test_freeze(void)
{
	if (cgroups_ok(__func__))
		freeze_at(SANDBOX_FULL);
	freeze_at(SANDBOX_PROCESS);
}

/* No capability of any kind reaches the function, at FULL and at PROCESS
 * level as root. */
static void test_capabilities(void)
{
	if (geteuid() != 0) {
		printf("SKIP %s: not root (nothing to drop)\n", __func__);
		return;
	}
	static const char script[] = "grep -E '^(Cap|NoNewPrivs)' /proc/self/status | tr -d '\\t '";
	static const char want[] = "CapInh:0000000000000000\nCapPrm:0000000000000000\nCapEff:0000000000000000\n"
				   "CapBnd:0000000000000000\nCapAmb:0000000000000000\nNoNewPrivs:1\n";
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_PROCESS);
	s.cwd = "/";
	run(&s, script, 1500, &r);
	CHECK(exited(&r, 0));
	CHECK_STR(r.out, want);
	if (!full_ok(__func__))
		return;
	base_spec(&s, SANDBOX_FULL);
	run(&s, script, 1500, &r);
	CHECK(exited(&r, 0));
	CHECK_STR(r.out, want);
}

/* PROCESS level as root: the host's view, but a private /tmp and the data
 * directory covered except the code and layers, which keep their paths;
 * RLIMIT_NPROC holds for the environment's uid; processes that left the
 * session are killed when the environment is freed. */
static void process_root_view(const char *parent)
{
	char data[128], code[160], layer[160], path[256], script[2048];
	snprintf(data, sizeof data, "%s/sbxdata.XXXXXX", parent);
	if (!mkdtemp(data)) {
		CHECK(0);
		return;
	}
	snprintf(code, sizeof code, "%s/code", data);
	snprintf(layer, sizeof layer, "%s/opt", data);
	mkdir(code, 0755);
	mkdir(layer, 0755);
	snprintf(path, sizeof path, "%s/secret.db", data);
	FILE *f = fopen(path, "w");
	fputs("secret\n", f);
	fclose(f);
	chmod(path, 0644); /* world-readable: the cover alone must hide it */
	snprintf(path, sizeof path, "%s/hello.txt", code);
	f = fopen(path, "w");
	fputs("hello from code\n", f);
	fclose(f);
	struct sandbox_spec s;
	struct result r;
	base_spec(&s, SANDBOX_PROCESS);
	s.code_dir = code;
	s.layers_dir = layer;
	s.hide_dir = data;
	s.cwd = code;
	s.tmp_mb = 4;
	snprintf(script, sizeof script,
		 "pwd; cat %s/hello.txt; cat hello.txt; ls %s | tr '\\n' ' '; echo;"
		 "cat %s/secret.db 2>/dev/null && echo SECRET_READ;"
		 "touch %s/new 2>/dev/null && echo CODE_WRITABLE;"
		 "touch %s/new 2>/dev/null && echo DATA_WRITABLE;"
		 "test -e %s && echo HOST_TMP_VISIBLE;"
		 "ls /tmp | grep -v sbxdata | wc -l; df -k /tmp | tail -1 | awk '{print $2}'",
		 code, data, data, code, data, layer_dir);
	run(&s, script, 3000, &r);
	CHECK(r.rc == 0);
	CHECK(exited(&r, 0));
	char want[512];
	snprintf(want, sizeof want, "%s\nhello from code\nhello from code\ncode opt \n0\n4096\n", code);
	CHECK_STR(r.out, want);
	if (r.rc != 0)
		printf("  spawn failed at %s: %s\n", r.why.step, strerror(r.why.err));
	snprintf(path, sizeof path, "%s/new", code);
	CHECK(access(path, F_OK) != 0);

	/* RLIMIT_NPROC: the environment's uid runs at most nproc processes */
	base_spec(&s, SANDBOX_PROCESS);
	s.cwd = "/";
	s.nproc = 8;
	run(&s, "i=1; while [ $i -lt 20 ]; do sleep 5 & i=$((i+1)); done; echo all", 3000, &r);
	CHECK(strstr(r.out, "all") == NULL || strstr(r.out, "fork") != NULL);
	CHECK(strstr(r.out, "fork") != NULL || strstr(r.out, "Resource temporarily unavailable") != NULL);

	/* a child that left the session outlives the runtime's own exit ... */
	base_spec(&s, SANDBOX_PROCESS);
	s.cwd = "/";
	run(&s, "setsid sleep 1234.7 </dev/null >/dev/null 2>&1 & echo started", 1500, &r);
	CHECK(exited(&r, 0));
	/* ... until sandbox_free (inside run) swept the uid */
	double end = now_ms() + 1000;
	while (marked_alive("sleep 1234.7") && now_ms() < end)
		usleep(5000);
	CHECK(!marked_alive("sleep 1234.7"));

	snprintf(path, sizeof path, "%s/secret.db", data);
	unlink(path);
	snprintf(path, sizeof path, "%s/hello.txt", code);
	unlink(path);
	rmdir(code);
	rmdir(layer);
	rmdir(data);
}

static void test_process_as_root(void)
{
	if (geteuid() != 0 || !caps.namespaces) {
		printf("SKIP %s: needs root and mount namespaces\n", __func__);
		return;
	}
	process_root_view("/tmp");     /* below the private /tmp: made again inside */
	process_root_view("/var/tmp"); /* elsewhere on the host */
}

/* The id pool: distinct ids, round robin, exhaustion, and two pools on one
 * lock file (two daemons) never holding the same id. */
static void test_ids(void)
{
	uidpool_t *a = NULL, *b = NULL, *c = NULL;
	char lock[] = "/tmp/sbxids.XXXXXX";
	int fd = mkstemp(lock);
	CHECK(fd >= 0);
	close(fd);
	CHECK(uidpool_new(0, 4, NULL, &a) == LD_EINVAL);
	CHECK(uidpool_new(300000, 0, NULL, &a) == LD_EINVAL);
	CHECK(uidpool_new(0x7fffff00u, 0x1000, NULL, &a) == LD_EINVAL);
	CHECK(uidpool_new(300000, 4, lock, &a) == 0);
	CHECK(uidpool_new(300000, 4, lock, &b) == 0);
	if (!a || !b)
		return;
	uid_t id[4], x = 0;
	for (int i = 0; i < 4; i++) {
		CHECK(uidpool_take(a, &id[i]) == 0);
		CHECK(id[i] == 300000u + (uid_t)i);
	}
	CHECK(uidpool_in_use(a) == 4);
	CHECK(uidpool_take(a, &x) == LD_ETHROTTLED);
	CHECK(uidpool_take(b, &x) == LD_ETHROTTLED); /* all locked by a */
	uidpool_give(a, 300002);
	uidpool_give(a, 300002); /* twice: harmless */
	uidpool_give(a, 12);     /* not from the pool: ignored */
	CHECK(uidpool_in_use(a) == 3);
	CHECK(uidpool_take(b, &x) == 0 && x == 300002);
	CHECK(uidpool_take(a, &x) == LD_ETHROTTLED); /* b holds it now */
	uidpool_free(a); /* a's locks go with it */
	CHECK(uidpool_take(b, &x) == 0 && x == 300003);
	CHECK(uidpool_take(b, &x) == 0 && x == 300000);
	uidpool_free(b);
	/* round robin: a freed id comes back last */
	CHECK(uidpool_new(400000, 3, NULL, &c) == 0);
	if (c) {
		CHECK(uidpool_take(c, &x) == 0 && x == 400000);
		CHECK(uidpool_take(c, &x) == 0 && x == 400001);
		uidpool_give(c, 400000);
		CHECK(uidpool_take(c, &x) == 0 && x == 400002);
		CHECK(uidpool_take(c, &x) == 0 && x == 400000);
		uidpool_free(c);
	}
	uidpool_free(NULL);
	unlink(lock);
}

/* The seccomp filter: what a function has no business doing fails with EPERM
 * (clone3 with ENOSYS, so that glibc falls back to clone, which is checked),
 * while ordinary work (python, node, fork, threads, /tmp) still runs. */
static const char seccomp_py[] =
	"import ctypes, os, threading\n"
	"libc = ctypes.CDLL(None, use_errno=True)\n"
	"sc = libc.syscall\n"
	"sc.restype = ctypes.c_long\n"
	"def t(name, rc):\n"
	"    print(name, rc, os.strerror(ctypes.get_errno()) if rc < 0 else 'ok')\n"
	"    ctypes.set_errno(0)\n"
	"t('unshare', libc.unshare(0x10000000))\n"
	"t('unshare_fs', libc.unshare(0x200))\n"
	"t('mount', libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))\n"
	"t('umount', libc.umount2(b'/tmp', 2))\n"
	"t('chroot', libc.chroot(b'/tmp'))\n"
	"t('ptrace', libc.ptrace(16, 1, None, None))\n"
	"t('keyctl', sc(250, 0, -3, 0))\n"
	"t('add_key', sc(248, b'user', b'k', b'v', 1, -3))\n"
	"t('bpf', sc(321, 0, None, 0))\n"
	"t('perf', sc(298, None, 0, -1, -1, 0))\n"
	"t('setns', sc(308, 0, 0))\n"
	"t('clone_ns', sc(56, 0x10000000 | 17, 0, 0, 0, 0))\n"
	"buf = ctypes.create_string_buffer(88)\n"
	"t('clone3', sc(435, buf, 88))\n"
	"t('personality', libc.personality(0x0008))\n"
	"t('personality_q', 0 if libc.personality(0xffffffff) >= 0 else -1)\n"
	"t('x32', sc(0x40000000 + 39))\n"
	"t('io_uring', sc(425, 8, ctypes.create_string_buffer(120)))\n"
	"t('kcmp', sc(312, os.getpid(), os.getpid(), 0, 0, 0))\n"
	"t('pidfd_getfd', sc(438, 0, 0, 0))\n"
	"t('open_by_handle', sc(304, -100, None, 0))\n"
	"t('kexec', sc(246, 0, 0, None, 0))\n"
	"t('finit_module', sc(313, 0, b'', 0))\n"
	"t('reboot', sc(169, 0, 0, 0, None))\n"
	"t('userfaultfd', sc(323, 0))\n"
	"t('swapoff', sc(168, b'/x'))\n"
	"t('pivot_root', sc(155, b'/tmp', b'/tmp'))\n"
	"t('fsopen', sc(430, b'tmpfs', 0))\n"
	"pid = os.fork()\n"
	"if pid == 0:\n"
	"    os._exit(7)\n"
	"print('fork', os.waitpid(pid, 0)[1] >> 8)\n"
	"out = []\n"
	"th = [threading.Thread(target=lambda i=i: out.append(i)) for i in range(4)]\n"
	"[x.start() for x in th]; [x.join() for x in th]\n"
	"print('threads', len(out))\n"
	"open('/tmp/w', 'w').write('x' * 100000)\n"
	"print('tmp', os.path.getsize('/tmp/w'))\n";

static void seccomp_at(enum sandbox_level lvl)
{
	struct sandbox_spec s;
	struct result r;
	char script[8192];
	base_spec(&s, lvl);
	s.memory_mb = 256;
	if (lvl == SANDBOX_PROCESS)
		s.cwd = "/";
	snprintf(script, sizeof script,
		 "unshare -U true 2>&1; echo unshare_cmd=$?;"
		 "python3 -c \"$(cat <<'PYEOF'\n%sPYEOF\n)\" 2>&1;"
		 "node -e 'require(\"child_process\").execSync(\"true\"); "
		 "new (require(\"worker_threads\").Worker)(\"1\", {eval: true}).on(\"exit\", () => console.log(\"node ok\"))' 2>&1;"
		 "sh -c 'exit 5'; echo sh_fork=$?",
		 seccomp_py);
	run(&s, script, 15000, &r);
	CHECK(exited(&r, 0));
	static const char *const want[] = {
		"unshare_cmd=1\n",
		"unshare -1 Operation not permitted\n",
		"unshare_fs -1 Operation not permitted\n",
		"mount -1 Operation not permitted\n",
		"umount -1 Operation not permitted\n",
		"chroot -1 Operation not permitted\n",
		"ptrace -1 Operation not permitted\n",
		"keyctl -1 Operation not permitted\n",
		"add_key -1 Operation not permitted\n",
		"bpf -1 Operation not permitted\n",
		"perf -1 Operation not permitted\n",
		"setns -1 Operation not permitted\n",
		"clone_ns -1 Operation not permitted\n",
		"clone3 -1 Function not implemented\n",
		"personality -1 Operation not permitted\n",
		"personality_q 0 ok\n",
		"x32 -1 Operation not permitted\n",
		"io_uring -1 Function not implemented\n",
		"kcmp -1 Operation not permitted\n",
		"pidfd_getfd -1 Operation not permitted\n",
		"open_by_handle -1 Operation not permitted\n",
		"kexec -1 Operation not permitted\n",
		"finit_module -1 Operation not permitted\n",
		"reboot -1 Operation not permitted\n",
		"userfaultfd -1 Operation not permitted\n",
		"swapoff -1 Operation not permitted\n",
		"pivot_root -1 Operation not permitted\n",
		"fsopen -1 Operation not permitted\n",
		"fork 7\n",
		"threads 4\n",
		"tmp 100000\n",
		"node ok\n",
		"sh_fork=5\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		if (!strstr(r.out, want[i])) {
			printf("  missing: %s", want[i]);
			CHECK(0);
		}
	if (t_failed_checks)
		printf("  got (%s): %s\n", lvl == SANDBOX_FULL ? "FULL" : "PROCESS", r.out);
}

static void test_seccomp(void)
{
	seccomp_at(SANDBOX_PROCESS);
	if (full_ok(__func__))
		seccomp_at(SANDBOX_FULL);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void bench_level(enum sandbox_level lvl, const char *name)
{
	struct sandbox_spec s;
	char *argv[] = {"/bin/true", NULL};
	double t[100];
	base_spec(&s, lvl);
	s.argv = argv;
	for (int i = 0; i < 100; i++) {
		struct sandbox_proc *p = NULL;
		double t0 = now_ms();
		if (sandbox_spawn(&s, &p, NULL) != 0) {
			CHECK(0);
			return;
		}
		int st;
		if (caps.pidfd) {
			struct pollfd pf = {sandbox_fd(p), POLLIN, 0};
			poll(&pf, 1, 1000);
		}
		while (sandbox_reap(p, &st) == 0)
			;
		t[i] = now_ms() - t0;
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		sandbox_free(p);
	}
	qsort(t, 100, sizeof *t, cmp_d);
	printf("  spawn %s: clone to exec'd /bin/true exited: median %.3f ms, p90 %.3f ms (100 runs)\n",
	       name, t[50], t[90]);
}

static void test_spawn_time(void)
{
	bench_level(SANDBOX_PROCESS, "PROCESS");
	if (full_ok(__func__))
		bench_level(SANDBOX_FULL, caps.cg.version ? "FULL (with cgroups)" : "FULL (no cgroups)");
}

static void setup_dirs(void)
{
	strcpy(code_dir, "/tmp/sbxcode.XXXXXX");
	strcpy(layer_dir, "/tmp/sbxlayer.XXXXXX");
	if (!mkdtemp(code_dir) || !mkdtemp(layer_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(code_dir, 0755);
	chmod(layer_dir, 0755);
	char path[128];
	snprintf(path, sizeof path, "%s/hello.txt", code_dir);
	FILE *f = fopen(path, "w");
	fputs("hello from code\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/layer.txt", layer_dir);
	f = fopen(path, "w");
	fputs("layer\n", f);
	fclose(f);
}

static void cleanup_dirs(void)
{
	char path[128];
	snprintf(path, sizeof path, "%s/hello.txt", code_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/layer.txt", layer_dir);
	unlink(path);
	rmdir(code_dir);
	rmdir(layer_dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IONBF, 0);
	sandbox_probe(&caps, NULL);
	setup_dirs();
	T_RUN(test_probe);
	T_RUN(test_exit_and_stdout);
	T_RUN(test_exec_missing);
	T_RUN(test_filesystem_view);
	T_RUN(test_tmp);
	T_RUN(test_pid1_uid);
	T_RUN(test_kill_tree);
	T_RUN(test_pidfd_and_reap);
	T_RUN(test_memory_limit);
	T_RUN(test_pids_limit);
	T_RUN(test_process_level);
	T_RUN(test_seccomp);
	T_RUN(test_capabilities);
	T_RUN(test_process_as_root);
	T_RUN(test_ids);
	T_RUN(test_freeze);
	T_RUN(test_spawn_time);
	cleanup_dirs();
	return t_done("test_sandbox");
}
