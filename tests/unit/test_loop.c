/*
 * test_loop.c - unit tests of the event loop: timers fire in due order (ties
 * in creation order), cancelled timers never fire, deferred callbacks run on
 * the next iteration, fd callbacks, and loop_run() until loop_stop().
 */
#include "loop.h"
#include "t.h"
#include "util/err.h"

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
	T_RUN(test_clocks);
	return t_done("test_loop");
}
