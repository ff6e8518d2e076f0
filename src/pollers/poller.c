/*
 * poller.c - what the pollers of every source share (poller.h).
 */
#include "pollers/poller.h"
#include "records/records.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

void poller_result(server_t *srv, const char *scope, const char *uuid, char *last, const char *what)
{
	if (!strcmp(last, what))
		return;
	snprintf(last, POLLER_RESULT_MAX, "%s", what);
	json_t *doc = NULL;
	if (rec_get(srv->store, REC_ESM, scope, uuid, &doc) == 0) {
		json_object_set_new(doc, "LastProcessingResult", json_string(what));
		if (rec_put(srv->store, REC_ESM, scope, uuid, doc))
			fprintf(stderr, "lambdad: the LastProcessingResult of %s could not be stored\n", uuid);
	}
	json_decref(doc);
}

void poller_function(const char *name_qualifier, char *name, size_t ncap, char *qualifier, size_t qcap)
{
	const char *colon = strchr(name_qualifier, ':');
	size_t n = colon ? (size_t)(colon - name_qualifier) : strlen(name_qualifier);
	snprintf(name, ncap, "%.*s", (int)n, name_qualifier);
	snprintf(qualifier, qcap, "%s", colon ? colon + 1 : "");
}

int poller_int(json_t *doc, const char *key, int dflt)
{
	json_t *v = json_object_get(doc, key);
	return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

const char *poller_mq_broker(server_t *srv, const char *broker_id, const char *endpoint_host)
{
	for (const char *const *m = srv->mq_brokers; m && *m; m++) {
		const char *eq = strchr(*m, '=');
		size_t k = eq ? (size_t)(eq - *m) : 0;
		if (!eq)
			continue;
		if ((strlen(broker_id) == k && !strncmp(*m, broker_id, k)) ||
		    (endpoint_host && strlen(endpoint_host) == k && !strncmp(*m, endpoint_host, k)))
			return eq + 1;
	}
	return NULL;
}

json_t *poller_filters(json_t *doc)
{
	json_t *fc = json_object_get(doc, "FilterCriteria");
	return json_array_size(json_object_get(fc, "Filters")) ? json_deep_copy(fc) : NULL;
}

int poller_reports_failures(json_t *doc)
{
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(doc, "FunctionResponseTypes"), i, t)
		if (json_string_value(t) && !strcmp(json_string_value(t), "ReportBatchItemFailures"))
			return 1;
	return 0;
}
