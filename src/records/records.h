/*
 * records.h - what the store holds about functions, typed: the record layer.
 *
 * The store (store/store.h) keeps JSON documents by (kind, scope, key). This
 * module is the only place that knows the kinds and how their keys are
 * made; everything above it asks for "the configuration of version 7 of
 * NAME" or "the policy of alias PROD", never for a kind and a key. Layout
 * (docs/store.md), all in scope "ACCOUNT:REGION":
 *
 *   function     NAME              the function's own record: tags, version
 *                                  counter, reserved concurrency, settings
 *   version      NAME/$LATEST      a version's configuration, in AWS's
 *                NAME/0000000007   FunctionConfiguration shape (internal
 *                                  fields start with '_')
 *   alias        NAME/ALIAS        AliasConfiguration
 *   policy       NAME/, NAME/7,    the resource policy of the function, a
 *                NAME/ALIAS        version or an alias (GetPolicy's document)
 *   invoke config, url config, provisioned concurrency config:
 *                NAME/QUALIFIER    one per qualifier, deleted with it
 *   url index    URL-ID            (scope "") the function a URL id serves
 *   event source mapping UUID, layer NAME, layer version NAME/000007,
 *   code signing config ID         each owned by its api/ file
 *   esm checkpoint UUID/SHARD      where a stream mapping resumes reading a
 *                                  shard (pollers/stream.c)
 *
 * Every call returns 0 or a negative LD_E* code: LD_ENOTFOUND when the
 * record is missing (no AWS error: the caller words it), LD_ECORRUPT when
 * the stored text is not JSON, LD_ESTORE for the backend. Documents come
 * back as new references owned by the caller: a private copy, or with
 * REC_PEEK a document shared with the store's cache, which the caller must
 * json_decref and never modify. Writes inside the caller's transaction
 * (store_begin / store_commit) are atomic with each other.
 */
#ifndef LD_RECORDS_H
#define LD_RECORDS_H

#include <jansson.h>
#include <stddef.h>

#include "store/store.h"

/* read flags */
#define REC_PEEK 1 /* a shared, read-only document */

enum rec_kind {
	REC_FUNCTION,
	REC_VERSION,
	REC_ALIAS,
	REC_POLICY,
	REC_INVOKE_CONFIG,
	REC_URL,
	REC_URL_INDEX,
	REC_PROVISIONED,
	REC_ESM,
	REC_LAYER,
	REC_LAYER_VERSION,
	REC_CODE_SIGNING,
	REC_ASYNC_EVENT,
	REC_ESM_CHECKPOINT,
	REC_NKINDS
};

/* 1 if s is all digits (a version number), else 0. */
int rec_is_version(const char *s);

/* Keys: the version key NAME/$LATEST or NAME/%010u; the policy key NAME/
 * (qualifier NULL, "" or "$LATEST"), NAME/N or NAME/ALIAS; a qualifier
 * record's key NAME/QUALIFIER. out has room for n bytes. */
void rec_version_key(const char *name, const char *version, char *out, size_t n);
void rec_policy_key(const char *name, const char *qualifier, char *out, size_t n);
void rec_qualifier_key(const char *name, const char *qualifier, char *out, size_t n);

/* Any record by kind and key (for the families that own a kind: esm,
 * layers, code signing, url configs, the async queue). */
int rec_get(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t **doc);
int rec_peek(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t **doc); /* REC_PEEK */
int rec_put(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t *doc);
int rec_del(store_t *s, enum rec_kind k, const char *scope, const char *key);
/* Deletes every record of kind k in scope whose key starts with prefix. */
int rec_del_prefix(store_t *s, enum rec_kind k, const char *scope, const char *prefix);
/* The stored text of a record (*text malloc'd, the caller's), unparsed. */
int rec_get_text(store_t *s, enum rec_kind k, const char *scope, const char *key, char **text, size_t *len);
/* Keys of kind k in scope that start with prefix (NULL: any), after
 * `after` (NULL: from the first), in key order, at most limit (<= 0: all);
 * fn sees the stored text and may stop the walk by returning non-zero. */
int rec_list(store_t *s, enum rec_kind k, const char *scope, const char *prefix, const char *after, int limit,
	     store_iter_fn fn, void *ud);
/* rec_list with the documents parsed (once: store_list_json's cache); fn
 * borrows each, read-only. */
int rec_list_json(store_t *s, enum rec_kind k, const char *scope, const char *prefix, const char *after,
		  int limit, store_iter_json_fn fn, void *ud);
/* store_derived for a record of kind k: a view made once from the shared
 * document that rec_list_json / rec_peek handed out (a new reference,
 * read-only). */
json_t *rec_derived(store_t *s, enum rec_kind k, const char *scope, const char *key, json_t *doc, const char *tag,
		    json_t *(*make)(json_t *doc));
/* Every scope that has records of kind k (start-up recovery). */
int rec_scopes(store_t *s, enum rec_kind k, store_iter_fn fn, void *ud);

/* functions */
int rec_function_get(store_t *s, const char *scope, const char *name, int flags, json_t **meta);
int rec_function_put(store_t *s, const char *scope, const char *name, json_t *meta);

/* versions: version "$LATEST" (or NULL, "") or a number */
int rec_version_get(store_t *s, const char *scope, const char *name, const char *version, int flags, json_t **cfg);
int rec_version_put(store_t *s, const char *scope, const char *name, const char *version, json_t *cfg);
int rec_version_del(store_t *s, const char *scope, const char *name, const char *version);

/* aliases */
int rec_alias_get(store_t *s, const char *scope, const char *name, const char *alias, int flags, json_t **doc);
int rec_alias_put(store_t *s, const char *scope, const char *name, const char *alias, json_t *doc);
int rec_alias_del(store_t *s, const char *scope, const char *name, const char *alias);

/* The configuration a qualifier names: NULL, "" or "$LATEST" is $LATEST,
 * digits a published version, anything else an alias, resolved to the
 * version it points at (*alias, when non-NULL, gets the alias record: a
 * copy, or NULL for a version). LD_ENOTFOUND when the version or alias is
 * missing. */
int rec_config(store_t *s, const char *scope, const char *name, const char *qualifier, int flags, json_t **cfg,
	       json_t **alias);

/* The version an alias sends one invocation to: its FunctionVersion, or the
 * version of its RoutingConfig with that version's weight (AWS's weighted
 * routing, drawn at random). Points into alias. */
const char *rec_alias_route(json_t *alias);

/* Resource policies (see rec_policy_key for the qualifier). rec_policy_get
 * gives the whole document; rec_policy_statements its "Statement" array
 * (shared, read-only). */
int rec_policy_get(store_t *s, const char *scope, const char *name, const char *qualifier, int flags, json_t **doc);
int rec_policy_statements(store_t *s, const char *scope, const char *name, const char *qualifier,
			  json_t **statements);
int rec_policy_put(store_t *s, const char *scope, const char *name, const char *qualifier, json_t *doc);
int rec_policy_del(store_t *s, const char *scope, const char *name, const char *qualifier);

/* Event invoke configs: qualifier NULL, "" or "$LATEST" is $LATEST's. */
int rec_invoke_config_get(store_t *s, const char *scope, const char *name, const char *qualifier, int flags,
			  json_t **doc);

/* Deletes the records that belong to one version or alias (policy, invoke
 * config, URL config with its index entry, provisioned concurrency config),
 * inside the caller's transaction. */
int rec_delete_qualifier(store_t *s, const char *scope, const char *name, const char *qualifier);

/* Deletes the function and everything that belongs to it (versions,
 * aliases, and the records of every qualifier), inside the caller's
 * transaction. */
int rec_delete_function(store_t *s, const char *scope, const char *name);

#endif
