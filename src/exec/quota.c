/*
 * quota.c - concurrency accounting with running totals (quota.h).
 */
#include "exec/quota.h"
#include "exec/request.h"
#include "util/err.h"
#include "util/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct qscope {
	long reserved;     /* sum of the reservations of its functions */
	long inflight;     /* in flight, functions without a reservation */
	long provisioned;  /* provisioned units, functions without a reservation */
};

struct quota_fn {
	struct qscope *sc;
	char scope[96], name[160];
	int reserved;      /* -1: none */
	int inflight;
	int provisioned;
};

struct quota {
	int limit;
	strmap_t *fns;     /* "scope\x1fname" -> quota_fn */
	strmap_t *scopes;  /* scope -> qscope */
};

int quota_new(int limit, quota_t **out)
{
	quota_t *q = calloc(1, sizeof(*q));
	if (!q || strmap_new(&q->fns) || strmap_new(&q->scopes)) {
		if (q) {
			strmap_free(q->fns, NULL);
			free(q);
		}
		return LD_ENOMEM;
	}
	q->limit = limit;
	*out = q;
	return 0;
}

void quota_free(quota_t *q)
{
	if (!q)
		return;
	strmap_free(q->fns, free);
	strmap_free(q->scopes, free);
	free(q);
}

quota_fn_t *quota_fn(quota_t *q, const char *scope, const char *name)
{
	char key[300];
	snprintf(key, sizeof(key), "%s\x1f%s", scope, name);
	quota_fn_t *f = strmap_get(q->fns, key);
	if (f)
		return f;
	struct qscope *sc = strmap_get(q->scopes, scope);
	if (!sc) {
		if (!(sc = calloc(1, sizeof(*sc))) || strmap_put(q->scopes, scope, sc)) {
			free(sc);
			return NULL;
		}
	}
	if (!(f = calloc(1, sizeof(*f))) || strmap_put(q->fns, key, f)) {
		free(f);
		return NULL;
	}
	f->sc = sc;
	snprintf(f->scope, sizeof(f->scope), "%s", scope);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->reserved = -1;
	return f;
}

const char *quota_check(const quota_t *q, const quota_fn_t *f)
{
	if (f->reserved >= 0)
		return f->inflight + f->provisioned + 1 > f->reserved ? EXEC_THROTTLE_RESERVED : NULL;
	long pool = q->limit - f->sc->reserved - f->sc->provisioned;
	return f->sc->inflight + 1 > pool ? EXEC_THROTTLE_ACCOUNT : NULL;
}

void quota_take(quota_t *q, quota_fn_t *f)
{
	f->inflight++;
	if (f->reserved < 0)
		f->sc->inflight++;
}

void quota_release(quota_t *q, quota_fn_t *f)
{
	if (f->inflight <= 0)
		return;
	f->inflight--;
	if (f->reserved < 0)
		f->sc->inflight--;
}

int quota_set_reserved(quota_t *q, quota_fn_t *f, int reserved)
{
	if (reserved < 0)
		reserved = -1;
	if (reserved == f->reserved)
		return 0;
	/* out of the totals as it was, back in as it is */
	if (f->reserved >= 0) {
		f->sc->reserved -= f->reserved;
	} else {
		f->sc->inflight -= f->inflight;
		f->sc->provisioned -= f->provisioned;
	}
	f->reserved = reserved;
	if (f->reserved >= 0) {
		f->sc->reserved += f->reserved;
	} else {
		f->sc->inflight += f->inflight;
		f->sc->provisioned += f->provisioned;
	}
	return 1;
}

void quota_provision(quota_t *q, quota_fn_t *f, int delta)
{
	f->provisioned += delta;
	if (f->reserved < 0)
		f->sc->provisioned += delta;
}

const char *quota_fn_scope(const quota_fn_t *f)
{
	return f->scope;
}

const char *quota_fn_name(const quota_fn_t *f)
{
	return f->name;
}

int quota_fn_inflight(const quota_fn_t *f)
{
	return f->inflight;
}

int quota_fn_reserved(const quota_fn_t *f)
{
	return f->reserved;
}

long quota_unreserved(const quota_t *q, const char *scope, long *in_use)
{
	const struct qscope *sc = strmap_get(q->scopes, scope);
	if (in_use)
		*in_use = sc ? sc->inflight : 0;
	return sc ? q->limit - sc->reserved - sc->provisioned : q->limit;
}
