/*
 * test_strmap.c - unit tests of util/strmap: put/get/replace/delete, growth
 * past many entries, tombstones reused and cleaned, iteration, freeing values.
 */
#include "t.h"
#include "util/err.h"
#include "util/strmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void test_basic(void)
{
	strmap_t *m = NULL;
	CHECK(strmap_new(&m) == 0);
	int a = 1, b = 2;
	CHECK(strmap_get(m, "x") == NULL);
	CHECK(strmap_put(m, "x", &a) == 0);
	CHECK(strmap_put(m, "y", &b) == 0);
	CHECK(strmap_get(m, "x") == &a && strmap_get(m, "y") == &b);
	CHECK(strmap_put(m, "x", &b) == 0); /* replaces */
	CHECK(strmap_get(m, "x") == &b && strmap_size(m) == 2);
	CHECK(strmap_del(m, "x") == &b);
	CHECK(strmap_get(m, "x") == NULL && strmap_size(m) == 1);
	CHECK(strmap_del(m, "x") == NULL);
	CHECK(strmap_put(m, "", &a) == 0 && strmap_get(m, "") == &a); /* the empty key is a key */
	strmap_free(m, NULL);
}

static void test_many_and_tombstones(void)
{
	strmap_t *m = NULL;
	char k[32];
	CHECK(strmap_new(&m) == 0);
	for (intptr_t i = 1; i <= 5000; i++) {
		snprintf(k, sizeof(k), "fn-%ld", (long)i);
		CHECK(strmap_put(m, k, (void *)i) == 0);
	}
	CHECK(strmap_size(m) == 5000);
	int bad = 0;
	for (intptr_t i = 1; i <= 5000; i++) {
		snprintf(k, sizeof(k), "fn-%ld", (long)i);
		bad += strmap_get(m, k) != (void *)i;
	}
	CHECK(bad == 0);
	/* churn: delete and re-add many times; lookups stay right */
	for (int round = 0; round < 20; round++) {
		for (intptr_t i = 1; i <= 5000; i += 2) {
			snprintf(k, sizeof(k), "fn-%ld", (long)i);
			CHECK(strmap_del(m, k) == (void *)i);
		}
		for (intptr_t i = 1; i <= 5000; i += 2) {
			snprintf(k, sizeof(k), "fn-%ld", (long)i);
			CHECK(strmap_put(m, k, (void *)i) == 0);
		}
	}
	bad = 0;
	for (intptr_t i = 1; i <= 5000; i++) {
		snprintf(k, sizeof(k), "fn-%ld", (long)i);
		bad += strmap_get(m, k) != (void *)i;
	}
	CHECK(bad == 0 && strmap_size(m) == 5000);
	CHECK(strmap_get(m, "fn-5001") == NULL);
	strmap_free(m, NULL);
}

static void sum(void *ud, const char *key, void *val)
{
	*(long *)ud += *(int *)val;
}

static void test_each_and_free(void)
{
	strmap_t *m = NULL;
	CHECK(strmap_new(&m) == 0);
	for (int i = 1; i <= 10; i++) {
		char k[16];
		int *v = malloc(sizeof(int));
		*v = i;
		snprintf(k, sizeof(k), "%d", i);
		CHECK(strmap_put(m, k, v) == 0);
	}
	long total = 0;
	strmap_each(m, sum, &total);
	CHECK(total == 55);
	strmap_free(m, free); /* ASan's leak check sees the values freed */
}

int main(void)
{
	T_RUN(test_basic);
	T_RUN(test_many_and_tombstones);
	T_RUN(test_each_and_free);
	return t_done("test_strmap");
}
