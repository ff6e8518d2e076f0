/*
 * apierr.h - AWS errors: recording them, and the one place they become JSON.
 *
 * A handler calls apierr_set(r, "ResourceNotFoundException", "Function not
 * found: %s", arn) and returns its result (LD_EAPI). apierr_render() turns the
 * recorded error, or any other LD_E* code, into AWS's response: the status
 * code from the model's exception shape, the x-amzn-ErrorType header and the
 * body in the envelope AWS uses for that exception.
 */
#ifndef LD_APIERR_H
#define LD_APIERR_H

#include "req.h"

/* Records an AWS error on r (type must be a static string). Returns LD_EAPI. */
int apierr_set(req_t *r, const char *type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records an AWS error whose message AWS sends as null. Returns LD_EAPI. */
int apierr_set_null(req_t *r, const char *type);

/* Marks the error recorded by apierr_set() as one AWS sends without the
 * "Type" member (e.g. CreateAlias's $LATEST-with-routing error). Returns
 * LD_EAPI so it can wrap apierr_set(). */
int apierr_untyped(req_t *r, int rc);

/* Writes the error response for rc (< 0) into r->status / r->raw / headers.
 * A request for a function URL (r->err_url) gets the envelope function URLs
 * answer with: {"Message": ...} and no "Type", whatever the exception.
 * A request of a JSON 1.1 service (r->err_json11: CloudWatch Logs) gets
 * {"__type": TYPE, "message": ...}, 400 (500 for the service's faults). */
void apierr_render(req_t *r, int rc);

#endif
