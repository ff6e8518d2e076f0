/*
 * s3.h - a minimal S3 client: GetObject over libcurl, signed with SigV4.
 *
 * Used to fetch function code given as S3Bucket/S3Key/S3ObjectVersion. The
 * endpoint is addressed path-style (ENDPOINT/bucket/key), which AWS and the
 * S3-compatible servers (moto, LocalStack, MinIO) all accept. Calls block;
 * each uses its own curl handle. libcurl initializes itself on first use;
 * a program with threads calls curl_global_init() once before starting them.
 */
#ifndef LD_S3_H
#define LD_S3_H

#include "aws/awsconf.h"
#include "util/buf.h"

#include <stddef.h>

/* Where and as whom to call S3 (the shared convention of awsconf.h). */
typedef aws_config_t s3_config_t;

/* Why a call failed, as S3 said it (or as the transport did). */
typedef struct s3_error {
	long http_status;   /* 0 when no response arrived */
	char code[64];      /* "NoSuchKey", "NoSuchBucket", "ConnectionError", "Timeout" */
	char message[512];  /* S3's <Message>, or the transport error */
} s3_error_t;

/* Fills cfg from the environment. The endpoint is endpoint_override if
 * non-NULL and non-empty, else $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL,
 * else https://s3.REGION.amazonaws.com. region (NULL: $AWS_REGION, else
 * $AWS_DEFAULT_REGION, else "us-east-1") is used for signing. Credentials
 * come from $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN,
 * the keys defaulting to "test"/"test". Returns 0, or LD_ETOOBIG if a value
 * does not fit its field. */
int s3_config_from_env(s3_config_t *cfg, const char *endpoint_override, const char *region);

/* GETs bucket/key (at version_id unless that is NULL or "") into out, which the
 * caller initialized; s3_get_object resets it first and leaves it reset on
 * failure, so on success it holds exactly the object (NUL-terminated, the
 * caller frees it with buf_free). err may be NULL; it is cleared first and
 * filled when LD_EREMOTE is returned. Connects within 5 s, finishes within 60 s.
 * Returns 0, or
 *   LD_EINVAL   empty bucket or key, or an endpoint that is not http(s)://host[/path]
 *   LD_ETOOBIG  the object is larger than max_bytes or out's cap (the transfer
 *               is aborted there, not buffered)
 *   LD_EREMOTE  S3 answered with an error (err->code/message from its XML
 *               body, or the HTTP status as the code when there is none), or
 *               the connection failed ("ConnectionError") or timed out ("Timeout")
 *   LD_ENOMEM */
int s3_get_object(const s3_config_t *cfg, const char *bucket, const char *key,
		  const char *version_id, size_t max_bytes, buf_t *out, s3_error_t *err);

#endif
