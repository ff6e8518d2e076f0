/*
 * paging.h - Marker/MaxItems paging, shared by every List* handler.
 *
 * Every Lambda list answers {"<Member>": [...], "NextMarker": "..."}: at most
 * MaxItems items (AWS's maximum, per list, when MaxItems is absent or
 * larger), starting after the request's Marker, with NextMarker (the key of
 * the last item answered) only when at least one more item follows.
 *
 *	struct page p;
 *	page_init(&p, r, 50);
 *	rc = page_list(&p, r, REC_ALIAS, scope, prefix, map_fn, ud);
 *	rc = rc ? rc : page_answer(&p, r, "Aliases");
 *	page_free(&p);
 *
 * Lists that do not walk one store kind in key order (newest first, two
 * levels, a raw pre-filter) feed page_add() themselves.
 */
#ifndef LD_API_PAGING_H
#define LD_API_PAGING_H

#include <jansson.h>

#include "records/records.h"
#include "req.h"

struct page {
	json_t *items;       /* owned by the page until page_answer (NULL: out of memory) */
	const char *marker;  /* the request's Marker, NULL when absent or empty (borrowed from r->in) */
	int limit;           /* items per page */
	int more;            /* set when an item beyond the limit was offered */
	int marker_first;    /* page_answer puts NextMarker before the items (set by the caller) */
	char last[400];      /* key of the last item taken: the NextMarker */
};

/* Reads MaxItems and Marker from r->in: the limit is MaxItems when it is
 * 1..max-1, else max (each list's default page is its maximum). Allocates
 * the items array; an allocation failure surfaces as LD_ENOMEM from
 * page_list/page_answer. */
void page_init(struct page *p, req_t *r, int max);

/* 1 when the page already holds `limit` items: sets more, and the caller
 * should stop offering items. 0 otherwise. */
int page_full(struct page *p);

/* Offers one item (a new reference, always consumed). When the page is full
 * the item is released, more is set and 1 returned (stop); otherwise it is
 * appended, key becomes the NextMarker candidate, and 0 is returned. */
int page_add(struct page *p, json_t *item, const char *key);

/* Maps one listed record to its item. doc is the parsed record, owned by
 * page_list (the map may modify it); return a new reference (json_incref(doc)
 * to keep it as it is) or NULL to skip the record. */
typedef json_t *(*page_map_fn)(void *ud, const char *key, json_t *doc);

/* Lists (kind, scope) keys starting with prefix (NULL: all) after the
 * Marker, in key order, through map (NULL: keep each record as stored) into
 * page_add until the page is full. Records that are not JSON are skipped.
 * 0, LD_ENOMEM, or the store's error. */
int page_list(struct page *p, req_t *r, enum rec_kind kind, const char *scope, const char *prefix, page_map_fn map,
	      void *ud);

/* Sets r->out to {member: items, "NextMarker": last (when more)}; the items
 * move into r->out. 0 or LD_ENOMEM. */
int page_answer(struct page *p, req_t *r, const char *member);

/* Releases what page_answer did not take. Safe to call twice. */
void page_free(struct page *p);

#endif
