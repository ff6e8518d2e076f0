/*
 * test_async.c - unit tests of the durable async queue (exec/async.h) on a
 * real loop and SQLite store in a temporary directory, without execution:
 * events are committed before async_enqueue returns, under strictly
 * increasing keys (the queue's order) and with what they carry; a stopped
 * queue keeps them in the store and the next async_start resumes them; an
 * event whose function is gone is dropped when it runs; an event whose
 * function is not Active yet stays queued (retried later), as does one
 * whose function appears after it was queued. Group commit (async_submit):
 * nothing is written or answered inside the call; the loop's next turn
 * writes the whole group and only then tells each caller, whose event is
 * in the store by then; a full group is written before the next event is
 * staged; async_enqueue and async_stop take the staged events with them;
 * a stopped queue refuses and never calls back.
 */
#include "exec/async.h"
#include "loop.h"
#include "records/records.h"
#include "server.h"
#include "store/store.h"
#include "t.h"
#include "util/err.h"

#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#define SC "123456789012:us-east-1"

static char dir[256];
static server_t srv;
static const struct async_options opt = { .retry_base_ms = 600 }; /* a "minute" of 600 ms */

struct keys {
	int n;
	char last[32];
	int ordered;
	char names[8][64];
};

static int key_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct keys *k = ud;
	if (k->n && strcmp(k->last, key) >= 0)
		k->ordered = 0;
	snprintf(k->last, sizeof(k->last), "%s", key);
	json_t *j = json_loadb(doc, len, 0, NULL);
	if (k->n < 8)
		snprintf(k->names[k->n], sizeof(k->names[0]), "%s", json_string_value(json_object_get(j, "n")));
	json_decref(j);
	k->n++;
	return 0;
}

static struct keys queued(void)
{
	struct keys k = { .ordered = 1 };
	CHECK(rec_list(srv.store, REC_ASYNC_EVENT, "queue", NULL, NULL, 0, key_cb, &k) == 0);
	return k;
}

static void enqueue(const char *name, const char *payload)
{
	struct async_event ev = { .scope = SC, .name = name, .qualifier = "", .payload = payload,
				  .payload_len = strlen(payload), .request_id = "11111111-2222-3333-4444-555555555555" };
	CHECK(async_enqueue(&srv, &ev) == 0);
}

static void turn(int ms)
{
	for (int i = 0; i < ms / 5; i++)
		loop_run_once(srv.loop, 5);
}

static void test_committed_in_order_and_resumed(void)
{
	CHECK(async_start(&srv, &opt) == 0);
	enqueue("gone-1", "{\"i\":1}");
	enqueue("gone-2", "{\"i\":2}");
	enqueue("gone-3", "{\"i\":3}");
	/* durable before anything ran */
	struct keys k = queued();
	CHECK(k.n == 3);
	CHECK(k.ordered);
	CHECK_STR(k.names[0], "gone-1");
	CHECK_STR(k.names[2], "gone-3");
	/* stopped before they ran: the store keeps them for the next start */
	async_stop(&srv);
	async_free(&srv);
	CHECK(queued().n == 3);
	CHECK(async_start(&srv, &opt) == 0);
	/* the functions do not exist: each event is dropped when it runs */
	turn(200);
	CHECK(queued().n == 0);
	async_stop(&srv);
	async_free(&srv);
}

/* what the group commit told its callers */
struct told {
	int n;
	int rc[ASYNC_GROUP_MAX + 8];
	int stored[ASYNC_GROUP_MAX + 8]; /* records in the store when told */
};

static void accepted(void *ud, int rc)
{
	struct told *t = ud;
	if (t->n < (int)(sizeof(t->rc) / sizeof(t->rc[0]))) {
		t->rc[t->n] = rc;
		t->stored[t->n] = queued().n;
	}
	t->n++;
}

static int submit(const char *name, struct told *t)
{
	struct async_event ev = { .scope = SC, .name = name, .qualifier = "", .payload = "{}", .payload_len = 2,
				  .request_id = "11111111-2222-3333-4444-555555555555" };
	return async_submit(&srv, &ev, accepted, t);
}

static void test_group_commit(void)
{
	static struct told t;
	memset(&t, 0, sizeof(t));
	CHECK(async_start(&srv, &opt) == 0);
	CHECK(submit("group-1", &t) == 0);
	CHECK(submit("group-2", &t) == 0);
	CHECK(submit("group-3", &t) == 0);
	/* staged: neither written nor answered yet */
	CHECK(t.n == 0);
	CHECK(queued().n == 0);
	/* one turn of the loop writes the group, then answers each */
	for (int i = 0; i < 100 && t.n < 3; i++)
		loop_run_once(srv.loop, 5);
	CHECK(t.n == 3);
	for (int i = 0; i < 3; i++) {
		CHECK(t.rc[i] == 0);
		CHECK(t.stored[i] == 3); /* durable before its caller heard of it */
	}
	/* their functions do not exist: they leave when they run */
	for (int i = 0; i < 100 && queued().n; i++)
		turn(50);
	CHECK(queued().n == 0);
	async_stop(&srv);
	async_free(&srv);
}

static void test_full_group_goes_first(void)
{
	static struct told t;
	memset(&t, 0, sizeof(t));
	CHECK(async_start(&srv, &opt) == 0);
	for (int i = 0; i < ASYNC_GROUP_MAX; i++)
		CHECK(submit("full", &t) == 0);
	CHECK(t.n == 0);
	/* the next one finds the group full: the group is written and answered first */
	CHECK(submit("full", &t) == 0);
	CHECK(t.n == ASYNC_GROUP_MAX);
	CHECK(t.rc[0] == 0 && t.rc[ASYNC_GROUP_MAX - 1] == 0);
	CHECK(t.stored[0] == ASYNC_GROUP_MAX);
	CHECK(queued().n == ASYNC_GROUP_MAX);
	for (int i = 0; i < 100 && t.n < ASYNC_GROUP_MAX + 1; i++)
		loop_run_once(srv.loop, 5);
	CHECK(t.n == ASYNC_GROUP_MAX + 1);
	CHECK(t.rc[ASYNC_GROUP_MAX] == 0);
	for (int i = 0; i < 200 && queued().n; i++)
		turn(50);
	CHECK(queued().n == 0);
	async_stop(&srv);
	async_free(&srv);
}

static void test_enqueue_and_stop_take_the_group(void)
{
	static struct told t;
	memset(&t, 0, sizeof(t));
	CHECK(async_start(&srv, &opt) == 0);
	CHECK(submit("with-1", &t) == 0);
	enqueue("with-2", "{}"); /* commits the staged event too, before its own */
	CHECK(t.n == 1);
	CHECK(t.rc[0] == 0);
	CHECK(t.stored[0] == 2);
	CHECK(submit("with-3", &t) == 0);
	async_stop(&srv); /* answers what is staged: it stays in the store */
	CHECK(t.n == 2);
	CHECK(t.rc[1] == 0);
	struct keys k = queued();
	CHECK(k.n == 3);
	CHECK(k.ordered);
	CHECK_STR(k.names[0], "with-1");
	CHECK_STR(k.names[1], "with-2");
	CHECK_STR(k.names[2], "with-3");
	/* stopped: refused, never called back */
	CHECK(submit("late", &t) == LD_EIO);
	turn(50);
	CHECK(t.n == 2);
	async_free(&srv);
	CHECK(async_start(&srv, &opt) == 0);
	for (int i = 0; i < 100 && queued().n; i++)
		turn(50);
	CHECK(queued().n == 0);
	async_stop(&srv);
	async_free(&srv);
}

static void test_not_active_stays_queued(void)
{
	json_t *cfg = json_pack("{s:s,s:s,s:s}", "FunctionName", "pending", "Version", "$LATEST", "State", "Pending");
	CHECK(rec_version_put(srv.store, SC, "pending", NULL, cfg) == 0);
	json_decref(cfg);
	CHECK(async_start(&srv, &opt) == 0);
	enqueue("pending", "{}");
	turn(100);
	struct keys k = queued();
	CHECK(k.n == 1); /* retried later, not dropped */
	CHECK_STR(k.names[0], "pending");
	/* once the function is gone, so is its event */
	CHECK(rec_delete_function(srv.store, SC, "pending") == 0);
	for (int i = 0; i < 100 && queued().n; i++)
		turn(50);
	CHECK(queued().n == 0);
	async_stop(&srv);
	async_free(&srv);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(p);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ld-test-async-XXXXXX");
	if (!mkdtemp(dir) || loop_new(&srv.loop) || store_open("sqlite", dir, &srv.store))
		return 1;
	srv.data_dir = dir;
	srv.account_id = "123456789012";
	srv.region = "us-east-1";
	T_RUN(test_committed_in_order_and_resumed);
	T_RUN(test_not_active_stays_queued);
	T_RUN(test_group_commit);
	T_RUN(test_full_group_goes_first);
	T_RUN(test_enqueue_and_stop_take_the_group);
	store_close(srv.store);
	loop_free(srv.loop);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return t_done("test_async");
}
