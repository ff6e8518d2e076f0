/*
 * store.c - backend selection and the JSON conveniences of the store (store.h).
 */
#include "store/store.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

int store_open(const char *backend, const char *data_dir, store_t **out)
{
	if (!backend || !strcmp(backend, "sqlite"))
		return store_sqlite_ops.open(data_dir, out);
	return LD_EINVAL;
}

void store_close(store_t *s)
{
	if (s)
		s->ops->close(s);
}

int store_begin(store_t *s) { return s->ops->begin(s); }
int store_commit(store_t *s) { return s->ops->commit(s); }
void store_rollback(store_t *s) { s->ops->rollback(s); }

int store_del(store_t *s, const char *kind, const char *scope, const char *key)
{
	return s->ops->del(s, kind, scope, key);
}

int store_del_prefix(store_t *s, const char *kind, const char *scope, const char *prefix)
{
	return s->ops->del_prefix(s, kind, scope, prefix);
}

int store_list(store_t *s, const char *kind, const char *scope, const char *prefix,
	       const char *after, int limit, store_iter_fn fn, void *ud)
{
	return s->ops->list(s, kind, scope, prefix, after, limit, fn, ud);
}

int store_get_json(store_t *s, const char *kind, const char *scope, const char *key, json_t **out)
{
	char *doc = NULL;
	size_t len = 0;
	int rc = s->ops->get(s, kind, scope, key, &doc, &len);
	if (rc)
		return rc;
	json_error_t err;
	*out = json_loadb(doc, len, 0, &err);
	free(doc);
	return *out ? 0 : LD_ECORRUPT;
}

int store_put_json(store_t *s, const char *kind, const char *scope, const char *key, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return LD_ENOMEM;
	int rc = s->ops->put(s, kind, scope, key, text, strlen(text));
	free(text);
	return rc;
}
