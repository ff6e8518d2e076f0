/*
 * test_loop.c - unit tests of the event loop: timers fire in due order (ties
 * in creation order), cancelled timers never fire, deferred callbacks run on
 * the next iteration, fd callbacks, and loop_run() until loop_stop().
 */
#include "loop.h"
#include "t.h"
#include "util/err.h"

#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

static char order[64];
static size_t norder;

static void note(void *ud)
{
	if (norder < sizeof(order) - 1)
		order[norder++] = *(const char *)ud;
	order[norder] = '\0';
}

static void reset(void)
{
	norder = 0;
	order[0] = '\0';
}

/* runs iterations until nothing is due for `ms` */
static void run_for(loop_t *l, uint64_t ms)
{
	uint64_t end = loop_now_ms() + ms;
	while (loop_now_ms() < end)
		loop_run_once(l, 1);
}

static void test_timers_in_order(void)
{
	loop_t *l;
	CHECK(loop_new(&l) == 0);
	reset();
	CHECK(loop_timer(l, 30, note, "c") > 0);
	CHECK(loop_timer(l, 10, note, "a") > 0);
	CHECK(loop_timer(l, 20, note, "b") > 0);
	CHECK(loop_timer(l, 10, note, "A") > 0); /* same due time: after "a" */
	CHECK(loop_run_once(l, 0) == 0);
	CHECK_STR(order, "");                      /* nothing due yet */
	run_for(l, 60);
	CHECK_STR(order, "aAbc");
	loop_free(l);
}

static void test_cancel(void)
{
	loop_t *l;
	CHECK(loop_new(&l) == 0);
	reset();
	int64_t a = loop_timer(l, 5, note, "a");
	int64_t b = loop_timer(l, 5, note, "b");
	int64_t c = loop_timer(l, 5, note, "c");
	CHECK(a > 0 && b > a && c > b);
	loop_cancel(l, b);
	loop_cancel(l, 0);  /* ignored */
	loop_cancel(l, -3); /* ignored */
	run_for(l, 30);
	CHECK_STR(order, "ac");
	loop_free(l);
}

struct chain {
	loop_t *l;
	int runs;
};

static void defer_again(void *ud)
{
	struct chain *c = ud;
	if (++c->runs < 3)
		loop_defer(c->l, defer_again, c);
}

static void test_defer(void)
{
	loop_t *l;
	CHECK(loop_new(&l) == 0);
	reset();
	CHECK(loop_defer(l, note, "x") == 0);
	CHECK(loop_defer(l, note, "y") == 0);
	CHECK_STR(order, "");                      /* never inside the caller */
	CHECK(loop_run_once(l, 0) == 0);
	CHECK_STR(order, "xy");
	CHECK(loop_run_once(l, 0) == 0);
	CHECK_STR(order, "xy");                    /* ran once */
	struct chain c = { l, 0 };
	loop_defer(l, defer_again, &c);
	for (int i = 0; i < 5 && c.runs < 3; i++)
		loop_run_once(l, 1);
	CHECK(c.runs == 3);                        /* a callback can defer more work */
	loop_free(l);
}

static void on_readable(void *ud, uint32_t events)
{
	int *fds = ud;
	char ch;
	if ((events & EPOLLIN) && read(fds[0], &ch, 1) == 1)
		note(ch == 'r' ? "r" : "?");
}

static void stop_cb(void *ud)
{
	loop_stop(ud);
}

static void test_fd_and_run(void)
{
	loop_t *l;
	int fds[2];
	CHECK(loop_new(&l) == 0);
	CHECK(pipe(fds) == 0);
	reset();
	CHECK(loop_add_fd(l, fds[0], EPOLLIN, on_readable, fds) == 0);
	CHECK(write(fds[1], "r", 1) == 1);
	CHECK(loop_timer(l, 20, stop_cb, l) > 0);
	uint64_t t0 = loop_now_ms();
	CHECK(loop_run(l) == 0);                   /* returns after stop_cb */
	CHECK(loop_now_ms() - t0 >= 19);
	CHECK_STR(order, "r");
	loop_del_fd(l, fds[0]);
	loop_del_fd(l, fds[0]);                    /* twice is harmless */
	CHECK(write(fds[1], "r", 1) == 1);
	CHECK(loop_run_once(l, 0) == 0);
	CHECK_STR(order, "r");                     /* no callback after del */
	close(fds[0]);
	close(fds[1]);
	loop_free(l);
}

/* many timers, most cancelled in random order (some twice, some after they
 * fired): exactly the others fire, in due order, and cancelled ids stay dead
 * when their slots are reused */
static int fired[4000], nfired;

static void record(void *ud)
{
	fired[nfired++] = (int)(intptr_t)ud;
}

static void test_cancel_storm(void)
{
	loop_t *l = NULL;
	CHECK(loop_new(&l) == 0);
	int64_t ids[2000];
	unsigned seed = 12345;
	nfired = 0;
	for (int i = 0; i < 2000; i++) {
		ids[i] = loop_timer(l, (uint64_t)(i % 7), record, (void *)(intptr_t)i);
		CHECK(ids[i] > 0);
	}
	int keep[2000] = { 0 };
	for (int i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		int j = (int)((seed >> 8) % 2000);
		loop_cancel(l, ids[j]);
		loop_cancel(l, ids[j]); /* twice is harmless */
		keep[j] = -1;
	}
	int expected = 0;
	for (int i = 0; i < 2000; i++)
		expected += keep[i] == 0;
	/* new timers reuse the freed slots; the old ids must not cancel them */
	int64_t fresh = loop_timer(l, 0, record, (void *)(intptr_t)9999);
	for (int i = 0; i < 2000; i++)
		if (keep[i])
			loop_cancel(l, ids[i]);
	uint64_t start = loop_now_ms();
	while (nfired < expected + 1 && loop_now_ms() - start < 2000)
		loop_run_once(l, 10);
	CHECK(nfired == expected + 1);
	int saw_fresh = 0;
	for (int i = 0; i < nfired; i++) {
		int v = fired[i];
		if (v == 9999) {
			saw_fresh = 1;
			continue;
		}
		CHECK(keep[v] == 0);
	}
	CHECK(saw_fresh);
	/* due order: delays are i % 7 ms, so a later delay never fires before an
	 * earlier one that was due first (same-tick ties keep creation order) */
	int last_delay = -1, last_i = -1;
	for (int i = 0; i < nfired; i++) {
		if (fired[i] == 9999)
			continue;
		int d = fired[i] % 7;
		if (d == last_delay)
			CHECK(fired[i] > last_i);
		last_delay = d;
		last_i = fired[i];
	}
	loop_cancel(l, fresh); /* fired already: a no-op */
	loop_free(l);
}

static void test_clocks(void)
{
	uint64_t a = loop_now_ms();
	usleep(5000);
	CHECK(loop_now_ms() >= a + 4);
	CHECK(loop_wall_ms() > 1600000000000LL); /* after 2020 */
}

int main(void)
{
	T_RUN(test_timers_in_order);
	T_RUN(test_cancel);
	T_RUN(test_defer);
	T_RUN(test_fd_and_run);
	T_RUN(test_cancel_storm);
	T_RUN(test_clocks);
	return t_done("test_loop");
}
