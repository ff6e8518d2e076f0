/*
 * test_quota.c - unit tests of exec/quota: AWS's concurrency rules with
 * running totals (reserved functions, the unreserved pool, provisioned
 * concurrency in and out of a reservation, reservations changing while
 * invocations run, 0 blocks, scopes apart), checked against a brute-force
 * recount after every step of a random walk.
 */
#include "exec/exec.h"
#include "exec/quota.h"
#include "t.h"
#include "util/err.h"

#include <stdlib.h>

#define S1 "111111111111:us-east-1"
#define S2 "222222222222:us-east-1"

static void test_reserved(void)
{
	quota_t *q = NULL;
	CHECK(quota_new(10, &q) == 0);
	quota_fn_t *f = quota_fn(q, S1, "f");
	CHECK(quota_set_reserved(q, f, 2) == 1);
	CHECK(quota_set_reserved(q, f, 2) == 0);
	CHECK(quota_check(q, f) == NULL);
	quota_take(q, f);
	quota_take(q, f);
	CHECK_STR(quota_check(q, f), EXEC_THROTTLE_RESERVED);
	quota_release(q, f);
	CHECK(quota_check(q, f) == NULL);
	quota_set_reserved(q, f, 0);
	quota_release(q, f);
	CHECK_STR(quota_check(q, f), EXEC_THROTTLE_RESERVED); /* 0 blocks everything */
	quota_free(q);
}

static void test_unreserved_pool(void)
{
	quota_t *q = NULL;
	CHECK(quota_new(5, &q) == 0);
	quota_fn_t *a = quota_fn(q, S1, "a"), *b = quota_fn(q, S1, "b"), *r = quota_fn(q, S1, "r");
	quota_fn_t *other = quota_fn(q, S2, "a");
	CHECK(quota_fn(q, S1, "a") == a && a != other);
	quota_set_reserved(q, r, 2); /* pool: 5 - 2 = 3 */
	quota_provision(q, b, 1);    /* pool: 3 - 1 = 2 */
	long used;
	CHECK(quota_unreserved(q, S1, &used) == 2 && used == 0);
	quota_take(q, a);
	quota_take(q, b);
	CHECK_STR(quota_check(q, a), EXEC_THROTTLE_ACCOUNT);
	CHECK(quota_check(q, other) == NULL); /* another account */
	CHECK(quota_check(q, r) == NULL);     /* its reservation is its own */
	quota_release(q, a);
	CHECK(quota_check(q, a) == NULL);
	/* b takes a reservation: its in-flight and provisioned leave the pool */
	quota_set_reserved(q, b, 1);
	CHECK(quota_unreserved(q, S1, &used) == 2 && used == 0); /* 5 - 2 - 1 */
	CHECK_STR(quota_check(q, b), EXEC_THROTTLE_RESERVED);   /* 1 in flight + 1 provisioned > 1 */
	quota_set_reserved(q, b, -1); /* and back */
	CHECK(quota_unreserved(q, S1, &used) == 2 && used == 1);
	quota_free(q);
}

/* a random walk, compared after every step with the rules counted from scratch */
static void test_random_walk(void)
{
	enum { NF = 6, LIMIT = 20 };
	quota_t *q = NULL;
	CHECK(quota_new(LIMIT, &q) == 0);
	quota_fn_t *f[NF];
	int res[NF], inf[NF], prov[NF];
	char name[16];
	for (int i = 0; i < NF; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		f[i] = quota_fn(q, S1, name);
		res[i] = -1;
		inf[i] = prov[i] = 0;
	}
	srand(7);
	int bad = 0;
	for (int step = 0; step < 20000; step++) {
		int i = rand() % NF, op = rand() % 5;
		if (op == 0 && !quota_check(q, f[i])) {
			quota_take(q, f[i]);
			inf[i]++;
		} else if (op == 1 && inf[i] > 0) {
			quota_release(q, f[i]);
			inf[i]--;
		} else if (op == 2) {
			int r = rand() % 6 - 1;
			quota_set_reserved(q, f[i], r);
			res[i] = r;
		} else if (op == 3) {
			int d = prov[i] > 0 && rand() % 2 ? -1 : 1;
			quota_provision(q, f[i], d);
			prov[i] += d;
		}
		for (int j = 0; j < NF; j++) {
			const char *want;
			if (res[j] >= 0) {
				want = inf[j] + prov[j] + 1 > res[j] ? EXEC_THROTTLE_RESERVED : NULL;
			} else {
				long pool = LIMIT, used = 0;
				for (int k = 0; k < NF; k++) {
					if (res[k] >= 0)
						pool -= res[k];
					else
						pool -= prov[k], used += inf[k];
				}
				want = used + 1 > pool ? EXEC_THROTTLE_ACCOUNT : NULL;
			}
			const char *got = quota_check(q, f[j]);
			bad += (want == NULL) != (got == NULL) || (want && strcmp(want, got));
		}
	}
	CHECK(bad == 0);
	quota_free(q);
}

int main(void)
{
	T_RUN(test_reserved);
	T_RUN(test_unreserved_pool);
	T_RUN(test_random_walk);
	return t_done("test_quota");
}
