/*
 * loop.c - single-threaded epoll loop with timers and deferred callbacks.
 *
 * File descriptors map to callbacks through a small table indexed by fd.
 * Timers sit in a binary min-heap keyed by due time (ties in insertion
 * order); a cancelled timer is only marked and dropped when it surfaces.
 * Each iteration: run the prepare hooks, wait in epoll (bounded by the next
 * timer and the hooks' answers), run the check hooks, dispatch fd events,
 * then run every timer that is due.
 */
#include "loop.h"
#include "util/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

struct fd_slot {
	loop_fd_cb cb;
	void *ud;
	int used;
};

struct timer {
	uint64_t due;
	int64_t id;
	loop_cb cb;
	void *ud;
};

struct loop {
	int epfd;
	int stop;
	struct fd_slot *fds;
	int nfds;
	struct timer *heap;
	size_t nheap, aheap;
	int64_t next_id;
	int64_t *cancelled; /* ids cancelled but still in the heap */
	size_t ncancelled, acancelled;
	struct hook {
		int64_t (*prepare)(void *);
		void (*check)(void *);
		void *ud;
	} hooks[LOOP_MAX_HOOKS];
	int nhooks;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t loop_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_new(loop_t **out)
{
	loop_t *l = calloc(1, sizeof(*l));
	if (!l)
		return LD_ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return LD_EIO;
	}
	l->next_id = 1;
	*out = l;
	return 0;
}

void loop_free(loop_t *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l->cancelled);
	free(l);
}

static int fd_slot_reserve(loop_t *l, int fd)
{
	if (fd < l->nfds)
		return 0;
	int n = l->nfds ? l->nfds : 64;
	while (n <= fd)
		n *= 2;
	struct fd_slot *p = realloc(l->fds, (size_t)n * sizeof(*p));
	if (!p)
		return LD_ENOMEM;
	memset(p + l->nfds, 0, (size_t)(n - l->nfds) * sizeof(*p));
	l->fds = p;
	l->nfds = n;
	return 0;
}

int loop_add_fd(loop_t *l, int fd, uint32_t events, loop_fd_cb cb, void *ud)
{
	int rc = fd_slot_reserve(l, fd);
	if (rc)
		return rc;
	struct epoll_event ev = { .events = events, .data.fd = fd };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return LD_EIO;
	l->fds[fd] = (struct fd_slot){ cb, ud, 1 };
	return 0;
}

int loop_mod_fd(loop_t *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? LD_EIO : 0;
}

void loop_del_fd(loop_t *l, int fd)
{
	if (fd < 0 || fd >= l->nfds || !l->fds[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].used = 0;
}

static int timer_before(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->id < b->id);
}

static void heap_up(loop_t *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!timer_before(&l->heap[i], &l->heap[p]))
			break;
		struct timer t = l->heap[i];
		l->heap[i] = l->heap[p];
		l->heap[p] = t;
		i = p;
	}
}

static void heap_down(loop_t *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && timer_before(&l->heap[c], &l->heap[m]))
			m = c;
		if (c + 1 < l->nheap && timer_before(&l->heap[c + 1], &l->heap[m]))
			m = c + 1;
		if (m == i)
			return;
		struct timer t = l->heap[i];
		l->heap[i] = l->heap[m];
		l->heap[m] = t;
		i = m;
	}
}

int64_t loop_timer(loop_t *l, uint64_t ms, loop_cb cb, void *ud)
{
	if (l->nheap == l->aheap) {
		size_t n = l->aheap ? l->aheap * 2 : 64;
		struct timer *p = realloc(l->heap, n * sizeof(*p));
		if (!p)
			return LD_ENOMEM;
		l->heap = p;
		l->aheap = n;
	}
	int64_t id = l->next_id++;
	l->heap[l->nheap] = (struct timer){ loop_now_ms() + ms, id, cb, ud };
	heap_up(l, l->nheap++);
	return id;
}

int loop_defer(loop_t *l, loop_cb cb, void *ud)
{
	int64_t id = loop_timer(l, 0, cb, ud);
	return id < 0 ? (int)id : 0;
}

void loop_cancel(loop_t *l, int64_t id)
{
	if (id <= 0)
		return;
	if (l->ncancelled == l->acancelled) {
		size_t n = l->acancelled ? l->acancelled * 2 : 16;
		int64_t *p = realloc(l->cancelled, n * sizeof(*p));
		if (!p)
			return; /* the timer will fire; callers tolerate a late run */
		l->cancelled = p;
		l->acancelled = n;
	}
	l->cancelled[l->ncancelled++] = id;
}

static int take_cancelled(loop_t *l, int64_t id)
{
	for (size_t i = 0; i < l->ncancelled; i++) {
		if (l->cancelled[i] == id) {
			l->cancelled[i] = l->cancelled[--l->ncancelled];
			return 1;
		}
	}
	return 0;
}

int loop_add_hooks(loop_t *l, int64_t (*prepare)(void *ud), void (*check)(void *ud), void *ud)
{
	if (l->nhooks == LOOP_MAX_HOOKS)
		return LD_ETOOBIG;
	l->hooks[l->nhooks++] = (struct hook){ prepare, check, ud };
	return 0;
}

void loop_del_hooks(loop_t *l, void *ud)
{
	for (int i = 0; i < l->nhooks; i++) {
		if (l->hooks[i].ud == ud) {
			l->hooks[i] = l->hooks[--l->nhooks];
			return;
		}
	}
}

static void run_timers(loop_t *l)
{
	uint64_t now = loop_now_ms();
	/* bounded: timers added while running get a later id and run next time
	 * unless already due; the count bound avoids starving fd events */
	size_t budget = l->nheap + 64;
	while (l->nheap && l->heap[0].due <= now && budget--) {
		struct timer t = l->heap[0];
		l->heap[0] = l->heap[--l->nheap];
		heap_down(l, 0);
		if (l->ncancelled && take_cancelled(l, t.id))
			continue;
		t.cb(t.ud);
	}
}

int loop_run_once(loop_t *l, int timeout_ms)
{
	struct epoll_event evs[128];
	int n = epoll_wait(l->epfd, evs, 128, timeout_ms);
	if (n < 0 && errno != EINTR)
		return LD_EIO;
	for (int i = 0; i < l->nhooks; i++)
		if (l->hooks[i].check)
			l->hooks[i].check(l->hooks[i].ud);
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd < l->nfds && l->fds[fd].used)
			l->fds[fd].cb(l->fds[fd].ud, evs[i].events);
	}
	run_timers(l);
	return 0;
}

int loop_run(loop_t *l)
{
	while (!l->stop) {
		int64_t wait = -1;
		for (int i = 0; i < l->nhooks; i++) {
			int64_t w = l->hooks[i].prepare ? l->hooks[i].prepare(l->hooks[i].ud) : -1;
			if (w >= 0 && (wait < 0 || w < wait))
				wait = w;
		}
		if (l->nheap) {
			uint64_t now = loop_now_ms();
			int64_t t = l->heap[0].due > now ? (int64_t)(l->heap[0].due - now) : 0;
			if (wait < 0 || t < wait)
				wait = t;
		}
		if (wait > 60000)
			wait = 60000;
		if (loop_run_once(l, (int)wait))
			return LD_EIO;
	}
	return 0;
}

void loop_stop(loop_t *l)
{
	l->stop = 1;
}
