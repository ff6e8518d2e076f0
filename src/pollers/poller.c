/*
 * poller.c - what the pollers of every source share (poller.h).
 */
#include "pollers/poller.h"
#include "records/records.h"

#include <jansson.h>
#include <stdio.h>

void poller_result(server_t *srv, const char *scope, const char *uuid, const char *what)
{
	json_t *doc = NULL;
	if (rec_get(srv->store, REC_ESM, scope, uuid, &doc) == 0) {
		json_object_set_new(doc, "LastProcessingResult", json_string(what));
		if (rec_put(srv->store, REC_ESM, scope, uuid, doc))
			fprintf(stderr, "lambdad: the LastProcessingResult of %s could not be stored\n", uuid);
	}
	json_decref(doc);
}
