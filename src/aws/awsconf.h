/*
 * awsconf.h - where and as whom lambdad calls an AWS service.
 *
 * One convention for every outbound AWS call (S3 code, destinations): the
 * endpoint is --aws-endpoint-url if given, else $AWS_ENDPOINT_URL_<SERVICE>
 * (S3, SQS, SNS, EVENTBRIDGE), else $AWS_ENDPOINT_URL, else AWS's regional
 * endpoint https://<host>.<region>.amazonaws.com; credentials come from
 * $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN (the
 * keys default to "test"/"test", which moto and LocalStack accept).
 */
#ifndef LD_AWSCONF_H
#define LD_AWSCONF_H

#include <stddef.h>

/* Plain strings owned by the struct. */
typedef struct aws_config {
	char endpoint[512];          /* "http://127.0.0.1:5000", may have a path prefix */
	char region[64];             /* signing region */
	char access_key_id[128];
	char secret_access_key[128];
	char session_token[4096];    /* "" when none; else sent as x-amz-security-token */
} aws_config_t;

/* Fills cfg for one service: env_service names its endpoint variable
 * (AWS_ENDPOINT_URL_<env_service>), host is the first label of AWS's own
 * endpoint ("s3", "sqs", "sns", "events"). endpoint_override wins when
 * non-NULL and non-empty. region NULL or "": $AWS_REGION, else
 * $AWS_DEFAULT_REGION, else "us-east-1". Returns 0, or LD_ETOOBIG if a value
 * does not fit its field (cfg is zeroed then). */
int aws_config_from_env(aws_config_t *cfg, const char *env_service, const char *host,
			const char *endpoint_override, const char *region);

/* Splits an endpoint "http(s)://authority[/prefix]" into the length of its
 * origin ("http(s)://authority"), its authority (the Host header: *host,
 * *host_len, pointing into endpoint) and the length of the path prefix
 * after the origin without trailing slashes. LD_EINVAL for another scheme,
 * an empty authority, userinfo, a query or fragment, spaces or controls. */
int aws_endpoint_split(const char *endpoint, size_t *origin_len, const char **host,
		       size_t *host_len, size_t *prefix_len);

/* 1 if s has no control characters or spaces (it may go into a header). */
int aws_header_safe(const char *s);

/* Copies the text of the first <tag>...</tag> of an AWS XML answer (an
 * error's Code or Message, say) into dst (cap bytes, truncated), decoding
 * the five predefined XML entities and turning control characters into
 * spaces. Returns 1 if the element was found, else 0. */
int aws_xml_text(const char *body, size_t len, const char *tag, char *dst, size_t cap);

#endif
