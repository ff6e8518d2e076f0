/*
 * apierr.c - the one place where errors become AWS's error responses.
 *
 * The envelope follows the API model: an exception that the model defines
 * (ResourceNotFoundException, InvalidParameterValueException...) is written
 * with the members of its shape, {"Type": "User", "Message": ...} or
 * {"Type": "User", "message": ...} depending on the casing the shape uses,
 * and the status code of its shape. Errors raised by AWS's front end before
 * a handler runs (ValidationException, RequestEntityTooLargeException,
 * AccessDeniedException, UnknownOperationException) are not in the model
 * and carry only a message. The exception name goes in x-amzn-ErrorType.
 * The error's reason goes into the Reason member of shapes that have one.
 */
#include "model/apierr.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* front-end errors that the model does not define */
static const struct {
	const char *type;
	const char *field;
	int status;
} unmodeled[] = {
	{ "ValidationException", "message", 400 },
	{ "SerializationException", "message", 400 },
	{ "RequestEntityTooLargeException", "message", 413 },
	{ "BadRequestException", "message", 400 },     /* HTTP framing lambdad refuses (http.c) */
	{ "NotImplementedException", "message", 501 }, /* a transfer coding other than chunked */
	{ "AccessDeniedException", "Message", 403 },
	{ "UnknownOperationException", "message", 404 },
	{ "UnrecognizedClientException", "message", 403 },
	{ "InvalidSignatureException", "message", 403 },
	{ "MissingAuthenticationTokenException", "message", 403 },
	{ "IncompleteSignatureException", "message", 403 },
	{ "ExpiredTokenException", "message", 403 },
};

int apierr_set(req_t *r, const char *type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = ld_error_vset(&r->err, type, fmt, ap);
	va_end(ap);
	return rc;
}

int apierr_set_null(req_t *r, const char *type)
{
	ld_error_clear(&r->err);
	r->err.type = type;
	return LD_EAPI;
}

int apierr_untyped(req_t *r, int rc)
{
	r->err.untyped = 1;
	return rc;
}

/* The error document as the request's answer: body (taken) replaces any
 * output, with the status, content type and x-amzn-ErrorType. */
static void answer(req_t *r, json_t *body, size_t dump_flags, int status, const char *content_type, const char *type)
{
	json_decref(r->out);
	r->out = NULL;
	buf_reset(&r->raw);
	char *text = json_dumps(body, JSON_COMPACT | dump_flags);
	if (text) {
		buf_puts(&r->raw, text);
		free(text);
	}
	json_decref(body);
	r->status = status;
	r->content_type = content_type;
	req_add_header(r, "x-amzn-ErrorType", type);
}

void apierr_render(req_t *r, int rc)
{
	const char *type = r->err.type;
	const char *msg = r->err.message;
	if (rc == LD_ENOSPC) {
		/* the writer reported the path and errno (util/disk.h) */
		type = "ServiceException";
		msg = "The service could not store the request: its data directory is out of space.";
	} else if (rc != LD_EAPI || !type) {
		type = "ServiceException";
		msg = "An internal error occurred.";
		fprintf(stderr, "lambdad: %s %s: %s\n", r->method, r->path, ld_strerror(rc));
	}
	json_t *body = json_object();
	int status = 400;
	if (r->err_json11) {
		/* the JSON 1.1 services on the same port (X-Amz-Target): the
		 * exception's name in __type, its message, 400 for the caller's
		 * faults and 500 for the service's */
		status = !strcmp(type, "ServiceException") || !strcmp(type, "ServiceUnavailableException") ? 500 : 400;
		json_object_set_new(body, "__type", json_string(type));
		if (msg)
			json_object_set_new(body, "message", json_string(msg));
		answer(r, body, JSON_PRESERVE_ORDER, status, "application/x-amz-json-1.1", type);
		return;
	}
	const char *field = "message";
	const struct shape *s = model_shape(type);
	if (s && s->error_status) {
		status = s->error_status;
		field = model_member(s, "message") ? "message" : "Message";
	} else {
		for (size_t i = 0; i < sizeof(unmodeled) / sizeof(unmodeled[0]); i++) {
			if (!strcmp(unmodeled[i].type, type)) {
				status = unmodeled[i].status;
				field = unmodeled[i].field;
			}
		}
		s = NULL;
	}
	if (r->err_url) {
		field = "Message"; /* a function URL's envelope: the message only */
		s = NULL;
	}
	if (s) {
		/* the Reason of shapes that have one (TooManyRequestsException) */
		if (rc == LD_EAPI && r->err.reason && model_member(s, "Reason"))
			json_object_set_new(body, "Reason", json_string(r->err.reason));
		if (model_member(s, "Type") && !(rc == LD_EAPI && r->err.untyped))
			json_object_set_new(body, "Type", json_string(status >= 500 ? "Service" : "User"));
	}
	json_object_set_new(body, field, msg ? json_string(msg) : json_null());
	answer(r, body, 0, status, "application/json", type);
}
