/*
 * store.c - backend selection and the JSON conveniences of the store (store.h).
 *
 * Parsing a stored document costs far more than the backend's lookup (about
 * 60 instructions a byte in jansson), so store_get_json keeps parsed
 * documents in a bounded cache (in the store, store.h) and hands out deep
 * copies. lambdad is the only
 * writer of its store (the SQLite backend holds an exclusive lock), so every
 * change passes through here: a put or delete drops the entry, and a
 * rollback or a prefix delete drops them all. Reads inside a transaction do
 * not fill the cache, so uncommitted data never enters it.
 */
#include "store/store.h"
#include "util/disk.h"
#include "util/err.h"
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
	if (s->cache && cache_key(k, sizeof(k), kind, scope, key))
		json_object_del(s->cache, k);
}

static void cache_clear(store_t *s)
{
	if (s->cache)
		json_object_clear(s->cache);
}

int store_open(const char *backend, const char *data_dir, store_t **out)
{
	if (!backend || !strcmp(backend, "sqlite"))
		return store_sqlite_ops.open(data_dir, out);
	return LD_EINVAL;
}

void store_close(store_t *s)
{
	if (!s)
		return;
	json_decref(s->cache);
	s->cache = NULL;
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

/* the cached document (borrowed) or a freshly parsed one (owned) */
int store_get(store_t *s, const char *kind, const char *scope, const char *key, char **doc, size_t *len)
{
	return s->ops->get(s, kind, scope, key, doc, len);
}

int store_scopes(store_t *s, const char *kind, store_iter_fn fn, void *ud)
{
	return s->ops->scopes(s, kind, fn, ud);
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
		if (!s->cache)
			s->cache = json_object();
		if (s->cache && json_object_size(s->cache) >= CACHE_MAX_ENTRIES)
			cache_clear(s);
		json_t *copy = peek ? json_incref(*out) : json_deep_copy(*out);
		if (s->cache && copy)
			json_object_set_new(s->cache, k, copy);
		else
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
	char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return LD_ENOMEM;
	cache_drop(s, kind, scope, key);
	if (!s->in_tx)
		disk_guard(s->disk);
	int rc = s->ops->put(s, kind, scope, key, text, strlen(text));
	free(text);
	return rc;
}
