/*
 * spawnfloor: the "bare fork+exec" floor of the cold-start benchmark.
 *
 * Runs PROG ARGS... N times, one after the other (fork, execv, waitpid;
 * stdin/stdout/stderr on /dev/null), stops early after LIMIT_S seconds, and
 * prints one JSON line with the per-spawn wall time (fork to reaped exit):
 *   {"n":N,"p50_ms":F,"p99_ms":F,"min_ms":F,"failed":N}
 *
 * usage: spawnfloor N LIMIT_S PROG [ARGS...]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s N LIMIT_S PROG [ARGS...]\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[1]), got = 0, failed = 0;
	double limit = atof(argv[2]), end = now() + limit;
	double *t = calloc(n > 0 ? n : 1, sizeof *t);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < n && now() < end; i++) {
		double t0 = now();
		pid_t p = fork();
		if (p < 0)
			return 1;
		if (p == 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
			execv(argv[3], argv + 3);
			_exit(127);
		}
		int st = 0;
		waitpid(p, &st, 0);
		double dt = now() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
		t[got++] = dt * 1000.0;
	}
	qsort(t, got, sizeof *t, cmp);
	double p50 = got ? t[(got - 1) / 2] : 0;
	int i99 = (int)(0.99 * got + 0.999999);
	double p99 = got ? t[(i99 < 1 ? 1 : i99 > got ? got : i99) - 1] : 0;
	printf("{\"n\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"min_ms\":%.3f,\"failed\":%d}\n", got, p50, p99,
	       got ? t[0] : 0.0, failed);
	return 0;
}
