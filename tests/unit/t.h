/*
 * t.h - the minimal unit-test harness shared by tests/unit/test_*.c.
 *
 * A test file defines test functions and lists them in main() with T_RUN.
 * CHECK() records a failure and keeps going; every test prints one line
 * ("ok - name" / "FAIL - name"), and t_done() prints "unit <file>: P passed,
 * F failed" and returns the exit status. tests/run.sh sums those lines.
 */
#ifndef LD_T_H
#define LD_T_H

#include <stdio.h>
#include <string.h>

static int t_failed_checks, t_pass, t_fail;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,  \
				__LINE__, #cond);                                \
			t_failed_checks++;                                       \
		}                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                          \
	do {                                                                     \
		const char *t_a_ = (a), *t_b_ = (b);                             \
		if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) {                  \
			fprintf(stderr, "  %s:%d: '%s' != '%s'\n", __FILE__,      \
				__LINE__, t_a_ ? t_a_ : "(null)",                \
				t_b_ ? t_b_ : "(null)");                         \
			t_failed_checks++;                                       \
		}                                                                \
	} while (0)

#define T_RUN(fn)                                                                \
	do {                                                                     \
		int t_before_ = t_failed_checks;                                 \
		fn();                                                            \
		if (t_failed_checks == t_before_) {                              \
			t_pass++;                                                \
			printf("ok - %s\n", #fn);                                \
		} else {                                                         \
			t_fail++;                                                \
			printf("FAIL - %s\n", #fn);                              \
		}                                                                \
	} while (0)

static inline int t_done(const char *name)
{
	printf("unit %s: %d passed, %d failed\n", name, t_pass, t_fail);
	return t_fail ? 1 : 0;
}

#endif
