/*
 * init.c - the first process of an execution environment that has
 * extensions (/var/rapid/init inside the sandbox, as on Lambda).
 *
 * lambdad starts it instead of the runtime when the function's layers hold
 * executables in /opt/extensions. It starts every extension at once, then
 * waits for lambdad's word to start the runtime (AWS starts the runtime once
 * every external extension has registered), reaps every process of the
 * environment (at the full sandbox level it is pid 1 of a pid namespace, so
 * orphans come to it) and tells lambdad when an extension or the runtime
 * exits. It never decides anything itself: lambdad runs the Extensions API
 * and the lifecycle.
 *
 *   init N EXT_1 .. EXT_N -- RUNTIME_ARGV...
 *
 * Descriptor 0 is a SOCK_SEQPACKET socket to lambdad; each message is one
 * short text record:
 *   lambdad -> init  "R"          start the runtime
 *                    "T"          SIGTERM the runtime (shutdown)
 *   init -> lambdad  "P" + fd     (SCM_RIGHTS) the read end of the pipe the
 *                                 extensions write their output to, once
 *                    "L I ERRNO"  extension I (0-based) could not be started
 *                    "X I STATUS" extension I exited, waitpid status
 *                    "X R STATUS" the runtime exited
 * When lambdad's end closes, init kills the environment and exits.
 *
 * Extensions get the runtime's environment without the variables AWS keeps
 * to the runtime process; their stdin is /dev/null. A runtime or extension
 * that cannot be executed exits 127 (not found) or 126 (not executable), as
 * a shell's command would.
 *
 * This is a separate program (no sanitizers, linked statically): it runs
 * inside the sandbox, where nothing of lambdad's build is visible but
 * /var/rapid, and a container image's root may have no libc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_EXT 64

extern char **environ;

/* what AWS does not pass to extensions (the runtime's own variables) */
static const char *const runtime_only[] = {
	"AWS_EXECUTION_ENV", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_XRAY_CONTEXT_MISSING",
	"AWS_XRAY_DAEMON_ADDRESS", "LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT", "_AWS_XRAY_DAEMON_ADDRESS",
	"_AWS_XRAY_DAEMON_PORT", "_HANDLER",
};

static int ctl = 0;
static pid_t ext_pid[MAX_EXT];
static int next_count;
static pid_t runtime_pid;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char msg[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)send(ctl, msg, (size_t)n, MSG_NOSIGNAL);
}

static int send_fd(int fd)
{
	char tag = 'P';
	struct iovec iov = { &tag, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(ctl, &m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* the extensions' environment: ours without the runtime's own variables */
static char **extension_env(void)
{
	size_t n = 0;
	while (environ[n])
		n++;
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return environ;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int skip = 0;
		for (size_t j = 0; j < sizeof runtime_only / sizeof *runtime_only; j++) {
			size_t l = strlen(runtime_only[j]);
			if (!strncmp(environ[i], runtime_only[j], l) && environ[i][l] == '=')
				skip = 1;
		}
		if (!skip)
			v[k++] = environ[i];
	}
	return v;
}

/* fork + exec with stdin /dev/null, stdout and stderr `out` (-1: ours);
 * returns the pid, or -1 with *err the errno of the exec (the child then
 * exits 127 or 126, which init reports like any exit) */
static pid_t start(char *const *argv, char **envp, int out, int *err)
{
	int p[2];
	*err = 0;
	if (pipe2(p, O_CLOEXEC) != 0) {
		*err = errno;
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*err = errno;
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			if (nul > 2)
				close(nul);
		}
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execve(argv[0], argv, envp);
		int e = errno;
		(void)write(p[1], &e, sizeof e);
		_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
	}
	close(p[1]);
	ssize_t n;
	do
		n = read(p[0], err, sizeof *err);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n != (ssize_t)sizeof *err)
		*err = 0;
	return pid;
}

static void kill_all(void)
{
	if (getpid() == 1)
		kill(-1, SIGKILL); /* everything in the namespace */
	else
		kill(0, SIGKILL); /* our session's group (lambdad kills the rest) */
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int n = atoi(argv[1]);
	if (n < 0 || n > MAX_EXT || argc < 2 + n + 2 || strcmp(argv[2 + n], "--"))
		return 2;
	char **rt_argv = argv + 2 + n + 1;

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 2;
	fcntl(ctl, F_SETFD, FD_CLOEXEC);

	int outp[2];
	if (pipe2(outp, O_CLOEXEC) != 0 || send_fd(outp[0]) != 0)
		return 2;
	close(outp[0]);

	char **ext_env = extension_env();
	for (int i = 0; i < n; i++) {
		char *ea[2] = { argv[2 + i], NULL };
		int err;
		ext_pid[i] = start(ea, ext_env, outp[1], &err);
		if (err)
			say("L %d %d", i, err);
	}
	close(outp[1]);
	next_count = n;

	for (;;) {
		struct pollfd pf[2] = { { ctl, POLLIN, 0 }, { sfd, POLLIN, 0 } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof si) > 0)
				;
			int status;
			pid_t pid;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
				if (pid == runtime_pid) {
					runtime_pid = -1;
					say("X R %d", status);
					continue;
				}
				for (int i = 0; i < next_count; i++)
					if (ext_pid[i] == pid) {
						ext_pid[i] = -1;
						say("X %d %d", i, status);
					}
			}
		}
		if (pf[0].revents) {
			char m[16];
			ssize_t k = recv(ctl, m, sizeof m, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break; /* lambdad is gone or done with us */
			if (m[0] == 'R' && runtime_pid == 0) {
				int err;
				runtime_pid = start(rt_argv, environ, -1, &err);
				if (runtime_pid < 0)
					say("X R %d", 127 << 8);
			} else if (m[0] == 'T' && runtime_pid > 0) {
				kill(runtime_pid, SIGTERM);
			}
		}
	}
	kill_all();
	return 0;
}
