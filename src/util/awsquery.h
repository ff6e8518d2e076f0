/*
 * awsquery.h - AWS's query protocol (form-encoded requests, XML answers),
 * as the services that still speak it need (CloudWatch for the AWS CLI v2).
 *
 * awsquery_decode turns a form body ("Action=X&Dimensions.member.1.Name=Y")
 * into a jansson document: dotted names become nested objects, "member.N"
 * lists become arrays (in N's order), values stay strings (the caller
 * converts numbers and timestamps). awsquery_xml writes a result document
 * as the protocol's XML answer: objects as elements, arrays as <member>
 * lists, the keys map_keys names as <entry><key/><value/></entry> maps, and
 * the numbers under ts_keys as ISO 8601 timestamps.
 */
#ifndef LD_UTIL_AWSQUERY_H
#define LD_UTIL_AWSQUERY_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"

#define AWSQUERY_MAX_PARAMS 4096 /* name=value pairs of one request */
#define AWSQUERY_MAX_INDEX 1000  /* member.N */
#define AWSQUERY_MAX_DEPTH 12    /* dotted parts of one name */

/* The form body[0..len) as a document (*out, the caller's): 0, LD_EINVAL
 * for a malformed or conflicting name, more than AWSQUERY_MAX_PARAMS pairs,
 * an index out of 1..AWSQUERY_MAX_INDEX; LD_ENOMEM. */
int awsquery_decode(const char *body, size_t len, json_t **out);

/* <ActionResponse xmlns="xmlns"><ActionResult>result</ActionResult>
 * <ResponseMetadata><RequestId>request_id</RequestId></ResponseMetadata>
 * </ActionResponse> into out. 0 or LD_ENOMEM / LD_ETOOBIG. */
int awsquery_xml(buf_t *out, const char *xmlns, const char *action, json_t *result, const char *request_id,
		 const char *const *ts_keys, const char *const *map_keys);

/* The protocol's error document (<ErrorResponse>, Type Sender or Receiver). */
int awsquery_error_xml(buf_t *out, const char *xmlns, const char *sender, const char *code, const char *message,
		       const char *request_id);

/* Appends s with XML's five characters escaped. */
int awsquery_escape(buf_t *out, const char *s);

#endif
