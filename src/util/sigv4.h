/*
 * sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256).
 *
 * Signing is split into the steps AWS documents so that the same code serves
 * both directions: a client builds the canonical request from what it is
 * about to send, and the server rebuilds it from what it received (the
 * headers named by the Authorization header) and compares signatures with
 * sigv4_signature_equal().
 *
 *   canonical request  sigv4_canonical_request()
 *   signature          sigv4_signature()       (string to sign + signing key)
 *   header value       sigv4_authorization()
 *   all three          sigv4_sign_request()
 *
 * Every function that writes into a buf_t appends to it; on failure the
 * buffer may hold a partial result and the caller discards it.
 */
#ifndef LD_SIGV4_H
#define LD_SIGV4_H

#include "util/buf.h"

#include <stddef.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_HEX_LEN 64 /* hex SHA-256 digests and signatures */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* A header or query parameter. Borrowed strings; never freed by sigv4. */
typedef struct sigv4_kv {
	const char *name;
	const char *value;
} sigv4_kv_t;

/* The parts of an HTTP request that are signed. All strings are borrowed. */
typedef struct sigv4_request {
	const char *method;        /* "GET" */
	const char *uri;           /* canonical URI, already encoded: "/b/my%20key" */
	const char *query;         /* canonical query (sigv4_canonical_query), "" or NULL if none */
	const sigv4_kv_t *headers; /* the headers to sign, names in any case, values untrimmed */
	size_t nheaders;
	const char *payload_hash;  /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
} sigv4_request_t;

/* The credential scope. Borrowed strings. */
typedef struct sigv4_scope {
	const char *date_time; /* "YYYYMMDDTHHMMSSZ" (x-amz-date); its first 8 chars are the date */
	const char *region;    /* "us-east-1" */
	const char *service;   /* "s3", "lambda" */
} sigv4_scope_t;

/* A parsed Authorization header. Plain copies, owned by the struct. */
typedef struct sigv4_auth {
	char access_key_id[129];
	char date[9];              /* "YYYYMMDD" */
	char region[64];
	char service[64];
	char signed_headers[2048]; /* "host;x-amz-date", lowercase, ';'-separated */
	char signature[SIGV4_HEX_LEN + 1];
} sigv4_auth_t;

/* Hex SHA-256 of len bytes at data into out (64 lowercase hex chars + NUL).
 * Returns 0, or LD_ENOMEM if libcrypto fails. */
int sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_LEN + 1]);

/* Appends s (len bytes) to out, percent-encoding every byte except the
 * unreserved A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash), with uppercase hex.
 * This is SigV4's URI encoding: keep_slash=1 for S3 object keys in a path,
 * 0 for query names and values. Returns 0, LD_ENOMEM or LD_ETOOBIG (out's cap). */
int sigv4_uri_encode(buf_t *out, const char *s, size_t len, int keep_slash);

/* Appends the canonical query string of n parameters to out: names and values
 * (raw, not yet encoded; a NULL value counts as "") are URI-encoded, sorted by
 * encoded name and then encoded value, and joined as "a=1&b=2". n == 0 appends
 * nothing. The result is also a valid query string to send.
 * Returns 0, LD_ENOMEM or LD_ETOOBIG (out's cap). */
int sigv4_canonical_query(const sigv4_kv_t *params, size_t n, buf_t *out);

/* Appends the canonical request of req to canon, and the signed-headers list
 * ("host;x-amz-date") to signed_headers unless that is NULL. Header names are
 * lowercased and sorted; values are trimmed and inner runs of spaces and tabs
 * collapse to one space; repeated names are joined with ',' in the given order.
 * Returns 0, LD_EINVAL (missing field, no headers, empty header name),
 * LD_ENOMEM or LD_ETOOBIG (a buffer's cap). */
int sigv4_canonical_request(const sigv4_request_t *req, buf_t *canon, buf_t *signed_headers);

/* Computes the hex signature of a canonical request (len bytes) for scope with
 * the secret access key: builds the string to sign, derives the signing key
 * and writes 64 lowercase hex chars + NUL to sig. Returns 0, LD_EINVAL
 * (date_time not "YYYYMMDDTHHMMSSZ", empty region/service or one with '/'),
 * or LD_ENOMEM if libcrypto fails. */
int sigv4_signature(const sigv4_scope_t *scope, const char *secret_key,
		    const char *canon, size_t len, char sig[SIGV4_HEX_LEN + 1]);

/* The two halves of sigv4_signature(), for a caller that keeps signing keys
 * (one per key id, date, region and service): the derived key kSigning
 * (32 bytes), and the signature of a canonical request under it. Same
 * returns. */
int sigv4_signing_key(const sigv4_scope_t *scope, const char *secret_key, unsigned char key[32]);
int sigv4_signature_with_key(const sigv4_scope_t *scope, const unsigned char key[32], const char *canon,
			     size_t len, char sig[SIGV4_HEX_LEN + 1]);

/* Appends the Authorization header value to out:
 * "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
 *  SignedHeaders=..., Signature=..." (on one line).
 * Returns 0, LD_EINVAL (bad scope, as for sigv4_signature), LD_ENOMEM or
 * LD_ETOOBIG (out's cap). */
int sigv4_authorization(buf_t *out, const char *access_key_id, const sigv4_scope_t *scope,
			const char *signed_headers, const char *sig);

/* Does all of the above: appends the Authorization header value for req to
 * authorization. Fails as the steps do. */
int sigv4_sign_request(const sigv4_request_t *req, const sigv4_scope_t *scope,
		       const char *access_key_id, const char *secret_key, buf_t *authorization);

/* Parses an Authorization header value of the form sigv4_authorization()
 * writes (the three parts in any order, separated by ',' and optional
 * spaces) into out. Returns 0, or LD_EINVAL when the header is not
 * AWS4-HMAC-SHA256, a part is missing, repeated or unknown, the credential is
 * not AKID/YYYYMMDD/region/service/aws4_request, the signature is not 64
 * lowercase hex chars, the signed headers are not lowercase ';'-separated
 * names, or a field does not fit its array. out is zeroed on failure. */
int sigv4_parse_authorization(const char *header, sigv4_auth_t *out);

/* Constant-time comparison of two NUL-terminated signatures: 1 if equal. */
int sigv4_signature_equal(const char *a, const char *b);

#endif
