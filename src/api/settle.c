/*
 * settle.c - the settle service (settle.h): the table of settling kinds,
 * the deferred scheduler and the start-up recovery.
 */
#include "api/settle.h"
#include "api/api.h"
#include "api/fnconfig.h"
#include "loop.h"
#include "util/err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct settle_kind {
	enum rec_kind kind;
	const char *what;                 /* for the log */
	const char *const states[6];      /* transitional values of State / LastUpdateStatus */
	int (*settle)(server_t *srv, const char *scope, const char *key);
} table[] = {
	{ REC_VERSION, "function version", { "Pending", "InProgress" }, fnconfig_settle },
	{ REC_ESM, "event source mapping", { "Creating", "Enabling", "Updating", "Disabling", "Deleting" }, esm_settle },
};
#define NKINDS (sizeof(table) / sizeof(table[0]))

static const struct settle_kind *kind_of(enum rec_kind k)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (table[i].kind == k)
			return &table[i];
	return NULL;
}

struct pending {
	server_t *srv;
	const struct settle_kind *k;
	char scope[96];
	char key[400];
};

static void settle_cb(void *ud)
{
	struct pending *p = ud;
	int rc = p->k->settle(p->srv, p->scope, p->key);
	if (rc)
		fprintf(stderr, "lambdad: settling %s %s failed: %s\n", p->k->what, p->key, ld_strerror(rc));
	free(p);
}

void settle_schedule(server_t *srv, enum rec_kind kind, const char *scope, const char *key)
{
	const struct settle_kind *k = kind_of(kind);
	struct pending *p = k ? calloc(1, sizeof(*p)) : NULL;
	if (!p)
		return; /* settle_recover completes it at the next start */
	p->srv = srv;
	p->k = k;
	snprintf(p->scope, sizeof(p->scope), "%s", scope);
	snprintf(p->key, sizeof(p->key), "%s", key);
	if (loop_defer(srv->loop, settle_cb, p))
		free(p);
}

/* ---- recovery: collect first (settling writes), then settle ---- */

struct recover {
	server_t *srv;
	const struct settle_kind *k;
	const char *scope;
	json_t *todo; /* [[scope, key], ...] */
};

static int transitional_cb(void *ud, const char *key, const char *doc, size_t len)
{
	struct recover *c = ud;
	char quoted[40];
	for (size_t i = 0; i < 6 && c->k->states[i]; i++) {
		int n = snprintf(quoted, sizeof(quoted), "\"%s\"", c->k->states[i]);
		if (memmem(doc, len, quoted, (size_t)n)) {
			json_array_append_new(c->todo, json_pack("[s,s]", c->scope, key));
			break;
		}
	}
	return 0;
}

static int scope_cb(void *ud, const char *scope, const char *doc, size_t len)
{
	struct recover *c = ud;
	c->scope = scope;
	return rec_list(c->srv->store, c->k->kind, scope, NULL, NULL, 0, transitional_cb, c);
}

int settle_recover(server_t *srv)
{
	int rc = 0;
	for (size_t i = 0; i < NKINDS && !rc; i++) {
		struct recover c = { srv, &table[i], NULL, json_array() };
		if (!c.todo)
			return LD_ENOMEM;
		rc = rec_scopes(srv->store, table[i].kind, scope_cb, &c);
		size_t j;
		json_t *e;
		json_array_foreach(c.todo, j, e)
			if (!rc)
				rc = table[i].settle(srv, json_string_value(json_array_get(e, 0)),
						     json_string_value(json_array_get(e, 1)));
		json_decref(c.todo);
	}
	return rc;
}
