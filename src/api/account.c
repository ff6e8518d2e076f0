/*
 * account.c - GetAccountSettings.
 *
 * Limits are lambdad's configuration (the account concurrency limit) and
 * AWS's fixed quotas; usage is counted from the store: the number of
 * functions and the code size of every version and layer version, as AWS
 * counts TotalCodeSize.
 * UnreservedConcurrentExecutions comes from concurrency.c's accounting.
 */
#include "api/api.h"
#include "api/layers.h"
#include "quotas.h"
#include "store/store.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>

struct usage {
	json_int_t functions;
	json_int_t code;
};

static int count_fn(void *ud, const char *key, const char *doc, size_t len)
{
	struct usage *u = ud;
	u->functions++;
	return 0;
}

static int count_ver(void *ud, const char *key, const char *doc, size_t len)
{
	struct usage *u = ud;
	json_error_t err;
	json_t *c = json_loadb(doc, len, 0, &err);
	u->code += json_integer_value(json_object_get(c, "CodeSize"));
	json_decref(c);
	return 0;
}

int api_get_account_settings(req_t *r)
{
	char scope[96];
	struct usage u = { 0, 0 };
	int rc;
	snprintf(scope, sizeof(scope), "%s:%s", r->account, r->region);
	if ((rc = rec_list(r->srv->store, REC_FUNCTION, scope, NULL, NULL, 0, count_fn, &u)) ||
	    (rc = rec_list(r->srv->store, REC_VERSION, scope, NULL, NULL, 0, count_ver, &u)))
		return rc;
	json_int_t layers_size;
	if ((rc = layers_code_size(r, scope, &layers_size)))
		return rc;
	u.code += layers_size;
	json_int_t limit = r->srv->account_concurrency, unreserved;
	if ((rc = concurrency_unreserved(r, scope, &unreserved)))
		return rc;
	r->out = json_pack("{s:{s:I,s:I,s:I,s:I,s:I},s:{s:I,s:I}}", "AccountLimit", "TotalCodeSize",
			   (json_int_t)QUOTA_CODE_STORAGE, "CodeSizeUnzipped", (json_int_t)QUOTA_UNZIPPED, "CodeSizeZipped",
			   (json_int_t)QUOTA_ZIP, "ConcurrentExecutions", limit, "UnreservedConcurrentExecutions",
			   unreserved, "AccountUsage", "TotalCodeSize", u.code, "FunctionCount", u.functions);
	return r->out ? 0 : LD_ENOMEM;
}
