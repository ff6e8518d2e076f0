/*
 * urls.h - function URL configs: the lookup that serving URLs needs.
 *
 * urls.c implements the CreateFunctionUrlConfig family (api.h). Every URL
 * config has a url id (32 lowercase letters and digits, as AWS's), recorded
 * in a global index (kind "urlid", scope "", key URL_ID ->
 * {"scope","name","qualifier"}) so that a request arriving at
 * http://<url-id>.lambda-url.<region>.localhost:<port>/ or at
 * http://127.0.0.1:<port>/_lambdad/url/<url-id>/ finds its function
 * (docs/urls.md).
 */
#ifndef LD_URLS_H
#define LD_URLS_H

#include <jansson.h>

#include "server.h"

/*
 * Finds the URL config of url_id. On success *config is a new reference
 * owned by the caller: the config in AWS's FunctionUrlConfig shape (but
 * without FunctionUrl, which handlers make from the id) plus the internal
 * fields "_UrlId", "_Scope" ("ACCOUNT:REGION"), "_Name" (the
 * function) and "_Qualifier" ("" for the unqualified function, else an
 * alias). Returns 0, LD_ENOTFOUND when no config has that id, or another
 * negative LD_E* code from the store.
 */
int urls_find(server_t *srv, const char *url_id, json_t **config);

#endif
