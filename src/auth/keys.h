/*
 * keys.h - the access key store: which access keys exist, their secrets,
 * and the account (and optionally the principal) each one acts as.
 *
 * One JSON file, DATA/auth/keys.json, mode 0600 in a 0700 directory, written
 * by `lambdad keys create|list|delete` (keys_create() and friends below) and
 * read by the server. Secrets are never stored in the clear: each is sealed
 * with AES-256-GCM under DATA/auth/master.key (32 random bytes, 0600,
 * created with the first key), the access key id as associated data, so a
 * copy of keys.json alone (a backup, a support bundle) reveals nothing.
 * Session tokens of temporary keys are kept only as SHA-256 digests.
 *
 * Writers take an exclusive flock on DATA/auth/lock, then write a new file
 * and rename() it into place (fsync'ed, then the directory), so a reader
 * sees the old set or the new one, never a torn file. The server notices a
 * change by the file's identity (inode, size, mtime) on the next lookup, so
 * a key created or deleted on a running server counts from the next request
 * on. Secrets are held in memory only while the server runs and are wiped
 * when the set is replaced. Nothing here logs a secret.
 */
#ifndef LD_AUTH_KEYS_H
#define LD_AUTH_KEYS_H

#include "auth/verify.h"

#include <jansson.h>
#include <stddef.h>

typedef struct keys keys_t;

/* ---- the server's side ---- */

/* Opens the store of data_dir for reading (the files need not exist yet:
 * the set is empty until `keys create` writes them). */
int keys_open(const char *data_dir, keys_t **out);
void keys_close(keys_t *k);

/* A verify_key_lookup_fn (ctx is the keys_t): 0 with *key filled, or
 * LD_ENOTFOUND when the key id is unknown, disabled or its session token
 * does not match (or is missing for a temporary key). key->expires is set
 * for temporary keys. */
int keys_lookup(void *ctx, const char *access_key_id, const char *session_token, verify_key_t *key);

/* The account of access_key_id into account (32 bytes) when such a key
 * exists (permissive mode: no secret checked). 0 or LD_ENOTFOUND. */
int keys_account_of(keys_t *k, const char *access_key_id, char account[32]);

/* How many keys the store holds now (after a reload if it changed). */
size_t keys_count(keys_t *k);

/* Temporary credentials that live in the server's memory only: an
 * execution environment's role credentials (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so that a function's SDK
 * calls to lambdad act as the function's account and role. */
struct keys_minted {
	char access_key_id[21];  /* ASIA + 16 */
	char secret[41];
	char session_token[132];
	long long expires;       /* UTC seconds */
};

/* Mints credentials of `account` acting as `principal` for ttl_s seconds,
 * valid at once for keys_lookup(). 0, LD_ENOMEM or LD_EIO. */
int keys_mint(keys_t *k, const char *account, const char *principal, long ttl_s, struct keys_minted *out);

/* Forgets minted credentials (the environment ended). Unknown ids are fine. */
void keys_revoke(keys_t *k, const char *access_key_id);

/* ---- the command line's side (`lambdad keys ...`) ---- */

struct keys_create_opts {
	const char *account_id;    /* 12 digits; required */
	const char *user_name;     /* the key's user name; NULL: "lambdad" */
	const char *principal_arn; /* NULL: arn:aws:iam::ACCOUNT:user/USER_NAME */
	long duration_seconds;     /* > 0: a temporary key (ASIA..., session
	                              token, expiry); 0: a long-term key (AKIA...) */
};

/* Creates a key and returns the document `aws iam create-access-key` prints,
 * {"AccessKey": {...}} with the secret (and SessionToken/Expiration for a
 * temporary key), plus AccountId. The only time the secret is shown.
 * LD_EINVAL with *why set for bad options. */
int keys_create(const char *data_dir, const struct keys_create_opts *o, json_t **out, const char **why);

/* {"AccessKeyMetadata": [{UserName, AccessKeyId, Status, CreateDate,
 * AccountId, PrincipalArn[, Expiration]}...]}, no secrets; account_id NULL
 * lists every account's keys. */
int keys_list(const char *data_dir, const char *account_id, json_t **out);

/* Deletes a key: 0, or LD_ENOTFOUND. */
int keys_delete(const char *data_dir, const char *access_key_id);

/* `lambdad keys ...` (keyscli.c); argv[0] is "keys". Returns the exit code. */
int keys_main(int argc, char **argv);

#endif
