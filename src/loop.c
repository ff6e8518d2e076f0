/*
 * loop.c - single-threaded epoll loop with timers and deferred callbacks.
 *
 * File descriptors map to callbacks through a small table indexed by fd.
 * Timers live in slots (reused through a free list); a binary min-heap of
 * slot numbers orders them by due time (ties in creation order), and every
 * slot knows its heap position, so a cancel removes its timer in O(log n).
 * A timer id is the slot number plus a generation in the high bits, so an
 * id that was already fired or cancelled never touches a reused slot.
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
	uint64_t seq;     /* creation order, for ties */
	uint32_t gen;     /* bumped whenever the slot is released */
	uint32_t heap_at; /* position in the heap; UINT32_MAX when free */
	loop_cb cb;
	void *ud;
	uint32_t next_free;
};

struct loop {
	int epfd;
	int stop;
	struct fd_slot *fds;
	int nfds;
	struct timer *slots;  /* all timers, live or free */
	uint32_t nslots, free_head; /* free list through next_free; UINT32_MAX: empty */
	uint32_t *heap;       /* slot numbers */
	size_t nheap, aheap;
	uint64_t seq;
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
	l->free_head = UINT32_MAX;
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
	free(l->slots);
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

static int timer_before(const loop_t *l, uint32_t a, uint32_t b)
{
	const struct timer *x = &l->slots[a], *y = &l->slots[b];
	return x->due < y->due || (x->due == y->due && x->seq < y->seq);
}

static void heap_set(loop_t *l, size_t i, uint32_t slot)
{
	l->heap[i] = slot;
	l->slots[slot].heap_at = (uint32_t)i;
}

static void heap_up(loop_t *l, size_t i)
{
	uint32_t slot = l->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!timer_before(l, slot, l->heap[p]))
			break;
		heap_set(l, i, l->heap[p]);
		i = p;
	}
	heap_set(l, i, slot);
}

static void heap_down(loop_t *l, size_t i)
{
	uint32_t slot = l->heap[i];
	for (;;) {
		size_t c = 2 * i + 1, m = c;
		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && timer_before(l, l->heap[c + 1], l->heap[c]))
			m = c + 1;
		if (!timer_before(l, l->heap[m], slot))
			break;
		heap_set(l, i, l->heap[m]);
		i = m;
	}
	heap_set(l, i, slot);
}

/* takes the timer at heap position i out of the heap and frees its slot */
static void heap_remove(loop_t *l, size_t i)
{
	uint32_t slot = l->heap[i];
	uint32_t last = l->heap[--l->nheap];
	if (i < l->nheap) {
		heap_set(l, i, last);
		heap_down(l, i);
		heap_up(l, l->slots[last].heap_at);
	}
	struct timer *t = &l->slots[slot];
	t->heap_at = UINT32_MAX;
	t->gen++;
	t->next_free = l->free_head;
	l->free_head = slot;
}

int64_t loop_timer(loop_t *l, uint64_t ms, loop_cb cb, void *ud)
{
	if (l->free_head == UINT32_MAX) {
		uint32_t n = l->nslots ? l->nslots * 2 : 64;
		struct timer *s = realloc(l->slots, n * sizeof(*s));
		if (!s)
			return LD_ENOMEM;
		uint32_t *h = realloc(l->heap, n * sizeof(*h));
		if (!h) {
			l->slots = s;
			return LD_ENOMEM;
		}
		l->slots = s;
		l->heap = h;
		l->aheap = n;
		for (uint32_t i = l->nslots; i < n; i++) {
			s[i] = (struct timer){ .heap_at = UINT32_MAX, .next_free = i + 1 < n ? i + 1 : l->free_head };
		}
		l->free_head = l->nslots;
		l->nslots = n;
	}
	uint32_t slot = l->free_head;
	struct timer *t = &l->slots[slot];
	l->free_head = t->next_free;
	t->due = loop_now_ms() + ms;
	t->seq = l->seq++;
	t->cb = cb;
	t->ud = ud;
	l->heap[l->nheap] = slot;
	heap_up(l, l->nheap++);
	/* id > 0: generation in the high 32 bits (kept below 2^31), slot below */
	return (int64_t)((uint64_t)(t->gen & 0x7fffffffu) << 32 | slot) + 1;
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
	uint64_t v = (uint64_t)(id - 1);
	uint32_t slot = (uint32_t)v, gen = (uint32_t)(v >> 32);
	if (slot >= l->nslots)
		return;
	struct timer *t = &l->slots[slot];
	if (t->heap_at == UINT32_MAX || (t->gen & 0x7fffffffu) != gen)
		return; /* already fired or cancelled */
	heap_remove(l, t->heap_at);
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
	while (l->nheap && l->slots[l->heap[0]].due <= now && budget--) {
		struct timer *t = &l->slots[l->heap[0]];
		loop_cb cb = t->cb;
		void *ud = t->ud;
		heap_remove(l, 0);
		cb(ud);
	}
}

int loop_run_once(loop_t *l, int timeout_ms)
{
	struct epoll_event evs[128];
	int n = epoll_wait(l->epfd, evs, 128, timeout_ms);
	if (n < 0 && errno != EINTR)
		return LD_EIO;
	/* timers that fell due meanwhile run before new requests: a deferred
	 * callback registered late in the last iteration (a state settling
	 * after an update) must not be overtaken by the client's next request */
	run_timers(l);
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
			uint64_t due = l->slots[l->heap[0]].due;
			int64_t t = due > now ? (int64_t)(due - now) : 0;
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
