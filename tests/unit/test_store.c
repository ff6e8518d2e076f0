/*
 * test_store.c - unit tests of the SQLite store backend through store.h:
 * put/get/del, listing in key order, prefix ranges, Marker-style paging with
 * `after`, del_prefix, scopes, transactions (commit and rollback), the JSON
 * conveniences, and that data survives closing and reopening the directory.
 */
#include "store/store.h"
#include "t.h"
#include "util/err.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define S1 "000000000000:us-east-1"
#define S2 "000000000000:eu-west-1"

static char dir[256];

static store_t *open_store(void)
{
	store_t *s = NULL;
	CHECK(store_open("sqlite", dir, &s) == 0);
	return s;
}

static int put(store_t *s, const char *kind, const char *scope, const char *key, const char *doc)
{
	return s->ops->put(s, kind, scope, key, doc, strlen(doc));
}

/* the document under key as a string ("" when missing; caller frees) */
static char *get(store_t *s, const char *kind, const char *scope, const char *key)
{
	char *doc = NULL;
	size_t len = 0;
	if (s->ops->get(s, kind, scope, key, &doc, &len))
		return strdup("");
	return doc;
}

struct listing {
	char keys[512];            /* "a,b,c": every key seen */
	char last[64];             /* the last key seen: the next Marker */
	int n, stop_after;
};

static int collect(void *ud, const char *key, const char *doc, size_t len)
{
	struct listing *l = ud;
	size_t used = strlen(l->keys);
	snprintf(l->keys + used, sizeof(l->keys) - used, "%s%s", used ? "," : "", key);
	snprintf(l->last, sizeof(l->last), "%s", key);
	return ++l->n == l->stop_after;
}

/* "a,b,c": the keys store_list() yields */
static const char *list(store_t *s, const char *kind, const char *scope, const char *prefix,
			const char *after, int limit)
{
	static struct listing l;
	memset(&l, 0, sizeof(l));
	if (store_list(s, kind, scope, prefix, after, limit, collect, &l))
		return "(error)";
	return l.keys;
}

static void test_put_get_del(void)
{
	store_t *s = open_store();
	char *d;
	CHECK(put(s, "fn", S1, "f1", "{\"a\":1}") == 0);
	CHECK_STR(d = get(s, "fn", S1, "f1"), "{\"a\":1}");
	free(d);
	CHECK(put(s, "fn", S1, "f1", "{\"a\":2}") == 0); /* overwrite */
	CHECK_STR(d = get(s, "fn", S1, "f1"), "{\"a\":2}");
	free(d);
	char *doc = NULL;
	size_t len = 0;
	CHECK(s->ops->get(s, "fn", S2, "f1", &doc, &len) == LD_ENOTFOUND); /* other scope */
	CHECK(s->ops->get(s, "ver", S1, "f1", &doc, &len) == LD_ENOTFOUND); /* other kind */
	CHECK(doc == NULL);
	CHECK(s->ops->put(s, "fn", S1, "bin", "a\0b", 3) == 0); /* documents are bytes */
	CHECK(s->ops->get(s, "fn", S1, "bin", &doc, &len) == 0);
	CHECK(len == 3 && !memcmp(doc, "a\0b", 3) && doc[3] == '\0');
	free(doc);
	CHECK(store_del(s, "fn", S1, "f1") == 0);
	CHECK(store_del(s, "fn", S1, "f1") == LD_ENOTFOUND);
	CHECK(s->ops->get(s, "fn", S1, "f1", &doc, &len) == LD_ENOTFOUND);
	store_del(s, "fn", S1, "bin");
	store_close(s);
}

static void test_list_order_prefix_after(void)
{
	store_t *s = open_store();
	const char *keys[] = { "b", "a", "f1:2", "f1", "f10", "f1:10", "f2:1", "c" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		CHECK(put(s, "ver", S1, keys[i], "{}") == 0);
	CHECK(put(s, "ver", S2, "zz", "{}") == 0);
	CHECK(put(s, "fn", S1, "x", "{}") == 0);
	/* byte order ('0' < ':'), one kind and scope */
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0), "a,b,c,f1,f10,f1:10,f1:2,f2:1");
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 3), "a,b,c");
	CHECK_STR(list(s, "ver", S1, NULL, NULL, -1), "a,b,c,f1,f10,f1:10,f1:2,f2:1");
	/* prefix ranges */
	CHECK_STR(list(s, "ver", S1, "f1:", NULL, 0), "f1:10,f1:2");
	CHECK_STR(list(s, "ver", S1, "f1", NULL, 0), "f1,f10,f1:10,f1:2");
	CHECK_STR(list(s, "ver", S1, "f3", NULL, 0), "");
	CHECK_STR(list(s, "ver", S1, "", NULL, 2), "a,b");
	/* Marker paging: keys strictly after the marker */
	CHECK_STR(list(s, "ver", S1, NULL, "b", 2), "c,f1");
	CHECK_STR(list(s, "ver", S1, NULL, "f1", 0), "f10,f1:10,f1:2,f2:1");
	CHECK_STR(list(s, "ver", S1, NULL, "bb", 1), "c");      /* marker need not exist */
	CHECK_STR(list(s, "ver", S1, NULL, "zzz", 0), "");
	CHECK_STR(list(s, "ver", S1, "f1:", "f1:10", 0), "f1:2");
	CHECK_STR(list(s, "ver", S1, "f1:", "a", 0), "f1:10,f1:2"); /* marker before the range */
	CHECK_STR(list(s, "ver", S1, "f1:", "f2", 0), "");          /* marker past the range */
	/* a full walk page by page sees every key once */
	static struct listing walk;
	memset(&walk, 0, sizeof(walk));
	for (int pages = 0, before = -1; pages < 10 && walk.n != before; pages++) {
		before = walk.n;
		CHECK(store_list(s, "ver", S1, NULL, walk.last[0] ? walk.last : NULL, 3, collect, &walk) == 0);
	}
	CHECK_STR(walk.keys, "a,b,c,f1,f10,f1:10,f1:2,f2:1");
	/* the callback stops a listing early */
	static struct listing l;
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	CHECK(store_list(s, "ver", S1, NULL, NULL, 0, collect, &l) == 0);
	CHECK_STR(l.keys, "a,b");
	store_close(s);
}

static void test_del_prefix_and_scopes(void)
{
	store_t *s = open_store();
	CHECK(store_del_prefix(s, "ver", S1, "f1:") == 0);
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0), "a,b,c,f1,f10,f2:1");
	CHECK(store_del_prefix(s, "ver", S1, "nothing") == 0);
	CHECK(store_del_prefix(s, "ver", S1, "f") == 0);
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0), "a,b,c");
	CHECK_STR(list(s, "ver", S2, NULL, NULL, 0), "zz");      /* other scope untouched */
	static struct listing l;
	memset(&l, 0, sizeof(l));
	CHECK(s->ops->scopes(s, "ver", collect, &l) == 0);
	CHECK_STR(l.keys, S2 "," S1);                          /* distinct, ordered */
	CHECK(store_del_prefix(s, "ver", S1, "") == 0);           /* "" is everything */
	CHECK_STR(list(s, "ver", S1, NULL, NULL, 0), "");
	CHECK_STR(list(s, "fn", S1, NULL, NULL, 0), "x");         /* other kind untouched */
	store_close(s);
}

static void test_transactions(void)
{
	store_t *s = open_store();
	char *d;
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "alias", S1, "f:live", "{\"v\":1}") == 0);
	CHECK(put(s, "alias", S1, "f:beta", "{\"v\":2}") == 0);
	CHECK_STR(d = get(s, "alias", S1, "f:live"), "{\"v\":1}"); /* visible inside */
	free(d);
	CHECK(store_commit(s) == 0);
	CHECK_STR(list(s, "alias", S1, "f:", NULL, 0), "f:beta,f:live");

	CHECK(store_begin(s) == 0);
	CHECK(put(s, "alias", S1, "f:live", "{\"v\":9}") == 0);
	CHECK(store_del(s, "alias", S1, "f:beta") == 0);
	CHECK(put(s, "alias", S1, "f:new", "{}") == 0);
	store_rollback(s);
	CHECK_STR(d = get(s, "alias", S1, "f:live"), "{\"v\":1}");
	free(d);
	CHECK_STR(list(s, "alias", S1, "f:", NULL, 0), "f:beta,f:live");
	store_rollback(s); /* outside a transaction: nothing happens */
	CHECK(store_begin(s) == 0);
	CHECK(store_begin(s) != 0); /* no nesting */
	store_rollback(s);
	store_close(s);
}

static void test_json(void)
{
	store_t *s = open_store();
	json_t *doc = json_pack("{s:s,s:i,s:[s]}", "Name", "f\xc3\xa9", "Size", 128, "L", "x");
	json_t *got = NULL;
	CHECK(store_put_json(s, "fn", S1, "j", doc) == 0);
	CHECK(store_get_json(s, "fn", S1, "j", &got) == 0);
	CHECK(got && json_equal(doc, got));
	json_decref(got);
	got = NULL;
	CHECK(store_get_json(s, "fn", S1, "missing", &got) == LD_ENOTFOUND);
	CHECK(put(s, "fn", S1, "bad", "{not json") == 0);
	CHECK(store_get_json(s, "fn", S1, "bad", &got) == LD_ECORRUPT);
	CHECK(got == NULL);
	json_decref(doc);
	store_close(s);
}

struct jlisting {
	char keys[256];
	json_t *first; /* the first document seen (a reference kept) */
};

static int collect_json(void *ud, const char *key, json_t *doc)
{
	struct jlisting *l = ud;
	size_t used = strlen(l->keys);
	snprintf(l->keys + used, sizeof(l->keys) - used, "%s%s=%lld", used ? "," : "", key,
		 (long long)json_integer_value(json_object_get(doc, "V")));
	if (!l->first)
		l->first = json_incref(doc);
	return 0;
}

/* store_list_json: parsed documents, each parsed once (the second listing
 * hands out the very objects of the first), internal '_' members stored,
 * text that is not JSON skipped, and a put seen by the next listing */
static void test_list_json(void)
{
	store_t *s = open_store();
	json_t *a = json_pack("{s:i,s:s}", "V", 1, "_Hidden", "kept");
	CHECK(store_put_json(s, "lj", S1, "k/1", a) == 0);
	CHECK(put(s, "lj", S1, "k/2", "{not json") == 0);
	CHECK(put(s, "lj", S1, "k/3", "{\"V\":3}") == 0);
	struct jlisting l1 = { "", NULL }, l2 = { "", NULL };
	CHECK(store_list_json(s, "lj", S1, "k/", NULL, 0, collect_json, &l1) == 0);
	CHECK_STR(l1.keys, "k/1=1,k/3=3");
	CHECK(store_list_json(s, "lj", S1, "k/", NULL, 0, collect_json, &l2) == 0);
	CHECK_STR(l2.keys, "k/1=1,k/3=3");
	CHECK(l1.first && l1.first == l2.first); /* from the cache, not parsed again */
	CHECK_STR(json_string_value(json_object_get(l1.first, "_Hidden")), "kept");
	json_t *peek = NULL;
	CHECK(store_peek_json(s, "lj", S1, "k/1", &peek) == 0);
	CHECK(peek == l1.first); /* one cache for gets and listings */
	json_decref(peek);
	json_object_set_new(a, "V", json_integer(7));
	CHECK(store_put_json(s, "lj", S1, "k/1", a) == 0);
	struct jlisting l3 = { "", NULL };
	CHECK(store_list_json(s, "lj", S1, "k/", NULL, 0, collect_json, &l3) == 0);
	CHECK_STR(l3.keys, "k/1=7,k/3=3");
	CHECK(l3.first != l1.first);
	/* inside a transaction a listing does not fill the cache */
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "lj", S1, "k/4", "{\"V\":4}") == 0);
	struct jlisting l4 = { "", NULL };
	CHECK(store_list_json(s, "lj", S1, "k/", NULL, 0, collect_json, &l4) == 0);
	CHECK_STR(l4.keys, "k/1=7,k/3=3,k/4=4");
	store_rollback(s);
	struct jlisting l5 = { "", NULL };
	CHECK(store_list_json(s, "lj", S1, "k/", NULL, 0, collect_json, &l5) == 0);
	CHECK_STR(l5.keys, "k/1=7,k/3=3");
	json_decref(l1.first);
	json_decref(l2.first);
	json_decref(l3.first);
	json_decref(l4.first);
	json_decref(l5.first);
	json_decref(a);
	store_close(s);
}

static int made;

static json_t *make_view(json_t *doc)
{
	made++;
	return json_pack("{s:O}", "Only", json_object_get(doc, "V"));
}

/* store_derived: made once per cached document, dropped with it */
static void test_derived(void)
{
	store_t *s = open_store();
	CHECK(put(s, "dv", S1, "a", "{\"V\":1}") == 0);
	json_t *doc = NULL, *v1, *v2, *v3;
	made = 0;
	CHECK(store_peek_json(s, "dv", S1, "a", &doc) == 0);
	v1 = store_derived(s, "dv", S1, "a", doc, "view", make_view);
	v2 = store_derived(s, "dv", S1, "a", doc, "view", make_view);
	CHECK(v1 && v1 == v2 && made == 1);
	CHECK(json_integer_value(json_object_get(v1, "Only")) == 1);
	json_decref(doc);
	/* a put drops the document and its view */
	json_t *next = json_pack("{s:i}", "V", 2);
	CHECK(store_put_json(s, "dv", S1, "a", next) == 0);
	doc = NULL;
	CHECK(store_peek_json(s, "dv", S1, "a", &doc) == 0);
	v3 = store_derived(s, "dv", S1, "a", doc, "view", make_view);
	CHECK(v3 && v3 != v1 && made == 2);
	CHECK(json_integer_value(json_object_get(v3, "Only")) == 2);
	/* a document that is not the cached one: made, not kept */
	json_t *v4 = store_derived(s, "dv", S1, "a", next, "view", make_view);
	json_t *v5 = store_derived(s, "dv", S1, "a", next, "view", make_view);
	CHECK(v4 && v5 && v4 != v5 && made == 4);
	json_decref(v1);
	json_decref(v2);
	json_decref(v3);
	json_decref(v4);
	json_decref(v5);
	json_decref(doc);
	json_decref(next);
	store_close(s);
}

static void test_reopen_persists(void)
{
	store_t *s = open_store();
	char *d;
	CHECK(put(s, "fn", S1, "durable", "{\"ok\":true}") == 0);
	CHECK(store_begin(s) == 0);
	CHECK(put(s, "fn", S1, "committed", "{}") == 0);
	CHECK(store_commit(s) == 0);
	store_close(s);
	s = open_store();
	CHECK_STR(d = get(s, "fn", S1, "durable"), "{\"ok\":true}");
	free(d);
	CHECK_STR(list(s, "fn", S1, NULL, NULL, 0), "bad,committed,durable,j,x");
	CHECK_STR(list(s, "alias", S1, NULL, NULL, 0), "f:beta,f:live");
	store_close(s);
	CHECK(store_open("nosuch", dir, &s) == LD_EINVAL);
	CHECK(store_open("sqlite", "/nonexistent/dir", &s) == LD_ESTORE);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/lambdad-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_put_get_del);
	T_RUN(test_list_order_prefix_after);
	T_RUN(test_del_prefix_and_scopes);
	T_RUN(test_transactions);
	T_RUN(test_json);
	T_RUN(test_list_json);
	T_RUN(test_derived);
	T_RUN(test_reopen_persists);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return t_done("test_store");
}
