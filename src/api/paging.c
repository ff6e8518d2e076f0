/*
 * paging.c - one page of a List* answer: MaxItems, Marker, the store walk
 * and NextMarker (see paging.h).
 */
#include "api/paging.h"
#include "records/records.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

void page_init(struct page *p, req_t *r, int max)
{
	json_int_t n = json_integer_value(json_object_get(r->in, "MaxItems"));
	const char *m = json_string_value(json_object_get(r->in, "Marker"));
	p->items = json_array();
	p->marker = m && *m ? m : NULL;
	p->limit = n > 0 && n < max ? (int)n : max;
	p->more = 0;
	p->marker_first = 0;
	p->last[0] = '\0';
}

int page_full(struct page *p)
{
	if ((int)json_array_size(p->items) < p->limit)
		return 0;
	p->more = 1;
	return 1;
}

int page_add(struct page *p, json_t *item, const char *key)
{
	if (page_full(p)) {
		json_decref(item);
		return 1;
	}
	json_array_append_new(p->items, item);
	size_t n = strnlen(key, sizeof(p->last) - 1); /* as snprintf "%s" would, at a fraction of its cost */
	memcpy(p->last, key, n);
	p->last[n] = '\0';
	return 0;
}

struct walk {
	struct page *p;
	page_map_fn map;
	void *ud;
};

static int walk_cb(void *ud, const char *key, const char *text, size_t len)
{
	struct walk *w = ud;
	json_error_t err;
	json_t *doc = json_loadb(text, len, 0, &err);
	if (!doc)
		return 0;
	json_t *item = w->map ? w->map(w->ud, key, doc) : json_incref(doc);
	json_decref(doc);
	return item ? page_add(w->p, item, key) : 0;
}

int page_list(struct page *p, req_t *r, enum rec_kind kind, const char *scope, const char *prefix, page_map_fn map,
	      void *ud)
{
	struct walk w = { p, map, ud };
	if (!p->items)
		return LD_ENOMEM;
	return rec_list(r->srv->store, kind, scope, prefix, p->marker, 0, walk_cb, &w);
}

int page_answer(struct page *p, req_t *r, const char *member)
{
	json_t *out = json_object();
	if (!out || !p->items) {
		json_decref(out);
		return LD_ENOMEM;
	}
	if (p->more && p->marker_first)
		json_object_set_new(out, "NextMarker", json_string(p->last));
	json_object_set_new(out, member, p->items);
	p->items = NULL;
	if (p->more && !p->marker_first)
		json_object_set_new(out, "NextMarker", json_string(p->last));
	json_decref(r->out);
	r->out = out;
	return 0;
}

void page_free(struct page *p)
{
	json_decref(p->items);
	p->items = NULL;
}
