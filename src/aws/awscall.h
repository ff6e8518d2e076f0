/*
 * awscall.h - one SigV4-signed request to an AWS service (or a stand-in
 * such as moto) through the loop's outbound client (outbound.h): the JSON
 * protocols' POST with X-Amz-Target, S3's PUT, ... The answer, whatever its
 * status, goes to the callback (destinations.c, the event source pollers).
 */
#ifndef LD_AWSCALL_H
#define LD_AWSCALL_H

#include <jansson.h>
#include <stddef.h>

#include "aws/awsconf.h"
#include "aws/outbound.h"

typedef struct aws_call {
	const aws_config_t *cfg;
	const char *service;      /* signing name */
	const char *method;
	const char *path;         /* encoded, after the endpoint's prefix: "/" or "/b/k" */
	const char *content_type;
	const char *target;       /* X-Amz-Target, or NULL */
	const char *body;
	size_t len;
	size_t max_response;      /* 0: 64 KB */
	long timeout_ms;          /* 0: 30 s */
} aws_call_t;

/* Signs c with cfg's credentials and starts it on ob; cb(ud, result) runs
 * once, later (outbound_request's contract). 0, LD_EINVAL (a header-unsafe
 * region or key, a bad endpoint), LD_ENOMEM, LD_ETOOBIG. */
int aws_call_send(outbound_t *ob, const aws_call_t *c, outbound_cb cb, void *ud);

/* The error code and message of an AWS error document, XML or JSON
 * ("com.amazonaws.sqs#QueueDoesNotExist" gives QueueDoesNotExist). */
void aws_call_error(const char *body, size_t len, char *code, size_t ccap, char *msg, size_t mcap);

/* The JSON document of a successful (200) answer, owned by the caller;
 * NULL when the call failed, answered another status or is not JSON. */
json_t *aws_call_json(const outbound_result_t *r);

#endif
