/*
 * versions.h - publishing and deleting function versions (used by
 * functions.c for Publish=true and by the PublishVersion handler), and the
 * shape of versions in lists.
 */
#ifndef LD_VERSIONS_H
#define LD_VERSIONS_H

#include <jansson.h>

#include "api/lookup.h"
#include "req.h"

/*
 * Publishes `latest` as the next version number inside the caller's store
 * transaction: writes the version record, bumps meta's counter (the caller
 * stores meta) and clears latest's changed mark (the caller stores latest).
 * description NULL copies $LATEST's. *published (new reference) is the
 * version's stored record.
 */
int versions_publish(req_t *r, const struct fnref *ref, json_t *meta, json_t *latest, const char *description,
		     json_t **published);

/* Marks $LATEST's record (not yet stored) as changed by an update: the next
 * PublishVersion publishes a new version whatever its content. */
void versions_mark_changed(json_t *latest);

/* Deletes a published version (idempotent: an absent one is not an error). */
int versions_delete(req_t *r, const struct fnref *ref, const char *version);

/* A configuration as list items show it (no State, LastUpdateStatus or
 * RuntimeVersionConfig). New reference. */
json_t *versions_list_item(json_t *cfg);

/* page_map_fn for "ver" records (ListFunctions with FunctionVersion=ALL,
 * ListVersionsByFunction): the list item, with $LATEST's FunctionArn
 * qualified ":$LATEST" as AWS lists it. Modifies cfg; new reference. */
json_t *versions_list_entry(void *ud, const char *key, json_t *cfg);

#endif
