/*
 * door.c - resolve the target of an invocation and run it (door.h).
 */
#include "exec/door.h"
#include "exec/env.h"
#include "metrics/metrics.h"
#include "records/records.h"
#include "util/arn.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An invocation on its way through, for its metrics (metrics/metrics.h):
 * the caller's callback runs after they are recorded. */
struct tracked {
	exec_done_fn done;
	void *ud;
	server_t *srv;
	char scope[96], name[160], qualifier[160], version[24];
};

static void tracked_done(void *ud, struct exec_result *res)
{
	struct tracked *t = ud;
	metrics_on_concurrency(t->srv->metrics, t->scope, t->name, -1, -1);
	if (res->ok)
		metrics_on_invoked(t->srv->metrics, t->scope, t->name, t->qualifier, t->version, res->function_error != NULL,
				   res->duration_ms);
	t->done(t->ud, res);
	free(t);
}

/* the configuration that runs: the qualifier's, or the version an alias's
 * weights pick */
static int resolve(server_t *srv, struct door_call *c, ld_error_t *err)
{
	const char *q = c->qualifier && *c->qualifier ? c->qualifier : "$LATEST";
	json_t *cfg = NULL, *alias = NULL;
	char arn[512];
	int rc = rec_config(srv->store, c->scope, c->name, q, REC_PEEK, &cfg, &alias);
	if (rc == 0 && alias) {
		const char *target = rec_alias_route(alias);
		const char *primary = json_string_value(json_object_get(cfg, "Version"));
		if (primary && strcmp(target, primary) != 0) {
			json_decref(cfg);
			rc = rec_version_get(srv->store, c->scope, c->name, target, REC_PEEK, &cfg);
		}
	}
	json_decref(alias);
	if (rc == LD_ENOTFOUND) {
		arn_function(arn, sizeof(arn), c->scope, c->name, q);
		return ld_error_set(err, "ResourceNotFoundException", "Function not found: %s", arn);
	}
	if (rc)
		return rc;
	const char *version = json_string_value(json_object_get(cfg, "Version"));
	snprintf(c->version, sizeof(c->version), "%s", version ? version : "$LATEST");
	c->config = cfg;
	/* AWS refuses to invoke a version that is not Active (Pending, Inactive, Failed) */
	const char *state = json_string_value(json_object_get(cfg, "State"));
	if (state && strcmp(state, "Active") != 0)
		return ld_error_set(err, "ResourceConflictException",
				    "The operation cannot be performed at this time. The function is currently in the "
				    "following state: %s",
				    state);
	return 0;
}

int door_invoke(server_t *srv, struct door_call *c, exec_done_fn done, void *ud, ld_error_t *err)
{
	c->version[0] = '\0';
	c->config = NULL;
	int rc = resolve(srv, c, err);
	if (!rc && c->check)
		rc = c->check(c->check_ud, c);
	if (rc || c->resolve_only)
		return rc;
	char invoked[512];
	arn_function(invoked, sizeof(invoked), c->scope, c->name, c->qualifier);
	const char *reason = NULL;
	struct exec_request in = {
		.scope = c->scope, .name = c->name, .version = c->version, .cfg = c->config,
		.invoked_arn = invoked, .payload = c->payload, .payload_len = c->payload_len, .payload_buf = c->payload_buf,
		.client_context = c->client_context, .want_tail = c->want_tail, .request_id = c->request_id,
		.throttle_reason = &reason, .on_chunk = c->on_chunk,
	};
	struct tracked *t = srv->metrics ? calloc(1, sizeof(*t)) : NULL;
	if (t) {
		*t = (struct tracked){ .done = done, .ud = ud, .srv = srv };
		snprintf(t->scope, sizeof(t->scope), "%s", c->scope);
		snprintf(t->name, sizeof(t->name), "%s", c->name);
		snprintf(t->qualifier, sizeof(t->qualifier), "%s", c->qualifier ? c->qualifier : "");
		snprintf(t->version, sizeof(t->version), "%s", c->version);
	}
	rc = t ? exec_invoke(srv, &in, tracked_done, t) : exec_invoke(srv, &in, done, ud);
	if (t && rc)
		free(t);
	if (t && !rc) {
		long unreserved = -1;
		if (srv->exec)
			quota_unreserved(srv->exec->quota, c->scope, &unreserved);
		metrics_on_concurrency(srv->metrics, c->scope, c->name, 1, unreserved);
	}
	if (rc == LD_ETHROTTLED)
		metrics_on_throttled(srv->metrics, c->scope, c->name, c->qualifier);
	if (rc == LD_ETHROTTLED) {
		ld_error_set(err, "TooManyRequestsException", "Rate Exceeded.");
		err->reason = reason ? reason : EXEC_THROTTLE_ACCOUNT;
	}
	return rc;
}
