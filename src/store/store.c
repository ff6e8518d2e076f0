/*
 * store.c - backend selection and the JSON conveniences of the store (store.h).
 *
 * Parsing a stored document costs far more than the backend's lookup (about
 * 60 instructions a byte in jansson), so store_get_json keeps parsed
 * documents in a bounded cache (in the store, store.h) and hands out deep
 * copies. lambdad is the only
 * writer of its store (the SQLite backend holds an exclusive lock, the
 * PostgreSQL one an advisory lock on its database), so every
 * change passes through here: a put or delete drops the entry, and a
 * rollback or a prefix delete drops them all. Reads inside a transaction do
 * not fill the cache, so uncommitted data never enters it. store_list_json
 * reads and fills the same cache, so a listing parses each document once,
 * and store_derived keeps views made from a cached document beside it (they
 * leave with it).
 */
#include "store/store.h"
#include "util/disk.h"
#include "util/err.h"
#include "util/jsonw.h"
#include "util/str.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAX_ENTRIES 20000


static int cache_key(char *out, size_t n, const char *kind, const char *scope, const char *key)
{
	return str_join(out, n, kind, "\x1f", scope, "\x1f", key, NULL) != (size_t)-1;
}

static void cache_drop(store_t *s, const char *kind, const char *scope, const char *key)
{
	char k[1024];
	if (s->cache && cache_key(k, sizeof(k), kind, scope, key)) {
		json_object_del(s->cache, k);
		if (s->derived)
			json_object_del(s->derived, k);
	}
}

static void cache_clear(store_t *s)
{
	if (s->cache)
		json_object_clear(s->cache);
	if (s->derived)
		json_object_clear(s->derived);
}

int store_open(const char *backend, const char *data_dir, store_t **out)
{
	if (!backend || !strcmp(backend, "sqlite"))
		return store_sqlite_ops.open(data_dir, out);
	if (!strncmp(backend, "postgresql://", 13) || !strncmp(backend, "postgres://", 11) || strchr(backend, '='))
		return store_pg_ops.open(backend, out);
	return LD_EINVAL;
}

void store_close(store_t *s)
{
	if (!s)
		return;
	json_decref(s->cache);
	s->cache = NULL;
	json_decref(s->derived);
	s->derived = NULL;
	s->ops->close(s);
}

int store_begin(store_t *s)
{
	disk_guard(s->disk);
	int rc = s->ops->begin(s);
	s->in_tx = rc == 0;
	return rc;
}

int store_commit(store_t *s)
{
	int rc = s->ops->commit(s);
	s->in_tx = 0;
	if (rc)
		cache_clear(s); /* the backend rolled back */
	return rc;
}

void store_rollback(store_t *s)
{
	s->ops->rollback(s);
	s->in_tx = 0;
	cache_clear(s);
}

int store_del(store_t *s, const char *kind, const char *scope, const char *key)
{
	if (!s->in_tx)
		disk_guard(s->disk);
	cache_drop(s, kind, scope, key);
	return s->ops->del(s, kind, scope, key);
}

int store_del_prefix(store_t *s, const char *kind, const char *scope, const char *prefix)
{
	if (!s->in_tx)
		disk_guard(s->disk);
	cache_clear(s);
	return s->ops->del_prefix(s, kind, scope, prefix);
}

int store_list(store_t *s, const char *kind, const char *scope, const char *prefix,
	       const char *after, int limit, store_iter_fn fn, void *ud)
{
	return s->ops->list(s, kind, scope, prefix, after, limit, fn, ud);
}

int store_get(store_t *s, const char *kind, const char *scope, const char *key, char **doc, size_t *len)
{
	return s->ops->get(s, kind, scope, key, doc, len);
}

int store_scopes(store_t *s, const char *kind, store_iter_fn fn, void *ud)
{
	return s->ops->scopes(s, kind, fn, ud);
}

/* adds a parsed document to the cache (a new reference taken), outside transactions */
static void cache_fill(store_t *s, const char *k, json_t *doc)
{
	if (s->in_tx)
		return;
	if (!s->cache)
		s->cache = json_object();
	if (s->cache && json_object_size(s->cache) >= CACHE_MAX_ENTRIES)
		cache_clear(s);
	if (s->cache)
		json_object_set(s->cache, k, doc);
	if (s->derived)
		json_object_del(s->derived, k); /* made from the document this one replaces */
}

json_t *store_derived(store_t *s, const char *kind, const char *scope, const char *key, json_t *doc,
		      const char *tag, json_t *(*make)(json_t *doc))
{
	char k[1024];
	if (!cache_key(k, sizeof(k), kind, scope, key) || !s->cache || json_object_get(s->cache, k) != doc)
		return make(doc);
	json_t *views = s->derived ? json_object_get(s->derived, k) : NULL;
	json_t *v = json_object_get(views, tag);
	if (v)
		return json_incref(v);
	if (!(v = make(doc)))
		return NULL;
	if (!s->derived)
		s->derived = json_object();
	if (s->derived && !views && (views = json_object()) && json_object_set_new(s->derived, k, views))
		views = NULL;
	if (views)
		json_object_set(views, tag, v);
	return v;
}

struct list_json {
	store_t *s;
	const char *kind, *scope;
	store_iter_json_fn fn;
	void *ud;
};

static int list_json_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct list_json *l = ud;
	char k[1024];
	int cacheable = cache_key(k, sizeof(k), l->kind, l->scope, key);
	json_t *hit = cacheable && l->s->cache ? json_object_get(l->s->cache, k) : NULL;
	if (hit)
		return l->fn(l->ud, key, hit);
	json_t *parsed = json_loadb(doc, len, 0, NULL);
	if (!parsed)
		return 0; /* not JSON: skipped */
	if (cacheable)
		cache_fill(l->s, k, parsed);
	int stop = l->fn(l->ud, key, parsed);
	json_decref(parsed);
	return stop;
}

int store_list_json(store_t *s, const char *kind, const char *scope, const char *prefix,
		    const char *after, int limit, store_iter_json_fn fn, void *ud)
{
	struct list_json l = { s, kind, scope, fn, ud };
	return s->ops->list(s, kind, scope, prefix, after, limit, list_json_cb, &l);
}

static int load(store_t *s, const char *kind, const char *scope, const char *key, json_t **out, int peek)
{
	char k[1024];
	int cacheable = cache_key(k, sizeof(k), kind, scope, key);
	json_t *hit = cacheable && s->cache ? json_object_get(s->cache, k) : NULL;
	if (hit) {
		*out = peek ? json_incref(hit) : json_deep_copy(hit);
		return *out ? 0 : LD_ENOMEM;
	}
	char *doc = NULL;
	size_t len = 0;
	int rc = s->ops->get(s, kind, scope, key, &doc, &len);
	if (rc)
		return rc;
	json_error_t err;
	*out = json_loadb(doc, len, 0, &err);
	free(doc);
	if (!*out)
		return LD_ECORRUPT;
	if (cacheable && !s->in_tx) {
		json_t *copy = peek ? json_incref(*out) : json_deep_copy(*out);
		if (copy)
			cache_fill(s, k, copy);
		json_decref(copy);
	}
	return 0;
}

int store_get_json(store_t *s, const char *kind, const char *scope, const char *key, json_t **out)
{
	return load(s, kind, scope, key, out, 0);
}

int store_peek_json(store_t *s, const char *kind, const char *scope, const char *key, json_t **out)
{
	return load(s, kind, scope, key, out, 1);
}

int store_put_json(store_t *s, const char *kind, const char *scope, const char *key, json_t *doc)
{
	buf_t text;
	buf_init(&text, 0);
	int rc = jsonw_dump_all(doc, &text); /* jansson's compact text, at a fraction of json_dumps' cost */
	if (!rc) {
		cache_drop(s, kind, scope, key);
		if (!s->in_tx)
			disk_guard(s->disk);
		rc = s->ops->put(s, kind, scope, key, text.data, text.len);
	}
	buf_free(&text);
	return rc;
}
