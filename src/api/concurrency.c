/*
 * concurrency.c - reserved and provisioned concurrency:
 * PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency,
 * PutProvisionedConcurrencyConfig, GetProvisionedConcurrencyConfig,
 * DeleteProvisionedConcurrencyConfig, ListProvisionedConcurrencyConfigs.
 *
 * Reserved concurrency is the field ReservedConcurrentExecutions of the
 * function's "fn" record (GetFunction shows it as Concurrency). A provisioned
 * concurrency config is a "pcc" record keyed NAME/QUALIFIER (a published
 * version or an alias; lookup.c deletes it with its function, version or
 * alias) holding AWS's fields plus the qualified FunctionArn.
 *
 * Accounting, as AWS does it: the account limit is the server's
 * --account-concurrency; a function uses its reserved concurrency when it
 * has one, else the sum of its provisioned concurrency; what the functions
 * use is taken from the limit to give UnreservedConcurrentExecutions
 * (concurrency_unreserved, also used by GetAccountSettings), which must stay
 * at 100 or more. Provisioned concurrency of a function with reserved
 * concurrency must fit within the reservation.
 *
 * Execution follows the records (concurrency_sync): exec is told each
 * function's reservation, and starts the environments of every provisioned
 * configuration (exec_provision) for its version, or the version its alias
 * points at. PutProvisionedConcurrencyConfig answers IN_PROGRESS with nothing
 * allocated, as AWS does; when exec reports every environment initialised
 * the record becomes READY (allocated = available = requested), or FAILED
 * with AWS's StatusReason FUNCTION_ERROR_INIT_FAILURE when one failed. A
 * report for an older write of the record (its _ModifiedMs) is ignored.
 * Deleting the configuration, its function, version or alias, or moving the
 * alias (concurrency_sync from aliases.c and functions.c) releases or moves
 * the environments; at start-up concurrency_restore starts them again.
 */
#include "api/api.h"
#include "api/lookup.h"
#include "api/paging.h"
#include "exec/exec.h"
#include "loop.h"
#include "model/apierr.h"
#include "store/store.h"
#include "util/err.h"
#include "util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_UNRESERVED 100 /* AWS keeps this much for functions without reservations */
#define PCC_LIST_MAX 50

/* ---- accounting ---- */

struct usage {
	json_t *reserved; /* function name -> reserved concurrency */
	json_t *prov;     /* function name -> sum of requested provisioned concurrency */
	const char *skip_key; /* a pcc key left out of prov (the one being replaced) */
};

static int usage_fn(void *ud, const char *key, const char *doc, size_t len)
{
	struct usage *u = ud;
	json_error_t err;
	if (!memmem(doc, len, "\"ReservedConcurrentExecutions\"", 30))
		return 0;
	json_t *m = json_loadb(doc, len, 0, &err);
	json_t *v = json_object_get(m, "ReservedConcurrentExecutions");
	if (json_is_integer(v))
		json_object_set(u->reserved, key, v);
	json_decref(m);
	return 0;
}

static int usage_pcc(void *ud, const char *key, const char *doc, size_t len)
{
	struct usage *u = ud;
	json_error_t err;
	if (u->skip_key && !strcmp(key, u->skip_key))
		return 0;
	const char *slash = strchr(key, '/');
	if (!slash)
		return 0;
	char name[160];
	snprintf(name, sizeof(name), "%.*s", (int)(slash - key), key);
	json_t *p = json_loadb(doc, len, 0, &err);
	json_int_t n = json_integer_value(json_object_get(p, "RequestedProvisionedConcurrentExecutions"));
	json_decref(p);
	json_object_set_new(u->prov, name, json_integer(json_integer_value(json_object_get(u->prov, name)) + n));
	return 0;
}

/* Loads the account's usage; skip_key (or NULL) is a pcc record to leave out. */
static int usage_load(req_t *r, const char *scope, const char *skip_key, struct usage *u)
{
	int rc;
	u->reserved = json_object();
	u->prov = json_object();
	u->skip_key = skip_key;
	if ((rc = rec_list(r->srv->store, REC_FUNCTION, scope, NULL, NULL, 0, usage_fn, u)) ||
	    (rc = rec_list(r->srv->store, REC_PROVISIONED, scope, NULL, NULL, 0, usage_pcc, u)))
		return rc;
	return 0;
}

static void usage_free(struct usage *u)
{
	json_decref(u->reserved);
	json_decref(u->prov);
}

/* what the account's functions use, leaving out the function `except` */
static json_int_t usage_others(const struct usage *u, const char *except)
{
	json_int_t sum = 0;
	const char *k;
	json_t *v;
	json_object_foreach(u->reserved, k, v)
		if (!except || strcmp(k, except) != 0)
			sum += json_integer_value(v);
	json_object_foreach(u->prov, k, v)
		if ((!except || strcmp(k, except) != 0) && !json_object_get(u->reserved, k))
			sum += json_integer_value(v);
	return sum;
}

int concurrency_unreserved(req_t *r, const char *scope, json_int_t *out)
{
	struct usage u;
	int rc = usage_load(r, scope, NULL, &u);
	if (!rc)
		*out = (json_int_t)r->srv->account_concurrency - usage_others(&u, NULL);
	usage_free(&u);
	return rc;
}

/* ---- reserved concurrency ---- */

/* FunctionName must name the function itself */
static int unqualified_ref(req_t *r, struct fnref *ref)
{
	int rc = lookup_ref_in(r, ref);
	if (!rc && ref->qualifier[0])
		rc = apierr_set(r, "InvalidParameterValueException",
				"This operation is permitted on Lambda functions only. Aliases and versions do not "
				"support this operation. Please specify either a function name or an unqualified "
				"function ARN.");
	return rc;
}

/* the function record for Put/Delete: AWS names $LATEST when it is missing */
static int load_fn_latest(req_t *r, const struct fnref *ref, json_t **meta)
{
	int rc = rec_get(r->srv->store, REC_FUNCTION, ref->scope, ref->name, meta);
	if (rc == LD_ENOTFOUND) {
		char arn[400];
		lookup_arn(ref, "$LATEST", arn, sizeof(arn));
		return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
	}
	return rc;
}

int api_put_function_concurrency(req_t *r)
{
	struct fnref ref;
	struct usage u = { 0 };
	json_t *meta = NULL;
	json_int_t want = json_integer_value(json_object_get(r->in, "ReservedConcurrentExecutions"));
	int rc;
	if ((rc = unqualified_ref(r, &ref)) || (rc = load_fn_latest(r, &ref, &meta)) ||
	    (rc = usage_load(r, ref.scope, NULL, &u)))
		goto out;
	json_int_t prov = json_integer_value(json_object_get(u.prov, ref.name));
	if (want < prov) {
		rc = apierr_untyped(r, apierr_set(r, "InvalidParameterValueException",
						  " ReservedConcurrentExecutions  %lld should not be lower than "
						  "function's total provisioned concurrency [%lld].",
						  (long long)want, (long long)prov));
		goto out;
	}
	if ((json_int_t)r->srv->account_concurrency - usage_others(&u, ref.name) - want < MIN_UNRESERVED) {
		rc = apierr_untyped(r, apierr_set(r, "InvalidParameterValueException",
						  "Specified ReservedConcurrentExecutions for function decreases "
						  "account's UnreservedConcurrentExecution below its minimum value of "
						  "[%d].",
						  MIN_UNRESERVED));
		goto out;
	}
	json_object_set_new(meta, "ReservedConcurrentExecutions", json_integer(want));
	if ((rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
		goto out;
	exec_set_reserved(r->srv, ref.scope, ref.name, (int)want);
	r->out = json_pack("{s:I}", "ReservedConcurrentExecutions", want);
out:
	usage_free(&u);
	json_decref(meta);
	return rc;
}

int api_get_function_concurrency(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc;
	if ((rc = unqualified_ref(r, &ref)) || (rc = lookup_function_peek(r, &ref, &meta)))
		goto out;
	json_t *v = json_object_get(meta, "ReservedConcurrentExecutions");
	/* no reservation: an empty object (AWS) */
	r->out = v ? json_pack("{s:O}", "ReservedConcurrentExecutions", v) : json_object();
out:
	json_decref(meta);
	return rc;
}

int api_delete_function_concurrency(req_t *r)
{
	struct fnref ref;
	json_t *meta = NULL;
	int rc;
	if ((rc = unqualified_ref(r, &ref)) || (rc = load_fn_latest(r, &ref, &meta)))
		goto out;
	if (json_object_get(meta, "ReservedConcurrentExecutions")) {
		json_object_del(meta, "ReservedConcurrentExecutions");
		if ((rc = rec_function_put(r->srv->store, ref.scope, ref.name, meta)))
			goto out;
		exec_set_reserved(r->srv, ref.scope, ref.name, -1);
	}
	r->status = 204;
out:
	json_decref(meta);
	return rc;
}

/* ---- provisioned concurrency ---- */

/* a provisioned concurrency target: a published version or an alias */
struct target {
	struct fnref ref;
	char key[400];     /* pcc key NAME/QUALIFIER */
	char version[160]; /* the version it is (or the alias points at) */
	int is_alias;
};

/* Resolves FunctionName + Qualifier with AWS's errors; latest_msg is the
 * action's message for $LATEST. */
static int target_resolve(req_t *r, struct target *t, const char *latest_msg)
{
	char key[400], arn[400];
	json_t *doc = NULL;
	int rc;
	memset(t, 0, sizeof(*t));
	if ((rc = lookup_ref_in(r, &t->ref)))
		return rc;
	const char *q = t->ref.qualifier;
	if (!*q || !strcmp(q, "$LATEST"))
		return apierr_set(r, "InvalidParameterValueException", "%s", latest_msg);
	lookup_arn(&t->ref, q, arn, sizeof(arn));
	snprintf(t->key, sizeof(t->key), "%s/%s", t->ref.name, q);
	if (rec_is_version(q)) {
		rec_version_key(t->ref.name, q, key, sizeof(key));
		rc = rec_peek(r->srv->store, REC_VERSION, t->ref.scope, key, &doc);
		if (rc == LD_ENOTFOUND)
			return apierr_set(r, "ResourceNotFoundException", "Function not found: %s", arn);
		snprintf(t->version, sizeof(t->version), "%s", q);
	} else {
		rc = rec_peek(r->srv->store, REC_ALIAS, t->ref.scope, t->key, &doc);
		if (rc == LD_ENOTFOUND)
			return apierr_set(r, "ResourceNotFoundException", "Cannot find alias arn: %s", arn);
		const char *v = json_string_value(json_object_get(doc, "FunctionVersion"));
		snprintf(t->version, sizeof(t->version), "%s", v ? v : "$LATEST");
		t->is_alias = 1;
	}
	json_decref(doc);
	return rc;
}

static void pcc_time(char out[29])
{
	char t[29];
	ids_time_lambda(loop_wall_ms(), t);
	/* "2019-12-31T20:28:49+0000": AWS prints these without milliseconds */
	snprintf(out, 29, "%.19s+0000", t);
}

/* ---- execution follows the records ---- */

/* exec's report on a configuration: READY or FAILED, for the write it was
 * started for (a newer write starts its own) */
static void pcc_report(server_t *srv, const char *scope, const char *key, int64_t token, int ready,
		       const char *failure)
{
	json_t *doc = NULL;
	int rc = rec_get(srv->store, REC_PROVISIONED, scope, key, &doc);
	if (rc || json_integer_value(json_object_get(doc, "_ModifiedMs")) != token) {
		json_decref(doc);
		return;
	}
	const char *st = json_string_value(json_object_get(doc, "Status"));
	const char *want = failure ? "FAILED" : "READY";
	if (st && !strcmp(st, want) &&
	    json_integer_value(json_object_get(doc, "AllocatedProvisionedConcurrentExecutions")) == ready) {
		json_decref(doc);
		return; /* nothing changed (a restart) */
	}
	json_object_set_new(doc, "AllocatedProvisionedConcurrentExecutions", json_integer(ready));
	json_object_set_new(doc, "AvailableProvisionedConcurrentExecutions", json_integer(ready));
	json_object_set_new(doc, "Status", json_string(want));
	if (failure)
		json_object_set_new(doc, "StatusReason", json_string(failure));
	else
		json_object_del(doc, "StatusReason");
	if ((rc = rec_put(srv->store, REC_PROVISIONED, scope, key, doc)))
		fprintf(stderr, "lambdad: provisioning %s: %s\n", key, ld_strerror(rc));
	json_decref(doc);
}

struct sync {
	server_t *srv;
	const char *scope;
	const char *name;
	json_t *keys; /* the configurations the store holds */
};

static int sync_pcc(void *ud, const char *key, const char *text, size_t len)
{
	struct sync *c = ud;
	json_error_t err;
	char vkey[400];
	json_t *doc = json_loadb(text, len, 0, &err), *alias = NULL, *cfg = NULL;
	const char *q = strchr(key, '/');
	const char *st = json_string_value(json_object_get(doc, "Status"));
	if (!doc || !q || (st && !strcmp(st, "FAILED")))
		goto out; /* a failed configuration keeps nothing until it is put again */
	q++;
	const char *version = q;
	if (!rec_is_version(q)) {
		if (rec_peek(c->srv->store, REC_ALIAS, c->scope, key, &alias))
			goto out;
		version = json_string_value(json_object_get(alias, "FunctionVersion"));
		if (!version)
			goto out;
	}
	rec_version_key(c->name, version, vkey, sizeof(vkey));
	if (rec_peek(c->srv->store, REC_VERSION, c->scope, vkey, &cfg))
		goto out;
	struct exec_request in = { .scope = c->scope, .name = c->name, .version = version, .cfg = cfg };
	int n = (int)json_integer_value(json_object_get(doc, "RequestedProvisionedConcurrentExecutions"));
	int rc = exec_provision(c->srv, &in, key, n, json_integer_value(json_object_get(doc, "_ModifiedMs")),
				pcc_report);
	if (rc && rc != LD_EIO)
		fprintf(stderr, "lambdad: provisioning %s: %s\n", key, ld_strerror(rc));
	json_object_set_new(c->keys, key, json_true());
out:
	json_decref(cfg);
	json_decref(alias);
	json_decref(doc);
	return 0;
}

static void sync_release(void *ud, const char *key)
{
	struct sync *c = ud;
	if (!json_object_get(c->keys, key))
		exec_unprovision(c->srv, c->scope, key);
}

void concurrency_sync(server_t *srv, const char *scope, const char *name)
{
	json_t *fn = NULL;
	char prefix[200];
	int reserved = -1;
	if (!rec_function_get(srv->store, scope, name, REC_PEEK, &fn)) {
		json_t *v = json_object_get(fn, "ReservedConcurrentExecutions");
		if (json_is_integer(v))
			reserved = (int)json_integer_value(v);
	}
	json_decref(fn);
	exec_set_reserved(srv, scope, name, reserved);
	struct sync c = { srv, scope, name, json_object() };
	snprintf(prefix, sizeof(prefix), "%s/", name);
	if (c.keys)
		rec_list(srv->store, REC_PROVISIONED, scope, prefix, NULL, 0, sync_pcc, &c);
	exec_provisioned_keys(srv, scope, name, sync_release, &c);
	json_decref(c.keys);
}

/* start-up: every function with a reservation or a provisioned configuration */
struct restore {
	server_t *srv;
	json_t *names; /* of the scope being walked */
	json_t *all;   /* scope -> {name: true} */
};

static int restore_fn(void *ud, const char *key, const char *doc, size_t len)
{
	struct restore *c = ud;
	if (memmem(doc, len, "\"ReservedConcurrentExecutions\"", 30))
		json_object_set_new(c->names, key, json_true());
	return 0;
}

static int restore_pcc(void *ud, const char *key, const char *doc, size_t len)
{
	struct restore *c = ud;
	const char *slash = strchr(key, '/');
	if (slash)
		json_object_setn_new(c->names, key, (size_t)(slash - key), json_true());
	return 0;
}

static int restore_scope(struct restore *c, const char *scope, enum rec_kind kind, store_iter_fn fn)
{
	if (!(c->names = json_object_get(c->all, scope)))
		json_object_set_new(c->all, scope, c->names = json_object());
	return rec_list(c->srv->store, kind, scope, NULL, NULL, 0, fn, c);
}

static int restore_scope_fn(void *ud, const char *scope, const char *doc, size_t len)
{
	return restore_scope(ud, scope, REC_FUNCTION, restore_fn);
}

static int restore_scope_pcc(void *ud, const char *scope, const char *doc, size_t len)
{
	return restore_scope(ud, scope, REC_PROVISIONED, restore_pcc);
}

int concurrency_restore(server_t *srv)
{
	struct restore c = { srv, NULL, json_object() };
	if (!c.all)
		return LD_ENOMEM;
	int rc = rec_scopes(srv->store, REC_FUNCTION, restore_scope_fn, &c);
	if (!rc)
		rc = rec_scopes(srv->store, REC_PROVISIONED, restore_scope_pcc, &c);
	const char *scope, *name;
	json_t *names, *v;
	json_object_foreach(c.all, scope, names)
		json_object_foreach(names, name, v)
			concurrency_sync(srv, scope, name);
	json_decref(c.all);
	return rc;
}

/* the response shape: the record without FunctionArn (new reference) */
static json_t *pcc_public(json_t *doc)
{
	json_t *o = lookup_public(doc);
	json_object_del(o, "FunctionArn");
	return o;
}

/* conflicts between an alias and the version it points at */
struct conflict {
	req_t *r;
	const struct target *t;
	int hit;
	int rc;
};

static int conflict_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct conflict *c = ud;
	const struct target *t = c->t;
	if (!strcmp(key, t->key))
		return 0;
	const char *q = key + strlen(t->ref.name) + 1;
	if (rec_is_version(q)) {
		/* a version's own config conflicts with an alias on it */
		if (t->is_alias && !strcmp(q, t->version))
			c->hit = 1;
		return c->hit;
	}
	json_t *alias = NULL;
	int rc = rec_peek(c->r->srv->store, REC_ALIAS, t->ref.scope, key, &alias);
	if (rc) {
		c->rc = rc == LD_ENOTFOUND ? 0 : rc;
		return c->rc;
	}
	const char *v = json_string_value(json_object_get(alias, "FunctionVersion"));
	if (v && !strcmp(v, t->version))
		c->hit = 1;
	json_decref(alias);
	return c->hit;
}

static int check_conflicts(req_t *r, const struct target *t)
{
	char prefix[200];
	struct conflict c = { r, t, 0, 0 };
	snprintf(prefix, sizeof(prefix), "%s/", t->ref.name);
	int rc = rec_list(r->srv->store, REC_PROVISIONED, t->ref.scope, prefix, NULL, 0, conflict_cb, &c);
	if (rc || (rc = c.rc))
		return rc;
	if (!c.hit)
		return 0;
	return apierr_set(r, "ResourceConflictException", "%s",
			  t->is_alias ? "Alias can't be used for Provisioned Concurrency configuration on an already "
					"Provisioned version"
				      : "Version is pointed by a Provisioned Concurrency alias");
}

static int check_limits(req_t *r, const struct target *t, json_int_t want)
{
	struct usage u;
	int rc = usage_load(r, t->ref.scope, t->key, &u);
	if (rc)
		goto out;
	json_int_t mine = json_integer_value(json_object_get(u.prov, t->ref.name));
	json_t *reserved = json_object_get(u.reserved, t->ref.name);
	if (reserved) {
		if (mine + want > json_integer_value(reserved))
			rc = apierr_set(r, "InvalidParameterValueException",
					"Requested Provisioned Concurrency should not be greater than the "
					"reservedConcurrentExecution for function");
		goto out;
	}
	json_int_t avail = (json_int_t)r->srv->account_concurrency - usage_others(&u, t->ref.name) - mine;
	if (want > avail)
		rc = apierr_untyped(r, apierr_set(r, "InvalidParameterValueException",
						  "Specified ConcurrentExecutions for function is greater than account's "
						  "unreserved concurrency [%lld].",
						  (long long)avail));
	else if (avail - want < MIN_UNRESERVED)
		rc = apierr_untyped(r, apierr_set(r, "InvalidParameterValueException",
						  "Specified ConcurrentExecutions for function decreases account's "
						  "UnreservedConcurrentExecution below its minimum value of [%d].",
						  MIN_UNRESERVED));
out:
	usage_free(&u);
	return rc;
}

int api_put_provisioned_concurrency_config(req_t *r)
{
	struct target t;
	json_t *doc = NULL;
	json_int_t want = json_integer_value(json_object_get(r->in, "ProvisionedConcurrentExecutions"));
	int rc;
	if ((rc = target_resolve(r, &t, "Provisioned Concurrency Configs cannot be applied to unpublished function "
					"versions.")) ||
	    (rc = check_conflicts(r, &t)) || (rc = check_limits(r, &t, want)))
		goto out;
	rc = rec_get(r->srv->store, REC_PROVISIONED, t.ref.scope, t.key, &doc);
	if (rc == LD_ENOTFOUND) {
		char arn[400];
		lookup_arn(&t.ref, t.ref.qualifier, arn, sizeof(arn));
		doc = json_pack("{s:s,s:i,s:i}", "FunctionArn", arn, "AllocatedProvisionedConcurrentExecutions", 0,
				"AvailableProvisionedConcurrentExecutions", 0);
		rc = doc ? 0 : LD_ENOMEM;
	}
	if (rc)
		goto out;
	/* a change keeps what is allocated until the new amount is ready */
	char lm[29];
	int64_t now = loop_wall_ms();
	pcc_time(lm);
	json_object_set_new(doc, "RequestedProvisionedConcurrentExecutions", json_integer(want));
	json_object_set_new(doc, "Status", json_string("IN_PROGRESS"));
	json_object_del(doc, "StatusReason");
	json_object_set_new(doc, "LastModified", json_string(lm));
	json_object_set_new(doc, "_ModifiedMs", json_integer(now));
	if ((rc = rec_put(r->srv->store, REC_PROVISIONED, t.ref.scope, t.key, doc)))
		goto out;
	r->out = pcc_public(doc);
	concurrency_sync(r->srv, t.ref.scope, t.ref.name); /* starts the environments */
out:
	json_decref(doc);
	return rc;
}

int api_get_provisioned_concurrency_config(req_t *r)
{
	struct target t;
	json_t *doc = NULL;
	int rc;
	if ((rc = target_resolve(r, &t, "The function resource provided must be an alias or a published version.")))
		goto out;
	rc = rec_get(r->srv->store, REC_PROVISIONED, t.ref.scope, t.key, &doc);
	if (rc == LD_ENOTFOUND)
		rc = apierr_set(r, "ProvisionedConcurrencyConfigNotFoundException",
				"No Provisioned Concurrency Config found for this function");
	if (rc)
		goto out;
	r->out = pcc_public(doc);
out:
	json_decref(doc);
	return rc;
}

int api_delete_provisioned_concurrency_config(req_t *r)
{
	struct target t;
	int rc;
	if ((rc = target_resolve(r, &t, "The function resource provided must be an alias or a published version.")))
		return rc;
	/* deleting a config that does not exist succeeds (AWS) */
	rc = rec_del(r->srv->store, REC_PROVISIONED, t.ref.scope, t.key);
	if (rc && rc != LD_ENOTFOUND)
		return rc;
	exec_unprovision(r->srv, t.ref.scope, t.key); /* its environments go */
	r->status = 204;
	return 0;
}

static json_t *pcc_item(void *ud, const char *key, json_t *d)
{
	return json_incref(d);
}

int api_list_provisioned_concurrency_configs(req_t *r)
{
	struct fnref ref;
	struct page p;
	char prefix[200];
	int rc;
	if ((rc = lookup_ref_in(r, &ref)) || (rc = lookup_function_exists(r, &ref, NULL)))
		return rc;
	page_init(&p, r, PCC_LIST_MAX);
	snprintf(prefix, sizeof(prefix), "%s/", ref.name);
	rc = page_list(&p, r, REC_PROVISIONED, ref.scope, prefix, pcc_item, NULL);
	if (!rc)
		rc = page_answer(&p, r, "ProvisionedConcurrencyConfigs");
	page_free(&p);
	return rc;
}
