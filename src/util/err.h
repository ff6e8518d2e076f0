/*
 * err.h - the one error convention of lambdad.
 *
 * Every function that can fail returns 0 on success or one of the negative
 * LD_E* codes below. Nothing else is used to signal failure (no errno
 * passing, no NULL-means-error except for plain allocation helpers that say
 * so). A request handler that wants to answer with a specific AWS error
 * records it with apierr_set() (src/model/apierr.h) and returns LD_EAPI; the
 * conversion of any code into AWS's JSON envelope happens in apierr.c only.
 *
 * An AWS error travels as one object, ld_error_t: its type (the exception
 * name, e.g. "ResourceNotFoundException") and its message. Requests carry
 * one (req.h), and so do execution results (exec.h), so an error found while
 * running a function reaches the client the same way as a handler's.
 */
#ifndef LD_ERR_H
#define LD_ERR_H

#include <stdarg.h>

enum {
	LD_OK = 0,
	LD_ENOMEM = -1,     /* allocation failed */
	LD_EIO = -2,        /* file system or socket error */
	LD_EINVAL = -3,     /* malformed input (generic) */
	LD_ENOTFOUND = -4,  /* no such record / file */
	LD_ETOOBIG = -5,    /* a size limit was crossed */
	LD_ECORRUPT = -6,   /* corrupt archive or stored data */
	LD_EREMOTE = -7,    /* an outbound call failed */
	LD_EEXIST = -8,     /* record already exists */
	LD_EAPI = -9,       /* an AWS error was recorded with apierr_set() */
	LD_ESTORE = -10,    /* the metadata store failed */
	LD_EUNSAFE = -11,   /* archive entry would escape its directory */
	LD_EPENDING = -12,  /* not an error: a handler will answer later (req_finish) */
	LD_ETHROTTLED = -13, /* a concurrency limit leaves no room now (exec.h) */
	LD_ENOSPC = -14,    /* the data directory's file system is full, or at its reserve (util/disk.h) */
};

/* Short constant description of an LD_E* code, for logs. Never NULL. */
const char *ld_strerror(int code);

/* An AWS error: type is a static string (NULL: no error), message is owned
 * by the object (NULL: AWS sends null). untyped marks the few errors AWS
 * sends without their shape's "Type" member; reason, when set, fills the
 * Reason member of shapes that have one. ld_error_set clears both. */
typedef struct ld_error {
	const char *type;
	char *message;
	int untyped;
	const char *reason; /* static; the Reason of shapes that have one (TooManyRequestsException) */
} ld_error_t;

/* Records type and the formatted message in e, replacing what it held.
 * Returns LD_EAPI, so that `return ld_error_set(...)` reads as a failure. */
int ld_error_set(ld_error_t *e, const char *type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ld_error_vset(ld_error_t *e, const char *type, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Copies src into dst (dst's old message is freed). 0 or LD_ENOMEM. */
int ld_error_copy(ld_error_t *dst, const ld_error_t *src);

/* Frees the message; e holds no error afterwards. */
void ld_error_clear(ld_error_t *e);

#endif
