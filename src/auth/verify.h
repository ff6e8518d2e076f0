/*
 * verify.h - verifying an incoming request's AWS Signature Version 4.
 *
 * The server side of util/sigv4: given what arrived (method, raw path and
 * query, headers, body) and a way to look up secret keys, decide whether the
 * request is signed by a known key, and if not, name AWS's error for it:
 *
 *   MissingAuthenticationTokenException  no Authorization header, no X-Amz-* query auth
 *   IncompleteSignatureException         malformed Authorization / query parameters
 *   UnrecognizedClientException          unknown access key id (or session token)
 *   ExpiredTokenException                temporary credentials past their expiry
 *   InvalidSignatureException            wrong scope, clock skew, expiry, bad signature
 *
 * Both forms are handled: the Authorization header (x-amz-date or Date,
 * the clock skew window either way) and presigned query strings (X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
 * X-Amz-Signature, X-Amz-Security-Token). The canonical request is rebuilt as
 * AWS does for services other than S3 (path normalized, then URI-encoded
 * again; query decoded, re-encoded and sorted). Signatures are compared in
 * constant time; secrets are wiped from the stack after use.
 *
 * Nothing here knows about accounts or modes (enforce/permissive): the caller
 * plugs its key store in through verify_key_lookup_fn and turns a failed
 * verify_result_t into AWS's JSON with apierr_set(r, res.error, "%s", res.message).
 */
#ifndef LD_AUTH_VERIFY_H
#define LD_AUTH_VERIFY_H

#include <stddef.h>
#include <time.h>

#define VERIFY_DEFAULT_SKEW 900      /* seconds: AWS's 15-minute window */
#define VERIFY_MAX_EXPIRES 604800    /* seconds: presigned URLs live at most 7 days */

/* What the key store returns for an access key id. Plain copies. */
typedef struct verify_key {
	char secret[129];         /* secret access key */
	char account_id[32];      /* "123456789012" */
	char principal_arn[256];  /* optional, "" when none */
	long long expires;        /* temporary credentials: expiry, UTC seconds; 0 none */
} verify_key_t;

/* Fills key for access_key_id (and the session token, NULL when the request
 * carries none: a store of temporary credentials checks it, others ignore
 * it). Returns 0, LD_ENOTFOUND for an unknown key or a token that does not
 * belong to it (-> UnrecognizedClientException), or another LD_E* code for
 * an internal failure, which verify_request() returns as is. */
typedef int (*verify_key_lookup_fn)(void *ctx, const char *access_key_id,
				    const char *session_token, verify_key_t *key);

/* The first value of header `name` (case-insensitive), NULL if absent. */
typedef const char *(*verify_header_get_fn)(void *ctx, const char *name);
/* Calls fn(arg, name, value) for every header in arrival order (repeated
 * names once per occurrence), names in any case. */
typedef void (*verify_header_each_fn)(void *ctx,
				      void (*fn)(void *arg, const char *name, const char *value),
				      void *arg);

/* An incoming request. Everything is borrowed and must stay valid for the
 * duration of verify_request(). */
typedef struct verify_request {
	const char *method;            /* "GET" */
	const char *path;              /* raw path as sent, still percent-encoded, no query */
	const char *query;             /* raw query string without '?'; NULL or "" if none */
	verify_header_get_fn header;   /* required */
	verify_header_each_fn each_header; /* required */
	void *header_ctx;
	const void *payload;           /* the body (may be NULL when payload_len is 0) */
	size_t payload_len;
	const char *payload_hash;      /* hex SHA-256 of the body if already known, else NULL */
	time_t now;                    /* current time, UTC seconds */
} verify_request_t;

typedef struct verify_opts {
	const char *service;           /* credential scope service; NULL means "lambda" */
	const char *region;            /* required region, or NULL to accept any */
	int skew_seconds;              /* clock skew window; 0 means VERIFY_DEFAULT_SKEW */
	verify_key_lookup_fn lookup;   /* required */
	void *lookup_ctx;
	/* 1: stop before the signature, which needs the body's hash: the
	 * authentication present and well formed, the scope, the time and the
	 * key known (the checks that need nothing but the request line and
	 * headers, in the same order and with the same errors as the full
	 * check; payload is not read, the result's account is not set) */
	int headers_only;
} verify_opts_t;

typedef struct verify_result {
	const char *error;        /* NULL when verified, else the static AWS error type */
	int status;               /* HTTP status of the error (403), 0 when verified */
	char message[1024];       /* AWS's message for error */
	int presigned;            /* 1 when the query-string form was used */
	/* filled as far as parsing got (always on success): */
	char access_key_id[129];
	char region[64];
	char account_id[32];      /* from the key store, on success */
	char principal_arn[256];  /* from the key store, on success */
} verify_result_t;

/* Verifies req's signature. Returns 0 with res->error == NULL when the
 * request is signed by a key the lookup knows; LD_EINVAL with res->error,
 * res->status and res->message set when it is not (AWS's error); or
 * LD_ENOMEM / another code returned by the lookup for an internal failure
 * (res->error NULL). res is always written. */
int verify_request(const verify_request_t *req, const verify_opts_t *opts, verify_result_t *res);

/* Formats t as "YYYYMMDDTHHMMSSZ" into out (17 bytes). */
void verify_format_time(time_t t, char out[17]);

/* Parses "YYYYMMDDTHHMMSSZ" (strictly) into *t. Returns 0 or LD_EINVAL. */
int verify_parse_time(const char *s, time_t *t);

#endif
